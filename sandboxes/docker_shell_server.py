"""The shell server that runs as PID 1 inside every Docker sandbox container.

Why it exists: ``docker exec`` costs tens of milliseconds per command (a new process set up by
the engine, the runtime and the shim). This server starts once with the container and reads
commands as JSON lines on its stdin, which the host reaches through the Docker attach socket;
each command then costs one ``bash -c`` fork. The host copies this file into the container
before starting it, so it needs nothing but the standard library of the image's python3.

Protocol: one JSON object per line each way.
  request  {"cmd": str, "timeout": float, "cap": int}   or   {"ping": true}
  reply    {"stdout", "stderr", "exit_code", "timed_out", "truncated", "oom_killed",
            "reclaimed", "stdout_bytes", "stderr_bytes", "elapsed", "error"}   or   {"pong": true}

Each command is a fresh ``bash -c`` that behaves like the next line of one session: it starts
in the directory the previous command ended in, with the variables it exported (an EXIT trap
saves both). It runs in a new session (its own process group); when its bash exits, or its
timeout passes, the whole group is killed, so background jobs do not outlive the command
(start a daemon with ``setsid`` to keep it). Being PID 1, the server also reaps orphans, or
killed fork bombs would leave zombies that use up the pids limit.
"""

from __future__ import annotations

import json
import os
import selectors
import signal
import subprocess
import sys
import time

_READ = 1 << 16
# After the command's bash exits, how long to wait for the rest of its output.
_DRAIN_GRACE = 0.05
# ... and how long `setsid daemon &` children get to leave the group before it is killed.
_DETACH_GRACE = 0.02
_STATE_DIR = "/run/turngym"
_CWD_FILE = f"{_STATE_DIR}/cwd"
_ENV_FILE = f"{_STATE_DIR}/env"
# Runs before each command: make the command, not the server, what the OOM killer picks when
# memory runs out; restore exported variables; save them and the cwd on any exit. (All shell
# builtins: a Popen preexec_fn would do the first, but it forbids vfork and doubles the cost.)
_PRELUDE = (
    "{ echo 1000 > /proc/self/oom_score_adj; } 2>/dev/null; "
    f"[ -r {_ENV_FILE} ] && . {_ENV_FILE} 2>/dev/null; "
    f"trap 'pwd > {_CWD_FILE}; export -p > {_ENV_FILE}' EXIT\n"
)
_PIDS_DIRS = ("/sys/fs/cgroup/pids", "/sys/fs/cgroup")  # cgroup v1, then v2
_OOM_COUNTERS = ("/sys/fs/cgroup/memory.events", "/sys/fs/cgroup/memory/memory.oom_control")


def oom_kills() -> int:
    """How many processes the OOM killer has killed in this container's cgroup so far."""
    for path in _OOM_COUNTERS:
        try:
            with open(path) as handle:
                for line in handle:
                    key, _, value = line.partition(" ")
                    if key == "oom_kill":
                        return int(value)
        except OSError:
            continue
    return 0


def pids_nearly_exhausted() -> bool:
    """True when the container's processes fill >= 90% of its pids limit (a detached fork bomb:
    the next command could not fork, or only now and then)."""
    for directory in _PIDS_DIRS:
        try:
            with open(f"{directory}/pids.current") as current, open(f"{directory}/pids.max") as cap:
                used, limit = int(current.read()), cap.read().strip()
        except OSError:
            continue
        return limit != "max" and used >= 0.9 * int(limit)
    return False


def reap_orphans(keep: int | None = None) -> None:
    """Collect exited processes that were re-parented to us, except ``keep`` (Popen's own)."""
    while True:
        try:
            info = os.waitid(os.P_ALL, 0, os.WEXITED | os.WNOHANG | os.WNOWAIT)
        except ChildProcessError:
            return
        if info is None or info.si_pid == keep:
            return
        try:
            os.waitpid(info.si_pid, 0)
        except ChildProcessError:
            return


def group_alive(pgid: int) -> bool:
    try:
        os.killpg(pgid, 0)
    except (ProcessLookupError, PermissionError):
        return False
    return True


def kill_group(proc: subprocess.Popen[bytes]) -> None:
    """SIGKILL the command's whole process group.

    One ``killpg`` is enough even for a fork bomb: the kernel fails any fork that races with a
    group kill, so no child is born outside the signal's reach.
    """
    try:
        os.killpg(proc.pid, signal.SIGKILL)
    except (ProcessLookupError, PermissionError):
        pass


def kill_everything_else() -> None:
    """Last resort when we cannot fork: kill every process in the container but us.

    Repeated, because a detached fork bomb keeps forking between our listing and our kills.
    """
    me = os.getpid()
    for _ in range(100):
        others = [int(name) for name in os.listdir("/proc") if name.isdigit() and int(name) != me]
        if not others:
            return
        for pid in others:
            try:
                os.kill(pid, signal.SIGKILL)
            except OSError:
                pass
        time.sleep(0.01)
        reap_orphans()


def current_dir(workdir: str) -> str:
    """Where the previous command ended, or ``workdir`` (if that is gone too, ``/``)."""
    try:
        with open(_CWD_FILE) as handle:
            saved = handle.read().strip()
    except OSError:
        saved = workdir
    for candidate in (saved, workdir):
        if os.path.isdir(candidate):
            return candidate
    return "/"


