"""Shell commands in a Docker container: the sandbox for SWE-style tasks.

Three things make it fast and leak-free enough for RL rollouts:

* A persistent shell. Each container runs ``docker_shell_server.py`` as PID 1; the host sends
  commands as JSON lines through the container's attach socket (the Docker API, no network), so
  a command costs one ``bash -c`` inside instead of a ``docker exec`` round trip.
* A warm pool. :class:`WarmPool` keeps containers started ahead of time; ``reset`` swaps in a
  ready one and removes the old one in the background.
* Ownership labels. Every container carries ``turngym=1`` and its owner's pid; the container's
  stdin closes when the owner dies (so the server exits and the engine removes it), and
  :func:`reap_stale` removes whatever a crashed run left behind anyway.

Containers have no network (``network_mode="none"``), and memory, CPU and pids limits.
"""

from __future__ import annotations

import functools
import io
import json
import logging
import posixpath
import queue
import socket
import struct
import tarfile
import threading
import time
import weakref
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import docker
import docker.errors
import psutil
from docker.models.containers import Container
from docker.types import LogConfig

from turngym.sandboxes.base import ExecResult, Sandbox, SandboxError
from turngym.sandboxes.docker_engine import (
    HOST_LABEL,
    LABEL,
    OWNER_LABEL,
    OWNER_START_LABEL,
    shared_client,
)
from turngym.sandboxes.docker_images import ensure_base_image

log = logging.getLogger(__name__)

SERVER_SOURCE = Path(__file__).with_name("docker_shell_server.py")
SERVER_PATH = "/opt/turngym/shell_server.py"  # where it lives inside the container
# Extra seconds the host waits beyond a command's timeout before declaring the container hung.
PROTOCOL_GRACE = 10.0
START_TIMEOUT = 60.0


# --- ownership and the reaper -------------------------------------------------------------


def owner_labels() -> dict[str, str]:
    """Labels naming this process as owner, so a later run can tell whether it is still alive."""
    me = psutil.Process()
    return {
        LABEL: "1",
        OWNER_LABEL: str(me.pid),
        OWNER_START_LABEL: repr(me.create_time()),
        HOST_LABEL: socket.gethostname(),
    }


def _owner_alive(labels: dict[str, str]) -> bool:
    try:
        pid = int(labels[OWNER_LABEL])
        started = float(labels.get(OWNER_START_LABEL, "nan"))
        process = psutil.Process(pid)
        # A different start time means the pid was recycled by an unrelated process.
        return not abs(process.create_time() - started) > 1.0
    except (KeyError, ValueError):
        return True  # not labelled by us the usual way: not ours to judge
    except psutil.NoSuchProcess:
        return False


def reap_stale(client: docker.DockerClient | None = None) -> list[str]:
    """Remove turngym containers on this host whose owner process is gone; return their ids."""
    client = client or shared_client()
    removed = []
    listed = client.containers.list(all=True, filters={"label": f"{LABEL}=1"}, ignore_removed=True)
    for container in listed:
        labels = container.labels
        if labels.get(HOST_LABEL) != socket.gethostname() or _owner_alive(labels):
            continue
        log.info("reaping container %s left by dead owner pid %s",
                 container.short_id, labels.get(OWNER_LABEL))
        _remove(container)
        removed.append(container.id)
    return removed


def _remove(container: Container) -> None:
    """Force-remove, tolerating a container the engine already removed or is removing."""
    try:
        container.remove(force=True)
    except docker.errors.NotFound:
        pass
    except docker.errors.APIError as exc:
        if exc.status_code != 409:  # 409: removal already in progress (auto-remove)
            raise


# --- one container and its shell ----------------------------------------------------------


