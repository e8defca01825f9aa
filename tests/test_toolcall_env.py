"""ToolCall-v0: tool worlds, dataset tasks and an MCP server, played through the gymnasium API."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import gymnasium as gym
import numpy as np
import pytest
from gymnasium.utils.env_checker import check_env
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from test_mcp_tools import SERVER, server_processes  # the fixture MCP server and its process finder

import turngym  # noqa: F401  (registers the ids)
from turngym.agents.oracle import OracleAgent
from turngym.agents.random_agent import RandomAgent
from turngym.agents.toolcall_oracle import REFUSAL, ToolCallOracle, plan
from turngym.envs.toolcall import MCPTask, ToolCallEnv, goal_progress_of
from turngym.tasks.base import DIFFICULTIES
from turngym.tasks.toolworlds import WORLD_TYPES, ToolTaskGenerator

ENV_ID = "turngym/ToolCall-v0"
FIXTURES = Path(__file__).parent / "fixtures" / "tools"
BFCL = {"tasks": str(FIXTURES / "bfcl_questions.jsonl"), "answers": str(FIXTURES / "bfcl_possible_answers.jsonl")}
XLAM = {"tasks": str(FIXTURES / "xlam.json")}
TOOLACE = {"tasks": str(FIXTURES / "toolace.json"), "task_format": "toolace"}
STEP_KEYS = {"turn", "action_valid", "reward_components", "success", "error", "constraint_violations", "messages"}
COMPONENTS = {
    "success",
    "invalid_action",
    "shaping",
    "goal_progress",
    "toolrl_format",
    "toolrl_correctness",
    "ast_match",
}
GENERATOR = ToolTaskGenerator()

# Task ids (world-difficulty-dN-seed) with known features, checked in the tests that use them.
CLARIFY, ANSWER, IMPOSSIBLE, TRANSFER = "bank-medium-d1-3", "bank-medium-d1-4", "bank-medium-d1-2", "bank-easy-d0-1"


def play(env, act, max_steps: int = 40):
    """Step with ``act(obs, info)`` until the episode ends; every step's result."""
    obs, info = env.unwrapped._last_obs, {}
    steps = []
    for _ in range(max_steps):
        step = env.step(act(obs, info))
        steps.append(step)
        obs, _, terminated, truncated, info = step
        if terminated or truncated:
            return steps
    raise AssertionError("the episode did not end")


def play_oracle(env, **oracle_kwargs):
    oracle = ToolCallOracle(env.unwrapped, **oracle_kwargs)
    return play(env, oracle.act)


def call(tool: str, /, **arguments) -> str:
    return "<tool_call>" + json.dumps({"name": tool, "arguments": arguments}) + "</tool_call>"


# -- registration and the gymnasium contract ----------------------------------------------------


@pytest.mark.parametrize("env_id", [ENV_ID, f"turngym:{ENV_ID}"])
def test_make_by_id(env_id):
    env = gym.make(env_id)
    try:
        assert isinstance(env.unwrapped, ToolCallEnv)
        obs, info = env.reset(seed=0)
        names = [t["function"]["name"] for t in info["tools"]]
        assert "ask_user" in names and obs == env.unwrapped.task.instruction
        assert {"instructions", "tools", "task_id", "difficulty", "max_turns"} <= set(info)
        assert "plain text" in info["instructions"]
    finally:
        env.close()


def test_check_env_passes():
    check_env(gym.make(ENV_ID).unwrapped)  # the first random action is a final message: info is deterministic too
    check_env(gym.make(ENV_ID, **XLAM).unwrapped)


def test_info_has_the_same_keys_every_step():
    env = gym.make(ENV_ID)
    env.reset(options={"task_id": CLARIFY})
    for action in ["<tool_call>{bad</tool_call>", call("nope"), "How much should I move?", "Done."]:
        *_, terminated, truncated, info = env.step(action)
        assert STEP_KEYS <= set(info) and set(info["reward_components"]) == COMPONENTS
    assert terminated


# -- the oracle wins everything, a random agent nothing ------------------------------------------


