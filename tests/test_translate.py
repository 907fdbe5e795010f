"""Translations (issue 27): the PO catalogs, their fingerprints (the English each translates), the
language the package speaks, and the Korean editions built from the English source."""

from __future__ import annotations

import csv
import json
import re
import shutil
from pathlib import Path

import nbformat
import pytest

from asl_course import i18n
from asl_course.errors import UserError
from asl_course.tooling import editions, translate

REPO = Path(__file__).resolve().parents[1]
NAMES = editions.assignments(REPO)
HANGUL = i18n.HANGUL
LOCALE = i18n.LOCALE_DIR


# --- PO files ----------------------------------------------------------------------------------------


def test_po_round_trip_keeps_every_field(tmp_path):
    entries = [
        i18n.Entry(msgid="one line", msgstr="한 줄", msgctxt="01-00", references=["a.ipynb#01-00"]),
        i18n.Entry(msgid='two\nlines with "quotes" and \\ and\ttab', msgstr="두\n줄", comments=["placeholders: {n}"],
                   notes=["translator: why"], flags=["no-glossary"]),
        i18n.Entry(msgid="changed {n}", msgstr="바뀜 {n}", fuzzy=True, previous="old {n}"),
        i18n.Entry(msgid="gone", msgstr="사라짐", obsolete=True),
    ]
    path = tmp_path / "x.po"
    path.write_text(i18n.format_po(entries, "ko", "test"), encoding="utf-8")
    back, header = i18n.read_po(path)
    assert header["Language"] == "ko"
    assert [vars(e) for e in back] == [vars(e) for e in entries]


@pytest.mark.parametrize("bad", ['msgid "unclosed', 'msgid "x"\nmsgstr "y"\nnonsense here', 'msgid "bad \\q escape"'])
def test_a_broken_po_file_names_its_line(tmp_path, bad):
    path = tmp_path / "broken.po"
    path.write_text(bad + "\n", encoding="utf-8")
    with pytest.raises(i18n.POError, match=r"broken\.po:\d+"):
        i18n.read_po(path)


def test_placeholders_are_named_fields_not_doubled_braces():
    assert i18n.placeholders("{n:,} images, {{not}} one, {name!r} and {x:.3f}") == ["n", "name", "x"]


# --- Extraction and merging ---------------------------------------------------------------------------


def test_markdown_splits_into_blocks_and_keeps_fenced_code_whole():
    text = "# Title\n\nA paragraph\nover two lines.\n\n```python\na = 1\n\nb = 2\n```\n\n<!-- colab-badge -->\n\n- a\n- b"
    blocks = translate.paragraphs(text)
    assert blocks == ["# Title", "A paragraph\nover two lines.", "```python\na = 1\n\nb = 2\n```",
                      "<!-- colab-badge -->", "- a\n- b"]
    assert [translate.translatable(b) for b in blocks] == [True, True, False, False, True]


def test_merge_marks_a_changed_paragraph_fuzzy_and_keeps_a_removed_one():
    old = [i18n.Entry(msgid="Same.", msgstr="같음.", msgctxt="c1"),
           i18n.Entry(msgid="Old wording.", msgstr="옛 표현.", msgctxt="c1"),
           i18n.Entry(msgid="Removed cell.", msgstr="지운 셀.", msgctxt="c9")]
    current = [i18n.Entry(msgid="Same.", msgctxt="c1"), i18n.Entry(msgid="New wording.", msgctxt="c1"),
               i18n.Entry(msgid="Brand new.", msgctxt="c2")]
    merged = {(e.msgctxt, e.msgid): e for e in translate.merge(current, old)}
    assert merged[("c1", "Same.")].translated
    changed = merged[("c1", "New wording.")]
    assert (changed.msgstr, changed.fuzzy, changed.previous) == ("옛 표현.", True, "Old wording.")
    assert not changed.translated  # a fuzzy translation is not shown: the learner reads the new English
    assert merged[("c2", "Brand new.")].msgstr == ""
    assert merged[("c9", "Removed cell.")].obsolete


