"""The local Python sandbox: notebook-like cells in forked children of one warm server process.

Starting Python and importing pandas takes ~600 ms; forking a process that already has pandas,
numpy and duckdb imported takes a few. So one server process per trainer process (shared by every
sandbox in it, e.g. 64 episodes of a vector env) imports them once, and each sandbox is a forked,
confined child that keeps its variables across :meth:`ForkServerSandbox.run` calls until
:meth:`~ForkServerSandbox.reset`. How a child is confined, and what holds when not root, is in
:mod:`turngym.sandboxes.isolation`; how the server and children work, in
:mod:`turngym.sandboxes._forkserver_process`.

    >>> with ForkServerSandbox() as sandbox:
    ...     sandbox.run("import pandas as pd; df = pd.DataFrame({'a': [1, 2]})").ok
    ...     sandbox.run("int(df.a.sum())").value
    True
    '3'

An episode's data goes in after a reset; ``run_setup`` code is replayed if the child crashes::

    sandbox = ForkServerSandbox(setup="import pandas as pd, duckdb\ncon = duckdb.connect()")
    sandbox.reset()
    sandbox.put_file("sales.csv", csv_bytes)
    sandbox.run_setup("sales = pd.read_csv('sales.csv'); con.register('sales', sales)")
    sandbox.run("con.sql('select sum(amount) from sales').fetchall()")

Cleaning up: :meth:`close` and garbage collection stop the child and remove its directory; the
server exits when the trainer closes its socket (or dies), stopping its children and removing its
directory. Directories are named ``turngym-forkserver-<trainer pid>-<start time>-*``, so the next
start removes those a crashed trainer-and-server pair left behind.
"""

from __future__ import annotations

import dataclasses
import fcntl
import json
import logging
import os
import posixpath
import re
import selectors
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import weakref
from collections.abc import Iterable, Sequence
from pathlib import Path, PurePosixPath
from typing import Any

import psutil

from turngym.sandboxes import _framing as framing
from turngym.sandboxes.base import ExecResult, Sandbox, SandboxError
from turngym.sandboxes.isolation import Limits, can_isolate, is_root

log = logging.getLogger(__name__)

DEFAULT_PRELOAD = ("pandas", "numpy", "duckdb")
DEFAULT_TIMEOUT = 30.0
OUTPUT_LIMIT = 64 * 1024  # bytes kept of stdout, of stderr, and of the value's repr
MAX_FILE_BYTES = 1 << 30  # largest file get_file accepts from a child
SANDBOX_UID_BASE = 100_000_000  # a child runs as this + its keeper's pid: unique among live sandboxes
SERVER_START_TIMEOUT = 120.0
CHILD_START_TIMEOUT = 30.0
DIR_PREFIX = "turngym-forkserver-"
# What the server (and so every child) keeps of the trainer's environment: no API keys, no tokens.
ENV_KEPT = ("PATH", "LANG", "LANGUAGE", "LC_ALL", "LC_CTYPE", "TZ", "PYTHONPATH", "PYTHONHASHSEED")
# One BLAS/OpenMP thread: the server must stay single-threaded to fork safely.
ENV_SET = {"OPENBLAS_NUM_THREADS": "1", "OMP_NUM_THREADS": "1", "MKL_NUM_THREADS": "1", "PYTHONDONTWRITEBYTECODE": "1"}


class SetupError(SandboxError):
    """Setup code (``setup=`` or :meth:`ForkServerSandbox.run_setup`) failed; the text says how."""


@dataclasses.dataclass(frozen=True)
class ChildExit:
    """How a child ended: exit code (-N: killed by signal N) and CPU seconds used; None if unknown."""

    code: int | None = None
    cpu_seconds: float | None = None
    failure: str | None = None  # the keeper could not start the child (e.g. unshare refused)


# ---------------------------------------------------------------- the server, trainer side


