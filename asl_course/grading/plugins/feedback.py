"""Feedback that never shows hidden tests (nbgrader shows them by default: nbgrader issue 917).

:class:`HideHiddenTests` runs in ``nbgrader generate_feedback`` (wired in nbgrader_config.py).
In every cell it replaces the code between ``### BEGIN HIDDEN TESTS`` and
``### END HIDDEN TESTS`` with one comment line, and it replaces each error's traceback
(which quotes the failing test's source) by the error's one-line message: the mistake and
its fix, as :mod:`asl_course.grading` and the self-checks word it. A message that quotes a
line of a hidden test is withheld too.
"""

from __future__ import annotations

import re

from nbgrader.preprocessors import NbGraderPreprocessor

BEGIN = re.compile(r"^\s*### BEGIN HIDDEN TESTS\s*$")
END = re.compile(r"^\s*### END HIDDEN TESTS\s*$")
PLACEHOLDER = "# (the grader's hidden tests ran here; the message below says what they found)"
_ANSI = re.compile(r"\x1b\[[0-9;]*[A-Za-z]")
#: Longest error message shown.
MAX_MESSAGE = 2000


def split_hidden(source: str) -> tuple[str, list[str]]:
    """The cell's source with each hidden block replaced by a placeholder, and the hidden lines."""
    shown, hidden, inside = [], [], False
    for line in source.splitlines():
        if BEGIN.match(line):
            inside = True
            shown.append(line[: len(line) - len(line.lstrip())] + PLACEHOLDER)
            continue
        if END.match(line):
            inside = False
            continue
        (hidden if inside else shown).append(line)
    return "\n".join(shown), hidden


def _quotes(text: str, hidden_lines: list[str]) -> bool:
    return any(len(line.strip()) >= 12 and line.strip() in text for line in hidden_lines)


class HideHiddenTests(NbGraderPreprocessor):
    """Remove hidden tests and tracebacks from the notebook the feedback is made from."""

    def preprocess(self, nb, resources):
        hidden_everywhere: list[str] = []
        for cell in nb.cells:
            shown, hidden = split_hidden(cell.source)
            cell.source = shown
            hidden_everywhere += hidden
        for cell in nb.cells:
            if cell.cell_type != "code":
                continue
            for output in cell.get("outputs", []):
                if output.get("output_type") == "error":
                    message = _ANSI.sub("", f"{output.get('ename', 'Error')}: {output.get('evalue', '')}").strip()
                    if _quotes(message, hidden_everywhere):
                        message = f"{output.get('ename', 'Error')}: (the details quote the grader's tests)"
                        output["evalue"] = "(the details quote the grader's tests)"
                    if len(message) > MAX_MESSAGE:
                        message = message[: MAX_MESSAGE - 3] + "..."
                    output["traceback"] = [message]
                elif output.get("output_type") == "stream" and _quotes(output.get("text", ""), hidden_everywhere):
                    output["text"] = "(output withheld: it quotes the grader's tests)\n"
        return nb, resources


# --- Sanitizing what the student wrote (feedback pages, formgrader) -------------------------------

#: HTML a student's markdown or outputs may keep: text formatting, tables, lists, links (http,
#: https, mailto only) and images embedded as data (no external resource is ever loaded).
ALLOWED_TAGS = frozenset({
    "a", "abbr", "b", "blockquote", "br", "caption", "code", "dd", "del", "details", "div", "dl", "dt", "em",
    "h1", "h2", "h3", "h4", "h5", "h6", "hr", "i", "img", "ins", "kbd", "li", "ol", "p", "pre", "q", "s",
    "samp", "small", "span", "strong", "sub", "summary", "sup", "table", "tbody", "td", "tfoot", "th",
    "thead", "tr", "u", "ul", "var",
})
ALLOWED_ATTRIBUTES = {"a": ["href", "title"], "img": ["src", "alt", "title", "width", "height"],
                      "td": ["colspan", "rowspan", "align"], "th": ["colspan", "rowspan", "align"],
                      "*": ["class", "title"]}