def _course(tmp_path: Path, name: str) -> tuple[Path, Path]:
    """A course folder holding one notebook's source, and its catalogs (untranslated) in a locale folder."""
    root = tmp_path / "course"
    shutil.copytree(REPO / "source" / name, root / "source" / name)
    shutil.copy(REPO / "nbgrader_config.py", root / "nbgrader_config.py")
    locale = tmp_path / "locale"
    translate.update(root, "ko", log=lambda *_: None, locale=locale)
    return root, locale


@pytest.fixture
def small_course(tmp_path):
    """A course folder with notebook 2's source and a catalog translating all of it."""
    root, locale = _course(tmp_path, NAMES[1])
    path = locale / "ko" / "notebooks" / f"{NAMES[1]}.po"
    entries, _ = i18n.read_po(path)
    for n, entry in enumerate(entries):
        entry.msgstr = f"번역 {n}"
    path.write_text(i18n.format_po(entries, "ko", "test"), encoding="utf-8")
    return root, locale


def _edit_source(root: Path, old: str, new: str) -> None:
    path = root / "source" / NAMES[1] / f"{NAMES[1]}.ipynb"
    nb = nbformat.read(path, as_version=4)
    cell = next(c for c in nb.cells if c.cell_type == "markdown" and old in c.source)
    cell.source = cell.source.replace(old, new)
    nbformat.write(nb, path)


def test_check_fails_when_an_english_text_changes_under_its_translation(small_course):
    root, locale = small_course
    assert [p for p in translate.check(root, "ko", locale).problems if NAMES[1] in p] == []
    _edit_source(root, "unchanged", "left as it was")
    problems = [p for p in translate.check(root, "ko", locale).problems if NAMES[1] in p]
    assert len(problems) == 1 and "stale translation" in problems[0] and "no longer in the source" in problems[0]
    translate.update(root, "ko", log=lambda *_: None, locale=locale)  # the translation follows, marked fuzzy
    problems = [p for p in translate.check(root, "ko", locale).problems if NAMES[1] in p]
    assert len(problems) == 1 and "fuzzy" in problems[0]


def test_check_fails_on_a_message_whose_placeholders_differ(tmp_path):
    root, locale = _course(tmp_path, NAMES[0])
    path = locale / "ko" / "tooling.editions.po"
    entries, _ = i18n.read_po(path)
    assert entries, "the editions' how-to paragraphs are marked for translation"
    entries[0].msgstr = "{oops} 번역"
    path.write_text(i18n.format_po(entries, "ko", "test"), encoding="utf-8")
    assert any("placeholders" in p for p in translate.check(root, "ko", locale).problems)


def test_a_message_that_is_not_a_literal_is_refused(tmp_path, monkeypatch):
    module = tmp_path / "pkg" / "bad.py"
    module.parent.mkdir()
    module.write_text("from asl_course.i18n import t\nname = 'x'\nprint(t(f'hello {name}'))\n")
    monkeypatch.setattr(translate, "PACKAGE", tmp_path / "pkg")
    texts, bad = translate.module_texts(module)
    assert texts == [] and bad == [3]


# --- The committed catalogs (CI's gate) ------------------------------------------------------------------


def test_the_korean_catalogs_are_in_step_with_the_source():
    """CI fails here when an English text changed and its translation did not follow (stale), when a
    translation's placeholders differ from its English, or when a catalog cannot be read."""
    report = translate.check(REPO, "ko")
    assert report.problems == []


def test_every_catalog_round_trips_through_update(tmp_path):
    """The committed catalogs are what `asl-course translate update` writes (nothing pending)."""
    locale = tmp_path / "locale"
    shutil.copytree(LOCALE, locale)
    assert translate.update(REPO, "ko", log=lambda *_: None, locale=locale) == []


def _glossary() -> list[tuple[re.Pattern, str]]:
    rows = [line for line in (LOCALE / "ko" / "glossary.tsv").read_text(encoding="utf-8").splitlines()
            if line and not line.startswith("#")]
    table = list(csv.DictReader(rows, delimiter="\t"))
    return [(re.compile(r["english"], re.IGNORECASE), r["korean"]) for r in table
            if not (r.get("note") or "").startswith("(advice)")]


_CODE = re.compile(r"`[^`]*`|\]\([^)]*\)|https?://\S+|\{[a-z_]+[^}]*\}")


