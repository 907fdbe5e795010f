"""Grading a class with several workers, on one machine or many, into one nbgrader gradebook.

``nbgrader autograde`` grades one student after another and cannot be run twice at once on
one course (nbgrader issue 174: one SQLite gradebook, shared ``autograded/`` folders). Here a
class is split into shards, each graded by a *worker* in a private course folder of its own,
and the results are merged into the course's gradebook with nbgrader's own API:

1. **Shards.** The students with a ``submitted/<student>/<assignment>/`` folder, sorted, are
   dealt out: shard ``k`` of ``n`` holds every ``n``-th student from the ``k``-th (0-based), so
   every machine computes the same split from the same folder.
2. **A worker** (:func:`grade_shard`) makes a private course folder: the course's
   ``nbgrader_config.py``, ``source/<assignment>/``, its students' submitted folders, and a
   copy of the course gradebook holding only its students (the assignment, its cells and
   checksums, and any earlier grades of these students, so that manual grades are kept as
   ``nbgrader autograde`` keeps them). There it runs ``nbgrader autograde ASSIGNMENT --force``
   with the course's pipeline, so the course's autograder and its sandbox apply unchanged.
   It watches the run's log: a student is graded once nbgrader has written all its autograded
   notebooks (nbgrader then sets their permissions, its last step for a student). If the
   run dies (killed, out of memory) or makes no progress for ``timeout`` seconds (a hung
   kernel or verifier), the whole process tree is stopped, the student it was grading is
   recorded as failed with the reason, and a new run grades the students left. What the
   worker leaves is a **bundle**: ``result.json`` (who was graded, who failed and why, seconds
   per student), ``gradebook.db``, ``autograded/<student>/<assignment>/`` and ``logs/``.
3. **The merge** (:func:`merge`) copies each graded student's submission (timestamp,
   extension, late penalty, flags, every grade's automatic and manual score, every comment)
   into the course gradebook, and its autograded folder into ``autograded/``, so
   ``nbgrader generate_feedback`` and ``nbgrader export`` work as after a serial run. A
   bundle made from another version of the assignment (other cells or checksums) is refused.

:func:`grade` does all three on one machine with ``workers`` threads (each drives its own
``nbgrader`` processes); ``asl-course grade ASSIGNMENT --shard K/N --out DIR`` runs one worker
(one machine of a Kubernetes Indexed Job or a Slurm job array, see ``deploy/``) and
``asl-course grade merge DIR...`` merges. Every step can be run again: a bundle is replaced
as a whole, and merging a student again overwrites the same rows.
"""

from __future__ import annotations

import concurrent.futures
import dataclasses
import datetime
import hashlib
import json
import os
import re
import shutil
import signal
import socket
import sqlite3
import subprocess
import sys
import tempfile
import threading
import time
import warnings
from pathlib import Path

from traitlets.config.loader import PyFileConfigLoader

from asl_course import dataset as _data
from asl_course.errors import UserError
from asl_course.grading.instructor import repair

#: Bundle layout version (``result.json``'s ``format``).
BUNDLE_FORMAT = 1
RESULT_FILE = "result.json"
GRADEBOOK_FILE = "gradebook.db"
#: Seconds without any student finishing after which a worker's nbgrader run counts as hung.
DEFAULT_TIMEOUT = 1800
#: How often a worker looks at its nbgrader run (seconds).
POLL_S = 0.5


class GradingError(UserError):
    """Parallel grading cannot start or merge (the message says what to do)."""


# --- Course settings and shards -----------------------------------------------------------------


def course_settings(root: Path) -> dict:
    """The course's nbgrader settings that the workers need, read from its ``nbgrader_config.py``."""
    from nbgrader.coursedir import CourseDirectory

    root = Path(root).absolute()
    if not (root / "nbgrader_config.py").is_file():
        raise GradingError(f"{root} is not an nbgrader course folder (no nbgrader_config.py): "
                           "run this in the course folder or pass --course")
    config = PyFileConfigLoader("nbgrader_config.py", path=str(root)).load_config()
    coursedir = CourseDirectory(config=config)
    if not str(coursedir.root):
        coursedir.root = str(root)
    db_url = coursedir.db_url
    if not db_url.startswith("sqlite:///"):
        raise GradingError(f"parallel grading copies the course's SQLite gradebook; this course uses {db_url}")
    return {"root": Path(coursedir.root), "db_url": db_url, "db_path": Path(db_url[len("sqlite:///"):]),
            "course_id": coursedir.course_id, "submitted": coursedir.submitted_directory,
            "autograded": coursedir.autograded_directory, "source": coursedir.source_directory}


