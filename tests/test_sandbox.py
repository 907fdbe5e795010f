"""The sandbox every student kernel runs in (asl_course.grading.plugins.sandbox, bubblewrap).

Each test runs a small Python program in a sandbox, as a hostile submission would, and checks
from outside what it could reach. Seconds in all. The whole simulated class
(tests/test_grading.py) then runs every catalogued submission's kernel in such a sandbox.
"""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import nbformat
import pytest

from asl_course.grading.plugins import autograder, sandbox
from asl_course.grading.plugins import limits

needs_bwrap = pytest.mark.skipif(not sandbox.available(), reason=f"no sandbox here: {sandbox.problem()}")


def test_bubblewrap_is_available():
    """CI installs bubblewrap (.ci/run): without it the autograder refuses to grade."""
    assert sandbox.available(), sandbox.problem()


def run_py(code: str, **kw) -> dict:
    """Run ``code`` in a sandbox; it prints one JSON object (what it could do)."""
    result = sandbox.run([sys.executable, "-I", "-c", textwrap.dedent(code)], text=True, timeout=120, **kw)
    assert result.returncode == 0, result.stderr[-3000:]
    return json.loads(result.stdout.strip().splitlines()[-1])


TRY = '''
import json, os, sys
def tryit(f):
    try:
        f()
        return "ok"
    except OSError as exc:
        return type(exc).__name__
'''


@pytest.fixture
def course(tmp_path):
    """A course folder as the grader has it: config, gradebook, another student's submission."""
    root = tmp_path / "course"
    (root / "submitted" / "bob" / "01").mkdir(parents=True)
    (root / "nbgrader_config.py").write_text("c = get_config()\n")
    (root / "gradebook.db").write_bytes(b"SQLite format 3\x00 scores")
    (root / "submitted" / "bob" / "01" / "01.ipynb").write_text("{}")
    (root / "autograded" / "alice" / "01").mkdir(parents=True)
    return root


@needs_bwrap
def test_the_sandbox_cannot_reach_the_course_folder(course):
    work = course / "autograded" / "alice" / "01"
    sandbox.give(work)
    scratch_before = Path("/tmp/scratch").exists()
    got = run_py(TRY + f'''
root = {str(course)!r}
out = {{
    "write_config": tryit(lambda: open(root + "/nbgrader_config.py", "a").write("import os\\n")),
    "read_gradebook": tryit(lambda: open(root + "/gradebook.db", "rb").read()),
    "write_gradebook": tryit(lambda: open(root + "/gradebook.db", "ab").write(b"x")),
    "read_other_student": tryit(lambda: open(root + "/submitted/bob/01/01.ipynb").read()),
    "list_course": tryit(lambda: os.listdir(root + "/submitted")),
    "write_own_folder": tryit(lambda: open("answer.txt", "w").write("mine")),
    "write_tmp": tryit(lambda: open("/tmp/scratch", "w").write("x")),
    "write_usr": tryit(lambda: open(sys.prefix + "/planted.py", "w").write("x")),
    "cwd": os.getcwd(),
}}
print(json.dumps(out))
''', rw_binds=[work], workdir=work)
    removed = sandbox.reclaim(work)
    assert got["cwd"] == str(work)
    assert got["write_own_folder"] == "ok" and (work / "answer.txt").read_text() == "mine"
    assert got["write_tmp"] == "ok" and Path("/tmp/scratch").exists() == scratch_before  # a private /tmp
    for key in ("read_gradebook", "read_other_student", "list_course"):
        assert got[key] == "FileNotFoundError", (key, got[key])  # not even there
    for key in ("write_config", "write_gradebook"):  # and cannot be created where they would be
        assert got[key] in ("FileNotFoundError", "PermissionError"), (key, got[key])
    assert got["write_usr"] in ("OSError", "PermissionError"), got["write_usr"]  # read-only
    assert (course / "nbgrader_config.py").read_text() == "c = get_config()\n"
    assert (course / "gradebook.db").read_bytes() == b"SQLite format 3\x00 scores"
    assert removed == []
    assert (work / "answer.txt").stat().st_uid == os.geteuid()  # reclaimed by the grader


@needs_bwrap
def test_read_only_binds_are_readable_not_writable(tmp_path):
    data = tmp_path / "data"
    data.mkdir(mode=0o700)  # as tempfile.mkdtemp makes it
    (data / "train.csv").write_text("label\n1\n")
    sandbox.share(data)
    got = run_py(TRY + f'''
d = {str(data)!r}
print(json.dumps({{"read": open(d + "/train.csv").read(), "write": tryit(lambda: open(d + "/train.csv", "w")),
                  "delete": tryit(lambda: os.remove(d + "/train.csv"))}}))
''', ro_binds=[data])
    assert got["read"] == "label\n1\n"
    assert got["write"] != "ok" and got["delete"] != "ok"
    assert (data / "train.csv").read_text() == "label\n1\n"


