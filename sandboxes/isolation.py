"""Confining a forked Python child: namespaces, a read-only root, an unprivileged uid, rlimits.

Why in-process namespaces rather than bubblewrap: the fork server's whole point is a warm child
that already has pandas, numpy and duckdb imported. ``bwrap`` can only confine a process it
``exec``s, which would throw the warm imports away (~600 ms) on every reset. Here the forked child
confines *itself* with the same kernel calls bwrap makes (``unshare``, bind mounts, ``pivot_root``,
``setuid``), so confinement costs about a millisecond instead of an interpreter start.

Why an allow-list root rather than tmpfs over a list of sensitive directories: a deny-list is only
as good as its list, and a list can't cover everything. On this machine the Python standard library
lives under ``/root/.pyenv``, so covering ``/root`` would break Python while keeping ``/root``
would expose everything else in it. Instead the child gets a fresh, read-only tmpfs as ``/`` holding
read-only bind mounts of only the system directories (``/usr``, ``/etc``, ``/lib``...) and the
Python installation it runs on, a fresh ``/proc``, a minimal ``/dev``, a private ``/tmp``, and its
working directory, the only writable place on disk. Anything else (``/work``, ``/home``, ``/root``,
other sandboxes' directories, the trainer's temp files) does not exist in its view.

What holds, as root (the CI case), for each child:

* no network: a new network namespace holds only a loopback interface, which is down;
* filesystem: the allow-list root above; ``/etc/shadow`` and similar are covered by a
  ``/dev/null`` on a ``nodev`` mount, which can't even be opened; nothing outside the working directory and ``/tmp`` (a size-capped tmpfs of its own)
  is writable; mounts are ``nosuid``;
* processes: a new PID namespace whose init is the child, so killing it kills every descendant
  (even one that called ``setsid``); the child drops to a uid of its own (``uid_base`` + a pid, no
  capabilities, ``no_new_privs``), which makes ``RLIMIT_NPROC`` count only its own processes, so a
  fork bomb stops at ``Limits.processes``;
* IPC and hostname: new IPC and UTS namespaces;
* rlimits: address space, CPU seconds, processes, file size, open files; core dumps off.

Known limits, as root: ``memory_bytes`` bounds each process's address space, so the sandbox's
total is up to ``processes`` times that (a memory cgroup would bound the sum; not done here). The
child, as pid 1 of its namespace, ignores signals it has no handler for when they come from inside
(``os.kill(os.getpid(), SIGTERM)`` does nothing) and does not reap orphaned grandchildren until
the sandbox resets. Files in the working directory are limited per file (``file_size_bytes``),
not in total.

What holds when *not* root: no namespaces and no uid change are possible, so the child sees the
network and the filesystem with the trainer's own rights. Only the rlimits (without
``RLIMIT_NPROC``, which would count every process of the user), the wall-clock timeout and the
process-group kill apply. That protects against runaway code, not against hostile code: run
untrusted code as root here or in the Docker backend.
"""

from __future__ import annotations

import ctypes
import errno
import os
import platform
import resource
import signal
import sys
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

# Kernel constants (linux/sched.h, linux/mount.h, linux/prctl.h); the values are the ABI.
CLONE_NEWNS = 0x00020000
CLONE_NEWUTS = 0x04000000
CLONE_NEWIPC = 0x08000000
CLONE_NEWPID = 0x20000000
CLONE_NEWNET = 0x40000000

MS_RDONLY = 1
MS_NOSUID = 2
MS_NODEV = 4
MS_NOEXEC = 8
MS_REMOUNT = 32
MS_BIND = 4096
MS_REC = 16384
MS_PRIVATE = 1 << 18
MNT_DETACH = 2

PR_SET_PDEATHSIG = 1
PR_SET_DUMPABLE = 4
PR_SET_CHILD_SUBREAPER = 36
PR_SET_NO_NEW_PRIVS = 38

# pivot_root has no glibc wrapper; its syscall number is per architecture.
_SYS_PIVOT_ROOT = {"x86_64": 155, "aarch64": 41}

# Files in the allowed system directories covered all the same (by /dev/null, unopenable on nodev).
HIDDEN_FILES = ("/etc/shadow", "/etc/shadow-", "/etc/gshadow", "/etc/gshadow-", "/etc/sudoers")
SYSTEM_DIRS = ("/usr", "/bin", "/sbin", "/lib", "/lib32", "/lib64", "/libx32", "/etc")
DEVICES = ("null", "zero", "full", "random", "urandom")

_libc = ctypes.CDLL(None, use_errno=True)


class IsolationError(OSError):
    """A confinement step failed; the child must not run user code."""


