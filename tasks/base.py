"""Task records and task sources, shared by every env family.

Making a task is separate from playing it (as in TextWorld): a source produces plain, seeded,
serialisable records and an env only plays them. A source is either a fixed dataset (a list of
records loaded from files) or a procedural generator whose records are a pure function of a seed,
so ``get(task_id)`` can rebuild any task it ever sampled.
"""

from __future__ import annotations

import abc
import json
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Generic, TypeVar

import numpy as np

DIFFICULTIES: tuple[str, ...] = ("easy", "medium", "hard")
SPLITS: tuple[str, ...] = ("train", "test")


@dataclass
class Task:
    """The fields every family's task has; families subclass it with their own payload."""

    id: str
    difficulty: str = "easy"
    split: str = "train"
    meta: dict[str, Any] = field(default_factory=dict)


T = TypeVar("T", bound=Task)


class TaskNotFound(KeyError):
    """Asked for a task id, difficulty or split the source does not have."""


class TaskSource(abc.ABC, Generic[T]):
    """Where an env gets its tasks from."""

    @abc.abstractmethod
    def sample(
        self, rng: np.random.Generator, *, difficulty: str | None = None, split: str | None = None
    ) -> T:
        """Draw one task; every random choice comes from ``rng`` so a seed fixes the task."""

    @abc.abstractmethod
    def get(self, task_id: str) -> T:
        """The task with this id (raises :class:`TaskNotFound`)."""


class DatasetSource(TaskSource[T]):
    """A fixed list of tasks, e.g. loaded from a benchmark's files."""

    def __init__(self, tasks: Iterable[T]):
        self.tasks: list[T] = list(tasks)
        if not self.tasks:
            raise ValueError("a task dataset needs at least one task")
        self._by_id = {t.id: t for t in self.tasks}
        if len(self._by_id) != len(self.tasks):
            raise ValueError("task ids in a dataset must be unique")

    def __len__(self) -> int:
        return len(self.tasks)

    def select(self, *, difficulty: str | None = None, split: str | None = None) -> Sequence[T]:
        chosen = [
            t
            for t in self.tasks
            if (difficulty is None or t.difficulty == difficulty)
            and (split is None or t.split == split)
        ]
        if not chosen:
            raise TaskNotFound(f"no task with difficulty={difficulty!r} split={split!r}")
        return chosen

    def sample(
        self, rng: np.random.Generator, *, difficulty: str | None = None, split: str | None = None
    ) -> T:
        chosen = self.select(difficulty=difficulty, split=split)
        return chosen[int(rng.integers(len(chosen)))]

    def get(self, task_id: str) -> T:
        try:
            return self._by_id[task_id]
        except KeyError:
            raise TaskNotFound(f"unknown task id {task_id!r}") from None


def check_choice(name: str, value: str | None, allowed: Sequence[str]) -> None:
    """Raise a clear error for a difficulty/split that does not exist."""
    if value is not None and value not in allowed:
        raise ValueError(f"{name} must be one of {list(allowed)}, got {value!r}")


class DatasetFormatError(ValueError):
    """A dataset record does not have the shape its format promises (file, line and problem said)."""


def read_jsonl(path: Path) -> Iterator[tuple[int, dict[str, Any]]]:
    """(line number, record) for each non-blank line; a clear error for a line that is not a JSON object."""
    with path.open(encoding="utf-8") as lines:
        for n, line in enumerate(lines, 1):
            if not line.strip():
                continue
            try:
                record = json.loads(line)
            except json.JSONDecodeError as exc:
                raise DatasetFormatError(f"{path}:{n}: not valid JSON ({exc.msg} at column {exc.colno})") from exc
            if not isinstance(record, dict):
                raise DatasetFormatError(f"{path}:{n}: expected a JSON object, got {type(record).__name__}")
            yield n, record