def parse_shard(text: str) -> tuple[int, int]:
    """``"K/N"`` -> ``(K, N)``: shard K (0-based, as JOB_COMPLETION_INDEX and a 0-based Slurm array) of N."""
    match = re.fullmatch(r"\s*(\d+)\s*/\s*(\d+)\s*", str(text))
    if not match:
        raise GradingError(f"--shard {text!r}: write K/N, e.g. --shard 0/4 (shard K of N, K from 0 to N-1)")
    k, n = int(match.group(1)), int(match.group(2))
    if n < 1 or k >= n:
        raise GradingError(f"--shard {text}: in K/N, K must be 0..N-1 and N at least 1 (e.g. 0/4 .. 3/4)")
    return k, n


def shard_students(students, k: int, n: int) -> list[str]:
    """Shard ``k`` of ``n``: every n-th student of the sorted list, from the k-th."""
    return sorted(set(students))[k::n]


def class_students(root: Path, assignment: str, settings: dict | None = None) -> list[str]:
    """The students with a submitted folder for ``assignment``, sorted."""
    settings = settings or course_settings(root)
    submitted = settings["root"] / settings["submitted"]
    return sorted(p.parent.name for p in submitted.glob(f"*/{assignment}") if p.is_dir())


def _gradebook(url: str, course_id: str):
    from nbgrader.api import Gradebook

    return Gradebook(url, course_id)


def fingerprint(db_url: str, course_id: str, assignment: str) -> str:
    """What a bundle must share with the course to be merged: the assignment's notebooks, graded
    cells (points, type) and source cells (checksums), as ``nbgrader generate_assignment`` stored them."""
    from nbgrader.api import MissingEntry

    with _gradebook(db_url, course_id) as gb:
        try:
            found = gb.find_assignment(assignment)
        except MissingEntry:
            raise GradingError(f"the gradebook {db_url} has no assignment {assignment!r}: "
                               f"run `nbgrader generate_assignment {assignment}` in the course folder first") from None
        parts = []
        for nb in sorted(found.notebooks, key=lambda x: x.name):
            parts.append([nb.name,
                          sorted([c.name, float(c.max_score), c.cell_type] for c in nb.grade_cells),
                          sorted([c.name, float(c.max_score), c.cell_type] for c in nb.task_cells),
                          sorted(c.name for c in nb.solution_cells),
                          sorted([c.name, c.checksum or ""] for c in nb.source_cells)])
    return hashlib.sha256(json.dumps(parts).encode()).hexdigest()[:16]


def worker_env(root: Path, env: dict | None = None) -> dict:
    """The environment a worker's nbgrader runs in: the caller's, with the course data named
    (``ASL_DATA_DIR``, found from the course folder as a serial run would find it) and this
    Python's scripts first on PATH (nbgrader runs ``alembic``)."""
    env = dict(os.environ if env is None else env)
    if not env.get(_data.DATA_ENV, "").strip():
        for folder in (Path(root).absolute(), *Path(root).absolute().parents):
            candidate = folder / "data" / "asl_data"
            if (candidate / _data.TRAIN_FILE).is_file() and (candidate / _data.VALID_FILE).is_file():
                env[_data.DATA_ENV] = str(candidate)
                break
    folder = _data.locate(env.get(_data.DATA_ENV) or None)  # raises with the commands that get the data
    env[_data.DATA_ENV] = str(folder)
    env["PATH"] = str(Path(sys.executable).parent) + os.pathsep + env.get("PATH", "")
    env["PYTHONUNBUFFERED"] = "1"
    env.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    return env


# --- One worker ---------------------------------------------------------------------------------


def _copy_gradebook(src: Path, dest: Path) -> None:
    """A consistent copy of a SQLite file (the SQLite backup API, not a file copy)."""
    with sqlite3.connect(f"file:{src}?mode=ro", uri=True) as a, sqlite3.connect(dest) as b:
        a.backup(b)
    a.close()
    b.close()


