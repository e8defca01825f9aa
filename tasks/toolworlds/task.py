"""The tool-calling task record, and how its worlds are rebuilt, replayed and judged.

A :class:`ToolTask` is plain data: the user's request, the tools it may use, the gold calls
(turns of calls; calls in one turn are independent and may be issued in parallel) and how
success is checked. Two kinds share the record:

* world tasks (``worlds`` non-empty) are played against stateful tool worlds rebuilt from
  ``seed`` by :meth:`ToolTask.build_worlds`. Success, tau-bench style, is that the final state
  equals the state obtained by replaying the gold calls on a fresh copy of the initial state,
  that every named goal predicate holds, that a required answer appears in the final message
  and, for a task that ``expect_impossible``, that the final message says it cannot be done.
* dataset tasks (BFCL, xLAM, ToolACE; see :mod:`turngym.tasks.tool_datasets`) carry schema-only
  ``tools`` and are scored on their calls alone (ToolRL / AST match in
  :mod:`turngym.rewards.toolrl`). Their prompt is ``messages`` + the user's ``instruction`` +
  ``followup`` (earlier calls and results in the same request, as in ToolACE chains).

Clarification: every world task offers an ``ask_user(question)`` tool. A task that withholds a
needed detail has a scripted ``clarification`` the tool returns; otherwise it answers that
there is nothing to add. An env may also route a plain-text question through
:meth:`ToolTask.user_reply`, which gives the same reply.
"""

from __future__ import annotations

import zlib
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from turngym.tasks.base import Task
from turngym.tasks.toolworlds.agenda import AgendaWorld
from turngym.tasks.toolworlds.bank import BankWorld
from turngym.tasks.toolworlds.scenario import Predicate, answer_matches, says_impossible
from turngym.tasks.toolworlds.shop import ShopWorld
from turngym.tasks.toolworlds.workspace import WorkspaceWorld
from turngym.tasks.toolworlds.world import ToolWorld, WorldSet
from turngym.tools import Tool

WORLD_TYPES: dict[str, type[ToolWorld]] = {cls.name: cls for cls in (BankWorld, ShopWorld, AgendaWorld, WorkspaceWorld)}

NOTHING_TO_ADD = "I have nothing to add; please go ahead with what I asked."


def world_rng(seed: int, world: str) -> np.random.Generator:
    """Each world of a task draws from its own stream, so adding distractors changes nothing else."""
    return np.random.default_rng([seed, zlib.crc32(world.encode())])


# Declared once; each task binds its own scripted reply with ``ASK_USER.bound_to``.
ASK_USER = Tool(
    name="ask_user",
    description="Ask the user a clarifying question when the request is missing a detail you need.",
    parameters={
        "type": "object",
        "properties": {"question": {"type": "string", "description": "What you need to know."}},
        "required": ["question"],
        "additionalProperties": False,
    },
)


@dataclass
class ToolOutcome:
    """How a finished world-task episode did, part by part (the env turns it into rewards)."""

    success: bool
    state_match: bool
    predicates_satisfied: int
    predicates_total: int
    answer_ok: bool | None  # None when the task needs no answer
    refused: bool | None  # None unless the task is impossible


@dataclass
class ToolTask(Task):
    """One tool-calling request: what the user says, which tools exist, and what counts as done."""

    instruction: str = ""
    tool_names: list[str] = field(default_factory=list)
    gold_turns: list[list[dict[str, Any]]] = field(default_factory=list)
    answer: list[str] | None = None
    expect_impossible: bool = False
    # world tasks
    worlds: list[str] = field(default_factory=list)  # the task's world first, then distractors
    seed: int | None = None
    predicates: list[Predicate] = field(default_factory=list)
    clarification: str | None = None
    # dataset tasks
    tools: list[Tool] = field(default_factory=list)  # schema-only (fn None)
    messages: list[dict[str, Any]] = field(default_factory=list)  # the conversation before the request
    followup: list[dict[str, Any]] = field(default_factory=list)  # turns after it, before the gold turn
    possible_answer: list[dict[str, dict[str, list[Any]]]] | None = None  # BFCL ground truth

    @property
    def gold_calls(self) -> list[dict[str, Any]]:
        return [c for turn in self.gold_turns for c in turn]

    @property
    def is_world_task(self) -> bool:
        return bool(self.worlds)

    # -- playing ---------------------------------------------------------------------------

    def build_worlds(self) -> WorldSet:
        """A fresh copy of the initial state of every world, with this task's ``ask_user``."""
        self._require_worlds()
        assert self.seed is not None
        worlds = {name: WORLD_TYPES[name].generate(world_rng(self.seed, name)) for name in self.worlds}
        return WorldSet(worlds, [ASK_USER.bound_to(self.user_reply)])

    def available_tools(self, worlds: WorldSet | None = None) -> list[Tool]:
        """The tools the agent is shown, in the task's order."""
        if not self.is_world_task:
            return list(self.tools)
        worlds = worlds or self.build_worlds()
        return [worlds.tools[name] for name in self.tool_names]

    def user_reply(self, question: str) -> str:
        """The scripted user's answer to any clarifying question."""
        return self.clarification or NOTHING_TO_ADD

    # -- judging ---------------------------------------------------------------------------

    def replay_gold(self, worlds: WorldSet | None = None) -> WorldSet:
        """Run the gold calls on ``worlds`` (default: fresh ones) and return them."""
        worlds = worlds or self.build_worlds()
        for turn in self.gold_turns:
            for c in turn:
                worlds.call(c["name"], c["arguments"])
        return worlds

    def goal_progress(self, worlds: WorldSet) -> tuple[int, int]:
        """(satisfied, total) goal predicates: a potential for shaping."""
        state = worlds.state()
        return sum(p.holds(state) for p in self.predicates), len(self.predicates)

    def evaluate(self, worlds: WorldSet, final_message: str) -> ToolOutcome:
        """Judge a finished episode from its final world state and final assistant message."""
        self._require_worlds()
        state_match = worlds.state() == self.replay_gold().state()
        satisfied, total = self.goal_progress(worlds)
        answer_ok = answer_matches(final_message, self.answer) if self.answer else None
        refused = says_impossible(final_message) if self.expect_impossible else None
        success = state_match and satisfied == total and answer_ok is not False and refused is not False
        return ToolOutcome(success, state_match, satisfied, total, answer_ok, refused)

    def _require_worlds(self) -> None:
        if not self.is_world_task:
            raise ValueError(f"task {self.id!r} has no tool worlds; score it on its calls (rewards.toolrl)")
