"""Resource limits of a sandbox (:mod:`asl_course.grading.plugins.sandbox`): memory, processes,
disk written. The notebook's total time is the autograder's (``GuardedExecute.notebook_timeout``).

Each sandbox gets a :class:`Box`. What bounds it depends on what this machine lets the grader do
(:func:`mechanism`; the README's instructor section lists what each setup gets):

- ``cgroup-v2`` (a unified hierarchy whose cgroup of the grader is writable, with ``memory`` and
  ``pids`` in its ``cgroup.subtree_control``: root, or a systemd-delegated user slice) and
  ``cgroup-v1`` (root, with the v1 ``memory`` and ``pids`` controllers writable): a cgroup per
  sandbox, made below the grader's own. ``memory``: every process of the sandbox together,
  page cache and its tmpfs ``/tmp`` included, swap excluded where the kernel accounts it; over
  it the kernel's OOM killer kills the largest of them (the kernel). ``pids``: tasks (processes
  and threads) together; past it ``fork``/``clone`` fail with EAGAIN;
- ``rlimit`` (anywhere else: a non-root grader on a laptop with cgroup v1 or an undelegated v2):
  ``RLIMIT_DATA`` = the memory limit for *each* process (its heap and private mappings: a
  process that asks for more gets MemoryError), and ``RLIMIT_NPROC`` = the process limit, set
  inside the sandbox. RLIMIT_NPROC counts the processes of a *user*: for a non-root grader
  the sandbox is a user namespace of its own, and since Linux 5.14 the count is kept per user
  namespace, so the limit counts the sandbox's processes only; a root grader without cgroups
  runs every sandbox as the same user (65534), so their count is shared by the sandboxes
  graded at the same time (one bomb can stop the other workers' kernels from starting threads:
  grade with one worker there, or give the grader cgroups).

Disk, in every setup: ``RLIMIT_FSIZE`` = ``file_size`` for each file written (a larger write
fails with EFBIG, "File too large"), the sandbox's ``/tmp`` is a tmpfs of the disk limit, and
the autograder bounds the notebook's folder (a tmpfs of that size where it can mount one, else a
watch on the folder's size) and the folder the hidden tests record into (watched:
``GuardedExecute``).

A limit that was reached is told by :meth:`Box.exceeded` (the OOM killer's count, the pids
controller's refusals) so that the autograder can name it.
"""

from __future__ import annotations

import atexit
import dataclasses
import functools
import itertools
import os
import shutil
import subprocess
import time
from pathlib import Path

CGROUP_ROOT = Path("/sys/fs/cgroup")
_COUNTER = itertools.count()


@dataclasses.dataclass(frozen=True)
class Limits:
    """Bytes of memory, tasks (processes and threads), bytes per writable folder, bytes per file
    (``file_size``; default: ``disk``). None: not limited."""

    memory: int | None = None
    processes: int | None = None
    disk: int | None = None
    file_size: int | None = None

    @property
    def largest_file(self) -> int | None:
        return self.file_size or self.disk


def size(n: int | None) -> str:
    """A byte count for a message: ``6 GiB``, ``256 MiB``."""
    if n is None:
        return "no limit"
    for unit, factor in (("GiB", 2**30), ("MiB", 2**20), ("KiB", 2**10)):
        if n >= factor:
            value = n / factor
            return f"{value:.0f} {unit}" if value == int(value) else f"{value:.1f} {unit}"
    return f"{n} bytes"


def _own_cgroup(controller: str | None) -> str | None:
    """This process's cgroup path in the v1 hierarchy of ``controller`` (None: the v2 one)."""
    try:
        lines = Path("/proc/self/cgroup").read_text().splitlines()
    except OSError:
        return None
    for line in lines:
        _, names, path = line.split(":", 2)
        if (controller is None and names == "") or (controller is not None and controller in names.split(",")):
            return path
    return None


def _writable(folder: Path) -> bool:
    return folder.is_dir() and os.access(folder, os.W_OK)


def v1_parents(root: Path = CGROUP_ROOT) -> dict[str, Path] | None:
    """The grader's own v1 ``memory`` and ``pids`` cgroups, if it may make children there."""
    out = {}
    for controller in ("memory", "pids"):
        own = _own_cgroup(controller)
        folder = root / controller / (own or "/").lstrip("/")
        if own is None or not (folder / "cgroup.procs").exists() or not _writable(folder):
            return None
        out[controller] = folder
    return out


