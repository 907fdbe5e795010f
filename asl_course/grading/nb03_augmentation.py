"""Notebook 3 (augmentation): observers, judges and repairs of its exercises."""

from __future__ import annotations

import math

import numpy as np

from .expected import BATCH_SIZE, DATAGEN, DATAGEN_OFF, NUM_CLASSES
from .arrays import _facts, _onehot_facts, _scaled_digest


def _datagen_sample(datagen, n: int = 200) -> dict:
    """What the generator actually does: its random transforms for seeds 0..n-1."""
    thetas, shifts, zooms, hflips, vflips = [], [], [], [], []
    for seed in range(n):
        t = datagen.get_random_transform((28, 28, 1), seed=seed)
        thetas.append(abs(float(t.get("theta") or 0)))
        shifts.append(max(abs(float(t.get("tx") or 0)), abs(float(t.get("ty") or 0))))
        zooms += [float(t.get("zx") or 1), float(t.get("zy") or 1)]
        hflips.append(bool(t.get("flip_horizontal")))
        vflips.append(bool(t.get("flip_vertical")))
    return {"max_theta": max(thetas), "max_shift_px": max(shifts), "min_zoom": min(zooms),
            "max_zoom": max(zooms), "hflip_share": sum(hflips) / n, "vflip_share": sum(vflips) / n}


def _obs_datagen(ns, ref, folder, sample: bool = True):
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


def _obs_batch(ns, ref, folder):
    it = ns["img_iter"]
    out = {"iterator": type(it).__name__, "batch_size": getattr(it, "batch_size", None)}
    flow_x = getattr(it, "x", None)
    fx, fa = _facts(flow_x)
    out["flow_x"] = {**fx, "scaled": _scaled_digest(fa)[0] if fa is not None and fa.ndim == 4 else None}
    fy, ya = _facts(getattr(it, "y", None))
    out["flow_y"] = {**fy, **_onehot_facts(ya)}
    bx, xa = _facts(ns["x_batch"])
    out["x_batch"] = bx
    by, ba = _facts(ns["y_batch"])
    out["y_batch"] = {**by, **_onehot_facts(ba)}
    return out


def _judge_datagen(obs, ref, models):
    s = obs["settings"]
    if obs["type"] != "ImageDataGenerator" or "<missing>" in s.values():
        return [f"datagen is a {obs['type']}, not an ImageDataGenerator"]
    mistakes = []
    for key, want in DATAGEN.items():
        have = s.get(key)
        same = (np.allclose(have, want) if isinstance(want, list)
                else have is want if isinstance(want, bool) else
                isinstance(have, (int, float)) and math.isclose(float(have), want))
        if not same:
            if key == "vertical_flip":
                mistakes.append("vertical_flip=True turns hands upside down, which signers never do: "
                                "vertical_flip=False (flip horizontally only: left-handed signers)")
            elif key == "zoom_range":
                mistakes.append(f"zoom_range gives zoom factors {have}, the lesson's zoom_range=0.1 gives [0.9, 1.1]")
            else:
                mistakes.append(f"{key} is {have!r}, the lesson uses {key}={want!r}")
    for key, want in DATAGEN_OFF.items():
        have = s.get(key)
        if (want in (None, False) and have not in (None, False, 0, 0.0)) or \
                (isinstance(want, float) and isinstance(have, (int, float)) and have != want):
            mistakes.append(f"{key} is {have!r}; the lesson leaves it off ({want!r})")
    sample = obs.get("sample", {})
    if not mistakes and "error" not in sample:
        if sample["vflip_share"] > 0:
            mistakes.append("the generator flips images vertically although its vertical_flip setting is False")
        if sample["max_theta"] > 10.001 or sample["max_shift_px"] > 2.8 + 1e-3 or \
                sample["min_zoom"] < 0.9 - 1e-6 or sample["max_zoom"] > 1.1 + 1e-6:
            mistakes.append("the generator's random transforms go beyond its settings (a changed generator?)")
        if sample["max_theta"] < 5 or sample["max_shift_px"] < 1.4 or not 0.3 < sample["hflip_share"] < 0.7:
            mistakes.append("the generator does not rotate, shift and flip as its settings say")
    elif "error" in sample and not mistakes:
        mistakes.append(f"the generator cannot make random transforms ({sample['error']})")
    return mistakes


def _judge_batch(obs, ref, models):
    mistakes = []
    n = len(ref.y_train)
    if obs["batch_size"] != BATCH_SIZE:
        mistakes.append(f"img_iter makes batches of {obs['batch_size']}, not 32: datagen.flow(x_train, y_train, batch_size=32)")
    fx = obs["flow_x"]
    if fx.get("shape") != [n, 28, 28, 1] or fx.get("scaled") != ref.digest("x_train"):
        mistakes.append("img_iter does not flow the prepared x_train (normalised, shape (N, 28, 28, 1)): "
                        "datagen.flow(x_train, y_train, batch_size=32)")
    fy = obs["flow_y"]
    if fy.get("shape") != [n, NUM_CLASSES] or not fy.get("onehot"):
        mistakes.append("img_iter does not flow the one-hot y_train: datagen.flow(x_train, y_train, batch_size=32)")
    xb, yb = obs["x_batch"], obs["y_batch"]
    if xb.get("shape") != [BATCH_SIZE, 28, 28, 1]:
        mistakes.append(f"x_batch has shape {tuple(xb.get('shape') or ())}, not (32, 28, 28, 1): "
                        "x_batch, y_batch = next(img_iter)")
    elif xb.get("max", 0) > 1.0 + 1e-6 or xb.get("min", 0) < -1e-6:
        mistakes.append("x_batch's pixels are not in 0..1: flow the normalised x_train")
    if yb.get("shape") != [BATCH_SIZE, NUM_CLASSES] or not yb.get("onehot"):
        mistakes.append(f"y_batch has shape {tuple(yb.get('shape') or ())}, not a batch of 32 one-hot labels (32, 24)")
    return mistakes


def _repair_datagen(ns, ref):
    from tensorflow.keras.preprocessing.image import ImageDataGenerator

    ns["datagen"] = ImageDataGenerator(rotation_range=10, zoom_range=0.1, width_shift_range=0.1,
                                       height_shift_range=0.1, horizontal_flip=True, vertical_flip=False)
