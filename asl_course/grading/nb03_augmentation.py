"""Notebook 3 (augmentation): observers, judges and repairs of its exercises."""

from __future__ import annotations

import math

import numpy as np

from .language import lookup, mark, t
from .expected import BATCH_SIZE, DATAGEN, DATAGEN_OFF, NUM_CLASSES
from .arrays import array_facts, onehot_facts, scaled_digest
from .nb01_prepare_data import said
from .predictions import choice_mistake, observe


def _datagen_sample(datagen, n: int = 200) -> dict:
    """What the generator actually does: its random transforms for seeds 0..n-1."""
    thetas, shifts, zooms, hflips, vflips = [], [], [], [], []
    for seed in range(n):
        drawn = datagen.get_random_transform((28, 28, 1), seed=seed)
        thetas.append(abs(float(drawn.get("theta") or 0)))
        shifts.append(max(abs(float(drawn.get("tx") or 0)), abs(float(drawn.get("ty") or 0))))
        zooms += [float(drawn.get("zx") or 1), float(drawn.get("zy") or 1)]
        hflips.append(bool(drawn.get("flip_horizontal")))
        vflips.append(bool(drawn.get("flip_vertical")))
    return {"max_theta": max(thetas), "max_shift_px": max(shifts), "min_zoom": min(zooms),
            "max_zoom": max(zooms), "hflip_share": sum(hflips) / n, "vflip_share": sum(vflips) / n}


def obs_datagen(ns, ref, folder, sample: bool = True):
    d = ns["datagen"]
    out = {"type": type(d).__name__, "settings": {}}
    for key in (*DATAGEN, *DATAGEN_OFF):
        if not hasattr(d, key):
            out["settings"][key] = "<missing>"
            continue
        value = getattr(d, key)
        if key == "zoom_range":
            value = [float(v) for v in value]
        elif key == "preprocessing_function":
            value = None if value is None else getattr(value, "__name__", "a function")
        elif isinstance(value, (np.generic,)):
            value = value.item()
        elif isinstance(value, (list, tuple, np.ndarray)):
            value = [float(v) for v in value]
        out["settings"][key] = value
    if not sample:
        return out
    try:
        out["sample"] = _datagen_sample(d)
    except Exception as exc:  # noqa: BLE001
        out["sample"] = {"error": f"{type(exc).__name__}: {str(exc)[:120]}"}
    return out


def obs_batch(ns, ref, folder):
    it = ns["img_iter"]
    out = {"iterator": type(it).__name__, "batch_size": getattr(it, "batch_size", None)}
    flow_x = getattr(it, "x", None)
    fx, fa = array_facts(flow_x)
    out["flow_x"] = {**fx, "scaled": scaled_digest(fa)[0] if fa is not None and fa.ndim == 4 else None}
    fy, ya = array_facts(getattr(it, "y", None))
    out["flow_y"] = {**fy, **onehot_facts(ya)}
    out["x_batch"], out["y_batch"] = batch_facts(ns["x_batch"], ns["y_batch"], fa)
    return out


def judge_datagen(obs, ref, models):
    s = obs["settings"]
    if obs["type"] != "ImageDataGenerator" or "<missing>" in s.values():
        return [t("datagen is a {type}, not an ImageDataGenerator", type=obs["type"])]
    mistakes = []
    for key, want in DATAGEN.items():
        have = s.get(key)
        same = (np.allclose(have, want) if isinstance(want, list)
                else have is want if isinstance(want, bool) else
                isinstance(have, (int, float)) and math.isclose(float(have), want))
        if not same:
            if key == "vertical_flip":
                mistakes.append(t("vertical_flip=True turns hands upside down, which signers never do: "
                                  "vertical_flip=False (flip horizontally only: left-handed signers)"))
            elif key == "zoom_range":
                mistakes.append(t("zoom_range gives zoom factors {have}, the lesson's zoom_range=0.1 gives [0.9, 1.1]",
                                  have=have))
            else:
                mistakes.append(t("{key} is {have!r}, the lesson uses {key}={want!r}", key=key, have=have, want=want))
    for key, want in DATAGEN_OFF.items():
        have = s.get(key)
        if isinstance(want, str) and have != want:
            mistakes.append(t("{key} is {have!r}; the lesson leaves it at the generator's default ({want!r}), which "
                              "repeats the nearest pixel into the gaps", key=key, have=have, want=want))
        elif (want in (None, False) and have not in (None, False, 0, 0.0)) or \
                (isinstance(want, float) and isinstance(have, (int, float)) and have != want):
            mistakes.append(t("{key} is {have!r}; the lesson leaves it off ({want!r})", key=key, have=have, want=want))
    sample = obs.get("sample", {})
    if not mistakes and "error" not in sample:
        if sample["vflip_share"] > 0:
            mistakes.append(t("the generator flips images vertically although its vertical_flip setting is False"))
        if sample["max_theta"] > 10.001 or sample["max_shift_px"] > 2.8 + 1e-3 or \
                sample["min_zoom"] < 0.9 - 1e-6 or sample["max_zoom"] > 1.1 + 1e-6:
            mistakes.append(t("the generator's random transforms go beyond its settings (a changed generator?)"))
        if sample["max_theta"] < 5 or sample["max_shift_px"] < 1.4 or not 0.3 < sample["hflip_share"] < 0.7:
            mistakes.append(t("the generator does not rotate, shift and flip as its settings say"))
    elif "error" in sample and not mistakes:
        mistakes.append(t("the generator cannot make random transforms ({error})", error=sample["error"]))
    return mistakes


