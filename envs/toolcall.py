"""ToolCall-v0: multi-turn tool calling over stateful tool worlds, function-calling datasets or MCP servers.

The specification is the class docstring of :class:`ToolCallEnv`. Besides the env, this module
holds what only this family needs: the ToolRL reward components scored over a whole episode,
the :class:`MCPTask` record (what a task is when the tools come from an MCP server) and the
loaders that turn ``tasks=`` / ``mcp_tasks=`` into a task source, failing at ``make`` time.
"""

from __future__ import annotations

import dataclasses
import functools
import logging
import re
import shlex
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

from turngym.actions import ParsedAction, ToolCall
from turngym.envs.base import Outcome, ToolResult, TurnEnv
from turngym.rewards.base import FunctionComponent, RewardComponent, RewardContext
from turngym.rewards.combinators import Gated, WeightedSum
from turngym.rewards.common import InvalidActionPenalty, SignalReward, SuccessReward
from turngym.rewards.shaping import PotentialShaping
from turngym.rewards.toolrl import ResponseFormat, correctness_reward, format_reward
from turngym.tasks.base import DIFFICULTIES, SPLITS, DatasetSource, TaskSource, check_choice
from turngym.tasks.tool_datasets import bfcl_category, load_bfcl, load_toolace, load_xlam, read_records, score_calls
from turngym.tasks.toolworlds import ASK_USER, ToolOutcome, ToolTask, ToolTaskGenerator, WorldSet
from turngym.tasks.toolworlds.scenario import answer_matches, says_impossible
from turngym.tools import Tool, ToolError

if TYPE_CHECKING:  # mcp is an optional extra; it is imported when an MCP server is used
    from turngym.tasks.mcp_tools import MCPToolSource

logger = logging.getLogger(__name__)

Mode = Literal["world", "dataset", "mcp"]
DATASET_FORMATS = ("auto", "bfcl", "xlam", "toolace")
_ANSWER_TAGS = re.compile(r"</?answer>")


# ---------------------------------------------------------------------------------------------
# ToolRL over an episode


class _EpisodeComponent(RewardComponent):
    """An outcome component that looks at every turn and scores once, at the end.

    What it saw is keyed by turn index, so a turn scored twice (when a combinator ends the
    episode, the base re-scores outcome components) still counts once.
    """

    outcome = True

    def __init__(self) -> None:
        self._seen: dict[int, Any] = {}

    def reset(self) -> None:
        self._seen = {}

    def __call__(self, ctx: RewardContext) -> float:
        self._seen[ctx.turn] = self.observe(ctx)
        return super().__call__(ctx)

    def observe(self, ctx: RewardContext) -> Any:
        raise NotImplementedError


class ToolRLFormat(_EpisodeComponent):
    """ToolRL's format check, averaged over the episode's turns: in [0, 1], sparse.

    A turn passes when it parsed and its tags are well formed (tool-call blocks hold JSON
    calls, at most one answer). ``think=True`` also requires one leading ``<think>`` block, as
    ToolRL does; it is off by default because a final message to the user is plain text.
    """

    name = "toolrl_format"

    def __init__(self, think: bool = False, strict: bool = False):
        super().__init__()
        self.format = ResponseFormat(think=think, require="none", strict=strict)

    def observe(self, ctx: RewardContext) -> float:
        return format_reward(ctx.action.text, self.format) if ctx.action.well_formed else 0.0

    def score(self, ctx: RewardContext) -> float:
        return sum(self._seen.values()) / len(self._seen)


class ToolRLCorrectness(_EpisodeComponent):
    """ToolRL correctness of the episode's calls against the task's gold calls: in [−3, 3], sparse.

    Every call of every turn that parsed counts, whether it ran, failed or named an unknown
    tool (extra and repeated calls lower the name match); a plain-text question the env routed
    to the user counts as an ``ask_user`` call. Questions are free wording, so ``ask_user``'s
    text is not compared. No turn that parsed at all scores −3, as an unparseable response does.
    """

    name = "toolrl_correctness"

    def observe(self, ctx: RewardContext) -> list[dict[str, Any]] | None:
        if not ctx.action.well_formed:
            return None
        calls = [{"name": c.name, "arguments": c.arguments} for c in ctx.action.tool_calls]
        question = ctx.signals.get("user_question")
        if isinstance(question, str):
            calls.append({"name": ASK_USER.name, "arguments": {"question": question}})
        return calls

    def score(self, ctx: RewardContext) -> float:
        turns = [calls for calls in self._seen.values() if calls is not None]
        if not turns:
            return -3.0
        predicted = [c for calls in turns for c in calls]
        return correctness_reward(_free_wording(predicted), _free_wording(ctx.task.gold_calls))


