"""Autograding: points, grading checks, feedback, and a simulated class through nbgrader.

Unit tests first (seconds). Then the simulated class (``tests/submissions/catalogue.py``):
a throwaway course folder (this repository's ``nbgrader_config.py`` and ``source/``, plus a
copy of the session's data), each assignment released with ``nbgrader generate_assignment``,
every catalogued submission put in ``submitted/<student>/<assignment>/``, then
``nbgrader autograde`` (all students of an assignment in one call), ``generate_feedback`` and
``export``. The per-cell time limits are lowered in that folder (40 s; 10 s for the two
notebook-1 cells where the looping submissions loop) so that they cost less; everything else
is the course's configuration.
"""

from __future__ import annotations

import functools
import html
import json
import re
import shutil
from pathlib import Path

import nbformat
import numpy as np
import pytest

from asl_course import grading
from asl_course.grading.plugins import autograder
from asl_course.learners import notebook
from asl_course.tooling import classroom, editions
from submissions.catalogue import catalogue

REPO = Path(__file__).resolve().parent.parent
ASSIGNMENTS = editions.assignments(REPO)
CATALOGUE = catalogue()


def source_nb(name):
    return nbformat.read(REPO / "source" / name / f"{name}.ipynb", as_version=4)


@functools.cache
def hidden_lines() -> frozenset[str]:
    """Every line of every hidden test in source/ (long enough to be telling)."""
    out = set()
    for name in ASSIGNMENTS:
        for cell in source_nb(name).cells:
            inside = False
            for line in cell.source.splitlines():
                if "### BEGIN HIDDEN TESTS" in line:
                    inside = True
                elif "### END HIDDEN TESTS" in line:
                    inside = False
                elif inside and len(line.strip()) >= 16 and not line.strip().startswith("#"):
                    out.add(line.strip())
    return frozenset(out)


# --- Points ----------------------------------------------------------------------------------------


@pytest.mark.parametrize("name", sorted(grading.POINTS))
def test_points_match_the_documented_table(name):
    assert classroom.points(REPO, name) == {k: float(v) for k, v in grading.POINTS[name].items()}
    assert set(grading.POINTS[name]) <= set(grading.EXERCISES)


def test_total_points():
    """7 + 4 + 4 + 7 + 8 + 6 + 5 = 41 (the README's points table: each notebook's exercises and its thinking
    exercise, 1 point)."""
    assert {a: sum(p.values()) for a, p in grading.POINTS.items()} == {
        "01_prepare_data": 7, "02_cnn_model": 4, "03_augmentation": 4, "04_train_and_save": 7, "05_predictions": 8,
        "06_fast_and_stable": 6, "07_beyond_the_studio": 5}
    assert grading.TOTAL_POINTS == 41


@pytest.mark.parametrize("name", ASSIGNMENTS)
def test_every_assignment_is_graded_with_hidden_tests(name):
    """Every assignment in source/ (05 included once it exists) has test cells with hidden tests."""
    tests = [c for c in source_nb(name).cells if c.get("metadata", {}).get("nbgrader", {}).get("grade")]
    assert tests, f"{name} has no graded test cell"
    assert all("### BEGIN HIDDEN TESTS" in c.source for c in tests), f"{name}: a test cell without hidden tests"


@pytest.mark.parametrize("name", sorted(grading.POINTS))
def test_hidden_tests_load_a_fresh_copy_of_the_grading_code(name):
    """Each hidden test is the one line of asl_course/grading/fresh.py, for its own grade_id (what
    that line guarantees is tested in tests/test_cells.py)."""
    from asl_course.grading import cells, fresh

    for cell in source_nb(name).cells:
        if cells.is_grade(cell):
            assert cells.hidden_tests(cell.source) == fresh.HIDDEN_TEST.format(grade_id=cells.grade_id(cell))


# --- The grader's statement of the lesson agrees with the reference implementation --------------------


