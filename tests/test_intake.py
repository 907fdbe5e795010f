"""Intake of LMS downloads (``asl_course.grading.instructor.intake``, ``asl-course intake``): no grading (fast).

Zips made here in the forms Canvas, Moodle, Blackboard and Gradescope export, with a roster:
each hand-in must land in ``submitted/<student>/<assignment>/<assignment>.ipynb``, the latest
of several attempts winning, and every file it cannot place reported with the reason.
"""

from __future__ import annotations

import json
import zipfile
from pathlib import Path

import nbformat
import pytest

from _course import course_folder
from asl_course.grading.instructor import intake
from asl_course.tooling import classroom, cli
from asl_course.errors import UserError

REPO = Path(__file__).resolve().parent.parent
A2, A3 = "02_cnn_model", "03_augmentation"

ROSTER = """student_id,name,sortable_name,lms_id,username,email,sid
alice,Alice Martin,"Martin, Alice",1001,amartin,alice@example.org,S1
bob,Bob Okafor,"Okafor, Bob",1002,bokafor,bob@example.org,S2
carol,Carol Nguyen,"Nguyen, Carol",1003,cnguyen,carol@example.org,S3
dave,Dave Smith,"Smith, Dave",1004,dsmith,dave@example.org,S4
erin,Erin Smith,"Smith, Erin",1005,esmith,erin@example.org,S5
"""


@pytest.fixture
def course(tmp_path):
    root = course_folder(tmp_path / "course", (A2, A3), source=False)
    (tmp_path / "roster.csv").write_text(ROSTER)
    return root


def _nb(a, marker=""):
    nb = classroom.solution_notebook(REPO, a)
    nb.cells.append(nbformat.v4.new_markdown_cell(marker))
    return nbformat.writes(nb).encode()


def _zip(path, members: dict):
    with zipfile.ZipFile(path, "w") as z:
        for name, data in members.items():
            z.writestr(name, data)
    return path


def _marker(course, student, a):
    nb = nbformat.read(course / "submitted" / student / a / f"{a}.ipynb", as_version=4)
    return nb.cells[-1].source


def test_canvas_zip_latest_attempt_late_and_colab_copy_names(course, tmp_path):
    z = _zip(tmp_path / "submissions.zip", {
        "martinalice_1001_50001_02_cnn_model.ipynb": _nb(A2, "alice v1"),
        "martinalice_1001_50077_02_cnn_model-1.ipynb": _nb(A2, "alice v2"),  # uploaded again
        "okaforbob_late_1002_50010_Copy of 02_cnn_model.ipynb": _nb(A2, "bob"),  # Colab's name
        "nguyen_carol_1003_50011_03_augmentation (1).ipynb": _nb(A3, "carol"),
        "smithdave_1004_50012_homework.ipynb": _nb(A3, "dave by content"),  # its cells say 03
        "zhangwei_1999_50013_02_cnn_model.ipynb": _nb(A2, "stranger"),
        "martinalice_1001_50014_notes.docx": b"PK\x03\x04 not a notebook",
        "readme.txt": b"hello",
    })
    report = intake.intake(course, z, tmp_path / "roster.csv")
    assert _marker(course, "alice", A2) == "alice v2"
    assert _marker(course, "bob", A2) == "bob"
    assert _marker(course, "carol", A3) == "carol"
    assert _marker(course, "dave", A3) == "dave by content"
    assert [f["late"] for f in report["filed"] if f["student"] == "bob"] == [True]
    assert [s["file"] for s in report["superseded"]] == ["martinalice_1001_50001_02_cnn_model.ipynb"]
    why = {p["file"]: p["why"] for p in report["not_placed"]}
    assert "not on the roster" in why["zhangwei_1999_50013_02_cnn_model.ipynb"]
    assert "names none of the assignments" in why["martinalice_1001_50014_notes.docx"] or \
        "not a notebook" in why["martinalice_1001_50014_notes.docx"]
    assert "no LMS form" in why["readme.txt"]
    assert report["not_handed_in"] == ["erin"]


