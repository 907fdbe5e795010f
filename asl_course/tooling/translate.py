"""Translations of the course, kept in step with the English source.

What is translated, each text stored in a gettext PO file beside the English it translates
(``msgid``: the translation's fingerprint, in full):

- the notebooks' markdown, paragraph by paragraph: ``asl_course/locale/<lang>/notebooks/<name>.po``,
  one entry per paragraph (``msgctxt``: the source cell's id). Code cells are never translated:
  every edition of every language has the English code cells, byte for byte (nbgrader's checksums,
  the hidden tests and the verifier are the same; one gradebook grades every language);
- the package's learner-facing messages, ``t("...")`` and ``mark("...")`` in its code
  (:mod:`asl_course.i18n`): ``asl_course/locale/<lang>/<module>.po``, one file per module;
- figure titles written in the notebooks' code cells (``title="..."``), which the package's
  plotting helpers look up at run time: ``asl_course/locale/<lang>/notebook_titles.po``.

``update`` rewrites the catalogs from the source: new texts get an empty translation; a text whose
English changed keeps its old translation marked fuzzy, with the English it was made for
(``#| msgid``), until a translator reviews it; a text gone from the source is kept as obsolete
(``#~``). ``check`` is CI's: it fails on a stale translation (fuzzy, or a catalog not updated
since the English changed), a translation whose placeholders differ from its English, or a PO
file that cannot be read; it lists the texts with no translation (they are shown in English).
"""

from __future__ import annotations

import ast
import dataclasses
import re
from pathlib import Path

import nbformat

from asl_course import i18n
from asl_course.errors import UserError

PACKAGE = Path(i18n.__file__).resolve().parent
TITLES = "notebook_titles"
_FENCE = re.compile(r"^\s*(```|~~~)")
_ONLY_MARKS = re.compile(r"^\s*(<!--[^>]*-->\s*)+$")


# --- Extraction -------------------------------------------------------------------------------------


def paragraphs(markdown: str) -> list[str]:
    """A markdown cell's blocks: paragraphs, lists, tables, headings and fenced code, split at blank
    lines outside fences. ``"\\n\\n".join(paragraphs(text))`` is the cell, blank lines normalised."""
    blocks, current, fenced = [], [], False
    for line in markdown.splitlines():
        if _FENCE.match(line):
            fenced = not fenced
        if not line.strip() and not fenced:
            if current:
                blocks.append("\n".join(current))
                current = []
            continue
        current.append(line)
    if current:
        blocks.append("\n".join(current))
    return blocks


def translatable(block: str) -> bool:
    """Whether a markdown block has words to translate (not only marks such as ``<!-- colab-badge -->``,
    nor only a code block)."""
    if _ONLY_MARKS.match(block):
        return False
    lines = block.splitlines()
    return not (_FENCE.match(lines[0]) and _FENCE.match(lines[-1]) and len(lines) > 1)


def notebook_texts(path: Path) -> list[i18n.Entry]:
    """The translatable texts of a source notebook: one entry per markdown block, keyed by cell id."""
    nb = nbformat.read(path, as_version=4)
    found = []
    for cell in nb.cells:
        if cell.cell_type != "markdown":
            continue
        if not cell.get("id"):
            raise UserError(f"{path}: a markdown cell has no id (nbformat 4.5 cell ids): open and save the notebook "
                            "with JupyterLab 4, or run `asl-course build`, so that translations can name it")
        for block in paragraphs(cell.source):
            if translatable(block):
                found.append(i18n.Entry(msgid=block, msgctxt=cell.id, references=[f"{path.name}#{cell.id}"]))
    return found


def _code_without_magics(source: str) -> str:
    return "\n".join("" if line.lstrip().startswith(("%", "!")) else line for line in source.splitlines())


def title_texts(paths: list[Path]) -> list[i18n.Entry]:
    """Figure titles written as literals in the notebooks' code cells (``title="..."``)."""
    found: dict[str, i18n.Entry] = {}
    for path in paths:
        nb = nbformat.read(path, as_version=4)
        for cell in nb.cells:
            if cell.cell_type != "code":
                continue
            try:
                tree = ast.parse(_code_without_magics(cell.source))
            except SyntaxError:
                continue
            for node in ast.walk(tree):
                if isinstance(node, ast.keyword) and node.arg == "title":
                    for value in _literal_strings(node.value):
                        entry = found.setdefault(value, i18n.Entry(msgid=value))
                        entry.references.append(f"{path.name}#{cell.get('id', '')}")
    return list(found.values())