def _seed_gradebook(dest: Path, settings: dict, students: list[str]) -> None:
    _copy_gradebook(settings["db_path"], dest)
    keep = set(students)
    with _gradebook(f"sqlite:///{dest}", settings["course_id"]) as gb:
        for student in [s.id for s in gb.students]:
            if student not in keep:
                gb.remove_student(student)


def _kill_tree(proc: subprocess.Popen) -> None:
    """Stop an nbgrader run and everything it started (kernels run in sessions of their own)."""
    import psutil

    try:
        parent = psutil.Process(proc.pid)
        family = parent.children(recursive=True) + [parent]
    except psutil.NoSuchProcess:
        family = []
    for p in family:
        try:
            p.kill()
        except psutil.NoSuchProcess:
            pass
    try:
        os.killpg(proc.pid, signal.SIGKILL)
    except (ProcessLookupError, PermissionError):
        pass
    proc.wait()
    psutil.wait_procs(family, timeout=10)


# --- Following nbgrader by its log ----------------------------------------------------------------

#: The lines of ``nbgrader autograde``'s log a worker follows (nbgrader 0.9's wording, as recorded
#: in tests/fixtures/parallel/autograde.log): where nbgrader starts on a student (its first line
#: for that student), where it has finished one (``set_permissions`` runs after every notebook of
#: the student was written), and its errors.
_STARTS = re.compile(r"^\[\w+App \| INFO\] (?:Creating/updating student with ID '(?P<a>[^']+)'"
                     r"|Sanitizing \S*?[/\\](?P<b>[^/\\]+)[/\\][^/\\]+[/\\][^/\\]+\.ipynb$)", re.M)
_FINISHED = "Setting destination file permissions"
_ERROR_LINE = re.compile(r"^\[\w+App \| (?:ERROR|CRITICAL)\] (.*)$")


@dataclasses.dataclass
class StudentLog:
    """What nbgrader's log says of one student."""

    student: str
    finished: bool  # nbgrader set the permissions of its autograded files: its last step
    errors: str  # its last three ERROR/CRITICAL messages, or "no error message in the log"


def read_progress(log_text: str) -> list[StudentLog]:
    """What an ``nbgrader autograde`` log says of each student, in the order nbgrader took them.

    If nbgrader's wording changes, this finds fewer students or none finished; the worker then
    never counts a student as graded on the log's word: a run that exits with its students'
    autograded folders written but not logged as finished stops with :func:`check_log_followed`'s
    error (re-record tests/fixtures/parallel/autograde.log with tools/record_autograde_log.py and
    follow the new wording), and a run that is still going counts as hung after ``timeout``."""
    marks = [(m.start(), m.group("a") or m.group("b")) for m in _STARTS.finditer(log_text)]
    sections: dict[str, str] = {}
    for i, (pos, student) in enumerate(marks):
        end = marks[i + 1][0] if i + 1 < len(marks) else len(log_text)
        sections[student] = sections.get(student, "") + log_text[pos:end]
    return [StudentLog(student, _FINISHED in text, _errors(text)) for student, text in sections.items()]


def _errors(text: str) -> str:
    """The last three error messages of a log; a logged traceback stands for its last line (the exception)."""
    errors: list[str] = []
    for line in text.splitlines():
        if m := _ERROR_LINE.match(line):
            errors.append(m.group(1).strip())
        elif errors and errors[-1].startswith("Traceback") and line[:1].isspace() and line.strip():
            errors[-1] = "Traceback (most recent call last): " + line.strip()
    errors = [e.replace("Traceback (most recent call last): ", "") for e in errors
              if e and not e.startswith(("There was an error processing assignment", "Please see the"))]
    return " / ".join(errors[-3:])[:1500] or "no error message in the log"


def check_log_followed(unlogged: list[str], logfile: Path) -> None:
    """:class:`GradingError` if nbgrader exited having written autograded folders for students
    (``unlogged``) its log never said it finished: its log's wording is not the one
    :func:`read_progress` reads (another nbgrader version)."""
    if unlogged:
        import nbgrader

        raise GradingError(f"nbgrader {nbgrader.__version__} graded {', '.join(unlogged)} but its log "
                           f"({logfile}) does not say so in the words this version of asl-course reads "
                           f"({_FINISHED!r}): grade with `nbgrader autograde`, or use the nbgrader version "
                           "of requirements.txt")


