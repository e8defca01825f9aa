"""TableQA-v0: answer questions about tables by running pandas and duckdb code in a sandbox.

Description
    The design follows TableGPT-R1: the agent reads the question and the tables' schemas, runs
    code against the tables, reads the result and answers. Code runs in the episode's local
    sandbox (a forked, confined child of a warm fork server with pandas, numpy and duckdb
    imported: no network, read-only filesystem outside its working directory, rlimits, wall
    timeouts), so nothing the agent writes can touch the trainer.

Observation
    First: the question, then each table's name, row and column counts, columns with dtypes,
    and its first ``preview_rows`` rows — never a large table whole. Then tool results in
    ``<tool_response>`` blocks (stdout, the last expression's value, a trimmed traceback on
    error) and feedback on answers.

Actions and tools
    - ``python(code)``: a notebook cell; variables persist across calls within the episode. Each
      table is a DataFrame bound to its name, and ``con`` is a duckdb connection on which every
      table is registered as a view.
    - ``sql(query)``: a duckdb query over the same tables; the result comes back as a compact text
      table (at most ``max_result_rows`` rows shown, with the total count).
    - the final answer: the ``answer`` tool or ``<answer>...</answer>`` in text. Lists: separate
      items with commas.

Reward components (default weights in brackets)
    - ``success`` [1.0]: outcome, sparse, 1 if the answer verifies (rule-based:
      :func:`turngym.rewards.answer.verify_answer` — numbers with tolerance, separators,
      percentages, units, dates, booleans, case/punctuation, lists as sets).
    - ``invalid_action`` [1.0]: −0.1 per invalid turn (unparseable call, unknown tool, bad args,
      no tool call and no answer).
    - ``code_error`` [1.0]: −0.05 per tool call whose code or SQL failed (dense).
    - ``format``, ``turn_penalty``, ``laser`` [0: reported as metrics]; ``judge`` is available as
      an object (:class:`turngym.rewards.judge.JudgeReward`) for criteria-based scoring.
    Presets: ``"sparse"`` (success only), ``"laser"`` (success + LASER step reward),
    ``"gra"`` (G-RA: format and code-error terms count only when the answer is right).

Termination and truncation
    Terminates at the first answer (right or wrong). Truncated at ``max_turns`` (default 12) or
    when the episode's assistant tokens exceed ``max_tokens`` / the budget mode's budget.

Difficulty knobs
    ``reset(options={"difficulty": "easy" | "medium" | "hard", "split": "train" | "test",
    "task_id": ...})``. Easy: lookups, counts, max/min. Medium: filter + aggregate, group-by,
    top-k, ranking. Hard: joins, multi-step, date arithmetic, percentage change, ties. Train and
    test splits never share a table.

Registered ids
    ``turngym/TableQA-v0``: procedurally generated tasks. ``gymnasium.make("turngym/TableQA-v0",
    tasks="file.jsonl")`` plays a dataset instead (turngym JSONL, WikiTableQuestions, WikiSQL,
    TableBench or a Spider-style directory; see :mod:`turngym.tasks.table.loaders`).
"""

from __future__ import annotations

import io
import pickle
from pathlib import Path
from typing import Any

import pandas as pd

from turngym.actions import ParsedAction
from turngym.envs.base import Outcome, TurnEnv
from turngym.rewards.answer import verify_answer
from turngym.rewards.combinators import Gated, WeightedSum
from turngym.rewards.common import FormatReward, SignalReward, SuccessReward
from turngym.rewards.length import LengthReward
from turngym.sandboxes.base import Sandbox
from turngym.sandboxes.forkserver import ForkServerSandbox
from turngym.tasks.base import TaskSource
from turngym.tasks.table import TableTask, TableTaskGenerator, load_tasks
from turngym.tools import Tool, ToolOutput, tool_from_function

CODE_ERROR_PENALTY = -0.05

# Defined once per sandbox child, after the tables are loaded; the names are kept out of the
# agent's way. Rendering happens in the child so a huge result never crosses the boundary whole.
_HELPERS = '''
import pandas as pd, numpy as np, duckdb
pd.set_option("display.width", 200)
pd.set_option("display.max_columns", 30)

def __turngym_show(df, max_rows):
    if not isinstance(df, pd.DataFrame):
        return repr(df)
    shown = df.head(max_rows).to_string(index=False)
    extra = f"\\n({len(df)} rows in all, {max_rows} shown)" if len(df) > max_rows else f"\\n({len(df)} rows)"
    return shown + extra

def __turngym_sql(query, max_rows):
    relation = con.sql(query)
    if relation is None:
        return "[statement executed]"
    return __turngym_show(relation.df(), max_rows)
'''


def _table_loader(names: list[str]) -> str:
    lines = ["con = duckdb.connect()"]
    for name in names:
        lines.append(f"{name} = pd.read_pickle({name + '.pkl'!r})")
        lines.append(f"con.register({name!r}, {name})")
    return "\n".join(lines)


def describe_table(name: str, df: pd.DataFrame, preview_rows: int) -> str:
    """Schema, size and a preview: what an analyst sees before writing a query."""
    columns = ", ".join(f"{col} ({dtype})" for col, dtype in df.dtypes.astype(str).items())
    preview = df.head(preview_rows).to_string(index=False) if len(df) else "(empty)"
    return f"Table `{name}`: {len(df)} rows × {df.shape[1]} columns\ncolumns: {columns}\nfirst rows:\n{preview}"


