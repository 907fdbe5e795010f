"""What the tests of the course's nbgrader plugins share (tests/test_plugin_execute.py,
test_plugin_limits.py, test_plugin_verify.py): small notebooks built in memory, the grading
session (one real :class:`~asl_course.grading.plugins.autograder.GradingSession`, its verifier
process included, on the synthetic stand-in: made once per test session in tests/conftest.py,
the autograder's own for the length of each module), GuardedExecute with and without a kernel.
"""

from __future__ import annotations

import os

import numpy as np
import pytest
from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook, new_output
from traitlets.config import Config

from asl_course import grading
from asl_course.grading.plugins import autograder, sandbox

ONE_HOT = "test_one_hot"  # the cheapest exercise to record and verify (two label arrays)


# --- Notebooks in memory -----------------------------------------------------------------------------


def nbgrader_meta(cell, grade_id, *, grade=False, solution=False, points=1):
    cell.metadata["nbgrader"] = {"grade": grade, "solution": solution, "locked": grade and not solution,
                                 "grade_id": grade_id, "schema_version": 3, "task": False}
    if grade:
        cell.metadata["nbgrader"]["points"] = points
    return cell


def answer(source, grade_id):
    """An answer cell (nbgrader solution cell)."""
    return nbgrader_meta(new_code_cell(source), grade_id, solution=True)


def graded_cell(source, grade_id, outputs=()):
    """A test cell (nbgrader grade cell, locked), with outputs as the kernel left them."""
    cell = nbgrader_meta(new_code_cell(source), grade_id, grade=True)
    cell.outputs = [new_output(**o) if isinstance(o, dict) else o for o in outputs]
    return cell


def stdout(text):
    return new_output("stream", name="stdout", text=text)


def stderr(text):
    return new_output("stream", name="stderr", text=text)


def error(ename, evalue, traceback=None):
    return new_output("error", ename=ename, evalue=evalue, traceback=traceback or [f"{ename}: {evalue}"])


def result(text):
    return new_output("execute_result", data={"text/plain": text}, execution_count=1)


def score(cell):
    """nbgrader's score of a test cell (what SaveAutoGrades stores)."""
    from nbgrader.utils import determine_grade

    return determine_grade(cell)[0]


def errors(cell):
    return [o for o in cell.outputs if o.output_type == "error"]



# --- The grading session ------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def session(plugin_grading_session):
    """The session of tests/conftest.py, the autograder's own (``GradingSession.get()``) while a
    module of plugin tests runs, with its data as ``$ASL_DATA_DIR``."""
    previous = autograder.GradingSession._instance
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("ASL_DATA_DIR", str(plugin_grading_session.asl_data_dir))
        autograder.GradingSession._instance = plugin_grading_session
        try:
            yield plugin_grading_session
        finally:
            autograder.GradingSession._instance = previous


def one_hot(labels):
    return np.eye(grading.NUM_CLASSES)[labels]


def record(monkeypatch, folder, namespace, grade_id=ONE_HOT):
    """What the hidden test of ``grade_id`` writes for the verifier when it runs in a kernel
    holding ``namespace`` (grading.check, with the notebook's grading folder)."""
    monkeypatch.setenv(grading.GRADING_DIR_ENV, str(folder))
    try:
        grading.check(grade_id, dict(namespace))
    except grading.GradingFailed:
        pass  # the kernel's message; what scores is the verifier's verdict
    finally:
        monkeypatch.delenv(grading.GRADING_DIR_ENV)


def right(session):
    ref = session.reference
    return {"y_train": one_hot(ref.y_train), "y_valid": one_hot(ref.y_valid), "num_classes": 24}


def wrong(session):
    ref = session.reference
    return {"y_train": ref.y_train.copy(), "y_valid": ref.y_valid.copy(), "num_classes": 24}


def one_hot_notebook(outputs, answer_source="y_train = keras.utils.to_categorical(y_train, 24)"):
    """Notebook 1's one-hot exercise: its answer cell and its test cell (with the kernel's outputs)."""
    return new_notebook(cells=[
        new_markdown_cell("## One-hot encode the labels"),
        answer(answer_source, "one_hot"),
        graded_cell('"""Self-check."""\n### BEGIN HIDDEN TESTS\n__import__("asl_course.grading.fresh", fromlist=["check"]).check("test_one_hot", globals())\n'
                  "### END HIDDEN TESTS", ONE_HOT, outputs),
    ])


