"""The local fork-server sandbox: notebook semantics, isolation, limits, recovery, cleanup.

Real processes throughout: a real server process with pandas/duckdb preloaded, real namespaces,
real fork bombs. The isolation tests need root (CI runs as root); elsewhere they skip, but never
under CI=true.
"""

from __future__ import annotations

import gc
import json
import multiprocessing
import os
import signal
import socket
import subprocess
import sys
import tempfile
import textwrap
import threading
import time
import tracemalloc
from pathlib import Path

import psutil
import pytest

from turngym.sandboxes import _framing as framing
from turngym.sandboxes._cell import run_cell
from turngym.sandboxes.base import SandboxError
from turngym.sandboxes.forkserver import (
    DIR_PREFIX,
    ForkServer,
    ForkServerSandbox,
    SetupError,
    reap_stale_dirs,
    shared_server,
)
from turngym.sandboxes.isolation import Limits, can_isolate
from turngym.sandboxes.reward_code import RewardCodeError, run_reward_code

from conftest import in_ci

needs_root = pytest.mark.skipif(not can_isolate() and not in_ci(), reason="isolation needs root with CAP_SYS_ADMIN (CI runs as root)")
REPO = Path(__file__).resolve().parent.parent


@pytest.fixture
def sandbox():
    with ForkServerSandbox(timeout=20) as sb:
        yield sb


def sandbox_processes(sb: ForkServerSandbox) -> list[psutil.Process]:
    """Every live process of this sandbox: its own uid when isolated, else the keeper's tree."""
    keeper = psutil.Process(sb._slot.child.keeper_pid)
    return [keeper, *keeper.children(recursive=True)]


def uid_processes(uid: int) -> list[psutil.Process]:
    found = []
    for proc in psutil.process_iter(["uids", "status"]):
        try:
            if proc.info["uids"] and proc.info["uids"].real == uid and proc.info["status"] != psutil.STATUS_ZOMBIE:
                found.append(proc)
        except psutil.Error:
            pass
    return found


def wait_until(predicate, timeout: float = 10.0) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(0.05)
    return predicate()


# ---------------------------------------------------------------- cells (no processes)


def test_cell_value_is_the_final_expression_only():
    ns: dict = {}
    assert run_cell("x = 41", ns, "<cell-1>", 1000).value is None
    assert run_cell("x + 1", ns, "<cell-2>", 1000).value == "42"
    assert run_cell("x += 1\nx", ns, "<cell-3>", 1000).value == "42"
    assert run_cell("print('hi')", ns, "<cell-4>", 1000).value is None  # None is not shown
    assert run_cell("'a' * 50", ns, "<cell-5>", 10).truncated


def test_cell_traceback_keeps_user_frames_through_chains():
    ns: dict = {}
    run_cell("def f():\n    return {}['missing']", ns, "<cell-1>", 1000)
    outcome = run_cell("try:\n    f()\nexcept KeyError as e:\n    raise ValueError('wrapped') from e", ns, "<cell-2>", 1000)
    assert "ValueError: wrapped" in outcome.error and "KeyError: 'missing'" in outcome.error
    assert '"<cell-1>", line 2, in f' in outcome.error
    assert "_cell.py" not in outcome.error and "site-packages" not in outcome.error


def test_cell_syntax_error_is_reported_not_raised():
    outcome = run_cell("def (:", {}, "<cell-1>", 1000)
    assert outcome.error.startswith("  File") or "SyntaxError" in outcome.error
    assert "SyntaxError" in outcome.error


def test_framing_rejects_garbage():
    a, b = socket.socketpair()
    with a, b:
        a.sendall(b"\x00\x00\x00\x05hello")
        with pytest.raises(framing.ProtocolError):
            framing.recv(b)
        a.sendall(b"\xff\xff\xff\xff")
        with pytest.raises(framing.ProtocolError):
            framing.recv(b)


# ---------------------------------------------------------------- notebook semantics


def test_variables_persist_and_last_expression_is_the_value(sandbox):
    assert sandbox.run("x = 1").ok
    result = sandbox.run("x + 1")
    assert result.value == "2" and result.stdout == "" and result.ok
    result = sandbox.run("print('out'); import sys; print('err', file=sys.stderr); x * 10")
    assert (result.stdout, result.stderr, result.value) == ("out\n", "err\n", "10")