def v2_parent(root: Path = CGROUP_ROOT) -> Path | None:
    """The grader's own v2 cgroup, if it may make children there with memory and pids."""
    own = _own_cgroup(None)
    if own is None or not (root / "cgroup.controllers").exists():
        return None
    folder = root / own.lstrip("/")
    try:
        enabled = (folder / "cgroup.subtree_control").read_text().split()
    except OSError:
        return None
    return folder if {"memory", "pids"} <= set(enabled) and _writable(folder) else None


@functools.lru_cache(maxsize=1)
def mechanism() -> str:
    """``cgroup-v2``, ``cgroup-v1`` or ``rlimit``: what bounds memory and processes here."""
    forced = os.environ.get("ASL_SANDBOX_LIMITS")  # tests: the fallback on a machine with cgroups
    if forced in ("cgroup-v2", "cgroup-v1", "rlimit"):
        return forced
    if v2_parent() is not None:
        return "cgroup-v2"
    if v1_parents() is not None:
        return "cgroup-v1"
    return "rlimit"


def _read_keys(path: Path) -> dict[str, int]:
    """``key value`` lines (memory.oom_control, memory.events, pids.events) as a dict."""
    try:
        pairs = (line.split() for line in path.read_text().splitlines())
        return {p[0]: int(p[1]) for p in pairs if len(p) == 2 and p[1].lstrip("-").isdigit()}
    except OSError:
        return {}


def _read_int(path: Path) -> int | None:
    try:
        return int(path.read_text().split()[0])
    except (OSError, ValueError, IndexError):
        return None


def _write(path: Path, value) -> bool:
    try:
        path.write_text(str(value))
        return True
    except OSError:
        return False