@pytest.mark.parametrize("world", sorted(WORLD_TYPES))
@pytest.mark.parametrize("difficulty", DIFFICULTIES)
def test_oracle_wins_every_generated_task(world, difficulty):
    env = gym.make(ENV_ID, worlds=[world])
    features: set[str] = set()
    try:
        for seed in range(14):
            obs, info = env.reset(seed=seed, options={"difficulty": difficulty})
            task = env.unwrapped.task
            features |= set(task.meta["features"])
            steps = play_oracle(env, native=seed % 2 == 1, text_questions=seed % 3 == 0)
            *_, terminated, truncated, info = steps[-1]
            assert terminated and not truncated and info["success"] is True, task.id
            assert all(s[4]["action_valid"] for s in steps), task.id
            values = info["reward_components"]
            assert values["toolrl_correctness"] == 3.0 and values["toolrl_format"] == 1.0, task.id
            if task.predicates:
                assert values["goal_progress"] == 1.0
            assert env.unwrapped.judgement.state_match
            assert info["episode"]["success"] and info["episode"]["turns"] == len(steps)
    finally:
        env.close()
    if difficulty != "easy":
        assert {"parallel", "sequential"} <= features  # the sweep exercises the hard parts


def test_the_sweep_covers_clarifications_answers_and_impossible_tasks():
    features = {
        f
        for w in WORLD_TYPES
        for d in DIFFICULTIES
        for s in range(14)
        for f in GENERATOR.make(w, d, s).meta["features"]
    }
    assert {"clarify", "answer", "impossible", "parallel", "sequential"} <= features


def test_registered_oracle_agent_plays_through_the_registry():
    env = gym.make(ENV_ID)
    agent = OracleAgent(env)
    for seed in range(5):
        obs, info = env.reset(seed=seed)
        agent.reset(info)
        *_, info = play(env, agent.act)[-1]
        assert info["success"] is True


def test_random_agent_does_not_win():
    env = gym.make(ENV_ID)
    wins = 0
    for seed in range(80):
        obs, info = env.reset(seed=seed)
        agent = RandomAgent(seed)
        agent.reset(info, seed=seed)
        *_, info = play(env, agent.act)[-1]
        wins += bool(info["success"])
    assert wins == 0


# -- conversation rules ------------------------------------------------------------------------


def test_a_plain_text_question_gets_the_scripted_reply_once():
    env = gym.make(ENV_ID)
    env.reset(options={"task_id": CLARIFY})
    task = env.unwrapped.task
    assert task.clarification
    obs, reward, terminated, _, info = env.step("How much should I move?")
    assert obs == task.clarification and not terminated and info["action_valid"]
    assert info["messages"] == [{"role": "user", "content": task.clarification}]
    assert env.unwrapped.reward_state()["clarified"] is True
    # The user has clarified: the next message without tool calls is final, question or not.
    *_, terminated, _, info = env.step("Which account again?")
    assert terminated and info["success"] is False


def test_a_question_with_nothing_to_clarify_is_a_final_message():
    env = gym.make(ENV_ID)
    env.reset(options={"task_id": TRANSFER})
    assert env.unwrapped.task.clarification is None
    *_, terminated, _, info = env.step("Should I really do that?")
    assert terminated and info["success"] is False


def test_ask_user_tool_clarifies_too():
    env = gym.make(ENV_ID)
    env.reset(options={"task_id": CLARIFY})
    obs, *_ = env.step(call("ask_user", question="How much?"))
    assert env.unwrapped.task.clarification in obs
    *_, terminated, _, _ = env.step("Is that all?")  # nothing pending any more
    assert terminated


def test_impossible_tasks_need_a_refusal():
    env = gym.make(ENV_ID)
    env.reset(options={"task_id": IMPOSSIBLE})
    task = env.unwrapped.task
    assert task.expect_impossible
    actions = plan(task, "world")[:-1]
    *_, info = play(env, lambda o, i: actions.pop(0) if actions else "Done, all set.")[-1]
    assert info["success"] is False and env.unwrapped.judgement.refused is False
    env.reset(options={"task_id": IMPOSSIBLE})
    *_, info = play(env, lambda o, i: REFUSAL)[-1]  # declining straight away leaves the state as it was
    assert info["success"] is True


