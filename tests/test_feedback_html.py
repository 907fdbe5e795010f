"""The feedback page's HTML beyond tests/test_plugin_feedback.py's cases: what nbconvert's template
does after the markdown is rendered (``strip_files_prefix``), HTML that would run on into the rest
of the page, attachments the renderer cannot find, markdown that must look as it does without the
sanitizer, attacks one by one (in markdown and in outputs), hidden tests quoted in HTML, type names
and markdown outputs, and one page opened in Chromium.

Each page is rendered by nbconvert's HTMLExporter, as ``nbgrader generate_feedback`` does; each
hostile case is checked dangerous without the plugin first (else the test would prove nothing).
Fast but the Chromium test (slow): no kernel, no Keras.
"""

from __future__ import annotations

import json
import os

import pytest
from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook, new_output

from asl_course.grading.plugins import feedback

from _pages import dangers, page as _page, sanitized as _sanitized  # shared with the other feedback tests


def _markdown(*sources):
    return new_notebook(cells=[new_markdown_cell(s) for s in sources])


def test_links_that_nbconvert_turns_into_scripts_are_removed():
    """The template strips ``files/`` from every href after rendering: ``files/javascript:`` is a
    relative link before and a script after."""
    cases = ["[x](files/javascript:alert(1))", '<a href="files/javascript:alert(1)">x</a>',
             "[x](/files/files/JaVaScRiPt:alert(1))", "[x][r]\n\n[r]: files/javascript:alert(1)",
             "[x] is ticked: [x](files/javascript:alert(1))"]
    assert 'href="javascript:' in _page(_markdown(cases[0])).lower()
    for case in cases:
        page = _page(_sanitized(_markdown(case)))
        assert dangers(page) == [], case
        assert ">x</a>" in page, case  # the link's text stays
    cell = new_code_cell("display(...)")
    cell.outputs = [new_output("display_data", data={"text/html": '<a href="files/javascript:alert(1)">x</a>'})]
    assert "javascript:" not in _page(_sanitized(new_notebook(cells=[cell])))


def _ancestors_of(page, text):
    """The tags around ``text`` in the page as the browser gets it (nbconvert has re-serialized
    the page with BeautifulSoup's html.parser: it is well-formed, and read the same way here)."""
    from bs4 import BeautifulSoup

    return [[parent.name for parent in reversed(list(node.parents))]
            for node in BeautifulSoup(page, "html.parser").find_all(string=lambda s: text in s)]


@pytest.mark.parametrize("closing", ["</div></div></div></div>", "<b>x</b></div></div></div></div></div></div>",
                                     "</p></div></div></div></div></main>"])
def test_a_cell_cannot_put_its_text_out_of_its_cell(closing):
    """End tags of the page's own elements would put the rest of a cell out of its cell (where it
    could pass for the page's own text)."""
    def depth(nb):
        [tags] = _ancestors_of(_page(nb), "Out of my cell")
        return tags.count("div")

    inside = depth(_markdown("Out of my cell"))
    assert depth(_markdown(closing + "Out of my cell")) < inside
    assert depth(_sanitized(_markdown(closing + "Out of my cell"))) >= inside


def test_images_of_missing_or_unusable_attachments_do_not_break_the_page():
    """nbconvert's renderer raises on an attachment it cannot find (and on one left with no image):
    the whole feedback page would fail."""
    def notebook():
        cell = new_markdown_cell("![gone](attachment:gone.png) ![doc](attachment:doc.html) ![ok](attachment:ok.png)")
        cell.attachments = {"doc.html": {"text/html": "<script>pwned()</script>"}, "ok.png": {"image/png": "iVBO"}}
        return new_notebook(cells=[cell])

    with pytest.raises(Exception, match="missing attachment"):
        _page(notebook())
    page = _page(_sanitized(notebook()))
    assert "[image: gone]" in page and "[image: doc]" in page and 'src="data:image/png;base64,iVBO"' in page
    assert "pwned" not in page


SAFE_MARKDOWN = ["# Results\n\n| letter | accuracy |\n|:--|--:|\n| A | 0.98 |",
                 "- [x] normalised\n- [ ] augmented",
                 "Since $p < 0.5$ and $$\\frac{a}{b} > 1$$ we stop.",
                 "```python\nif x < 5 and y > 2:\n\tprint('<b>')\n\nz = 1\n```",
                 "> a quote with **bold**, a [link](https://example.org) and `a & b`",
                 "Term\n: its definition", "see https://example.org/paper and ~~this~~",
                 "![a digit](data:image/png;base64,iVBORw0KGgo=) press <kbd>Shift</kbd>+<kbd>Enter</kbd>"]


def _shown(page):
    """The markdown cells of a page as a reader sees them: each element (its name and the
    attributes that change what shows) and each text (but line breaks between elements), in order."""
    from bs4 import BeautifulSoup

    shown = []
    for cell in BeautifulSoup(page, "html.parser").select(".jp-RenderedMarkdown"):
        for node in cell.descendants:
            if isinstance(node, str):
                shown += [node] if node.strip() or node.find_parent("pre") else []
            elif node.get("class") != ["asl-student-markdown"]:
                shown.append((node.name, sorted((k, v) for k, v in node.attrs.items() if k != "rel")))
    return shown


