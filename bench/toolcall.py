"""ToolCall-v0: oracle steps/s and episodes/s, against naive ways of writing the same env.

Rows (each measured side by side in one run, on the same oracle episodes):

* env: ``turngym/ToolCall-v0`` as shipped — tool schemas derived once per world class and bound
  per episode (validators compiled once per tool), goal predicates read at their own paths on
  the live worlds, and only after a turn that ran a call.
* naive schemas: the same env re-deriving every tool's schema from its signature and docstring
  at every step (a fresh :class:`turngym.tools.Tool`, so a fresh validator, per step).
* naive progress: the same env checking the goal predicates on a full ``dataclasses.asdict``
  snapshot of every world (distractors included) after every turn (``ToolTask.goal_progress``).
* bare worlds: the gold calls replayed on a ``WorldSet`` and judged, no protocol at all — the
  floor, to show what the turn protocol (parsing, validation, rewards, history) costs.
* MCP: episodes on an MCP stdio server started fresh per episode (clean state) vs one server
  reused across episodes.
"""

from __future__ import annotations

import sys
import tempfile
import textwrap
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import gymnasium as gym
import numpy as np

import turngym  # noqa: F401  (registers the ids)
from turngym.agents.toolcall_oracle import ToolCallOracle
from turngym.envs.toolcall import ToolCallEnv
from turngym.tasks.toolworlds import ASK_USER, ToolTaskGenerator
from turngym.tools import Tool, tool_from_function

N_TASKS = 120


class NaiveSchemasEnv(ToolCallEnv):
    """Re-derives every tool's schema at every step, as an env building its tool list per turn would."""

    def step(self, action: Any):
        if not self._done:
            self._tools = {name: _fresh(tool) for name, tool in self._tools.items()}
        return super().step(action)


def _fresh(tool: Tool) -> Tool:
    if tool.name == ASK_USER.name:
        return Tool(tool.name, tool.description, dict(tool.parameters), tool.fn)
    assert tool.fn is not None
    return tool_from_function(tool.fn, tool.name)


class NaiveProgressEnv(ToolCallEnv):
    """Checks the goal predicates on a full snapshot of every world after every turn."""

    def reward_state(self) -> dict[str, Any]:
        if self._worlds is not None:
            self._progress = self.task.goal_progress(self._worlds)  # type: ignore[union-attr]
        self._dirty = False
        return super().reward_state()


def play_oracle(env: gym.Env, task_ids: list[str]) -> tuple[float, int]:
    """(seconds, steps) to play the oracle on every task once; fails loudly if it loses one."""
    steps = 0
    start = time.perf_counter()
    for task_id in task_ids:
        obs, info = env.reset(options={"task_id": task_id})
        oracle = ToolCallOracle(env.unwrapped)
        while True:
            obs, _, terminated, truncated, info = env.step(oracle.act(obs, info))
            steps += 1
            if terminated or truncated:
                break
        if not info["success"]:
            raise RuntimeError(f"the oracle lost {task_id}: the env is broken, the timings mean nothing")
    return time.perf_counter() - start, steps


def bare_worlds(task_ids: list[str]) -> float:
    """Seconds to build, replay and judge every task with no env around it."""
    generator = ToolTaskGenerator()
    start = time.perf_counter()
    for task_id in task_ids:
        task = generator.get(task_id)
        worlds = task.replay_gold(task.build_worlds())
        task.evaluate(worlds, "done")
    return time.perf_counter() - start


def best_of(fn: Callable[[], Any], repeats: int = 3) -> Any:
    """The fastest of ``repeats`` runs (the first element of the result is its seconds)."""
    return min((fn() for _ in range(repeats)), key=lambda r: r[0] if isinstance(r, tuple) else r)


MCP_SERVER = textwrap.dedent(
    '''
    from mcp.server.mcpserver import MCPServer
    server = MCPServer("bench", log_level="WARNING")
    notes = {}

    @server.tool()
    def put(key: str, value: str) -> str:
        """Store a value."""
        notes[key] = value
        return "ok"

    @server.tool()
    def get(key: str) -> str:
        """Read a value."""
        return notes.get(key, "")

    server.run()
    '''
)
MCP_TASK = {
    "instruction": "Store 'blue' under 'colour'.",
    "gold_turns": [[{"name": "put", "arguments": {"key": "colour", "value": "blue"}}]],
    "checks": [{"name": "get", "arguments": {"key": "colour"}, "expect": "blue"}],
}


def mcp_episodes(restart: bool, episodes: int) -> float | None:
    """Seconds per MCP episode, or None when the mcp package is missing."""
    try:
        import mcp  # noqa: F401
    except ImportError:
        return None
    with tempfile.TemporaryDirectory() as tmp:
        server = Path(tmp) / "bench_server.py"
        server.write_text(MCP_SERVER)
        env = gym.make(
            "turngym/ToolCall-v0", mcp_server=[sys.executable, str(server)], mcp_tasks=MCP_TASK, mcp_restart=restart
        )
        try:
            play_oracle(env, [env.unwrapped.source.tasks[0].id])  # warm-up (imports, first start)
            seconds, _ = play_oracle(env, [env.unwrapped.source.tasks[0].id] * episodes)
        finally:
            env.close()
    return seconds / episodes


def main() -> None:
    rng = np.random.default_rng(0)
    generator = ToolTaskGenerator()
    task_ids = [generator.sample(rng).id for _ in range(N_TASKS)]
    envs = {
        "env (turngym)": gym.make("turngym/ToolCall-v0"),
        "naive schemas": NaiveSchemasEnv(),
        "naive progress": NaiveProgressEnv(),
    }
    results = {name: best_of(lambda env=env: play_oracle(env, task_ids)) for name, env in envs.items()}
    floor = best_of(lambda: bare_worlds(task_ids))
    fast_seconds, steps = results["env (turngym)"]

    print(f"oracle on {N_TASKS} generated tasks ({steps} steps), best of 3")
    print(f"{'way':22} {'steps/s':>10} {'episodes/s':>11} {'µs/step':>9}  {'vs env':>7}")
    for name, (seconds, n) in results.items():
        print(
            f"{name:22} {n / seconds:10,.0f} {N_TASKS / seconds:11,.0f} {seconds / n * 1e6:9.0f}  "
            f"{seconds / fast_seconds:6.2f}x"
        )
    print(
        f"{'bare worlds (floor)':22} {'-':>10} {N_TASKS / floor:11,.0f} {'-':>9}  {floor / fast_seconds:6.2f}x"
        "   (no protocol: replay gold + judge)"
    )
    naive = {name: results[name][0] / fast_seconds for name in ("naive schemas", "naive progress")}
    print(
        "speedups over the naive ways: "
        + ", ".join(f"{name} {ratio:.2f}x" for name, ratio in naive.items())
        + f"; the protocol costs {fast_seconds / floor:.1f}x the bare replay"
    )

    restart, reuse = mcp_episodes(True, 5), mcp_episodes(False, 20)
    if restart is not None and reuse is not None:
        print(
            f"MCP episode: fresh server {restart * 1e3:.0f} ms, reused server {reuse * 1e3:.1f} ms "
            f"({restart / reuse:.0f}x; a fresh server is the price of clean state)"
        )
    for env in envs.values():
        env.close()


if __name__ == "__main__":
    main()
