"""Visible self-checks: each names the likely mistake and its fix, never a bare assert.

A self-check prints one line starting with a tick when the work is right, and raises
:class:`SelfCheckFailed` (an ``AssertionError``, so nbgrader counts it as a failed test)
whose message says what is wrong and what to do. In IPython (Jupyter, Colab, nbgrader's
kernel) it is shown as that message alone, not as a traceback through this package
(:meth:`.mistakes.SelfCheckFailed._render_traceback_`); the cell still ends in an error output.

The notebooks' test cells call :func:`self_check` with the exercise's name and ``globals()``,
so that an exercise not done yet (its variables not defined) gets "define ... in the cell
above" instead of a ``NameError``. Grading (hidden tests) lives in :mod:`asl_course.grading`, whose
registry declares each exercise once; the self-checks of exercises judged without the reference
data (the model, the generator, the compilation) use its judges, and the others use the mistakes
its judges name (``grading.load_csv_mistakes``, ``grading.labels_mistake``,
``grading.label_kept_mistake``, ``grading.images_mistake``, ``grading.one_hot_mistake``,
``grading.num_classes_mistake``, ``grading.scale_mistake``, ``grading.reshape_mistake``,
``grading.batch_mistakes``, ``grading.steps_mistake``, ``grading.trained_mistake``,
``grading.history_mistake``, ``grading.save_mistake``),
so their words are the grade's.
"""

from __future__ import annotations

import dataclasses
from pathlib import Path
from typing import Callable

import numpy as np

from asl_course import dataset, grading
from asl_course.i18n import lookup, mark, t
from asl_course.learners import evaluation, predict
from asl_course.learners.mistakes import NotDoneYet, SelfCheckFailed, fail  # noqa: F401 - SelfCheckFailed: the notebooks' name for it

NUM_CLASSES = grading.NUM_CLASSES

def _ok(message: str) -> None:
    print(f"\u2714 {message}")


def _n_rows(x) -> int:
    return int(np.shape(x)[0])


# --- Step 1 -------------------------------------------------------------------------------


def csv_rows(data_dir) -> dict | None:
    """The number of data rows of each of the course's two CSV files in ``data_dir`` (lines less the
    header), or None when a file is not there: what the self-check compares the DataFrames with."""
    rows = {}
    for name, file in grading.CSV_FILES.items():
        path = Path(data_dir) / file if data_dir is not None else None
        if path is None or not path.is_file():
            return None
        lines, last = 0, b"\n"
        with path.open("rb") as f:
            for chunk in iter(lambda: f.read(1 << 22), b""):
                lines, last = lines + chunk.count(b"\n"), chunk[-1:]
        rows[name] = lines - 1 + (last != b"\n")
    return rows


def check_dataframes(train_df, valid_df, rows: dict | None = None) -> None:
    """``rows``: the files' row counts (:func:`csv_rows`; None: not known, then a wrong number of
    rows is not seen)."""
    frames = {"train_df": grading.frame_facts(train_df), "valid_df": grading.frame_facts(valid_df)}
    mistakes = grading.load_csv_mistakes(frames, rows)
    if mistakes:  # the grader's words (asl_course.grading.nb01_prepare_data.load_csv_mistakes)
        fail(*mistakes[0])
    _ok(f"train_df {train_df.shape}, valid_df {valid_df.shape}")


def check_labels(y_train, y_valid, train_df, valid_df) -> None:
    for name, y, df_name, df in (("y_train", y_train, "train_df", train_df), ("y_valid", y_valid, "valid_df", valid_df)):
        facts = grading.one_hot_facts(y)
        mistake = grading.labels_mistake(name, facts.get("shape"), len(df), facts.get("max"), facts.get("min"),
                                         "label" not in df.columns, facts.get("dtype"))
        if mistake:  # the grader's words (asl_course.grading.nb01_prepare_data)
            fail(*mistake)
        if "label" in df.columns:
            fail(*grading.label_kept_mistake(df_name))
    _ok(t("labels: {n_train:,} train, {n_valid:,} valid, the label column is gone",
          n_train=len(y_train), n_valid=len(y_valid)))


def _same_rows(x: np.ndarray, df, scale: float = 1, rows: int = 256) -> bool:
    """Whether ``x * scale`` holds DataFrame ``df``'s rows in their order, on up to ``rows`` rows spread
    over the array (a transpose, a reversal, a shuffle or a rescaling moves nearly every row)."""
    pick = np.unique(np.linspace(0, len(x) - 1, min(rows, len(x))).astype(int)) if len(x) else np.zeros(0, int)
    got = np.asarray(x[pick], dtype=np.float64) * scale
    return np.array_equal(np.rint(got) if scale != 1 else got, df.iloc[pick].to_numpy())


