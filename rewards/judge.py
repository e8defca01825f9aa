"""A judge hook: criteria-based scoring by any callable (a reward model, an LLM judge, a rubric).

The env cannot own a judge model, so the caller passes one: ``JudgeReward(judge)`` where
``judge(request) -> float`` gets a plain :class:`JudgeRequest` (the task's question, the agent's
final answer, the gold answer when there is one, the criteria, and the transcript). It scores at
the end of the episode by default. Whatever the judge raises is reported as a
:class:`~turngym.rewards.base.RewardError`, never turned into 0.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from turngym.rewards.base import RewardComponent, RewardContext


@dataclass
class JudgeRequest:
    question: str
    answer: str | None
    gold: Any
    criteria: Sequence[str]
    transcript: list[dict[str, Any]] = field(default_factory=list)
    task_id: str | None = None


class JudgeReward(RewardComponent):
    def __init__(
        self,
        judge: Callable[[JudgeRequest], float],
        criteria: Sequence[str] = ("The final answer is correct and supported by the work shown.",),
        name: str = "judge",
        outcome: bool = True,
        low: float = 0.0,
        high: float = 1.0,
    ):
        if not callable(judge):
            raise TypeError("judge must be a callable JudgeRequest -> float")
        self.judge, self.criteria, self.name, self.outcome = judge, tuple(criteria), name, outcome
        self.low, self.high = low, high

    def score(self, ctx: RewardContext) -> float:
        task = ctx.task
        request = JudgeRequest(
            question=str(getattr(task, "question", "") or getattr(task, "instruction", "")),
            answer=ctx.action.answer if ctx.action.answer is not None else ctx.action.content,
            gold=getattr(task, "answer", None),
            criteria=self.criteria,
            transcript=[dict(turn) for turn in ctx.history],
            task_id=getattr(task, "id", None),
        )
        value = float(self.judge(request))
        return min(self.high, max(self.low, value))  # a judge's scale is clipped to [low, high]
