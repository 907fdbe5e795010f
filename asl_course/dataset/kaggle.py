"""Fetching the release from Kaggle with kagglehub (``asl-course data fetch``), then importing it.
"""

from __future__ import annotations

from asl_course.errors import one_line
from .files import KAGGLE_DATASET, KAGGLE_URL, DataError, Log
from .importer import import_release


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
            f"{one_line(exc, 200)}). {by_hand}"
        ) from None
    log(f"Downloaded to {folder}.")
    return import_release(folder, dest, log=log)