def _frames(ns: dict) -> tuple:
    """train_df and valid_df when the namespace holds them as DataFrames (their row counts), else Nones."""
    import pandas as pd

    return tuple(ns.get(n) if isinstance(ns.get(n), pd.DataFrame) else None for n in ("train_df", "valid_df"))


def check_images(x_train, x_valid, train_df=None, valid_df=None) -> None:
    for name, x, df in (("x_train", x_train, train_df), ("x_valid", x_valid, valid_df)):
        array = isinstance(x, np.ndarray)
        mistake = grading.images_mistake(name, type(x).__name__, np.shape(x) if array else None,
                                         None if df is None else len(df),
                                         float(x.max()) if array and x.size and x.dtype.kind in "biuf" else None,
                                         str(x.dtype) if array else None)
        if mistake:  # the grader's words (asl_course.grading.nb01_prepare_data.images_mistake)
            fail(*mistake)
        if df is not None and not _same_rows(x, df):  # the grader compares with its reference
            fail(*grading.pixels_mistake(name))
    _ok(f"x_train {np.shape(x_train)}, x_valid {np.shape(x_valid)}")


def check_one_hot(y_train, y_valid, num_classes=None, n_train=None, n_valid=None) -> None:
    """As the grader: the labels first, then ``num_classes`` (whose fix assumes the labels are right)."""
    for name, y, n in (("y_train", y_train, n_train), ("y_valid", y_valid, n_valid)):
        mistake = grading.one_hot_mistake(name, grading.one_hot_facts(y), n, num_classes)
        if mistake:  # the grader's words (asl_course.grading.nb01_prepare_data)
            fail(*mistake)
    mistake = grading.num_classes_mistake(num_classes)
    if mistake:
        fail(*mistake)
    _ok(t("one-hot labels: y_train {train_shape}, y_valid {valid_shape}",
          train_shape=np.shape(y_train), valid_shape=np.shape(y_valid)))


def _peak(df) -> float | None:
    """The largest pixel of a DataFrame of pixels (None: not one)."""
    import pandas as pd

    if not isinstance(df, pd.DataFrame) or not df.size or not all(k in "iuf" for k in (d.kind for d in df.dtypes)):
        return None
    return float(df.max().max())


def check_normalized(x_train, x_valid, train_df=None, valid_df=None) -> None:
    """``train_df``/``valid_df``: the pixels the arrays came from, whose largest value names a wrong divisor."""
    for name, x, df in (("x_train", x_train, train_df), ("x_valid", x_valid, valid_df)):
        f = grading.scale_facts(x)
        mistake = grading.scale_mistake(name, f.get("kind"), f.get("dtype"), f.get("max", 0), f.get("min", 0),
                                        f.get("off_grid"), _peak(df), f["type"])
        if mistake:  # the grader's words (asl_course.grading.nb01_prepare_data.scale_mistake)
            fail(*mistake)
    _ok(t("pixels are floats in 0..1"))


def check_reshaped(x_train, x_valid, n_train=None, n_valid=None, train_df=None, valid_df=None) -> None:
    """``train_df``/``valid_df``: the pixels the arrays came from (None: their order is not checked)."""
    for name, x, n, df in (("x_train", x_train, n_train, train_df), ("x_valid", x_valid, n_valid, valid_df)):
        mistake = grading.reshape_mistake(name, np.shape(x), n, type(x).__name__)
        if mistake:  # the grader's words (asl_course.grading.nb01_prepare_data.reshape_mistake)
            fail(*mistake)
        if df is not None and np.shape(df) == (len(x), 784) and \
                not _same_rows(np.asarray(x).reshape(len(x), -1), df, scale=255):
            fail(*grading.order_mistake(name))
    _ok(t("x_train {train_shape}, x_valid {valid_shape}: ready for a CNN",
          train_shape=np.shape(x_train), valid_shape=np.shape(x_valid)))


# --- Step 3 -------------------------------------------------------------------------------


def _registry_mistakes(grade_id: str, namespace: dict) -> list[str]:
    """The grader's own judgement of an exercise that needs no reference data: the registry's
    observer and judge (:mod:`asl_course.grading.registry`), as the hidden test and the verifier
    use them, so that a self-check and the grade never disagree."""
    if grading.exercise(grade_id).needs_reference:
        raise ValueError(f"{grade_id} is judged against the grader's reference data, not in a self-check")
    return grading.judge(grade_id, grading.observe(grade_id, namespace, None), None)


def model_mistakes(model) -> list[str]:
    """Differences between ``model`` and the lesson's CNN, in words (empty when it matches)."""
    return _registry_mistakes("test_model", {"model": model})


