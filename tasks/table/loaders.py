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
import re
import sqlite3
from contextlib import closing
from pathlib import Path
from typing import Any

import pandas as pd

from turngym.tasks.base import DIFFICULTIES, SPLITS, DatasetFormatError, DatasetSource, read_jsonl
from turngym.tasks.table.gold import GoldError, run_sql
from turngym.tasks.table.task import TableTask, answer_type_of, decode_answer, table_from_dict

log = logging.getLogger(__name__)

FORMATS: tuple[str, ...] = ("auto", "turngym", "wikitq", "wikisql", "tablebench", "spider")


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
# WikiTableQuestions


def _unescape_wtq(value: str) -> str:
    r"""WikiTableQuestions' TSV escapes: ``\n`` newline, ``\p`` pipe, ``\\`` backslash."""
    out, i = [], 0
    while i < len(value):
        if value[i] == "\\" and i + 1 < len(value):
            out.append({"n": "\n", "p": "|", "\\": "\\"}.get(value[i + 1], value[i : i + 2]))
            i += 2
        else:
            out.append(value[i])
            i += 1
    return "".join(out)


def load_wikitq(
    path: str | Path, *, root: str | Path | None = None, split: str | None = None, difficulty: str = "medium"
) -> DatasetSource[TableTask]:
    """WikiTableQuestions: a TSV of ``id, utterance, context, targetValue``.

    ``context`` is a CSV path such as ``csv/204-csv/590.csv`` relative to the dataset root
    (``root``; by default the TSV's folder or its parent, whichever holds it). ``targetValue``
    holds one value or several separated by ``|`` (a list answer, order not checked); answers stay
    text, which the verifier reads as numbers or dates where they are. The table is named ``t``.
    The split is "train" for a file whose name mentions training, else "test".
    """
    path = Path(path)
    split = split or ("train" if "train" in path.name else "test")
    _choice(split, SPLITS, "split", str(path))
    roots = [Path(root)] if root is not None else [path.parent, path.parent.parent]
    cache: dict[str, pd.DataFrame] = {}
    tasks = []
    with path.open(encoding="utf-8") as lines:
        header = lines.readline().rstrip("\n").split("\t")
        missing = {"id", "utterance", "context", "targetValue"} - set(header)
        if missing:
            raise DatasetFormatError(f"{path}:1: header lacks columns {sorted(missing)} (has {header})")
        for n, line in enumerate(lines, 2):
            if not line.strip():
                continue
            cells = line.rstrip("\n").split("\t")
            if len(cells) != len(header):
                raise DatasetFormatError(f"{path}:{n}: expected {len(header)} tab-separated fields, got {len(cells)}")
            row = dict(zip(header, cells))
            where = f"{path}:{n}"
            if row["context"] not in cache:
                cache[row["context"]] = _wtq_table(row["context"], roots, where)
            targets = [_unescape_wtq(v) for v in row["targetValue"].split("|")]
            tasks.append(
                TableTask(
                    id=f"wtq-{row['id']}",
                    difficulty=difficulty,
                    split=split,
                    meta={"source": "wikitq", "context": row["context"]},
                    question=_unescape_wtq(row["utterance"]),
                    answer=targets[0] if len(targets) == 1 else targets,
                    answer_type="list" if len(targets) > 1 else "string",
                    tables={"t": cache[row["context"]]},
                )
            )
    return _dataset(tasks, path)


def _wtq_table(context: str, roots: list[Path], where: str) -> pd.DataFrame:
    for root in roots:
        file = root / context
        if file.is_file():
            return clean_columns(read_csv_text(file.read_text(encoding="utf-8"), f"{where} ({file})"))
    raise DatasetFormatError(f"{where}: table {context!r} not found under {[str(r) for r in roots]}")


# ---------------------------------------------------------------------------------------------
# WikiSQL

WIKISQL_AGG_OPS: tuple[str, ...] = ("", "MAX", "MIN", "COUNT", "SUM", "AVG")
WIKISQL_COND_OPS: tuple[str, ...] = ("=", ">", "<", "OP")


