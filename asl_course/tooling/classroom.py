"""The instructor's nbgrader workflow on a throwaway copy of the course, with simulated students.

Used by the grading tests (``tests/test_grading.py``) and ``asl-course bench grading``:

    course = Course.create(tmp_path)                      # nbgrader_config.py + source/
    course.generate("01_prepare_data")                      # nbgrader generate_assignment
    course.submit("alice", "01_prepare_data", solution_notebook(course.root, "01_prepare_data"))
    course.autograde("01_prepare_data")                     # nbgrader autograde (all students)
    course.generate_feedback("01_prepare_data")             # nbgrader generate_feedback
    course.export()                                         # nbgrader export -> grades.csv rows
    course.scores("01_prepare_data")                        # {student: {grade_id: score}}

A submission is a release notebook with some cells edited, made with the helpers below
(:func:`solution_notebook`, :func:`release_notebook`, :func:`replace`, :func:`set_source`,
:func:`delete_cell`, :func:`insert_after`, :func:`stub`): string replacements in the cells
named by their nbgrader grade_id, as a student would type them.
"""

from __future__ import annotations

import copy
import csv
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

import nbformat

from asl_course.grading import cells
from asl_course.tooling import editions
from asl_course.errors import UserError

#: What a course folder for grading holds (everything else is made by nbgrader).
COURSE_FILES = ("nbgrader_config.py", "source")


class NbgraderFailed(UserError):
    """An nbgrader command failed (its output is in the message)."""


class Course:
    """An nbgrader course folder (a copy of this course's config and source notebooks)."""

    def __init__(self, root: Path, env: dict | None = None):
        self.root = Path(root)
        self.env = dict(os.environ if env is None else env)
        self.log: list[tuple[str, float]] = []

    @classmethod
    def create(cls, dest: str | os.PathLike, *, repo: Path | None = None, data_dir: Path | None = None,
               config_extra: str = "") -> "Course":
        """Copy the course's ``nbgrader_config.py`` and ``source/`` into ``dest``.

        ``data_dir``: the data to grade with (else ``$ASL_DATA_DIR`` or the repository's
        ``data/asl_data``); ``config_extra``: lines appended to the copied config.
        """
        repo = Path(repo or editions.repo_root())
        dest = Path(dest)
        dest.mkdir(parents=True, exist_ok=True)
        shutil.copy(repo / "nbgrader_config.py", dest / "nbgrader_config.py")
        if config_extra:
            with open(dest / "nbgrader_config.py", "a") as handle:
                handle.write("\n# --- added for this run ---\n" + config_extra + "\n")
        shutil.copytree(repo / "source", dest / "source", dirs_exist_ok=True)
        env = dict(os.environ)
        if data_dir is not None:
            env["ASL_DATA_DIR"] = str(Path(data_dir).absolute())
        env.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
        # nbgrader runs `alembic` from PATH: put this Python's scripts first (a venv not activated).
        env["PATH"] = str(Path(sys.executable).parent) + os.pathsep + env.get("PATH", "")
        for key in ("NBGRADER_EXECUTION", "ASL_GRADING_DIR", "ASL_GRADING_CODE", "ASL_GRADING_PLAN"):
            env.pop(key, None)
        return cls(dest, env)

    # --- nbgrader commands ---

    def nbgrader(self, *args: str, timeout: float = 3600, check: bool = True) -> subprocess.CompletedProcess:
        started = time.monotonic()
        result = subprocess.run([sys.executable, "-m", "nbgrader", *args], cwd=self.root, env=self.env,
                                capture_output=True, text=True, timeout=timeout)
        self.log.append((" ".join(args), time.monotonic() - started))
        if check and result.returncode != 0:
            raise NbgraderFailed(f"nbgrader {' '.join(args)} exited with {result.returncode}:\n"
                                 f"{result.stdout[-3000:]}\n{result.stderr[-6000:]}")
        return result

    def generate(self, assignment: str) -> None:
        self.nbgrader("generate_assignment", assignment, "--force")

    def generate_all(self) -> None:
        """Release every assignment of ``source/`` in one nbgrader run (nbgrader globs the
        assignment id: one start-up instead of one per assignment)."""
        self.nbgrader("generate_assignment", "*", "--force")

    def autograde(self, assignment: str, *students: str, timeout: float = 3600) -> subprocess.CompletedProcess:
        args = ["autograde", assignment, "--force"]
        if students:
            args += [f"--student={s}" for s in students]
        return self.nbgrader(*args, timeout=timeout)

    def generate_feedback(self, assignment: str) -> None:
        self.nbgrader("generate_feedback", assignment, "--force")

    def export(self) -> list[dict]:
        self.nbgrader("export")
        with open(self.root / "grades.csv", newline="") as handle:
            return list(csv.DictReader(handle))

    # --- submissions and results ---

    def release_notebook(self, assignment: str):
        return nbformat.read(self.root / "release" / assignment / f"{assignment}.ipynb", as_version=4)

    def submit(self, student: str, assignment: str, nb, files: dict[str, bytes] | None = None) -> Path:
        folder = self.root / "submitted" / student / assignment
        if folder.exists():
            shutil.rmtree(folder)
        folder.mkdir(parents=True)
        nbformat.write(nb, folder / f"{assignment}.ipynb")
        for name, content in (files or {}).items():
            (folder / name).write_bytes(content)
        return folder

    def scores(self, assignment: str) -> dict[str, dict[str, float]]:
        """``{student: {grade_id: score}}`` from the gradebook."""
        from nbgrader.api import Gradebook

        out: dict[str, dict[str, float]] = {}
        with Gradebook(f"sqlite:///{self.root / 'gradebook.db'}") as gb:
            for submission in gb.assignment_submissions(assignment):
                student = submission.student.id
                out[student] = {}
                for nb in submission.notebooks:
                    for grade in nb.grades:
                        if grade.cell.max_score:
                            out[student][grade.name] = float(grade.score or 0)
        return out

    def feedback_html(self, student: str, assignment: str) -> str:
        return (self.root / "feedback" / student / assignment / f"{assignment}.html").read_text()

    def autograded_notebook(self, student: str, assignment: str):
        return nbformat.read(self.root / "autograded" / student / assignment / f"{assignment}.ipynb", as_version=4)