def check_model(model) -> None:
    mistakes = model_mistakes(model)
    if mistakes:
        fail(
            grading.sentences(mistakes),
            t("compare your layers with the table above: filters, 3x3 kernels, "
              "padding='same', strides, dropout rates, and Dense(24, activation='softmax') last."),
        )
    _ok(t("the lesson's CNN: {layers} layers, {params:,} parameters", layers=len(model.layers),
          params=model.count_params()))


# --- Step 4 -------------------------------------------------------------------------------


def datagen_mistakes(datagen) -> list[str]:
    """How ``datagen``'s settings (and what it does to images) differ from the lesson's choice, in words."""
    return _registry_mistakes("test_datagen", {"datagen": datagen})


def check_datagen(datagen) -> None:
    mistakes = datagen_mistakes(datagen)
    if mistakes:
        fail(grading.sentences(mistakes),
              t("use rotation_range=10, zoom_range=0.1, width_shift_range=0.1, "
                "height_shift_range=0.1, horizontal_flip=True, vertical_flip=False."))
    _ok(t("ImageDataGenerator settings match the lesson"))


def flows(flowed, array) -> bool:
    """Whether an iterator's array is ``array``: ``flow`` keeps the images as float32 (the
    generator's dtype), so ``array`` is compared in the iterator's own dtype."""
    if not isinstance(flowed, np.ndarray) or np.shape(flowed) != np.shape(array):
        return False
    try:
        return bool(np.array_equal(flowed, np.asarray(array, dtype=flowed.dtype)))
    except (TypeError, ValueError):
        return False


def check_batch(x_batch, y_batch, batch_size: int = 32, img_iter=None, x_train=None, y_train=None) -> None:
    """``img_iter``, ``x_train``, ``y_train``: the iterator and the arrays it should flow (None: not checked)."""
    flowed = getattr(img_iter, "x", None)
    if img_iter is not None and x_train is not None and y_train is not None:
        mistakes = grading.flow_mistakes(getattr(img_iter, "batch_size", None), flows(flowed, x_train),
                                         flows(getattr(img_iter, "y", None), y_train))
        if mistakes:  # the grader's words (asl_course.grading.nb03_augmentation.flow_mistakes)
            fail(*mistakes[0])
    mistakes = grading.batch_mistakes(*grading.batch_facts(x_batch, y_batch, flowed if isinstance(flowed, np.ndarray)
                                                           else None), batch_size)
    if mistakes:  # the grader's words (asl_course.grading.nb03_augmentation.batch_mistakes)
        fail(*mistakes[0])
    _ok(t("one augmented batch: x {x_shape}, y {y_shape}", x_shape=np.shape(x_batch), y_shape=np.shape(y_batch)))


# --- Steps 5-6 ----------------------------------------------------------------------------


def check_compiled(model) -> None:
    mistakes = _registry_mistakes("test_compile", {"model": model})
    if mistakes:
        fail(grading.sentences(mistakes),
              t("model.compile(loss='categorical_crossentropy', metrics=['accuracy']) (one-hot labels: "
                "categorical, not sparse)."))
    loss = getattr(model, "loss", None)
    _ok(t("compiled with {loss_name}", loss_name=loss if isinstance(loss, str) else getattr(loss, 'name', type(loss).__name__)))


def check_steps(steps, n_images: int, batch_size: int = 32) -> None:
    number = isinstance(steps, (int, float, np.integer, np.floating)) and not isinstance(steps, bool)
    mistake = grading.steps_mistake(float(steps) if number else None, type(steps).__name__, n_images, batch_size)
    if mistake:  # the grader's words (asl_course.grading.nb04_train_and_save.steps_mistake)
        fail(*mistake)
    _ok(t("steps_per_epoch = {steps}: every image once per epoch", steps=steps))


def _on_standin(namespace: dict) -> bool:
    """True when the notebook runs on the synthetic stand-in data (its setup's ``DATA_DIR``)."""
    try:
        return dataset.provenance(namespace.get("DATA_DIR")).get("kind") == "synthetic"
    except Exception:  # noqa: BLE001 - no data folder: not the stand-in
        return False


