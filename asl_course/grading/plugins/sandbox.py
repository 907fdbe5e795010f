"""Run untrusted code (a student's kernel, a student's function) in a bubblewrap sandbox.

A submission is hostile code: it can patch anything in its own process, read what its
process can read, start processes, and write what its user can write. This module starts
such code with `bubblewrap <https://github.com/containers/bubblewrap>`_ (``bwrap``, Debian
package ``bubblewrap``), so that it sees and can do only this:

- **read-only**: the system (``/usr``, ``/etc``, the ``/lib*`` links), the Python
  installation and virtual environment this process runs from, and the paths in
  ``ro_binds``. Nothing else of the host exists in it: not the course folder, the gradebook,
  ``nbgrader_config.py``, other students' folders, the user's home, the grader's temporary
  folders;
- **writable**: only the paths in ``rw_binds`` and a private, empty ``/tmp`` (a tmpfs of at
  most ``tmp_size`` bytes, gone when the sandbox ends);
- **no network** (a new network namespace with only loopback; ``network=True`` keeps the
  host's), no host processes (a new PID namespace: it sees only its own processes, so it can
  neither signal nor trace the grader's), its own IPC and UTS namespaces;
- **nothing outlives it**: bwrap is PID 1 of the new namespace; when the sandboxed command
  exits, or bwrap is killed, or the process that started bwrap dies (``--die-with-parent``),
  the kernel kills every process left in the namespace, ``setsid``/double-fork included.
  :func:`run` and :class:`Tracker` also check that none is left (:func:`namespace_processes`);
- **no privileges**: every capability is dropped (``--cap-drop ALL``), no new privileges can
  be gained (setuid binaries), and a new terminal session (``--new-session``: no TIOCSTI into
  the grader's terminal). When the grader runs as root, the command runs as an unprivileged
  user (:data:`SANDBOX_UID`, default 65534 "nobody", via ``setpriv``): a root process without
  capabilities can still write root-owned kernel settings (``/proc/sys``, ``/proc/sysrq-trigger``),
  so it must not be root. Writable binds must then belong to that user: :func:`give` them and
  :func:`reclaim` them afterwards.

- **bounded**, with a :class:`limits.Box` (``box=`` of :func:`command`, ``bounds=`` of :func:`run`):
  memory, processes and the size of each file (:mod:`asl_course.grading.plugins.limits`); the
  size of ``/tmp`` is ``tmp_size``.

Environment: only ``env`` plus ``PATH``, ``HOME=/tmp``, ``LANG`` and the host's ``TF_*``,
``OMP_*``, ``CUDA_VISIBLE_DEVICES``... (``PASS_ENV``) reach the sandbox (``--clearenv``).

API (all paths absolute; a bind is a path, bound at the same place, or a ``(src, dest)`` pair)::

    sandbox.available() -> bool          # bwrap installed and able to make namespaces here
    sandbox.problem() -> str | None      # why not, with what to do (apt-get install bubblewrap)
    sandbox.require()                    # raises SandboxUnavailable(problem()) unless available
    sandbox.command(argv, *, ro_binds=(), rw_binds=(), workdir=None, env=None,
                    network=False, tmp_size=..., info_fd=None, devices=()) -> list[str]
    sandbox.run(argv, *, ..., timeout=None, input=None) -> subprocess.CompletedProcess
    sandbox.give(path) / sandbox.reclaim(path)   # writable folders: to the sandbox user and back
    sandbox.share(path)                  # read-only inputs: readable by the sandbox user
    sandbox.Tracker                      # follow a sandbox started elsewhere (bwrap --info-fd)

``run`` captures stdout and stderr (bytes unless ``text=True``) and raises
``subprocess.TimeoutExpired`` after killing the whole sandbox if ``timeout`` passes.
Example (a function of a student's, called in a fresh sandbox on inputs kept outside it)::

    out = Path(tempfile.mkdtemp()); sandbox.give(out)
    result = sandbox.run([sys.executable, "-I", "-c", code], ro_binds=[student_dir, inputs_dir],
                         rw_binds=[out], workdir=out, timeout=60)
    sandbox.reclaim(out)      # now read out/..., written only by that sandbox

Sites that grade inside a container of their own and cannot run bwrap there can turn the
sandbox off for the autograder (``c.GuardedExecute.sandbox = "none"``, see the README); this
module never silently runs code unsandboxed: :func:`command` and :func:`run` raise
:class:`SandboxUnavailable` when bwrap cannot be used.
"""