def _free_wording(calls: Sequence[Mapping[str, Any]]) -> list[Mapping[str, Any]]:
    """``ask_user`` calls with their question blanked: how a question is worded is up to the agent."""
    out: list[Mapping[str, Any]] = []
    for c in calls:
        if c["name"] == ASK_USER.name and isinstance(c.get("arguments"), Mapping):
            c = {"name": c["name"], "arguments": {k: "" for k in c["arguments"]}}
        out.append(c)
    return out


def goal_progress() -> RewardComponent:
    """The fraction of goal predicates satisfied at the end (the final potential): in [0, 1], sparse."""
    return FunctionComponent(lambda ctx: float(ctx.state.get("potential", 0.0)), "goal_progress", outcome=True)


# ---------------------------------------------------------------------------------------------
# Tasks on an MCP server


@dataclass
class MCPTask(ToolTask):
    """A request played against the tools of an MCP server, judged on the server's final state.

    ``setup`` calls run on the server before the episode (to seed its state); after the final
    message every ``checks`` entry ``{"name", "arguments", "expect"}`` is called on the server and
    its text result must equal ``expect`` (surrounding whitespace ignored). ``answer`` (spellings
    one of which the final message must contain), ``expect_impossible`` (the final message must
    decline) and ``clarification`` (the scripted reply to ``ask_user``) mean what they mean for
    tool-world tasks, and ``gold_turns`` feed the oracle and ToolRL correctness.
    """

    setup: list[dict[str, Any]] = field(default_factory=list)
    checks: list[dict[str, Any]] = field(default_factory=list)

    FIELDS = frozenset(
        {"id", "instruction", "gold_turns", "answer", "expect_impossible", "clarification", "setup", "checks"}
        | {"difficulty", "split", "meta"}
    )

    @classmethod
    def from_record(cls, record: Mapping[str, Any], index: int = 0) -> MCPTask:
        """A task from a plain dict (a JSON record); anything malformed is a ValueError."""
        where = f"MCP task {record.get('id', index)!r}"
        unknown = set(record) - cls.FIELDS
        if unknown:
            raise ValueError(f"{where}: unknown field(s) {sorted(unknown)}; allowed: {sorted(cls.FIELDS)}")
        instruction = record.get("instruction")
        if not isinstance(instruction, str) or not instruction.strip():
            raise ValueError(f"{where}: 'instruction' must be a non-empty string")
        answer = record.get("answer")
        if isinstance(answer, str):
            answer = [answer]
        if answer is not None and not (isinstance(answer, list) and answer and all(isinstance(a, str) for a in answer)):
            raise ValueError(f"{where}: 'answer' must be a string or a non-empty list of strings")
        gold_turns = record.get("gold_turns", [])
        if not isinstance(gold_turns, list) or not all(isinstance(t, list) for t in gold_turns):
            raise ValueError(f"{where}: 'gold_turns' must be a list of turns, each a list of calls")
        checks = [_checked(c, f"{where} check", needs_expect=True) for c in record.get("checks", [])]
        task = cls(
            id=str(record.get("id", f"mcp-{index}")),
            difficulty=record.get("difficulty", "easy"),
            split=record.get("split", "test"),
            meta=dict(record.get("meta", {})),
            instruction=instruction,
            gold_turns=[[_checked(c, f"{where} gold call") for c in turn] for turn in gold_turns],
            answer=answer,
            expect_impossible=bool(record.get("expect_impossible", False)),
            clarification=record.get("clarification"),
            setup=[_checked(c, f"{where} setup call") for c in record.get("setup", [])],
            checks=checks,
        )
        if not (task.checks or task.answer or task.expect_impossible):
            raise ValueError(f"{where}: give 'checks', an 'answer' or 'expect_impossible', or it cannot fail")
        check_choice("difficulty", task.difficulty, DIFFICULTIES)
        check_choice("split", task.split, SPLITS)
        return task


