"""A tool world: plain-data state, seeded generation, and typed methods the agent calls as tools.

Each world is a dataclass whose fields are its whole state (dicts of small dataclasses), so it
deep-copies, compares and serialises to JSON for free: success tau-bench style is "the final
state equals the state the gold calls produce", which needs nothing more than ``state()``.
Its tools are ordinary methods with type hints and Google-style docstrings; the schema is
derived once per class by :func:`turngym.tools.tool_from_function` and re-bound per instance.
A domain failure raises :class:`turngym.tools.ToolError` with a message the agent can act on.

:class:`WorldSet` is what one task plays in: its world plus distractor worlds (and task tools
such as ``ask_user``), seen as one bag of uniquely named tools and one comparable state.
"""

from __future__ import annotations

import abc
import copy
import dataclasses
from collections.abc import Iterable, Mapping, Sequence
from typing import Any, ClassVar, TypeVar

import numpy as np

from turngym.tools import Tool, ToolError, tool_from_function, validate_arguments

W = TypeVar("W", bound="ToolWorld")

_DECLARATIONS: dict[type, dict[str, Tool]] = {}


class ToolWorld(abc.ABC):
    """Base of every world; subclasses are dataclasses that list their tool methods."""

    name: ClassVar[str]
    tool_methods: ClassVar[tuple[str, ...]]

    @classmethod
    @abc.abstractmethod
    def generate(cls: type[W], rng: np.random.Generator) -> W:
        """A fresh world; every random choice comes from ``rng``."""

    def tools(self) -> list[Tool]:
        """This instance's tools, in ``tool_methods`` order."""
        declared = _declarations(self)
        return [declared[m].bound_to(getattr(self, m)) for m in self.tool_methods]

    def state(self) -> dict[str, Any]:
        """The whole state as plain JSON-able data (what success compares)."""
        return dataclasses.asdict(self)  # type: ignore[call-overload]

    def copy(self: W) -> W:
        return copy.deepcopy(self)


def _declarations(world: ToolWorld) -> dict[str, Tool]:
    """Derive each tool schema once per class (docstring parsing is not free)."""
    cls = type(world)
    if cls not in _DECLARATIONS:
        _DECLARATIONS[cls] = {m: tool_from_function(getattr(world, m)) for m in cls.tool_methods}
    return _DECLARATIONS[cls]


class WorldSet:
    """The worlds of one episode as one tool namespace and one state."""

    def __init__(self, worlds: Mapping[str, ToolWorld], extra_tools: Sequence[Tool] = ()):
        self.worlds: dict[str, ToolWorld] = dict(worlds)
        self.extra_tools: list[Tool] = list(extra_tools)
        self.tools: dict[str, Tool] = {}
        for tool in [t for w in self.worlds.values() for t in w.tools()] + self.extra_tools:
            if tool.name in self.tools:
                raise ValueError(f"two tools are named {tool.name!r}; tool names must be unique")
            self.tools[tool.name] = tool

    def call(self, name: str, arguments: Mapping[str, Any]) -> Any:
        """Validate and run one call; anything the caller got wrong is a :class:`ToolError`."""
        tool = self.tools.get(name)
        if tool is None:
            raise ToolError(f"Unknown tool {name!r}. Available tools: {sorted(self.tools)}.")
        error = validate_arguments(tool, dict(arguments))
        if error:
            raise ToolError(error)
        assert tool.fn is not None, "world tools always carry their function"
        return tool.fn(**arguments)

    def state(self) -> dict[str, dict[str, Any]]:
        return {name: world.state() for name, world in self.worlds.items()}

    def copy(self) -> WorldSet:
        return WorldSet({n: w.copy() for n, w in self.worlds.items()}, self.extra_tools)


# ---------------------------------------------------------------------------------------------
# Helpers the worlds share


def next_id(prefix: str, existing: Iterable[str], start: int = 1) -> str:
    """The next free id ``prefix + number``, from the ids in the state (no hidden counter).

    Deriving it from the state keeps ``state()`` the whole truth: two runs that end with the
    same records end with the same next id.
    """
    numbers = [int(i[len(prefix) :]) for i in existing if i.startswith(prefix) and i[len(prefix) :].isdigit()]
    width = max((len(i) - len(prefix) for i in existing if i.startswith(prefix)), default=3)
    return f"{prefix}{max(numbers, default=start - 1) + 1:0{width}d}"


def require(mapping: Mapping[str, Any], key: str, what: str) -> Any:
    """``mapping[key]`` or a ToolError naming what was not found (ids are case-sensitive)."""
    if key not in mapping:
        raise ToolError(f"No {what} with id {key!r}.")
    return mapping[key]


def cents(amount: float, what: str = "amount") -> int:
    """Dollars from a tool argument to integer cents; refuses fractions of a cent."""
    value = round(amount * 100)
    if abs(value - amount * 100) > 1e-6:
        raise ToolError(f"The {what} {amount} has more than two decimal places.")
    return int(value)


def dollars(amount_cents: int) -> float:
    return round(amount_cents / 100, 2)


def money(amount_cents: int) -> str:
    """How answers spell money: ``1234.50`` (answer matching ignores ``$`` and ``,``)."""
    return f"{amount_cents / 100:.2f}"


def pick(rng: np.random.Generator, items: Sequence[Any], k: int | None = None) -> Any:
    """One item (or ``k`` distinct items) drawn with ``rng``."""
    if k is None:
        return items[int(rng.integers(len(items)))]
    return [items[int(i)] for i in rng.choice(len(items), size=k, replace=False)]


FIRST_NAMES = (
    "Alice",
    "Bruno",
    "Chloe",
    "Dmitri",
    "Elena",
    "Farid",
    "Grace",
    "Hiro",
    "Ines",
    "Jonas",
    "Keiko",
    "Liam",
    "Maya",
    "Nadia",
    "Omar",
    "Priya",
    "Quentin",
    "Rosa",
    "Sven",
    "Tara",
)
LAST_NAMES = (
    "Almeida",
    "Becker",
    "Castillo",
    "Dubois",
    "Eriksen",
    "Fischer",
    "Garcia",
    "Haddad",
    "Ivanova",
    "Jensen",
    "Kowalski",
    "Lindqvist",
    "Moreau",
    "Novak",
    "Okafor",
    "Petrov",
)


def people(rng: np.random.Generator, n: int) -> list[tuple[str, str]]:
    """``n`` distinct (first, last) names; first names are distinct too, so either identifies."""
    firsts = pick(rng, FIRST_NAMES, n)
    lasts = [pick(rng, LAST_NAMES) for _ in range(n)]
    return list(zip(firsts, lasts))


def email_of(first: str, last: str, domain: str = "example.com") -> str:
    return f"{first.lower()}.{last.lower()}@{domain}"
