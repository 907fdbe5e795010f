"""``nbgrader validate`` as people run it: the command, in the course folder, on the session's data
(the real release in CI), with no ``ASL_COURSE_FAST`` set.

nbgrader's Validator runs each cell under its own Execute limit (30 s unless configured), and the
JupyterLab *Validate* button runs the same Validator with the ``nbgrader_config.py`` of the folder
JupyterLab was started in. A validation trains what grading trains (fast mode), and the course's
config gives each cell of a validation at least the autograder's longest per-cell limit
(``c.Validator.Execute.timeout``, 1200 s). The Validate button itself is tested in tests/test_browser.py;
tests/test_registry.py validates every source notebook through the Python API on the stand-in.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

import nbformat
import pytest

REPO = Path(__file__).resolve().parent.parent
TRAIN, PREDICT = "04_train_and_save", "05_predictions"
SUCCESS = "Success! Your notebook passes all the tests."
MODEL = "asl_model.keras"


def course_config(folder: Path):
    """The configuration nbgrader's Validate button loads (its handler's own steps): the
    ``nbgrader_config.py`` of the server's working folder, then Jupyter's config paths."""
    from jupyter_core.paths import jupyter_config_path
    from nbgrader.apps import NbGrader

    cwd = os.getcwd()
    os.chdir(folder)
    try:
        app = NbGrader()
        app.config_file_paths.append([os.getcwd(), *jupyter_config_path()])
        app.load_config_file()
        return app.config
    finally:
        os.chdir(cwd)


def test_a_validation_gives_each_cell_the_autograders_longest_limit_and_grading_keeps_its_own():
    from nbgrader.preprocessors import Execute
    from nbgrader.validator import Validator

    from asl_course.grading.plugins.autograder import GuardedExecute

    config = course_config(REPO)
    validating = Execute(parent=Validator(config=config))  # as the Validator makes it
    grading = GuardedExecute(config=config)
    longest = max(grading.timeout, grading.first_cell_timeout, *grading.cell_timeouts.values())
    assert validating.timeout >= longest, (
        f"nbgrader validate gives a cell {validating.timeout} s; grading gives the training cell {longest} s")
    assert grading.timeout == GuardedExecute.timeout.default_value, "the validator's limit reached the autograder"
    assert Execute(config=config).timeout == Execute.timeout.default_value, "the limit is not scoped to the Validator"


def validate(course: Path, notebook: Path) -> tuple[str, float]:
    """``nbgrader validate NOTEBOOK`` in ``course``, as an instructor or a student types it (it
    exits 0 whatever it finds): its output and seconds."""
    env = {k: v for k, v in os.environ.items() if k not in ("ASL_COURSE_FAST", "ASL_COURSE_AUTOMATED")}
    start = time.monotonic()
    done = subprocess.run([sys.executable, "-m", "nbgrader", "validate", str(notebook.relative_to(course))],
                          cwd=course, env=env, capture_output=True, text=True, timeout=1800)
    seconds = time.monotonic() - start
    assert done.returncode == 0, done.stderr[-3000:]
    return done.stdout, seconds


def course_with(tmp_path: Path, *assignments: str) -> Path:
    """A fresh course folder with these assignments' source notebooks and the course's config."""
    course = tmp_path / "course"
    for name in assignments:
        shutil.copytree(REPO / "source" / name, course / "source" / name)
    shutil.copy(REPO / "nbgrader_config.py", course)
    return course


def solved_student_notebook(course: Path) -> Path:
    """A student's solved notebook 5 in its release folder (as the student works on it)."""
    from asl_course.tooling import classroom

    student = course / "release" / PREDICT
    student.mkdir(parents=True)
    nbformat.write(classroom.solution_notebook(REPO, PREDICT), student / f"{PREDICT}.ipynb")
    return student / f"{PREDICT}.ipynb"


@pytest.mark.slow
def test_nbgrader_validate_passes_notebook_5_and_a_solved_student_notebook_with_a_trained_model(
        tmp_path, data_dir, trained_model):
    """Notebook 5 (source and a student's solved copy) with a trained model beside it, as the
    README tells a student to copy it from notebook 4's folder: the session's trained model
    (tests/conftest.py), so that no validation trains. Notebook 4's own validation (it trains one
    epoch) and notebook 5's catch-up training without a model: the ``full_class`` test below."""
    course = course_with(tmp_path, PREDICT)
    student = solved_student_notebook(course)
    times = {}
    for notebook in (course / "source" / PREDICT / f"{PREDICT}.ipynb", student):
        shutil.copy(trained_model[0], notebook.parent / MODEL)
        out, times[str(notebook.relative_to(course))] = validate(course, notebook)
        assert out.strip() == SUCCESS, f"nbgrader validate {notebook}:\n{out[-4000:]}"
    print("nbgrader validate seconds:", ", ".join(f"{name} {s:.0f}" for name, s in times.items()))


@pytest.mark.slow
@pytest.mark.full_class
def test_nbgrader_validate_passes_notebooks_4_and_5_and_a_solved_student_notebook(tmp_path, data_dir):
    """A fresh course folder: notebook 4 trains one epoch and saves the model; notebook 5 has no
    model, so its catch-up trains one; a student's solved notebook 5 with notebook 4's model.

    Left out of CI (``full_class``: two trainings of a fast-mode epoch, ~400 s beside the class):
    CI validates notebook 5 with a trained model (above), nbval runs notebook 4's training, the
    simulated class grades it, and tests/test_registry.py validates every notebook on the stand-in."""
    course = course_with(tmp_path, TRAIN, PREDICT)
    student = solved_student_notebook(course).parent
    times = {}
    for notebook in (course / "source" / TRAIN / f"{TRAIN}.ipynb", course / "source" / PREDICT / f"{PREDICT}.ipynb"):
        assert not (notebook.parent / MODEL).exists()
        out, times[notebook.parent.name] = validate(course, notebook)
        assert out.strip() == SUCCESS, f"nbgrader validate {notebook.name}:\n{out[-4000:]}"
        assert (notebook.parent / MODEL).is_file(), f"{notebook.name}: validation did not reach the saved model"
    shutil.copy(course / "source" / TRAIN / MODEL, student)  # the README: copy it from notebook 4's folder
    out, times["student's " + PREDICT] = validate(course, student / f"{PREDICT}.ipynb")
    assert out.strip() == SUCCESS, f"nbgrader validate, a solved student notebook 5:\n{out[-4000:]}"
    print("nbgrader validate seconds:", ", ".join(f"{name} {s:.0f}" for name, s in times.items()))
