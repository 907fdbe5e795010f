"""Visible self-checks: each names the likely mistake and its fix, never a bare assert.

A self-check prints one line starting with a tick when the work is right, and raises
:class:`SelfCheckFailed` (an ``AssertionError``, so nbgrader counts it as a failed test)
whose message says what is wrong and what to do. Grading (hidden tests) lives in
:mod:`asl_course.grading`.
"""

from __future__ import annotations

import math

import numpy as np

from asl_course import lesson

NUM_CLASSES = 24


class SelfCheckFailed(AssertionError):
    """A self-check found a mistake; the message names it and the fix."""


def _fail(mistake: str, fix: str) -> None:
    raise SelfCheckFailed(f"\n  Mistake: {mistake}\n  Fix: {fix}")


def _ok(message: str) -> None:
    print(f"\u2714 {message}")


def _n_rows(x) -> int:
    return int(np.shape(x)[0])


# --- Step 1 -------------------------------------------------------------------------------


def check_dataframes(train_df, valid_df) -> None:
    import pandas as pd

    for name, df in (("train_df", train_df), ("valid_df", valid_df)):
        if not isinstance(df, pd.DataFrame):
            _fail(
                f"{name} is a {type(df).__name__}, not a pandas DataFrame.",
                "load it with pd.read_csv('data/asl_data/...csv') (or the path printed by setup).",
            )
        if df.shape[1] != 785 or "label" not in df.columns:
            _fail(
                f"{name} has {df.shape[1]} columns; the CSV has 785 (label + 784 pixels).",
                "read the CSV with its header row: pd.read_csv(path), without header=None "
                "or index_col.",
            )
    if len(train_df) < len(valid_df):
        _fail(
            "train_df has fewer rows than valid_df: the two files are swapped.",
            "read sign_mnist_train.csv into train_df and sign_mnist_valid.csv into valid_df.",
        )
    _ok(f"train_df {train_df.shape}, valid_df {valid_df.shape}")


def check_labels(y_train, y_valid, train_df, valid_df) -> None:
    for name, y, df in (("y_train", y_train, train_df), ("y_valid", y_valid, valid_df)):
        y = np.asarray(y)
        if y.ndim != 1 or len(y) != len(df):
            _fail(
                f"{name} has shape {y.shape}; expected one label per row ({len(df)},).",
                f"take the label column: {name} = <dataframe>['label'].",
            )
        if "label" in df.columns:
            _fail(
                "the 'label' column is still in the DataFrame, so it would be read as a pixel.",
                "delete it after extracting the labels: del train_df['label'] (and valid_df).",
            )
        if y.min() < 0 or y.max() > NUM_CLASSES - 1:
            _fail(
                f"{name} holds values from {y.min()} to {y.max()}; the course uses 0..23.",
                "use the course's CSVs (asl-course data import maps the release's 0..24).",
            )
    _ok(f"labels: {len(y_train):,} train, {len(y_valid):,} valid, the label column is gone")


def check_images(x_train, x_valid, train_df=None, valid_df=None) -> None:
    for name, x in (("x_train", x_train), ("x_valid", x_valid)):
        x = np.asarray(x)
        if x.ndim != 2 or x.shape[1] != 784:
            extra = " (is the label column still in the DataFrame?)" if x.ndim == 2 and x.shape[1] == 785 else ""
            _fail(
                f"{name} has shape {x.shape}; expected (number of images, 784){extra}.",
                f"{name} = <dataframe>.values, after deleting the 'label' column.",
            )
    _ok(f"x_train {np.shape(x_train)}, x_valid {np.shape(x_valid)}")