def test_moodle_folders_and_flattened_names(course, tmp_path):
    z = _zip(tmp_path / "moodle.zip", {
        "Alice Martin_7001_assignsubmission_file_/02_cnn_model.ipynb": _nb(A2, "alice"),
        "Bob Okafor_7002_assignsubmission_file_02_cnn_model.ipynb": _nb(A2, "bob"),
        "Dave Smith_7004_assignsubmission_file_/02_cnn_model.py": b"# coding: utf-8\nprint(1)\n",
    })
    report = intake.intake(course, z, tmp_path / "roster.csv")
    assert _marker(course, "alice", A2) == "alice" and _marker(course, "bob", A2) == "bob"
    # A .py export is filed as it is (repair refuses it with the reason).
    assert (course / "submitted" / "dave" / A2 / f"{A2}.py").is_file()
    assert not report["not_placed"]


def test_blackboard_attempts_timestamps_and_receipts(course, tmp_path):
    z = _zip(tmp_path / "gradebook.zip", {
        "CNN model_amartin_attempt_2026-11-30-10-00-00_02_cnn_model.ipynb": _nb(A2, "first"),
        "CNN model_amartin_attempt_2026-11-30-10-00-00.txt": b"Name: Alice Martin (amartin)",
        "CNN model_amartin_attempt_2026-12-01-09-30-00_02_cnn_model.ipynb": _nb(A2, "second"),
        "CNN model_amartin_attempt_2026-12-01-09-30-00.txt": b"receipt",
    })
    report = intake.intake(course, z, tmp_path / "roster.csv")
    assert _marker(course, "alice", A2) == "second"
    assert (course / "submitted" / "alice" / A2 / "timestamp.txt").read_text().startswith("2026-12-01 09:30:00")
    assert len(report["superseded"]) == 1 and not report["not_placed"]


def test_gradescope_export_with_metadata(course, tmp_path):
    meta = """
submission_900001:
  :submitters:
  - :name: Carol Nguyen
    :sid: S3
    :email: carol@example.org
  :created_at: 2026-11-29 18:00:00.000000000 +01:00
submission_900002:
  :submitters:
  - :name: Erin Smith
    :sid: S5
  :created_at: 2026-11-29 19:00:00.000000000 +00:00
"""
    z = _zip(tmp_path / "gs.zip", {
        "assignment_123_export/submission_metadata.yml": meta,
        "assignment_123_export/submission_900001/02_cnn_model.ipynb": _nb(A2, "carol"),
        "assignment_123_export/submission_900002/02_cnn_model.ipynb": _nb(A2, "erin"),
    })
    intake.intake(course, z, tmp_path / "roster.csv")
    assert _marker(course, "carol", A2) == "carol" and _marker(course, "erin", A2) == "erin"
    assert (course / "submitted" / "carol" / A2 / "timestamp.txt").read_text().startswith("2026-11-29 17:00:00")


def test_ambiguous_name_is_not_guessed(course, tmp_path):
    (tmp_path / "r2.csv").write_text("student_id,name\nd1,Dave Smith\nd2,Dave Smith\n")
    z = _zip(tmp_path / "m.zip", {"Dave Smith_7004_assignsubmission_file_/02_cnn_model.ipynb": _nb(A2)})
    report = intake.intake(course, z, tmp_path / "r2.csv")
    assert not report["filed"]
    assert "on the roster 2 times" in report["not_placed"][0]["why"]


def test_a_folder_per_student_and_the_assignment_option(course, tmp_path):
    d = tmp_path / "hand-ins"
    (d / "alice").mkdir(parents=True)
    (d / "alice" / "whatever.ipynb").write_bytes(b"{not json")
    report = intake.intake(course, d, tmp_path / "roster.csv", assignment=A2)
    assert (course / "submitted" / "alice" / A2 / f"{A2}.ipynb").read_bytes() == b"{not json"  # as it was
    assert report["filed"][0]["lms"] == "folder"


