"""The Docker sandbox against a real engine: isolation, limits, persistence, pool and reaper.

The engine is started by ``.ci/ensure-docker`` when we are root; the base image is built once
(about a minute) and then found by its tag. Without root and without an engine the Docker tests
skip, except under CI=true, where they fail.
"""

from __future__ import annotations

import gc
import os
import socket
import subprocess
import sys
import time
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path

import docker
import docker.errors
import psutil
import pytest

from turngym.sandboxes.base import SandboxError
from turngym.sandboxes.docker_engine import LABEL, OWNER_LABEL, find_engine
from turngym.sandboxes.docker_images import (
    BaseImageRecipe,
    build_project_image,
    debian_mirror,
    ensure_base_image,
)
from turngym.sandboxes.docker_sandbox import (
    ContainerSpec,
    DockerSandbox,
    WarmPool,
    owner_labels,
    reap_stale,
)

REPO = Path(__file__).resolve().parents[1]
IN_CI = os.environ.get("CI") == "true"
MEM_LIMIT = "256m"
PIDS_LIMIT = 128
# The figure is 1,000 resets; CI runs all of them (~6 min), a developer's run 60.
RESETS = int(os.environ.get("TURNGYM_DOCKER_RESETS", "1000" if IN_CI else "60"))


# --- fixtures -----------------------------------------------------------------------------


@pytest.fixture(scope="session")
def engine() -> docker.DockerClient:
    if os.geteuid() == 0:
        done = subprocess.run(
            [str(REPO / ".ci" / "ensure-docker")], capture_output=True, text=True, timeout=600
        )
        if done.returncode != 0:
            pytest.fail(f".ci/ensure-docker failed ({done.returncode}):\n{done.stderr}")
    client = find_engine()
    if client is None:
        reason = "no Docker engine answers and we are not root, so none can be started"
        if IN_CI:
            pytest.fail(f"CI=true: {reason}")
        pytest.skip(reason)
    return client


@pytest.fixture(scope="session")
def base_image(engine: docker.DockerClient) -> str:
    return ensure_base_image(engine)


@pytest.fixture(scope="session")
def pool(engine: docker.DockerClient, base_image: str) -> Iterator[WarmPool]:
    spec = ContainerSpec(image=base_image, mem_limit=MEM_LIMIT, pids_limit=PIDS_LIMIT)
    with WarmPool(spec, size=2, client=engine) as shared:
        yield shared


@pytest.fixture
def sandbox(pool: WarmPool) -> Iterator[DockerSandbox]:
    with DockerSandbox(pool=pool, timeout=30) as box:
        yield box