@pytest.mark.parametrize("source", SAFE_MARKDOWN)
def test_markdown_that_runs_and_loads_nothing_looks_the_same(source):
    """Tables, task lists, math (the same text for MathJax), code with its tabs, quotes, embedded
    images: the sanitized page shows each as the page without the plugin does."""
    assert _shown(_page(_sanitized(_markdown(source)))) == _shown(_page(_markdown(source)))


def test_latex_outputs_are_shown_as_written():
    """The templates escape text/latex themselves (and MathJax typesets it): escaping it before
    would show ``&lt;``."""
    cell = new_code_cell("display(Latex(...))")
    cell.outputs = [new_output("display_data", data={"text/latex": "$a < b$", "text/plain": "<Latex>"})]
    assert _sanitized(new_notebook(cells=[cell])).cells[0].outputs[0].data["text/latex"] == "$a < b$"


HIDDEN = "assert secret_threshold(model) > 0.42"


def _graded(*outputs):
    cell = new_code_cell(f"check()\n### BEGIN HIDDEN TESTS\n{HIDDEN}\n### END HIDDEN TESTS")
    later = new_code_cell("show(_ih[1])")
    later.outputs = list(outputs)
    nb, _ = feedback.HideHiddenTests().preprocess(new_notebook(cells=[cell, later]), {})
    return nb


@pytest.mark.parametrize("output", [
    new_output("display_data", data={"text/html": "<pre><span class='k'>assert</span> secret_threshold(model) "
                                                  "&gt; 0.42</pre>", "text/plain": "<IPython.HTML>"}),
    new_output("display_data", data={"text/markdown": f"```python\n{HIDDEN}\n```"}),
    new_output("execute_result", data={"application/json": {"source": HIDDEN}}, execution_count=2),
    new_output("display_data", data={"image/png": "iVBO"}, metadata={"image/png": {"alt": HIDDEN}}),
    new_output("error", ename=HIDDEN, evalue="x", traceback=[]),
], ids=["html", "markdown", "json", "metadata", "type-name"])
def test_hidden_tests_quoted_in_any_form_of_output_are_withheld(output):
    nb = _graded(output)
    assert "secret_threshold" not in json.dumps(nb)
    assert "withheld" in json.dumps(nb) or nb.cells[1].outputs[0].ename == "Error"


def test_outputs_that_quote_nothing_are_kept():
    own = new_output("display_data", data={"text/html": "<b>accuracy 0.97</b>", "text/plain": "0.97"})
    nb = _graded(own)
    assert nb.cells[1].outputs[0].data == {"text/html": "<b>accuracy 0.97</b>", "text/plain": "0.97"}


def test_what_the_pages_own_reparsing_would_turn_into_a_tag_is_not_kept():
    """nbconvert re-serializes the whole page with BeautifulSoup's html.parser: an end tag's
    "attribute" (ignored by a browser) holds what html.parser ends early and reads as a new tag."""
    hostile = '</p title="><img src=x onerror="alert(1)"x>">'
    assert "onerror" in _page(_markdown(hostile))
    page = _page(_sanitized(_markdown("before\n\n" + hostile + "\n\nafter")))
    assert "onerror" not in page and "before" in page and "after" in page


ATTACKS = {
    "svg-onload": '<svg onload="alert(\'pwned\')"><circle r="4"/></svg>',
    "svg-script": "<svg><script>alert('pwned')</script></svg>",
    "data-html-link": '<a href="data:text/html;base64,PHNjcmlwdD5hbGVydCgxKTwvc2NyaXB0Pg==">x</a>',
    "vbscript-link": "<a href=\"vbscript:msgbox('pwned')\">x</a>",
    "css-in-style": '<p style="background:url(https://attacker.invalid/bg.png);width:expression(alert(\'pwned\'))">x</p>',
    "css-in-cell-style": '<table><tr><td style="text-align:left;background:url(https://attacker.invalid/t)">x</td>'
                         "</tr></table>",
    "style-import": "<style>@import url(https://attacker.invalid/x.css);</style>",
    "link-stylesheet": '<link rel="stylesheet" href="https://attacker.invalid/x.css">',
    "base-href": '<base href="https://attacker.invalid/">',
    "noscript-mutation": "<noscript><p title=\"</noscript><img src=x onerror=alert('pwned')>\"></noscript>",
    "meta-refresh": '<meta http-equiv="refresh" content="0;url=https://attacker.invalid/">',
    "object": '<object data="https://attacker.invalid/x.swf"></object><embed src="https://attacker.invalid/e">',
    "iframe-srcdoc": "<iframe srcdoc=\"<script>alert('pwned')</script>\"></iframe>",
    "button-formaction": "<form><button formaction=\"javascript:alert('pwned')\">go</button></form>",
    "img-srcset": '<img src="data:image/png;base64,iVBORw0KGgo=" srcset="https://attacker.invalid/x.png 2x">',
    "mathml-link": "<math><mtext><a href=\"javascript:alert('pwned')\">x</a></mtext></math>",
}


