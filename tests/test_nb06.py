"""Notebook 6's exercises (asl_course.grading.nb06_fast_and_stable): the judges, the verifier's
path from the raw records, the repairs, and the self-checks' words, on small in-memory values."""

from __future__ import annotations

import json

import numpy as np
import pytest

pytest.importorskip("tensorflow")

import keras  # noqa: E402
import tensorflow as tf  # noqa: E402
from keras import layers  # noqa: E402

from asl_course import grading  # noqa: E402
from asl_course.grading import nb06_fast_and_stable as nb6  # noqa: E402
from asl_course.grading.refdata import Reference  # noqa: E402
from asl_course.learners import checks  # noqa: E402

N = 100  # training images of the small reference


@pytest.fixture(scope="module")
def ref():
    rng = np.random.default_rng(0)
    return Reference(rng.integers(0, 256, (N, 784), dtype=np.uint8), np.arange(N) % 24,
                     rng.integers(0, 256, (20, 784), dtype=np.uint8), np.arange(20) % 24)


@pytest.fixture(scope="module")
def arrays(ref):
    x = (ref.x_train / 255).reshape(-1, 28, 28, 1).astype("float32")
    return x, np.eye(24, dtype="float32")[ref.y_train]


def right_augment():
    return keras.Sequential([layers.RandomRotation(10 / 360, fill_mode="nearest"),
                             layers.RandomZoom(0.1, 0.1, fill_mode="nearest"),
                             layers.RandomTranslation(0.1, 0.1, fill_mode="nearest"),
                             layers.RandomFlip("horizontal")], name="augment")


def pipeline(x, y, augment, *, training=True, shuffle=len, batch=32, parallel=True, prefetch=True,
             map_first=False, cache_after=False):
    ds = tf.data.Dataset.from_tensor_slices((x, y))
    if shuffle:
        ds = ds.shuffle(shuffle(x))

    def aug(a, b):
        return augment(a, training=training), b

    calls = tf.data.AUTOTUNE if parallel else None
    if map_first:
        ds = ds.map(aug, num_parallel_calls=calls).batch(batch)
    else:
        ds = ds.batch(batch).map(aug, num_parallel_calls=calls)
    if cache_after:
        ds = ds.cache()
    return ds.prefetch(tf.data.AUTOTUNE) if prefetch else ds


def judged(grade_id, ns, ref):
    obs = grading.observe(grade_id, ns, ref)
    return grading.judge(grade_id, obs, ref, grading.measure_models(grade_id, obs, ref, live=ns))


def verified(grade_id, ns, ref, tmp_path):
    run = tmp_path / grade_id / "run-1"
    run.mkdir(parents=True)
    grading.record(grade_id, ns, run)
    return grading.verify(grade_id, run.parent, ref), run


# --- augment ----------------------------------------------------------------------------------------------


def test_the_lesson_s_layers_pass_and_each_common_mistake_is_named(ref):
    assert judged("test_augment_layers", {"augment": right_augment()}, ref) == []
    # The model-building helper of the course makes the same layers (its fill mode included).
    from asl_course.learners import augment

    assert grading.augment_mistakes(grading.describe_augment(augment.make_layers())) == []
    cases = {
        "fraction of a full turn": [layers.RandomRotation(0.1, fill_mode="nearest")],
        "width_factor is None": [layers.RandomZoom(0.1, fill_mode="nearest")],
        "hands are never upside down": [layers.RandomFlip()],
        "fill_mode='reflect'": [layers.RandomTranslation(0.1, 0.1)],
        "has a Rescaling layer": [layers.Rescaling(1.0)],
    }
    for words, change in cases.items():
        keep = [lay for lay in right_augment().layers
                if type(lay).__name__ not in {type(c).__name__ for c in change}]
        said = judged("test_augment_layers", {"augment": keras.Sequential(keep + change)}, ref)
        assert any(words in m for m in said), (words, said)
    missing = judged("test_augment_layers", {"augment": keras.Sequential(right_augment().layers[:3])}, ref)
    assert missing == ['augment has no RandomFlip layer; add keras.layers.RandomFlip("horizontal")']
    assert "not a Keras model" in judged("test_augment_layers", {"augment": "layers"}, ref)[0]


def test_augment_is_judged_from_the_file_the_verifier_reloads(ref, tmp_path):
    assert verified("test_augment_layers", {"augment": right_augment()}, ref, tmp_path)[0] == []
    bad = keras.Sequential([layers.RandomRotation(0.1, fill_mode="nearest")] + right_augment().layers[1:])
    said, _ = verified("test_augment_layers", {"augment": bad}, ref, tmp_path / "bad")
    assert "fraction of a full turn" in said[0]