def wait_until(condition: Callable[[], bool], seconds: float = 20.0) -> bool:
    """Poll for a background effect (a removal); True as soon as it holds."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.1)
    return condition()


def container_gone(client: docker.DockerClient, container_id: str) -> bool:
    try:
        client.containers.get(container_id)
    except docker.errors.NotFound:
        return True
    return False


def my_containers(client: docker.DockerClient) -> set[str]:
    filters = {"label": [f"{LABEL}=1", f"{OWNER_LABEL}={os.getpid()}"]}
    return {c.id for c in client.containers.list(all=True, filters=filters, ignore_removed=True)}


# --- fast tests without an engine ---------------------------------------------------------


def test_base_image_tag_encodes_the_recipe() -> None:
    plain = BaseImageRecipe()
    assert plain.tag.startswith("turngym/base:bookworm-")
    assert BaseImageRecipe(packages=plain.packages + ("curl",)).tag != plain.tag
    assert BaseImageRecipe(packages=tuple(reversed(plain.packages))).tag == plain.tag


def test_debian_mirror_reads_deb822_and_one_line_sources(tmp_path: Path) -> None:
    (tmp_path / "a.sources").write_text(
        "Types: deb\nURIs: http://security.example/debian-security\n\n"
        "Types: deb\nURIs: http://mirror.example/debian/\nSuites: bookworm\n"
    )
    assert debian_mirror(tmp_path) == "http://mirror.example/debian"
    other = tmp_path / "other"
    other.mkdir()
    (other / "x.list").write_text("deb [arch=amd64] http://one.example/debian bookworm main\n")
    assert debian_mirror(other) == "http://one.example/debian"
    assert debian_mirror(tmp_path / "missing").startswith("http://deb.debian.org")


def test_project_files_must_stay_inside_the_context() -> None:
    with pytest.raises(ValueError, match="relative"):
        build_project_image(None, {"../evil": b"x"}, base="unused")  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="relative"):
        build_project_image(None, {"/etc/passwd": b"x"}, base="unused")  # type: ignore[arg-type]


# --- commands -----------------------------------------------------------------------------


@pytest.mark.docker
def test_stdout_stderr_and_exit_codes(sandbox: DockerSandbox) -> None:
    result = sandbox.run("echo out; echo err >&2; exit 3")
    assert (result.stdout, result.stderr, result.exit_code) == ("out\n", "err\n", 3)
    assert not result.ok and result.error is None and not result.timed_out
    assert sandbox.run("true").ok
    missing = sandbox.run("no-such-command")
    assert missing.exit_code == 127 and "not found" in missing.stderr
    assert sandbox.run("if then").exit_code == 2  # syntax error
    assert sandbox.run("printf 'a\\nb'").stdout == "a\nb"
    assert sandbox.run("python3 -c 'print(6 * 7)'").stdout == "42\n"


@pytest.mark.docker
def test_commands_continue_one_session(sandbox: DockerSandbox) -> None:
    assert sandbox.run("pwd").stdout == f"{sandbox.workdir}\n"
    sandbox.run("mkdir -p sub/dir && cd sub/dir && export GREETING=hello && echo x > f")
    assert sandbox.run("pwd; echo $GREETING; cat f").stdout == (
        f"{sandbox.workdir}/sub/dir\nhello\nx\n"
    )
    # Background jobs die with their command; a setsid daemon survives it.
    sandbox.run("sleep 300 & setsid sleep 301 >/dev/null 2>&1 < /dev/null &")
    procs = sandbox.run("for f in /proc/[0-9]*/cmdline; do tr '\\0' ' ' < $f; echo; done")
    assert "sleep 301" in procs.stdout and "sleep 300" not in procs.stdout


@pytest.mark.docker
def test_bad_input_is_refused_clearly(sandbox: DockerSandbox, pool: WarmPool) -> None:
    with pytest.raises(TypeError, match="str"):
        sandbox.run(["ls"])  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="positive"):
        sandbox.run("true", timeout=0)
    with pytest.raises(ValueError, match="differs"):
        DockerSandbox(image="some/other:image", pool=pool)
    with pytest.raises(SandboxError, match="not on the engine"):
        DockerSandbox(image="turngym/no-such-image:never")
    sandbox.close()
    with pytest.raises(SandboxError, match="closed"):
        sandbox.run("true")
    sandbox.close()  # twice is fine


# --- files --------------------------------------------------------------------------------


@pytest.mark.docker
def test_files_in_and_out(sandbox: DockerSandbox) -> None:
    blob = bytes(range(256)) * 4096  # 1 MiB of every byte value
    sandbox.put_file("data/blob.bin", blob)
    sandbox.put_file("notes.txt", "héllo\n")
    sandbox.put_file("/tmp/abs.txt", "absolute")
    assert sandbox.get_file("data/blob.bin") == blob
    assert sandbox.get_file(f"{sandbox.workdir}/notes.txt") == "héllo\n".encode()
    assert sandbox.run("sha256sum data/blob.bin | cut -c1-8; cat /tmp/abs.txt").stdout == (
        __import__("hashlib").sha256(blob).hexdigest()[:8] + "\nabsolute"
    )
    sandbox.run("echo made inside > inside.txt && ln -s inside.txt link")
    assert sandbox.get_file("link") == b"made inside\n"
    with pytest.raises(FileNotFoundError, match="does not exist"):
        sandbox.get_file("nope.txt")
    with pytest.raises(IsADirectoryError):
        sandbox.get_file("data")
    with pytest.raises(ValueError, match="empty"):
        sandbox.get_file("")


# --- isolation ----------------------------------------------------------------------------


@pytest.mark.docker
def test_no_network_not_even_to_the_host(sandbox: DockerSandbox) -> None:
    server = socket.create_server(("127.0.0.1", 0))
    server.settimeout(0.5)
    port = server.getsockname()[1]
    host_addresses = {"127.0.0.1"} | {
        address.address
        for addresses in psutil.net_if_addrs().values()
        for address in addresses
        if address.family == socket.AF_INET
    }
    probe = (
        "import socket, sys\n"
        "ok = []\n"
        f"for host in {sorted(host_addresses)!r}:\n"
        "    try:\n"
        f"        socket.create_connection((host, {port}), timeout=2).close(); ok.append(host)\n"
        "    except OSError as exc:\n"
        "        print(host, exc)\n"
        "sys.exit(1 if ok else 0)\n"
    )
    sandbox.put_file("probe.py", probe)
    result = sandbox.run("python3 probe.py")
    assert result.exit_code == 0, result.render()
    with pytest.raises(TimeoutError):
        server.accept()  # nothing reached the host's loopback server
    server.close()
    assert sandbox.run("ls /sys/class/net").stdout.split() == ["lo"]


@pytest.mark.docker
def test_writes_never_reach_the_host(sandbox: DockerSandbox, engine: docker.DockerClient,
                                     tmp_path: Path) -> None:
    marker = tmp_path / f"escape-{uuid.uuid4().hex}"
    result = sandbox.run(f"mkdir -p {tmp_path} && echo pwned > {marker} && cat {marker}")
    assert result.stdout == "pwned\n"  # it exists, but only in the container's filesystem
    assert not marker.exists()
    container = engine.containers.get(sandbox.container_id)
    assert container.attrs["Mounts"] == []
    assert container.attrs["HostConfig"]["NetworkMode"] == "none"


# --- limits -------------------------------------------------------------------------------


@pytest.mark.docker
def test_fork_bomb_meets_the_pids_limit_and_the_sandbox_recovers(sandbox: DockerSandbox) -> None:
    # The busy loop (a builtin: it needs no fork) keeps the bomb alive until the timeout.
    result = sandbox.run(":(){ :|:& };:; while :; do :; done", timeout=3)
    assert result.timed_out
    assert "Resource temporarily unavailable" in result.stderr
    after = sandbox.run("echo alive; cat /sys/fs/cgroup/pids/pids.max /sys/fs/cgroup/pids.max "
                        "2>/dev/null; ls -d /proc/[0-9]* | wc -l")
    alive, limit, processes = after.stdout.split()
    assert (alive, limit) == ("alive", str(PIDS_LIMIT))
    assert int(processes) < 10  # the server, this command's bash and ls: the bomb is gone


@pytest.mark.docker
def test_detached_processes_filling_the_pids_limit_are_reclaimed(sandbox: DockerSandbox) -> None:
    # setsid escapes the command's process group, so only the pids check can free the limit.
    filler = "setsid bash -c 'for i in $(seq 400); do sleep 600 & done; wait' >/dev/null 2>&1 &"
    sandbox.run(f"{filler} sleep 2")
    result = sandbox.run("echo alive; ls -d /proc/[0-9]* | wc -l")
    assert result.extra["reclaimed"]
    alive, processes = result.stdout.split()
    assert alive == "alive" and int(processes) < 10


@pytest.mark.docker
def test_memory_bomb_is_killed_with_a_clear_message(sandbox: DockerSandbox) -> None:
    bomb = "python3 -c 'a = []\nwhile True: a.append(bytearray(10**7))'"
    result = sandbox.run(bomb)
    assert result.exit_code == 137 and result.extra["oom_killed"]
    assert "out-of-memory" in result.error and MEM_LIMIT in result.error
    assert sandbox.run("echo alive").stdout == "alive\n"


@pytest.mark.docker
def test_infinite_loop_times_out_and_the_shell_survives(sandbox: DockerSandbox) -> None:
    result = sandbox.run("echo started; while true; do :; done", timeout=1)
    assert result.timed_out and result.stdout == "started\n"
    assert "timed out after 1s" in result.error
    assert sandbox.run("echo alive").stdout == "alive\n"


@pytest.mark.docker
def test_huge_output_is_truncated(sandbox: DockerSandbox) -> None:
    result = sandbox.run("head -c 100000000 /dev/zero | tr '\\0' a; echo tail >&2")
    assert result.truncated and result.exit_code == 0
    assert result.stdout == "a" * sandbox.output_limit
    assert result.extra["stdout_bytes"] == 100_000_000
    assert result.stderr == "tail\n"


# --- reset, pool, cleanup -----------------------------------------------------------------


@pytest.mark.docker
def test_reset_gives_a_clean_container(sandbox: DockerSandbox, engine: docker.DockerClient) -> None:
    sandbox.run("echo dirty > left.txt; cd /tmp; export LEFT=1; setsid sleep 600 >/dev/null 2>&1 &")
    old = sandbox.container_id
    sandbox.reset()
    assert sandbox.container_id != old
    assert sandbox.run("ls -A; pwd; echo ${LEFT:-unset}").stdout == f"{sandbox.workdir}\nunset\n"
    assert wait_until(lambda: container_gone(engine, old))


@pytest.mark.docker
def test_close_and_garbage_collection_leave_no_container(
    engine: docker.DockerClient, base_image: str
) -> None:
    closed = DockerSandbox(base_image, warm=1)
    closed_id = closed.container_id
    closed.close()
    assert container_gone(engine, closed_id)
    dropped = DockerSandbox(base_image, warm=1)
    dropped_id = dropped.container_id
    del dropped
    gc.collect()
    assert wait_until(lambda: container_gone(engine, dropped_id))


@pytest.mark.docker
@pytest.mark.slow
@pytest.mark.timeout(900)
def test_resets_leave_no_growth(base_image: str) -> None:
    me = psutil.Process()
    used: set[str] = set()  # every container the sandbox ran in

    def host_processes_of_used() -> list[int]:
        """Host processes (containerd shims) still serving one of those containers."""
        return [
            p.pid for p in psutil.process_iter(["cmdline"])
            if used.intersection(p.info["cmdline"] or ())
        ]

    # Its own engine client, used for everything here and closed at the end, so its pooled
    # connections (fds that come and go up to the pool size) cannot pass for a leak.
    client = docker.from_env(max_pool_size=2)
    before = (len(my_containers(client)), me.num_fds(), me.num_threads())
    warm = 4
    with DockerSandbox(base_image, warm=warm, client=client) as box:
        for _ in range(10):  # the client's connection pool fills up to its size
            box.reset()
        settled = lambda: len(my_containers(client)) <= before[0] + warm + 1  # noqa: E731
        assert wait_until(settled)
        fds_open = me.num_fds()
        for i in range(RESETS):
            used.add(box.container_id)
            box.reset()
            assert box.run(f"echo {i}").stdout == f"{i}\n"
        assert wait_until(settled)
        # A leak would grow with the resets; the slack is what varies with timing: attach
        # sockets of containers starting or being removed, and pooled engine connections.
        assert me.num_fds() <= fds_open + 6
        used.add(box.container_id)
    assert wait_until(lambda: len(my_containers(client)) == before[0])
    assert wait_until(lambda: not host_processes_of_used())
    assert wait_until(lambda: me.num_threads() <= before[2])
    client.close()
    assert me.num_fds() <= before[1]  # every attach socket and engine connection is closed


@pytest.mark.docker
def test_reaper_removes_containers_of_dead_owners(
    engine: docker.DockerClient, base_image: str
) -> None:
    dead = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"],
                          capture_output=True, text=True, check=True)
    dead_pid = int(dead.stdout)
    assert not psutil.pid_exists(dead_pid)
    labels = owner_labels()
    stale = engine.containers.create(
        base_image, ["sleep", "infinity"], network_mode="none",
        labels={**labels, OWNER_LABEL: str(dead_pid)},
    )
    mine = engine.containers.create(base_image, ["sleep", "infinity"], network_mode="none",
                                    labels=labels)
    try:
        stale.start()
        removed = reap_stale(engine)
        assert stale.id in removed and mine.id not in removed
        assert container_gone(engine, stale.id) and not container_gone(engine, mine.id)
    finally:
        for container in (stale, mine):
            if not container_gone(engine, container.id):
                container.remove(force=True)


@pytest.mark.docker
def test_a_killed_owner_leaves_no_container(engine: docker.DockerClient, base_image: str) -> None:
    # A started container's stdin is its owner's attach socket: when the owner dies, the
    # shell server reads EOF, exits, and the engine removes the container by itself.
    owner = subprocess.Popen(
        [sys.executable, "-c",
         "import sys\nfrom turngym.sandboxes.docker_sandbox import DockerSandbox\n"
         f"box = DockerSandbox({base_image!r}, warm=1)\n"
         "print(box.container_id, flush=True)\nsys.stdin.read()\n"],
        stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True,
    )
    try:
        container_id = owner.stdout.readline().strip()
        assert container_id and not container_gone(engine, container_id)
    finally:
        owner.kill()
        owner.wait()
    assert wait_until(lambda: container_gone(engine, container_id))  # no reaper needed
    # A container that was only created (a pool refill under way at the kill) never had a
    # stdin to close: that is what the reaper is for.
    reap_stale(engine)
    assert not my_children_containers(engine, owner.pid)


def my_children_containers(client: docker.DockerClient, pid: int) -> list[str]:
    filters = {"label": [f"{LABEL}=1", f"{OWNER_LABEL}={pid}"]}
    return [c.id for c in client.containers.list(all=True, filters=filters, ignore_removed=True)]


# --- images -------------------------------------------------------------------------------


@pytest.mark.docker
def test_project_image_builds_offline_on_the_base(
    engine: docker.DockerClient, base_image: str
) -> None:
    token = uuid.uuid4().hex  # fresh content: a real build, never the cache
    tag = build_project_image(
        engine,
        {"app/hello.py": f"print('hello {token}')\n", "app/data/blob.bin": bytes(range(256))},
        base=base_image,
        dockerfile_lines=["RUN python3 -m py_compile app/hello.py"],
    )
    try:
        image = engine.images.get(tag)
        assert image.labels.get(LABEL) == "1"
        with DockerSandbox(tag, warm=0) as box:
            assert box.run("python3 app/hello.py").stdout == f"hello {token}\n"
            assert box.get_file("app/data/blob.bin") == bytes(range(256))
        assert build_project_image(  # same content: the cached tag, no rebuild
            engine,
            {"app/hello.py": f"print('hello {token}')\n", "app/data/blob.bin": bytes(range(256))},
            base=base_image,
            dockerfile_lines=["RUN python3 -m py_compile app/hello.py"],
        ) == tag
    finally:
        engine.images.remove(tag, force=True)
