"""Count-based intrinsic reward (ONI-style): novelty bonuses that fade with repetition.

r_int = r(ctx) / N(key(ctx))^β, where N counts how often the key has been seen — across
episodes, for the life of the component, as exploration bonuses need. β = 3 follows ONI's
count normalisation. ``key`` defaults to the observation text (a new observation is novel);
``base`` defaults to 1.0 and can be any scorer, e.g. an LLM annotator's score.
"""

from __future__ import annotations

import hashlib
from collections import Counter
from collections.abc import Callable

from turngym.rewards.base import RewardComponent, RewardContext


def observation_key(ctx: RewardContext) -> str:
    return hashlib.blake2b(ctx.observation.encode(), digest_size=12).hexdigest()


class CountBonus(RewardComponent):
    name = "count_bonus"

    def __init__(
        self,
        beta: float = 3.0,
        key: Callable[[RewardContext], str] = observation_key,
        base: Callable[[RewardContext], float] | float = 1.0,
    ):
        if beta < 0:
            raise ValueError("beta must be ≥ 0")
        self.beta, self.key, self.base = beta, key, base
        self.counts: Counter[str] = Counter()

    def score(self, ctx: RewardContext) -> float:
        key = self.key(ctx)
        self.counts[key] += 1
        base = self.base(ctx) if callable(self.base) else self.base
        return base / self.counts[key] ** self.beta