# --- One worker -----------------------------------------------------------------------------------


def grade_shard(root, assignment: str, students, bundle, *, shard: tuple[int, int] = (0, 1), env: dict | None = None,
                timeout: float = DEFAULT_TIMEOUT, log=print, checked: bool = False) -> dict:
    """Grade ``students`` of ``assignment`` in a private course folder; write the bundle ``bundle``.

    First each submission is checked (:func:`preflight`, unless ``checked``): those grading
    cannot take are listed under ``skipped`` with the reason and not graded.

    Returns the bundle's ``result.json`` content. Never raises for a student's failure: a
    student nbgrader could not grade, whose run died, or that made no progress for ``timeout``
    seconds is listed under ``failed`` with the reason, and the others are graded.
    """
    root = Path(root).absolute()
    settings = course_settings(root)
    students = sorted(set(students))
    bundle = Path(bundle).absolute()
    label = f"shard {shard[0]}/{shard[1]}"
    env = worker_env(root, env)
    _require_submitted(settings, assignment, students)
    bundle.parent.mkdir(parents=True, exist_ok=True)
    work = Path(tempfile.mkdtemp(prefix=f".{bundle.name}.partial-", dir=bundle.parent))
    result = _new_result(root, settings, assignment, students, shard)
    # A notebook nbgrader cannot read, or damaged so that it would be graded wrongly, is skipped with
    # the reason before anyone is graded (one bad file never stops the shard).
    result["skipped"] = {} if checked else preflight(root, assignment, students, log=log)
    students = [s for s in students if s not in result["skipped"]]
    try:
        _make_worker_folder(root, settings, work, assignment, students)
        _grade_until_done(work, settings, assignment, students, env, timeout, label, log, result)
    except Exception as exc:  # the worker itself broke: none of its students is graded
        result["graded"], result["seconds"] = [], {}
        reason = f"the worker failed: {type(exc).__name__}: {exc}"
        result["failed"] = {s: reason for s in students}
        log(f"{label}: {reason}")
    result["finished"] = _utc(time.time())
    result["wall_s"] = round(time.time() - result.pop("_started"), 1)
    _write_bundle(work, settings, result, bundle)
    return result


def _require_submitted(settings: dict, assignment: str, students: list[str]) -> None:
    missing = [s for s in students if not (settings["root"] / settings["submitted"] / s / assignment).is_dir()]
    if missing:
        raise GradingError(f"no submitted folder for {', '.join(missing)} in "
                           f"{settings['root'] / settings['submitted']}/<student>/{assignment}")


def _new_result(root: Path, settings: dict, assignment: str, students: list[str], shard) -> dict:
    """A bundle's ``result.json`` before grading (``_started``: the clock, not written)."""
    started = time.time()
    return {"format": BUNDLE_FORMAT, "assignment": assignment, "shard": list(shard), "students": students,
            "graded": [], "failed": {}, "seconds": {},
            "fingerprint": fingerprint(settings["db_url"], settings["course_id"], assignment),
            "host": socket.gethostname(), "course": str(root), "started": _utc(started), "runs": [], "skipped": {},
            "_started": started}


def _make_worker_folder(root: Path, settings: dict, work: Path, assignment: str, students: list[str]) -> None:
    """The worker's private course: config, the assignment's source, its students' hand-ins, gradebook."""
    shutil.copy(root / "nbgrader_config.py", work / "nbgrader_config.py")
    shutil.copytree(settings["root"] / settings["source"] / assignment, work / settings["source"] / assignment)
    for student in students:
        shutil.copytree(settings["root"] / settings["submitted"] / student / assignment,
                        work / settings["submitted"] / student / assignment, symlinks=True,
                        ignore=shutil.ignore_patterns("*.original.ipynb"))  # kept by `asl-course repair`
    _seed_gradebook(work / GRADEBOOK_FILE, settings, students)
    (work / "logs").mkdir()


