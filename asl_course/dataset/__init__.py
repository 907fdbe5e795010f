"""The data step: get Sign Language MNIST, check it, install it, find and load it again.

The real data set is the public Kaggle release ``datamunge/sign-language-mnist`` (CC0):
two CSV files, ``sign_mnist_train.csv`` (27,455 rows) and ``sign_mnist_test.csv``
(7,172 rows), each with the header ``label,pixel1,...,pixel784``. The release numbers its
labels A=0 ... Y=24 and never uses 9 (J, which needs motion). The course numbers its 24
classes contiguously, 0..23 (see :data:`LETTERS`), and calls the test file its validation
set. :func:`import_release` checks the release (schema, row counts, published checksums)
before it writes anything, converts the labels, and writes, atomically::

    DEST/sign_mnist_train.csv   course labels 0..23, LF line endings
    DEST/sign_mnist_valid.csv   (the release's test file)
    DEST/SOURCE.json            where the data came from (see :func:`provenance`)

:func:`write_synthetic` writes a small, clearly labelled stand-in in the same layout for
offline work. Notebooks use :func:`locate`, :func:`load_arrays` and :func:`describe`;
``asl-course data check`` uses :func:`check`.

One module per concern, in the order the data goes through them:

- :mod:`.files`: the release's and the course's file names, rows, checksums, header; the errors.
- :mod:`.labels`: release labels (0..24, no 9) <-> course labels (0..23) <-> letters.
- :mod:`.sources`: the release's files among CSVs, ``.csv.gz``, zips and folders.
- :mod:`.validate`: checking CSV bytes (header, integer cells, pixel range, label numbering).
- :mod:`.encoding`: writing CSV bytes fast.
- :mod:`.install`: writing a data folder atomically.
- :mod:`.importer`: :func:`import_release`; :mod:`.kaggle`: :func:`fetch` (kagglehub, then import).
- :mod:`.synthetic`: the drawn stand-in and :func:`write_synthetic`.
- :mod:`.folder`: :func:`locate`, :func:`provenance`, :func:`describe`, :func:`load_arrays`.
- :mod:`.audit`: :func:`check`, what an installed folder holds.
- :mod:`.families`: near-copy families of the training file (cached in the folder), and
  validation splits that hold out whole families (``asl_course.dataset.families``).

It may import :mod:`asl_course.facts`, :mod:`asl_course.errors`, numpy and
pandas only (scipy in :mod:`.families`, kagglehub inside :func:`fetch`): nothing of the learners' API, grading or tooling.
"""

from asl_course.errors import UserError, one_line

from .audit import check
from .encoding import encode_csv
from .files import (COLUMNS, COURSE_FILES, DATA_ENV, FAMILIES_FILE, HEADER, IMAGE_SIZE, KAGGLE_DATASET, KAGGLE_URL, LETTERS,
                    MARKER_FILE, NUM_CLASSES, NUM_PIXELS, REAL_DESCRIPTION, RELEASE_FILES, RELEASE_LABELS,
                    RELEASE_ROWS, RELEASE_SHA256, SYNTHETIC_DESCRIPTION, TRAIN_FILE, VALID_FILE, DataError,
                    DataNotFoundError, Log, sha256_bytes, sha256_file)
from .folder import default_dest, describe, load_arrays, locate, provenance
from .importer import ROLES, import_release
from .kaggle import fetch
from .labels import course_to_release_label, letter, release_to_course_label
from .synthetic import write_synthetic
from .validate import validate_csv

__all__ = [
    "COLUMNS", "COURSE_FILES", "DATA_ENV", "FAMILIES_FILE", "HEADER", "IMAGE_SIZE", "KAGGLE_DATASET", "KAGGLE_URL", "LETTERS",
    "MARKER_FILE", "NUM_CLASSES", "NUM_PIXELS", "REAL_DESCRIPTION", "RELEASE_FILES", "RELEASE_LABELS",
    "RELEASE_ROWS", "RELEASE_SHA256", "ROLES", "SYNTHETIC_DESCRIPTION", "TRAIN_FILE", "VALID_FILE",
    "DataError", "DataNotFoundError", "Log", "UserError", "check", "course_to_release_label", "default_dest",
    "describe", "encode_csv", "fetch", "import_release", "letter", "load_arrays", "locate", "one_line",
    "provenance", "release_to_course_label", "sha256_bytes", "sha256_file", "validate_csv", "write_synthetic",
]