def check_trained(model, history, x_valid, y_valid, *, min_accuracy: float = 0.2, standin: bool = False) -> None:
    """``standin``: the synthetic stand-in data, where a short training stays at chance (the grader
    does not grade accuracy there either), so accuracy is reported, not checked."""
    # the grader's words (asl_course.grading.nb04_train_and_save.history_mistake, trained_mistake)
    facts = grading.history_facts(history)
    mistake = grading.history_mistake(facts)
    if mistake:
        fail(*mistake)
    optimizer = getattr(model, "optimizer", None)
    params = getattr(history, "params", None) or {}
    fit_steps = params["epochs"] * params["steps"] if isinstance(params.get("epochs"), int) and \
        isinstance(params.get("steps"), int) else None
    mistake = grading.trained_mistake(int(optimizer.iterations.numpy()) if optimizer else None, fit_steps)
    if mistake:
        fail(*mistake)
    loss, accuracy = model.evaluate(x_valid, y_valid, verbose=0)
    mistake = grading.history_mistake({**facts, "accuracy": float(accuracy), "loss": float(loss)})
    if mistake:
        fail(*mistake)
    if accuracy < min_accuracy and not standin:
        fail(t("the trained model gets only {share:.1%} of the validation images right.", share=accuracy),
             t("check steps_per_epoch, that fit uses img_iter, and that the data are normalised."))
    epochs = len(facts['history']['val_accuracy'])
    if standin:
        _ok(t("trained for {epochs} epochs; validation accuracy now {accuracy:.3f} (the synthetic stand-in: "
              "accuracy stays near chance there, so it is not checked)", epochs=epochs, accuracy=accuracy))
    else:
        _ok(t("trained for {epochs} epochs; validation accuracy now {accuracy:.3f}", epochs=epochs, accuracy=accuracy))


def check_saved(path, model, x_valid) -> None:
    import keras

    path = Path(path)
    if not path.is_file():  # the grader's words (asl_course.grading.nb04_train_and_save.save_mistake)
        others = sorted(p.name for p in path.absolute().parent.glob("asl_model*") if p.name != path.name)[:5]
        fail(*grading.save_mistake(str(path), False, others))
    if path.suffix != ".keras":
        fail(t("{path} is not a .keras file.", path=path), t('Keras 3 saves models as .keras: model.save("asl_model.keras").'))
    loaded = keras.models.load_model(path)
    sample = np.asarray(x_valid[:64], dtype="float32")
    if not np.allclose(loaded.predict(sample, verbose=0), model.predict(sample, verbose=0), atol=1e-4):
        fail(*grading.save_mistake(str(path), True, same_predictions=False))
    _ok(t("{path} loads and predicts like the trained model", path=path))


# --- Notebook 6: the layers, the pipeline, the schedule (the grader's words: grading.nb06_fast_and_stable) --


def check_augment_layers(augment) -> None:
    mistakes = grading.augment_mistakes(grading.describe_augment(augment))
    if mistakes:
        fail(*mistakes[0])
    _ok(t("augment makes the lesson's transforms: rotation up to 10 degrees, zoom and shifts up to 10%, "
          "left-right flips, gaps filled as the generator fills them"))


def check_train_ds(train_ds, n_images: int) -> None:
    if not hasattr(train_ds, "_as_serialized_graph"):
        fail(t("train_ds is a {kind}, not a tf.data.Dataset", kind=type(train_ds).__name__),
             t("build it with tf.data.Dataset.from_tensor_slices((x_train, y_train)) and its methods"))
    mistakes = grading.train_ds_mistakes(grading.dataset_graph_facts(grading.dataset_graph(train_ds)), n_images)
    if mistakes:
        fail(*mistakes[0])
    _ok(t("train_ds shuffles the {n_images:,} images, makes batches of 32, augments each batch in parallel "
          "threads and prefetches the next", n_images=n_images))


def check_schedule(lr_schedule, n_images: int) -> None:
    config = grading.schedule_config(lr_schedule)
    schedule = grading.rebuild_schedule(config) if config is not None else None
    total = grading.run_steps(n_images)
    facts = grading.schedule_facts(schedule, total) if schedule is not None else None
    mistakes = grading.schedule_mistakes(facts, type(lr_schedule).__name__, config)
    if mistakes:
        fail(*mistakes[0])
    _ok(t("lr_schedule starts at 1e-3 and decays as a cosine to 0 over the run's {total:,} steps", total=total))


# --- The thinking exercises: the prediction, then the notebook's own measurement ----------------
#
# Each self-check measures the answer in the notebook (the run), then compares the learner's
# prediction with the answer the grader judges it by, in the grader's words
# (``grading.balance_mistake``, ``grading.params_mistake``, ``grading.rotation_mistake``,
# ``grading.last_batch_mistake``, ``grading.confusion_pair_mistake``, ``grading.decay_mistake``).


def _said(prediction) -> tuple:
    obs = grading.observe_prediction({"prediction": prediction})
    return obs["value"], obs["type"]


def label_counts(y) -> np.ndarray | None:
    """Images per letter of labels ``y`` (0..23, or one-hot rows); None when ``y`` is neither."""
    try:
        a = np.asarray(y)
        if a.ndim == 2 and a.shape[1] == NUM_CLASSES:
            a = a.argmax(axis=1)
        labels = a.astype(np.int64)
    except (TypeError, ValueError):
        return None
    if a.ndim != 1 or not len(a) or not np.array_equal(labels, a) or labels.min() < 0 or labels.max() >= NUM_CLASSES:
        return None
    return np.bincount(labels, minlength=NUM_CLASSES)


