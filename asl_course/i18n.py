"""The learner's language: gettext-style catalogs of the package's learner-facing messages.

Every message a learner or a student reads from the package (self-checks, the setup cell's
advice, grading feedback, figure titles) is written in English in the code as
``t("English text with {placeholders}", name=value)``. ``t`` looks the English text up in the
catalog of the learner's language and fills in the placeholders; a text with no translation (or
whose translation is marked fuzzy: its English changed since it was translated) falls back to
English and is listed (:func:`missing`; ``asl-course translate status`` lists them per catalog).

Catalogs are gettext PO files, ``asl_course/locale/<lang>/*.po`` (one per module, so that
translators work in parallel), read by :func:`read_po` here: the package runs on Colab
installed with ``--no-deps``, so it parses PO itself rather than depend on polib or Babel.
A PO entry keeps the English it translates as its ``msgid``: that *is* the translation's
fingerprint, in full (a translator sees what changed, and ``asl-course translate check`` fails
when an English text changes and its translation does not follow: :mod:`asl_course.tooling.translate`).

The learner's language, in order (:func:`language`):

1. ``$ASL_COURSE_LANG`` (``en`` or ``ko``): set by hand, or by the course's own runners
   (``asl-course run``, the grader, the CI's notebook runs) from the notebook's metadata;
2. the open notebook's own language, ``metadata.asl_course.lang`` (the Korean editions carry
   ``"ko"``): on Colab read through the frontend, in Jupyter from the notebook file the server
   names (``JPY_SESSION_NAME``, ``__session__``, VS Code's ``__vsc_ipynb_file__``);
3. English.
"""

from __future__ import annotations

import ast
import contextvars
import dataclasses
import functools
import json
import os
import re
import sys
from functools import lru_cache
from glob import glob
from pathlib import Path

#: The languages the course has catalogs for; English is the source.
LANGUAGES = ("en", "ko")
SOURCE_LANGUAGE = "en"
#: Environment variable that picks the language (its value: one of LANGUAGES).
ENV = "ASL_COURSE_LANG"
#: Notebook metadata key of an edition's language: ``metadata["asl_course"]["lang"]``.
METADATA_KEY = "asl_course"
LOCALE_DIR = Path(__file__).resolve().parent / "locale"

_missing: dict[str, set[str]] = {}
_drawing = contextvars.ContextVar("asl_course_drawing", default=False)


# --- PO files -------------------------------------------------------------------------------------


@dataclasses.dataclass
class Entry:
    """One PO entry: an English text (``msgid``) and its translation (``msgstr``, "" if none)."""
    msgid: str
    msgstr: str = ""
    msgctxt: str | None = None
    comments: list[str] = dataclasses.field(default_factory=list)  # "#." lines: for translators
    references: list[str] = dataclasses.field(default_factory=list)  # "#:" lines: where it is used
    notes: list[str] = dataclasses.field(default_factory=list)  # "# " lines: the translator's own
    flags: list[str] = dataclasses.field(default_factory=list)  # "#," flags other than fuzzy (no-glossary)
    fuzzy: bool = False  # the English changed since this was translated: not used until reviewed
    previous: str | None = None  # "#| msgid": the English the fuzzy translation was made for
    obsolete: bool = False  # "#~": no longer in the source (kept for a translator to reuse)

    @property
    def key(self) -> tuple[str | None, str]:
        return (self.msgctxt, self.msgid)

    @property
    def translated(self) -> bool:
        return bool(self.msgstr) and not self.fuzzy and not self.obsolete


class POError(ValueError):
    """A PO file that cannot be read: the message names the file and the line."""


_ESCAPES = {"n": "\n", "t": "\t", '"': '"', "\\": "\\", "r": "\r"}


def _unquote(text: str, where: str) -> str:
    text = text.strip()
    if len(text) < 2 or text[0] != '"' or text[-1] != '"':
        raise POError(f"{where}: expected a quoted string, found {text[:40]!r}")
    body, out, i = text[1:-1], [], 0
    while i < len(body):
        ch = body[i]
        if ch == "\\":
            if i + 1 >= len(body) or body[i + 1] not in _ESCAPES:
                raise POError(f"{where}: unknown escape in {text[:40]!r}")
            out.append(_ESCAPES[body[i + 1]])
            i += 2
        else:
            out.append(ch)
            i += 1
    return "".join(out)