def test_answers_are_judged_in_the_final_message_and_answer_tags_work():
    env = gym.make(ENV_ID)
    env.reset(options={"task_id": ANSWER})
    task = env.unwrapped.task
    assert task.answer
    actions = [*plan(task, "world")[:-1], f"<answer>{task.answer[0]}</answer>"]
    *_, info = play(env, lambda o, i: actions.pop(0))[-1]
    assert info["success"] is True and env.unwrapped.judgement.answer_ok
    env.reset(options={"task_id": ANSWER})
    actions = [*plan(task, "world")[:-1], "The combined balance is 1.00."]
    *_, info = play(env, lambda o, i: actions.pop(0))[-1]
    assert info["success"] is False and env.unwrapped.judgement.answer_ok is False


def test_failing_calls_are_tool_results_and_bad_calls_are_invalid():
    env = gym.make(ENV_ID)
    env.reset(options={"task_id": TRANSFER})
    obs, reward, terminated, _, info = env.step(
        call("transfer", from_account_id="ACC-9999", to_account_id="ACC-1001", amount=5)
    )
    assert "Error: No account with id 'ACC-9999'" in obs and info["action_valid"] and reward == 0.0
    assert env.unwrapped.reward_state()["tool_errors"] == 1
    bad = [
        call("teleport", to="moon"),  # unknown tool
        call("get_balance", account_id=1001),  # wrong type
        call("get_balance", account_id="ACC-1001", verbose=True),  # extra key
        "<tool_call>{not json}</tool_call>",
        {"content": None, "tool_calls": [{"id": "a", "function": {"name": "get_balance", "arguments": "{oops"}}]},
        "<think>only thinking</think>",
    ]
    for action in bad:
        obs, reward, terminated, truncated, info = env.step(action)
        assert not info["action_valid"] and not terminated, action
        assert info["reward_components"]["invalid_action"] == pytest.approx(-0.1)
    assert "Available tools" in env.step(call("teleport"))[0]


def test_native_and_text_tool_calls_are_the_same_episode():
    observations = []
    for native in (False, True):
        env = gym.make(ENV_ID)
        env.reset(seed=11)
        steps = play_oracle(env, native=native)
        observations.append([s[0].replace("oracle_", "call_") for s in steps])
        assert steps[-1][4]["success"]
    assert observations[0] == observations[1]


# -- determinism, options, vector envs -----------------------------------------------------------


def test_a_seed_fixes_the_episode():
    def episode(seed):
        env = gym.make(ENV_ID)
        obs, info = env.reset(seed=seed)
        steps = play_oracle(env)
        return obs, info["task_id"], info["tools"], [(s[0], s[1]) for s in steps]

    assert episode(7) == episode(7)
    assert len({episode(s)[1] for s in range(6)}) > 1


def test_reset_options():
    env = gym.make(ENV_ID)
    for difficulty in DIFFICULTIES:
        _, info = env.reset(seed=3, options={"difficulty": difficulty})
        assert info["difficulty"] == difficulty
    for split in ("train", "test"):
        env.reset(seed=3, options={"split": split})
        assert env.unwrapped.task.split == split
    _, info = env.reset(options={"task_id": ANSWER})
    assert info["task_id"] == ANSWER
    with pytest.raises(ValueError, match="difficulty"):
        env.reset(options={"difficulty": "brutal"})
    with pytest.raises(ValueError, match="unknown reset option"):
        env.reset(options={"world": "bank"})
    with pytest.raises(KeyError, match="not a tool-world task id"):
        env.reset(options={"task_id": "nope"})


def test_generator_knobs():
    env = gym.make(ENV_ID, worlds=["shop"], distractors={"easy": 2})
    _, info = env.reset(seed=0, options={"difficulty": "easy"})
    task = env.unwrapped.task
    assert task.worlds[0] == "shop" and len(task.worlds) == 3
    with pytest.raises(ValueError, match="world"):
        gym.make(ENV_ID, worlds=["moon"])


