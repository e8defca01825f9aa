"""Evaluation results: the JSONL file episodes go to, and what is read out of it.

**The file.** One JSON object per finished episode, appended and fsynced at once, so a run killed
at any moment (even with SIGKILL) loses at most the episode being written — a torn last line,
which :class:`ResultsFile` cuts off when it reopens the file — and ``--resume`` skips every
episode whose key (env, agent, requested difficulty, seed, sample index) is already there, so
nothing is run twice.

**The summary.** Per agent, env and difficulty: the success rate with a Wilson score interval
(honest at small n and at rates near 0 or 1, unlike the normal approximation), mean return,
turns and tokens, and pass@k with the unbiased estimator of Chen et al. (2021) when tasks were
sampled several times. :func:`summary_table` renders it with rich, :func:`plot_summary` as a PNG.
"""

from __future__ import annotations

import json
import logging
import math
import os
import threading
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from rich.table import Table

logger = logging.getLogger(__name__)

EpisodeKey = tuple[str, str, str | None, int, int]
ALL = "all"  # the difficulty of a row that pools every difficulty
DIFFICULTY_ORDER = {"easy": 0, "medium": 1, "hard": 2}


def episode_key(record: dict[str, Any]) -> EpisodeKey:
    """What identifies an episode across runs: env, agent, requested difficulty, seed, sample."""
    return (record["env"], record["agent"], record.get("difficulty_option"), int(record["seed"]), int(record["sample"]))


# ---------------------------------------------------------------------------------------------
# The JSONL file


class ResultsFile:
    """An append-only JSONL file of episode records, safe against kills and shared by threads."""

    def __init__(self, path: str | Path):
        self.path = Path(path)
        self._lock = threading.Lock()

    def open(self, *, resume: bool) -> set[EpisodeKey]:
        """Prepare the file for appending and return the keys of episodes already done.

        Without ``resume`` an existing file is moved aside (``<name>.<n>.jsonl``), never lost.
        """
        self.path.parent.mkdir(parents=True, exist_ok=True)
        if not self.path.exists():
            return set()
        if not resume:
            backup = _free_backup_name(self.path)
            self.path.rename(backup)
            logger.warning("%s existed: moved it to %s (pass --resume to continue it instead)", self.path, backup)
            return set()
        self._cut_torn_tail()
        return {episode_key(r) for r in self.records()}

    def _cut_torn_tail(self) -> None:
        """Drop a last line without its newline: the record a kill interrupted."""
        with open(self.path, "rb+") as handle:
            data = handle.read()
            end = data.rfind(b"\n") + 1
            if end < len(data):
                logger.warning(
                    "%s: dropping a torn last line (%d bytes) left by an interrupted run", self.path, len(data) - end
                )
                handle.truncate(end)
                handle.flush()
                os.fsync(handle.fileno())

    def append(self, record: dict[str, Any]) -> None:
        """Write one record as one line and make it durable before returning."""
        line = json.dumps(record, ensure_ascii=False, default=str) + "\n"
        with self._lock, open(self.path, "a", encoding="utf-8") as handle:
            handle.write(line)
            handle.flush()
            os.fsync(handle.fileno())

    def records(self) -> list[dict[str, Any]]:
        """Every complete record in the file (a torn last line is ignored)."""
        return read_records(self.path)


def read_records(path: str | Path) -> list[dict[str, Any]]:
    path = Path(path)
    if not path.exists():
        return []
    text = path.read_text(encoding="utf-8")
    lines = text.split("\n")
    complete, torn = lines[:-1], lines[-1]  # the part after the last newline was not finished
    if torn:
        logger.warning("%s: ignoring a torn last line", path)
    records = []
    for number, line in enumerate(complete, start=1):
        if not line.strip():
            continue
        try:
            records.append(json.loads(line))
        except json.JSONDecodeError as exc:
            raise ValueError(f"{path}:{number} is not a JSON record ({exc.msg}); the file is corrupt") from exc
    return records


