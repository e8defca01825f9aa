"""Tool worlds and their generated tasks: determinism, gold replay, impossibility, distractors."""

from __future__ import annotations

import dataclasses
import json
from statistics import mean

import numpy as np
import pytest

from turngym.tasks.base import TaskNotFound
from turngym.tasks.toolworlds import WORLD_TYPES, ToolTask, ToolTaskGenerator, answer_matches, says_impossible
from turngym.tasks.toolworlds.task import NOTHING_TO_ADD
from turngym.tools import ToolError

WORLDS = sorted(WORLD_TYPES)
DIFFICULTIES = ("easy", "medium", "hard")
SEEDS = range(20)  # 4 worlds x 3 difficulties x 20 seeds = 240 tasks
GEN = ToolTaskGenerator()
ALL_TASKS = [GEN.make(w, d, s) for w in WORLDS for d in DIFFICULTIES for s in SEEDS]


def _good_final_message(task: ToolTask) -> str:
    parts = list(task.answer or [])
    if task.expect_impossible:
        parts.append("Sorry, I cannot do that.")
    return "Done. " + " ".join(parts)


# -- determinism ---------------------------------------------------------------------------------


def test_same_coordinates_give_the_same_task_and_worlds():
    for world in WORLDS:
        a, b = GEN.make(world, "hard", 11), GEN.make(world, "hard", 11)
        assert dataclasses.asdict(a) == dataclasses.asdict(b)
        assert a.build_worlds().state() == b.build_worlds().state()


def test_sampling_is_a_function_of_the_rng_seed():
    ids = [GEN.sample(np.random.default_rng(3)).id for _ in range(3)]
    assert len(set(ids)) == 1
    assert len({GEN.sample(np.random.default_rng(s)).id for s in range(20)}) > 10


def test_get_rebuilds_a_sampled_task_and_rejects_bad_ids():
    rng = np.random.default_rng(0)
    for _ in range(10):
        task = GEN.sample(rng)
        assert dataclasses.asdict(GEN.get(task.id)) == dataclasses.asdict(task)
    # another generator config still rebuilds it: the distractor count is in the id
    task = ToolTaskGenerator(distractors={"hard": 0}).make("bank", "hard", 4)
    assert GEN.get(task.id).worlds == ["bank"]
    for bad in ("bank-hard-4", "casino-easy-d0-1", "bank-extreme-d0-1"):
        with pytest.raises(TaskNotFound):
            GEN.get(bad)


def test_splits_are_honoured():
    rng = np.random.default_rng(1)
    assert {GEN.sample(rng, split="test").split for _ in range(20)} == {"test"}
    assert {GEN.sample(rng, split="train").split for _ in range(20)} == {"train"}
    with pytest.raises(ValueError):
        GEN.sample(rng, split="dev")


def test_task_records_and_world_states_are_json():
    task = GEN.make("shop", "hard", 5)
    json.dumps(dataclasses.asdict(task))
    for task in ALL_TASKS[::17]:
        json.dumps(task.build_worlds().state())


# -- gold replay -----------------------------------------------------------------------------


def test_there_are_enough_tasks():
    assert len(ALL_TASKS) >= 200


@pytest.mark.parametrize("task", ALL_TASKS, ids=lambda t: t.id)
def test_every_task_is_solved_by_its_gold_calls(task: ToolTask):
    worlds = task.replay_gold()
    satisfied, total = task.goal_progress(worlds)
    assert satisfied == total
    outcome = task.evaluate(worlds, _good_final_message(task))
    assert outcome.success and outcome.state_match, outcome


@pytest.mark.parametrize("task", ALL_TASKS[::3], ids=lambda t: t.id)
def test_parallel_calls_are_order_independent(task: ToolTask):
    worlds = task.build_worlds()
    for turn in task.gold_turns:
        for c in reversed(turn):
            worlds.call(c["name"], c["arguments"])
    assert worlds.state() == task.replay_gold().state()


def test_doing_nothing_fails_every_feasible_task():
    for task in ALL_TASKS:
        if task.expect_impossible:
            continue
        outcome = task.evaluate(task.build_worlds(), "Done.")
        assert not outcome.success, task.id
        if task.predicates:
            satisfied, total = task.goal_progress(task.build_worlds())
            assert satisfied < total, task.id


def test_a_wrong_answer_fails():
    task = next(t for t in ALL_TASKS if t.answer and not t.expect_impossible)
    worlds = task.replay_gold()
    assert task.evaluate(worlds, f"It is {task.answer[0]}.").success
    assert not task.evaluate(worlds, "It is 99999999.").success


# -- impossible tasks ------------------------------------------------------------------------


IMPOSSIBLE = [t for t in ALL_TASKS if t.expect_impossible]


def test_impossible_tasks_exist_in_every_world():
    assert {t.worlds[0] for t in IMPOSSIBLE} == set(WORLDS)


@pytest.mark.parametrize("task", IMPOSSIBLE, ids=lambda t: t.id)
def test_impossible_tasks_cannot_be_done(task: ToolTask):
    initial = task.build_worlds()
    # the gold calls only look: they change nothing
    assert task.replay_gold().state() == initial.state()
    assert all(p.holds(initial.state()) for p in task.predicates)
    # the literal request fails with a domain error, leaving the state as it was
    for blocked in task.meta["blocked_calls"]:
        worlds = task.build_worlds()
        with pytest.raises(ToolError):
            worlds.call(blocked["name"], blocked["arguments"])
        assert worlds.state() == initial.state()
    # success needs the final message to say so
    assert not task.evaluate(initial, "All done!").success
    assert task.evaluate(initial, "I can't do that: it is not possible.").success