def _checked(c: Any, where: str, needs_expect: bool = False) -> dict[str, Any]:
    """A ``{"name", "arguments"[, "expect"]}`` call record, or a ValueError saying what is wrong."""
    if not isinstance(c, Mapping) or not isinstance(c.get("name"), str) or not c["name"]:
        raise ValueError(f"{where}: a call needs a non-empty string 'name', got {c!r}")
    arguments = c.get("arguments", {})
    if not isinstance(arguments, Mapping):
        raise ValueError(f"{where} {c['name']}: 'arguments' must be an object, got {arguments!r}")
    out: dict[str, Any] = {"name": c["name"], "arguments": dict(arguments)}
    if needs_expect:
        if not isinstance(c.get("expect"), str):
            raise ValueError(f"{where} {c['name']}: 'expect' must be the expected text result")
        out["expect"] = c["expect"]
    return out


@dataclass
class MCPOutcome:
    """How a finished MCP episode did, part by part."""

    success: bool
    checks_passed: int
    checks_total: int
    answer_ok: bool | None
    refused: bool | None
    errors: list[str] = field(default_factory=list)


# ---------------------------------------------------------------------------------------------
# Task sources from what a user passes to make()


def load_dataset_tasks(
    tasks: str | Path, task_format: str = "auto", answers: str | Path | None = None, on_error: str = "raise"
) -> DatasetSource[ToolTask]:
    """BFCL / xLAM / ToolACE tasks from files, every problem a ValueError naming the file."""
    path = Path(tasks)
    if task_format not in DATASET_FORMATS:
        raise ValueError(f"task_format must be one of {list(DATASET_FORMATS)}, got {task_format!r}")
    if not path.is_file():
        raise ValueError(f"ToolCall tasks file does not exist: {path}")
    if answers is not None and not Path(answers).is_file():
        raise ValueError(f"BFCL answers file does not exist: {answers}")
    fmt = detect_format(path) if task_format == "auto" else task_format
    if answers is not None and fmt != "bfcl":
        raise ValueError(f"answers= is BFCL's possible-answer file; {path} is {fmt}")
    try:
        if fmt == "bfcl":
            loaded = load_bfcl(path, answers, on_error=on_error)  # type: ignore[arg-type]
        elif fmt == "xlam":
            loaded = load_xlam(path, on_error=on_error)  # type: ignore[arg-type]
        else:
            loaded = load_toolace(path, on_error=on_error)  # type: ignore[arg-type]
    except (ValueError, KeyError, TypeError, SyntaxError) as exc:
        raise ValueError(f"{path} is not a valid {fmt} file: {type(exc).__name__}: {exc}") from exc
    unanswered = [t.id for t in loaded if fmt == "bfcl" and t.possible_answer is None]
    if unanswered:
        categories = sorted({bfcl_category(i.removeprefix("bfcl-")) for i in unanswered})
        raise ValueError(f"BFCL {categories} tasks need their possible-answer file: pass answers=PATH")
    if not loaded:
        raise ValueError(f"{path}: no {fmt} tasks in the file")
    return DatasetSource(loaded)


def detect_format(path: Path) -> str:
    """The benchmark a file comes from, read off its first record's keys."""
    try:
        records = read_records(path)
    except ValueError as exc:  # includes json.JSONDecodeError
        raise ValueError(f"{path}: not JSON or JSONL: {exc}") from exc
    if not records:
        raise ValueError(f"{path}: the file holds no records")
    keys = set(records[0])
    if "conversations" in keys:
        return "toolace"
    if {"query", "answers"} <= keys:
        return "xlam"
    if {"question", "function"} <= keys:
        return "bfcl"
    raise ValueError(
        f"{path}: cannot tell the format from the keys {sorted(keys)}; pass task_format= one of {list(DATASET_FORMATS[1:])}"
    )


