"""Reward components and combinators, checked against values computed by hand."""

from __future__ import annotations

import math

import gymnasium as gym
import pytest

from turngym.actions import parse_action
from turngym.rewards.base import RewardContext, RewardError, component
from turngym.rewards.budget import BudgetReward, ThinkSkipReward, budget_tokens
from turngym.rewards.combinators import (
    Constrained,
    Constraint,
    Gated,
    Lexicographic,
    Multiplicative,
    WeightedSum,
)
from turngym.rewards.common import FormatReward, InvalidActionPenalty, PenaltyFactor, SuccessReward
from turngym.rewards.implicit import ImplicitProcessReward
from turngym.rewards.intrinsic import CountBonus
from turngym.rewards.length import LengthReward
from turngym.rewards.par import PARRewardWrapper, PARSigmoid, par_sigmoid
from turngym.rewards.shaping import PotentialShaping
from turngym.rewards.spec import build_rewards


def ctx(**kw) -> RewardContext:
    base = dict(task=None, action=parse_action(kw.pop("text", "hi")), observation="", turn=0, done=False)
    base.update(kw)
    return RewardContext(**base)


# --------------------------------------------------------------------------- combinators
def test_weighted_sum_and_dynamic_weights():
    node = WeightedSum({component("a")(lambda c: 0): 2.0, component("b")(lambda c: 0): -1.0})
    assert node.value({"a": 1.5, "b": 4.0}) == pytest.approx(2 * 1.5 - 4.0)
    assert node.set_weights({"b": 0.5}) == {"b"}
    assert node.value({"a": 1.5, "b": 4.0}) == pytest.approx(3.0 + 2.0)
    assert node.weights == {"a": 2.0, "b": 0.5}


def _leaf(name):
    return component(name)(lambda c: 0.0)


def test_gated_episode_scope_withholds_then_credits_back():
    # R = r_high + Σ r_low · 1[r_high ≥ Δ], Δ = 1.
    node = Gated([_leaf("high"), _leaf("low")], thresholds=1.0)
    hist = [{"high": 0, "low": 0.2}, {"high": 0, "low": 0.3}]
    assert node.credit(hist, done=False) == [0, 0]  # not judged yet
    done_hist = hist + [{"high": 1.0, "low": 0.1}]
    assert node.credit(done_hist, done=True) == pytest.approx([0.2, 0.3, 1.1])
    failed = hist + [{"high": 0.5, "low": 0.1}]
    assert node.credit(failed, done=True) == pytest.approx([0, 0, 0.5])


def test_gated_three_levels_and_turn_scope():
    node = Gated([_leaf("h"), _leaf("m"), _leaf("l")], thresholds=[1.0, 0.5])
    # h total 1 ≥ 1 opens m; m total 0.4 < 0.5 keeps l closed: [1+0.4]
    assert sum(node.credit([{"h": 1, "m": 0.4, "l": 9}], True)) == pytest.approx(1.4)
    assert sum(node.credit([{"h": 1, "m": 0.6, "l": 9}], True)) == pytest.approx(10.6)
    per_turn = Gated([_leaf("h"), _leaf("l")], 0.5, scope="turn")
    assert per_turn.credit([{"h": 1, "l": 2}, {"h": 0, "l": 2}], False) == [3, 0]


def test_multiplicative_carl_and_termination():
    node = Multiplicative(_leaf("progress"), [_leaf("p1"), _leaf("p2")], terminate_on_infraction=True)
    hist = [{"progress": 0.5, "p1": 1.0, "p2": 0.5}]
    assert node.credit(hist, False) == [0.25]  # 0.5 · 1.0 · 0.5
    events = node.events(hist, False)
    assert [(e.kind, e.source) for e in events] == [("terminate", "p2")]
    assert node.events([{"progress": 1, "p1": 1, "p2": 1}], False) == []


