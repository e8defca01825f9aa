"""Table-QA loaders on tiny hand-written fixtures: WikiTQ, WikiSQL, TableBench, Spider, turngym JSONL."""

from __future__ import annotations

import json
import shutil
import sqlite3
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from turngym.rewards.answer import verify_answer
from turngym.tasks.base import DatasetSource
from turngym.tasks.table import DatasetFormatError, TableTask, TableTaskGenerator, load_tasks
from turngym.tasks.table.loaders import (
    detect_format,
    load_spider,
    load_tablebench,
    load_wikisql,
    load_wikitq,
    sql_difficulty,
)

FIXTURES = Path(__file__).parent / "fixtures" / "table"
WTQ_TRAIN = FIXTURES / "wikitq" / "data" / "training.tsv"
WIKISQL = FIXTURES / "wikisql" / "dev.jsonl"
TABLEBENCH = FIXTURES / "tablebench" / "TableBench.jsonl"
TURNGYM = FIXTURES / "turngym" / "tasks.jsonl"


@pytest.fixture(scope="module")
def spider_root(tmp_path_factory) -> Path:
    """The Spider fixture with its SQLite file built from the fixture's schema.sql."""
    root = tmp_path_factory.mktemp("spider") / "spider"
    shutil.copytree(FIXTURES / "spider", root)
    db = root / "database" / "concert_singer"
    with sqlite3.connect(db / "concert_singer.sqlite") as con:
        con.executescript((db / "schema.sql").read_text())
    return root


def by_id(source: DatasetSource[TableTask]) -> dict[str, TableTask]:
    return {t.id: t for t in source.tasks}


def write(path: Path, lines: list[str]) -> Path:
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


# -- WikiTableQuestions ------------------------------------------------------------------------


def test_wikitq_reads_questions_tables_and_multi_value_targets():
    tasks = by_id(load_wikitq(WTQ_TRAIN))
    assert sorted(tasks) == ["wtq-nt-0", "wtq-nt-1", "wtq-nt-2", "wtq-nt-3"]
    first = tasks["wtq-nt-0"]
    assert first.split == "train" and first.difficulty == "medium"
    assert list(first.tables) == ["t"] and first.tables["t"].shape == (6, 5)
    assert first.tables["t"].loc[3, "Venue"] == "Izmir, Turkey"
    assert first.answer == "Izmir, Turkey" and verify_answer("Izmir, Turkey", first.answer)
    assert tasks["wtq-nt-2"].answer == ["2001", "2006"] and tasks["wtq-nt-2"].answer_type == "list"
    assert verify_answer("2006, 2001", tasks["wtq-nt-2"].answer)
    assert verify_answer("2", tasks["wtq-nt-1"].answer) and not verify_answer("3", tasks["wtq-nt-1"].answer)
    assert tasks["wtq-nt-3"].answer == "Austria | Tyrol"  # \p is an escaped pipe, not a separator


def test_wikitq_tables_are_shared_per_context_and_split_follows_the_file_name():
    tasks = load_wikitq(WTQ_TRAIN).tasks
    assert tasks[0].tables["t"] is tasks[1].tables["t"]
    unseen = load_wikitq(FIXTURES / "wikitq" / "data" / "pristine-unseen-tables.tsv")
    assert {t.split for t in unseen.tasks} == {"test"}


def test_wikitq_errors_name_the_line(tmp_path):
    bad_header = write(tmp_path / "a.tsv", ["id\tquestion\tcontext", "x\ty\tz"])
    with pytest.raises(DatasetFormatError, match=r"a.tsv:1: header lacks columns \['targetValue', 'utterance'\]"):
        load_wikitq(bad_header)
    short = write(tmp_path / "b.tsv", ["id\tutterance\tcontext\ttargetValue", "nt-0\tq\tcsv/1.csv"])
    with pytest.raises(DatasetFormatError, match=r"b.tsv:2: expected 4 tab-separated fields, got 3"):
        load_wikitq(short)
    missing = write(tmp_path / "c.tsv", ["id\tutterance\tcontext\ttargetValue", "nt-0\tq\tcsv/nope.csv\t1"])
    with pytest.raises(DatasetFormatError, match=r"c.tsv:2: table 'csv/nope.csv' not found"):
        load_wikitq(missing)


# -- WikiSQL -----------------------------------------------------------------------------------


