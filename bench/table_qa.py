"""TableQA-v0: oracle episodes/s, tool calls/s with 64 concurrent episodes, memory per live episode.

Naive way, measured side by side in the same run: the code-execution loop many agent gyms use —
each tool call runs in a fresh ``python -c`` subprocess that imports pandas and duckdb and loads
the task's tables from files — against TableQA-v0's forked sandbox children that keep the tables
loaded across calls.

Rows:
* oracle episodes/s (one env, reset + 2 steps each);
* tool calls/s with 64 concurrent episodes in a SyncVectorEnv (every env runs a pandas cell per step);
* the naive per-call subprocess, calls/s;
* memory per live episode: USS of each episode's sandbox processes (child + keeper).
"""

from __future__ import annotations

import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import gymnasium as gym
import psutil
from rich.console import Console
from rich.table import Table

import turngym  # noqa: F401
from turngym.agents.oracles import get_oracle
from turngym.bench._timing import p50

ENV_ID = "turngym/TableQA-v0"
EPISODES = 60
VECTOR = 64
VECTOR_STEPS = 5
NAIVE_CALLS = 10
CELL = "int(sum(len(t) for t in [{tables}]))"


def oracle_episodes(env: gym.Env, n: int) -> float:
    start = time.perf_counter()
    for seed in range(n):
        obs, info = env.reset(seed=seed, options={"difficulty": ("easy", "medium", "hard")[seed % 3]})
        oracle = get_oracle("table")(env.unwrapped)
        done = False
        while not done:
            obs, _, terminated, truncated, info = env.step(oracle.act(obs, info))
            done = terminated or truncated
        assert info["success"], info["task_id"]
    return n / (time.perf_counter() - start)


def vector_tool_calls() -> tuple[float, float, int]:
    """Calls/s over 64 concurrent episodes and the USS per live episode (MB)."""
    envs = gym.make_vec(ENV_ID, num_envs=VECTOR, vectorization_mode="sync")
    try:
        obs, info = envs.reset(seed=list(range(VECTOR)))
        tables = [", ".join(envs.envs[i].unwrapped.task.tables) for i in range(VECTOR)]
        actions = [
            f'<tool_call>{json.dumps({"name": "python", "arguments": {"code": CELL.format(tables=t)}})}</tool_call>'
            for t in tables
        ]
        start = time.perf_counter()
        for _ in range(VECTOR_STEPS):
            envs.step(actions)
        rate = VECTOR * VECTOR_STEPS / (time.perf_counter() - start)
        uss = []
        for env in envs.envs:
            child = psutil.Process(env.unwrapped._sandbox.pid)
            processes = [child] + ([child.parent()] if child.parent() else [])
            uss.append(sum(p.memory_full_info().uss for p in processes) / 2**20)
        return rate, sum(uss) / len(uss), VECTOR
    finally:
        envs.close()


def naive_calls(env: gym.Env) -> float:
    """A fresh interpreter per call that imports pandas/duckdb and reads the task's tables."""
    env.reset(seed=0)
    task = env.unwrapped.task
    with tempfile.TemporaryDirectory() as tmp:
        loads = []
        for name, df in task.tables.items():
            df.to_pickle(Path(tmp) / f"{name}.pkl")
            loads.append(f"{name} = pd.read_pickle({str(Path(tmp) / (name + '.pkl'))!r})")
        code = "import pandas as pd, duckdb\n" + "\n".join(loads) + f"\nprint({CELL.format(tables=', '.join(task.tables))})"
        samples = []
        for _ in range(NAIVE_CALLS):
            start = time.perf_counter()
            subprocess.run([sys.executable, "-c", code], check=True, capture_output=True)
            samples.append(time.perf_counter() - start)
    return 1.0 / p50(samples)


def main() -> None:
    env = gym.make(ENV_ID)
    try:
        episodes = oracle_episodes(env, EPISODES)
        naive = naive_calls(env)
    finally:
        env.close()
    calls, uss, live = vector_tool_calls()
    table = Table(title="TableQA-v0")
    for column in ("measure", "turngym", "naive (fresh python per call)", "ratio"):
        table.add_column(column)
    table.add_row("oracle episodes/s (2 tool turns each)", f"{episodes:.1f}", f"{naive / 2:.2f}", f"{episodes / (naive / 2):.0f}×")
    table.add_row(f"tool calls/s, {VECTOR} concurrent episodes", f"{calls:.0f}", f"{naive:.2f}", f"{calls / naive:.0f}×")
    table.add_row("memory per live episode (USS, MB)", f"{uss:.1f}", "-", f"{live} live episodes")
    Console().print(table)


if __name__ == "__main__":
    main()
