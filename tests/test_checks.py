"""The visible self-checks: every catalogued mistake gets a message that names it.

Each mistake of the simulated class (tests/submissions/catalogue.py, notebooks 1-4) is made
exactly as the catalogue makes it (its own edit of the solution notebook), and the notebook's
exercise and self-check cells are run on small data in one namespace, as a learner runs them
(hidden tests left out). The self-check of each exercise the submission loses must fail with a
message naming that mistake; every self-check before the first mistake must print its tick.
Notebook 5's self-check messages are tested in tests/test_predict.py.

A real kernel (nbclient) shows a failing self-check as its message only: no traceback lines
through asl_course/, and still an error output (nbgrader scores the cell 0).
"""

from __future__ import annotations

import contextlib
import io
import re
import shutil
from pathlib import Path

import nbformat
import numpy as np
import pytest

from asl_course.learners import checks, lesson
from asl_course.tooling import editions
import _datautil
from submissions import catalogue as cat

REPO = Path(__file__).resolve().parent.parent
HIDDEN = re.compile(r"### BEGIN HIDDEN TESTS.*?### END HIDDEN TESTS\n?", re.S)

#: The words each failing self-check must say, per catalogued mistake and exercise.
NAMED = {
    "m01_no_255": {"test_normalize": "not divided by 255"},
    "m01_scaled_twice": {"test_normalize": "scaled twice"},
    "m01_not_one_hot": {"test_one_hot": "still a vector of integer labels"},
    "m01_release_labels": {"test_one_hot": "Kaggle release's numbering"},
    "m01_no_channel": {"test_reshape": "channel axis is missing"},
    "m01_label_kept": {"test_labels": "the label column is still in train_df"},
    "m01_header_none": {"test_load_csv": "read with header=None"},
    "m01_dataframe": {"test_images": "still a pandas DataFrame"},
    "m01_predict_equal": {"test_predict_balance": "within 10 % of the commonest"},
    "m02_padding_valid": {"test_model": "padding='valid'; the lesson uses padding='same'"},
    "m02_layer_order": {"test_model": "in the wrong order"},
    "m02_no_softmax": {"test_model": "activation='linear'; the lesson uses activation='softmax'"},
    "m03_vertical_flip": {"test_datagen": "vertical_flip=True turns hands upside down"},
    "m03_next_method": {"test_batch": "next(img_iter)"},
    "m04_steps_save_loss": {"test_steps": "is a float", "test_save": "only to a .keras file",
                            "test_compile": "sparse_categorical_crossentropy is for integer labels"},
    "m04_floor_unnormalised": {"test_steps": "rounds down", "test_fit": "validated on other data"},
}
COVERED = ("01_", "02_", "03_", "04_")


def _course(tmp: Path) -> Path:
    """A course folder whose release/ is made from today's source/ (answers stubbed, hidden tests out)."""
    for a in editions.assignments(REPO):
        src = nbformat.read(REPO / "source" / a / f"{a}.ipynb", as_version=4)
        (tmp / "source" / a).mkdir(parents=True)
        shutil.copy(REPO / "source" / a / f"{a}.ipynb", tmp / "source" / a)
        for c in src.cells:
            nbg = c.get("metadata", {}).get("nbgrader", {})
            if nbg.get("solution"):
                c.source = editions.STUB
            elif nbg.get("grade"):
                c.source = HIDDEN.sub("", c.source)
        (tmp / "release" / a).mkdir(parents=True)
        nbformat.write(src, tmp / "release" / a / f"{a}.ipynb")
    return tmp


@pytest.fixture(scope="module")
def course(tmp_path_factory):
    return _course(tmp_path_factory.mktemp("course"))


def _small_data(folder: Path) -> Path:
    """Two small CSVs in the course's format (labels 0..23)."""
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "sign_mnist_train.csv").write_bytes(
        _datautil.csv_text(_datautil.make_rows(96, seed=1, numbering="course").tolist()))
    (folder / "sign_mnist_valid.csv").write_bytes(
        _datautil.csv_text(_datautil.make_rows(48, seed=2, numbering="course").tolist()))
    return folder


def _setup_namespace(assignment: str, tmp: Path) -> dict:
    """What each notebook's setup cell defines, on small data (its catch-up, in a few lines)."""
    import keras

    rng = np.random.default_rng(0)
    ns: dict = {"DATA_DIR": _small_data(tmp / "data")}
    if assignment in (cat.A3, cat.A4):
        n_train = 250  # not a multiple of 32: rounding the steps down shows
        labels = np.arange(n_train) % 24
        ns.update(
            x_train=rng.random((n_train, 28, 28, 1)).astype("float32"),
            y_train=keras.utils.to_categorical(labels, 24),
            x_valid=rng.random((64, 28, 28, 1)).astype("float32"),
            y_valid=keras.utils.to_categorical(np.arange(64) % 24, 24),
        )
    if assignment == cat.A4:
        keras.utils.set_random_seed(0)
        ns.update(model=lesson.build_model(), datagen=lesson.make_datagen(), epochs=1)
    return ns