def test_wikisql_answers_are_computed_by_executing_the_structured_query():
    tasks = load_wikisql(WIKISQL).tasks
    answers = [t.answer for t in tasks]
    assert answers == [
        "No slogan on current series",  # text condition compares case-insensitively
        "BX·99·HI",
        "Guard-Forward",
        3,  # COUNT with a > condition on a real column
        32,  # MAX
        ["Voshon Lenard", "Art Long"],  # several rows: a list
        pytest.approx(11.5),  # AVG with two conditions
    ]
    assert tasks[3].gold_sql == 'SELECT COUNT("Player") FROM t WHERE "No." > 30.0'
    assert tasks[0].tables["t"].columns.tolist()[0] == "State/territory"
    assert {t.split for t in tasks} == {"test"} and {t.difficulty for t in tasks} == {"easy"}


def test_wikisql_errors(tmp_path):
    tables = FIXTURES / "wikisql" / "dev.tables.jsonl"
    cases = {
        '{"table_id": "nope", "question": "q", "sql": {"sel": 0, "agg": 0, "conds": []}}': "table_id 'nope' is not in",
        '{"table_id": "1-1000181-1", "question": "q", "sql": {"sel": 9, "agg": 0, "conds": []}}': "sql.sel must index one of 6",
        '{"table_id": "1-1000181-1", "question": "q", "sql": {"sel": 0, "agg": 7, "conds": []}}': "sql.agg must index",
        '{"table_id": "1-1000181-1", "question": "q", "sql": {"sel": 0, "agg": 0, "conds": [[0, 3, "x"]]}}': "condition operator 3",
        '{"table_id": "1-10015132-11", "question": "q", "sql": {"sel": 0, "agg": 0, "conds": [[1, 0, "ten"]]}}': "not a number",
        '{"table_id": "1-1000181-1", "sql": {"sel": 0, "agg": 0, "conds": []}}': "missing field 'question'",
        '{"table_id": "1-1000181-1", "question": "q", "sql": {"sel": 0, "agg": 0, "conds": []}': "not valid JSON",
    }
    for line, message in cases.items():
        path = write(
            tmp_path / "dev.jsonl",
            ['{"table_id": "1-1000181-1", "question": "ok", "sql": {"sel": 0, "agg": 0, "conds": []}}', line],
        )
        with pytest.raises(
            DatasetFormatError, match=r"dev.jsonl:2: .*" + message.replace("(", r"\(").replace("[", r"\[")
        ):
            load_wikisql(path, tables)
    with pytest.raises(DatasetFormatError, match="tables file .* does not exist"):
        load_wikisql(write(tmp_path / "lonely.jsonl", ["{}"]))


# -- TableBench --------------------------------------------------------------------------------


def test_tablebench_parses_tables_and_maps_question_types_to_difficulty():
    tasks = by_id(load_tablebench(TABLEBENCH))
    assert sorted(tasks) == ["tablebench-tb-da-1", "tablebench-tb-fc-1", "tablebench-tb-nr-1"]  # no chart question
    fc, nr, da = tasks["tablebench-tb-fc-1"], tasks["tablebench-tb-nr-1"], tasks["tablebench-tb-da-1"]
    assert (fc.difficulty, nr.difficulty, da.difficulty) == ("easy", "medium", "hard")
    assert fc.question == "Which team won the most matches?"  # the short question, not the prompt
    assert da.question.startswith("Question: What is the average win rate")  # no question: the instruction
    assert fc.tables["t"]["won"].tolist() == [8, 6, 5] and str(fc.tables["t"]["won"].dtype) == "int64"
    assert nr.tables["t"].equals(fc.tables["t"])  # the table as an object or as a JSON string
    assert verify_answer("19", nr.answer) and verify_answer("63.33", da.answer) and verify_answer("0.6333", da.answer)
    assert fc.meta["qsubtype"] == "MatchBased"


def test_tablebench_errors(tmp_path):
    cases = {
        '{"id": 1, "question": "q", "table": "not json", "answer": "a"}': "'table' is a string but not JSON",
        '{"id": 1, "question": "q", "table": {"columns": ["a"]}, "answer": "a"}': "'table' must be",
        '{"id": 1, "question": "q", "table": {"columns": ["a"], "data": [[1, 2]]}, "answer": "a"}': "table rows do not fit",
        '{"id": 1, "table": {"columns": ["a"], "data": [[1]]}, "answer": "a"}': "needs a non-empty 'question'",
        '{"id": 1, "question": "q", "table": {"columns": ["a"], "data": [[1]]}}': "missing field 'answer'",
    }
    for line, message in cases.items():
        with pytest.raises(DatasetFormatError, match=r"tb.jsonl:1: " + message):
            load_tablebench(write(tmp_path / "tb.jsonl", [line]))