@dataclass(frozen=True)
class Limits:
    """Resource limits for one sandbox child and everything it starts.

    ``cpu_seconds`` is a budget for the child's lifetime (a reset starts a new one); the per-call
    wall-clock timeout is the everyday guard, this one stops a background process that spins
    between calls. ``processes`` counts threads too (duckdb starts one per core) and only applies
    as root (see the module docstring).
    """

    memory_bytes: int = 2 << 30
    cpu_seconds: int = 300
    processes: int = 64
    file_size_bytes: int = 256 << 20
    open_files: int = 256
    tmp_bytes: int = 128 << 20  # the private /tmp tmpfs

    def __post_init__(self) -> None:
        for name in ("memory_bytes", "cpu_seconds", "processes", "file_size_bytes", "open_files", "tmp_bytes"):
            value = getattr(self, name)
            if not isinstance(value, int) or value <= 0:
                raise ValueError(f"Limits.{name} must be a positive int, got {value!r}")


CAP_SYS_ADMIN = 21


def is_root() -> bool:
    return os.geteuid() == 0


def can_isolate() -> bool:
    """Root *with* CAP_SYS_ADMIN: root in a default Docker container may not unshare or mount."""
    if not is_root():
        return False
    try:
        status = Path("/proc/self/status").read_text()
    except OSError:
        return False
    effective = next((line.split()[1] for line in status.splitlines() if line.startswith("CapEff:")), "0")
    return bool(int(effective, 16) >> CAP_SYS_ADMIN & 1)


def _check(result: int, what: str) -> None:
    if result != 0:
        err = ctypes.get_errno()
        raise IsolationError(err, f"{what}: {os.strerror(err)}")


def prctl(option: int, value: int) -> None:
    _check(_libc.prctl(option, ctypes.c_ulong(value), 0, 0, 0), f"prctl({option}, {value})")


def unshare(flags: int) -> None:
    """``unshare(2)``: Python 3.11 has no ``os.unshare``."""
    _check(_libc.unshare(flags), f"unshare({flags:#x})")


def mount(source: str | None, target: str | Path, fstype: str | None, flags: int, data: str | None = None) -> None:
    def enc(s: str | Path | None) -> bytes | None:
        return None if s is None else os.fsencode(s)

    result = _libc.mount(enc(source), enc(target), enc(fstype), ctypes.c_ulong(flags), enc(data))
    _check(result, f"mount {source} on {target}")


def umount2(target: str, flags: int) -> None:
    _check(_libc.umount2(os.fsencode(target), flags), f"umount {target}")


def pivot_root(new_root: Path) -> None:
    """Make ``new_root`` the root and detach the old one, so nothing of it stays reachable."""
    number = _SYS_PIVOT_ROOT.get(platform.machine())
    if number is None:
        raise IsolationError(errno.ENOSYS, f"pivot_root: unknown syscall number on {platform.machine()}")
    os.chdir(new_root)
    # pivot_root(".", ".") stacks the old root on the new one; unmounting "." then drops it.
    _check(_libc.syscall(number, b".", b"."), "pivot_root")
    umount2(".", MNT_DETACH)
    os.chdir("/")


def python_paths() -> list[str]:
    """The directories the running interpreter needs to keep importing (stdlib, venv, site-packages).

    Only ``sys.path`` entries inside an installation prefix count: the script's own directory or
    a ``PYTHONPATH`` entry may be anything (``/tmp``, a repo with secrets) and must be asked for.
    """
    prefixes = {Path(os.path.realpath(p)) for p in (sys.prefix, sys.base_prefix, sys.exec_prefix, sys.base_exec_prefix)}
    entries = {Path(os.path.realpath(p)) for p in sys.path if p and os.path.exists(p)}
    inside = {e for e in entries if any(_inside(e, prefix) for prefix in prefixes)}
    return sorted(str(p) for p in prefixes | inside)


def _inside(path: Path, parent: Path) -> bool:
    return path == parent or parent in path.parents


def _minimal_cover(paths: Iterable[str]) -> list[Path]:
    """Real paths to bind, dropping those already inside another bound path on the same device."""
    real = sorted({Path(os.path.realpath(p)) for p in paths if os.path.exists(p)})
    kept: list[Path] = []
    for path in real:
        parent = next((k for k in kept if _inside(path, k)), None)
        if parent is None or os.stat(path).st_dev != os.stat(parent).st_dev:
            kept.append(path)
    return kept


def _bind(source: str | Path, target: Path, flags: int) -> None:
    """A bind mount; read-only and nosuid flags need a second, remounting call."""
    mount(str(source), target, None, MS_BIND)
    mount(None, target, None, MS_REMOUNT | MS_BIND | flags)


