"""TurnEnv: the one turn/episode protocol every turngym env follows.

The base class owns the loop; a family writes only its game logic. It parses every action with
the shared parser, validates tool calls against their JSON schemas, runs them, scores the turn
with the reward tree, enforces turn and token budgets, keeps the exact OpenAI-format history and
hands the whole trajectory over at the end. Bad actions never raise: they come back as an
observation that says what was wrong, with ``info["action_valid"] = False``.

A family subclasses :class:`TurnEnv` and implements:

- ``_load_task(options)`` → a task record (draw randomness from ``self.np_random``), or just set
  ``self.source`` to a :class:`~turngym.tasks.base.TaskSource` and let the default draw from it;
- ``_begin(task)`` → the first observation (the task as the agent reads it);
- ``_episode_tools()`` → the tools of this episode (:class:`turngym.tools.Tool`);
- ``_on_answer(answer, action)`` and/or ``_on_text(action)`` → an :class:`Outcome`;
- optionally ``_on_tool_calls(action, results)`` → an :class:`Outcome` for a turn of tool calls
  without an answer (default: carry on; a family that scores a single turn of calls ends here);
- optionally ``_instructions()``, ``reward_state()`` (signals such as a score or a potential for
  reward components) and ``_end_episode()`` (release per-episode resources).

Observation: text (``UnicodeText``). Tool results appear as
``<tool_response name="..." id="...">...</tool_response>`` blocks, env feedback as plain text;
``info["messages"]`` carries the same as OpenAI messages (``role: tool`` / ``role: user``).

Action: assistant text (tool calls in ``<tool_call>`` blocks, answers in ``<answer>`` tags) or an
OpenAI assistant message dict with native ``tool_calls``.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, ClassVar

import gymnasium as gym

from turngym.actions import ParsedAction, ToolCall, parse_action
from turngym.episode import EpisodeRecorder
from turngym.rewards.base import RewardContext
from turngym.rewards.budget import BUDGET_FRACTIONS, budget_tokens
from turngym.rewards.combinators import RewardEvent, RewardNode
from turngym.rewards.spec import ComponentFactory, build_rewards
from turngym.spaces import UnicodeText
from turngym.tasks.base import DIFFICULTIES, SPLITS, Task, TaskSource, check_choice
from turngym.tokens import TokenCounterSpec, make_token_counter
from turngym.tools import Tool, ToolError, ToolOutput, validate_arguments

logger = logging.getLogger(__name__)

BASE_OPTIONS = frozenset({"task_id", "difficulty", "split", "budget", "think"})
TEXT_PROTOCOL = (
    "To call a tool, write <tool_call>{{\"name\": \"TOOL\", \"arguments\": {{...}}}}</tool_call> "
    "(several blocks for parallel calls); tool results come back in <tool_response> blocks."
)
ANSWER_TOOL = Tool(
    name="answer",
    description="Submit your final answer. This ends the episode.",
    parameters={
        "type": "object",
        "properties": {"answer": {"type": "string", "description": "The final answer."}},
        "required": ["answer"],
        "additionalProperties": False,
    },
    fn=None,
)


@dataclass
class Outcome:
    """What a family's game logic says about one turn."""

    feedback: str | None = None  # text for the agent (a `user` message)
    valid: bool = True
    error: str | None = None
    terminated: bool = False
    success: bool | None = None
    signals: dict[str, Any] = field(default_factory=dict)  # facts for reward components


@dataclass
class ToolResult:
    call: ToolCall
    content: str
    ok: bool = True
    valid: bool = True
    signals: dict[str, Any] = field(default_factory=dict)

    def message(self) -> dict[str, Any]:
        return {"role": "tool", "tool_call_id": self.call.id, "name": self.call.name, "content": self.content}

    def render(self) -> str:
        return f'<tool_response name="{self.call.name}" id="{self.call.id}">\n{self.content}\n</tool_response>'


def _merge_signals(parts: list[dict[str, Any]]) -> dict[str, Any]:
    """One turn's signals: numbers add up over its tool calls (two failing cells = 2 errors)."""
    merged: dict[str, Any] = {}
    for part in parts:
        for key, value in part.items():
            both_numbers = isinstance(value, (int, float)) and isinstance(merged.get(key), (int, float))
            merged[key] = merged[key] + value if both_numbers else value
    return merged


