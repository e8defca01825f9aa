"""Budget modes (ThinkDial-style) and the think / no-think option (AdaptThink-style).

At reset a caller picks ``options={"budget": "high" | "medium" | "low"}``: the episode's token
budget is that fraction of the env's base budget (ThinkDial: medium cuts ~50%, low ~75%). The
env truncates an episode that spends more than its budget and tells the agent its budget in the
instructions. ``options={"think": False}`` asks the agent to answer without ``<think>`` reasoning.

Two components score against them:
- ``budget``: when the episode succeeds within budget, +``bonus`` · (1 − used/budget) rewards
  the savings; a finished episode over budget gets ``penalty``.
- ``think_skip``: +``bonus`` when an episode on an easy task succeeds without any reasoning
  (learning to skip thinking where it is not needed); ``penalty`` when the caller asked for
  no thinking and the agent thought anyway.
"""

from __future__ import annotations

from collections.abc import Mapping

from turngym.rewards.base import RewardComponent, RewardContext

BUDGET_FRACTIONS: Mapping[str, float] = {"high": 1.0, "medium": 0.5, "low": 0.25}


def budget_tokens(mode: str | None, base: int) -> int | None:
    """The token budget of a mode, given the env's base budget; ``None`` mode means no budget."""
    if mode is None:
        return None
    if mode not in BUDGET_FRACTIONS:
        raise ValueError(f"budget must be one of {list(BUDGET_FRACTIONS)}, got {mode!r}")
    return max(1, int(base * BUDGET_FRACTIONS[mode]))


class BudgetReward(RewardComponent):
    name = "budget"
    outcome = True

    def __init__(self, bonus: float = 0.2, penalty: float = -0.5):
        self.bonus, self.penalty = bonus, penalty

    def score(self, ctx: RewardContext) -> float:
        budget = ctx.options.get("budget_tokens")
        if not budget:
            return 0.0
        used = ctx.episode_tokens
        if used > budget:
            return self.penalty
        return self.bonus * (1.0 - used / budget) if ctx.success else 0.0


class ThinkSkipReward(RewardComponent):
    name = "think_skip"
    outcome = True

    def __init__(self, bonus: float = 0.2, penalty: float = -0.2, easy: tuple[str, ...] = ("easy",)):
        self.bonus, self.penalty, self.easy = bonus, penalty, easy

    def score(self, ctx: RewardContext) -> float:
        thought = bool(ctx.action.think) or any(turn.get("think") for turn in ctx.history)
        if ctx.options.get("think") is False and thought:
            return self.penalty
        if ctx.success and not thought and ctx.difficulty in self.easy:
            return self.bonus
        return 0.0
