"""Helpers for tests/test_data.py and tests/test_synthetic.py.

Small well-formed release-style CSVs are made here, in memory; the real release is only ever
read from ``<repo>/../shared/asl_data`` (or copied, modified, into a test's tmp_path).
"""

from __future__ import annotations

import gzip
import hashlib
from pathlib import Path

import numpy as np
import pytest

from asl_course import dataset as data

REPO = Path(__file__).resolve().parent.parent
SHARED = REPO.parent / "shared" / "asl_data"
REAL_TRAIN_GZ = SHARED / "sign_mnist_train.csv.gz"
REAL_TEST_GZ = SHARED / "sign_mnist_test.csv.gz"

requires_real = pytest.mark.skipif(
    not (REAL_TRAIN_GZ.is_file() and REAL_TEST_GZ.is_file()),
    reason=f"the real release is not at {SHARED} (it is never part of the repository)",
)


def quiet(*_args, **_kwargs) -> None:
    """A ``log`` that prints nothing."""


def make_rows(n_rows: int, *, seed: int = 0, numbering: str = "release") -> np.ndarray:
    """``(n_rows, 785)`` int values: labels cycling through all 24 classes, random pixels."""
    rng = np.random.default_rng(seed)
    labels = np.arange(n_rows) % data.NUM_CLASSES
    if numbering == "release":
        labels = np.array(data.RELEASE_LABELS)[labels]
    pixels = rng.integers(0, 256, (n_rows, data.NUM_PIXELS))
    return np.concatenate([labels[:, None], pixels], axis=1)


def csv_text(rows, *, header: str | None = None, line_end: str = "\r\n") -> bytes:
    """CSV bytes, release style (CRLF) by default; ``rows`` may hold strings."""
    lines = [data.HEADER if header is None else header]
    lines += [",".join(str(v) for v in row) for row in rows]
    return (line_end.join(lines) + line_end).encode("ascii")


def make_csv(n_rows: int = 48, *, seed: int = 0, **kwargs) -> bytes:
    return csv_text(make_rows(n_rows, seed=seed).tolist(), **kwargs)


def set_cell(csv: bytes, row: int, column: int, value: str) -> bytes:
    """Replace the cell of data row ``row`` (0-based) and column ``column`` (0 = label)."""
    lines = csv.split(b"\r\n")
    cells = lines[row + 1].split(b",")
    cells[column] = value.encode("ascii")
    lines[row + 1] = b",".join(cells)
    return b"\r\n".join(lines)


def write_pair(folder: Path, train: bytes, test: bytes, *, gz: bool = False) -> list[Path]:
    """Write the two files under their release names; return their paths."""
    folder.mkdir(parents=True, exist_ok=True)
    paths = []
    for name, content in (("sign_mnist_train.csv", train), ("sign_mnist_test.csv", test)):
        path = folder / (name + (".gz" if gz else ""))
        path.write_bytes(gzip.compress(content, compresslevel=1) if gz else content)
        paths.append(path)
    return paths


def snapshot(folder: Path) -> dict:
    """What a folder holds: name -> (sha256, size, mtime_ns); None when it does not exist."""
    if not folder.exists():
        return None
    return {
        p.name: (hashlib.sha256(p.read_bytes()).hexdigest(), p.stat().st_size, p.stat().st_mtime_ns)
        for p in sorted(folder.iterdir())
    }


def leftovers(parent: Path) -> list[str]:
    """Temporary siblings the atomic swap may have left behind (there must be none)."""
    return sorted(p.name for p in parent.iterdir() if ".new-" in p.name or ".old-" in p.name)


def real_csv(path: Path) -> bytes:
    with gzip.open(path, "rb") as handle:
        return handle.read()
