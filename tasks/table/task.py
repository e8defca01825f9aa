"""The table-QA task record: a question, the tables it is about, and its gold answer.

The record is plain data (TextWorld's separation of making a game from playing it): generators
and loaders fill it, the TableQA env plays it. ``to_dict`` / ``from_dict`` make it JSON-able, each
table as CSV text plus its column dtypes, so a task survives a round trip through a JSONL file
with its dates still dates. The gold ``answer`` is a Python value (number, str, bool, date,
None or a list); ``order_matters`` says whether a list answer must come in order.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import io
from dataclasses import dataclass, field
from typing import Any

import pandas as pd

from turngym.tasks.base import Task
from turngym.tasks.table.gold import format_answer

ANSWER_TYPES: tuple[str, ...] = ("number", "string", "bool", "date", "list", "none")


@dataclass
class TableTask(Task):
    """One question over named tables, with its gold answer and the programs that compute it."""

    question: str = ""
    answer: Any = None
    answer_type: str = "string"
    tables: dict[str, pd.DataFrame] = field(default_factory=dict)
    gold_sql: str | None = None
    gold_pandas: str | None = None
    template: str | None = None
    domain: str | None = None
    order_matters: bool = False

    @property
    def answer_text(self) -> str:
        """The gold answer as text, the way an oracle would answer."""
        return format_answer(self.answer)

    def table_hashes(self) -> dict[str, str]:
        """A content hash per table (its CSV text and dtypes): equal tables, equal hashes."""
        return {name: table_hash(df) for name, df in self.tables.items()}

    # -- serialisation ---------------------------------------------------------------------

    def to_dict(self) -> dict[str, Any]:
        """A JSON-able dict; :meth:`from_dict` gives back an equal task."""
        return {
            "id": self.id,
            "difficulty": self.difficulty,
            "split": self.split,
            "question": self.question,
            "answer": encode_answer(self.answer),
            "answer_type": self.answer_type,
            "order_matters": self.order_matters,
            "tables": {name: table_to_dict(df) for name, df in self.tables.items()},
            "gold_sql": self.gold_sql,
            "gold_pandas": self.gold_pandas,
            "template": self.template,
            "domain": self.domain,
            "meta": self.meta,
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> TableTask:
        return cls(
            id=data["id"],
            difficulty=data.get("difficulty", "easy"),
            split=data.get("split", "train"),
            meta=dict(data.get("meta") or {}),
            question=data["question"],
            answer=decode_answer(data.get("answer")),
            answer_type=data.get("answer_type", "string"),
            order_matters=bool(data.get("order_matters", False)),
            tables={name: table_from_dict(t) for name, t in data.get("tables", {}).items()},
            gold_sql=data.get("gold_sql"),
            gold_pandas=data.get("gold_pandas"),
            template=data.get("template"),
            domain=data.get("domain"),
        )


def answer_type_of(answer: Any) -> str:
    """The answer type name of a gold value."""
    if answer is None:
        return "none"
    if isinstance(answer, list):
        return "list"
    if isinstance(answer, bool):
        return "bool"
    if isinstance(answer, int | float):
        return "number"
    if isinstance(answer, dt.date):
        return "date"
    return "string"


# ---------------------------------------------------------------------------------------------
# JSON forms of answers and tables


def encode_answer(value: Any) -> Any:
    """Dates become ``{"date": iso}`` / ``{"datetime": iso}``; everything else is JSON already."""
    if isinstance(value, list):
        return [encode_answer(v) for v in value]
    if isinstance(value, dt.datetime):
        return {"datetime": value.isoformat()}
    if isinstance(value, dt.date):
        return {"date": value.isoformat()}
    return value


def decode_answer(value: Any) -> Any:
    if isinstance(value, list):
        return [decode_answer(v) for v in value]
    if isinstance(value, dict) and set(value) == {"date"}:
        return dt.date.fromisoformat(value["date"])
    if isinstance(value, dict) and set(value) == {"datetime"}:
        return dt.datetime.fromisoformat(value["datetime"])
    return value


def table_to_dict(df: pd.DataFrame) -> dict[str, Any]:
    """CSV text plus dtypes, so numbers stay numbers and dates stay dates."""
    return {"csv": df.to_csv(index=False), "dtypes": {str(c): str(t) for c, t in df.dtypes.items()}}


def table_from_dict(data: dict[str, Any]) -> pd.DataFrame:
    dtypes: dict[str, str] = data.get("dtypes") or {}
    dates = [c for c, t in dtypes.items() if t.startswith("datetime64")]
    others = {c: t for c, t in dtypes.items() if c not in dates}
    df = pd.read_csv(
        io.StringIO(data["csv"]),
        dtype=others or None,
        parse_dates=dates or False,
        keep_default_na=False,
        na_values=[""],
    )
    for c in dates:  # CSV round trips lose the resolution: restore the one recorded
        df[c] = df[c].astype(dtypes[c])
    return df


def table_hash(df: pd.DataFrame) -> str:
    """A short content hash of a table."""
    payload = df.to_csv(index=False) + repr(list(df.dtypes.astype(str)))
    return hashlib.sha256(payload.encode()).hexdigest()[:16]
