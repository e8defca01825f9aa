"""Reward components: named functions of a turn's context.

A component scores one thing (format, length, progress, the final answer) and returns a float
per turn. *Process* components score every turn; *outcome* components score once, at the end
of the episode, and read 0.0 before that. Envs report every component's value in
``info["reward_components"]`` whether or not it is weighted, so a weight of 0 makes a metric.

Components never import envs: an env hands them a :class:`RewardContext`, which carries what
they may look at (the task, the parsed action, the observation, env-specific ``state`` such as
a game score or a potential, and the trajectory so far).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from turngym.actions import ParsedAction


@dataclass
class RewardContext:
    """Everything a reward component may look at for one turn."""

    task: Any
    action: ParsedAction
    observation: str
    turn: int  # 0-based index of this turn
    done: bool  # the episode ends with this turn (terminated or truncated)
    terminated: bool = False
    success: bool | None = None  # set on the last turn
    valid: bool = True  # the action was valid
    tokens: int = 0  # assistant tokens this turn
    episode_tokens: int = 0  # assistant tokens so far, this turn included
    difficulty: str | None = None
    state: Mapping[str, Any] = field(default_factory=dict)  # env signals after the turn
    prev_state: Mapping[str, Any] = field(default_factory=dict)  # ... and before it
    signals: Mapping[str, Any] = field(default_factory=dict)  # what this turn's action caused
    options: Mapping[str, Any] = field(default_factory=dict)  # reset options (budget, think...)
    history: Sequence[Mapping[str, Any]] = ()  # earlier turns' records (see turngym.episode)


class RewardError(RuntimeError):
    """A reward component failed; reported, never silently turned into 0.0."""


class RewardComponent:
    """Base class: subclass and implement :meth:`score`, or wrap a function with :func:`component`."""

    name: str = "component"
    outcome: bool = False  # scored only on the last turn

    def __call__(self, ctx: RewardContext) -> float:
        if self.outcome and not ctx.done:
            return 0.0
        try:
            value = float(self.score(ctx))
        except RewardError:
            raise
        except Exception as exc:  # report, with the component's name, never swallow
            raise RewardError(f"reward component {self.name!r} failed: {exc!r}") from exc
        if math.isnan(value):
            raise RewardError(f"reward component {self.name!r} returned NaN")
        return value

    def score(self, ctx: RewardContext) -> float:
        raise NotImplementedError

    def reset(self) -> None:
        """Forget per-episode state (called at every env reset)."""

    def __repr__(self) -> str:
        kind = "outcome" if self.outcome else "process"
        return f"<{type(self).__name__} {self.name!r} ({kind})>"


class FunctionComponent(RewardComponent):
    """A plain function ``ctx -> float`` with a name."""

    def __init__(self, fn: Callable[[RewardContext], float], name: str, outcome: bool = False):
        self.fn, self.name, self.outcome = fn, name, outcome

    def score(self, ctx: RewardContext) -> float:
        return self.fn(ctx)


def component(
    name: str | None = None, *, outcome: bool = False
) -> Callable[[Callable[[RewardContext], float]], FunctionComponent]:
    """Decorator: ``@component("exact", outcome=True) def exact(ctx): ...``."""

    def wrap(fn: Callable[[RewardContext], float]) -> FunctionComponent:
        return FunctionComponent(fn, name or fn.__name__, outcome)

    return wrap


def as_component(obj: Any, name: str | None = None) -> RewardComponent:
    """Accept a component or a bare callable (named after the function)."""
    if isinstance(obj, RewardComponent):
        return obj
    if callable(obj):
        return FunctionComponent(obj, name or getattr(obj, "__name__", "reward"))
    raise TypeError(f"not a reward component or callable: {obj!r}")


def check_unique_names(components: Sequence[RewardComponent]) -> None:
    seen: set[str] = set()
    for comp in components:
        if comp.name in seen:
            raise ValueError(f"two reward components are named {comp.name!r}; rename one")
        seen.add(comp.name)
