"""The learners package's learner-facing messages in Korean (issue 27), and in English unchanged.

``ASL_COURSE_LANG`` picks the catalog (:mod:`asl_course.i18n`): with ``ko`` a self-check's advice,
its failures and the figures' titles are Korean; with ``en`` they are the English texts the other
tests read. Fast: no training, no TensorFlow model.
"""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import pytest

from asl_course import i18n
from asl_course.learners import checks, lesson, mistakes, selfstudy

HANGUL = re.compile(r"[\uac00-\ud7a3]")
CATALOGS = sorted((Path(i18n.LOCALE_DIR) / "ko").glob("learners.*.po")) + \
    sorted((Path(i18n.LOCALE_DIR) / "ko").glob("dataset.*.po"))


def not_done(exercise: str, namespace: dict) -> str:
    with pytest.raises(checks.NotDoneYet) as caught:
        checks.self_check(exercise, namespace)
    return "\n".join(caught.value._render_traceback_())


def failed(function, *args) -> str:
    with pytest.raises(checks.SelfCheckFailed) as caught:
        function(*args)
    return "\n".join(caught.value._render_traceback_())


def test_not_defined_yet_in_korean(monkeypatch):
    monkeypatch.setenv(i18n.ENV, "ko")
    text = not_done("model", {})
    lines = text.splitlines()
    assert "`model`" in lines[1] and HANGUL.search(lines[1]) and "not defined" not in text, text
    assert "자가 점검" in lines[0] or "아직" in lines[0], lines[0]  # the heading: "Not done yet"
    assert "해결 방법" in lines[2] and "`model`" in lines[2], lines[2]  # the fix names the variable
    assert "1. 모델 구조" in lines[2], lines[2]  # the exercise's title, looked up in the catalog
    assert "padding" in lines[3] and HANGUL.search(lines[3]), lines[3]  # the exercise's hint


def test_not_defined_earlier_in_korean(monkeypatch):
    monkeypatch.setenv(i18n.ENV, "ko")
    text = not_done("labels", {})  # y_train, y_valid (its own) and train_df, valid_df (earlier cells)
    assert "`train_df`, `valid_df`" in text and "도 정의되지 않았습니다" in text, text
    assert "Run > Run All Above Selected Cell" in text  # the menu's name stays as Jupyter shows it


def test_not_defined_yet_in_english(monkeypatch):
    monkeypatch.setenv(i18n.ENV, "en")
    text = not_done("model", {})
    assert "  `model` is not defined yet." in text.splitlines(), text
    assert 'Fix: define `model` in the cell above (exercise "1. The architecture") and run that cell, then run ' \
           "this self-check again." in text
    assert text.splitlines()[0].endswith("\u2718 Not done yet\x1b[0m")
    assert not HANGUL.search(text)


def test_a_failing_check_in_korean_and_english(monkeypatch):
    y_valid = np.full(10, 99)  # no letters 0..23: the check cannot count them
    monkeypatch.setenv(i18n.ENV, "ko")
    korean = failed(checks.check_predict_balance, "A", y_valid)
    assert "자가 점검 실패" in korean and "문제: " in korean and "해결 방법: " in korean, korean
    assert "y_valid" in korean and "0..23" in korean, korean  # names and numbers kept
    assert "Mistake" not in korean and "does not hold" not in korean, korean
    monkeypatch.setenv(i18n.ENV, "en")
    english = failed(checks.check_predict_balance, "A", y_valid)
    assert "Mistake: y_valid does not hold the labels 0..23, so its letters cannot be counted" in english
    assert "Fix: rerun the notebook from the top to section 2 (the labels), then this cell" in english
    assert not HANGUL.search(english)


def test_passing_lines_and_run_mode(monkeypatch, capsys):
    monkeypatch.setenv(i18n.ENV, "ko")
    checks.check_steps(4, 100, 32)
    korean = capsys.readouterr().out
    assert korean.startswith("\u2714 steps_per_epoch = 4: ") and HANGUL.search(korean), korean
    assert "빠른 모드" in lesson.run_plan(True).describe()
    monkeypatch.setenv(i18n.ENV, "en")
    checks.check_steps(4, 100, 32)
    assert capsys.readouterr().out == "\u2714 steps_per_epoch = 4: every image once per epoch\n"
    assert lesson.run_plan(False).describe() == \
        f"Full mode: the lesson's run, {lesson.FULL_EPOCHS} epochs on all training images, batch size 32."


