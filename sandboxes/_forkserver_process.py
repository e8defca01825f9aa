"""The fork-server process: a warm interpreter that forks one confined child per sandbox.

Process tree (host pids)::

    trainer ── server        pandas, numpy, duckdb imported once; gc frozen; single-threaded
                 └── keeper  one per sandbox: waits for its child and reports how it ended
                       └── child   pid 1 of its own PID namespace, confined; runs the cells

Why a keeper between the server and the child: a PID namespace holds only the *children* of the
process that unshares it, so someone must fork twice. The keeper is also the one place a child can
be killed from without a race: while it waits, its child can't be reaped and its pid can't be
reused. It hands the child's exact exit (code or signal) to the server through a pipe.

The trainer talks to the server over one socket (spawn and stop requests, with the child's socket
and output pipes passed as file descriptors) and to each child directly over that child's socket,
so cells never go through the server. See :mod:`turngym.sandboxes.forkserver` for the trainer side.
"""

from __future__ import annotations

import builtins
import gc
import importlib
import json
import logging
import os
import select
import shutil
import signal
import socket
import sys
import threading
import time
import traceback
import types
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from turngym.sandboxes import _framing as framing
from turngym.sandboxes import isolation
from turngym.sandboxes._cell import cell_filename, run_cell

log = logging.getLogger("turngym.sandboxes.forkserver")

NAMESPACES = (
    isolation.CLONE_NEWPID | isolation.CLONE_NEWNS | isolation.CLONE_NEWNET | isolation.CLONE_NEWIPC | isolation.CLONE_NEWUTS
)
REAP_INTERVAL = 2.0  # seconds between sweeps for orphans when no request arrives
STOP_GRACE = 5.0  # seconds a keeper gets to kill its child before it is killed itself


# ---------------------------------------------------------------- server


@dataclass
class _Keeper:
    pid: int
    status_fd: int  # read end of the pipe the keeper writes JSON lines to
    reaped: bool = False  # reaped by the sweep: its pid may be reused, never signal it
    kill_after: float | None = None  # set when stopped without waiting: SIGKILL if alive then
    buffer: bytes = b""
    messages: list[dict[str, Any]] = field(default_factory=list)

    def read_message(self, timeout: float | None) -> dict[str, Any] | None:
        """The next JSON line from the keeper; None on EOF or timeout."""
        while not self.messages:
            if timeout is not None and not select.select([self.status_fd], [], [], timeout)[0]:
                return None
            chunk = os.read(self.status_fd, 4096)
            if not chunk:
                return None
            self.buffer += chunk
            *lines, self.buffer = self.buffer.split(b"\n")
            self.messages.extend(json.loads(line) for line in lines if line)
        return self.messages.pop(0)