class ForkServer:
    """The trainer's handle on one warm server process. Thread-safe; see :func:`shared_server`."""

    def __init__(self, preload: Sequence[str] = DEFAULT_PRELOAD, root_dir: str | Path | None = None) -> None:
        root = Path(root_dir or os.environ.get("TURNGYM_SANDBOX_ROOT") or tempfile.gettempdir())
        root.mkdir(parents=True, exist_ok=True)
        reap_stale_dirs(root)
        self.preload = tuple(preload)
        self.owner_pid = os.getpid()
        self.base_dir = Path(tempfile.mkdtemp(prefix=f"{DIR_PREFIX}{self.owner_pid}-{_start_time(self.owner_pid)}-", dir=root))
        self.staging_root = self.base_dir / ".root"  # children mount their private root here
        self.staging_root.mkdir()
        self._lock = threading.Lock()
        self._sock, theirs = socket.socketpair()
        config = {"fd": theirs.fileno(), "preload": list(self.preload), "base_dir": str(self.base_dir)}
        command = [sys.executable, "-c", "from turngym.sandboxes._forkserver_process import main; main()"]
        try:
            self._proc = subprocess.Popen(
                [*command, json.dumps(config)], pass_fds=[theirs.fileno()], env=_server_env(),
                stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, cwd=self.base_dir,
            )
        finally:
            theirs.close()
        self._finalizer = weakref.finalize(self, _shutdown_server, self._sock, self._proc, self.base_dir, self.owner_pid)
        hello = self._receive(SERVER_START_TIMEOUT, "start")
        if "error" in hello:
            self.close()
            raise SandboxError(f"the fork server could not preload {list(self.preload)}: {hello['error']}")
        log.debug("fork server %d ready (preloaded %s)", self._proc.pid, self.preload)

    @property
    def pid(self) -> int:
        return self._proc.pid

    @property
    def alive(self) -> bool:
        return self._finalizer.alive and self._proc.poll() is None

    def new_workdir(self) -> Path:
        return Path(tempfile.mkdtemp(prefix="sbx-", dir=self.base_dir))

    def spawn(self, spec: dict[str, Any], fds: Sequence[int]) -> int:
        """Fork a child for ``spec``; returns its keeper's pid. ``fds``: socket, stdout, stderr.

        The child itself says "ready" (with its pid) on its socket once confined.
        """
        return self.request({"op": "spawn", "spec": spec}, fds)["pid"]

    def stop(self, keeper_pid: int, wait: bool = True) -> ChildExit:
        """Kill a child and everything it started; how it ended (unknown when not waiting)."""
        reply = self.request({"op": "stop", "pid": keeper_pid, "wait": wait})
        return ChildExit(reply.get("exit"), reply.get("cpu"), reply.get("failure"))

    def request(self, header: dict[str, Any], fds: Sequence[int] = (), timeout: float = 60.0) -> dict[str, Any]:
        if os.getpid() != self.owner_pid:
            raise SandboxError("this fork server belongs to the parent process; use shared_server() after fork")
        with self._lock:
            if not self.alive:
                raise SandboxError("the fork server is not running (closed, or it died)")
            try:
                framing.send(self._sock, header, fds=fds)
            except OSError as exc:
                raise SandboxError(f"the fork server is gone: {exc}") from None
            reply = self._receive(timeout, header.get("op", "?"))
        if "error" in reply:
            raise SandboxError(f"fork server {header.get('op')}: {reply['error']}")
        return reply

    def _receive(self, timeout: float, what: str) -> dict[str, Any]:
        self._sock.settimeout(timeout)
        try:
            header, _, _ = framing.recv(self._sock)
        except (EOFError, OSError, framing.ProtocolError) as exc:
            code = self._proc.poll()
            raise SandboxError(f"the fork server failed during {what} (exit status {code}): {exc}") from None
        return header

    def close(self) -> None:
        """Stop the server, its children and their directories (idempotent)."""
        self._finalizer()

    def __enter__(self) -> ForkServer:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def _shutdown_server(sock: socket.socket, proc: subprocess.Popen, base_dir: Path, owner_pid: int) -> None:
    sock.close()  # EOF tells the server to stop its children and remove base_dir
    if os.getpid() != owner_pid:
        return  # a forked copy of the trainer: the server is the parent's
    try:
        proc.wait(timeout=15)
    except subprocess.TimeoutExpired:
        log.warning("fork server %d did not exit; killing it", proc.pid)
        proc.kill()
        proc.wait()
    shutil.rmtree(base_dir, ignore_errors=True)


