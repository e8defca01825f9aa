"""Finding (and, as root, starting) the Docker engine every Docker sandbox talks to.

Why a module of its own: the sandboxes, the image builder, the reaper and the tests all need the
same answer to "is there an engine, and how do I reach it?", and the same clear error when there
is none. Installing the engine is out of scope here (that needs apt, see ``.ci/ensure-docker``);
starting an installed ``dockerd`` is in scope because a fresh machine has none running.
"""

from __future__ import annotations

import logging
import os
import shutil
import subprocess
import threading
import time
from pathlib import Path

import docker
import docker.errors

from turngym.sandboxes.base import SandboxError

log = logging.getLogger(__name__)

# Seconds any one API call may take once the engine answered (a loaded engine is slow to
# create or remove containers; image builds and imports have no limit).
API_TIMEOUT = 120
DOCKERD_LOG = Path(os.environ.get("TURNGYM_DOCKERD_LOG", "/var/log/turngym-dockerd.log"))

# Every object turngym creates carries LABEL=1, so the reaper and `docker ps --filter` find them.
LABEL = "turngym"
OWNER_LABEL = "turngym.owner"  # pid of the process that created the container
OWNER_START_LABEL = "turngym.owner_start"  # its start time, so a recycled pid is not mistaken
HOST_LABEL = "turngym.host"  # hostname, so a shared engine never reaps another machine's work


_shared_clients: dict[int, docker.DockerClient] = {}
_shared_lock = threading.Lock()


class EngineUnavailable(SandboxError):
    """No Docker engine answers, and we could not (or may not) start one."""


def find_engine(timeout: float = 5.0) -> docker.DockerClient | None:
    """A client for the engine named by the environment (DOCKER_HOST or the default socket).

    Returns ``None`` when nothing answers a ping, instead of raising, so callers can decide
    whether to start one, skip, or fail.
    """
    try:
        client = docker.from_env(timeout=timeout)
        client.ping()
    except (docker.errors.DockerException, OSError) as exc:
        log.debug("no Docker engine answers: %s", exc)
        return None
    client.api.timeout = API_TIMEOUT  # the short timeout was for the ping only
    return client


def start_dockerd(wait: float = 60.0, log_path: Path = DOCKERD_LOG) -> None:
    """Start an installed ``dockerd`` in the background and wait until it answers.

    The engine is started in a new session so it outlives this process: it is machine state,
    like the one ``.ci/ensure-docker`` starts, not something a sandbox owns.
    """
    dockerd = shutil.which("dockerd")
    if dockerd is None:
        raise EngineUnavailable(
            "no Docker engine answers and dockerd is not installed; "
            "install it (as root: .ci/ensure-docker, or apt-get install docker.io)"
        )
    log_path.parent.mkdir(parents=True, exist_ok=True)
    log.info("starting %s (log: %s)", dockerd, log_path)
    with open(log_path, "ab") as log_file:
        subprocess.Popen(
            [dockerd],
            stdin=subprocess.DEVNULL,
            stdout=log_file,
            stderr=log_file,
            start_new_session=True,
        )
    deadline = time.monotonic() + wait
    while time.monotonic() < deadline:
        if find_engine(timeout=2.0) is not None:
            return
        time.sleep(0.5)
    raise EngineUnavailable(f"dockerd did not answer within {wait:.0f}s; see {log_path}")


def ensure_engine(start: bool = True, wait: float = 60.0) -> docker.DockerClient:
    """A client for a running engine, starting ``dockerd`` first when allowed and possible.

    Starting needs root; without it the error says so rather than failing on a socket later.
    """
    client = find_engine()
    if client is not None:
        return client
    if not start:
        raise EngineUnavailable("no Docker engine answers (DOCKER_HOST or /var/run/docker.sock)")
    if os.geteuid() != 0:
        raise EngineUnavailable(
            "no Docker engine answers and only root may start one; "
            "start dockerd or point DOCKER_HOST at a running engine"
        )
    start_dockerd(wait=wait)
    client = find_engine()
    if client is None:  # answered a moment ago; only a crash right after start lands here
        raise EngineUnavailable(f"dockerd started but stopped answering; see {DOCKERD_LOG}")
    return client


def shared_client() -> docker.DockerClient:
    """One client per process, made by :func:`ensure_engine` on first use.

    Each client keeps a pool of connections to the engine; one client per sandbox would hold
    a pool per sandbox. Keyed by pid because a forked child must not share its parent's
    sockets.
    """
    pid = os.getpid()
    with _shared_lock:
        client = _shared_clients.get(pid)
        if client is None:
            client = _shared_clients[pid] = ensure_engine()
        return client