def check_one_hot(y_train, y_valid, num_classes=None) -> None:
    if num_classes is not None and num_classes != NUM_CLASSES:
        _fail(
            f"num_classes is {num_classes}; the alphabet has 24 static letters (no J, no Z).",
            "set num_classes = 24.",
        )
    for name, y in (("y_train", y_train), ("y_valid", y_valid)):
        y = np.asarray(y)
        if y.ndim == 1:
            _fail(
                f"{name} is still a vector of integer labels {y.shape}.",
                f"one-hot encode it: {name} = keras.utils.to_categorical({name}, num_classes).",
            )
        if y.ndim != 2 or y.shape[1] != NUM_CLASSES:
            _fail(
                f"{name} has shape {y.shape}; expected (N, 24).",
                "keras.utils.to_categorical(y, 24) with the course's labels 0..23.",
            )
        if not np.allclose(y.sum(axis=1), 1) or not np.isin(y, (0, 1)).all():
            _fail(
                f"{name}'s rows are not one-hot (each row should hold a single 1).",
                "encode the integer labels once with keras.utils.to_categorical.",
            )
    _ok(f"one-hot labels: y_train {np.shape(y_train)}, y_valid {np.shape(y_valid)}")


def check_normalized(x_train, x_valid) -> None:
    for name, x in (("x_train", x_train), ("x_valid", x_valid)):
        x = np.asarray(x)
        if not np.issubdtype(x.dtype, np.floating):
            _fail(
                f"{name} holds {x.dtype} values (0..255).",
                f"divide by 255 to get floats in 0..1: {name} = {name} / 255.",
            )
        top = float(x.max())
        if top > 1.0:
            _fail(
                f"{name} goes up to {top:g}, not 1.",
                f"divide the pixel values by 255: {name} = {name} / 255.",
            )
        if top < 0.5:
            _fail(
                f"{name} goes up to only {top:g}: the pixels were scaled twice.",
                "divide by 255 once (re-run the cells from the top if you ran this one twice).",
            )
        if float(x.min()) < 0:
            _fail(f"{name} has negative values.", "divide by 255; do not subtract a mean here.")
    _ok("pixels are floats in 0..1")


def check_reshaped(x_train, x_valid, n_train=None, n_valid=None) -> None:
    for name, x, n in (("x_train", x_train, n_train), ("x_valid", x_valid, n_valid)):
        shape = np.shape(x)
        if len(shape) == 3 and shape[1:] == (28, 28):
            _fail(
                f"{name} has shape {shape}: the channel axis is missing.",
                f"Conv2D wants (images, height, width, channels): {name}.reshape(-1, 28, 28, 1).",
            )
        if len(shape) != 4 or shape[1:] != (28, 28, 1):
            _fail(
                f"{name} has shape {shape}; expected (N, 28, 28, 1).",
                f"{name} = {name}.reshape(-1, 28, 28, 1) (-1 keeps the number of images).",
            )
        if n is not None and shape[0] != n:
            _fail(
                f"{name} holds {shape[0]} images, not {n}.",
                "use -1 as the first dimension so that the number of images stays the same.",
            )
    _ok(f"x_train {np.shape(x_train)}, x_valid {np.shape(x_valid)}: ready for a CNN")


# --- Step 3 -------------------------------------------------------------------------------


def describe_layers(model) -> list[tuple]:
    """A comparable description of a model's layers: (kind, settings...)."""
    rows = []
    for layer in model.layers:
        kind = type(layer).__name__
        cfg = layer.get_config()
        if kind == "Conv2D":
            rows.append((kind, cfg["filters"], tuple(cfg["kernel_size"]), tuple(cfg["strides"]),
                         cfg["padding"], cfg["activation"]))
        elif kind in ("MaxPooling2D", "MaxPool2D"):
            rows.append(("MaxPooling2D", tuple(cfg["pool_size"]), tuple(cfg["strides"]), cfg["padding"]))
        elif kind == "Dense":
            rows.append((kind, cfg["units"], cfg["activation"]))
        elif kind == "Dropout":
            rows.append((kind, round(float(cfg["rate"]), 4)))
        else:
            rows.append((kind,))
    return rows


def _layer_text(row: tuple) -> str:
    kind, *rest = row
    return f"{kind}({', '.join(map(str, rest))})" if rest else f"{kind}()"


