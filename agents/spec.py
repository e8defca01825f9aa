"""AgentSpec: an agent described by plain values, so it can be built anywhere.

The evaluator builds the agent from its spec in the process that runs the episodes — its own, or
a Ray worker on another machine — and names results by :attr:`AgentSpec.label` before any
agent exists (``--resume`` needs the names to find what is done).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

from turngym.agents.base import Agent

AgentKind = Literal["random", "oracle", "openai", "hf"]
KINDS: tuple[str, ...] = ("random", "oracle", "openai", "hf")


@dataclass(frozen=True)
class AgentSpec:
    kind: AgentKind
    model: str | None = None  # the served model name (openai) or checkpoint directory (hf)
    base_url: str | None = None  # openai: the endpoint, e.g. http://127.0.0.1:8000/v1
    tool_mode: str = "auto"  # openai: auto, native or text
    temperature: float | None = None  # None: the agent's default
    max_tokens: int | None = None  # per completion; None: the agent's default
    seed: int = 0  # random: the seed of episodes reset without one

    def __post_init__(self) -> None:
        if self.kind not in KINDS:
            raise ValueError(f"agent must be one of {', '.join(KINDS)}, got {self.kind!r}")
        if self.kind in ("openai", "hf") and not self.model:
            what = "a served model name" if self.kind == "openai" else "a checkpoint directory"
            raise ValueError(f"--agent {self.kind} needs --model ({what})")
        if self.kind == "hf" and not (Path(self.model) / "config.json").exists():  # type: ignore[arg-type]
            raise ValueError(f"--model {self.model!r} is not a Hugging Face checkpoint directory (no config.json)")

    @property
    def label(self) -> str:
        """The agent's name in results: ``random``, ``oracle``, ``openai:<model>``, ``hf:<dir>``."""
        if self.kind == "openai":
            return f"openai:{self.model}"
        if self.kind == "hf":
            return f"hf:{Path(self.model).name}"  # type: ignore[arg-type]
        return self.kind

    def build(self) -> Agent:
        """The prototype agent; the evaluator forks one per concurrent episode."""
        options: dict[str, Any] = {}
        if self.temperature is not None:
            options["temperature"] = self.temperature
        if self.max_tokens is not None:
            options["max_tokens"] = self.max_tokens
        if self.kind == "random":
            from turngym.agents.random_agent import RandomAgent

            agent: Agent = RandomAgent(self.seed)
        elif self.kind == "oracle":
            from turngym.agents.oracle import OracleAgent

            agent = OracleAgent()
        elif self.kind == "openai":
            from turngym.agents.react import ReActAgent

            agent = ReActAgent(self.model, base_url=self.base_url, tool_mode=self.tool_mode, **options)  # type: ignore[arg-type]
        else:
            from turngym.agents.hf import HFAgent

            agent = HFAgent(self.model, **options)  # type: ignore[arg-type]
        assert agent.name == self.label, (agent.name, self.label)
        return agent