#: Why notebook 3's batch cell stops on Keras 3 (``img_iter.next()``): the grader's hint when
#: the batch is missing and the self-check's, stated once (in the learner's language: ``lookup(NEXT_METHOD)``).
NEXT_METHOD = mark("Keras 3 iterators have no .next() method: draw a batch with next(img_iter)")


def batch_mistakes(x_batch: dict, y_batch: dict, batch_size: int = BATCH_SIZE) -> list[tuple[str, str]]:
    """What is wrong with one drawn batch, as ``(mistake, fix)`` pairs (empty: a right batch).

    Stated once: the grader's judge (:func:`judge_batch`) and the learners' self-check
    (``asl_course.learners.checks.check_batch``) both say these words. ``x_batch`` and
    ``y_batch`` are the arrays' facts (:func:`asl_course.grading.arrays.array_facts`, with
    ``onehot_facts`` for the labels): shape, smallest and largest value, one-hot or not.
    """
    out = []
    shape = tuple(x_batch.get("shape") or ())
    draw = "x_batch, y_batch = next(img_iter)"
    if x_batch.get("type") in ("tuple", "list") and not shape:
        return [(t("x_batch is a {type}: next(img_iter) gives the pair (images, labels)", type=x_batch["type"]),
                 t("unpack it: {draw}", draw=draw))]
    if shape != (batch_size, 28, 28, 1):
        out.append((t("x_batch has shape {shape}, not ({batch_size}, 28, 28, 1)", shape=shape, batch_size=batch_size),
                    t("draw one batch with x_batch, y_batch = next(img_iter) from img_iter = datagen.flow(x_train, "
                      "y_train, batch_size={batch_size}) (Keras 3 iterators have no .next() method)",
                      batch_size=batch_size)))
    elif x_batch.get("max", 0) > 1.0 + 1e-6 or x_batch.get("min", 0) < -1e-6:
        out.append((t("x_batch's pixels are not in 0..1 (they go from {low:g} to {high:g})",
                      low=x_batch.get("min", 0), high=x_batch.get("max", 0)),
                    t("flow the normalised x_train (divided by 255)")))
    elif x_batch.get("unaugmented"):
        out.append((t("x_batch holds images of x_train exactly as they are: they did not go through the generator"),
                    t("draw them from it: {draw}", draw=draw)))
    yshape = tuple(y_batch.get("shape") or ())
    if len(yshape) != 2 or yshape[1] != NUM_CLASSES or not y_batch.get("onehot"):
        out.append((t("y_batch has shape {shape}, not a batch of {batch_size} one-hot labels ({batch_size}, "
                      "{classes})", shape=yshape, batch_size=batch_size, classes=NUM_CLASSES),
                    t("pass the one-hot y_train to datagen.flow, not the integer labels")))
    elif yshape[0] != batch_size and not out:  # a wrong batch size is said once, for x_batch
        out.append((t("y_batch holds {n} labels, not {batch_size}", n=yshape[0], batch_size=batch_size),
                    t("take x_batch and y_batch from the same next(img_iter)")))
    return out


