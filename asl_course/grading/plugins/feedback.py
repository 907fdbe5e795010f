"""Feedback that never shows hidden tests (nbgrader shows them by default: nbgrader issue 917),
nor anything of a student's that runs or loads in the browser.

:class:`HideHiddenTests` runs in ``nbgrader generate_feedback`` (wired in nbgrader_config.py).
In every cell it replaces the code between ``### BEGIN HIDDEN TESTS`` and
``### END HIDDEN TESTS`` with one comment line, and it replaces each error's traceback
(which quotes the failing test's source) by the error's one-line message: the mistake and
its fix, as :mod:`asl_course.grading` and the self-checks word it. Any output that quotes a
line of a hidden test is withheld too, whatever its type: an error's message, a stream, or a
value or display of any MIME type (``_ih[n]`` or ``In[n]`` in a later cell shows the test
cell's source as a value).

:class:`SanitizeStudentHTML` makes what nbconvert renders from a student's markdown and
outputs safe: see its docstring.
"""

from __future__ import annotations

import html
import re

from nbgrader.preprocessors import NbGraderPreprocessor

from asl_course.grading import cells

PLACEHOLDER = "# (the grader's hidden tests ran here; the message below says what they found)"
WITHHELD = "(output withheld: it quotes the grader's tests)"
_ANSI = re.compile(r"\x1b\[[0-9;]*[A-Za-z]")
#: Longest error message shown.
MAX_MESSAGE = 2000
#: Shortest hidden-test line whose quotation withholds an output (shorter ones, like ``else:``, are common words).
MIN_QUOTED = 12


def split_hidden(source: str) -> tuple[str, list[str]]:
    """The cell's source with each hidden block replaced by a placeholder, and the hidden lines."""
    shown, hidden, inside = [], [], False
    for line in source.splitlines():
        if cells.BEGIN_HIDDEN.match(line):
            inside = True
            shown.append(line[: len(line) - len(line.lstrip())] + PLACEHOLDER)
            continue
        if cells.END_HIDDEN.match(line):
            inside = False
            continue
        (hidden if inside else shown).append(line)
    return "\n".join(shown), hidden


_WHITESPACE = re.compile(r"\s+")
_TAG = re.compile(r"<[^>]*>")
_PY_ESCAPE = re.compile(r"\\([\\'\"abfnrtv])")
_PY_ESCAPED = {"a": "\a", "b": "\b", "f": "\f", "n": "\n", "r": "\r", "t": "\t", "v": "\v"}


def _readings(text: str) -> set[str]:
    """``text`` as it may show a hidden line: as it is, without ANSI colours, HTML tags and
    entities (syntax-highlighted HTML) and Python's string escapes (a ``repr``), with its
    whitespace collapsed."""
    plain = _ANSI.sub("", text)
    forms = {plain, html.unescape(_TAG.sub("", plain))}
    forms |= {_PY_ESCAPE.sub(lambda m: _PY_ESCAPED.get(m.group(1), m.group(1)), form) for form in forms}
    return {_WHITESPACE.sub(" ", form) for form in forms}


def _quotes(text: str, hidden_lines: list[str]) -> bool:
    lines = {_WHITESPACE.sub(" ", line.strip()) for line in hidden_lines}
    lines = [line for line in lines if len(line) >= MIN_QUOTED]
    return bool(lines) and any(line in form for form in _readings(text) for line in lines)


