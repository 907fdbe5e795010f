"""nbgrader plugins that make the course's autograding trustworthy (wired in nbgrader_config.py).

nbgrader runs a submission's cells, then its hidden tests, in one kernel, and scores a test
cell by its outputs (an error scores 0, else full points). A submission's code can change
anything in that kernel, and its process can touch the grader's files. So:

:class:`GuardedExecute` (replaces nbgrader's ``Execute``)
    - gives each notebook its own grading folder: a fresh copy of the data (``ASL_DATA_DIR``),
      the reference arrays (``reference.npz``), a copy of the grading code the hidden tests
      load (``ASL_GRADING_CODE``) and ``artefacts/`` where they write what they measured;
    - forces fast mode (``ASL_COURSE_FAST=1``) and the grading plan (``ASL_GRADING_PLAN``);
    - per-cell time limits (``timeout``, ``cell_timeouts`` by grade_id, ``first_cell_timeout``
      for the setup cell); a cell past its limit is interrupted and scores as an error;
    - resource limits per notebook's sandbox (:mod:`asl_course.grading.plugins.limits`: ``memory_limit``,
      ``max_processes``, ``disk_limit``, ``notebook_timeout``): over one, that cell (memory,
      processes, time: and the rest of the notebook) scores 0 with a message naming the limit;
    - a kernel that dies, or a cell that cannot be interrupted, stops *this* notebook: the
      remaining cells are marked as not run (their tests score 0), the kernel is killed, and
      nbgrader goes on with the next submission (stock nbgrader drops the whole submission
      and exits with an error);
    - kernels import the course package from a per-notebook copy (``PYTHONPATH``) of the files
      as they were when grading started, so a submission that edits ``asl_course/*.py`` on
      disk changes nothing for the others (the change is reported); after the notebook, the
      grader's data folder is restored if a submission changed it.

:func:`after_graded_cell` (called by GuardedExecute after each test cell)
    - copies the raw values the hidden test recorded out of the kernel's reach and has the
      verifier judge them; only then, if the exercise failed, puts the grader's values in the
      kernel (``grading.repair``) so that the next exercise is graded on its own work; after
      notebook 4's test_steps, gives the model the grader's initialisation from a seed chosen
      then (``grading.reinitialise``: test_fit checks the trained model descends from it);

:class:`VerifyOutsideKernel` (after execution, before nbgrader saves the scores)
    - scores every exercise by the verifier's judgement (:mod:`asl_course.grading.plugins.verifier`, a process
      that loaded the grading code and the reference data before any submission ran): raw
      values it rebuilt and measured itself (a test that ran twice is void), models it
      reloaded, accuracy it re-measured, and notebook 5's functions called in its own sandbox
      on its own inputs (:mod:`asl_course.grading.plugins.harness`). A test cell whose judgement fails, or
      whose raw values are missing, gets an error output at the top of its outputs, so
      nbgrader scores it 0; an answer cell that calls the course's reference implementation
      scores 0 for its exercise (flagged in the log);
    - removes what could fake a score: ``execute_result`` outputs of test cells (nbgrader
      reads a number there as partial credit) and stderr (library warnings would score 0).

What this cannot stop is listed in the README's instructor section: a submission runs as the
grader's user, so it can read other students' folders and write to the gradebook; grade in a
container (or as a separate user) for that.
"""

from __future__ import annotations

import atexit
import json
import os
import secrets
import select
import shutil
import stat
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

from nbclient.exceptions import CellTimeoutError, DeadKernelError
from nbformat.notebooknode import NotebookNode
from traitlets import Bool, CaselessStrEnum, Dict, Integer

from nbgrader.preprocessors import Execute, NbGraderPreprocessor

from asl_course import dataset as _data, grading, i18n
from asl_course.grading import cells
from asl_course.grading.plugins import limits, sandbox
from asl_course.learners import lesson

#: The course package (asl_course/); the grading code is its subpackage asl_course/grading/.
PACKAGE_DIR = Path(grading.__file__).resolve().parent.parent
#: The setup cell (first code cell: TensorFlow import, data, catch-up) may take this long.
FIRST_CELL_TIMEOUT = 240
#: Default per-cell limits for the course's slow cells (by nbgrader grade_id).
CELL_TIMEOUTS = grading.CELL_TIMEOUTS  # declared per exercise in asl_course/grading/registry.py
#: Seconds the verifier may take for one exercise (model loading and re-evaluation included).
VERIFY_TIMEOUT = 240
#: Largest file of an exercise's raw values that is kept for the verifier (x_train as float64 is 172 MB).
MAX_RECORDED_BYTES = 512 * 2**20
#: How often the limits of a running sandbox are checked (seconds).
WATCH_INTERVAL = 0.25
#: Most bytes in a notebook's artefacts/ at once (one exercise's records: test_load_csv's two
#: frames are 220 MB); past it the sandbox is stopped.
RECORDS_LIMIT = 2 * MAX_RECORDED_BYTES


def _open_dir(name: str, dir_fd: int) -> int:
    """Open the folder ``name`` inside ``dir_fd``, refusing a link."""
    return os.open(name, os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW, dir_fd=dir_fd)


def _copy_regular(dir_fd: int, name: str, dest: Path) -> None:
    """Copy ``name`` inside ``dir_fd`` to ``dest`` if it is a regular file (not a link, a fifo or a
    device) of at most MAX_RECORDED_BYTES; anything else is skipped."""
    try:
        fd = os.open(name, os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK, dir_fd=dir_fd)
    except OSError:
        return
    with os.fdopen(fd, "rb") as src:
        info = os.fstat(src.fileno())
        if not stat.S_ISREG(info.st_mode) or info.st_size > MAX_RECORDED_BYTES:
            return
        with open(dest, "wb") as out:
            shutil.copyfileobj(src, out)


