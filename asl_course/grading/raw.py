"""Raw values: what the hidden test records, what the verifier rebuilds."""

from __future__ import annotations

import json
import warnings
import zipfile
from pathlib import Path

import numpy as np

from .expected import DATAGEN, DATAGEN_OFF
from .models import is_keras_model, save_model
from .nb03_augmentation import obs_datagen


# --- Raw values: what the hidden test records, what the verifier rebuilds -------------------------
#
# Under the autograder a hidden test writes the *raw values* an exercise produced (arrays as
# .npy, models as .keras files, plain values as JSON) into a run folder of its own,
# ``artefacts/<grade_id>/run-<random>/``. The autograder moves that folder out of the kernel's
# reach as soon as the test cell has run (:func:`asl_course.grading.plugins.autograder.after_graded_cell`). The
# verifier rebuilds the values from the files and measures them itself (:func:`observe`, the same
# code as in the kernel): no summary, digest or verdict written by the kernel is ever read.
# Values the kernel could only *claim* (a History's bookkeeping, a file's name) serve the hints
# of the messages; no point rests on them alone.

RECORD_FILE = "record.json"
RUN_PREFIX = "run-"


def type_name_of(value) -> str:
    return type(value).__name__


def _save_array(a, path: Path) -> None:
    a = np.asarray(a)
    if a.dtype == object:
        raise TypeError("holds Python objects, not numbers")
    np.save(path, a, allow_pickle=False)


def _scalar(value):
    if isinstance(value, (bool, np.bool_)):
        return bool(value)
    if isinstance(value, (int, np.integer)):
        return int(value)
    if isinstance(value, (float, np.floating)):
        return float(value)
    if isinstance(value, str):
        return value[:200]
    return None


def record_value(exercise, name: str, value, ns: dict, folder: Path) -> dict:
    """One raw value of ``exercise`` (a :class:`~.registry.Exercise`) written into ``folder``."""
    kind = type_name_of(value)
    out = {"type": kind}
    shallow = exercise.shallow.get(name)
    if shallow == "columns":
        cols = getattr(value, "columns", None)
        return {**out, "kind": "columns", "columns": None if cols is None else [str(c) for c in list(cols)]}
    if shallow == "length":
        x = getattr(value, "x", None)
        return {**out, "kind": "iterator", "batch_size": _scalar(getattr(value, "batch_size", None)),
                "length": len(x) if hasattr(x, "__len__") else None}
    if value is None or isinstance(value, (bool, int, float, str, np.generic)):
        return {**out, "kind": "scalar", "value": _scalar(value), "repr": repr(value)[:60]}
    if is_keras_model(value):
        file = exercise.model_file or f"{name}.keras"
        error = save_model(value, folder / file)
        return {**out, "kind": "model", "file": file, "error": error}
    if kind == "DataFrame" and hasattr(value, "columns"):
        _save_array(value.to_numpy(), folder / f"{name}.npy")
        return {**out, "kind": "dataframe", "file": f"{name}.npy", "columns": [str(c) for c in value.columns]}
    if kind == "Series" and hasattr(value, "to_numpy"):
        _save_array(value.to_numpy(), folder / f"{name}.npy")
        return {**out, "kind": "series", "file": f"{name}.npy"}
    if hasattr(value, "get_random_transform") and hasattr(value, "rotation_range"):
        settings = obs_datagen({"datagen": value}, None, None, sample=False)["settings"]
        return {**out, "kind": "datagen", "settings": settings}
    if hasattr(value, "batch_size") and hasattr(value, "x") and hasattr(value, "n"):
        _save_array(value.x, folder / f"{name}.x.npy")
        y = getattr(value, "y", None)
        if y is not None:
            _save_array(y, folder / f"{name}.y.npy")
        return {**out, "kind": "iterator", "batch_size": _scalar(value.batch_size), "x": f"{name}.x.npy",
                "y": None if y is None else f"{name}.y.npy"}
    if kind == "History" or hasattr(value, "history") and hasattr(value, "params"):
        import keras

        hist = getattr(value, "history", None)
        params = getattr(value, "params", None)
        return {**out, "kind": "history", "qualname": f"{type(value).__module__}.{type(value).__qualname__}",
                "is_history": isinstance(value, keras.callbacks.History) and type(value).__qualname__ == "History",
                "model_is_model": getattr(value, "model", None) is ns.get("model"),
                "params": {k: _scalar(params.get(k)) for k in ("epochs", "steps")} if isinstance(params, dict) else None,
                "history": {str(k): [float(v) for v in list(vals)[:1000]] for k, vals in hist.items()
                            if str(k) in ("loss", "accuracy", "val_loss", "val_accuracy")}
                if isinstance(hist, dict) else None,
                "epoch": [int(e) for e in list(getattr(value, "epoch", []) or [])[:1000]]}
    if callable(value):
        return {**out, "kind": "function"}
    try:
        _save_array(value, folder / f"{name}.npy")
        return {**out, "kind": "array", "file": f"{name}.npy"}
    except Exception as exc:  # noqa: BLE001 - not array-like
        return {**out, "kind": "other", "repr": repr(value)[:60], "why": type(exc).__name__}