class Server:
    def __init__(self, sock: socket.socket, base_dir: Path) -> None:
        self.sock = sock
        self.base_dir = base_dir
        self.keepers: dict[int, _Keeper] = {}
        self.stopping: dict[int, _Keeper] = {}  # stopped without waiting, not yet reaped

    def serve(self) -> None:
        """Answer requests until the trainer closes its end, then clean up everything."""
        while True:
            ready = select.select([self.sock], [], [], REAP_INTERVAL)[0]
            self._sweep()
            if not ready:
                continue
            try:
                header, _, fds = framing.recv(self.sock, with_fds=True)
            except (EOFError, ConnectionError):
                break
            try:
                reply = self._handle(header, fds)
            except Exception as exc:  # noqa: BLE001 - the trainer gets the message, the server lives on
                log.exception("request %s failed", header.get("op"))
                reply = {"error": f"{type(exc).__name__}: {exc}"}
            finally:
                for fd in fds:
                    os.close(fd)
            try:
                framing.send(self.sock, reply)
            except OSError:  # the trainer is gone
                break
        self.shutdown()

    def _handle(self, header: dict[str, Any], fds: list[int]) -> dict[str, Any]:
        op = header.get("op")
        if op == "spawn":
            if len(fds) != 3:
                raise ValueError(f"spawn needs 3 fds (socket, stdout, stderr), got {len(fds)}")
            return self.spawn(header["spec"], *fds)
        if op == "stop":
            if header.get("wait", True):
                return self.stop(int(header["pid"]))
            self.stop_nowait(int(header["pid"]))
            return {}
        if op == "ping":
            return {"pid": os.getpid(), "sandboxes": len(self.keepers), "stopping": len(self.stopping)}
        raise ValueError(f"unknown op {op!r}")

    def spawn(self, spec: dict[str, Any], ctl: int, out: int, err: int) -> dict[str, Any]:
        status_r, status_w = os.pipe()
        pid = os.fork()
        if pid == 0:  # keeper
            try:
                os.close(status_r)
                self.sock.detach()  # the trainer's server socket is not the keeper's business
                _close_fds_except({0, 1, 2, ctl, out, err, status_w})
                _keeper_main(spec, ctl, out, err, status_w)
            finally:
                os._exit(70)
        os.close(status_w)
        self.keepers[pid] = _Keeper(pid=pid, status_fd=status_r)
        # The child reports to the trainer itself (ready, or EOF if it never starts), so the
        # server is free for the next request while the keeper forks and the child confines.
        return {"pid": pid}

    def stop(self, pid: int) -> dict[str, Any]:
        """Kill a sandbox (keeper, child and all its processes); how its child ended.

        ``{"exit": code, "cpu": seconds}`` (code -N: signal N), ``{"failure": why}`` if the
        keeper could not start the child, ``{}`` if unknown.
        """
        keeper = self._pop(pid)
        try:
            if not keeper.reaped:
                _terminate_keeper(pid)
            while (message := keeper.read_message(timeout=STOP_GRACE)) is not None:
                if "exit" in message or "failure" in message:
                    return message
            return {}
        finally:
            os.close(keeper.status_fd)

    def stop_nowait(self, pid: int) -> None:
        """Start killing a sandbox and return at once (a reset does not need to know how it ended)."""
        keeper = self._pop(pid)
        if keeper.reaped:
            os.close(keeper.status_fd)
            return
        os.kill(pid, signal.SIGTERM)
        keeper.kill_after = time.monotonic() + STOP_GRACE
        self.stopping[pid] = keeper

    def _pop(self, pid: int) -> _Keeper:
        keeper = self.keepers.pop(pid, None)
        if keeper is None:
            raise KeyError(f"no sandbox with keeper pid {pid}")
        return keeper

    def _sweep(self) -> None:
        """Reap exited keepers and orphans (the server is a subreaper, so they come here)."""
        while True:
            try:
                pid, _ = os.waitpid(-1, os.WNOHANG)
            except ChildProcessError:
                break
            if pid == 0:
                break
            if pid in self.keepers:
                self.keepers[pid].reaped = True
            elif pid in self.stopping:
                os.close(self.stopping.pop(pid).status_fd)
        now = time.monotonic()
        for pid, keeper in self.stopping.items():
            if keeper.kill_after is not None and now > keeper.kill_after:
                log.warning("keeper %d ignored SIGTERM; killing it", pid)
                os.kill(pid, signal.SIGKILL)  # not reaped yet, so the pid is still its own
                keeper.kill_after = None

    def shutdown(self) -> None:
        for keeper in self.stopping.values():
            if keeper.kill_after is not None:
                os.kill(keeper.pid, signal.SIGKILL)
            os.waitpid(keeper.pid, 0)
            os.close(keeper.status_fd)
        for pid in list(self.keepers):
            try:
                self.stop(pid)
            except OSError as exc:
                log.warning("stopping sandbox %d: %s", pid, exc)
        shutil.rmtree(self.base_dir, ignore_errors=True)


def _terminate_keeper(pid: int) -> None:
    """SIGTERM asks the keeper to kill its child and report; SIGKILL if it does not in time."""
    pidfd = os.pidfd_open(pid)
    try:
        os.kill(pid, signal.SIGTERM)
        if not select.select([pidfd], [], [], STOP_GRACE)[0]:
            log.warning("keeper %d ignored SIGTERM; killing it", pid)
            os.kill(pid, signal.SIGKILL)  # its child dies of PR_SET_PDEATHSIG
        os.waitpid(pid, 0)
    finally:
        os.close(pidfd)


def _close_fds_except(keep: set[int]) -> None:
    low = 0
    for fd in sorted(keep):
        if fd > low:
            os.closerange(low, fd)
        low = fd + 1
    os.closerange(low, 1 << 20)