@needs_bwrap
def test_the_sandbox_sees_no_host_process_and_cannot_signal_one():
    marker = f"{time.time():.6f}"
    host = subprocess.Popen(["sleep", "300", marker][:2])  # a grader's process (the verifier, say)
    try:
        got = run_py(TRY + f'''
import signal
pids = [int(p) for p in os.listdir("/proc") if p.isdigit()]
cmdlines = [open(f"/proc/{{p}}/cmdline", "rb").read().replace(b"\\0", b" ").decode() for p in pids]
def kill():
    os.kill({host.pid}, signal.SIGKILL)
print(json.dumps({{"pids": pids, "cmdlines": cmdlines, "kill": tryit(kill), "uid": os.getuid()}}))
''')
        assert not any("sleep 300" in c for c in got["cmdlines"]), got["cmdlines"]
        assert len(got["pids"]) <= 3, got  # bwrap's init, python (and nothing of the host)
        assert got["kill"] in ("ProcessLookupError", "PermissionError")
        assert host.poll() is None, "the host's process was killed from the sandbox"
        if os.geteuid() == 0:
            assert got["uid"] == sandbox.SANDBOX_UID  # never root inside
    finally:
        host.kill()
        host.wait()


@needs_bwrap
def test_the_sandbox_has_no_network():
    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen(1)
    port = server.getsockname()[1]
    try:
        got = run_py(TRY + f'''
import socket
def connect(host):
    socket.create_connection((host, {port}), timeout=3).close()
def outside():
    socket.create_connection(("1.1.1.1", 53), timeout=3).close()
print(json.dumps({{"host_loopback": tryit(lambda: connect("127.0.0.1")), "outside": tryit(outside)}}))
''')
        assert got["host_loopback"] == "ConnectionRefusedError"  # its own loopback: nothing listens
        assert got["outside"] != "ok"
    finally:
        server.close()


@needs_bwrap
def test_kernel_settings_are_not_writable():
    """A root process without capabilities could still write /proc/sys: the sandbox drops root."""
    got = run_py(TRY + '''
path = "/proc/sys/kernel/core_pattern"
value = open(path).read()
print(json.dumps({"write": tryit(lambda: open(path, "w").write(value)),
                  "sysrq": tryit(lambda: open("/proc/sysrq-trigger", "w"))}))
''')  # writes back the same value: harmless even if it succeeded
    assert got["write"] != "ok" and got["sysrq"] != "ok", got


def host_processes_with(marker: str) -> list[int]:
    out = []
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                if marker.encode() in Path(f"/proc/{entry}/cmdline").read_bytes():
                    out.append(int(entry))
            except OSError:
                pass
    return out


def sleeps_with(marker: str) -> list[int]:
    """The host's ``sleep MARKER`` processes."""
    want = f"sleep\0{marker}\0".encode()
    out = []
    for pid in host_processes_with(marker):
        try:
            if Path(f"/proc/{pid}/cmdline").read_bytes() == want:
                out.append(pid)
        except OSError:
            pass
    return out


@needs_bwrap
def test_a_setsid_process_dies_with_its_sandbox():
    """A daemon (setsid, double fork) started in the sandbox does not outlive it."""
    marker = f"3{int(time.time() * 1000) % 100000}.5"
    got = run_py(f'''
import json, os, subprocess
subprocess.Popen(["setsid", "sleep", "{marker}"], start_new_session=True)
if os.fork() == 0:
    os.setsid()
    if os.fork() == 0:
        os.execvp("sleep", ["sleep", "{marker}"])
    os._exit(0)
import time; time.sleep(0.5)
print(json.dumps({{"started": True}}))
''')
    assert got["started"]
    time.sleep(0.3)
    assert host_processes_with(marker) == []


@needs_bwrap
def test_killing_bwrap_kills_everything_inside():
    """The kill path (the grader SIGKILLs the kernel's process group): nothing is left."""
    marker = f"4{int(time.time() * 1000) % 100000}.5"
    tracker = sandbox.Tracker()
    cmd = sandbox.command(["sh", "-c", f"setsid sleep {marker} & sleep {marker}"], info_fd=tracker.fd)
    proc = subprocess.Popen(cmd, pass_fds=(tracker.fd,), start_new_session=True)
    tracker.started()
    assert tracker.namespace and tracker.namespace != sandbox.namespace_of(os.getpid())
    # both sleeps running (counted by their own command line: while the shell forks, its
    # children carry the shell's command line for a moment, which a busy machine can show)
    deadline = time.monotonic() + 30
    while len(sleeps_with(marker)) < 2 and time.monotonic() < deadline:
        time.sleep(0.05)
    assert len(sleeps_with(marker)) == 2
    os.killpg(proc.pid, signal.SIGKILL)
    proc.wait()
    deadline = time.monotonic() + 10
    while host_processes_with(marker) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert host_processes_with(marker) == []  # without any help from the grader
    tracker.finish()


