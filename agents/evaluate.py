"""``turngym eval``: run agents on envs, append every episode to a JSONL file, summarise, plot.

::

    turngym eval --env turngym/TableQA-v0 --agent openai --model qwen3-8b \\
        --base-url http://127.0.0.1:8000/v1 --episodes 50 --concurrency 16 --out results/q.jsonl
    turngym eval --suite baselines --out results/baselines.jsonl --plot results/baselines.png

An env id may name the module that registers it, gymnasium-style (``my_pkg.envs:MyEnv-v0``).
``--suite baselines`` (what ``make run`` does) runs the scripted oracle, the random agent and a
tiny random Hugging Face checkpoint (built under the results folder when absent) on every
registered env family, at every difficulty. ``--resume`` continues an interrupted run without
losing or repeating an episode; ``--backend ray`` runs the same episodes on Ray.
"""

from __future__ import annotations

import importlib
import logging
import threading
from collections.abc import Collection, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import gymnasium as gym
import typer
from gymnasium.envs.registration import load_env_creator
from rich.console import Console
from rich.logging import RichHandler
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn, TimeRemainingColumn

import turngym  # noqa: F401  (registers the turngym/ envs)
from turngym import registration
from turngym.agents.oracles import has_oracle
from turngym.agents.results import EpisodeKey, ResultsFile, plot_summary, summarize, summary_table
from turngym.agents.runner import EpisodeJob, make_jobs, run_local
from turngym.agents.spec import KINDS, AgentSpec
from turngym.agents.tiny_model import ensure_tiny_checkpoint
from turngym.cli import app

logger = logging.getLogger(__name__)
console = Console()
if not console.is_terminal:  # piped output: room for the table rather than wrapping every cell
    console.width = 160
progress_console = Console(stderr=True)

SUITES = ("baselines",)
DIFFICULTIES = ("easy", "medium", "hard")
TINY_CHECKPOINT = "tiny-hf"  # under the results folder
TINY_SAMPLING = {"temperature": 1.0, "max_tokens": 32}
# A local model answers a batch of episodes in about the time of one: more in flight pays off.
DEFAULT_CONCURRENCY = {"hf": 16}


@dataclass
class EvalReport:
    """What one run did: episodes written now, skipped as already done, and failed."""

    written: int = 0
    skipped: int = 0
    failures: list[tuple[EpisodeJob, str, str]] = field(default_factory=list)  # (job, agent, error)


def resolve_env_id(env_id: str) -> str:
    """The registered id of ``env_id``, importing ``module`` first for ``module:id`` ids."""
    if ":" in env_id:
        module, _, env_id = env_id.partition(":")
        importlib.import_module(module)
    if env_id not in gym.registry:
        known = ", ".join(sorted(i for i in gym.registry if "/" in i)) or "none"
        raise typer.BadParameter(f"no registered env {env_id!r} (namespaced envs: {known})", param_hint="--env")
    return env_id


def env_family(env_id: str) -> str:
    """The family of a registered env, read from its class (importing it registers its oracle)."""
    creator = gym.spec(env_id).entry_point
    if isinstance(creator, str):
        creator = load_env_creator(creator)
    return getattr(creator, "family", "")


def evaluate(
    spec: AgentSpec,
    jobs: Sequence[EpisodeJob],
    results: ResultsFile,
    *,
    done: Collection[EpisodeKey] = (),
    concurrency: int = 4,
    backend: str = "local",
    ray_address: str | None = None,
    num_cpus: int | None = None,
    progress: Progress | None = None,
) -> EvalReport:
    """Play the jobs not in ``done`` with one agent, appending each record to ``results``."""
    todo = [job for job in jobs if job.key(spec.label) not in done]
    report = EvalReport(skipped=len(jobs) - len(todo))
    task = progress.add_task(spec.label, total=len(jobs), completed=report.skipped) if progress else None
    lock = threading.Lock()  # episodes finish in several threads

    def on_record(record: dict[str, Any]) -> None:
        results.append(record)
        with lock:
            report.written += 1
        if progress is not None and task is not None:
            progress.advance(task)

    def on_failure(job: EpisodeJob, exc: BaseException) -> None:
        logger.error("%s on %s (seed %d, sample %d) failed: %s", spec.label, job.env_id, job.seed, job.sample, exc)
        with lock:
            report.failures.append((job, spec.label, f"{type(exc).__name__}: {exc}"))
        if progress is not None and task is not None:
            progress.advance(task)

    if backend == "ray":
        from turngym.agents.ray_backend import run_ray

        run_ray(
            spec,
            todo,
            concurrency=concurrency,
            on_record=on_record,
            on_failure=on_failure,
            address=ray_address,
            num_cpus=num_cpus,
        )
    elif backend == "local":
        run_local(spec, todo, concurrency=concurrency, on_record=on_record, on_failure=on_failure)
    else:
        raise ValueError(f"backend must be 'local' or 'ray', got {backend!r}")
    return report


def baseline_agents(env_ids: Sequence[str], results_dir: Path) -> list[tuple[AgentSpec, list[str]]]:
    """The baselines suite: (agent, the envs it runs on) for oracle, random and a tiny HF model."""
    with_oracle = [env_id for env_id in env_ids if has_oracle(env_family(env_id))]
    for env_id in sorted(set(env_ids) - set(with_oracle)):
        logger.warning(
            "no oracle registered for %s (family %r): the suite runs no oracle on it", env_id, env_family(env_id)
        )
    tiny = ensure_tiny_checkpoint(results_dir / TINY_CHECKPOINT)
    plan = [
        (AgentSpec("oracle"), with_oracle),
        (AgentSpec("random"), list(env_ids)),
        (AgentSpec("hf", str(tiny), **TINY_SAMPLING), list(env_ids)),
    ]
    return [(spec, envs) for spec, envs in plan if envs]