def test_cli_reports_and_exits_1_when_a_file_is_not_placed(course, tmp_path, capsys):
    z = _zip(tmp_path / "s.zip", {"martinalice_1001_1_02_cnn_model.ipynb": _nb(A2),
                                  "nobody_9_9_02_cnn_model.ipynb": _nb(A2)})
    out_json = tmp_path / "intake.json"
    rc = cli.main(["intake", str(z), "--roster", str(tmp_path / "roster.csv"), "--course", str(course),
                   "--json", str(out_json)])
    printed = capsys.readouterr().out
    assert rc == 1
    assert "NOT PLACED: nobody_9_9_02_cnn_model.ipynb: not on the roster" in printed
    assert json.loads(out_json.read_text())["students"] == ["alice"]


def test_bad_inputs_say_what_to_do(course, tmp_path):
    with pytest.raises(UserError, match="neither a folder nor a zip"):
        intake.intake(course, tmp_path / "roster.csv", tmp_path / "roster.csv")
    (tmp_path / "bad.csv").write_text("name\nAlice\n")
    z = _zip(tmp_path / "s.zip", {"a/b.ipynb": b"{}"})
    with pytest.raises(UserError, match="student_id"):
        intake.intake(course, z, tmp_path / "bad.csv")
    with pytest.raises(UserError, match="not released"):
        intake.intake(course, z, tmp_path / "roster.csv", assignment="99_nothing")


# --- By identity, as Canvas really names files ---------------------------------------------------------

ROSTER_IDS = """student_id,name,lms_user_id
jose,José Núñez,3001
zoe,Zoë Brontë,3002
chloe,Chloé Dubois,3003
alex,Alex Kim,3004
alex2,Alex Kim,3005
"""


def _canvas_zip(path, members: dict, *, utf8_flag=True):
    """A zip as Canvas writes it; ``utf8_flag=False``: UTF-8 names without the zip's UTF-8 flag."""
    with zipfile.ZipFile(path, "w") as z:
        for name, data in members.items():
            info = zipfile.ZipInfo(name, date_time=(2026, 12, 1, 9, 0, 0))
            z.writestr(info, data)
            if not utf8_flag:
                info.flag_bits &= ~0x800
    if not utf8_flag:  # zipfile sets the flag for non-ASCII names: clear it in the bytes, as some writers do
        raw = bytearray(Path(path).read_bytes())
        for sig, offset in ((b"PK\x03\x04", 6), (b"PK\x01\x02", 8)):
            start = 0
            while (k := raw.find(sig, start)) >= 0:
                raw[k + offset + 1] &= ~0x08
                start = k + 4
        Path(path).write_bytes(bytes(raw))
    return path


@pytest.mark.parametrize("utf8_flag", [True, False])
def test_canvas_names_in_any_script_matched_by_user_id(course, tmp_path, utf8_flag):
    """Canvas keeps é, ñ, ë in its names; the roster's lms_user_id decides, the name never overrides it."""
    import unicodedata

    (tmp_path / "ids.csv").write_text(ROSTER_IDS)
    z = _canvas_zip(tmp_path / "s.zip", {
        "núñezjosé_3001_1_02_cnn_model.ipynb": _nb(A2, "jose"),
        unicodedata.normalize("NFD", "brontëzoë_LATE_3002_2_02_cnn_model.ipynb"): _nb(A2, "zoe"),  # macOS spelling
        "duboischloé_late_3003_3_02_cnn_model.ipynb": _nb(A2, "chloe"),
        "kimalex_3005_4_02_cnn_model.ipynb": _nb(A2, "the second Alex Kim"),  # the name is on the roster twice
    }, utf8_flag=utf8_flag)
    report = intake.intake(course, z, tmp_path / "ids.csv")
    assert not report["not_placed"], report["not_placed"]
    for student in ("jose", "zoe", "chloe"):
        assert _marker(course, student, A2) == student
    assert _marker(course, "alex2", A2) == "the second Alex Kim"
    assert {f["student"]: f["late"] for f in report["filed"]} == {"jose": False, "zoe": True, "chloe": True,
                                                                  "alex2": False}


