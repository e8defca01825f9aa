"""The judge hook and the pluggable token counters."""

from __future__ import annotations

import gymnasium as gym
import pytest

from turngym.rewards.base import RewardError
from turngym.rewards.judge import JudgeRequest, JudgeReward
from turngym.tokens import HFTokenCounter, heuristic_token_count, make_token_counter

from toy_env import oracle_actions


def test_judge_sees_the_episode_and_is_clipped():
    seen: list[JudgeRequest] = []

    def judge(request: JudgeRequest) -> float:
        seen.append(request)
        return 5.0 if request.answer == str(request.gold) else -1.0

    env = gym.make("turngym-test/Arith-v0", rewards={"success": 1.0, JudgeReward(judge, high=1.0): 0.5})
    env.reset(seed=1)
    for action in oracle_actions(env.unwrapped.task):
        _, reward, *_, info = env.step(action)
    assert len(seen) == 1 and seen[0].answer == str(env.unwrapped.task.answer)
    assert len(seen[0].transcript) == 2  # the two tool turns before the answer
    assert info["reward_components"]["judge"] == 1.0 and reward == pytest.approx(1.5)


def test_judge_errors_are_reported():
    def broken(request):
        raise RuntimeError("judge offline")

    env = gym.make("turngym-test/Arith-v0", rewards={"success": 1.0, JudgeReward(broken): 1.0})
    env.reset(seed=1)
    with pytest.raises(RewardError, match="judge offline"):
        env.step("<answer>0</answer>")


def test_heuristic_counter_is_close_to_bpe_scale():
    assert heuristic_token_count("") == 0
    assert heuristic_token_count("hello world") == 4  # "hello"→2, "world"→2
    assert heuristic_token_count("12345") == 2 and heuristic_token_count("a, b.") == 4


def test_hf_token_counter_with_a_local_tokenizer(tmp_path):
    from turngym.agents.tiny_model import build_tiny_checkpoint

    path = build_tiny_checkpoint(tmp_path / "tiny")
    counter = make_token_counter(f"hf:{path}")
    assert isinstance(counter, HFTokenCounter)
    text = "Compute the total of the column"
    assert counter(text) == len(counter.tokenizer.encode(text, add_special_tokens=False)) > 0
    env = gym.make("turngym-test/Arith-v0", token_counter=f"hf:{path}")
    env.reset(seed=0)
    *_, info = env.step("<answer>1</answer>")
    assert info["episode"]["tokens"] == counter("<answer>1</answer>")