# -- Spider ------------------------------------------------------------------------------------


def test_spider_loads_every_table_and_executes_the_gold_query(spider_root):
    tasks = load_spider(spider_root).tasks
    assert [t.id for t in tasks] == [
        "spider-concert_singer-0",
        "spider-concert_singer-1",
        "spider-concert_singer-2",
        "spider-concert_singer-4",  # record 3 returns two columns: skipped by default
    ]
    count, ordered, joined, average = tasks
    assert sorted(count.tables) == ["concert", "singer", "stadium"] and count.tables["singer"].shape == (4, 7)
    assert count.answer == 4 and count.difficulty == "easy" and count.meta["sql_dialect"] == "sqlite"
    assert ordered.answer == ["Justin Brown", "Rose White"] and ordered.order_matters and ordered.difficulty == "medium"
    assert not verify_answer("Rose White, Justin Brown", ordered.answer, order_matters=ordered.order_matters)
    assert sorted(joined.answer) == ["Hampden Park", "Somerset Park", "Stark's Park"] and joined.difficulty == "hard"
    assert not joined.order_matters and average.answer == pytest.approx(30.5)


def test_spider_can_flatten_multi_column_results(spider_root):
    tasks = by_id(load_spider(spider_root, multi_column="flatten"))
    assert tasks["spider-concert_singer-3"].answer == ["Hampden Park", 52500]


def test_spider_errors(spider_root, tmp_path):
    bad = write(
        tmp_path / "q.json",
        [json.dumps([{"db_id": "concert_singer", "question": "q", "query": "SELECT nope FROM singer"}])],
    )
    with pytest.raises(DatasetFormatError, match=r"q.json: record 0: gold query failed .*no such column"):
        load_spider(spider_root, bad)
    missing = write(tmp_path / "m.json", [json.dumps([{"db_id": "no_db", "question": "q", "query": "SELECT 1"}])])
    with pytest.raises(DatasetFormatError, match=r"m.json: record 0: database file .*no_db.sqlite does not exist"):
        load_spider(spider_root, missing)
    with pytest.raises(DatasetFormatError, match="multi_column"):
        load_spider(spider_root, multi_column="merge")


def test_sql_difficulty_heuristic():
    assert sql_difficulty("SELECT count(*) FROM t") == "easy"
    assert sql_difficulty("SELECT a FROM t GROUP BY a") == "medium"
    assert sql_difficulty("SELECT a FROM t WHERE b IN (SELECT b FROM u)") == "hard"
    assert sql_difficulty("SELECT a FROM t JOIN u ON t.x = u.x") == "hard"


# -- turngym JSONL -----------------------------------------------------------------------------


def test_turngym_jsonl_reads_paths_inline_csv_and_computes_missing_answers():
    tasks = by_id(load_tasks(TURNGYM))
    largest, count, ranked, inline = (tasks[k] for k in ("city-largest", "city-count", "city-ranked", "inline-sum"))
    assert largest.answer == "Kinshasa" and largest.split == "test" and largest.difficulty == "easy"
    assert largest.tables["cities"]["population"].tolist()[0] == 15388000
    assert count.answer == 3 and count.gold_sql.startswith("SELECT COUNT(*)") and count.split == "train"
    assert ranked.answer == ["Kinshasa", "Lagos", "Cairo", "Luanda"] and ranked.order_matters
    assert (
        inline.tables["notes"]["value"].sum() == 6 and inline.answer == 6 and inline.meta == {"note": "inline CSV text"}
    )


def test_generated_tasks_round_trip_through_turngym_jsonl(tmp_path):
    rng = np.random.default_rng(0)
    gen = TableTaskGenerator()
    originals = [gen.sample(rng, difficulty=d) for d in ("easy", "medium", "hard") for _ in range(4)]
    path = write(tmp_path / "gen.jsonl", [json.dumps(t.to_dict()) for t in originals])
    loaded = load_tasks(path)
    assert len(loaded) == len(originals)
    for original in originals:
        back = loaded.get(original.id)
        assert back.to_dict() == original.to_dict()
        for name, df in original.tables.items():
            pd.testing.assert_frame_equal(back.tables[name], df)


