"""The scripted expert of TableQA-v0: it computes the answer through the env's tools, then answers.

Turn 1 runs the task's gold pandas program in the ``python`` tool (or its gold SQL through the
tables' duckdb connection ``con`` when it has no pandas program) and prints the result in answer
form; turn 2 reads that
output from the observation and submits it. It never reads the gold answer itself, so a broken
sandbox, table loading or verifier shows up as a lost episode. Dataset tasks that ship neither
program (WikiTableQuestions, TableBench) are answered from the record's gold answer, and the
oracle says so in its reasoning text.

Listed for the ``table`` family in :data:`turngym.agents.oracles.BUILTIN_ORACLES`.
"""

from __future__ import annotations

import json
import re
from typing import Any

_RESPONSE_RE = re.compile(r"<tool_response[^>]*>\n(.*)\n</tool_response>", re.DOTALL)

# Printed after the gold program: one line, list items joined by commas, whole floats as ints.
_PRINT_ANSWER = """
def __oracle_text(value):
    import datetime as _dt
    if hasattr(value, "item"):
        value = value.item()
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    if isinstance(value, _dt.datetime) and value == value.replace(hour=0, minute=0, second=0, microsecond=0):
        value = value.date()
    return str(value)

print("ANSWER:", ", ".join(map(__oracle_text, answer)) if isinstance(answer, (list, tuple)) else __oracle_text(answer))
"""


def _call(name: str, arguments: dict[str, Any]) -> str:
    return f"<tool_call>{json.dumps({'name': name, 'arguments': arguments})}</tool_call>"


class TableQAOracle:
    def __init__(self, env: Any):
        self.task = env.task
        self.turn = 0

    def act(self, observation: str, info: dict[str, Any]) -> str:
        self.turn += 1
        task = self.task
        if self.turn == 1:
            if task.gold_pandas:
                return _call("python", {"code": task.gold_pandas + "\n" + _PRINT_ANSWER})
            if task.gold_sql:
                return _call("python", {"code": self._sql_program(task) + "\n" + _PRINT_ANSWER})
            return f"This task ships no gold program; answering from its record.<answer>{task.answer_text}</answer>"
        return f"<answer>{self._read_answer(observation)}</answer>"

    def _read_answer(self, observation: str) -> str:
        match = _RESPONSE_RE.search(observation)
        output = match.group(1) if match else observation
        for line in output.splitlines():
            if line.startswith("ANSWER: "):
                return line[len("ANSWER: ") :].strip()
        return output.strip()  # the program failed: answer with what came back, and lose

    @staticmethod
    def _sql_program(task: Any) -> str:
        """Run the gold SQL in its own dialect. A list answer is the result's first column (the
        gold convention), or for Spider every cell row by row (its loader flattens multi-column
        results); any other answer is the single value."""
        if task.meta.get("sql_dialect") == "sqlite":  # Spider: SQLite SQL over the same tables
            query = (
                "import sqlite3\n__db = sqlite3.connect(':memory:')\n"
                f"for __name in {list(task.tables)!r}:\n    globals()[__name].to_sql(__name, __db, index=False)\n"
                f"__frame = pd.read_sql_query({task.gold_sql!r}, __db)"
            )
            cells = "__frame.values.ravel().tolist()"
        else:
            query = f"__frame = con.sql({task.gold_sql!r}).df()"
            cells = "__frame.iloc[:, 0].tolist()"
        pick = cells if task.answer_type == "list" else "__frame.iloc[0, 0]"
        return f"{query}\nanswer = {pick}"
