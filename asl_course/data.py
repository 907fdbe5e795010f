"""The course's data step: get Sign Language MNIST, verify it, convert it, find it again.

The real data set is the public Kaggle release ``datamunge/sign-language-mnist`` (CC0):
two CSV files, ``sign_mnist_train.csv`` (27,455 rows) and ``sign_mnist_test.csv``
(7,172 rows), each with the header ``label,pixel1,...,pixel784``. The release numbers its
labels A=0 ... Y=24 and never uses 9 (J, which needs motion). The course numbers its 24
classes contiguously, 0..23 (see :data:`LETTERS`), and calls the test file its validation
set. :func:`import_release` checks the release (schema, row counts, published checksums)
before it writes anything, converts the labels, and writes, atomically::

    DEST/sign_mnist_train.csv   course labels 0..23, LF line endings
    DEST/sign_mnist_valid.csv   (the release's test file)
    DEST/SOURCE.json            where the data came from (see :func:`provenance`)

:func:`write_synthetic` writes a small, clearly labelled stand-in in the same layout for
offline work (see :mod:`asl_course.synthetic`). Notebooks use :func:`locate`,
:func:`load_arrays` and :func:`describe`; ``asl-course data check`` uses :func:`check`.
"""

from __future__ import annotations

import datetime as _dt
import gzip
import hashlib
import io
import json
import os
import re
import shutil
import time
import uuid
import zipfile
import zlib
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Iterable

import numpy as np

from asl_course import __version__, facts as _facts
from asl_course.errors import UserError, one_line

# --------------------------------------------------------------------------------------
# Constants (names are part of the public API)

#: Course label ``i`` is the letter ``LETTERS[i]``: 24 classes, no J and no Z (they move).
#: (The lesson's facts live in :mod:`asl_course.facts`; these names are kept for the notebooks.)
LETTERS = _facts.LETTERS
NUM_CLASSES = _facts.NUM_CLASSES
IMAGE_SIZE = _facts.IMAGE_SIZE
#: File names inside a course data folder.
TRAIN_FILE = "sign_mnist_train.csv"
VALID_FILE = "sign_mnist_valid.csv"
MARKER_FILE = "SOURCE.json"
#: Environment variable naming the data folder (overrides the search for ``data/asl_data``).
DATA_ENV = "ASL_DATA_DIR"

#: The Kaggle data set and its page (for people downloading by hand).
KAGGLE_DATASET = "datamunge/sign-language-mnist"
KAGGLE_URL = "https://www.kaggle.com/datasets/datamunge/sign-language-mnist"
#: Names of the two files in the release.
RELEASE_FILES = {"train": "sign_mnist_train.csv", "test": "sign_mnist_test.csv"}
#: sha256 of the release's CSV files, unpacked, byte for byte as published (CRLF endings).
RELEASE_SHA256 = {
    "train": "4c2897f19fab2b0ae2a7e4fa82e969043315d9f3a1a9cc0948b576bf1189a7e5",
    "test": "0e9d67bae23e67f40728e0b63bf15ad4bd5175947b8a9fac5dd9f17ce133c47b",
}
#: Data rows (header excluded) of the release's files.
RELEASE_ROWS = {"train": _facts.TRAIN_IMAGES, "test": _facts.VALID_IMAGES}
#: What the release's test file becomes in a course data folder.
COURSE_FILES = {"train": TRAIN_FILE, "test": VALID_FILE}

NUM_PIXELS = _facts.NUM_PIXELS
COLUMNS = ["label"] + [f"pixel{i}" for i in range(1, NUM_PIXELS + 1)]
HEADER = ",".join(COLUMNS)
_HEADER_BYTES = HEADER.encode("ascii")
#: Release labels (0..24 without 9, J) in course order: course label i is release RELEASE_LABELS[i].
RELEASE_LABELS = _facts.RELEASE_LABELS

REAL_DESCRIPTION = "real Sign Language MNIST release (Kaggle datamunge/sign-language-mnist, CC0)"
SYNTHETIC_DESCRIPTION = (
    "SYNTHETIC STAND-IN made by asl_course (not the real data set): procedurally drawn "
    "hand-like shapes, one shape per letter. Figures from it are not results on Sign "
    "Language MNIST."
)

_GET_DATA = (
    "Get the data with one of: `asl-course data fetch` (downloads the release from Kaggle), "
    "`asl-course data import PATH` (the files or the zip downloaded by hand from "
    f"{KAGGLE_URL}), or `asl-course data synthetic` (an offline stand-in, not the real data)."
)


class DataError(UserError):
    """Bad or missing data: the message names the file, the problem, and what to do."""


class DataNotFoundError(DataError):
    """No course data folder where one was looked for."""


Log = Callable[[str], object]

# --------------------------------------------------------------------------------------
# Labels


def _label_array(label, what: str) -> np.ndarray:
    arr = np.asarray(label)
    if arr.dtype == bool or not np.issubdtype(arr.dtype, np.integer):
        raise DataError(f"{what} labels must be integers, got {label!r} ({arr.dtype}).")
    return arr.astype(np.int64, copy=False)


def _same_kind(label, out: np.ndarray):
    return out if isinstance(label, np.ndarray) or np.ndim(label) else int(out)


