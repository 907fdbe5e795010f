"""The feedback page's HTML beyond tests/test_plugins.py's cases: what nbconvert's template does
after the markdown is rendered (``strip_files_prefix``), HTML that would run on into the rest of
the page, attachments the renderer cannot find, markdown that must stay as written, and hidden
tests quoted in HTML, type names and markdown outputs.

Each page is rendered by nbconvert's HTMLExporter, as ``nbgrader generate_feedback`` does; each
hostile case is checked dangerous without the plugin first (else the test would prove nothing).
Fast: no kernel, no Keras.
"""

from __future__ import annotations

import json

import pytest
from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook, new_output

from asl_course import feedback


from _pages import page as _page, sanitized as _sanitized  # noqa: E402 - shared with the other feedback tests


def _markdown(*sources):
    return new_notebook(cells=[new_markdown_cell(s) for s in sources])


def test_links_that_nbconvert_turns_into_scripts_are_removed():
    """The template strips ``files/`` from every href after rendering: ``files/javascript:`` is a
    relative link before and a script after."""
    cases = ["[x](files/javascript:alert(1))", '<a href="files/javascript:alert(1)">x</a>',
             "[x](/files/files/JaVaScRiPt:alert(1))", "[x][r]\n\n[r]: files/javascript:alert(1)"]
    assert 'href="javascript:' in _page(_markdown(cases[0])).lower()
    for case in cases:
        page = _page(_sanitized(_markdown(case))).lower()
        assert 'href="javascript:' not in page and ">x<" in page or "[x]" in page, case
    cell = new_code_cell("display(...)")
    cell.outputs = [new_output("display_data", data={"text/html": '<a href="files/javascript:alert(1)">x</a>'})]
    assert "javascript:" not in _page(_sanitized(new_notebook(cells=[cell])))


def _ancestors_of(page, text):
    """The tags around ``text`` in the page as a browser builds it."""
    from bleach import html5lib_shim

    found = []

    def walk(node, above):
        if text in (node.text or ""):
            found.append(above + [node.tag])
        for child in node:
            walk(child, above + [node.tag])
            if text in (child.tail or ""):
                found.append(above + [node.tag])

    walk(html5lib_shim.HTMLParser(namespaceHTMLElements=False).parse(page), [])
    return found


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
                 "```python\nif x < 5 and y > 2:\n    print('<b>')\n```",
                 "> a quote with **bold**, a [link](https://example.org) and `a & b`",
                 "Term\n: its definition", "see https://example.org/paper and ~~this~~"]


@pytest.mark.parametrize("source", SAFE_MARKDOWN)
def test_markdown_that_runs_and_loads_nothing_is_kept_as_written(source):
    nb = _sanitized(_markdown(source))
    assert nb.cells[0].source == source


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
