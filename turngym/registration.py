"""Every env id turngym registers, in one place.

``import turngym`` registers them under the ``turngym/`` namespace, so both
``gymnasium.make("turngym/<Name>-v0")`` (after ``import turngym``) and
``gymnasium.make("turngym:turngym/<Name>-v0")`` work. Variants are registrations with other
default kwargs, not subclasses.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import gymnasium as gym


@dataclass(frozen=True)
class EnvEntry:
    id: str
    entry_point: str
    family: str
    summary: str
    kwargs: dict[str, Any] = field(default_factory=dict)


ENVS: list[EnvEntry] = [
    EnvEntry(
        "turngym/TableQA-v0",
        "turngym.envs.table_qa:TableQAEnv",
        "table",
        "Table question answering with sandboxed pandas and duckdb (generated tasks or WTQ/WikiSQL/TableBench/Spider/JSONL files)",
    ),
    EnvEntry(
        "turngym/ToolCall-v0",
        "turngym.envs.toolcall:ToolCallEnv",
        "toolcall",
        "Multi-turn tool calling over stateful tool worlds (also BFCL/xLAM/ToolACE files and MCP servers)",
    ),
]


def register_envs() -> None:
    """Register every entry once (re-importing turngym must not warn about overrides)."""
    for entry in ENVS:
        if entry.id not in gym.registry:
            gym.register(id=entry.id, entry_point=entry.entry_point, kwargs=dict(entry.kwargs))


def env_ids() -> list[str]:
    return [entry.id for entry in ENVS]
