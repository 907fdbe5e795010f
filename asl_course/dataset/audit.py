"""Checking an installed data folder (``asl-course data check``): real, synthetic, invalid (and
why) or missing.
"""

from __future__ import annotations

import os
from pathlib import Path

from . import files as _files  # read at call time: tests patch RELEASE_ROWS, RELEASE_SHA256 there
from asl_course.errors import one_line
from .files import DATA_ENV, MARKER_FILE, TRAIN_FILE, VALID_FILE, DataError, DataNotFoundError, sha256_bytes
from .folder import read_marker, default_dest, describe, locate
from .validate import validate_csv


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
        marker = read_marker(folder)
    except DataError as exc:
        marker = None
        reasons.append(str(exc))
    for role, name in (("train", TRAIN_FILE), ("valid", VALID_FILE)):
        path = folder / name
        try:
            data = path.read_bytes()
        except OSError as exc:
            reasons.append(f"{path} cannot be read ({one_line(exc)}).")
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
            release.get(r, {}).get("sha256") == _files.RELEASE_SHA256[r] for r in ("train", "test")
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