def test_roster_without_names_places_everyone_by_lms_user_id(course, tmp_path):
    (tmp_path / "ids.csv").write_text("student_id,name,LMS User ID\ns1,,3001\ns2,,3002\n")
    z = _zip(tmp_path / "s.zip", {"núñezjosé_3001_1_02_cnn_model.ipynb": _nb(A2, "s1"),
                                  "someoneelse_3002_2_03_augmentation.ipynb": _nb(A3, "s2")})
    report = intake.intake(course, z, tmp_path / "ids.csv")
    assert len(report["filed"]) == 2 and not report["not_placed"]
    assert _marker(course, "s1", A2) == "s1" and _marker(course, "s2", A3) == "s2"


def test_a_name_never_places_a_file_on_a_line_with_another_user_id(course, tmp_path):
    (tmp_path / "ids.csv").write_text(ROSTER_IDS)
    z = _zip(tmp_path / "s.zip", {"núñezjosé_9999_1_02_cnn_model.ipynb": _nb(A2)})  # José's name, not his id
    report = intake.intake(course, z, tmp_path / "ids.csv")
    assert not report["filed"]
    assert "not on the roster" in report["not_placed"][0]["why"]


def test_test_student_is_skipped_with_one_quiet_line_and_exit_0(course, tmp_path, capsys):
    z = _zip(tmp_path / "s.zip", {"martinalice_1001_1_02_cnn_model.ipynb": _nb(A2),
                                  "studenttest_4242_2_02_cnn_model.ipynb": _nb(A2)})
    rc = cli.main(["intake", str(z), "--roster", str(tmp_path / "roster.csv"), "--course", str(course)])
    printed = capsys.readouterr().out
    assert rc == 0, printed
    assert [line for line in printed.splitlines() if "studenttest" in line] == [
        "skipped: studenttest_4242_2_02_cnn_model.ipynb (the canvas test user)"]
    assert "roster" not in printed.split("on the roster, nothing handed in")[0]  # no line asks to add anyone


def test_a_file_in_no_lms_form_is_not_taken_for_a_student_folder(course, tmp_path):
    z = _zip(tmp_path / "s.zip", {f"{A2}/martin alice 1001 {A2}.ipynb": _nb(A2)})  # an unpacked, renamed download
    why = intake.intake(course, z, tmp_path / "roster.csv")["not_placed"][0]["why"]
    assert why.startswith(f"its name is in no LMS form this course reads, and its folder '{A2}' is no student_id")
    assert "add a line" not in why


def _due(course, assignment, when):
    from nbgrader.api import Gradebook

    with Gradebook(f"sqlite:///{course / 'gradebook.db'}") as gradebook:
        gradebook.update_or_create_assignment(assignment, duedate=when)


def test_canvas_lateness_is_recorded_where_nbgrader_reads_it(course, tmp_path, capsys):
    import datetime

    from nbgrader.utils import parse_utc

    z = _zip(tmp_path / "s.zip", {"martinalice_LATE_1001_1_02_cnn_model.ipynb": _nb(A2),
                                  "okaforbob_1002_2_02_cnn_model.ipynb": _nb(A2)})
    report = intake.intake(course, z, tmp_path / "roster.csv")  # no gradebook: said, nothing invented
    assert not (course / "submitted" / "alice" / A2 / "timestamp.txt").exists()
    assert "nbgrader db assignment add" in next(f["note"] for f in report["filed"] if f["student"] == "alice")
    due = datetime.datetime(2026, 12, 1, 23, 59)
    _due(course, A2, due)
    intake.intake(course, z, tmp_path / "roster.csv")
    stamp = parse_utc((course / "submitted" / "alice" / A2 / "timestamp.txt").read_text())
    assert stamp > due and stamp - due == datetime.timedelta(seconds=1)  # late, as nbgrader counts it
    assert not (course / "submitted" / "bob" / A2 / "timestamp.txt").exists()  # on time: no time invented