@pytest.mark.parametrize("mode", ["sync", "async"])
def test_vector_envs(mode):
    envs = gym.make_vec(ENV_ID, num_envs=3, vectorization_mode=mode)
    try:
        obs, info = envs.reset(seed=[0, 1, 2])
        plans = [plan(GENERATOR.get(task_id), "world") for task_id in info["task_id"]]
        successes: list[bool | None] = [None] * 3
        for t in range(max(map(len, plans))):
            actions = [p[t] if t < len(p) else "Done." for p in plans]
            obs, rewards, terminated, truncated, info = envs.step(actions)
            for i in range(3):
                if successes[i] is None and (terminated[i] or truncated[i]):
                    successes[i] = bool(info["success"][i])
        assert successes == [True, True, True]
    finally:
        envs.close()


# -- rewards -----------------------------------------------------------------------------------


def oracle_return(rewards, task_id=TRANSFER, **oracle_kwargs):
    env = gym.make(ENV_ID, rewards=rewards)
    env.reset(options={"task_id": task_id})
    start = env.unwrapped.reward_state()["potential"]
    steps = play_oracle(env, **oracle_kwargs)
    return sum(s[1] for s in steps), steps, start


def test_presets():
    total, _, _ = oracle_return("toolrl")
    assert total == pytest.approx(1.0 + 3.0)  # ToolRL: format + correctness
    total, steps, start = oracle_return("state", task_id=CLARIFY)
    assert total == pytest.approx(1.0 - start)  # shaping telescopes to Φ(end)=0 − Φ(start)
    assert sum(s[1] for s in steps[:-1]) == pytest.approx(1.0 - start)  # progress paid along the way
    total, _, _ = oracle_return("gra")
    assert total == pytest.approx(1.0 + 0.1 * 1.0 + 0.1 * 3.0)
    env = gym.make(ENV_ID, rewards="gra")
    env.reset(options={"task_id": TRANSFER})
    assert sum(s[1] for s in play(env, lambda o, i: "I did it.")) == 0.0  # a failure earns no low-priority reward
    assert oracle_return("sparse")[0] == 1.0


def test_components_by_name_and_unknown_names():
    total, steps, _ = oracle_return({"toolrl_correctness": 1.0, "goal_progress": 2.0})
    assert total == pytest.approx(3.0 + 2.0)
    assert set(steps[-1][4]["reward_components"]) == {"toolrl_correctness", "goal_progress"}
    with pytest.raises(ValueError, match="toolrl_correctness"):
        gym.make(ENV_ID, rewards={"toolrl_corectness": 1.0})


def test_toolrl_correctness_scores_the_whole_episode():
    env = gym.make(ENV_ID)
    env.reset(options={"task_id": CLARIFY})
    gold = env.unwrapped.task.gold_turns
    actions = [plan(env.unwrapped.task, "world")[0], "Done."]  # only the first of several gold turns
    *_, info = play(env, lambda o, i: actions.pop(0))[-1]
    assert len(gold) > 1 and -3.0 < info["reward_components"]["toolrl_correctness"] < 3.0
    env = gym.make(ENV_ID, max_turns=1)
    env.reset(options={"task_id": CLARIFY})
    *_, truncated, info = env.step("<tool_call>{bad")
    assert truncated and info["reward_components"]["toolrl_correctness"] == -3.0  # nothing parsed
    env = gym.make(ENV_ID, rewards={"toolrl_correctness": 1.0, "toolrl_format": {"weight": 0.0, "think": True}})
    env.reset(options={"task_id": TRANSFER})
    gold_action = plan(env.unwrapped.task, "world")[0]
    queue = [gold_action, gold_action, "Done."]
    *_, info = play(env, lambda o, i: queue.pop(0))[-1]
    assert info["reward_components"]["toolrl_correctness"] < 3.0  # a repeated call costs name match
    assert info["reward_components"]["toolrl_format"] == 0.0  # no <think> block anywhere