def test_lexicographic_priority_dominates():
    node = Lexicographic([_leaf("safety"), _leaf("task")], bounds=[(0, 1), (0, 1)], levels=10)
    # digits: safety 1.0 → 9, task 0.0 → 0: (9·10 + 0) / 99
    assert node.value({"safety": 1.0, "task": 0.0}) == pytest.approx(90 / 99)
    assert node.value({"safety": 1.0, "task": 0.0}) > node.value({"safety": 0.85, "task": 1.0})
    assert node.compare({"safety": 1, "task": 0}, {"safety": 0.5, "task": 1}) == 1
    assert node.compare({"safety": 1, "task": 0}, {"safety": 1, "task": 1}) == -1
    assert node.compare({"safety": 1, "task": 1}, {"safety": 1, "task": 1}) == 0


def test_constraints_report_and_penalise():
    node = Constrained(
        _leaf("r"),
        [Constraint("cost", "<=", 1.0, penalty=0.5), Constraint("cost", "<=", 1.5, penalty=2.0, scope="episode", terminate=True)],
    )
    hist = [{"r": 1.0, "cost": 0.5}, {"r": 1.0, "cost": 1.2}]
    # turn 1: per-turn 1.2 > 1 (−0.5); episode total 1.7 > 1.5 first broken at turn 1 (−2)
    assert node.credit(hist, False) == pytest.approx([1.0, 1.0 - 0.5 - 2.0])
    kinds = [(e.kind, e.detail) for e in node.events(hist, False)]
    assert ("violation", "cost <= 1 violated (turn)") in kinds
    assert ("terminate", "cost <= 1.5 violated (episode)") in kinds
    with pytest.raises(ValueError):
        Constraint("cost", "~", 1)


def test_par_sigmoid_math_and_wrapper():
    # mean of σ(2·(1−0)) and σ(2·(1−2))
    expected = (1 / (1 + math.exp(-2)) + 1 / (1 + math.exp(2))) / 2
    assert par_sigmoid(1.0, [0.0, 2.0], k=2.0) == pytest.approx(expected)
    comp = PARSigmoid(component("rm")(lambda c: 1.0), references=[0.0, 2.0], k=2.0)
    assert comp(ctx()) == pytest.approx(expected)
    env = PARRewardWrapper(gym.make("turngym-test/Arith-v0"), references=[0.0], k=1.0)
    env.reset(seed=0)
    _, r, *_ = env.step("<answer>nope</answer>")
    assert r == pytest.approx(1 / (1 + math.exp(0.0)))  # raw reward 0 → σ(0) = 0.5


# --------------------------------------------------------------------------- components
def test_format_invalid_success():
    assert FormatReward()(ctx(text="<answer>1")) == 0.0
    assert FormatReward()(ctx(text="<answer>1</answer>")) == 1.0
    assert InvalidActionPenalty(-0.3)(ctx(valid=False)) == -0.3
    assert SuccessReward()(ctx(done=False, success=True)) == 0.0  # outcome: only at the end
    assert SuccessReward()(ctx(done=True, success=True)) == 1.0


@pytest.mark.parametrize(
    "mode,tokens,success,expected",
    [
        ("step", 100, True, 0.5),
        ("step", 300, True, 0.0),
        ("step", 100, False, 0.0),
        ("penalty", 300, True, -0.5 * 0.5),  # (300−200)/200 = 0.5
        ("penalty", 1000, False, -0.5),  # capped at 1
        ("hybrid", 100, True, 0.5),
        ("hybrid", 250, True, -0.5 * 0.25),
    ],
)
def test_laser_modes(mode, tokens, success, expected):
    comp = LengthReward(target=200, alpha=0.5, mode=mode)
    assert comp(ctx(done=True, success=success, episode_tokens=tokens)) == pytest.approx(expected)


