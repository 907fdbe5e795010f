"""Writing CSV bytes fast: :func:`encode_csv` turns uint8 rows of label + pixels into the course's CSV.
"""

from __future__ import annotations

import numpy as np

from .files import HEADER_BYTES, COLUMNS


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
    parts = [HEADER_BYTES + b"\n"]
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