def model_mistakes(model) -> list[str]:
    """Differences between ``model`` and the lesson's CNN, in words (empty when it matches)."""
    expected = describe_layers(lesson.build_model())
    try:
        got = describe_layers(model)
    except Exception as exc:  # noqa: BLE001 - anything that is not a Keras model
        return [f"this is not a Keras model ({type(exc).__name__}: {exc})"]
    mistakes = []
    for i, (want, have) in enumerate(zip(expected, got)):
        if want != have:
            mistakes.append(f"layer {i + 1} is {_layer_text(have)}; the lesson has {_layer_text(want)}")
            break
    if len(got) != len(expected) and not mistakes:
        mistakes.append(f"the model has {len(got)} layers; the lesson's has {len(expected)}")
    try:
        shape = tuple(model.input_shape)
    except Exception:  # noqa: BLE001
        shape = None
    if shape != (None, 28, 28, 1):
        mistakes.append(f"its input shape is {shape}, not (None, 28, 28, 1)")
    if not mistakes and model.count_params() != lesson.MODEL_PARAMS:
        mistakes.append(f"it has {model.count_params():,} parameters, not {lesson.MODEL_PARAMS:,}")
    return mistakes


def check_model(model) -> None:
    mistakes = model_mistakes(model)
    if mistakes:
        _fail(
            "; ".join(mistakes) + ".",
            "compare your layers with the table above: filters, 3x3 kernels, "
            "padding='same', strides, dropout rates, and Dense(24, activation='softmax') last.",
        )
    _ok(f"the lesson's CNN: {len(model.layers)} layers, {model.count_params():,} parameters")


# --- Step 4 -------------------------------------------------------------------------------


def datagen_mistakes(datagen) -> list[str]:
    """How ``datagen``'s settings differ from the lesson's choice, in words."""
    try:
        got = {
            "rotation_range": datagen.rotation_range,
            "zoom_range": [float(v) for v in datagen.zoom_range],
            "width_shift_range": datagen.width_shift_range,
            "height_shift_range": datagen.height_shift_range,
            "horizontal_flip": datagen.horizontal_flip,
            "vertical_flip": datagen.vertical_flip,
        }
    except AttributeError:
        return [f"datagen is a {type(datagen).__name__}, not an ImageDataGenerator"]
    want = dict(lesson.DATAGEN_SETTINGS)
    want["zoom_range"] = [0.9, 1.1]
    mistakes = []
    for key, value in want.items():
        have = got[key]
        same = (np.allclose(have, value) if isinstance(value, list)
                else (have == value if isinstance(value, bool) else math.isclose(float(have), value)))
        if not same:
            mistakes.append(f"{key} is {have!r}, the lesson uses {value!r}")
    if got["vertical_flip"]:
        mistakes.append("vertical_flip=True makes upside-down hands, which signers never show")
    if datagen.featurewise_center or datagen.featurewise_std_normalization or datagen.zca_whitening:
        mistakes.append("featurewise centring/normalisation or ZCA is on; the lesson leaves them off")
    return mistakes


def check_datagen(datagen) -> None:
    mistakes = datagen_mistakes(datagen)
    if mistakes:
        _fail("; ".join(mistakes) + ".",
              "use rotation_range=10, zoom_range=0.1, width_shift_range=0.1, "
              "height_shift_range=0.1, horizontal_flip=True, vertical_flip=False.")
    _ok("ImageDataGenerator settings match the lesson")