def release_to_course_label(label):
    """Release label (A=0 ... Y=24, no 9) -> course label 0..23. Ints or numpy arrays.

    0..8 stay, 10..24 become 9..23; 9 (J) and anything outside 0..24 raise :class:`DataError`.
    """
    arr = _label_array(label, "release")
    bad = (arr < 0) | (arr > 24) | (arr == 9)
    if bad.any():
        value = int(arr[bad].flat[0])
        raise DataError(
            f"release label {value} is not in the release numbering (0..24 without 9 = J; "
            "A=0 ... Y=24)."
        )
    return _same_kind(label, np.where(arr > 9, arr - 1, arr))


def course_to_release_label(label):
    """Course label 0..23 -> release label (0..8 stay, 9..23 become 10..24). Ints or arrays."""
    arr = _label_array(label, "course")
    bad = (arr < 0) | (arr >= NUM_CLASSES)
    if bad.any():
        value = int(arr[bad].flat[0])
        raise DataError(f"course label {value} is outside 0..{NUM_CLASSES - 1}.")
    return _same_kind(label, np.where(arr >= 9, arr + 1, arr))


def letter(course_label: int) -> str:
    """The letter of a course label: ``letter(0) == "A"``, ``letter(9) == "K"``, ``letter(23) == "Y"``."""
    try:
        index = int(course_label)
    except (TypeError, ValueError):
        raise DataError(f"course label must be an integer 0..23, got {course_label!r}.") from None
    if index != course_label or not 0 <= index < NUM_CLASSES:
        raise DataError(f"course label must be an integer 0..23, got {course_label!r}.")
    return LETTERS[index]


# --------------------------------------------------------------------------------------
# Finding the data


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
        raise DataNotFoundError(
            f"No course data in {folder}: it should hold {TRAIN_FILE} and {VALID_FILE}. "
            + _GET_DATA.replace("PATH`", f"PATH --dest {folder}`")
            .replace("data fetch`", f"data fetch --dest {folder}`")
            .replace("data synthetic`", f"data synthetic --dest {folder}`")
        )
    env = os.environ.get(DATA_ENV, "").strip()
    if env:
        folder = Path(env).expanduser().absolute()
        if _holds_data(folder):
            return folder
        raise DataNotFoundError(
            f"No course data in {folder} (named by ${DATA_ENV}): it should hold {TRAIN_FILE} "
            f"and {VALID_FILE}. {_GET_DATA} They write to ${DATA_ENV}; unset it to use "
            "./data/asl_data instead."
        )
    cwd = Path.cwd()
    for folder in (cwd, *cwd.parents):
        candidate = folder / "data" / "asl_data"
        if _holds_data(candidate):
            return candidate
    raise DataNotFoundError(
        f"No course data found: ${DATA_ENV} is not set and no data/asl_data holding {TRAIN_FILE} "
        f"and {VALID_FILE} is in {cwd} or its parents. {_GET_DATA}"
    )


def _read_marker(folder: Path) -> dict:
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
            f"{path} cannot be read ({_one_line(exc)}). Re-create the folder with "
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
    return _read_marker(locate(data_dir))


def describe(data_dir=None) -> str:
    """One line saying which data this is, for notebooks and reports to print."""
    marker = provenance(data_dir)
    rows = {name: info.get("rows") for name, info in marker.get("files", {}).items()}
    train, valid = rows.get(TRAIN_FILE), rows.get(VALID_FILE)
    counts = (
        f"{train:,} train / {valid:,} validation images"
        if isinstance(train, int) and isinstance(valid, int)
        else "unknown image counts"
    )
    if marker["kind"] == "synthetic":
        seed = marker.get("seed")
        return (
            "Data: SYNTHETIC STAND-IN made by asl_course (not the real data set): "
            f"{counts} of procedurally drawn hand shapes (seed {seed}). "
            "Figures from it are not results on Sign Language MNIST."
        )
    line = f"Data: {marker.get('description', REAL_DESCRIPTION)}: {counts}"
    if marker.get("imported"):
        line += f", imported {marker['imported']}"
    line += "."
    if marker.get("checksums_match") is False:
        line += (
            " Its files differ from the published release's checksums (imported with "
            "--allow-checksum-mismatch)."
        )
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
        raise DataError(f"{path} cannot be read as course data ({_one_line(exc)}). {fix}") from None
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


# --------------------------------------------------------------------------------------
# Checking CSV bytes


def _one_line(exc: BaseException | str, limit: int = 300) -> str:
    return one_line(exc, limit)


