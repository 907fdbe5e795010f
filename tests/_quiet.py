"""Quiet outputs: no warning or log block that a learner cannot act on (issue 24).

A cell's stderr is a red or pink block in JupyterLab, Colab and the executed notebooks of
``asl-course run``. Every line that a solved notebook writes to stderr must match one of
:data:`ALLOWED`, each with the reason it may be there. The nbval run of the solved notebooks checks
each cell (:class:`QuietCells`, registered by tests/conftest.py), and the browser test checks the
cells it runs (tests/test_browser.py).
"""

from __future__ import annotations

import re

import pytest

#: A stderr line that may appear -> why it is allowed.
ALLOWED: dict[str, str] = {}


def stderr_lines(outputs) -> list[str]:
    """The non-blank lines of a cell's stderr streams (nbformat outputs, or nbval's)."""
    lines = []
    for out in outputs or ():
        if out.get("output_type") == "stream" and out.get("name") == "stderr":
            lines += [line for line in re.split(r"[\r\n]+", out.get("text", "")) if line.strip()]
    return lines


def unexpected(outputs) -> list[str]:
    """The stderr lines of these outputs that no pattern of :data:`ALLOWED` explains."""
    return [line for line in stderr_lines(outputs) if not any(re.search(p, line) for p in ALLOWED)]


class QuietCells:
    """A pytest plugin: an nbval cell (it keeps its outputs as ``test_outputs``) fails when it wrote
    stderr that :data:`ALLOWED` does not explain. Registered as a plugin, not as a conftest hook:
    the solved notebooks are collected outside tests/."""

    @pytest.hookimpl(wrapper=True)
    def pytest_runtest_call(self, item):
        result = yield
        found = unexpected(getattr(item, "test_outputs", None))
        if found:
            pytest.fail(f"{item.nodeid} wrote to stderr (a red block a learner cannot act on; "
                        "tests/_quiet.py):\n" + "\n".join(found[:20]), pytrace=False)
        return result