def check_batch(x_batch, y_batch, batch_size: int = 32) -> None:
    if np.shape(x_batch) != (batch_size, 28, 28, 1):
        _fail(f"x_batch has shape {np.shape(x_batch)}; expected ({batch_size}, 28, 28, 1).",
              "draw one batch with next(img_iter) from datagen.flow(x_train, y_train, "
              f"batch_size={batch_size}) (Keras 3 iterators have no .next() method).")
    if np.shape(y_batch) != (batch_size, NUM_CLASSES):
        _fail(f"y_batch has shape {np.shape(y_batch)}; expected ({batch_size}, 24).",
              "pass the one-hot y_train to datagen.flow, not the integer labels.")
    top = float(np.max(x_batch))
    if top > 1.5:
        _fail(f"the batch's pixels go up to {top:g}.", "flow the normalised x_train (divided by 255).")
    _ok(f"one augmented batch: x {np.shape(x_batch)}, y {np.shape(y_batch)}")


# --- Steps 5-6 ----------------------------------------------------------------------------


def check_compiled(model) -> None:
    loss = getattr(model, "loss", None)
    name = loss if isinstance(loss, str) else getattr(loss, "name", type(loss).__name__)
    if getattr(model, "optimizer", None) is None or loss is None:
        _fail("the model is not compiled.",
              "model.compile(loss='categorical_crossentropy', metrics=['accuracy']).")
    if name not in ("categorical_crossentropy", "CategoricalCrossentropy"):
        hint = (" sparse_categorical_crossentropy is for integer labels; ours are one-hot."
                if "sparse" in str(name) else "")
        _fail(f"the loss is {name}.{hint}", "use loss='categorical_crossentropy'.")
    _ok(f"compiled with {name}")


def check_steps(steps, n_images: int, batch_size: int = 32) -> None:
    want = math.ceil(n_images / batch_size)
    if isinstance(steps, float):
        _fail(f"steps_per_epoch is a float ({steps}); Keras 3 raises TypeError.",
              "use math.ceil(len(x_train) / batch_size) or len(img_iter).")
    if steps == n_images // batch_size and steps != want:
        _fail(f"steps_per_epoch={steps} drops the last, partial batch: the iterator runs "
              "out of data every other epoch.",
              "use math.ceil(len(x_train) / batch_size) or len(img_iter).")
    if steps != want:
        _fail(f"steps_per_epoch is {steps}; {n_images} images in batches of {batch_size} "
              f"make {want} steps.", "steps_per_epoch = math.ceil(len(x_train) / batch_size).")
    _ok(f"steps_per_epoch = {steps}: every image once per epoch")


def check_trained(model, history, x_valid, y_valid, *, min_accuracy: float = 0.2) -> None:
    hist = getattr(history, "history", None)
    if not isinstance(hist, dict) or "val_accuracy" not in hist:
        _fail("history is not the History that model.fit returns (or fit had no validation data).",
              "history = model.fit(img_iter, ..., validation_data=(x_valid, y_valid)).")
    if not getattr(model, "optimizer", None) or int(model.optimizer.iterations.numpy()) == 0:
        _fail("the model has not been trained.", "run model.fit(...) on img_iter.")
    _, accuracy = model.evaluate(x_valid, y_valid, verbose=0)
    if accuracy < min_accuracy:
        _fail(f"the trained model gets only {accuracy:.1%} of the validation images right.",
              "check steps_per_epoch, that fit uses img_iter, and that the data are normalised.")
    _ok(f"trained for {len(hist['val_accuracy'])} epochs; validation accuracy now {accuracy:.3f}")


def check_saved(path, model, x_valid) -> None:
    from pathlib import Path

    import keras

    path = Path(path)
    if not path.exists():
        _fail(f"{path} does not exist.", 'model.save("asl_model.keras").')
    if path.suffix != ".keras":
        _fail(f"{path} is not a .keras file.", 'Keras 3 saves models as .keras: model.save("asl_model.keras").')
    loaded = keras.models.load_model(path)
    sample = np.asarray(x_valid[:64], dtype="float32")
    if not np.allclose(loaded.predict(sample, verbose=0), model.predict(sample, verbose=0), atol=1e-4):
        _fail(f"{path} holds a different model from `model` (an older save?).",
              "save again after training: model.save(\"asl_model.keras\").")
    _ok(f"{path} loads and predicts like the trained model")