def _quote(text: str) -> str:
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"').replace("\t", "\\t").replace("\r", "\\r").replace("\n", "\\n") + '"'


def read_po(path: Path) -> tuple[list[Entry], dict[str, str]]:
    """The entries of a PO file and its header (``Language``, ...). Raises :class:`POError`."""
    try:
        lines = Path(path).read_text(encoding="utf-8").splitlines()
    except (OSError, UnicodeDecodeError) as exc:
        raise POError(f"{path}: cannot read it ({exc}); restore it from git (git checkout -- {path})") from None
    entries, header = [], {}
    entry, field = Entry(msgid=""), None
    started = False

    def flush():
        nonlocal entry, field, started
        if started:
            if entry.msgid == "" and entry.msgctxt is None:
                header.update(line.split(": ", 1) for line in entry.msgstr.splitlines() if ": " in line)
            else:
                entries.append(entry)
        entry, field, started = Entry(msgid=""), None, False

    for number, raw in enumerate(lines + [""], 1):
        where = f"{path}:{number}"
        line = raw.strip()
        obsolete = line.startswith("#~")
        if obsolete:
            line = line[2:].strip()
        if not line:
            flush()
            continue
        if line.startswith("#."):
            entry.comments.append(line[2:].strip())
        elif line.startswith("#:"):
            entry.references += line[2:].split()
        elif line.startswith("#,"):
            for flag in (f.strip() for f in line[2:].split(",")):
                if flag == "fuzzy":
                    entry.fuzzy = True
                elif flag and flag not in entry.flags:
                    entry.flags.append(flag)
        elif line.startswith("#| msgid"):
            entry.previous = _unquote(line[len("#| msgid"):], where)
        elif line.startswith('#| "') and entry.previous is not None:
            entry.previous += _unquote(line[2:], where)
        elif line.startswith("# ") or line == "#":
            if started or entry.comments or entry.references or entry.notes or entries or header:
                entry.notes.append(line[2:])
        elif line.startswith("#"):
            continue
        else:
            keyword, _, rest = line.partition(" ")
            if keyword in ("msgctxt", "msgid", "msgstr"):
                if keyword in ("msgctxt", "msgid") and field == "msgstr":
                    flush()
                field = keyword
                started = True
                entry.obsolete = entry.obsolete or obsolete
                value = _unquote(rest, where)
                setattr(entry, keyword, value)
            elif line.startswith('"') and field:
                setattr(entry, field, getattr(entry, field) + _unquote(line, where))
            else:
                raise POError(f"{where}: cannot read {raw.strip()[:60]!r} (expected msgctxt, msgid, msgstr or a "
                              "quoted continuation); fix the line or restore the file from git")
    return entries, header


def _field(keyword: str, text: str, prefix: str = "") -> list[str]:
    if "\n" not in text.rstrip("\n"):
        return [f"{prefix}{keyword} {_quote(text)}"]
    parts = text.splitlines(keepends=True)
    return [f'{prefix}{keyword} ""'] + [f"{prefix}{_quote(part)}" for part in parts]


def format_po(entries: list[Entry], language: str, title: str) -> str:
    """A PO file's text: a header, then the entries in the order given (obsolete ones last)."""
    out = [f"# {title}", "# Edit msgstr only; `asl-course translate update` rewrites the rest.",
           'msgid ""', 'msgstr ""', _quote("Content-Type: text/plain; charset=UTF-8\n"),
           _quote(f"Language: {language}\n"), ""]
    for entry in sorted(entries, key=lambda e: e.obsolete):
        prefix = "#~ " if entry.obsolete else ""
        out += [f"# {line}".rstrip() for line in entry.notes]
        out += [f"#. {line}" for line in entry.comments]
        if entry.references:
            out.append("#: " + " ".join(entry.references))
        flags = (["fuzzy"] if entry.fuzzy else []) + entry.flags
        if flags:
            out.append("#, " + ", ".join(flags))
        if entry.previous is not None:
            out += ["#| " + line for line in _field("msgid", entry.previous)]
        if entry.msgctxt is not None:
            out += _field("msgctxt", entry.msgctxt, prefix)
        out += _field("msgid", entry.msgid, prefix)
        out += _field("msgstr", entry.msgstr, prefix)
        out.append("")
    return "\n".join(out)


# --- Placeholders ---------------------------------------------------------------------------------

_PLACEHOLDER = re.compile(r"(?<!\{)\{([A-Za-z_][A-Za-z0-9_]*)(?:![rsa])?(?::[^{}]*)?\}(?!\})")