def run_like_a_learner(nb, assignment: str, tmp: Path) -> dict[str, tuple[str, str]]:
    """Run the exercise and test cells in order; each self-check's outcome: ("ok"|"failed", text)."""
    ns = _setup_namespace(assignment, tmp)
    outcomes = {}
    for cell in nb.cells:
        nbg = cell.get("metadata", {}).get("nbgrader", {})
        if cell.cell_type != "code" or not (nbg.get("solution") or nbg.get("grade")):
            continue  # the setup cell (replaced above), figures, prints
        out = io.StringIO()
        try:
            with contextlib.redirect_stdout(out):
                exec(compile(HIDDEN.sub("", cell.source), nbg.get("grade_id", "cell"), "exec"), ns)
        except checks.SelfCheckFailed as exc:
            outcomes[nbg["grade_id"]] = ("failed", "\n".join(exc._render_traceback_()))
        except Exception as exc:  # noqa: BLE001 - an exercise cell that stops, as in Jupyter
            if nbg.get("grade"):
                outcomes[nbg["grade_id"]] = ("error", f"{type(exc).__name__}: {exc}")
        else:
            if nbg.get("grade"):
                outcomes[nbg["grade_id"]] = ("ok", out.getvalue())
    return outcomes


def _mistakes():
    return [s for s in cat.catalogue() if s.kind == "mistake" and s.assignment.startswith(COVERED)]


def test_every_catalogued_mistake_has_its_words():
    assert set(NAMED) == {s.student for s in _mistakes()}
    for s in _mistakes():
        assert set(NAMED[s.student]) == s.lost, s.student