# --- Making submissions --------------------------------------------------------------------------


def _cell(nb, grade_id: str):
    for cell in nb.cells:
        if cells.grade_id(cell) == grade_id:
            return cell
    raise KeyError(f"no cell with grade_id {grade_id!r}")


def release_notebook(root: Path, assignment: str):
    """The student edition as nbgrader released it (``root/release/...``)."""
    return nbformat.read(Path(root) / "release" / assignment / f"{assignment}.ipynb", as_version=4)


def solution_notebook(root: Path, assignment: str):
    """The release with every answer cell filled in as the solution does: a perfect submission."""
    nb = release_notebook(root, assignment)
    source = nbformat.read(Path(root) / "source" / assignment / f"{assignment}.ipynb", as_version=4)
    answers = {cells.grade_id(c): editions.solved(c.source) for c in source.cells if cells.is_solution(c)}
    for grade_id, answer in answers.items():
        _cell(nb, grade_id).source = answer
    return nb


def replace(nb, grade_id: str, old: str, new: str, count: int = 1):
    """Replace ``old`` by ``new`` in one cell (``old`` must be there)."""
    nb = copy.deepcopy(nb)
    cell = _cell(nb, grade_id)
    if old not in cell.source:
        raise ValueError(f"{old!r} is not in cell {grade_id}:\n{cell.source}")
    cell.source = cell.source.replace(old, new, count)
    return nb


def set_source(nb, grade_id: str, source: str):
    nb = copy.deepcopy(nb)
    _cell(nb, grade_id).source = source
    return nb


def stub(nb, grade_id: str):
    """Put the release's stub back in an answer cell (an exercise left undone)."""
    return set_source(nb, grade_id, editions.STUB)


def delete_cell(nb, grade_id: str):
    nb = copy.deepcopy(nb)
    nb.cells = [c for c in nb.cells if cells.grade_id(c) != grade_id]
    return nb


def insert_after(nb, grade_id: str | None, source: str):
    """A new code cell (as a student adds one) after the cell ``grade_id`` (None: after setup)."""
    nb = copy.deepcopy(nb)
    if grade_id is None:
        index = next(i for i, c in enumerate(nb.cells) if c.cell_type == "code")
    else:
        index = nb.cells.index(_cell(nb, grade_id))
    nb.cells.insert(index + 1, nbformat.v4.new_code_cell(source))
    return nb


def points(root: Path, assignment: str) -> dict[str, float]:
    """``{grade_id: points}`` of an assignment's test cells, from its source notebook."""
    nb = nbformat.read(Path(root) / "source" / assignment / f"{assignment}.ipynb", as_version=4)
    return {cells.grade_id(c): cells.points(c) for c in nb.cells if cells.is_grade(c)}