def load_mcp_tasks(spec: Any) -> DatasetSource[MCPTask]:
    """MCP tasks from an MCPTask, a dict, a list of them, or a JSON/JSONL file of dicts."""
    if isinstance(spec, (str, Path)):
        if not Path(spec).is_file():
            raise ValueError(f"MCP tasks file does not exist: {spec}")
        spec = read_records(spec)
    items = [spec] if isinstance(spec, (MCPTask, Mapping)) else spec
    if not isinstance(items, Sequence) or not items:
        raise ValueError("mcp_tasks must be an MCPTask, a dict, a non-empty list of them, or a JSON/JSONL path")
    tasks = []
    for i, item in enumerate(items):
        if isinstance(item, MCPTask):
            tasks.append(item)
        elif isinstance(item, Mapping):
            tasks.append(MCPTask.from_record(item, i))
        else:
            raise ValueError(f"mcp_tasks[{i}] must be an MCPTask or a dict, got {type(item).__name__}")
    return DatasetSource(tasks)


def task_mode(task: ToolTask) -> Mode:
    if isinstance(task, MCPTask):
        return "mcp"
    return "world" if task.is_world_task else "dataset"


# ---------------------------------------------------------------------------------------------
# The env


class ToolCallEnv(TurnEnv):
    """Multi-turn tool calling: act on a user's request with tools that change a stateful world.

    Description
        Three kinds of task share one protocol. *World tasks* (the default) come from
        :class:`turngym.tasks.toolworlds.ToolTaskGenerator`: a request in one of four seeded
        worlds (bank, shop, agenda, workspace) whose state lives in the env and changes with
        every call; success, tau-bench style, is judged on the final state (it must equal the
        state the gold calls produce, and every goal predicate must hold), on the final message
        where the task asks for an answer, and on a refusal where the task is impossible.
        *Dataset tasks* (``tasks="file"``, BFCL / xLAM / ToolACE) are single-turn: the tools are
        schemas only, and the agent's first turn that parses is scored on its calls (BFCL AST
        match, or ToolRL correctness) and ends the episode. *MCP tasks* (``mcp_server=``) play
        against the tools of a real MCP stdio server; see :class:`MCPTask` (a request, optional
        setup calls, and checks — tool calls whose text result must match — and/or an answer).
        After an episode, ``env.unwrapped.judgement`` says how it did part by part, and
        ``reward_state()`` reports ``potential``, ``goals_satisfied``, ``goals_total``,
        ``clarified`` and ``tool_errors`` after every turn.

    Observation
        The user's request (dataset tasks: the conversation before it, then the request), then
        tool results in ``<tool_response>`` blocks (an error message when a call fails) and
        the user's replies. ``info["tools"]`` holds the OpenAI schemas of the episode's tools.

    Actions and tools
        Assistant text with ``<tool_call>`` blocks or a message with native ``tool_calls``.
        World tasks offer their world's tools, the tools of 0-2 distractor worlds and
        ``ask_user(question)``; calls are validated against their JSON schemas before they run,
        and a domain failure (unknown id, insufficient funds) comes back as the tool result.
        *Ending*: a message without tool calls is the final message to the user and ends the
        episode (an ``<answer>...</answer>`` block is accepted too; the whole message, tags
        removed, is judged). *Clarifying in text*: while the task withholds a detail the user
        has not yet given, a message without tool calls or answer tags whose text ends with
        ``?`` is a question to the user instead: the scripted reply comes back as a ``user``
        message and the episode goes on. The user clarifies once; after that (or when there is nothing to
        clarify) every message without tool calls is final. ``ask_user`` answers any time.

    Reward components (default weights in brackets; all reported in ``info["reward_components"]``)
        - ``success`` [1.0]: outcome, sparse, {0, 1}.
        - ``invalid_action`` [1.0]: −0.1 per invalid turn (unparseable, unknown tool, bad
          arguments, an empty message), dense.
        - ``shaping`` [0]: potential-based, F = Φ(s′) − Φ(s) with Φ = satisfied / total goal
          predicates (``reward_state()["potential"]``; 0 at the end and for tasks without
          predicates), dense, per turn of calls.
        - ``goal_progress`` [0]: Φ at the end, in [0, 1], sparse.
        - ``toolrl_format`` [0]: ToolRL's format check, mean over the episode's turns, [0, 1], sparse.
        - ``toolrl_correctness`` [0]: ToolRL correctness, in [−3, 3], sparse. Scored once per
          *episode*: all calls the agent issued (in turns that parsed) against all gold calls, so
          a multi-turn episode is one response to ToolRL. Per-turn scoring would punish a
          different but valid order of lookups, which the state-based outcome allows.
        - ``ast_match`` [0]: BFCL AST match of the scored turn, {0, 1}, dataset tasks with a
          possible answer (else 0).
        Presets: ``"sparse"`` (success), ``"state"`` (success + shaping + invalid_action),
        ``"toolrl"`` (toolrl_format + toolrl_correctness, ToolRL's R ∈ [−3, 4]; success as a
        metric), ``"gra"`` (G-RA: 0.1·toolrl_format + 0.1·toolrl_correctness + invalid_action
        count only in successful episodes).

    Termination and truncation
        Terminates at the final message (world and MCP tasks) or at the first turn that
        parses (dataset tasks). Truncated at ``max_turns`` (default 16) or when the episode's
        assistant tokens exceed ``max_tokens`` / the budget mode's budget; a truncated episode
        is a failure.

    Difficulty knobs
        ``reset(options={"difficulty": "easy" | "medium" | "hard", "split": "train" | "test",
        "task_id": ...})``. Easy: one or two calls on given ids, no distractor world. Medium:
        look-ups then actions, parallel calls, clarifications and impossible requests, one
        distractor world. Hard: longer chains across records, two distractor worlds.
        ``make`` kwargs: ``worlds`` (which worlds to draw from), ``distractors``
        (``{"easy": 0, "medium": 1, "hard": 2}`` by default), ``test_every`` (every n-th seed is a
        test task; the splits never share a seed).

    Registered ids
        ``turngym/ToolCall-v0``: generated world tasks. The same id plays datasets with
        ``tasks="file", task_format="auto" | "bfcl" | "xlam" | "toolace"`` (BFCL also needs
        ``answers="possible_answer file"``), and MCP servers with ``mcp_server=["python",
        "server.py"], mcp_tasks=[{...}]`` (a fresh server per episode unless
        ``mcp_restart=False``; ``close()`` stops it).
    """

    family = "toolcall"
    answer_tag = "answer"
    default_rewards = {
        "success": 1.0,
        "invalid_action": 1.0,
        "shaping": 0.0,
        "goal_progress": 0.0,
        "toolrl_format": 0.0,
        "toolrl_correctness": 0.0,
        "ast_match": 0.0,
    }
    reward_components = {
        "toolrl_format": ToolRLFormat,
        "toolrl_correctness": ToolRLCorrectness,
        "goal_progress": goal_progress,
        "ast_match": lambda: SignalReward("ast_match", outcome=True),
    }
    reward_presets = {
        "sparse": lambda: WeightedSum({SuccessReward(): 1.0}),
        "state": lambda: WeightedSum({SuccessReward(): 1.0, PotentialShaping(): 1.0, InvalidActionPenalty(): 1.0}),
        "toolrl": lambda: WeightedSum({ToolRLFormat(): 1.0, ToolRLCorrectness(): 1.0, SuccessReward(): 0.0}),
        "gra": lambda: Gated(
            [
                SuccessReward(),
                WeightedSum({ToolRLFormat(): 0.1, ToolRLCorrectness(): 0.1, InvalidActionPenalty(): 1.0}),
            ],
            thresholds=1.0,
        ),
    }

    def __init__(
        self,
        *,
        tasks: str | Path | TaskSource | Sequence[ToolTask] | None = None,
        task_format: str = "auto",
        answers: str | Path | None = None,
        on_error: str = "raise",
        worlds: Sequence[str] | None = None,
        distractors: Mapping[str, int] | None = None,
        test_every: int = 5,
        mcp_server: str | Sequence[str] | None = None,
        mcp_tasks: Any = None,
        mcp_env: Mapping[str, str] | None = None,
        mcp_restart: bool = True,
        mcp_timeout: float = 30.0,
        max_turns: int = 16,
        **kwargs: Any,
    ):
        super().__init__(max_turns=max_turns, **kwargs)
        generator_knobs = worlds is not None or distractors is not None or test_every != 5
        if mcp_server is not None:
            if tasks is not None or generator_knobs:
                raise ValueError(
                    "mcp_server plays mcp_tasks; do not pass tasks=, worlds=, distractors= or test_every= too"
                )
            self._mcp_command = _command(mcp_server)
            self.source: TaskSource = load_mcp_tasks(mcp_tasks)
        elif mcp_tasks is not None:
            raise ValueError("mcp_tasks need an mcp_server=[command, *args] to play on")
        elif tasks is None:
            self.source = ToolTaskGenerator(worlds, distractors=distractors, test_every=test_every)
        elif generator_knobs:
            raise ValueError("worlds=, distractors= and test_every= shape generated tasks; they do not apply to tasks=")
        else:
            self.source = _source(tasks, task_format, answers, on_error)
        if mcp_timeout <= 0:
            raise ValueError(f"mcp_timeout must be positive, got {mcp_timeout!r}")
        self.mcp_env, self.mcp_restart, self.mcp_timeout = dict(mcp_env or {}), mcp_restart, mcp_timeout
        self._mcp: MCPToolSource | None = None
        self.mode: Mode = "world"
        self.judgement: ToolOutcome | MCPOutcome | dict[str, float] | None = None  # how the last episode did
        self._worlds: WorldSet | None = None
        self._episode_tool_list: list[Tool] = []

    # ------------------------------------------------------------------ the game
    def _begin(self, task: ToolTask) -> str:
        self.mode = task_mode(task)
        self.judgement = None
        self._clarified = False
        self._tool_errors = 0
        self._progress: tuple[int, int] = (0, 0)
        self._dirty = self.mode == "world"  # the goal predicates need (re)checking
        if self.mode == "world":
            self._worlds = task.build_worlds()
            self._episode_tool_list = task.available_tools(self._worlds)
        elif self.mode == "dataset":
            self._worlds = None
            self._episode_tool_list = list(task.tools)
        else:
            self._worlds = None
            self._episode_tool_list = self._start_mcp(task)  # type: ignore[arg-type]
        return task.instruction if self.mode != "dataset" else dataset_prompt(task)

    def _instructions(self) -> str:
        if self.mode == "dataset":
            return (
                "Respond to the user's last request with the function calls that fulfil it, all in this one "
                "turn (several calls for parallel requests). The calls are scored, not run, and the episode "
                "ends after this turn. If no available function fits, reply in plain text without calling any."
            )
        ask = (
            " If a detail you need is missing, ask the user: call `ask_user`, or write a question in plain "
            "text ending with '?'."
            if ASK_USER.name in {t.name for t in self._episode_tool_list}
            else ""
        )
        return (
            "You act on a user's request by calling tools. The tools change a live system, so call only what "
            f"the request needs, and look records up rather than guessing ids.{ask} When you are done, reply to "
            "the user in plain text without any tool call (an <answer>...</answer> block works too): that message "
            "ends the conversation. Include any information the user asked for. If the request cannot be "
            "carried out, make no changes and say that it cannot be done."
        )

    def _episode_tools(self) -> list[Tool]:
        return self._episode_tool_list

    def _call_tool(self, tool: Tool, call: ToolCall) -> Any:
        if self.mode == "dataset":
            return "Call recorded (this task scores calls; nothing runs)."
        if tool.name == ASK_USER.name:
            self._clarified = True
        self._dirty = self.mode == "world"
        try:
            return super()._call_tool(tool, call)
        except ToolError:
            self._tool_errors += 1
            raise
        except RuntimeError as exc:
            if self.mode != "mcp" or not _is_server_error(exc):
                raise
            logger.warning("MCP server failed during %r: %s", call.name, exc)
            self._tool_errors += 1
            raise ToolError(str(exc)) from exc  # the agent reads it; the judge will find the server gone

    def _on_tool_calls(self, action: ParsedAction, results: list[ToolResult]) -> Outcome:
        return self._score_turn(action) if self.mode == "dataset" else Outcome()

    def _on_text(self, action: ParsedAction) -> Outcome:
        if self.mode == "dataset":
            return self._score_turn(action)
        message = action.content.strip()
        if not message:
            feedback = "Your message has no text for the user. Call a tool or write your reply."
            return Outcome(feedback=feedback, valid=False, error="no_action")
        if self._clarification_pending() and message.endswith("?"):
            self._clarified = True
            return Outcome(feedback=self.task.user_reply(message), signals={"user_question": message})  # type: ignore[union-attr]
        return self._finish(message)

    def _on_answer(self, answer: str, action: ParsedAction) -> Outcome:
        if self.mode == "dataset":
            return self._score_turn(action)
        return self._finish(_ANSWER_TAGS.sub(" ", action.content).strip())

    def reward_state(self) -> dict[str, Any]:
        if self._dirty and self._worlds is not None:
            self._progress = goal_progress_of(self.task, self._worlds)  # type: ignore[arg-type]
            self._dirty = False
        satisfied, total = self._progress
        return {
            "potential": satisfied / total if total else 0.0,
            "goals_satisfied": satisfied,
            "goals_total": total,
            "clarified": self._clarified,
            "tool_errors": self._tool_errors,
        }

    def _end_episode(self) -> None:
        self._worlds = None
        if self._mcp is not None and self.mcp_restart:
            self._mcp.close()
            self._mcp = None

    def close(self) -> None:
        super().close()
        if self._mcp is not None:
            self._mcp.close()
            self._mcp = None

    # ------------------------------------------------------------------ judging
    def _clarification_pending(self) -> bool:
        return self.task.clarification is not None and not self._clarified  # type: ignore[union-attr]

    def _finish(self, message: str) -> Outcome:
        """The final message: judge the episode (world state or MCP checks, answer, refusal)."""
        if self.mode == "world":
            assert self._worlds is not None
            self.judgement = self.task.evaluate(self._worlds, message)  # type: ignore[union-attr]
        else:
            self.judgement = self._judge_mcp(message)
        return Outcome(feedback="[the conversation is over]", terminated=True, success=self.judgement.success)

    def _score_turn(self, action: ParsedAction) -> Outcome:
        """A dataset task's one scored turn: AST match where BFCL has a possible answer, else ToolRL."""
        predicted = [{"name": c.name, "arguments": c.arguments} for c in action.tool_calls]
        scores = score_calls(self.task, predicted)  # type: ignore[arg-type]
        self.judgement = scores
        success = scores["ast_match"] == 1.0 if "ast_match" in scores else scores["toolrl_correctness"] >= 3.0
        feedback = "[the calls were scored; the episode is over]"
        return Outcome(
            feedback=feedback, terminated=True, success=success, signals={"ast_match": scores.get("ast_match", 0.0)}
        )

    # ------------------------------------------------------------------ MCP
    def _start_mcp(self, task: MCPTask) -> list[Tool]:
        """The episode's server (fresh unless ``mcp_restart=False``), set up for ``task``; its tools."""
        from turngym.tasks.mcp_tools import MCPToolSource

        if self._mcp is not None and not self._mcp.alive:  # a reused server that died last episode
            self._mcp.close()
            self._mcp = None
        if self._mcp is None:
            command, *args = self._mcp_command
            self._mcp = MCPToolSource(
                command, args, self.mcp_env, startup_timeout=self.mcp_timeout, call_timeout=self.mcp_timeout
            )
        tools = self._mcp.tools()
        names = {t.name for t in tools}
        used = {c["name"] for c in [*task.setup, *task.checks, *task.gold_calls]} - {ASK_USER.name}
        if used - names:
            raise ValueError(
                f"MCP task {task.id!r} uses tools the server lacks: {sorted(used - names)}; it has {sorted(names)}"
            )
        for c in task.setup:
            try:
                self._mcp.call(c["name"], c["arguments"])
            except ToolError as exc:
                raise ValueError(f"MCP task {task.id!r}: setup call {c['name']} failed: {exc}") from exc
        if task.clarification is not None:
            if ASK_USER.name in names:
                raise ValueError(
                    f"the MCP server has its own {ASK_USER.name!r}; task {task.id!r} cannot script the user"
                )
            tools.append(ASK_USER.bound_to(task.user_reply))
        return tools

    def _judge_mcp(self, message: str) -> MCPOutcome:
        from turngym.tasks.mcp_tools import MCPServerError

        task: MCPTask = self.task  # type: ignore[assignment]
        assert self._mcp is not None
        passed, errors = 0, []
        for check in task.checks:
            try:
                result = self._mcp.call(check["name"], check["arguments"])
            except (ToolError, MCPServerError) as exc:
                errors.append(f"{check['name']}: {exc}")
                continue
            if result.strip() == check["expect"].strip():
                passed += 1
            else:
                errors.append(f"{check['name']} returned {result.strip()!r}, expected {check['expect'].strip()!r}")
        answer_ok = answer_matches(message, task.answer) if task.answer else None
        refused = says_impossible(message) if task.expect_impossible else None
        success = passed == len(task.checks) and answer_ok is not False and refused is not False
        return MCPOutcome(success, passed, len(task.checks), answer_ok, refused, errors)


