"""The autograder's VerifyOutsideKernel on its own, on a notebook built in memory: the verdict it
writes into a test cell when the hidden test's measurements are right, wrong, missing, forged,
repeated or taken late, and the outputs it strips (``execute_result``, stderr). Notebook 5's
functions are judged in a harness that imports Keras: that path is tests/test_trust.py's (slow).
The grading session: tests/_plugins.py.
"""

from __future__ import annotations

import json

from nbformat.v4 import new_code_cell, new_notebook

from asl_course import grading
from asl_course.grading.plugins import autograder

from _plugins import (ONE_HOT, PASSES, error, graded_cell, graded_folder, one_hot_notebook, record, result,  # noqa: F401
                      right, score, session, stderr, stdout, verify, wrong)


def test_right_measurements_pass_and_outputs_that_fake_a_score_are_stripped(session, monkeypatch):
    folder = graded_folder(session, monkeypatch, right(session))
    nb = one_hot_notebook([PASSES, stderr("UserWarning: something a library said\n"), result("1.0")])
    cell = verify(nb, folder)
    assert cell.outputs == [PASSES] and score(cell) == 1
    # the notebook's grading folder and its secured measurements are gone
    assert not folder.exists() and not session.secured(folder).exists()


def test_wrong_measurements_fail_whatever_the_kernel_printed(session, monkeypatch):
    folder = graded_folder(session, monkeypatch, wrong(session))
    # A kernel that hid the hidden test's error and shows a partial score before it.
    nb = one_hot_notebook([result("1"), PASSES])
    assert score(nb.cells[2]) == 1  # what nbgrader would have stored
    cell = verify(nb, folder)
    assert cell.outputs[0].ename == "GradingFailed" and "not one-hot encoded" in cell.outputs[0].evalue
    assert cell.outputs[1:] == [PASSES] and score(cell) == 0


def test_missing_measurements_fail(session, monkeypatch):
    folder = graded_folder(session, monkeypatch, namespace=None, runs=0)
    cell = verify(one_hot_notebook([PASSES]), folder)
    assert "measurements of this exercise are missing" in cell.outputs[0].evalue and score(cell) == 0


def test_forged_measurements_are_measured_again_not_believed(session, monkeypatch):
    folder = session.prepare_notebook()
    record(monkeypatch, folder, wrong(session))
    exercise = folder / "artefacts" / ONE_HOT
    (run,) = grading.runs(exercise)
    # What the kernel can add: verdicts, digests and summaries next to the raw values.
    (exercise / grading.OBSERVATION_FILE).write_text(json.dumps({"y_train": {"onehot": True}, "verdict": "pass"}))
    (run / "verdict.json").write_text('{"passed": true, "mistakes": []}')
    meta = json.loads((run / grading.RECORD_FILE).read_text())
    n = len(session.reference.y_train)
    meta["values"]["y_train"].update(shape=[n, 24], onehot=True, max=1.0, passed=True)
    (run / grading.RECORD_FILE).write_text(json.dumps(meta))
    session.secure(ONE_HOT, folder)
    cell = verify(one_hot_notebook([PASSES]), folder)
    assert "not one-hot encoded" in cell.outputs[0].evalue and score(cell) == 0

    # A record that is not this exercise's is not a measurement of it.
    folder = session.prepare_notebook()
    record(monkeypatch, folder, right(session))
    (run,) = grading.runs(folder / "artefacts" / ONE_HOT)
    meta = json.loads((run / grading.RECORD_FILE).read_text())
    (run / grading.RECORD_FILE).write_text(json.dumps(dict(meta, grade_id="test_labels")))
    session.secure(ONE_HOT, folder)
    cell = verify(one_hot_notebook([PASSES]), folder)
    assert "not what the hidden test writes" in cell.outputs[0].evalue and score(cell) == 0


def test_a_hidden_test_that_ran_more_than_once_is_void(session, monkeypatch):
    # twice before its test cell ended (e.g. called again from an answer cell)
    folder = graded_folder(session, monkeypatch, right(session), runs=2)
    cell = verify(one_hot_notebook([PASSES]), folder)
    assert "ran 2 times" in cell.outputs[0].evalue and score(cell) == 0
    # its test cell ran twice (the autograder secured twice)
    folder = graded_folder(session, monkeypatch, right(session))
    session.secure(ONE_HOT, folder)
    cell = verify(one_hot_notebook([PASSES]), folder)
    assert "ran more than once" in cell.outputs[0].evalue and score(cell) == 0
    # again after its test cell, with the grader's repaired values (a later cell of the kernel)
    folder = graded_folder(session, monkeypatch, wrong(session))
    record(monkeypatch, folder, right(session))
    cell = verify(one_hot_notebook([PASSES]), folder)
    assert "ran again after its test cell" in cell.outputs[0].evalue and score(cell) == 0


def test_the_verdict_taken_after_the_test_cell_is_the_one_written(session, monkeypatch):
    """GuardedExecute asks the verifier right after the test cell (before repairing the kernel);
    VerifyOutsideKernel writes that verdict and does not ask again."""
    folder = graded_folder(session, monkeypatch, right(session))
    verdicts = session.__dict__.setdefault("verdicts", {})
    verdicts[(str(folder), ONE_HOT)] = ["the verdict of the verifier after the test cell"]
    cell = verify(one_hot_notebook([PASSES]), folder)
    assert cell.outputs[0].evalue == "the verdict of the verifier after the test cell."
    assert (str(folder), ONE_HOT) not in verdicts


def test_an_error_in_the_kernel_scores_0_and_is_kept(session, monkeypatch):
    folder = graded_folder(session, monkeypatch, right(session))
    failed = error("GradingFailed", "y_train is still a vector of integer labels.")
    cell = verify(one_hot_notebook([PASSES, failed, stderr("noise\n")]), folder)
    assert cell.outputs == [PASSES, failed] and score(cell) == 0


def test_an_answer_calling_the_reference_implementation_scores_0(session, monkeypatch):
    folder = graded_folder(session, monkeypatch, right(session))
    nb = one_hot_notebook([PASSES], answer_source="from asl_course.learners import lesson\n"
                                                  "y_train, y_valid = lesson.one_hot(y_train), lesson.one_hot(y_valid)")
    cell = verify(nb, folder)
    assert "reference implementation" in cell.outputs[0].evalue and "scores 0" in cell.outputs[0].evalue
    assert score(cell) == 0


def test_cells_that_are_not_exercises_keep_their_outputs_but_not_fake_scores(session):
    nb = new_notebook(cells=[
        new_code_cell("print(1)"),
        graded_cell("print('own check')", "test_extra", [stdout("own check\n"), result("0.5"), stderr("w\n")]),
    ])
    nb.cells[0].outputs = [stdout("1\n"), stderr("kept: not a test cell\n")]
    nb, _ = autograder.VerifyOutsideKernel().preprocess(nb, {"nbgrader": {}})
    assert nb.cells[1].outputs == [stdout("own check\n")] and score(nb.cells[1]) == 1
    assert len(nb.cells[0].outputs) == 2