class Box:
    """The limits of one sandbox: :meth:`outer` goes before ``bwrap`` on its command line,
    :meth:`inner` before the sandboxed command; :meth:`exceeded` after; :meth:`close` at the end."""

    def __init__(self, limits: Limits, how: str | None = None, root: Path = CGROUP_ROOT):
        self.limits = limits
        self.how = how or mechanism()
        self.groups: dict[str, Path] = {}
        name = f"asl-sandbox-{os.getpid()}-{next(_COUNTER)}"
        if self.how == "cgroup-v1":
            parents = v1_parents(root) or {}
            for controller, parent in parents.items():
                self.groups[controller] = parent / name
        elif self.how == "cgroup-v2":
            parent = v2_parent(root)
            if parent is not None:
                self.groups["memory"] = self.groups["pids"] = parent / name
        _remove_stale()
        for folder in set(self.groups.values()):
            folder.mkdir(exist_ok=True)
        self._set_limits()

    def _set_limits(self) -> None:
        memory, pids = self.groups.get("memory"), self.groups.get("pids")
        if self.how == "cgroup-v1":
            if memory is not None and self.limits.memory:
                _write(memory / "memory.limit_in_bytes", self.limits.memory)
                _write(memory / "memory.memsw.limit_in_bytes", self.limits.memory)  # absent without swap accounting
            if pids is not None and self.limits.processes:
                _write(pids / "pids.max", self.limits.processes)
        elif self.how == "cgroup-v2" and memory is not None:
            if self.limits.memory:
                _write(memory / "memory.max", self.limits.memory)
                _write(memory / "memory.swap.max", 0)
            if self.limits.processes:
                _write(memory / "pids.max", self.limits.processes)

    def outer(self) -> list[str]:
        """The prefix that puts bwrap (and so everything in the sandbox) into the box."""
        prefix = []
        procs = sorted({str(g / "cgroup.procs") for g in self.groups.values()})
        if procs:
            # the shell joins the cgroups, then becomes bwrap: nothing runs outside them
            prefix += ["/bin/sh", "-c", 'for f; do [ "$f" = -- ] && break; echo $$ > "$f" || exit 125; done; '
                       'while [ "$1" != -- ]; do shift; done; shift; exec "$@"', "asl-limits", *procs, "--"]
        rlimits = []
        if self.limits.largest_file:
            rlimits.append(f"--fsize={self.limits.largest_file}")
        if self.how == "rlimit" and self.limits.memory:
            rlimits.append(f"--data={self.limits.memory}")
        if rlimits:
            prefix += [prlimit(), *rlimits, "--"]
        return prefix

    def inner(self) -> list[str]:
        """The prefix of the sandboxed command (inside the sandbox, as its user): RLIMIT_NPROC
        where no cgroup counts the processes."""
        if self.how == "rlimit" and self.limits.processes:
            return [prlimit(), f"--nproc={self.limits.processes}", "--"]
        return []

    def events(self) -> dict[str, int]:
        """Counts of what the kernel refused or killed: ``oom_kill`` (processes the OOM killer
        killed in this box) and ``pids_max`` (forks refused at the process limit)."""
        memory, pids = self.groups.get("memory"), self.groups.get("pids")
        out = {"oom_kill": 0, "pids_max": 0}
        if memory is not None:
            name = "memory.oom_control" if self.how == "cgroup-v1" else "memory.events"
            out["oom_kill"] = _read_keys(memory / name).get("oom_kill", 0)
        if pids is not None:
            out["pids_max"] = _read_keys(pids / "pids.events").get("max", 0)
        return out

    def exceeded(self, pids: list[int] | None = None) -> str | None:
        """The limit the box went over (a sentence for the student), or None. ``pids``: the
        sandbox's processes, counted where no cgroup counts them (at the limit: over it)."""
        events = self.events()
        if events["oom_kill"]:
            return (f"its processes used more than the memory limit ({size(self.limits.memory)}, "
                    f"GuardedExecute.memory_limit) and the kernel's OOM killer stopped them")
        at_limit = bool(pids) and "pids" not in self.groups and bool(self.limits.processes) and (
            tasks(pids) >= self.limits.processes - 1)
        if events["pids_max"] or at_limit:
            return (f"it tried to run more than the process limit ({self.limits.processes} processes and threads, "
                    f"GuardedExecute.max_processes)")
        return None

    def peaks(self) -> dict[str, int | None]:
        """Peak memory (bytes) and peak tasks of the box so far, where the kernel keeps them."""
        memory, pids = self.groups.get("memory"), self.groups.get("pids")
        peak = {"memory": None, "processes": None}
        if memory is not None:
            peak["memory"] = _read_int(memory / ("memory.max_usage_in_bytes" if self.how == "cgroup-v1"
                                                 else "memory.peak"))
        if pids is not None:
            peak["processes"] = _read_int(pids / "pids.peak")
        return peak

    def kill(self) -> None:
        """SIGKILL every process in the box (cgroups only; the sandbox's namespace is killed anyway)."""
        for group in set(self.groups.values()):
            try:
                pids = [int(p) for p in (group / "cgroup.procs").read_text().split()]
            except (OSError, ValueError):
                continue
            for pid in pids:
                try:
                    os.kill(pid, 9)
                except OSError:
                    pass

    def close(self) -> None:
        """Remove the box's cgroups (killing what is left in them). A cgroup whose processes are still
        dying after a few seconds (hundreds of a fork bomb's, on a busy machine) is removed later."""
        _STALE.update(self.groups.values())
        for _ in range(30):
            self.kill()
            if not _remove_stale():
                return
            time.sleep(0.1)


#: Cgroups of closed boxes not removed yet (their last processes were still exiting).
_STALE: set[Path] = set()


def _remove_stale() -> set[Path]:
    """Remove the cgroups of closed boxes that are empty now; returns those left."""
    for group in list(_STALE):
        try:
            group.rmdir()
            _STALE.discard(group)
        except FileNotFoundError:
            _STALE.discard(group)
        except OSError:
            pass
    return _STALE


@atexit.register
def _remove_stale_at_exit() -> None:
    for _ in range(50):
        if not _remove_stale():
            return
        time.sleep(0.1)


def tasks(pids: list[int]) -> int:
    """Threads of these processes together (each process at least one)."""
    total = 0
    for pid in pids:
        try:
            status = Path(f"/proc/{pid}/status").read_text()
        except OSError:
            continue
        total += next((int(line.split()[1]) for line in status.splitlines() if line.startswith("Threads:")), 1)
    return total


@functools.lru_cache(maxsize=1)
def prlimit() -> str:
    return shutil.which("prlimit") or "/usr/bin/prlimit"


# --- The notebook's folder: a tmpfs of the disk limit where the grader may mount one ---------------------


#: Most files and folders in a notebook's tmpfs (each costs kernel memory).
FOLDER_INODES = 65536


def can_mount() -> bool:
    return os.geteuid() == 0 and shutil.which("mount") is not None and os.environ.get("ASL_SANDBOX_LIMITS") != "rlimit"