def test_grading_spec_matches_the_lesson():
    from asl_course.learners import lesson

    assert grading.describe_model(lesson.build_model())["params"] == lesson.MODEL_PARAMS == grading.MODEL_PARAMS
    assert grading.model_mistakes(grading.describe_model(lesson.build_model())) == []
    ref = None
    obs = grading.observe("test_datagen", {"datagen": lesson.make_datagen()}, ref)
    assert grading.judge("test_datagen", obs, ref) == []


# --- Grading checks, in this process ------------------------------------------------------------------


@pytest.fixture(scope="module")
def ref(data_dir, monkeypatch_module):
    """The grader's reference data, parsed once: the same cached copy the checks below read."""
    monkeypatch_module.setenv("ASL_DATA_DIR", str(data_dir))
    monkeypatch_module.delenv(grading.GRADING_DIR_ENV, raising=False)
    return grading.reference()


@pytest.fixture(scope="module")
def monkeypatch_module():
    with pytest.MonkeyPatch.context() as mp:
        yield mp


@pytest.fixture
def solved(ref):
    """The namespace of a solved notebook 1 (as the kernel would hold it)."""
    import pandas as pd

    train_df = pd.DataFrame(np.column_stack([ref.y_train, ref.x_train]).astype(np.int64), columns=grading.COLUMNS)
    valid_df = pd.DataFrame(np.column_stack([ref.y_valid, ref.x_valid]).astype(np.int64), columns=grading.COLUMNS)
    return {"train_df": train_df, "valid_df": valid_df}


def run_check(grade_id, ns, monkeypatch, data_dir):
    monkeypatch.setenv("ASL_DATA_DIR", str(data_dir))
    monkeypatch.delenv(grading.GRADING_DIR_ENV, raising=False)
    try:
        grading.check(grade_id, ns)
        return None
    except grading.GradingFailed as exc:
        return str(exc)


def test_notebook1_checks_pass_the_solution_and_name_mistakes(solved, ref, monkeypatch, data_dir):
    ns = dict(solved)
    assert run_check("test_load_csv", ns, monkeypatch, data_dir) is None
    # the label column left in: fails, names the fix, and repairs the namespace
    ns["y_train"], ns["y_valid"] = ns["train_df"]["label"], ns["valid_df"]["label"]
    message = run_check("test_labels", ns, monkeypatch, data_dir)
    assert "del train_df" in message
    assert "label" not in ns["train_df"].columns
    ns["x_train"], ns["x_valid"] = ns["train_df"].values, ns["valid_df"].values
    assert run_check("test_images", ns, monkeypatch, data_dir) is None
    # release labels with 24 classes
    ns["y_train"] = ns["y_train"].where(ns["y_train"] < 9, ns["y_train"] + 1)
    assert "Kaggle release" in run_check("test_one_hot", ns, monkeypatch, data_dir)
    assert np.shape(ns["y_train"]) == (len(ref.y_train), 24)
    # scaled twice, then right
    ns["x_train"], ns["x_valid"] = ns["x_train"] / 255 / 255, ns["x_valid"] / 255
    assert "twice" in run_check("test_normalize", ns, monkeypatch, data_dir)
    assert run_check("test_normalize", ns, monkeypatch, data_dir) is None  # repaired
    ns["x_train"], ns["x_valid"] = ns["x_train"].reshape(-1, 28, 28), ns["x_valid"].reshape(-1, 28, 28, 1)
    assert "channel" in run_check("test_reshape", ns, monkeypatch, data_dir)
    assert run_check("test_reshape", ns, monkeypatch, data_dir) is None