#: Output types shown as they are (plain text and images as base64 data; never HTML or script).
SAFE_MIME = ("text/plain", "image/png", "image/jpeg", "image/gif")
#: Output types sanitized like markdown's HTML.
HTML_MIME = ("text/html", "text/markdown", "text/latex")
_MD_IMAGE = re.compile(r"!\[([^\]]*)\]\(\s*<?([^)\s>]*)>?[^)]*\)")
_MD_REF_DEF = re.compile(r"^\s{0,3}\[[^\]]+\]:\s*\S+.*$", re.MULTILINE)
REMOVED = "(removed from the feedback: {what})"
#: Elements removed with their content (bleach would keep the text inside them).
_DROP_WHOLE = re.compile(r"<\s*(script|style|iframe|object|embed|svg|math|template|noscript|textarea|select)\b"
                         r"[^>]*>.*?<\s*/\s*\1\s*>", re.IGNORECASE | re.DOTALL)


def _img_src_ok(tag, name, value) -> bool:
    if name == "src":
        return value.startswith("data:image/") or value.startswith("attachment:")
    return name in ("alt", "title", "width", "height")


def clean_html(text: str) -> str:
    """``text`` with only the allowed tags and attributes: no script, style, iframe, form or
    event handler, no external image, links only to http/https/mailto."""
    import bleach

    text = _DROP_WHOLE.sub("", text)
    attributes = dict(ALLOWED_ATTRIBUTES)
    attributes["img"] = _img_src_ok
    return bleach.clean(text, tags=ALLOWED_TAGS, attributes=attributes,
                        protocols=["http", "https", "mailto", "data"], strip=True, strip_comments=True)


def clean_markdown(text: str) -> str:
    """A markdown cell's source, safe to render: its raw HTML cleaned, and images that are not
    embedded (``![x](https://...)``, reference definitions) replaced by their alt text."""
    def image(match):
        alt, url = match.group(1), match.group(2)
        return match.group(0) if url.startswith(("data:image/", "attachment:")) else f"[image: {alt or url}]"

    text = _MD_IMAGE.sub(image, text)
    text = _MD_REF_DEF.sub(lambda m: REMOVED.format(what="a link reference"), text)
    return clean_html(text)


def sanitize_output(output) -> None:
    """Keep an output's safe forms; clean its HTML; drop scripts, SVG, widgets and anything else."""
    data = output.get("data")
    if not isinstance(data, dict):
        return
    kept, dropped = {}, []
    for mime, value in data.items():
        text = "".join(value) if isinstance(value, list) else value
        if mime in SAFE_MIME:
            kept[mime] = value
        elif mime in HTML_MIME and isinstance(text, str):
            kept[mime] = clean_markdown(text) if mime == "text/markdown" else clean_html(text)
        else:
            dropped.append(mime)
    if dropped and "text/plain" not in kept:
        kept["text/plain"] = REMOVED.format(what=", ".join(dropped))
    output["data"] = kept
    if isinstance(output.get("metadata"), dict):
        output["metadata"] = {k: v for k, v in output["metadata"].items() if k in SAFE_MIME}


class SanitizeStudentHTML(NbGraderPreprocessor):
    """Make a graded notebook safe to show in a browser (``nbgrader generate_feedback``): every
    markdown cell and every rich output is cleaned (:func:`clean_markdown`, :func:`sanitize_output`),
    attachments other than images are removed, and cell and notebook metadata that the HTML
    templates could render are dropped. Plain text and tracebacks are escaped by nbconvert itself."""

    def preprocess(self, nb, resources):
        for cell in nb.cells:
            if cell.cell_type in ("markdown", "raw"):
                cell.source = clean_markdown(cell.source)
                if cell.cell_type == "raw":
                    cell.cell_type = "markdown"
                attachments = cell.get("attachments") or {}
                for name in list(attachments):
                    attachments[name] = {k: v for k, v in attachments[name].items() if k in SAFE_MIME[1:]}
            if cell.cell_type == "code":
                for output in cell.get("outputs", []):
                    sanitize_output(output)
            meta = cell.get("metadata", {})
            for key in list(meta):
                if key not in ("nbgrader", "tags", "deletable", "editable", "collapsed", "scrolled"):
                    del meta[key]
        for key in list(nb.metadata):
            if key not in ("kernelspec", "language_info", "nbgrader"):
                del nb.metadata[key]
        return nb, resources
