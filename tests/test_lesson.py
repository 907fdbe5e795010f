"""The reference implementation of the lesson, and the self-checks' messages.

That the reference meets the lesson (layers, augmentation settings) is tested against grading's
independent statement in tests/test_facts.py, not against the self-checks (which read the same
facts as the reference).
"""

from __future__ import annotations

import math

import numpy as np
import pytest

from asl_course.learners import checks, lesson


def test_model_has_the_lessons_parameters():
    model = lesson.build_model()
    assert model.count_params() == 264_049
    assert model.input_shape == (None, 28, 28, 1)
    assert model.output_shape == (None, 24)


def test_steps_per_epoch_rounds_up():
    assert lesson.steps_per_epoch(27455, 32) == 858
    assert isinstance(lesson.steps_per_epoch(27455, 32), int)
    assert lesson.steps_per_epoch(64, 32) == 2


def test_prepare_shapes_and_scaling(prepared, data_dir):
    from asl_course import dataset as data

    x_train, y_train, x_valid, y_valid = data.load_arrays(data_dir)
    assert prepared.x_train.shape == (len(x_train), 28, 28, 1)
    assert prepared.y_valid.shape == (len(x_valid), 24)
    assert prepared.x_train.max() <= 1.0 and prepared.x_train.min() >= 0.0
    np.testing.assert_array_equal(prepared.y_train.argmax(1), y_train)


def test_datagen_fits_featurewise_statistics_only_when_asked():
    x = np.random.default_rng(0).random((8, 28, 28, 1))
    assert lesson.make_datagen().mean is None
    assert lesson.make_datagen(x).mean is None  # the lesson's generator has no featurewise options


def test_run_plan_modes(monkeypatch):
    monkeypatch.setenv("ASL_COURSE_FAST", "0")
    monkeypatch.delenv("NBGRADER_EXECUTION", raising=False)
    full = lesson.run_plan()
    assert (full.epochs, full.train_images, full.batch_size) == (20, None, 32)
    monkeypatch.setenv("ASL_COURSE_FAST", "1")
    assert lesson.run_plan().fast
    monkeypatch.delenv("ASL_COURSE_FAST")
    monkeypatch.setenv("NBGRADER_EXECUTION", "autograde")
    assert lesson.run_plan().fast
    # a validation trains what grading trains, whatever the learner's ASL_COURSE_FAST says
    monkeypatch.setenv("ASL_COURSE_FAST", "0")
    monkeypatch.setenv("NBGRADER_EXECUTION", "validate")
    assert lesson.run_plan() == lesson.run_plan(fast=True)


@pytest.mark.parametrize("value, expected", [(None, False), ("", False), ("autograde", True), ("validate", True)])
def test_under_nbgrader_is_nbgraders_own_sign(monkeypatch, value, expected):
    """What notebooks skip while graded (notebook 4's baseline, notebook 6's timing) reads this."""
    from asl_course.learners import notebook

    monkeypatch.delenv("ASL_COURSE_AUTOMATED", raising=False)
    if value is None:
        monkeypatch.delenv("NBGRADER_EXECUTION", raising=False)
    else:
        monkeypatch.setenv("NBGRADER_EXECUTION", value)
    assert lesson.under_nbgrader() is expected
    assert notebook.interactive() is not expected


