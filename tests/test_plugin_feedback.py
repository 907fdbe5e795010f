"""The feedback plugins on their own, on small notebooks built in memory (as
tests/test_plugin_execute.py, test_plugin_limits.py and test_plugin_verify.py do for the
grading plugins): :class:`~asl_course.grading.plugins.feedback.HideHiddenTests`
(hidden tests and tracebacks out of the feedback) and :class:`~asl_course.grading.plugins.feedback.SanitizeStudentHTML`
(nothing of a student's runs or loads in a feedback or formgrader page). tests/test_feedback_html.py
renders whole pages of harder cases. Fast: no kernel, no Keras.
"""

from __future__ import annotations

import json

import pytest
from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook, new_output, new_raw_cell

from asl_course.grading.plugins import feedback

from _pages import dangers, page as _page, sanitized as _sanitized
from _plugins import error, result, stdout


def _nbgrader(cell, grade_id, *, grade=False, solution=False):
    cell.metadata["nbgrader"] = {"grade": grade, "solution": solution, "locked": grade and not solution,
                                 "grade_id": grade_id, "schema_version": 3, "task": False, "points": 1}
    return cell


def graded_cell(source, grade_id, outputs=()):
    """A test cell (nbgrader grade cell, locked), with outputs as the kernel left them."""
    cell = _nbgrader(new_code_cell(source), grade_id, grade=True)
    cell.outputs = list(outputs)
    return cell


# --- HideHiddenTests --------------------------------------------------------------------------------------------


def _feedback(*cells):
    nb, _ = feedback.HideHiddenTests().preprocess(new_notebook(cells=list(cells)), {})
    return nb


def test_hidden_regions_become_one_placeholder_line_and_the_rest_is_kept():
    source = ('"""Self-check."""\n### BEGIN HIDDEN TESTS\nsecret_call_one(x)\n### END HIDDEN TESTS\n'
              "checks.visible(x)\ndef f():\n    ### BEGIN HIDDEN TESTS\n    secret_call_two()\n"
              "    ### END HIDDEN TESTS\n    return 1")
    nb = _feedback(graded_cell(source, "test_x"), new_markdown_cell("Text\n### BEGIN HIDDEN TESTS\nsecret\n"
                                                                  "### END HIDDEN TESTS\nmore text"),
                   new_code_cell("start()\n### BEGIN HIDDEN TESTS\nsecret_unterminated()\n"))
    p = feedback.PLACEHOLDER
    assert nb.cells[0].source == f'"""Self-check."""\n{p}\nchecks.visible(x)\ndef f():\n    {p}\n    return 1'
    assert nb.cells[1].source == f"Text\n{p}\nmore text"
    assert nb.cells[2].source == f"start()\n{p}"  # an unterminated region hides to the end


def test_tracebacks_become_the_one_line_message():
    long = "x" * (feedback.MAX_MESSAGE + 50)
    cell = graded_cell("### BEGIN HIDDEN TESTS\n_grading.check('test_x', globals())\n### END HIDDEN TESTS", "test_x",
                     [error("GradingFailed", "\x1b[0;31mx is not divided by 255.\x1b[0m",
                            ["Traceback (most recent call last)", "----> 2 _grading.check('test_x', globals())"]),
                      error("ValueError", long)])
    first, second = _feedback(cell).cells[0].outputs
    assert first.traceback == ["GradingFailed: x is not divided by 255."]
    assert len(second.traceback) == 1 and len(second.traceback[0]) == feedback.MAX_MESSAGE
    assert second.traceback[0].endswith("...")