def _strings(value):
    """Every text in an output's value (nbformat keeps multi-line text as a list of lines)."""
    if isinstance(value, str):
        yield value
    elif isinstance(value, list) and all(isinstance(v, str) for v in value):
        yield "".join(value)
    elif isinstance(value, (list, tuple)):
        for v in value:
            yield from _strings(v)
    elif isinstance(value, dict):
        for k, v in value.items():
            yield str(k)
            yield from _strings(v)


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
                kind = output.get("output_type")
                if kind == "error":
                    ename = str(output.get("ename", "Error"))
                    if _quotes(ename, hidden_everywhere):  # type("<a hidden line>", (Exception,), {})
                        ename = output["ename"] = "Error"
                    message = _ANSI.sub("", f"{ename}: {output.get('evalue', '')}").strip()
                    if _quotes(message, hidden_everywhere):
                        message = f"{ename}: (the details quote the grader's tests)"
                        output["evalue"] = "(the details quote the grader's tests)"
                    if len(message) > MAX_MESSAGE:
                        message = message[: MAX_MESSAGE - 3] + "..."
                    output["traceback"] = [message]
                elif kind == "stream":
                    if _quotes("".join(_strings(output.get("text", ""))), hidden_everywhere):
                        output["text"] = WITHHELD + "\n"
                elif any(_quotes(text, hidden_everywhere)
                         for text in _strings({k: v for k, v in output.items() if k != "output_type"})):
                    # A value or display (execute_result, display_data, update_display_data, ...) of any
                    # MIME type, or its metadata: the same rule as for streams.
                    output["data"] = {"text/plain": WITHHELD}
                    output["metadata"] = {}
                    for key in list(output):
                        if key not in ("output_type", "data", "metadata", "execution_count"):
                            del output[key]
        return nb, resources


# --- Sanitizing what the student wrote (feedback pages, formgrader) -------------------------------
#
# A markdown cell's page is nbconvert's rendering of its source (the template's ``cell.source |
# markdown2html | strip_files_prefix``: mistune with nbconvert's grammar, a renderer that passes raw
# HTML through and allows every URL scheme). So the cell is rendered here as the page would render it
# (:func:`rendered`), that HTML is cleaned by nh3 (the Rust library ammonia: an HTML5 parser as a
# browser's, an allow-list, a serializer that quotes and escapes everything), and the cell's source
# becomes that clean HTML as one block that the renderer passes through unchanged. Links and images
# are judged as the renderer's own tokenizer reads them, and nothing the student wrote is parsed by
# anything but a browser's rules.

#: HTML a student's markdown or outputs may keep: text formatting, tables, lists, links (http,
#: https, mailto or relative only) and images embedded as data (no external resource is ever loaded).
ALLOWED_TAGS = frozenset({
    "a", "abbr", "b", "blockquote", "br", "caption", "code", "dd", "del", "details", "div", "dl", "dt", "em",
    "h1", "h2", "h3", "h4", "h5", "h6", "hr", "i", "img", "ins", "kbd", "li", "ol", "p", "pre", "q", "s",
    "samp", "small", "span", "strong", "sub", "summary", "sup", "table", "tbody", "td", "tfoot", "th",
    "thead", "tr", "u", "ul", "var",
})
#: What nbconvert's markdown renderer itself adds: task-list check boxes (disabled).
RENDERED_TAGS = ALLOWED_TAGS | {"input"}
#: Removed with their content (of the others, only the tag goes and its text stays).
DROPPED_WHOLE = frozenset({"script", "style", "iframe", "object", "embed", "svg", "math", "template", "noscript",
                           "textarea", "select", "title", "noembed", "noframes", "xmp", "plaintext"})
ALLOWED_ATTRIBUTES = {"a": {"href"}, "img": {"src", "alt", "width", "height"},
                      "td": {"colspan", "rowspan", "align", "style"}, "th": {"colspan", "rowspan", "align", "style"},
                      "input": {"checked"},  # and always type="checkbox" disabled: see clean_html
                      **{f"h{n}": {"id"} for n in range(1, 7)},  # the renderer's anchors (#heading)
                      "*": {"class", "title"}}
#: Schemes a link may have (or none: a relative link).
LINK_SCHEMES = frozenset({"http", "https", "mailto"})
#: Output types shown as they are (plain text and images as base64 data; never HTML or script).
#: text/latex is escaped by the templates themselves and typeset by MathJax (with its Safe extension).
SAFE_MIME = ("text/plain", "image/png", "image/jpeg", "image/gif", "text/latex")
#: Output types sanitized like markdown's HTML.
HTML_MIME = ("text/html", "text/markdown")
REMOVED = "(removed from the feedback: {what})"
_TEXT_ALIGN = re.compile(r"\s*text-align\s*:\s*(left|right|center)\s*;?\s*", re.IGNORECASE)
# URLs, read as a browser reads them: entities decoded, whitespace and control characters dropped.
_URL_JUNK = re.compile(r"[`\x00-\x20\x7f-\xa0\s]+")
_SCHEME = re.compile(r"^([a-z][a-z0-9+.\-]*):")
#: nbconvert's strip_files_prefix turns href="files/x" into href="x" after the markdown is rendered.
_FILES_PREFIX = re.compile(r"^/?files/")
#: An image whose source was removed, in nh3's output (attribute values always double-quoted).
_IMG_WITHOUT_SRC = re.compile(r'<img((?:\s+(?!src=)[a-z-]+="[^"]*")*)\s*/?>')
_ALT = re.compile(r'\salt="([^"]*)"')


