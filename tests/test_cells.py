"""nbgrader's cell metadata in one module (asl_course/grading/cells.py), the hidden tests' one line
(asl_course/grading/fresh.py) and the script that wrote it into source/ (tools/one_line_hidden_tests.py).
Fast: small cells built in memory, one subprocess."""

from __future__ import annotations

import importlib.util
import json
import subprocess
import sys
from pathlib import Path

import pytest
from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook
from nbgrader import utils as nbgrader_utils

from asl_course import grading
from asl_course.grading import cells, fresh

REPO = Path(__file__).resolve().parent.parent
PACKAGE = REPO / "asl_course" / "grading" / "__init__.py"


def cell(grade=False, solution=False, locked=False, grade_id="ex", source="x = 1", points=2):
    c = new_code_cell(source)
    c.metadata["nbgrader"] = {"grade": grade, "solution": solution, "locked": locked, "grade_id": grade_id,
                              "points": points, "schema_version": 3, "task": False}
    return c


KINDS = {"test": cell(grade=True, locked=True), "answer": cell(solution=True),
         "read-only": cell(locked=True), "answer and test": cell(grade=True, solution=True),
         "plain": new_code_cell("y = 2"), "markdown": new_markdown_cell("# Title")}


# --- The predicates ----------------------------------------------------------------------------------


@pytest.mark.parametrize("name", sorted(KINDS))
def test_the_predicates_are_nbgraders_on_notebook_cells(name):
    c = KINDS[name]
    assert cells.is_grade(c) == bool(nbgrader_utils.is_grade(c))
    assert cells.is_solution(c) == bool(nbgrader_utils.is_solution(c))
    assert cells.is_locked(c) == bool(nbgrader_utils.is_locked(c))


@pytest.mark.parametrize("name", sorted(KINDS))
def test_a_cell_read_as_plain_json_is_the_same_cell(name):
    """intake and repair read hand-ins with json: the answers do not depend on the type."""
    c = KINDS[name]
    plain = json.loads(json.dumps(c))
    for ask in (cells.is_grade, cells.is_solution, cells.is_locked, cells.kind, cells.grade_id, cells.points):
        assert ask(plain) == ask(c), ask.__name__


def test_kind_and_ids():
    assert [cells.kind(KINDS[k]) for k in ("test", "answer", "read-only", "answer and test", "plain")] == [
        "locked", "answer", "locked", "answer", "plain"]
    assert cells.grade_id_of_test(KINDS["test"]) == "ex" and cells.grade_id_of_test(KINDS["answer"]) is None
    assert cells.points(KINDS["test"]) == 2.0 and cells.points(KINDS["answer"]) == 0.0
    nb = new_notebook(cells=[cell(solution=True, grade_id="a", source="a = 1"), cell(grade=True, grade_id="test_a"),
                             new_markdown_cell("text"), cell(solution=True, grade_id="b", source="b = 2")])
    assert cells.grade_ids(nb.cells) == ["a", "test_a", "b"]
    assert cells.answer_cells(nb) == {"a": "a = 1", "b": "b = 2"}


@pytest.mark.parametrize("damage", [
    {"metadata": "a string"}, {"metadata": {"nbgrader": ["grade", True]}}, {"metadata": {"nbgrader": None}},
    {"metadata": {"nbgrader": {"grade_id": 42, "grade": True}}}, {}, "not a cell", None,
])
def test_damaged_or_hostile_metadata_is_no_nbgrader_cell_and_raises_nothing(damage):
    assert cells.grade_id(damage) is None
    assert cells.nbgrader_metadata(damage) in ({}, {"grade_id": 42, "grade": True})
    assert cells.kind(damage) in ("plain", "locked")
    assert cells.grade_ids([damage, cell(grade_id="ok")]) == ["ok"]
    assert cells.grade_ids(damage) == [] or damage == {}


def test_hidden_tests_and_their_markers():
    source = '"""Self-check."""\n### BEGIN HIDDEN TESTS\nsecret(1)\nsecret(2)\n### END HIDDEN TESTS\nvisible()'
    assert cells.hidden_tests(source) == "secret(1)\nsecret(2)"
    assert cells.hidden_tests("visible()") == ""
    assert cells.BEGIN_HIDDEN.match("  ### BEGIN HIDDEN TESTS  ") and not cells.BEGIN_HIDDEN.match("# BEGIN HIDDEN")


# --- The hidden tests' one line ------------------------------------------------------------------------


def test_the_one_line_is_the_loader_and_every_source_hidden_test_is_it():
    ids = []
    for path in sorted((REPO / "source").glob("*/*.ipynb")):
        nb = json.loads(path.read_text())
        for c in nb["cells"]:
            if cells.is_grade(c):
                source = "".join(c["source"])
                assert cells.hidden_tests(source) == fresh.HIDDEN_TEST.format(grade_id=cells.grade_id(c)), path
                ids.append(cells.grade_id(c))
    assert sorted(ids) == sorted(grading.EXERCISES)