def test_translations_use_the_glossary_terms():
    terms = _glossary()
    assert len(terms) >= 15
    wrong = []
    for path in sorted(LOCALE.glob("ko/**/*.po")):
        for entry in i18n.read_po(path)[0]:
            if not entry.translated or "no-glossary" in entry.flags:
                continue
            english = _CODE.sub(" ", entry.msgid)
            for pattern, korean in terms:
                if pattern.search(english) and korean not in entry.msgstr:
                    wrong.append(f"{path.name}: {entry.msgid[:50]!r} needs {korean}")
    assert wrong == []


# --- The learner's language ---------------------------------------------------------------------------------


@pytest.fixture
def ko_catalog(monkeypatch):
    table = {"{n:,} images": "이미지 {n:,}장", "Broken {n}": "깨짐 {m}"}
    monkeypatch.setattr(i18n, "catalog", lambda lang: table if lang == "ko" else {})
    return table


def test_t_speaks_the_chosen_language_and_falls_back_to_english(monkeypatch, ko_catalog):
    monkeypatch.setenv(i18n.ENV, "ko")
    assert i18n.t("{n:,} images", n=27455) == "이미지 27,455장"
    assert i18n.t("Not translated {x}", x=1) == "Not translated 1"
    assert "Not translated {x}" in i18n.missing("ko")
    assert i18n.t("Broken {n}", n=3) == "Broken 3"  # a translation with a wrong placeholder: the English
    ko_catalog["Attr {n}"] = "속성 {n.real.nope}"
    assert i18n.t("Attr {n}", n=3) == "Attr 3"
    monkeypatch.setenv(i18n.ENV, "en")
    assert i18n.t("{n:,} images", n=5) == "5 images"
    monkeypatch.setenv(i18n.ENV, "../../etc")  # not a language: English, no file read
    assert i18n.language() == "en"


def test_the_language_comes_from_the_open_notebooks_metadata(tmp_path, monkeypatch):
    monkeypatch.delenv(i18n.ENV, raising=False)
    nb = tmp_path / "nb.ipynb"
    nb.write_text(json.dumps({"cells": [], "metadata": {"asl_course": {"lang": "ko"}}}), encoding="utf-8")
    monkeypatch.setenv("JPY_SESSION_NAME", str(nb))
    i18n.detected.cache_clear()
    try:
        assert i18n.language() == "ko"
        monkeypatch.setenv(i18n.ENV, "en")  # the variable wins
        assert i18n.language() == "en"
    finally:
        i18n.detected.cache_clear()
    assert i18n.notebook_language({"metadata": {"asl_course": {"lang": "xx"}}}) == "en"
    assert i18n.notebook_language({"metadata": {"asl_course": "ko"}}) == "en"
    assert i18n.notebook_file_language(tmp_path / "missing.ipynb") is None


def test_the_real_catalog_is_read_from_the_package():
    i18n.catalog.cache_clear()
    table = i18n.catalog("ko")
    how_to = editions.HOWTO["release"]
    if how_to in table:
        assert HANGUL.search(table[how_to])
    assert i18n.catalog("en") == {}


# --- The Korean editions ------------------------------------------------------------------------------------


def _code_cells(nb) -> list[tuple[str, str, dict]]:
    return [(c.cell_type, c.source, dict(c.metadata)) for c in nb.cells if c.cell_type != "markdown"]


@pytest.mark.parametrize("edition", editions.EDITIONS)
@pytest.mark.parametrize("name", NAMES)
def test_a_korean_edition_has_the_english_code_and_nbgrader_metadata(edition, name):
    """Code is never translated: one gradebook, one set of hidden tests, one verifier for both."""
    english = nbformat.read(REPO / editions.edition_path(edition, name), as_version=4)
    korean = nbformat.read(REPO / editions.edition_path(edition, name, "ko"), as_version=4)
    assert len(korean.cells) == len(english.cells)
    assert [c.cell_type for c in korean.cells] == [c.cell_type for c in english.cells]
    assert [c.id for c in korean.cells] == [c.id for c in english.cells]
    assert _code_cells(korean) == _code_cells(english)
    assert [c.metadata for c in korean.cells] == [c.metadata for c in english.cells]
    assert korean.metadata["asl_course"] == {"lang": "ko"} and "asl_course" not in english.metadata
    assert {k: v for k, v in korean.metadata.items() if k != "asl_course"} == dict(english.metadata)