def _make_mountpoint(target: Path, is_dir: bool) -> None:
    if is_dir:
        target.mkdir(parents=True, exist_ok=True)
    else:
        target.parent.mkdir(parents=True, exist_ok=True)
        target.touch(exist_ok=True)


def build_root(new_root: Path, workdir: Path, readonly_paths: Iterable[str], limits: Limits) -> None:
    """Assemble the allow-list root at ``new_root`` (an empty directory) in a private mount namespace.

    Must run in the new PID namespace (for ``/proc``) and a new mount namespace, as root.
    """
    mount(None, "/", None, MS_REC | MS_PRIVATE)  # nothing below leaks back to the host
    mount("tmpfs", new_root, "tmpfs", MS_NOSUID | MS_NODEV, "mode=755,size=1m")
    # The private /tmp first: a venv or a working directory that lives under the host's /tmp is
    # bound on top of it below, not hidden by it.
    (new_root / "tmp").mkdir(exist_ok=True)
    mount("tmpfs", new_root / "tmp", "tmpfs", MS_NOSUID | MS_NODEV, f"mode=1777,size={limits.tmp_bytes}")
    readonly = MS_RDONLY | MS_NOSUID | MS_NODEV
    wanted = list(SYSTEM_DIRS) + list(readonly_paths)
    for link in (p for p in wanted if os.path.islink(p)):  # /bin -> usr/bin stays a link
        target = new_root / link.lstrip("/")
        target.parent.mkdir(parents=True, exist_ok=True)
        if not target.is_symlink() and not target.exists():
            os.symlink(os.readlink(link), target)
    for path in _minimal_cover(wanted):
        target = new_root / str(path).lstrip("/")
        _make_mountpoint(target, path.is_dir())
        _bind(path, target, readonly)
    for hidden in HIDDEN_FILES:
        if (new_root / hidden.lstrip("/")).is_file():
            _bind("/dev/null", new_root / hidden.lstrip("/"), readonly)
    _build_dev(new_root / "dev")
    (new_root / "proc").mkdir(exist_ok=True)
    mount("proc", new_root / "proc", "proc", MS_NOSUID | MS_NODEV | MS_NOEXEC)
    inner = new_root / str(workdir).lstrip("/")
    inner.mkdir(parents=True, exist_ok=True)
    _bind(workdir, inner, MS_NOSUID | MS_NODEV)
    mount(None, new_root, None, MS_REMOUNT | MS_RDONLY | MS_NOSUID | MS_NODEV)


def _build_dev(dev: Path) -> None:
    """A /dev with the harmless character devices, /dev/shm and the fd links; no disks, no ttys."""
    dev.mkdir()
    mount("tmpfs", dev, "tmpfs", MS_NOSUID, "mode=755,size=64k")
    for name in DEVICES:
        (dev / name).touch()
        _bind(f"/dev/{name}", dev / name, MS_NOSUID)
    (dev / "shm").mkdir()
    mount("tmpfs", dev / "shm", "tmpfs", MS_NOSUID | MS_NODEV, "mode=1777,size=64m")
    os.symlink("/proc/self/fd", dev / "fd")
    for number, name in enumerate(("stdin", "stdout", "stderr")):
        os.symlink(f"/proc/self/fd/{number}", dev / name)


def drop_privileges(uid: int) -> None:
    """Become ``uid`` (and gid ``uid``) with no supplementary groups, capabilities or way back."""
    os.setgroups([])
    os.setresgid(uid, uid, uid)
    os.setresuid(uid, uid, uid)
    prctl(PR_SET_NO_NEW_PRIVS, 1)  # setuid binaries can't give root back
    prctl(PR_SET_DUMPABLE, 1)  # keep /proc/self owned by us (setuid cleared it); cores are off anyway
    prctl(PR_SET_PDEATHSIG, signal.SIGKILL)  # a uid change clears it too


def apply_limits(limits: Limits, *, processes: bool) -> None:
    """Set the rlimits, soft = hard so the sandbox can't raise them back.

    At the CPU limit the child dies of SIGKILL, not SIGXCPU: as pid 1 of its namespace it ignores
    SIGXCPU like any signal it has no handler for. Its keeper reports its CPU time, which is how
    the trainer tells that death from an out-of-memory kill.
    """
    pairs = [
        (resource.RLIMIT_AS, limits.memory_bytes),
        (resource.RLIMIT_CPU, limits.cpu_seconds),
        (resource.RLIMIT_FSIZE, limits.file_size_bytes),
        (resource.RLIMIT_NOFILE, limits.open_files),
        (resource.RLIMIT_CORE, 0),
    ]
    if processes:
        pairs.append((resource.RLIMIT_NPROC, limits.processes))
    for which, value in pairs:
        resource.setrlimit(which, (value, value))
