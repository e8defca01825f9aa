"""Stateful tool worlds and the seeded tool-calling tasks posed in them.

Worlds: ``bank`` (customers, accounts, transfers), ``shop`` (catalogue, stock, orders, refunds),
``agenda`` (contacts and a calendar) and ``workspace`` (files and notes). Tasks come from
:class:`ToolTaskGenerator`; a :class:`ToolTask` rebuilds its worlds, replays its gold calls and
judges a finished episode.
"""

from turngym.tasks.toolworlds.generator import ToolTaskGenerator
from turngym.tasks.toolworlds.scenario import Predicate, answer_matches, says_impossible
from turngym.tasks.toolworlds.task import ASK_USER, WORLD_TYPES, ToolOutcome, ToolTask
from turngym.tasks.toolworlds.world import ToolWorld, WorldSet

__all__ = [
    "ASK_USER",
    "WORLD_TYPES",
    "Predicate",
    "ToolOutcome",
    "ToolTask",
    "ToolTaskGenerator",
    "ToolWorld",
    "WorldSet",
    "answer_matches",
    "says_impossible",
]
