"""Repair (``asl_course.grading.instructor.repair``, ``asl-course repair``): each kind of damage on small notebooks.

Each damaged notebook is made here from the release and the solution (notebooks 2 and 3),
the way another editor, Colab or a student leaves it; the repaired notebook must hold exactly
the solution's answers, in the release's cells, and check as clean. No grading (fast).
"""

from __future__ import annotations

import copy
import json
import re
import shutil
from pathlib import Path

import nbformat
import pytest

from _course import course_folder
from asl_course.grading.instructor import repair
from asl_course.tooling import classroom, cli

REPO = Path(__file__).resolve().parent.parent
A2, A3 = "02_cnn_model", "03_augmentation"


def _release(a):
    return classroom.release_notebook(REPO, a)


def _solution(a):
    return classroom.solution_notebook(REPO, a)


def _gid(cell):
    return cell.get("metadata", {}).get("nbgrader", {}).get("grade_id")


def _answers(nb):
    return {_gid(c): c.source for c in nb.cells if c.get("metadata", {}).get("nbgrader", {}).get("solution")}


def _dict(nb):
    return json.loads(nbformat.writes(nb))


def _run(sub, a=A2):
    return repair.repair_notebook(sub if isinstance(sub, dict) else _dict(sub), _release(a),
                                  solutions=repair.solution_answers(REPO, a), assignment=a,
                                  others=repair.other_ids(REPO, a))


def _assert_rebuilt_like_solution(result, a=A2, answers=None):
    assert result["status"] == "repaired", result
    out = result["notebook"]
    assert _answers(out) == (answers or _answers(_solution(a)))
    release = _release(a)
    locked = [c for c in release.cells if c.get("metadata", {}).get("nbgrader", {}).get("locked")]
    got = [c for c in out.cells if c.get("metadata", {}).get("nbgrader", {}).get("locked")]
    assert [(c.source, c.metadata["nbgrader"]) for c in got] == [(c.source, c.metadata["nbgrader"]) for c in locked]
    ids = [_gid(c) for c in out.cells if _gid(c)]
    assert ids == [_gid(c) for c in release.cells if _gid(c)]  # each once, the release's order
    again = _run(_dict(out), a)
    assert again["status"] == "ok", again  # a rebuilt notebook checks clean
    return out


@pytest.mark.parametrize("a", [A2, A3])
def test_a_clean_solution_is_left_as_it_is(a):
    result = _run(_solution(a), a)
    assert result == {"status": "ok", "repairs": [], "notes": [], "not_placed": [], "findings": [], "notebook": None}


def test_colab_metadata_alone_is_harmless_and_noted():
    nb = _dict(_solution(A2))
    nb["metadata"]["colab"] = {"provenance": [{"file_id": "1abc"}], "name": "02_cnn_model.ipynb"}
    for k, cell in enumerate(nb["cells"]):
        cell["metadata"].update({"id": f"c{k}", "colab": {"base_uri": "https://localhost:8080/"}, "outputId": "x1",
                                 "cellView": "form"})
    result = _run(nb)
    assert result["status"] == "ok"
    assert any("Colab" in n for n in result["notes"])


@pytest.mark.parametrize("a", [A2, A3])
def test_cleared_nbgrader_metadata_found_by_place_and_content(a):
    nb = _dict(_solution(a))
    for cell in nb["cells"]:
        cell["metadata"].pop("nbgrader", None)
        cell["metadata"].pop("deletable", None)
        cell["metadata"].pop("editable", None)
    result = _run(nb, a)
    _assert_rebuilt_like_solution(result, a)
    assert any("metadata was gone" in r for r in result["repairs"])


def test_cleared_metadata_and_colab_together():
    nb = _dict(_solution(A3))
    for cell in nb["cells"]:
        cell["metadata"] = {"id": "x", "colab": {}, "outputId": "y"}
    result = _run(nb, A3)
    out = _assert_rebuilt_like_solution(result, A3)
    assert not any("colab" in c.metadata or "outputId" in c.metadata for c in out.cells)


def test_duplicated_answer_cell_keeps_both_in_order_the_last_holds_the_id():
    nb = _dict(_solution(A2))
    i = next(k for k, c in enumerate(nb["cells"]) if _gid(c) == "model")
    first = copy.deepcopy(nb["cells"][i])
    first["source"] = "print('my first try')\n"
    nb["cells"].insert(i, first)  # nbgrader issue 1083: two cells with one grade_id
    result = _run(nb)
    out = _assert_rebuilt_like_solution(result)
    k = next(k for k, c in enumerate(out.cells) if _gid(c) == "model")
    assert out.cells[k - 1].source == "print('my first try')\n" and not _gid(out.cells[k - 1])
    assert any("2 cells had this grade_id" in r for r in result["repairs"])