# ---------------------------------------------------------------- keeper


def _keeper_main(spec: dict[str, Any], ctl: int, out: int, err: int, status_w: int) -> None:
    """Fork the child (into new namespaces when isolating), wait for it, report its exit."""
    server_pid = os.getppid()
    isolation.prctl(isolation.PR_SET_PDEATHSIG, signal.SIGKILL)
    if os.getppid() != server_pid:
        return
    child = 0
    kill_requested = False

    def on_term(_signum: int, _frame: object) -> None:
        nonlocal kill_requested
        kill_requested = True
        if child:
            _kill_group(child)

    signal.signal(signal.SIGTERM, on_term)

    def report(message: dict[str, Any]) -> None:
        os.write(status_w, json.dumps(message).encode() + b"\n")

    try:
        if spec["isolate"]:
            isolation.unshare(NAMESPACES)
        uid = spec["uid_base"] + os.getpid()
        child = os.fork()
    except OSError as exc:
        report({"failure": f"{exc}"})
        return
    if child == 0:
        os.close(status_w)
        _child_main(spec, uid, ctl, out, err)  # never returns
    for fd in (ctl, out, err):  # only the child holds them, so the trainer sees EOF when it dies
        os.close(fd)
    if kill_requested:
        _kill_group(child)
    _, status, usage = os.wait4(child, 0)
    child = 0  # reaped: the pid may be reused from here on
    report({"exit": os.waitstatus_to_exitcode(status), "cpu": usage.ru_utime + usage.ru_stime})
    os._exit(0)


def _kill_group(pid: int) -> None:
    """As pid 1 of a PID namespace, the child's death takes every process in it along; without a
    namespace its process group (it called setsid) is the best we have."""
    for kill, target in ((os.killpg, pid), (os.kill, pid)):
        try:
            kill(target, signal.SIGKILL)
        except ProcessLookupError:
            pass


# ---------------------------------------------------------------- child


def _child_main(spec: dict[str, Any], uid: int, ctl: int, out: int, err: int) -> None:
    signal.signal(signal.SIGTERM, signal.SIG_DFL)
    sock = socket.socket(fileno=ctl)
    try:
        isolation.prctl(isolation.PR_SET_PDEATHSIG, signal.SIGKILL)
        os.setsid()
        host_pid = int(os.readlink("/proc/self"))  # the host's /proc is still mounted: its pid for us
        workdir = Path(spec["workdir"])
        limits = isolation.Limits(**spec["limits"])
        if spec["isolate"]:
            _confine(workdir, uid, limits, spec["readonly_paths"], Path(spec["staging_root"]))
        else:
            isolation.apply_limits(limits, processes=False)
        os.chdir(workdir)
        _redirect_stdio(out, err)
        os.environ.update(HOME=str(workdir), PWD=str(workdir), TMPDIR="/tmp" if spec["isolate"] else str(workdir))
        framing.send(sock, {"op": "ready", "pid": host_pid, "isolated": spec["isolate"], "uid": os.getuid()})
    except BaseException:  # noqa: BLE001 - whatever it was, the trainer must hear it
        try:
            framing.send(sock, {"op": "failed", "error": traceback.format_exc()})
        finally:
            os._exit(1)
    try:
        _Repl(sock, workdir, spec["value_limit"], limits).serve()
    finally:
        os._exit(0)


def _confine(workdir: Path, uid: int, limits: isolation.Limits, extra_readonly: list[str], staging: Path) -> None:
    readonly = isolation.python_paths() + list(extra_readonly)
    isolation.build_root(staging, workdir, readonly, limits)
    isolation.pivot_root(staging)
    _chown_tree(workdir, uid)  # files left by a previous child (another uid) after a restart
    isolation.apply_limits(limits, processes=True)
    isolation.drop_privileges(uid)


def _chown_tree(root: Path, uid: int) -> None:
    os.chown(root, uid, uid)
    for dirpath, dirnames, filenames in os.walk(root):
        for name in dirnames + filenames:
            os.lchown(os.path.join(dirpath, name), uid, uid)