# --- train_ds ---------------------------------------------------------------------------------------------


def test_the_pipeline_is_read_from_its_graph(ref, arrays):
    x, y = arrays
    facts = grading.dataset_graph_facts(grading.dataset_graph(pipeline(x, y, right_augment())))
    assert [s["op"] for s in facts["steps"]] == ["TensorSliceDataset", "ShuffleDatasetV3", "BatchDatasetV2",
                                                 "ParallelMapDatasetV2", "PrefetchDataset"]
    assert facts["steps"][0]["shapes"] == [[N, 28, 28, 1], [N, 24]]
    assert facts["steps"][1]["buffer_size"] == N and facts["steps"][2]["batch_size"] == 32
    assert facts["steps"][3]["transforms_images"] and facts["steps"][3]["flips"]
    assert judged("test_train_ds", {"train_ds": pipeline(x, y, right_augment())}, ref) == []


@pytest.mark.parametrize("change, words", [
    (dict(training=False), "does not transform the images"),
    (dict(shuffle=None), "does not shuffle"),
    (dict(shuffle=lambda x: 10), "within a buffer of 10"),
    (dict(batch=64), "batches of 64, not 32"),
    (dict(parallel=False), "maps one batch at a time"),
    (dict(prefetch=False), "does not end with .prefetch"),
    (dict(map_first=True), "image by image, before .batch"),
    (dict(cache_after=True), "first epoch's augmented images"),
])
def test_each_pipeline_mistake_is_named(ref, arrays, change, words):
    x, y = arrays
    said = judged("test_train_ds", {"train_ds": pipeline(x, y, right_augment(), **change)}, ref)
    assert any(words in m for m in said), said


def test_a_pipeline_of_other_data_or_not_a_dataset_is_refused(ref, arrays):
    x, y = arrays
    said = judged("test_train_ds", {"train_ds": pipeline(x[:50], y[:50], right_augment())}, ref)
    assert "does not start from the prepared x_train" in said[0]
    assert "not a tf.data pipeline" in judged("test_train_ds", {"train_ds": [x, y]}, ref)[0]


def test_the_verifier_reads_the_recorded_graph_and_refuses_a_broken_one(ref, arrays, tmp_path):
    x, y = arrays
    said, run = verified("test_train_ds", {"train_ds": pipeline(x, y, right_augment())}, ref, tmp_path)
    assert said == []
    # The images are not in the record: constants larger than a few thousand numbers are stripped.
    assert (run / nb6.GRAPH_FILE).stat().st_size < 200_000
    said, _ = verified("test_train_ds", {"train_ds": pipeline(x, y, right_augment(), training=False)}, ref,
                       tmp_path / "off")
    assert "does not transform the images" in said[0]
    # A graph file that is not a graph (written by a hostile kernel): a clear verdict, no crash.
    (run / nb6.GRAPH_FILE).write_bytes(b"not a graph at all")
    said = grading.verify("test_train_ds", run.parent, ref)
    assert said and "not a tf.data pipeline the grader can read" in said[0]


# --- lr_schedule ------------------------------------------------------------------------------------------


def test_the_schedule_is_rebuilt_from_its_config_and_evaluated(ref, tmp_path):
    total = grading.run_steps(N)
    assert total == 4 * 20
    right = keras.optimizers.schedules.CosineDecay(1e-3, decay_steps=total)
    assert judged("test_schedule", {"lr_schedule": right}, ref) == []
    assert verified("test_schedule", {"lr_schedule": right}, ref, tmp_path)[0] == []
    cases = {
        "reached 0 by the middle": keras.optimizers.schedules.CosineDecay(1e-3, decay_steps=4),
        "still at": keras.optimizers.schedules.CosineDecay(1e-3, decay_steps=10 * total),
        "starts at 0.01": keras.optimizers.schedules.CosineDecay(1e-2, decay_steps=total),
        "not a cosine decay": keras.optimizers.schedules.PolynomialDecay(1e-3, total, 0.0, power=1.0),
        "a float, not one of Keras' learning-rate schedules": 1e-3,
    }
    for words, value in cases.items():
        said = judged("test_schedule", {"lr_schedule": value}, ref)
        assert any(words in m for m in said), (words, said)