from __future__ import annotations

import functools
import json
import os
import select
import shutil
import signal
import stat
import subprocess
import sys
import time
from pathlib import Path
from typing import Iterable, Sequence

from asl_course.errors import UserError
from asl_course.grading.plugins import limits

#: The user a sandboxed command runs as when the grader is root (``ASL_SANDBOX_UID`` overrides).
SANDBOX_UID = int(os.environ.get("ASL_SANDBOX_UID", "65534"))
SANDBOX_GID = int(os.environ.get("ASL_SANDBOX_GID", str(SANDBOX_UID)))
#: Default size limit of the private /tmp (bytes).
TMP_SIZE = 2 * 2**30
#: Host environment variables passed into the sandbox (prefixes), on top of ``env``.
PASS_ENV = ("TF_", "OMP_", "MKL_", "OPENBLAS_", "CUDA_VISIBLE_DEVICES", "NVIDIA_", "XLA_", "KERAS_BACKEND",
            "LANG", "LC_", "TZ")
INSTALL_HINT = ("install bubblewrap (Debian/Ubuntu: `apt-get install bubblewrap`; Fedora: `dnf install "
                "bubblewrap`), or, only where every submission is already graded inside a container of its "
                "own, turn the sandbox off explicitly with `c.GuardedExecute.sandbox = \"none\"` in "
                "nbgrader_config.py (see the README's instructors section)")


class SandboxUnavailable(UserError):
    """bubblewrap is missing or cannot create namespaces here (the message says what to do)."""


def bwrap_path() -> str | None:
    return shutil.which("bwrap") or next((p for p in ("/usr/bin/bwrap", "/usr/local/bin/bwrap")
                                          if os.access(p, os.X_OK)), None)


def sandbox_user() -> tuple[int, int] | None:
    """``(uid, gid)`` the sandboxed command runs as, or None: it keeps the grader's own uid
    (bwrap then runs unprivileged, in a user namespace)."""
    return (SANDBOX_UID, SANDBOX_GID) if os.geteuid() == 0 else None


# --- Availability -----------------------------------------------------------------------------------


@functools.lru_cache(maxsize=1)
def problem() -> str | None:
    """None if sandboxes can be made here; else what is wrong and what to do."""
    bwrap = bwrap_path()
    if bwrap is None:
        return f"bubblewrap (`bwrap`) is not installed: {INSTALL_HINT}."
    if sandbox_user() is not None and shutil.which("setpriv") is None:
        return "`setpriv` (util-linux) is missing: the sandbox needs it to drop root; install util-linux."
    try:
        probe = subprocess.run(_base_args(network=False, tmp_size=2**20) + ["--", "/bin/sh", "-c", "exit 0"],
                               capture_output=True, text=True, timeout=30)
    except (OSError, subprocess.SubprocessError) as exc:
        return f"bubblewrap ({bwrap}) could not be run ({exc}): {INSTALL_HINT}."
    if probe.returncode != 0:
        return (f"bubblewrap ({bwrap}) cannot create its namespaces here ({probe.stderr.strip()[:300]}): allow "
                f"user/PID/network namespaces (e.g. `sysctl kernel.unprivileged_userns_clone=1`, or run the "
                f"container with --privileged / a seccomp profile allowing clone), or {INSTALL_HINT}.")
    return None


def available() -> bool:
    return problem() is None


def require() -> None:
    """Raise :class:`SandboxUnavailable` (with what to do) unless sandboxes can be made here."""
    reason = problem()
    if reason is not None:
        raise SandboxUnavailable(reason)


# --- The bwrap command line ---------------------------------------------------------------------------