def test_fresh_loads_the_file_the_autograder_names_not_the_imported_module(tmp_path, monkeypatch):
    """$ASL_GRADING_CODE wins; the copy is new on every load and is not sys.modules' asl_course.grading."""
    monkeypatch.setenv(grading.GRADING_CODE_ENV, str(PACKAGE))
    first, second = fresh.load(), fresh.load()
    assert first is not grading and second is not first and first.__file__ == str(PACKAGE)
    assert sys.modules[fresh.FRESH_NAME] is second and sys.modules[fresh.FRESH_NAME + ".registry"] is not None
    monkeypatch.delenv(grading.GRADING_CODE_ENV)
    assert fresh.grading_code() == importlib.util.find_spec("asl_course.grading").origin
    with pytest.raises(KeyError, match=grading.GRADING_CODE_ENV):
        fresh.grading_code(required=True)


def test_a_kernel_that_patched_the_grading_module_is_still_graded_by_the_fresh_copy(tmp_path):
    """What a notebook's code can do to the module it imported (tests/submissions: x05_patch_checks)
    changes nothing for the one line: it fails a wrong answer, in a kernel-like process."""
    line = fresh.HIDDEN_TEST.format(grade_id="test_one_hot")
    code = (
        "import asl_course.grading as g\n"
        "g.check = lambda *a, **k: print('patched')\n"
        "g.registry.BY_ID.clear()\n"
        "y_train = [1, 2]\n"
        f"try:\n    {line}\nexcept AssertionError as exc:\n    print('FAILED', type(exc).__name__, exc)\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=300,
                         cwd=tmp_path)
    assert out.returncode == 0, out.stderr[-2000:]
    assert "FAILED GradingFailed" in out.stdout and "y_valid is not defined" in out.stdout
    assert "patched" not in out.stdout


# --- The converter (tools/one_line_hidden_tests.py) -----------------------------------------------------


def converter():
    spec = importlib.util.spec_from_file_location("one_line_hidden_tests", REPO / "tools" / "one_line_hidden_tests.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


OLD = '''"""Self-check: labels."""
### BEGIN HIDDEN TESTS
# Grading. A fresh copy of the grading code, loaded from its file (not the imported module,
# which the notebook's code could have changed) (asl_course/grading/plugins/autograder.py).
import importlib.util as _iu, os as _os, sys as _sys
_spec = _iu.spec_from_file_location(
    "_asl_grading", _os.environ.get("ASL_GRADING_CODE") or _iu.find_spec("asl_course.grading").origin)
_grading = _iu.module_from_spec(_spec)
_sys.modules[_spec.name] = _grading  # first: its submodules and dataclasses need it there
_spec.loader.exec_module(_grading)
_grading.check("test_labels", globals())
### END HIDDEN TESTS
checks.self_check("labels", globals())'''


def test_the_converter_rewrites_the_old_loader_keeps_metadata_and_is_rerunnable(tmp_path):
    tool = converter()
    test = cell(grade=True, locked=True, grade_id="test_labels", source=OLD)
    test.metadata["nbgrader"]["checksum"] = "kept"
    path = tmp_path / "nb.ipynb"
    path.write_text(json.dumps(new_notebook(cells=[cell(solution=True, grade_id="labels"), test])))
    assert tool.main(["--check", str(path)]) == 1 and "_spec" in path.read_text()
    assert tool.convert(path) == (1, [])
    nb = json.loads(path.read_text())
    done = nb["cells"][1]
    assert "".join(done["source"]) == ('"""Self-check: labels."""\n### BEGIN HIDDEN TESTS\n'
                                       + fresh.HIDDEN_TEST.format(grade_id="test_labels")
                                       + '\n### END HIDDEN TESTS\nchecks.self_check("labels", globals())')
    assert done["metadata"]["nbgrader"] == test.metadata["nbgrader"]
    assert tool.convert(path) == (0, []) and tool.main(["--check", str(path)]) == 0


@pytest.mark.parametrize("hidden, problem", [
    (OLD.replace("_grading.check(", "print(1)\n_grading.check("), "not the old loader alone"),
    (OLD.replace('check("test_labels"', 'check("test_other"'), "checks 'test_other'"),
])
def test_the_converter_leaves_any_other_hidden_test_and_says_so(tmp_path, hidden, problem):
    path = tmp_path / "nb.ipynb"
    path.write_text(json.dumps(new_notebook(cells=[cell(grade=True, grade_id="test_labels", source=hidden)])))
    before = path.read_text()
    changed, problems = converter().convert(path)
    assert changed == 0 and problem in problems[0] and path.read_text() == before
