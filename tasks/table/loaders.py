"""Table-QA datasets as :class:`~turngym.tasks.base.DatasetSource` s of :class:`TableTask` s.

Every loader reads files already on disk (nothing is downloaded) and either takes each gold answer
from the file or computes it by running the dataset's query with duckdb / sqlite. Malformed records
raise :class:`DatasetFormatError` naming the file, the line (or record) and what is wrong.
Table names become Python and SQL identifiers (the env binds each table to its name), so a name
that is not one is rejected, and a loader that names tables itself uses ``t`` or the source name.

turngym JSONL (``format="turngym"``), one task per line::

    {"id": "q1", "question": "Which city is largest?", "answer": "Lagos",
     "difficulty": "easy", "split": "test",                      # optional (easy, train)
     "tables": {"cities": "tables/cities.csv",                   # a CSV path, relative to the jsonl
                "notes": "name,value\\na,1\\nb,2\\n"},           # or inline CSV text (has a newline)
     "gold_sql": "SELECT ...", "order_matters": false}           # optional

``answer`` may be omitted when ``gold_sql`` is given: it is then computed with duckdb over the
tables. A table may also be the ``{"csv", "dtypes"}`` object :meth:`TableTask.to_dict` writes, so
``json.dumps(task.to_dict())`` lines load back unchanged (dates become ``{"date": "2023-01-05"}``).

The other formats are documented on their loaders: :func:`load_wikitq`, :func:`load_wikisql`,
:func:`load_tablebench`, :func:`load_spider`. :func:`load_tasks` picks one from the path.
"""

from __future__ import annotations

import io
import json
import keyword
import logging
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pandas as pd

from turngym.tasks.base import DIFFICULTIES, SPLITS, DatasetSource
from turngym.tasks.table.gold import GoldError, run_sql
from turngym.tasks.table.task import TableTask, answer_type_of, decode_answer, table_from_dict

log = logging.getLogger(__name__)

FORMATS: tuple[str, ...] = ("auto", "turngym", "wikitq", "wikisql", "tablebench", "spider")


class DatasetFormatError(ValueError):
    """A record does not have the shape its dataset format promises."""


# ---------------------------------------------------------------------------------------------
# Shared reading helpers


def read_jsonl(path: Path) -> Iterator[tuple[int, dict[str, Any]]]:
    """(line number, record) for each non-blank line; a clear error for a line that is not a JSON object."""
    with path.open(encoding="utf-8") as lines:
        for n, line in enumerate(lines, 1):
            if not line.strip():
                continue
            try:
                record = json.loads(line)
            except json.JSONDecodeError as exc:
                raise DatasetFormatError(f"{path}:{n}: not valid JSON ({exc.msg} at column {exc.colno})") from exc
            if not isinstance(record, dict):
                raise DatasetFormatError(f"{path}:{n}: expected a JSON object, got {type(record).__name__}")
            yield n, record


def require(record: dict[str, Any], key: str, kind: type | tuple[type, ...], where: str) -> Any:
    """``record[key]``, or an error naming the missing or mistyped field."""
    if key not in record:
        raise DatasetFormatError(f"{where}: missing field {key!r} (fields present: {sorted(record)})")
    value = record[key]
    if not isinstance(value, kind):
        names = kind.__name__ if isinstance(kind, type) else " or ".join(k.__name__ for k in kind)
        raise DatasetFormatError(f"{where}: field {key!r} must be {names}, got {type(value).__name__}: {value!r:.80}")
    return value


def check_table_name(name: str, where: str) -> str:
    if not name.isidentifier() or keyword.iskeyword(name):
        raise DatasetFormatError(f"{where}: table name {name!r} is not a valid identifier (letters, digits, _)")
    return name


def read_csv_text(text: str, where: str) -> pd.DataFrame:
    try:
        return pd.read_csv(io.StringIO(text))
    except (pd.errors.ParserError, pd.errors.EmptyDataError, UnicodeDecodeError) as exc:
        raise DatasetFormatError(f"{where}: unreadable CSV: {exc}") from exc


def clean_columns(df: pd.DataFrame) -> pd.DataFrame:
    """Column names as strings, blank ones named ``col_<i>`` and repeats numbered, so SQL can name them."""
    names: list[str] = []
    for i, col in enumerate(df.columns):
        name = str(col).strip() or f"col_{i}"
        base, k = name, 2
        while name in names:
            name, k = f"{base}_{k}", k + 1
        names.append(name)
    df = df.copy()
    df.columns = names
    return df


def _choice(value: Any, allowed: tuple[str, ...], field: str, where: str) -> str:
    if value not in allowed:
        raise DatasetFormatError(f"{where}: {field} must be one of {list(allowed)}, got {value!r}")
    return value