def _python_roots() -> list[str]:
    """The Python installation and environment this process runs from (bound read-only)."""
    roots = set()
    for p in (sys.prefix, sys.base_prefix, sys.exec_prefix, sys.base_exec_prefix):
        if p:
            roots.add(os.path.realpath(p))
            roots.add(os.path.abspath(p))
    exe = Path(sys.executable)
    roots.add(str(exe.parent.parent.absolute()))
    roots.add(str(exe.resolve().parent.parent))
    return sorted(r for r in roots if os.path.isdir(r) and r not in ("/", "/usr"))


def _system_args() -> list[str]:
    args = ["--ro-bind", "/usr", "/usr"]
    for top in ("/bin", "/sbin", "/lib", "/lib32", "/lib64", "/libx32"):
        if os.path.islink(top):
            args += ["--symlink", os.readlink(top), top]
        elif os.path.isdir(top):
            args += ["--ro-bind", top, top]
    args += ["--ro-bind", "/etc", "/etc"]
    return args


def _base_args(*, network: bool, tmp_size: int | None) -> list[str]:
    bwrap = bwrap_path()
    if bwrap is None:
        raise SandboxUnavailable(f"bubblewrap (`bwrap`) is not installed: {INSTALL_HINT}.")
    args = [bwrap, "--die-with-parent", "--new-session", "--unshare-pid", "--unshare-ipc", "--unshare-uts",
            "--unshare-cgroup-try", "--hostname", "sandbox", "--cap-drop", "ALL"]
    if not network:
        args.append("--unshare-net")
    if sandbox_user() is not None:
        # Root: keep only what setpriv needs to become the sandbox user (it then drops them).
        args += ["--cap-add", "CAP_SETUID", "--cap-add", "CAP_SETGID"]
    args += _system_args()
    args += ["--proc", "/proc", "--dev", "/dev", "--perms", "1777"]
    if tmp_size:
        args += ["--size", str(int(tmp_size))]
    args += ["--tmpfs", "/tmp"]
    return args


def _pairs(binds: Iterable) -> list[tuple[str, str]]:
    out = []
    for b in binds:
        src, dest = (b, b) if isinstance(b, (str, os.PathLike)) else b
        src, dest = os.path.abspath(os.fspath(src)), os.path.abspath(os.fspath(dest))
        out.append((src, dest))
    return out


def _parents(dest: str, made: set[str]) -> list[str]:
    """``--dir`` for each missing parent of a bind's destination (world-traversable, 0755)."""
    args = []
    parts = Path(dest).parts[1:-1]
    for i in range(len(parts)):
        d = "/" + "/".join(parts[: i + 1])
        if d in made or d in ("/tmp", "/usr", "/etc", "/proc", "/dev"):
            continue
        made.add(d)
        args += ["--perms", "0755", "--dir", d]
    return args


def command(argv: Sequence[str], *, ro_binds: Iterable = (), rw_binds: Iterable = (), workdir=None,
            env: dict | None = None, network: bool = False, tmp_size: int | None = TMP_SIZE,
            info_fd: int | None = None, devices: Iterable[str] = (), box: limits.Box | None = None) -> list[str]:
    """The bwrap command line that runs ``argv`` in a sandbox (see the module's docstring).

    ``ro_binds``/``rw_binds``: paths (bound at the same place) or ``(src, dest)`` pairs; a
    missing source is an error. ``workdir``: the working directory inside (default ``/tmp``).
    ``env``: variables set inside (everything else is cleared, see :data:`PASS_ENV`).
    ``info_fd``: an inherited fd bwrap writes ``{"child-pid": N}`` to (:class:`Tracker`).
    ``devices``: device nodes to expose (e.g. ``/dev/nvidia0``), if they exist.
    ``box``: the sandbox's resource limits (:class:`limits.Box`): its cgroups and rlimits.
    """
    args = (box.outer() if box else []) + _base_args(network=network, tmp_size=tmp_size)
    made: set[str] = set()
    for root in _python_roots():
        args += _parents(root, made) + ["--ro-bind", root, root]
    for flag, binds in (("--ro-bind", ro_binds), ("--bind", rw_binds)):
        for src, dest in _pairs(binds):
            if not os.path.exists(src):
                raise FileNotFoundError(f"sandbox bind source {src} does not exist")
            args += _parents(dest, made) + [flag, src, dest]
    for dev in devices:
        if os.path.exists(dev):
            args += ["--dev-bind", dev, dev]
    inside = {"PATH": os.pathsep.join([str(Path(sys.executable).parent), "/usr/local/bin", "/usr/bin", "/bin"]),
              "HOME": "/tmp", "TMPDIR": "/tmp", "LANG": "C.UTF-8"}
    inside.update({k: v for k, v in os.environ.items() if k.startswith(PASS_ENV)})
    inside.update({k: str(v) for k, v in (env or {}).items()})
    args.append("--clearenv")
    for key, value in inside.items():
        args += ["--setenv", key, value]
    args += ["--chdir", os.path.abspath(os.fspath(workdir)) if workdir else "/tmp"]
    if info_fd is not None:
        args += ["--info-fd", str(info_fd)]
    user = sandbox_user()
    if user is not None:
        setpriv = shutil.which("setpriv") or "/usr/bin/setpriv"
        args += ["--", setpriv, f"--reuid={user[0]}", f"--regid={user[1]}", "--clear-groups",
                 "--inh-caps=-all", "--bounding-set=-all", "--no-new-privs"]
    args += ["--", *(box.inner() if box else []), *map(str, argv)]
    return args


