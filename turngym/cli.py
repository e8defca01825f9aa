"""The ``turngym`` command: list envs, play one at the terminal, run benchmarks.

``turngym eval`` (agents on envs, results and plots) lives in :mod:`turngym.agents.evaluate`
and is added to this app there.
"""

from __future__ import annotations

import importlib
import json
import pkgutil
from typing import Any

import gymnasium as gym
import typer
from rich.console import Console
from rich.table import Table

import turngym
from turngym.registration import ENVS

app = typer.Typer(add_completion=False, no_args_is_help=True, help="turngym: multi-turn agentic gymnasium environments for LLM agents.")
console = Console()


def _reward_summary(env: Any) -> str:
    base = env.unwrapped
    weights = getattr(base.rewards, "weights", None)
    if weights:
        return ", ".join(f"{name}×{w:g}" for name, w in weights.items())
    return type(base.rewards).__name__


@app.command("list")
def list_envs(as_json: bool = typer.Option(False, "--json", help="Print JSON instead of a table.")) -> None:
    """The registered envs: ids, families, tools and default rewards."""
    rows = []
    for entry in ENVS:
        env = gym.make(entry.id)
        try:
            _, info = env.reset(seed=0)
            tools = [t["function"]["name"] for t in info["tools"]]
            rows.append({"id": entry.id, "family": entry.family, "tools": tools, "rewards": _reward_summary(env), "summary": entry.summary})
        finally:
            env.close()
    if as_json:
        console.print_json(json.dumps(rows))
        return
    table = Table(title=f"turngym {turngym.__version__}: registered envs")
    for column in ("id", "family", "tools", "default rewards", "summary"):
        table.add_column(column)
    for row in rows:
        table.add_row(row["id"], row["family"], ", ".join(row["tools"]) or "-", row["rewards"], row["summary"])
    console.print(table)


@app.command()
def play(
    env_id: str = typer.Argument(..., help="e.g. turngym/TableQA-v0"),
    seed: int | None = typer.Option(None, help="Seed for reset."),
    difficulty: str | None = typer.Option(None, help="easy, medium or hard."),
    task_id: str | None = typer.Option(None, help="Play this task."),
) -> None:
    """Play an env yourself. Type text; a tool call as JSON {"name": ..., "arguments": {...}}."""
    env = gym.make(env_id)
    options = {k: v for k, v in {"difficulty": difficulty, "task_id": task_id}.items() if v is not None}
    obs, info = env.reset(seed=seed, options=options)
    console.rule(f"{env_id} · task {info['task_id']}")
    console.print(f"[dim]{info['instructions']}[/dim]")
    for tool in info["tools"]:
        fn = tool["function"]
        console.print(f"[cyan]tool[/cyan] {fn['name']}: {fn['description']}  args={json.dumps(fn['parameters'].get('properties', {}))}")
    console.print(obs)
    total = 0.0
    while True:
        try:
            line = console.input("[bold green]you>[/bold green] ")
        except (EOFError, KeyboardInterrupt):
            break
        obs, reward, terminated, truncated, info = env.step(_typed_action(line))
        total += reward
        console.print(obs)
        console.print(f"[dim]reward {reward:+.3f} · components {info['reward_components']} · valid {info['action_valid']}[/dim]")
        if terminated or truncated:
            episode = info["episode"]
            console.rule(f"success={episode['success']} return={total:.3f} turns={episode['turns']}")
            break
    env.close()


def _typed_action(line: str) -> str:
    """A JSON object with a "name" is a tool call; anything else is sent as text."""
    stripped = line.strip()
    if stripped.startswith("{"):
        try:
            data = json.loads(stripped)
        except json.JSONDecodeError:
            return line
        if isinstance(data, dict) and "name" in data:
            return f"<tool_call>{stripped}</tool_call>"
    return line


@app.command()
def bench(name: str | None = typer.Argument(None, help="A module of turngym.bench; all when omitted.")) -> None:
    """Run the benchmarks in bench/ (each prints its own table of ratios)."""
    import turngym.bench as bench_pkg

    names = [name] if name else sorted(m.name for m in pkgutil.iter_modules(bench_pkg.__path__) if not m.name.startswith("_"))
    if not names:
        raise typer.Exit("no benchmarks found")
    for module_name in names:
        module = importlib.import_module(f"turngym.bench.{module_name}")
        if not hasattr(module, "main"):
            raise typer.BadParameter(f"turngym.bench.{module_name} has no main()")
        console.rule(f"bench: {module_name}")
        module.main()


def _load_extensions() -> None:
    """Commands that live beside their concept (e.g. ``eval`` in turngym.agents.evaluate)."""
    for module in ("turngym.agents.evaluate",):
        try:
            importlib.import_module(module)
        except ModuleNotFoundError as exc:
            if exc.name != module:
                raise


_load_extensions()

if __name__ == "__main__":
    app()
