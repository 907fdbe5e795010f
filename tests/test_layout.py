"""The package's parts are folders (ARCHITECTURE.md, "Where each part lives"), and each imports
only what it may; the old flat module paths are the same module objects as the new ones.

Each import check imports a part's modules in a fresh interpreter and lists what came with them:
a learner's notebook must not pull in the nbgrader plugins, the sandbox, the instructor's tools
or the tooling (nor nbgrader itself); the data step and the facts stand on their own.
"""

from __future__ import annotations

import importlib
import json
import subprocess
import sys
from pathlib import Path

import pytest

import asl_course

PACKAGE = Path(asl_course.__file__).resolve().parent

FACTS = ["asl_course.facts", "asl_course.errors"]
DATASET = ["asl_course.dataset." + m for m in
           ("files", "labels", "sources", "validate", "encoding", "install", "importer", "kaggle", "synthetic",
            "folder", "audit", "families")]
LEARNERS = ["asl_course.learners." + m for m in
            ("lesson", "notebook", "checks", "selfstudy", "predict", "evaluation", "augment", "recipe", "shifts")]
GRADING = ["asl_course.grading"]  # the hidden tests and verdicts (what a kernel loads)
PLUGINS = ["asl_course.grading.plugins." + m for m in ("autograder", "verifier", "harness", "sandbox", "limits", "feedback")]
INSTRUCTOR = ["asl_course.grading.instructor." + m for m in ("intake", "repair", "parallel", "similarity")]
TOOLING = ["asl_course.tooling." + m for m in ("editions", "runner", "bench", "cli", "classroom", "robustness", "export")] + [
    "asl_course.tooling.commands." + m for m in ("data", "build", "run", "predict", "export", "serve", "intake", "repair",
                                                 "grade", "similarity", "bench")]
WEB = ["asl_course.web." + m for m in ("runtime", "server", "fakecam")]
THIRD_PARTY_GRADING = {"nbgrader", "nbclient", "jupyter_client", "bleach"}

#: Modules written after the layout by parts: they have no old flat path (and get none).
NO_OLD_PATH = {"asl_course.learners.shifts", "asl_course.tooling.robustness",
               "asl_course.grading.instructor.similarity", "asl_course.tooling.commands.similarity",
               "asl_course.grading.plugins.limits", "asl_course.tooling.export",
               "asl_course.tooling.commands.export", "asl_course.tooling.commands.serve"}
#: Every module's old flat path and its new home (the old paths stay: released notebooks,
#: nbgrader_config.py files in the wild, `asl_course.autograder.GuardedExecute`).
#: Modules made after the flat layout: they never had an old path.
OLD_PATHS = {
    **{f"asl_course.{m.rsplit('.', 1)[1]}": m for m in LEARNERS + PLUGINS + INSTRUCTOR if m not in NO_OLD_PATH},
    **{f"asl_course.{m.rsplit('.', 1)[1]}": m for m in TOOLING if ".commands." not in m and m not in NO_OLD_PATH},
    **{f"asl_course.commands.{m.rsplit('.', 1)[1]}": m for m in TOOLING if ".commands." in m and m not in NO_OLD_PATH},
    "asl_course.commands": "asl_course.tooling.commands",
    "asl_course.synthetic": "asl_course.dataset.synthetic",
    "asl_course.data": "asl_course.dataset",
}

#: The parts a part may not import (the package's ``asl_course.<part>`` prefixes).
PARTS = {
    "facts": ("asl_course.facts", "asl_course.errors"),
    "dataset": ("asl_course.dataset",),
    "learners": ("asl_course.learners",),
    "grading": ("asl_course.grading",),
    "plugins": ("asl_course.grading.plugins",),
    "instructor": ("asl_course.grading.instructor",),
    "tooling": ("asl_course.tooling",),
    "web": ("asl_course.web",),
}