def _everywhere(html):
    """``html`` in a markdown cell and as a text/html output."""
    cell = new_code_cell("display(HTML(...))")
    cell.outputs = [new_output("display_data", data={"text/html": html, "text/plain": "<HTML>"})]
    return new_notebook(cells=[new_markdown_cell("before\n\n" + html + "\n\nafter"), cell])


@pytest.mark.parametrize("attack", list(ATTACKS.values()), ids=list(ATTACKS))
def test_attacks_run_and_load_nothing(attack):
    assert dangers(_page(_everywhere(attack))), "dangerous unsanitized (else this test proves nothing)"
    page = _page(_sanitized(_everywhere(attack)))
    assert dangers(page) == [] and "pwned" not in page and "attacker.invalid" not in page
    assert "before" in page and "after" in page


def _class_feedback():
    """A student's feedback page as generate_feedback makes it: their markdown, code, an image they
    plotted, a failed test's message, and every attack above in markdown and in outputs."""
    import base64
    import io

    import numpy as np
    from PIL import Image

    buffer = io.BytesIO()
    letter = np.zeros((28, 28), np.uint8)
    letter[4:24, 8:12] = letter[4:8, 8:22] = letter[12:16, 8:18] = 255  # an "F" of light on dark
    Image.fromarray(letter).resize((112, 112), Image.NEAREST).save(buffer, format="PNG")
    plot = new_code_cell("plt.imshow(x_train[0])")
    plot.outputs = [new_output("display_data", data={"image/png": base64.b64encode(buffer.getvalue()).decode(),
                                                     "text/plain": "<Figure>"})]
    test = new_code_cell(f"check()\n### BEGIN HIDDEN TESTS\n{HIDDEN}\n### END HIDDEN TESTS")
    test.outputs = [new_output("error", ename="GradingFailed", evalue="x_train is not divided by 255.",
                               traceback=["Traceback", HIDDEN])]
    hostile = _everywhere("".join(ATTACKS.values()) + '<img src="https://attacker.invalid/p.png" onerror="alert(1)">')
    nb = new_notebook(cells=[new_markdown_cell("# My notes\n\nScaling **helps**, see `x / 255`."), plot, test,
                             *hostile.cells])
    nb, _ = feedback.HideHiddenTests().preprocess(nb, {})
    return nb


def _opened(html, screenshot=None):
    """What Chromium does with a page: the requests it makes (all refused), the dialogs it opens
    and the title it ends with, the text it shows and how many images it shows."""
    playwright = pytest.importorskip("playwright.sync_api")
    chromium = os.environ.get("ASL_CHROMIUM", "/usr/bin/chromium")
    if not os.access(chromium, os.X_OK):
        pytest.skip(f"no Chromium at {chromium} (apt-get install -y chromium)")
    requests, dialogs = [], []
    with playwright.sync_playwright() as api:
        browser = api.chromium.launch(executable_path=chromium)
        page = browser.new_page(viewport={"width": 900, "height": 1200})
        page.route("**/*", lambda route: (requests.append(route.request.url), route.abort()))
        page.on("dialog", lambda dialog: (dialogs.append(dialog.message), dialog.dismiss()))
        page.set_content(html, wait_until="load")
        page.wait_for_timeout(500)
        if screenshot:
            page.screenshot(path=screenshot, full_page=True)
        shown = page.eval_on_selector_all("img", "images => images.filter(i => i.naturalWidth > 0).length")
        seen = (requests, dialogs, page.title(), page.inner_text("body"), shown)
        browser.close()
    return seen


@pytest.mark.slow
def test_chromium_runs_and_loads_nothing_and_shows_the_students_work(tmp_path):
    """The page in a real browser: no request to the attacker, no dialog, no script of the
    student's; their text, code, image and the test's message shown (the same notebook, not
    sanitized, does run and load the attacker's: else this test would prove nothing)."""
    requests, dialogs, title, _, _ = _opened(_page(_class_feedback()))
    assert dialogs or any("attacker.invalid" in url for url in requests)
    shot = os.environ.get("ASL_FEEDBACK_SCREENSHOT") or tmp_path / "feedback.png"
    requests, dialogs, title, text, images = _opened(_page(_sanitized(_class_feedback())), screenshot=shot)
    assert [url for url in requests if not url.startswith("https://cdnjs.cloudflare.com/")] == [], requests
    assert dialogs == [] and "pwned" not in title
    assert "My notes" in text and "x / 255" in text and "GradingFailed: x_train is not divided by 255." in text
    assert "secret_threshold" not in text and images == 1  # the plot (the attacks' own embedded image is empty)