def _sql_name(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def _sql_text(value: str) -> str:
    return "'" + value.replace("'", "''") + "'"


def load_wikisql(
    path: str | Path,
    tables_path: str | Path | None = None,
    *,
    split: str | None = None,
    difficulty: str = "easy",
) -> DatasetSource[TableTask]:
    """WikiSQL: questions JSONL (``question, table_id, sql {sel, agg, conds}``) + tables JSONL.

    The tables file (default: ``<name>.tables.jsonl`` beside the questions) holds ``{id, header,
    types, rows}``. The answer is computed by running the structured query with duckdb over the
    table, named ``t``, the way WikiSQL's own executor does: text conditions compare
    case-insensitively, conditions on ``real`` columns compare numbers. Aggregations are
    :data:`WIKISQL_AGG_OPS`, condition operators :data:`WIKISQL_COND_OPS` (``OP`` is a placeholder
    no query uses: it is an error). A query returning several rows gives a list answer.
    """
    path = Path(path)
    tables_path = (
        Path(tables_path) if tables_path else path.with_name(path.name.replace(".jsonl", "") + ".tables.jsonl")
    )
    if not tables_path.is_file():
        raise DatasetFormatError(f"{path}: WikiSQL tables file {tables_path} does not exist (pass tables_path=)")
    split = split or ("train" if "train" in path.name else "test")
    _choice(split, SPLITS, "split", str(path))
    raw_tables = {}
    for n, record in read_jsonl(tables_path):
        where = f"{tables_path}:{n}"
        raw_tables[str(require(record, "id", str, where))] = (record, where)
    built: dict[str, tuple[pd.DataFrame, list[str], list[str]]] = {}
    tasks = []
    for n, record in read_jsonl(path):
        where = f"{path}:{n}"
        table_id = require(record, "table_id", str, where)
        if table_id not in raw_tables:
            raise DatasetFormatError(f"{where}: table_id {table_id!r} is not in {tables_path}")
        if table_id not in built:
            built[table_id] = _wikisql_table(*raw_tables[table_id])
        df, columns, types = built[table_id]
        sql = _wikisql_query(require(record, "sql", dict, where), columns, types, where)
        values = computed_answer(sql, {"t": df}, where)
        tasks.append(
            TableTask(
                id=f"wikisql-{n}-{table_id}",
                difficulty=difficulty,
                split=split,
                meta={"source": "wikisql", "table_id": table_id},
                question=require(record, "question", str, where),
                answer=values,
                answer_type=answer_type_of(values),
                tables={"t": df},
                gold_sql=sql,
            )
        )
    return _dataset(tasks, path)


def _wikisql_table(record: dict[str, Any], where: str) -> tuple[pd.DataFrame, list[str], list[str]]:
    header = require(record, "header", list, where)
    rows = require(record, "rows", list, where)
    types = record.get("types") or ["text"] * len(header)
    if len(types) != len(header) or any(len(r) != len(header) for r in rows):
        raise DatasetFormatError(f"{where}: header, types and every row must have the same length")
    df = clean_columns(pd.DataFrame(rows, columns=[str(h) for h in header]))
    for col, kind in zip(df.columns, types):
        if kind == "real":
            df[col] = pd.to_numeric(df[col], errors="coerce")
        else:
            df[col] = df[col].astype(str)
    return df, list(df.columns), list(types)


def _wikisql_query(sql: dict[str, Any], columns: list[str], types: list[str], where: str) -> str:
    """The duckdb SQL of a WikiSQL structured query."""
    sel, agg, conds = sql.get("sel"), sql.get("agg", 0), sql.get("conds", [])
    if not isinstance(sel, int) or not 0 <= sel < len(columns):
        raise DatasetFormatError(f"{where}: sql.sel must index one of {len(columns)} columns, got {sel!r}")
    if not isinstance(agg, int) or not 0 <= agg < len(WIKISQL_AGG_OPS):
        raise DatasetFormatError(f"{where}: sql.agg must index {list(WIKISQL_AGG_OPS)}, got {agg!r}")
    target = _sql_name(columns[sel])
    select = f"{WIKISQL_AGG_OPS[agg]}({target})" if agg else target
    clauses = []
    for cond in conds:
        if not (isinstance(cond, list) and len(cond) == 3):
            raise DatasetFormatError(f"{where}: a condition must be [column, op, value], got {cond!r}")
        col, op, value = cond
        if not isinstance(col, int) or not 0 <= col < len(columns):
            raise DatasetFormatError(f"{where}: condition column {col!r} is out of range")
        if not isinstance(op, int) or not 0 <= op < 3:
            raise DatasetFormatError(f"{where}: condition operator {op!r} must index {list(WIKISQL_COND_OPS[:3])}")
        name = _sql_name(columns[col])
        if types[col] == "real":
            try:
                number = float(str(value).replace(",", ""))
            except ValueError as exc:
                raise DatasetFormatError(
                    f"{where}: {value!r} is not a number for real column {columns[col]!r}"
                ) from exc
            clauses.append(f"{name} {WIKISQL_COND_OPS[op]} {number!r}")
        else:
            clauses.append(f"lower({name}) {WIKISQL_COND_OPS[op]} lower({_sql_text(str(value))})")
    return f"SELECT {select} FROM t" + (" WHERE " + " AND ".join(clauses) if clauses else "")


# ---------------------------------------------------------------------------------------------
# TableBench

TABLEBENCH_DIFFICULTY = {"FactChecking": "easy", "NumericalReasoning": "medium", "DataAnalysis": "hard"}


def load_tablebench(path: str | Path, *, split: str = "test") -> DatasetSource[TableTask]:
    """TableBench JSONL: ``id, qtype, qsubtype, question`` (or ``instruction``), ``table``, ``answer``.

    ``table`` is ``{"columns": [...], "data": [[...]]}``, as an object or a JSON string; it is
    named ``t``. The short ``question`` is preferred over the full prompt in ``instruction``.
    Difficulty follows the question type (:data:`TABLEBENCH_DIFFICULTY`; other types: medium).
    Visualization questions, whose answers are charts, are skipped. Answers stay text.
    """
    path = Path(path)
    tasks, skipped = [], 0
    for n, record in read_jsonl(path):
        where = f"{path}:{n}"
        qtype = record.get("qtype", "")
        if qtype == "Visualization":
            skipped += 1
            continue
        question = record.get("question") or record.get("instruction")
        if not isinstance(question, str) or not question.strip():
            raise DatasetFormatError(f"{where}: needs a non-empty 'question' or 'instruction'")
        table = require(record, "table", (dict, str), where)
        if isinstance(table, str):
            try:
                table = json.loads(table)
            except json.JSONDecodeError as exc:
                raise DatasetFormatError(f"{where}: 'table' is a string but not JSON: {exc.msg}") from exc
        if (
            not isinstance(table, dict)
            or not isinstance(table.get("columns"), list)
            or not isinstance(table.get("data"), list)
        ):
            raise DatasetFormatError(f"{where}: 'table' must be {{'columns': [...], 'data': [[...]]}}")
        try:
            df = clean_columns(pd.DataFrame(table["data"], columns=table["columns"]))
        except ValueError as exc:
            raise DatasetFormatError(f"{where}: table rows do not fit its columns: {exc}") from exc
        answer = require(record, "answer", (str, int, float, bool, list), where)
        tasks.append(
            TableTask(
                id=f"tablebench-{require(record, 'id', (str, int), where)}",
                difficulty=TABLEBENCH_DIFFICULTY.get(qtype, "medium"),
                split=split,
                meta={"source": "tablebench", "qtype": qtype, "qsubtype": record.get("qsubtype")},
                question=question,
                answer=answer,
                answer_type=answer_type_of(answer),
                tables={"t": df.infer_objects()},
            )
        )
    if skipped:
        log.info("%s: skipped %d visualization questions", path, skipped)
    return _dataset(tasks, path)


# ---------------------------------------------------------------------------------------------
# Spider-style SQLite directories

_ORDER_BY_RE = re.compile(r"\border\s+by\b", re.IGNORECASE)
_HARD_SQL_RE = re.compile(r"\b(join|intersect|union|except)\b|\(\s*select\b", re.IGNORECASE)
_MEDIUM_SQL_RE = re.compile(r"\b(group\s+by|order\s+by|having|limit)\b", re.IGNORECASE)


def sql_difficulty(query: str) -> str:
    """A rough difficulty from a query's shape: joins, set operations or nesting are hard."""
    if _HARD_SQL_RE.search(query):
        return "hard"
    if _MEDIUM_SQL_RE.search(query):
        return "medium"
    return "easy"


def load_spider(
    root: str | Path,
    questions: str | Path | None = None,
    *,
    split: str | None = None,
    multi_column: str = "skip",
) -> DatasetSource[TableTask]:
    """A Spider-style directory: ``database/<db_id>/<db_id>.sqlite`` and a questions JSON.

    ``questions`` (default: ``dev.json``, else the only ``*.json`` in ``root``) is a JSON list (or
    JSONL) of ``{db_id, question, query}``. Every table of the database becomes a DataFrame under
    its own name, and the answer is the result of ``query`` run by sqlite on the database itself
    (Spider's SQL is SQLite's dialect; ``meta["sql_dialect"]`` says so): one value, or the first
    column as a list, ordered when the query has ORDER BY. Queries returning several columns are
    skipped, or with ``multi_column="flatten"`` give every cell row by row. Difficulty is
    :func:`sql_difficulty`.
    """
    root = Path(root)
    _choice(multi_column, ("skip", "flatten"), "multi_column", str(root))
    qfile = _spider_questions_file(root, questions)
    split = split or ("train" if "train" in qfile.name else "test")
    _choice(split, SPLITS, "split", str(qfile))
    records = _read_json_records(qfile)
    databases: dict[str, dict[str, pd.DataFrame]] = {}
    tasks, skipped = [], 0
    for i, record in enumerate(records):
        where = f"{qfile}: record {i}"
        db_id = require(record, "db_id", str, where)
        query = require(record, "query", str, where)
        db_file = root / "database" / db_id / f"{db_id}.sqlite"
        if not db_file.is_file():
            raise DatasetFormatError(f"{where}: database file {db_file} does not exist")
        if db_id not in databases:
            databases[db_id] = _sqlite_tables(db_file, where)
        columns, rows = _run_sqlite(db_file, query, where)
        if len(columns) > 1 and multi_column == "skip":
            skipped += 1
            continue
        values = [v for row in rows for v in row]
        answer: Any = values[0] if len(values) == 1 else values
        tasks.append(
            TableTask(
                id=f"spider-{db_id}-{i}",
                difficulty=sql_difficulty(query),
                split=split,
                meta={"source": "spider", "db_id": db_id, "sql_dialect": "sqlite"},
                question=require(record, "question", str, where),
                answer=answer,
                answer_type=answer_type_of(answer),
                tables=databases[db_id],
                gold_sql=query,
                order_matters=isinstance(answer, list) and bool(_ORDER_BY_RE.search(query)),
            )
        )
    if skipped:
        log.info("%s: skipped %d queries that return several columns", qfile, skipped)
    return _dataset(tasks, qfile)


def _spider_questions_file(root: Path, questions: str | Path | None) -> Path:
    if questions is not None:
        file = Path(questions) if Path(questions).is_absolute() else root / questions
        if not file.is_file():
            raise DatasetFormatError(f"{root}: questions file {file} does not exist")
        return file
    if (root / "dev.json").is_file():
        return root / "dev.json"
    candidates = sorted(root.glob("*.json"))
    if len(candidates) != 1:
        raise DatasetFormatError(f"{root}: pass questions=, found {[c.name for c in candidates]}")
    return candidates[0]


def _read_json_records(path: Path) -> list[dict[str, Any]]:
    text = path.read_text(encoding="utf-8")
    if text.lstrip().startswith("["):
        try:
            records = json.loads(text)
        except json.JSONDecodeError as exc:
            raise DatasetFormatError(f"{path}:{exc.lineno}: not valid JSON ({exc.msg})") from exc
        for i, record in enumerate(records):
            if not isinstance(record, dict):
                raise DatasetFormatError(f"{path}: record {i} is not a JSON object")
        return records
    return [record for _, record in read_jsonl(path)]


def _sqlite_tables(db_file: Path, where: str) -> dict[str, pd.DataFrame]:
    """Every table of a SQLite database as a DataFrame, by table name."""
    with closing(sqlite3.connect(f"file:{db_file}?mode=ro", uri=True)) as con:
        names = [r[0] for r in con.execute("SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name")]
        names = [n for n in names if not n.startswith("sqlite_")]
        tables = {}
        for name in names:
            check_table_name(name, f"{where} ({db_file})")
            tables[name] = pd.read_sql_query(f"SELECT * FROM {_sql_name(name)}", con)
    if not tables:
        raise DatasetFormatError(f"{where}: database {db_file} has no tables")
    return tables


def _run_sqlite(db_file: Path, query: str, where: str) -> tuple[list[str], list[tuple[Any, ...]]]:
    with closing(sqlite3.connect(f"file:{db_file}?mode=ro", uri=True)) as con:
        try:
            cursor = con.execute(query)
        except sqlite3.Error as exc:
            raise DatasetFormatError(f"{where}: gold query failed on {db_file.name}: {exc}\n{query}") from exc
        return [d[0] for d in cursor.description or []], cursor.fetchall()


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
    loaders = {
        "turngym": load_turngym_jsonl,
        "wikitq": load_wikitq,
        "wikisql": load_wikisql,
        "tablebench": load_tablebench,
        "spider": load_spider,
    }
    return loaders[format](path, **kwargs)