def test_goal_progress_reads_the_same_as_the_task_on_live_worlds():
    rng = np.random.default_rng(0)
    checked = 0
    for _ in range(150):
        task = GENERATOR.sample(rng)
        worlds = task.build_worlds()
        assert goal_progress_of(task, worlds) == task.goal_progress(worlds)
        for turn in task.gold_turns:
            for c in turn:
                worlds.call(c["name"], c["arguments"])
            assert goal_progress_of(task, worlds) == task.goal_progress(worlds)
            checked += 1
    assert checked > 150


# -- dataset tasks -----------------------------------------------------------------------------


@pytest.mark.parametrize("kwargs", [BFCL, XLAM, TOOLACE], ids=["bfcl", "xlam", "toolace"])
def test_dataset_tasks_end_after_one_scored_turn(kwargs):
    env = gym.make(ENV_ID, **kwargs)
    try:
        ids = [t.id for t in env.unwrapped.source.tasks]
        for i, task_id in enumerate(ids):
            obs, info = env.reset(options={"task_id": task_id})
            task = env.unwrapped.task
            assert env.unwrapped.mode == "dataset" and task.instruction in obs
            assert [t["function"]["name"] for t in info["tools"]] == [t.name for t in task.tools]
            (step,) = play_oracle(env, native=i % 2 == 0)
            obs, reward, terminated, truncated, info = step
            assert terminated and info["success"] is True, task_id
            assert info["reward_components"]["toolrl_correctness"] == 3.0
            if task.possible_answer is not None:
                assert info["reward_components"]["ast_match"] == 1.0
    finally:
        env.close()


def test_dataset_scoring_wrong_calls_and_irrelevance():
    env = gym.make(ENV_ID, **BFCL)
    env.reset(options={"task_id": "bfcl-simple_0"})
    *_, terminated, _, info = env.step(call("geometry.triangle_area", base=12, height=8.0))
    assert terminated and info["success"] is False and info["reward_components"]["ast_match"] == 0.0
    assert -3.0 < info["reward_components"]["toolrl_correctness"] < 3.0
    env.reset(options={"task_id": "bfcl-simple_0"})
    *_, terminated, _, info = env.step("I would rather not call anything.")
    assert terminated and info["success"] is False  # a call was needed
    env.reset(options={"task_id": "bfcl-irrelevance_3"})
    tool = env.unwrapped.task.tools[0]
    *_, info = env.step(call(tool.name))
    assert info["success"] is False  # irrelevance: calling anything is wrong
    env.reset(options={"task_id": "bfcl-simple_0"})
    obs, _, terminated, _, info = env.step("<tool_call>{broken</tool_call>")
    assert not terminated and not info["action_valid"]  # an unparseable turn is not the scored one
    *_, terminated, _, info = env.step(ToolCallOracle(env.unwrapped).act(obs, info))
    assert terminated and info["success"] is True


def test_dataset_prompt_carries_the_conversation():
    env = gym.make(ENV_ID, **TOOLACE)
    obs, _ = env.reset(options={"task_id": "toolace-0-7"})
    assert obs.startswith("Conversation so far:") and "called stock_quote" in obs and '"price": 402.5' in obs
    env = gym.make(ENV_ID, **BFCL)
    _, info = env.reset(options={"task_id": "bfcl-simple_0"})
    assert "scored, not run" in info["instructions"]


