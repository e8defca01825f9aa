"""PAR: bounded rewards through a sigmoid centred on reference rewards.

From "Reward Shaping to Mitigate Reward Hacking in RLHF" (Preference As Reward):
r̂ = (1/M) Σ_m σ(k · (r − r_ref,m)). Bounding and centring the reward keeps a policy from
chasing ever-larger reward-model scores. Use :class:`PARSigmoid` on one component, or
:class:`PARRewardWrapper` on an env's whole step reward.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from typing import Any

import gymnasium as gym

from turngym.rewards.base import RewardComponent, RewardContext, as_component

RefSpec = Sequence[float] | Callable[[RewardContext], Sequence[float]]


def par_sigmoid(reward: float, references: Sequence[float], k: float = 1.0) -> float:
    if not references:
        raise ValueError("PAR needs at least one reference reward")
    return sum(1.0 / (1.0 + math.exp(-k * (reward - ref))) for ref in references) / len(references)


class PARSigmoid(RewardComponent):
    """A component's value passed through PAR's sigmoid."""

    def __init__(self, inner: Any, references: RefSpec, k: float = 1.0, name: str | None = None):
        self.inner = as_component(inner)
        self.references, self.k = references, k
        self.name = name or f"par_{self.inner.name}"
        self.outcome = self.inner.outcome

    def score(self, ctx: RewardContext) -> float:
        refs = self.references(ctx) if callable(self.references) else self.references
        return par_sigmoid(self.inner(ctx), refs, self.k)

    def reset(self) -> None:
        self.inner.reset()


class PARRewardWrapper(gym.RewardWrapper):
    """Applies PAR's sigmoid to every step reward of an env."""

    def __init__(self, env: gym.Env, references: Sequence[float], k: float = 1.0):
        super().__init__(env)
        self.references, self.k = list(references), k

    def reward(self, reward: float) -> float:
        return par_sigmoid(float(reward), self.references, self.k)