def test_a_schedule_class_of_one_s_own_is_never_run_by_the_verifier(ref, tmp_path):
    ran = []

    class Mine(keras.optimizers.schedules.LearningRateSchedule):
        def __call__(self, step):
            ran.append(step)
            return 1e-3 * 0.5 * (1 + keras.ops.cos(np.pi * keras.ops.cast(step, "float32") / 80.0))

        def get_config(self):
            return {}

    said, run = verified("test_schedule", {"lr_schedule": Mine()}, ref, tmp_path)
    assert "a schedule class of your own" in said[0] and ran == []
    # A forged record naming a Keras class with a config it cannot take: a clear verdict.
    record = json.loads((run / grading.RECORD_FILE).read_text())
    record["schedule"] = {"class_name": "CosineDecay", "module": "keras.optimizers.schedules",
                          "config": {"no_such_argument": 1}}
    (run / grading.RECORD_FILE).write_text(json.dumps(record))
    assert grading.verify("test_schedule", run.parent, ref)


# --- repairs and the self-checks' words --------------------------------------------------------------------


def test_repairs_put_the_grader_s_values_in_place(ref):
    ns = {}
    nb6.repair_augment(ns, ref)
    nb6.repair_train_ds(ns, ref)
    nb6.repair_schedule(ns, ref)
    for grade_id in ("test_augment_layers", "test_train_ds", "test_schedule"):
        assert judged(grade_id, ns, ref) == [], grade_id


def test_the_self_checks_say_the_grader_s_words(arrays, ref, capsys):
    x, y = arrays
    wrong = {
        "augment_layers": ({"augment": keras.Sequential([layers.RandomRotation(0.1)])}, "test_augment_layers"),
        "train_ds": ({"train_ds": pipeline(x, y, right_augment(), parallel=False), "augment": right_augment(),
                      "x_train": x}, "test_train_ds"),
        "schedule": ({"lr_schedule": keras.optimizers.schedules.CosineDecay(1e-3, 4), "x_train": x}, "test_schedule"),
    }
    for exercise, (ns, grade_id) in wrong.items():
        with pytest.raises(checks.SelfCheckFailed) as failed:
            checks.self_check(exercise, ns)
        first = judged(grade_id, ns, ref)[0]
        mistake = str(failed.value).split("Mistake: ")[1].split("\n")[0]
        assert first.startswith(mistake), (exercise, mistake, first)
    checks.self_check("augment_layers", {"augment": right_augment()})
    checks.self_check("train_ds", {"train_ds": pipeline(x, y, right_augment()), "augment": right_augment(), "x_train": x})
    checks.self_check("schedule", {"lr_schedule": keras.optimizers.schedules.CosineDecay(1e-3, 80), "x_train": x})
    assert capsys.readouterr().out.count("\u2714") == 3


def test_the_hidden_test_in_the_kernel_measures_the_live_layers():
    """grading.check (the hidden test) re-describes the kernel's own ``augment`` (not only ``model``)."""
    ns = {"augment": right_augment()}
    grading.check("test_augment_layers", ns)
    with pytest.raises(grading.GradingFailed, match="fraction of a full turn"):
        grading.check("test_augment_layers", {"augment": keras.Sequential([layers.RandomRotation(0.1)])})


@pytest.mark.parametrize("graded", [True, False])
def test_the_timing_cell_is_skipped_only_under_nbgrader(graded, monkeypatch, capsys):
    """The speed table grades nothing: under nbgrader (autograde, validate) the cell prints that it
    skipped the timing; elsewhere (nbval, Colab, a learner) it times the ways."""
    import types
    from pathlib import Path

    import nbformat

    from asl_course.learners import lesson

    path = Path(__file__).resolve().parent.parent / "source" / "06_fast_and_stable" / "06_fast_and_stable.ipynb"
    (cell,) = [c for c in nbformat.read(path, as_version=4).cells if "time_ways(" in c.source]
    calls = []
    stub = types.SimpleNamespace(
        timing_ways=lambda *a, **k: calls.append("timing_ways") or {},
        time_ways=lambda ways, **k: calls.append("time_ways") or {},
        speed_table=lambda times, steps: f"table of {steps} steps")
    if graded:
        monkeypatch.setenv("NBGRADER_EXECUTION", "autograde")
    else:
        monkeypatch.delenv("NBGRADER_EXECUTION", raising=False)
    exec(cell.source, {"lesson": lesson, "augmentation": stub, "plan": lesson.RunPlan(True, 1, None),
                       "x_train": None, "y_train": None})
    out = capsys.readouterr().out
    if graded:
        assert calls == [] and "skipped while nbgrader runs" in out
    else:
        assert calls == ["timing_ways", "time_ways"] and "table of 30 steps" in out
