"""From what a user passes as ``rewards=`` to a reward tree.

``gymnasium.make(id, rewards=...)`` accepts:

- ``None``: the env's documented default;
- a preset name the env defines (``"sparse"``, ``"dense"``, ``"gra"``...) or a component name;
- a dict ``{name: weight}`` or ``{name: {"weight": w, **component kwargs}}`` (a weighted sum;
  keys may also be component objects);
- a list of names / components (weights 1);
- a :class:`~turngym.rewards.combinators.RewardNode` (a weighted sum, gate, ... built by hand).

Names resolve first in the env's own components, then in :data:`COMPONENTS`, the ones every
env has. Unknown names fail at ``make`` time with the list of known ones. Components that need
an object (a judge callable: :class:`turngym.rewards.judge.JudgeReward`) are passed as objects.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from turngym.rewards.base import RewardComponent, as_component, check_unique_names
from turngym.rewards.budget import BudgetReward, ThinkSkipReward
from turngym.rewards.code import CodeReward
from turngym.rewards.combinators import RewardNode, WeightedSum, as_node
from turngym.rewards.common import FormatReward, InvalidActionPenalty, SuccessReward, TurnPenalty
from turngym.rewards.implicit import ImplicitProcessReward
from turngym.rewards.intrinsic import CountBonus
from turngym.rewards.length import LengthReward
from turngym.rewards.shaping import PotentialShaping

ComponentFactory = Callable[..., RewardComponent]

COMPONENTS: dict[str, ComponentFactory] = {
    "format": FormatReward,
    "invalid_action": InvalidActionPenalty,
    "turn_penalty": TurnPenalty,
    "success": SuccessReward,
    "laser": LengthReward,
    "budget": BudgetReward,
    "think_skip": ThinkSkipReward,
    "count_bonus": CountBonus,
    "implicit_process": ImplicitProcessReward,
    "shaping": PotentialShaping,
    "code": CodeReward,
}

RewardSpec = Any


def make_component(
    name: str, kwargs: Mapping[str, Any] | None = None, extra: Mapping[str, ComponentFactory] | None = None
) -> RewardComponent:
    """Build the component registered as ``name`` (the env's own registry first)."""
    registry = {**COMPONENTS, **(extra or {})}
    if name not in registry:
        raise ValueError(f"unknown reward component {name!r}; known: {sorted(registry)}")
    try:
        comp = registry[name](**dict(kwargs or {}))
    except TypeError as exc:
        raise ValueError(f"bad arguments for reward component {name!r}: {exc}") from None
    return comp


def build_rewards(
    spec: RewardSpec,
    *,
    components: Mapping[str, ComponentFactory] | None = None,
    presets: Mapping[str, Callable[[], RewardNode]] | None = None,
) -> RewardNode:
    """Resolve a spec into a reward tree whose leaf names are unique."""
    node = _resolve(spec, components or {}, presets or {})
    check_unique_names(node.leaves())
    return node


def _resolve(spec: RewardSpec, components: Mapping, presets: Mapping) -> RewardNode:
    if isinstance(spec, RewardNode):
        return spec
    if isinstance(spec, str):
        if spec in presets:
            return presets[spec]()
        return WeightedSum({make_component(spec, None, components): 1.0})
    if isinstance(spec, Mapping):
        return WeightedSum(dict(_weighted_terms(spec, components)))
    if isinstance(spec, (list, tuple)):
        return WeightedSum({_term(item, components): 1.0 for item in spec})
    if isinstance(spec, RewardComponent) or callable(spec):
        return as_node(spec)
    raise ValueError(
        "rewards must be a preset or component name, a {name: weight} dict, a list, "
        f"a component or a RewardNode; got {type(spec).__name__}"
    )


def _term(item: Any, components: Mapping) -> Any:
    if isinstance(item, str):
        return make_component(item, None, components)
    if isinstance(item, (RewardNode, RewardComponent)):
        return item
    return as_component(item)


def _weighted_terms(spec: Mapping, components: Mapping):
    for key, value in spec.items():
        if isinstance(value, Mapping):
            kwargs = dict(value)
            weight = float(kwargs.pop("weight", 1.0))
            if not isinstance(key, str):
                raise ValueError("component kwargs can only be given for components named by string")
            yield make_component(key, kwargs, components), weight
        elif isinstance(value, (int, float)):
            yield _term(key, components), float(value)
        else:
            raise ValueError(f"weight for {key!r} must be a number or a dict, got {value!r}")