def check_predict_balance(prediction, y_valid) -> None:
    counts = label_counts(y_valid)
    if counts is None:
        fail(t("y_valid does not hold the labels 0..23, so its letters cannot be counted"),
             t("rerun the notebook from the top to section 2 (the labels), then this cell"))
    mistake = grading.balance_mistake(*_said(prediction), counts)
    if mistake:
        fail(*mistake)
    truth, why = grading.balance_answer(counts)
    _ok(t('right, "{truth}": {why}', truth=truth, why=why))


def _second_conv(model) -> int | None:
    convs = [layer for layer in getattr(model, "layers", []) if type(layer).__name__ == "Conv2D"]
    return int(convs[1].count_params()) if len(convs) > 1 else None


def check_predict_params(prediction, model) -> None:
    measured = _second_conv(model)
    mistake = grading.params_mistake(*_said(prediction))
    seen = t(" (your model's second Conv2D: {measured:,})", measured=measured) if measured is not None else ""
    if mistake:
        fail(mistake[0] + seen, mistake[1])
    truth, _, why = grading.conv_params()
    _ok(t("right, {truth:,}: {why}{seen}; the summary below shows every layer's count", truth=truth, why=why,
          seen=seen))


def check_predict_rotation(prediction) -> None:
    mistake = grading.rotation_mistake(*_said(prediction))
    if mistake:
        fail(*mistake)
    _ok(t("right: {why}", why=lookup(grading.ROTATION_WHY)))


def _last_batch(img_iter) -> int | None:
    try:
        return int(len(img_iter[len(img_iter) - 1][0]))
    except Exception:  # noqa: BLE001 - not an iterator that can be indexed: nothing measured
        return None


def check_predict_last_batch(prediction, img_iter, n_images: int) -> None:
    measured = _last_batch(img_iter)
    seen = t(" (measured: img_iter's last batch holds {measured})", measured=measured) if measured is not None else ""
    mistake = grading.last_batch_mistake(*_said(prediction), n_images)
    if mistake:
        fail(mistake[0] + seen, mistake[1])
    truth, _, why = grading.last_batch_answer(n_images)
    _ok(t("right, {truth}: {why}{seen}", truth=truth, why=why, seen=seen))


def confused_pairs(labels, predicted, top: int = 5) -> list[tuple[str, int, int]]:
    """The ``top`` pairs of letters most confused, either way: ``(pair, a read as b, b read as a)``."""
    cm = np.zeros((NUM_CLASSES, NUM_CLASSES), dtype=np.int64)
    np.add.at(cm, (np.asarray(labels, dtype=np.int64), np.asarray(predicted, dtype=np.int64)), 1)
    pairs = [(grading.LETTERS[a] + grading.LETTERS[b], int(cm[a, b]), int(cm[b, a]))
             for a in range(NUM_CLASSES) for b in range(a + 1, NUM_CLASSES) if cm[a, b] + cm[b, a]]
    return sorted(pairs, key=lambda p: -(p[1] + p[2]))[:top]


def _times(n: int) -> str:
    return t("{n} time", n=n) if n == 1 else t("{n} times", n=n)


def check_predict_confusion(prediction, labels_valid, predicted) -> None:
    mistake = grading.confusion_pair_mistake(*_said(prediction))
    if mistake:
        fail(*mistake)
    a, b = sorted(grading.letter_pair(prediction))
    top = confused_pairs(labels_valid, predicted)
    mine = confused_pairs(labels_valid, predicted, top=NUM_CLASSES * NUM_CLASSES)
    ab, ba = next(((x, y) for p, x, y in mine if p == a + b), (0, 0))
    listed = ", ".join(f"{p[0]}-{p[1]} {x + y}" for p, x, y in top) or t("none")
    if any(p == a + b for p, _, _ in top):
        verdict = t("Yours is one of them: what you saw in the hand shapes is what the pixels keep too")
    elif ab + ba:
        verdict = t("Yours is not among them: the model's mistakes are not always where our eyes expect them; the "
                    "sections below show its mistakes and the hand shapes behind them")
    else:
        verdict = t("Yours is it never confused them: what looks alike to us is not always what looks alike at "
                    "28x28 pixels; the sections below show where it does fail")
    _ok(t("your pair {a}-{b}: the model read {a} as {b} {ab_times} and {b} as {a} {ba_times}. Its most confused "
          "pairs on this run (mistakes either way): {listed}. {verdict}", a=a, b=b, ab_times=_times(ab),
          ba_times=_times(ba), listed=listed, verdict=verdict))


def _decay_share(lr_schedule, steps_per_epoch) -> float | None:
    try:
        start = float(lr_schedule(0))
        return float(lr_schedule(grading.DECAY_QUESTION_EPOCH * int(steps_per_epoch))) / start
    except Exception:  # noqa: BLE001 - not a schedule: nothing measured
        return None