def test_duplicated_read_only_cell_is_kept_once():
    nb = _dict(_solution(A3))
    i = next(k for k, c in enumerate(nb["cells"]) if _gid(c) == "test_datagen")
    nb["cells"].insert(i + 1, copy.deepcopy(nb["cells"][i]))
    result = _run(nb, A3)
    _assert_rebuilt_like_solution(result, A3)
    assert any("copies of this read-only cell" in r for r in result["repairs"])


def test_retyped_answer_cell_becomes_code_again():
    nb = _dict(_solution(A3))
    cell = next(c for c in nb["cells"] if _gid(c) == "batch")
    cell["cell_type"] = "markdown"
    cell.pop("outputs"), cell.pop("execution_count")
    result = _run(nb, A3)
    out = _assert_rebuilt_like_solution(result, A3)
    assert next(c for c in out.cells if _gid(c) == "batch").cell_type == "code"
    assert any("markdown cell" in r for r in result["repairs"])


def test_reordered_cells_go_back_into_the_release_order():
    nb = _dict(_solution(A3))
    i = next(k for k, c in enumerate(nb["cells"]) if _gid(c) == "datagen")
    moved = nb["cells"].pop(i)
    nb["cells"].append(moved)  # the answer moved to the end, after its test
    result = _run(nb, A3)
    _assert_rebuilt_like_solution(result, A3)
    assert any("moved" in r for r in result["repairs"])


def test_deleted_test_cell_comes_back_from_the_release():
    nb = _dict(_solution(A2))
    nb["cells"] = [c for c in nb["cells"] if _gid(c) != "test_model"]
    result = _run(nb)
    _assert_rebuilt_like_solution(result)
    assert any("deleted" in r for r in result["repairs"])


def test_triage_grades_a_deleted_test_cell_as_nbgrader_would(tmp_path):
    """nbgrader puts a deleted read-only cell back itself: grading does not wait for a repair."""
    root = tmp_path / "course"
    (root / "release" / A2).mkdir(parents=True)
    shutil.copy(REPO / "release" / A2 / f"{A2}.ipynb", root / "release" / A2)
    nb = _dict(_solution(A2))
    nb["cells"] = [c for c in nb["cells"] if _gid(c) != "test_model"]
    (root / "submitted" / "s" / A2).mkdir(parents=True)
    (root / "submitted" / "s" / A2 / f"{A2}.ipynb").write_text(json.dumps(nb))
    assert repair.triage(root, A2, "s") == ("ok", "")


def test_deleted_answer_is_reported_never_invented():
    nb = _dict(_solution(A3))
    nb["cells"] = [c for c in nb["cells"] if _gid(c) != "batch"]
    result = _run(nb, A3)
    expected = _answers(_solution(A3))
    expected["batch"] = next(c.source for c in _release(A3).cells if _gid(c) == "batch")  # the release's stub
    _assert_rebuilt_like_solution(result, A3, answers=expected)
    assert any("`batch`: the answer cell is missing" in r for r in result["repairs"])


def test_extra_cells_of_the_student_are_kept_in_place():
    nb = classroom.insert_after(_solution(A2), "model", "helper = 42")
    d = _dict(nb)
    for cell in d["cells"]:
        cell["metadata"].pop("nbgrader", None)
    result = _run(d)
    out = _assert_rebuilt_like_solution(result)
    k = next(k for k, c in enumerate(out.cells) if _gid(c) == "model")
    assert out.cells[k + 1].source == "helper = 42"
    # It could have been the answer: reported, never silently taken or dropped.
    assert any("'helper = 42'" in n and "`model`" in n for n in result["not_placed"])


def test_nbformat_3_is_converted(tmp_path):
    v3 = nbformat.convert(_solution(A2), 3)
    path = tmp_path / "old.ipynb"
    path.write_text(nbformat.writes(v3, version=3))
    data, found = repair.read_submission(path)
    assert any("nbformat 3" in f for f in found)
    result = repair.repair_notebook(data, _release(A2), solutions=repair.solution_answers(REPO, A2),
                                    assignment=A2, read_notes=found)
    _assert_rebuilt_like_solution(result)