def imported_with(modules: list[str]) -> set[str]:
    """The package's modules (full dotted names) and the third-party top-level packages that
    importing ``modules`` loads."""
    code = (
        "import importlib, json, sys\n"
        f"for m in {modules!r}: importlib.import_module(m)\n"
        "print(json.dumps(sorted(sys.modules)))\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    names = json.loads(out.splitlines()[-1])
    return {n for n in names if n.startswith("asl_course.")} | {n.split(".")[0] for n in names}


def in_part(names: set[str], part: str) -> set[str]:
    return {n for n in names if any(n == p or n.startswith(p + ".") for p in PARTS[part])}


@pytest.mark.parametrize("part, modules, forbidden", [
    ("the facts", FACTS, ["dataset", "learners", "grading", "tooling"]),
    ("the data step", DATASET, ["learners", "grading", "tooling"]),
    ("the learners' API", LEARNERS, ["plugins", "instructor", "tooling"]),
    ("the hidden tests and verdicts", GRADING, ["learners", "plugins", "instructor", "tooling"]),
    ("the nbgrader plugins", PLUGINS, ["instructor", "tooling"]),
    ("the instructor's tools", INSTRUCTOR, ["learners", "tooling", "web"]),
    ("the web page", WEB, ["grading", "plugins", "instructor"]),
])
def test_a_part_imports_only_what_it_may(part, modules, forbidden):
    loaded = imported_with(modules)
    found = set().union(*(in_part(loaded, f) for f in forbidden))
    if part in ("the facts", "the data step", "the learners' API", "the hidden tests and verdicts"):
        found |= loaded & THIRD_PARTY_GRADING
    assert not found, f"{part} imports {sorted(found)}"


def test_the_check_sees_a_forbidden_import():
    """The check itself: the nbgrader plugins do pull in nbgrader and the sandbox, and the
    tooling the instructor's tools."""
    loaded = imported_with(["asl_course.grading.plugins.autograder"])
    assert "nbgrader" in loaded and "asl_course.grading.plugins.sandbox" in in_part(loaded, "plugins")
    assert in_part(imported_with(["asl_course.tooling.bench"]), "learners")


def test_the_old_paths_are_the_same_modules():
    """``from asl_course import lesson``, ``import asl_course.data``, ``asl_course.autograder.GuardedExecute``:
    the old flat paths are the new modules themselves (so a monkeypatch of either reaches the code)."""
    for old, new in OLD_PATHS.items():
        parent, _, name = old.rpartition(".")
        assert importlib.import_module(old) is importlib.import_module(new), old
        assert getattr(importlib.import_module(parent), name) is importlib.import_module(new), f"from {parent} import {name}"
    from asl_course import autograder, data, lesson
    from asl_course.grading.plugins.autograder import GuardedExecute
    from asl_course.learners import lesson as new_lesson

    assert autograder.GuardedExecute is GuardedExecute and lesson is new_lesson and data.locate is data.folder.locate


def test_the_old_paths_are_listed_and_are_aliases():
    """Every file left at an old path is one of the aliases above (nothing else stays flat), and every
    module of every part is listed here (a new module gets its part's checks)."""
    top = {p.stem for p in PACKAGE.glob("*.py")} - {"__init__", "__main__", "facts", "errors"}
    flat = {f"asl_course.{m}" for m in top} | {"asl_course.commands"}
    aliases = {o for o in OLD_PATHS if o.count(".") == 1}
    assert not flat - aliases, (f"{sorted(flat - aliases)}: a new module goes in its part's folder (ARCHITECTURE.md, "
                                "\"Where each part lives\"), not at the top of asl_course/")
    assert not aliases - flat, f"old paths without their alias file: {sorted(aliases - flat)}"
    for stem in top:
        assert "sys.modules[__name__] = _module" in (PACKAGE / f"{stem}.py").read_text(), stem
    listed = set(FACTS + DATASET + LEARNERS + PLUGINS + INSTRUCTOR + TOOLING + WEB)
    for folder in ("dataset", "learners", "grading/plugins", "grading/instructor", "tooling", "tooling/commands", "web"):
        for path in (PACKAGE / folder).glob("*.py"):
            if path.stem != "__init__":
                name = "asl_course." + ".".join(path.relative_to(PACKAGE).with_suffix("").parts)
                assert name in listed, f"{name} is in no part of tests/test_layout.py"


def test_every_folder_is_a_package_with_a_docstring_saying_what_it_may_import():
    """setuptools' find ships folders with an ``__init__.py`` only; each part says what it may import."""
    for folder in sorted({p.parent for p in PACKAGE.rglob("*.py")} - {PACKAGE}):
        if "__pycache__" in folder.parts:
            continue
        init = folder / "__init__.py"
        assert init.is_file(), f"{folder} has no __init__.py: a wheel would leave it out"
    for part in ("dataset", "learners", "grading/plugins", "grading/instructor", "tooling", "web"):
        doc = importlib.import_module("asl_course." + part.replace("/", ".")).__doc__ or ""
        assert "May import" in doc or "may import" in doc, f"asl_course/{part}/__init__.py does not say what it may import"


def test_monkeypatching_an_old_path_reaches_the_code(monkeypatch):
    """The aliases are not copies: patching ``asl_course.lesson.X`` changes what ``learners.lesson`` reads."""
    from asl_course import lesson
    from asl_course.learners import lesson as real

    monkeypatch.setattr(lesson, "FAST_ENV", "ASL_TEST_LAYOUT_FAST")
    assert real.FAST_ENV == "ASL_TEST_LAYOUT_FAST"
