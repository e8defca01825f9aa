"""The turn protocol, on the toy env of tests/toy_env.py."""

from __future__ import annotations

import json

import gymnasium as gym
import numpy as np
import pytest
from gymnasium.utils.env_checker import check_env
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from turngym.rewards.combinators import Gated, Multiplicative, WeightedSum
from turngym.rewards.common import PenaltyFactor, SignalReward, SuccessReward, TurnPenalty

from toy_env import ArithEnv, oracle_actions

STEP_KEYS = {"turn", "action_valid", "reward_components", "success", "error", "constraint_violations", "messages"}


def play(env, actions):
    out = []
    for action in actions:
        out.append(env.step(action))
        if out[-1][2] or out[-1][3]:
            break
    return out


def test_check_env_passes():
    check_env(ArithEnv())


def test_oracle_wins_and_episode_record():
    env = gym.make("turngym-test/Arith-v0")
    obs, info = env.reset(seed=1)
    assert {"instructions", "tools", "task_id", "difficulty", "max_turns"} <= set(info)
    assert [t["function"]["name"] for t in info["tools"]] == ["add", "mul", "answer"]
    steps = play(env, oracle_actions(env.unwrapped.task))
    obs, reward, terminated, truncated, info = steps[-1]
    assert terminated and not truncated and info["success"] is True
    episode = info["episode"]
    assert episode["success"] and episode["turns"] == 3 and episode["tool_calls"] == 2
    assert episode["return"] == pytest.approx(sum(s[1] for s in steps))
    assert [m["role"] for m in episode["messages"]] == ["system", "user", "assistant", "tool", "assistant", "tool", "assistant", "user"]
    assert episode["messages"][3]["tool_call_id"] == "call_0_0"


def test_info_has_the_same_keys_every_step():
    env = gym.make("turngym-test/Arith-v0")
    env.reset(seed=2)
    for action in ["hello", "<tool_call>{bad</tool_call>", *oracle_actions(env.unwrapped.task)]:
        *_, terminated, truncated, info = env.step(action)
        assert STEP_KEYS <= set(info)
        assert set(info["reward_components"]) == {"success", "format", "invalid_action"}
        if terminated or truncated:
            break


def test_seeding_is_deterministic():
    def rollout(seed):
        env = gym.make("turngym-test/Arith-v0")
        obs, info = env.reset(seed=seed)
        trace = [obs, info["task_id"]]
        for action in oracle_actions(env.unwrapped.task):
            obs, r, *_ = env.step(action)
            trace += [obs, r]
        return trace

    assert rollout(7) == rollout(7)
    assert rollout(7) != rollout(8)


def test_task_id_option_and_bad_options():
    env = gym.make("turngym-test/Arith-v0")
    _, info = env.reset(options={"task_id": "arith-1-2-3"})
    assert info["task_id"] == "arith-1-2-3"
    with pytest.raises(ValueError, match="unknown reset option"):
        env.reset(options={"colour": "red"})
    with pytest.raises(ValueError, match="budget must be one of"):
        env.reset(options={"budget": "huge"})


def test_bad_config_fails_at_make():
    with pytest.raises(ValueError, match="max_turns"):
        gym.make("turngym-test/Arith-v0", max_turns=0)
    with pytest.raises(ValueError, match="unknown reward component"):
        gym.make("turngym-test/Arith-v0", rewards={"nope": 1.0})
    with pytest.raises(ValueError, match="token_counter"):
        gym.make("turngym-test/Arith-v0", token_counter=42)


def test_invalid_actions_explain_and_continue():
    env = gym.make("turngym-test/Arith-v0", max_turns=10)
    env.reset(seed=0)
    cases = {
        "": "empty",
        '<tool_call>{"name": "sub", "arguments": {}}</tool_call>': "unknown tool 'sub'",
        '<tool_call>{"name": "add", "arguments": {"x": "1", "y": 2}}</tool_call>': "is not of type 'integer'",
        '<tool_call>{"name": "add", "arguments": {"x": 1, "y": 2, "z": 3}}</tool_call>': "Additional properties",
        "just chatting": "No tool call found",
    }
    for action, expected in cases.items():
        obs, reward, terminated, truncated, info = env.step(action)
        assert expected in obs and info["action_valid"] is False and not terminated
        assert reward == pytest.approx(-0.1)


def test_truncation_by_turns_and_tokens():
    env = gym.make("turngym-test/Arith-v0", max_turns=2)
    env.reset(seed=0)
    env.step("thinking")
    obs, _, terminated, truncated, info = env.step("still thinking")
    assert truncated and not terminated and "max turns" in obs
    assert info["episode"]["end_reason"] == "max_turns" and info["success"] is False
    obs, r, terminated, *_ , info = env.step("after the end")
    assert terminated and r == 0.0 and "call reset()" in obs

    env = gym.make("turngym-test/Arith-v0", max_tokens=20)
    env.reset(seed=0)
    *_, truncated, info = env.step("word " * 30)
    assert truncated and info["episode"]["end_reason"] == "max_tokens"


def test_budget_and_think_modes_reach_the_agent():
    env = gym.make("turngym-test/Arith-v0", max_tokens=400)
    _, info = env.reset(seed=0, options={"budget": "low", "think": False})
    assert info["max_tokens"] == 100
    assert "100 tokens" in info["instructions"] and "do not write <think>" in info["instructions"]


