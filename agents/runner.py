"""Running one agent on many episodes at once, in this process, record by record.

An evaluation is a list of :class:`EpisodeJob` (env id, seed, sample index, difficulty). Each
finished episode becomes one flat record (:meth:`Episode.record`) handed to ``on_record`` at
once — the caller appends it to the results file — and an episode that raises (an endpoint down,
a model out of context) goes to ``on_failure`` instead, so it is not recorded and a resumed run
tries it again.

Two schedules, picked by the agent:

- endpoint agents (and scripted ones) run ``concurrency`` episodes in threads, each thread with
  its own envs and its own fork of the agent (the time goes to waiting on HTTP, not the GIL);
- batched agents (a local model) run ``concurrency`` episodes in lockstep in one thread: every
  turn, one :meth:`~turngym.agents.base.Agent.act_batch` call answers all episodes in flight,
  and a finished episode's slot takes the next job at once.

Seeds fix the episodes: the env is reset with the job's seed and the agent with a seed derived
from (seed, sample), so results do not depend on the schedule (local, threads or Ray) — except
for a local model that samples, whose draws also depend on which episodes share its batch.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Iterable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any

import gymnasium as gym
import numpy as np

from turngym.agents.base import Action, Agent
from turngym.agents.results import EpisodeKey
from turngym.agents.spec import AgentSpec

logger = logging.getLogger(__name__)

MAX_STEPS = 10_000  # an env that never ends its episodes is a bug; stop rather than hang


@dataclass(frozen=True)
class EpisodeJob:
    env_id: str
    seed: int
    sample: int = 0
    difficulty: str | None = None  # None: the env's default

    def key(self, agent: str) -> EpisodeKey:
        return (self.env_id, agent, self.difficulty, self.seed, self.sample)

    def options(self) -> dict[str, Any]:
        return {"difficulty": self.difficulty} if self.difficulty is not None else {}


def make_jobs(
    env_ids: Sequence[str],
    *,
    episodes: int,
    seed: int = 0,
    samples: int = 1,
    difficulties: Sequence[str | None] = (None,),
) -> list[EpisodeJob]:
    """``episodes`` tasks (seeds ``seed`` ... ``seed + episodes - 1``) × ``samples`` attempts each,
    per env and difficulty. The same seed is the same task, so samples are retries of one task."""
    if episodes < 1 or samples < 1:
        raise ValueError(f"episodes and samples must be at least 1, got {episodes} and {samples}")
    if seed < 0:
        raise ValueError(f"seed must be non-negative, got {seed}")
    return [
        EpisodeJob(env_id, seed + i, sample, difficulty)
        for env_id in env_ids
        for difficulty in (difficulties or (None,))
        for i in range(episodes)
        for sample in range(samples)
    ]


def agent_seed(seed: int, sample: int) -> int:
    """The agent's seed for one attempt: distinct per sample, fixed by (seed, sample)."""
    return int(np.random.SeedSequence([seed, sample]).generate_state(1)[0])


class Episode:
    """One episode in flight: reset at creation, advanced by :meth:`step` until done."""

    def __init__(self, env: gym.Env, agent: Agent, job: EpisodeJob):
        self.env, self.agent, self.job = env, agent, job
        self.started = time.perf_counter()
        self.errors: list[dict[str, Any]] = []
        self.final: dict[str, Any] | None = None
        self.steps = 0
        self.observation, self.info = env.reset(seed=job.seed, options=job.options())
        agent.reset(self.info, seed=agent_seed(job.seed, job.sample))

    @property
    def done(self) -> bool:
        return self.final is not None

    def step(self, action: Action) -> bool:
        """Play one action; True when the episode is over."""
        self.observation, _, terminated, truncated, self.info = self.env.step(action)
        self.steps += 1
        if self.info.get("error"):
            self.errors.append({"turn": self.steps - 1, "error": self.info["error"]})
        if terminated or truncated:
            self.final = self.info["episode"]
        elif self.steps >= MAX_STEPS:
            raise RuntimeError(f"{self.job.env_id} did not end an episode in {MAX_STEPS} steps")
        return self.done

    def play(self) -> dict[str, Any]:
        """Run the episode to its end with ``agent.act`` and return its record."""
        while not self.step(self.agent.act(self.observation, self.info)):
            pass
        return self.record()

    def record(self) -> dict[str, Any]:
        """The flat JSON record of the finished episode (one line of the results file)."""
        episode, job = self.final, self.job
        if episode is None:
            raise RuntimeError("the episode is not over")
        usage = [u.to_dict() for u in self.agent.usage]
        return {
            "env": job.env_id,
            "agent": self.agent.name,
            "task_id": episode["task_id"],
            "seed": job.seed,
            "sample": job.sample,
            "difficulty": episode["difficulty"],
            "difficulty_option": job.difficulty,
            "success": bool(episode["success"]),
            "return": episode["return"],
            "rewards": episode["rewards"],
            "components": episode["components"],
            "component_totals": episode["component_totals"],
            "turns": episode["turns"],
            "tool_calls": episode["tool_calls"],
            "invalid_actions": episode["invalid_actions"],
            "end_reason": episode["end_reason"],
            "tokens": episode["tokens"],  # the env's count of the agent's text
            "observation_tokens": episode["observation_tokens"],
            "prompt_tokens": _total(u["prompt_tokens"] for u in usage),  # the model's own counts
            "completion_tokens": _total(u["completion_tokens"] for u in usage),
            "turn_usage": usage,
            "errors": self.errors,
            "wall_time": time.perf_counter() - self.started,
        }


