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

import functools
import html
import re

from nbgrader.preprocessors import NbGraderPreprocessor

BEGIN = re.compile(r"^\s*### BEGIN HIDDEN TESTS\s*$")
END = re.compile(r"^\s*### END HIDDEN TESTS\s*$")
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
        if BEGIN.match(line):
            inside = True
            shown.append(line[: len(line) - len(line.lstrip())] + PLACEHOLDER)
            continue
        if END.match(line):
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
# What a page shows of a markdown cell is nbconvert's rendering of its source: the template's
# ``cell.source | markdown2html | strip_files_prefix``, where markdown2html is mistune with
# nbconvert's grammar (math, tables, task lists, ...) and a renderer that passes raw HTML through
# and allows every URL scheme. So the markdown is judged by its rendering, with that same renderer
# and filter (:func:`rendered`): a cell is kept as the student wrote it (its raw HTML tags cleaned
# one by one, images from elsewhere named) only if its rendering is already within the allow-list
# below, and the page's own re-serialization (HTMLExporter parses the whole page again with
# BeautifulSoup's html.parser: :func:`served`) builds the same; otherwise the cell becomes that
# rendering, cleaned, as one HTML block the renderer passes through unchanged (checked the same
# way). So links and images are judged as the renderer's own tokenizer reads them (any form of
# ``[x](javascript:...)``, brackets in an image's text), and the patterns over the source below
# only keep more of it as written.

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
ALLOWED_ATTRIBUTES = {"a": ["href", "title"], "img": ["src", "alt", "title", "width", "height"],
                      "td": ["colspan", "rowspan", "align", "style"], "th": ["colspan", "rowspan", "align", "style"],
                      "input": ["type", "disabled", "checked"],
                      **{f"h{n}": ["id"] for n in range(1, 7)},  # the renderer's anchors (#heading)
                      "*": ["class", "title"]}
#: Schemes a link may have (or none: a relative link).
LINK_SCHEMES = frozenset({"http", "https", "mailto"})
#: Output types shown as they are (plain text and images as base64 data; never HTML or script).
#: text/latex is escaped by the templates themselves and typeset by MathJax (with its Safe extension).
SAFE_MIME = ("text/plain", "image/png", "image/jpeg", "image/gif", "text/latex")
#: Output types sanitized like markdown's HTML.
HTML_MIME = ("text/html", "text/markdown")
REMOVED = "(removed from the feedback: {what})"
#: Elements removed with their content (the cleaner would keep the text inside them).
_DROP_WHOLE = re.compile(r"<\s*(script|style|iframe|object|embed|svg|math|template|noscript|textarea|select|title)\b"
                         r"[^>]*>.*?<\s*/\s*\1\s*>", re.IGNORECASE | re.DOTALL)
_TEXT_ALIGN = re.compile(r"\s*text-align\s*:\s*(left|right|center)\s*;?\s*", re.IGNORECASE)

# URLs, read as a browser reads them: entities decoded, whitespace and control characters dropped.
_URL_JUNK = re.compile(r"[`\x00-\x20\x7f-\xa0\s]+")
_SCHEME = re.compile(r"^([a-z][a-z0-9+.\-]*):")
#: nbconvert's strip_files_prefix turns href="files/x" into href="x" after the markdown is rendered.
_FILES_PREFIX = re.compile(r"^/?files/")


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


def _attribute_ok(tag: str, name: str, value: str) -> bool:
    name = name.lower()
    if name not in ALLOWED_ATTRIBUTES.get(tag, ()) and name not in ALLOWED_ATTRIBUTES["*"]:
        return False
    if name == "href":
        return link_ok(value)
    if name == "src":
        return image_ok(value)
    if name == "style":
        return bool(_TEXT_ALIGN.fullmatch(value))
    if tag == "input" and name == "type":
        return value.lower() == "checkbox"
    return True


def _image_text(alt: str | None) -> str:
    return f"[image: {alt}]" if alt else "[image]"


class _TextAlignOnly:
    """bleach's CSS hook: :func:`_attribute_ok` has already kept ``text-align`` only."""

    def sanitize_css(self, style: str) -> str:
        return style if _TEXT_ALIGN.fullmatch(style) else ""


@functools.lru_cache(maxsize=None)
def _cleaner(tags):
    import bleach
    from bleach import html5lib_shim

    class ImagesFromElsewhereAsText(html5lib_shim.Filter):
        """An image whose source was removed (not embedded) shows its text instead."""

        def __iter__(self):
            for token in super().__iter__():
                if token["type"] in ("StartTag", "EmptyTag") and token["name"] == "img" \
                        and (None, "src") not in token["data"]:
                    yield {"type": "Characters", "data": _image_text(token["data"].get((None, "alt")))}
                elif not (token["type"] == "EndTag" and token["name"] == "img"):
                    yield token

    return bleach.Cleaner(tags=tags, attributes=_attribute_ok, protocols=LINK_SCHEMES | {"data"}, strip=True,
                          strip_comments=True, css_sanitizer=_TextAlignOnly(), filters=[ImagesFromElsewhereAsText])


