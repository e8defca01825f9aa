"""Text2Reward-style reward code: scored in the sandbox, failures reported, usable in an env."""

from __future__ import annotations

import gymnasium as gym
import pytest

from turngym.actions import parse_action
from turngym.rewards.base import RewardContext, RewardError
from turngym.rewards.code import CodeReward

from toy_env import oracle_actions

SHORT_ANSWERS = """
def reward(ctx):
    text = ctx["action"]["text"]
    bonus = 1.0 if ctx["success"] else 0.0
    return bonus - 0.001 * len(text) - 0.1 * len(ctx["action"]["tool_calls"])
"""


def _ctx(text: str, **kw) -> RewardContext:
    return RewardContext(task=None, action=parse_action(text), observation="", turn=0, done=True, **kw)


def test_code_reward_scores_in_the_sandbox():
    comp = CodeReward(SHORT_ANSWERS)
    assert comp(_ctx("<answer>7</answer>", success=True)) == pytest.approx(1.0 - 0.001 * 18)


def test_code_reward_failures_are_reported():
    with pytest.raises(RewardError, match="ZeroDivisionError"):
        CodeReward("def reward(ctx):\n    return 1 / 0\n")(_ctx("x"))
    with pytest.raises(RewardError, match="not a number"):
        CodeReward("def reward(ctx):\n    return 'high'\n")(_ctx("x"))
    with pytest.raises(RewardError, match="failed"):
        CodeReward("def reward(ctx):\n    while True: pass\n", timeout=1.0)(_ctx("x"))
    with pytest.raises(ValueError, match="def reward"):
        CodeReward("print('no function')")


def test_code_reward_cannot_read_the_trainers_files(tmp_path):
    secret = tmp_path / "secret.txt"
    secret.write_text("hunter2")
    source = f"def reward(ctx):\n    return float(len(open({str(secret)!r}).read()))\n"
    with pytest.raises(RewardError):
        CodeReward(source)(_ctx("x"))


def test_code_reward_in_an_env_spec():
    env = gym.make("turngym-test/Arith-v0", rewards={"success": 1.0, "code": {"weight": 1.0, "source": SHORT_ANSWERS, "outcome": True}})
    env.reset(seed=5)
    for action in oracle_actions(env.unwrapped.task):
        *_, info = env.step(action)
    assert info["reward_components"]["code"] == pytest.approx(1.0 - 0.001 * len(oracle_actions(env.unwrapped.task)[-1]))