@pytest.mark.parametrize("name", NAMES)
def test_a_korean_notebook_reads_in_korean(name):
    korean = nbformat.read(REPO / editions.edition_path("notebooks", name, "ko"), as_version=4)
    markdown = [c.source for c in korean.cells if c.cell_type == "markdown"]
    table = translate.translations("ko", name)
    if not table:
        pytest.skip(f"{name} has no Korean translation yet")
    assert HANGUL.search(markdown[0]), "the title cell is translated"
    assert editions.colab_url(editions.edition_path("notebooks", name, "ko"), editions.publication(REPO)) in markdown[0]


def test_build_refuses_nothing_and_lists_untranslated_blocks(tmp_path):
    """A block with no translation stays English and is counted (never an error, never lost)."""
    nb = nbformat.read(REPO / "source" / NAMES[1] / f"{NAMES[1]}.ipynb", as_version=4)
    nb.cells.append(nbformat.v4.new_markdown_cell("A paragraph nobody has translated.", id="new-cell"))
    out, missing = translate.translate_notebook(nb, "ko", NAMES[1])
    assert out.cells[-1].source == "A paragraph nobody has translated."
    assert missing >= 1


def test_translate_command_refuses_an_unknown_language(capsys):
    from asl_course.tooling import cli

    assert cli.main(["translate", "check", "--lang", "xx"]) == 2
    assert "no translation called 'xx'" in capsys.readouterr().err


def test_update_refuses_a_corrupt_catalog(small_course):
    root, locale = small_course
    (locale / "ko" / "notebooks" / f"{NAMES[1]}.po").write_text('msgid "x\n', encoding="utf-8")
    with pytest.raises(UserError, match=r"\.po:1"):
        translate.update(root, "ko", log=lambda *_: None, locale=locale)


def test_a_figure_keeps_its_english_words_without_a_hangul_font(monkeypatch, ko_catalog):
    ko_catalog["A title"] = "제목"
    monkeypatch.setenv(i18n.ENV, "ko")
    monkeypatch.setattr(i18n, "hangul_font", lambda: None)

    @i18n.drawing
    def figure():
        return i18n.lookup("A title"), i18n.t("A title")

    assert figure() == ("A title", "A title")  # boxes would say nothing: the English
    assert i18n.t("A title") == "제목"  # outside a figure (printed text) Hangul needs no font


def test_a_figure_speaks_korean_with_a_hangul_font_as_fallback(monkeypatch, ko_catalog):
    import matplotlib

    ko_catalog["A title"] = "제목"
    monkeypatch.setenv(i18n.ENV, "ko")
    monkeypatch.setattr(i18n, "hangul_font", lambda: "SomeHangulFont")
    monkeypatch.setitem(matplotlib.rcParams, "font.family", ["sans-serif"])
    figure = i18n.drawing(lambda: i18n.lookup("A title"))
    assert figure() == "제목"
    assert matplotlib.rcParams["font.family"] == ["sans-serif", "SomeHangulFont"]  # Latin glyphs unchanged
    monkeypatch.setenv(i18n.ENV, "en")
    assert figure() == "A title"


def test_the_course_figures_are_marked_as_drawings():
    """Every learners' function that titles a figure with a translated text is marked @drawing."""
    import ast

    unmarked = []
    for path in sorted((REPO / "asl_course" / "learners").glob("*.py")):
        source = path.read_text()
        for node in ast.walk(ast.parse(source)):
            if isinstance(node, ast.FunctionDef):
                body = ast.get_source_segment(source, node)
                titled = any(k in body for k in ("suptitle(", "set_title(", "frame_figure(", "set_xlabel("))
                translated = "t(" in body or "lookup(" in body
                marked = any(getattr(d, "id", getattr(d, "attr", None)) == "drawing" for d in node.decorator_list)
                if titled and translated and not marked:
                    unmarked.append(f"{path.name}:{node.name}")
    assert unmarked == []
