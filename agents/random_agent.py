"""RandomAgent: the lower line of every baseline table.

Each turn it picks, at random, a call of one of the episode's tools with arguments drawn from
that tool's JSON schema, a final answer, or plain text. Arguments respect the schema's types,
enums, bounds, lengths and required keys, so the env runs the call instead of rejecting it (a
``pattern`` or ``format`` is not honoured: such calls may come back as invalid, which a random
baseline may do). Everything is drawn from a seeded numpy generator, so a seed fixes the episode.
"""

from __future__ import annotations

import json
from typing import Any

import gymnasium as gym
import numpy as np

from turngym.agents.base import Action, Agent

WORDS = (
    "alpha",
    "beta",
    "gamma",
    "delta",
    "total",
    "name",
    "id",
    "count",
    "yes",
    "no",
    "north",
    "south",
    "blue",
    "red",
    "table",
    "row",
    "value",
    "42",
    "7",
    "2024",
    "open",
    "close",
)
MAX_DEPTH = 4  # nested objects/arrays deeper than this are left minimal


def random_from_schema(schema: dict[str, Any], rng: np.random.Generator, depth: int = 0) -> Any:
    """A random JSON value that fits ``schema`` (the subset of JSON Schema tools use)."""
    if "const" in schema:
        return schema["const"]
    if "enum" in schema:
        options = [v for v in schema["enum"] if v is not None] or schema["enum"]
        return options[int(rng.integers(len(options)))]
    for key in ("anyOf", "oneOf"):
        if key in schema:
            branches = [s for s in schema[key] if s.get("type") != "null"] or schema[key]
            return random_from_schema(branches[int(rng.integers(len(branches)))], rng, depth + 1)
    kind = schema.get("type")
    if isinstance(kind, list):
        kinds = [k for k in kind if k != "null"] or kind
        kind = kinds[int(rng.integers(len(kinds)))]
    if kind is None:
        kind = "object" if "properties" in schema else "array" if "items" in schema else "string"
    return _GENERATORS[kind](schema, rng, depth)


def _string(schema: dict[str, Any], rng: np.random.Generator, depth: int) -> str:
    low, high = schema.get("minLength", 0), schema.get("maxLength", 40)
    words = [WORDS[int(i)] for i in rng.integers(len(WORDS), size=int(rng.integers(1, 4)))]
    text = " ".join(words)
    while len(text) < low:
        text += WORDS[int(rng.integers(len(WORDS)))]
    return text[: max(high, low)]


def _bounds(schema: dict[str, Any], span: float) -> tuple[float, float]:
    """The closed range to draw a number from: the schema's bounds, else a default around 0."""
    low = schema.get("minimum", schema.get("exclusiveMinimum"))
    high = schema.get("maximum", schema.get("exclusiveMaximum"))
    if low is None and high is None:
        return -10.0, 100.0
    if low is None:
        return high - span, high
    if high is None:
        return low, low + span
    return low, high


def _integer(schema: dict[str, Any], rng: np.random.Generator, depth: int) -> int:
    low, high = _bounds(schema, span=100)
    low = int(np.floor(low)) + 1 if "exclusiveMinimum" in schema else int(np.ceil(low))
    high = int(np.ceil(high)) - 1 if "exclusiveMaximum" in schema else int(np.floor(high))
    return int(rng.integers(low, max(low, high) + 1))


def _number(schema: dict[str, Any], rng: np.random.Generator, depth: int) -> float:
    low, high = _bounds(schema, span=100.0)
    # Strictly inside the range, so exclusive bounds hold too.
    return float(low + (high - low) * (0.001 + 0.998 * rng.random()))


def _boolean(schema: dict[str, Any], rng: np.random.Generator, depth: int) -> bool:
    return bool(rng.integers(2))


def _null(schema: dict[str, Any], rng: np.random.Generator, depth: int) -> None:
    return None


def _array(schema: dict[str, Any], rng: np.random.Generator, depth: int) -> list[Any]:
    low = schema.get("minItems", 0)
    high = max(low, min(schema.get("maxItems", 3), 3 if depth < MAX_DEPTH else low))
    items = schema.get("items", {"type": "string"})
    return [random_from_schema(items, rng, depth + 1) for _ in range(int(rng.integers(low, high + 1)))]


def _object(schema: dict[str, Any], rng: np.random.Generator, depth: int) -> dict[str, Any]:
    properties = schema.get("properties", {})
    required = set(schema.get("required", []))
    value = {}
    for name, sub in properties.items():
        if name in required or (depth < MAX_DEPTH and rng.random() < 0.5):
            value[name] = random_from_schema(sub, rng, depth + 1)
    return value


_GENERATORS = {
    "string": _string,
    "integer": _integer,
    "number": _number,
    "boolean": _boolean,
    "null": _null,
    "array": _array,
    "object": _object,
}


class RandomAgent(Agent):
    """Random tool calls, answers and text (see the module docstring)."""

    name = "random"

    def __init__(self, seed: int | None = None, *, p_tool: float = 0.6, p_answer: float = 0.2):
        super().__init__()
        if not (0 <= p_tool and 0 <= p_answer and p_tool + p_answer <= 1):
            raise ValueError(
                f"p_tool and p_answer must be probabilities summing to at most 1, got {p_tool}, {p_answer}"
            )
        self.p_tool, self.p_answer = p_tool, p_answer
        self._seeds = np.random.default_rng(seed)  # draws a seed for episodes reset without one
        self.rng = np.random.default_rng(seed)
        self.tools: list[dict[str, Any]] = []

    def _start(self, info: dict[str, Any], seed: int | None) -> None:
        self.rng = np.random.default_rng(seed if seed is not None else int(self._seeds.integers(2**63)))
        self.tools = list(info.get("tools") or [])

    def act(self, observation: str, info: dict[str, Any]) -> Action:
        roll = self.rng.random()
        if self.tools and roll < self.p_tool:
            return self._tool_call()
        if roll < self.p_tool + self.p_answer:
            return f"<answer>{self._answer()}</answer>"
        return " ".join(WORDS[int(i)] for i in self.rng.integers(len(WORDS), size=int(self.rng.integers(1, 8))))

    def _tool_call(self) -> str:
        function = self.tools[int(self.rng.integers(len(self.tools)))]["function"]
        arguments = random_from_schema(function.get("parameters", {"type": "object"}), self.rng)
        return "<tool_call>" + json.dumps({"name": function["name"], "arguments": arguments}) + "</tool_call>"

    def _answer(self) -> str:
        if self.rng.random() < 0.5:
            return str(int(self.rng.integers(-100, 10_000)))
        return WORDS[int(self.rng.integers(len(WORDS)))]

    def fork(self, env: gym.Env | None = None) -> RandomAgent:
        return RandomAgent(int(self._seeds.integers(2**63)), p_tool=self.p_tool, p_answer=self.p_answer)
