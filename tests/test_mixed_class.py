"""A class as it really comes (issue 27): Korean and English hand-ins of notebooks 1 and 2, graded by
one gradebook in one ``nbgrader autograde`` run. Each is graded as it deserves (the same work gets
the same points in either language) and each student's feedback is in the language of their edition.

The Korean students start from ``ko/release/`` (built by ``asl-course build``), the English ones
from the course's own release; the instructor's course folder knows only the English source.
"""

from __future__ import annotations

import html
import re
import shutil
from pathlib import Path

import nbformat
import pytest

from asl_course import grading, i18n
from asl_course.grading import cells
from asl_course.tooling import classroom, editions

REPO = Path(__file__).resolve().parent.parent
ASSIGNMENTS = ("01_prepare_data", "02_cnn_model")
HANGUL = i18n.HANGUL
#: What the two students who make mistakes get wrong (one per notebook), in either language.
MISTAKES = {
    "01_prepare_data": ("normalize", "x_train / 255\n", "x_train / 255 / 255\n", "test_normalize"),
    "02_cnn_model": ("predict_params", None, None, "test_predict_params"),
}

pytestmark = pytest.mark.slow


def _answers(assignment: str) -> dict[str, str]:
    source = nbformat.read(REPO / "source" / assignment / f"{assignment}.ipynb", as_version=4)
    return {cells.grade_id(c): editions.solved(c.source) for c in source.cells if cells.is_solution(c)}


def _hand_in(lang: str, assignment: str, wrong: bool):
    """A student's notebook: the release of their language, every answer written as the solution's,
    and, if ``wrong``, the notebook's one mistake."""
    nb = nbformat.read(REPO / editions.edition_path("release", assignment, lang), as_version=4)
    for grade_id, answer in _answers(assignment).items():
        nb = classroom.set_source(nb, grade_id, answer)
    if wrong:
        grade_id, old, new, _ = MISTAKES[assignment]
        nb = classroom.replace(nb, grade_id, old, new) if old else classroom.stub(nb, grade_id)
    return nb


@pytest.fixture(scope="module")
def mixed_class(tmp_path_factory, data_dir):
    root = tmp_path_factory.mktemp("mixed")
    shutil.copytree(data_dir, root / "data" / "asl_data")
    course = classroom.Course.create(root, data_dir=root / "data" / "asl_data")
    for assignment in ASSIGNMENTS:
        course.generate(assignment)
    students = {"en_right": ("en", False), "ko_right": ("ko", False), "en_wrong": ("en", True),
                "ko_wrong": ("ko", True)}
    for student, (lang, wrong) in students.items():
        for assignment in ASSIGNMENTS:
            course.submit(student, assignment, _hand_in(lang, assignment, wrong))
    course.autograde("*")  # one nbgrader run: both notebooks, both languages, one gradebook
    for assignment in ASSIGNMENTS:
        course.generate_feedback(assignment)
    return course, students


def _error_text(nb, grade_id: str) -> str:
    cell = next(c for c in nb.cells if cells.grade_id(c) == grade_id)
    return "\n".join(o.get("evalue", "") + "\n".join(o.get("traceback", [])) for o in cell.get("outputs", [])
                     if o.get("output_type") == "error")


@pytest.mark.parametrize("assignment", ASSIGNMENTS)
def test_the_same_work_gets_the_same_points_in_either_language(mixed_class, assignment):
    course, _ = mixed_class
    scores = course.scores(assignment)
    full = {gid: float(p) for gid, p in grading.POINTS[assignment].items()}
    assert scores["en_right"] == full and scores["ko_right"] == full
    lost = MISTAKES[assignment][3]
    assert scores["en_wrong"] == {**full, lost: 0.0}
    assert scores["ko_wrong"] == scores["en_wrong"]


@pytest.mark.parametrize("assignment", ASSIGNMENTS)
def test_feedback_is_in_each_students_language(mixed_class, assignment):
    course, students = mixed_class
    lost = MISTAKES[assignment][3]
    for student, (lang, wrong) in students.items():
        page = html.unescape(re.sub(r"<[^>]+>", " ", course.feedback_html(student, assignment)))
        assert bool(HANGUL.search(page)) == (lang == "ko"), f"{student}'s feedback page"
        if wrong:
            said = _error_text(course.autograded_notebook(student, assignment), lost)
            assert said, f"{student}: the failed test says what is wrong"
            assert bool(HANGUL.search(said)) == (lang == "ko"), f"{student}: {said[:200]}"