# --- Writable folders ------------------------------------------------------------------------------------


def give(path) -> None:
    """Make ``path`` (a folder, recursively) writable by the sandbox user (no-op unless root)."""
    user = sandbox_user()
    if user is None:
        return
    for p in _walk(Path(path)):
        os.lchown(p, *user)


def share(path) -> None:
    """Make ``path`` (recursively) readable by the sandbox user: a read-only bind of a folder
    made with ``tempfile.mkdtemp`` (mode 0700) or under a strict umask is otherwise unreadable."""
    for p in _walk(Path(path)):
        st = os.lstat(p)
        if stat.S_ISDIR(st.st_mode):
            os.chmod(p, stat.S_IMODE(st.st_mode) | 0o755)
        elif stat.S_ISREG(st.st_mode):
            os.chmod(p, stat.S_IMODE(st.st_mode) | 0o444)


def reclaim(path) -> list[str]:
    """After the sandbox is gone: give ``path`` back to the grader and remove what the sandbox
    could use against it (symbolic links, fifos, sockets: a later write by the grader through
    a planted link would land anywhere). Returns the removed paths."""
    removed = []
    uid, gid = os.geteuid(), os.getegid()
    for p in _walk(Path(path)):
        try:
            st = os.lstat(p)
        except OSError:
            continue
        if stat.S_ISLNK(st.st_mode) or not (stat.S_ISREG(st.st_mode) or stat.S_ISDIR(st.st_mode)):
            os.unlink(p)
            removed.append(str(p))
            continue
        if (st.st_uid, st.st_gid) != (uid, gid):
            os.lchown(p, uid, gid)
        if stat.S_ISDIR(st.st_mode):
            os.chmod(p, 0o755)
        else:
            os.chmod(p, stat.S_IMODE(st.st_mode) & 0o755 | 0o600)
    return removed


def _walk(root: Path):
    """Every path under root (root included), without following symbolic links."""
    yield root
    if root.is_dir() and not root.is_symlink():
        for dirpath, dirnames, filenames in os.walk(root, followlinks=False):
            for name in dirnames + filenames:
                yield Path(dirpath) / name


# --- Following a sandbox: its PID namespace ------------------------------------------------------------------


def namespace_of(pid: int) -> str | None:
    try:
        return os.readlink(f"/proc/{pid}/ns/pid")
    except OSError:
        return None


def namespace_processes(namespace: str) -> list[int]:
    """Host PIDs of the processes still alive in a PID namespace (``pid:[inode]``)."""
    out = []
    for entry in os.listdir("/proc"):
        if entry.isdigit() and namespace_of(int(entry)) == namespace:
            out.append(int(entry))
    return out