def check_predict_decay(prediction, lr_schedule, steps_per_epoch) -> None:
    measured = _decay_share(lr_schedule, steps_per_epoch)
    seen = t(" (measured: your lr_schedule after {epochs} epochs is {measured:.3f} of its start)",
             epochs=grading.DECAY_QUESTION_EPOCH, measured=measured) if measured is not None else ""
    mistake = grading.decay_mistake(*_said(prediction))
    if mistake:
        fail(mistake[0] + seen, mistake[1])
    truth, _, why = grading.decay_answer()
    _ok(t("right, {truth:.3f}: {why}{seen}", truth=truth, why=why, seen=seen))


# --- Notebook 7: the family split, the lookup, low contrast (the grader's words: grading.nb07_beyond_the_studio) --


def check_family_split(train_rows, valid_rows, family, labels) -> None:
    facts = grading.split_facts(train_rows, valid_rows, np.asarray(family), np.asarray(labels))
    mistakes = grading.split_mistakes(facts)
    if mistakes:
        fail(*mistakes[0])
    _ok(t("{valid} images ({share:.0%}) held out as whole families, {train} to train on; no family on both sides, "
          "every letter on both", valid=_n_rows(valid_rows), share=facts["valid_share"], train=_n_rows(train_rows)))


def check_predict_lookup(prediction) -> None:
    mistake = grading.lookup_mistake(*_said(prediction))
    if mistake:
        fail(*mistake)
    _ok(t("right: a random split's held-out images have near-copies of their own photos in the training part, "
          "so a lookup that learns nothing scores about 1.00 on them; run the lookup below and see"))


def check_low_contrast(low_contrast, images) -> None:
    sample = np.asarray(images[:grading.CONTRAST_IMAGES], dtype="float32").reshape(-1, 28, 28, 1)
    if not callable(low_contrast):
        fail(t("low_contrast is a {type}, not a function", type=type(low_contrast).__name__),
             t("define it with def low_contrast(images, factor): ... return ..."))
    for factor in grading.CONTRAST_FACTORS:
        mistake = grading.contrast_mistake(grading.contrast_case(low_contrast, sample, factor))
        if mistake:
            fail(*mistake)
    _ok(t("low_contrast flattens each image around its own mean, clips to 0..1 and keeps the shape and dtype"))


# --- The test cells' entry point: self_check("exercise", globals()) -------------------------


@dataclasses.dataclass(frozen=True)
class Exercise:
    """One exercise's self-check: where it is taught, the names it reads, and the check."""

    title: str  # the notebook's section, as the learner sees it (English, marked for the catalog)
    defines: tuple[str, ...]  # what the exercise's cell defines
    uses: tuple[str, ...]  # what earlier cells (setup, catch-up, earlier exercises) define
    run: Callable[[dict], None]
    #: Said when the exercise's names are missing: what usually stops that exercise's cell. An
    #: English template (marked for the catalog) whose placeholders ``hint_values`` fill in.
    hint_template: str = ""
    hint_values: tuple[tuple[str, str], ...] = ()  # (placeholder, English text) pairs

    @property
    def hint(self) -> str:
        """The hint in English."""
        return self.hint_template.format(**dict(self.hint_values))

    def advice(self) -> str:
        """The hint in the learner's language."""
        return lookup(self.hint_template).format(**{name: lookup(text) for name, text in self.hint_values})


def _nb5(name: str):
    """A notebook 5 self-check from asl_course.learners.predict / asl_course.learners.evaluation."""
    def call(*args):
        module = evaluation if name == "check_accuracy_per_letter" else predict
        return getattr(module, name)(*args)
    return call


def _rgb_picture(ns: dict) -> dict:
    return next(p for p in ns["pictures"] if p["kind"] == "rgb")


def _picture(ns: dict, kind: str, row: int):
    """The path of the picture of ``kind`` made from ``row`` (None: there is none)."""
    return next((p["path"] for p in ns["pictures"] if p["kind"] == kind and p["row"] == row), None)