def test_messages_and_streams_that_quote_a_hidden_test_are_withheld():
    hidden = "assert secret_threshold(model) > 0.42"
    cell = graded_cell(f"check()\n### BEGIN HIDDEN TESTS\n{hidden}\n### END HIDDEN TESTS", "test_x",
                     [error("AssertionError", f"failed: {hidden}"), stdout(f"debug: {hidden}\n"), stdout("own text\n")])
    later = new_code_cell("print(In[1])")  # another cell quoting it counts too
    later.outputs = [stdout(f"{hidden}\n")]
    nb = _feedback(cell, later)
    shown = json.dumps(nb)
    assert "secret_threshold" not in shown
    err, leaked, own = nb.cells[0].outputs
    assert err.traceback == ["AssertionError: (the details quote the grader's tests)"]
    assert "withheld" in leaked.text and own.text == "own text\n"
    assert "withheld" in nb.cells[1].outputs[0].text


def test_values_that_quote_a_hidden_test_are_withheld():
    hidden = "assert secret_threshold(model) > 0.42"
    cell = graded_cell(f"check()\n### BEGIN HIDDEN TESTS\n{hidden}\n### END HIDDEN TESTS", "test_x")
    later = new_code_cell("_ih[2]")
    later.outputs = [result(repr(f"check()\n### BEGIN HIDDEN TESTS\n{hidden}\n"))]
    assert "secret_threshold" not in json.dumps(_feedback(cell, later))


# --- SanitizeStudentHTML --------------------------------------------------------------------------------------


HOSTILE_HTML = ('<script>document.title="pwned"</script><img src="https://attacker.invalid/p.png" onerror="alert(1)">'
                '<a href="javascript:alert(2)">js</a><b onclick="alert(3)">bold</b> '
                '<iframe src="https://attacker.invalid/f"></iframe>'
                '<style>body{background:url(https://attacker.invalid/bg)}</style><svg onload="alert(4)"></svg>'
                '<form action="https://attacker.invalid"><input name="q"></form>')
#: As markdown also loads an image from elsewhere (a paragraph of its own: after raw HTML on the
#: same line, markdown is not markdown).
HOSTILE = HOSTILE_HTML + "\n\n![t](https://attacker.invalid/t.png)"


def test_markdown_keeps_the_students_text_and_loses_what_runs_or_loads():
    text = "# My notes\n\nAugmentation **helps** the model, see [the paper](https://example.org/paper).\n\n"
    assert dangers(_page(new_notebook(cells=[new_markdown_cell(text + HOSTILE)]))), "dangerous unsanitized"
    source = _sanitized(new_notebook(cells=[new_markdown_cell(text + HOSTILE)])).cells[0].source
    assert dangers(source) == [] and "pwned" not in source
    assert '<h1 id="My-notes">My notes' in source and "<strong>helps</strong>" in source
    assert 'href="https://example.org/paper"' in source and "<b>bold</b>" in source and "[image: t]" in source
    assert ">js</a>" in source  # the link's text stays, without its script


def test_raw_cells_are_cleaned_and_shown_as_markdown():
    nb = _sanitized(new_notebook(cells=[new_raw_cell("raw words " + HOSTILE)]))
    assert nb.cells[0].cell_type == "markdown" and "<p>raw words " in nb.cells[0].source
    assert dangers(nb.cells[0].source) == [] and "pwned" not in nb.cells[0].source


def test_rich_outputs_keep_their_safe_forms_only():
    png = "iVBORw0KGgo="
    cell = new_code_cell("display(...)")
    cell.outputs = [
        new_output("display_data", data={"text/html": "<p>table</p>" + HOSTILE_HTML, "text/plain": "<HTML>"},
                   metadata={"text/html": {"isolated": False}, "image/png": {"width": 10}}),
        new_output("display_data", data={"application/javascript": 'document.title="pwned"'}),
        new_output("display_data", data={"image/svg+xml": "<svg><script>pwned()</script></svg>", "image/png": png}),
        new_output("display_data", data={"application/vnd.jupyter.widget-view+json": {"model_id": "x"},
                                         "text/plain": "Widget"}),
        new_output("execute_result", data={"text/markdown": "**md** " + HOSTILE}, execution_count=1),
    ]
    html, js, svg, widget, md = _sanitized(new_notebook(cells=[cell])).cells[0].outputs
    assert html.data["text/html"].startswith("<p>table</p>") and html.data["text/plain"] == "<HTML>"
    assert html.metadata == {"image/png": {"width": 10}}
    assert js.data == {"text/plain": "(removed from the feedback: application/javascript)"}
    assert svg.data == {"image/png": png, "text/plain": "(removed from the feedback: image/svg+xml)"}
    assert widget.data == {"text/plain": "Widget"}
    assert "<p><strong>md</strong> " in md.data["text/markdown"]
    assert dangers(html.data["text/html"] + md.data["text/markdown"]) == [] and "pwned" not in json.dumps(
        [html, js, svg, widget, md])


