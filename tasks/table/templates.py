"""Question templates: each turns a :class:`TableSet` into a question, its SQL and its pandas code.

A template reads column roles (see :mod:`turngym.tasks.table.domains`), so one template serves
every domain. It picks its parameters (a column, a category value, a threshold) from the data
with the given rng and returns a :class:`Question`, or None when the tables offer nothing it can
ask (no unique name to look up, no missing values to count...). It writes the same computation
twice, as duckdb SQL and as pandas, and the generator keeps the question only if both agree.

Questions stay well-defined: "which ... the highest" asks for *all* tied rows, rankings say how ties
rank, ordered lists say how ties are broken, and missing values are ignored by every aggregate
(and said so when a column has any).

Difficulties: easy — lookups, counts, max/min on one table; medium — filters with aggregates,
group-by, top-k, ranks, date filters; hard — joins, multi-step questions, date arithmetic,
percentage change, ties.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from turngym.tasks.table.domains import Column, Link, TableSchema, TableSet


@dataclass(frozen=True)
class Question:
    """What a template produces; the generator computes the answer from ``sql`` and ``pandas``."""

    text: str
    sql: str
    pandas: str
    answer_type: str  # number | string | bool | date | list
    order_matters: bool = False


TemplateFn = Callable[[np.random.Generator, TableSet], "Question | None"]


@dataclass(frozen=True)
class Template:
    """A named question template at one difficulty."""

    name: str
    difficulty: str
    fn: TemplateFn

    def __call__(self, rng: np.random.Generator, tables: TableSet) -> Question | None:
        return self.fn(rng, tables)


TEMPLATES: dict[str, Template] = {}


def template(difficulty: str) -> Callable[[TemplateFn], TemplateFn]:
    """Register a template function under its own name."""

    def register(fn: TemplateFn) -> TemplateFn:
        TEMPLATES[fn.__name__] = Template(fn.__name__, difficulty, fn)
        return fn

    return register


# ---------------------------------------------------------------------------------------------
# Literals and small helpers


def sql_lit(value: Any) -> str:
    """A SQL literal for a value drawn from a table."""
    if isinstance(value, str):
        return "'" + value.replace("'", "''") + "'"
    if isinstance(value, pd.Timestamp | dt.date):
        return f"DATE '{pd.Timestamp(value).date().isoformat()}'"
    return repr(_plain(value))


def py_lit(value: Any) -> str:
    """A Python literal for the same value."""
    if isinstance(value, pd.Timestamp | dt.date):
        return f"pd.Timestamp({pd.Timestamp(value).date().isoformat()!r})"
    return repr(_plain(value))


def say(value: Any) -> str:
    """How a question writes a value."""
    if isinstance(value, pd.Timestamp | dt.date):
        return pd.Timestamp(value).date().isoformat()
    value = _plain(value)
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def _plain(value: Any) -> Any:
    return value.item() if isinstance(value, np.generic) else value


def nice(x: float) -> float:
    """A round threshold near ``x``: two significant digits, an integer when large."""
    if x == 0 or not np.isfinite(x):
        return 0.0
    digits = 1 - int(np.floor(np.log10(abs(x))))
    rounded = round(float(x), digits)
    return float(int(rounded)) if abs(rounded) >= 10 else rounded


def month_name(month: str) -> str:
    """``"2023-04"`` → ``"April 2023"``."""
    return pd.Timestamp(month + "-01").strftime("%B %Y")


def pick(rng: np.random.Generator, items: Sequence[Any]) -> Any:
    return items[int(rng.integers(len(items)))]


def missing_note(df: pd.DataFrame, column: str) -> str:
    """Say how missing values count, when the column has any."""
    return " Ignore missing values." if df[column].isna().any() else ""


def _measures(schema: TableSchema, df: pd.DataFrame, min_values: int = 2, additive: bool = False) -> list[Column]:
    """Measure columns with at least ``min_values`` values; only those one may sum, if ``additive``."""
    return [c for c in schema.of("measure") if df[c.name].notna().sum() >= min_values and (c.additive or not additive)]


def _categories(schema: TableSchema, df: pd.DataFrame) -> list[Column]:
    """Category columns with at least two distinct values (keys of linked tables count)."""
    return [c for c in schema.of("category") if df[c.name].nunique() >= 2]


def _unique_idents(schema: TableSchema, df: pd.DataFrame) -> list[Any]:
    """Ident values that name exactly one row (duplicate names cannot be looked up)."""
    ident = schema.ident
    if ident is None:
        return []
    counts = df[ident.name].value_counts()
    return sorted(counts.index[counts == 1])


@dataclass(frozen=True)
class _View:
    """One table as a template sees it."""

    name: str
    schema: TableSchema
    df: pd.DataFrame


def choose_table(
    rng: np.random.Generator, tables: TableSet, usable: Callable[[_View], bool], main_weight: float = 0.75
) -> _View | None:
    """The main table most of the time, another usable table otherwise; None when none is usable."""
    views = [_View(n, tables.schemas[n], df) for n, df in tables.tables.items()]
    views = [v for v in views if usable(v)]
    if not views:
        return None
    main = [v for v in views if v.name == tables.main]
    others = [v for v in views if v.name != tables.main]
    if main and (not others or rng.random() < main_weight):
        return main[0]
    return pick(rng, others)


def _has(
    *,
    measure: int = 0,
    additive: int = 0,
    category: int = 0,
    ident: bool = False,
    date: bool = False,
    unique: bool = False,
):
    """A table filter: at least so many usable (additive) measures and categories, an ident, a date column."""

    def usable(v: _View) -> bool:
        return (
            len(_measures(v.schema, v.df)) >= measure
            and len(_measures(v.schema, v.df, additive=True)) >= additive
            and len(_categories(v.schema, v.df)) >= category
            and (not ident or v.schema.ident is not None)
            and (not unique or bool(_unique_idents(v.schema, v.df)))
            and (not date or v.schema.date is not None)
        )

    return usable


def _who(schema: TableSchema, value: Any) -> str:
    """How a question names one row: "employee Ann Lee", "the order with order ID O-10231"."""
    ident = schema.ident
    assert ident is not None
    if ident.role == "entity" or ident.label == schema.noun:
        return f"{schema.noun} {say(value)}"
    return f"the {schema.noun} with {ident.label} {say(value)}"


def _ident_label(schema: TableSchema) -> str:
    ident = schema.ident
    assert ident is not None
    return "name" if ident.role == "entity" else ident.label


def _threshold(rng: np.random.Generator, series: pd.Series) -> float:
    """A round threshold between the 20th and 80th percentiles of a column."""
    return nice(float(series.dropna().quantile(rng.uniform(0.2, 0.8))))


# ---------------------------------------------------------------------------------------------
# Easy: lookups, counts, max/min


@template("easy")
def lookup_value(rng: np.random.Generator, tables: TableSet) -> Question | None:
    v = choose_table(rng, tables, _has(measure=1, unique=True))
    if v is None:
        return None
    t, ident = v.name, v.schema.ident.name  # type: ignore[union-attr]
    names = [n for n in _unique_idents(v.schema, v.df)]
    m = pick(rng, _measures(v.schema, v.df))
    known = v.df.loc[v.df[ident].isin(names) & v.df[m.name].notna(), ident].tolist()
    if not known:
        return None
    who = pick(rng, sorted(known))
    return Question(
        f"What is the {m.label} of {_who(v.schema, who)}?",
        f'SELECT "{m.name}" FROM {t} WHERE "{ident}" = {sql_lit(who)}',
        f"answer = {t}.loc[{t}[{ident!r}] == {py_lit(who)}, {m.name!r}].iloc[0]",
        "number",
    )


@template("easy")
def lookup_attribute(rng: np.random.Generator, tables: TableSet) -> Question | None:
    v = choose_table(rng, tables, lambda v: _has(unique=True)(v) and bool(_categories(v.schema, v.df) or v.schema.date))
    if v is None:
        return None
    t, ident = v.name, v.schema.ident.name  # type: ignore[union-attr]
    attrs = [c for c in _categories(v.schema, v.df) if c.name != ident] + v.schema.of("date")
    if not attrs:
        return None
    a = pick(rng, attrs)
    who = pick(rng, _unique_idents(v.schema, v.df))
    question = f"What is the {a.label} of {_who(v.schema, who)}?"
    if a.role == "date":
        question += " Give the date as YYYY-MM-DD."
    return Question(
        question,
        f'SELECT "{a.name}" FROM {t} WHERE "{ident}" = {sql_lit(who)}',
        f"answer = {t}.loc[{t}[{ident!r}] == {py_lit(who)}, {a.name!r}].iloc[0]",
        "date" if a.role == "date" else "string",
    )


@template("easy")
def count_rows(rng: np.random.Generator, tables: TableSet) -> Question | None:
    v = choose_table(rng, tables, lambda v: True)
    assert v is not None
    return Question(
        f"How many {v.schema.plural} are listed in the `{v.name}` table?",
        f"SELECT COUNT(*) FROM {v.name}",
        f"answer = len({v.name})",
        "number",
    )


@template("easy")
def count_equal(rng: np.random.Generator, tables: TableSet) -> Question | None:
    v = choose_table(rng, tables, _has(category=1))
    if v is None:
        return None
    c = pick(rng, _categories(v.schema, v.df))
    value = pick(rng, sorted(v.df[c.name].dropna().unique()))
    t = v.name
    return Question(
        f"How many {v.schema.plural} have {c.label} {say(value)}?",
        f'SELECT COUNT(*) FROM {t} WHERE "{c.name}" = {sql_lit(value)}',
        f"answer = int(({t}[{c.name!r}] == {py_lit(value)}).sum())",
        "number",
    )


def _extreme_value(rng: np.random.Generator, tables: TableSet, highest: bool) -> Question | None:
    v = choose_table(rng, tables, _has(measure=1))
    if v is None:
        return None
    m = pick(rng, _measures(v.schema, v.df))
    word, fn = ("highest", "max") if highest else ("lowest", "min")
    return Question(
        f"What is the {word} {m.label} among all {v.schema.plural}?",
        f'SELECT {fn.upper()}("{m.name}") FROM {v.name}',
        f"answer = {v.name}[{m.name!r}].{fn}()",
        "number",
    )


@template("easy")
def max_value(rng: np.random.Generator, tables: TableSet) -> Question | None:
    return _extreme_value(rng, tables, highest=True)


@template("easy")
def min_value(rng: np.random.Generator, tables: TableSet) -> Question | None:
    return _extreme_value(rng, tables, highest=False)


def _extreme_row(rng: np.random.Generator, tables: TableSet, highest: bool) -> Question | None:
    v = choose_table(rng, tables, _has(measure=1, ident=True))
    if v is None:
        return None
    m = pick(rng, _measures(v.schema, v.df))
    t, ident = v.name, v.schema.ident.name  # type: ignore[union-attr]
    word, fn = ("highest", "max") if highest else ("lowest", "min")
    return Question(
        f"Which {v.schema.noun} has the {word} {m.label}? Answer with the {_ident_label(v.schema)}; "
        "if several are tied, list them all.",
        f'SELECT DISTINCT "{ident}" FROM {t} WHERE "{m.name}" = (SELECT {fn.upper()}("{m.name}") FROM {t})',
        f"answer = {t}.loc[{t}[{m.name!r}] == {t}[{m.name!r}].{fn}(), {ident!r}].unique().tolist()",
        "list",
    )


@template("easy")
def argmax_row(rng: np.random.Generator, tables: TableSet) -> Question | None:
    return _extreme_row(rng, tables, highest=True)


@template("easy")
def argmin_row(rng: np.random.Generator, tables: TableSet) -> Question | None:
    return _extreme_row(rng, tables, highest=False)


@template("easy")
def count_distinct(rng: np.random.Generator, tables: TableSet) -> Question | None:
    v = choose_table(rng, tables, _has(category=1))
    if v is None:
        return None
    c = pick(rng, _categories(v.schema, v.df))
    return Question(
        f"How many different values of {c.label} appear in the `{v.name}` table?",
        f'SELECT COUNT(DISTINCT "{c.name}") FROM {v.name}',
        f"answer = {v.name}[{c.name!r}].nunique()",
        "number",
    )


@template("easy")
def count_missing(rng: np.random.Generator, tables: TableSet) -> Question | None:
    v = choose_table(rng, tables, lambda v: any(v.df[c.name].isna().any() for c in v.schema.of("measure")))
    if v is None:
        return None
    m = pick(rng, [c for c in v.schema.of("measure") if v.df[c.name].isna().any()])
    return Question(
        f"For how many {v.schema.plural} is the {m.label} missing?",
        f'SELECT COUNT(*) FROM {v.name} WHERE "{m.name}" IS NULL',
        f"answer = int({v.name}[{m.name!r}].isna().sum())",
        "number",
    )


@template("easy")
def extreme_date(rng: np.random.Generator, tables: TableSet) -> Question | None:
    v = choose_table(rng, tables, _has(date=True))
    if v is None:
        return None
    d = v.schema.date.name  # type: ignore[union-attr]
    word, fn = pick(rng, [("earliest", "min"), ("latest", "max")])
    return Question(
        f"What is the {word} {v.schema.date.label} in the `{v.name}` table? Give it as YYYY-MM-DD.",  # type: ignore[union-attr]
        f'SELECT {fn.upper()}("{d}") FROM {v.name}',
        f"answer = {v.name}[{d!r}].{fn}()",
        "date",
    )


@template("easy")
def any_above(rng: np.random.Generator, tables: TableSet) -> Question | None:
    v = choose_table(rng, tables, _has(measure=1))
    if v is None:
        return None
    m = pick(rng, _measures(v.schema, v.df))
    top = float(v.df[m.name].max())
    # Half the time a threshold above the maximum, so "no" is as likely as "yes".
    threshold = nice(top * 1.15 + 1) if rng.random() < 0.5 else _threshold(rng, v.df[m.name])
    t = v.name
    return Question(
        f"Is there any {v.schema.noun} with a {m.label} greater than {say(threshold)}? Answer yes or no.",
        f'SELECT COUNT(*) > 0 FROM {t} WHERE "{m.name}" > {sql_lit(threshold)}',
        f"answer = bool(({t}[{m.name!r}] > {py_lit(threshold)}).any())",
        "bool",
    )


@template("easy")
def total_value(rng: np.random.Generator, tables: TableSet) -> Question | None:
    v = choose_table(rng, tables, _has(additive=1))
    if v is None:
        return None
    m = pick(rng, _measures(v.schema, v.df, additive=True))
    return Question(
        f"What is the total {m.label} summed over all {v.schema.plural}?{missing_note(v.df, m.name)}",
        f'SELECT SUM("{m.name}") FROM {v.name}',
        f"answer = {v.name}[{m.name!r}].sum()",
        "number",
    )


# ---------------------------------------------------------------------------------------------
# Medium: filters with aggregates, group-by, top-k, ranks, date filters


def _category_value(rng: np.random.Generator, v: _View) -> tuple[Column, Any]:
    c = pick(rng, _categories(v.schema, v.df))
    return c, pick(rng, sorted(v.df[c.name].dropna().unique()))


@template("medium")
def sum_where(rng: np.random.Generator, tables: TableSet) -> Question | None:
    v = choose_table(rng, tables, _has(additive=1, category=1), main_weight=0.9)
    if v is None:
        return None
    m = pick(rng, _measures(v.schema, v.df, additive=True))
    c, value = _category_value(rng, v)
    t = v.name
    if v.df.loc[v.df[c.name] == value, m.name].notna().sum() == 0:
        return None
    return Question(
        f"What is the total {m.label} of {v.schema.plural} whose {c.label} is {say(value)}?{missing_note(v.df, m.name)}",
        f'SELECT SUM("{m.name}") FROM {t} WHERE "{c.name}" = {sql_lit(value)}',
        f"answer = {t}.loc[{t}[{c.name!r}] == {py_lit(value)}, {m.name!r}].sum()",
        "number",
    )


@template("medium")
def avg_where(rng: np.random.Generator, tables: TableSet) -> Question | None:
    v = choose_table(rng, tables, _has(measure=1, category=1), main_weight=0.9)
    if v is None:
        return None
    m = pick(rng, _measures(v.schema, v.df))
    c, value = _category_value(rng, v)
    t = v.name
    if v.df.loc[v.df[c.name] == value, m.name].notna().sum() == 0:
        return None
    return Question(
        f"What is the average {m.label} of {v.schema.plural} whose {c.label} is {say(value)}?"
        f"{missing_note(v.df, m.name)}",
        f'SELECT AVG("{m.name}") FROM {t} WHERE "{c.name}" = {sql_lit(value)}',
        f"answer = {t}.loc[{t}[{c.name!r}] == {py_lit(value)}, {m.name!r}].mean()",
        "number",
    )


@template("medium")
def count_above(rng: np.random.Generator, tables: TableSet) -> Question | None:
    v = choose_table(rng, tables, _has(measure=1), main_weight=0.9)
    if v is None:
        return None
    m = pick(rng, _measures(v.schema, v.df))
    threshold = _threshold(rng, v.df[m.name])
    word, op = pick(rng, [("greater than", ">"), ("less than", "<"), ("at least", ">=")])
    t = v.name
    return Question(
        f"How many {v.schema.plural} have a {m.label} {word} {say(threshold)}?",
        f'SELECT COUNT(*) FROM {t} WHERE "{m.name}" {op} {sql_lit(threshold)}',
        f"answer = int(({t}[{m.name!r}] {op} {py_lit(threshold)}).sum())",
        "number",
    )


@template("medium")
def group_sum_argmax(rng: np.random.Generator, tables: TableSet) -> Question | None:
    v = choose_table(rng, tables, _has(additive=1, category=1), main_weight=0.9)
    if v is None:
        return None
    m = pick(rng, _measures(v.schema, v.df, additive=True))
    c = pick(rng, _categories(v.schema, v.df))
    t = v.name
    return Question(
        f"Which {c.label} has the highest total {m.label} over its {v.schema.plural}? "
        "If several are tied, list them all.",
        f'WITH g AS (SELECT "{c.name}" AS k, SUM("{m.name}") AS s FROM {t} GROUP BY "{c.name}") '
        "SELECT k FROM g WHERE s = (SELECT MAX(s) FROM g)",
        f"g = {t}.groupby({c.name!r})[{m.name!r}].sum(min_count=1)\nanswer = g[g == g.max()].index.tolist()",
        "list",
    )


@template("medium")
def most_common(rng: np.random.Generator, tables: TableSet) -> Question | None:
    v = choose_table(rng, tables, _has(category=1), main_weight=0.9)
    if v is None:
        return None
    c = pick(rng, _categories(v.schema, v.df))
    t = v.name
    return Question(
        f"Which {c.label} occurs in the most {v.schema.plural}? If several are tied, list them all.",
        f'WITH g AS (SELECT "{c.name}" AS k, COUNT(*) AS n FROM {t} GROUP BY "{c.name}") '
        "SELECT k FROM g WHERE n = (SELECT MAX(n) FROM g)",
        f"g = {t}[{c.name!r}].value_counts()\nanswer = g[g == g.max()].index.tolist()",
        "list",
    )


@template("medium")
def top_k(rng: np.random.Generator, tables: TableSet) -> Question | None:
    v = choose_table(rng, tables, _has(measure=1, ident=True), main_weight=0.9)
    if v is None:
        return None
    m = pick(rng, _measures(v.schema, v.df))
    t, ident = v.name, v.schema.ident.name  # type: ignore[union-attr]
    k = int(min(rng.integers(3, 6), v.df[m.name].notna().sum()))
    desc = rng.random() < 0.7
    word, order = ("highest", "DESC") if desc else ("lowest", "ASC")
    return Question(
        f"List the {_ident_label(v.schema)}s of the {k} {v.schema.plural} with the {word} {m.label}, "
        f"from the {word} down. Break ties by {_ident_label(v.schema)} in alphabetical order; "
        "skip rows where the value is missing.",
        f'SELECT "{ident}" FROM {t} WHERE "{m.name}" IS NOT NULL ORDER BY "{m.name}" {order}, "{ident}" ASC LIMIT {k}',
        f"answer = {t}.dropna(subset=[{m.name!r}]).sort_values([{m.name!r}, {ident!r}], "
        f"ascending=[{not desc}, True])[{ident!r}].head({k}).tolist()",
        "list",
        order_matters=True,
    )


@template("medium")
def rank_of(rng: np.random.Generator, tables: TableSet) -> Question | None:
    v = choose_table(rng, tables, _has(measure=1, unique=True), main_weight=0.9)
    if v is None:
        return None
    m = pick(rng, _measures(v.schema, v.df))
    t, ident = v.name, v.schema.ident.name  # type: ignore[union-attr]
    names = set(_unique_idents(v.schema, v.df))
    known = sorted(v.df.loc[v.df[ident].isin(names) & v.df[m.name].notna(), ident])
    if not known:
        return None
    who = pick(rng, known)
    return Question(
        f"Ranking all {v.schema.plural} by {m.label} from highest (rank 1) to lowest, what rank does "
        f"{_who(v.schema, who)} have? Tied values share the best rank (1, 2, 2, 4).",
        f'SELECT 1 + COUNT(*) FROM {t} WHERE "{m.name}" > (SELECT "{m.name}" FROM {t} WHERE "{ident}" = {sql_lit(who)})',
        f"x = {t}.loc[{t}[{ident!r}] == {py_lit(who)}, {m.name!r}].iloc[0]\nanswer = 1 + int(({t}[{m.name!r}] > x).sum())",
        "number",
    )


@template("medium")
def distinct_where(rng: np.random.Generator, tables: TableSet) -> Question | None:
    v = choose_table(rng, tables, _has(measure=1, category=1), main_weight=0.9)
    if v is None:
        return None
    m = pick(rng, _measures(v.schema, v.df))
    c = pick(rng, _categories(v.schema, v.df))
    if v.df[c.name].nunique() > 12:
        return None  # a list answer should stay short
    threshold = nice(float(v.df[m.name].quantile(rng.uniform(0.6, 0.95))))
    t = v.name
    if not (v.df[m.name] > threshold).any():
        return None
    return Question(
        f"List every distinct {c.label} that has at least one {v.schema.noun} with a {m.label} greater than "
        f"{say(threshold)}.",
        f'SELECT DISTINCT "{c.name}" FROM {t} WHERE "{m.name}" > {sql_lit(threshold)}',
        f"answer = {t}.loc[{t}[{m.name!r}] > {py_lit(threshold)}, {c.name!r}].unique().tolist()",
        "list",
    )


@template("medium")
def avg_two_filters(rng: np.random.Generator, tables: TableSet) -> Question | None:
    v = choose_table(rng, tables, _has(measure=2, category=1), main_weight=0.9)
    if v is None:
        return None
    m, m2 = (_measures(v.schema, v.df)[i] for i in rng.choice(len(_measures(v.schema, v.df)), 2, replace=False))
    c, value = _category_value(rng, v)
    threshold = _threshold(rng, v.df[m2.name])
    t = v.name
    rows = (v.df[c.name] == value) & (v.df[m2.name] >= threshold)
    if v.df.loc[rows, m.name].notna().sum() == 0:
        return None
    return Question(
        f"What is the average {m.label} of {v.schema.plural} whose {c.label} is {say(value)} and whose "
        f"{m2.label} is at least {say(threshold)}?{missing_note(v.df, m.name)}",
        f'SELECT AVG("{m.name}") FROM {t} WHERE "{c.name}" = {sql_lit(value)} AND "{m2.name}" >= {sql_lit(threshold)}',
        f"answer = {t}.loc[({t}[{c.name!r}] == {py_lit(value)}) & ({t}[{m2.name!r}] >= {py_lit(threshold)}), "
        f"{m.name!r}].mean()",
        "number",
    )


@template("medium")
def median_value(rng: np.random.Generator, tables: TableSet) -> Question | None:
    v = choose_table(rng, tables, _has(measure=1), main_weight=0.9)
    if v is None:
        return None
    m = pick(rng, _measures(v.schema, v.df))
    return Question(
        f"What is the median {m.label} of the {v.schema.plural}?{missing_note(v.df, m.name)}",
        f'SELECT MEDIAN("{m.name}") FROM {v.name}',
        f"answer = {v.name}[{m.name!r}].median()",
        "number",
    )


def _months(df: pd.DataFrame, column: str) -> list[str]:
    return sorted(df[column].dropna().dt.strftime("%Y-%m").unique())


@template("medium")
def count_in_month(rng: np.random.Generator, tables: TableSet) -> Question | None:
    v = choose_table(rng, tables, _has(date=True), main_weight=0.9)
    if v is None:
        return None
    d = v.schema.date
    assert d is not None
    month = pick(rng, _months(v.df, d.name))
    t = v.name
    return Question(
        f"How many {v.schema.plural} have a {d.label} in {month_name(month)}?",
        f"SELECT COUNT(*) FROM {t} WHERE strftime(\"{d.name}\", '%Y-%m') = {sql_lit(month)}",
        f"answer = int(({t}[{d.name!r}].dt.strftime('%Y-%m') == {month!r}).sum())",
        "number",
    )


@template("medium")
def groups_avg_above(rng: np.random.Generator, tables: TableSet) -> Question | None:
    v = choose_table(rng, tables, _has(measure=1, category=1), main_weight=0.9)
    if v is None:
        return None
    m = pick(rng, _measures(v.schema, v.df))
    c = pick(rng, _categories(v.schema, v.df))
    means = v.df.groupby(c.name)[m.name].mean().dropna()
    threshold = nice(float(means.quantile(rng.uniform(0.25, 0.75))))
    t = v.name
    return Question(
        f"How many different {c.label} values have an average {m.label} above {say(threshold)}, "
        f"averaging over the {v.schema.plural} of each?{missing_note(v.df, m.name)}",
        f'SELECT COUNT(*) FROM (SELECT "{c.name}" FROM {t} GROUP BY "{c.name}" HAVING AVG("{m.name}") > {sql_lit(threshold)})',
        f"answer = int(({t}.groupby({c.name!r})[{m.name!r}].mean() > {py_lit(threshold)}).sum())",
        "number",
    )


@template("medium")
def count_between_dates(rng: np.random.Generator, tables: TableSet) -> Question | None:
    v = choose_table(rng, tables, _has(date=True), main_weight=0.9)
    if v is None:
        return None
    d = v.schema.date
    assert d is not None
    days = sorted(v.df[d.name].dropna().unique())
    if len(days) < 2:
        return None
    i, j = sorted(rng.choice(len(days), 2, replace=False))
    start, end = pd.Timestamp(days[i]), pd.Timestamp(days[j])
    t = v.name
    return Question(
        f"How many {v.schema.plural} have a {d.label} from {say(start)} to {say(end)}, both days included?",
        f'SELECT COUNT(*) FROM {t} WHERE "{d.name}" BETWEEN {sql_lit(start)} AND {sql_lit(end)}',
        f"answer = int({t}[{d.name!r}].between({py_lit(start)}, {py_lit(end)}).sum())",
        "number",
    )


# ---------------------------------------------------------------------------------------------
# Hard: joins, multi-step, date arithmetic, percentage change, ties


@dataclass(frozen=True)
class _Join:
    """A fact table, the table it refers to, and the pandas names of the referenced columns after a merge."""

    link: Link
    fact: _View
    ref: _View

    def merged_name(self, column: str) -> str:
        """The name a referenced column has in ``fact.merge(ref)`` (suffixed when the fact has it too)."""
        if column == self.link.ref_column and column == self.link.column:
            return column
        return f"{column}_ref" if column in self.fact.df.columns else column

    @property
    def sql_from(self) -> str:
        f, r = self.link.table, self.link.ref_table
        return f'{f} AS f JOIN {r} AS r ON f."{self.link.column}" = r."{self.link.ref_column}"'

    @property
    def pandas_merge(self) -> str:
        f, r = self.link.table, self.link.ref_table
        return (
            f"j = {f}.merge({r}, left_on={self.link.column!r}, right_on={self.link.ref_column!r}, "
            "how='inner', suffixes=('', '_ref'))"
        )


def _join(rng: np.random.Generator, tables: TableSet) -> _Join | None:
    if not tables.links:
        return None
    link = pick(rng, tables.links)
    fact = _View(link.table, tables.schemas[link.table], tables.tables[link.table])
    ref = _View(link.ref_table, tables.schemas[link.ref_table], tables.tables[link.ref_table])
    return _Join(link, fact, ref)


def _ref_categories(j: _Join) -> list[Column]:
    return [c for c in _categories(j.ref.schema, j.ref.df) + j.ref.schema.of("entity") if c.name != j.link.ref_column]


@template("hard")
def join_sum(rng: np.random.Generator, tables: TableSet) -> Question | None:
    j = _join(rng, tables)
    if j is None or not _measures(j.fact.schema, j.fact.df, additive=True) or not _ref_categories(j):
        return None
    m = pick(rng, _measures(j.fact.schema, j.fact.df, additive=True))
    c = pick(rng, _ref_categories(j))
    value = pick(rng, sorted(j.ref.df[c.name].dropna().unique()))
    return Question(
        f"What is the total {m.label} of {j.fact.schema.plural} whose {j.ref.schema.noun} has {c.label} "
        f"{say(value)}?{missing_note(j.fact.df, m.name)} (Join `{j.link.table}` to `{j.link.ref_table}`.)",
        f'SELECT COALESCE(SUM(f."{m.name}"), 0) FROM {j.sql_from} WHERE r."{c.name}" = {sql_lit(value)}',
        f"{j.pandas_merge}\nanswer = j.loc[j[{j.merged_name(c.name)!r}] == {py_lit(value)}, {m.name!r}].sum()",
        "number",
    )


@template("hard")
def join_group_argmax(rng: np.random.Generator, tables: TableSet) -> Question | None:
    j = _join(rng, tables)
    if j is None or not _measures(j.fact.schema, j.fact.df, additive=True) or not _ref_categories(j):
        return None
    m = pick(rng, _measures(j.fact.schema, j.fact.df, additive=True))
    c = pick(rng, _ref_categories(j))
    mc = j.merged_name(c.name)
    return Question(
        f"Over all {j.fact.schema.plural}, grouped by the {c.label} of their {j.ref.schema.noun}, which "
        f"{c.label} has the highest total {m.label}? If several are tied, list them all.",
        f'WITH g AS (SELECT r."{c.name}" AS k, SUM(f."{m.name}") AS s FROM {j.sql_from} GROUP BY r."{c.name}") '
        "SELECT k FROM g WHERE s = (SELECT MAX(s) FROM g)",
        f"{j.pandas_merge}\ng = j.groupby({mc!r})[{m.name!r}].sum(min_count=1)\nanswer = g[g == g.max()].index.tolist()",
        "list",
    )


@template("hard")
def join_avg_ref_measure(rng: np.random.Generator, tables: TableSet) -> Question | None:
    j = _join(rng, tables)
    if j is None or not _measures(j.ref.schema, j.ref.df) or not _categories(j.fact.schema, j.fact.df):
        return None
    m = pick(rng, _measures(j.ref.schema, j.ref.df))
    c = pick(rng, [x for x in _categories(j.fact.schema, j.fact.df) if x.name != j.link.column] or [None])
    if c is None:
        return None
    value = pick(rng, sorted(j.fact.df[c.name].dropna().unique()))
    f, r, fk, pk = j.link.table, j.link.ref_table, j.link.column, j.link.ref_column
    return Question(
        f"Consider the {j.ref.schema.plural} that appear in at least one {j.fact.schema.noun} whose {c.label} is "
        f"{say(value)}. What is their average {m.label}, counting each {j.ref.schema.noun} once?",
        f'SELECT AVG("{m.name}") FROM {r} WHERE "{pk}" IN (SELECT "{fk}" FROM {f} WHERE "{c.name}" = {sql_lit(value)})',
        f"answer = {r}.loc[{r}[{pk!r}].isin({f}.loc[{f}[{c.name!r}] == {py_lit(value)}, {fk!r}]), {m.name!r}].mean()",
        "number",
    )


@template("hard")
def join_count_distinct(rng: np.random.Generator, tables: TableSet) -> Question | None:
    j = _join(rng, tables)
    if j is None or not _ref_categories(j) or not _measures(j.fact.schema, j.fact.df):
        return None
    c = pick(rng, _ref_categories(j))
    value = pick(rng, sorted(j.ref.df[c.name].dropna().unique()))
    m = pick(rng, _measures(j.fact.schema, j.fact.df))
    threshold = _threshold(rng, j.fact.df[m.name])
    fk, mc = j.link.column, j.merged_name(c.name)
    return Question(
        f"How many different {j.ref.schema.plural} with {c.label} {say(value)} have at least one "
        f"{j.fact.schema.noun} with a {m.label} above {say(threshold)}?",
        f'SELECT COUNT(DISTINCT f."{fk}") FROM {j.sql_from} WHERE r."{c.name}" = {sql_lit(value)} '
        f'AND f."{m.name}" > {sql_lit(threshold)}',
        f"{j.pandas_merge}\nanswer = j.loc[(j[{mc!r}] == {py_lit(value)}) & (j[{m.name!r}] > {py_lit(threshold)}), "
        f"{fk!r}].nunique()",
        "number",
    )


def _month_sums_sql(t: str, d: str, m: str, month: str) -> str:
    return f'SUM("{m}") FILTER (WHERE strftime("{d}", \'%Y-%m\') = {sql_lit(month)})'


@template("hard")
def pct_change_months(rng: np.random.Generator, tables: TableSet) -> Question | None:
    v = choose_table(rng, tables, _has(additive=1, date=True), main_weight=1.0)
    if v is None:
        return None
    d = v.schema.date
    assert d is not None
    months = _months(v.df, d.name)
    if len(months) < 2:
        return None
    a, b = sorted(rng.choice(len(months), 2, replace=False))
    ma, mb = months[a], months[b]
    m = pick(rng, _measures(v.schema, v.df, additive=True))
    t = v.name
    by_month = v.df.groupby(v.df[d.name].dt.strftime("%Y-%m"))[m.name].sum()
    if by_month.get(ma, 0) == 0:
        return None
    return Question(
        f"By what percentage did the total {m.label} change from {month_name(ma)} to {month_name(mb)} "
        f"(months by {d.label})? Give the change in percent, negative for a decrease.{missing_note(v.df, m.name)}",
        f"SELECT ({_month_sums_sql(t, d.name, m.name, mb)} - {_month_sums_sql(t, d.name, m.name, ma)}) * 100.0 "
        f"/ {_month_sums_sql(t, d.name, m.name, ma)} FROM {t}",
        f"month = {t}[{d.name!r}].dt.strftime('%Y-%m')\n"
        f"a = {t}.loc[month == {ma!r}, {m.name!r}].sum()\nb = {t}.loc[month == {mb!r}, {m.name!r}].sum()\n"
        "answer = (b - a) * 100.0 / a",
        "number",
    )


@template("hard")
def date_span(rng: np.random.Generator, tables: TableSet) -> Question | None:
    v = choose_table(rng, tables, _has(category=1, date=True), main_weight=1.0)
    if v is None:
        return None
    d = v.schema.date
    assert d is not None
    c, value = _category_value(rng, v)
    t = v.name
    return Question(
        f"How many days are there between the earliest and the latest {d.label} among {v.schema.plural} whose "
        f"{c.label} is {say(value)}?",
        f'SELECT date_diff(\'day\', MIN("{d.name}"), MAX("{d.name}")) FROM {t} WHERE "{c.name}" = {sql_lit(value)}',
        f"s = {t}.loc[{t}[{c.name!r}] == {py_lit(value)}, {d.name!r}]\nanswer = (s.max() - s.min()).days",
        "number",
    )


@template("hard")
def days_between(rng: np.random.Generator, tables: TableSet) -> Question | None:
    v = choose_table(rng, tables, lambda v: _has(date=True)(v) and len(_unique_idents(v.schema, v.df)) >= 2)
    if v is None:
        return None
    d, ident = v.schema.date, v.schema.ident
    assert d is not None and ident is not None
    names = _unique_idents(v.schema, v.df)
    a, b = (names[i] for i in rng.choice(len(names), 2, replace=False))
    t = v.name

    def one(who: Any) -> str:
        return f'(SELECT "{d.name}" FROM {t} WHERE "{ident.name}" = {sql_lit(who)})'

    return Question(
        f"How many days apart are the {d.label} of {_who(v.schema, a)} and the {d.label} of {_who(v.schema, b)}?",
        f"SELECT abs(date_diff('day', {one(a)}, {one(b)}))",
        f"x = {t}.loc[{t}[{ident.name!r}] == {py_lit(a)}, {d.name!r}].iloc[0]\n"
        f"y = {t}.loc[{t}[{ident.name!r}] == {py_lit(b)}, {d.name!r}].iloc[0]\n"
        "answer = abs((y - x).days)",
        "number",
    )


@template("hard")
def share_of_total(rng: np.random.Generator, tables: TableSet) -> Question | None:
    v = choose_table(rng, tables, _has(additive=1, category=1), main_weight=1.0)
    if v is None:
        return None
    m = pick(rng, _measures(v.schema, v.df, additive=True))
    c, value = _category_value(rng, v)
    t = v.name
    if v.df[m.name].sum() == 0:
        return None
    return Question(
        f"What percentage of the total {m.label} comes from {v.schema.plural} whose {c.label} is {say(value)}? "
        f"Answer in percent.{missing_note(v.df, m.name)}",
        f'SELECT COALESCE(SUM("{m.name}") FILTER (WHERE "{c.name}" = {sql_lit(value)}), 0) * 100.0 / SUM("{m.name}") '
        f"FROM {t}",
        f"answer = {t}.loc[{t}[{c.name!r}] == {py_lit(value)}, {m.name!r}].sum() * 100.0 / {t}[{m.name!r}].sum()",
        "number",
    )


@template("hard")
def second_highest(rng: np.random.Generator, tables: TableSet) -> Question | None:
    v = choose_table(rng, tables, lambda v: any(v.df[c.name].nunique() >= 2 for c in v.schema.of("measure")))
    if v is None:
        return None
    m = pick(rng, [c for c in v.schema.of("measure") if v.df[c.name].nunique() >= 2])
    t = v.name
    return Question(
        f"What is the second-highest distinct value of {m.label} among the {v.schema.plural}? "
        "(Repeated values count once.)",
        f'SELECT DISTINCT "{m.name}" FROM {t} WHERE "{m.name}" IS NOT NULL ORDER BY "{m.name}" DESC LIMIT 1 OFFSET 1',
        f"answer = sorted({t}[{m.name!r}].dropna().unique())[-2]",
        "number",
    )


@template("hard")
def closest_to_average(rng: np.random.Generator, tables: TableSet) -> Question | None:
    v = choose_table(rng, tables, _has(measure=1, ident=True), main_weight=1.0)
    if v is None:
        return None
    m = pick(rng, _measures(v.schema, v.df))
    t, ident = v.name, v.schema.ident.name  # type: ignore[union-attr]
    return Question(
        f"Which {v.schema.noun} has the {m.label} closest to the average {m.label} of all {v.schema.plural}? "
        f"Answer with the {_ident_label(v.schema)}; if several are equally close, list them all.",
        f'WITH a AS (SELECT AVG("{m.name}") AS av FROM {t}), d AS (SELECT "{ident}" AS k, abs("{m.name}" - av) AS dist '
        f'FROM {t}, a WHERE "{m.name}" IS NOT NULL) SELECT DISTINCT k FROM d WHERE dist = (SELECT MIN(dist) FROM d)',
        f"dist = ({t}[{m.name!r}] - {t}[{m.name!r}].mean()).abs()\n"
        f"answer = {t}.loc[dist == dist.min(), {ident!r}].unique().tolist()",
        "list",
    )


@template("hard")
def best_in_biggest_group(rng: np.random.Generator, tables: TableSet) -> Question | None:
    v = choose_table(rng, tables, _has(measure=1, category=1, ident=True), main_weight=1.0)
    if v is None:
        return None
    m = pick(rng, _measures(v.schema, v.df))
    c = pick(rng, _categories(v.schema, v.df))
    t, ident = v.name, v.schema.ident.name  # type: ignore[union-attr]
    return Question(
        f"Take the {c.label} with the most {v.schema.plural} (if several tie, the alphabetically first). "
        f"Within it, which {v.schema.noun} has the highest {m.label}? Answer with the {_ident_label(v.schema)}; "
        "if several are tied, list them all.",
        f'WITH g AS (SELECT "{c.name}" AS k FROM {t} GROUP BY "{c.name}" ORDER BY COUNT(*) DESC, "{c.name}" ASC LIMIT 1), '
        f's AS (SELECT * FROM {t} WHERE "{c.name}" = (SELECT k FROM g)) '
        f'SELECT DISTINCT "{ident}" FROM s WHERE "{m.name}" = (SELECT MAX("{m.name}") FROM s)',
        f"n = {t}[{c.name!r}].value_counts()\ntop = sorted(n[n == n.max()].index)[0]\n"
        f"s = {t}[{t}[{c.name!r}] == top]\nanswer = s.loc[s[{m.name!r}] == s[{m.name!r}].max(), {ident!r}].unique().tolist()",
        "list",
    )


@template("hard")
def best_month(rng: np.random.Generator, tables: TableSet) -> Question | None:
    v = choose_table(rng, tables, _has(additive=1, date=True), main_weight=1.0)
    if v is None:
        return None
    d = v.schema.date
    assert d is not None
    m = pick(rng, _measures(v.schema, v.df, additive=True))
    t = v.name
    return Question(
        f"In which month (by {d.label}) was the total {m.label} highest? Answer as YYYY-MM; if several months "
        "are tied, list them all.",
        f'WITH g AS (SELECT strftime("{d.name}", \'%Y-%m\') AS k, SUM("{m.name}") AS s FROM {t} GROUP BY k) '
        "SELECT k FROM g WHERE s = (SELECT MAX(s) FROM g)",
        f"g = {t}.groupby({t}[{d.name!r}].dt.strftime('%Y-%m'))[{m.name!r}].sum(min_count=1)\n"
        "answer = g[g == g.max()].index.tolist()",
        "list",
    )


@template("hard")
def above_group_average(rng: np.random.Generator, tables: TableSet) -> Question | None:
    v = choose_table(rng, tables, _has(measure=1, category=1), main_weight=1.0)
    if v is None:
        return None
    m = pick(rng, _measures(v.schema, v.df))
    c = pick(rng, _categories(v.schema, v.df))
    t = v.name
    return Question(
        f"How many {v.schema.plural} have a {m.label} above the average {m.label} of their own {c.label}?"
        f"{missing_note(v.df, m.name)}",
        f'SELECT COUNT(*) FROM {t} AS x JOIN (SELECT "{c.name}" AS k, AVG("{m.name}") AS av FROM {t} GROUP BY "{c.name}") '
        f'AS g ON x."{c.name}" = g.k WHERE x."{m.name}" > g.av',
        f"av = {t}.groupby({c.name!r})[{m.name!r}].transform('mean')\nanswer = int(({t}[{m.name!r}] > av).sum())",
        "number",
    )


@template("hard")
def cumulative_first_exceeds(rng: np.random.Generator, tables: TableSet) -> Question | None:
    v = choose_table(rng, tables, _has(additive=1, date=True), main_weight=1.0)
    if v is None:
        return None
    d = v.schema.date
    assert d is not None
    m = pick(rng, [x for x in _measures(v.schema, v.df, additive=True) if (v.df[x.name].dropna() >= 0).all()] or [None])
    if m is None:
        return None
    total = float(v.df[m.name].sum())
    threshold = nice(total * rng.uniform(0.2, 0.8))
    t = v.name
    return Question(
        f"Adding up {m.label} day by day in order of {d.label}, on which date does the running total first "
        f"exceed {say(threshold)}? Give the date as YYYY-MM-DD.",
        f'WITH g AS (SELECT "{d.name}" AS day, SUM("{m.name}") AS s FROM {t} GROUP BY "{d.name}"), '
        "c AS (SELECT day, SUM(s) OVER (ORDER BY day) AS running FROM g) "
        f"SELECT MIN(day) FROM c WHERE running > {sql_lit(threshold)}",
        f"g = {t}.groupby({d.name!r})[{m.name!r}].sum().sort_index().cumsum()\n"
        f"answer = g[g > {py_lit(threshold)}].index.min()",
        "date",
    )


def templates_for(difficulty: str) -> list[Template]:
    """The registered templates of one difficulty, in registration order."""
    return [t for t in TEMPLATES.values() if t.difficulty == difficulty]
