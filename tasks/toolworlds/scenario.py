"""What a task template poses in a world: the request, the gold calls and how success is checked.

Templates live beside their world (``bank.py`` ...) and read its generated state to write a
request whose answer they know. Everything here is plain data so a task record serialises:
calls are ``{"name", "arguments"}`` dicts (the fields of :class:`turngym.actions.ToolCall`) and
goal predicates are paths into ``WorldSet.state()`` with a comparison, not Python closures.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

PredicateOp = Literal["eq", "ne", "exists", "absent", "contains", "not_contains"]
_MISSING = object()


def call(tool: str, /, **arguments: Any) -> dict[str, Any]:
    """One gold call, as the action parser would produce it (minus the id)."""
    return {"name": tool, "arguments": arguments}


def ask(question: str) -> dict[str, Any]:
    """The gold clarifying question (its wording is free; the tool name is what matters)."""
    return call("ask_user", question=question)


@dataclass(frozen=True)
class Predicate:
    """A named check on the final state: the value at ``path`` compared with ``value`` by ``op``.

    ``path`` starts with the world name: ``("bank", "accounts", "ACC-1001", "balance_cents")``.
    ``contains`` tests membership in the list (or substring of the string) found at ``path``.
    """

    name: str
    path: tuple[str | int, ...]
    op: PredicateOp = "eq"
    value: Any = None

    def holds(self, state: Mapping[str, Any]) -> bool:
        found = resolve(state, self.path)
        if self.op == "exists":
            return found is not _MISSING
        if self.op == "absent":
            return found is _MISSING
        if found is _MISSING:
            return self.op in ("ne", "not_contains")
        if self.op == "eq":
            return found == self.value
        if self.op == "ne":
            return found != self.value
        if self.op == "contains":
            return self.value in found
        if self.op == "not_contains":
            return self.value not in found
        raise ValueError(f"unknown predicate op {self.op!r}")


def resolve(state: Any, path: Sequence[str | int]) -> Any:
    """The value at ``path`` in nested dicts/lists, or a sentinel when any step is missing."""
    for step in path:
        if isinstance(state, Mapping) and step in state:
            state = state[step]
        elif isinstance(state, list) and isinstance(step, int) and -len(state) <= step < len(state):
            state = state[step]
        else:
            return _MISSING
    return state


@dataclass
class Scenario:
    """One request in one world, with everything needed to replay and judge it."""

    instruction: str
    gold_turns: list[list[dict[str, Any]]]  # turns of calls; calls in one turn are independent
    predicates: list[Predicate] = field(default_factory=list)
    answer: list[str] | None = None  # acceptable spellings of a required final answer
    clarification: str | None = None  # the scripted user reply to ``ask_user``
    expect_impossible: bool = False
    blocked_calls: list[dict[str, Any]] = field(default_factory=list)  # the literal ask; must fail
    template: str = ""


# ---------------------------------------------------------------------------------------------
# Judging the final message

_REFUSAL_RE = re.compile(
    r"\b(cannot|can ?not|can't|can’t|unable|not able|impossible|not possible|insufficient|"
    r"doesn't exist|does not exist|don't exist|do not exist|no such|not found|isn't possible|"
    r"is not possible|won't be able|couldn't|could not|conflict|out of stock|not enough|frozen|"
    r"already (?:exists|shipped|delivered|cancelled|refunded|frozen))\b",
    re.IGNORECASE,
)


def says_impossible(message: str) -> bool:
    """Whether a final message declines or reports that the request cannot be done."""
    return bool(_REFUSAL_RE.search(message or ""))


def normalise_answer(text: str) -> str:
    """Lowercase, drop ``$`` and thousands commas, collapse whitespace: ``$1,234.50`` → ``1234.50``."""
    text = re.sub(r"(?<=\d),(?=\d{3}\b)", "", text.lower()).replace("$", "")
    return " ".join(text.split())


def answer_matches(message: str, alternatives: Sequence[str]) -> bool:
    """Whether any alternative occurs in the message as a whole token (``7`` is not in ``17``)."""
    said = normalise_answer(message or "")
    for alt in alternatives:
        pattern = r"(?<![\w.])" + re.escape(normalise_answer(alt)) + r"(?![\w]|\.\d)"
        if re.search(pattern, said):
            return True
    return False