_MISSING = object()


def goal_progress_of(task: ToolTask, worlds: WorldSet) -> tuple[int, int]:
    """(satisfied, total) goal predicates, the same answer as :meth:`ToolTask.goal_progress`.

    That method snapshots every world (distractors included) with ``dataclasses.asdict`` before
    checking; the snapshot was most of a step's time. Here each predicate reads only the value
    at its own path on the live worlds, and is checked against a state holding just that value.
    """
    satisfied = 0
    for predicate in task.predicates:
        value = _live_value(worlds.worlds, predicate.path)
        state: dict[Any, Any] = {}
        if value is not _MISSING:
            node = state
            for step in predicate.path[:-1]:
                node = node.setdefault(step, {})
            node[predicate.path[-1]] = _plain(value)
        satisfied += predicate.holds(state)
    return satisfied, len(task.predicates)


def _live_value(root: Any, path: Sequence[str | int]) -> Any:
    """What ``path`` points at in live worlds (dataclasses, dicts, lists), or ``_MISSING``."""
    node = root
    for step in path:
        if isinstance(node, Mapping):
            if step not in node:
                return _MISSING
            node = node[step]
        elif isinstance(node, list) and isinstance(step, int) and -len(node) <= step < len(node):
            node = node[step]
        elif dataclasses.is_dataclass(node) and isinstance(step, str) and step in _field_names(type(node)):
            node = getattr(node, step)
        else:
            return _MISSING
    return node