# -- difficulty, features, distractors -------------------------------------------------------


def test_difficulty_grows_with_required_calls():
    counts = {
        d: [len(t.gold_calls) for t in ALL_TASKS if t.difficulty == d and not t.expect_impossible] for d in DIFFICULTIES
    }
    assert max(counts["easy"]) <= 2 and min(counts["easy"]) >= 1
    assert 2 <= min(counts["medium"]) and max(counts["medium"]) <= 4
    assert min(counts["hard"]) >= 3
    assert mean(counts["easy"]) < mean(counts["medium"]) < mean(counts["hard"])


@pytest.mark.parametrize("world", WORLDS)
def test_each_world_poses_parallel_clarifying_and_impossible_tasks(world: str):
    tasks = [GEN.make(world, d, s) for d in ("medium", "hard") for s in range(40)]
    features = {f for t in tasks for f in t.meta["features"]}
    assert {"sequential", "parallel", "clarify", "impossible"} <= features


def test_distractor_tools_are_offered():
    for task in ALL_TASKS:
        expected = {"easy": 0, "medium": 1, "hard": 2}[task.difficulty]
        assert len(task.worlds) == 1 + expected and len(set(task.worlds)) == len(task.worlds)
        tools = task.available_tools()
        names = [t.name for t in tools]
        assert len(names) == len(set(names)) and "ask_user" in names
        for other in task.worlds[1:]:
            assert set(WORLD_TYPES[other].tool_methods) <= set(names)
        gold_names = {c["name"] for c in task.gold_calls}
        assert gold_names <= set(WORLD_TYPES[task.worlds[0]].tool_methods) | {"ask_user"}


def test_ask_user_gives_the_scripted_reply():
    clarifying = next(t for t in ALL_TASKS if "clarify" in t.meta["features"])
    worlds = clarifying.build_worlds()
    assert worlds.call("ask_user", {"question": "How much?"}) == clarifying.clarification
    plain = next(t for t in ALL_TASKS if t.clarification is None)
    assert plain.build_worlds().call("ask_user", {"question": "Anything else?"}) == NOTHING_TO_ADD
    assert plain.user_reply("a plain-text question") == NOTHING_TO_ADD


def test_goal_progress_rises_to_full_along_the_gold_calls():
    task = next(t for t in ALL_TASKS if len(t.predicates) >= 2 and not t.expect_impossible)
    worlds = task.build_worlds()
    progress = [task.goal_progress(worlds)[0]]
    for turn in task.gold_turns:
        for c in turn:
            worlds.call(c["name"], c["arguments"])
        progress.append(task.goal_progress(worlds)[0])
    assert progress[0] < progress[-1] == len(task.predicates)


# -- the worlds' tools -------------------------------------------------------------------------


def _worlds(name: str):
    return GEN.make(name, "easy", 0).build_worlds()


def test_bank_rejects_bad_transfers():
    ws = _worlds("bank")
    bank = ws.worlds["bank"]
    a, b = list(bank.accounts)[:2]
    for account in (a, b):
        bank.accounts[account].frozen = False
    with pytest.raises(ToolError, match="Insufficient funds"):
        ws.call("transfer", {"from_account_id": a, "to_account_id": b, "amount": 10**7})
    with pytest.raises(ToolError, match="No account with id 'ACC-0'"):
        ws.call("transfer", {"from_account_id": "ACC-0", "to_account_id": b, "amount": 1})
    with pytest.raises(ToolError, match="more than two decimal places"):
        ws.call("transfer", {"from_account_id": a, "to_account_id": b, "amount": 1.001})
    with pytest.raises(ToolError, match="is not of type 'number'"):
        ws.call("transfer", {"from_account_id": a, "to_account_id": b, "amount": "5"})
    before = bank.accounts[a].balance_cents
    ws.call("transfer", {"from_account_id": a, "to_account_id": b, "amount": 1.25})
    assert bank.accounts[a].balance_cents == before - 125


def test_shop_agenda_and_workspace_report_domain_errors():
    shop = _worlds("shop")
    with pytest.raises(ToolError, match="No order"):
        shop.call("cancel_order", {"order_id": "ORD-1"})
    agenda = _worlds("agenda")
    event = next(iter(agenda.worlds["agenda"].events.values()))
    with pytest.raises(ToolError, match="conflicts with"):
        agenda.call(
            "create_event",
            {
                "title": "x",
                "date": event.date,
                "start_time": event.start,
                "duration_minutes": 30,
                "attendee_emails": [],
            },
        )
    with pytest.raises(ToolError, match="HH:MM"):
        agenda.call(
            "create_event",
            {"title": "x", "date": event.date, "start_time": "9am", "duration_minutes": 30, "attendee_emails": []},
        )
    files = _worlds("workspace")
    with pytest.raises(ToolError, match="absolute"):
        files.call("read_file", {"path": "reports/q1_summary.txt"})
    with pytest.raises(ToolError, match="Unknown tool 'rm'"):
        files.call("rm", {"path": "/"})


def test_answer_and_refusal_matching():
    assert answer_matches("The total is $1,234.50.", ["1234.50"])
    assert not answer_matches("There are 17 left.", ["7"])
    assert not answer_matches("It holds 1234.56", ["1234.5"])
    assert says_impossible("I'm unable to do that: insufficient funds.")
    assert not says_impossible("Transferred $50.00 as requested.")