# --- End to end: an LMS zip -> intake -> repair -> grade (2 workers) -> feedback ------------------------


def _damage(kind, nb):
    """The notebook ``nb`` (v4 node) as bytes, damaged the way ``kind`` says."""
    d = json.loads(nbformat.writes(nb))
    ids = [c.get("metadata", {}).get("nbgrader", {}).get("grade_id") for c in d["cells"]]
    i = ids.index("model")
    if kind == "colab":  # Colab's own metadata, nothing else: graded as it is
        d["metadata"]["colab"] = {"provenance": [{"file_id": "1xyz"}], "name": "02_cnn_model.ipynb"}
        for k, c in enumerate(d["cells"]):
            c["metadata"].update({"id": f"c{k}", "outputId": f"o{k}", "colab": {"base_uri": "https://localhost:8080/"}})
    elif kind == "cleared":  # nbgrader issue 1398
        for c in d["cells"]:
            c["metadata"] = {}
    elif kind == "duplicated":  # nbgrader issue 1083
        first = json.loads(json.dumps(d["cells"][i]))
        first["source"] = "print('a first try')\n"
        d["cells"].insert(i, first)
    elif kind == "retyped":
        d["cells"][i]["cell_type"] = "markdown"
        d["cells"][i].pop("outputs"), d["cells"][i].pop("execution_count")
    elif kind == "reordered":
        d["cells"].append(d["cells"].pop(i))
    elif kind == "deleted_test":
        d["cells"].pop(ids.index("test_model"))
    elif kind == "nbformat3":
        return nbformat.writes(nbformat.convert(nb, 3), version=3).encode()
    elif kind == "huge_output":  # 200 MB of output
        d["cells"][i]["outputs"] = [{"output_type": "stream", "name": "stdout", "text": "0" * (200 << 20)}]
    return json.dumps(d).encode()


