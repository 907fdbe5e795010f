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


@pytest.mark.slow
def test_nbgrader_validate_passes_notebooks_4_and_5_and_a_solved_student_notebook(tmp_path, data_dir):
    """A fresh course folder: notebook 4 trains one epoch and saves the model; notebook 5 has no
    model, so its catch-up trains one; a student's solved notebook 5 with notebook 4's model."""
    from asl_course.tooling import classroom

    course = tmp_path / "course"
    shutil.copytree(REPO / "source" / TRAIN, course / "source" / TRAIN)
    shutil.copytree(REPO / "source" / PREDICT, course / "source" / PREDICT)
    shutil.copy(REPO / "nbgrader_config.py", course)
    student = course / "release" / PREDICT
    student.mkdir(parents=True)
    nbformat.write(classroom.solution_notebook(REPO, PREDICT), student / f"{PREDICT}.ipynb")

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