def _server_env() -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k in ENV_KEPT or k.startswith("LC_")}
    env.setdefault("PATH", os.defpath)
    return {**env, **ENV_SET}


def _start_time(pid: int) -> int:
    return int(psutil.Process(pid).create_time())


_STALE_NAME = re.compile(rf"^{re.escape(DIR_PREFIX)}(\d+)-(\d+)-")


def reap_stale_dirs(root: Path) -> list[Path]:
    """Remove server directories whose owner (pid + start time in the name) no longer runs."""
    removed = []
    for path in root.glob(f"{DIR_PREFIX}*"):
        match = _STALE_NAME.match(path.name)
        if match is None:
            continue
        pid, start = int(match[1]), int(match[2])
        try:
            alive = _start_time(pid) == start
        except psutil.Error:
            alive = False
        if not alive:
            shutil.rmtree(path, ignore_errors=True)
            removed.append(path)
    if removed:
        log.info("removed %d sandbox directories left by dead processes", len(removed))
    return removed


_shared_lock = threading.Lock()
_shared: dict[tuple[str, ...], ForkServer] = {}


def shared_server(preload: Sequence[str] = DEFAULT_PRELOAD) -> ForkServer:
    """This process's server for ``preload``, started on first use (and again if it died)."""
    key = tuple(preload)
    with _shared_lock:
        server = _shared.get(key)
        if server is None or not server.alive:
            server = _shared[key] = ForkServer(key)
        return server


def _forget_servers_after_fork() -> None:
    """A forked trainer (e.g. an AsyncVectorEnv worker) starts servers of its own when needed."""
    global _shared_lock
    _shared_lock = threading.Lock()
    _shared.clear()


os.register_at_fork(after_in_child=_forget_servers_after_fork)


# ---------------------------------------------------------------- one child, trainer side


class _CappedBuffer:
    """Keeps the first ``limit`` bytes of a stream and counts the rest, so 100 MB costs nothing."""

    def __init__(self, limit: int) -> None:
        self.limit = limit
        self.data = bytearray()
        self.total = 0

    def feed(self, chunk: bytes) -> None:
        self.total += len(chunk)
        room = self.limit - len(self.data)
        if room > 0:
            self.data += chunk[:room]

    @property
    def truncated(self) -> bool:
        return self.total > self.limit

    def text(self) -> str:
        return self.data.decode("utf-8", errors="replace")


@dataclasses.dataclass
class _Reply:
    header: dict[str, Any] | None = None
    payload: bytes | None = None
    failure: str | None = None  # "unsent", "timeout", "died", "malformed"
    detail: str = ""


@dataclasses.dataclass
class _Child:
    """The trainer's end of one child: its socket, its output pipes, its pids."""

    keeper_pid: int
    pid: int
    sock: socket.socket
    stdout: int
    stderr: int

    def exchange(self, header: dict[str, Any] | None, payload: bytes | None, deadline: float,
                 out: _CappedBuffer, err: _CappedBuffer) -> _Reply:
        """Send a request (if any) and wait for the reply, collecting output meanwhile."""
        if header is not None:
            try:
                self.sock.settimeout(max(deadline - time.monotonic(), 0.001))
                framing.send(self.sock, header, payload)
            except OSError as exc:
                return _Reply(failure="unsent", detail=str(exc))
        sinks = {self.stdout: out, self.stderr: err}
        with selectors.DefaultSelector() as selector:
            selector.register(self.sock, selectors.EVENT_READ)
            for fd in sinks:
                selector.register(fd, selectors.EVENT_READ)
            while (remaining := deadline - time.monotonic()) > 0:
                for key, _ in selector.select(remaining):
                    if key.fileobj is not self.sock:
                        if _drain(key.fd, sinks[key.fd]):
                            selector.unregister(key.fd)
                        continue
                    reply = self._receive(deadline)
                    self.drain(out, err)
                    return reply
        return _Reply(failure="timeout")

    def _receive(self, deadline: float) -> _Reply:
        self.sock.settimeout(max(deadline - time.monotonic(), 0.001))
        try:
            header, payload, _ = framing.recv(self.sock, max_payload=MAX_FILE_BYTES)
        except (EOFError, ConnectionError) as exc:
            return _Reply(failure="died", detail=str(exc))
        except TimeoutError:
            return _Reply(failure="timeout")
        except (framing.ProtocolError, OSError) as exc:
            return _Reply(failure="malformed", detail=str(exc))
        return _Reply(header=header, payload=payload)

    def drain(self, out: _CappedBuffer, err: _CappedBuffer) -> None:
        """Whatever is in the pipes now: the child flushed before replying, or it is dead."""
        _drain(self.stdout, out)
        _drain(self.stderr, err)

    def close(self) -> None:
        self.sock.close()
        for fd in (self.stdout, self.stderr):
            os.close(fd)