def _limit(default: int, help: str):
    """A resource limit of GuardedExecute: an integer trait, None for no limit."""
    return Integer(default, allow_none=True, help=help).tag(config=True)


def _log(message: str) -> None:
    print(f"[asl-course autograder] {message}", file=sys.stderr, flush=True)


#: The feedback when an exercise's hidden test ran again after its test cell (in the student's language).
RAN_AGAIN = i18n.mark("the hidden test of this exercise ran again after its test cell: a test that runs twice is void")


def _error_output(ename: str, evalue: str) -> NotebookNode:
    return NotebookNode(output_type="error", ename=ename, evalue=evalue, traceback=[f"{ename}: {evalue}"])


def _config_snapshot() -> dict:
    """``{path: bytes}`` of every nbgrader config file nbgrader would load from here."""
    try:
        from jupyter_core.paths import jupyter_config_path

        folders = [Path.cwd(), *map(Path, jupyter_config_path())]
    except Exception:  # noqa: BLE001
        folders = [Path.cwd()]
    out = {}
    for folder in folders:
        for name in ("nbgrader_config.py", "nbgrader_config.json"):
            path = folder / name
            try:
                out[path.resolve()] = path.read_bytes()
            except OSError:
                pass
    return out


# --- The grading session: one per nbgrader process ------------------------------------------------