EXERCISES: dict[str, Exercise] = {
    # notebook 1
    "load_csv": Exercise(mark("1. Load the CSV files"), ("train_df", "valid_df"), (),
                         lambda ns: check_dataframes(ns["train_df"], ns["valid_df"], csv_rows(ns.get("DATA_DIR")))),
    "labels": Exercise(mark("2. Extract the labels"), ("y_train", "y_valid"), ("train_df", "valid_df"),
                       lambda ns: check_labels(ns["y_train"], ns["y_valid"], ns["train_df"], ns["valid_df"])),
    "predict_balance": Exercise(mark("Think first: how balanced is the validation file?"), ("prediction",), ("y_valid",),
                                lambda ns: check_predict_balance(ns["prediction"], ns["y_valid"])),
    "images": Exercise(mark("3. Extract the images"), ("x_train", "x_valid"), (),
                       lambda ns: check_images(ns["x_train"], ns["x_valid"], *_frames(ns))),
    "one_hot": Exercise(mark("4. One-hot encode the labels"), ("num_classes",), ("y_train", "y_valid"),
                        lambda ns: check_one_hot(ns["y_train"], ns["y_valid"], ns["num_classes"],
                                                 *(None if df is None else len(df) for df in _frames(ns))),
                        hint_template=mark("If that cell stopped with an IndexError from to_categorical, the labels "
                                           "are not numbered 0..23.")),
    "normalize": Exercise(mark("5. Normalise the pixels"), (), ("x_train", "x_valid"),
                          lambda ns: check_normalized(ns["x_train"], ns["x_valid"], *_frames(ns))),
    "reshape": Exercise(mark("6. Reshape the images for a CNN"), (), ("x_train", "x_valid", "train_df", "valid_df"),
                        lambda ns: check_reshaped(ns["x_train"], ns["x_valid"], len(ns["train_df"]),
                                                  len(ns["valid_df"]), *_frames(ns))),
    # notebook 2
    "model": Exercise(mark("1. The architecture"), ("model",), (), lambda ns: check_model(ns["model"]),
                      hint_template=mark("If that cell stopped with an error, read its last line: a layer's "
                                         "argument is misspelt or its output became too small (padding).")),
    "predict_params": Exercise(mark("Think first: the parameters of one layer"), ("prediction",), ("model",),
                               lambda ns: check_predict_params(ns["prediction"], ns["model"])),
    # notebook 3
    "datagen": Exercise(mark("2. The lesson's augmentations"), ("datagen",), (), lambda ns: check_datagen(ns["datagen"])),
    "predict_rotation": Exercise(mark("Think first: which option would hurt?"), ("prediction",), (),
                                 lambda ns: check_predict_rotation(ns["prediction"])),
    "batch": Exercise(mark("3. A batch of augmented images"), ("img_iter", "x_batch", "y_batch"), ("datagen",),
                      lambda ns: check_batch(ns["x_batch"], ns["y_batch"], 32, ns["img_iter"], ns.get("x_train"),
                                             ns.get("y_train")),
                      hint_template=mark("If that cell stopped with AttributeError: ... has no attribute "
                                         "'next': {next_method}."),
                      hint_values=(("next_method", grading.NEXT_METHOD),)),
    # notebook 4
    "compile": Exercise(mark("1. Compile"), (), ("model",), lambda ns: check_compiled(ns["model"])),
    "steps": Exercise(mark("2. How long is an epoch?"), ("batch_size", "img_iter", "steps_per_epoch"), ("x_train",),
                      lambda ns: check_steps(ns["steps_per_epoch"], len(ns["x_train"]), ns["batch_size"])),
    "predict_last_batch": Exercise(mark("Think first: the last batch"), ("prediction",), ("img_iter", "x_train"),
                                   lambda ns: check_predict_last_batch(ns["prediction"], ns["img_iter"],
                                                                       len(ns["x_train"]))),
    "fit": Exercise(mark("3. Train on the augmented batches"), ("history",), ("model", "x_valid", "y_valid"),
                    lambda ns: check_trained(ns["model"], ns["history"], ns["x_valid"], ns["y_valid"],
                                              standin=_on_standin(ns)),
                    hint_template=mark("If that cell stopped with a TypeError about steps_per_epoch, it must be an "
                                       "integer (math.ceil).")),
    "save": Exercise(mark("5. Save the model"), (), ("model", "x_valid"),
                     lambda ns: check_saved("asl_model.keras", ns["model"], ns["x_valid"])),
    # notebook 5
    "load_model": Exercise(mark("1. Load the saved model"), ("model",), (),
                           lambda ns: _nb5("check_loaded_model")(ns["model"], "asl_model.keras")),
    "prepare_image": Exercise(
        mark("3. Prepare a picture exactly as the training data was prepared"), ("prepare_image",), ("pictures", "rows", "x_valid"),
        lambda ns: _nb5("check_prepare_image")(ns["prepare_image"], _rgb_picture(ns)["path"],
                                               ns["x_valid"][ns["rows"][_rgb_picture(ns)["row"]]],
                                               _picture(ns, "plain", _rgb_picture(ns)["row"]))),
    "predict_letter": Exercise(
        mark("4. From probabilities to a letter"), ("LETTERS", "predict_letter"), ("model", "pictures", "prepare_image"),
        lambda ns: (_nb5("check_letters")(ns["LETTERS"]),
                    _nb5("check_predict_letter")(ns["predict_letter"], ns["model"], ns["pictures"][0]["path"]))),
    "top_k": Exercise(mark("5. The top 3"), ("top_k",), ("model", "pictures", "LETTERS"),
                      lambda ns: _nb5("check_top_k")(ns["top_k"], ns["model"], ns["pictures"][0]["path"])),
    "predict_confusion": Exercise(mark("Think first: which letters will it mix up?"), ("prediction",),
                                  ("labels_valid", "predicted"),
                                  lambda ns: check_predict_confusion(ns["prediction"], ns["labels_valid"],
                                                                     ns["predicted"])),
    "accuracy_per_letter": Exercise(
        mark("6. Where does the model go wrong?"), ("accuracy_per_letter",), ("cm",),
        lambda ns: _nb5("check_accuracy_per_letter")(ns["accuracy_per_letter"], ns["cm"])),
    # notebook 6
    "augment_layers": Exercise(mark("1. The generator's augmentation as Keras layers"), ("augment",), (),
                               lambda ns: check_augment_layers(ns["augment"])),
    "train_ds": Exercise(mark("2. A tf.data input pipeline"), ("train_ds",), ("augment", "x_train"),
                         lambda ns: check_train_ds(ns["train_ds"], len(ns["x_train"]))),
    "schedule": Exercise(mark("4. A step size that decays"), ("lr_schedule",), ("x_train",),
                         lambda ns: check_schedule(ns["lr_schedule"], len(ns["x_train"]))),
    "predict_decay": Exercise(mark("Think first: how much step is left for the last 5 epochs?"), ("prediction",),
                              ("lr_schedule", "steps_per_epoch"),
                              lambda ns: check_predict_decay(ns["prediction"], ns["lr_schedule"],
                                                             ns["steps_per_epoch"])),
    # notebook 7
    "family_split": Exercise(mark("2. Hold out whole families"), ("train_rows", "valid_rows"), ("family", "labels"),
                             lambda ns: check_family_split(ns["train_rows"], ns["valid_rows"], ns["family"],
                                                           ns["labels"])),
    "predict_lookup": Exercise(mark("Think first: what does a lookup table score on a random split?"),
                               ("prediction",), (), lambda ns: check_predict_lookup(ns["prediction"])),
    "low_contrast": Exercise(mark("4. A camera's flat light"), ("low_contrast",), ("x_test",),
                             lambda ns: check_low_contrast(ns["low_contrast"], ns["x_test"])),
}