def computed_answer(sql: str, tables: dict[str, pd.DataFrame], where: str) -> Any:
    """The answer a gold query gives: its single value, or its first column when it returns several rows."""
    try:
        values = run_sql(sql, tables, as_list=True)
    except GoldError as exc:
        raise DatasetFormatError(f"{where}: {exc}") from exc
    return values[0] if len(values) == 1 else values


# ---------------------------------------------------------------------------------------------
# turngym JSONL


def load_turngym_jsonl(path: str | Path) -> DatasetSource[TableTask]:
    """Tasks from a turngym JSONL file (format in the module docstring)."""
    path = Path(path)
    tasks = []
    for n, record in read_jsonl(path):
        where = f"{path}:{n}"
        task_id = require(record, "id", (str, int), where)
        question = require(record, "question", str, where)
        tables_spec = require(record, "tables", dict, where)
        if not tables_spec:
            raise DatasetFormatError(f"{where}: 'tables' is empty")
        tables = {check_table_name(name, where): _turngym_table(spec, path.parent, f"{where}: table {name!r}")
                  for name, spec in tables_spec.items()}  # fmt: skip
        gold_sql = record.get("gold_sql")
        if "answer" in record:
            answer = decode_answer(record["answer"])
        elif isinstance(gold_sql, str):
            answer = computed_answer(gold_sql, tables, where)
        else:
            raise DatasetFormatError(f"{where}: needs an 'answer', or a 'gold_sql' to compute it from")
        tasks.append(
            TableTask(
                id=str(task_id),
                difficulty=_choice(record.get("difficulty", "easy"), DIFFICULTIES, "difficulty", where),
                split=_choice(record.get("split", "train"), SPLITS, "split", where),
                meta=dict(record.get("meta") or {}),
                question=question,
                answer=answer,
                answer_type=record.get("answer_type") or answer_type_of(answer),
                tables=tables,
                gold_sql=gold_sql,
                gold_pandas=record.get("gold_pandas"),
                template=record.get("template"),
                domain=record.get("domain"),
                order_matters=bool(record.get("order_matters", False)),
            )
        )
    return _dataset(tasks, path)


def _turngym_table(spec: Any, root: Path, where: str) -> pd.DataFrame:
    if isinstance(spec, dict):
        if "csv" not in spec:
            raise DatasetFormatError(f"{where}: a table object needs a 'csv' field")
        return table_from_dict(spec)
    if not isinstance(spec, str):
        raise DatasetFormatError(f"{where}: must be a CSV path, CSV text or a {{csv, dtypes}} object")
    if "\n" in spec:
        return read_csv_text(spec, where)
    file = root / spec
    if not file.is_file():
        raise DatasetFormatError(f"{where}: CSV file {file} does not exist")
    return read_csv_text(file.read_text(encoding="utf-8"), f"{where} ({file})")


def _dataset(tasks: list[TableTask], source: Path) -> DatasetSource[TableTask]:
    if not tasks:
        raise DatasetFormatError(f"{source}: no tasks found")
    ids = [t.id for t in tasks]
    if len(set(ids)) != len(ids):
        dup = sorted({i for i in ids if ids.count(i) > 1})
        raise DatasetFormatError(f"{source}: task ids must be unique, repeated: {dup[:5]}")
    log.info("loaded %d table tasks from %s", len(tasks), source)
    return DatasetSource(tasks)


# ---------------------------------------------------------------------------------------------
# Dispatch


def detect_format(path: Path) -> str:
    """The format of a file or directory, from its layout and first record."""
    if path.is_dir():
        if (path / "database").is_dir():
            return "spider"
        raise DatasetFormatError(f"{path}: cannot tell the format of this directory; pass format=")
    if path.suffix in (".tsv", ".examples"):
        return "wikitq"
    first = next(read_jsonl(path), None)
    if first is None:
        raise DatasetFormatError(f"{path}: empty file")
    n, record = first
    if "tables" in record:
        return "turngym"
    if "table_id" in record and "sql" in record:
        return "wikisql"
    if "qtype" in record or ("table" in record and ("instruction" in record or "question" in record)):
        return "tablebench"
    raise DatasetFormatError(f"{path}:{n}: cannot tell the format from fields {sorted(record)}; pass format=")


def load_tasks(path_or_dir: str | Path, format: str = "auto", **kwargs: Any) -> DatasetSource[TableTask]:
    """Load a table-QA dataset; ``format`` is one of :data:`FORMATS` ("auto" guesses from the path)."""
    path = Path(path_or_dir)
    if not path.exists():
        raise FileNotFoundError(f"no such dataset file or directory: {path}")
    _choice(format, FORMATS, "format", str(path))
    if format == "auto":
        format = detect_format(path)
    loaders = {"turngym": load_turngym_jsonl}
    if format not in loaders:
        raise DatasetFormatError(f"{path}: the {format!r} loader is not available yet")
    return loaders[format](path, **kwargs)