def _drain(fd: int, sink: _CappedBuffer) -> bool:
    """Read until the pipe is empty; True at EOF (every writer gone)."""
    while True:
        try:
            chunk = os.read(fd, 1 << 20)
        except BlockingIOError:
            return False
        if not chunk:
            return True
        sink.feed(chunk)


def _pipe() -> tuple[int, int]:
    read, write = os.pipe()
    try:  # fewer wake-ups for big outputs; not allowed past pipe-max-size when not root
        fcntl.fcntl(read, fcntl.F_SETPIPE_SZ, 1 << 20)
    except OSError:
        pass
    os.set_blocking(read, False)
    return read, write


class _Slot:
    """What a sandbox holds, apart from the sandbox so a weakref finalizer can release it."""

    def __init__(self, server: ForkServer, workdir: Path) -> None:
        self.server = server
        self.workdir = workdir
        self.child: _Child | None = None
        self.owner_pid = os.getpid()
        self.trash: list[Path] = []

    def stop_child(self, out: _CappedBuffer | None = None, err: _CappedBuffer | None = None,
                   wait: bool = True) -> ChildExit:
        """Kill the child (and all it started) and forget it; how it ended, when waiting.

        Output it wrote before dying goes to ``out``/``err``: once every writer is dead, the
        pipes hold exactly what is left.
        """
        child, self.child = self.child, None
        if child is None:
            return ChildExit()
        try:
            ended = self.server.stop(child.keeper_pid, wait) if self.server.alive else ChildExit()
            if out is not None and err is not None:
                child.drain(out, err)
            return ended
        finally:
            child.close()

    def fresh_workdir(self) -> None:
        """An empty working directory at the same path, at once.

        The old one is renamed away before it is removed: a child being killed may still write
        into it for a moment, and nothing it writes may show up in the next episode.
        """
        trash = self.workdir.with_name(f"{self.workdir.name}.old-{time.monotonic_ns()}")
        self.workdir.rename(trash)
        self.workdir.mkdir()
        shutil.rmtree(trash, ignore_errors=True)
        self.trash.extend(p for p in [trash] if p.exists())  # raced a dying writer: retry at release

    def release(self) -> None:
        if os.getpid() != self.owner_pid:
            if self.child is not None:
                self.child.close()  # a forked copy: close our fds, the child is the parent's
            return
        try:
            self.stop_child()
        except SandboxError as exc:
            log.warning("stopping sandbox child: %s", exc)
        for path in [self.workdir, *self.trash]:
            shutil.rmtree(path, ignore_errors=True)


