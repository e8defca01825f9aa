"""One parser for every env: an agent's turn becomes a :class:`ParsedAction`.

An action is either assistant text or an OpenAI-style assistant message. Text may carry tool
calls as ``<tool_call>{"name": ..., "arguments": {...}}</tool_call>`` blocks (the Hermes/Qwen
convention), reasoning in ``<think>...</think>`` and a final answer in ``<answer>...</answer>``.
A message may carry native ``tool_calls`` whose ``function.arguments`` is a JSON string; its
``content`` is parsed like text too, so a server without native tool calling still works.

Parsing never raises: everything wrong with an action lands in ``ParsedAction.errors`` as a
sentence the agent can act on, and the env turns it into an observation.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from typing import Any

TOOL_CALL_RE = re.compile(r"<tool_call>(.*?)</tool_call>", re.DOTALL)
THINK_RE = re.compile(r"<think>(.*?)</think>", re.DOTALL)
_MAX_ERROR_SNIPPET = 120


@dataclass
class ToolCall:
    """One requested call: a tool name, its decoded arguments and an id to answer it by."""

    name: str
    arguments: dict[str, Any]
    id: str

    def to_openai(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "type": "function",
            "function": {"name": self.name, "arguments": json.dumps(self.arguments)},
        }


@dataclass
class ParsedAction:
    """What the agent said this turn, split into the parts envs and rewards look at."""

    raw: Any
    text: str = ""  # the full assistant text (content), tool-call blocks included
    content: str = ""  # the text without tool-call and think blocks
    think: str | None = None
    answer: str | None = None
    tool_calls: list[ToolCall] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    logprobs: dict[str, Any] | None = None  # {"policy": ..., "reference": ...} if the caller sent them

    @property
    def well_formed(self) -> bool:
        return not self.errors

    def message(self) -> dict[str, Any]:
        """The assistant message as it goes into the OpenAI-format history."""
        msg: dict[str, Any] = {"role": "assistant", "content": self.text}
        if isinstance(self.raw, dict) and self.raw.get("tool_calls"):
            msg["tool_calls"] = [c.to_openai() for c in self.tool_calls]
        return msg


def parse_action(action: Any, *, answer_tag: str | None = "answer", call_prefix: str = "call") -> ParsedAction:
    """Parse one turn. ``call_prefix`` makes ids for text tool calls (``call_0``, ``call_1``, ...)."""
    if isinstance(action, str):
        parsed = ParsedAction(raw=action, text=action)
    elif isinstance(action, dict):
        parsed = _from_message(action, call_prefix)
    else:
        return ParsedAction(
            raw=action,
            errors=[
                "An action must be assistant text (str) or an assistant message dict with "
                f"'content' and/or 'tool_calls', not {type(action).__name__}."
            ],
        )
    _parse_text(parsed, answer_tag, call_prefix)
    if not parsed.errors and not parsed.text.strip() and not parsed.tool_calls:
        parsed.errors.append("The action was empty: write a reply, a tool call or an answer.")
    return parsed


def _from_message(message: dict[str, Any], call_prefix: str) -> ParsedAction:
    content = message.get("content")
    errors: list[str] = []
    if isinstance(content, list):  # OpenAI content parts
        content = "".join(p.get("text", "") for p in content if isinstance(p, dict))
    elif content is not None and not isinstance(content, str):
        errors.append(f"Message 'content' must be a string or null, not {type(content).__name__}.")
        content = ""
    parsed = ParsedAction(raw=message, text=content or "", errors=errors)
    logprobs = message.get("logprobs")
    if isinstance(logprobs, dict):
        parsed.logprobs = logprobs
    raw_calls = message.get("tool_calls") or []
    if not isinstance(raw_calls, list):
        parsed.errors.append("Message 'tool_calls' must be a list.")
        return parsed
    for index, raw in enumerate(raw_calls):
        call = _native_call(raw, index, parsed.errors, call_prefix)
        if call is not None:
            parsed.tool_calls.append(call)
    return parsed


def _native_call(raw: Any, index: int, errors: list[str], call_prefix: str) -> ToolCall | None:
    where = f"tool_calls[{index}]"
    if not isinstance(raw, dict) or not isinstance(raw.get("function"), dict):
        errors.append(f"{where} must be an object with a 'function' object.")
        return None
    function = raw["function"]
    name = function.get("name")
    if not isinstance(name, str) or not name:
        errors.append(f"{where}.function.name must be a non-empty string.")
        return None
    arguments = _decode_arguments(function.get("arguments", {}), where, errors)
    if arguments is None:
        return None
    call_id = raw.get("id") if isinstance(raw.get("id"), str) and raw.get("id") else f"{call_prefix}_{index}"
    return ToolCall(name=name, arguments=arguments, id=call_id)


def _decode_arguments(arguments: Any, where: str, errors: list[str]) -> dict[str, Any] | None:
    if isinstance(arguments, str):
        if not arguments.strip():
            return {}
        try:
            arguments = json.loads(arguments)
        except json.JSONDecodeError as exc:
            errors.append(f"{where}: arguments are not valid JSON ({exc.msg} at char {exc.pos}).")
            return None
    if arguments is None:
        return {}
    if not isinstance(arguments, dict):
        errors.append(f"{where}: arguments must be a JSON object, not {type(arguments).__name__}.")
        return None
    return arguments


def _parse_text(parsed: ParsedAction, answer_tag: str | None, call_prefix: str) -> None:
    text = parsed.text
    thinks = THINK_RE.findall(text)
    parsed.think = "\n".join(t.strip() for t in thinks) if thinks else None
    for index, body in enumerate(TOOL_CALL_RE.findall(text)):
        for name, arguments in _text_calls(body, f"<tool_call> block {index + 1}", parsed.errors):
            call_id = f"{call_prefix}_{len(parsed.tool_calls)}"
            parsed.tool_calls.append(ToolCall(name, arguments, call_id))
    stripped = TOOL_CALL_RE.sub("", THINK_RE.sub("", text))
    if "<tool_call>" in stripped or "</tool_call>" in stripped:
        parsed.errors.append("A <tool_call> tag is not closed (or a </tool_call> has no opening tag).")
    if "<think>" in stripped:
        parsed.errors.append("A <think> tag is not closed.")
    if answer_tag:
        parsed.answer = _tag_content(stripped, answer_tag, parsed.errors)
    parsed.content = stripped.strip()


def _text_calls(body: str, where: str, errors: list[str]) -> list[tuple[str, dict[str, Any]]]:
    """Decode one block: a call object, or a list of them (parallel calls)."""
    try:
        data = json.loads(body)
    except json.JSONDecodeError as exc:
        snippet = body.strip()[:_MAX_ERROR_SNIPPET]
        errors.append(f"{where} is not valid JSON ({exc.msg} at char {exc.pos}): {snippet!r}")
        return []
    items = data if isinstance(data, list) else [data]
    calls = []
    for item in items:
        if not isinstance(item, dict) or not isinstance(item.get("name"), str) or not item["name"]:
            errors.append(f'{where} must look like {{"name": "tool", "arguments": {{...}}}}.')
            continue
        arguments = _decode_arguments(item.get("arguments", item.get("parameters", {})), where, errors)
        if arguments is not None:
            calls.append((item["name"], arguments))
    return calls


def _tag_content(text: str, tag: str, errors: list[str]) -> str | None:
    opens, closes = text.count(f"<{tag}>"), text.count(f"</{tag}>")
    if opens == 0 and closes == 0:
        return None
    found = re.findall(rf"<{tag}>(.*?)</{tag}>", text, re.DOTALL)
    if not found or opens != closes:
        errors.append(f"An <{tag}> tag is not closed (or a </{tag}> has no opening tag).")
        return None
    return found[-1].strip()
