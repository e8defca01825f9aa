"""Tool worlds: task sampling, episode reset and tool-call throughput, against the naive way.

Rows (each measured side by side in one run):

* sample: ``ToolTaskGenerator.sample`` per task (world generation + template + distractors).
* reset: ``ToolTask.build_worlds`` with tool schemas derived once per world class, vs deriving
  them from signatures and docstrings at every reset.
* call: ``WorldSet.call`` (compiled jsonschema validator, cached declarations) vs deriving the
  schema and validating with ``jsonschema.validate`` (which re-checks the schema) per call.
* judge: ``ToolTask.evaluate`` (gold replay on fresh worlds + state comparison) per episode.
* mcp: the same kind of call forwarded to an MCP stdio server subprocess vs in-process.
"""

from __future__ import annotations

import sys
import tempfile
import textwrap
import time
from collections.abc import Callable
from pathlib import Path

import jsonschema
import numpy as np

from turngym.tasks.toolworlds import ToolTaskGenerator
from turngym.tasks.toolworlds import world as world_module
from turngym.tools import tool_from_function


def per_op(fn: Callable[[], object], min_seconds: float = 0.5) -> float:
    """Seconds per call of ``fn``, timed over at least ``min_seconds``."""
    fn()
    n, start = 0, time.perf_counter()
    while (elapsed := time.perf_counter() - start) < min_seconds:
        fn()
        n += 1
    return elapsed / n


def _calls(generator: ToolTaskGenerator, n_tasks: int = 40):
    """(worlds, name, arguments) for read-only gold calls, so repeating them changes nothing."""
    rng = np.random.default_rng(0)
    out = []
    for _ in range(n_tasks):
        task = generator.sample(rng)
        worlds = task.build_worlds()
        for call in task.gold_calls:
            if call["name"].startswith(("get_", "list_", "find_", "search_", "lookup_", "read_")):
                out.append((worlds, call["name"], call["arguments"]))
    return out


def main() -> None:
    generator = ToolTaskGenerator()
    rng = np.random.default_rng(1)
    rows: list[tuple[str, float, float | None, str]] = []

    sample = per_op(lambda: generator.sample(rng))
    rows.append(("sample a task", sample, None, "-"))

    task = generator.make("shop", "hard", 3)
    cached = per_op(task.build_worlds)

    def uncached_reset() -> None:
        world_module._DECLARATIONS.clear()
        task.build_worlds()

    naive_reset = per_op(uncached_reset)
    rows.append(("reset (build worlds)", cached, naive_reset, "schema derived at every reset"))

    calls = _calls(generator)
    index = {"i": 0}

    def fast_call() -> None:
        worlds, name, arguments = calls[index["i"] % len(calls)]
        index["i"] += 1
        worlds.call(name, arguments)

    def naive_call() -> None:
        worlds, name, arguments = calls[index["i"] % len(calls)]
        index["i"] += 1
        tool = worlds.tools[name]
        fresh = tool_from_function(tool.fn, name=name) if name != "ask_user" else tool
        jsonschema.validate(arguments, fresh.parameters)
        fresh.fn(**arguments)

    fast = per_op(fast_call)
    rows.append(("tool call", fast, per_op(naive_call), "derive schema + jsonschema.validate per call"))

    judged = generator.make("workspace", "hard", 2)
    final = judged.replay_gold()
    rows.append(("judge an episode", per_op(lambda: judged.evaluate(final, "done")), None, "-"))

    mcp_call = _mcp_call_time()
    if mcp_call is not None:
        rows.append(("tool call vs MCP forward", fast, mcp_call, "same call on an MCP stdio subprocess"))

    print(f"{'operation':30} {'turngym':>12} {'naive/other':>14} {'speedup':>8}  compared with")
    for name, seconds, other, note in rows:
        ratio = f"{other / seconds:7.1f}x" if other else "       -"
        other_text = f"{other * 1e6:11.1f}µs" if other else "             -"
        print(f"{name:30} {seconds * 1e6:10.1f}µs {other_text:>14} {ratio}  {note}")
    print(
        f"tool-call throughput: {1 / fast:,.0f} calls/s in-process"
        + (f", {1 / mcp_call:,.0f} calls/s over MCP" if mcp_call else "")
    )
    print(f"sampling: {1 / sample:,.0f} tasks/s")


def _mcp_call_time() -> float | None:
    """Per-call time of a counter tool on a throwaway MCP server (None if mcp is missing)."""
    try:
        from turngym.tasks.mcp_tools import MCPToolSource
    except ImportError:
        return None
    script = textwrap.dedent(
        """
        from mcp.server.mcpserver import MCPServer
        server = MCPServer("bench", log_level="WARNING")
        state = {"n": 0}

        @server.tool()
        def increment() -> int:
            \"\"\"Count.\"\"\"
            state["n"] += 1
            return state["n"]

        server.run()
        """
    )
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "bench_server.py"
        path.write_text(script)
        with MCPToolSource(sys.executable, [str(path)]) as source:
            return per_op(lambda: source.call("increment"))


if __name__ == "__main__":
    main()