def describe_exit(ended: ChildExit, limits: Limits) -> str:
    """Why a child ended, in words an agent (and its developer) can act on."""
    code = ended.code
    if ended.failure is not None:
        return f"the sandbox process could not start: {ended.failure}"
    if code is None:
        return "the sandbox process stopped (exit status unknown)"
    if code >= 0:
        return f"the sandbox process exited with status {code}"
    number = -code
    try:
        name = signal.Signals(number).name
    except ValueError:
        name = f"signal {number}"
    # rusage trails the kernel's own limit check (0.9 s reported at a 1 s limit), hence the margin.
    if number in (signal.SIGKILL, signal.SIGXCPU) and (ended.cpu_seconds or 0) >= 0.8 * limits.cpu_seconds:
        return f"the sandbox process used up its CPU time limit ({limits.cpu_seconds}s) and was killed"
    if number == signal.SIGKILL:
        return "the sandbox process was killed (SIGKILL), most likely for running out of memory"
    if number in (signal.SIGSEGV, signal.SIGBUS, signal.SIGABRT, signal.SIGILL, signal.SIGFPE):
        return f"the sandbox process crashed ({name})"
    return f"the sandbox process was killed by {name}"


_OS_ERRORS: dict[str, type[OSError]] = {
    cls.__name__: cls
    for cls in (FileNotFoundError, FileExistsError, IsADirectoryError, NotADirectoryError, PermissionError)
}


# ---------------------------------------------------------------- the sandbox