def test_huge_outputs_are_dropped(monkeypatch):
    monkeypatch.setattr(repair, "MAX_OUTPUT_BYTES", 10_000)
    nb = _dict(_solution(A2))
    cell = next(c for c in nb["cells"] if _gid(c) == "model")
    cell["outputs"] = [{"output_type": "stream", "name": "stdout", "text": "x" * 50_000}]
    result = _run(nb)
    out = _assert_rebuilt_like_solution(result)
    assert all(not c.get("outputs") for c in out.cells)
    assert any("outputs of" in r for r in result["repairs"])


@pytest.mark.parametrize("name,content,reason", [
    ("02_cnn_model.ipynb", b"", "empty"),
    ("02_cnn_model.py", b"#!/usr/bin/env python\n# coding: utf-8\nprint(1)\n", ".py export"),
    ("02_cnn_model.html", b"<!DOCTYPE html>\n<html><body>nb</body></html>", "HTML export"),
    ("02_cnn_model.ipynb", b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR", "binary"),
    ("02_cnn_model.ipynb", b"%PDF-1.7\n", "PDF"),
    ("02_cnn_model.ipynb", b'{"cells": [{"cell_type": "code", "sour', "not valid JSON"),
    ("02_cnn_model.ipynb", b'[1, 2, 3]', "not a Jupyter notebook"),
])
def test_what_is_refused_and_why(tmp_path, name, content, reason):
    path = tmp_path / name
    path.write_bytes(content)
    with pytest.raises(repair.Refused, match=reason):
        repair.read_submission(path)


def test_a_notebook_of_another_assignment_is_refused_and_named():
    with pytest.raises(repair.Refused, match=f"notebook of {A3}, not of {A2}"):
        _run(_solution(A3), A2)
    d = _dict(_solution(A3))
    for cell in d["cells"]:
        cell["metadata"] = {}
    with pytest.raises(repair.Refused, match="does not look like"):
        _run(d, A2)


# --- On a course folder: the original kept, the note, the report, the command ---------------------


@pytest.fixture
def course(tmp_path):
    return course_folder(tmp_path / "course", (A2, A3))


def _hand_in(root, student, a, content: bytes, name=None):
    folder = root / "submitted" / student / a
    folder.mkdir(parents=True)
    (folder / (name or f"{a}.ipynb")).write_bytes(content)
    return folder


def test_repair_class_keeps_originals_notes_the_repair_and_reports(course, capsys):
    clean = nbformat.writes(_solution(A2)).encode()
    damaged = _dict(_solution(A2))
    for cell in damaged["cells"]:
        cell["metadata"].pop("nbgrader", None)
    damaged = json.dumps(damaged).encode()
    _hand_in(course, "alice", A2, clean)
    bob = _hand_in(course, "bob", A2, damaged)
    _hand_in(course, "carol", A2, b"")
    _hand_in(course, "dave", A2, b"<html></html>", name=f"{A2}.html")
    assert cli.main(["repair", A2, "--course", str(course)]) == 1  # a refusal: exit 1
    out = capsys.readouterr().out
    assert "1 fine as handed in, 1 repaired, 2 refused" in out
    assert "REPAIRED bob" in out and "REFUSED carol" in out and "HTML export" in out
    assert (bob / f"{A2}.original.ipynb").read_bytes() == damaged  # untouched
    fixed = nbformat.read(bob / f"{A2}.ipynb", as_version=4)
    assert fixed.cells[0].cell_type == "markdown" and "repaired before grading" in fixed.cells[0].source
    assert "metadata was gone" in fixed.cells[0].source
    assert _answers(fixed) == _answers(_solution(A2))
    summary = json.loads((course / "repairs" / A2 / "summary.json").read_text())
    assert summary["ok"] == ["alice"] and set(summary["refused"]) == {"carol", "dave"}
    assert json.loads((course / "repairs" / A2 / "bob.json").read_text())["status"] == "repaired"
    # Grading's check: the repaired and the clean notebooks can be graded, the refused ones are skipped.
    assert repair.triage(course, A2, "alice") == ("ok", "")
    assert repair.triage(course, A2, "bob") == ("ok", "")
    assert repair.triage(course, A2, "carol")[0] == "skip"
    assert "HTML export" in repair.triage(course, A2, "dave")[1]
    # Running it again starts from the kept original and gives the same notebook.
    before = (bob / f"{A2}.ipynb").read_text()
    repair.repair_class(course, A2)
    assert (bob / f"{A2}.ipynb").read_text() == before
    assert (bob / f"{A2}.original.ipynb").read_bytes() == damaged


def test_triage_sends_damaged_notebooks_to_repair(course):
    d = _dict(_solution(A2))
    i = next(k for k, c in enumerate(d["cells"]) if _gid(c) == "model")
    d["cells"].insert(i, copy.deepcopy(d["cells"][i]))
    _hand_in(course, "erin", A2, json.dumps(d).encode())
    status, why = repair.triage(course, A2, "erin")
    assert status == "skip" and "asl-course repair" in why


def test_a_200_mb_output_is_repaired_without_it(course):
    d = _dict(_solution(A2))
    cell = next(c for c in d["cells"] if _gid(c) == "model")
    cell["outputs"] = [{"output_type": "stream", "name": "stdout", "text": "0" * (200 * 1024 * 1024)}]
    folder = _hand_in(course, "frank", A2, json.dumps(d).encode())
    del d, cell
    assert repair.triage(course, A2, "frank")[0] == "skip"  # too large to grade as it is
    report = repair.repair_student(course, A2, "frank")
    assert report["status"] == "repaired" and any("outputs of" in r for r in report["repairs"])
    assert (folder / f"{A2}.ipynb").stat().st_size < 1_000_000
    assert repair.triage(course, A2, "frank") == ("ok", "")


# --- Each step on a tiny notebook, and every message a student reads checked against the damage done ------------

TINY = "99_tiny"
BADGE = "[![Open In Colab](badge.svg)](https://colab.research.google.com/github/o/r/blob/main/release/99_tiny/99_tiny.ipynb)"
STUB = "# YOUR CODE HERE\nraise NotImplementedError()"
ANSWERS = {"double": "def double(x):\n    return 2 * x", "square": "def square(x):\n    return x * x"}


def _tiny_cell(kind, text, gid=None, role=None):
    cell = (nbformat.v4.new_code_cell if kind == "code" else nbformat.v4.new_markdown_cell)(text)
    if role:
        cell.metadata["nbgrader"] = {"grade_id": gid, "schema_version": 3, "solution": role == "answer",
                                     "grade": role == "test", "locked": role in ("test", "locked"),
                                     **({"points": 1} if role == "test" else {})}
        if role != "answer":
            cell.metadata.update(editable=False, deletable=False)
    return cell


def _tiny_release(edition="new"):
    """A release of two exercises (as tests/fixtures/repair/release.ipynb); ``edition="old"``: the same
    release as another edition words it (nbgrader's own output before the course's step: badge mark,
    no "(read-only)")."""
    ro = " (read-only)" if edition == "new" else ""
    nb = nbformat.v4.new_notebook()
    nb.cells = [
        _tiny_cell("markdown", f"# 9. Tiny\n\n{BADGE if edition == 'new' else '<!-- colab-badge -->'}\n\n"
                   "Doubles and squares, then checks each."),
        _tiny_cell("code", f"# Setup{ro}. Install the helpers.\nimport math", "setup", "locked"),
        _tiny_cell("markdown", "## 1. Double\n\nWrite `double(x)`."),
        _tiny_cell("code", STUB, "double", "answer"),
        _tiny_cell("code", f'"""Self-check{ro}: double."""\nassert double(2) == 4', "test_double", "test"),
        _tiny_cell("markdown", "## 2. Square\n\nWrite `square(x)`."),
        _tiny_cell("code", STUB, "square", "answer"),
        _tiny_cell("code", f'"""Self-check{ro}: square."""\nassert square(3) == 9', "test_square", "test"),
        _tiny_cell("markdown", "## Summary\n\n- a function per exercise"),
    ]
    return nb


def _tiny_handed_in(edition="new"):
    """The release of ``edition`` with both answers written (a v4 dict, as read from a file)."""
    nb = _tiny_release(edition)
    for cell in nb.cells:
        gid = _gid(cell)
        if gid in ANSWERS:
            cell.source = ANSWERS[gid]
    return _dict(nb)


def _cells_of(d, gid):
    return [k for k, c in enumerate(d["cells"]) if _gid(c) == gid]


#: Hand-ins of the tiny release, each damaged one way (tests/fixtures/repair/<kind>.ipynb, as a
#: student's file would hold them: answers written, then Colab's metadata, deleted, moved, copied
#: or retyped cells, ...), and the damage each holds: ``damage.json``, ``{kind: [[finding kind,
#: grade_id or null], ...]}``, what repair must find and tell the student, nothing more.
FIXTURES = Path(__file__).resolve().parent / "fixtures" / "repair"


def _damaged(kind):
    """``(submission dict, the damage done: {(finding kind, grade_id or None)})``, from the fixture files."""
    damage = json.loads((FIXTURES / "damage.json").read_text())[kind]
    return json.loads((FIXTURES / f"{kind}.ipynb").read_text()), {tuple(d) for d in damage}


DAMAGE = ("clean", "colab", "colab_no_nbgrader", "old_edition_colab_no_nbgrader", "deleted_read_only", "reordered",
          "extra_cells", "extra_cells_no_nbgrader", "duplicated_answer", "retyped_answer", "deleted_answer",
          "duplicated_read_only", "retyped_read_only")


def test_the_fixture_files_are_hand_ins_of_the_tiny_release():
    """The damaged notebooks on disk belong to the release the steps are tested with (the release
    file is that release), and each kind is a file."""
    on_disk = nbformat.read(FIXTURES / "release.ipynb", as_version=4)
    assert [(c.cell_type, c.source, c.metadata) for c in on_disk.cells] == [
        (c.cell_type, c.source, c.metadata) for c in _tiny_release().cells]
    assert sorted(p.stem for p in FIXTURES.glob("*.ipynb")) == sorted([*DAMAGE, "release"])
    assert set(json.loads((FIXTURES / "damage.json").read_text())) == set(DAMAGE)


def _tiny_run(sub):
    return repair.repair_notebook(sub, _tiny_release(), solutions=ANSWERS, assignment=TINY)


def _alignment(sub):
    return repair.Alignment(list(_tiny_release().cells), repair.normalise_cells(sub))


def test_step_grade_id_matches_whatever_the_text_and_place():
    d = _tiny_handed_in("old")
    d["cells"].append(d["cells"].pop(_cells_of(d, "test_double")[0]))
    al = _alignment(d)
    repair.match_by_grade_id(al)
    rel = _tiny_release()
    assert {_gid(rel.cells[i]): js for i, js in al.match.items()} == {
        "setup": [1], "double": [3], "test_double": [8], "square": [5], "test_square": [6]}


def test_step_same_text_pairs_repeated_cells_in_turn_and_skips_answers():
    rel = _tiny_release()
    rel.cells.insert(2, _tiny_cell("code", "print(1)"))
    rel.cells.insert(4, _tiny_cell("code", "print(1)"))
    sub = _dict(rel)
    for c in sub["cells"]:
        c["metadata"] = {}
    al = repair.Alignment(list(rel.cells), repair.normalise_cells(sub))
    repair.match_same_text(al)
    assert al.match[2] == [2] and al.match[4] == [4]  # each copy its own, in order
    assert not {_gid(rel.cells[i]) for i in al.match} & set(ANSWERS)  # answers are step 4's


def test_step_close_text_finds_another_editions_wording_not_a_neighbour():
    sub = _tiny_handed_in("old")
    for c in sub["cells"]:
        c["metadata"] = {}
    al = _alignment(sub)
    repair.match_same_text(al)
    assert 0 not in al.match and 1 not in al.match  # badge and "(read-only)" differ
    repair.match_close_text(al)
    assert all(al.match[i] == [i] for i in (0, 1, 4, 7)), al.match  # title, setup, both self-checks
    assert al.how[4] == "close text" and 3 not in al.match and 6 not in al.match  # answers left to step 4


def test_step_place_answers_takes_the_most_like_the_solution_and_reports_the_other():
    sub, _ = _damaged("extra_cells_no_nbgrader")
    al = _alignment(sub)
    repair.match_same_text(al)
    repair.match_close_text(al)
    repair.place_answers(al, ANSWERS)
    assert al.match[3] == [3] and al.cells[3]["source"] == ANSWERS["double"]
    assert [f.kind for f in al.findings if f.cell == 3] == ["could_be_answer", "answer_found"]


def test_step_rebuild_adds_nothing_and_duplicates_nothing():
    sub, _ = _damaged("old_edition_colab_no_nbgrader")
    sub["cells"][2:2] = [nbformat.v4.new_code_cell("helper = 1")]
    result = _tiny_run(sub)
    out = result["notebook"]
    texts = [c.source for c in out.cells]
    assert len(texts) == len(set(texts)) == len(_tiny_release().cells) + 1  # the release's cells once, + the student's
    assert texts[texts.index("helper = 1") - 1].startswith("# Setup (read-only)")  # where it was
    assert [c.source for c in out.cells if _gid(c) in ANSWERS] == list(ANSWERS.values())
    assert "Self-check" not in "".join(c.source for c in out.cells if _gid(c) in ANSWERS)


@pytest.mark.parametrize("kind", DAMAGE)
def test_every_message_to_the_student_is_true(kind, tmp_path):
    """Repair writes its findings into the repaired notebook's first cell, which the student reads in the
    feedback: each one must name damage this fixture really has, and all the damage must be named."""
    sub, damage = _damaged(kind)
    folder = tmp_path / "submitted" / "s1" / TINY
    folder.mkdir(parents=True)
    (folder / f"{TINY}.ipynb").write_text(json.dumps(sub))
    context = {"release": _tiny_release(), "solutions": ANSWERS, "others": {}}
    report = repair.repair_student(tmp_path, TINY, "s1", context=context)
    written = nbformat.read(folder / f"{TINY}.ipynb", as_version=4)
    if not damage:
        assert report["status"] == "ok" and not written.cells[0].metadata.get(repair.NOTE_KEY), report
        return
    note = written.cells[0]
    assert note.metadata.get(repair.NOTE_KEY), "a repaired notebook starts with the note"
    told = [line[2:] for line in note.source.splitlines() if line.startswith("- ")]
    findings = {f["message"]: f for f in _tiny_run(sub)["findings"] if f["audience"] != "instructor"}
    rel = _tiny_release()
    claimed = set()
    for line in told:
        finding = findings[line.removeprefix("not placed: ")]
        subject = _gid(rel.cells[finding["cell"]]) if finding["cell"] is not None else None
        assert (finding["kind"], subject) in damage, f"{kind}: the student is told {line!r}, which is not so"
        claimed.add((finding["kind"], subject))
    assert claimed == damage, f"{kind}: damage not told: {damage - claimed}"
    assert report["status"] == "repaired" and (folder / f"{TINY}{repair.ORIGINAL_SUFFIX}").is_file()
    answers = {_gid(c): c.source for c in written.cells if _gid(c) in ANSWERS}
    assert answers == {g: (STUB if ("answer_missing", g) in damage else a) for g, a in ANSWERS.items()}
    again = repair.repair_notebook(_dict(written), rel, solutions=ANSWERS, assignment=TINY)
    assert again["status"] == "ok", again["repairs"]


@pytest.mark.parametrize("a", [A2, A3])
def test_a_solution_from_nbgraders_plain_release_saved_by_colab_is_rebuilt_once_and_truly(a):
    """The issue's class: students were handed nbgrader's own release (no "(read-only)", the badge and how-to
    marks unfilled) and Colab dropped nbgrader's metadata; graded against the course's release."""
    from asl_course.tooling import editions

    d = _dict(_solution(a))
    for cell in d["cells"]:
        cell["source"] = "".join(cell["source"]).replace(f" {editions.READ_ONLY}", "")
        cell["source"] = re.sub(r"\[!\[Open In Colab\].*\)", editions.BADGE_MARK, cell["source"])
        cell["source"] = cell["source"].replace(editions.HOWTO["release"], editions.HOWTO_MARK)
    result = _run(_colab_saved(d), a)
    out = _assert_rebuilt_like_solution(result, a)
    assert not any(repair.RESTORED in r for r in result["repairs"])  # nothing was deleted
    assert len(out.cells) == len(_release(a).cells)  # each release cell once, nothing added
    # The release's read-only cells and text, the student's answers and given code (the setup cell is not
    # nbgrader's: it runs as handed in); none of the other edition's self-checks, the title once.
    release_cells = {c.source for c in _release(a).cells}
    students_code = {c["source"] for c in d["cells"] if c["cell_type"] == "code"}
    assert {c.source for c in out.cells} <= release_cells | students_code
    assert not [c for c in out.cells if c.source.startswith('"""Self-check:')]
    assert len([c for c in out.cells if c.source.startswith("# ") and c.cell_type == "markdown"]) == 1


def _colab_saved(d):
    d["metadata"]["colab"] = {"provenance": []}
    for k, cell in enumerate(d["cells"]):
        cell["metadata"] = {"id": f"c{k}"}
    return d