class TableQAEnv(TurnEnv):
    """Table question answering with sandboxed pandas and duckdb (see the module docstring)."""

    family = "table"
    answer_tool = True
    default_rewards = {
        "success": 1.0,
        "invalid_action": 1.0,
        "code_error": 1.0,
        "format": 0.0,
        "turn_penalty": 0.0,
        "laser": 0.0,
    }
    reward_components = {"code_error": lambda scale=CODE_ERROR_PENALTY: SignalReward("code_error", scale=scale)}
    reward_presets = {
        "sparse": lambda: WeightedSum({SuccessReward(): 1.0}),
        "laser": lambda: WeightedSum({SuccessReward(): 1.0, LengthReward(mode="step"): 1.0}),
        "gra": lambda: Gated(
            [SuccessReward(), WeightedSum({FormatReward(): 0.05, SignalReward("code_error", scale=CODE_ERROR_PENALTY): 1.0})],
            thresholds=1.0,
        ),
    }

    def __init__(
        self,
        *,
        tasks: str | Path | TaskSource | None = None,
        task_format: str = "auto",
        max_turns: int = 12,
        code_timeout: float = 10.0,
        preview_rows: int = 5,
        max_result_rows: int = 30,
        max_tool_output_chars: int = 6000,
        sandbox: Sandbox | None = None,
        **kwargs: Any,
    ):
        super().__init__(max_turns=max_turns, **kwargs)
        if code_timeout <= 0 or preview_rows < 0 or max_result_rows < 1 or max_tool_output_chars < 100:
            raise ValueError("code_timeout, preview_rows, max_result_rows and max_tool_output_chars must be positive")
        self.source = self._make_source(tasks, task_format)
        self.code_timeout, self.preview_rows = code_timeout, preview_rows
        self.max_result_rows, self.max_tool_output_chars = max_result_rows, max_tool_output_chars
        self._sandbox: Sandbox | None = sandbox
        self._tools_list = [tool_from_function(self._python, "python"), tool_from_function(self._sql, "sql")]

    @staticmethod
    def _make_source(tasks: Any, task_format: str) -> TaskSource:
        if tasks is None:
            return TableTaskGenerator()
        if isinstance(tasks, TaskSource):
            return tasks
        if isinstance(tasks, (str, Path)):
            if not Path(tasks).exists():
                raise ValueError(f"TableQA tasks path does not exist: {tasks}")
            return load_tasks(tasks, format=task_format)
        raise ValueError(f"tasks must be None, a path or a TaskSource, got {type(tasks).__name__}")

    # ------------------------------------------------------------------ the game
    def _begin(self, task: TableTask) -> str:
        sandbox = self._ensure_sandbox()
        sandbox.reset()
        for name, df in task.tables.items():
            buffer = io.BytesIO()
            df.to_pickle(buffer, protocol=pickle.HIGHEST_PROTOCOL)
            sandbox.put_file(f"{name}.pkl", buffer.getvalue())
        sandbox.run_setup(_HELPERS + _table_loader(list(task.tables)), timeout=max(30.0, self.code_timeout))
        tables = "\n\n".join(describe_table(n, df, self.preview_rows) for n, df in task.tables.items())
        return f"Question: {task.question}\n\n{tables}"

    def _instructions(self) -> str:
        return (
            "You answer questions about tables. Use the `sql` tool (duckdb) or the `python` tool "
            "(pandas: each table is a DataFrame of the same name; `con` is a duckdb connection with "
            "every table registered) to compute the answer from the data, then give it with the "
            "`answer` tool or as <answer>...</answer>. Separate the items of a list with commas."
        )

    def _episode_tools(self) -> list[Tool]:
        return self._tools_list

    def _on_answer(self, answer: str, action: ParsedAction) -> Outcome:
        task: TableTask = self.task  # type: ignore[assignment]
        correct = verify_answer(answer, task.answer, order_matters=task.order_matters)
        return Outcome(feedback="Answer submitted.", terminated=True, success=correct)

    def close(self) -> None:
        super().close()
        if self._sandbox is not None:
            self._sandbox.close()
            self._sandbox = None

    # ------------------------------------------------------------------ tools
    def _python(self, code: str) -> ToolOutput:
        """Run Python code (pandas, numpy, duckdb) against the tables; variables persist between calls.

        Args:
            code: Python source. The value of a final expression is shown, like in a notebook.
        """
        result = self._ensure_sandbox().run(code, timeout=self.code_timeout)
        return self._output(result.render(limit=self.max_tool_output_chars), result.ok)

    def _sql(self, query: str) -> ToolOutput:
        """Run a duckdb SQL query over the tables and show the result as a text table.

        Args:
            query: one SQL statement; tables are referred to by name.
        """
        code = f"print(__turngym_sql({query!r}, {self.max_result_rows}))"
        result = self._ensure_sandbox().run(code, timeout=self.code_timeout)
        return self._output(result.render(limit=self.max_tool_output_chars), result.ok)

    @staticmethod
    def _output(text: str, ok: bool) -> ToolOutput:
        return ToolOutput(text, ok=ok, signals={"code_error": 0.0 if ok else 1.0})

    def _ensure_sandbox(self) -> Sandbox:
        if self._sandbox is None:
            self._sandbox = ForkServerSandbox(timeout=self.code_timeout)
        return self._sandbox
