"""The agent interface: what every policy the evaluator runs looks like.

An agent plays one episode at a time through the same gymnasium loop a user's trainer would::

    obs, info = env.reset(seed=0)
    agent.reset(info)
    while True:
        obs, reward, terminated, truncated, info = env.step(agent.act(obs, info))
        if terminated or truncated:
            break

``act`` returns an action the env's parser takes: assistant text, or an OpenAI assistant message
dict (``content`` plus native ``tool_calls``). Concurrent episodes each get their own agent made
with :meth:`Agent.fork`, which shares what is costly (an HTTP client, a loaded model) and owns
its own history. A policy that is faster on many episodes at once (a local model) sets
``batched = True`` and overrides :meth:`Agent.act_batch`.

Each ``act`` appends a :class:`TurnUsage` to ``agent.usage`` so the evaluator can record the
prompt and completion tokens a model really spent, beside the env's own count.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from typing import Any, ClassVar

import gymnasium as gym

Action = str | dict[str, Any]


@dataclass
class TurnUsage:
    """Tokens one turn cost a model: the prompt it read and the completion it wrote.

    ``None`` when the policy cannot say (a server that reports no usage).
    """

    prompt_tokens: int | None
    completion_tokens: int | None

    def to_dict(self) -> dict[str, int | None]:
        return asdict(self)


class Agent(ABC):
    """A policy for turngym envs (see the module docstring)."""

    #: A short label for results files (``random``, ``oracle``, ``openai:<model>``...).
    name: str = "agent"
    #: True when :meth:`act_batch` is faster than one :meth:`act` per episode.
    batched: ClassVar[bool] = False

    def __init__(self) -> None:
        self.usage: list[TurnUsage] = []

    def reset(self, info: dict[str, Any], *, seed: int | None = None) -> None:
        """Start an episode from the env's reset ``info`` (instructions, tools, budget).

        ``seed`` fixes the agent's own randomness for this episode, so an evaluation gives the
        same results however its episodes are scheduled.
        """
        self.usage = []
        self._start(info, seed)

    @abstractmethod
    def _start(self, info: dict[str, Any], seed: int | None) -> None:
        """Per-episode set-up of a concrete agent."""

    @abstractmethod
    def act(self, observation: str, info: dict[str, Any]) -> Action:
        """The next action, given the env's latest observation and step ``info``."""

    @classmethod
    def act_batch(
        cls, agents: Sequence[Agent], observations: Sequence[str], infos: Sequence[dict[str, Any]]
    ) -> list[Action]:
        """One action for each of several agents (forks of one another), in order.

        The default runs them one by one; batched policies override it to run one forward pass.
        """
        return [agent.act(obs, info) for agent, obs, info in zip(agents, observations, infos)]

    @abstractmethod
    def fork(self, env: gym.Env | None = None) -> Agent:
        """A fresh agent for another episode running at the same time (on ``env``).

        It shares costly resources with ``self`` and owns its own per-episode state.
        """