def test_self_study_cells_in_korean(monkeypatch, capsys):
    monkeypatch.setenv(i18n.ENV, "ko")
    selfstudy.reset()
    with selfstudy.self_check("model"):
        checks.self_check("model", {})
    assert selfstudy.use_answer("model")
    out = capsys.readouterr().out
    assert "정답 셀" in out and "정답 코드를 실행합니다" in out, out
    assert "`model`" in out and "Or run the answer cell" not in out, out
    selfstudy.reset()


@pytest.mark.filterwarnings("ignore:Glyph .* missing from font")  # no Hangul font here: boxes, the text is the same
def test_figure_titles_are_looked_up(monkeypatch):
    """A title written in a notebook's code cell is drawn as the catalog's translation of it."""
    matplotlib = pytest.importorskip("matplotlib")
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from asl_course.learners import evaluation, notebook

    title = "The first 32 training images"  # a title literal of notebook 1 (notebook_titles)
    monkeypatch.setattr(i18n, "catalog", lambda lang: {title: "처음 32개의 훈련 이미지"} if lang == "ko" else {})
    monkeypatch.setattr(plt, "show", lambda *a, **k: None)
    images, labels = np.zeros((4, 28, 28, 1), dtype="float32"), np.arange(4)

    def drawn(function, *args, **kwargs) -> list[str]:
        before = set(plt.get_fignums())
        function(*args, **kwargs)
        figures = [plt.figure(n) for n in plt.get_fignums() if n not in before]
        texts = [t.get_text() for fig in figures for t in fig.texts]
        texts += [ax.get_title() for fig in figures for ax in fig.axes]
        for fig in figures:
            plt.close(fig)
        return texts

    monkeypatch.setenv(i18n.ENV, "ko")
    assert "처음 32개의 훈련 이미지" in drawn(notebook.show_grid, images, labels, rows=1, cols=4, title=title)
    assert "처음 32개의 훈련 이미지" in drawn(evaluation.plot_per_letter_accuracy, np.ones(24), title=title)
    assert "처음 32개의 훈련 이미지" in drawn(notebook.show_before_after, images, images, labels, pairs=2, title=title)
    unknown = "a title no catalog holds"
    assert unknown in drawn(notebook.show_grid, images, labels, rows=1, cols=4, title=unknown)  # as it is
    monkeypatch.setenv(i18n.ENV, "en")
    assert title in drawn(notebook.show_grid, images, labels, rows=1, cols=4, title=title)


def test_the_catalogs_of_the_learners_package_are_translated():
    """Every message of these catalogs has a Korean text with its English's placeholders (and Hangul)."""
    assert CATALOGS, "no catalogs: run `asl-course translate update --lang ko`"
    for path in CATALOGS:
        entries, _ = i18n.read_po(path)
        for entry in (e for e in entries if not e.obsolete):
            where = f"{path.name}: {entry.msgid[:60]!r}"
            assert entry.translated, f"{where} has no Korean text"
            assert i18n.placeholders(entry.msgstr) == i18n.placeholders(entry.msgid), where
            assert HANGUL.search(entry.msgstr) or entry.msgstr == entry.msgid, where
            assert entry.msgstr.startswith(("\u2714 ", "\u2718 ", "\n  ", "  ", " ")) == \
                entry.msgid.startswith(("\u2714 ", "\u2718 ", "\n  ", "  ", " ")), f"{where}: its lead changed"


def test_mistake_headings_are_catalog_texts():
    """The headings SelfCheckFailed and NotDoneYet show are marked English texts the catalog translates."""
    korean = i18n.catalog("ko")
    assert korean.get(mistakes.SelfCheckFailed.heading) and korean.get(mistakes.NotDoneYet.heading)
