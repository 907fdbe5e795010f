"""Importing the release: :func:`import_release` reads both files, checks them against the
published release (rows, sha256, swapped names) and writes the course's folder, labels 0..23.
"""

from __future__ import annotations

import datetime as _dt
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Callable

import numpy as np

from asl_course import __version__

from . import files as _files  # read at call time: tests patch RELEASE_ROWS, RELEASE_SHA256 there
from .encoding import encode_csv
from .files import COURSE_FILES, LETTERS, REAL_DESCRIPTION, RELEASE_FILES, RELEASE_LABELS, DataError, Log, sha256_bytes, sha256_file
from .folder import read_marker, default_dest
from .install import check_dest, file_entry, install_files, marker_kind
from .labels import release_to_course_label
from .sources import collect_sources, read_role, Source
from .validate import validate_csv


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
        f"swapped (renamed?). Name the {_files.RELEASE_ROWS['train']:,}-row file "
        f"{RELEASE_FILES['train']} and the {_files.RELEASE_ROWS['test']:,}-row file "
        f"{RELEASE_FILES['test']}, or get both again (this {RELEASE_FILES[role]} is the "
        f"release's {RELEASE_FILES[other]})."
    )


def _already_imported(dest: Path, digests: dict[str, str], allow_mismatch: bool) -> dict | None:
    try:
        marker = read_marker(dest)
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


def _read_release(found: dict[str, list[Source]], log: Log) -> tuple[dict, dict, dict]:
    """The two files' sources, bytes and sha256, read side by side; swapped files refused."""

    def read(role):
        source, content = read_role(found[role])
        return source, content, sha256_bytes(content)

    got = _both(read)
    chosen = {role: got[role][0] for role in ROLES}
    raw = {role: got[role][1] for role in ROLES}
    digests = {role: got[role][2] for role in ROLES}
    for role in ROLES:
        other = "test" if role == "train" else "train"
        if digests[role] == _files.RELEASE_SHA256[other]:
            raise _swapped(role, chosen[role].label, f"it is byte for byte the release's {RELEASE_FILES[other]}")
        log(f"Read {chosen[role].label} ({len(raw[role]):,} bytes).")
    return chosen, raw, digests


def _check_against_release(chosen: dict, rows: dict, digests: dict, allow_mismatch: bool) -> bool:
    """Row counts and checksums against the published release; True when both match.

    Swapped files are refused; another version of the data set only with ``allow_mismatch``.
    """
    for role in ROLES:
        other = "test" if role == "train" else "train"
        if rows[role] != _files.RELEASE_ROWS[role] and rows[role] == _files.RELEASE_ROWS[other]:
            raise _swapped(role, chosen[role].label, f"it has {rows[role]:,} rows, as many as the release's {RELEASE_FILES[other]}")
    if rows["train"] < rows["test"]:
        raise _swapped("train", chosen["train"].label, f"it has fewer rows ({rows['train']:,}) than {chosen['test'].label} ({rows['test']:,})")
    checksums_ok = {role: digests[role] == _files.RELEASE_SHA256[role] for role in ROLES}
    for role in ROLES:
        if rows[role] != _files.RELEASE_ROWS[role] and not allow_mismatch:
            raise DataError(
                f"{chosen[role].label} has {rows[role]:,} data rows; the release's "
                f"{RELEASE_FILES[role]} has {_files.RELEASE_ROWS[role]:,}. If the download was cut "
                "short, get the file again; to import a different version of the data set "
                "anyway, re-run with --allow-checksum-mismatch (allow_checksum_mismatch=True)."
            )
    for role in ROLES:
        if not checksums_ok[role] and not allow_mismatch:
            raise DataError(
                f"{chosen[role].label} is well-formed but its sha256 ({digests[role][:16]}...) "
                f"is not the published release's ({_files.RELEASE_SHA256[role][:16]}...): it is another "
                "version or was modified (e.g. re-saved with other line endings). Get the file "
                "again; to import it anyway, re-run with --allow-checksum-mismatch "
                "(allow_checksum_mismatch=True)."
            )
    return all(checksums_ok.values()) and all(rows[r] == _files.RELEASE_ROWS[r] for r in ROLES)


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
                "published_sha256": _files.RELEASE_SHA256[role],
                "rows": rows[role],
                "published_rows": _files.RELEASE_ROWS[role],
                "bytes": len(raw[role]),
            }
            for role in ROLES
        },
        "files": {
            COURSE_FILES[role]: {**file_entry(files[COURSE_FILES[role]], rows[role]), "from": RELEASE_FILES[role]}
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
    check_dest(dest)
    chosen, raw, digests = _read_release(collect_sources(paths), log)

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
    replacing = marker_kind(dest)
    install_files(dest, files, marker)
    log(
        f"Wrote {dest} ({rows['train']:,} train + {rows['test']:,} validation images"
        + (f", replacing the {replacing} data there" if replacing else "")
        + f") in {time.perf_counter() - started:.1f} s."
    )
    return marker
