"""Running one notebook cell: statements, then the value of a final expression, like IPython.

Kept apart from the process machinery so the semantics (what is a value, which traceback frames an
agent sees) can be read and tested without forking anything.
"""

from __future__ import annotations

import ast
import linecache
import traceback
from dataclasses import dataclass
from typing import Any

CELL_PREFIX = "<cell-"


@dataclass
class CellOutcome:
    value: str | None = None  # repr of the final expression, None when there is none or it is None
    error: str | None = None  # trimmed traceback
    out_of_memory: bool = False  # the error is a MemoryError (numpy's included)
    truncated: bool = False


def cell_filename(number: int) -> str:
    return f"{CELL_PREFIX}{number}>"


def run_cell(source: str, namespace: dict[str, Any], filename: str, value_limit: int) -> CellOutcome:
    """Execute ``source`` in ``namespace``; exceptions come back as text, never raised."""
    try:
        tree = ast.parse(source, filename, "exec")
    except (SyntaxError, ValueError) as exc:  # ValueError: source contains NUL bytes
        return CellOutcome(error="".join(traceback.format_exception_only(type(exc), exc)).rstrip())
    # Source in linecache lets tracebacks (and inspect) show the user's lines.
    linecache.cache[filename] = (len(source), None, source.splitlines(keepends=True), filename)
    final = tree.body.pop() if tree.body and isinstance(tree.body[-1], ast.Expr) else None
    try:
        exec(compile(tree, filename, "exec"), namespace)
        if final is None:
            return CellOutcome()
        result = eval(compile(ast.Expression(final.value), filename, "eval"), namespace)
        if result is None:
            return CellOutcome()
        namespace["_"] = result
        text = repr(result)
    except BaseException as exc:  # noqa: BLE001 - SystemExit and KeyboardInterrupt are user errors too
        return CellOutcome(error=format_user_traceback(exc), out_of_memory=isinstance(exc, MemoryError))
    if len(text) > value_limit:
        return CellOutcome(value=text[:value_limit], truncated=True)
    return CellOutcome(value=text)


def format_user_traceback(exc: BaseException) -> str:
    """The traceback with only the frames of cell code (ours and library internals left out)."""
    summary = traceback.TracebackException.from_exception(exc)
    seen: set[int] = set()
    pending = [summary]
    while pending:  # the whole chain: "During handling..." and "The above exception..."
        current = pending.pop()
        if id(current) in seen:
            continue
        seen.add(id(current))
        kept = [frame for frame in current.stack if frame.filename.startswith(CELL_PREFIX)]
        current.stack = traceback.StackSummary.from_list(kept)
        pending.extend(e for e in (current.__cause__, current.__context__) if e is not None)
    return "".join(summary.format()).rstrip()