@dataclass(frozen=True)
class ContainerSpec:
    """Everything that makes two sandbox containers interchangeable (and so poolable)."""

    image: str
    workdir: str = "/workspace"
    mem_limit: str = "1g"
    cpus: float = 1.0
    pids_limit: int = 256
    environment: tuple[tuple[str, str], ...] = ()

    def create_kwargs(self) -> dict[str, Any]:
        return dict(
            image=self.image,
            command=["python3", "-I", "-u", SERVER_PATH, self.workdir],
            working_dir=self.workdir,
            environment=dict(self.environment),
            # stdin_open without detach sets StdinOnce: stdin closes when our attach socket
            # does (we exit or die), the server sees EOF and exits, and auto_remove cleans up.
            stdin_open=True,
            detach=False,
            auto_remove=True,
            network_mode="none",
            mem_limit=self.mem_limit,
            memswap_limit=self.mem_limit,  # no swap: a memory bomb meets the limit at once
            nano_cpus=int(self.cpus * 1e9),
            pids_limit=self.pids_limit,
            security_opt=["no-new-privileges"],
            log_config=LogConfig(type="none"),  # replies go over attach; don't log them to disk
            hostname="sandbox",
            labels=owner_labels(),
        )


class ShellChannel:
    """JSON lines to and from the shell server over the container's attach socket.

    The attach stream is multiplexed (no TTY): 8-byte headers give the stream (1 stdout,
    2 stderr) and the length of each frame. Replies come on stdout; the server's own stderr
    only carries crashes, which are logged.
    """

    def __init__(self, api: docker.APIClient, container_id: str) -> None:
        params = {"stdin": 1, "stdout": 1, "stderr": 1, "stream": 1}
        self._io = api.attach_socket(container_id, params=params)
        self._sock: socket.socket = getattr(self._io, "_sock", self._io)
        self._frames = bytearray()  # raw bytes not yet split into frames
        self._stdout = bytearray()  # stdout payload not yet split into lines
        self._lock = threading.Lock()

    def request(self, message: dict[str, Any], wait: float) -> dict[str, Any]:
        """Send one request and return its reply; raise OSError/TimeoutError if none comes."""
        with self._lock:
            self._sock.settimeout(wait)
            self._sock.sendall(json.dumps(message).encode() + b"\n")
            return json.loads(self._read_line(time.monotonic() + wait))

    def _read_line(self, deadline: float) -> bytes:
        while (end := self._stdout.find(b"\n")) < 0:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise TimeoutError("no reply from the shell server")
            self._sock.settimeout(remaining)
            chunk = self._sock.recv(1 << 16)
            if not chunk:
                raise ConnectionError("the container closed its attach stream (it stopped)")
            self._frames += chunk
            self._split_frames()
        line = bytes(self._stdout[:end])
        del self._stdout[: end + 1]
        return line

    def _split_frames(self) -> None:
        while len(self._frames) >= 8:
            stream, size = struct.unpack(">BxxxL", self._frames[:8])
            if len(self._frames) < 8 + size:
                return
            payload = bytes(self._frames[8 : 8 + size])
            del self._frames[: 8 + size]
            if stream == 1:
                self._stdout += payload
            else:
                log.warning("shell server stderr: %s", payload.decode(errors="replace").rstrip())

    def close(self) -> None:
        try:
            self._sock.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass
        self._sock.close()
        self._io.close()


@functools.cache
def _server_archive() -> bytes:
    """A tar holding the shell server at SERVER_PATH, for ``put_archive`` before start."""
    return _tar_of({SERVER_PATH.lstrip("/"): SERVER_SOURCE.read_bytes()}, mode=0o755)


def _tar_of(files: dict[str, bytes], mode: int = 0o644) -> bytes:
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w") as archive:
        for name, data in files.items():
            info = tarfile.TarInfo(name)
            info.size, info.mode, info.mtime = len(data), mode, int(time.time())
            archive.addfile(info, io.BytesIO(data))
    return buffer.getvalue()


