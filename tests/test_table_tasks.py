"""The table-QA generator: determinism, pandas/SQL agreement for every template, rejection, splits."""

from __future__ import annotations

import datetime as dt
import json
from collections import Counter

import numpy as np
import pandas as pd
import pytest

from turngym.tasks.base import DIFFICULTIES, TaskNotFound
from turngym.tasks.table import (
    DOMAINS,
    TEMPLATES,
    Question,
    TableTask,
    TableTaskGenerator,
    Template,
    TemplateUnusable,
    answers_agree,
    run_pandas,
    run_sql,
)
from turngym.tasks.table.domains import Column, TableSchema, TableSet, name_pools
from turngym.tasks.table.templates import argmax_row, sql_lit, templates_for

GEN = TableTaskGenerator()


def _assert_gold_holds(task: TableTask) -> None:
    """Both gold programs, run again on the task's tables, give the task's answer."""
    by_pandas = run_pandas(task.gold_pandas, task.tables)
    by_sql = run_sql(task.gold_sql, task.tables, as_list=task.answer_type == "list")
    assert answers_agree(by_pandas, task.answer, order_matters=task.order_matters), (task.id, by_pandas)
    assert answers_agree(by_sql, task.answer, order_matters=task.order_matters), (task.id, by_sql)


def _make_many(template: str, difficulty: str, count: int) -> list[TableTask]:
    """``count`` tasks of one template, cycling through domains (skipping those it cannot use)."""
    tasks: list[TableTask] = []
    seed = 0
    while len(tasks) < count and seed < 6 * count:
        domain = list(DOMAINS)[seed % len(DOMAINS)]
        try:
            tasks.append(GEN.make("train", difficulty, domain, template, seed))
        except TemplateUnusable:
            pass
        seed += 1
    return tasks


# -- the template set --------------------------------------------------------------------------


def test_at_least_thirty_templates_across_three_difficulties():
    assert len(TEMPLATES) >= 30
    counts = Counter(t.difficulty for t in TEMPLATES.values())
    assert set(counts) == set(DIFFICULTIES) and min(counts.values()) >= 8


@pytest.mark.parametrize("name", sorted(TEMPLATES))
def test_every_template_yields_tasks_whose_pandas_and_sql_answers_agree(name):
    tasks = _make_many(name, TEMPLATES[name].difficulty, 8)
    assert len(tasks) == 8
    for task in tasks:
        assert task.template == name and task.question and task.gold_sql and task.gold_pandas
        _assert_gold_holds(task)
    assert len({tuple(t.table_hashes().values()) for t in tasks}) == 8  # fresh tables for every task
    assert len({(t.question, t.answer_text) for t in tasks}) > 2


@pytest.mark.parametrize("difficulty", DIFFICULTIES)
@pytest.mark.parametrize("name", sorted(TEMPLATES))
def test_every_template_works_at_every_difficulty(name, difficulty):
    tasks = _make_many(name, difficulty, 2)
    assert len(tasks) == 2
    for task in tasks:
        _assert_gold_holds(task)


@pytest.mark.slow
@pytest.mark.parametrize("difficulty", DIFFICULTIES)
@pytest.mark.parametrize("name", sorted(TEMPLATES))
def test_twenty_tasks_per_template_and_difficulty_all_agree(name, difficulty):
    tasks = _make_many(name, difficulty, 20)
    assert len(tasks) == 20
    for task in tasks:
        _assert_gold_holds(task)


def test_answers_have_the_declared_types():
    kinds = {"number": (int, float), "string": str, "bool": bool, "date": dt.date, "list": list}
    rng = np.random.default_rng(3)
    for _ in range(150):
        task = GEN.sample(rng)
        assert isinstance(task.answer, kinds[task.answer_type]), (task.id, task.answer)
        assert task.answer_type != "number" or not isinstance(task.answer, bool)
        if task.answer_type == "list":
            assert 1 <= len(task.answer) <= GEN.max_list_items


# -- determinism and ids -----------------------------------------------------------------------


