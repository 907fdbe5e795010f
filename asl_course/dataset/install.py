"""Writing a data folder atomically: all of it or nothing, the old folder swapped out only when
the new one is complete, and what a killed run left behind tidied up.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import uuid
from pathlib import Path

from asl_course.errors import one_line
from .files import FAMILIES_FILE, MARKER_FILE, TRAIN_FILE, VALID_FILE, DataError, sha256_bytes
from .folder import read_marker


def check_dest(dest: Path) -> None:
    """Refuse a destination that is a file or holds anything but a course data folder's files."""
    if dest.exists() and not dest.is_dir():
        raise DataError(f"{dest} exists and is not a folder: choose another --dest.")
    if dest.is_dir():
        ours = {TRAIN_FILE, VALID_FILE, MARKER_FILE, FAMILIES_FILE}
        others = sorted(p.name for p in dest.iterdir() if p.name not in ours)
        if others:
            shown = ", ".join(others[:5]) + (", ..." if len(others) > 5 else "")
            raise DataError(
                f"{dest} already holds other files ({shown}); the data step replaces the whole "
                "folder, so it only writes to a new or empty folder or one it made. Choose "
                "another --dest (nothing was changed)."
            )


def clean_stale(dest: Path) -> None:
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


def install_files(dest: Path, files: dict[str, bytes], marker: dict) -> None:
    """Write ``files`` and the marker into ``dest``: all of it, or nothing.

    Everything goes into a temporary sibling folder first; then the old folder (if any) is
    renamed aside, the new one renamed into place, and the old one deleted.
    """
    check_dest(dest)
    try:
        clean_stale(dest)
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
            f"Could not write the data to {dest} ({one_line(exc)}); nothing there was changed. "
            "Check the folder's permissions and free space, or choose another --dest."
        ) from None
    except BaseException:
        shutil.rmtree(new, ignore_errors=True)
        raise
    shutil.rmtree(old, ignore_errors=True)


def file_entry(data: bytes, rows: int) -> dict:
    return {"sha256": sha256_bytes(data), "rows": rows, "bytes": len(data)}



def marker_kind(dest: Path) -> str | None:
    try:
        return read_marker(dest)["kind"]
    except DataError:
        return None