@dataclass
class ShellContainer:
    """A started container with its shell server answering on ``channel``."""

    container: Container
    channel: ShellChannel

    @classmethod
    def start(cls, client: docker.DockerClient, spec: ContainerSpec) -> ShellContainer:
        container = client.containers.create(**spec.create_kwargs())
        channel: ShellChannel | None = None
        try:
            container.put_archive("/", _server_archive())
            container.start()
            channel = ShellChannel(client.api, container.id)
            reply = channel.request({"ping": True}, wait=START_TIMEOUT)
            if not reply.get("pong"):
                raise SandboxError(f"unexpected reply to ping: {reply}")
        except (OSError, ValueError, docker.errors.APIError, SandboxError) as exc:
            if channel is not None:
                channel.close()
            _remove(container)
            raise SandboxError(
                f"the shell server did not start in a container of {spec.image} "
                f"(the image needs python3 and bash): {exc}"
            ) from exc
        return cls(container, channel)

    def alive(self) -> bool:
        try:
            return bool(self.channel.request({"ping": True}, wait=5.0).get("pong"))
        except (OSError, ValueError):
            return False

    def remove(self) -> None:
        self.channel.close()
        _remove(self.container)


# --- the warm pool ------------------------------------------------------------------------


class WarmPool:
    """Containers of one spec started ahead of time, so ``acquire`` rarely waits for a start.

    Each ``acquire`` hands out a ready container and orders a replacement; ``release`` removes
    a used container on a background thread. Several sandboxes may share one pool. The pool
    reaps stale containers of dead runs when it starts.
    """

    def __init__(
        self, spec: ContainerSpec, size: int = 2, client: docker.DockerClient | None = None
    ) -> None:
        if size < 0:
            raise ValueError(f"pool size must be >= 0, got {size}")
        self.spec = spec
        self.size = size
        self._client = client or shared_client()
        try:
            self._client.images.get(spec.image)
        except docker.errors.ImageNotFound:
            raise SandboxError(
                f"image {spec.image!r} is not on the engine, and nothing is pulled from a "
                "registry: build it with ensure_base_image or build_project_image"
            ) from None
        reap_stale(self._client)
        self._ready: queue.SimpleQueue[ShellContainer | BaseException] = queue.SimpleQueue()
        self._closed = threading.Event()
        # Starts run in parallel (up to 4): back-to-back resets drain the pool, and the engine
        # starts several containers at once faster than one after another.
        self._starter = ThreadPoolExecutor(max(1, min(size, 4)), thread_name_prefix="turngym-pool-start")
        self._remover = ThreadPoolExecutor(2, thread_name_prefix="turngym-pool-remove")
        # The finalizer holds no reference to self, so a forgotten pool is still cleaned up.
        self._finalizer = weakref.finalize(
            self, _shutdown_pool, self._closed, self._ready, self._starter, self._remover
        )
        for _ in range(size):
            self._order_one()

    def _order_one(self) -> None:
        self._starter.submit(_start_into, self._client, self.spec, self._ready, self._closed)

    def acquire(self, wait: float = START_TIMEOUT) -> ShellContainer:
        """A started container, answering pings; orders its replacement."""
        if self._closed.is_set():
            raise SandboxError("the warm pool is closed")
        for _ in range(self.size + 2):
            self._order_one()
            try:
                item = self._ready.get(timeout=wait)
            except queue.Empty:
                raise SandboxError(f"no container started within {wait:.0f}s") from None
            if isinstance(item, BaseException):
                raise SandboxError(f"starting a container failed: {item}") from item
            if item.alive():
                return item
            log.warning("a warm container %s died while waiting; replacing it",
                        item.container.short_id)
            self.release(item)
        raise SandboxError("warm containers keep dying; is the engine healthy?")

    def release(self, box: ShellContainer) -> None:
        """Remove a used container without making the caller wait."""
        try:
            self._remover.submit(box.remove)
        except RuntimeError:  # interpreter shutdown or pool closed: remove right here
            box.remove()

    def close(self) -> None:
        """Remove every container the pool holds; waits for starts and removals under way."""
        self._finalizer()

    def __enter__(self) -> WarmPool:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def _start_into(
    client: docker.DockerClient,
    spec: ContainerSpec,
    ready: queue.SimpleQueue[ShellContainer | BaseException],
    closed: threading.Event,
) -> None:
    try:
        box = ShellContainer.start(client, spec)
    except BaseException as exc:  # handed to whoever acquires next, who raises it
        ready.put(exc)
        return
    if closed.is_set():
        box.remove()
    else:
        ready.put(box)


