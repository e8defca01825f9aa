"""Components every env has: format, invalid actions, turn cost, success."""

from __future__ import annotations

from turngym.rewards.base import RewardComponent, RewardContext


class FormatReward(RewardComponent):
    """1.0 when the turn parsed cleanly (tags closed, tool calls valid JSON), else 0.0."""

    name = "format"

    def score(self, ctx: RewardContext) -> float:
        return 1.0 if ctx.action.well_formed else 0.0


class InvalidActionPenalty(RewardComponent):
    """``penalty`` (negative) on a turn whose action the env rejected."""

    name = "invalid_action"

    def __init__(self, penalty: float = -0.1):
        self.penalty = penalty

    def score(self, ctx: RewardContext) -> float:
        return 0.0 if ctx.valid else self.penalty


class TurnPenalty(RewardComponent):
    """A constant ``cost`` (negative) per turn: prefer shorter episodes."""

    name = "turn_penalty"

    def __init__(self, cost: float = -0.01):
        self.cost = cost

    def score(self, ctx: RewardContext) -> float:
        return self.cost


class SuccessReward(RewardComponent):
    """The outcome: 1.0 when the env judges the episode a success, else 0.0 (sparse)."""

    name = "success"
    outcome = True

    def __init__(self, value: float = 1.0, failure: float = 0.0):
        self.value, self.failure = value, failure

    def score(self, ctx: RewardContext) -> float:
        return self.value if ctx.success else self.failure


class SignalReward(RewardComponent):
    """Reads a number the env put in this turn's signals (e.g. ``code_error``), times ``scale``.

    Families expose their own per-turn facts as signals, and this turns any of them into a
    component without new code: ``SignalReward("code_error", scale=-0.1)``.
    """

    def __init__(self, signal: str, scale: float = 1.0, name: str | None = None, outcome: bool = False):
        self.signal, self.scale = signal, scale
        self.name = name or signal
        self.outcome = outcome

    def score(self, ctx: RewardContext) -> float:
        value = float(ctx.signals.get(self.signal, 0.0))
        return self.scale * value if value else 0.0  # no signal reads 0.0, never -0.0


class PenaltyFactor(RewardComponent):
    """A CaRL penalty factor: ``factor`` on turns where ``signal`` is truthy, else 1.0."""

    def __init__(self, signal: str, factor: float = 0.5, name: str | None = None):
        if not 0.0 <= factor <= 1.0:
            raise ValueError("a penalty factor must lie in [0, 1]")
        self.signal, self.factor = signal, factor
        self.name = name or f"{signal}_factor"

    def score(self, ctx: RewardContext) -> float:
        if self.signal == "invalid_action":
            hit = not ctx.valid
        else:
            hit = bool(ctx.signals.get(self.signal))
        return self.factor if hit else 1.0