def test_laser_d_targets_by_difficulty_and_adaptive():
    comp = LengthReward(targets={"easy": 50, "hard": 500}, mode="step")
    assert comp(ctx(done=True, success=True, episode_tokens=100, difficulty="easy")) == 0.0
    assert comp(ctx(done=True, success=True, episode_tokens=100, difficulty="hard")) == 0.5
    adaptive = LengthReward(target=1000, adaptive=True, quantile=0.5)
    for n in [10, 20, 30, 40, 50, 60, 70, 80]:
        adaptive(ctx(done=True, success=True, episode_tokens=n, difficulty="easy"))
    assert adaptive.target_for("easy") == pytest.approx(45.0)
    assert adaptive.target_for("hard") == 1000


def test_budget_and_think():
    assert budget_tokens("low", 1000) == 250 and budget_tokens(None, 1000) is None
    with pytest.raises(ValueError):
        budget_tokens("tiny", 1000)
    b = BudgetReward(bonus=0.2, penalty=-0.5)
    assert b(ctx(done=True, success=True, episode_tokens=50, options={"budget_tokens": 200})) == pytest.approx(0.15)
    assert b(ctx(done=True, success=True, episode_tokens=250, options={"budget_tokens": 200})) == -0.5
    t = ThinkSkipReward(bonus=0.2, penalty=-0.2)
    assert t(ctx(done=True, success=True, difficulty="easy", text="<answer>1</answer>")) == 0.2
    assert t(ctx(done=True, success=True, difficulty="hard", text="<answer>1</answer>")) == 0.0
    assert t(ctx(done=True, success=True, difficulty="easy", text="<think>x</think>1", options={"think": False})) == -0.2


def test_count_bonus_fades():
    comp = CountBonus(beta=3.0)
    assert comp(ctx(observation="room A")) == 1.0
    assert comp(ctx(observation="room A")) == pytest.approx(1 / 8)
    assert comp(ctx(observation="room B")) == 1.0
    assert CountBonus(beta=0.5, base=2.0, key=lambda c: "k")(ctx()) == 2.0


def test_implicit_process_reward():
    comp = ImplicitProcessReward(beta=0.1)
    assert comp(ctx()) == 0.0
    action = parse_action({"content": "x", "logprobs": {"policy": [-1.0, -1.0], "reference": -3.0}})
    assert comp(ctx(action=action)) == pytest.approx(0.1 * (-2.0 + 3.0))
    with pytest.raises(RewardError):
        comp(ctx(action=parse_action({"content": "x", "logprobs": {"policy": -1.0}})))


def test_potential_shaping():
    comp = PotentialShaping(gamma=0.9)
    assert comp(ctx(prev_state={"potential": 0.5}, state={"potential": 1.0})) == pytest.approx(0.9 - 0.5)
    assert comp(ctx(prev_state={"potential": 0.5}, state={"potential": 1.0}, terminated=True)) == -0.5


def test_penalty_factor():
    f = PenaltyFactor("invalid_action", 0.25)
    assert f(ctx(valid=False)) == 0.25 and f(ctx()) == 1.0
    with pytest.raises(ValueError):
        PenaltyFactor("x", 2.0)


def test_component_errors_are_reported_not_zeroed():
    broken = component("broken")(lambda c: 1 / 0)
    with pytest.raises(RewardError, match="broken"):
        broken(ctx())


# --------------------------------------------------------------------------- spec
def test_spec_forms():
    node = build_rewards({"success": 1.0, "laser": {"weight": 0.5, "target": 64}, "format": 0})
    assert [c.name for c in node.leaves()] == ["success", "laser", "format"]
    assert node.weights == {"success": 1.0, "laser": 0.5, "format": 0.0}
    assert [c.name for c in build_rewards(["success", "format"]).leaves()] == ["success", "format"]
    with pytest.raises(ValueError, match="unknown reward component"):
        build_rewards({"nope": 1})
    with pytest.raises(ValueError, match="bad arguments"):
        build_rewards({"laser": {"mood": 1}})
    with pytest.raises(ValueError, match="named 'success'"):
        build_rewards(["success", SuccessReward()])
