"""Checking CSV bytes before anything is written: header, complete rows of integers, pixels
0..255, labels in the release's or the course's numbering; errors name the file, line and column.
"""

from __future__ import annotations

import io
import re

import numpy as np

from asl_course.errors import one_line
from .files import HEADER_BYTES, COLUMNS, NUM_CLASSES, NUM_PIXELS, DataError


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
    if first == HEADER_BYTES:
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
    import pandas as pd  # noqa: F811 - imported here so that `import asl_course.dataset` stays light

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
        raise DataError(f"{name} is not a readable CSV ({one_line(exc)}). Get it again.") from None
    except Exception as exc:  # noqa: BLE001
        raise DataError(f"{name} is not a readable CSV ({one_line(exc)}). Get it again.") from None
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