def _grade_until_done(work, settings, assignment, students, env, timeout, label, log, result) -> None:
    """Run nbgrader over the students left until each is graded or failed (into ``result``)."""
    pending = list(students)
    run = 0
    while pending:
        run += 1
        outcome = _run_once(work, settings, assignment, pending, env, timeout,
                            work / "logs" / f"run{run}.log", label, log)
        result["runs"].append({k: outcome[k] for k in ("rc", "state", "seconds")})
        for student in outcome["graded"]:
            result["graded"].append(student)
            result["seconds"][student] = outcome["times"].get(student)
        result["failed"].update(outcome["failed"])
        done = set(outcome["graded"]) | set(outcome["failed"])
        for student in done:
            shutil.rmtree(work / settings["submitted"] / student, ignore_errors=True)
        pending = [s for s in pending if s not in done]
    result["graded"].sort()


def _write_bundle(work: Path, settings: dict, result: dict, bundle: Path) -> None:
    """Only the results go into the bundle (no course config, sources or submissions)."""
    for name in ("nbgrader_config.py", settings["source"], settings["submitted"]):
        path = work / name
        if path.is_dir():
            shutil.rmtree(path, ignore_errors=True)
        elif path.exists():
            path.unlink()
    for folder in (work / settings["autograded"]).glob("*"):
        if folder.name not in result["graded"]:
            shutil.rmtree(folder, ignore_errors=True)
    (work / RESULT_FILE).write_text(json.dumps(result, indent=1) + "\n")
    if bundle.exists():
        shutil.rmtree(bundle)
    work.rename(bundle)


def _utc(t: float) -> str:
    return datetime.datetime.fromtimestamp(t, datetime.timezone.utc).isoformat(timespec="seconds")


def _run_once(work, settings, assignment, pending, env, timeout, logfile, label, log) -> dict:
    """One ``nbgrader autograde`` run over the students left; see :func:`grade_shard`."""
    cmd = [sys.executable, "-m", "nbgrader", "autograde", assignment, "--force",
           f"--CourseDirectory.root={work}", f"--CourseDirectory.db_url=sqlite:///{work / GRADEBOOK_FILE}"]
    started = time.monotonic()
    def written(student):
        return (work / settings["autograded"] / student / assignment).is_dir()

    def say(student, seconds):
        log(f"{label}: graded {student} ({assignment}) in {seconds} s")

    with open(logfile, "w") as out:
        proc = subprocess.Popen(cmd, cwd=work, env=env, stdout=out, stderr=subprocess.STDOUT,
                                stdin=subprocess.DEVNULL, start_new_session=True)
        graded, times, state = follow(proc, logfile, written, pending, timeout, say)
    rc = proc.returncode
    if state == "done" and rc not in (0, 1):
        state = "died"
    progress = read_progress(logfile.read_text(errors="replace"))
    left = [s for s in pending if s not in graded]
    if state == "done":
        logged = {p.student for p in progress if p.finished}
        check_log_followed([s for s in left if written(s) and s not in logged], logfile)
    failed = failure_reasons(progress, left, graded, state, rc, timeout, logfile)
    for student, reason in failed.items():
        log(f"{label}: FAILED {student} ({assignment}): {reason}")
    return {"graded": graded, "failed": failed, "times": times, "rc": rc, "state": state,
            "seconds": round(time.monotonic() - started, 1)}


def follow(proc, logfile: Path, written, pending, timeout: float, say) -> tuple[list, dict, str]:
    """Watch a run's log until it exits or no student finished for ``timeout`` s (then it is killed):
    ``(graded, seconds per student, "done" | "hung")``. A student is graded once the log says nbgrader
    finished it and ``written(student)`` (its autograded folder is there)."""
    graded, times, first_seen = [], {}, {}
    last_progress = time.monotonic()
    while True:
        finished = proc.poll() is not None
        now = time.monotonic()
        for entry in read_progress(logfile.read_text(errors="replace")):
            first_seen.setdefault(entry.student, now)
            if entry.student in pending and entry.student not in graded and entry.finished and written(entry.student):
                graded.append(entry.student)
                times[entry.student] = round(now - first_seen[entry.student], 1)
                last_progress = now
                say(entry.student, times[entry.student])
        if finished:
            return graded, times, "done"
        if now - last_progress > timeout:
            _kill_tree(proc)
            return graded, times, "hung"
        time.sleep(POLL_S)