class GradingSession:
    """What the autograder holds for the whole run, taken before the first submission runs:
    the data (bytes), the reference arrays, the course package's files, the verifier process."""

    _instance: "GradingSession | None" = None

    @classmethod
    def get(cls) -> "GradingSession":
        if cls._instance is None:
            cls._instance = cls()
            atexit.register(cls._instance.close)
        return cls._instance

    def __init__(self):
        self.root = Path(tempfile.mkdtemp(prefix="asl-grading-"))
        folder = _data.locate()
        report = _data.check(folder)
        if report["kind"] not in ("real", "synthetic"):
            raise RuntimeError(f"the grading data in {folder} is not valid: {' '.join(report['reasons'])}")
        self.data_dir = Path(folder)
        self.data_kind = report["kind"]
        self.data_files = {p.name: p.read_bytes() for p in self.data_dir.iterdir()
                           if p.name in (_data.TRAIN_FILE, _data.VALID_FILE, _data.MARKER_FILE)}
        self.data_stat = self._stat(self.data_dir, self.data_files)
        self.reference = grading.load_reference_csv(self.data_dir)
        self.code_files = {p: p.read_bytes() for p in PACKAGE_DIR.rglob("*")
                           if p.is_file() and "__pycache__" not in p.parts}
        run = lesson.run_plan(fast=True)
        self.plan = {"fast": True, "epochs": run.epochs, "train_images": run.train_images, "data": self.data_kind}
        self.reference_npz = self.root / "reference.npz"
        grading.save_reference(self.reference, self.reference_npz)
        self.reported_changes: list[str] = []
        self._worker: subprocess.Popen | None = None
        self._worker_log = self.root / "verifier.log"
        self.start_worker()
        _log(f"grading on the {self.data_kind} data of {self.data_dir} (copied for each submission); "
             f"plan {self.plan}")

    @staticmethod
    def _stat(folder: Path, files: dict) -> dict:
        out = {}
        for name in files:
            try:
                st = (folder / name).stat()
                out[name] = (st.st_size, st.st_mtime_ns)
            except OSError:
                out[name] = None
        return out

    # -- per notebook --

    def _write_package(self, dest: Path) -> None:
        """Write the course package as it was when grading started (kernels import this copy)."""
        for path, content in self.code_files.items():
            target = dest / "asl_course" / path.relative_to(PACKAGE_DIR)
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_bytes(content)

    def prepare_notebook(self) -> Path:
        """A fresh grading folder for one notebook: data, reference, course package, artefacts.

        In the sandbox the kernel sees this folder read-only, except ``artefacts/`` (what the
        hidden tests write) and ``ipc/`` (its ZMQ sockets), and nothing else of ``self.root``
        (the verifier's package and log are there)."""
        if not hasattr(self, "config_files"):
            self.config_files = _config_snapshot()
        folder = Path(tempfile.mkdtemp(prefix="nb-", dir=self.root))
        (folder / "data").mkdir()
        for name, content in self.data_files.items():
            (folder / "data" / name).write_bytes(content)
        shutil.copyfile(self.reference_npz, folder / "reference.npz")
        self._write_package(folder / "pkg")
        (folder / "artefacts").mkdir()
        (folder / "ipc").mkdir()
        sandbox.share(folder)
        return folder

    def kernel_env(self, folder: Path, sandboxed: bool = False) -> dict:
        """The kernel's environment (in the sandbox, everything else is cleared)."""
        path = None if sandboxed else os.environ.get("PYTHONPATH")
        return {
            "PYTHONPATH": str(folder / "pkg") + (os.pathsep + path if path else ""),
            "ASL_DATA_DIR": str(folder / "data"),
            "ASL_COURSE_FAST": "1",
            "ASL_COURSE_AUTOMATED": "1",
            # nbgrader's own sign, which the sandbox's cleared environment would drop: the
            # notebooks skip what grading does not need (notebook 4's baseline run).
            "NBGRADER_EXECUTION": "autograde",
            "TF_CPP_MIN_LOG_LEVEL": "2",
            "MPLBACKEND": "Agg",
            grading.GRADING_DIR_ENV: str(folder),
            grading.GRADING_CODE_ENV: str(folder / "pkg" / "asl_course" / "grading" / "__init__.py"),
            grading.GRADING_PLAN_ENV: json.dumps(self.plan),
        }

    def changed_files(self) -> list[str]:
        """Course package files and nbgrader configuration files (the course folder's and
        Jupyter's config paths: the next nbgrader command runs them) that differ from when
        grading started. Reported, not undone: kernels and the verifier use their own copies,
        and a sandboxed kernel cannot reach any of them, so a change comes from elsewhere."""
        changed = []
        for path, content in self.code_files.items():
            try:
                same = path.read_bytes() == content
            except OSError:
                same = False
            if not same:
                changed.append(str(path))
        if hasattr(self, "config_files"):
            now = _config_snapshot()
            changed += sorted(str(p) for p in set(now) | set(self.config_files)
                              if now.get(p) != self.config_files.get(p))
        return changed

    def restore_data(self) -> list[str]:
        """Undo changes a submission made to the grader's data folder (from the copy in memory)."""
        restored = []
        if self._stat(self.data_dir, self.data_files) != self.data_stat:
            self.data_dir.mkdir(parents=True, exist_ok=True)
            for name, content in self.data_files.items():
                path = self.data_dir / name
                try:
                    same = path.read_bytes() == content
                except OSError:
                    same = False
                if not same:
                    path.write_bytes(content)
                    restored.append(str(path))
            self.data_stat = self._stat(self.data_dir, self.data_files)
        return restored

    # -- the verifier process --

    def start_worker(self) -> None:
        grading.save_reference(self.reference, self.reference_npz)
        env = {k: v for k, v in os.environ.items() if not k.startswith(("ASL_", "NBGRADER_"))}
        env.update({"TF_CPP_MIN_LOG_LEVEL": "2", grading.GRADING_PLAN_ENV: json.dumps(self.plan),
                    "CUDA_VISIBLE_DEVICES": os.environ.get("CUDA_VISIBLE_DEVICES", "")})
        # Written again from memory at every (re)start: a verifier never runs code from disk
        # that could have changed since grading started.
        shutil.rmtree(self.root / "pkg", ignore_errors=True)
        self._write_package(self.root / "pkg")
        bootstrap = (f"import sys; sys.path.insert(0, {str(self.root / 'pkg')!r}); "
                     "from asl_course.grading.plugins import verifier; verifier.main()")
        self._worker = subprocess.Popen(
            [sys.executable, "-I", "-c", bootstrap, str(self.reference_npz)],
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=open(self._worker_log, "ab"),
            cwd=self.root, env=env, text=True, bufsize=1,
        )

    def _stop_worker(self) -> None:
        worker, self._worker = self._worker, None
        if worker is not None and worker.poll() is None:
            worker.kill()
            worker.wait()

    # -- what the kernel recorded, out of its reach; the grader's seeds --

    def secured(self, folder: Path) -> Path:
        """Where the raw values of one notebook's exercises are kept once its test cells ran (a
        folder of the grading session, outside the notebook's grading folder)."""
        return self.root / "secured" / Path(folder).name

    def secure(self, grade_id: str, folder: Path) -> None:
        """Copy the runs of an exercise's hidden test out of the kernel's reach (regular files only,
        read once, after the test cell ran and before anything is repaired), then remove them there.
        A second call for the same exercise marks it void (its test cell ran twice)."""
        source = Path(folder) / "artefacts" / grade_id
        dest = self.secured(folder) / grade_id
        if dest.exists():
            (dest / "VOID").write_text("the test cell ran more than once")
            shutil.rmtree(source, ignore_errors=True)
            return
        dest.mkdir(parents=True)
        # The kernel is alive and owns artefacts/: it could swap a checked file or folder for a
        # link between a check and an open. So every step is opened relative to its parent's
        # descriptor with O_NOFOLLOW, and only what fstat calls a regular file is copied.
        opened = []
        try:
            fd = os.open(folder, os.O_RDONLY | os.O_DIRECTORY)
            opened.append(fd)
            for part in ("artefacts", grade_id):
                fd = _open_dir(part, fd)
                opened.append(fd)
            for run in sorted(os.listdir(fd)):
                if not run.startswith(grading.RUN_PREFIX):
                    continue
                try:
                    run_fd = _open_dir(run, fd)
                except OSError:
                    continue
                try:
                    (dest / run).mkdir()
                    for item in os.listdir(run_fd):
                        _copy_regular(run_fd, item, dest / run / item)
                finally:
                    os.close(run_fd)
        except OSError:
            pass  # no (or no plain) records: the verifier finds them missing
        finally:
            for fd in reversed(opened):
                os.close(fd)
        shutil.rmtree(source, ignore_errors=True)

    def seed(self, folder: Path) -> int:
        """The initialisation seed for this notebook's model (test_fit), chosen when first asked."""
        seeds = self.__dict__.setdefault("_seeds", {})
        return seeds.setdefault(str(folder), secrets.randbelow(2**31))

    def set_language(self, folder: Path, nb) -> str:
        """Record the language of the notebook graded in ``folder`` (its metadata's ``asl_course.lang``;
        English if it names none or one the course has not): its kernel and the verifier's mistakes
        speak it, so that each student's feedback is in the language of their edition. It changes
        words only: the checks, the points and the hidden tests are the same in every language."""
        lang = i18n.notebook_language(nb)
        self.__dict__.setdefault("_languages", {})[str(folder)] = lang
        return lang

    def language(self, folder: Path) -> str:
        return self.__dict__.get("_languages", {}).get(str(folder), i18n.SOURCE_LANGUAGE)

    def verify(self, grade_id: str, folder: Path, **extra) -> list[str]:
        """The verifier's mistakes for one exercise (a failure to verify is a mistake too).
        ``extra``: ``seed`` (test_fit), ``cells`` and ``model_file`` (notebook 5's functions),
        ``lang`` (the language of the mistakes' words)."""
        request = {"grade_id": grade_id, "folder": str(folder), **extra}
        for attempt in range(2):
            if self._worker is None or self._worker.poll() is not None:
                self.start_worker()
            try:
                self._worker.stdin.write(json.dumps(request) + "\n")
                self._worker.stdin.flush()
                ready, _, _ = select.select([self._worker.stdout], [], [], VERIFY_TIMEOUT)
                if not ready:
                    self._stop_worker()
                    return [f"the grader's verifier took more than {VERIFY_TIMEOUT} s on this exercise"]
                line = self._worker.stdout.readline()
                if not line:
                    raise BrokenPipeError("the verifier stopped")
                reply = json.loads(line)
            except (BrokenPipeError, OSError, ValueError) as exc:
                self._stop_worker()
                if attempt == 0:
                    continue
                return [f"the grader's verifier failed on this exercise ({type(exc).__name__})"]
            if "error" in reply:
                return [f"the grader's verifier failed on this exercise ({reply['error']})"]
            return list(reply["mistakes"])
        return ["the grader's verifier failed on this exercise"]

    def close(self) -> None:
        self._stop_worker()
        shutil.rmtree(self.root, ignore_errors=True)


