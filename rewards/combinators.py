"""Combinators: how component values become the reward of each turn.

Every combinator is a node of a small tree whose leaves are components. A node answers one
question, :meth:`RewardNode.credit`: given the component values of every turn so far, what reward
does each turn get? Most nodes credit a turn from that turn alone. Gated accumulation (G-RA)
cannot: its low-priority rewards count only if the episode's high-priority reward clears a
threshold, which is known only at the end. Asking for the whole prefix lets such *deferred*
rewards be credited to the turns that earned them once the episode ends, while ``step`` returns
the change in total credit (so the sum of step rewards always equals the episode's return).
"""

from __future__ import annotations

import abc
import math
import operator
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from turngym.rewards.base import RewardComponent, as_component

Values = Mapping[str, float]
History = Sequence[Values]


@dataclass(frozen=True)
class RewardEvent:
    """Something a combinator reports besides the reward: a constraint violation or a stop."""

    kind: str  # "violation" or "terminate"
    source: str
    detail: str


class RewardNode(abc.ABC):
    """A node of the reward tree."""

    name: str = "node"

    @abc.abstractmethod
    def children(self) -> list[RewardNode]: ...

    @abc.abstractmethod
    def credit(self, history: History, done: bool) -> list[float]:
        """The reward of every turn so far (same length as ``history``)."""

    def leaves(self) -> list[RewardComponent]:
        return [leaf for child in self.children() for leaf in child.leaves()]

    def events(self, history: History, done: bool) -> list[RewardEvent]:
        """Events raised by the latest turn."""
        return [e for child in self.children() for e in child.events(history, done)]

    def set_weights(self, weights: Mapping[str, float]) -> set[str]:
        """Change weights by child name; returns the names it found."""
        found: set[str] = set()
        for child in self.children():
            found |= child.set_weights(weights)
        return found

    def value(self, values: Values) -> float:
        """The reward of a one-turn episode with these component values (handy in tests)."""
        return self.credit([values], True)[0]


class Leaf(RewardNode):
    """A component's own value, turn by turn."""

    def __init__(self, comp: RewardComponent):
        self.component = comp
        self.name = comp.name

    def children(self) -> list[RewardNode]:
        return []

    def leaves(self) -> list[RewardComponent]:
        return [self.component]

    def credit(self, history: History, done: bool) -> list[float]:
        return [float(v[self.name]) for v in history]


NodeLike = Any  # a RewardNode, a RewardComponent, or a callable ctx -> float


def as_node(obj: NodeLike) -> RewardNode:
    return obj if isinstance(obj, RewardNode) else Leaf(as_component(obj))


def _zeros(history: History) -> list[float]:
    return [0.0] * len(history)


class WeightedSum(RewardNode):
    """r = Σ wᵢ rᵢ. Weights may change between episodes (dynamic multi-objective weighting)."""

    def __init__(self, terms: Mapping[Any, float] | Iterable[NodeLike], name: str = "weighted_sum"):
        pairs = terms.items() if isinstance(terms, Mapping) else ((t, 1.0) for t in terms)
        self.terms: list[tuple[RewardNode, float]] = [(as_node(t), float(w)) for t, w in pairs]
        self.name = name

    def children(self) -> list[RewardNode]:
        return [node for node, _ in self.terms]

    @property
    def weights(self) -> dict[str, float]:
        return {node.name: w for node, w in self.terms}

    def set_weights(self, weights: Mapping[str, float]) -> set[str]:
        found = {node.name for node, _ in self.terms if node.name in weights}
        self.terms = [(node, float(weights.get(node.name, w))) for node, w in self.terms]
        for node, _ in self.terms:
            found |= node.set_weights(weights)
        return found

    def credit(self, history: History, done: bool) -> list[float]:
        total = _zeros(history)
        for node, weight in self.terms:
            if weight:
                for t, r in enumerate(node.credit(history, done)):
                    total[t] += weight * r
        return total


class Gated(RewardNode):
    """Gated reward accumulation (G-RA): R = r_high + Σ r_low · 1[r_high ≥ Δ].

    ``levels`` are ordered from highest priority down; a lower level's rewards accumulate only
    when every level above it reaches its threshold. With ``scope="episode"`` (the G-RA setting)
    the gate looks at each level's episode total, so lower levels are withheld until the episode
    ends and then credited to the turns that earned them; ``scope="turn"`` gates turn by turn.
    """

    def __init__(
        self,
        levels: Sequence[NodeLike],
        thresholds: Sequence[float] | float,
        scope: str = "episode",
        name: str = "gated",
    ):
        self.levels = [as_node(level) for level in levels]
        if isinstance(thresholds, (int, float)):
            thresholds = [float(thresholds)] * (len(self.levels) - 1)
        if len(self.levels) < 2 or len(thresholds) != len(self.levels) - 1:
            raise ValueError("Gated needs ≥ 2 levels and one threshold per level but the last")
        if scope not in ("episode", "turn"):
            raise ValueError(f"scope must be 'episode' or 'turn', got {scope!r}")
        self.thresholds = [float(x) for x in thresholds]
        self.scope, self.name = scope, name

    def children(self) -> list[RewardNode]:
        return list(self.levels)

    def credit(self, history: History, done: bool) -> list[float]:
        per_level = [level.credit(history, done) for level in self.levels]
        result = list(per_level[0])
        if self.scope == "turn":
            for t in range(len(history)):
                for k in range(1, len(self.levels)):
                    if per_level[k - 1][t] < self.thresholds[k - 1]:
                        break
                    result[t] += per_level[k][t]
            return result
        if not done:
            return result  # lower levels are withheld until the gate can be judged
        for k in range(1, len(self.levels)):
            if sum(per_level[k - 1]) < self.thresholds[k - 1]:
                break
            result = [a + b for a, b in zip(result, per_level[k])]
        return result