def test_traceback_is_trimmed_to_user_frames(sandbox):
    sandbox.run("import pandas as pd\ndf = pd.DataFrame({'a': [1]})\ndef pick(col):\n    return df[col]")
    result = sandbox.run("pick('b')")
    assert not result.ok and result.exit_code == 1 and not result.state_lost
    assert "KeyError: 'b'" in result.error
    assert '"<cell-2>", line 1' in result.error and "in pick" in result.error
    for internal in ("pandas/core", "_forkserver_process", "_cell.py", "site-packages"):
        assert internal not in result.error
    syntax = sandbox.run("x = (")
    assert "SyntaxError" in syntax.error


def test_pandas_and_duckdb_are_usable(sandbox):
    assert sandbox.run("import duckdb; duckdb.sql('select 42').fetchall()").value == "[(42,)]"
    result = sandbox.run(
        "import pandas as pd, duckdb\n"
        "con = duckdb.connect()\n"
        "con.register('t', pd.DataFrame({'a': [1, 2, 3]}))\n"
        "con.sql('select sum(a) from t').fetchall()[0][0]"
    )
    assert result.value == "6", result.error


def test_output_of_c_code_and_subprocesses_is_captured(sandbox):
    result = sandbox.run("import os, subprocess\nos.write(1, b'raw\\n')\nsubprocess.run(['echo', 'child'])\nNone")
    assert result.stdout == "raw\nchild\n", result


def test_sys_exit_is_an_error_not_a_death(sandbox):
    sandbox.run("kept = 1")
    result = sandbox.run("import sys; sys.exit(3)")
    assert "SystemExit: 3" in result.error and not result.state_lost
    assert sandbox.run("kept").value == "1"


def test_forking_cell_gets_one_reply(sandbox):
    result = sandbox.run("import os\npid = os.fork()\nif pid == 0:\n    print('in child')\nelse:\n    os.waitpid(pid, 0)\npid > 0")
    assert result.value == "True"
    assert sandbox.run("1 + 1").value == "2"  # no stray reply from the forked copy


# ---------------------------------------------------------------- output caps


def test_100mb_of_output_is_truncated_without_buffering_it(sandbox):
    tracemalloc.start()
    try:
        result = sandbox.run("import sys\nfor _ in range(100):\n    sys.stdout.write('x' * (1 << 20))\n'done'")
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert result.truncated and result.value == "'done'"
    assert len(result.stdout) == sandbox.output_limit
    assert peak < 16 << 20, f"the trainer held {peak >> 20} MiB for 100 MiB of output"
    assert sandbox.run("2 + 2").value == "4"


def test_stderr_and_value_are_capped_too():
    with ForkServerSandbox(output_limit=1000) as sb:
        result = sb.run("import sys; sys.stderr.write('e' * 5000); 'v' * 5000")
        assert result.truncated and len(result.stderr) == 1000 and len(result.value) == 1000


# ---------------------------------------------------------------- failures and recovery


def test_infinite_loop_times_out_and_next_run_works(sandbox):
    sandbox.run("kept = 1")
    result = sandbox.run("while True:\n    pass", timeout=1.0)
    assert result.timed_out and result.state_lost and not result.ok
    assert "timed out after 1s" in result.error
    assert sandbox.run("'kept' in globals()").value == "False"
    assert sandbox.run("1 + 1").value == "2"


def test_output_before_a_timeout_is_kept(sandbox):
    result = sandbox.run("import time\nprint('started', flush=True)\ntime.sleep(60)", timeout=1.0)
    assert result.timed_out and result.stdout == "started\n"


@needs_root
def test_timeout_kills_every_descendant_even_new_sessions(sandbox):
    uid = int(sandbox.run("import os; os.getuid()").value)
    code = "import subprocess, time\nsubprocess.Popen(['sleep', '1000'], start_new_session=True)\nsubprocess.Popen(['sleep', '1000'])\ntime.sleep(100)"
    result = sandbox.run(code, timeout=1.0)
    assert result.timed_out
    assert uid_processes(uid) == []