def failure_reasons(progress: list[StudentLog], left: list[str], graded: list[str], state: str, rc: int,
              timeout: float, logfile: Path) -> dict:
    """``{student: reason}`` for the students of a run that were not graded."""
    errors = {p.student: p.errors for p in progress}
    reached = [p.student for p in progress]
    in_progress = next((s for s in reversed(reached) if s not in graded), None) if state != "done" else None
    failed = {}
    for student in left:
        if student not in errors:
            continue
        if student == in_progress and state == "hung":
            failed[student] = (f"hung: no student finished for {timeout:.0f} s while grading it; its grading was "
                               f"stopped (log: logs/{logfile.name})")
        elif student == in_progress and state == "died":
            how = f"signal {-rc} ({signal.Signals(-rc).name})" if rc < 0 else f"exit status {rc}"
            failed[student] = f"the grading process died while grading it ({how}; log: logs/{logfile.name})"
        else:
            failed[student] = f"nbgrader could not grade it: {errors[student]}"
    if not graded and not failed:  # nbgrader stopped before any student: every one fails, with its reason
        why = {"hung": f"nbgrader hung for {timeout:.0f} s before grading anyone",
               "died": f"nbgrader died before grading anyone (status {rc})"}.get(state, f"nbgrader exited with {rc}")
        reason = f"{why}: {_errors(logfile.read_text(errors='replace'))} (log: logs/{logfile.name})"
        failed = {s: reason for s in left}
    return failed


# --- Merge --------------------------------------------------------------------------------------


def find_bundles(paths) -> list[Path]:
    """Bundles named, or found one level inside the folders named."""
    out = []
    for path in map(Path, paths):
        if (path / RESULT_FILE).is_file():
            out.append(path)
        elif path.is_dir():
            found = sorted(p.parent for p in path.glob(f"*/{RESULT_FILE}"))
            if not found:
                raise GradingError(f"{path} holds no grading bundle ({RESULT_FILE}): "
                                   "pass the folders given to `asl-course grade --out`")
            out.extend(found)
        else:
            raise GradingError(f"{path} does not exist (pass the folders given to `asl-course grade --out`)")
    return list(dict.fromkeys(p.absolute() for p in out))


_SUBMISSION_FIELDS = ("timestamp", "extension")
_NOTEBOOK_FIELDS = ("flagged", "late_submission_penalty")
_GRADE_FIELDS = ("auto_score", "manual_score", "extra_credit", "needs_manual_grade")
_COMMENT_FIELDS = ("auto_comment", "manual_comment")
_STUDENT_FIELDS = ("first_name", "last_name", "email", "lms_user_id")


def merge(root, bundles, *, log=print) -> dict:
    """Merge bundles into the course at ``root``: its gradebook and ``autograded/`` folders.

    Returns ``{"graded": {assignment: [students]}, "failed": {assignment: {student: reason}},
    "missing_shards": {assignment: [k, ...]}, "skipped": ..., "repaired": ...}``.
    """
    from sqlalchemy.exc import SAWarning  # the gradebook merge only (tests/test_layout.py HEAVY)

    root = Path(root).absolute()
    settings = course_settings(root)
    results = read_bundles(find_bundles(bundles))
    check_fingerprints(settings, results)
    report = {"graded": {}, "failed": {}, "missing_shards": {}, "skipped": {}, "repaired": {}}
    with warnings.catch_warnings(), _gradebook(settings["db_url"], settings["course_id"]) as gb:
        # nbgrader's add_submission warns about its own autoflush (as in every autograde run).
        warnings.simplefilter("ignore", SAWarning)
        for path, result in results:
            _merge_bundle(gb, settings, path, result, report)
    report["missing_shards"] = missing_shards([result for _, result in results], log)
    for a in report["graded"]:
        report["graded"][a].sort()
        repaired = repaired_students(root, a)
        mine = {s: repaired[s] for s in report["graded"][a] if s in repaired}
        if mine:
            report["repaired"][a] = mine
    return report


def read_bundles(paths: list[Path]) -> list[tuple[Path, dict]]:
    """``[(bundle, its result.json)]``; :class:`GradingError` for one unreadable or of another format."""
    results = []
    for path in paths:
        try:
            result = json.loads((path / RESULT_FILE).read_text())
        except (OSError, ValueError) as exc:
            raise GradingError(f"{path / RESULT_FILE} cannot be read ({exc}): grade that shard again") from None
        if not isinstance(result, dict) or result.get("format") != BUNDLE_FORMAT:
            found = result.get("format") if isinstance(result, dict) else None
            raise GradingError(f"{path} is a bundle of format {found}, this version reads {BUNDLE_FORMAT}")
        results.append((path, result))
    return results


