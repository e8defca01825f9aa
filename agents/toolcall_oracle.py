"""The scripted expert of ToolCall-v0: it replays the task's gold turns, then ends as a good agent does.

World and MCP tasks: one action per gold turn (the turn's calls in parallel), then a final
message that carries the answer when the task asks for one and declines when the task is
impossible. Clarifying questions go through the ``ask_user`` call of the gold turn, or, with
``text_questions=True``, as a plain-text question on a turn of its own (the env's other way to
ask). Dataset tasks: one action with all the gold calls, or a plain-text reply when the right
response calls nothing (BFCL irrelevance).

Listed for the ``toolcall`` family in :data:`turngym.agents.oracles.BUILTIN_ORACLES`; the factory is the class
itself, called with the env's unwrapped instance after ``reset``.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

from turngym.agents.base import Action

ASK_USER = "ask_user"
DONE = "Done: everything you asked for has been carried out."
REFUSAL = "I cannot do that: the request is not possible as asked, so I made no changes."
NOTHING_FITS = "None of the available functions fits this request."


class ToolCallOracle:
    """Plays the gold plan of the env's current task (see the module docstring)."""

    def __init__(self, env: Any, *, native: bool = False, text_questions: bool = False):
        self.actions = plan(env.task, env.mode, native=native, text_questions=text_questions)

    def act(self, observation: str, info: dict[str, Any]) -> Action:
        if not self.actions:
            raise RuntimeError("the oracle has played its whole plan; the episode should have ended")
        return self.actions.pop(0)


def plan(task: Any, mode: str, *, native: bool = False, text_questions: bool = False) -> list[Action]:
    """Every action of the oracle's episode, in order."""
    if mode == "dataset":
        return [calls_action(task.gold_calls, native, 0)] if task.gold_calls else [NOTHING_FITS]
    actions: list[Action] = []
    for turn in task.gold_turns:
        calls = list(turn)
        if text_questions:
            for question in [c for c in calls if c["name"] == ASK_USER]:
                actions.append(str(question["arguments"]["question"]))
                calls.remove(question)
        if calls:
            actions.append(calls_action(calls, native, len(actions)))
    actions.append(final_message(task))
    return actions


def final_message(task: Any) -> str:
    """What the user reads at the end: the answer, a refusal, or that the work is done."""
    if task.expect_impossible:
        return REFUSAL
    if task.answer:
        return f"The answer is {task.answer[0]}."
    return DONE


def calls_action(calls: Sequence[dict[str, Any]], native: bool, turn: int) -> Action:
    """One turn of calls: ``<tool_call>`` blocks in text, or an assistant message with native ``tool_calls``."""
    if not native:
        return "\n".join(
            "<tool_call>" + json.dumps({"name": c["name"], "arguments": c["arguments"]}) + "</tool_call>" for c in calls
        )
    return {
        "role": "assistant",
        "content": None,
        "tool_calls": [
            {
                "id": f"oracle_{turn}_{i}",
                "type": "function",
                "function": {"name": c["name"], "arguments": json.dumps(c["arguments"])},
            }
            for i, c in enumerate(calls)
        ],
    }