@pytest.mark.slow
def test_lms_zip_to_grades_and_feedback(tmp_path, data_dir, capsys):
    """A class of 11 graded students (7 with damaged notebooks: more than half) and 5 hand-ins that cannot be
    graded, exported as a Canvas/Moodle zip, goes through the README's sequence of commands. Each student is
    graded as the same answers in a clean notebook are (its clean twin in the same run, and the simulated
    class's expected scores), and the summary names every repair and every skip."""
    import time

    from submissions.catalogue import catalogue

    by_id = {s.student: s for s in catalogue()}
    root = tmp_path / "course"
    course = classroom.Course.create(root, data_dir=data_dir)
    course.generate(A2)
    # student -> (answers as in the catalogue, damage); the clean twins come first.
    plan = {
        "s01": ("a02_solution", None), "s03": ("m02_padding_valid", None),
        "s04": ("m02_layer_order", None), "s05": ("m02_no_softmax", "colab"),
        "s06": ("m02_no_softmax", "cleared"), "s07": ("a02_solution", "duplicated"),
        "s08": ("m02_padding_valid", "retyped"), "s09": ("a02_solution", "reordered"),
        "s10": ("m02_layer_order", "deleted_test"), "s11": ("a02_solution", "nbformat3"),
        "s12": ("m02_no_softmax", "huge_output"),
    }
    twin = {"a02_solution": "s01", "m02_padding_valid": "s03", "m02_layer_order": "s04",
            "m02_no_softmax": "s05"}
    bad = {"r1": (b"", f"{A2}.ipynb", "empty"),
           "r2": (b'{"cells": [{"cell_type": "code", "source": "x = ', f"{A2}.ipynb", "not valid JSON"),
           "r3": (b"<!DOCTYPE html><html><body>my notebook</body></html>", f"{A2}.html", "HTML export"),
           "r4": (nbformat.writes(classroom.solution_notebook(REPO, A3)).encode(), f"{A2}.ipynb",
                  f"notebook of {A3}"),
           "r5": (bytes(range(256)) * 64, f"{A2}.ipynb", "binary")}
    roster = ["student_id,name,lms_id"] + [f"{s},Student {s.upper()},{2000 + k}"
                                           for k, s in enumerate(list(plan) + list(bad))]
    (tmp_path / "roster.csv").write_text("\n".join(roster) + "\n")
    members = {}
    for k, (student, (answers, damage)) in enumerate(plan.items()):
        nb = by_id[answers].make(root)
        data = _damage(damage, nb) if damage else nbformat.writes(nb).encode()
        lms_id = 2000 + k
        if student == "s03":  # two attempts: the release first, then the real one
            members[f"student{student}_{lms_id}_7000_{A2}.ipynb"] = nbformat.writes(
                classroom.release_notebook(root, A2)).encode()
            members[f"student{student}_{lms_id}_7100_{A2}-1.ipynb"] = data
        elif student == "s04":  # a Moodle-style folder
            members[f"Student {student.upper()}_{lms_id}_assignsubmission_file_/{A2}.ipynb"] = data
        else:
            members[f"student{student}_{lms_id}_{7001 + k}_{A2}.ipynb"] = data
    for k, (student, (data, name, _)) in enumerate(bad.items(), start=len(plan)):
        members[f"student{student}_{2000 + k}_{8000 + k}_{name}"] = data
    with zipfile.ZipFile(tmp_path / "submissions.zip", "w", zipfile.ZIP_DEFLATED) as z:
        for name, data in members.items():
            z.writestr(name, data)
    del members
    times = {}

    # The README's sequence.
    started = time.monotonic()
    assert cli.main(["intake", str(tmp_path / "submissions.zip"), "--roster", str(tmp_path / "roster.csv"),
                     "--course", str(root)]) == 0
    times["intake"] = time.monotonic() - started
    started = time.monotonic()
    assert cli.main(["repair", A2, "--course", str(root)]) == 1  # 5 refused
    times["repair"] = time.monotonic() - started
    repaired_out = capsys.readouterr().out
    started = time.monotonic()
    report_file = tmp_path / "grade.json"
    rc = cli.main(["grade", A2, "--workers", "2", "--course", str(root), "--json", str(report_file)])
    times["grade"] = time.monotonic() - started
    graded_out = capsys.readouterr().out
    course.generate_feedback(A2)
    print(f"\nseconds for {len(plan) + len(bad)} hand-ins (noisy shared machine): "
          + ", ".join(f"{k} {v:.1f}" for k, v in times.items()))

    assert rc == 1  # someone was skipped
    report = json.loads(report_file.read_text())
    damaged = {s for s, (_, d) in plan.items() if d and d != "colab"}
    assert set(report["repaired"][A2]) == damaged
    assert set(report["skipped"][A2]) == set(bad)
    for student, (_, _, why) in bad.items():
        assert why in report["skipped"][A2][student], (student, report["skipped"][A2][student])
        assert f"SKIPPED {student}" in graded_out and f"REFUSED {student}" in repaired_out
    for student in damaged:
        assert f"REPAIRED {student}" in graded_out
    assert f"{A2}: summary: 11 graded (7 of them repaired first), 5 skipped, 0 not graded" in graded_out
    assert report["graded"][A2] == sorted(plan)

    scores = course.scores(A2)
    assert set(scores) == set(plan)  # the skipped are not in the gradebook
    for student, (answers, damage) in plan.items():
        assert scores[student] == by_id[answers].expected(), (student, damage, scores[student])
        assert scores[student] == scores[twin[answers]], (student, damage)
        page = course.feedback_html(student, A2)
        assert ("repaired before grading" in page) == (student in damaged), student
    # The originals are kept untouched beside the repaired notebooks.
    assert (root / "submitted" / "s12" / A2 / f"{A2}.original.ipynb").stat().st_size > 200 << 20
    assert (root / "submitted" / "s11" / A2 / f"{A2}.original.ipynb").read_text().count('"nbformat": 3') == 1
