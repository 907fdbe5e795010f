"""Each nbgrader plugin of the course on its own, on small notebooks built in memory.

As nbgrader's own tests do for its preprocessors: ``Plugin(config).preprocess(nb, resources)``
is called directly, with no ``nbgrader autograde`` and no course folder, so that a broken
plugin fails here, in seconds, under its own name (tests/test_grading.py runs the whole
simulated class through nbgrader).

- :class:`~asl_course.grading.plugins.autograder.GuardedExecute`: per-cell time limits, a grading folder per
  notebook and the kernel's environment, a kernel that fails to start, dies or cannot be
  interrupted (only its notebook stops), data a submission changed is restored, and a test
  cell's own outputs decide nothing (the verifier's verdict decides the repair);
- :class:`~asl_course.grading.plugins.autograder.VerifyOutsideKernel`: the verdict it writes into a test cell
  when the hidden test's measurements are right, wrong, missing, forged, repeated or cached,
  and the outputs it strips (``execute_result``, stderr).

The grading session is a real :class:`~asl_course.grading.plugins.autograder.GradingSession` (its verifier
process included) on the small synthetic stand-in, made once for this module. Kernels run in
the bubblewrap sandbox (as in grading) when it is installed, else unsandboxed; they run tiny
cells (no TensorFlow). Notebook 5's functions are judged by the verifier in a harness that
imports Keras: that path is tests/test_trust.py's (slow) and is not repeated here.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import numpy as np
import pytest
from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook, new_output
from traitlets.config import Config

from asl_course import grading
from asl_course.grading.plugins import autograder, sandbox
from asl_course.grading.plugins import limits

ONE_HOT = "test_one_hot"  # the cheapest exercise to record and verify (two label arrays)


# --- Notebooks in memory -----------------------------------------------------------------------------


def _nbgrader(cell, grade_id, *, grade=False, solution=False, points=1):
    cell.metadata["nbgrader"] = {"grade": grade, "solution": solution, "locked": grade and not solution,
                                 "grade_id": grade_id, "schema_version": 3, "task": False}
    if grade:
        cell.metadata["nbgrader"]["points"] = points
    return cell


def answer(source, grade_id):
    """An answer cell (nbgrader solution cell)."""
    return _nbgrader(new_code_cell(source), grade_id, solution=True)


def graded_cell(source, grade_id, outputs=()):
    """A test cell (nbgrader grade cell, locked), with outputs as the kernel left them."""
    cell = _nbgrader(new_code_cell(source), grade_id, grade=True)
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
def session(tmp_path_factory):
    """A real grading session (data, reference, package copy, verifier process) on the stand-in."""
    from asl_course import dataset as data

    folder = tmp_path_factory.mktemp("plugins") / "asl_data"
    data.write_synthetic(folder, log=lambda *_: None)
    previous = autograder.GradingSession._instance
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("ASL_DATA_DIR", str(folder))
        s = autograder.GradingSession()
        autograder.GradingSession._instance = s
        try:
            yield s
        finally:
            autograder.GradingSession._instance = previous
            s.close()


def _one_hot(labels):
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
    return {"y_train": _one_hot(ref.y_train), "y_valid": _one_hot(ref.y_valid), "num_classes": 24}


def wrong(session):
    ref = session.reference
    return {"y_train": ref.y_train.copy(), "y_valid": ref.y_valid.copy(), "num_classes": 24}


def one_hot_notebook(outputs, answer_source="y_train = keras.utils.to_categorical(y_train, 24)"):
    """Notebook 1's one-hot exercise: its answer cell and its test cell (with the kernel's outputs)."""
    return new_notebook(cells=[
        new_markdown_cell("## One-hot encode the labels"),
        answer(answer_source, "one_hot"),
        graded_cell('"""Self-check."""\n### BEGIN HIDDEN TESTS\n_grading.check("test_one_hot", globals())\n'
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


def _executor(**settings):
    config = Config()
    config.GuardedExecute.sandbox = "none"  # no kernel is started by these tests
    for key, value in settings.items():
        setattr(config.GuardedExecute, key, value)
    return autograder.GuardedExecute(config=config)


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
    ex = _executor(timeout=7, first_cell_timeout=11, cell_timeouts={"fit": 13, "test_fit": 17})
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
    _executor().preprocess(new_notebook(cells=[new_code_cell("x = 1")]), resources)
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
    _executor().preprocess(new_notebook(cells=[new_code_cell("x = 1")]), again)
    assert again["asl_grading"] != resources["asl_grading"]


def test_a_kernel_that_cannot_start_scores_the_notebooks_tests_0(session, no_kernel, tmp_path):
    no_kernel["raise"] = RuntimeError("Kernel didn't respond in 60 seconds")
    nb = new_notebook(cells=[
        new_code_cell("import numpy as np"),
        answer("x = 1", "images"),
        graded_cell("check()", "test_images"),
        graded_cell("check()", "test_other", [error("GradingFailed", "x is wrong.")]),
    ])
    out, _ = _executor().preprocess(nb, {"metadata": {"path": str(tmp_path)}})  # no exception: grading goes on
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
    _executor().preprocess(new_notebook(cells=[new_code_cell("x = 1")]), {"metadata": {"path": str(tmp_path)}})
    assert train.read_bytes() == original


# --- GuardedExecute with a kernel (tiny cells) ---------------------------------------------------------------


def _run(cells, tmp_path, name="nb", **settings):
    """Run ``cells`` through GuardedExecute as grading does (sandboxed when bubblewrap is here)."""
    config = Config()
    config.GuardedExecute.sandbox = "bubblewrap" if sandbox.available() else "none"
    for key, value in settings.items():
        setattr(config.GuardedExecute, key, value)
    resources = {"metadata": {"path": str(tmp_path / name)}, "nbgrader": {"student": "s", "notebook": name}}
    nb, resources = autograder.GuardedExecute(config=config).preprocess(new_notebook(cells=cells), resources)
    return nb, resources


def _text(cell):
    return "".join(o.get("text", "") for o in cell.outputs if o.output_type == "stream")


@pytest.mark.slow
def test_a_cell_past_its_limit_is_interrupted_and_the_notebook_goes_on(session, tmp_path):
    """Real limits in a real kernel: 3 s by default; the setup cell and a cell listed by grade_id
    may take longer; a looping cell is interrupted (scores 0) and the next cells run."""
    nb, resources = _run([
        new_code_cell(""),
        new_code_cell("import os, sys, time\ntime.sleep(4)\nprint('setup done')"),
        answer("time.sleep(4)\nprint('slow answer done')", "slow_answer"),
        graded_cell("while True:\n    pass", "test_loop"),
        graded_cell("print('after', 1 + 1)", "test_after"),
        new_code_cell("import asl_course\nprint(os.environ['ASL_COURSE_FAST'], asl_course.__file__)"),
    ], tmp_path, timeout=3, first_cell_timeout=60, cell_timeouts={"slow_answer": 60}, iopub_timeout=10)
    setup, slow, loop, after, env = nb.cells[1:]
    assert _text(setup) == "setup done\n" and not errors(setup)
    assert _text(slow) == "slow answer done\n" and not errors(slow)
    assert errors(loop) and score(loop) == 0
    assert {o.ename for o in errors(loop)} & {"KeyboardInterrupt", "CellTimeoutError"}
    assert _text(after) == "after 2\n" and not errors(after) and score(after) == 1
    fast, package = _text(env).split()
    assert fast == "1"  # fast mode, and the course package from this notebook's own copy
    assert Path(package).is_relative_to(Path(resources["asl_grading"]) / "pkg")


@pytest.mark.slow
def test_a_dead_kernel_stops_only_its_own_notebook(session, tmp_path):
    nb, _ = _run([
        new_code_cell("x = 1"),
        answer("import os\nos._exit(1)", "images"),
        graded_cell("print('not reached')", "test_images"),
        new_code_cell("print('not reached')"),
    ], tmp_path, timeout=30)
    died, test, plain = nb.cells[1:]
    assert [(o.ename, o.evalue) for o in errors(died)] == [
        ("KernelStopped", "the kernel died while this cell ran (it exits or kills its process)")]
    assert [(o.ename, o.evalue) for o in test.outputs] == [("NotRun", "not run: the kernel died in an earlier cell")]
    assert score(test) == 0 and "not reached" not in _text(plain)
    # the next submission is graded as usual
    nb, _ = _run([new_code_cell("print('next', 40 + 2)")], tmp_path, name="next")
    assert _text(nb.cells[0]) == "next 42\n"


@pytest.mark.slow
def test_a_cell_that_cannot_be_interrupted_stops_only_its_own_notebook(session, tmp_path):
    nb, _ = _run([
        new_code_cell("x = 1"),
        answer("import signal\nsignal.signal(signal.SIGINT, signal.SIG_IGN)\nwhile True:\n    pass", "images"),
        graded_cell("print('not reached')", "test_images"),
    ], tmp_path, timeout=3, iopub_timeout=3)
    stuck, test = nb.cells[1:]
    assert ("KernelStopped", "this cell ran past its time limit and could not be interrupted") in [
        (o.ename, o.evalue) for o in errors(stuck)]
    assert [o.evalue for o in test.outputs] == [
        "not run: an earlier cell ran past its time limit and could not be interrupted"]
    nb, _ = _run([new_code_cell("print('next')")], tmp_path, name="next")
    assert _text(nb.cells[0]) == "next\n"


# --- The sandbox's resource limits (tiny limits, tiny cells) -------------------------------------------------

MiB = 2**20
#: Limits small enough for bombs that cost nothing here, large enough for a kernel (about 60 MiB, 15 tasks).
TINY = {"memory_limit": 256 * MiB, "max_processes": 64, "disk_limit": 16 * MiB, "timeout": 20, "iopub_timeout": 10}
needs_bwrap = pytest.mark.skipif(not sandbox.available(), reason="the limits are the sandbox's")


def _stopped_by(cell) -> str:
    return " ".join(o.evalue for o in errors(cell) if o.ename == "KernelStopped")


@needs_bwrap
@pytest.mark.slow
def test_a_memory_bomb_stops_its_notebook_with_the_limit_named(session, tmp_path):
    """8x the limit in 32 MiB steps, each touched: the kernel is killed early (cgroup: the OOM
    killer; rlimits: MemoryError), the cell and the rest score 0, and the limit is named."""
    nb, _ = _run([
        new_code_cell("x = 1"),
        answer("blocks = []\nfor i in range(64):\n    blocks.append(bytearray(32 * 2**20))\n    print(i, flush=True)",
               "images"),
        graded_cell("print('after')", "test_images"),
    ], tmp_path, **TINY)
    bomb, test = nb.cells[1:]
    said = " ".join(o.evalue for o in errors(bomb))
    assert "memory limit (256 MiB, GuardedExecute.memory_limit)" in said, said
    assert int(_text(bomb).split()[-1]) < 8, "the bomb was not stopped at its limit"
    assert score(test) == 0 and "after" not in _text(test)


@needs_bwrap
@pytest.mark.slow
def test_a_fork_bomb_stops_its_notebook_with_the_limit_named(session, tmp_path):
    nb, _ = _run([
        new_code_cell("x = 1"),
        answer("import os, time\nwhile True:\n    try:\n        os.fork()\n    except OSError:\n        time.sleep(0.001)",
               "images"),
        graded_cell("print('after')", "test_images"),
    ], tmp_path, **TINY)
    bomb, test = nb.cells[1:]
    assert "process limit (64 processes and threads, GuardedExecute.max_processes)" in _stopped_by(bomb)
    assert [o.evalue for o in test.outputs] == [f"not run: an earlier cell went over a limit: it tried to run more "
                                                f"than the process limit (64 processes and threads, "
                                                f"GuardedExecute.max_processes)"]


@needs_bwrap
@pytest.mark.slow
@pytest.mark.parametrize("setup", ["tmpfs", "watched"])
def test_a_disk_filler_scores_0_keeps_nothing_and_the_notebook_goes_on(session, tmp_path, setup, monkeypatch):
    """A file past the limit in its folder, and one in /tmp: each cell fails and names the limit; the
    next cells run; the notebook's folder keeps what was submitted, not what the notebook wrote. As
    root here, the folder is a tmpfs; without root (``watched``: rlimits, the folder's size watched)."""
    settings = dict(TINY)
    if setup == "watched":
        monkeypatch.setattr(limits, "mechanism", lambda: "rlimit")
        monkeypatch.setattr(limits, "can_mount", lambda: False)
        settings["max_processes"] = None  # RLIMIT_NPROC of uid 65534 counts every sandbox on this machine
    folder = tmp_path / "nb"
    folder.mkdir()
    (folder / "submitted.txt").write_text("mine")
    fill = "f = open({!r}, 'wb')\nfor i in range(64):\n    f.write(bytes(2**20))\n"
    nb, _ = _run([
        new_code_cell("open('model.keras', 'w').write('a model')"),
        graded_cell(fill.format("big.bin"), "test_images"),
        graded_cell(fill.format("/tmp/big.bin"), "test_labels"),
        graded_cell("print('after')", "test_one_hot"),
    ], tmp_path, **settings)
    _, here, tmp, after = nb.cells
    if setup == "watched":  # the folder went over (16 MiB and 7 bytes): the watcher stops the sandbox
        assert "disk limit (16 MiB in the notebook's folder" in " ".join(o.evalue for o in errors(here))
        assert "disk limit" in _stopped_by(here) + _stopped_by(tmp) and score(after) == 0
        assert [o.ename for o in after.outputs] == ["NotRun"]
    else:  # a tmpfs cannot go over: each write fails, and the notebook goes on
        for cell in (here, tmp):
            assert score(cell) == 0 and "disk limit (16 MiB in the notebook's folder" in " ".join(
                o.evalue for o in errors(cell)), cell.outputs
        assert _text(after) == "after\n" and score(after) == 1
    assert sorted(p.name for p in folder.iterdir() if p.suffix != ".ipynb") == ["submitted.txt"]


@needs_bwrap
@pytest.mark.slow
def test_filling_the_record_folder_stops_the_sandbox(session, tmp_path, monkeypatch):
    """The folder the hidden tests record into holds one exercise's records at a time: more (here 8
    MiB, for the test) is a disk filler, and the sandbox is stopped."""
    monkeypatch.setattr(autograder, "RECORDS_LIMIT", 8 * MiB)
    nb, _ = _run([
        new_code_cell("import os, time"),
        answer("for i in range(6):\n    with open(os.environ['ASL_GRADING_DIR'] + f'/artefacts/f{i}', 'wb') as f:\n"
               "        f.write(bytes(2 * 2**20))\ntime.sleep(5)", "images"),
        graded_cell("print('after')", "test_images"),
    ], tmp_path, **TINY)
    assert "the folder its hidden tests record into" in _stopped_by(nb.cells[1]) and score(nb.cells[2]) == 0


@needs_bwrap
@pytest.mark.slow
def test_an_honest_notebook_keeps_its_files(session, tmp_path):
    (tmp_path / "nb").mkdir()
    (tmp_path / "nb" / "old.txt").write_text("deleted by the notebook")
    nb, _ = _run([new_code_cell("import os\nos.makedirs('out', exist_ok=True)\nopen('out/model.keras', 'wb')"
                                ".write(bytes(3 * 2**20))\nos.remove('old.txt')\nprint('done')")], tmp_path, **TINY)
    assert _text(nb.cells[0]) == "done\n" and not errors(nb.cells[0])
    assert (tmp_path / "nb" / "out" / "model.keras").stat().st_size == 3 * 2**20
    assert not (tmp_path / "nb" / "old.txt").exists()


@pytest.mark.slow
def test_a_notebook_past_its_total_time_stops_with_the_limit_named(session, tmp_path):
    """A cell under its own limit (40 s) but past the notebook's total (15 s, by notebook name: it
    wins over the default) is interrupted at the notebook's end, and the rest scores 0."""
    nb, _ = _run([new_code_cell("import time"), graded_cell("time.sleep(1)\nprint('slept')", "test_images"),
                  graded_cell("time.sleep(30)\nprint('slept')", "test_labels"),
                  graded_cell("print('after')", "test_one_hot")],
                 tmp_path, timeout=40, iopub_timeout=10, notebook_timeout=600, notebook_timeouts={"nb": 15})
    first, cut, rest = nb.cells[1:]
    limit = "the notebook ran past its total time limit (15 s, GuardedExecute.notebook_timeout)"
    assert _text(first) == "slept\n" and score(first) == 1
    assert ("NotebookTimeLimit", limit) in [(o.ename, o.evalue) for o in errors(cut)] and score(cut) == 0
    assert [o.evalue for o in rest.outputs] == [f"not run: {limit}"] and score(rest) == 0


@pytest.mark.slow
def test_a_test_cell_that_claims_a_pass_is_judged_by_the_verifier(session, tmp_path):
    """The kernel prints the pass message, shows a full score and leaves no measurement: the
    verifier's verdict (missing) is what counts; it makes the autograder repair the kernel
    (the next cell sees the grader's one-hot labels) and, after VerifyOutsideKernel, scores 0."""
    nb, resources = _run([
        new_code_cell("import sys\nimport numpy as np"),
        answer("y_train = np.zeros(3)\ny_valid = np.zeros(3)", "one_hot"),
        graded_cell("print('\\u2714 graded: test_one_hot passes')\nprint('warning', file=sys.stderr)\n1.0", ONE_HOT),
        new_code_cell("print(y_train.shape[1], y_train.max())"),
    ], tmp_path, timeout=30)
    folder = resources["asl_grading"]
    test, after = nb.cells[2:]
    assert "passes" in _text(test) and not errors(test)
    assert "missing" in " ".join(session.verdicts[(folder, ONE_HOT)])  # taken right after the test cell
    assert _text(after) == "24 1.0\n"  # repaired: the next exercise is graded on its own work
    nb, _ = autograder.VerifyOutsideKernel().preprocess(nb, resources)
    test = nb.cells[2]
    assert test.outputs[0].ename == "GradingFailed" and "missing" in test.outputs[0].evalue
    assert [o.output_type for o in test.outputs] == ["error", "stream"] and score(test) == 0
    assert not Path(folder).exists()


# --- VerifyOutsideKernel ---------------------------------------------------------------------------------------


PASSES = stdout("\u2714 graded: test_one_hot passes\n")


def _graded(session, monkeypatch, namespace=None, runs=1):
    """A notebook's grading folder after its test cell: the hidden test ran ``runs`` times in a
    kernel holding ``namespace``, then the autograder secured the measurements."""
    folder = session.prepare_notebook()
    for _ in range(runs):
        record(monkeypatch, folder, namespace)
    session.secure(ONE_HOT, folder)
    return folder


def test_right_measurements_pass_and_outputs_that_fake_a_score_are_stripped(session, monkeypatch):
    folder = _graded(session, monkeypatch, right(session))
    nb = one_hot_notebook([PASSES, stderr("UserWarning: something a library said\n"), result("1.0")])
    cell = verify(nb, folder)
    assert cell.outputs == [PASSES] and score(cell) == 1
    # the notebook's grading folder and its secured measurements are gone
    assert not folder.exists() and not session.secured(folder).exists()


def test_wrong_measurements_fail_whatever_the_kernel_printed(session, monkeypatch):
    folder = _graded(session, monkeypatch, wrong(session))
    # A kernel that hid the hidden test's error and shows a partial score before it.
    nb = one_hot_notebook([result("1"), PASSES])
    assert score(nb.cells[2]) == 1  # what nbgrader would have stored
    cell = verify(nb, folder)
    assert cell.outputs[0].ename == "GradingFailed" and "not one-hot encoded" in cell.outputs[0].evalue
    assert cell.outputs[1:] == [PASSES] and score(cell) == 0


def test_missing_measurements_fail(session, monkeypatch):
    folder = _graded(session, monkeypatch, namespace=None, runs=0)
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
    folder = _graded(session, monkeypatch, right(session), runs=2)
    cell = verify(one_hot_notebook([PASSES]), folder)
    assert "ran 2 times" in cell.outputs[0].evalue and score(cell) == 0
    # its test cell ran twice (the autograder secured twice)
    folder = _graded(session, monkeypatch, right(session))
    session.secure(ONE_HOT, folder)
    cell = verify(one_hot_notebook([PASSES]), folder)
    assert "ran more than once" in cell.outputs[0].evalue and score(cell) == 0
    # again after its test cell, with the grader's repaired values (a later cell of the kernel)
    folder = _graded(session, monkeypatch, wrong(session))
    record(monkeypatch, folder, right(session))
    cell = verify(one_hot_notebook([PASSES]), folder)
    assert "ran again after its test cell" in cell.outputs[0].evalue and score(cell) == 0


def test_the_verdict_taken_after_the_test_cell_is_the_one_written(session, monkeypatch):
    """GuardedExecute asks the verifier right after the test cell (before repairing the kernel);
    VerifyOutsideKernel writes that verdict and does not ask again."""
    folder = _graded(session, monkeypatch, right(session))
    verdicts = session.__dict__.setdefault("verdicts", {})
    verdicts[(str(folder), ONE_HOT)] = ["the verdict of the verifier after the test cell"]
    cell = verify(one_hot_notebook([PASSES]), folder)
    assert cell.outputs[0].evalue == "the verdict of the verifier after the test cell."
    assert (str(folder), ONE_HOT) not in verdicts


def test_an_error_in_the_kernel_scores_0_and_is_kept(session, monkeypatch):
    folder = _graded(session, monkeypatch, right(session))
    failed = error("GradingFailed", "y_train is still a vector of integer labels.")
    cell = verify(one_hot_notebook([PASSES, failed, stderr("noise\n")]), folder)
    assert cell.outputs == [PASSES, failed] and score(cell) == 0


def test_an_answer_calling_the_reference_implementation_scores_0(session, monkeypatch):
    folder = _graded(session, monkeypatch, right(session))
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