def test_segfault_is_reported_and_the_sandbox_restarts(sandbox):
    sandbox.run("kept = 1")
    result = sandbox.run("import ctypes; ctypes.string_at(0)")
    assert result.state_lost and "crashed (SIGSEGV)" in result.error and result.exit_code == -signal.SIGSEGV
    assert sandbox.run("'kept' in globals()").value == "False"
    assert sandbox.run("3 * 3").value == "9"


def test_os_exit_is_reported_and_the_sandbox_restarts(sandbox):
    result = sandbox.run("import os; print('bye', flush=True); os._exit(3)")
    assert result.state_lost and "exited with status 3" in result.error and result.stdout == "bye\n"
    assert sandbox.run("1").value == "1"


def _gone(pid: int) -> bool:
    try:
        return psutil.Process(pid).status() == psutil.STATUS_ZOMBIE
    except psutil.NoSuchProcess:
        return True


@pytest.mark.parametrize("victim", ["child", "keeper"])
def test_a_process_killed_between_calls_is_replaced_transparently(sandbox, victim):
    sandbox.run("kept = 1")
    child = sandbox.pid
    psutil.Process(child if victim == "child" else sandbox._slot.child.keeper_pid).kill()
    assert wait_until(lambda: _gone(child), 5)  # a dead keeper takes its child along
    result = sandbox.run("'kept' in globals()")
    assert result.ok and result.value == "False" and result.state_lost
    assert "SIGKILL" in result.extra["restarted_before"] or victim == "keeper"


def test_a_child_forging_garbage_on_its_socket_only_restarts_itself(sandbox):
    forged = sandbox.run(
        "import gc, socket\n"
        "ctl = next(o for o in gc.get_objects() if isinstance(o, socket.socket))\n"
        "ctl.sendall(b'\\x00\\x00\\x00\\x03abc')\n"
        "import time; time.sleep(5)"
    )
    assert "malformed reply" in forged.error and forged.state_lost
    assert sandbox.run("1 + 1").value == "2"


def test_memory_bomb_gets_a_clear_error_and_the_sandbox_survives():
    with ForkServerSandbox(limits=Limits(memory_bytes=1 << 30)) as sb:
        result = sb.run("blocks = []\nwhile True:\n    blocks.append(bytearray(64 << 20))")
        assert "MemoryError" in result.error and "memory limit is 1 GiB" in result.error
        result = sb.run("import numpy as np; np.ones(1 << 31)")
        assert "memory limit" in result.error
        assert sb.run("del blocks; 5").value == "5"


def test_cpu_time_limit_kills_with_a_clear_message():
    with ForkServerSandbox(limits=Limits(cpu_seconds=1), timeout=20) as sb:
        result = sb.run("while True:\n    pass")
        assert not result.timed_out and "CPU time limit (1s)" in result.error and result.state_lost
        assert sb.run("2").value == "2"


def test_file_size_and_open_file_limits():
    with ForkServerSandbox(limits=Limits(file_size_bytes=1 << 20, open_files=64)) as sb:
        result = sb.run("open('big', 'wb').write(b'x' * (2 << 20))")
        assert "File too large" in result.error
        result = sb.run("files = [open('f', 'w') for _ in range(100)]")
        assert "Too many open files" in result.error
        assert sb.run("1").ok


# ---------------------------------------------------------------- isolation


@needs_root
def test_network_is_unreachable(sandbox):
    server = socket.create_server(("127.0.0.1", 0))
    server.settimeout(0.5)
    port = server.getsockname()[1]
    with server:
        result = sandbox.run(f"import socket\nsocket.create_connection(('127.0.0.1', {port}), timeout=2)")
        assert "Network is unreachable" in result.error, result  # its loopback is its own, and down
        with pytest.raises(TimeoutError):
            server.accept()  # nothing arrived
    assert "Network is unreachable" in sandbox.run("import socket; socket.create_connection(('1.1.1.1', 53), timeout=2)").error


@needs_root
def test_secrets_outside_the_workdir_are_not_readable(sandbox, tmp_path):
    secrets = [tmp_path / "secret.txt"]
    with tempfile.TemporaryDirectory(dir=REPO, prefix=".sandbox-test-") as repo_tmp:
        secrets.append(Path(repo_tmp) / "secret.txt")
        for path in secrets:
            path.write_text("hunter2")
            path.chmod(0o644)  # readable by anyone on the host: only the mount view hides it
            result = sandbox.run(f"open({str(path)!r}).read()")
            assert result.value is None and "FileNotFoundError" in result.error, result
        assert "PermissionError" in sandbox.run("open('/etc/shadow').read()").error  # a nodev /dev/null over it
        assert "FileNotFoundError" in sandbox.run("open('/root/.bashrc').read()").error
        assert sandbox.run("import os; os.path.exists('/work/main/pyproject.toml')").value == "False"