class TurnEnv(gym.Env[str, Any]):
    """Base class of every turngym env (see the module docstring)."""

    metadata: ClassVar[dict[str, Any]] = {"render_modes": ["ansi", "human"], "render_fps": 4}
    family: ClassVar[str] = "base"
    default_rewards: ClassVar[Any] = {"success": 1.0, "format": 0.0, "invalid_action": 1.0}
    reward_components: ClassVar[Mapping[str, ComponentFactory]] = {}
    reward_presets: ClassVar[Mapping[str, Callable[[], RewardNode]]] = {}
    extra_options: ClassVar[frozenset[str]] = frozenset()
    answer_tag: ClassVar[str | None] = "answer"  # None: answers are not parsed from text
    answer_tool: ClassVar[bool] = False  # offer an `answer` tool routed to `_on_answer`
    default_token_budget: ClassVar[int] = 8192  # base for budget modes when max_tokens is None

    def __init__(
        self,
        *,
        max_turns: int = 16,
        max_tokens: int | None = None,
        token_counter: TokenCounterSpec = None,
        rewards: Any = None,
        max_observation_chars: int = 32_000,
        max_action_chars: int = 200_000,
        render_mode: str | None = None,
    ):
        if not isinstance(max_turns, int) or max_turns < 1:
            raise ValueError(f"max_turns must be a positive int, got {max_turns!r}")
        if max_tokens is not None and (not isinstance(max_tokens, int) or max_tokens < 1):
            raise ValueError(f"max_tokens must be a positive int or None, got {max_tokens!r}")
        if render_mode is not None and render_mode not in self.metadata["render_modes"]:
            raise ValueError(f"render_mode must be one of {self.metadata['render_modes']}, got {render_mode!r}")
        if max_observation_chars < 256:
            raise ValueError("max_observation_chars must be at least 256")
        self.max_turns, self.max_tokens = max_turns, max_tokens
        self.render_mode = render_mode
        self.token_counter = make_token_counter(token_counter)
        self.rewards: RewardNode = build_rewards(
            self.default_rewards if rewards is None else rewards,
            components=self.reward_components,
            presets=self.reward_presets,
        )
        self._components = self.rewards.leaves()
        self.observation_space = UnicodeText(max_observation_chars)
        self.action_space = UnicodeText(max_action_chars)
        self.task: Task | None = None
        self._active = False
        self._done = True
        self._last_obs = ""

    # ------------------------------------------------------------------ what a family writes
    source: TaskSource | None = None  # where `_load_task` draws tasks from, when a family sets it

    def _load_task(self, options: dict[str, Any]) -> Task:
        """The task named by ``task_id``, else one drawn from ``self.source`` with ``self.np_random``."""
        if self.source is None:
            raise NotImplementedError(f"{type(self).__name__} sets no task source and does not override _load_task")
        if "task_id" in options:
            return self.source.get(options["task_id"])
        check_choice("difficulty", options.get("difficulty"), DIFFICULTIES)
        check_choice("split", options.get("split"), SPLITS)
        return self.source.sample(self.np_random, difficulty=options.get("difficulty"), split=options.get("split"))

    def _begin(self, task: Task) -> str:
        raise NotImplementedError

    def _instructions(self) -> str:
        return ""

    def _episode_tools(self) -> list[Tool]:
        return []

    def _on_answer(self, answer: str, action: ParsedAction) -> Outcome:
        return Outcome(feedback="This environment does not take final answers.", valid=False)

    def _on_text(self, action: ParsedAction) -> Outcome:
        hint = " or give a final answer in <answer>...</answer>" if self.answer_tag else ""
        return Outcome(feedback=f"No tool call found. Call a tool{hint}.", valid=False, error="no_action")

    def _on_tool_calls(self, action: ParsedAction, results: list[ToolResult]) -> Outcome:
        """A turn of tool calls (already run) without an answer: most families carry on."""
        return Outcome()

    def reward_state(self) -> dict[str, Any]:
        """Env facts for reward components (e.g. ``score``, ``potential``); read after each turn."""
        return {}

    def _end_episode(self) -> None:
        """Release what one episode holds (a sandbox child, a game process...)."""

    def _call_tool(self, tool: Tool, call: ToolCall) -> Any:
        """Run one validated call; families override this for tools executed elsewhere."""
        if tool.fn is None:
            raise ToolError(f"tool {tool.name!r} has no implementation in this env")
        return tool.fn(**call.arguments)

    # ------------------------------------------------------------------ gymnasium API
    def reset(self, *, seed: int | None = None, options: dict[str, Any] | None = None):
        super().reset(seed=seed)
        options = self._check_options(options)
        if self._active:
            self._end_episode()
        for comp in self._components:
            comp.reset()
        self.task = self._load_task(options)
        first = self._begin(self.task)
        self._tools = {t.name: t for t in self._episode_tools()}
        if self.answer_tool:
            self._tools.setdefault(ANSWER_TOOL.name, ANSWER_TOOL)
        self._options = self._episode_options(options)
        self._budget = self._options.get("budget_tokens") or self.max_tokens
        self._turn, self._credited, self._values = 0, [], []
        self._state = self.reward_state()
        self._active, self._done = True, False
        self.instructions = self._compose_instructions()
        self.recorder = EpisodeRecorder(self.task.id, self.task.difficulty)
        first = self._fit(first)
        opening = [{"role": "system", "content": self.instructions}, {"role": "user", "content": first}]
        self.recorder.messages.extend(opening)
        self._last_obs = first
        info = {
            "instructions": self.instructions,
            "tools": [t.openai_schema() for t in self._tools.values()],
            "task_id": self.task.id,
            "difficulty": self.task.difficulty,
            "max_turns": self.max_turns,
            "max_tokens": self._budget,
            "messages": opening,
            **self._step_info(0, True, self._zero_components(), None, None, []),
        }
        return first, info

    def step(self, action: Any):
        if self._done:
            return self._step_after_end()
        turn = self._turn
        parsed = parse_action(action, answer_tag=self.answer_tag, call_prefix=f"call_{turn}")
        tokens = self._count_action_tokens(parsed)
        outcome, results = self._play(parsed)
        self._turn += 1
        self.recorder.messages.append(parsed.message())
        terminated = outcome.terminated
        truncated, end_reason = False, "terminated" if terminated else ""
        episode_tokens = self.recorder.assistant_tokens + tokens
        if not terminated:
            truncated, end_reason = self._truncation(episode_tokens)
        ctx = self._reward_context(parsed, outcome, results, turn, tokens, episode_tokens, terminated, truncated)
        values, events, stopped_by = self._score(ctx, outcome)
        if stopped_by:  # a combinator ended the episode (e.g. a CaRL infraction)
            terminated, end_reason = True, f"reward:{stopped_by}"
        done = terminated or truncated
        credit = self.rewards.credit(self._values, done)
        # This turn's credit plus whatever earlier turns gained since (deferred rewards).
        reward = credit[-1] + sum(now - before for now, before in zip(credit, self._credited))
        self._credited = credit
        obs, messages = self._observation(results, outcome, end_reason if truncated else "")
        self.recorder.messages.extend(messages)
        self.recorder.add_turn(
            {
                "turn": turn,
                "valid": outcome.valid,
                "tool_calls": len(parsed.tool_calls),
                "tokens": tokens,
                "observation_tokens": self.token_counter(obs),
                "think": bool(parsed.think),
                "components": values,
                "error": outcome.error,
            }
        )
        success = ctx.success if done else None
        violations = [e.detail for e in events if e.kind == "violation"]
        info = {"messages": messages, **self._step_info(turn + 1, outcome.valid, values, success, outcome.error, violations)}
        if done:
            self._done = True
            info["episode"] = self.recorder.summary(
                rewards=credit, success=bool(success), terminated=terminated, truncated=truncated, end_reason=end_reason
            )
        self._last_obs = obs
        if self.render_mode == "human":
            self.render()
        return obs, float(reward), terminated, truncated, info

    def render(self) -> str | None:
        if self.render_mode == "ansi":
            return self._last_obs
        if self.render_mode == "human":
            print(self._last_obs)
        return None

    def close(self) -> None:
        if self._active:
            self._end_episode()
            self._active = False
        super().close()

    # ------------------------------------------------------------------ for trainers
    def set_reward_weights(self, weights: Mapping[str, float]) -> None:
        """Change weighted-sum weights by component name, e.g. between episodes."""
        unknown = set(weights) - self.rewards.set_weights(weights)
        if unknown:
            raise ValueError(f"no weighted reward term named {sorted(unknown)}")

    @property
    def tools(self) -> list[Tool]:
        return list(getattr(self, "_tools", {}).values())

    # ------------------------------------------------------------------ the loop's parts
    def _check_options(self, options: dict[str, Any] | None) -> dict[str, Any]:
        options = dict(options or {})
        unknown = set(options) - BASE_OPTIONS - self.extra_options
        if unknown:
            allowed = sorted(BASE_OPTIONS | self.extra_options)
            raise ValueError(f"unknown reset option(s) {sorted(unknown)}; allowed: {allowed}")
        if options.get("budget") is not None and options["budget"] not in BUDGET_FRACTIONS:
            raise ValueError(f"budget must be one of {list(BUDGET_FRACTIONS)}, got {options['budget']!r}")
        if "think" in options and options["think"] not in (True, False, None):
            raise ValueError(f"think must be True, False or None, got {options['think']!r}")
        return options

    def _episode_options(self, options: dict[str, Any]) -> dict[str, Any]:
        base = self.max_tokens or self.default_token_budget
        return {**options, "budget_tokens": budget_tokens(options.get("budget"), base)}

    def _compose_instructions(self) -> str:
        parts = [self._instructions().strip()]
        if self._tools:
            parts.append(TEXT_PROTOCOL.format())
        if self._budget:
            parts.append(f"Token budget for this episode: {self._budget} tokens of your text in all.")
        if self._options.get("think") is False:
            parts.append("Answer directly: do not write <think> reasoning.")
        elif self._options.get("think") is True:
            parts.append("Reason step by step inside <think>...</think> before acting.")
        return "\n\n".join(p for p in parts if p)

    def _reward_context(
        self,
        parsed: ParsedAction,
        outcome: Outcome,
        results: list[ToolResult],
        turn: int,
        tokens: int,
        episode_tokens: int,
        terminated: bool,
        truncated: bool,
    ) -> RewardContext:
        """What the reward components of this turn may look at."""
        prev_state, self._state = self._state, self.reward_state()
        done = terminated or truncated
        return RewardContext(
            task=self.task,
            action=parsed,
            observation=outcome.feedback or "",
            turn=turn,
            done=done,
            terminated=terminated,
            success=outcome.success if outcome.success is not None or not done else False,
            valid=outcome.valid,
            tokens=tokens,
            episode_tokens=episode_tokens,
            difficulty=self.task.difficulty,
            state=self._state,
            prev_state=prev_state,
            signals=_merge_signals([r.signals for r in results] + [outcome.signals]),
            options=self._options,
            history=self.recorder.turns,
        )

    def _score(self, ctx: RewardContext, outcome: Outcome) -> tuple[dict[str, float], list[RewardEvent], str | None]:
        """Every component's value this turn, the reward tree's events, and who stopped the episode."""
        values = {c.name: c(ctx) for c in self._components}
        self._values.append(values)
        events = self.rewards.events(self._values, ctx.done)
        stop = [e for e in events if e.kind == "terminate"]
        if not stop or ctx.done:
            return values, events, None
        ctx.done = ctx.terminated = True
        ctx.success = bool(outcome.success)
        values.update({c.name: c(ctx) for c in self._components if c.outcome})  # the episode ends here
        return values, events, stop[0].source

    def _count_action_tokens(self, parsed: ParsedAction) -> int:
        tokens = self.token_counter(parsed.text)
        if isinstance(parsed.raw, dict):  # native tool calls are text the model wrote, too
            tokens += sum(self.token_counter(json.dumps(c.arguments)) + 2 for c in parsed.tool_calls)
        return tokens

    def _play(self, parsed: ParsedAction) -> tuple[Outcome, list[ToolResult]]:
        if parsed.errors:
            message = "Your action could not be parsed: " + " ".join(parsed.errors)
            return Outcome(feedback=message, valid=False, error="parse_error"), []
        answer = parsed.answer
        results: list[ToolResult] = []
        for call in parsed.tool_calls:
            if self.answer_tool and call.name == ANSWER_TOOL.name:
                problem = validate_arguments(ANSWER_TOOL, call.arguments)
                if problem is None:
                    answer = str(call.arguments["answer"])
                    results.append(ToolResult(call, "Answer received."))
                else:
                    results.append(ToolResult(call, f"Error: {problem}", ok=False, valid=False))
                continue
            results.append(self._run_call(call))
        all_valid = all(r.valid for r in results)
        if answer is not None:
            outcome = self._on_answer(answer, parsed)
        elif parsed.tool_calls:
            outcome = self._on_tool_calls(parsed, results)
        else:
            outcome = self._on_text(parsed)
        if not all_valid:
            outcome.valid = False
            outcome.error = outcome.error or "invalid_tool_call"
        return outcome, results

    def _run_call(self, call: ToolCall) -> ToolResult:
        tool = self._tools.get(call.name)
        if tool is None:
            known = ", ".join(sorted(self._tools)) or "none"
            return ToolResult(call, f"Error: unknown tool {call.name!r}. Available tools: {known}.", ok=False, valid=False)
        problem = validate_arguments(tool, call.arguments)
        if problem is not None:
            return ToolResult(call, f"Error: {problem}", ok=False, valid=False)
        try:
            output = self._call_tool(tool, call)
        except ToolError as exc:
            return ToolResult(call, f"Error: {exc}", ok=False)
        except Exception as exc:  # a tool's own bug must not kill the rollout; it is logged
            logger.exception("tool %r raised", call.name)
            return ToolResult(call, f"Error: tool {call.name!r} failed: {type(exc).__name__}: {exc}", ok=False)
        if isinstance(output, ToolOutput):
            return ToolResult(call, self._fit(output.content), ok=output.ok, signals=dict(output.signals))
        text = output if isinstance(output, str) else json.dumps(output, default=str, ensure_ascii=False)
        return ToolResult(call, self._fit(text))

    def _truncation(self, episode_tokens: int) -> tuple[bool, str]:
        if self._budget is not None and episode_tokens > self._budget:
            return True, "max_tokens"
        if self._turn >= self.max_turns:
            return True, "max_turns"
        return False, ""

    def _observation(
        self, results: list[ToolResult], outcome: Outcome, truncated_by: str
    ) -> tuple[str, list[dict[str, Any]]]:
        blocks = [r.render() for r in results]
        messages = [r.message() for r in results]
        feedback = outcome.feedback
        if truncated_by:
            note = f"[episode truncated: {truncated_by.replace('_', ' ')} reached]"
            feedback = f"{feedback}\n{note}" if feedback else note
        if feedback:
            blocks.append(feedback)
            messages.append({"role": "user", "content": feedback})
        if not blocks:
            blocks.append("[no output]")
            messages.append({"role": "user", "content": "[no output]"})
        return self._fit("\n".join(blocks)), messages

    def _fit(self, text: str) -> str:
        """Keep an observation inside the observation space, saying what was cut."""
        limit = self.observation_space.max_length
        if len(text) <= limit:
            return text
        keep = limit - 64  # room for the note
        return text[:keep] + f"\n[... {len(text) - keep} characters truncated]"

    def _zero_components(self) -> dict[str, float]:
        """Every component at 0.0: the values of a turn nobody played (reset, after the end)."""
        return {c.name: 0.0 for c in self._components}

    def _step_info(
        self,
        turn: int,
        valid: bool,
        values: Mapping[str, float],
        success: bool | None,
        error: str | None,
        violations: list[str],
    ) -> dict[str, Any]:
        return {
            "turn": turn,
            "action_valid": valid,
            "reward_components": dict(values),
            "success": success,
            "error": error,
            "constraint_violations": violations,
        }

    def _step_after_end(self):
        obs = "The episode is over: call reset() to start a new one."
        info = {"messages": [{"role": "user", "content": obs}], **self._step_info(self._turn, False, self._zero_components(), None, "episode_over", [])}
        return obs, 0.0, True, False, info