class Multiplicative(RewardNode):
    """CaRL-style: r = r_progress · Π penalty factors (each factor in [0, 1], 1 = no infraction).

    With ``terminate_on_infraction`` a factor below 1 ends the episode (a ``terminate`` event).
    """

    def __init__(
        self,
        progress: NodeLike,
        penalties: Sequence[NodeLike],
        terminate_on_infraction: bool = False,
        name: str = "multiplicative",
    ):
        self.progress = as_node(progress)
        self.penalties = [as_node(p) for p in penalties]
        self.terminate_on_infraction, self.name = terminate_on_infraction, name

    def children(self) -> list[RewardNode]:
        return [self.progress, *self.penalties]

    def credit(self, history: History, done: bool) -> list[float]:
        result = self.progress.credit(history, done)
        for penalty in self.penalties:
            result = [r * f for r, f in zip(result, penalty.credit(history, done))]
        return result

    def events(self, history: History, done: bool) -> list[RewardEvent]:
        events = super().events(history, done)
        if self.terminate_on_infraction and history:
            for penalty in self.penalties:
                factor = penalty.credit(history, done)[-1]
                if factor < 1.0:
                    events.append(RewardEvent("terminate", penalty.name, f"infraction (factor {factor:g})"))
        return events


class Lexicographic(RewardNode):
    """Priority ordering (HERON): a gain in a higher-priority component beats any gain below it.

    Each child's value is normalised by its ``bounds`` to [0, 1] and quantised to ``levels``
    steps; the turn reward is the mixed-radix number they spell, scaled to [0, 1]. For
    preference data, :meth:`compare` ranks two trajectories HERON's way: by the first component
    (in priority order) whose totals differ by more than its margin.
    """

    def __init__(
        self,
        order: Sequence[NodeLike],
        bounds: Sequence[tuple[float, float]],
        levels: int = 10,
        margins: Sequence[float] | None = None,
        name: str = "lexicographic",
    ):
        self.order = [as_node(x) for x in order]
        if len(bounds) != len(self.order) or any(hi <= lo for lo, hi in bounds):
            raise ValueError("Lexicographic needs one (low, high) bound with low < high per component")
        if levels < 2:
            raise ValueError("levels must be ≥ 2")
        self.bounds, self.levels, self.name = list(bounds), levels, name
        self.margins = list(margins) if margins is not None else [0.0] * len(self.order)

    def children(self) -> list[RewardNode]:
        return list(self.order)

    def _digit(self, value: float, bound: tuple[float, float]) -> int:
        lo, hi = bound
        unit = min(1.0, max(0.0, (value - lo) / (hi - lo)))
        return int(math.floor(unit * (self.levels - 1) + 0.5))

    def credit(self, history: History, done: bool) -> list[float]:
        columns = [node.credit(history, done) for node in self.order]
        scale = self.levels ** len(self.order) - 1
        result = []
        for t in range(len(history)):
            number = 0
            for column, bound in zip(columns, self.bounds):
                number = number * self.levels + self._digit(column[t], bound)
            result.append(number / scale)
        return result

    def compare(self, totals_a: Mapping[str, float], totals_b: Mapping[str, float]) -> int:
        """+1 if trajectory a is preferred, -1 if b, 0 if they tie on every component."""
        for node, margin in zip(self.order, self.margins):
            diff = totals_a[node.name] - totals_b[node.name]
            if abs(diff) > margin:
                return 1 if diff > 0 else -1
        return 0


_OPS: dict[str, Callable[[float, float], bool]] = {
    "<=": operator.le,
    ">=": operator.ge,
    "<": operator.lt,
    ">": operator.gt,
    "==": operator.eq,
}


@dataclass
class Constraint:
    """``component op threshold`` must hold, per turn or for the episode total so far."""

    component: str
    op: str
    threshold: float
    penalty: float = 0.0
    scope: str = "turn"
    terminate: bool = False

    def __post_init__(self) -> None:
        if self.op not in _OPS:
            raise ValueError(f"constraint op must be one of {sorted(_OPS)}, got {self.op!r}")
        if self.scope not in ("turn", "episode"):
            raise ValueError(f"constraint scope must be 'turn' or 'episode', got {self.scope!r}")

    def violated_at(self, history: History) -> list[bool]:
        """For each turn: is the constraint broken there (episode scope: first break only)?"""
        holds = _OPS[self.op]
        if self.scope == "turn":
            return [not holds(v[self.component], self.threshold) for v in history]
        flags, total, broken = [], 0.0, False
        for values in history:
            total += values[self.component]
            now = not holds(total, self.threshold) and not broken
            broken = broken or now
            flags.append(now)
        return flags


class Constrained(RewardNode):
    """An objective with constraint thresholds: each violation costs its penalty and is reported."""

    def __init__(self, objective: NodeLike, constraints: Sequence[Constraint], name: str = "constrained"):
        self.objective = as_node(objective)
        self.constraints = list(constraints)
        self.name = name

    def children(self) -> list[RewardNode]:
        return [self.objective]

    def credit(self, history: History, done: bool) -> list[float]:
        result = self.objective.credit(history, done)
        for constraint in self.constraints:
            for t, broken in enumerate(constraint.violated_at(history)):
                if broken:
                    result[t] -= constraint.penalty
        return result

    def events(self, history: History, done: bool) -> list[RewardEvent]:
        events = super().events(history, done)
        for c in self.constraints:
            if history and c.violated_at(history)[-1]:
                detail = f"{c.component} {c.op} {c.threshold:g} violated ({c.scope})"
                events.append(RewardEvent("violation", c.component, detail))
                if c.terminate:
                    events.append(RewardEvent("terminate", c.component, detail))
        return events
