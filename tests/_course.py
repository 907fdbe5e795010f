"""A minimal course folder for the intake, repair and preflight tests: the release (and the source)
notebooks of some assignments, copied from this repository."""

from __future__ import annotations

import shutil
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent


def course_folder(root: Path, assignments, *, source: bool = True) -> Path:
    """``root`` with ``release/<a>/<a>.ipynb`` (and ``source/<a>/<a>.ipynb``) for each assignment."""
    for a in assignments:
        for edition in ("release", "source") if source else ("release",):
            (root / edition / a).mkdir(parents=True)
            shutil.copy(REPO / edition / a / f"{a}.ipynb", root / edition / a)
    return root
