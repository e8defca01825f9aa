"""ChatAgent: what model-backed agents share — the history, the token budget, the usage record.

A subclass writes only how to get one reply for the current history
(:meth:`ChatAgent._complete`); this class feeds each observation into the
:class:`~turngym.agents.conversation.Conversation`, caps each completion by what is left of
the episode's token budget (``info["max_tokens"]``) and records the tokens each turn cost.
"""

from __future__ import annotations

from abc import abstractmethod
from typing import Any

from turngym.agents.base import Action, Agent, TurnUsage
from turngym.agents.conversation import Conversation, ToolMode


def completion_cap(max_tokens: int, budget: int | None, spent: int) -> int:
    """Tokens the next completion may use: the agent's own limit, within the budget left.

    At least one token, so an agent over budget still answers and the env ends the episode.
    """
    if budget is None:
        return max_tokens
    return max(1, min(max_tokens, budget - spent))


class ChatAgent(Agent):
    """An agent that keeps an exact chat history and asks a model for each reply."""

    def __init__(self, *, max_tokens: int = 1024):
        super().__init__()
        if not isinstance(max_tokens, int) or max_tokens < 1:
            raise ValueError(f"max_tokens must be a positive int, got {max_tokens!r}")
        self.max_tokens = max_tokens
        self.conversation: Conversation | None = None
        self.budget: int | None = None
        self.seed: int | None = None
        self._replied = False

    def _start(self, info: dict[str, Any], seed: int | None) -> None:
        self.conversation = Conversation(info, mode=self._tool_mode())
        self.budget = info.get("max_tokens")
        self.seed = seed
        self._replied = False

    def _tool_mode(self) -> ToolMode:
        """How this episode shows tools to the model (see :mod:`turngym.agents.conversation`)."""
        return "native"

    @property
    def spent(self) -> int:
        """Completion tokens of this episode so far (the budget counts the agent's own text)."""
        return sum(u.completion_tokens or 0 for u in self.usage)

    @property
    def cap(self) -> int:
        return completion_cap(self.max_tokens, self.budget, self.spent)

    def observe(self, observation: str, info: dict[str, Any]) -> None:
        """Append the env's answer to the last reply (the first observation is already in)."""
        if self.conversation is None:
            raise RuntimeError("call reset(info) after env.reset() before act()")
        if self._replied:
            self.conversation.add_observation(observation, info)
            self._replied = False

    def record(self, message: dict[str, Any], usage: TurnUsage) -> Action:
        """Keep the model's reply in the history and return it as the env action."""
        assert self.conversation is not None
        self.conversation.add_reply(message)
        self.usage.append(usage)
        self._replied = True
        if self.conversation.mode == "text" or not message.get("tool_calls"):
            return message.get("content") or ""
        return {"role": "assistant", "content": message.get("content") or "", "tool_calls": message["tool_calls"]}

    def act(self, observation: str, info: dict[str, Any]) -> Action:
        self.observe(observation, info)
        message, usage = self._complete()
        return self.record(message, usage)

    @abstractmethod
    def _complete(self) -> tuple[dict[str, Any], TurnUsage]:
        """One assistant message for ``self.conversation.messages``, within ``self.cap`` tokens."""