@needs_bwrap
def test_run_kills_the_sandbox_on_timeout():
    marker = f"5{int(time.time() * 1000) % 100000}.5"
    with pytest.raises(subprocess.TimeoutExpired):
        sandbox.run(["sh", "-c", f"setsid sleep {marker} & sleep {marker}"], timeout=1)
    assert host_processes_with(marker) == []


@needs_bwrap
def test_environment_is_cleared(monkeypatch):
    monkeypatch.setenv("ASL_SECRET_OF_THE_GRADER", "s3cret")
    got = run_py('import json, os; print(json.dumps(dict(os.environ)))', env={"ASL_GIVEN": "1"})
    assert "ASL_SECRET_OF_THE_GRADER" not in got and got["ASL_GIVEN"] == "1" and got["HOME"] == "/tmp"


def test_reclaim_removes_planted_links(tmp_path):
    """A link the kernel left would redirect the grader's next write (nbgrader writes there)."""
    work = tmp_path / "work"
    work.mkdir()
    (work / "01.ipynb").symlink_to(tmp_path / "nbgrader_config.py")
    (work / "ok.txt").write_text("x")
    os.mkfifo(work / "pipe")
    removed = sandbox.reclaim(work)
    assert sorted(Path(p).name for p in removed) == ["01.ipynb", "pipe"]
    assert (work / "ok.txt").read_text() == "x"


def test_missing_bubblewrap_is_a_clear_error(monkeypatch):
    monkeypatch.setattr(sandbox, "bwrap_path", lambda: None)
    sandbox.problem.cache_clear()
    try:
        assert not sandbox.available()
        assert "apt-get install bubblewrap" in sandbox.problem()
        with pytest.raises(sandbox.SandboxUnavailable, match="apt-get install bubblewrap"):
            sandbox.run(["true"])
        with pytest.raises(sandbox.SandboxUnavailable):
            sandbox.command(["true"])
    finally:
        monkeypatch.undo()
        sandbox.problem.cache_clear()


def test_the_autograder_refuses_to_grade_without_the_sandbox(monkeypatch):
    """Never silently unsandboxed: without bwrap, GuardedExecute raises before any kernel starts."""
    monkeypatch.setattr(sandbox, "bwrap_path", lambda: None)
    sandbox.problem.cache_clear()
    started = []
    monkeypatch.setattr(autograder.GradingSession, "get", classmethod(lambda cls: started.append(1)))
    try:
        nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell("print(1)")])
        with pytest.raises(sandbox.SandboxUnavailable, match="apt-get install bubblewrap"):
            autograder.GuardedExecute().preprocess(nb, {"metadata": {"path": "."}})
        assert started == []
        assert autograder.GuardedExecute().sandbox == "bubblewrap"  # the default
    finally:
        monkeypatch.undo()
        sandbox.problem.cache_clear()


# --- Resource limits (asl_course/grading/plugins/limits.py): each bomb, in each setup -------------------------

MiB = 2**20
SMALL = limits.Limits(memory=128 * MiB, processes=48, disk=16 * MiB)
MEMORY_BOMB = """
import sys
blocks = []
for i in range(32):                      # 8x the limit, in 32 MiB steps, each page touched
    blocks.append(bytearray(32 * 2**20))
    print(i, flush=True)
"""
FORK_BOMB = """
import os, time
made = 0
for i in range(1000):
    try:
        if os.fork() == 0:
            time.sleep(30)
            os._exit(0)
        made += 1
    except OSError:
        break
print(made, flush=True)
"""
FILLER = """
import sys
with open(sys.argv[1], "wb") as f:
    for i in range(64):
        f.write(bytes(2**20))
"""


@pytest.fixture(params=["kernel's own", "rlimit"])
def setup(request, monkeypatch):
    """Each test runs with this machine's mechanism (cgroups as root here and in CI) and with the
    fallback (rlimits) that a grader without cgroups gets."""
    if request.param == "rlimit":
        monkeypatch.setattr(limits, "mechanism", lambda: "rlimit")
    return limits.mechanism()