@needs_root
def test_trainer_environment_secrets_do_not_reach_the_child(monkeypatch):
    monkeypatch.setenv("TURNGYM_TEST_API_KEY", "sk-secret")
    with ForkServer() as server, ForkServerSandbox(server=server) as sb:
        assert sb.run("import os; 'TURNGYM_TEST_API_KEY' in os.environ").value == "False"


@needs_root
def test_writing_outside_the_workdir_fails(sandbox):
    for path in ("/usr/evil", "/etc/evil", "/evil", f"{sys.prefix}/evil", "/proc/evil"):
        result = sandbox.run(f"open({path!r}, 'w').write('x')")
        assert result.error is not None, path
        assert not os.path.exists(path)
    assert sandbox.run("open('inside.txt', 'w').write('ok')").value == "2"
    assert sandbox.run("open('/tmp/scratch', 'w').write('ok')").value == "2"
    assert (sandbox.workdir / "inside.txt").read_text() == "ok"


@needs_root
def test_child_runs_unprivileged_in_its_own_pid_namespace(sandbox):
    info = json.loads(sandbox.run("import os, json; json.dumps([os.getuid(), os.getpid(), len(os.listdir('/proc'))])").value.strip("'"))
    uid, pid, _ = info
    assert uid != 0 and pid == 1
    assert sandbox.run("import os; os.setuid(0)").error is not None


@needs_root
def test_fork_bomb_is_contained():
    limits = Limits(processes=16)
    with ForkServerSandbox(limits=limits) as sb:
        uid = int(sb.run("import os; os.getuid()").value)
        counted = sb.run(textwrap.dedent("""
            import os, time
            started = 0
            try:
                while True:
                    if os.fork() == 0:
                        time.sleep(1000)
                        os._exit(0)
                    started += 1
            except OSError as exc:
                error = type(exc).__name__
            started, error
        """))
        started, error = eval(counted.value)
        assert started < limits.processes and error == "BlockingIOError"
        bomb = sb.run("import os\nwhile True:\n    try:\n        os.fork()\n    except OSError:\n        pass", timeout=2.0)
        assert bomb.timed_out
        assert wait_until(lambda: uid_processes(uid) == [], 5)
        assert sb.run("'alive'").value == "'alive'"


# ---------------------------------------------------------------- files


def test_put_and_get_files(sandbox):
    sandbox.put_file("data/table.csv", "a,b\n1,2\n")
    assert sandbox.run("import pandas as pd; int(pd.read_csv('data/table.csv').b.sum())").value == "2"
    sandbox.run("open('out.bin', 'wb').write(bytes(range(256)))")
    assert sandbox.get_file("out.bin") == bytes(range(256))
    assert sandbox.get_file(sandbox.workdir / "data" / "table.csv") == b"a,b\n1,2\n"
    with pytest.raises(FileNotFoundError):
        sandbox.get_file("missing.txt")


def test_paths_escaping_the_workdir_are_rejected(sandbox):
    for bad in ("../x", "a/../../x", "/etc/passwd", "", "."):
        with pytest.raises(ValueError, match="working directory"):
            sandbox.put_file(bad, b"x")
        with pytest.raises(ValueError, match="working directory"):
            sandbox.get_file(bad)
    sandbox.run("import os; os.symlink('/etc/hostname', 'link')")
    with pytest.raises(PermissionError, match="outside the working directory"):
        sandbox.get_file("link")


# ---------------------------------------------------------------- reset, setup, lifecycle


def test_reset_gives_a_clean_child_and_an_empty_workdir(sandbox):
    sandbox.run("x = 1")
    sandbox.put_file("f.txt", "x")
    old_pid = sandbox.pid
    sandbox.reset()
    assert sandbox.pid != old_pid and wait_until(lambda: _gone(old_pid), 5)
    assert sandbox.run("'x' in globals()").value == "False"
    assert list(sandbox.workdir.iterdir()) == []


