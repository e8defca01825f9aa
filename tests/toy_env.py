"""A small env for testing the turn protocol (not registered by turngym itself).

Task: compute (a + b) * c with the tools ``add`` and ``mul`` and answer in <answer> tags (or the
``answer`` tool). Its reward state reports a potential (the fraction of the two steps done), so
shaping can be tested, and a ``guess`` signal so CaRL factors can be.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from turngym.actions import ParsedAction
from turngym.envs.base import Outcome, TurnEnv
from turngym.tasks.base import Task
from turngym.tools import Tool, tool_from_function


@dataclass
class ArithTask(Task):
    a: int = 0
    b: int = 0
    c: int = 0

    @property
    def answer(self) -> int:
        return (self.a + self.b) * self.c


class ArithEnv(TurnEnv):
    family = "test"
    answer_tool = True

    def _load_task(self, options: dict[str, Any]) -> ArithTask:
        if "task_id" in options:
            a, b, c = (int(x) for x in options["task_id"].split("-")[1:])
        else:
            a, b, c = (int(x) for x in self.np_random.integers(0, 100, size=3))
        return ArithTask(id=f"arith-{a}-{b}-{c}", difficulty=options.get("difficulty", "easy"), a=a, b=b, c=c)

    def _begin(self, task: ArithTask) -> str:
        self._seen: set[int] = set()
        return f"Compute ({task.a} + {task.b}) * {task.c}. Use the tools, then answer."

    def _instructions(self) -> str:
        return "You are a careful calculator."

    def _episode_tools(self) -> list[Tool]:
        def add(x: int, y: int) -> int:
            """Add two integers.

            Args:
                x: first addend
                y: second addend
            """
            self._seen.add(x + y)
            return x + y

        def mul(x: int, y: int) -> int:
            """Multiply two integers.

            Args:
                x: first factor
                y: second factor
            """
            self._seen.add(x * y)
            return x * y

        return [tool_from_function(add), tool_from_function(mul)]

    def _on_answer(self, answer: str, action: ParsedAction) -> Outcome:
        task = self.task
        correct = answer.strip() == str(task.answer)
        return Outcome(
            feedback="Correct." if correct else f"Wrong: {answer!r}.",
            terminated=True,
            success=correct,
            signals={"guess": 0.0 if task.a + task.b in self._seen else 1.0},
        )

    def reward_state(self) -> dict[str, Any]:
        task = self.task
        steps = (task.a + task.b in self._seen) + (task.answer in self._seen)
        return {"potential": steps / 2}


def oracle_actions(task: ArithTask) -> list[str]:
    s = task.a + task.b
    return [
        f'<tool_call>{{"name": "add", "arguments": {{"x": {task.a}, "y": {task.b}}}}}</tool_call>',
        f'<tool_call>{{"name": "mul", "arguments": {{"x": {s}, "y": {task.c}}}}}</tool_call>',
        f"<answer>{task.answer}</answer>",
    ]