def _free_backup_name(path: Path) -> Path:
    n = 1
    while (candidate := path.with_name(f"{path.stem}.{n}{path.suffix}")).exists():
        n += 1
    return candidate


# ---------------------------------------------------------------------------------------------
# Statistics


def wilson_interval(successes: int, n: int, z: float = 1.959964) -> tuple[float, float]:
    """The Wilson score interval of a binomial rate (95% by default); (0, 1) when n is 0."""
    if n <= 0:
        return 0.0, 1.0
    if not 0 <= successes <= n:
        raise ValueError(f"successes must be in [0, n], got {successes} of {n}")
    p = successes / n
    denominator = 1 + z * z / n
    center = (p + z * z / (2 * n)) / denominator
    half = z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / denominator
    low = 0.0 if successes == 0 else max(0.0, center - half)  # exact at the ends, where float
    high = 1.0 if successes == n else min(1.0, center + half)  # rounding would leave 1 - 1e-17
    return low, high


def pass_at_k(n: int, c: int, k: int) -> float:
    """Unbiased pass@k from n samples with c correct: 1 - C(n-c, k) / C(n, k)."""
    if not 0 <= c <= n or not 1 <= k <= n:
        raise ValueError(f"need 0 <= c <= n and 1 <= k <= n, got n={n}, c={c}, k={k}")
    if n - c < k:
        return 1.0
    # The product form avoids huge binomials (Chen et al., 2021).
    return 1.0 - math.prod(1.0 - k / i for i in range(n - c + 1, n + 1))


# ---------------------------------------------------------------------------------------------
# Summary


@dataclass
class SummaryRow:
    agent: str
    env: str
    difficulty: str
    episodes: int
    successes: int
    success_rate: float
    ci_low: float
    ci_high: float
    mean_return: float
    mean_turns: float
    mean_tokens: float
    mean_completion_tokens: float | None
    pass_at: dict[int, float] = field(default_factory=dict)


def summarize(records: Iterable[dict[str, Any]]) -> list[SummaryRow]:
    """One row per (agent, env, difficulty), plus a pooled row per (agent, env) with several."""
    groups: dict[tuple[str, str, str], list[dict[str, Any]]] = defaultdict(list)
    for record in records:
        difficulty = str(record.get("difficulty") or "-")
        groups[(record["agent"], record["env"], difficulty)].append(record)
        groups[(record["agent"], record["env"], ALL)].append(record)
    rows = []
    for (agent, env, difficulty), members in sorted(groups.items(), key=lambda item: _order(item[0])):
        levels = {k[2] for k in groups if k[:2] == (agent, env) and k[2] != ALL}
        if difficulty == ALL and len(levels) < 2:
            continue  # the pooled row would repeat the only difficulty
        rows.append(_row(agent, env, difficulty, members))
    return rows


def _order(key: tuple[str, str, str]) -> tuple[Any, ...]:
    """Rows by agent and env, difficulties easy → hard, the pooled row last."""
    agent, env, difficulty = key
    return (agent, env, difficulty == ALL, DIFFICULTY_ORDER.get(difficulty, len(DIFFICULTY_ORDER)), difficulty)


def _row(agent: str, env: str, difficulty: str, records: Sequence[dict[str, Any]]) -> SummaryRow:
    n = len(records)
    successes = sum(bool(r["success"]) for r in records)
    low, high = wilson_interval(successes, n)
    completion = [r["completion_tokens"] for r in records if r.get("completion_tokens") is not None]
    return SummaryRow(
        agent=agent,
        env=env,
        difficulty=difficulty,
        episodes=n,
        successes=successes,
        success_rate=successes / n,
        ci_low=low,
        ci_high=high,
        mean_return=_mean(r["return"] for r in records),
        mean_turns=_mean(r["turns"] for r in records),
        mean_tokens=_mean(r["tokens"] for r in records),
        mean_completion_tokens=_mean(completion) if completion else None,
        pass_at=_pass_at(records),
    )


