"""Keras models: describing them against the lesson, saving, loading and re-measuring them,
and training from the grader's initialisation."""

from __future__ import annotations

import math
import warnings
from pathlib import Path

import numpy as np

from .language import t

from .expected import INPUT_SHAPE, LAYERS, MODEL_PARAMS


def is_keras_model(value) -> bool:
    return any(c.__name__ in ("Model", "Sequential", "Functional") and c.__module__.startswith("keras")
               for c in type(value).__mro__)


def describe_model(model) -> dict:
    """A JSON description of a Keras model: class, input shape, layers and their settings, params."""
    try:
        layers = [layer for layer in model.layers if type(layer).__name__ != "InputLayer"]
    except Exception as exc:  # noqa: BLE001 - not a Keras model
        return {"error": f"{type(model).__name__} ({type(exc).__name__})"}
    rows = []
    for layer in layers:
        kind = type(layer).__name__
        kind = "MaxPooling2D" if kind == "MaxPool2D" else kind
        try:
            cfg = layer.get_config()
        except Exception:  # noqa: BLE001
            cfg = {}
        keep = {}
        for key in ("filters", "kernel_size", "strides", "padding", "activation", "rate", "units", "pool_size"):
            if key in cfg:
                value = cfg[key]
                if isinstance(value, (list, tuple)):
                    value = [int(v) for v in value]
                elif isinstance(value, dict):  # a serialised activation object
                    value = str(value.get("config", {}).get("name") or value.get("class_name"))
                elif isinstance(value, float):
                    value = round(value, 6)
                keep[key] = value
        rows.append([kind, keep])
    try:
        shape = [None if d is None else int(d) for d in model.input_shape]
    except Exception:  # noqa: BLE001
        shape = None
    try:
        params = int(model.count_params())
    except Exception:  # noqa: BLE001
        params = None
    return {"class": type(model).__name__, "input_shape": shape, "layers": rows, "params": params}


def _layer_text(kind: str, settings: dict) -> str:
    inner = ", ".join(f"{k}={tuple(v) if isinstance(v, list) else v!r}" for k, v in settings.items())
    return f"{kind}({inner})"


def _extra_layer(got: list, want: list) -> int | None:
    """The index of the one layer of ``got`` without which its kinds and settings are ``want``'s (None: none)."""
    def same(g, w):
        return g[0] == w[0] and all(g[1].get(k) == v for k, v in w[1].items())

    for i in range(len(got)):
        rest = got[:i] + got[i + 1:]
        if all(same(g, w) for g, w in zip(rest, want)):
            return i
    return None


def _setting_mistake(number: int, kind: str, key: str, have, expected, *, last: bool) -> str:
    """Layer ``number`` (a ``kind``) has ``key=have`` where the lesson has ``key=expected``, in words."""
    values = dict(number=number, kind=kind, key=key, have=tuple(have) if isinstance(have, list) else have,
                  want=tuple(expected) if isinstance(expected, list) else expected)
    if key == "padding":
        return t("layer {number} ({kind}) has {key}={have!r}; the lesson uses {key}={want!r} (every Conv2D and "
                 "MaxPool2D layer uses padding=\"same\")", **values)
    if key == "activation" and last:
        return t("layer {number} ({kind}) has {key}={have!r}; the lesson uses {key}={want!r} (the last layer turns "
                 "24 scores into probabilities with softmax)", **values)
    if key == "units" and last:
        return t("layer {number} ({kind}) has {key}={have!r}; the lesson uses {key}={want!r} (one output per "
                 "letter: 24)", **values)
    return t("layer {number} ({kind}) has {key}={have!r}; the lesson uses {key}={want!r}", **values)


def model_mistakes(description: dict) -> list[str]:
    """How a described model differs from the lesson's CNN, in words (empty when it matches)."""
    if "error" in description:
        return [t("model is not a Keras model (it is a {error})", error=description["error"])]
    got = description["layers"]
    want = [[kind, {k: list(v) if isinstance(v, tuple) else v for k, v in s.items()}] for kind, s in LAYERS]
    mistakes = []
    kinds_got, kinds_want = [g[0] for g in got], [w[0] for w in want]
    if sorted(kinds_got) == sorted(kinds_want) and kinds_got != kinds_want:
        i = next(i for i, (a, b) in enumerate(zip(kinds_got, kinds_want)) if a != b)
        mistakes.append(t("the layers are in the wrong order: layer {number} is {kind} where the lesson has {layer}; "
                          "the lesson's order is {order}", number=i + 1, kind=kinds_got[i],
                          layer=_layer_text(*LAYERS[i]), order=" -> ".join(kinds_want)))
    elif len(got) == len(want) + 1 and _extra_layer(got, want) is not None:
        i = _extra_layer(got, want)
        mistakes.append(t("layer {number} ({kind}) is extra: the lesson's model has {layers} layers, {order}",
                          number=i + 1, kind=got[i][0], layers=len(want), order=" -> ".join(kinds_want)))
    else:
        for i, (g, w) in enumerate(zip(got, want)):
            if g[0] != w[0]:
                mistakes.append(t("layer {number} is {kind}; the lesson has {layer} there", number=i + 1, kind=g[0],
                                  layer=_layer_text(*LAYERS[i])))
                break
            wrong = {k: g[1].get(k) for k, v in w[1].items() if g[1].get(k) != v}
            for key, have in wrong.items():
                mistakes.append(_setting_mistake(i + 1, g[0], key, have, w[1][key], last=i == len(want) - 1))
            if mistakes:
                break
        if not mistakes and len(got) != len(want):
            mistakes.append(t("the model has {layers} layers; the lesson's has {want}",
                              layers=len(got), want=len(want)))
    shape = description.get("input_shape")
    if shape != list(INPUT_SHAPE):
        mistakes.append(t("its input shape is {shape}, not (None, 28, 28, 1): begin with "
                          "keras.Input(shape=(28, 28, 1))", shape=tuple(shape) if shape else shape))
    if not mistakes and description.get("params") != MODEL_PARAMS:
        mistakes.append(t("it has {params} parameters, not {want:,}",
                          params=description.get("params"), want=MODEL_PARAMS))
    return mistakes