def _literal_strings(node) -> list[str]:
    """String literals a title expression can take: a constant, or either side of ``a if c else b``."""
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        return [node.value]
    if isinstance(node, ast.IfExp):
        return _literal_strings(node.body) + _literal_strings(node.orelse)
    return []


def module_texts(path: Path) -> tuple[list[i18n.Entry], list[int]]:
    """The ``t("...")``/``mark("...")`` texts of a module, and the lines of calls whose text is not a literal."""
    found: dict[str, i18n.Entry] = {}
    bad = []
    source = path.read_text(encoding="utf-8")
    if "t(" not in source and "mark(" not in source:
        return [], []
    rel = path.relative_to(PACKAGE.parent)
    for line, text in i18n.literal_calls(source):
        if text is None:
            bad.append(line)
            continue
        entry = found.setdefault(text, i18n.Entry(msgid=text))
        if str(rel) not in entry.references:  # the file, not the line: an edit elsewhere in it changes no catalog
            entry.references.append(str(rel))
        names = i18n.placeholders(text)
        if names and not entry.comments:
            entry.comments.append("placeholders: " + ", ".join("{" + n + "}" for n in names))
    return list(found.values()), bad


def module_domain(path: Path) -> str:
    """A module's catalog name: its dotted path under the package (``grading.nb01_prepare_data``)."""
    return ".".join(path.relative_to(PACKAGE).with_suffix("").parts)


def package_modules() -> list[Path]:
    return sorted(p for p in PACKAGE.rglob("*.py") if p.name != "i18n.py" and "__pycache__" not in p.parts)


# --- Catalogs ----------------------------------------------------------------------------------------


@dataclasses.dataclass
class Catalog:
    """One PO file and the texts the source holds for it now."""
    path: Path
    title: str
    current: list[i18n.Entry]


def catalogs(root: Path, lang: str, locale: Path | None = None) -> list[Catalog]:
    """Every catalog of ``lang`` (under ``locale``, default the package's), with the source's texts for it now."""
    from asl_course.tooling import editions  # noqa: PLC0415 - editions imports this module at its top

    base = (locale or i18n.LOCALE_DIR) / lang
    found = []
    sources = [root / "source" / n / f"{n}.ipynb" for n in editions.assignments(root)]
    for path in sources:
        found.append(Catalog(base / "notebooks" / f"{path.stem}.po", f"{path.stem}: the notebook's markdown",
                             notebook_texts(path)))
    found.append(Catalog(base / f"{TITLES}.po", "figure titles in the notebooks' code cells", title_texts(sources)))
    bad = []
    for module in package_modules():
        texts, lines = module_texts(module)
        bad += [f"{module.relative_to(PACKAGE.parent)}:{line}" for line in lines]
        if texts:
            domain = module_domain(module)
            found.append(Catalog(base / f"{domain}.po", f"asl_course.{domain}: learner-facing messages", texts))
    if bad:
        raise UserError("t(...) needs an English string literal as its first argument (the catalogs are built "
                        "from the code): " + ", ".join(bad) + ". Use placeholders: t(\"{n} images\", n=n).")
    return found


def existing(path: Path) -> list[i18n.Entry]:
    if not path.exists():
        return []
    try:
        return i18n.read_po(path)[0]
    except i18n.POError as exc:
        raise UserError(str(exc)) from None


def merge(current: list[i18n.Entry], old: list[i18n.Entry]) -> list[i18n.Entry]:
    """The catalog's new entries: ``current``'s texts with the translations ``old`` has for them.

    A text whose English changed: the old translation of the same cell (notebooks) or, for a
    message, none, kept fuzzy with the English it was made for; an old text no longer in the
    source: kept as obsolete, so that nothing a translator wrote is lost.
    """
    by_key = {e.key: e for e in old if not e.obsolete}
    used = set()
    merged = []
    stale_by_ctx: dict[str | None, list[i18n.Entry]] = {}
    current_keys = {e.key for e in current}
    for e in old:
        if e.key not in current_keys and e.msgstr and e.msgctxt is not None:
            stale_by_ctx.setdefault(e.msgctxt, []).append(e)
    for entry in current:
        new = dataclasses.replace(entry, comments=list(entry.comments), references=list(entry.references))
        before = by_key.get(entry.key) or next((e for e in old if e.obsolete and e.key == entry.key), None)
        if before is not None:
            new.msgstr, new.fuzzy, new.previous = before.msgstr, before.fuzzy, before.previous
            new.notes, new.flags = list(before.notes), list(before.flags)
            used.add(entry.key)
        elif stale_by_ctx.get(entry.msgctxt):
            guess = stale_by_ctx[entry.msgctxt].pop(0)
            new.msgstr, new.fuzzy, new.previous = guess.msgstr, True, guess.msgid
            new.notes, new.flags = list(guess.notes), list(guess.flags)
            used.add(guess.key)
        merged.append(new)
    for e in old:
        if e.key not in used and e.key not in current_keys and e.msgstr:
            merged.append(dataclasses.replace(e, obsolete=True, fuzzy=False, previous=None, references=[]))
    return merged


