"""The package's parts (ARCHITECTURE.md, "Where each part lives") import only what they may.

Each check imports a part's modules in a fresh interpreter and lists what came with them: a
learner's notebook must not pull in the nbgrader plugins, the sandbox or the tooling (nor
nbgrader itself); the data step and the facts stand on their own.
"""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

LEARNERS = ["lesson", "notebook", "checks", "selfstudy", "predict", "evaluation", "augment"]
DATA = ["data", "synthetic"]
FACTS = ["facts", "errors"]
GRADING_PLUGINS = ["autograder", "verifier", "harness", "sandbox", "feedback", "classroom", "parallel", "intake", "repair"]
TOOLING = ["editions", "runner", "bench", "cli", "commands"]
THIRD_PARTY_GRADING = ["nbgrader", "nbclient", "jupyter_client", "bleach"]


def imported_with(modules: list[str]) -> set[str]:
    """The top-level ``asl_course`` modules and third-party packages importing ``modules`` loads."""
    code = (
        "import importlib, json, sys\n"
        f"for m in {modules!r}: importlib.import_module('asl_course.' + m)\n"
        "print(json.dumps(sorted(sys.modules)))\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    names = json.loads(out.splitlines()[-1])
    ours = {n.split(".")[1] for n in names if n.startswith("asl_course.")}
    return ours | {n.split(".")[0] for n in names if not n.startswith("asl_course")}


@pytest.mark.parametrize("part, modules, forbidden", [
    ("the learners' API", LEARNERS, GRADING_PLUGINS + TOOLING + THIRD_PARTY_GRADING),
    ("the data step", DATA, LEARNERS + ["grading"] + GRADING_PLUGINS + TOOLING + THIRD_PARTY_GRADING),
    ("the facts", FACTS, DATA + LEARNERS + ["grading"] + GRADING_PLUGINS + TOOLING),
])
def test_a_part_imports_only_what_it_may(part, modules, forbidden):
    loaded = imported_with(modules)
    assert not loaded & set(forbidden), f"{part} imports {sorted(loaded & set(forbidden))}"


def test_the_check_sees_a_forbidden_import():
    """The check itself: the nbgrader plugins do pull in nbgrader and the sandbox."""
    assert {"nbgrader", "sandbox"} <= imported_with(["autograder"])