def _setup_logging(level: str) -> None:
    """turngym's log records above ``level`` go to stderr, beside the progress bars."""
    log = logging.getLogger("turngym")
    for handler in [h for h in log.handlers if isinstance(h, RichHandler)]:
        log.removeHandler(handler)  # a second `eval` in one process must not log twice
    log.addHandler(RichHandler(console=progress_console, show_path=False))
    log.setLevel(level.upper())


@app.command("eval")
def eval_command(
    env: list[str] | None = typer.Option(
        None, "--env", help="An env id (repeatable); `module:id` imports module first."
    ),
    agent: str = typer.Option("random", help=f"One of {', '.join(KINDS)}."),
    model: str | None = typer.Option(None, help="openai: the served model name; hf: a checkpoint directory."),
    base_url: str | None = typer.Option(None, help="openai: the endpoint, e.g. http://127.0.0.1:8000/v1."),
    episodes: int = typer.Option(10, min=1, help="Tasks (seeds) per env and difficulty."),
    samples: int = typer.Option(1, min=1, help="Attempts per task (pass@k uses them)."),
    concurrency: int | None = typer.Option(
        None, min=1, help="Episodes in flight at once (default: 4; 16 for hf, which batches them)."
    ),
    seed: int = typer.Option(0, min=0, help="The first task seed."),
    difficulty: list[str] | None = typer.Option(None, help="Difficulty (repeatable); default: the env's own."),
    out: Path = typer.Option(Path("results/eval.jsonl"), help="The JSONL file episodes are appended to."),
    resume: bool = typer.Option(
        False, help="Continue --out, skipping the episodes it has (without it, an existing --out is moved aside)."
    ),
    plot: Path | None = typer.Option(None, help="Write a PNG of success and return here."),
    suite: str | None = typer.Option(None, help="`baselines`: oracle, random and a tiny HF model on every env."),
    backend: str = typer.Option("local", help="local or ray."),
    ray_address: str | None = typer.Option(None, help="ray: join this cluster instead of starting one."),
    num_cpus: int | None = typer.Option(None, min=1, help="ray: CPUs of the local Ray (default: all)."),
    tool_mode: str = typer.Option("auto", help="openai: auto, native or text tool calls."),
    temperature: float | None = typer.Option(None, help="Sampling temperature (model agents)."),
    max_tokens: int | None = typer.Option(None, min=1, help="Tokens per completion (model agents)."),
    log_level: str = typer.Option("warning", help="debug, info, warning or error."),
) -> None:
    """Evaluate an agent (or the baselines suite) on envs: JSONL results, a summary table, a plot."""
    if log_level.upper() not in ("DEBUG", "INFO", "WARNING", "ERROR"):
        raise typer.BadParameter("must be debug, info, warning or error", param_hint="--log-level")
    _setup_logging(log_level)
    if backend not in ("local", "ray"):
        raise typer.BadParameter("must be 'local' or 'ray'", param_hint="--backend")
    if suite is not None and suite not in SUITES:
        raise typer.BadParameter(f"unknown suite {suite!r}; known: {', '.join(SUITES)}", param_hint="--suite")
    env_ids = [resolve_env_id(e) for e in env or []]
    if suite is not None and (agent != "random" or model or base_url):
        raise typer.BadParameter("a suite runs its own agents: drop --agent/--model/--base-url", param_hint="--suite")
    if suite == "baselines":
        env_ids = env_ids or [entry.id for entry in registration.ENVS]
        if not env_ids:
            raise typer.BadParameter("no env is registered yet: nothing to run the baselines on", param_hint="--suite")
        plan = baseline_agents(env_ids, out.parent)
        difficulties: list[str | None] = list(difficulty or DIFFICULTIES)
    else:
        if not env_ids:
            raise typer.BadParameter("give at least one --env (or --suite baselines)", param_hint="--env")
        try:
            spec = AgentSpec(agent, model, base_url, tool_mode, temperature, max_tokens, seed)  # type: ignore[arg-type]
        except ValueError as exc:
            raise typer.BadParameter(str(exc), param_hint="--agent/--model") from exc
        plan = [(spec, env_ids)]
        difficulties = list(difficulty or [None])

    if any(spec.kind == "hf" for spec, _ in plan):
        from transformers.utils import logging as hf_logging

        hf_logging.disable_progress_bar()  # rich shows progress; tqdm bars would tear it
    results = ResultsFile(out)
    done = results.open(resume=resume)
    report = EvalReport()
    progress = Progress(
        TextColumn("{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        TimeRemainingColumn(),
        console=progress_console,
    )
    with progress:
        for spec, envs in plan:
            jobs = make_jobs(envs, episodes=episodes, seed=seed, samples=samples, difficulties=difficulties)
            part = evaluate(
                spec,
                jobs,
                results,
                done=done,
                concurrency=concurrency or DEFAULT_CONCURRENCY.get(spec.kind, 4),
                backend=backend,
                ray_address=ray_address,
                num_cpus=num_cpus,
                progress=progress,
            )
            report.written += part.written
            report.skipped += part.skipped
            report.failures += part.failures

    rows = summarize(results.records())
    console.print(summary_table(rows, title=f"turngym eval · {out}"))
    console.print(
        f"{report.written} episodes written, {report.skipped} already done, {len(report.failures)} failed → {out}"
    )
    if plot is not None and rows:
        console.print(f"plot → {plot_summary(rows, plot)}")
    if report.failures:
        for job, label, error in report.failures[:5]:
            console.print(f"[red]failed[/red] {label} on {job.env_id} seed {job.seed} sample {job.sample}: {error}")
        console.print("Failed episodes were not recorded: fix the cause and rerun with --resume to play them.")
        raise typer.Exit(1)