# --- Execution -------------------------------------------------------------------------------------


def _sandboxed_kernel_manager_class():
    """:class:`jupyter_client.AsyncKernelManager` that starts its kernel in a bubblewrap sandbox
    (:mod:`asl_course.grading.plugins.sandbox`) and talks to it over IPC sockets in a folder bound into it.

    Set ``asl_sandbox`` (the keyword arguments of :func:`sandbox.command`, but ``argv``,
    ``workdir`` and ``info_fd``) before starting the kernel. Interrupts go as ``interrupt_request``
    messages (ipykernel then sends SIGINT to its own process group, inside the namespace): a
    signal sent to bwrap from outside would not reach the kernel. ``tracker`` follows the
    sandbox's PID namespace (:class:`sandbox.Tracker`)."""
    from jupyter_client import AsyncKernelManager

    class SandboxedKernelManager(AsyncKernelManager):
        asl_sandbox: dict = {}
        tracker: "sandbox.Tracker | None" = None

        @property
        def kernel_spec(self):
            spec = AsyncKernelManager.kernel_spec.fget(self)
            if spec is not None:
                spec.interrupt_mode = "message"
            return spec

        def write_connection_file(self, **kwargs):
            super().write_connection_file(**kwargs)
            sandbox.give(self.connection_file)  # 0600: readable by the sandbox user only

        def format_kernel_cmd(self, extra_arguments=None):
            argv = super().format_kernel_cmd(extra_arguments)
            return sandbox.command(argv, workdir=self._launch_args.get("cwd"), info_fd=self.tracker.fd,
                                   **self.asl_sandbox)

        async def _async_launch_kernel(self, kernel_cmd, **kw):
            kw["pass_fds"] = (self.tracker.fd,)
            kw["env"] = {"PATH": os.environ.get("PATH", "/usr/bin:/bin")}  # bwrap's own; the kernel's is set inside
            try:
                await super()._async_launch_kernel(kernel_cmd, **kw)
            finally:
                self.tracker.started()

    return SandboxedKernelManager