def test_setup_runs_in_every_fresh_child_and_run_setup_until_reset():
    with ForkServerSandbox(setup="import duckdb\ncon = duckdb.connect()") as sb:
        sb.put_file("t.csv", "a\n1\n2\n")
        sb.run_setup("con.sql(\"create view t as select * from read_csv_auto('t.csv')\")")
        assert sb.run("con.sql('select sum(a) from t').fetchall()[0][0]").value == "3"
        crashed = sb.run("import os; os._exit(1)")
        assert crashed.state_lost
        assert sb.run("con.sql('select sum(a) from t').fetchall()[0][0]").value == "3"  # replayed
        sb.reset()
        assert sb.run("'con' in globals()").value == "True"  # setup= ran again
        assert "Catalog Error" in sb.run("con.sql('select * from t')").error  # run_setup forgotten


def test_failing_setup_is_a_clear_error():
    with pytest.raises(SetupError, match="ZeroDivisionError"):
        ForkServerSandbox(setup="1 / 0")
    with ForkServerSandbox() as sb, pytest.raises(SetupError, match="NameError"):
        sb.run_setup("undefined_name")


def test_close_and_garbage_collection_leave_nothing():
    fds_before = psutil.Process().num_fds()
    sb = ForkServerSandbox()
    procs, workdir = sandbox_processes(sb), sb.workdir
    sb.close()
    sb.close()  # idempotent
    assert not workdir.exists() and all(not p.is_running() or p.status() == psutil.STATUS_ZOMBIE for p in procs)
    with pytest.raises(SandboxError, match="closed"):
        sb.run("1")
    sb = ForkServerSandbox()
    procs, workdir = sandbox_processes(sb), sb.workdir
    del sb
    gc.collect()
    assert not workdir.exists() and all(not p.is_running() for p in procs)
    assert psutil.Process().num_fds() == fds_before


@pytest.mark.slow
def test_a_thousand_resets_leave_no_growth():
    server = shared_server()
    me, server_proc = psutil.Process(), psutil.Process(server.pid)

    def settled_counts() -> tuple[int, ...]:
        # Resets stop children without waiting; the server reaps them on its next sweep.
        assert wait_until(lambda: server.request({"op": "ping"})["stopping"] == 0, 10)
        return (me.num_fds(), len(server_proc.children(recursive=True)), server_proc.num_fds(), len(list(server.base_dir.iterdir())))

    with ForkServerSandbox() as sb:
        sb.reset()
        before = settled_counts()
        for i in range(1000):
            sb.reset()
            if i % 100 == 0:
                sb.run("open('f', 'w').write('x'); import os; os.fork() or os._exit(0)")
        sb.reset()
        after = settled_counts()
    assert after == before, f"(trainer fds, server descendants, server fds, dirs): {before} -> {after}"


def test_sandboxes_in_threads_run_in_parallel_safely():
    results: dict[int, list[str]] = {}

    def episode(n: int) -> None:
        with ForkServerSandbox() as sb:
            sb.run(f"n = {n}")
            results[n] = [sb.run(f"n * {k}").value for k in range(20)]

    threads = [threading.Thread(target=episode, args=(n,)) for n in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert results == {n: [str(n * k) for k in range(20)] for n in range(8)}


def _in_forked_worker(queue) -> None:
    with ForkServerSandbox() as sb:
        queue.put((sb.run("6 * 7").value, shared_server().pid))


def test_a_forked_process_starts_its_own_server():
    parent_server = shared_server().pid
    ctx = multiprocessing.get_context("fork")
    queue = ctx.Queue()
    worker = ctx.Process(target=_in_forked_worker, args=(queue,))
    worker.start()
    value, child_server = queue.get(timeout=60)
    worker.join(30)
    assert value == "42" and child_server != parent_server and worker.exitcode == 0
    assert shared_server().pid == parent_server


def test_a_sandbox_used_across_fork_is_refused(sandbox):
    pid = os.fork()
    if pid == 0:
        try:
            sandbox.run("1")
        except SandboxError as exc:
            os._exit(0 if "after fork" in str(exc) else 2)
        os._exit(1)
    _, status = os.waitpid(pid, 0)
    assert os.waitstatus_to_exitcode(status) == 0
    assert sandbox.run("1").value == "1"


def test_stale_directories_of_dead_owners_are_reaped(tmp_path):
    dead = subprocess.Popen(["true"])
    dead.wait()
    stale = tmp_path / f"{DIR_PREFIX}{dead.pid}-12345-abcd"
    (stale / "sbx-1").mkdir(parents=True)
    mine = tmp_path / f"{DIR_PREFIX}{os.getpid()}-{int(psutil.Process().create_time())}-live"
    mine.mkdir()
    assert reap_stale_dirs(tmp_path) == [stale]
    assert not stale.exists() and mine.exists()


def test_a_killed_trainer_leaves_nothing_behind(tmp_path):
    script = textwrap.dedent(f"""
        import os, sys
        from turngym.sandboxes.forkserver import ForkServer, ForkServerSandbox
        server = ForkServer(root_dir={str(tmp_path)!r})
        sb = ForkServerSandbox(server=server)
        print(server.pid, sb._slot.child.keeper_pid, sb.pid, flush=True)
        os.kill(os.getpid(), 9)
    """)
    proc = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=120)
    assert proc.returncode == -9, proc.stderr
    pids = [int(p) for p in proc.stdout.split()]
    assert wait_until(lambda: not any(psutil.pid_exists(p) for p in pids), 15), pids
    assert wait_until(lambda: not any(tmp_path.glob(f"{DIR_PREFIX}*")), 5)