if set(EXERCISES) != {e.answer for e in grading.REGISTRY}:
    raise RuntimeError("the self-checks and the grading registry name different exercises: "
                       f"{sorted(set(EXERCISES) ^ {e.answer for e in grading.REGISTRY})}")


def not_defined_earlier(names: str, count: int, *, either: bool) -> str:
    """Says that names earlier cells define are missing (``either``: so are the exercise's own)."""
    if either:
        return (t("{names} is not defined either: it comes from earlier cells of this notebook.", names=names)
                if count == 1 else
                t("{names} are not defined either: they come from earlier cells of this notebook.", names=names))
    return (t("{names} is not defined: it comes from earlier cells of this notebook.", names=names) if count == 1
            else t("{names} are not defined: they come from earlier cells of this notebook.", names=names))


def self_check(exercise: str, namespace: dict) -> None:
    """Check one exercise on the notebook's variables (``namespace``: the notebook's ``globals()``).

    A name the exercise should define and does not gives :class:`NotDoneYet` ("define ... in
    the cell above"); a wrong answer gives :class:`SelfCheckFailed` naming the mistake.
    """
    try:
        spec = EXERCISES[exercise]
    except KeyError:
        raise ValueError(f"no self-check called {exercise!r}; there are: {', '.join(EXERCISES)}") from None
    def listed(names):
        return ", ".join(f"`{name}`" for name in names)

    undefined = [name for name in spec.defines if name not in namespace]
    earlier = [name for name in spec.uses if name not in namespace]
    if undefined or earlier:
        lines = []
        if undefined:
            names = listed(undefined)
            lines += [t("{names} is not defined yet.", names=names) if len(undefined) == 1 else
                      t("{names} are not defined yet.", names=names),
                      t("Fix: define {names} in the cell above (exercise \"{title}\") and run that cell, then run "
                        "this self-check again.", names=names, title=lookup(spec.title))]
            if spec.hint_template:
                lines.append(spec.advice())
        if earlier:
            lines += [not_defined_earlier(listed(earlier), len(earlier), either=bool(undefined)),
                      t("Fix: run the notebook's cells from the top (Run > Run All Above Selected Cell), "
                        "then this one.")]
        raise NotDoneYet("\n" + "\n".join(f"  {line}" for line in lines))
    spec.run(namespace)
