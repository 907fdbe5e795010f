"""What the grader trusts (issue 10): nothing the student's kernel writes is a verdict.

- the verifier measures the raw values a hidden test recorded (never a summary, a digest or a
  verdict), and a test that ran twice is void;
- notebook 5's functions are called by the verifier, in a fresh process running the notebook's
  answer cells, on inputs it chooses: files the kernel wrote are never read for them;
- training: the trained model must descend from the grader's secret initialisation;
- answers that call the course's reference implementation are flagged;
- feedback and formgrader pages carry no script, event handler or external resource;
- ``nbgrader validate`` passing on every source notebook is tests/test_registry.py's.
"""

from __future__ import annotations

import json
import os
import re
import shutil
from pathlib import Path

import nbformat
import numpy as np
import pytest

from asl_course import grading
from asl_course.tooling import editions
from asl_course.grading.plugins.feedback import SanitizeStudentHTML, clean_markdown

REPO = Path(__file__).resolve().parent.parent


@pytest.fixture(scope="module")
def ref(data_dir):
    return grading.load_reference_csv(data_dir)


@pytest.fixture
def grading_dir(tmp_path, monkeypatch, data_dir):
    monkeypatch.setenv("ASL_DATA_DIR", str(data_dir))
    monkeypatch.setenv(grading.GRADING_DIR_ENV, str(tmp_path / "grading"))
    return tmp_path / "grading"


def _check(grade_id, ns):
    try:
        grading.check(grade_id, ns)
        return None
    except grading.GradingFailed as exc:
        return str(exc)


# --- Raw values, not summaries ----------------------------------------------------------------------


def test_verifier_judges_recorded_raw_values_not_what_the_kernel_claims(ref, grading_dir):
    pixels = {"x_train": ref.x_train.astype("float32"), "x_valid": ref.x_valid.astype("float32")}  # not / 255
    ns = dict(pixels)
    assert "divided by 255" in _check("test_normalize", ns)
    assert ns["x_train"].max() == 255, "under the autograder the kernel is never repaired by the hidden test"
    folder = grading_dir / "artefacts" / "test_normalize"
    (run,) = grading.runs(folder)
    assert "not divided by 255" in " ".join(grading.verify("test_normalize", folder, ref))
    # A kernel that writes verdicts and digests next to its values changes nothing.
    good_digest = ref.digest("x_train")
    (folder / grading.OBSERVATION_FILE).write_text(json.dumps({"x_train": {"scaled": good_digest}}))
    (run / "verdict.json").write_text('{"passed": true}')
    meta = json.loads((run / grading.RECORD_FILE).read_text())
    meta["values"]["x_train"].update(scaled=good_digest, max=1.0, passed=True)
    (run / grading.RECORD_FILE).write_text(json.dumps(meta))
    assert "not divided by 255" in " ".join(grading.verify("test_normalize", folder, ref))
    # A record without the raw values is not a measurement.
    meta["values"] = {}
    (run / grading.RECORD_FILE).write_text(json.dumps(meta))
    assert "not defined" in " ".join(grading.verify("test_normalize", folder, ref))
    # The right raw values pass, wherever they came from.
    shutil.rmtree(folder)
    assert _check("test_normalize", {"x_train": ref.x_train / 255, "x_valid": ref.x_valid / 255}) is None
    assert grading.verify("test_normalize", folder, ref) == []
    # ... but a test that ran twice is void.
    assert _check("test_normalize", {"x_train": ref.x_train / 255, "x_valid": ref.x_valid / 255}) is None
    assert "ran 2 times" in " ".join(grading.verify("test_normalize", folder, ref))


def test_dataframes_and_types_are_rebuilt_from_raw_values(ref, grading_dir):
    import pandas as pd

    columns = grading.COLUMNS
    ns = {"train_df": pd.DataFrame(np.column_stack([ref.y_train, ref.x_train]), columns=columns),
          "valid_df": pd.DataFrame(np.column_stack([ref.y_valid, ref.x_valid]), columns=columns)}
    assert _check("test_load_csv", ns) is None
    assert grading.verify("test_load_csv", grading_dir / "artefacts" / "test_load_csv", ref) == []
    # x_train left a DataFrame: its type is rebuilt, and named in the verifier's message.
    ns = {"x_train": ns["train_df"].drop(columns="label"), "x_valid": ns["valid_df"].drop(columns="label")}
    assert ".values" in _check("test_images", ns)
    assert ".values" in " ".join(grading.verify("test_images", grading_dir / "artefacts" / "test_images", ref))


