"""ReActAgent: any OpenAI-compatible chat-completions endpoint as a turngym agent.

It works with OpenAI, vLLM, SGLang, llama.cpp, Ollama... through the ``openai`` client. Tools are
sent natively (``tools=``, replies with ``tool_calls``) when the server supports it; a server
without tool calling answers the first request that carries tools with an HTTP 400, and then the
agent switches to text tool calls — the JSON schemas go into the system prompt and the model
writes ``<tool_call>`` blocks — for that episode and every later one (``tool_mode="auto"``).
``tool_mode="native"`` or ``"text"`` fixes the mode.

Forks share one HTTP client (one connection pool) and what was learnt about tool support, so
many episodes can run in threads at once.
"""

from __future__ import annotations

import copy
import logging
import os
import threading
from typing import Any, Literal

import gymnasium as gym
import openai
from openai.types.chat import ChatCompletion

from turngym.agents.base import TurnUsage
from turngym.agents.chat import ChatAgent
from turngym.agents.conversation import Conversation, ToolMode

logger = logging.getLogger(__name__)

ToolModeOption = Literal["auto", "native", "text"]


class _ToolSupport:
    """Whether the server takes native tools; learnt once, shared by every fork."""

    def __init__(self, option: ToolModeOption):
        if option not in ("auto", "native", "text"):
            raise ValueError(f"tool_mode must be 'auto', 'native' or 'text', got {option!r}")
        self.option = option
        self.mode: ToolMode = "text" if option == "text" else "native"
        self.lock = threading.Lock()

    @property
    def may_fall_back(self) -> bool:
        return self.option == "auto" and self.mode == "native"

    def fall_back(self, reason: str) -> None:
        with self.lock:
            if self.mode == "native":
                logger.warning("the server rejected native tools (%s): using text tool calls", reason)
                self.mode = "text"

    # The length cap's name: OpenAI's reasoning models reject ``max_tokens`` and want
    # ``max_completion_tokens``; learnt from the first 400 that says so, like the tool mode.
    token_param: str = "max_tokens"

    def wants_completion_tokens(self, message: str) -> bool:
        with self.lock:
            if self.token_param == "max_tokens" and "max_completion_tokens" in message:
                logger.warning("the server wants max_completion_tokens instead of max_tokens: switching")
                self.token_param = "max_completion_tokens"
                return True
            return self.token_param == "max_completion_tokens"


class ReActAgent(ChatAgent):
    """A chat model behind an OpenAI-compatible endpoint (see the module docstring)."""

    def __init__(
        self,
        model: str,
        *,
        base_url: str | None = None,
        api_key: str | None = None,
        client: openai.OpenAI | None = None,
        tool_mode: ToolModeOption = "auto",
        temperature: float = 0.0,
        top_p: float | None = None,
        max_tokens: int = 1024,
        timeout: float = 120.0,
        max_retries: int = 3,
        extra_body: dict[str, Any] | None = None,
    ):
        super().__init__(max_tokens=max_tokens)
        if not model:
            raise ValueError("ReActAgent needs a model name")
        self.model = model
        self.name = f"openai:{model}"
        self.client = client or openai.OpenAI(
            base_url=base_url,
            # Local servers take any key; OpenAI itself needs the real one from the environment.
            api_key=api_key or os.environ.get("OPENAI_API_KEY") or "EMPTY",
            timeout=timeout,
            max_retries=max_retries,
        )
        self.temperature, self.top_p, self.extra_body = temperature, top_p, extra_body
        self._support = _ToolSupport(tool_mode)

    def _tool_mode(self) -> ToolMode:
        return self._support.mode

    def _complete(self) -> tuple[dict[str, Any], TurnUsage]:
        assert self.conversation is not None
        try:
            response = self._request()
        except openai.BadRequestError as exc:
            if self._support.token_param == "max_tokens" and self._support.wants_completion_tokens(str(exc.message)):
                return self._complete()
            first_turn = self.conversation.assistant_turns == 0
            if not (self._support.may_fall_back and self.conversation.tools and first_turn):
                raise
            self._support.fall_back(str(exc.message)[:200])
            self.conversation = Conversation(
                {"messages": self.conversation.messages, "tools": self.conversation.tools}, mode="text"
            )
            response = self._request()
        return _assistant_message(response), _usage(response)

    def _request(self) -> Any:
        conversation = self.conversation
        assert conversation is not None
        kwargs: dict[str, Any] = {
            "model": self.model,
            "messages": conversation.messages,
            self._support.token_param: self.cap,
            "temperature": self.temperature,
        }
        if self.top_p is not None:
            kwargs["top_p"] = self.top_p
        if self.seed is not None:  # servers that honour it sample reproducibly
            kwargs["seed"] = (self.seed + conversation.assistant_turns) % 2**31
        if conversation.mode == "native" and conversation.tools:
            kwargs["tools"] = conversation.tools
        if self.extra_body:
            kwargs.update(self.extra_body)
        # The body is already plain JSON: posting it as is skips the SDK's per-field transform
        # of every message, which costs more CPU per turn than the rest of the harness together
        # (and grows with the history). Retries and typed errors are the same as create()'s.
        return self.client.post("/chat/completions", cast_to=ChatCompletion, body=kwargs)

    def fork(self, env: gym.Env | None = None) -> ReActAgent:
        clone = copy.copy(self)  # shares the client and the tool-support knowledge
        clone.usage, clone.conversation, clone._replied = [], None, False
        return clone


def _assistant_message(response: Any) -> dict[str, Any]:
    if not response.choices:
        raise RuntimeError(f"the server returned no choices: {response!r}")
    message = response.choices[0].message
    out: dict[str, Any] = {"role": "assistant", "content": message.content or ""}
    if message.tool_calls:
        out["tool_calls"] = [
            {
                "id": call.id,
                "type": "function",
                "function": {"name": call.function.name, "arguments": call.function.arguments},
            }
            for call in message.tool_calls
        ]
    return out


def _usage(response: Any) -> TurnUsage:
    usage = getattr(response, "usage", None)
    if usage is None:
        return TurnUsage(None, None)
    return TurnUsage(usage.prompt_tokens, usage.completion_tokens)