@pytest.mark.parametrize("sub", _mistakes(), ids=lambda s: s.student)
def test_each_catalogued_mistake_is_named(sub, course, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    outcomes = run_like_a_learner(sub.make(course), sub.assignment, tmp_path)
    order = list(outcomes)
    first = min(order.index(g) for g in sub.lost)
    for gid in order[:first]:
        assert outcomes[gid][0] == "ok" and outcomes[gid][1].startswith("\u2714"), (gid, outcomes[gid])
    for gid, words in NAMED[sub.student].items():
        state, text = outcomes[gid]
        assert state == "failed", (gid, outcomes[gid])
        assert words in text, (gid, text)
        assert "Fix:" in text


@pytest.mark.parametrize("assignment", [cat.A1, cat.A2, cat.A3])
def test_the_solution_gets_every_tick(assignment, course, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    outcomes = run_like_a_learner(cat.sol(assignment)(course), assignment, tmp_path)
    assert outcomes and all(state == "ok" and text.startswith("\u2714") for state, text in outcomes.values()), outcomes


@pytest.mark.slow
def test_notebook_4s_solution_is_not_taken_for_other_validation_data(course, tmp_path, monkeypatch):
    """On small random data the model learns nothing: the check says so, and nothing else."""
    monkeypatch.chdir(tmp_path)
    outcomes = run_like_a_learner(cat.sol(cat.A4)(course), cat.A4, tmp_path)
    assert {g for g, (state, _) in outcomes.items() if state != "ok"} == {"test_fit"}
    assert "of the validation images right" in outcomes["test_fit"][1]
    assert "validated on other data" not in outcomes["test_fit"][1]


@pytest.mark.parametrize("assignment", [cat.A1, cat.A2, cat.A3, cat.A4])
def test_an_untouched_exercise_says_define_it(assignment, course, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    nb = nbformat.read(course / "release" / assignment / f"{assignment}.ipynb", as_version=4)
    outcomes = run_like_a_learner(nb, assignment, tmp_path)
    first_gid, (state, text) = next(iter(outcomes.items()))
    assert state == "failed", (first_gid, state, text)
    if assignment == cat.A4:  # notebook 4's first exercise compiles the catch-up's model
        assert "not compiled" in text
    else:
        assert "Not done yet" in text and "in the cell above" in text and "define `" in text


def test_missing_names_are_named():
    with pytest.raises(checks.NotDoneYet, match=r"define `train_df`, `valid_df` in the cell above"):
        checks.self_check("load_csv", {})
    with pytest.raises(checks.NotDoneYet, match=r"`train_df`, `valid_df` are not defined either"):
        checks.self_check("labels", {"y_train": 1})
    with pytest.raises(checks.NotDoneYet, match=r"next\(img_iter\)"):
        checks.self_check("batch", {"datagen": 1, "img_iter": 1})
    with pytest.raises(ValueError, match="no self-check called"):
        checks.self_check("nope", {})
    assert issubclass(checks.NotDoneYet, AssertionError)


def test_every_test_cell_calls_its_own_self_check():
    for a in editions.assignments(REPO):
        nb = nbformat.read(REPO / "source" / a / f"{a}.ipynb", as_version=4)
        for c in nb.cells:
            gid = c.get("metadata", {}).get("nbgrader", {}).get("grade_id", "")
            if gid.startswith("test_"):
                visible = c.source.split("### END HIDDEN TESTS")[-1]
                assert f'checks.self_check("{gid[5:]}", globals())' in visible, (a, gid)
                assert gid[5:] in checks.EXERCISES


# --- In a real kernel ---------------------------------------------------------------------


def test_a_kernel_shows_the_message_not_a_traceback(tmp_path):
    from nbclient import NotebookClient
    from nbgrader.utils import determine_grade

    data = _small_data(tmp_path / "data")
    nb = nbformat.v4.new_notebook()
    grade = {"grade": True, "points": 1, "solution": False, "locked": True, "schema_version": 3}
    nb.cells = [
        nbformat.v4.new_code_cell(f"import pandas as pd\nfrom asl_course.learners import checks\nDATA = {str(data)!r}\n"),
        nbformat.v4.new_code_cell('checks.self_check("labels", globals())'),
        nbformat.v4.new_code_cell('train_df = pd.read_csv(DATA + "/sign_mnist_train.csv", header=None)\n'
                                  'valid_df = pd.read_csv(DATA + "/sign_mnist_valid.csv", header=None)'),
        nbformat.v4.new_code_cell('checks.self_check("load_csv", globals())'),
        nbformat.v4.new_code_cell('train_df = pd.read_csv(DATA + "/sign_mnist_train.csv")\n'
                                  'valid_df = pd.read_csv(DATA + "/sign_mnist_valid.csv")\n'
                                  'checks.self_check("load_csv", globals())'),
    ]
    for i in (1, 3, 4):
        nb.cells[i].metadata["nbgrader"] = dict(grade, grade_id=f"test_{i}")
    NotebookClient(nb, timeout=120, allow_errors=True, kernel_name="python3").execute()

    def error(cell):
        errors = [o for o in cell.outputs if o.output_type == "error"]
        assert len(errors) == 1, cell.outputs
        return errors[0], "\n".join(errors[0].traceback)

    not_done, text = error(nb.cells[1])
    assert not_done.ename == "NotDoneYet" and "define `y_train`, `y_valid` in the cell above" in text
    wrong, text = error(nb.cells[3])
    assert wrong.ename == "SelfCheckFailed" and "read with header=None" in text
    for out in (not_done, wrong):
        shown = "\n".join(out.traceback)
        assert "asl_course" not in shown and "Traceback" not in shown and "File " not in shown, shown
        assert len(out.traceback) <= 8
    assert determine_grade(nb.cells[3])[0] == 0  # nbgrader: the failed self-check scores nothing
    assert determine_grade(nb.cells[4])[0] == 1
    assert "\u2714 train_df" in nb.cells[4].outputs[0].text


# --- What notebooks 3 and 4 teach with (figures, measured facts, stored results) ----------


def test_the_shift_options_move_the_way_notebook_3_says():
    """Notebook 3 teaches that width_shift_range moves rows and height_shift_range columns (Keras 2.9-3.15)."""
    from asl_course.learners import notebook

    moved = notebook.shift_axes(0.3, draws=40)
    rows, cols = moved["width_shift_range"]
    assert rows > 2 and cols == 0, moved
    rows, cols = moved["height_shift_range"]
    assert cols > 2 and rows == 0, moved


def test_rescale_comes_after_the_transforms_and_preprocessing_function():
    """Notebook 3's order: random transforms, then preprocessing_function, then rescale."""
    from tensorflow.keras.preprocessing.image import ImageDataGenerator

    seen = []

    def preprocessing(x):
        seen.append(float(x.max()))
        return x

    gen = ImageDataGenerator(rescale=1 / 255, preprocessing_function=preprocessing, brightness_range=(2.0, 2.0))
    out = next(gen.flow(np.full((1, 28, 28, 1), 100.0, "float32"), batch_size=1, shuffle=False))
    assert seen == [200.0]  # brightness (a random transform) already applied, rescale not yet
    assert np.isclose(float(out.max()), 200 / 255)


def test_before_after_pairs_each_original_with_its_copy(monkeypatch):
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from asl_course.learners import notebook

    figures = []
    monkeypatch.setattr(plt, "show", lambda: figures.append(plt.gcf()))
    originals = np.zeros((6, 28, 28, 1))
    augmented = np.ones((6, 28, 28, 1))
    notebook.show_before_after(originals, augmented, np.arange(6), pairs=6, cols=4)
    axes = figures[0].axes
    shown = [ax for ax in axes if ax.images]
    assert len(shown) == 12
    assert [float(ax.images[0].get_array().max()) for ax in shown] == [0.0, 1.0] * 6  # before, after, ...
    assert [ax.get_title() for ax in shown[:2]] == ["A: before", "after"]
    plt.close("all")


def test_the_stored_results_table_shows_each_recorded_run():
    """Notebook 4's stored results: each recorded run's figures, date and file, and each figure is
    what the run's own history says where the record keeps it."""
    from asl_course.learners import notebook

    runs = notebook.stored_results()
    assert [r["augmentation"] for r in runs] == [True, False]
    table = notebook.stored_results_table(runs).splitlines()
    for run, line in zip(runs, table[2:], strict=True):
        s = run["summary"]
        assert line.startswith("| with ImageDataGenerator |" if run["augmentation"] else "| without augmentation |")
        assert [f"{s[k]:.4f}" for k in ("final_val_acc", "best_val_acc", "min_last5_val_acc", "final_train_acc")] \
            == line.split(" | ")[1:5] and run["date"] in line and run["file"] in line
        if run.get("history"):
            val = run["history"]["val_accuracy"]
            assert (s["final_val_acc"], s["best_val_acc"], s["min_last5_val_acc"], s["final_train_acc"]) == (
                round(val[-1], 4), round(max(val), 4), round(min(val[-5:]), 4), round(run["history"]["accuracy"][-1], 4))
    assert any(run.get("history") for run in runs)


# --- The self-check and the grader name a mistake in the same words (one statement) ---------------

_N = 250  # training images: not a multiple of 32, so rounding the steps down shows


def _grader_ref():
    """Just what the scaling and steps judges read of the grader's reference (no digest matches)."""
    import types

    return types.SimpleNamespace(y_train=np.zeros(_N), y_valid=np.zeros(40), x_train=_PIXELS, x_valid=_PIXELS[:40],
                                 digest=lambda name: None)


def _self_check_says(exercise: str, namespace: dict) -> str:
    with pytest.raises(checks.SelfCheckFailed) as caught:
        checks.self_check(exercise, namespace)
    return str(caught.value)


def _grader_says(grade_id: str, namespace: dict) -> str:
    from asl_course import grading

    ref = _grader_ref()
    return " ".join(grading.judge(grade_id, grading.observe(grade_id, namespace, ref), ref))


_PIXELS = np.random.default_rng(0).integers(0, 256, (_N, 784))
SCALING = {  # x_train as a mistake leaves it (x_valid right)
    "not divided (integers)": _PIXELS.astype("uint8"),
    "not divided (floats)": _PIXELS.astype("float64"),
    "divided twice": _PIXELS / 255 / 255,
    "a mean subtracted": _PIXELS / 255 - 0.5,
    "divided by 256": _PIXELS / 256,
}
STEPS = {"a float": _N / 32, "not a number": "8", "rounded down": _N // 32, "another count": 3}


@pytest.mark.parametrize("mistake", SCALING)
def test_the_scaling_self_check_and_the_grader_name_the_same_mistake(mistake):
    from asl_course import grading

    import pandas as pd

    x = SCALING[mistake]
    ns = {"x_train": x, "x_valid": _PIXELS[:40] / 255, "train_df": pd.DataFrame(_PIXELS),
          "valid_df": pd.DataFrame(_PIXELS[:40])}
    f = grading.scale_facts(x)
    what, fix = grading.scale_mistake("x_train", f["kind"], f["dtype"], f["max"], f["min"], f["off_grid"],
                                      float(_PIXELS.max()))
    seen, graded = _self_check_says("normalize", ns), _grader_says("test_normalize", ns)
    assert f"Mistake: {what}" in seen and f"Fix: {fix}" in seen, seen
    assert what in graded and fix in graded, graded


@pytest.mark.parametrize("mistake", STEPS)
def test_the_steps_self_check_and_the_grader_name_the_same_mistake(mistake, monkeypatch):
    import json

    import keras

    from asl_course import grading

    monkeypatch.setenv(grading.GRADING_PLAN_ENV, json.dumps({"fast": True, "epochs": 1, "train_images": _N}))
    x = np.zeros((_N, 28, 28, 1), "float32")
    flow = lesson.make_datagen().flow(x, keras.utils.to_categorical(np.arange(_N) % 24, 24), batch_size=32)
    steps = STEPS[mistake]
    ns = {"steps_per_epoch": steps, "batch_size": 32, "img_iter": flow, "x_train": x}
    number = None if isinstance(steps, str) else float(steps)
    what, fix = grading.steps_mistake(number, type(steps).__name__, _N, 32)
    seen, graded = _self_check_says("steps", ns), _grader_says("test_steps", ns)
    assert f"Mistake: {what}" in seen and f"Fix: {fix}" in seen, seen
    assert what in graded and fix in graded, graded


_BATCH_X = np.random.default_rng(1).random((32, 28, 28, 1)).astype("float32")
_BATCH_Y = np.eye(24, dtype="float32")[np.arange(32) % 24]
BATCHES = {  # (x_batch, y_batch) as a mistake leaves them
    "a batch of 16": (_BATCH_X[:16], _BATCH_Y[:16]),
    "no channel axis": (_BATCH_X[..., 0], _BATCH_Y),
    "pixels 0..255": (_BATCH_X * 255, _BATCH_Y),
    "integer labels": (_BATCH_X, np.arange(32) % 24),
}


@pytest.mark.parametrize("mistake", BATCHES)
def test_the_batch_self_check_and_the_grader_name_the_same_mistake(mistake):
    import keras

    from asl_course import grading

    x_batch, y_batch = BATCHES[mistake]
    x = np.zeros((_N, 28, 28, 1), "float32")
    flow = lesson.make_datagen().flow(x, keras.utils.to_categorical(np.arange(_N) % 24, 24), batch_size=32)
    ns = {"img_iter": flow, "x_batch": x_batch, "y_batch": y_batch, "datagen": lesson.make_datagen()}
    said = grading.batch_mistakes(*grading.batch_facts(x_batch, y_batch))
    assert len(said) == 1, said
    (what, fix), = said
    seen, graded = _self_check_says("batch", ns), _grader_says("test_batch", ns)
    assert f"Mistake: {what}" in seen and f"Fix: {fix}" in seen, seen
    assert what in graded and fix in graded, graded


def test_a_right_batch_has_no_batch_mistake():
    from asl_course import grading

    assert grading.batch_mistakes(*grading.batch_facts(_BATCH_X, _BATCH_Y)) == []


def test_the_save_self_check_and_the_grader_name_the_same_mistake(tmp_path, monkeypatch):
    from asl_course import grading
    from asl_course.grading import nb04_train_and_save as nb4
    from asl_course.grading.models import describe_model

    monkeypatch.chdir(tmp_path)
    model = lesson.build_model()
    x_valid = np.zeros((4, 28, 28, 1), "float32")
    # Not saved (what model.save("asl_model") leaves: an error and no .keras file; here another file beside it).
    (tmp_path / "asl_model.h5").write_bytes(b"old")
    ns = {"model": model, "x_valid": x_valid}
    what, fix = grading.save_mistake("asl_model.keras", False, ["asl_model.h5"])
    seen, graded = _self_check_says("save", ns), _grader_says("test_save", ns)
    assert "(found asl_model.h5)" in what and ".keras" in fix
    assert f"Mistake: {what}" in seen and f"Fix: {fix}" in seen, seen
    assert what in graded and fix in graded, graded
    # Saved, but another model (an older save): the self-check measures it, the grader's verifier too.
    lesson.build_model().save("asl_model.keras")
    what, fix = grading.save_mistake("asl_model.keras", True, same_predictions=False)
    seen = _self_check_says("save", {"model": model, "x_valid": np.random.default_rng(0).random((4, 28, 28, 1))})
    assert f"Mistake: {what}" in seen and f"Fix: {fix}" in seen, seen
    obs = nb4.obs_save(ns, None, None)
    graded = " ".join(nb4.judge_save(obs, None, {"saved": describe_model(model), "same_predictions": False}))
    assert what in graded and fix in graded, graded
    assert grading.save_mistake("asl_model.keras", True, same_predictions=True) is None


_IMAGES = np.random.default_rng(2).random((_N, 784))
RESHAPES = {  # x_train as a mistake leaves it (x_valid right)
    "no channel axis": _IMAGES.reshape(-1, 28, 28),
    "channels first": _IMAGES.reshape(-1, 1, 28, 28),
    "not reshaped": _IMAGES,
    "images lost": _IMAGES[:200].reshape(-1, 28, 28, 1),
}


@pytest.mark.parametrize("mistake", RESHAPES)
def test_the_reshape_self_check_and_the_grader_name_the_same_mistake(mistake):
    import pandas as pd

    from asl_course import grading

    x = RESHAPES[mistake]
    ns = {"x_train": x, "x_valid": np.zeros((40, 28, 28, 1)), "train_df": pd.DataFrame(np.zeros((_N, 1))),
          "valid_df": pd.DataFrame(np.zeros((40, 1)))}
    what, fix = grading.reshape_mistake("x_train", x.shape, _N)
    seen, graded = _self_check_says("reshape", ns), _grader_says("test_reshape", ns)
    assert f"Mistake: {what}" in seen and f"Fix: {fix}" in seen, seen
    assert what in graded and fix in graded, graded
    assert grading.reshape_mistake("x_train", (_N, 28, 28, 1), _N) is None


IMAGES = {  # x_train as a mistake leaves it (x_valid right)
    "a DataFrame": lambda df: df,
    "the label column kept": lambda df: np.column_stack([np.zeros(_N), df.values]),
    "rows lost": lambda df: df.values[:200],
    "a list": lambda df: df.values.tolist(),
}


@pytest.mark.parametrize("mistake", IMAGES)
def test_the_images_self_check_and_the_grader_name_the_same_mistake(mistake):
    import pandas as pd

    from asl_course import grading

    train_df = pd.DataFrame(np.random.default_rng(3).integers(0, 256, (_N, 784)))
    valid_df = pd.DataFrame(np.zeros((40, 784), "int64"))
    x = IMAGES[mistake](train_df)
    ns = {"x_train": x, "x_valid": valid_df.values, "train_df": train_df, "valid_df": valid_df}
    what, fix = grading.images_mistake("x_train", type(x).__name__, np.shape(x), _N)
    seen, graded = _self_check_says("images", ns), _grader_says("test_images", ns)
    assert f"Mistake: {what}" in seen and f"Fix: {fix}" in seen, seen
    assert what in graded and fix in graded, graded
    assert grading.images_mistake("x_train", "ndarray", (_N, 784), _N) is None


_LABELS = np.arange(_N) % 24
ONE_HOT = {  # y_train as a mistake leaves it (y_valid right)
    "integer labels": _LABELS,
    "Kaggle numbering": np.where(_LABELS >= 9, _LABELS + 1, _LABELS),
    "25 columns": np.eye(25)[_LABELS],
    "not one-hot": np.eye(24)[_LABELS] * 2,
}


@pytest.mark.parametrize("mistake", ONE_HOT)
def test_the_one_hot_self_check_and_the_grader_name_the_same_mistake(mistake):
    from asl_course import grading

    y = ONE_HOT[mistake]
    ns = {"y_train": y, "y_valid": np.eye(24)[np.arange(40) % 24], "num_classes": 24}
    what, fix = grading.one_hot_mistake("y_train", grading.one_hot_facts(y), _N)
    seen, graded = _self_check_says("one_hot", ns), _grader_says("test_one_hot", ns)
    assert f"Mistake: {what}" in seen and f"Fix: {fix}" in seen, seen
    assert what in graded and fix in graded, graded


def test_num_classes_is_said_once():
    from asl_course import grading

    what, fix = grading.num_classes_mistake(25)
    ns = {"y_train": np.eye(24)[_LABELS], "y_valid": np.eye(24)[np.arange(40) % 24], "num_classes": 25}
    seen = _self_check_says("one_hot", ns)
    assert f"Mistake: {what}" in seen and f"Fix: {fix}" in seen, seen
    assert grading.num_classes_mistake(24) is None


def test_the_labels_self_check_and_the_grader_name_the_same_mistake():
    import pandas as pd

    from asl_course import grading

    train_df = pd.DataFrame({"label": _LABELS, "pixel1": 0})
    valid_df = pd.DataFrame({"pixel1": np.zeros(40)})
    y_valid = pd.Series(np.arange(40) % 24, name="label")
    cases = {  # (y_train, train_df as left), the mistake said
        "the whole frame taken": (train_df.values, train_df.drop(columns="label"),
                                  grading.labels_mistake("y_train", train_df.shape, _N)),
        "the label column kept": (train_df["label"], train_df, grading.label_kept_mistake("train_df")),
    }
    for case, (y, df, (what, fix)) in cases.items():
        ns = {"y_train": y, "y_valid": y_valid, "train_df": df, "valid_df": valid_df}
        seen, graded = _self_check_says("labels", ns), _grader_says("test_labels", ns)
        assert f"Mistake: {what}" in seen and f"Fix: {fix}" in seen, (case, seen)
        assert what in graded and fix in graded, (case, graded)
    assert grading.labels_mistake("y_train", (_N,), _N) is None


def test_the_batch_cell_s_next_method_hint_is_said_once():
    from asl_course import grading
    from asl_course.grading.registry import BY_ID

    graded = BY_ID["test_batch"]
    assert grading.NEXT_METHOD in graded.hint and grading.NEXT_METHOD in checks.EXERCISES["batch"].hint
    said = _self_check_says("batch", {"datagen": lesson.make_datagen()})
    assert grading.NEXT_METHOD in said, said


def _frame(rows: int, seed: int):
    import pandas as pd

    from asl_course import grading

    values = np.random.default_rng(seed).integers(0, 256, (rows, 785))
    values[:, 0] %= 24
    return pd.DataFrame(values, columns=grading.COLUMNS)


def _read_with_header_none(df):
    """What pd.read_csv(path, header=None) leaves: columns 0..784, the CSV's header its first row."""
    import pandas as pd

    return pd.concat([pd.DataFrame([list(df.columns)]), df.set_axis(range(785), axis=1)], ignore_index=True)


LOAD_CSV = {  # (train_df, valid_df) as a mistake leaves them, from the right frames
    "header=None": lambda train, valid: (_read_with_header_none(train), valid),
    "index_col=0": lambda train, valid: (train.set_index("label"), valid),
    "the files swapped": lambda train, valid: (valid, train),
    "not a DataFrame": lambda train, valid: (train, valid.values),
    "usecols": lambda train, valid: (train.iloc[:, :100], valid),
    "columns renamed": lambda train, valid: (train.set_axis(["label"] + [f"p{i}" for i in range(784)], axis=1), valid),
}


@pytest.mark.parametrize("mistake", LOAD_CSV)
def test_the_load_csv_self_check_and_the_grader_name_the_same_mistake(mistake):
    from asl_course import grading

    train_df, valid_df = LOAD_CSV[mistake](_frame(_N, 4), _frame(40, 5))
    ns = {"train_df": train_df, "valid_df": valid_df}
    frames = {"train_df": grading.frame_facts(train_df), "valid_df": grading.frame_facts(valid_df)}
    said = grading.load_csv_mistakes(frames)
    assert len(said) == 1, said
    (what, fix), = said
    assert grading.load_csv_mistakes(frames, {"train_df": _N, "valid_df": 40}) == said  # the grader's sizes
    seen, graded = _self_check_says("load_csv", ns), _grader_says("test_load_csv", ns)
    assert f"Mistake: {what}" in seen and f"Fix: {fix}" in seen, seen
    assert what in graded and fix in graded, graded


def test_the_load_csv_mistakes_name_header_none_and_see_rows_only_where_they_are_known():
    from asl_course import grading

    train, valid = _frame(_N, 4), _frame(40, 5)
    frames = {"train_df": grading.frame_facts(_read_with_header_none(train)), "valid_df": grading.frame_facts(valid)}
    (what, fix), = grading.load_csv_mistakes(frames)
    assert "read with header=None" in what and "without header=None" in fix  # the catalogue's words
    right = {"train_df": grading.frame_facts(train), "valid_df": grading.frame_facts(valid)}
    assert grading.load_csv_mistakes(right) == []
    assert grading.load_csv_mistakes(right, {"train_df": _N, "valid_df": 40}) == []
    short = {"train_df": grading.frame_facts(train.iloc[:200]), "valid_df": right["valid_df"]}
    assert grading.load_csv_mistakes(short) == []  # a self-check does not know the files' sizes
    (what, _), = grading.load_csv_mistakes(short, {"train_df": _N, "valid_df": 40})
    assert what == f"train_df has 200 rows, not the {_N} of sign_mnist_train.csv"


def _fit_namespace(monkeypatch, history_figures=None, **history_facts):
    """A compiled lesson CNN whose optimizer made the planned steps, and a History of it made by hand
    (``history_figures``: its ``history``), as the grader's plan expects; no training."""
    import json
    import math

    import keras

    from asl_course import grading

    monkeypatch.setenv(grading.GRADING_PLAN_ENV,
                       json.dumps({"fast": True, "epochs": 1, "train_images": _N, "data": "synthetic"}))
    keras.utils.set_random_seed(0)
    model = lesson.build_model()
    model.compile(loss="categorical_crossentropy", metrics=["accuracy"])
    steps = math.ceil(_N / 32)
    model.optimizer.build(model.trainable_variables)
    model.optimizer.iterations.assign(steps)
    history = keras.callbacks.History()
    history.set_model(model)
    history.params = {"epochs": 1, "steps": steps, "verbose": 0}
    history.epoch = [0]
    history.history = history_figures
    x_valid = np.random.default_rng(6).random((48, 28, 28, 1)).astype("float32")
    y_valid = keras.utils.to_categorical(np.arange(48) % 24, 24)
    return {"model": model, "history": history, "x_valid": x_valid, "y_valid": y_valid}


def test_the_fit_self_check_and_the_grader_name_the_same_mistake(monkeypatch):
    import types

    from asl_course import grading

    ns = _fit_namespace(monkeypatch)
    loss, accuracy = ns["model"].evaluate(ns["x_valid"], ns["y_valid"], verbose=0)
    labels = ns["y_valid"].argmax(axis=1)
    # the grader re-measures the model on its own copy of the validation images (here the same ones)
    ref = types.SimpleNamespace(y_train=np.zeros(_N), y_valid=labels, valid_images=lambda: ns["x_valid"],
                                digest=lambda name: None)
    other = accuracy + 0.5 if accuracy < 0.5 else accuracy - 0.5  # validated on other data
    made = ns["history"]
    cases = {  # history as a mistake leaves it: another value, or the History's figures
        "not a History": {"val_accuracy": [0.5]},
        "no validation data": {"loss": [3.0], "accuracy": [0.1]},
        "validated on other data": {"loss": [3.0], "accuracy": [0.1], "val_loss": [float(loss)],
                                    "val_accuracy": [float(other)]},
    }
    for case, figures in cases.items():
        if case == "not a History":
            ns["history"] = figures
        else:
            ns["history"], made.history = made, figures
        facts = grading.history_facts(ns["history"])
        what, fix = grading.history_mistake({**facts, "accuracy": float(accuracy), "loss": float(loss)})
        seen = _self_check_says("fit", ns)
        obs = grading.observe("test_fit", ns, ref)
        models = grading.measure_models("test_fit", obs, ref, live=ns)
        graded = " ".join(grading.judge("test_fit", obs, ref, models))
        assert f"Mistake: {what}" in seen and f"Fix: {fix}" in seen, (case, seen)
        assert what in graded and fix in graded, (case, graded)
    assert "validated on other data" in what and "unnormalised" in what  # the catalogue's words
    made.history["val_accuracy"] = [float(accuracy)]  # what fit reports, validated on x_valid
    assert grading.history_mistake({**grading.history_facts(made), "accuracy": float(accuracy),
                                    "loss": float(loss)}) is None
    made.history["val_loss"] = [float(loss) * 2]  # the loss, which only the self-check re-measures
    assert "validated on other data" in _self_check_says("fit", ns)


def test_an_untrained_model_is_said_once(monkeypatch):
    import types

    from asl_course import grading

    ns = _fit_namespace(monkeypatch, {"val_accuracy": [0.5], "val_loss": [3.0]})
    ns["model"].optimizer.iterations.assign(0)
    what, fix = grading.trained_mistake(0)
    ref = types.SimpleNamespace(y_train=np.zeros(_N), y_valid=ns["y_valid"].argmax(axis=1),
                                valid_images=lambda: ns["x_valid"], digest=lambda name: None)
    seen = _self_check_says("fit", ns)
    graded = " ".join(grading.judge("test_fit", grading.observe("test_fit", ns, ref), ref))
    assert f"Mistake: {what}" in seen and f"Fix: {fix}" in seen, seen
    assert what in graded and fix in graded, graded
    assert grading.trained_mistake(8) is None


def test_setup_silences_pandas_mixed_types_warning_only(data_dir):
    """pd.read_csv(path, header=None) warns with all 785 column numbers (7,700 characters) above the
    self-check that says "read with header=None" in one line: the setup silences that warning, and
    only that one."""
    import warnings

    import pandas as pd

    from asl_course.learners import notebook

    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        notebook.setup(data_dir)
        warnings.warn("Columns (0: 0, 1: 1, ...) have mixed types.", pd.errors.DtypeWarning)
        warnings.warn("another warning", UserWarning)
    assert [type(w.message) for w in caught if "warning" in str(w.message) or "mixed" in str(w.message)] == \
        [UserWarning]


def test_the_batch_self_check_passes_a_flow_of_the_lessons_float64_arrays():
    """``flow`` keeps its images as float32; the lesson's x_train / 255 is float64: the same images
    (a self-check that compared the dtypes too failed every right answer under the autograder)."""
    from tensorflow.keras.preprocessing.image import ImageDataGenerator

    x = np.random.default_rng(0).integers(0, 256, (64, 28, 28, 1)) / 255
    y = np.eye(24)[np.arange(64) % 24]
    it = ImageDataGenerator(rotation_range=10, zoom_range=0.1).flow(x, y, batch_size=32)
    assert it.x.dtype == np.float32 and x.dtype == np.float64
    x_batch, y_batch = next(it)
    checks.check_batch(x_batch, y_batch, 32, it, x, y)  # no mistake raised
    assert checks.flows(it.x, x) and checks.flows(it.y, y)
    assert not checks.flows(it.x, x[::-1]) and not checks.flows(it.x, x[:10]) and not checks.flows(None, x)
