"""The episode record: every turn of an episode, kept for ``info["episode"]``.

A trainer gets the whole trajectory at the end: the exact OpenAI-format messages, the reward of
each turn *after* deferred rewards were credited back to their turns, each component's value per
turn and in total, the outcome, and counts. The sum of the rewards ``step`` returned always
equals ``sum(info["episode"]["rewards"])``.

The record holds no wall-clock time: ``info`` must be a function of the seed and the actions
(gymnasium's ``check_env`` compares it), and timing a run is the trainer's business (e.g.
``gymnasium.wrappers.RecordEpisodeStatistics(env, stats_key="timing")``).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


@dataclass
class EpisodeRecorder:
    task_id: str
    difficulty: str | None
    messages: list[dict[str, Any]] = field(default_factory=list)
    turns: list[dict[str, Any]] = field(default_factory=list)  # one record per turn

    def add_turn(self, record: dict[str, Any]) -> None:
        self.turns.append(record)

    @property
    def assistant_tokens(self) -> int:
        return sum(t["tokens"] for t in self.turns)

    def summary(
        self,
        *,
        rewards: list[float],
        success: bool,
        terminated: bool,
        truncated: bool,
        end_reason: str,
    ) -> dict[str, Any]:
        names = list(self.turns[0]["components"]) if self.turns else []
        components = [t["components"] for t in self.turns]
        totals = {n: float(sum(c[n] for c in components)) for n in names}
        episode_return = float(sum(rewards))
        return {
            "task_id": self.task_id,
            "difficulty": self.difficulty,
            "success": success,
            "terminated": terminated,
            "truncated": truncated,
            "end_reason": end_reason,
            "return": episode_return,
            "rewards": list(rewards),
            "components": components,
            "component_totals": totals,
            "turns": len(self.turns),
            "tool_calls": sum(t["tool_calls"] for t in self.turns),
            "invalid_actions": sum(not t["valid"] for t in self.turns),
            "tokens": self.assistant_tokens,
            "observation_tokens": sum(t["observation_tokens"] for t in self.turns),
            "messages": list(self.messages),
            # gymnasium's RecordEpisodeStatistics return and length keys, so tools that read them keep working
            "r": episode_return,
            "l": len(self.turns),
        }