class ForkServerSandbox(Sandbox):
    """A Python sandbox with notebook semantics, forked from a warm server. See the module docstring.

    ``setup`` runs in every fresh child (at creation, after :meth:`reset`, after a crash);
    :meth:`run_setup` runs code now and again after a crash, until the next reset: the place to
    load an episode's tables. ``isolate`` defaults to "when root" (see
    :mod:`turngym.sandboxes.isolation`); asking for it when not root is an error. One sandbox is
    for one thread at a time (calls are serialised); any number of sandboxes may run in parallel.
    """

    def __init__(
        self,
        *,
        preload: Sequence[str] = DEFAULT_PRELOAD,
        setup: str | None = None,
        timeout: float = DEFAULT_TIMEOUT,
        limits: Limits | None = None,
        output_limit: int = OUTPUT_LIMIT,
        isolate: bool | None = None,
        readonly_paths: Iterable[str | Path] = (),
        server: ForkServer | None = None,
    ) -> None:
        if isolate is None:
            isolate = can_isolate()
            if not isolate and is_root():
                log.warning("root without CAP_SYS_ADMIN: sandboxes run without namespaces (limits only)")
        elif isolate and not can_isolate():
            raise SandboxError(
                "isolate=True needs root with CAP_SYS_ADMIN (namespaces, mounts, a uid change); "
                "see turngym.sandboxes.isolation"
            )
        if output_limit <= 0:
            raise ValueError(f"output_limit must be positive, got {output_limit}")
        self.timeout = _positive(timeout, "timeout")
        self.limits = limits or Limits()
        self.output_limit = output_limit
        self.isolate = isolate
        self.setup = setup
        self.readonly_paths = [str(Path(p).resolve()) for p in readonly_paths]
        server = server or shared_server(preload)
        self._slot = _Slot(server, server.new_workdir())
        self._finalizer = weakref.finalize(self, self._slot.release)
        self._lock = threading.RLock()
        self._replay: list[str] = []  # run_setup code, replayed after a crash
        try:
            self._spawn()
            self._run_setups()
        except BaseException:
            self.close()
            raise

    # ---- public API

    @property
    def workdir(self) -> Path:
        return self._slot.workdir

    @property
    def pid(self) -> int | None:
        """Host pid of the current child (None between a failure and its restart)."""
        return self._slot.child.pid if self._slot.child else None

    def run(self, code: str, timeout: float | None = None) -> ExecResult:
        """Run a cell; the value of a final expression comes back as its repr, like IPython."""
        if not isinstance(code, str):
            raise TypeError(f"code must be str, got {type(code).__name__}")
        timeout = self.timeout if timeout is None else _positive(timeout, "timeout")
        with self._lock:
            self._check_usable()
            return self._run(code, timeout)

    def run_setup(self, code: str, timeout: float | None = None) -> ExecResult:
        """Run ``code`` now and after any crash until the next :meth:`reset`; :class:`SetupError` if it fails."""
        with self._lock:
            result = self.run(code, timeout)
            if not result.ok:
                raise SetupError(f"setup code failed:\n{result.render()}")
            self._replay.append(code)
            return result

    def put_file(self, path: str | Path, data: bytes | str) -> None:
        if isinstance(data, str):
            data = data.encode()
        if not isinstance(data, (bytes, bytearray, memoryview)):
            raise TypeError(f"data must be bytes or str, got {type(data).__name__}")
        with self._lock:
            self._check_usable()
            self._file_call({"op": "put", "path": self._relative(path)}, bytes(data), path)

    def get_file(self, path: str | Path) -> bytes:
        with self._lock:
            self._check_usable()
            return self._file_call({"op": "get", "path": self._relative(path)}, None, path) or b""

    def reset(self) -> None:
        """A fresh child with an empty working directory, then ``setup``."""
        with self._lock:
            self._check_usable()
            self._slot.stop_child(wait=False)
            self._slot.fresh_workdir()
            self._replay.clear()
            self._spawn()
            self._run_setups()

    def close(self) -> None:
        """Stop the child and remove its working directory (idempotent; also on garbage collection)."""
        self._finalizer()

    # ---- running

    def _run(self, code: str, timeout: float) -> ExecResult:
        start = time.monotonic()
        out, err = _CappedBuffer(self.output_limit), _CappedBuffer(self.output_limit)
        extra: dict[str, Any] = {}
        reply = self._call({"op": "run", "code": code}, None, start + timeout, out, err)
        if reply.failure == "unsent":  # it died between calls: restart, then run the cell
            extra["restarted_before"] = f"{describe_exit(self._slot.stop_child(), self.limits)} before this call"
            problems = self._restart()
            if problems:
                return ExecResult(error="\n".join(problems), exit_code=-signal.SIGKILL, state_lost=True,
                                  elapsed=time.monotonic() - start, extra=extra)
            reply = self._call({"op": "run", "code": code}, None, start + timeout, out, err)
        if reply.failure is not None:
            return self._failed_run(reply, timeout, start, out, err, extra)
        header = reply.header or {}
        error, value = _optional_str(header.get("error")), _optional_str(header.get("value"))
        return ExecResult(
            stdout=out.text(), stderr=err.text(), value=value, error=error, exit_code=1 if error else 0,
            elapsed=time.monotonic() - start, truncated=out.truncated or err.truncated or bool(header.get("truncated")),
            state_lost=bool(extra), extra=extra,
        )

    def _failed_run(self, reply: _Reply, timeout: float, start: float, out: _CappedBuffer,
                    err: _CappedBuffer, extra: dict[str, Any]) -> ExecResult:
        """The child timed out, died or misbehaved: kill it, keep its output, restart."""
        ended = self._slot.stop_child(out, err)
        if reply.failure == "timeout":
            error = f"timed out after {timeout:g}s; the sandbox was restarted"
        elif reply.failure == "malformed":
            error = f"the sandbox sent a malformed reply ({reply.detail}) and was restarted"
        else:
            error = f"{describe_exit(ended, self.limits)}; the sandbox was restarted"
        problems = self._restart()
        return ExecResult(
            stdout=out.text(), stderr=err.text(), error="\n".join([error, *problems]), extra=extra,
            exit_code=ended.code if ended.code not in (None, 0) else -signal.SIGKILL, elapsed=time.monotonic() - start,
            truncated=out.truncated or err.truncated, timed_out=reply.failure == "timeout", state_lost=True,
        )

    def _call(self, header: dict[str, Any], payload: bytes | None, deadline: float,
              out: _CappedBuffer | None = None, err: _CappedBuffer | None = None) -> _Reply:
        child = self._slot.child
        if child is None:
            return _Reply(failure="unsent", detail="no child")
        out = out or _CappedBuffer(self.output_limit)
        err = err or _CappedBuffer(self.output_limit)
        return child.exchange(header, payload, deadline, out, err)

    def _file_call(self, header: dict[str, Any], payload: bytes | None, path: str | Path) -> bytes | None:
        reply = self._call(header, payload, time.monotonic() + self.timeout)
        if reply.failure == "unsent":
            log.warning("sandbox child had died; restarting it (variables lost)")
            self._slot.stop_child()
            self._restart()
            reply = self._call(header, payload, time.monotonic() + self.timeout)
        if reply.failure is not None:
            ended = self._slot.stop_child()
            self._restart()
            reason = "timed out" if reply.failure == "timeout" else describe_exit(ended, self.limits)
            raise SandboxError(f"{header['op']} {path!s}: {reason}; the sandbox was restarted (variables lost)")
        header_in = reply.header or {}
        if "error" in header_in:
            cls = _OS_ERRORS.get(str(header_in.get("kind")), OSError)
            raise cls(f"{path!s}: {header_in['error']}")
        return reply.payload

    # ---- children

    def _spawn(self) -> None:
        ctl, theirs = socket.socketpair()
        out_r, out_w = _pipe()
        err_r, err_w = _pipe()
        try:
            keeper = self._slot.server.spawn(self._spec(), [theirs.fileno(), out_w, err_w])
        except BaseException:
            ctl.close()
            os.close(out_r)
            os.close(err_r)
            raise
        finally:
            theirs.close()
            os.close(out_w)
            os.close(err_w)
        self._slot.child = child = _Child(keeper, 0, ctl, out_r, err_r)
        out, err = _CappedBuffer(self.output_limit), _CappedBuffer(self.output_limit)
        reply = child.exchange(None, None, time.monotonic() + CHILD_START_TIMEOUT, out, err)
        header = reply.header or {}
        if reply.failure is not None or header.get("op") != "ready":
            ended = self._slot.stop_child()
            reason = header.get("error") or f"{reply.failure}: {describe_exit(ended, self.limits)}"
            raise SandboxError(f"the sandbox child failed to start:\n{reason}\n{err.text()}".rstrip())
        child.pid = int(header.get("pid", 0))
        self.isolated = bool(header.get("isolated"))

    def _spec(self) -> dict[str, Any]:
        return {
            "workdir": str(self.workdir),
            "isolate": self.isolate,
            "limits": dataclasses.asdict(self.limits),
            "readonly_paths": self.readonly_paths,
            "value_limit": self.output_limit,
            "uid_base": SANDBOX_UID_BASE,
            "staging_root": str(self._slot.server.staging_root),
        }

    def _run_setups(self) -> None:
        for code in ([self.setup] if self.setup else []) + self._replay:
            result = self._run(code, self.timeout)
            if not result.ok:
                raise SetupError(f"setup code failed:\n{result.render()}")

    def _restart(self) -> list[str]:
        """A fresh child after a failure, with setup replayed; notes on what went wrong."""
        try:
            self._spawn()
            self._run_setups()
        except SandboxError as exc:
            return [f"[restarting the sandbox failed: {exc}]"]
        return []

    def _check_usable(self) -> None:
        if not self._finalizer.alive:
            raise SandboxError("the sandbox is closed")
        if os.getpid() != self._slot.owner_pid:
            raise SandboxError(
                f"this sandbox belongs to process {self._slot.owner_pid}; create sandboxes after fork, in the process using them"
            )
        if self._slot.child is None:
            notes = self._restart()
            if self._slot.child is None:
                raise SandboxError(f"the sandbox has no running child: {' '.join(notes)}")

    def _relative(self, path: str | Path) -> str:
        """``path`` relative to the working directory; ValueError if it leads outside."""
        pure = PurePosixPath(os.fspath(path))
        if pure.is_absolute():
            try:
                pure = pure.relative_to(self.workdir)
            except ValueError:
                raise ValueError(f"{path!s} is outside the sandbox working directory {self.workdir}") from None
        normal = posixpath.normpath(str(pure))
        if normal in ("", ".") or normal == ".." or normal.startswith("../"):
            raise ValueError(f"{path!s} does not name a file inside the sandbox working directory {self.workdir}")
        return normal


def _positive(value: float, name: str) -> float:
    if not isinstance(value, (int, float)) or value <= 0:
        raise ValueError(f"{name} must be a positive number of seconds, got {value!r}")
    return float(value)


def _optional_str(value: Any) -> str | None:
    return None if value is None else str(value)