def test_same_seed_same_task_including_tables():
    a = GEN.sample(np.random.default_rng(42), difficulty="hard")
    b = GEN.sample(np.random.default_rng(42), difficulty="hard")
    assert a.id == b.id and a.to_dict() == b.to_dict()
    c = GEN.sample(np.random.default_rng(43), difficulty="hard")
    assert c.to_dict() != a.to_dict()


def test_get_rebuilds_a_sampled_task_from_its_id():
    rng = np.random.default_rng(7)
    for difficulty in DIFFICULTIES:
        for split in ("train", "test"):
            task = GEN.sample(rng, difficulty=difficulty, split=split)
            assert task.difficulty == difficulty and task.split == split
            assert task.id.startswith(f"table-{split}-{difficulty}-{task.domain}-{task.template}-")
            again = TableTaskGenerator().get(task.id)
            assert again.to_dict() == task.to_dict()
            for name, df in task.tables.items():
                pd.testing.assert_frame_equal(again.tables[name], df)


@pytest.mark.parametrize(
    "bad",
    ["", "table-train-easy-sales-count_rows", "table-dev-easy-sales-count_rows-1", "table-train-easy-moon-count_rows-1",
     "table-train-easy-sales-no_such_template-1", "tool-train-easy-sales-count_rows-1"],
)  # fmt: skip
def test_get_rejects_bad_ids(bad):
    with pytest.raises(TaskNotFound):
        GEN.get(bad)


def test_bad_choices_are_clear_errors():
    rng = np.random.default_rng(0)
    with pytest.raises(ValueError, match="difficulty"):
        GEN.sample(rng, difficulty="impossible")
    with pytest.raises(ValueError, match="split"):
        GEN.sample(rng, split="dev")
    with pytest.raises(ValueError, match="domain"):
        TableTaskGenerator(domains=["moon"])
    with pytest.raises(ValueError, match="template"):
        GEN.make("train", "easy", "sales", "no_such_template", 1)


def test_sampling_defaults_to_train_and_any_difficulty():
    rng = np.random.default_rng(5)
    tasks = [GEN.sample(rng) for _ in range(30)]
    assert {t.split for t in tasks} == {"train"}
    assert {t.difficulty for t in tasks} == set(DIFFICULTIES)


def test_a_domain_restriction_is_respected():
    gen = TableTaskGenerator(domains=["hr"])
    rng = np.random.default_rng(0)
    assert {gen.sample(rng).domain for _ in range(10)} == {"hr"}


# -- rejection ---------------------------------------------------------------------------------


