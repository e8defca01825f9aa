"""Running an evaluation's episodes as Ray actors: the same jobs and records, past one machine.

``ray.init()`` starts a local Ray with ``num_cpus`` (or joins the cluster at ``address``); each
actor builds the agent from its :class:`~turngym.agents.spec.AgentSpec` once and plays the
episodes it is handed, one at a time, with the same :class:`~turngym.agents.runner.Episode` loop
as the local backend, so an episode's record is the same wherever it ran (wall time aside).
Records stream back as episodes finish and the driver appends them, so ``--resume`` works alike.

Workers do not run the driver's imports, so the driver ships what it registered: the env specs
(entry points are imported in the worker, so their modules must be importable there, e.g. via
``PYTHONPATH``) and the oracle registry. Ray is imported only here, so it costs nothing to the
default (local) path.
"""

from __future__ import annotations

import logging
import os
import sys
import traceback
from collections.abc import Sequence
from typing import Any

import gymnasium as gym
from gymnasium.envs.registration import EnvSpec

from turngym.agents.oracles import FactorySpec, install_oracles, registered_oracles
from turngym.agents.runner import Episode, EpisodeJob, OnFailure, OnRecord, Players
from turngym.agents.spec import AgentSpec

logger = logging.getLogger(__name__)


class RemoteEpisodeError(RuntimeError):
    """An episode failed in a Ray worker; the message carries the worker's traceback."""


class EpisodeWorker:
    """A Ray actor's body: one agent, its envs, and a loop over the jobs it is handed."""

    def __init__(self, spec: AgentSpec, env_specs: dict[str, EnvSpec], oracles: dict[str, FactorySpec]):
        for env_spec in env_specs.values():
            gym.registry.setdefault(env_spec.id, env_spec)  # what gym.register does, given a spec
        install_oracles(oracles)
        self.players = Players(spec.build())

    def run(self, job: EpisodeJob) -> tuple[EpisodeJob, dict[str, Any] | None, str | None]:
        """(job, record, None) or (job, None, the error with its traceback)."""
        try:
            env, agent = self.players.get(job.env_id)
            return job, Episode(env, agent, job).play(), None
        except Exception as exc:
            self.players.discard(job.env_id)
            return job, None, f"{type(exc).__name__}: {exc}\n{traceback.format_exc()}"

    def close(self) -> None:
        self.players.close()


def run_ray(
    spec: AgentSpec,
    jobs: Sequence[EpisodeJob],
    *,
    concurrency: int,
    on_record: OnRecord,
    on_failure: OnFailure,
    address: str | None = None,
    num_cpus: int | None = None,
) -> None:
    """Play every job on Ray actors (see the module docstring)."""
    import ray
    from ray.util import ActorPool

    if not jobs:
        return
    env_specs = {env_id: gym.spec(env_id) for env_id in sorted({job.env_id for job in jobs})}
    started_here = not ray.is_initialized()
    if started_here:
        ray.init(
            address=address,
            num_cpus=None if address else (num_cpus or os.cpu_count() or 1),
            include_dashboard=False,
            logging_level=logging.WARNING,
            log_to_driver=False,  # worker failures come back as values, with their tracebacks
            # Workers import env entry points and oracles by module name, as this process can.
            runtime_env={"env_vars": {"PYTHONPATH": os.pathsep.join(_python_path())}},
        )
    workers: list[Any] = []
    try:
        cpus = int(ray.available_resources().get("CPU", 1))
        count = max(1, min(concurrency, cpus, len(jobs)))
        logger.info("ray: %d actors on %d free CPUs", count, cpus)
        actor = ray.remote(num_cpus=1)(EpisodeWorker)
        workers = [actor.remote(spec, env_specs, registered_oracles()) for _ in range(count)]
        pool = ActorPool(workers)
        for job, record, error in pool.map_unordered(lambda worker, job: worker.run.remote(job), list(jobs)):
            if record is not None:
                on_record(record)
            else:
                on_failure(job, RemoteEpisodeError(error))
    finally:
        for worker in workers:
            try:
                ray.get(worker.close.remote(), timeout=30)
            except Exception:
                logger.warning("a Ray worker did not close cleanly", exc_info=True)
            ray.kill(worker)
        if started_here:
            ray.shutdown()


def _python_path() -> list[str]:
    """This process's own import directories (PYTHONPATH, the test or script dir), not Python's."""
    entries = [p for p in os.environ.get("PYTHONPATH", "").split(os.pathsep) if p]
    system = tuple(os.path.realpath(p) for p in {sys.prefix, sys.base_prefix})
    for path in sys.path:
        if path and os.path.isdir(path) and path not in entries and not os.path.realpath(path).startswith(system):
            entries.append(path)
    return entries
