"""What the data step works with: the release's files (names, rows, published sha256), the
course's data folder (names, header, ``$ASL_DATA_DIR``), the descriptions, the errors.

Every other module of the data step reads these names from here. The row counts and checksums
are read as ``files.RELEASE_ROWS`` and ``files.RELEASE_SHA256`` at call time (tests patch them here).
"""

from __future__ import annotations

import hashlib
from pathlib import Path
from typing import Callable

from asl_course import facts as _facts
from asl_course.errors import UserError
from asl_course.i18n import lookup, mark


#: Course label ``i`` is the letter ``LETTERS[i]``: 24 classes, no J and no Z (they move).
#: (The lesson's facts live in :mod:`asl_course.facts`; these names are kept for the notebooks.)
LETTERS = _facts.LETTERS
NUM_CLASSES = _facts.NUM_CLASSES
IMAGE_SIZE = _facts.IMAGE_SIZE
#: File names inside a course data folder.
TRAIN_FILE = "sign_mnist_train.csv"
VALID_FILE = "sign_mnist_valid.csv"
MARKER_FILE = "SOURCE.json"
FAMILIES_FILE = "families.npz"  # dataset.families' cache, made on first use
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
HEADER_BYTES = HEADER.encode("ascii")
#: Release labels (0..24 without 9, J) in course order: course label i is release RELEASE_LABELS[i].
RELEASE_LABELS = _facts.RELEASE_LABELS

REAL_DESCRIPTION = mark("real Sign Language MNIST release (Kaggle datamunge/sign-language-mnist, CC0)")
SYNTHETIC_DESCRIPTION = (
    "SYNTHETIC STAND-IN made by asl_course (not the real data set): procedurally drawn "
    "hand-like shapes, one shape per letter. Figures from it are not results on Sign "
    "Language MNIST."
)

GET_DATA_TEMPLATE = mark(
    "Get the data with one of: `asl-course data fetch` (downloads the release from Kaggle), "
    "`asl-course data import PATH` (the files or the zip downloaded by hand from "
    "{url}), or `asl-course data synthetic` (an offline stand-in, not the real data)."
)
GET_DATA = GET_DATA_TEMPLATE.format(url=KAGGLE_URL)


def get_data_advice() -> str:
    """:data:`GET_DATA` in the learner's language (a notebook's setup cell says it too)."""
    return lookup(GET_DATA_TEMPLATE).format(url=KAGGLE_URL)


class DataError(UserError):
    """Bad or missing data: the message names the file, the problem, and what to do."""


class DataNotFoundError(DataError):
    """No course data folder where one was looked for."""


Log = Callable[[str], object]


def sha256_bytes(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()



def sha256_file(path: Path) -> str:
    with open(path, "rb") as handle:
        return hashlib.file_digest(handle, "sha256").hexdigest()