def test_metadata_and_attachments_the_page_could_render_are_dropped():
    note = new_markdown_cell("![pic](attachment:pic.png) ![doc](attachment:doc.html)")
    note.attachments = {"pic.png": {"image/png": "iVBORw0KGgo="},
                        "doc.html": {"text/html": "<script>pwned()</script>"}}
    note.metadata.update({"tags": ["t"], "jupyter": {"source_hidden": True}, "custom": "<script>pwned()</script>"})
    code = _nbgrader(new_code_cell("x = 1"), "images", solution=True)
    code.metadata["widgets"] = {"state": "<script>pwned()</script>"}
    nb = new_notebook(cells=[note, code], metadata={
        "kernelspec": {"name": "python3", "display_name": "Python 3", "language": "python"},
        "title": "<script>pwned()</script>", "widgets": {"application/vnd.jupyter.widget-state+json": {}}})
    nb = _sanitized(nb)
    assert nb.cells[0].attachments == {"pic.png": {"image/png": "iVBORw0KGgo="}, "doc.html": {}}
    assert nb.cells[0].metadata == {"tags": ["t"]}
    assert list(nb.cells[1].metadata) == ["nbgrader"]
    assert sorted(nb.metadata) == ["kernelspec"]
    assert "pwned" not in json.dumps(nb)


def test_the_feedback_page_runs_and_loads_nothing_of_the_students():
    """The whole page, as nbconvert renders it after the plugin: the same hostile notebook is
    dangerous without it (else this test would prove nothing)."""
    def notebook():
        cell = new_code_cell("display(...)")
        cell.outputs = [new_output("display_data", data={"text/html": HOSTILE, "text/plain": "x"})]
        return new_notebook(cells=[new_markdown_cell("# My notes\n" + HOSTILE), cell])

    assert dangers(_page(notebook()))
    page = _page(_sanitized(notebook()))
    assert dangers(page) == [] and "pwned" not in page and "My notes" in page and "<b>bold</b>" in page


@pytest.mark.parametrize("link", ["[click](javascript:alert(1))", "[click](JaVaScRiPt:alert(1))",
                                  "[click](jav&#x61;script:alert(1))", "[click](vbscript:msgbox(1))",
                                  "[click](data:text/html,<script>alert(1)</script>)"])
def test_markdown_links_to_scripts_are_removed(link):
    assert dangers(_page(new_notebook(cells=[new_markdown_cell(link)]))), "dangerous unsanitized"
    page = _page(_sanitized(new_notebook(cells=[new_markdown_cell(link)])))
    assert dangers(page) == [] and ">click</a>" in page


def test_markdown_images_with_brackets_in_their_text_load_nothing():
    page = _page(_sanitized(new_notebook(cells=[new_markdown_cell("![a [b] c](https://attacker.invalid/x.png)")])))
    assert dangers(page) == [] and "[image: a [b] c]" in page


def test_markdown_comparisons_and_quotes_are_shown_as_written():
    page = _page(_sanitized(new_notebook(cells=[new_markdown_cell("Code: `x < 5`\n\n> a quote")])))
    assert "<code>x &lt; 5</code>" in page and "<blockquote>" in page