def bounded(code: str, *args, **kw):
    return sandbox.run([sys.executable, "-I", "-c", textwrap.dedent(code), *args], text=True, timeout=60,
                       bounds=SMALL, tmp_size=SMALL.disk, **kw)


@needs_bwrap
def test_a_memory_bomb_dies_at_the_limit(setup):
    result = bounded(MEMORY_BOMB)
    steps = len(result.stdout.split())
    assert steps < 4, f"{setup}: {steps} steps of 32 MiB under a 128 MiB limit"
    if setup == "rlimit":  # each process: the allocation fails
        assert "MemoryError" in result.stderr
    else:  # the box: the OOM killer, named
        assert result.returncode == -9 or result.returncode == 137
        assert "memory limit (128 MiB" in result.exceeded


@needs_bwrap
def test_a_fork_bomb_stops_at_the_limit(setup):
    result = bounded(FORK_BOMB)
    assert int(result.stdout.split()[-1]) < SMALL.processes, setup
    if setup != "rlimit":
        assert "process limit (48 processes and threads" in result.exceeded


@needs_bwrap
def test_a_file_past_the_disk_limit_is_refused_in_tmp_and_in_a_writable_folder(setup, tmp_path):
    sandbox.give(tmp_path)
    for target in ("/tmp/big", str(tmp_path / "big")):
        result = bounded(FILLER, target, rw_binds=[tmp_path])
        assert result.returncode == 1 and ("File too large" in result.stderr or "No space left" in result.stderr)
    assert (tmp_path / "big").stat().st_size <= SMALL.disk
    sandbox.reclaim(tmp_path)


@needs_bwrap
def test_an_honest_sandbox_beside_the_bombs_is_not_disturbed():
    """Each sandbox has a box of its own: a memory and a fork bomb running at the same time as an
    honest program (64 MiB, 10 processes, a 4 MiB file) take nothing from it."""
    import threading

    honest = """
    import os, time
    data = bytearray(64 * 2**20)
    children = []
    for _ in range(10):
        pid = os.fork()
        if pid == 0:
            time.sleep(1)
            os._exit(0)
        children.append(pid)
    for pid in children:
        os.waitpid(pid, 0)
    open("/tmp/f", "wb").write(bytes(4 * 2**20))
    print("done")
    """
    bombs = [threading.Thread(target=bounded, args=(code,)) for code in (MEMORY_BOMB, FORK_BOMB)]
    for thread in bombs:
        thread.start()
    result = bounded(honest)
    for thread in bombs:
        thread.join()
    assert result.returncode == 0 and result.stdout.split() == ["done"] and result.exceeded is None, result.stderr


def test_cgroup_v2_box_on_a_delegated_tree(tmp_path, monkeypatch):
    """cgroup v2 (not on this machine: its v2 hierarchy is empty): the files a box writes and reads,
    on a fake delegated tree."""
    grader = tmp_path / "user.slice" / "grader"
    grader.mkdir(parents=True)
    (tmp_path / "cgroup.controllers").write_text("cpu memory pids\n")
    (grader / "cgroup.subtree_control").write_text("memory pids\n")
    monkeypatch.setattr(limits, "_own_cgroup", lambda controller: "/user.slice/grader" if controller is None else None)
    assert limits.v2_parent(tmp_path) == grader and limits.v1_parents(tmp_path) is None
    box = limits.Box(limits.Limits(memory=64 * MiB, processes=20, disk=MiB), how="cgroup-v2", root=tmp_path)
    (group,) = set(box.groups.values())
    assert group.parent == grader
    assert [(group / f).read_text() for f in ("memory.max", "memory.swap.max", "pids.max")] == [
        str(64 * MiB), "0", "20"]
    assert str(group / "cgroup.procs") in box.outer() and f"--fsize={MiB}" in box.outer() and box.inner() == []
    assert box.exceeded() is None
    (group / "memory.events").write_text("low 0\nhigh 0\nmax 3\noom 1\noom_kill 1\n")
    assert "memory limit (64 MiB" in box.exceeded()
    (group / "memory.events").write_text("oom_kill 0\n")
    (group / "pids.events").write_text("max 2\n")
    assert "process limit (20 processes" in box.exceeded()
    (group / "memory.peak").write_text("1234\n")
    assert box.peaks()["memory"] == 1234


def test_without_cgroups_the_box_is_rlimits():
    box = limits.Box(limits.Limits(memory=64 * MiB, processes=20, disk=MiB), how="rlimit")
    assert box.groups == {} and box.outer()[1:] == [f"--fsize={MiB}", f"--data={64 * MiB}", "--"]
    assert box.inner()[1:] == ["--nproc=20", "--"]
    assert box.exceeded([os.getpid()] * 19) is not None and box.exceeded([os.getpid()]) is None
