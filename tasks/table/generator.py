"""Seeded table-QA tasks: realistic tables from a domain, a question from a template, a checked answer.

A task is a pure function of (split, difficulty, domain, template, seed), all encoded in its id
(``table-train-medium-sales-top_k-123456``), so :meth:`TableTaskGenerator.get` rebuilds any task
it ever sampled. The difficulty sets the table sizes (see :data:`~turngym.tasks.table.domains.SIZES`)
and, when sampling, which templates are drawn; the split sets the pool of entity names, and train
and test pools are disjoint, so the two splits never share a table.

Every answer is computed twice, by the template's pandas code and by its duckdb SQL. An attempt
whose two answers disagree under the verifier, or whose program errs, is rejected, and the next
attempt (same seed, next attempt number) draws fresh tables and parameters; so is an attempt the
template cannot use (it returns None), or whose answer is empty or a list of more than
``max_list_items`` items. ``meta`` counts both: ``rejected`` (disagreements and errors) and
``skipped``.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np

from turngym.tasks.base import DIFFICULTIES, SPLITS, TaskNotFound, TaskSource, check_choice
from turngym.tasks.table.domains import DOMAINS, build_tables
from turngym.tasks.table.gold import GoldError, answers_agree, run_pandas, run_sql
from turngym.tasks.table.task import TableTask
from turngym.tasks.table.templates import TEMPLATES, Question, Template

log = logging.getLogger(__name__)

SEED_SPACE = 2**31
_ID_RE = re.compile(
    r"^table-(?P<split>[a-z]+)-(?P<difficulty>[a-z]+)-(?P<domain>[a-z_]+)-(?P<template>[a-z0-9_]+)-(?P<seed>\d+)$"
)


class TemplateUnusable(RuntimeError):
    """A template produced no acceptable question in any attempt (not applicable, or always disagreeing)."""


def task_id(split: str, difficulty: str, domain: str, template: str, seed: int) -> str:
    return f"table-{split}-{difficulty}-{domain}-{template}-{seed}"


class TableTaskGenerator(TaskSource[TableTask]):
    """Procedural table-QA tasks over :data:`DOMAINS` with the registered question templates."""

    def __init__(
        self,
        domains: Sequence[str] | None = None,
        *,
        templates: Mapping[str, Template] | None = None,
        max_attempts: int = 25,
        max_list_items: int = 10,
    ):
        self.domains = list(domains or DOMAINS)
        for name in self.domains:
            check_choice("domain", name, list(DOMAINS))
        self.templates = dict(templates if templates is not None else TEMPLATES)
        if not self.templates:
            raise ValueError("a table task generator needs at least one template")
        if max_attempts < 1:
            raise ValueError("max_attempts must be at least 1")
        self.max_attempts = max_attempts
        self.max_list_items = max_list_items

    def sample(self, rng: np.random.Generator, *, difficulty: str | None = None, split: str | None = None) -> TableTask:
        """A task at ``difficulty`` (default: any) from ``split`` (default: train)."""
        check_choice("difficulty", difficulty, DIFFICULTIES)
        check_choice("split", split, SPLITS)
        difficulty = difficulty or DIFFICULTIES[int(rng.integers(len(DIFFICULTIES)))]
        names = [n for n, t in self.templates.items() if t.difficulty == difficulty] or list(self.templates)
        for _ in range(20):
            domain = self.domains[int(rng.integers(len(self.domains)))]
            template = names[int(rng.integers(len(names)))]
            seed = int(rng.integers(SEED_SPACE))
            try:
                return self.make(split or "train", difficulty, domain, template, seed)
            except TemplateUnusable as exc:
                log.debug("resampling: %s", exc)
        raise TemplateUnusable(f"no usable {difficulty} template for domains {self.domains} in 20 draws")

    def get(self, task_id: str) -> TableTask:
        match = _ID_RE.match(task_id)
        if match is None:
            raise TaskNotFound(f"{task_id!r} is not a table task id (table-split-difficulty-domain-template-seed)")
        parts = match.groupdict()
        if parts["split"] not in SPLITS or parts["difficulty"] not in DIFFICULTIES or parts["domain"] not in DOMAINS:
            raise TaskNotFound(f"{task_id!r} names an unknown split, difficulty or domain")
        if parts["template"] not in self.templates:
            raise TaskNotFound(f"{task_id!r} names an unknown template {parts['template']!r}")
        return self.make(parts["split"], parts["difficulty"], parts["domain"], parts["template"], int(parts["seed"]))

    def make(self, split: str, difficulty: str, domain: str, template: str, seed: int) -> TableTask:
        """The task with these coordinates: the first attempt whose pandas and SQL answers agree."""
        check_choice("split", split, SPLITS)
        check_choice("difficulty", difficulty, DIFFICULTIES)
        check_choice("domain", domain, list(DOMAINS))
        if template not in self.templates:
            raise ValueError(f"unknown template {template!r}; known: {sorted(self.templates)}")
        tpl = self.templates[template]
        rejected = skipped = 0
        for attempt in range(self.max_attempts):
            rng = np.random.default_rng([seed, SPLITS.index(split), DIFFICULTIES.index(difficulty), attempt])
            tables = build_tables(domain, rng, difficulty, split)
            question = tpl(rng, tables)
            if question is None:
                skipped += 1
                continue
            where = f"{template}@{domain} seed {seed}/{attempt}"
            answer = self._pandas_answer(question, tables.tables, where=where)
            if answer is None:
                skipped += 1
                continue
            if not self._sql_agrees(question, tables.tables, answer, where=where):
                rejected += 1
                continue
            return TableTask(
                id=task_id(split, difficulty, domain, template, seed),
                difficulty=difficulty,
                split=split,
                meta={
                    "seed": seed,
                    "attempts": attempt + 1,
                    "rejected": rejected,
                    "skipped": skipped,
                    "main_table": tables.main,
                },
                question=question.text,
                answer=answer,
                answer_type=question.answer_type,
                tables=tables.tables,
                gold_sql=question.sql,
                gold_pandas=question.pandas,
                template=template,
                domain=domain,
                order_matters=question.order_matters,
            )
        raise TemplateUnusable(
            f"template {template!r} on domain {domain!r} (seed {seed}): no acceptable question in "
            f"{self.max_attempts} attempts ({skipped} not applicable or degenerate, {rejected} rejected)"
        )

    def _pandas_answer(self, question: Question, tables: Mapping, *, where: str) -> Any:
        """The pandas answer, or None when it errs or is degenerate (empty, or a list too long to ask for)."""
        try:
            answer = run_pandas(question.pandas, tables)
        except GoldError as exc:
            log.debug("%s: rejected, the pandas program failed: %s", where, exc)
            return None
        if answer is None or answer == []:
            log.debug("%s: skipped, empty answer", where)
            return None
        if question.answer_type == "list" and (not isinstance(answer, list) or len(answer) > self.max_list_items):
            log.debug(
                "%s: skipped, a list question got %d items", where, len(answer) if isinstance(answer, list) else 1
            )
            return None
        return answer

    @staticmethod
    def _sql_agrees(question: Question, tables: Mapping, answer: Any, *, where: str) -> bool:
        """Whether the SQL answer is the pandas answer, by the verifier."""
        try:
            by_sql = run_sql(question.sql, tables, as_list=question.answer_type == "list")
        except GoldError as exc:
            log.debug("%s: rejected, the SQL failed: %s", where, exc)
            return False
        if not answers_agree(answer, by_sql, order_matters=question.order_matters):
            log.debug("%s: rejected, pandas %r != SQL %r", where, answer, by_sql)
            return False
        return True