class Workspace:
    """The notebook's writable folder, bounded to ``disk`` bytes.

    Root: a tmpfs of ``disk`` bytes (and :data:`FOLDER_INODES` inodes) mounted in ``scratch``,
    filled with a copy of the folder, bound into the sandbox in its place; :meth:`finish` copies
    what the notebook left there back into the folder (regular files and folders only), unless
    the notebook went over the limit: then the folder stays as it was submitted. Anywhere else
    (or if the mount fails) the folder itself is bound, and :meth:`over` watches its size; over
    the limit, the files the notebook made are removed at :meth:`finish`."""

    def __init__(self, folder: Path, disk: int | None, scratch: Path):
        self.folder, self.disk, self.mounted = Path(folder), disk, None
        self.before = set(_files(self.folder))
        self.problem: str | None = None
        if disk and can_mount():
            mnt = Path(scratch) / f"work-{next(_COUNTER)}"
            mnt.mkdir()
            done = subprocess.run(["mount", "-t", "tmpfs", "-o", f"size={disk},nr_inodes={FOLDER_INODES},mode=0755",
                                   "asl-notebook", str(mnt)], capture_output=True, text=True)
            if done.returncode == 0:
                try:
                    _copy_tree(self.folder, mnt)
                    self.mounted = mnt
                except OSError as exc:  # the submission alone is larger than the limit
                    self.problem = f"the submitted folder does not fit in the disk limit ({exc})"
                    _unmount(mnt)
            else:
                self.problem = f"could not mount a tmpfs ({done.stderr.strip()[:200]}); watching the folder's size"
                mnt.rmdir()

    @property
    def source(self) -> Path:
        """What to bind at the folder's path in the sandbox."""
        return self.mounted or self.folder

    def used(self) -> int:
        if self.mounted is not None:
            st = os.statvfs(self.mounted)
            return (st.f_blocks - st.f_bfree) * st.f_frsize
        return folder_size(self.folder)

    def over(self) -> bool:
        """The folder is at its limit (a tmpfs within 1 MiB of full, or out of inodes; else a size past it)."""
        if not self.disk:
            return False
        if self.mounted is not None:
            st = os.statvfs(self.mounted)
            return st.f_bavail * st.f_frsize < 2**20 or st.f_favail == 0
        return self.used() > self.disk

    def finish(self, keep: bool) -> list[str]:
        """Bring the notebook's files back (``keep``) or drop what it made; returns what was dropped."""
        if self.mounted is None:
            dropped = [] if keep else sorted(set(_files(self.folder)) - self.before)
            for rel in dropped:
                try:
                    os.unlink(self.folder / rel)
                except OSError:
                    pass
            return dropped
        try:
            now = set(_files(self.mounted))
            if not keep:
                return sorted(now - self.before)
            for rel in self.before - now:  # deleted by the notebook
                try:
                    os.unlink(self.folder / rel)
                except OSError:
                    pass
            _copy_tree(self.mounted, self.folder)
            return []
        finally:
            _unmount(self.mounted)
            self.mounted = None


def _files(folder: Path):
    """Regular files under ``folder``, relative (links not followed)."""
    for dirpath, _, filenames in os.walk(folder, followlinks=False):
        for name in filenames:
            path = Path(dirpath) / name
            if path.is_file() and not path.is_symlink():
                yield path.relative_to(folder)


def _copy_tree(src: Path, dest: Path) -> None:
    """Copy the folders and regular files of ``src`` into ``dest`` (links and special files skipped)."""
    for dirpath, dirnames, filenames in os.walk(src, followlinks=False):
        here = Path(dirpath)
        target = dest / here.relative_to(src)
        for name in dirnames:
            if not (here / name).is_symlink():
                (target / name).mkdir(exist_ok=True)
        for name in filenames:
            path = here / name
            if path.is_file() and not path.is_symlink():
                if (target / name).is_symlink():
                    (target / name).unlink()
                shutil.copyfile(path, target / name)


def _unmount(mnt: Path) -> None:
    if subprocess.run(["umount", str(mnt)], capture_output=True).returncode != 0:
        subprocess.run(["umount", "-l", str(mnt)], capture_output=True)
    try:
        mnt.rmdir()
    except OSError:
        pass


def folder_size(folder: Path) -> int:
    """Bytes in regular files under ``folder`` (links not followed)."""
    total = 0
    for dirpath, _, filenames in os.walk(folder, followlinks=False):
        for name in filenames:
            try:
                st = os.lstat(os.path.join(dirpath, name))
            except OSError:
                continue
            total += st.st_size  # not blocks: a file at the size limit is not over it by its file system's overhead
    return total