def spawn(cmd: str, cwd: str) -> tuple[subprocess.Popen[bytes], bool]:
    """Start the command; also say whether every other process had to be killed first."""
    argv = ["/bin/bash", "-c", _PRELUDE + cmd]
    popen_args = dict(
        cwd=cwd,
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        start_new_session=True,
    )
    if pids_nearly_exhausted():
        kill_everything_else()
        return subprocess.Popen(argv, **popen_args), True
    try:
        return subprocess.Popen(argv, **popen_args), False
    except BlockingIOError:  # EAGAIN: the pids limit is used up after all
        kill_everything_else()
        return subprocess.Popen(argv, **popen_args), True


def _pidfd(pid: int) -> int | None:
    """A descriptor that turns readable when ``pid`` exits, so select notices bash ending even
    while a background job still holds its pipes open (None on kernels without pidfds)."""
    try:
        return os.pidfd_open(pid)
    except (AttributeError, OSError):
        return None


class _Capped:
    """One output stream: the first ``cap`` bytes, and how many there were in all."""

    def __init__(self, cap: int) -> None:
        self.cap, self.kept, self.total = cap, bytearray(), 0

    def add(self, data: bytes) -> None:
        self.total += len(data)
        room = self.cap - len(self.kept)
        if room > 0:
            self.kept += data[:room]


def _pump(selector: selectors.BaseSelector, streams: dict, wait: float) -> None:
    """Read whatever the pipes have within ``wait`` seconds; unregister pipes at EOF."""
    for key, _ in selector.select(wait):
        if key.fileobj not in streams:
            continue  # the pidfd: the caller's poll() sees the exit
        data = os.read(key.fd, _READ)
        if data:
            streams[key.fileobj].add(data)
        else:
            selector.unregister(key.fileobj)


def collect(proc: subprocess.Popen[bytes], timeout: float, cap: int) -> dict:
    """Read both pipes (keeping ``cap`` bytes of each) until the command ends or times out."""
    streams = {proc.stdout: _Capped(cap), proc.stderr: _Capped(cap)}
    deadline = time.monotonic() + timeout
    timed_out = False
    with selectors.DefaultSelector() as selector:
        for pipe in streams:
            selector.register(pipe, selectors.EVENT_READ)
        pidfd = _pidfd(proc.pid)
        if pidfd is not None:
            selector.register(pidfd, selectors.EVENT_READ)
        poll_every = 0.05 if pidfd is not None else 0.005
        # Phase 1: the command runs; read its output until bash exits or time is up.
        while proc.poll() is None:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                timed_out = True
                break
            _pump(selector, streams, min(remaining, poll_every))
            reap_orphans(keep=proc.pid)
        if pidfd is not None:
            selector.unregister(pidfd)
            os.close(pidfd)
        # Phase 2: kill what is left of the group, then read what it wrote before dying. A
        # detached process (setsid) may keep the pipes open; we stop waiting after a grace.
        if not timed_out and group_alive(proc.pid):
            time.sleep(_DETACH_GRACE)
        kill_group(proc)
        grace_end = time.monotonic() + _DRAIN_GRACE
        while selector.get_map() and (left := grace_end - time.monotonic()) > 0:
            _pump(selector, streams, left)
    returncode = proc.wait()
    for pipe in streams:
        pipe.close()
    out, err = streams[proc.stdout], streams[proc.stderr]
    return {
        "stdout": out.kept.decode("utf-8", "replace"),
        "stderr": err.kept.decode("utf-8", "replace"),
        # Shell convention: a command killed by signal N exits with 128 + N.
        "exit_code": returncode if returncode >= 0 else 128 - returncode,
        "timed_out": timed_out,
        "truncated": out.total > cap or err.total > cap,
        "stdout_bytes": out.total,
        "stderr_bytes": err.total,
    }


def handle(request: dict, workdir: str) -> dict:
    if request.get("ping"):
        return {"pong": True}
    start = time.monotonic()
    oom_before = oom_kills()
    try:
        proc, reclaimed = spawn(str(request["cmd"]), current_dir(workdir))
    except OSError as exc:
        return {"error": f"could not start bash: {exc}", "exit_code": 126}
    reply = collect(proc, float(request.get("timeout", 60.0)), int(request.get("cap", 1 << 16)))
    reap_orphans()
    reply["oom_killed"] = oom_kills() > oom_before
    reply["elapsed"] = time.monotonic() - start
    reply["reclaimed"] = reclaimed  # other processes were killed to free the pids limit
    reply["error"] = None
    return reply


def main() -> None:
    workdir = sys.argv[1] if len(sys.argv) > 1 else "/"
    os.makedirs(_STATE_DIR, exist_ok=True)
    out = sys.stdout.buffer
    for line in sys.stdin.buffer:
        if not line.strip():
            continue
        try:
            reply = handle(json.loads(line), workdir)
        except Exception as exc:  # one bad request must not take the container down
            reply = {"error": f"shell server: {type(exc).__name__}: {exc}", "exit_code": 1}
        out.write(json.dumps(reply).encode() + b"\n")
        out.flush()


if __name__ == "__main__":
    main()