def test_notebook1_hidden_checks_name_the_other_catalogued_mistakes(solved, ref, monkeypatch, data_dir):
    """The hidden verdicts of the notebook-1 mistakes CI does not grade through nbgrader
    (catalogue ``in_ci=False``) that the test above does not make: header=None, no .values,
    labels not one-hot."""
    import pandas as pd

    # valid_df read with header=None (columns 0..784, the header a row; the smaller file: an
    # object-typed frame is slow to measure)
    header_as_row = pd.concat([pd.DataFrame([grading.COLUMNS]), solved["valid_df"].set_axis(range(785), axis=1)],
                              ignore_index=True)
    ns = {"train_df": solved["train_df"], "valid_df": header_as_row}
    assert "header" in run_check("test_load_csv", ns, monkeypatch, data_dir)
    ns = dict(solved)
    ns["y_train"], ns["y_valid"] = ns["train_df"].pop("label"), ns["valid_df"].pop("label")
    ns["x_train"], ns["x_valid"] = ns["train_df"], ns["valid_df"].values  # x_train left a DataFrame
    assert ".values" in run_check("test_images", ns, monkeypatch, data_dir)
    ns["x_train"] = ns["train_df"].values
    assert run_check("test_images", ns, monkeypatch, data_dir) is None
    assert "one-hot" in run_check("test_one_hot", ns, monkeypatch, data_dir)  # integer labels


def test_model_checks_name_each_mistake():
    import keras

    from asl_course.learners import lesson

    good = grading.describe_model(lesson.build_model())
    assert grading.model_mistakes(good) == []
    layers = lesson.build_model().layers
    swapped = keras.Sequential([keras.Input((28, 28, 1)), *layers[:4], layers[5], layers[4], *layers[6:]])
    assert "wrong order" in " ".join(grading.model_mistakes(grading.describe_model(swapped)))
    bad = json.loads(json.dumps(good))
    bad["layers"][0][1]["padding"] = "valid"
    assert 'padding="same"' in grading.model_mistakes(bad)[0]
    bad = json.loads(json.dumps(good))
    bad["layers"][-1][1]["activation"] = "linear"
    assert "softmax" in grading.model_mistakes(bad)[0]
    assert "not a Keras model" in grading.model_mistakes(grading.describe_model("a string"))[0]


def test_datagen_checks_behaviour_not_only_settings():
    from asl_course.learners import lesson

    datagen = lesson.make_datagen()
    datagen.vertical_flip = True
    obs = grading.observe("test_datagen", {"datagen": datagen}, None)
    assert "vertical_flip" in grading.judge("test_datagen", obs, None)[0]
    datagen = lesson.make_datagen()
    datagen.get_random_transform = lambda shape, seed=None: {"theta": 0, "flip_vertical": True}
    obs = grading.observe("test_datagen", {"datagen": datagen}, None)
    assert "flips images vertically" in " ".join(grading.judge("test_datagen", obs, None))