@functools.cache
def _field_names(cls: type) -> frozenset[str]:
    return frozenset(f.name for f in dataclasses.fields(cls))


def _plain(value: Any) -> Any:
    """A value as ``dataclasses.asdict`` would have put it in the state (copied, plain data)."""
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return dataclasses.asdict(value)
    if isinstance(value, (list, tuple)):
        return type(value)(_plain(v) for v in value)
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    return value


def _is_server_error(exc: BaseException) -> bool:
    from turngym.tasks.mcp_tools import MCPServerError

    return isinstance(exc, MCPServerError)


def _command(spec: str | Sequence[str]) -> list[str]:
    command = shlex.split(spec) if isinstance(spec, str) else list(spec)
    if not command or not all(isinstance(part, str) and part for part in command):
        raise ValueError(f"mcp_server must be a command line or a list [command, *args], got {spec!r}")
    return command


def _source(tasks: Any, task_format: str, answers: Any, on_error: str) -> TaskSource:
    if isinstance(tasks, TaskSource):
        return tasks
    if isinstance(tasks, (str, Path)):
        return load_dataset_tasks(tasks, task_format, answers, on_error)
    if isinstance(tasks, Sequence) and tasks and all(isinstance(t, ToolTask) for t in tasks):
        if any(isinstance(t, MCPTask) for t in tasks):
            raise ValueError("MCP tasks are played with mcp_server= and mcp_tasks=, not tasks=")
        return DatasetSource(tasks)
    raise ValueError(
        f"tasks must be None, a file path, a TaskSource or a non-empty list of ToolTasks, got {tasks!r:.80}"
    )


def dataset_prompt(task: ToolTask) -> str:
    """A dataset task as the agent reads it: the conversation so far, the request, what followed."""
    if not task.messages and not task.followup:
        return task.instruction
    lines = [_render(m) for m in task.messages]
    lines.append(f"[user] {task.instruction}")
    lines.extend(_render(m) for m in task.followup)
    return "Conversation so far:\n" + "\n".join(lines)


def _render(message: Mapping[str, Any]) -> str:
    role = message.get("role", "?")
    if message.get("tool_calls"):
        calls = ", ".join(f"{c['function']['name']}({c['function']['arguments']})" for c in message["tool_calls"])
        return f"[{role}] called {calls}"
    return f"[{role}] {message.get('content') or ''}"
