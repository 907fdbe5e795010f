"""The stable-training recipe of issue 12 (asl_course.learners.recipe): schedule, no peeking, BN measure, table."""

from __future__ import annotations

import json
import math

import numpy as np
import pytest

pytest.importorskip("tensorflow")

from asl_course.learners import lesson  # noqa: E402
from asl_course.learners import recipe  # noqa: E402


def _lr(optimizer, step: int) -> float:
    import keras

    lr = optimizer._learning_rate
    value = lr(step) if callable(lr) else lr
    return float(keras.ops.convert_to_numpy(value))


def test_stable_schedule_starts_at_the_lesson_s_step_and_ends_at_zero():
    steps, epochs = 858, 10
    opt = recipe.optimizer("stable", steps_per_epoch=steps, epochs=epochs)
    total = steps * epochs
    assert type(opt).__name__ == "RMSprop"
    assert _lr(opt, 0) == pytest.approx(1e-3)
    assert _lr(opt, total // 2) == pytest.approx(5e-4, rel=1e-3)
    # The last step of the run trains with a step about 1e-3 * (pi / total)^2 / 4: effectively 0.
    last = _lr(opt, total - 1)
    assert 0 < last < 1e-9
    assert _lr(opt, total) == pytest.approx(0.0, abs=1e-12)
    values = [_lr(opt, s) for s in range(0, total, 500)]
    assert all(a > b for a, b in zip(values, values[1:]))


def test_lesson_recipe_is_keras_default_rmsprop():
    opt = recipe.optimizer("lesson", steps_per_epoch=858, epochs=20)
    assert type(opt).__name__ == "RMSprop"
    assert _lr(opt, 0) == _lr(opt, 17_000) == pytest.approx(1e-3)


def test_no_callback_chooses_on_validation_data():
    clean = np.zeros((4, 28, 28, 1), "float32")
    for name in recipe.RECIPES:
        assert recipe.choosing_callbacks(recipe.callbacks(name, clean)) == []
    assert [type(c).__name__ for c in recipe.callbacks("recalibrated", clean)] == ["RecalibrateBatchNorm"]
    with pytest.raises(ValueError, match="clean_images"):
        recipe.callbacks("recalibrated")
    import keras

    # The check itself sees the callbacks that pick on the test file (so it can fail).
    found = recipe.choosing_callbacks([keras.callbacks.EarlyStopping(), keras.callbacks.ReduceLROnPlateau(),
                                       keras.callbacks.ModelCheckpoint("x.keras", save_best_only=True),
                                       keras.callbacks.History()])
    assert found == ["EarlyStopping", "ReduceLROnPlateau", "ModelCheckpoint"]


def test_recipe_and_epoch_limits_are_checked():
    assert recipe.default_epochs("lesson") == 20 and recipe.default_epochs("stable") == recipe.STABLE_EPOCHS
    assert recipe.default_epochs("recalibrated") == 20
    assert recipe.STABLE_EPOCHS <= 20
    with pytest.raises(ValueError, match="1 to 20"):
        recipe.optimizer("stable", steps_per_epoch=858, epochs=21)
    with pytest.raises(ValueError, match="recipe must be one of"):
        recipe.optimizer("adam", steps_per_epoch=858, epochs=10)


def test_bn_modes_moving_stats_path_is_the_model_s_own_prediction():
    import keras

    keras.utils.set_random_seed(0)
    model = lesson.build_model()
    rng = np.random.default_rng(0)
    # Give the BN layers non-trivial moving statistics, as after training.
    for layer in model.layers:
        if isinstance(layer, keras.layers.BatchNormalization):
            c = layer.moving_mean.shape[0]
            layer.moving_mean.assign(rng.normal(0, 0.5, c).astype("float32"))
            layer.moving_variance.assign(rng.uniform(0.5, 2, c).astype("float32"))
    x = rng.random((64, 28, 28, 1)).astype("float32")
    np.testing.assert_allclose(recipe.forward(model, x, chunk=24), model.predict(x, verbose=0), atol=1e-5)
    stats = recipe.recomputed_bn_stats(model, x, chunk=16)
    # One group of all 64 images normalised by its own statistics = statistics recomputed on them.
    np.testing.assert_allclose(recipe.forward(model, x, ["batch"] * 3, chunk=64, group=64),
                               recipe.forward(model, x, stats), atol=1e-4)
    first = stats[0]
    h = model.layers[0](x, training=False)
    np.testing.assert_allclose(first[0], np.asarray(h).mean(axis=(0, 1, 2)), rtol=1e-4, atol=1e-6)
    labels = model.predict(x, verbose=0).argmax(1)
    assert recipe.bn_modes(model, x, x, labels)["moving_stats"] == 1.0


def test_recalibrate_bn_sets_the_statistics_of_clean_images():
    import keras

    keras.utils.set_random_seed(0)
    model = lesson.build_model()
    x = np.random.default_rng(1).random((96, 28, 28, 1)).astype("float32")
    bns = [layer for layer in model.layers if isinstance(layer, keras.layers.BatchNormalization)]
    before = [np.asarray(b.moving_mean).copy() for b in bns]
    recipe.recalibrate_bn(model, x)
    for layer, (mean, var), old in zip(bns, recipe.recomputed_bn_stats(model, x), before):
        np.testing.assert_allclose(np.asarray(layer.moving_mean), mean, rtol=1e-5, atol=1e-6)
        np.testing.assert_allclose(np.asarray(layer.moving_variance), var, rtol=1e-5, atol=1e-6)
        assert not np.allclose(np.asarray(layer.moving_mean), old)
    # Now the stored statistics are those of x: inference on x = normalising with x's own statistics.
    np.testing.assert_allclose(model.predict(x, verbose=0), recipe.forward(model, x, ["batch"] * 3, chunk=96, group=96),
                               atol=1e-4)


def test_holdout_split_holds_out_whole_families_the_same_whatever_the_seed():
    numbers = np.repeat(np.arange(240), 5)  # 240 families of 5 near-copies, 10 per letter
    labels = numbers % 24
    keep, held = recipe.holdout_split(numbers, labels)
    assert len(keep) + len(held) == len(numbers) and not set(keep) & set(held)
    assert not set(numbers[keep]) & set(numbers[held])  # no family on both sides
    assert set(labels[held]) == set(range(24)) and 0.15 <= len(held) / len(numbers) <= 0.3
    again_keep, again_held = recipe.holdout_split(numbers, labels)
    np.testing.assert_array_equal(held, again_held)


def test_summary_table_and_targets():
    def run(recipe_name, seed, val):
        return {"recipe": recipe_name, "seed": seed, "summary": recipe.summarize({"val_accuracy": val})}

    s = recipe.summarize({"val_accuracy": [0.5, 0.99, 0.97, 0.995, 0.996, 0.998, 0.997]})
    assert s == {"epochs": 7, "final_val_acc": 0.997, "best_val_acc": 0.998, "min_last5_val_acc": 0.97}
    good = [0.9] * 5 + [0.995, 0.996, 0.997, 0.998, 0.999]
    t = recipe.table([run("stable", k, good) for k in range(3)] + [run("lesson", 0, good[:-1] + [0.98])])
    assert t["stable"]["mean_final_val_acc"] == 0.999 and t["stable"]["min_min_last5_val_acc"] == 0.995
    assert all(recipe.targets_met(t["stable"]).values())
    met = recipe.targets_met(t["lesson"])
    assert not met["mean_final_at_least_0.995"] and not met["three_seeds_or_more"]
    assert not met["every_last5_at_least_0.99"]
    with pytest.raises(ValueError, match="no epochs"):
        recipe.summarize({"val_accuracy": []})


def test_run_refuses_the_stand_in(tmp_path):
    from asl_course import dataset as data
    from asl_course.errors import UserError

    data.write_synthetic(tmp_path / "asl_data", log=lambda *_: None)
    with pytest.raises(UserError, match="real data"):
        recipe.run("stable", data_dir=tmp_path / "asl_data", epochs=1)


def test_training_arrays_hold_out_part_of_the_training_file_or_use_the_validation_file():
    from types import SimpleNamespace

    n = 2400
    numbers = np.arange(n) // 10  # families of 10
    labels = numbers % 24
    prepared = SimpleNamespace(x_train=np.arange(n, dtype="float32").reshape(n, 1), y_train=np.eye(24)[labels],
                               x_valid="X_VALID", y_valid="Y_VALID", labels_valid="LABELS")
    x, y, x_valid, y_valid, labels_valid, says = recipe.training_arrays(prepared, holdout=True, numbers=numbers)
    keep, held = recipe.holdout_split(numbers, labels)
    assert set(x[:, 0].astype(int)) == set(keep) and set(x_valid[:, 0].astype(int)) == set(held)
    assert not set(numbers[x[:, 0].astype(int)]) & set(numbers[x_valid[:, 0].astype(int)])
    np.testing.assert_array_equal(labels_valid, labels[held])
    assert "whole families held out of the training file" in says and "test file not read" in says
    x, y, x_valid, *_, says = recipe.training_arrays(prepared, train_images=10)
    assert len(x) == len(y) == 10 and x_valid == "X_VALID" and "Kaggle test" in says


def test_batch_loss_spikes_are_read_from_keras_running_means():
    losses = [1.0, 1.0, 1.0, 10.0, 1.0]  # per batch; Keras logs their running mean
    running = list(np.cumsum(losses) / np.arange(1, 6))
    assert recipe.batch_loss_spikes(running) == {"batch_loss_median": 1.0, "batch_loss_max": 10.0,
                                                  "batch_loss_spikes": 1}


def test_each_epoch_is_recorded_in_the_history_the_log_and_the_log_file(tmp_path):
    import keras

    model = keras.Sequential([keras.Input((2,)), keras.layers.Dense(2, activation="softmax")])
    model.compile(optimizer=keras.optimizers.RMSprop(1e-3), loss="categorical_crossentropy", metrics=["accuracy"])
    said, moving = [], [0.5]
    record = recipe.EpochRecord({"recipe": "stable", "seed": 3}, moving, log=said.append, log_file=tmp_path / "log")
    x, y = np.zeros((8, 2), "float32"), np.eye(2)[[0, 1] * 4]
    model.fit(x, y, batch_size=4, epochs=2, validation_data=(x, y), verbose=0, callbacks=[record.callback()])
    assert record.history["val_accuracy"] == [0.5, 0.5] and record.history["val_accuracy_moving"] == [0.5, 0.5]
    assert record.history["learning_rate_end"] == [pytest.approx(1e-3)] * 2 and len(record.times) == 2
    lines = [json.loads(line) for line in (tmp_path / "log").read_text().splitlines()]
    assert [json.loads(s) for s in said] == lines and [(e["recipe"], e["seed"], e["epoch"]) for e in lines] == [
        ("stable", 3, 1), ("stable", 3, 2)]
    assert "batch_loss_spikes" not in lines[0]


@pytest.mark.slow
def test_training_is_the_same_without_validation_data():
    """Nothing in the stable recipe reads the validation (test) file: two epochs (a step each, so
    that a callback acting after epoch 1 would change epoch 2) give the same weights without it."""
    import keras

    rng = np.random.default_rng(0)
    x = rng.random((32, 28, 28, 1)).astype("float32")
    y = keras.utils.to_categorical(rng.integers(0, 24, 32), 24)
    for name in ("stable", "recalibrated"):
        weights = []
        for validation in (None, (x[:16] * 0 + 0.5, y[:16])):
            keras.utils.set_random_seed(3)
            model = lesson.build_model()
            recipe.compile_model(model, name, steps_per_epoch=1, epochs=2)
            model.fit(x, y, batch_size=32, epochs=2, shuffle=False, validation_data=validation, verbose=0,
                      callbacks=recipe.callbacks(name, x[:8]))
            weights.append([np.asarray(w) for w in model.weights])
            assert math.isclose(float(keras.ops.convert_to_numpy(model.optimizer.learning_rate)), 0.0, abs_tol=1e-12)
        for a, b in zip(*weights):
            np.testing.assert_array_equal(a, b)


def test_the_stored_runs_figure_has_every_run_and_whole_epochs(capsys):
    """Notebook 6's figure: each stored run, the lesson's own log and the learner's run, on epochs
    1, 2, ... (ticks at whole epochs only). tests/test_figures.py checks it in every mode."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    stored = recipe.stored_runs()
    if stored is None:
        pytest.skip("no stored runs in this copy of the package")
    mine = {"val_accuracy": [0.5, 0.8, 0.9]}
    fig = recipe.show_stored_runs(mine)
    try:
        (ax,) = fig.axes
        labels = [line.get_label() for line in ax.lines]
        assert labels[:len(stored["runs"])] == [f"{r['recipe']}, seed {r['seed']}" for r in stored["runs"]]
        assert labels[len(stored["runs"])] == "the lesson's own log (its GPU)"
        assert labels[len(stored["runs"]) + 1].startswith("your run (")
        assert list(ax.lines[len(stored["runs"]) + 1].get_ydata()) == mine["val_accuracy"]
        ticks = [t for t in ax.get_xticks() if ax.get_xlim()[0] <= t <= ax.get_xlim()[1]]
        assert ticks and all(float(t).is_integer() for t in ticks), ticks
        assert "Stored results, not this notebook's run" in capsys.readouterr().out
    finally:
        plt.close(fig)
