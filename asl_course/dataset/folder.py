"""Finding and loading an installed data folder: :func:`locate`, :func:`provenance`,
:func:`describe`, :func:`load_arrays` (what notebooks and tests call).
"""

from __future__ import annotations

import json
import os
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import numpy as np

from asl_course.errors import one_line
from asl_course.i18n import lookup, t
from .files import (COLUMNS, DATA_ENV, MARKER_FILE, NUM_CLASSES, REAL_DESCRIPTION, TRAIN_FILE, VALID_FILE,
                    DataError, DataNotFoundError, get_data_advice)


def default_dest() -> Path:
    """Where the data step writes by default: ``$ASL_DATA_DIR`` if set, else ``./data/asl_data``."""
    env = os.environ.get(DATA_ENV, "").strip()
    if env:
        return Path(env).expanduser().absolute()
    return Path.cwd() / "data" / "asl_data"


def _holds_data(folder: Path) -> bool:
    return (folder / TRAIN_FILE).is_file() and (folder / VALID_FILE).is_file()


def locate(data_dir=None) -> Path:
    """The course data folder: ``data_dir`` if given, else ``$ASL_DATA_DIR``, else the first
    ``data/asl_data`` holding both CSVs in the current folder or one of its parents.

    Raises :class:`DataNotFoundError` (with the commands that get the data) otherwise.
    """
    if data_dir is not None:
        folder = Path(data_dir).expanduser().absolute()
        if _holds_data(folder):
            return folder
        advice = (get_data_advice().replace("PATH`", f"PATH --dest {folder}`")
                  .replace("data fetch`", f"data fetch --dest {folder}`")
                  .replace("data synthetic`", f"data synthetic --dest {folder}`"))
        raise DataNotFoundError(t("No course data in {folder}: it should hold {train} and {valid}. {get_data}",
                                  folder=folder, train=TRAIN_FILE, valid=VALID_FILE, get_data=advice))
    env = os.environ.get(DATA_ENV, "").strip()
    if env:
        folder = Path(env).expanduser().absolute()
        if _holds_data(folder):
            return folder
        raise DataNotFoundError(t(
            "No course data in {folder} (named by ${env}): it should hold {train} and {valid}. {get_data} They "
            "write to ${env}; unset it to use ./data/asl_data instead.", folder=folder, env=DATA_ENV, train=TRAIN_FILE,
            valid=VALID_FILE, get_data=get_data_advice()))
    cwd = Path.cwd()
    for folder in (cwd, *cwd.parents):
        candidate = folder / "data" / "asl_data"
        if _holds_data(candidate):
            return candidate
    raise DataNotFoundError(t(
        "No course data found: ${env} is not set and no data/asl_data holding {train} and {valid} is in {cwd} or "
        "its parents. {get_data}", env=DATA_ENV, train=TRAIN_FILE, valid=VALID_FILE, cwd=cwd,
        get_data=get_data_advice()))


def read_marker(folder: Path) -> dict:
    path = folder / MARKER_FILE
    try:
        marker = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise DataError(
            f"{path} is missing, so where the data in {folder} came from is unknown. "
            "Re-create the folder with `asl-course data import PATH`, `asl-course data fetch` "
            "or `asl-course data synthetic`."
        ) from None
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise DataError(
            f"{path} cannot be read ({one_line(exc)}). Re-create the folder with "
            "`asl-course data import PATH`, `asl-course data fetch` or `asl-course data synthetic`."
        ) from None
    if not isinstance(marker, dict) or marker.get("kind") not in ("real", "synthetic"):
        raise DataError(
            f"{path} is not a marker written by asl-course (no kind 'real' or 'synthetic'). "
            "Re-create the folder with `asl-course data import PATH` or `asl-course data synthetic`."
        )
    return marker


def provenance(data_dir=None) -> dict:
    """The parsed ``SOURCE.json`` of the data folder (keys include ``kind`` and ``description``)."""
    return read_marker(locate(data_dir))


def describe(data_dir=None) -> str:
    """One line saying which data this is, for notebooks and reports to print."""
    marker = provenance(data_dir)
    rows = {name: info.get("rows") for name, info in marker.get("files", {}).items()}
    train, valid = rows.get(TRAIN_FILE), rows.get(VALID_FILE)
    counts = (
        t("{train:,} train / {valid:,} validation images", train=train, valid=valid)
        if isinstance(train, int) and isinstance(valid, int)
        else t("unknown image counts")
    )
    if marker["kind"] == "synthetic":
        return t("Data: SYNTHETIC STAND-IN made by asl_course (not the real data set): {counts} of procedurally drawn "
                 "hand shapes (seed {seed}). Figures from it are not results on Sign Language MNIST.",
                 counts=counts, seed=marker.get("seed"))
    description = lookup(marker.get("description", REAL_DESCRIPTION))
    if marker.get("imported"):
        line = t("Data: {description}: {counts}, imported {imported}.", description=description, counts=counts,
                 imported=marker["imported"])
    else:
        line = t("Data: {description}: {counts}.", description=description, counts=counts)
    if marker.get("checksums_match") is False:
        line += t(" Its files differ from the published release's checksums (imported with "
                  "--allow-checksum-mismatch).")
    return line


def load_arrays(data_dir=None) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """``(x_train, y_train, x_valid, y_valid)``: pixels uint8 ``(N, 784)``, course labels int64."""
    folder = locate(data_dir)
    with ThreadPoolExecutor(max_workers=2) as pool:  # the parser releases the GIL
        train = pool.submit(_load_course_csv, folder / TRAIN_FILE)
        valid = pool.submit(_load_course_csv, folder / VALID_FILE)
        (x_train, y_train), (x_valid, y_valid) = train.result(), valid.result()
    return x_train, y_train, x_valid, y_valid


def _load_course_csv(path: Path) -> tuple[np.ndarray, np.ndarray]:
    import pandas as pd

    fix = "Run `asl-course data check` to see what is wrong, then re-create the data folder."
    try:
        # Parsed as int64 and checked: several times faster than dtype=uint8 in pandas.
        frame = pd.read_csv(path, engine="c", index_col=False)
    except Exception as exc:  # noqa: BLE001 - any parse failure is bad data to the learner
        raise DataError(f"{path} cannot be read as course data ({one_line(exc)}). {fix}") from None
    if list(frame.columns) != COLUMNS:
        raise DataError(f"{path} does not have the header label,pixel1,...,pixel784. {fix}")
    if not all(pd.api.types.is_integer_dtype(t) for t in frame.dtypes.unique()):
        raise DataError(f"{path} has cells that are not integers. {fix}")
    values = frame.to_numpy()
    if len(values) and (values.min() < 0 or values[:, 1:].max() > 255):
        raise DataError(f"{path} has pixel values outside 0..255. {fix}")
    y = values[:, 0].astype(np.int64)
    if len(y) and y.max() >= NUM_CLASSES:
        raise DataError(
            f"{path} has label {int(y.max())}, outside the course numbering 0..23. {fix}"
        )
    return np.ascontiguousarray(values[:, 1:], dtype=np.uint8), y