def _mean(values: Iterable[float]) -> float:
    values = list(values)
    return sum(values) / len(values) if values else float("nan")


def _pass_at(records: Sequence[dict[str, Any]]) -> dict[int, float]:
    """pass@1 and pass@k (k = the fewest samples any task has), when tasks have several samples."""
    tasks: dict[tuple[Any, ...], list[bool]] = defaultdict(list)
    for r in records:
        tasks[(r.get("difficulty_option"), r["task_id"])].append(bool(r["success"]))
    k_max = min(len(v) for v in tasks.values())
    if k_max < 2:
        return {}
    return {k: _mean(pass_at_k(len(v), sum(v), k) for v in tasks.values()) for k in sorted({1, k_max})}


def summary_table(rows: Sequence[SummaryRow], title: str = "turngym eval") -> Table:
    table = Table(title=title)
    for column in ("agent", "env", "difficulty", "n", "success [95% CI]", "return", "turns", "tokens", "pass@k"):
        table.add_column(column, justify="left" if column in ("agent", "env", "difficulty") else "right")
    for i, row in enumerate(rows):
        last_of_group = i + 1 == len(rows) or (rows[i + 1].agent, rows[i + 1].env) != (row.agent, row.env)
        tokens = f"{row.mean_tokens:.0f}"
        if row.mean_completion_tokens is not None:
            tokens += f" ({row.mean_completion_tokens:.0f} gen)"
        table.add_row(
            row.agent,
            row.env,
            row.difficulty,
            str(row.episodes),
            f"{row.success_rate:.2f} [{row.ci_low:.2f}, {row.ci_high:.2f}]",
            f"{row.mean_return:.3f}",
            f"{row.mean_turns:.1f}",
            tokens,
            " ".join(f"@{k} {v:.2f}" for k, v in row.pass_at.items()) or "-",
            end_section=last_of_group,
        )
    return table


def plot_summary(rows: Sequence[SummaryRow], path: str | Path) -> Path:
    """Bars of success rate (with Wilson intervals) and mean return by env and difficulty, per agent."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    import numpy as np

    rows = [r for r in rows if r.difficulty != ALL] or list(rows)
    if not rows:
        raise ValueError("nothing to plot: no results")
    groups = sorted({(r.env, r.difficulty) for r in rows}, key=lambda g: _order(("", *g)))
    agents = sorted({r.agent for r in rows})
    by_key = {(r.agent, r.env, r.difficulty): r for r in rows}
    x = np.arange(len(groups))
    width = 0.8 / len(agents)
    fig, (ax_success, ax_return) = plt.subplots(
        2, 1, figsize=(min(14.0, max(6.0, 0.6 * len(groups) * len(agents) + 2)), 7), sharex=True
    )
    for i, agent in enumerate(agents):
        present = [(j, by_key[(agent, *g)]) for j, g in enumerate(groups) if (agent, *g) in by_key]
        xs = np.array([x[j] for j, _ in present]) + (i - (len(agents) - 1) / 2) * width
        rates = np.array([r.success_rate for _, r in present])
        errors = np.array(
            [
                [max(0.0, r.success_rate - r.ci_low) for _, r in present],
                [max(0.0, r.ci_high - r.success_rate) for _, r in present],
            ]
        )
        ax_success.bar(xs, rates, width, yerr=errors, capsize=3, label=agent)
        ax_return.bar(xs, [r.mean_return for _, r in present], width, label=agent)
    ax_success.set_ylabel("success rate (95% Wilson CI)")
    ax_success.set_ylim(0, 1.05)
    ax_success.legend(fontsize="small")
    ax_return.set_ylabel("mean return")
    ax_return.axhline(0, color="black", linewidth=0.5)
    ax_return.set_xticks(x, [f"{env.split('/')[-1]}\n{difficulty}" for env, difficulty in groups], fontsize="small")
    fig.suptitle("turngym eval: success and return by env and difficulty")
    fig.tight_layout()
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=120)
    plt.close(fig)
    return path
