"""Gold answers of table tasks, computed two ways: pandas code and duckdb SQL over the same tables.

A generated task is kept only when both ways agree under the answer verifier
(:func:`turngym.rewards.answer.verify_answer`), so a slip in one formulation of a template — a
NULL counted in SQL and skipped in pandas, a tie broken differently — is caught before an agent
is ever scored against it. Loaders use the same functions to compute answers from a dataset's SQL.

Conventions: ``gold_pandas`` is Python source run with ``pd``, ``np`` and every table bound by its
name as a DataFrame, and must assign the result to ``answer``. ``gold_sql`` is one duckdb query in
which every table is a view of the same name. A list answer is the query's first column; any other
answer is its single value.
"""

from __future__ import annotations

import datetime as dt
import decimal
import math
import threading
from collections.abc import Mapping
from typing import Any

import duckdb
import numpy as np
import pandas as pd

from turngym.rewards.answer import verify_answer


class GoldError(ValueError):
    """A gold program failed or returned something that is not an answer."""


def to_python(value: Any) -> Any:
    """A result as a plain Python answer: numbers, str, bool, date/datetime, None, or a list."""
    if isinstance(value, pd.DataFrame):
        if value.shape[1] != 1:
            raise GoldError(f"an answer must be one value or one column, got a {value.shape} frame")
        value = value.iloc[:, 0]
    if isinstance(value, pd.Series | pd.Index | np.ndarray | list | tuple):
        return [to_python(v) for v in list(value)]
    if value is None or value is pd.NaT or value is pd.NA:
        return None
    if isinstance(value, np.datetime64):
        value = pd.Timestamp(value)
    if isinstance(value, dt.datetime):
        stamp = pd.Timestamp(value)
        if pd.isna(stamp):
            return None
        return stamp.date() if stamp == stamp.normalize() else stamp.to_pydatetime().replace(tzinfo=None)
    if isinstance(value, np.generic):
        value = value.item()
    if isinstance(value, float) and math.isnan(value):
        return None
    if isinstance(value, int | float | str | bool | dt.date):
        return value
    if isinstance(value, decimal.Decimal):
        return float(value)
    raise GoldError(f"unsupported answer type {type(value).__name__}: {value!r}")


def format_answer(value: Any) -> str:
    """The canonical text of an answer (what an oracle would write): ISO dates, '; '-joined lists."""
    if isinstance(value, list):
        return "; ".join(format_answer(v) for v in value)
    if value is None:
        return "None"
    if isinstance(value, dt.datetime):
        return value.isoformat(sep=" ")
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, float) and value.is_integer() and abs(value) < 1e15:
        return str(int(value))
    return str(value)


def run_pandas(code: str, tables: Mapping[str, pd.DataFrame]) -> Any:
    """Run gold pandas source with the tables bound by name; the value it assigns to ``answer``."""
    namespace: dict[str, Any] = {"pd": pd, "np": np}
    namespace.update({name: df.copy(deep=False) for name, df in tables.items()})
    try:
        exec(compile(code, "<gold_pandas>", "exec"), namespace)  # noqa: S102 - our own gold programs
    except Exception as exc:
        raise GoldError(f"gold pandas code failed: {type(exc).__name__}: {exc}\n{code}") from exc
    if "answer" not in namespace:
        raise GoldError(f"gold pandas code must assign `answer`:\n{code}")
    return to_python(namespace["answer"])


_local = threading.local()


def _connection() -> duckdb.DuckDBPyConnection:
    """One duckdb connection per thread: opening one costs milliseconds, and they are not thread-safe."""
    con = getattr(_local, "con", None)
    if con is None:
        con = _local.con = duckdb.connect()
    return con


def run_sql(sql: str, tables: Mapping[str, pd.DataFrame], *, as_list: bool) -> Any:
    """Run gold SQL with every table registered as a view; a list answer is the first column."""
    con = _connection()
    for name, df in tables.items():
        con.register(name, df)
    try:
        rows = con.execute(sql).fetchall()
    except duckdb.Error as exc:
        raise GoldError(f"gold SQL failed: {exc}\n{sql}") from exc
    finally:
        for name in tables:
            con.unregister(name)
    if as_list:
        return [to_python(row[0]) for row in rows]
    if len(rows) != 1 or len(rows[0]) != 1:
        raise GoldError(f"gold SQL must return one value, got {len(rows)} rows: {rows[:3]}\n{sql}")
    return to_python(rows[0][0])


def answers_agree(a: Any, b: Any, *, order_matters: bool = False) -> bool:
    """Whether two computed answers are the same answer, by the verifier, in both directions."""
    return verify_answer(format_answer(a), b, order_matters=order_matters) and verify_answer(
        format_answer(b), a, order_matters=order_matters
    )