def test_native_tool_calls_and_answer_tool():
    env = gym.make("turngym-test/Arith-v0")
    env.reset(options={"task_id": "arith-2-3-4"})
    msg = {"role": "assistant", "content": "", "tool_calls": [
        {"id": "t1", "type": "function", "function": {"name": "add", "arguments": json.dumps({"x": 2, "y": 3})}},
        {"id": "t2", "type": "function", "function": {"name": "mul", "arguments": json.dumps({"x": 5, "y": 4})}},
    ]}
    obs, _, _, _, info = env.step(msg)
    assert [m["tool_call_id"] for m in info["messages"]] == ["t1", "t2"]
    assert [m["content"] for m in info["messages"]] == ["5", "20"]
    msg = {"content": None, "tool_calls": [{"id": "t3", "function": {"name": "answer", "arguments": '{"answer": "20"}'}}]}
    *_, terminated, _, info = env.step(msg)
    assert terminated and info["success"] is True


def test_deferred_gated_rewards_are_credited_per_turn():
    rewards = Gated([SuccessReward(), WeightedSum({SignalReward("guess", scale=0.0, name="unused"): 0.0, TurnPenalty(0.1): 1.0})], thresholds=1.0)
    env = gym.make("turngym-test/Arith-v0", rewards=rewards)
    env.reset(seed=3)
    steps = play(env, oracle_actions(env.unwrapped.task))
    assert [s[1] for s in steps[:-1]] == [0.0, 0.0]  # withheld until the gate can be judged
    episode = steps[-1][4]["episode"]
    assert episode["rewards"] == pytest.approx([0.1, 0.1, 1.1])  # credited back to their turns
    assert sum(s[1] for s in steps) == pytest.approx(sum(episode["rewards"]))


def test_multiplicative_infraction_terminates():
    rewards = Multiplicative(TurnPenalty(1.0), [PenaltyFactor("invalid_action", 0.0)], terminate_on_infraction=True)
    env = gym.make("turngym-test/Arith-v0", rewards=rewards)
    env.reset(seed=0)
    obs, reward, terminated, truncated, info = env.step("")
    assert terminated and reward == 0.0 and info["episode"]["end_reason"] == "reward:invalid_action_factor"


def test_shaping_and_set_reward_weights():
    env = gym.make("turngym-test/Arith-v0", rewards={"success": 1.0, "shaping": 1.0})
    env.reset(seed=4)
    steps = play(env, oracle_actions(env.unwrapped.task))
    # Φ: 0 → 0.5 → 1.0 → terminal 0; F telescopes to 0, so the return is the success reward.
    assert [s[4]["reward_components"]["shaping"] for s in steps] == pytest.approx([0.5, 0.5, -1.0])
    assert sum(s[1] for s in steps) == pytest.approx(1.0)
    env.unwrapped.set_reward_weights({"success": 3.0})
    env.reset(seed=4)
    assert sum(s[1] for s in play(env, oracle_actions(env.unwrapped.task))) == pytest.approx(3.0)
    with pytest.raises(ValueError, match="no weighted reward term"):
        env.unwrapped.set_reward_weights({"nope": 1.0})


@pytest.mark.parametrize("mode", ["sync", "async"])
def test_vector_envs(mode):
    envs = gym.make_vec("turngym-test/Arith-v0", num_envs=3, vectorization_mode=mode)
    try:
        obs, info = envs.reset(seed=[0, 1, 2])
        assert len(obs) == 3 and all(o.startswith("Compute") for o in obs)
        ids = list(info["task_id"])
        tasks = [tuple(int(x) for x in t.split("-")[1:]) for t in ids]
        answers = [f"<answer>{(a + b) * c}</answer>" for a, b, c in tasks]
        obs, rewards, terminated, truncated, info = envs.step(answers)
        assert list(terminated) == [True] * 3 and np.allclose(rewards, 1.0)
        assert list(info["success"]) == [True] * 3
        assert list(obs) == ["Correct."] * 3  # fresh observations, not the ones from reset
    finally:
        envs.close()


def test_unicode_observations_in_async_vector_env():
    envs = gym.make_vec("turngym-test/Arith-v0", num_envs=2, vectorization_mode="async")
    try:
        envs.reset(seed=0)
        obs, *_ = envs.step(["<answer>Zürich 20°C — 你好 🙂</answer>", "<answer>x</answer>"])
        assert obs[0] == "Wrong: 'Zürich 20°C — 你好 🙂'."  # every code point survives shared memory
        assert obs[1] == "Wrong: 'x'."
    finally:
        envs.close()


actions = st.one_of(
    st.text(max_size=200),
    st.builds(lambda body: f"<tool_call>{body}</tool_call>", st.text(max_size=80)),
    st.builds(
        lambda name, args: f'<tool_call>{json.dumps({"name": name, "arguments": args})}</tool_call>',
        st.sampled_from(["add", "mul", "answer", "sub", ""]),
        st.dictionaries(st.sampled_from(["x", "y", "answer", "z"]), st.one_of(st.integers(), st.text(max_size=5), st.none(), st.floats(allow_nan=True))),
    ),
    st.builds(
        lambda name, args: {"content": None, "tool_calls": [{"id": "x", "function": {"name": name, "arguments": args}}]},
        st.text(max_size=8),
        st.one_of(st.text(max_size=30), st.just('{"x": 1, "y": 2}'), st.none(), st.integers()),
    ),
    st.none(),
    st.integers(),
    st.lists(st.text(max_size=5), max_size=3),
)


@settings(max_examples=600, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(action=actions)
def test_fuzz_malformed_actions_never_raise(action):
    env = FUZZ_ENV
    if env.unwrapped._done:
        env.reset(seed=0)
    obs, reward, terminated, truncated, info = env.step(action)
    assert env.observation_space.contains(obs)
    assert isinstance(reward, float) and STEP_KEYS <= set(info)


FUZZ_ENV = gym.make("turngym-test/Arith-v0", max_turns=50)