def test_bad_dataset_inputs_fail_at_make(tmp_path):
    with pytest.raises(ValueError, match="does not exist"):
        gym.make(ENV_ID, tasks=str(tmp_path / "missing.jsonl"))
    with pytest.raises(ValueError, match="task_format must be one of"):
        gym.make(ENV_ID, tasks=XLAM["tasks"], task_format="csv")
    with pytest.raises(ValueError, match="possible-answer file"):
        gym.make(ENV_ID, tasks=BFCL["tasks"])
    with pytest.raises(ValueError, match="answers= is BFCL"):
        gym.make(ENV_ID, tasks=XLAM["tasks"], answers=BFCL["answers"])
    odd = tmp_path / "odd.jsonl"
    odd.write_text('{"prompt": "hi"}\n')
    with pytest.raises(ValueError, match="cannot tell the format"):
        gym.make(ENV_ID, tasks=str(odd))
    with pytest.raises(ValueError, match="not a valid xlam file"):
        gym.make(ENV_ID, tasks=str(odd), task_format="xlam")
    broken = tmp_path / "broken.jsonl"
    broken.write_text("{not json\n")
    with pytest.raises(ValueError, match="not JSON"):
        gym.make(ENV_ID, tasks=str(broken))
    with pytest.raises(ValueError, match="do not apply to tasks="):
        gym.make(ENV_ID, worlds=["bank"], **XLAM)
    with pytest.raises(ValueError, match="need an mcp_server"):
        gym.make(ENV_ID, mcp_tasks=[{"instruction": "x", "answer": "1"}])


# -- MCP ---------------------------------------------------------------------------------------

NOTE_TASK = {
    "id": "note-and-count",
    "instruction": "Add a note saying 'buy milk', then increase the counter by 2 and tell me its value.",
    "setup": [{"name": "increment", "arguments": {"by": 5}}],
    "gold_turns": [
        [{"name": "add_note", "arguments": {"text": "buy milk"}}, {"name": "increment", "arguments": {"by": 2}}]
    ],
    "answer": "7",
    "checks": [{"name": "get_note", "arguments": {"note_id": 1}, "expect": "buy milk"}],
}
ASK_TASK = {
    "id": "ask-then-note",
    "instruction": "Add a note for me.",
    "clarification": "Write 'call mom'.",
    "gold_turns": [
        [{"name": "ask_user", "arguments": {"question": "What should the note say?"}}],
        [{"name": "add_note", "arguments": {"text": "call mom"}}],
    ],
    "checks": [{"name": "get_note", "arguments": {"note_id": 1}, "expect": "call mom"}],
}


@pytest.fixture
def mcp_env():
    env = gym.make(ENV_ID, mcp_server=[sys.executable, SERVER], mcp_tasks=[NOTE_TASK, ASK_TASK], mcp_timeout=60)
    yield env
    env.close()
    assert server_processes() == []


def test_mcp_episodes_on_a_real_server(mcp_env):
    env = mcp_env
    for _ in range(2):  # a fresh server per episode: the setup's counter starts at 5 both times
        obs, info = env.reset(options={"task_id": "note-and-count"})
        assert env.unwrapped.mode == "mcp" and obs == NOTE_TASK["instruction"]
        assert {"increment", "add_note", "get_note"} <= {t["function"]["name"] for t in info["tools"]}
        assert "ask_user" not in {t["function"]["name"] for t in info["tools"]}
        assert len(server_processes()) == 1
        steps = play_oracle(env)
        assert "\n7\n" in steps[0][0]
        *_, info = steps[-1]
        assert info["success"] is True and info["reward_components"]["toolrl_correctness"] == 3.0
        assert env.unwrapped.judgement.checks_passed == 1
    env.reset(options={"task_id": "note-and-count"})
    *_, info = play(env, lambda o, i, q=[call("add_note", text="buy eggs"), "It is 7."]: q.pop(0))[-1]
    assert info["success"] is False and "expected 'buy milk'" in env.unwrapped.judgement.errors[0]


def test_mcp_clarification_in_text(mcp_env):
    obs, info = mcp_env.reset(options={"task_id": "ask-then-note"})
    assert "ask_user" in {t["function"]["name"] for t in info["tools"]}
    *_, info = play_oracle(mcp_env, text_questions=True)[-1]
    assert info["success"] is True


def test_mcp_close_stops_the_server():
    env = gym.make(ENV_ID, mcp_server=[sys.executable, SERVER], mcp_tasks=NOTE_TASK, mcp_restart=False)
    env.reset(seed=0)
    env.reset(seed=1)  # reused server: still one process
    assert len(server_processes()) == 1
    env.close()
    assert server_processes() == []