def update(root: Path, lang: str, log=print, locale: Path | None = None) -> list[Path]:
    """Rewrite ``lang``'s catalogs from the source (see the module's docstring); the files written."""
    written = []
    for cat in catalogs(root, lang, locale):
        merged = merge(cat.current, existing(cat.path))
        text = i18n.format_po(merged, lang, cat.title)
        if not cat.path.exists() or cat.path.read_text(encoding="utf-8") != text:
            cat.path.parent.mkdir(parents=True, exist_ok=True)
            cat.path.write_text(text, encoding="utf-8")
            written.append(cat.path)
            log(f"updated {_shown(cat.path)}")
    return written


@dataclasses.dataclass
class Report:
    """What ``check`` found for one language."""
    counts: dict[str, tuple[int, int]]  # catalog -> (translated, texts)
    missing: dict[str, list[str]]  # catalog -> English texts with no translation (shown in English)
    problems: list[str]  # what fails CI

    @property
    def ok(self) -> bool:
        return not self.problems


def _shown(path: Path) -> str:
    return str(path.relative_to(PACKAGE.parent)) if path.is_relative_to(PACKAGE.parent) else str(path)


def check(root: Path, lang: str, locale: Path | None = None) -> Report:
    """Compare ``lang``'s catalogs with the source: stale or broken translations are problems."""
    counts, missing_texts, problems = {}, {}, []
    for cat in catalogs(root, lang, locale):
        rel = _shown(cat.path)
        is_notebook = cat.path.parent.name == "notebooks"
        try:
            old = i18n.read_po(cat.path)[0] if cat.path.exists() else []
        except i18n.POError as exc:
            problems.append(str(exc))
            continue
        by_key = {e.key: e for e in old if not e.obsolete}
        current_keys = {e.key for e in cat.current}
        done = 0
        for entry in cat.current:
            have = by_key.get(entry.key)
            if have is None or not have.msgstr:
                missing_texts.setdefault(rel, []).append(entry.msgid)
            elif have.fuzzy:
                problems.append(f"{rel}: stale (fuzzy) translation of {_short(entry.msgid)}: its English changed; "
                                "review msgstr, then delete the `#, fuzzy` line")
            else:
                done += 1
                if not is_notebook and i18n.placeholders(have.msgstr) != i18n.placeholders(entry.msgid):
                    problems.append(f"{rel}: the translation of {_short(entry.msgid)} has the placeholders "
                                    f"{i18n.placeholders(have.msgstr)}, its English {i18n.placeholders(entry.msgid)}")
        for e in old:
            if not e.obsolete and e.msgstr and e.key not in current_keys:
                problems.append(f"{rel}: stale translation of {_short(e.msgid)}: that English is no longer in the "
                                "source; run `asl-course translate update` and review the fuzzy entries")
        counts[rel] = (done, len(cat.current))
    return Report(counts, missing_texts, problems)


def _short(text: str) -> str:
    line = text.strip().splitlines()[0] if text.strip() else text
    return repr(line[:70] + ("..." if len(line) > 70 or "\n" in text.strip() else ""))


# --- Applying the notebook catalogs -----------------------------------------------------------------


def translations(lang: str, name: str, locale: Path | None = None) -> dict[tuple[str | None, str], str]:
    """A notebook's translated blocks: (cell id, English block) -> translation."""
    path = (locale or i18n.LOCALE_DIR) / lang / "notebooks" / f"{name}.po"
    return {e.key: e.msgstr for e in existing(path) if e.translated}


def translate_notebook(nb, lang: str, name: str, locale: Path | None = None):
    """A source notebook (nbformat) with its markdown in ``lang``, block by block; a block with no
    translation stays English. Code cells and all metadata are untouched. Returns (notebook, missing)."""
    table = translations(lang, name, locale)
    missing_blocks = 0
    for cell in nb.cells:
        if cell.cell_type != "markdown":
            continue
        out = []
        for block in paragraphs(cell.source):
            if translatable(block) and (cell.get("id"), block) not in table:
                missing_blocks += 1
            out.append(table.get((cell.get("id"), block), block))
        cell.source = "\n\n".join(out)
    return nb, missing_blocks