def placeholders(text: str) -> list[str]:
    """The named ``{placeholders}`` of a message (``{{`` is a brace, not a placeholder)."""
    return sorted(set(_PLACEHOLDER.findall(text)))


# --- The learner's language -----------------------------------------------------------------------


def valid(lang) -> str | None:
    """``lang`` if the course has it (``ko``, ``ko_KR.UTF-8`` -> ``ko``), else None."""
    if not isinstance(lang, str):
        return None
    short = lang.strip().lower().replace("-", "_").split("_")[0].split(".")[0]
    return short if short in LANGUAGES else None


def notebook_language(nb: dict) -> str:
    """The language of a notebook (a dict as read from its JSON): its ``asl_course.lang``, else English."""
    meta = nb.get("metadata") if isinstance(nb, dict) else None
    course = meta.get(METADATA_KEY) if isinstance(meta, dict) else None
    return valid(course.get("lang") if isinstance(course, dict) else None) or SOURCE_LANGUAGE


def notebook_file_language(path) -> str | None:
    """The language of the notebook file at ``path``, or None when it cannot be read as a notebook."""
    try:
        with open(path, encoding="utf-8") as f:
            return notebook_language(json.load(f))
    except (OSError, ValueError):
        return None


def _colab_language() -> str | None:
    if "google.colab" not in sys.modules:
        return None
    try:
        from google.colab import _message  # noqa: PLC0415 - only on Colab

        reply = _message.blocking_request("get_ipynb", timeout_sec=10)
        return notebook_language((reply or {}).get("ipynb") or {})
    except Exception:  # noqa: BLE001 - no frontend (a headless run): the other ways decide
        return None


def _jupyter_language() -> str | None:
    names = [os.environ.get("JPY_SESSION_NAME")]
    try:
        shell = sys.modules["IPython"].get_ipython() if "IPython" in sys.modules else None
        if shell is not None:
            names += [shell.user_ns.get("__session__"), shell.user_ns.get("__vsc_ipynb_file__")]
    except Exception:  # noqa: BLE001 - not in IPython
        pass
    for name in names:
        if isinstance(name, str) and name.endswith(".ipynb"):
            # an absolute path, or the server's path relative to its root: the kernel runs in the notebook's folder
            lang = notebook_file_language(name) or notebook_file_language(Path.cwd() / Path(name).name)
            if lang:
                return lang
    return None


@lru_cache(maxsize=1)
def detected() -> str:
    return _colab_language() or _jupyter_language() or SOURCE_LANGUAGE


def language() -> str:
    """The learner's language: ``$ASL_COURSE_LANG``, else the open notebook's, else English."""
    chosen = os.environ.get(ENV)
    if chosen:
        return valid(chosen) or SOURCE_LANGUAGE
    return detected()


# --- Catalogs ---------------------------------------------------------------------------------------


@lru_cache(maxsize=None)
def catalog(lang: str) -> dict[str, str]:
    """The translated messages of ``lang``: English text -> translation (translated entries only)."""
    table: dict[str, str] = {}
    folder = LOCALE_DIR / lang
    if lang == SOURCE_LANGUAGE or not folder.is_dir():
        return table
    for path in sorted(folder.glob("*.po")):
        entries, _ = read_po(path)
        table.update((e.msgid, e.msgstr) for e in entries if e.translated)
    return table


def t(message: str, /, lang: str | None = None, **values) -> str:
    """``message`` in the learner's language (or ``lang``), with ``values`` filled in.

    ``message`` is the English text, a literal (``asl-course translate update`` finds it in the
    code); its placeholders are named: ``t("{n:,} images", n=27455)``. A message with no
    translation falls back to English and is recorded (:func:`missing`).
    """
    lang = valid(lang) if lang else language()
    text = message
    if lang and lang != SOURCE_LANGUAGE and _can_show(lang):
        translated = catalog(lang).get(message)
        if translated is None:
            _missing.setdefault(lang, set()).add(message)
        else:
            text = translated
    if not values:
        return text
    try:
        return text.format(**values)
    except Exception:  # noqa: BLE001 - a translation with a broken placeholder ({x.y}, {x[0]}): the English
        if text is message:
            raise
        return message.format(**values)