def verify(nb, folder):
    nb, _ = autograder.VerifyOutsideKernel().preprocess(nb, {"asl_grading": str(folder),
                                                             "nbgrader": {"student": "s", "notebook": "nb"}})
    return nb.cells[2]


# --- GuardedExecute without a kernel ----------------------------------------------------------------------


@pytest.fixture
def no_kernel(monkeypatch):
    """nbgrader's Execute replaced by a stand-in that records, for each cell, the time limit
    nbclient would give it and the environment a kernel would inherit, and optionally fails
    as a kernel that cannot start does. GuardedExecute's own code runs as in grading."""
    from nbgrader.preprocessors import Execute

    seen = {"raise": None, "during": None}

    def preprocess(self, nb, resources=None, km=None):
        seen["timeouts"] = [self._get_timeout(cell) for cell in nb.cells]
        seen["env"] = {k: os.environ.get(k) for k in ("PYTHONPATH", "ASL_DATA_DIR", "ASL_COURSE_FAST",
                                                      grading.GRADING_DIR_ENV, grading.GRADING_CODE_ENV)}
        if seen["during"]:
            seen["during"]()
        if seen["raise"]:
            raise seen["raise"]
        return nb, resources

    monkeypatch.setattr(Execute, "preprocess", preprocess, raising=False)
    return seen


def executor(**settings):
    config = Config()
    config.GuardedExecute.sandbox = "none"  # no kernel is started by these tests
    for key, value in settings.items():
        setattr(config.GuardedExecute, key, value)
    return autograder.GuardedExecute(config=config)



# --- GuardedExecute with a kernel (tiny cells) ---------------------------------------------------------------


def bad_answer(source, test="print('not reached')", *after):
    """A setup cell, an answer cell running ``source`` (the trouble), its test cell, then ``after``."""
    return [new_code_cell("x = 1"), answer(source, "images"), graded_cell(test, "test_images"), *after]


def run_cells(cells, tmp_path, name="nb", **settings):
    """Run ``cells`` through GuardedExecute as grading does (sandboxed when bubblewrap is here)."""
    config = Config()
    config.GuardedExecute.sandbox = "bubblewrap" if sandbox.available() else "none"
    for key, value in settings.items():
        setattr(config.GuardedExecute, key, value)
    resources = {"metadata": {"path": str(tmp_path / name)}, "nbgrader": {"student": "s", "notebook": name}}
    nb, resources = autograder.GuardedExecute(config=config).preprocess(new_notebook(cells=cells), resources)
    return nb, resources


def stdout_text(cell):
    return "".join(o.get("text", "") for o in cell.outputs if o.output_type == "stream")



# --- The sandbox's resource limits (tiny limits, tiny cells) -------------------------------------------------

MiB = 2**20
#: Limits small enough for bombs that cost nothing here, large enough for a kernel (about 60 MiB, 15 tasks).
TINY = {"memory_limit": 256 * MiB, "max_processes": 64, "disk_limit": 16 * MiB, "timeout": 20, "iopub_timeout": 10}
needs_bwrap = pytest.mark.skipif(not sandbox.available(), reason="the limits are the sandbox's")


def stopped_by(cell) -> str:
    return " ".join(o.evalue for o in errors(cell) if o.ename == "KernelStopped")



# --- VerifyOutsideKernel ---------------------------------------------------------------------------------------


PASSES = stdout("\u2714 graded: test_one_hot passes\n")


def graded_folder(session, monkeypatch, namespace=None, runs=1):
    """A notebook's grading folder after its test cell: the hidden test ran ``runs`` times in a
    kernel holding ``namespace``, then the autograder secured the measurements."""
    folder = session.prepare_notebook()
    for _ in range(runs):
        record(monkeypatch, folder, namespace)
    session.secure(ONE_HOT, folder)
    return folder

