"""The autograder's GuardedExecute on its own, on small notebooks built in memory (as nbgrader's
own tests do for its preprocessors: ``Plugin(config).preprocess(nb, resources)``, no
``nbgrader autograde``, no course folder; tests/test_grading.py runs the simulated class).

Per-cell time limits, a grading folder per notebook and the kernel's environment, a kernel that
fails to start, dies or cannot be interrupted (only its notebook stops, with the reason
:func:`~asl_course.grading.plugins.autograder.stop_reasons` gives), data a submission changed is
restored, and a test cell's own outputs decide nothing (the verifier's verdict decides the
repair). Kernels run in the bubblewrap sandbox when it is installed; tiny cells, no TensorFlow.
The grading session: tests/_plugins.py.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from nbclient.exceptions import CellTimeoutError, DeadKernelError
from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook

from asl_course import grading
from asl_course.grading.plugins import autograder

from _plugins import (ONE_HOT, answer, bad_answer, error, errors, executor, graded_cell, no_kernel, run_cells, score,  # noqa: F401
                      session, stdout_text)


def test_time_limit_of_each_cell_is_by_first_cell_then_grade_id_then_default(session, no_kernel, tmp_path):
    nb = new_notebook(cells=[
        new_markdown_cell("# Title"),
        new_code_cell("   \n"),  # empty: not the setup cell
        new_code_cell("import numpy as np"),  # the setup cell
        answer("model.fit(...)", "fit"),
        graded_cell("check()", "test_fit"),
        new_code_cell("print(1)"),
        answer("x = 1", "images"),
    ])
    ex = executor(timeout=7, first_cell_timeout=11, cell_timeouts={"fit": 13, "test_fit": 17})
    ex.preprocess(nb, {"metadata": {"path": str(tmp_path)}})
    assert no_kernel["timeouts"][2:] == [11, 13, 17, 7, 7]
    assert no_kernel["timeouts"][1] == 7

    # The setup cell's limit wins even when it has a grade_id with a limit of its own.
    nb = new_notebook(cells=[answer("slow setup", "fit"), answer("model.fit(...)", "fit")])
    ex.preprocess(nb, {"metadata": {"path": str(tmp_path)}})
    assert no_kernel["timeouts"] == [11, 13]

    # The defaults are the course's: the registry's limits by grade_id, 240 s for setup, 60 s else.
    ex = autograder.GuardedExecute()
    assert ex.cell_timeouts == grading.CELL_TIMEOUTS and grading.CELL_TIMEOUTS["fit"] >= 600
    assert (ex.first_cell_timeout, ex.timeout) == (autograder.FIRST_CELL_TIMEOUT, 60)


def test_each_notebook_gets_its_own_grading_folder_and_fast_mode(session, no_kernel, tmp_path, monkeypatch):
    monkeypatch.setenv("ASL_COURSE_FAST", "as before")
    monkeypatch.delenv(grading.GRADING_DIR_ENV, raising=False)
    resources = {"metadata": {"path": str(tmp_path / "student")}}
    executor().preprocess(new_notebook(cells=[new_code_cell("x = 1")]), resources)
    folder = Path(resources["asl_grading"])
    env = no_kernel["env"]
    assert env["ASL_COURSE_FAST"] == "1"
    assert env[grading.GRADING_DIR_ENV] == str(folder)
    assert env["ASL_DATA_DIR"] == str(folder / "data") != str(session.data_dir)  # a copy, not the grader's
    assert env["PYTHONPATH"].split(os.pathsep)[0] == str(folder / "pkg")
    assert Path(env[grading.GRADING_CODE_ENV]) == folder / "pkg" / "asl_course" / "grading" / "__init__.py"
    assert Path(env[grading.GRADING_CODE_ENV]).read_bytes() == Path(grading.__file__).read_bytes()
    assert sorted(p.name for p in (folder / "data").iterdir()) == sorted(session.data_files)
    assert (folder / "reference.npz").is_file() and (folder / "artefacts").is_dir()
    # the grader's environment comes back after the notebook
    assert os.environ["ASL_COURSE_FAST"] == "as before" and grading.GRADING_DIR_ENV not in os.environ
    # the next notebook gets another folder
    again = {"metadata": {"path": str(tmp_path / "student")}}
    executor().preprocess(new_notebook(cells=[new_code_cell("x = 1")]), again)
    assert again["asl_grading"] != resources["asl_grading"]


def test_a_kernel_that_cannot_start_scores_the_notebooks_tests_0(session, no_kernel, tmp_path):
    no_kernel["raise"] = RuntimeError("Kernel didn't respond in 60 seconds")
    nb = new_notebook(cells=[
        new_code_cell("import numpy as np"),
        answer("x = 1", "images"),
        graded_cell("check()", "test_images"),
        graded_cell("check()", "test_other", [error("GradingFailed", "x is wrong.")]),
    ])
    out, _ = executor().preprocess(nb, {"metadata": {"path": str(tmp_path)}})  # no exception: grading goes on
    first, second = out.cells[2], out.cells[3]
    assert [(o.ename, o.evalue) for o in errors(first)] == [
        ("NotRun", "the notebook could not be run to its end (RuntimeError)")]
    assert [o.evalue for o in errors(second)] == ["x is wrong."]  # its own error, not a second one
    assert out.cells[1].outputs == [] and score(first) == 0


def test_data_a_submission_changed_is_restored(session, no_kernel, tmp_path):
    from asl_course import dataset as data

    train = session.data_dir / data.TRAIN_FILE
    original = train.read_bytes()
    no_kernel["during"] = lambda: train.write_bytes(b"label,pixel1\n0,0\n")
    executor().preprocess(new_notebook(cells=[new_code_cell("x = 1")]), {"metadata": {"path": str(tmp_path)}})
    assert train.read_bytes() == original


@pytest.mark.slow
def test_a_cell_past_its_limit_is_interrupted_and_the_notebook_goes_on(session, tmp_path):
    """Real limits in a real kernel: 3 s by default; the setup cell and a cell listed by grade_id
    may take longer; a looping cell is interrupted (scores 0) and the next cells run."""
    nb, resources = run_cells([
        new_code_cell(""),
        new_code_cell("import os, sys, time\ntime.sleep(4)\nprint('setup done')"),
        answer("time.sleep(4)\nprint('slow answer done')", "slow_answer"),
        graded_cell("while True:\n    pass", "test_loop"),
        graded_cell("print('after', 1 + 1)", "test_after"),
        new_code_cell("import asl_course\nprint(os.environ['ASL_COURSE_FAST'], asl_course.__file__)"),
    ], tmp_path, timeout=3, first_cell_timeout=60, cell_timeouts={"slow_answer": 60}, iopub_timeout=10)
    setup, slow, loop, after, env = nb.cells[1:]
    assert stdout_text(setup) == "setup done\n" and not errors(setup)
    assert stdout_text(slow) == "slow answer done\n" and not errors(slow)
    assert errors(loop) and score(loop) == 0
    assert {o.ename for o in errors(loop)} & {"KeyboardInterrupt", "CellTimeoutError"}
    assert stdout_text(after) == "after 2\n" and not errors(after) and score(after) == 1
    fast, package = stdout_text(env).split()
    assert fast == "1"  # fast mode, and the course package from this notebook's own copy
    assert Path(package).is_relative_to(Path(resources["asl_grading"]) / "pkg")


@pytest.mark.slow
def test_a_dead_kernel_stops_only_its_own_notebook(session, tmp_path):
    nb, _ = run_cells(bad_answer("import os\nos._exit(1)", "print('not reached')", new_code_cell("print('not reached')")),
                      tmp_path, timeout=30)
    died, test, plain = nb.cells[1:]
    assert [(o.ename, o.evalue) for o in errors(died)] == [
        ("KernelStopped", "the kernel died while this cell ran (it exits or kills its process)")]
    assert [(o.ename, o.evalue) for o in test.outputs] == [("NotRun", "not run: the kernel died in an earlier cell")]
    assert score(test) == 0 and "not reached" not in stdout_text(plain)
    # the next submission is graded as usual
    nb, _ = run_cells([new_code_cell("print('next', 40 + 2)")], tmp_path, name="next")
    assert stdout_text(nb.cells[0]) == "next 42\n"


@pytest.mark.slow
def test_a_cell_that_cannot_be_interrupted_stops_only_its_own_notebook(session, tmp_path):
    nb, _ = run_cells(bad_answer("import signal\nsignal.signal(signal.SIGINT, signal.SIG_IGN)\nwhile True:\n    pass"),
                      tmp_path, timeout=3, iopub_timeout=3)
    stuck, test = nb.cells[1:]
    assert ("KernelStopped", "this cell ran past its time limit and could not be interrupted") in [
        (o.ename, o.evalue) for o in errors(stuck)]
    assert [o.evalue for o in test.outputs] == [
        "not run: an earlier cell ran past its time limit and could not be interrupted"]
    nb, _ = run_cells([new_code_cell("print('next')")], tmp_path, name="next")
    assert stdout_text(nb.cells[0]) == "next\n"




@pytest.mark.slow
def test_a_test_cell_that_claims_a_pass_is_judged_by_the_verifier(session, tmp_path):
    """The kernel prints the pass message, shows a full score and leaves no measurement: the
    verifier's verdict (missing) is what counts; it makes the autograder repair the kernel
    (the next cell sees the grader's one-hot labels) and, after VerifyOutsideKernel, scores 0."""
    nb, resources = run_cells([
        new_code_cell("import sys\nimport numpy as np"),
        answer("y_train = np.zeros(3)\ny_valid = np.zeros(3)", "one_hot"),
        graded_cell("print('\\u2714 graded: test_one_hot passes')\nprint('warning', file=sys.stderr)\n1.0", ONE_HOT),
        new_code_cell("print(y_train.shape[1], y_train.max())"),
    ], tmp_path, timeout=30)
    folder = resources["asl_grading"]
    test, after = nb.cells[2:]
    assert "passes" in stdout_text(test) and not errors(test)
    assert "missing" in " ".join(session.verdicts[(folder, ONE_HOT)])  # taken right after the test cell
    assert stdout_text(after) == "24 1.0\n"  # repaired: the next exercise is graded on its own work
    nb, _ = autograder.VerifyOutsideKernel().preprocess(nb, resources)
    test = nb.cells[2]
    assert test.outputs[0].ename == "GradingFailed" and "missing" in test.outputs[0].evalue
    assert [o.output_type for o in test.outputs] == ["error", "stream"] and score(test) == 0
    assert not Path(folder).exists()



# --- Why a notebook stopped ----------------------------------------------------------------------------------


@pytest.mark.parametrize("exc, here", [
    (DeadKernelError("Kernel died"), "the kernel died while this cell ran"),
    (CellTimeoutError("A cell timed out"), "ran past its time limit and could not be interrupted"),
    (RuntimeError("Kernel didn't respond"), "the kernel stopped responding (RuntimeError)"),
])
def test_a_stopped_notebook_is_told_by_the_exceptions_class(exc, here):
    """nbclient's exception classes, not their names: a RuntimeError named like one is not a dead kernel."""
    assert here in autograder.stop_reasons(exc)[0]
    impostor = type("DeadKernelError", (RuntimeError,), {})("no")
    assert "stopped responding (DeadKernelError)" in autograder.stop_reasons(impostor)[0]


def test_a_limit_or_the_notebooks_time_is_named_before_the_exception():
    over = autograder.stop_reasons(DeadKernelError("x"), over="memory limit (256 MiB)")
    assert over == ("the sandbox was stopped: memory limit (256 MiB)",
                    "an earlier cell went over a limit: memory limit (256 MiB)")
    assert autograder.stop_reasons(DeadKernelError("x"), out_of_time="past 15 s") == ("past 15 s", "past 15 s")
