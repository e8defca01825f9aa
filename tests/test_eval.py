"""turngym eval: summary math, the results file, kill-and-resume, the CLI and the baselines suite."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from typer.testing import CliRunner

from turngym import registration
from turngym.agents.results import (
    ResultsFile,
    episode_key,
    pass_at_k,
    plot_summary,
    read_records,
    summarize,
    summary_table,
    wilson_interval,
)
from turngym.cli import app

import fixtures.arith  # noqa: F401  (registers the Arith env and oracle)
from fixtures.openai_server import arith_server

ENV = "turngym-test/Arith-v0"
TURNGYM = str(Path(sys.executable).parent / "turngym")


# --------------------------------------------------------------------------------------------- math


@pytest.mark.parametrize(
    "successes, n, low, high",
    [
        (7, 10, 0.3968, 0.8922),  # p = .7: center (p + z²/2n)/(1 + z²/n) = .6445, half-width .2477
        (1, 20, 0.0089, 0.2361),
        (0, 10, 0.0, 0.2775),  # upper = (z²/n) / (1 + z²/n) = .38415 / 1.38415
        (10, 10, 0.7225, 1.0),  # lower = 1 / (1 + z²/n)
    ],
)
def test_wilson_interval_matches_hand_computed_values(successes, n, low, high):
    got = wilson_interval(successes, n)
    assert got == pytest.approx((low, high), abs=5e-5)


def test_wilson_interval_edges():
    assert wilson_interval(0, 0) == (0.0, 1.0)
    with pytest.raises(ValueError):
        wilson_interval(3, 2)


@pytest.mark.parametrize(
    "n, c, k, expected",
    [
        (5, 2, 1, 0.4),  # pass@1 is the success rate
        (5, 2, 2, 0.7),  # 1 - C(3,2)/C(5,2) = 1 - 3/10
        (4, 1, 3, 0.75),  # 1 - C(3,3)/C(4,3) = 1 - 1/4
        (10, 3, 5, 1 - 21 / 252),  # 1 - C(7,5)/C(10,5)
        (4, 0, 2, 0.0),
        (3, 2, 2, 1.0),  # fewer failures than k: some pick always succeeds
    ],
)
def test_pass_at_k_matches_hand_computed_values(n, c, k, expected):
    assert pass_at_k(n, c, k) == pytest.approx(expected)


def test_pass_at_k_rejects_impossible_counts():
    with pytest.raises(ValueError):
        pass_at_k(3, 4, 1)
    with pytest.raises(ValueError):
        pass_at_k(3, 1, 4)


def record(agent="a", env="e", difficulty="easy", seed=0, sample=0, success=True, ret=1.0, task=None, **extra):
    return {
        "agent": agent,
        "env": env,
        "difficulty": difficulty,
        "difficulty_option": difficulty,
        "seed": seed,
        "sample": sample,
        "task_id": task or f"t{seed}",
        "success": success,
        "return": ret,
        "turns": 2,
        "tokens": 10,
        "completion_tokens": extra.get("completion_tokens"),
    }


def test_summary_rows_pool_difficulties_and_compute_pass_at_k():
    records = [
        # task t0: 1 of 2 samples succeed, task t1: 0 of 2 → pass@1 = .25, pass@2 = (1 + 0)/2
        record(seed=0, sample=0, success=True),
        record(seed=0, sample=1, success=False, ret=0.0),
        record(seed=1, sample=0, success=False, ret=0.0),
        record(seed=1, sample=1, success=False, ret=0.0),
        record(difficulty="hard", seed=0, success=True, completion_tokens=30),
        record(difficulty="hard", seed=1, success=True, completion_tokens=50),
    ]
    rows = {(r.agent, r.env, r.difficulty): r for r in summarize(records)}
    easy, hard, pooled = rows[("a", "e", "easy")], rows[("a", "e", "hard")], rows[("a", "e", "all")]
    assert (easy.episodes, easy.successes, easy.mean_return) == (4, 1, 0.25)
    assert easy.pass_at == pytest.approx({1: 0.25, 2: 0.5})
    assert hard.pass_at == {} and hard.mean_completion_tokens == 40
    assert (pooled.episodes, pooled.successes) == (6, 3)
    assert (pooled.ci_low, pooled.ci_high) == wilson_interval(3, 6)
    assert [r.difficulty for r in summarize(records)] == ["easy", "hard", "all"]
    assert summary_table(summarize(records)).row_count == 3


def test_plot_is_a_png(tmp_path):
    rows = summarize(
        [record(agent=a, difficulty=d, success=s) for a in ("x", "y") for d in ("easy", "hard") for s in (True, False)]
    )
    path = plot_summary(rows, tmp_path / "sub" / "p.png")
    assert path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    with pytest.raises(ValueError, match="nothing to plot"):
        plot_summary([], tmp_path / "q.png")


# --------------------------------------------------------------------------------------------- file


def test_results_file_resume_cuts_a_torn_line_and_keeps_the_rest(tmp_path):
    path = tmp_path / "r.jsonl"
    results = ResultsFile(path)
    assert results.open(resume=True) == set()
    results.append(record(seed=1))
    results.append(record(seed=2))
    with open(path, "a") as handle:
        handle.write('{"agent": "a", "env": "e", "se')  # what a kill in the middle of a write leaves
    assert len(read_records(path)) == 2
    done = ResultsFile(path).open(resume=True)
    assert done == {episode_key(record(seed=1)), episode_key(record(seed=2))}
    assert path.read_text().endswith("}\n") and len(path.read_text().splitlines()) == 2


def test_results_file_without_resume_moves_the_old_file_aside(tmp_path):
    path = tmp_path / "r.jsonl"
    ResultsFile(path).open(resume=False)
    ResultsFile(path).append(record())
    assert ResultsFile(path).open(resume=False) == set()
    assert not path.exists() and len(read_records(tmp_path / "r.1.jsonl")) == 1


def test_a_corrupt_middle_line_is_an_error_not_a_silent_skip(tmp_path):
    path = tmp_path / "r.jsonl"
    path.write_text(json.dumps(record()) + "\nnot json\n" + json.dumps(record(seed=3)) + "\n")
    with pytest.raises(ValueError, match=r"r.jsonl:2 is not a JSON record"):
        read_records(path)


# --------------------------------------------------------------------------------------------- CLI


def eval_args(base_url: str, out: Path, *extra: str) -> list[str]:
    return [
        TURNGYM, "eval", "--env", f"fixtures.arith:{ENV}", "--agent", "openai", "--model", "arith-solver",
        "--base-url", base_url, "--episodes", "30", "--samples", "2", "--concurrency", "4", "--out", str(out), *extra,
    ]  # fmt: skip


def test_sigkill_then_resume_loses_and_duplicates_nothing(tmp_path):
    out = tmp_path / "r.jsonl"
    with arith_server(delay=0.03) as server:
        with open(tmp_path / "stderr", "w") as stderr:
            proc = subprocess.Popen(eval_args(server.base_url, out), stdout=subprocess.DEVNULL, stderr=stderr)
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline and (not out.exists() or out.read_text().count("\n") < 10):
            assert proc.poll() is None, (tmp_path / "stderr").read_text()
            time.sleep(0.02)
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait()
        first = out.read_text().splitlines()
        assert 10 <= len(first) < 60, "the run must be killed in the middle"
        with open(out, "a") as handle:
            handle.write(first[-1][: len(first[-1]) // 2])  # and a torn line, as a kill mid-write leaves
        resumed = subprocess.run(
            eval_args(server.base_url, out, "--resume"), capture_output=True, text=True, timeout=120
        )
    assert resumed.returncode == 0, resumed.stderr
    lines = out.read_text().splitlines()
    records = [json.loads(line) for line in lines]
    keys = [(r["seed"], r["sample"]) for r in records]
    assert len(keys) == len(set(keys)) == 60
    assert set(keys) == {(seed, sample) for seed in range(30) for sample in range(2)}
    assert lines[: len(first)] == first  # what the killed run wrote is kept as it was
    assert f"{60 - len(first)} episodes written, {len(first)} already done" in resumed.stdout


def test_cli_errors_are_clear():
    runner = CliRunner()
    result = runner.invoke(app, ["eval", "--env", "turngym/Nope-v0"])
    assert result.exit_code == 2 and "no registered env 'turngym/Nope-v0'" in result.output
    result = runner.invoke(app, ["eval", "--env", ENV, "--agent", "hf"])
    assert result.exit_code == 2 and "needs --model" in result.output
    result = runner.invoke(app, ["eval"])
    assert result.exit_code == 2 and "--env" in result.output
    result = runner.invoke(app, ["eval", "--env", ENV, "--backend", "mpi"])
    assert result.exit_code == 2 and "'local' or 'ray'" in result.output
    result = runner.invoke(app, ["eval", "--suite", "baselines", "--agent", "openai"])
    assert result.exit_code == 2 and "runs its own agents" in result.output
    result = runner.invoke(app, ["eval", "--suite", "nightly"])
    assert result.exit_code == 2 and "unknown suite 'nightly'" in result.output


def test_failed_episodes_are_not_recorded_and_fail_the_run(tmp_path):
    runner = CliRunner()
    out = tmp_path / "r.jsonl"
    # Nothing listens on port 9: every episode fails, none is written, the exit code says so.
    args = ["eval", "--env", ENV, "--agent", "openai", "--model", "m", "--base-url", "http://127.0.0.1:9/v1"]
    result = runner.invoke(app, [*args, "--episodes", "2", "--out", str(out)])
    assert result.exit_code == 1
    assert "0 episodes written" in result.output and "2 failed" in result.output and "--resume" in result.output
    assert read_records(out) == []


def test_suite_baselines_covers_every_registered_env(tmp_path, monkeypatch):
    entry = registration.EnvEntry(ENV, "toy_env:ArithEnv", "test", "toy arithmetic")
    monkeypatch.setattr(registration, "ENVS", [entry])
    out, png = tmp_path / "b.jsonl", tmp_path / "b.png"
    args = ["eval", "--suite", "baselines", "--episodes", "2", "--out", str(out), "--plot", str(png)]
    result = CliRunner().invoke(app, args)
    assert result.exit_code == 0, result.output
    records = read_records(out)
    assert {r["agent"] for r in records} == {"oracle", "random", "hf:tiny-hf"}
    assert {r["difficulty"] for r in records} == {"easy", "medium", "hard"}
    assert len(records) == 3 * 3 * 2 and all(r["success"] for r in records if r["agent"] == "oracle")
    assert (tmp_path / "tiny-hf" / "config.json").exists() and png.exists()
    # Run again with --resume: nothing is replayed.
    again = CliRunner().invoke(app, [*args, "--resume"])
    assert again.exit_code == 0 and "0 episodes written, 18 already done" in again.output