def check_fingerprints(settings: dict, results: list[tuple[Path, dict]]) -> None:
    """:class:`GradingError` for a bundle graded against another version of its assignment."""
    fingerprints: dict[str, str] = {}
    for path, result in results:
        a = result["assignment"]
        if a not in fingerprints:
            fingerprints[a] = fingerprint(settings["db_url"], settings["course_id"], a)
        if result["fingerprint"] != fingerprints[a]:
            raise GradingError(f"{path} was graded against another version of {a} than this course's gradebook "
                               f"holds (its cells or checksums differ): grade that shard again")


def _merge_bundle(gb, settings: dict, path: Path, result: dict, report: dict) -> None:
    """One bundle into the course: its graded students' rows and autograded folders; its skipped
    and failed students into the report, with no autograded folder left (as nbgrader leaves none)."""
    from nbgrader.api import MissingEntry

    a = result["assignment"]
    with _gradebook(f"sqlite:///{path / GRADEBOOK_FILE}", settings["course_id"]) as src:
        for student in result["graded"]:
            _merge_submission(gb, src, a, student, MissingEntry)
            dest = settings["root"] / settings["autograded"] / student / a
            if dest.exists():
                shutil.rmtree(dest)
            shutil.copytree(path / settings["autograded"] / student / a, dest, symlinks=True)
            report["graded"].setdefault(a, []).append(student)
    skipped = result.get("skipped", {})
    for student, reason in {**skipped, **result["failed"]}.items():
        stale = settings["root"] / settings["autograded"] / student / a
        if stale.exists():
            shutil.rmtree(stale)
        if student in skipped:
            report["skipped"].setdefault(a, {})[student] = reason
        else:
            report["failed"].setdefault(a, {})[student] = reason


def missing_shards(results: list[dict], log=print) -> dict:
    """``{assignment: [k, ...]}``: the shards of ``n`` no bundle was merged for (``n`` the largest
    count seen; bundles of different counts are merged with a warning)."""
    seen: dict[str, dict] = {}
    for result in results:
        k, n = result["shard"]
        seen.setdefault(result["assignment"], {"n": set(), "k": set()})
        seen[result["assignment"]]["n"].add(n)
        seen[result["assignment"]]["k"].add(k)
    out = {}
    for a, s in seen.items():
        if len(s["n"]) > 1:
            log(f"warning: {a}: bundles of different shard counts ({sorted(s['n'])}) were merged")
        missing = sorted(set(range(max(s["n"]))) - s["k"])
        if missing:
            out[a] = missing
    return out


# --- Never stop on one notebook ------------------------------------------------------------------


def preflight(root, assignment: str, students, *, log=print) -> dict:
    """``{student: why}`` of the submissions grading skips (see :func:`asl_course.grading.instructor.repair.triage`):
    empty, binary, invalid JSON, an export instead of a notebook, another assignment's notebook,
    too large, or damaged (duplicated, retyped, moved cells, nbgrader metadata gone) and not yet
    repaired. A failure of the check itself grades the student anyway (nbgrader then decides)."""
    root = Path(root).absolute()
    skipped = {}
    try:
        context = {"release": repair.release_notebook(root, assignment),
                   "solutions": repair.solution_answers(root, assignment), "others": repair.other_ids(root, assignment)}
    except Exception as exc:  # noqa: BLE001 - no release to compare with: grading goes on as before
        log(f"{assignment}: submissions not checked before grading ({exc})")
        return skipped
    for student in students:
        try:
            status, why = repair.triage(root, assignment, student, context=context)
        except Exception as exc:  # noqa: BLE001
            log(f"{assignment}: {student}: the check before grading failed ({type(exc).__name__}: {exc}); graded anyway")
            continue
        if status != "ok":
            skipped[student] = why
            log(f"{assignment}: SKIPPED {student}: {why}")
    return skipped


def repaired_students(root, assignment: str) -> dict:
    """``{student: [repairs]}``: the students whose graded notebook ``asl-course repair`` rebuilt."""
    summary = repair.read_summary(root, assignment) or {}
    folder = Path(root) / "submitted"
    return {s: r for s, r in summary.get("repaired", {}).items()
            if (folder / s / assignment / f"{assignment}{repair.ORIGINAL_SUFFIX}").is_file()}