def test_steps_checks(ref, monkeypatch):
    monkeypatch.setenv(grading.GRADING_PLAN_ENV, json.dumps({"fast": True, "epochs": 1, "train_images": None}))
    n = len(ref.y_train)

    class Iter:
        batch_size, x = 32, np.zeros((n, 1))

    def mistakes(steps):
        obs = grading.observe("test_steps", {"steps_per_epoch": steps, "batch_size": 32, "img_iter": Iter()}, ref)
        return " ".join(grading.judge("test_steps", obs, ref))

    assert mistakes(-(-n // 32)) == ""
    assert "float" in mistakes(n / 32)
    if n % 32:
        assert "rounds down" in mistakes(n // 32)


NOTEBOOK5 = ("test_load_model", "test_prepare_image", "test_predict_letter", "test_top_k", "test_accuracy_per_letter")


@pytest.fixture
def solved5(tmp_path, monkeypatch, data_dir):
    """A solved notebook 5's namespace, in a folder holding asl_model.keras, under a grading folder."""
    import keras
    from PIL import Image

    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("ASL_DATA_DIR", str(data_dir))
    monkeypatch.setenv(grading.GRADING_DIR_ENV, str(tmp_path / "grading"))
    _briefly_trained_model(tmp_path / "asl_model.keras")
    model = keras.models.load_model("asl_model.keras")
    letters = "ABCDEFGHIKLMNOPQRSTUVWXY"

    def prepare_image(path):
        pixels = np.asarray(Image.open(path).convert("L").resize((28, 28)), dtype="float32") / 255
        return pixels.reshape(1, 28, 28, 1)

    def predict_letter(path):
        probabilities = model.predict(prepare_image(path), verbose=0)[0]
        return letters[int(probabilities.argmax())], float(probabilities.max())

    def top_k(probabilities, k=3):
        return [(letters[i], float(probabilities[i])) for i in np.argsort(probabilities)[::-1][:k]]

    return {"model": model, "prepare_image": prepare_image, "LETTERS": letters, "predict_letter": predict_letter,
            "top_k": top_k, "accuracy_per_letter": lambda cm: cm.diagonal() / cm.sum(axis=1)}


def _check5(grade_id, ns):
    try:
        grading.check(grade_id, ns)
        return None
    except grading.GradingFailed as exc:
        return str(exc)


@pytest.mark.slow
def test_notebook5_checks_pass_the_solution_in_the_kernel_and_in_the_verifier(solved5, ref, tmp_path):
    for grade_id in NOTEBOOK5:
        assert _check5(grade_id, solved5) is None, grade_id
        if grade_id not in grading.FUNCTION_EXERCISES:  # those: the verifier's sandbox (tests/test_trust.py)
            assert grading.verify(grade_id, tmp_path / "grading" / "artefacts" / grade_id, ref) == [], grade_id


@pytest.mark.slow
def test_notebook5_verifier_rejects_edited_measurements(solved5, ref, tmp_path):
    """A model file changed after the hidden test recorded it (a tampered kernel) fails outside it;
    notebook 5's functions are judged from the answer cells (tests/test_trust.py)."""
    from asl_course.learners import lesson

    assert _check5("test_load_model", solved5) is None
    (run,) = grading.runs(tmp_path / "grading" / "artefacts" / "test_load_model")
    lesson.build_model().save(run / "model.keras")
    assert "does not predict what the model saved" in " ".join(grading.verify(
        "test_load_model", run.parent, ref))
    (run / "file.keras").unlink()
    assert "missing" in " ".join(grading.verify("test_load_model", run.parent, ref))


@pytest.mark.slow
def test_notebook5_checks_name_each_mistake_and_repair(solved5, monkeypatch):
    from PIL import Image

    from asl_course.learners import lesson

    monkeypatch.delenv(grading.GRADING_DIR_ENV)  # under the autograder the autograder repairs, not the test

    ns = dict(solved5)
    ns["model"] = lesson.build_model()
    assert "does not predict what the model saved" in _check5("test_load_model", ns)
    assert _check5("test_load_model", ns) is None  # repaired: loaded from the file
    ns["prepare_image"] = lambda p: (np.asarray(Image.open(p).resize((28, 28)), dtype="float32") / 255).reshape(1, 28, 28, 1)
    assert "grayscale" in _check5("test_prepare_image", ns)
    ns["prepare_image"] = lambda p: np.asarray(Image.open(p).convert("L").resize((28, 28)), dtype="float32").reshape(1, 28, 28, 1)
    assert "divide by 255" in _check5("test_prepare_image", ns)
    ns["prepare_image"] = lambda p: 1 - solved5["prepare_image"](p)
    assert "inverted" in _check5("test_prepare_image", ns)
    ns["prepare_image"] = "prepare_image"
    assert "not a function" in _check5("test_prepare_image", ns)
    ns["LETTERS"] = "ABCDEFGHIJKLMNOPQRSTUVWXY"
    assert "J and Z need motion" in _check5("test_predict_letter", ns)
    assert ns["LETTERS"] == grading.LETTERS
    ns["predict_letter"] = lambda p: solved5["predict_letter"](p)[0]
    assert "return a pair" in _check5("test_predict_letter", ns)
    ns["top_k"] = lambda probs, k=3: [(grading.LETTERS[i], float(probs[i])) for i in np.argsort(probs)[-k:]]
    assert "increasing order" in _check5("test_top_k", ns)
    ns["accuracy_per_letter"] = lambda cm: cm.diagonal() / cm.sum(axis=0)
    assert "column sums" in _check5("test_accuracy_per_letter", ns)
    ns["accuracy_per_letter"] = lambda cm: cm.diagonal() / cm.sum()
    assert "cm.diagonal() / cm.sum(axis=1)" in _check5("test_accuracy_per_letter", ns)
    ns["accuracy_per_letter"] = lambda cm: 1 / 0
    assert "ZeroDivisionError" in _check5("test_accuracy_per_letter", ns)
    for grade_id in NOTEBOOK5:  # every repair leaves a namespace that passes
        assert _check5(grade_id, ns) is None, grade_id

def test_sentences():
    assert grading.sentences(["a is wrong", "b? fix it."]) == "a is wrong. b? fix it."


# --- Feedback ----------------------------------------------------------------------------------------


def test_feedback_preprocessor_removes_hidden_tests_and_tracebacks():
    from asl_course.grading.plugins.feedback import HideHiddenTests

    cell = nbformat.v4.new_code_cell('"""Self-check."""\n### BEGIN HIDDEN TESTS\nsecret_grading_call(x, y)\n'
                                     '### END HIDDEN TESTS\nchecks.visible(x)')
    cell.outputs = [nbformat.v4.new_output("error", ename="GradingFailed", evalue="x is not divided by 255.",
                                           traceback=["Traceback", "----> 3 secret_grading_call(x, y)"]),
                    nbformat.v4.new_output("error", ename="TypeError", evalue="secret_grading_call(x, y) failed",
                                           traceback=["secret_grading_call(x, y)"])]
    nb = nbformat.v4.new_notebook(cells=[cell])
    nb, _ = HideHiddenTests().preprocess(nb, {})
    text = json.dumps(nb)
    assert "secret_grading_call" not in text
    assert "checks.visible(x)" in nb.cells[0].source
    assert nb.cells[0].outputs[0].traceback == ["GradingFailed: x is not divided by 255."]


# --- The simulated class through nbgrader ----------------------------------------------------------------


def test_combined_submissions_carry_the_mistakes_they_cover():
    """A combined submission (catalogue) stands in CI for the ones it covers: same notebook, every
    exercise they lose, each one's words (notebook 4's rounding down aside: its words are tested
    in-process, test_steps_checks), and each one alone only in --full-class."""
    by_id = {s.student: s for s in CATALOGUE}
    combined = [s for s in CATALOGUE if s.kind == "combined"]
    assert combined
    for sub in combined:
        assert sub.in_ci and len(sub.covers) >= 2, sub.student
        for student in sub.covers:
            part = by_id[student]
            assert part.assignment == sub.assignment and part.kind == "mistake" and not part.in_ci, student
            assert part.lost <= sub.lost, student
            words = set(part.words()) - ({"rounds down"} if student == "m04_floor_unnormalised" else set())
            assert words <= set(sub.words()), (student, words - set(sub.words()))
        assert sub.lost == {g for student in sub.covers for g in by_id[student].lost}, sub.student
    ids = [s.student for s in CATALOGUE]
    assert len(ids) == len(set(ids)), "a student id twice"


def test_every_baseline_is_graded_in_ci():
    """The class leaves a baseline out of CI only where tests/test_parallel.py's class grades it
    (serially and through asl-course grade's workers, against the same expected scores)."""
    from submissions.catalogue import PARALLEL_CLASS

    parallel = {(a, s) for a, students in PARALLEL_CLASS.items() for s in students}
    left_out = {(s.assignment, s.student) for s in CATALOGUE if s.kind == "baseline" and not s.in_ci}
    graded_again = {(s.assignment, s.student) for s in CATALOGUE if s.student.startswith("zz")}
    assert left_out - graded_again <= parallel, left_out - graded_again - parallel
    assert parallel <= {(s.assignment, s.student) for s in CATALOGUE}
    for assignment in PARALLEL_CLASS:  # the class keeps each notebook's full solution
        assert any(s.in_ci and s.kind == "baseline" and s.assignment == assignment and not s.lost
                   for s in CATALOGUE), assignment



@pytest.fixture(scope="session")
def course(tmp_path_factory, data_dir, pytestconfig):
    """A course folder with all assignments released and the catalogue submitted (what CI grades,
    or with ``--full-class`` all of it)."""
    root = tmp_path_factory.mktemp("course")
    # The data lives where an instructor keeps it (data/asl_data in the course folder), as a copy:
    # one adversarial submission deletes it.
    shutil.copytree(data_dir, root / "data" / "asl_data")
    # Shorter limits than the course's, so that the looping submissions are stopped sooner: 40 s
    # for plain cells (room for the slowest, reading the CSVs, on a busy machine: CI runs the
    # Colab-equivalent runtime and the rest of the tests beside these), and 10 s for notebook 1's
    # images and normalise answer cells, where the loops are (.values and x / 255: well under a
    # second otherwise). Notebook 1 may run 240 s in all (x01_time_waster's 8 cells of 35 s pass it;
    # an honest notebook 1 takes 10 to 110 s, the most on a machine loaded 10x). Memory 3 GiB and 128
    # processes (honest peaks: 1.6 GiB, 34): the bombs reach them well within their cell's 40 s even
    # on a loaded machine (at 4 GiB and 512, a load of 25 left them short: cut by the time limit).
    course = classroom.Course.create(
        root, data_dir=root / "data" / "asl_data",
        config_extra="c.GuardedExecute.timeout = 40\n"
                     "from asl_course.grading.plugins.autograder import CELL_TIMEOUTS\n"
                     "c.GuardedExecute.cell_timeouts = dict(CELL_TIMEOUTS, images=10, normalize=10)\n"
                     "c.GuardedExecute.notebook_timeouts = {'01_prepare_data': 240}\n"
                     "c.GuardedExecute.memory_limit = 3 * 2**30\n"
                     "c.GuardedExecute.max_processes = 128\n")
    course.graded = {}
    course.times = pytestconfig.asl_class_times
    course.generate_all()
    assert sorted(p.name for p in (root / "release").iterdir()) == sorted(grading.POINTS)
    # Notebook 5 loads the model notebook 4 saved: each of its submissions comes with one (a
    # model trained for one step: grading checks that the notebook uses it, not how good it is).
    model_file = {"asl_model.keras": _briefly_trained_model(root / "asl_model.keras")}
    for sub in CATALOGUE:
        if not (sub.in_ci or pytestconfig.full_class):
            continue
        course.submit(sub.student, sub.assignment, sub.make(course.root),
                      files=model_file if sub.assignment == "05_predictions" else None)
    return course


def _briefly_trained_model(path: Path) -> bytes:
    import keras

    from asl_course.learners import lesson

    keras.utils.set_random_seed(0)
    model = lesson.build_model()
    lesson.compile_model(model)
    rng = np.random.default_rng(0)
    model.fit(rng.random((64, 28, 28, 1), dtype="float32"), np.eye(24)[rng.integers(0, 24, 64)],
              batch_size=32, epochs=1, verbose=0)
    model.save(path)
    return path.read_bytes()


#: The autograder's line for each notebook it ran (asl_course/grading/plugins/autograder.py).
RAN = re.compile(r"\[asl-course autograder\] ran (\S+)/(\S+) in ([0-9.]+) s")


def graded(course, assignment):
    """Autograde one assignment (all its students in one nbgrader call), then make the feedback."""
    if assignment not in course.graded:
        result = course.autograde(assignment)  # raises unless nbgrader exits 0
        ran = {(student, nb): float(seconds) for student, nb, seconds in RAN.findall(result.stderr)}
        assert ran, "no 'ran <student>/<notebook> in N s' line in the autograder's log: update RAN"
        course.times.update(ran)
        course.generate_feedback(assignment)
        course.graded[assignment] = (course.scores(assignment), result.stderr)
    return course.graded[assignment]


def exported(course) -> list[dict]:
    """``nbgrader export``'s rows (one export of the whole gradebook, made again only after
    another assignment was graded: the per-notebook tests below read the same rows)."""
    key = frozenset(course.graded)
    if getattr(course, "exported_for", None) != key:
        course.exported_rows, course.exported_for = course.export(), key
    return course.exported_rows


def feedback_text(course, student, assignment) -> str:
    page = course.feedback_html(student, assignment)
    return html.unescape(re.sub(r"<[^>]+>", "", page))


@pytest.mark.slow
@pytest.mark.parametrize("sub", [
    pytest.param(s, id=s.student, marks=[] if s.in_ci else [pytest.mark.full_class]) for s in CATALOGUE])
def test_simulated_submission(course, sub, data_dir):
    real = notebook.is_real(data_dir)
    if sub.needs_real and not real:
        pytest.skip("needs the real data: one epoch on the synthetic stand-in stays at chance")
    scores, log = graded(course, sub.assignment)
    got = {gid: score for gid, score in scores[sub.student].items() if real or gid not in sub.real_only}
    assert got == sub.expected(real), f"{sub.what}: scores differ from the expected"
    text = feedback_text(course, sub.student, sub.assignment)
    for word in sub.words(real):
        assert word in text, f"the feedback of {sub.student} does not name the mistake ({word!r})"
    leaked = [line for line in hidden_lines() if line in text]
    assert not leaked, f"the feedback shows hidden-test code: {leaked[:3]}"
    assert "most recent call last" not in text and "Cell In[" not in text, "the feedback shows a traceback"
    if sub.kind == "baseline" and not sub.lost:
        # a full solution runs clean under the grader: no cell errs or hits its time limit
        nb = course.autograded_notebook(sub.student, sub.assignment)
        errors = [(i, o.get("ename")) for i, c in enumerate(nb.cells) if c.cell_type == "code"
                  for o in c.get("outputs", []) if o.get("output_type") == "error"]
        assert not errors, f"{sub.what}: cells raised under the grader (cell, error): {errors}"


@pytest.mark.slow
def test_adversarial_submissions_do_not_touch_the_graders_data(course):
    graded(course, "01_prepare_data")
    assert (course.root / "data" / "asl_data" / "sign_mnist_train.csv").is_file(), "the grader's data was restored"
    from asl_course import dataset as data

    assert data.check(course.root / "data" / "asl_data")["kind"] in ("real", "synthetic")


@pytest.mark.slow
def test_no_notebook_leaves_a_file_past_the_disk_limit(course):
    """x01_bombs writes 4 GiB files: each stops at the disk limit, and what the notebook wrote is not
    kept in autograded/ (the autograded notebook and the submitted files are)."""
    graded(course, "01_prepare_data")
    limit = autograder.GuardedExecute().disk_limit
    files = [p for p in (course.root / "autograded").glob("*/01_prepare_data/**/*") if p.is_file()]
    assert files and not [p for p in files if p.stat().st_size > limit or p.name == "filler.bin"]


@pytest.mark.slow
@pytest.mark.parametrize("assignment", sorted(grading.POINTS), ids=lambda a: a[:2])
def test_export_has_every_student_with_the_expected_total(course, assignment, data_dir, request):
    graded(course, assignment)
    rows = exported(course)
    got = {(r["student_id"], r["assignment"]): (float(r["score"]), float(r["max_score"])) for r in rows}
    for sub in CATALOGUE:
        if sub.assignment != assignment or (sub.needs_real and not notebook.is_real(data_dir)):
            continue
        if not (sub.in_ci or request.config.full_class):
            assert (sub.student, assignment) not in got or got[(sub.student, assignment)][0] == 0.0
            continue  # not submitted in this session (the course fixture)
        if sub.real_only and not notebook.is_real(data_dir):
            assert (sub.student, sub.assignment) in got
            continue  # its total depends on what the stand-in cannot show
        assert got[(sub.student, sub.assignment)] == (sum(sub.expected().values()),
                                                      float(sum(grading.POINTS[sub.assignment].values())))
