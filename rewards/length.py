"""LASER length rewards: reward correct answers for being short.

From "Learn to Reason Efficiently with Adaptive Length-based Reward Shaping" (LASER). Length L is
the episode's assistant tokens; L_T is the target length.

- ``step`` (LASER): +α when the answer is correct and L ≤ L_T, else 0.
- ``penalty``: −α · min(1, (L − L_T) / L_T) when L > L_T, whatever the correctness.
- ``hybrid``: the step bonus when correct and short, the penalty when long.

LASER-D makes L_T depend on difficulty: pass ``targets={"easy": 256, "medium": 512, ...}``; with
``adaptive=True`` each bucket's L_T follows a running quantile of the lengths of *correct*
episodes seen in that bucket (LASER-D's dynamic targets), starting from ``targets``.
"""

from __future__ import annotations

from collections import defaultdict, deque
from collections.abc import Mapping

import numpy as np

from turngym.rewards.base import RewardComponent, RewardContext

MODES = ("step", "penalty", "hybrid")


class LengthReward(RewardComponent):
    name = "laser"
    outcome = True

    def __init__(
        self,
        target: int = 512,
        alpha: float = 0.5,
        mode: str = "step",
        targets: Mapping[str, int] | None = None,
        adaptive: bool = False,
        quantile: float = 0.5,
        window: int = 256,
    ):
        if mode not in MODES:
            raise ValueError(f"LASER mode must be one of {MODES}, got {mode!r}")
        if target <= 0 or any(v <= 0 for v in (targets or {}).values()):
            raise ValueError("LASER target lengths must be positive")
        self.target, self.alpha, self.mode = target, alpha, mode
        self.targets = dict(targets or {})
        self.adaptive, self.quantile = adaptive, quantile
        self._correct_lengths: dict[str, deque[int]] = defaultdict(lambda: deque(maxlen=window))

    def target_for(self, difficulty: str | None) -> float:
        """L_T for this difficulty bucket (LASER-D) or the global target."""
        bucket = difficulty or "_"
        seen = self._correct_lengths.get(bucket)
        if self.adaptive and seen and len(seen) >= 8:
            return float(np.quantile(np.asarray(seen), self.quantile))
        return float(self.targets.get(bucket, self.target))

    def score(self, ctx: RewardContext) -> float:
        length, correct = ctx.episode_tokens, bool(ctx.success)
        target = self.target_for(ctx.difficulty)
        if correct:
            self._correct_lengths[ctx.difficulty or "_"].append(length)
        value = 0.0
        if self.mode in ("step", "hybrid") and correct and length <= target:
            value += self.alpha
        if self.mode in ("penalty", "hybrid") and length > target:
            value -= self.alpha * min(1.0, (length - target) / target)
        return value