@pytest.mark.parametrize("restart", [True, False])
def test_a_server_that_dies_is_an_error_result_then_a_failed_episode(restart):
    env = gym.make(ENV_ID, mcp_server=[sys.executable, SERVER], mcp_tasks=NOTE_TASK, mcp_restart=restart)
    try:
        env.reset(seed=0)
        obs, _, terminated, _, info = env.step(call("crash"))
        assert "Error:" in obs and not terminated  # the dead server is reported, not raised
        obs, _, terminated, _, info = env.step(call("add_note", text="buy milk"))
        assert "Error:" in obs and "is gone" in obs
        *_, terminated, _, info = env.step("It is 7.")
        assert terminated and info["success"] is False and env.unwrapped.judgement.errors
        env.reset(seed=1)  # a new server either way
        *_, info = play_oracle(env)[-1]
        assert info["success"] is True
    finally:
        env.close()
    assert server_processes() == []


def test_bad_mcp_tasks_fail_clearly():
    with pytest.raises(ValueError, match="cannot fail"):
        gym.make(ENV_ID, mcp_server=[sys.executable, SERVER], mcp_tasks={"instruction": "Do something."})
    with pytest.raises(ValueError, match="unknown field"):
        gym.make(ENV_ID, mcp_server=[sys.executable, SERVER], mcp_tasks={"instruction": "x", "answer": "1", "oops": 1})
    with pytest.raises(ValueError, match="'expect'"):
        MCPTask.from_record({"instruction": "x", "checks": [{"name": "get_note"}]})
    with pytest.raises(ValueError, match="mcp_server must be"):
        gym.make(ENV_ID, mcp_server=[], mcp_tasks=NOTE_TASK)
    env = gym.make(
        ENV_ID, mcp_server=[sys.executable, SERVER], mcp_tasks={**NOTE_TASK, "checks": [{"name": "nope", "expect": ""}]}
    )
    with pytest.raises(ValueError, match="tools the server lacks"):
        env.reset(seed=0)
    env.close()
    assert server_processes() == []


# -- malformed actions never raise -------------------------------------------------------------

TOOL_NAMES = sorted({m for cls in WORLD_TYPES.values() for m in cls.tool_methods} | {"ask_user", "nope", ""})
VALUES = st.one_of(
    st.integers(),
    st.floats(allow_nan=True),
    st.text(max_size=8),
    st.none(),
    st.booleans(),
    st.lists(st.integers(), max_size=3),
)
ARGUMENTS = st.dictionaries(
    st.sampled_from(["account_id", "amount", "name", "customer_id", "path", "extra", "question", "limit"]),
    VALUES,
    max_size=4,
)
actions = st.one_of(
    st.text(max_size=120),
    st.builds(lambda body: f"<tool_call>{body}</tool_call>", st.text(max_size=60)),
    st.builds(lambda n, a: call(n, **a), st.sampled_from(TOOL_NAMES), ARGUMENTS),
    st.builds(
        lambda n, a: {"content": None, "tool_calls": [{"id": "x", "function": {"name": n, "arguments": a}}]},
        st.sampled_from(TOOL_NAMES),
        st.one_of(ARGUMENTS.map(json.dumps), st.text(max_size=20), st.none(), st.integers()),
    ),
    st.builds(lambda t: f"<answer>{t}", st.text(max_size=20)),
    st.none(),
    st.integers(),
    st.lists(st.text(max_size=5), max_size=3),
)
FUZZ_ENV = gym.make(ENV_ID, max_turns=50)


@settings(max_examples=600, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(action=actions, seed=st.integers(0, 2**16))
def test_fuzz_malformed_actions_never_raise(action, seed):
    env = FUZZ_ENV
    if env.unwrapped._done:
        env.reset(seed=seed)
    obs, reward, terminated, truncated, info = env.step(action)
    assert env.observation_space.contains(obs)
    assert isinstance(reward, float) and STEP_KEYS <= set(info)
