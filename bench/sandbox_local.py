"""Local fork-server sandbox: one cell, one reset, idle memory, against the naive way, side by side.

The naive way to run an agent's pandas cell safely apart from the trainer is a fresh interpreter
per cell: ``python -c "import pandas; ..."``. Every cell then pays the interpreter start and the
pandas import, and so does every reset (a fresh process *is* the reset). Rows, measured
interleaved in one run so drift hits both sides alike:

* cell, trivial: ``run("x + 1")`` in a warm child vs a fresh ``python -c`` importing pandas;
* cell, pandas: a groupby on a DataFrame already in the child's state vs a fresh interpreter
  that imports pandas, builds the frame and runs the groupby;
* reset: fresh child + empty working directory vs the same fresh interpreter;
* new sandbox: ``ForkServerSandbox()`` with the server already warm.

Memory: USS (memory only this process holds) of an idle child, its keeper, and of the naive
idle interpreter with pandas, numpy and duckdb imported. Targets: cell p50 ≤ 5 ms, reset p50 ≤
20 ms, idle child USS ≤ 15 MB.
"""

from __future__ import annotations

import subprocess
import sys
import time
from collections.abc import Callable

import psutil

from turngym.bench._timing import p50, p90, timed
from turngym.sandboxes.forkserver import ForkServerSandbox, shared_server

CELLS = 500
RESETS = 200
NAIVE = 12  # fresh interpreters per naive row (~0.6 s each)
SETUP = "import pandas as pd, numpy as np\ndf = pd.DataFrame({'k': np.arange(10_000) % 7, 'v': np.arange(10_000)})"
GROUPBY = "df.groupby('k').v.sum().to_dict()"
NAIVE_TRIVIAL = "import pandas; x = 1; print(x + 1)"
NAIVE_GROUPBY = f"{SETUP}\nprint({GROUPBY})"


def naive_cell(code: str) -> None:
    subprocess.run([sys.executable, "-c", code], check=True, capture_output=True)


def interleaved(ours: Callable[[], object], naive: Callable[[], object], n_ours: int) -> tuple[list[float], list[float]]:
    """``n_ours`` of ours and NAIVE of the naive way, the naive ones spread evenly among ours."""
    fast, slow = [], []
    every = max(n_ours // NAIVE, 1)
    for i in range(n_ours):
        fast.append(timed(ours))
        if i % every == 0 and len(slow) < NAIVE:
            slow.append(timed(naive))
    return fast, slow


def uss_mb(pid: int) -> float:
    return psutil.Process(pid).memory_full_info().uss / 2**20


def naive_idle_uss_mb() -> float:
    """USS of an idle fresh interpreter with the same modules imported."""
    code = "import pandas, numpy, duckdb, sys; print('ready', flush=True); sys.stdin.read()"
    proc = subprocess.Popen([sys.executable, "-c", code], stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    try:
        proc.stdout.readline()
        return uss_mb(proc.pid)
    finally:
        proc.stdin.close()
        proc.wait()


def main() -> None:
    cold = timed(shared_server)
    rows: list[tuple[str, list[float], list[float] | None, str]] = []
    with ForkServerSandbox(setup=SETUP) as sandbox:
        sandbox.run("x = 1")
        trivial, naive_trivial = interleaved(lambda: sandbox.run("x + 1"), lambda: naive_cell(NAIVE_TRIVIAL), CELLS)
        rows.append(("cell: x + 1", trivial, naive_trivial, "python -c 'import pandas; ...'"))
        groupby, naive_groupby = interleaved(lambda: sandbox.run(GROUPBY), lambda: naive_cell(NAIVE_GROUPBY), CELLS)
        rows.append(("cell: pandas groupby", groupby, naive_groupby, "python -c (import, build df, groupby)"))
        sandbox.setup = None  # a bare reset; setup code costs what it costs either way
        resets, naive_resets = interleaved(sandbox.reset, lambda: naive_cell(NAIVE_TRIVIAL), RESETS)
        rows.append(("reset", resets, naive_resets, "a fresh python -c importing pandas"))
        sandbox.run("x = 1")
        time.sleep(0.2)
        child_uss, keeper_uss = uss_mb(sandbox.pid), uss_mb(sandbox._slot.child.keeper_pid)
    creations = []
    for _ in range(50):
        start = time.perf_counter()
        with ForkServerSandbox():
            creations.append(time.perf_counter() - start)
    rows.append(("new sandbox (warm server)", creations, None, "-"))
    naive_uss = naive_idle_uss_mb()

    print(f"{'operation':26} {'p50':>9} {'p90':>9} {'naive p50':>10} {'ratio':>8}  naive is")
    for name, ours, other, note in rows:
        other_p50 = f"{p50(other) * 1e3:8.1f}ms" if other else f"{'-':>10}"
        ratio = f"{p50(other) / p50(ours):7.0f}x" if other else f"{'-':>8}"
        print(f"{name:26} {p50(ours) * 1e3:7.2f}ms {p90(ours) * 1e3:7.2f}ms {other_p50} {ratio}  {note}")
    print(f"{'server cold start':26} {cold * 1e3:7.0f}ms   (once per trainer process)")
    print(
        f"idle memory (USS): child {child_uss:.1f} MB + keeper {keeper_uss:.1f} MB per sandbox, "
        f"vs {naive_uss:.1f} MB for an idle fresh interpreter with pandas/numpy/duckdb ({naive_uss / child_uss:.0f}x)"
    )
    targets = {"cell p50 <= 5 ms": p50(trivial) <= 0.005, "reset p50 <= 20 ms": p50(resets) <= 0.020, "child USS <= 15 MB": child_uss <= 15}
    print("targets: " + ", ".join(f"{name}: {'met' if ok else 'MISSED'}" for name, ok in targets.items()))


if __name__ == "__main__":
    main()
