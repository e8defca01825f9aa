"""Implicit process rewards from policy log-probs (OPRL / PRIME-style): r_t = β · log πθ/π_old.

The env has no model, so the caller supplies log-probs with the action: an assistant message
dict with ``"logprobs": {"policy": ..., "reference": ...}``, each a number (the turn's summed
log-prob) or a list of per-token log-probs. Without them the component reads 0.0 — it then
simply does not apply, which a trainer can see in ``info["reward_components"]``.
"""

from __future__ import annotations

from typing import Any

from turngym.rewards.base import RewardComponent, RewardContext, RewardError


def _total(logprob: Any, which: str) -> float:
    if isinstance(logprob, (int, float)):
        return float(logprob)
    if isinstance(logprob, (list, tuple)) and all(isinstance(x, (int, float)) for x in logprob):
        return float(sum(logprob))
    raise RewardError(f"logprobs[{which!r}] must be a number or a list of numbers")


class ImplicitProcessReward(RewardComponent):
    name = "implicit_process"

    def __init__(self, beta: float = 0.05):
        self.beta = beta

    def score(self, ctx: RewardContext) -> float:
        logprobs = ctx.action.logprobs
        if not logprobs:
            return 0.0
        if "policy" not in logprobs or "reference" not in logprobs:
            raise RewardError("logprobs must carry both 'policy' and 'reference'")
        return self.beta * (_total(logprobs["policy"], "policy") - _total(logprobs["reference"], "reference"))