def clean_html(text: str, *, tags=ALLOWED_TAGS) -> str:
    """``text`` with only the allowed tags and attributes: no script, style, iframe, form or
    event handler, no external image (its text instead), links only to http/https/mailto or relative."""
    return _cleaner(tags).clean(_DROP_WHOLE.sub("", text))


def _tree(text: str) -> list:
    """The HTML as a browser builds it inside an element of the page, followed by more of the
    page: a list of its nodes in order (text merged, its whitespace collapsed, attributes
    sorted). So what closes the element it sits in, leaves one open or a format (bold, a link)
    running on into the rest of the page shows in the list too."""
    from bleach import html5lib_shim

    page = f"<div>{text}</div><span>the rest of the page</span>"
    dom = html5lib_shim.HTMLParser(namespaceHTMLElements=False).parseFragment(page)
    nodes: list = []
    for token in html5lib_shim.getTreeWalker("etree")(dom):
        kind = token["type"]
        if kind in ("Characters", "SpaceCharacters"):  # (how much whitespace changes nothing of what runs)
            if nodes and nodes[-1][0] == "text":
                nodes[-1] = ("text", _WHITESPACE.sub(" ", nodes[-1][1] + token["data"]))
            else:
                nodes.append(("text", _WHITESPACE.sub(" ", token["data"])))
        elif kind in ("StartTag", "EmptyTag"):
            nodes.append(("start", token["name"], sorted((k[1], v) for k, v in token["data"].items())))
        elif kind == "EndTag":
            nodes.append(("end", token["name"]))
        else:
            nodes.append((kind, token.get("data")))
    return nodes


def is_clean(shown: str, *, tags=ALLOWED_TAGS) -> bool:
    """Whether the HTML ``shown`` is already within the allow-list (cleaning it changes nothing
    that a browser would build)."""
    return _tree(shown) == _tree(clean_html(shown, tags=tags))


def _renderer(attachments, tolerant: bool):
    from nbconvert.filters.markdown_mistune import IPythonRenderer

    class Tolerant(IPythonRenderer):
        """A missing or empty attachment becomes an image with no source (shown as its text),
        where nbconvert's renderer raises and the whole page fails."""

        def _embed_image_or_attachment(self, src):
            try:
                return super()._embed_image_or_attachment(src)
            except Exception:
                return ""

    return (Tolerant if tolerant else IPythonRenderer)(escape=False, attachments=dict(attachments or {}))


def rendered(markdown: str, attachments=None, *, tolerant: bool = False) -> str:
    """The HTML a page shows for a markdown cell's source: nbconvert's HTMLExporter.markdown2html
    (mistune with nbconvert's grammar and renderer, with the default exporter settings)
    followed by the templates' strip_files_prefix."""
    from nbconvert.filters.markdown_mistune import MarkdownWithMath
    from nbconvert.filters.strings import strip_files_prefix

    return strip_files_prefix(MarkdownWithMath(renderer=_renderer(attachments, tolerant)).render(markdown))


# The student's raw HTML in markdown, as CommonMark reads it (spec 0.31, "Raw HTML"), and the code
# (fenced blocks, code spans) where the same characters are text, left as written.
_CODE = re.compile(r"^[ ]{0,3}(?P<fence>`{3,}|~{3,}).*?(?:^[ ]{0,3}(?P=fence)[`~]*[ \t]*$|\Z)"
                   r"|(?P<ticks>`+)(?!`)(?:(?!\n[ \t]*\n).)+?(?<!`)(?P=ticks)(?!`)", re.MULTILINE | re.DOTALL)
_ATTRIBUTE = r"""[A-Za-z_:][A-Za-z0-9_.:-]*(?:\s*=\s*(?:[^\s"'=<>`]+|'[^']*'|"[^"]*"))?"""
_RAW_HTML = re.compile(
    rf"(?P<open><(?P<name>[A-Za-z][A-Za-z0-9-]*)(?P<attrs>(?:\s+{_ATTRIBUTE})*)\s*(?P<self>/?)>)"
    r"|(?P<close></(?P<cname>[A-Za-z][A-Za-z0-9-]*)\s*>)"
    r"|(?P<other><!--.*?-->|<\?.*?\?>|<![A-Za-z][^>]*>|<!\[CDATA\[.*?\]\]>)", re.DOTALL)