def test_unisolated_mode_runs_with_limits_only():
    with ForkServerSandbox(isolate=False) as sb:
        assert sb.isolated is False
        assert sb.run("x = 2").ok and sb.run("x * 21").value == "42"
        assert sb.run("while True: pass", timeout=0.5).timed_out
        assert sb.run("import os; os.getcwd()").value == repr(str(sb.workdir))


def test_bad_arguments_are_clear_errors(sandbox):
    with pytest.raises(TypeError):
        sandbox.run(b"1")  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="exceeds"):
        sandbox.run("#" * (65 << 20))
    assert sandbox.run("1").value == "1"
    with pytest.raises(ValueError, match="timeout"):
        sandbox.run("1", timeout=0)
    with pytest.raises(ValueError, match="positive"):
        Limits(memory_bytes=0)
    with pytest.raises(SandboxError, match="could not preload"):
        ForkServer(preload=("no_such_module_xyz",))


# ---------------------------------------------------------------- reward code


def test_reward_code_returns_the_float():
    source = "def reward(ctx):\n    return ctx['hits'] / len(ctx['shots'])"
    assert run_reward_code(source, {"hits": 1, "shots": [1, 2, 3, 4]}, timeout=10) == 0.25
    assert run_reward_code("import numpy as np\ndef reward(ctx):\n    return np.float32(0.5)", {}) == 0.5


@pytest.mark.parametrize(
    ("source", "message"),
    [
        ("def reward(ctx):\n    return 1 / 0", "ZeroDivisionError"),
        ("def reward(ctx):\n    return 'high'", "returned str"),
        ("def reward(ctx):\n    return True", "returned bool"),
        ("def reward(ctx):\n    return float('nan')", "not a finite number"),
        ("def score(ctx):\n    return 1.0", "must define a function reward"),
        ("def reward(ctx) return 1", "failed to load"),
        ("def reward(ctx):\n    while True:\n        pass", "timed out"),
    ],
)
def test_reward_code_errors_are_reward_code_errors(source, message):
    with pytest.raises(RewardCodeError, match=message):
        run_reward_code(source, {"x": 1}, timeout=1.0)


def test_reward_code_runs_in_a_fresh_child_each_time():
    source = "counter = globals().get('counter', 0) + 1\ndef reward(ctx):\n    return counter"
    assert [run_reward_code(source, {}) for _ in range(2)] == [1.0, 1.0]


def test_reward_context_must_be_json():
    with pytest.raises(TypeError, match="JSON"):
        run_reward_code("def reward(ctx):\n    return 1", {"obj": object()})


def test_modules_not_preloaded_still_import_in_the_child():
    """Lazy imports read the venv from inside the child's root (also when the venv lives under /tmp)."""
    with ForkServerSandbox() as sandbox:
        result = sandbox.run("import jsonschema, email.mime.text, pandas.io.formats.string; jsonschema.__name__")
        assert result.ok, result.render()
        assert result.value == "'jsonschema'"