def _shutdown_pool(
    closed: threading.Event,
    ready: queue.SimpleQueue[ShellContainer | BaseException],
    starter: ThreadPoolExecutor,
    remover: ThreadPoolExecutor,
) -> None:
    closed.set()
    starter.shutdown(wait=True, cancel_futures=True)  # after this nothing new lands in ready
    while True:
        try:
            item = ready.get_nowait()
        except queue.Empty:
            break
        if isinstance(item, ShellContainer):
            item.remove()
    remover.shutdown(wait=True)


# --- the sandbox --------------------------------------------------------------------------


@dataclass
class _Lease:
    """The container a sandbox currently uses; shared with its finalizer, which must not hold
    the sandbox itself."""

    pool: WarmPool
    owns_pool: bool
    box: ShellContainer | None = field(default=None)


def _end_lease(lease: _Lease) -> None:
    if lease.box is not None:
        box, lease.box = lease.box, None
        box.remove()  # here, not in the background: close() must leave nothing behind
    if lease.owns_pool:
        lease.pool.close()


class DockerSandbox(Sandbox):
    """A shell in a Docker container with no network and limited memory, CPU and pids.

    ``run`` takes a bash command. Commands behave like lines of one shell session: each starts
    where the previous one left the container (files, packages, current directory, exported
    variables; the first starts in ``workdir``), but background jobs are killed when their
    command ends (use ``setsid`` for a daemon). Output is decoded as UTF-8 (invalid bytes
    replaced); beyond ``output_limit`` bytes per stream it is dropped and flagged ``truncated``.

    By default the sandbox owns a :class:`WarmPool` of ``warm`` spare containers; pass
    ``pool=`` to share one between sandboxes (its spec then sets image and limits).
    """

    def __init__(
        self,
        image: str | None = None,
        *,
        workdir: str = "/workspace",
        mem_limit: str = "1g",
        cpus: float = 1.0,
        pids_limit: int = 256,
        environment: dict[str, str] | None = None,
        output_limit: int = 64 * 1024,
        timeout: float = 60.0,
        warm: int = 2,
        pool: WarmPool | None = None,
        client: docker.DockerClient | None = None,
    ) -> None:
        if output_limit <= 0 or timeout <= 0:
            raise ValueError("output_limit and timeout must be positive")
        if pool is not None and image is not None and image != pool.spec.image:
            raise ValueError(f"image {image!r} differs from the pool's {pool.spec.image!r}")
        if pool is None:
            client = client or shared_client()
            spec = ContainerSpec(
                image=image or ensure_base_image(client),
                workdir=workdir,
                mem_limit=mem_limit,
                cpus=cpus,
                pids_limit=pids_limit,
                environment=tuple(sorted((environment or {}).items())),
            )
            pool = WarmPool(spec, size=warm, client=client)
            owns_pool = True
        else:
            owns_pool = False
        self.spec = pool.spec
        self.output_limit = output_limit
        self.timeout = timeout
        self._lease = _Lease(pool, owns_pool)
        self._finalizer = weakref.finalize(self, _end_lease, self._lease)
        try:
            self._lease.box = pool.acquire()
        except BaseException:
            self._finalizer()  # closes the pool we made
            raise

    @property
    def workdir(self) -> str:
        return self.spec.workdir

    @property
    def container_id(self) -> str:
        return self._box().container.id

    def _box(self) -> ShellContainer:
        if self._lease.box is None:
            raise SandboxError("the sandbox is closed")
        return self._lease.box

    def run(self, code: str, timeout: float | None = None) -> ExecResult:
        """Run ``code`` with ``bash -c`` in the container; never raises for what it does."""
        if not isinstance(code, str):
            raise TypeError(f"command must be a str, got {type(code).__name__}")
        timeout = self.timeout if timeout is None else timeout
        if timeout <= 0:
            raise ValueError(f"timeout must be positive, got {timeout}")
        box = self._box()
        start = time.perf_counter()
        request = {"cmd": code, "timeout": timeout, "cap": self.output_limit}
        try:
            reply = box.channel.request(request, wait=timeout + PROTOCOL_GRACE)
        except (OSError, ValueError) as exc:  # socket errors, timeouts, garbled JSON
            return self._replace_broken(box, exc, time.perf_counter() - start)
        return self._result(reply, timeout, time.perf_counter() - start)

    def _result(self, reply: dict[str, Any], timeout: float, elapsed: float) -> ExecResult:
        error = reply.get("error")
        if error is None and reply.get("oom_killed"):
            error = (f"killed by the out-of-memory killer: the sandbox memory limit "
                     f"({self.spec.mem_limit}) was reached")
        elif error is None and reply.get("timed_out"):
            error = f"timed out after {timeout:g}s; the command and its processes were killed"
        return ExecResult(
            stdout=reply.get("stdout", ""),
            stderr=reply.get("stderr", ""),
            error=error,
            exit_code=reply.get("exit_code", -1),
            elapsed=elapsed,
            truncated=reply.get("truncated", False),
            timed_out=reply.get("timed_out", False),
            extra={
                "stdout_bytes": reply.get("stdout_bytes", 0),
                "stderr_bytes": reply.get("stderr_bytes", 0),
                "oom_killed": reply.get("oom_killed", False),
                # True when a detached fork bomb or the like had used up the pids limit and
                # every process in the container was killed to run this command.
                "reclaimed": reply.get("reclaimed", False),
            },
        )

    def _replace_broken(self, box: ShellContainer, exc: Exception, elapsed: float) -> ExecResult:
        """The container stopped answering (crashed, or hung past the grace): start afresh."""
        log.warning("container %s stopped answering (%s); replacing it", box.container.short_id, exc)
        self._lease.box = None
        self._lease.pool.release(box)
        self._lease.box = self._lease.pool.acquire()
        return ExecResult(
            error=f"the sandbox container stopped answering ({exc}); it was replaced",
            exit_code=-1,
            elapsed=elapsed,
            timed_out=isinstance(exc, TimeoutError),
            state_lost=True,
        )

    def _path(self, path: str) -> str:
        if not path:
            raise ValueError("empty path")
        return posixpath.normpath(posixpath.join(self.workdir, path))

    def put_file(self, path: str, data: bytes | str) -> None:
        """Write a file (parents created as needed); relative paths are under ``workdir``."""
        target = self._path(path)
        payload = data.encode() if isinstance(data, str) else bytes(data)
        try:
            self._box().container.put_archive("/", _tar_of({target.lstrip("/"): payload}))
        except docker.errors.APIError as exc:
            raise SandboxError(f"could not write {target} in the sandbox: {exc.explanation}") from exc

    def get_file(self, path: str) -> bytes:
        """Read a file; relative paths are under ``workdir``. Symlinks are followed."""
        target = self._path(path)
        for _ in range(16):  # symlink hops
            try:
                chunks, _stat = self._box().container.get_archive(target)
                archive = tarfile.open(fileobj=io.BytesIO(b"".join(chunks)))
            except docker.errors.NotFound:
                raise FileNotFoundError(f"{target} does not exist in the sandbox") from None
            member = archive.next()
            if member is None:
                raise SandboxError(f"the engine sent an empty archive for {target}")
            if member.issym():
                target = posixpath.normpath(
                    posixpath.join(posixpath.dirname(target), member.linkname)
                )
                continue
            if not member.isfile():
                raise IsADirectoryError(f"{target} is not a regular file in the sandbox")
            handle = archive.extractfile(member)
            assert handle is not None
            return handle.read()
        raise OSError(f"too many symlinks resolving {path!r} in the sandbox")

    def reset(self) -> None:
        """Swap in a fresh container from the pool; the old one is removed in the background."""
        old = self._box()
        self._lease.box = self._lease.pool.acquire()
        self._lease.pool.release(old)

    def close(self) -> None:
        """Remove the container (and the pool, if this sandbox made it). Safe to call twice."""
        self._finalizer()

    def __enter__(self) -> DockerSandbox:
        return self
