"""Labels: the release's numbering (A=0 ... Y=24, no 9) and the course's (0..23), and their letters.
"""

from __future__ import annotations

import numpy as np

from .files import LETTERS, NUM_CLASSES, DataError


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