class GuardedExecute(Execute):
    """nbgrader's Execute, with a grading folder per notebook, per-cell limits, and each kernel
    in a sandbox of its own (:mod:`asl_course.grading.plugins.sandbox`)."""

    timeout = Integer(60, allow_none=True, help="Seconds a cell may run unless listed in cell_timeouts.").tag(config=True)
    first_cell_timeout = Integer(FIRST_CELL_TIMEOUT, help="Seconds the first code cell (setup) may run.").tag(config=True)
    cell_timeouts = Dict(CELL_TIMEOUTS, help="Seconds a cell may run, by nbgrader grade_id.").tag(config=True)
    # After a cell is interrupted, wait this long for the kernel to answer before killing it
    # (nbclient's default, 4 s, is too short on a busy machine).
    iopub_timeout = Integer(15, allow_none=False, help=Execute.iopub_timeout.help).tag(config=True)
    # Merge a cell's stream outputs and apply \r and \b: Keras' progress bar ends as one line,
    # not one output per training step.
    coalesce_streams = Bool(True, help=Execute.coalesce_streams.help).tag(config=True)
    sandbox = CaselessStrEnum(
        ["bubblewrap", "none"], default_value="bubblewrap",
        help="Where each student's kernel runs. 'bubblewrap' (default): a bwrap sandbox per notebook "
             "(asl_course.grading.plugins.sandbox); grading refuses to start if bwrap is missing. 'none': the grader's own "
             "user and namespaces, only for sites that already run every grading job in a container "
             "of its own (a submission can then read and write whatever the grader can).").tag(config=True)

    # Resource limits of each notebook's sandbox (asl_course/grading/plugins/limits.py; the README's
    # "Resource limits" says what bounds each one in each setup). None: no limit. Honest grading's
    # peaks (the solutions, `nbgrader autograde`, real data, fast mode, 2 CPU cores under a load of
    # 20 to 30, 2026-12-07; the autograder logs them: "peaks of ..."), notebooks 1 to 6:
    #   memory 1.1 GiB, 267 MiB, 1.0 GiB, 1.0 GiB, 1.1 GiB, 1.6 GiB -> 4 GiB (2.5x the largest; a GPU
    #     grader's CUDA libraries add host memory: read its log's peaks and raise it if needed);
    #   tasks 16, 19, 16, 37, 28, 27 -> 512 (14x; TensorFlow's thread pools grow with the cores);
    #   folder 24 KiB, 12 KiB, 20 KiB, 2.1 MiB, 4.3 MiB (the submitted model), 32 KiB -> 128 MiB;
    #   time 111, 60, 86, 760 (its training cell allowed 2400 s: the load made it pass 600), 168, 240 s -> 1800 s
    #     (notebook 4's setup, training and other cells at their own limits: 240 + 600 + 60 s each).
    memory_limit = _limit(
        4 * 2**30,
        "Bytes of memory the processes of one notebook's sandbox may use together (its /tmp and its "
        "folder's tmpfs included); over it the kernel is killed and the rest of the notebook scores 0. "
        "Without cgroups: the most each process may allocate (RLIMIT_DATA).")
    max_processes = _limit(
        512,
        "Processes and threads one notebook's sandbox may run at once; a fork past it fails and "
        "the sandbox is stopped (the rest of the notebook scores 0).")
    disk_limit = _limit(
        128 * 2**20,
        "Bytes the notebook may keep in its folder (autograded/<student>/<assignment>/), and in its "
        "/tmp; the cell that reaches it scores 0 and the files the notebook wrote are not kept. No "
        "file may be larger than this or MAX_RECORDED_BYTES (512 MiB: the hidden tests' records), "
        "whichever is larger.")
    notebook_timeout = _limit(
        1800,
        "Seconds a whole notebook may run (kernel start and every cell), unless listed in "
        "notebook_timeouts; past it, the running cell is interrupted and the rest scores 0.")
    notebook_timeouts = Dict({}, help="Seconds a whole notebook may run, by notebook name.").tag(config=True)

    def _get_timeout(self, cell):
        grade_id = cells.grade_id(cell) if cell is not None else None
        if cell is not None and cell is self._first_code_cell:
            limit = self.first_cell_timeout
        elif grade_id in self.cell_timeouts:
            limit = self.cell_timeouts[grade_id]
        else:
            limit = self.timeout
        left = self._time_left()
        if left is not None and (limit is None or left < limit):
            return max(1, int(left + 0.999))
        return limit

    def _time_left(self) -> float | None:
        """Seconds left of the notebook's total time (None: no limit)."""
        deadline = getattr(self, "_asl_deadline", None)
        return None if deadline is None else deadline - time.monotonic()

    def _notebook_limit(self, name: str) -> int | None:
        return self.notebook_timeouts.get(name, self.notebook_timeout)

    def limits(self) -> limits.Limits:
        # A file may be as large as the hidden tests' largest record (train_df, x_train: 172 MB).
        largest = max(self.disk_limit, MAX_RECORDED_BYTES) if self.disk_limit else None
        return limits.Limits(memory=self.memory_limit, processes=self.max_processes, disk=self.disk_limit,
                             file_size=largest)

    def create_kernel_manager(self):
        if self.sandbox == "none":
            return super().create_kernel_manager()
        if not self.kernel_name:
            self.kernel_name = self.nb.metadata.get("kernelspec", {}).get("name") or "python3"
        folder, cwd = self._asl_folder, self._asl_cwd
        ipc = folder / "ipc"
        self.km = _sandboxed_kernel_manager_class()(
            kernel_name=self.kernel_name, config=self.config, transport="ipc", ip=str(ipc / "k"),
            connection_file=str(ipc / "kernel.json"))
        if self._asl_box is not None:  # a kernel started again: a fresh box
            self._asl_box.close()
        self._asl_box = limits.Box(self.limits())
        self.km.asl_sandbox = {
            # the grading folder read-only (data, reference, package); its artefacts/ and ipc/, and
            # the notebook's own folder (a tmpfs of disk_limit where the grader can mount one) writable
            "ro_binds": [folder],
            "rw_binds": [folder / "artefacts", ipc, (self._asl_workspace.source, cwd)],
            "env": {**GradingSession.get().kernel_env(folder, sandboxed=True),
                    i18n.ENV: GradingSession.get().language(folder)},
            "devices": sorted(str(p) for p in Path("/dev").glob("nvidia*")),
            "tmp_size": self.disk_limit or sandbox.TMP_SIZE,
            "box": self._asl_box,
        }
        self.km.tracker = self._asl_tracker = sandbox.Tracker()
        self._watch()
        return self.km

    # -- the limits, watched while the notebook runs --

    def _watch(self) -> None:
        """Start the thread that stops the sandbox as soon as it goes over a limit (processes;
        memory, which the kernel also enforces; the folder's size where no tmpfs bounds it)."""
        if getattr(self, "_asl_watcher", None) is not None:
            return
        self._asl_watcher = threading.Event()  # set when the notebook ends: the thread then ends
        threading.Thread(target=self._watch_loop, args=(self._asl_watcher,), name="asl-limits", daemon=True).start()

    def _watch_loop(self, done: threading.Event) -> None:
        while not done.wait(WATCH_INTERVAL):
            box, workspace, tracker = self._asl_box, self._asl_workspace, self._asl_tracker
            counted = box is not None and box.how == "rlimit" and tracker is not None and tracker.namespace
            reason = box.exceeded(sandbox.namespace_processes(tracker.namespace) if counted else None) if box else None
            if reason is None and workspace is not None and workspace.mounted is None and workspace.over():
                reason = self._disk_reason()
            if reason is None and self.disk_limit and self._records_over():
                reason = (f"it wrote more than {limits.size(RECORDS_LIMIT)} into the folder its hidden tests "
                          f"record into")
            if reason is not None and self._asl_over is None:
                self._asl_over = reason
                self._stop_sandbox()

    def _records_over(self) -> bool:
        """The hidden tests' records of one exercise (copied out and removed after each test cell)
        are at most a few hundred MB: more in artefacts/ is a disk filler."""
        folder = getattr(self, "_asl_folder", None)
        return folder is not None and limits.folder_size(folder / "artefacts") > RECORDS_LIMIT

    def _stop_sandbox(self) -> None:
        tracker, box = self._asl_tracker, self._asl_box
        try:
            if tracker is not None:
                sandbox.kill_namespace(tracker.namespace)
            if box is not None:
                box.kill()
        except Exception as exc:  # noqa: BLE001
            _log(f"could not stop a sandbox over its limits: {exc}")

    def _disk_reason(self) -> str:
        return (f"it wrote more than the disk limit ({limits.size(self.disk_limit)} in the notebook's folder "
                f"or in /tmp, GuardedExecute.disk_limit); the files the notebook wrote are not kept")

    def _after_cell(self, cell, events: dict) -> None:
        """After a cell that ran: name a limit it reached that did not stop the kernel."""
        text = " ".join(str(o.get("evalue", "")) + " " + str(o.get("text", "")) for o in cell.get("outputs", []))
        disk = ("[Errno 27]" in text or "[Errno 28]" in text  # EFBIG (RLIMIT_FSIZE), ENOSPC (a full tmpfs)
                or (not self._asl_disk_over and self._asl_workspace is not None and self._asl_workspace.over()))
        if disk and self.disk_limit:
            self._asl_disk_over = True
            cell.outputs = list(cell.get("outputs", [])) + [_error_output("DiskLimit", f"this cell reached a limit: "
                                                                          f"{self._disk_reason()}")]
        box = self._asl_box
        now = box.events() if box is not None else {}
        memory = (now.get("oom_kill", 0) > events.get("oom_kill", 0)
                  or any(o.get("ename") == "MemoryError" for o in cell.get("outputs", [])))
        if memory and self.memory_limit:
            cell.outputs = list(cell.get("outputs", [])) + [_error_output(
                "MemoryLimit", f"this cell reached a limit: its processes used more than the memory limit "
                               f"({limits.size(self.memory_limit)}, GuardedExecute.memory_limit)")]

    def preprocess(self, nb, resources=None, km=None):
        self._require_sandbox()
        session = GradingSession.get()
        folder, cwd = self._start_notebook(nb, resources, session)
        sandboxed = self.sandbox == "bubblewrap"
        lang = session.set_language(folder, nb)
        env = {} if sandboxed else {**session.kernel_env(folder), i18n.ENV: lang}
        saved = {k: os.environ.get(k) for k in env}
        os.environ.update(env)
        if sandboxed:
            self._asl_workspace = limits.Workspace(cwd, self.disk_limit, session.root)
            if self._asl_workspace.problem:
                _log(f"{(resources or {}).get('nbgrader', {}).get('student', '?')}: {self._asl_workspace.problem}")
            for writable in (folder / "artefacts", folder / "ipc", self._asl_workspace.source):
                sandbox.give(writable)
        started = time.monotonic()
        who = "/".join(str((resources or {}).get("nbgrader", {}).get(k, "?")) for k in ("student", "notebook"))
        try:
            try:
                return super().preprocess(nb, resources, km)
            except Exception as exc:  # noqa: BLE001 - e.g. the kernel failed to start or died between cells
                _log(f"the notebook could not be run to its end ({type(exc).__name__}: {exc})")
                _mark_tests_not_run(nb, f"the notebook could not be run to its end ({type(exc).__name__})")
                return nb, resources
        finally:
            for key, value in saved.items():
                if value is None:
                    os.environ.pop(key, None)
                else:
                    os.environ[key] = value
            if sandboxed:
                self._end_sandbox(who, folder, cwd)
                self._end_limits(who)
            _after_notebook(session, who)
            _log(f"ran {who} in {time.monotonic() - started:.1f} s")

    def _require_sandbox(self) -> None:
        """Never run a submission unsandboxed unless the site said so (and then warn once)."""
        if self.sandbox == "bubblewrap":
            sandbox.require()
        elif not getattr(GuardedExecute, "_warned_unsandboxed", False):
            GuardedExecute._warned_unsandboxed = True
            _log("WARNING: c.GuardedExecute.sandbox = 'none': kernels run as the grader, outside any "
                 "sandbox (only safe when this whole grading job runs in a container of its own)")

    def _start_notebook(self, nb, resources, session) -> tuple[Path, Path]:
        """The notebook's grading folder and working folder; its limits and state reset."""
        folder = session.prepare_notebook()
        if resources is not None:
            resources["asl_grading"] = str(folder)
        cwd = Path((resources or {}).get("metadata", {}).get("path") or folder / "work").absolute()
        cwd.mkdir(parents=True, exist_ok=True)
        self._asl_folder, self._asl_cwd, self._asl_tracker = folder, cwd, None
        self._stopped: str | None = None
        name = str((resources or {}).get("nbgrader", {}).get("notebook", ""))
        self._asl_limit = self._notebook_limit(name)
        self._asl_deadline = None if self._asl_limit is None else time.monotonic() + self._asl_limit
        self._asl_box = self._asl_workspace = self._asl_watcher = self._asl_over = None
        self._asl_disk_over = False
        self._first_code_cell = next((c for c in nb.cells if c.cell_type == "code" and c.source.strip()), None)
        return folder, cwd

    def _end_sandbox(self, who: str, folder: Path, cwd: Path) -> None:
        """After the notebook: nothing of its sandbox may be left running, and its writable
        folders come back to the grader without links that would redirect the grader's writes."""
        tracker = getattr(self, "_asl_tracker", None)
        if tracker is not None:
            try:
                if getattr(self, "km", None) is not None and self.km.has_kernel:
                    self._kill_kernel()
                if self._asl_box is not None:
                    self._asl_box.kill()  # a fork bomb's hundreds, by its cgroup, before its namespace
                left = tracker.finish(timeout=60)
                if left:
                    _log(f"{who}: killed {len(left)} process(es) its kernel had left running")
            except Exception as exc:  # noqa: BLE001
                _log(f"{who}: could not check the sandbox's processes ({exc})")
        self._asl_tracker = None
        for writable in (folder / "artefacts", folder / "ipc", cwd):
            try:
                removed = sandbox.reclaim(writable)
            except OSError as exc:
                removed = [f"{writable} ({exc})"]
            if removed:
                _log(f"{who}: removed links/special files the kernel left: {', '.join(removed[:10])}")

    def _end_limits(self, who: str) -> None:
        """After the sandbox: stop watching, log the peaks, bring the folder's files back (or not)."""
        if self._asl_watcher is not None:
            self._asl_watcher.set()
        box, workspace = self._asl_box, self._asl_workspace
        peaks = box.peaks() if box is not None else {}
        used = workspace.used() if workspace is not None else None
        if box is not None:
            box.close()
        over = self._asl_disk_over or (workspace is not None and workspace.over())
        if workspace is not None:
            try:
                dropped = workspace.finish(keep=not over)
            except OSError as exc:
                dropped = [f"({exc})"]
            sandbox.reclaim(workspace.folder)
            if dropped:
                _log(f"{who}: over the disk limit; not kept: {', '.join(map(str, dropped[:10]))}")
        memory, tasks = peaks.get("memory"), peaks.get("processes")
        _log(f"peaks of {who}: memory {limits.size(memory) if memory else '?'}, processes {tasks or '?'}, "
             f"folder {limits.size(used) if used is not None else '?'} ({box.how if box else 'no box'})")
        self._asl_box = self._asl_workspace = self._asl_watcher = None

    def _out_of_time(self) -> str:
        return (f"the notebook ran past its total time limit ({self._asl_limit} s, "
                f"GuardedExecute.notebook_timeout)")

    def preprocess_cell(self, cell, resources, index):
        left = self._time_left()
        if self._stopped is None and left is not None and left <= 0 and cell.cell_type == "code":
            self._stopped = self._out_of_time()
            self._kill_kernel()
        if self._stopped is not None:
            if cell.cell_type == "code":
                cell.outputs = [_error_output("NotRun", f"not run: {self._stopped}")]
            return cell, resources
        box = getattr(self, "_asl_box", None)
        events = box.events() if box is not None else {}
        try:
            cell, resources = super().preprocess_cell(cell, resources, index)
            if self._asl_over is not None:  # the watcher stopped the sandbox as the cell ended
                return self._stop_notebook(cell, resources, f"the sandbox was stopped: {self._asl_over}",
                                           f"an earlier cell went over a limit: {self._asl_over}")
            left = self._time_left()
            if left is not None and left <= 0 and cell.cell_type == "code":
                self._stopped = self._out_of_time()
                cell.outputs = list(cell.get("outputs", [])) + [_error_output("NotebookTimeLimit", self._stopped)]
                self._kill_kernel()
                return cell, resources
            self._after_cell(cell, events)
            after_graded_cell(self, cell, index, resources)  # secure a test's raw values, then repair
            return cell, resources
        except Exception as exc:  # noqa: BLE001 - DeadKernelError, an uninterruptible cell, ...
            over = self._asl_over or (box.exceeded() if box is not None else None)
            here, later = stop_reasons(exc, over, self._out_of_time() if self._out_of_time_now() else None)
            return self._stop_notebook(cell, resources, here, later)

    def _out_of_time_now(self) -> bool:
        left = self._time_left()
        return left is not None and left <= 0

    def _stop_notebook(self, cell, resources, here: str, later: str):
        """This cell gets ``here`` as its error, the rest of the notebook is not run (``later``)."""
        self._stopped = later
        cell.outputs = list(cell.get("outputs", [])) + [_error_output("KernelStopped", here)]
        self._kill_kernel()
        return cell, resources

    def _kill_kernel(self) -> None:
        try:
            from jupyter_core.utils import run_sync

            if self.km is not None:
                run_sync(self.km.shutdown_kernel)(now=True)
        except Exception as exc:  # noqa: BLE001
            _log(f"could not kill the kernel: {exc}")


