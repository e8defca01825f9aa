"""The exact chat history a model-backed agent reads, kept as OpenAI messages.

The history only ever grows by appending, so what the policy saw at turn ``t`` is a prefix of
what it sees at turn ``t + 1`` (a trainer can reuse the tokens, and a server can reuse its KV
cache). It starts from the env's opening ``info["messages"]`` (system = instructions, user =
first observation); each turn appends the assistant message the model wrote, then what the env
answered.

Two ways to show tools to a model:

- ``native``: tools go to the server (or the chat template) as JSON schemas, the model answers
  with ``tool_calls`` and tool results come back as ``role: tool`` messages (the env's
  ``info["messages"]``);
- ``text``: for servers without tool calling, the system prompt gets a tools section with the
  JSON schemas, the model writes ``<tool_call>`` blocks, and each observation (tool responses
  rendered as ``<tool_response>`` blocks) comes back as one ``user`` message.
"""

from __future__ import annotations

import json
from typing import Any, Literal

ToolMode = Literal["native", "text"]

TOOLS_SECTION = (
    "# Tools\n\n"
    "You may call the tools below. Their JSON schemas are within <tools></tools>:\n"
    "<tools>\n{schemas}\n</tools>\n\n"
    "To call one, write a JSON object with its name and arguments within <tool_call></tool_call> tags:\n"
    '<tool_call>\n{{"name": "<tool name>", "arguments": {{<arguments>}}}}\n</tool_call>'
)


def tools_section(tools: list[dict[str, Any]]) -> str:
    """The system-prompt section that describes ``tools`` (OpenAI tool dicts) in text mode."""
    schemas = "\n".join(json.dumps(tool, ensure_ascii=False) for tool in tools)
    return TOOLS_SECTION.format(schemas=schemas)


class Conversation:
    """An append-only list of OpenAI chat messages for one episode."""

    def __init__(self, info: dict[str, Any], mode: ToolMode = "native"):
        if mode not in ("native", "text"):
            raise ValueError(f"tool mode must be 'native' or 'text', got {mode!r}")
        opening = info.get("messages")
        if not opening or opening[0].get("role") != "system":
            raise ValueError("reset info must carry the opening messages [system, user] under 'messages'")
        self.mode: ToolMode = mode
        self.tools: list[dict[str, Any]] = list(info.get("tools") or [])
        system = dict(opening[0])
        if mode == "text" and self.tools:
            system["content"] = f"{system['content']}\n\n{tools_section(self.tools)}".strip()
        self.messages: list[dict[str, Any]] = [system, *(dict(m) for m in opening[1:])]

    def add_reply(self, message: dict[str, Any]) -> None:
        """The assistant message the model wrote, as it will be sent back to it."""
        if message.get("role") != "assistant":
            raise ValueError(f"a reply must be an assistant message, got role {message.get('role')!r}")
        self.messages.append(message)

    def add_observation(self, observation: str, info: dict[str, Any]) -> None:
        """What the env answered to the last reply."""
        if self.mode == "text":
            self.messages.append({"role": "user", "content": observation})
        else:
            self.messages.extend(dict(m) for m in info["messages"])

    @property
    def assistant_turns(self) -> int:
        return sum(m["role"] == "assistant" for m in self.messages)