@pytest.mark.slow
def test_kernel_written_inputs_are_never_read_for_notebook_5(ref, tmp_path):
    """The verifier calls the functions itself (answer cells run afresh) on inputs of its own."""
    from asl_course.grading.plugins import harness

    package = Path(grading.__file__).resolve().parent.parent.parent
    right = ['LETTERS = "ABCDEFGHIKLMNOPQRSTUVWXY"',
             "def top_k(probabilities, k=3):\n    order = np.argsort(probabilities)[::-1][:k]\n"
             "    return [(LETTERS[i], float(probabilities[i])) for i in order]",
             "def accuracy_per_letter(cm):\n    return cm.diagonal() / cm.sum(axis=1)"]
    # A kernel's forged measurements next to it are not read.
    folder = tmp_path / "artefacts" / "test_top_k"
    folder.mkdir(parents=True)
    (folder / grading.OBSERVATION_FILE).write_text(json.dumps({"cases": [], "verdict": "pass"}))
    h = harness.Harness(right, None, package)
    try:
        ns = h.functions({"LETTERS", "top_k", "accuracy_per_letter", "prepare_image"})
        assert "prepare_image" not in ns
        assert grading.verify("test_top_k", folder, ref, functions=ns) == []
        assert grading.verify("test_accuracy_per_letter", folder, ref, functions=ns) == []
        assert "not defined" in " ".join(grading.verify("test_prepare_image", folder, ref, functions=ns))
    finally:
        h.close()
    # Answers that only know the inputs a kernel would have chosen fail on the verifier's.
    cheat = right[:1] + ["_known = {}\ndef top_k(probabilities, k=3):\n    return _known.get(k, [('A', 1.0)] * k)",
                         "accuracy_per_letter = lambda cm: np.ones(24)"]
    h = harness.Harness(cheat, None, package)
    try:
        ns = h.functions({"LETTERS", "top_k", "accuracy_per_letter"})
        assert "most likely letters" in " ".join(grading.verify("test_top_k", folder, ref, functions=ns))
        assert "diagonal" in " ".join(grading.verify("test_accuracy_per_letter", folder, ref, functions=ns))
    finally:
        h.close()
    assert not h.folder.exists() and not Path(h._log.name).exists(), "the sandbox's folder and log are left behind"


# --- Training from the grader's initialisation --------------------------------------------------------


def _fit_judgement(ref, model, seed, accuracy=0.8, monkeypatch=None):
    images, steps = grading.expected_steps(ref)
    description = grading.describe_model(model)
    obs = {"model": description, "iterations": steps, "is_history": True, "history_model_is_model": True,
           "params": {"epochs": 1, "steps": steps}, "history": {"val_accuracy": [accuracy]}}
    models = {"trained": description, "iterations": steps, "accuracy": accuracy,
              "descent": grading.descent(model, seed)}
    return " ".join(grading.judge("test_fit", obs, ref, models))


def test_training_must_start_from_the_graders_initialisation(ref, monkeypatch):
    from asl_course.learners import lesson

    monkeypatch.setenv(grading.GRADING_PLAN_ENV, json.dumps({"fast": True, "epochs": 1, "train_images": None,
                                                               "data": "synthetic"}))
    model = lesson.build_model()
    ns = {"model": model}
    grading.reinitialise(ns, 1234)
    start = [np.array(w) for w in model.get_weights()]
    # iterations assigned, History made up, no training: the weights are still the initial ones
    assert "has not been trained in the training cell" in _fit_judgement(ref, model, 1234)
    # a trained-like move from the grader's start passes (one epoch moves kernels by 0.37-1.1 relative
    # norm and keeps them 0.84-0.94 correlated: see grading.MIN_DESCENT)
    rng = np.random.default_rng(0)
    model.set_weights([w + 0.6 * np.std(w) * rng.standard_normal(w.shape).astype("float32") for w in start])
    assert _fit_judgement(ref, model, 1234) == ""
    # weights trained from another initialisation (or loaded from elsewhere) do not descend from it
    grading.reinitialise(ns, 99)
    assert "does not descend from the initial weights" in _fit_judgement(ref, model, 1234)
    assert grading.descent(model, 1234)["min_correlation"] < 0.2