def kill_namespace(namespace: str | None, timeout: float = 10.0) -> list[int]:
    """SIGKILL every process left in ``namespace`` and wait until none is; returns those killed."""
    if not namespace or namespace == namespace_of(os.getpid()):
        return []
    killed: list[int] = []
    grace = time.monotonic() + 2.0  # a namespace whose init just died empties itself
    while namespace_processes(namespace) and time.monotonic() < grace:
        time.sleep(0.05)
    deadline = time.monotonic() + timeout
    while True:
        left = namespace_processes(namespace)
        if not left:
            return killed
        for pid in left:
            try:
                os.kill(pid, signal.SIGKILL)
                if pid not in killed:
                    killed.append(pid)
            except ProcessLookupError:
                pass
        if time.monotonic() > deadline:
            raise RuntimeError(f"processes {left} of a sandbox survive SIGKILL")
        time.sleep(0.05)


class Tracker:
    """The sandbox of a bwrap started with ``info_fd=tracker.fd`` (pass the fd to the child:
    ``pass_fds=(tracker.fd,)``); call :meth:`started` once it is launched, :meth:`finish` at
    the end (kills anything left in its PID namespace)."""

    def __init__(self):
        self._read, self.fd = os.pipe()
        self.child_pid: int | None = None
        self.namespace: str | None = None

    def started(self, timeout: float = 30.0) -> None:
        """Read bwrap's info (the PID of the namespace's init) and note its namespace."""
        if self.fd is not None:
            os.close(self.fd)
            self.fd = None
        data = b""
        deadline = time.monotonic() + timeout
        while self._read is not None and time.monotonic() < deadline:
            ready, _, _ = select.select([self._read], [], [], max(0.0, deadline - time.monotonic()))
            if not ready:
                break
            chunk = os.read(self._read, 4096)
            if not chunk:
                break
            data += chunk
            try:
                self.child_pid = int(json.loads(data)["child-pid"])
                break
            except (ValueError, KeyError):
                continue
        if self.child_pid is not None:
            self.namespace = namespace_of(self.child_pid)

    def finish(self, timeout: float = 10.0) -> list[int]:
        """Kill what is left in the sandbox's namespace; returns the host PIDs killed."""
        for fd in (self.fd, self._read):
            if fd is not None:
                try:
                    os.close(fd)
                except OSError:
                    pass
        self.fd = self._read = None
        return kill_namespace(self.namespace, timeout)


def run(argv: Sequence[str], *, ro_binds: Iterable = (), rw_binds: Iterable = (), workdir=None,
        env: dict | None = None, network: bool = False, tmp_size: int | None = TMP_SIZE,
        devices: Iterable[str] = (), timeout: float | None = None, input=None,
        text: bool = False, bounds: limits.Limits | None = None) -> subprocess.CompletedProcess:
    """Run ``argv`` in a fresh sandbox, wait, and make sure nothing it started is left.
    ``bounds``: its memory, process and per-file limits (:mod:`limits`); the result's
    ``exceeded`` attribute then names the limit it went over (else None).

    Raises :class:`SandboxUnavailable` if bwrap cannot be used, ``subprocess.TimeoutExpired``
    (after killing the whole sandbox) when ``timeout`` seconds pass.
    """
    require()
    tracker = Tracker()
    box = limits.Box(bounds) if bounds is not None else None
    cmd = command(argv, ro_binds=ro_binds, rw_binds=rw_binds, workdir=workdir, env=env, network=network,
                  tmp_size=tmp_size, info_fd=tracker.fd, devices=devices, box=box)
    proc = subprocess.Popen(cmd, stdin=subprocess.PIPE if input is not None else subprocess.DEVNULL,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, pass_fds=(tracker.fd,),
                            start_new_session=True, text=text)
    try:
        tracker.started()
        try:
            out, err = proc.communicate(input, timeout=timeout)
        except subprocess.TimeoutExpired:
            proc.kill()
            tracker.finish()
            out, err = proc.communicate()
            raise subprocess.TimeoutExpired(argv, timeout, out, err) from None
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
        tracker.finish()
        exceeded = box.exceeded() if box else None
        if box:
            box.close()
    done = subprocess.CompletedProcess(list(argv), proc.returncode, out, err)
    done.exceeded = exceeded
    return done
