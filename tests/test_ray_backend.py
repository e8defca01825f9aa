"""The Ray backend plays the same episodes as the local one, record for record."""

from __future__ import annotations

import pytest

from turngym.agents.ray_backend import run_ray
from turngym.agents.runner import make_jobs, run_local
from turngym.agents.spec import AgentSpec

import fixtures.arith  # noqa: F401  (registers the Arith env and oracle)

ENV = "turngym-test/Arith-v0"


def run(runner, spec, jobs, **options):
    records, failures = [], []
    runner(
        spec,
        jobs,
        concurrency=2,
        on_record=records.append,
        on_failure=lambda job, exc: failures.append((job, exc)),
        **options,
    )
    assert not failures, failures
    # Wall time differs between any two runs; everything else must not.
    return sorted(
        ({k: v for k, v in r.items() if k != "wall_time"} for r in records),
        key=lambda r: (r["difficulty"], r["seed"], r["sample"]),
    )


@pytest.mark.parametrize("kind", ["oracle", "random"])
def test_ray_with_two_cpus_gives_the_same_records_as_local(kind):
    jobs = make_jobs([ENV], episodes=5, samples=2, difficulties=["easy", "hard"])
    remote = run(run_ray, AgentSpec(kind), jobs, num_cpus=2)
    local = run(run_local, AgentSpec(kind), jobs)
    assert len(remote) == len(jobs) and remote == local
    assert all(r["success"] for r in remote) == (kind == "oracle")