def lookup(text: str, lang: str | None = None) -> str:
    """A text that is not a literal here (a figure's title written in a notebook's code cell), in the
    learner's language if a catalog has it (``asl-course translate update`` collects the notebooks'
    ``title="..."`` literals into the ``notebook_titles`` catalog), else as it is."""
    lang = valid(lang) if lang else language()
    if not isinstance(text, str) or not lang or lang == SOURCE_LANGUAGE or not _can_show(lang):
        return text
    return catalog(lang).get(text, text)


HANGUL = re.compile("[\uac00-\ud7a3]")
#: Fonts with Hangul, by family name: Debian's fonts-nanum and fonts-noto-cjk, Windows', macOS'.
HANGUL_FONTS = re.compile(r"Nanum|Noto Sans CJK|Noto Sans KR|Noto Serif CJK|UnDotum|Baekmuk|Malgun|Apple ?SD Gothic|AppleGothic")
#: Where Linux keeps them (a font installed after the kernel started is found here, not in matplotlib's cache).
HANGUL_FONT_FILES = ("/usr/share/fonts/truetype/nanum/*.ttf", "/usr/share/fonts/opentype/noto/NotoSansCJK*.tt[cf]",
                     "/usr/share/fonts/truetype/noto/NotoSansKR*.ttf")
_hangul_font: list[str] = []


def hangul_font() -> str | None:
    """The family name of a font with Hangul that matplotlib can draw with (registered now if it was
    installed after matplotlib built its cache), or None. A font found is remembered; none is looked
    for again next time (the learner may install one: ``apt-get install fonts-nanum``)."""
    if _hangul_font:
        return _hangul_font[0]
    from matplotlib import font_manager  # noqa: PLC0415 - only for figures

    names = [f.name for f in font_manager.fontManager.ttflist if HANGUL_FONTS.search(f.name)]
    if not names:
        for pattern in HANGUL_FONT_FILES:
            for path in sorted(glob(pattern)):
                try:
                    font_manager.fontManager.addfont(path)
                except (OSError, RuntimeError, ValueError):
                    continue
                names = [f.name for f in font_manager.fontManager.ttflist if HANGUL_FONTS.search(f.name)]
            if names:
                break
    if names:
        _hangul_font.append(sorted(names, key=lambda n: ("Nanum" not in n, n))[0])
    return _hangul_font[0] if _hangul_font else None


def drawing(function):
    """Marks a function that draws a figure: inside it, :func:`t` and :func:`lookup` give a text in
    Hangul only when matplotlib can draw it (a Hangul font, then added to its fallback fonts);
    without one the figure keeps its English words (empty boxes would say nothing, and matplotlib's
    warnings about missing glyphs would fill the notebook)."""

    @functools.wraps(function)
    def wrapper(*args, **kwargs):
        token = _drawing.set(True)
        try:
            return function(*args, **kwargs)
        finally:
            _drawing.reset(token)

    return wrapper


def _can_show(lang: str) -> bool:
    """Whether a text in ``lang`` can be shown here: always, except Hangul in a figure with no Hangul font."""
    if lang == SOURCE_LANGUAGE or not _drawing.get():
        return True
    font = hangul_font()
    if font is None:
        return False
    import matplotlib  # noqa: PLC0415 - only for figures

    family = matplotlib.rcParams["font.family"]
    family = [family] if isinstance(family, str) else list(family)
    if font not in family:
        matplotlib.rcParams["font.family"] = [*family, font]
    return True


def mark(message: str, /) -> str:
    """Marks an English text for the catalogs where it cannot be translated yet (a module's
    constant, translated later with ``t(CONSTANT, lang=...)``): returns it unchanged."""
    return message


def missing(lang: str | None = None) -> list[str]:
    """The messages asked for in ``lang`` (default: the learner's) this session with no translation."""
    return sorted(_missing.get(lang or language(), ()))


def literal_calls(source: str, names=("t", "mark")) -> list[tuple[int, str | None]]:
    """The ``t(...)`` calls of a module's source: ``(line, English text)``; the text is None when the
    first argument is not a string literal (the extractor cannot see it: a mistake, tests fail)."""
    found = []
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Call):
            func = node.func
            name = func.id if isinstance(func, ast.Name) else func.attr if isinstance(func, ast.Attribute) else None
            if name in names and (isinstance(func, ast.Name) or
                                  (isinstance(func.value, ast.Name) and func.value.id == "i18n")):
                first = node.args[0] if node.args else None
                text = first.value if isinstance(first, ast.Constant) and isinstance(first.value, str) else None
                found.append((node.lineno, text))
    return found