class _Named:
    """A stand-in for a value the verifier cannot rebuild: it has the recorded type's name."""

    def __init__(self, text=""):
        self._text = text

    def __repr__(self):
        return self._text


def _named(type_name: str, base=_Named):
    safe = "".join(ch for ch in str(type_name) if ch.isalnum() or ch == "_")[:60] or "object"
    return type(safe, (base,), {})


def _typed_array(a: np.ndarray, type_name: str):
    return a if type_name == "ndarray" else a.view(_named(type_name, np.ndarray))


class _Length:
    def __init__(self, n):
        self.n = n

    def __len__(self):
        return self.n


def _load_npy(folder: Path, file: str) -> np.ndarray:
    path = folder / Path(file).name
    return np.load(path, allow_pickle=False, mmap_mode="r")


def compile_config(path: Path):
    """The compile settings a .keras file holds (read from its config.json; nothing is executed)."""
    with zipfile.ZipFile(path) as z:
        config = json.loads(z.read("config.json"))
    return config.get("compile_config")


def rebuild(entry: dict, folder: Path, name: str):
    kind = entry.get("kind")
    type_name = entry.get("type", "object")
    if kind == "scalar":
        value = entry.get("value")
        if value is None:
            return None if type_name == "NoneType" else _named(type_name)(entry.get("repr", ""))
        cast = {"int": int, "float": float, "bool": bool, "str": str}.get(type_name)
        if cast is not None:
            return cast(value)
        if hasattr(np, type_name) and type_name.startswith(("int", "uint", "float", "bool")):
            return getattr(np, type_name)(value)
        return _named(type_name)(entry.get("repr", ""))
    if kind in ("array",):
        return _typed_array(np.asarray(_load_npy(folder, entry["file"])), type_name)
    if kind == "series":
        import pandas as pd

        return pd.Series(np.asarray(_load_npy(folder, entry["file"])))
    if kind == "dataframe":
        import pandas as pd

        return pd.DataFrame(np.asarray(_load_npy(folder, entry["file"])), columns=list(entry["columns"]))
    if kind == "columns":
        holder = _named(type_name)()
        holder.columns = entry["columns"]
        return holder
    if kind == "iterator":
        holder = _named(type_name)()
        holder.batch_size = entry.get("batch_size")
        if "length" in entry:
            holder.x = None if entry["length"] is None else _Length(int(entry["length"]))
        else:
            holder.x = np.asarray(_load_npy(folder, entry["x"]))
            holder.y = None if entry.get("y") is None else np.asarray(_load_npy(folder, entry["y"]))
        return holder
    if kind == "datagen":
        settings = entry["settings"]
        if type_name == "ImageDataGenerator" and "<missing>" not in settings.values() \
                and settings.get("preprocessing_function") is None:
            from tensorflow.keras.preprocessing.image import ImageDataGenerator

            kwargs = {k: v for k, v in settings.items() if k in DATAGEN or k in DATAGEN_OFF}
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                return ImageDataGenerator(**kwargs)
        holder = _named(type_name)()
        holder.__dict__.update({k: v for k, v in settings.items() if v != "<missing>"})
        return holder
    if kind == "model":
        holder = _named(type_name)()
        holder.file = folder / entry["file"] if entry.get("file") else None
        holder.error = entry.get("error")
        return holder
    return _named(type_name)(entry.get("repr", entry.get("error", "")))


class CompiledModel:
    """What the compile exercise reads of a model, rebuilt from its saved file."""

    def __init__(self, config):
        self.compiled = config is not None
        self._config = config

    def get_compile_config(self):
        return self._config