def sha256_bytes(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def _line_of_row(data: bytes, row: int) -> int:
    """1-based line number of data row ``row`` (0-based), skipping blank lines like pandas."""
    seen = -1
    for number, line in enumerate(data.split(b"\n"), start=1):
        if number == 1:
            continue
        if line.strip():
            seen += 1
            if seen == row:
                return number
    return row + 2


def _check_header(data: bytes, name: str) -> None:
    if not data.strip():
        raise DataError(
            f"{name} is empty ({len(data)} bytes). The download or copy failed: get the file again."
        )
    end = data.find(b"\n")
    first = (data if end < 0 else data[:end]).rstrip(b"\r")
    if first == _HEADER_BYTES:
        return
    text = first[:100_000].decode("latin-1")
    fields = text.split(",")
    expected = "label,pixel1,...,pixel784"
    if first.startswith(b"\xef\xbb\xbf"):
        problem = "it starts with a UTF-8 byte-order mark (re-saved by an editor or spreadsheet?)"
    elif fields and re.fullmatch(r"\s*-?\d+(\.\d*)?\s*", fields[0]):
        problem = f"its first line is data ({text[:40]!r}...), not the header"
    elif len(fields) != len(COLUMNS):
        problem = f"its header has {len(fields)} columns, not {len(COLUMNS)}"
    else:
        index = next(i for i, (a, b) in enumerate(zip(fields, COLUMNS)) if a != b)
        problem = f"header column {index + 1} is {fields[index][:40]!r}, not {COLUMNS[index]!r}"
    raise DataError(
        f"{name} does not start with the header {expected}: {problem}. This is not a "
        "Sign Language MNIST CSV (or it was edited): get the file again from the release."
    )


def _cell_problem(frame, data: bytes, name: str) -> DataError | None:
    """The first cell that is not an integer (missing, text, fraction), as a DataError."""
    import pandas as pd

    first: tuple[int, int, str] | None = None  # (row, column, kind)
    for col_index, column in enumerate(frame.columns):
        series = frame[column]
        if pd.api.types.is_integer_dtype(series.dtype):
            continue
        if pd.api.types.is_float_dtype(series.dtype):
            values = series.to_numpy()
            missing = np.isnan(values)
            fraction = ~missing & (values != np.floor(values))
            bad = missing | fraction
            row = int(np.argmax(bad))
            kind = "missing" if missing[row] else "fraction"
        else:
            numeric = pd.to_numeric(series, errors="coerce")
            raw_missing = series.isna().to_numpy()
            bad = numeric.isna().to_numpy() | raw_missing
            if not bad.any():  # numbers too large for int64 end up here
                values = numeric.to_numpy(dtype=float)
                bad = (values < 0) | (values > 255) | (values != np.floor(values))
                if not bad.any():
                    continue
                row = int(np.argmax(bad))
                kind = "range"
            else:
                row = int(np.argmax(bad))
                kind = "missing" if raw_missing[row] else "text"
        if first is None or row < first[0] or (row == first[0] and col_index < first[1]):
            first = (row, col_index, kind)
    if first is None:
        return None
    row, col_index, kind = first
    line = _line_of_row(data, row)
    column = frame.columns[col_index]
    value = frame.iat[row, col_index]
    what = "labels" if col_index == 0 else "pixels"
    if kind == "missing":
        present = int(frame.iloc[row].notna().sum())
        trailing = not frame.iloc[row, col_index:].notna().any()
        last_row = row == len(frame) - 1
        if trailing and last_row and not data.rstrip(b" \t").endswith(b"\n"):
            return DataError(
                f"{name} is truncated: its last line (line {line}) stops after {present} of "
                f"{len(COLUMNS)} values, so the file was cut off (an interrupted download or "
                "copy). Get the file again."
            )
        if trailing:
            return DataError(
                f"{name}, line {line}: the row has only {present} of {len(COLUMNS)} values "
                f"(label + {NUM_PIXELS} pixels). The file is damaged: get it again."
            )
        return DataError(
            f"{name}, line {line}, column {column}: the cell is empty; {what} must be integers. "
            "The file is damaged or edited: get it again."
        )
    shown = repr(str(value)[:30])
    rule = "an integer 0..255" if col_index else "an integer label"
    return DataError(
        f"{name}, line {line}, column {column}: {shown} is not {rule}. The file is damaged "
        "or edited: get it again."
    )


def validate_csv(data: bytes, name: str, numbering: str = "release") -> np.ndarray:
    """Check one CSV (bytes) and return its values as uint8 ``(rows, 785)``, labels unchanged.

    ``numbering`` is ``"release"`` (labels 0..24 without 9) or ``"course"`` (0..23).
    Checks: header ``label,pixel1..pixel784``; every row complete; every cell an integer;
    pixels 0..255; labels in the numbering. Raises :class:`DataError` naming ``name``, the
    line and the column. Row counts and checksums are the caller's business.
    """
    import pandas as pd  # noqa: F811 - imported here so that `import asl_course.data` stays light

    _check_header(data, name)
    try:
        frame = pd.read_csv(
            io.BytesIO(data), engine="c", index_col=False, low_memory=False, encoding="latin-1"
        )
    except pd.errors.ParserError as exc:
        match = re.search(r"Expected (\d+) fields in line (\d+), saw (\d+)", str(exc))
        if match:
            raise DataError(
                f"{name}, line {match.group(2)}: the row has {match.group(3)} values, more than "
                f"the {len(COLUMNS)} of the header. The file is damaged or edited: get it again."
            ) from None
        raise DataError(f"{name} is not a readable CSV ({_one_line(exc)}). Get it again.") from None
    except Exception as exc:  # noqa: BLE001
        raise DataError(f"{name} is not a readable CSV ({_one_line(exc)}). Get it again.") from None
    if len(frame) == 0:
        raise DataError(f"{name} has a header but no data rows. Get the file again.")
    problem = _cell_problem(frame, data, name)
    if problem is not None:
        raise problem
    values = frame.to_numpy(dtype=np.int64, copy=False)
    pixels = values[:, 1:]
    bad = (pixels < 0) | (pixels > 255)
    if bad.any():
        row, col = np.unravel_index(int(np.argmax(bad)), bad.shape)
        raise DataError(
            f"{name}, line {_line_of_row(data, int(row))}, column pixel{col + 1}: "
            f"{int(pixels[row, col])} is not a pixel value; pixels must be integers 0..255. "
            "The file is damaged or edited: get it again."
        )
    labels = values[:, 0]
    if numbering == "release":
        bad = (labels < 0) | (labels > 24) | (labels == 9)
    else:
        bad = (labels < 0) | (labels >= NUM_CLASSES)
    if bad.any():
        row = int(np.argmax(bad))
        value = int(labels[row])
        line = _line_of_row(data, row)
        if numbering == "course":
            raise DataError(
                f"{name}, line {line}: label {value} is outside the course numbering 0..23. "
                "Re-create the data folder with `asl-course data import` or `asl-course data synthetic`."
            )
        if value == 9:
            hint = "9 would be J, which the release never uses (A=0 ... Y=24 without 9)"
            if labels.min() >= 0 and labels.max() <= 23:
                hint += (
                    "; the labels run 0..23, so this looks like a file already converted to "
                    "the course numbering: import the release files as downloaded"
                )
        else:
            hint = "the release numbers its labels 0..24 (A..Y) without 9 (J)"
        raise DataError(
            f"{name}, line {line}: label {value} is not a release label: {hint}. "
            "Get the file again from the release."
        )
    return values.astype(np.uint8)


# --------------------------------------------------------------------------------------
# Writing CSV bytes fast

_TOKENS = np.zeros((256, 4), np.uint8)
_TOKEN_LENGTHS = np.zeros(256, np.int64)
for _value in range(256):
    _token = f"{_value},".encode("ascii")
    _TOKENS[_value, : len(_token)] = np.frombuffer(_token, np.uint8)
    _TOKEN_LENGTHS[_value] = len(_token)
del _value, _token


def encode_csv(values: np.ndarray, chunk_rows: int = 4096) -> bytes:
    """CSV bytes (header, LF endings) for uint8 rows ``(N, 785)`` of label + pixels.

    Vectorised: every value is a 2..4 byte token ``"<digits>,"`` copied into one buffer, and
    the last comma of each row becomes the newline.
    """
    values = np.asarray(values)
    if values.ndim != 2 or values.shape[1] != len(COLUMNS):
        raise ValueError(f"expected rows of {len(COLUMNS)} values, got shape {values.shape}")
    values = values.astype(np.uint8, copy=False)
    parts = [_HEADER_BYTES + b"\n"]
    width = values.shape[1]
    for start in range(0, len(values), chunk_rows):
        flat = values[start : start + chunk_rows].ravel()
        lengths = _TOKEN_LENGTHS[flat]
        ends = np.cumsum(lengths)
        starts = ends - lengths
        out = np.empty(int(ends[-1]), np.uint8)
        out[starts] = _TOKENS[flat, 0]
        out[starts + 1] = _TOKENS[flat, 1]
        for k in (2, 3):
            sel = lengths > k
            out[starts[sel] + k] = _TOKENS[flat[sel], k]
        out[ends[width - 1 :: width] - 1] = ord("\n")
        parts.append(out.tobytes())
    return b"".join(parts)


# --------------------------------------------------------------------------------------
# Writing a data folder atomically


def _check_dest(dest: Path) -> None:
    """Refuse a destination that is a file or holds anything but a course data folder's files."""
    if dest.exists() and not dest.is_dir():
        raise DataError(f"{dest} exists and is not a folder: choose another --dest.")
    if dest.is_dir():
        ours = {TRAIN_FILE, VALID_FILE, MARKER_FILE}
        others = sorted(p.name for p in dest.iterdir() if p.name not in ours)
        if others:
            shown = ", ".join(others[:5]) + (", ..." if len(others) > 5 else "")
            raise DataError(
                f"{dest} already holds other files ({shown}); the data step replaces the whole "
                "folder, so it only writes to a new or empty folder or one it made. Choose "
                "another --dest (nothing was changed)."
            )


def _clean_stale(dest: Path) -> None:
    """Tidy up after a data step that was killed mid-swap: its temporary siblings of ``dest``
    (``.NAME.new-PID-...``, ``.NAME.old-PID-...``, PID no longer running) are deleted, except
    that an old copy is put back when ``dest`` itself is missing."""
    if not dest.parent.is_dir():
        return
    pattern = re.compile(rf"^\.{re.escape(dest.name)}\.(new|old)-(\d+)-[0-9a-f]{{8}}$")
    for sibling in sorted(dest.parent.iterdir()):
        match = pattern.match(sibling.name)
        if not match or _pid_alive(int(match.group(2))):
            continue
        if match.group(1) == "old" and not dest.exists():
            os.rename(sibling, dest)
        else:
            shutil.rmtree(sibling, ignore_errors=True)


def _pid_alive(pid: int) -> bool:
    if pid == os.getpid():
        return True
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except OSError:  # exists but is not ours (PermissionError), or cannot tell
        return True
    return True


def _install(dest: Path, files: dict[str, bytes], marker: dict) -> None:
    """Write ``files`` and the marker into ``dest``: all of it, or nothing.

    Everything goes into a temporary sibling folder first; then the old folder (if any) is
    renamed aside, the new one renamed into place, and the old one deleted.
    """
    _check_dest(dest)
    try:
        _clean_stale(dest)
    except OSError:
        pass  # only tidying; the swap below does not depend on it
    parent = dest.parent
    tag = f"{os.getpid()}-{uuid.uuid4().hex[:8]}"
    new = parent / f".{dest.name}.new-{tag}"
    old = parent / f".{dest.name}.old-{tag}"
    try:
        parent.mkdir(parents=True, exist_ok=True)
        new.mkdir()
        for name, data in files.items():
            with open(new / name, "wb") as handle:
                handle.write(data)
                handle.flush()
                os.fsync(handle.fileno())
        with open(new / MARKER_FILE, "w", encoding="utf-8", newline="\n") as handle:
            handle.write(json.dumps(marker, indent=2) + "\n")
        moved_aside = False
        if dest.exists():
            os.rename(dest, old)
            moved_aside = True
        try:
            os.rename(new, dest)
        except BaseException:
            if moved_aside:
                os.rename(old, dest)
            raise
    except OSError as exc:
        shutil.rmtree(new, ignore_errors=True)
        raise DataError(
            f"Could not write the data to {dest} ({_one_line(exc)}); nothing there was changed. "
            "Check the folder's permissions and free space, or choose another --dest."
        ) from None
    except BaseException:
        shutil.rmtree(new, ignore_errors=True)
        raise
    shutil.rmtree(old, ignore_errors=True)


def _file_entry(data: bytes, rows: int) -> dict:
    return {"sha256": sha256_bytes(data), "rows": rows, "bytes": len(data)}


# --------------------------------------------------------------------------------------
# Reading the release's files from CSVs, .csv.gz, zips and folders

_RELEASE_NAME = re.compile(r"^sign_mnist_(train|test)(?: ?\(\d+\))?\.csv(\.gz)?$", re.IGNORECASE)


@dataclass
class _Source:
    role: str  # "train" or "test"
    path: Path
    member: str | None = None  # name inside a zip
    size: int | None = None  # unpacked size, when known without reading
    crc: int | None = None  # zip CRC32, when known

    @property
    def label(self) -> str:
        return f"{self.path}:{self.member}" if self.member else str(self.path)

    @property
    def name(self) -> str:
        return RELEASE_FILES[self.role]

    def read(self) -> bytes:
        try:
            if self.member is not None:
                with zipfile.ZipFile(self.path) as archive:
                    data = archive.read(self.member)
            elif self.path.name.lower().endswith(".gz"):
                with gzip.open(self.path, "rb") as handle:
                    data = handle.read()
            else:
                data = self.path.read_bytes()
        except FileNotFoundError:
            raise DataError(f"{self.label}: no such file. Check the path and try again.") from None
        except (OSError, EOFError, zlib.error, zipfile.BadZipFile, gzip.BadGzipFile) as exc:
            raise DataError(
                f"{self.label} cannot be unpacked ({_one_line(exc)}): the download is damaged "
                "or incomplete. Get the file again."
            ) from None
        return data


def _zip_sources(path: Path) -> list[_Source]:
    try:
        with zipfile.ZipFile(path) as archive:
            infos = archive.infolist()
    except (OSError, zipfile.BadZipFile) as exc:
        raise DataError(
            f"{path} is not a readable zip ({_one_line(exc)}): the download is damaged or "
            "incomplete. Get it again."
        ) from None
    found = []
    for info in infos:
        parts = info.filename.split("/")
        base = parts[-1]
        if info.is_dir() or "__MACOSX" in parts or base.startswith("._"):
            continue
        match = _RELEASE_NAME.match(base)
        if match and not match.group(2):
            found.append(_Source(match.group(1).lower(), path, info.filename, info.file_size, info.CRC))
    if not found:
        names = [i.filename for i in infos if not i.is_dir()]
        shown = ", ".join(names[:6]) + (", ..." if len(names) > 6 else "") if names else "nothing"
        raise DataError(
            f"{path} holds no sign_mnist_train.csv or sign_mnist_test.csv (it holds: {shown}). "
            f"Download the Sign Language MNIST zip from {KAGGLE_URL} and import that."
        )
    return found


_SKIP_DIRS = {"__MACOSX", "__pycache__", "node_modules", "site-packages"}


def _walk_files(root: Path) -> list[Path]:
    """Files under ``root``, sorted; hidden folders (.git, .venv, ...) and our own data
    folders' temporary siblings are not searched."""
    found = []
    for folder, dirs, files in os.walk(root):
        dirs[:] = sorted(d for d in dirs if not d.startswith(".") and d not in _SKIP_DIRS)
        found.extend(Path(folder) / f for f in sorted(files) if not f.startswith("._"))
    return found


def _collect_sources(paths) -> dict[str, list[_Source]]:
    if isinstance(paths, (str, os.PathLike)):
        paths = [paths]
    paths = [Path(p).expanduser() for p in paths]
    if not paths:
        raise DataError(
            "No input given: pass the release's sign_mnist_train.csv and sign_mnist_test.csv, "
            "the zip from Kaggle, or a folder holding them."
        )
    found: dict[str, list[_Source]] = {"train": [], "test": []}
    for path in paths:
        if path.is_dir():
            sources = []
            for item in _walk_files(path):
                match = _RELEASE_NAME.match(item.name)
                if match:
                    sources.append(_Source(match.group(1).lower(), item))
                elif item.suffix.lower() == ".zip":
                    sources.extend(_zip_sources(item))
            if not sources:
                raise DataError(
                    f"Found no sign_mnist_train.csv / sign_mnist_test.csv (or .csv.gz, or a zip "
                    f"holding them) in the folder {path} (searched all its subfolders). Download "
                    f"them from {KAGGLE_URL} and pass their folder or the files."
                )
        elif path.is_file():
            match = _RELEASE_NAME.match(path.name)
            if match:
                sources = [_Source(match.group(1).lower(), path)]
            elif path.suffix.lower() == ".zip" or zipfile.is_zipfile(path):
                sources = _zip_sources(path)
            else:
                raise DataError(
                    f"{path}: cannot tell which release file this is. The import takes "
                    "sign_mnist_train.csv and sign_mnist_test.csv as the release names them "
                    "(or .csv.gz), the zip from Kaggle, or a folder holding them."
                )
        else:
            raise DataError(
                f"{path}: no such file or folder. Pass the release's sign_mnist_train.csv and "
                f"sign_mnist_test.csv, the zip from Kaggle ({KAGGLE_URL}), or their folder."
            )
        for source in sources:
            found[source.role].append(source)
    for role in ("train", "test"):
        if not found[role]:
            other = [s.label for s in found["test" if role == "train" else "train"]]
            raise DataError(
                f"No {RELEASE_FILES[role]} among the inputs (found only {', '.join(other)}). "
                f"The release has two files; pass both (or the zip from Kaggle, {KAGGLE_URL})."
            )
    return found


def _read_role(sources: list[_Source]) -> tuple[_Source, bytes]:
    """Read the one file for a role; several identical copies are fine, different ones are not."""
    first = sources[0]
    if len(sources) > 1 and all(s.crc is not None for s in sources):
        if len({(s.size, s.crc) for s in sources}) == 1:
            return first, first.read()
    data = first.read()
    digest = sha256_bytes(data) if len(sources) > 1 else None
    for other in sources[1:]:
        if sha256_bytes(other.read()) != digest:
            raise DataError(
                f"Found two different {first.name} files: {first.label} and {other.label}. "
                "Pass the one you mean."
            )
    return first, data


# --------------------------------------------------------------------------------------
# Import


ROLES = ("train", "test")


def _both(work: Callable[[str], object]) -> dict:
    """``{role: work(role)}`` for train and test, side by side in two threads (unpacking,
    hashing, parsing and encoding release the GIL for much of their time). An error from
    train is raised before one from test."""
    with ThreadPoolExecutor(max_workers=2) as pool:
        futures = {role: pool.submit(work, role) for role in ROLES}
        return {role: futures[role].result() for role in ROLES}


def _swapped(role: str, label: str, why: str) -> DataError:
    other = "test" if role == "train" else "train"
    return DataError(
        f"{label} is named {RELEASE_FILES[role]} but {why}: the train and test files look "
        f"swapped (renamed?). Name the {RELEASE_ROWS['train']:,}-row file "
        f"{RELEASE_FILES['train']} and the {RELEASE_ROWS['test']:,}-row file "
        f"{RELEASE_FILES['test']}, or get both again (this {RELEASE_FILES[role]} is the "
        f"release's {RELEASE_FILES[other]})."
    )


def _already_imported(dest: Path, digests: dict[str, str], allow_mismatch: bool) -> dict | None:
    try:
        marker = _read_marker(dest)
    except DataError:
        return None
    release = marker.get("release", {})
    if marker.get("kind") != "real":
        return None
    if any(release.get(role, {}).get("sha256") != digests[role] for role in ("train", "test")):
        return None
    if not marker.get("checksums_match", False) and not allow_mismatch:
        return None
    def same(role):
        name = COURSE_FILES[role]
        expected = marker.get("files", {}).get(name, {}).get("sha256")
        try:
            return expected is not None and sha256_file(dest / name) == expected
        except OSError:
            return False

    return marker if all(_both(same).values()) else None


def sha256_file(path: Path) -> str:
    with open(path, "rb") as handle:
        return hashlib.file_digest(handle, "sha256").hexdigest()


def _read_release(found: dict[str, list[_Source]], log: Log) -> tuple[dict, dict, dict]:
    """The two files' sources, bytes and sha256, read side by side; swapped files refused."""

    def read(role):
        source, content = _read_role(found[role])
        return source, content, sha256_bytes(content)

    got = _both(read)
    chosen = {role: got[role][0] for role in ROLES}
    raw = {role: got[role][1] for role in ROLES}
    digests = {role: got[role][2] for role in ROLES}
    for role in ROLES:
        other = "test" if role == "train" else "train"
        if digests[role] == RELEASE_SHA256[other]:
            raise _swapped(role, chosen[role].label, f"it is byte for byte the release's {RELEASE_FILES[other]}")
        log(f"Read {chosen[role].label} ({len(raw[role]):,} bytes).")
    return chosen, raw, digests


def _check_against_release(chosen: dict, rows: dict, digests: dict, allow_mismatch: bool) -> bool:
    """Row counts and checksums against the published release; True when both match.

    Swapped files are refused; another version of the data set only with ``allow_mismatch``.
    """
    for role in ROLES:
        other = "test" if role == "train" else "train"
        if rows[role] != RELEASE_ROWS[role] and rows[role] == RELEASE_ROWS[other]:
            raise _swapped(role, chosen[role].label, f"it has {rows[role]:,} rows, as many as the release's {RELEASE_FILES[other]}")
    if rows["train"] < rows["test"]:
        raise _swapped("train", chosen["train"].label, f"it has fewer rows ({rows['train']:,}) than {chosen['test'].label} ({rows['test']:,})")
    checksums_ok = {role: digests[role] == RELEASE_SHA256[role] for role in ROLES}
    for role in ROLES:
        if rows[role] != RELEASE_ROWS[role] and not allow_mismatch:
            raise DataError(
                f"{chosen[role].label} has {rows[role]:,} data rows; the release's "
                f"{RELEASE_FILES[role]} has {RELEASE_ROWS[role]:,}. If the download was cut "
                "short, get the file again; to import a different version of the data set "
                "anyway, re-run with --allow-checksum-mismatch (allow_checksum_mismatch=True)."
            )
    for role in ROLES:
        if not checksums_ok[role] and not allow_mismatch:
            raise DataError(
                f"{chosen[role].label} is well-formed but its sha256 ({digests[role][:16]}...) "
                f"is not the published release's ({RELEASE_SHA256[role][:16]}...): it is another "
                "version or was modified (e.g. re-saved with other line endings). Get the file "
                "again; to import it anyway, re-run with --allow-checksum-mismatch "
                "(allow_checksum_mismatch=True)."
            )
    return all(checksums_ok.values()) and all(rows[r] == RELEASE_ROWS[r] for r in ROLES)


def _release_marker(chosen: dict, raw: dict, digests: dict, rows: dict, files: dict, matched: bool) -> dict:
    """What ``SOURCE.json`` records of an import: the files read, their checksums, the label mapping."""
    now = _dt.datetime.now(_dt.timezone.utc)
    return {
        "kind": "real",
        "description": REAL_DESCRIPTION,
        "source": {role: chosen[role].label for role in ROLES},
        "imported": now.date().isoformat(),
        "imported_at": now.isoformat(timespec="seconds"),
        "checksums_match": matched,
        "release": {
            role: {
                "file": RELEASE_FILES[role],
                "sha256": digests[role],
                "published_sha256": RELEASE_SHA256[role],
                "rows": rows[role],
                "published_rows": RELEASE_ROWS[role],
                "bytes": len(raw[role]),
            }
            for role in ROLES
        },
        "files": {
            COURSE_FILES[role]: {**_file_entry(files[COURSE_FILES[role]], rows[role]), "from": RELEASE_FILES[role]}
            for role in ROLES
        },
        "label_mapping": {
            "release_to_course": {str(r): c for c, r in enumerate(RELEASE_LABELS)},
            "letters": LETTERS,
            "note": "course label i is LETTERS[i]; release 0..8 stay, 10..24 become 9..23 (9, J, is unused)",
        },
        "asl_course_version": __version__,
    }


def import_release(paths, dest=None, *, allow_checksum_mismatch=False, log: Log = print) -> dict:
    """Verify the release's two CSVs and write them, converted, to ``dest``; return the marker.

    ``paths``: one path or a list of them: ``sign_mnist_train.csv`` and ``sign_mnist_test.csv``
    (or their ``.csv.gz``), the zip from Kaggle, or a folder holding any of these. Nothing is
    written unless both files pass every check (header, complete rows of integers, pixels
    0..255, release labels, row counts, published sha256); a checksum mismatch is accepted
    only with ``allow_checksum_mismatch=True`` (then row counts may differ too; the marker
    records it). If ``dest`` already holds exactly this data, nothing is done.
    """
    started = time.perf_counter()
    dest = Path(dest).expanduser().absolute() if dest is not None else default_dest()
    _check_dest(dest)
    chosen, raw, digests = _read_release(_collect_sources(paths), log)

    existing = _already_imported(dest, digests, allow_checksum_mismatch)
    if existing is not None:
        log(
            f"{dest} already holds this release, verified (checksums match the files there): "
            f"nothing to do ({time.perf_counter() - started:.1f} s)."
        )
        return existing

    values = _both(lambda role: validate_csv(raw[role], chosen[role].label, numbering="release"))
    rows = {role: len(values[role]) for role in values}
    matched = _check_against_release(chosen, rows, digests, allow_checksum_mismatch)
    if matched:
        log("Both files are well-formed and match the published checksums.")
    else:
        log(
            "WARNING: importing files that differ from the published release "
            "(--allow-checksum-mismatch); the marker records it."
        )

    def convert(role):
        converted = values[role]
        converted[:, 0] = release_to_course_label(converted[:, 0].astype(np.int64))
        return encode_csv(converted)

    encoded = _both(convert)
    files = {COURSE_FILES[role]: encoded[role] for role in ROLES}
    marker = _release_marker(chosen, raw, digests, rows, files, matched)
    replacing = _marker_kind(dest)
    _install(dest, files, marker)
    log(
        f"Wrote {dest} ({rows['train']:,} train + {rows['test']:,} validation images"
        + (f", replacing the {replacing} data there" if replacing else "")
        + f") in {time.perf_counter() - started:.1f} s."
    )
    return marker


def _marker_kind(dest: Path) -> str | None:
    try:
        return _read_marker(dest)["kind"]
    except DataError:
        return None


# --------------------------------------------------------------------------------------
# Fetch


def fetch(dest=None, *, log: Log = print) -> dict:
    """Download the release from Kaggle with kagglehub (no account needed), then import it."""
    by_hand = (
        f"Alternatives: download the zip by hand from {KAGGLE_URL} (Download button; a free "
        "Kaggle account), on any machine, and run `asl-course data import PATH/TO/archive.zip`; "
        "or run `asl-course data synthetic` for an offline stand-in (not the real data)."
    )
    try:
        import kagglehub
    except ImportError:
        raise DataError(
            "`asl-course data fetch` needs the kagglehub package, which is not installed "
            f"(pip install kagglehub). {by_hand}"
        ) from None
    log(f"Downloading {KAGGLE_DATASET} from Kaggle with kagglehub...")
    try:
        folder = kagglehub.dataset_download(KAGGLE_DATASET)
    except Exception as exc:  # noqa: BLE001 - network errors come in many types
        raise DataError(
            f"Downloading {KAGGLE_DATASET} from Kaggle failed ({type(exc).__name__}: "
            f"{_one_line(exc, 200)}). {by_hand}"
        ) from None
    log(f"Downloaded to {folder}.")
    return import_release(folder, dest, log=log)


# --------------------------------------------------------------------------------------
# Synthetic stand-in


def write_synthetic(dest=None, *, seed: int = 0, log: Log = print) -> dict:
    """Write the offline stand-in (see :mod:`asl_course.synthetic`) to ``dest``; return its marker.

    Refuses to replace real data (choose another ``dest`` or delete it first).
    """
    from asl_course import synthetic

    started = time.perf_counter()
    dest = Path(dest).expanduser().absolute() if dest is not None else default_dest()
    _check_dest(dest)
    if _marker_kind(dest) == "real":
        raise DataError(
            f"{dest} holds the real release; the stand-in would replace it. Choose another "
            "--dest (e.g. data/asl_synthetic and set ASL_DATA_DIR to it), or delete the folder first."
        )
    splits = synthetic.generate(seed=seed)
    files, rows = {}, {}
    for role, name in (("train", TRAIN_FILE), ("valid", VALID_FILE)):
        x, y = splits[role]
        values = np.concatenate([y.astype(np.uint8)[:, None], x], axis=1)
        files[name] = encode_csv(values)
        rows[name] = len(y)
    marker = {
        "kind": "synthetic",
        "description": SYNTHETIC_DESCRIPTION,
        "seed": int(seed),
        "generator": "asl_course.synthetic",
        "generator_version": synthetic.GENERATOR_VERSION,
        "splits": synthetic.SPLIT_NOTES,
        "files": {name: _file_entry(files[name], rows[name]) for name in files},
        "letters": LETTERS,
        "asl_course_version": __version__,
    }
    _install(dest, files, marker)
    total = sum(len(b) for b in files.values())
    log(
        f"Wrote the SYNTHETIC stand-in (not the real data) to {dest}: {rows[TRAIN_FILE]:,} train + "
        f"{rows[VALID_FILE]:,} validation images, {total:,} bytes, seed {seed}, in "
        f"{time.perf_counter() - started:.1f} s."
    )
    return marker


# --------------------------------------------------------------------------------------
# Check


def check(data_dir=None) -> dict:
    """Say what a data folder holds: ``{"kind", "path", "reasons", "rows"}`` (+ ``"notes"``,
    ``"description"``).

    ``kind`` is ``"real"`` or ``"synthetic"`` when the files are exactly those the data step
    wrote (sha256 as in the marker, header intact), ``"invalid"`` otherwise (``reasons`` says
    why), ``"missing"`` when there is no data folder.
    """
    explicit = data_dir is not None or bool(os.environ.get(DATA_ENV, "").strip())
    folder = Path(data_dir).expanduser().absolute() if data_dir is not None else None
    try:
        folder = locate(data_dir)
    except DataNotFoundError as exc:
        if folder is None and explicit:
            folder = default_dest()
        partial = (
            explicit
            and folder is not None
            and folder.is_dir()
            and any((folder / n).exists() for n in (TRAIN_FILE, VALID_FILE, MARKER_FILE))
        )
        if not partial:
            path = folder if folder is not None else default_dest()
            return {"kind": "missing", "path": str(path), "reasons": [str(exc)], "rows": {}, "notes": []}
    result = {"kind": "invalid", "path": str(folder), "reasons": [], "rows": {}, "notes": []}
    reasons, notes = result["reasons"], result["notes"]
    try:
        marker = _read_marker(folder)
    except DataError as exc:
        marker = None
        reasons.append(str(exc))
    for role, name in (("train", TRAIN_FILE), ("valid", VALID_FILE)):
        path = folder / name
        try:
            data = path.read_bytes()
        except OSError as exc:
            reasons.append(f"{path} cannot be read ({_one_line(exc)}).")
            continue
        lines = data.count(b"\n") + (1 if data and not data.endswith(b"\n") else 0)
        result["rows"][role] = max(lines - 1, 0)
        expected = (marker or {}).get("files", {}).get(name, {}).get("sha256")
        if expected is not None and sha256_bytes(data) == expected:
            continue
        if marker is not None:
            reasons.append(
                f"{path} is not the file the data step wrote (its sha256 differs from "
                f"{MARKER_FILE}): it was changed or replaced."
            )
        try:
            result["rows"][role] = len(validate_csv(data, str(path), numbering="course"))
        except DataError as exc:
            reasons.append(str(exc))
    if marker is not None and marker["kind"] == "real":
        release = marker.get("release", {})
        published = all(
            release.get(r, {}).get("sha256") == RELEASE_SHA256[r] for r in ("train", "test")
        )
        if not published or marker.get("checksums_match") is False:
            notes.append(
                "imported with --allow-checksum-mismatch: the source files differ from the "
                "published release"
            )
    if reasons:
        reasons.append(
            "Re-create the folder: `asl-course data import PATH`, `asl-course data fetch` or "
            "`asl-course data synthetic` (with --dest if it is not the default)."
        )
    else:
        result["kind"] = marker["kind"]
        result["description"] = describe(folder)
    return result
