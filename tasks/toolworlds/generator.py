"""Seeded tool-calling tasks over the tool worlds, at three difficulties.

A task is a pure function of (world, difficulty, distractor count, seed), all encoded in its id,
so :meth:`ToolTaskGenerator.get` rebuilds any task it ever sampled. Difficulty grows along two
axes: the number of required calls (easy: one or two calls on given ids; medium: look up, then
act, with parallel calls, clarifications and impossible requests; hard: longer chains across
several records) and the number of distractor worlds whose tools are offered too (0 / 1 / 2 by
default). Every task also offers ``ask_user``.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np

from turngym.tasks.base import DIFFICULTIES, SPLITS, TaskNotFound, TaskSource, check_choice
from turngym.tasks.toolworlds import agenda, bank, shop, workspace
from turngym.tasks.toolworlds.scenario import Scenario
from turngym.tasks.toolworlds.task import ASK_USER, WORLD_TYPES, ToolTask, world_rng
from turngym.tasks.toolworlds.world import pick

SCENARIOS: dict[str, Mapping[str, Sequence[Any]]] = {
    bank.BankWorld.name: bank.SCENARIOS,
    shop.ShopWorld.name: shop.SCENARIOS,
    agenda.AgendaWorld.name: agenda.SCENARIOS,
    workspace.WorkspaceWorld.name: workspace.SCENARIOS,
}
DEFAULT_DISTRACTORS: dict[str, int] = {"easy": 0, "medium": 1, "hard": 2}
_ID_RE = re.compile(r"^(?P<world>[a-z]+)-(?P<difficulty>[a-z]+)-d(?P<distractors>\d+)-(?P<seed>\d+)$")
_SEED_SPACE = 2**31


class ToolTaskGenerator(TaskSource[ToolTask]):
    """Draws tool-world tasks; a seed that is a multiple of ``test_every`` makes a test task."""

    def __init__(
        self,
        worlds: Sequence[str] | None = None,
        *,
        distractors: Mapping[str, int] | None = None,
        test_every: int = 5,
    ):
        self.worlds = list(worlds or WORLD_TYPES)
        for name in self.worlds:
            check_choice("world", name, list(WORLD_TYPES))
        self.distractors = {**DEFAULT_DISTRACTORS, **(distractors or {})}
        for difficulty, n in self.distractors.items():
            check_choice("difficulty", difficulty, DIFFICULTIES)
            if not 0 <= n < len(WORLD_TYPES):
                raise ValueError(f"distractors for {difficulty} must be in [0, {len(WORLD_TYPES) - 1}], got {n}")
        if test_every < 2:
            raise ValueError("test_every must be at least 2 so both splits exist")
        self.test_every = test_every

    def sample(self, rng: np.random.Generator, *, difficulty: str | None = None, split: str | None = None) -> ToolTask:
        check_choice("difficulty", difficulty, DIFFICULTIES)
        check_choice("split", split, SPLITS)
        world = pick(rng, self.worlds)
        difficulty = difficulty or pick(rng, DIFFICULTIES)
        base = int(rng.integers(_SEED_SPACE // self.test_every)) * self.test_every
        if split == "test":
            seed = base
        elif split == "train":
            seed = base + int(rng.integers(1, self.test_every))
        else:
            seed = base + int(rng.integers(self.test_every))
        return self.make(world, difficulty, seed)

    def get(self, task_id: str) -> ToolTask:
        match = _ID_RE.match(task_id)
        if not match or match["world"] not in WORLD_TYPES or match["difficulty"] not in DIFFICULTIES:
            raise TaskNotFound(f"{task_id!r} is not a tool-world task id (world-difficulty-dN-seed)")
        return self.make(match["world"], match["difficulty"], int(match["seed"]), int(match["distractors"]))

    def make(self, world: str, difficulty: str, seed: int, distractors: int | None = None) -> ToolTask:
        """The task for these coordinates (the same ones always give the same task)."""
        check_choice("world", world, list(WORLD_TYPES))
        check_choice("difficulty", difficulty, DIFFICULTIES)
        n_distractors = self.distractors[difficulty] if distractors is None else distractors
        rng = np.random.default_rng([seed, 0])  # the scenario stream; worlds have their own
        state = WORLD_TYPES[world].generate(world_rng(seed, world))
        scenario, template = _first_applicable(SCENARIOS[world][difficulty], state, rng)
        others = pick(rng, [n for n in WORLD_TYPES if n != world], n_distractors)
        worlds = [world, *others]
        tool_names = [m for name in worlds for m in WORLD_TYPES[name].tool_methods] + [ASK_USER.name]
        tool_names = [tool_names[i] for i in rng.permutation(len(tool_names))]
        return ToolTask(
            id=f"{world}-{difficulty}-d{n_distractors}-{seed}",
            difficulty=difficulty,
            split="test" if seed % self.test_every == 0 else "train",
            meta={"template": template, "features": _features(scenario), "blocked_calls": scenario.blocked_calls},
            instruction=scenario.instruction,
            tool_names=tool_names,
            gold_turns=scenario.gold_turns,
            answer=scenario.answer,
            expect_impossible=scenario.expect_impossible,
            worlds=worlds,
            seed=seed,
            predicates=scenario.predicates,
            clarification=scenario.clarification,
        )


def _first_applicable(templates: Sequence[Any], state: Any, rng: np.random.Generator) -> tuple[Scenario, str]:
    """Try the templates in a seeded order; some need records a given world may lack."""
    for i in rng.permutation(len(templates)):
        scenario = templates[i](state, rng)
        if scenario is not None:
            return scenario, templates[i].__name__
    raise RuntimeError(f"no template applies to this {type(state).__name__}: {[t.__name__ for t in templates]}")


def _features(scenario: Scenario) -> list[str]:
    calls = [c["name"] for turn in scenario.gold_turns for c in turn]
    features = []
    if len(scenario.gold_turns) > 1:
        features.append("sequential")
    if any(len(turn) > 1 for turn in scenario.gold_turns):
        features.append("parallel")
    if ASK_USER.name in calls:
        features.append("clarify")
    if scenario.expect_impossible:
        features.append("impossible")
    if scenario.answer:
        features.append("answer")
    return features