def save_model(model, path: Path) -> str | None:
    """Save a Keras model for the verifier; the reason when it cannot be saved."""
    try:
        import keras

        if not isinstance(model, keras.Model):
            return t("{type} is not a Keras model", type=type(model).__name__)
        with warnings.catch_warnings():  # e.g. "saving a model that has not yet been built" (notebook 6's layers)
            warnings.simplefilter("ignore")
            model.save(path)
        return None
    except Exception as exc:  # noqa: BLE001
        return f"{type(exc).__name__}: {str(exc)[:200]}"


# --- Measuring real models (in the kernel on live objects, in the verifier on saved files) -------


def predict(model, images: np.ndarray) -> np.ndarray:
    return np.asarray(model.predict(images, verbose=0, batch_size=512))


def load_saved_model(path):
    import keras

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return keras.models.load_model(path, compile=False, safe_mode=True)


# --- Training from the grader's initialisation (test_fit) -------------------------------------------
#
# Under the autograder, right after notebook 4's test_steps cell (just before the training cell),
# the autograder sets the model's weights to an initialisation drawn from a seed it has just
# chosen at random and keeps to itself until then (:func:`reinitialise`). A model trained before
# grading, elsewhere, cannot start from it. The verifier rebuilds the same initial weights from
# the seed and checks that the trained model descends from them (each kernel still correlated
# with its initial values) and moved away from them, and it re-measures accuracy. It cannot
# prove how many steps were trained (``optimizer.iterations`` can be assigned) or that the
# History is genuine: those are hints, not proof (README, "What stops tampering").


def initial_weights(shapes_and_names, seed: int) -> list[np.ndarray]:
    """The grader's initialisation for a model's weights (in ``model.weights`` order): Glorot
    uniform kernels (Keras' default), zero biases and shifts, unit scales and variances."""
    rng = np.random.default_rng(seed)
    out = []
    for name, shape in shapes_and_names:
        shape = tuple(int(d) for d in shape)
        if name == "kernel":
            receptive = math.prod(shape[:-2]) if len(shape) > 2 else 1
            fan_in, fan_out = shape[-2] * receptive, shape[-1] * receptive
            limit = math.sqrt(6 / (fan_in + fan_out))
            out.append(rng.uniform(-limit, limit, size=shape).astype("float32"))
        elif name in ("gamma", "moving_variance"):
            out.append(np.ones(shape, "float32"))
        else:
            out.append(np.zeros(shape, "float32"))
    return out


def _weight_names(model) -> list[tuple[str, tuple]]:
    return [(str(v.path).rsplit("/", 1)[-1], tuple(v.shape)) for v in model.weights]


def reinitialise(namespace: dict, seed: int) -> None:
    """Set the notebook's model to the grader's initialisation (run by the autograder)."""
    model = namespace.get("model")
    if model is not None and is_keras_model(model):
        model.set_weights(initial_weights(_weight_names(model), seed))


def descent(model, seed: int) -> dict:
    """How the model's layer kernels relate to the grader's initialisation from ``seed``."""
    start = initial_weights(_weight_names(model), seed)
    corr, moved = [], []
    for (name, _), w0, w in zip(_weight_names(model), start, model.get_weights()):
        if name != "kernel":
            continue
        a, b = np.asarray(w, dtype="float64").ravel(), w0.astype("float64").ravel()
        corr.append(float(np.corrcoef(a, b)[0, 1]) if a.std() > 0 else 0.0)
        moved.append(float(np.linalg.norm(a - b) / np.linalg.norm(b)))
    return {"min_correlation": min(corr) if corr else 0.0, "min_moved": min(moved) if moved else 0.0,
            "correlations": [round(c, 3) for c in corr]}


# --- An exercise whose value is a model the verifier reloads from its file (notebooks 2 and 6) ----------


def saved_model_from_record(meta, folder, *, name: str, unread: dict) -> dict:
    """The verifier's observation before it reloads ``name``'s file: ``unread`` in place of the
    description (the verifier re-describes the file itself), and why it was not saved, if so."""
    entry = meta["values"][name]
    return {name: dict(unread),
            "saved": entry.get("error") if entry.get("kind") == "model"
            else t("{type} is not a Keras model", type=entry.get("type"))}


def saved_model_refused(obs, *, name: str) -> str | None:
    if not obs.get("saved"):
        return None
    return t("{name} is not a Keras model (it is a {saved})", name=name, saved=obs["saved"])


def take_measured(obs, models, *, name: str) -> None:
    """Put the verifier's own description of the reloaded model in the observation."""
    if models:
        obs[name] = models[name]
    return None