def batch_facts(x_batch, y_batch, flowed=None) -> tuple[dict, dict]:
    """The facts :func:`batch_mistakes` reads, from the arrays themselves; ``flowed``: the images the
    iterator flows (None: not known), for ``unaugmented``: every image of x_batch is one of them unchanged."""
    bx, xa = array_facts(x_batch)
    by, ya = array_facts(y_batch)
    if flowed is not None and xa is not None and xa.ndim == 4 and len(xa) and xa.shape[1:] == flowed.shape[1:]:
        bx["unaugmented"] = _all_among(xa, flowed)
    return bx, {**by, **onehot_facts(ya)}


def _all_among(images: np.ndarray, pool: np.ndarray) -> bool:
    """Whether every image is one of ``pool``'s, unchanged (found through the images' sums first)."""
    sums = pool.reshape(len(pool), -1).sum(axis=1, dtype=np.float64)
    for image in images:
        candidates = np.flatnonzero(sums == image.sum(dtype=np.float64))
        if not any(np.array_equal(pool[i], image) for i in candidates[:64]):
            return False
    return True


def flow_mistakes(batch_size, x_ok: bool, y_ok: bool) -> list[tuple[str, str]]:
    """What is wrong with ``img_iter`` itself, as ``(mistake, fix)`` pairs: its batch size, and whether
    it flows the prepared x_train and the one-hot y_train (``x_ok``, ``y_ok``: the grader compares them
    with its reference, the self-check with the notebook's arrays)."""
    flow = f"datagen.flow(x_train, y_train, batch_size={BATCH_SIZE})"
    out = []
    if batch_size != BATCH_SIZE:
        out.append((t("img_iter makes batches of {got}, not {batch_size}", got=batch_size, batch_size=BATCH_SIZE),
                    flow))
    if not x_ok:
        out.append((t("img_iter does not flow the prepared x_train (normalised, shape (N, 28, 28, 1))"), flow))
    if not y_ok:
        out.append((t("img_iter does not flow the one-hot y_train"), flow))
    return out


def judge_batch(obs, ref, models):
    n = len(ref.y_train)
    fx, fy = obs["flow_x"], obs["flow_y"]
    x_ok = fx.get("shape") == [n, 28, 28, 1] and fx.get("scaled") == ref.digest("x_train")
    y_ok = fy.get("shape") == [n, NUM_CLASSES] and bool(fy.get("onehot"))
    mistakes = [said(m) for m in flow_mistakes(obs["batch_size"], x_ok, y_ok)]
    mistakes += [said(m) for m in batch_mistakes(obs["x_batch"], obs["y_batch"])]
    return mistakes


def repair_datagen(ns, ref):
    from tensorflow.keras.preprocessing.image import ImageDataGenerator

    ns["datagen"] = ImageDataGenerator(rotation_range=10, zoom_range=0.1, width_shift_range=0.1,
                                       height_shift_range=0.1, horizontal_flip=True, vertical_flip=False)


# --- Thinking: which option would hurt on this data? (predict_rotation) -----------------------------

#: Each option (what the learner writes: never translated), and why it keeps or breaks the letter
#: (marked for the catalogs: in the learner's language through :func:`lookup`; the answer's is never said).
ROTATION_OPTIONS = {
    "rotation_range=10": mark("a tilt of up to 10 degrees is how hands are held anyway, and no letter becomes "
                              "another (the lesson uses it)"),
    "zoom_range=0.1": mark("a hand up to 10 % nearer or farther is still the same letter (the lesson uses it)"),
    "horizontal_flip=True": mark("a mirrored hand is what a left-handed signer shows: still the same letter (the "
                                 "lesson uses it)"),
    "rotation_range=90": "right",
}
ROTATION_ANSWER = "rotation_range=90"
#: Why, in English (in the learner's language: ``lookup(ROTATION_WHY)``).
ROTATION_WHY = mark("up to a quarter turn makes some hands another letter: U turned sideways is H, G turned to point "
                    "down is Q, and K tipped towards the floor looks like P, so those augmented images would carry "
                    "the old, wrong label (the figure below turns a U, a K and a G a quarter turn)")


def rotation_mistake(value, type_name: str) -> tuple[str, str] | None:
    """Stated once: the hidden test's judge and the self-check say these words."""

    options = {option: lookup(meaning) for option, meaning in ROTATION_OPTIONS.items()}
    return choice_mistake(value, type_name, options, ROTATION_ANSWER, lookup(ROTATION_WHY))


def obs_prediction(ns, ref, folder):

    return observe(ns)


def judge_predict_rotation(obs, ref, models):
    mistake = rotation_mistake(obs["value"], obs["type"])
    return [f"{mistake[0]}; {mistake[1]}"] if mistake else []