def _off_by_one(rng: np.random.Generator, tables: TableSet) -> Question:
    """Broken on purpose: pandas counts ``> x``, SQL ``>= x``; x is a value present in the table half the time."""
    t = tables.main
    m = next(c.name for c in tables.schemas[t].of("measure") if tables.tables[t][c.name].notna().all())
    values = np.sort(tables.tables[t][m].unique())
    x = values[len(values) // 2] if rng.random() < 0.5 else (values[0] + values[1]) / 2
    return Question(
        f"How many rows have {m} above {x}?",
        f'SELECT COUNT(*) FROM {t} WHERE "{m}" >= {sql_lit(x)}',
        f"answer = int(({t}[{m!r}] > {float(x)!r}).sum())",
        "number",
    )


def test_a_disagreeing_attempt_is_rejected_and_resampled():
    gen = TableTaskGenerator(["hr"], templates={"off_by_one": Template("off_by_one", "easy", _off_by_one)})
    rng = np.random.default_rng(0)
    tasks = [gen.sample(rng, difficulty="easy") for _ in range(30)]
    assert sum(t.meta["rejected"] for t in tasks) > 0
    assert any(t.meta["attempts"] > 1 for t in tasks)
    for task in tasks:  # only agreeing attempts survive
        assert run_pandas(task.gold_pandas, task.tables) == run_sql(task.gold_sql, task.tables, as_list=False)


def test_a_template_that_always_disagrees_is_reported():
    def always_wrong(rng, tables):
        return Question("?", "SELECT 1", "answer = 2", "number")

    gen = TableTaskGenerator(templates={"always_wrong": Template("always_wrong", "easy", always_wrong)}, max_attempts=4)
    with pytest.raises(TemplateUnusable, match="4 rejected"):
        gen.make("train", "easy", "sales", "always_wrong", 0)


def test_a_failing_gold_program_is_rejected_not_raised():
    def bad_sql(rng, tables):
        return Question("?", "SELECT no_such_column FROM orders", "answer = 1", "number")

    gen = TableTaskGenerator(templates={"bad_sql": Template("bad_sql", "easy", bad_sql)}, max_attempts=3)
    with pytest.raises(TemplateUnusable, match="3 rejected"):
        gen.make("train", "easy", "sales", "bad_sql", 0)


# -- ties --------------------------------------------------------------------------------------


def test_highest_lists_every_tied_row():
    df = pd.DataFrame({"name": ["Ann", "Bob", "Cy", "Dee"], "score": [7, 9, 9, 3]})
    schema = TableSchema(
        "people", "person", "people", (Column("name", "name", "entity"), Column("score", "score", "measure"))
    )
    tables = TableSet("test", "people", {"people": df}, {"people": schema})
    question = argmax_row(np.random.default_rng(0), tables)
    assert question is not None and "list them all" in question.text
    assert sorted(run_pandas(question.pandas, tables.tables)) == ["Bob", "Cy"]
    assert sorted(run_sql(question.sql, tables.tables, as_list=True)) == ["Bob", "Cy"]


def test_ordered_answers_say_how_ties_break():
    for task in _make_many("top_k", "medium", 10):
        assert task.order_matters and "alphabetical" in task.question


# -- splits ------------------------------------------------------------------------------------


def test_name_pools_of_the_splits_are_disjoint():
    train, test = name_pools("train"), name_pools("test")
    for kind in ("people", "products", "teams", "cities"):
        a, b = set(getattr(train, kind)), set(getattr(test, kind))
        assert a and b and not a & b, kind


def test_train_and_test_never_share_a_table():
    rng = np.random.default_rng(11)
    hashes = {"train": set(), "test": set()}
    for split in hashes:
        for _ in range(150):
            task = GEN.sample(rng, split=split)
            hashes[split].update(task.table_hashes().values())
    assert len(hashes["train"]) > 200 and len(hashes["test"]) > 200
    assert not hashes["train"] & hashes["test"]


# -- tables ------------------------------------------------------------------------------------


def test_tables_are_realistic_and_sized_by_difficulty():
    rng = np.random.default_rng(1)
    sizes = {
        d: [max(len(df) for df in GEN.sample(rng, difficulty=d).tables.values()) for _ in range(20)]
        for d in DIFFICULTIES
    }
    assert max(sizes["easy"]) <= 30 and max(sizes["hard"]) >= 1000
    hr = GEN.make("train", "hard", "hr", "count_rows", 0).tables["employees"]
    assert hr["name"].duplicated().any()  # shared names
    assert hr["rating"].isna().any()  # missing values
    assert str(hr["hire_date"].dtype).startswith("datetime64")


# -- the record --------------------------------------------------------------------------------


def test_a_task_round_trips_through_json():
    rng = np.random.default_rng(9)
    for _ in range(20):
        task = GEN.sample(rng)
        back = TableTask.from_dict(json.loads(json.dumps(task.to_dict())))
        assert back.to_dict() == task.to_dict()
        assert back.answer == task.answer and type(back.answer) is type(task.answer)
        for name, df in task.tables.items():
            pd.testing.assert_frame_equal(back.tables[name], df)


def test_answer_text_is_what_an_oracle_writes():
    task = TableTask(id="x", question="?", answer=[dt.date(2023, 1, 5), 3.0])
    assert task.answer_text == "2023-01-05; 3"


def test_templates_for_lists_one_difficulty():
    assert {t.difficulty for t in templates_for("hard")} == {"hard"}