def _mark_tests_not_run(nb, reason: str) -> None:
    """Every test cell of ``nb`` without an error gets one saying it was not run (it scores 0)."""
    for cell in nb.cells:
        if cell.cell_type == "code" and cells.grade_id_of_test(cell) and not any(
                o.get("output_type") == "error" for o in cell.get("outputs", [])):
            cell.outputs = list(cell.get("outputs", [])) + [_error_output("NotRun", reason)]


def _after_notebook(session, who: str) -> None:
    """The grader's data restored if the submission changed it; course files changed on disk reported."""
    restored = session.restore_data()
    if restored:
        _log(f"{who}: the submission changed the grader's data; restored {', '.join(restored)}")
    changed = session.changed_files()
    if changed and changed != session.reported_changes:
        session.reported_changes = changed
        _log(f"WARNING {who}: course package or nbgrader config files changed on disk during grading "
             f"(no kernel can reach them; check them with git status): {', '.join(changed)}")


def stop_reasons(exc: Exception, over: str | None = None, out_of_time: str | None = None) -> tuple[str, str]:
    """Why a notebook stopped at a cell that raised ``exc``: (this cell's error, the later cells').
    A sandbox over a limit (``over``) or the notebook out of time (``out_of_time``) is named first;
    else nbclient's exception says what happened to the kernel."""
    if over is not None:
        return f"the sandbox was stopped: {over}", f"an earlier cell went over a limit: {over}"
    if out_of_time is not None:
        return out_of_time, out_of_time
    if isinstance(exc, DeadKernelError):
        return ("the kernel died while this cell ran (it exits or kills its process)",
                "the kernel died in an earlier cell")
    if isinstance(exc, CellTimeoutError):
        return ("this cell ran past its time limit and could not be interrupted",
                "an earlier cell ran past its time limit and could not be interrupted")
    name = type(exc).__name__
    return f"the kernel stopped responding ({name})", f"the kernel stopped responding ({name})"


