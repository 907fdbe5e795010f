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
