"""Test-session setup shared by the unit tests and the nbval notebook runs.

- Fast mode (``ASL_COURSE_FAST=1``) and "automated" (no kernel shutdown) for every kernel
  that nbval or a test starts: they inherit this process's environment.
- Data: ``$ASL_DATA_DIR`` if set; else the repository's ``data/asl_data`` if it holds a valid
  copy (``.ci/run`` imports the real release there from ``../shared/asl_data``); else the
  synthetic stand-in, generated into a temporary folder. The header says which.
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent
SHARED_DATA = REPO.parent / "shared" / "asl_data"

os.environ.setdefault("ASL_COURSE_FAST", "1")
os.environ.setdefault("ASL_COURSE_AUTOMATED", "1")
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")


def _choose_data() -> tuple[Path, str]:
    from asl_course import data

    if os.environ.get(data.DATA_ENV):
        folder = Path(os.environ[data.DATA_ENV])
        return folder, data.check(folder)["kind"]
    repo_copy = REPO / "data" / "asl_data"
    if repo_copy.exists():
        report = data.check(repo_copy)
        if report["kind"] in ("real", "synthetic"):
            return repo_copy, report["kind"]
    folder = Path(tempfile.mkdtemp(prefix="asl-standin-")) / "asl_data"
    data.write_synthetic(folder, log=lambda *_: None)
    return folder, "synthetic"


DATA_DIR, DATA_KIND = _choose_data()
os.environ["ASL_DATA_DIR"] = str(DATA_DIR)


def pytest_report_header(config):
    from asl_course import data

    return [f"asl-course data ({DATA_KIND}): {DATA_DIR}", data.describe(DATA_DIR)]


@pytest.fixture(scope="session")
def data_dir() -> Path:
    """The data folder the whole session uses (real release or stand-in, see the header)."""
    return DATA_DIR


@pytest.fixture(scope="session")
def real_data_dir() -> Path:
    """The session's data folder, only when it holds the real release."""
    if DATA_KIND != "real":
        pytest.skip("needs the real release: run `asl-course data import ../shared/asl_data`")
    return DATA_DIR


@pytest.fixture(scope="session")
def prepared(data_dir):
    """The lesson's prepared arrays (steps 1-2) from the session's data."""
    from asl_course import lesson

    return lesson.prepare(data_dir)