@pytest.mark.parametrize(
    ("line", "message"),
    [
        ("[1, 2]", "expected a JSON object, got list"),
        ('{"id": "a", "question": "q", "answer": 1', "not valid JSON"),
        ('{"question": "q", "answer": 1, "tables": {"t": "a\\n1\\n"}}', "missing field 'id'"),
        (
            '{"id": "a", "question": 3, "answer": 1, "tables": {"t": "a\\n1\\n"}}',
            "field 'question' must be str, got int",
        ),
        ('{"id": "a", "question": "q", "answer": 1, "tables": {}}', "'tables' is empty"),
        (
            '{"id": "a", "question": "q", "answer": 1, "tables": {"my table": "a\\n1\\n"}}',
            "table name 'my table' is not a valid identifier",
        ),
        (
            '{"id": "a", "question": "q", "answer": 1, "tables": {"t": "nope.csv"}}',
            "table 't': CSV file .*nope.csv does not exist",
        ),
        ('{"id": "a", "question": "q", "answer": 1, "tables": {"t": 5}}', "table 't': must be a CSV path"),
        ('{"id": "a", "question": "q", "tables": {"t": "a\\n1\\n"}}', "needs an 'answer', or a 'gold_sql'"),
        ('{"id": "a", "question": "q", "gold_sql": "SELECT b FROM t", "tables": {"t": "a\\n1\\n"}}', "gold SQL failed"),
        (
            '{"id": "a", "question": "q", "answer": 1, "difficulty": "extreme", "tables": {"t": "a\\n1\\n"}}',
            "difficulty must be one of",
        ),
        (
            '{"id": "a", "question": "q", "answer": 1, "split": "dev", "tables": {"t": "a\\n1\\n"}}',
            "split must be one of",
        ),
    ],
)
def test_turngym_jsonl_errors_name_file_line_and_problem(tmp_path, line, message):
    good = '{"id": "ok", "question": "q", "answer": 1, "tables": {"t": "a\\n1\\n"}}'
    path = write(tmp_path / "tasks.jsonl", [good, "", line])
    with pytest.raises(DatasetFormatError, match=r"tasks.jsonl:3: .*" + message):
        load_tasks(path, format="turngym")


def test_duplicate_ids_are_an_error(tmp_path):
    line = '{"id": "same", "question": "q", "answer": 1, "tables": {"t": "a\\n1\\n"}}'
    with pytest.raises(DatasetFormatError, match=r"task ids must be unique, repeated: \['same'\]"):
        load_tasks(write(tmp_path / "d.jsonl", [line, line]))


# -- dispatch ----------------------------------------------------------------------------------


def test_load_tasks_detects_every_format(spider_root):
    assert detect_format(WTQ_TRAIN) == "wikitq"
    assert detect_format(WIKISQL) == "wikisql"
    assert detect_format(TABLEBENCH) == "tablebench"
    assert detect_format(TURNGYM) == "turngym"
    assert detect_format(spider_root) == "spider"
    for path in (WTQ_TRAIN, WIKISQL, TABLEBENCH, TURNGYM, spider_root):
        source = load_tasks(path)
        assert isinstance(source, DatasetSource) and len(source) >= 3
        assert all(isinstance(t, TableTask) and t.tables and t.question for t in source.tasks)


def test_load_tasks_errors(tmp_path):
    with pytest.raises(FileNotFoundError):
        load_tasks(tmp_path / "missing.jsonl")
    with pytest.raises(DatasetFormatError, match="format must be one of"):
        load_tasks(TURNGYM, format="csv")
    with pytest.raises(DatasetFormatError, match="empty file"):
        load_tasks(write(tmp_path / "empty.jsonl", [""]))
    with pytest.raises(DatasetFormatError, match=r"odd.jsonl:1: cannot tell the format from fields \['x'\]"):
        load_tasks(write(tmp_path / "odd.jsonl", ['{"x": 1}']))
    with pytest.raises(DatasetFormatError, match="cannot tell the format of this directory"):
        load_tasks(tmp_path)


def test_loaded_sources_sample_by_difficulty_and_split(spider_root):
    source = load_tasks(spider_root)
    rng = np.random.default_rng(0)
    assert source.sample(rng, difficulty="hard").id == "spider-concert_singer-2"
    assert source.get("spider-concert_singer-0").answer == 4