def _redirect_stdio(out: int, err: int) -> None:
    """fd 1 and 2 become the trainer's pipes, so C code and subprocesses are captured too."""
    devnull = os.open(os.devnull, os.O_RDONLY)
    os.dup2(devnull, 0)
    os.dup2(out, 1)
    os.dup2(err, 2)
    for fd in (devnull, out, err):
        os.close(fd)


class _Repl:
    """The child's loop: run cells in one persistent namespace, move files, until EOF."""

    def __init__(self, sock: socket.socket, workdir: Path, value_limit: int, limits: isolation.Limits) -> None:
        self.sock = sock
        self.workdir = workdir
        self.value_limit = value_limit
        self.limits = limits
        main = types.ModuleType("__main__")
        main.__dict__["__builtins__"] = builtins
        sys.modules["__main__"] = main  # so user classes pickle and `if __name__ == "__main__"` works
        self.namespace = main.__dict__
        self.cells = 0
        self.pid = os.getpid()

    def serve(self) -> None:
        handlers = {"run": self.run, "put": self.put, "get": self.get}
        while True:
            try:
                header, payload, _ = framing.recv(self.sock)
            except (EOFError, ConnectionError, framing.ProtocolError):
                return
            handler = handlers.get(header.get("op"))
            if handler is None:
                framing.send(self.sock, {"error": f"unknown op {header.get('op')!r}", "kind": "ValueError"})
                continue
            reply, data = handler(header, payload)
            framing.send(self.sock, reply, data)

    def run(self, header: dict[str, Any], _payload: bytes | None) -> tuple[dict[str, Any], None]:
        self.cells += 1
        outcome = run_cell(header["code"], self.namespace, cell_filename(self.cells), self.value_limit)
        if os.getpid() != self.pid:  # the cell forked and this is the copy: only the original replies
            os._exit(0)
        for stream in {sys.stdout, sys.stderr, sys.__stdout__, sys.__stderr__}:
            try:
                stream.flush()
            except Exception:  # noqa: BLE001 - user code may have replaced or closed it
                pass
        error = outcome.error
        if error is not None and outcome.out_of_memory:
            error += f"\n[the sandbox's memory limit is {self.limits.memory_bytes / (1 << 30):.3g} GiB of address space]"
        return {"value": outcome.value, "error": error, "truncated": outcome.truncated}, None

    def put(self, header: dict[str, Any], payload: bytes | None) -> tuple[dict[str, Any], None]:
        try:
            target = self._inside(header["path"])
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_bytes(payload or b"")
        except OSError as exc:
            return _os_error(exc), None
        return {}, None

    def get(self, header: dict[str, Any], _payload: bytes | None) -> tuple[dict[str, Any], bytes | None]:
        try:
            return {}, self._inside(header["path"]).read_bytes()
        except OSError as exc:
            return _os_error(exc), None

    def _inside(self, relative: str) -> Path:
        """The path, resolved in the child's own view; symlinks may not lead out of the workdir."""
        target = Path(os.path.realpath(self.workdir / relative))
        if target != self.workdir and self.workdir not in target.parents:
            raise PermissionError(f"{relative!r} resolves to {target}, outside the working directory")
        return target


def _os_error(exc: OSError) -> dict[str, Any]:
    return {"error": str(exc), "kind": type(exc).__name__}


# ---------------------------------------------------------------- entry point


def main() -> None:
    """``python -c 'from ... import main; main()' CONFIG_JSON``; started by :class:`ForkServer`."""
    config = json.loads(sys.argv[1])
    logging.basicConfig(level=logging.WARNING, format="turngym fork server %(process)d: %(message)s")
    sock = socket.socket(fileno=config["fd"])
    try:
        for name in config["preload"]:
            importlib.import_module(name)
        isolation.prctl(isolation.PR_SET_CHILD_SUBREAPER, 1)
    except BaseException as exc:  # noqa: BLE001
        framing.send(sock, {"error": f"{type(exc).__name__}: {exc}"})
        raise SystemExit(1) from None
    threads = threading.active_count()
    if threads != 1 or len(os.listdir("/proc/self/task")) != 1:
        log.warning("the server has %d threads after preloading; forking it may deadlock children", threads)
    gc.freeze()  # children's collections won't touch (and copy) the preloaded objects
    framing.send(sock, {"op": "ready", "pid": os.getpid(), "preloaded": config["preload"]})
    Server(sock, Path(config["base_dir"])).serve()