def _total(values: Iterable[int | None]) -> int | None:
    values = list(values)
    return None if not values or any(v is None for v in values) else sum(values)  # type: ignore[arg-type]


OnRecord = Callable[[dict[str, Any]], None]
OnFailure = Callable[[EpisodeJob, BaseException], None]


class Players:
    """The envs (one per env id) and agent forks one thread or slot plays with."""

    def __init__(self, prototype: Agent):
        self.prototype = prototype
        self.pairs: dict[str, tuple[gym.Env, Agent]] = {}

    def get(self, env_id: str) -> tuple[gym.Env, Agent]:
        if env_id not in self.pairs:
            env = gym.make(env_id)
            try:
                self.pairs[env_id] = (env, self.prototype.fork(env))
            except BaseException:
                env.close()
                raise
        return self.pairs[env_id]

    def discard(self, env_id: str) -> None:
        """Drop an env after a failure: its state is unknown."""
        env, _ = self.pairs.pop(env_id, (None, None))
        if env is not None:
            _close(env)

    def close(self) -> None:
        for env_id in list(self.pairs):
            self.discard(env_id)


def _close(env: gym.Env) -> None:
    try:
        env.close()
    except Exception:  # closing must not hide the run's outcome
        logger.exception("closing an env failed")


def run_local(
    spec: AgentSpec,
    jobs: Sequence[EpisodeJob],
    *,
    concurrency: int,
    on_record: OnRecord,
    on_failure: OnFailure,
) -> None:
    """Play every job in this process (see the module docstring)."""
    if concurrency < 1:
        raise ValueError(f"concurrency must be at least 1, got {concurrency}")
    if not jobs:
        return
    prototype = spec.build()
    if prototype.batched:
        run_batched(prototype, jobs, concurrency=concurrency, on_record=on_record, on_failure=on_failure)
    else:
        run_threads(prototype, jobs, concurrency=concurrency, on_record=on_record, on_failure=on_failure)


def run_threads(
    prototype: Agent, jobs: Sequence[EpisodeJob], *, concurrency: int, on_record: OnRecord, on_failure: OnFailure
) -> None:
    local = threading.local()
    all_players: list[Players] = []
    lock = threading.Lock()

    def play(job: EpisodeJob) -> None:
        if not hasattr(local, "players"):
            local.players = Players(prototype)
            with lock:
                all_players.append(local.players)
        try:
            env, agent = local.players.get(job.env_id)
            record = Episode(env, agent, job).play()
        except Exception as exc:
            local.players.discard(job.env_id)
            on_failure(job, exc)
            return
        on_record(record)

    executor = ThreadPoolExecutor(max_workers=min(concurrency, len(jobs)), thread_name_prefix="episode")
    try:
        for future in [executor.submit(play, job) for job in jobs]:
            future.result()
    finally:
        executor.shutdown(wait=True, cancel_futures=True)
        for players in all_players:
            players.close()


def run_batched(
    prototype: Agent, jobs: Sequence[EpisodeJob], *, concurrency: int, on_record: OnRecord, on_failure: OnFailure
) -> None:
    pending = list(reversed(jobs))  # pop() takes them in order
    slots: list[Players] = [Players(prototype) for _ in range(min(concurrency, len(jobs)))]
    active: dict[int, Episode] = {}
    try:
        while pending or active:
            for slot, players in enumerate(slots):
                while slot not in active and pending:
                    job = pending.pop()
                    try:
                        env, agent = players.get(job.env_id)
                        active[slot] = Episode(env, agent, job)
                    except Exception as exc:
                        players.discard(job.env_id)
                        on_failure(job, exc)
            if not active:
                continue
            order = sorted(active)
            episodes = [active[slot] for slot in order]
            try:
                actions = type(prototype).act_batch(
                    [e.agent for e in episodes], [e.observation for e in episodes], [e.info for e in episodes]
                )
                if len(actions) != len(episodes):
                    raise RuntimeError(f"act_batch returned {len(actions)} actions for {len(episodes)} episodes")
            except Exception as exc:  # one failed forward pass fails the episodes in it
                for slot, episode in zip(order, episodes):
                    slots[slot].discard(episode.job.env_id)
                    on_failure(episode.job, exc)
                    del active[slot]
                continue
            for slot, episode, action in zip(order, episodes, actions):
                try:
                    record = episode.record() if episode.step(action) else None
                except Exception as exc:
                    slots[slot].discard(episode.job.env_id)
                    on_failure(episode.job, exc)
                    del active[slot]
                    continue
                if record is not None:
                    on_record(record)
                    del active[slot]
    finally:
        for players in slots:
            players.close()