# --- The reference implementation ---------------------------------------------------------------------


def test_answers_calling_the_reference_are_flagged():
    assert grading.reference_calls("model = asl_course.learners.lesson.build_model()")
    assert grading.reference_calls("model = asl_course.lesson.build_model()")  # an older release's path
    assert grading.reference_calls("from asl_course.learners import lesson\nmodel = lesson.build_model()")
    assert grading.reference_calls("from asl_course import lesson\nmodel = lesson.build_model()")
    assert grading.reference_calls("prepare_image = predict.prepare_image")
    assert grading.reference_calls("m = __import__('asl_course.learners.lesson').lesson")
    assert grading.reference_calls("m = __import__('asl_course.lesson').lesson")
    assert grading.reference_calls('model = keras.models.load_model("asl_model.keras")') == []
    for name in grading.POINTS:  # the solutions are the students' own code
        source = nbformat.read(REPO / "source" / name / f"{name}.ipynb", as_version=4)
        for cell in source.cells:
            if cell.get("metadata", {}).get("nbgrader", {}).get("solution"):
                assert grading.reference_calls(editions.solved(cell.source)) == [], cell.source
    assert "scores 0" in grading.reference_mistake(["lesson.build_model"])


# --- Sanitized pages ------------------------------------------------------------------------------------


HOSTILE = ('<script>document.title="pwned-1"</script><img src="https://attacker.invalid/p.png" '
           'onerror="alert(1)"><a href="javascript:alert(2)">x</a><b onclick="pwned()">b</b>'
           '![t](https://attacker.invalid/t.png) <iframe src="https://attacker.invalid/f"></iframe>'
           '<style>body{background:url(https://attacker.invalid/bg)}</style><svg onload="alert(3)"></svg>')


def _hostile_notebook():
    nb = nbformat.v4.new_notebook()
    code = nbformat.v4.new_code_cell("display(HTML(...))")
    code.outputs = [
        nbformat.v4.new_output("display_data", data={"text/html": HOSTILE, "text/plain": "<HTML>"}),
        nbformat.v4.new_output("display_data", data={"application/javascript": 'document.title="pwned-js"'}),
        nbformat.v4.new_output("display_data", data={"image/svg+xml": '<svg><script>alert("pwned-svg")</script></svg>',
                                                     "text/plain": "<SVG>"}),
        nbformat.v4.new_output("execute_result", data={"text/markdown": HOSTILE}, execution_count=1),
    ]
    nb.cells = [nbformat.v4.new_markdown_cell("# Notes\n" + HOSTILE), code, nbformat.v4.new_raw_cell(HOSTILE)]
    return nb


def _student_scripts(page: str) -> list[str]:
    """Script tags, handlers and external resources of the student's in an HTML page."""
    bad = [s for s in re.findall(r"<script[^>]*>(.*?)</script>", page, re.S | re.I) if "pwned" in s]
    bad += re.findall(r"\son[a-z]+\s*=", page.replace("&quot;", '"'), re.I)
    bad += re.findall(r"""(?:src\s*=\s*["']?|url\()\s*https?://attacker""", page, re.I)  # loaded by itself
    bad += [m for m in ("javascript:", "<iframe", "<style>body{background") if m in page]
    return bad


def test_sanitizer_removes_script_handlers_and_external_resources():
    from nbconvert import HTMLExporter

    page, _ = HTMLExporter().from_notebook_node(_hostile_notebook())
    assert _student_scripts(page), "the hostile notebook must be dangerous unsanitized (else this test proves nothing)"
    nb, _ = SanitizeStudentHTML().preprocess(_hostile_notebook(), {})
    page, _ = HTMLExporter().from_notebook_node(nb)
    assert _student_scripts(page) == []
    assert "Notes" in page and "<b>b</b>" in page  # the harmless formatting stays
    assert "removed from the feedback" in page  # the JavaScript output is named, not run
    assert "[image: t]" in clean_markdown("![t](https://attacker.invalid/t.png)")
    assert "data:image/png;base64,AAAA" in clean_markdown("![ok](data:image/png;base64,AAAA)")