# --- Verification outside the kernel -----------------------------------------------------------------


#: The grading code as the autograder's own cells load it in the kernel (repairs, initialisation).
#: (asl_course/grading/fresh.py, as the hidden tests do; here $ASL_GRADING_CODE is required.)
_LOADER = "_grading = __import__('asl_course.grading.fresh', fromlist=['load']).load(required=True)\n"


def after_graded_cell(executor, cell, index, resources) -> None:
    """Called by :class:`GuardedExecute` after each cell. After a test cell: its exercise's raw
    values are secured out of the kernel's reach (:meth:`GradingSession.secure`); only then, if
    the test failed, the grader's values are put in the kernel (``grading.repair``) so that the
    next exercises are graded on their own work; and after notebook 4's test_steps the model gets
    the grader's initialisation from a seed chosen now (``grading.reinitialise``, for test_fit)."""
    grade_id = cells.grade_id_of_test(cell)
    folder = (resources or {}).get("asl_grading")
    if cell.cell_type != "code" or grade_id not in grading.EXERCISES or not folder:
        return
    session = GradingSession.get()
    session.secure(grade_id, Path(folder))
    failed = any(o.get("output_type") == "error" for o in cell.get("outputs", []))
    if grade_id not in grading.FUNCTION_EXERCISES:
        # The verifier's verdict, now: it decides the repair too, whatever the kernel printed.
        verdict = VerifyOutsideKernel.verdict(session, grade_id, Path(folder))
        session.__dict__.setdefault("verdicts", {})[(str(folder), grade_id)] = verdict
        failed = failed or bool(verdict)
    code = []
    if failed:
        code.append(f"_grading.repair({grade_id!r}, globals())")
    if grading.exercise(grade_id).seeds_next:
        code.append(f"_grading.reinitialise(globals(), {session.seed(Path(folder))})")
    if code:
        source = _LOADER + "\n".join(code) + "\ndel _grading\n"
        helper = NotebookNode(cell_type="code", source=source, metadata=NotebookNode(), outputs=[],
                              execution_count=None)
        try:
            executor.execute_cell(helper, index, store_history=False)
        finally:
            executor.nb.cells[index] = cell  # nbclient stores the cell it ran in the notebook


