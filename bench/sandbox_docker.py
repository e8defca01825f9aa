"""Docker sandbox: one shell command and one reset, against the naive way, side by side.

Rows (each pair measured interleaved in one run, on the same engine and image):

* command: ``DockerSandbox.run`` (a request on the attach socket to the in-container shell
  server) vs ``container.exec_run(["bash", "-c", ...])`` (a ``docker exec`` through the SDK)
  on the same container.
* reset, warm: ``DockerSandbox.reset`` with a pause between resets, as an episode would leave
  (the pool refills in it), vs create+start of a fresh container.
* reset, back to back: resets with no pause, so the pool cannot keep up (the worst case).
"""

from __future__ import annotations

import time

import docker

from turngym.bench._timing import p50, p90, timed
from turngym.sandboxes.base import SandboxError
from turngym.sandboxes.docker_engine import shared_client
from turngym.sandboxes.docker_images import ensure_base_image
from turngym.sandboxes.docker_sandbox import DockerSandbox, owner_labels

COMMANDS = 300
RESETS = 25
EPISODE_PAUSE = 1.0  # seconds between warm resets, a short episode


def main() -> None:
    try:
        client = shared_client()
    except SandboxError as exc:
        print(f"skipped: {exc}")
        return
    image = ensure_base_image(client)
    rows: list[tuple[str, list[float], list[float] | None, str]] = []

    with DockerSandbox(image, warm=2) as box:
        container = client.containers.get(box.container_id)
        shell, docker_exec = [], []
        for _ in range(COMMANDS):  # interleaved, so drift hits both sides alike
            shell.append(timed(lambda: box.run("echo hello")))
            docker_exec.append(timed(lambda: container.exec_run(["bash", "-c", "echo hello"])))
        rows.append(("command (echo hello)", shell, docker_exec, "docker exec via SDK exec_run"))

        warm, naive = [], []
        for _ in range(RESETS):
            time.sleep(EPISODE_PAUSE)
            warm.append(timed(box.reset))
            naive.append(_create_start(client, image))
        rows.append(("reset, warm pool", warm, naive, "create+start (removal not timed)"))

        back_to_back = [timed(box.reset) for _ in range(RESETS)]
        rows.append(("reset, back to back", back_to_back, None, "pool drained: waits for starts"))

    print(f"{'operation':24} {'p50':>9} {'p90':>9} {'naive p50':>10} {'ratio':>7}  naive is")
    for name, ours, other, note in rows:
        other_p50 = f"{p50(other) * 1e3:8.1f}ms" if other else f"{'-':>10}"
        ratio = f"{p50(other) / p50(ours):6.1f}x" if other else f"{'-':>7}"
        print(f"{name:24} {p50(ours) * 1e3:7.2f}ms {p90(ours) * 1e3:7.2f}ms {other_p50} {ratio}  {note}")


def _create_start(client: docker.DockerClient, image: str) -> float:
    """Seconds for the naive reset: create and start a fresh container with the same limits.

    Removing it is left out of the time (it could go to the background), which favours the
    naive side.
    """
    start = time.perf_counter()
    container = client.containers.run(
        image, ["sleep", "infinity"], detach=True, network_mode="none", mem_limit="1g",
        nano_cpus=10**9, pids_limit=256, labels=owner_labels(),
    )
    elapsed = time.perf_counter() - start
    container.remove(force=True)
    return elapsed


if __name__ == "__main__":
    main()