@pytest.mark.parametrize(
    "call, words",
    [
        (lambda p: checks.check_one_hot(p.labels_train, p.y_valid), "to_categorical"),
        (lambda p: checks.check_one_hot(p.y_train, p.y_valid, 25), "24 static letters"),
        (lambda p: checks.check_normalized(p.x_train * 255, p.x_valid), "255"),
        (lambda p: checks.check_normalized(p.x_train / 255, p.x_valid), "scaled twice"),
        (lambda p: checks.check_reshaped(p.x_train[..., 0], p.x_valid), "channel axis is missing"),
        (lambda p: checks.check_steps(len(p.x_train) / 32, len(p.x_train)), "float"),
        (lambda p: checks.check_steps(len(p.x_train) // 32, len(p.x_train)), "every other epoch"),
    ],
)
def test_self_checks_name_the_mistake(prepared, call, words):
    if "every other epoch" in words and len(prepared.x_train) % 32 == 0:
        pytest.skip("the data divides evenly by 32")
    with pytest.raises(checks.SelfCheckFailed) as info:
        call(prepared)
    assert words in str(info.value)
    assert "Fix:" in str(info.value)


def test_model_mistakes_are_named():
    import keras
    from keras import layers

    wrong = keras.Sequential([keras.Input((28, 28, 1)), layers.Conv2D(75, 3, padding="valid", activation="relu")])
    mistakes = checks.model_mistakes(wrong)
    assert mistakes and "valid" in mistakes[0]


def test_vertical_flip_is_named():
    from tensorflow.keras.preprocessing.image import ImageDataGenerator

    settings = dict(lesson.DATAGEN_SETTINGS, vertical_flip=True)
    mistakes = checks.datagen_mistakes(ImageDataGenerator(**settings))
    assert any("upside down" in m for m in mistakes)


@pytest.mark.slow
def test_training_learns_on_the_session_data(prepared):
    """A short run of the lesson's training beats chance by far (24 classes: 4%)."""
    plan = lesson.RunPlan(fast=True, epochs=1, train_images=2048)
    model, history = lesson.trained_model(prepared, plan=plan)
    assert set(history.history) >= {"loss", "accuracy", "val_loss", "val_accuracy"}
    assert len(history.history["loss"]) == 1
    assert history.history["accuracy"][-1] > 1 / 24 * 3
    assert math.isfinite(history.history["val_loss"][-1])


# --- Notebook 4's baseline: the recorded run, or trained with the notebook's own plan ------------


@pytest.mark.parametrize("fast,epochs", [(True, 1), (False, 20)])
def test_baseline_on_the_real_data_is_the_recorded_run_never_trained_again(monkeypatch, tmp_path, fast, epochs):
    """Fast mode's one epoch on every image is the recorded run's first epoch: shown, not retrained."""
    from asl_course.learners import notebook

    def no_training(*args, **kwargs):
        raise AssertionError("the baseline was trained again")

    monkeypatch.delenv("NBGRADER_EXECUTION", raising=False)
    monkeypatch.setenv("ASL_COURSE_FAST", "1" if fast else "0")
    monkeypatch.setattr(notebook, "is_real", lambda data_dir=None: True)
    monkeypatch.setattr(lesson, "train", no_training)
    recorded = notebook.load_reference_baseline()
    history, label = notebook.baseline_history(None, tmp_path)
    assert history == {key: values[:epochs] for key, values in recorded["history"].items()}
    assert recorded["date"] in label and ("first epoch" in label) == fast


def test_baseline_is_trained_with_the_notebooks_plan_where_no_recorded_run_covers_it(monkeypatch, tmp_path):
    """The stand-in, or a fast plan on fewer images: trained here, with the augmented run's plan."""
    from asl_course.learners import notebook

    calls = []

    class History:
        history = {"val_accuracy": [0.5]}

    def fake_train(model, prepared, plan, augment, verbose):
        calls.append((plan, augment))
        return History()

    monkeypatch.delenv("NBGRADER_EXECUTION", raising=False)
    monkeypatch.setenv("ASL_COURSE_FAST", "1")
    monkeypatch.setattr(lesson, "train", fake_train)
    for real, images in ((False, None), (True, 4096)):
        monkeypatch.setattr(notebook, "is_real", lambda data_dir=None, real=real: real)
        monkeypatch.setattr(lesson, "FAST_TRAIN_IMAGES", images)
        history, label = notebook.baseline_history(None, tmp_path)
        assert history == {"val_accuracy": [0.5]} and label == "no augmentation (trained in this notebook)"
        assert calls[-1] == (lesson.run_plan(), False) and calls[-1][0].train_images == images