def _merge_submission(gb, src, assignment: str, student: str, MissingEntry) -> None:
    source = src.find_submission(assignment, student)
    try:
        gb.find_student(student)
    except MissingEntry:
        who = src.find_student(student)
        gb.add_student(student, **{f: getattr(who, f) for f in _STUDENT_FIELDS})
    dest = gb.update_or_create_submission(assignment, student)
    for field in _SUBMISSION_FIELDS:
        setattr(dest, field, getattr(source, field))
    for nb in source.notebooks:
        target = gb.find_submission_notebook(nb.name, assignment, student)
        for field in _NOTEBOOK_FIELDS:
            setattr(target, field, getattr(nb, field))
        for grade in nb.grades:
            row = gb.find_grade(grade.name, nb.name, assignment, student)
            for field in _GRADE_FIELDS:
                setattr(row, field, getattr(grade, field))
        for comment in nb.comments:
            row = gb.find_comment(comment.name, nb.name, assignment, student)
            for field in _COMMENT_FIELDS:
                setattr(row, field, getattr(comment, field))
    gb.db.commit()


# --- One machine, N workers ---------------------------------------------------------------------


def students_to_grade(root: Path, assignment: str, students=None) -> list[str]:
    """``students`` (else everyone who handed in ``assignment``), sorted; :class:`GradingError` if the
    assignment is not in the gradebook, a student named has no submitted folder, or nobody has one."""
    settings = course_settings(root)
    fingerprint(settings["db_url"], settings["course_id"], assignment)  # the assignment is generated
    everyone = class_students(root, assignment, settings)
    if students:
        unknown = sorted(set(students) - set(everyone))
        if unknown:
            raise GradingError(f"no submitted/<student>/{assignment} folder for {', '.join(unknown)}")
        everyone = sorted(set(students))
    if not everyone:
        raise GradingError(f"nobody has handed in {assignment}: no {settings['submitted']}/<student>/{assignment} "
                           f"folder in {settings['root']}")
    return everyone


def grade(root, assignment: str, *, workers: int = 2, students=None, env: dict | None = None,
          timeout: float = DEFAULT_TIMEOUT, keep=None, log=print) -> dict:
    """Grade ``assignment`` (every submitted student, or ``students``) with ``workers`` parallel
    workers on this machine, then merge into the course. Returns the merge report, with
    ``wall_s`` and each shard's ``result.json`` under ``shards``."""
    root = Path(root).absolute()
    if workers < 1:
        raise GradingError("--workers must be at least 1")
    everyone = students_to_grade(root, assignment, students)
    env = worker_env(root, env)
    skipped = preflight(root, assignment, everyone, log=log)
    everyone = [s for s in everyone if s not in skipped]
    if not everyone:
        report = {"graded": {}, "failed": {}, "missing_shards": {}, "skipped": {assignment: skipped},
                  "repaired": {}, "wall_s": 0.0, "workers": 0, "shards": []}
        return report
    n = min(workers, len(everyone))
    out = Path(keep).absolute() if keep else Path(tempfile.mkdtemp(prefix=".asl-grade-", dir=root))
    started = time.monotonic()
    lock = threading.Lock()

    def say(message):
        with lock:
            log(message)

    def one(k):
        return grade_shard(root, assignment, shard_students(everyone, k, n), out / f"{assignment}.shard-{k}-of-{n}",
                           shard=(k, n), env=env, timeout=timeout, log=say, checked=True)

    say(f"{assignment}: {len(everyone)} students, {n} worker{'s' * (n > 1)}")
    try:
        with concurrent.futures.ThreadPoolExecutor(n) as pool:
            shards = list(pool.map(one, range(n)))
        report = merge(root, [out / f"{assignment}.shard-{k}-of-{n}" for k in range(n)], log=say)
    finally:
        if not keep:
            shutil.rmtree(out, ignore_errors=True)
    if skipped:
        report["skipped"][assignment] = {**report["skipped"].get(assignment, {}), **skipped}
    report["wall_s"] = round(time.monotonic() - started, 1)
    report["workers"] = n
    report["shards"] = shards
    return report