def _model_file(resources) -> str | None:
    path = (resources.get("metadata") or {}).get("path")
    if not path:
        return None
    file = Path(path) / grading.MODEL_FILE
    return str(file) if file.is_file() and not file.is_symlink() else None


class VerifyOutsideKernel(NbGraderPreprocessor):
    """Judge each exercise in the verifier process, from what it can check itself; strip outputs
    that could fake a score.

    - exercises with raw values: the runs secured after their test cell (one run, else void; a
      run made after the test cell voids it too), rebuilt and measured by the verifier;
    - notebook 5's functions: the notebook's answer cells, run afresh by the verifier in a
      sandbox, called on the verifier's own inputs;
    - an answer cell that calls the course's reference implementation scores 0 for its exercise
      (README, "The reference implementation"); the feedback and the log say so.
    """

    def preprocess(self, nb, resources):
        folder = resources.get("asl_grading")
        session = GradingSession.get()
        checked, failed, flagged = 0, [], []
        lang = session.language(Path(folder)) if folder else i18n.notebook_language(nb)
        answers = cells.answer_cells(nb)
        sources = list(answers.values())
        model_file = _model_file(resources)
        try:
            for cell in nb.cells:
                grade_id = cells.grade_id_of_test(cell)
                if grade_id is None or cell.cell_type != "code":
                    continue
                outputs = [o for o in cell.get("outputs", [])
                           if o.get("output_type") in ("error", "display_data")
                           or (o.get("output_type") == "stream" and o.get("name") == "stdout")]
                if grade_id in grading.EXERCISES and folder and not any(o["output_type"] == "error" for o in outputs):
                    mistakes = self._judge(session, grade_id, Path(folder), sources, model_file)
                    calls = grading.reference_calls(answers.get(grading.answer_of(grade_id), ""))
                    if calls:
                        flagged.append(grade_id)
                        mistakes.append(grading.reference_mistake(calls, lang))
                    checked += 1
                    if mistakes:
                        failed.append(grade_id)
                        outputs.insert(0, _error_output("GradingFailed", grading.sentences(mistakes)))
                elif grade_id in grading.EXERCISES and folder and grading.runs(Path(folder) / "artefacts" / grade_id):
                    outputs.insert(0, _error_output("GradingFailed", i18n.lookup(RAN_AGAIN, lang) + "."))
                cell.outputs = outputs
        finally:
            if folder:
                shutil.rmtree(folder, ignore_errors=True)
                shutil.rmtree(session.secured(Path(folder)), ignore_errors=True)
        who = "/".join(str(resources.get("nbgrader", {}).get(k, "?")) for k in ("student", "notebook"))
        _log(f"{who}: verified {checked} exercise(s) outside the kernel" +
             (f"; failed there: {', '.join(failed)}" if failed else ""))
        if flagged:
            _log(f"FLAGGED {who}: the answers of {', '.join(flagged)} call the course's reference implementation "
                 "(scored 0)")
        return nb, resources

    @staticmethod
    def verdict(session, grade_id: str, folder: Path) -> list[str]:
        """The verifier's mistakes for an exercise's secured raw values."""
        exercise = grading.BY_ID.get(grade_id)
        extra = {"seed": session.seed(folder)} if exercise is not None and exercise.seeded else {}
        return session.verify(grade_id, session.secured(folder) / grade_id, lang=session.language(folder), **extra)

    @classmethod
    def _judge(cls, session, grade_id: str, folder: Path, cells: list[str], model_file: str | None) -> list[str]:
        if grade_id in grading.FUNCTION_EXERCISES:
            return session.verify(grade_id, folder, cells=cells, model_file=model_file, lang=session.language(folder))
        secured = session.secured(folder) / grade_id
        lang = session.language(folder)
        if (secured / "VOID").exists():
            return [i18n.t("the test cell of this exercise ran more than once: a test that runs twice is void",
                           lang=lang)]
        if grading.runs(folder / "artefacts" / grade_id):
            return [i18n.lookup(RAN_AGAIN, lang)]
        cached = session.__dict__.get("verdicts", {}).pop((str(folder), grade_id), None)
        return list(cached) if cached is not None else cls.verdict(session, grade_id, folder)