def test_feedback_and_formgrader_use_the_sanitizer():
    from traitlets.config.loader import PyFileConfigLoader

    loader = PyFileConfigLoader("nbgrader_config.py", path=str(REPO))
    config = loader.load_config()
    assert "asl_course.grading.plugins.feedback.SanitizeStudentHTML" in config.GenerateFeedback.preprocessors
    assert "asl_course.grading.plugins.feedback.SanitizeStudentHTML" in config.HTMLExporter.preprocessors


def test_secure_copies_only_regular_files_and_never_follows_links(tmp_path):
    """What the kernel left is copied out of its reach without following links it may plant."""
    from asl_course.grading.plugins.autograder import GradingSession

    session = GradingSession.__new__(GradingSession)
    session.root = tmp_path / "session"
    secret = tmp_path / "secret"
    secret.mkdir()
    (secret / "gradebook.db").write_bytes(b"not for the kernel")
    folder = tmp_path / "nb-x"
    run = folder / "artefacts" / "test_labels" / f"{grading.RUN_PREFIX}1"
    run.mkdir(parents=True)
    (run / "y_train.npy").write_bytes(b"raw values")
    (run / "linked.npy").symlink_to(secret / "gradebook.db")
    os.mkfifo(run / "fifo.npy")
    (folder / "artefacts" / "test_labels" / f"{grading.RUN_PREFIX}2").symlink_to(secret)

    session.secure("test_labels", folder)
    kept = session.secured(folder) / "test_labels"
    assert sorted(p.relative_to(kept).as_posix() for p in kept.rglob("*")) == [
        f"{grading.RUN_PREFIX}1", f"{grading.RUN_PREFIX}1/y_train.npy"]
    assert (kept / f"{grading.RUN_PREFIX}1" / "y_train.npy").read_bytes() == b"raw values"
    assert not (folder / "artefacts" / "test_labels").exists()

    # artefacts/ itself replaced by a link: nothing is read through it
    (folder / "artefacts").rmdir()
    (folder / "artefacts").symlink_to(tmp_path / "elsewhere")
    (tmp_path / "elsewhere" / "test_images" / f"{grading.RUN_PREFIX}1").mkdir(parents=True)
    (tmp_path / "elsewhere" / "test_images" / f"{grading.RUN_PREFIX}1" / "x.npy").write_bytes(b"x")
    session.secure("test_images", folder)
    assert list((session.secured(folder) / "test_images").iterdir()) == []

    # a test cell that ran twice is void
    session.secure("test_labels", folder)
    assert (kept / "VOID").exists()


def test_the_answer_cells_sandbox_has_a_kernels_bounds():
    from asl_course.grading.plugins import autograder, harness

    traits = autograder.GuardedExecute.class_traits()
    assert harness.BOUNDS_MEMORY == traits["memory_limit"].default_value
    assert harness.BOUNDS_PROCESSES == traits["max_processes"].default_value
    assert harness.bounds().memory == harness.BOUNDS_MEMORY


@pytest.mark.slow
def test_answer_cells_over_the_memory_limit_stop_with_the_limit_named(monkeypatch):
    from asl_course.grading.plugins import harness, limits, sandbox

    if not sandbox.available() or limits.mechanism() not in ("cgroup-v1", "cgroup-v2"):
        pytest.skip("needs bubblewrap and cgroups (root)")
    monkeypatch.setattr(harness, "BOUNDS_MEMORY", 3 * 2**30 // 2)
    package = Path(grading.__file__).resolve().parent.parent.parent
    hog = ["big = bytearray(4 * 2**30)  # zero-filled: every page touched"]
    with pytest.raises(harness.HarnessError, match="memory limit"):
        harness.Harness(hog, None, package)
