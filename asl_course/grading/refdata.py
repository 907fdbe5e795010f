"""The training plan the grader expects and the grader's reference data."""

from __future__ import annotations

import importlib.util
import json
import os
import sys
from pathlib import Path

import numpy as np

import dataclasses

from .expected import COLUMNS, GRADING_DIR_ENV, GRADING_PLAN_ENV, GradingFailed
from .arrays import sha


# --- Plan, reference data ----------------------------------------------------------------------


def _sibling(name: str):
    """A fresh copy of a learners' module (``asl_course/learners/<name>.py``, by path, not from ``sys.modules``)."""
    path = Path(__file__).parent.parent / "learners" / f"{name}.py"
    spec = importlib.util.spec_from_file_location(f"_asl_grading_{name}", path)
    module = importlib.util.module_from_spec(spec)
    # Registered before it runs: a dataclass looks its module up in sys.modules.
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module


def grading_mode() -> bool:
    """True while the autograder runs this (it sets the grading folder)."""
    return bool(os.environ.get(GRADING_DIR_ENV))


def plan(n_train: int | None = None) -> dict:
    """``{"fast", "epochs", "train_images"}``: the training the grader expects.

    Under the autograder it is the plan the autograder set; elsewhere the lesson's own plan
    (read from a fresh copy of ``lesson.py``).
    """
    text = os.environ.get(GRADING_PLAN_ENV)
    if text:
        got = json.loads(text)
    else:
        lesson = _sibling("lesson")
        run = lesson.run_plan()
        got = {"fast": run.fast, "epochs": run.epochs, "train_images": run.train_images, "data": _data_kind()}
    if n_train is not None:
        images = got.get("train_images")
        got["train_images"] = n_train if images is None else min(int(images), n_train)
    return got


@dataclasses.dataclass
class Reference:
    """The data the grader checks against: pixels uint8 (N, 784), labels 0..23."""

    x_train: np.ndarray
    y_train: np.ndarray
    x_valid: np.ndarray
    y_valid: np.ndarray

    def valid_images(self) -> np.ndarray:
        return (self.x_valid / 255.0).reshape(-1, 28, 28, 1).astype("float32")

    def digest(self, what: str) -> str:
        cache = self.__dict__.setdefault("_digests", {})
        if what not in cache:
            arrays = {
                "train_df": lambda: np.column_stack([self.y_train, self.x_train]),
                "valid_df": lambda: np.column_stack([self.y_valid, self.x_valid]),
                "x_train": lambda: self.x_train,
                "x_valid": lambda: self.x_valid,
                "y_train": lambda: self.y_train,
                "y_valid": lambda: self.y_valid,
            }
            cache[what] = sha(np.ascontiguousarray(arrays[what](), dtype=np.uint8))
        return cache[what]


_CACHE: dict = {}


def save_reference(ref: Reference, path: str | os.PathLike) -> None:
    np.savez(path, x_train=ref.x_train, y_train=ref.y_train, x_valid=ref.x_valid, y_valid=ref.y_valid)


def load_reference_npz(path: str | os.PathLike) -> Reference:
    with np.load(path, allow_pickle=False) as f:
        return Reference(*(np.asarray(f[k]) for k in ("x_train", "y_train", "x_valid", "y_valid")))


def load_reference_csv(folder: str | os.PathLike) -> Reference:
    """Parse the two course CSVs (header ``label,pixel1..pixel784``, labels 0..23)."""
    import pandas as pd

    out = []
    for name in ("sign_mnist_train.csv", "sign_mnist_valid.csv"):
        frame = pd.read_csv(Path(folder) / name, engine="c", dtype=np.uint8, index_col=False)
        if list(frame.columns) != COLUMNS:
            raise GradingFailed(f"the grader's copy of {name} has an unexpected header.")
        values = frame.to_numpy()
        out += [np.ascontiguousarray(values[:, 1:]), values[:, 0].astype(np.int64)]
    return Reference(*out)


def _data_folder() -> Path:
    env = os.environ.get("ASL_DATA_DIR", "").strip()
    if env:
        return Path(env)
    for folder in (Path.cwd(), *Path.cwd().parents):
        if (folder / "data" / "asl_data" / "sign_mnist_train.csv").is_file():
            return folder / "data" / "asl_data"
    return Path(__file__).resolve().parent.parent.parent / "data" / "asl_data"


def _data_kind() -> str:
    """``real`` or ``synthetic``: what the data folder's SOURCE.json says."""
    try:
        return json.loads((_data_folder() / "SOURCE.json").read_text()).get("kind", "real")
    except (OSError, ValueError):
        return "real"


def reference() -> Reference:
    """The grader's reference data: the autograder's ``reference.npz``, else the CSV files."""
    folder = os.environ.get(GRADING_DIR_ENV)
    if folder and (Path(folder) / "reference.npz").is_file():
        key = ("npz", folder)
        if key not in _CACHE:
            _CACHE[key] = load_reference_npz(Path(folder) / "reference.npz")
        return _CACHE[key]
    data = _data_folder()
    # Outside the autograder, share the parsed CSVs between fresh copies of this module.
    shared = sys.modules.setdefault("_asl_grading_cache", type(sys)("_asl_grading_cache")).__dict__
    key = ("csv", str(data.resolve()))
    if key not in shared:
        shared[key] = load_reference_csv(data)
    return shared[key]