_ATTRIBUTE_PARTS = re.compile(r"""([A-Za-z_:][A-Za-z0-9_.:-]*)(?:\s*=\s*([^\s"'=<>`]+|'[^']*'|"[^"]*"))?""")
# Markdown images (alt text with brackets one level deep) and link reference definitions, in their
# usual forms: anything else is judged by the rendering.
_MD_IMAGE = re.compile(r"!\[((?:[^\[\]]|\[[^\[\]]*\])*)\]\(\s*<?([^)\s>]*)>?[^)]*\)")
_MD_REF_DEF = re.compile(r"^[ ]{0,3}\[[^\]\n]+\]:[ \t]*<?([^\s>]*)>?.*$", re.MULTILINE)


def _clean_tag(match) -> str:
    if match.group("close") is not None:
        name = match.group("cname").lower()
        return f"</{name}>" if name in ALLOWED_TAGS and name != "img" else ""
    if match.group("open") is None:  # comments, processing instructions, declarations
        return ""
    name = match.group("name").lower()
    if name not in ALLOWED_TAGS:
        return ""
    kept, alt = [], None
    for attr, value in _ATTRIBUTE_PARTS.findall(match.group("attrs")):
        value = html.unescape(value[1:-1] if value[:1] in ("'", '"') else value)
        attr = attr.lower()
        if attr == "alt":
            alt = value
        if _attribute_ok(name, attr, value):
            kept.append(f' {attr}="{html.escape(value, quote=True)}"')
    if name == "img" and not any(k.startswith(" src=") for k in kept):
        return html.escape(_image_text(alt), quote=False)
    return f"<{name}{''.join(kept)}{' /' if match.group('self') else ''}>"


def _clean_source(text: str, attachments) -> str:
    """The markdown as written, outside its code: raw HTML tags cleaned one by one (scripts,
    styles and frames removed with their content), images from elsewhere named by their text,
    link definitions to other schemes removed."""
    def image(match):
        alt, url = match.group(1), match.group(2)
        if image_ok(url):
            return match.group(0)
        name = url[len("attachment:"):] if url.startswith("attachment:") else None
        if name is not None and any(m in (attachments or {}).get(name, {}) for m in SAFE_MIME[1:4]):
            return match.group(0)
        return _image_text(alt)

    def definition(match):
        return match.group(0) if link_ok(match.group(1)) else REMOVED.format(what="a link reference")

    def prose(part):
        part = _MD_REF_DEF.sub(definition, _MD_IMAGE.sub(image, _DROP_WHOLE.sub("", part)))
        return _RAW_HTML.sub(_clean_tag, part)

    pieces, last = [], 0
    for match in _CODE.finditer(text):
        pieces += [prose(text[last:match.start()]), match.group(0)]
        last = match.end()
    return "".join(pieces + [prose(text[last:])])


def _verbatim(shown: str) -> str:
    """Clean HTML as markdown that the renderer passes through as it is: one HTML block on one
    line (its line breaks as character references, which a browser reads as line breaks)."""
    return '<div class="asl-student-markdown">' + shown.replace("\r", "&#13;").replace("\n", "&#10;") + "</div>"


def served(shown: str) -> str:
    """``shown`` as the page serves it: nbconvert's HTMLExporter parses the whole page again with
    BeautifulSoup's ``html.parser`` (a tokenizer that is not a browser's) and writes it out anew."""
    from bs4 import BeautifulSoup

    return str(BeautifulSoup(shown, features="html.parser"))


def safe_to_show(markdown: str, attachments=None) -> bool:
    """Whether a page may show this markdown as it is: its rendering is within the allow-list, and
    the page's re-serialization (:func:`served`) builds the same thing (a tag that a browser reads
    as text, or as an end tag's attribute, must not become a tag there)."""
    try:
        shown = rendered(markdown, attachments)
    except Exception:  # nbconvert's renderer fails on it (a missing attachment): so would the page
        return False
    return is_clean(shown, tags=RENDERED_TAGS) and _tree(served(shown)) == _tree(shown)


def clean_markdown(text: str, attachments=None) -> str:
    """A markdown cell's source (or a text/markdown output), safe to render: kept as written
    (raw HTML cleaned, images from elsewhere named) where :func:`safe_to_show` says so, else its
    cleaned rendering as HTML (checked the same way)."""
    candidate = _clean_source(text, attachments)
    if safe_to_show(candidate, attachments):
        return candidate
    fallback = _verbatim(clean_html(rendered(candidate, attachments, tolerant=True), tags=RENDERED_TAGS))
    if safe_to_show(fallback, attachments):
        return fallback
    return REMOVED.format(what="markdown that could not be shown safely")


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