def _url(value: str) -> str:
    url = _URL_JUNK.sub("", html.unescape(value))
    url = re.sub(r"[^\x00-\x7f]", "", url).lower()
    while match := _FILES_PREFIX.match(url):
        url = url[match.end():]
    return url


def link_ok(value: str) -> bool:
    """A link a page may keep: http, https, mailto or relative (no javascript:, data:, vbscript:...)."""
    match = _SCHEME.match(_url(value))
    return match is None or match.group(1) in LINK_SCHEMES


def image_ok(value: str) -> bool:
    """An image a page may show: one embedded as data (nothing is loaded from elsewhere)."""
    return _url(value).startswith("data:image/")


def _attribute(tag: str, name: str, value: str) -> str | None:
    """nh3's attribute filter: the value kept, or None (the attribute is removed)."""
    check = {"href": link_ok, "src": image_ok, "style": _TEXT_ALIGN.fullmatch}.get(name)
    return value if check is None or check(value) else None


def _image_text(match) -> str:
    alt = _ALT.search(match.group(1))
    return html.escape(f"[image: {html.unescape(alt.group(1))}]" if alt and alt.group(1) else "[image]", quote=False)


def clean_html(text: str, *, tags=ALLOWED_TAGS) -> str:
    """``text`` with only the allowed tags and attributes: no script, style, iframe, form or
    event handler, no external image (its text instead), links only to http/https/mailto or relative."""
    import nh3

    shown = nh3.clean(text, tags=set(tags), clean_content_tags=set(DROPPED_WHOLE), attributes=ALLOWED_ATTRIBUTES,
                      attribute_filter=_attribute, url_schemes=set(LINK_SCHEMES | {"data"}), strip_comments=True,
                      set_tag_attribute_values={"input": {"type": "checkbox", "disabled": ""}})
    return _IMG_WITHOUT_SRC.sub(_image_text, shown)


def _renderer(attachments):
    from nbconvert.filters.markdown_mistune import IPythonRenderer

    class Tolerant(IPythonRenderer):
        """A missing or empty attachment becomes an image with no source (shown as its text),
        where nbconvert's renderer raises and the whole page fails."""

        def _embed_image_or_attachment(self, src):
            try:
                return super()._embed_image_or_attachment(src)
            except Exception:
                return ""

    return Tolerant(escape=False, attachments=dict(attachments or {}))


def rendered(markdown: str, attachments=None) -> str:
    """The HTML a page shows for a markdown cell's source: nbconvert's HTMLExporter.markdown2html
    (mistune with nbconvert's grammar and renderer, with the default exporter settings)
    followed by the templates' strip_files_prefix."""
    from nbconvert.filters.markdown_mistune import MarkdownWithMath
    from nbconvert.filters.strings import strip_files_prefix

    return strip_files_prefix(MarkdownWithMath(renderer=_renderer(attachments)).render(markdown))


def clean_markdown(text: str, attachments=None) -> str:
    """A markdown cell's source (or a text/markdown output), safe to render: its rendering, cleaned,
    as one HTML block on one line (its line breaks and tabs as character references, which a
    browser reads as such), which nbconvert's renderer passes through as it is."""
    shown = clean_html(rendered(text, attachments), tags=RENDERED_TAGS)
    for char, reference in (("\r", "&#13;"), ("\n", "&#10;"), ("\t", "&#9;")):
        shown = shown.replace(char, reference)
    return f'<div class="asl-student-markdown">{shown}</div>'


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
                attachments = cell.get("attachments") or {}
                for name in list(attachments):
                    attachments[name] = {k: v for k, v in attachments[name].items() if k in SAFE_MIME[1:4]}
                cell.source = clean_markdown(cell.source, attachments)
                if cell.cell_type == "raw":
                    cell.cell_type = "markdown"
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
