"""Potential-based shaping: F = γ Φ(s′) − Φ(s), with Φ(terminal) = 0.

Shaping of this form leaves the optimal policy unchanged (Ng et al., 1999) while giving dense
feedback. Φ is supplied per env: by default it is the ``"potential"`` the env reports in its
reward state (e.g. the fraction of goal predicates satisfied); pass ``phi`` to use another.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from turngym.rewards.base import RewardComponent, RewardContext


def state_potential(state: Mapping[str, Any]) -> float:
    return float(state.get("potential", 0.0))


class PotentialShaping(RewardComponent):
    name = "shaping"

    def __init__(self, gamma: float = 1.0, phi: Callable[[Mapping[str, Any]], float] = state_potential):
        self.gamma, self.phi = gamma, phi

    def score(self, ctx: RewardContext) -> float:
        after = 0.0 if ctx.terminated else self.phi(ctx.state)
        return self.gamma * after - self.phi(ctx.prev_state)
