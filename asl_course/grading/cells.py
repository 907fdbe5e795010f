"""nbgrader's cell metadata, read in one place: which cells are answers, tests, locked, and the
hidden-test markers.

Every part that looks at a notebook's nbgrader cells (the autograder, intake, repair, similarity,
the editions, the simulated class) asks here. The predicates are nbgrader's own
(:mod:`nbgrader.utils`: :func:`is_grade`, :func:`is_solution`, :func:`is_locked`, :func:`is_task`),
applied to a clean view of the cell's metadata, so that they also take a plain ``dict`` cell (a
notebook read with :mod:`json`) and a hand-in whose metadata is damaged or hostile (``nbgrader``
a list, ``metadata`` a string, ...): such a cell is simply not an nbgrader cell.

This module is not imported by :mod:`asl_course.grading` itself (a kernel never loads it).
"""

from __future__ import annotations

import re

from nbformat.notebooknode import NotebookNode
from nbgrader import utils

#: The lines around a test cell's hidden tests (nbgrader's ClearHiddenTests markers).
BEGIN_HIDDEN = re.compile(r"^\s*### BEGIN HIDDEN TESTS\s*$")
END_HIDDEN = re.compile(r"^\s*### END HIDDEN TESTS\s*$")
#: A whole hidden-test region, markers included, as a block of lines (for ``re.sub``/``search``).
HIDDEN_REGION = re.compile(r"^[ \t]*### BEGIN HIDDEN TESTS[ \t]*\n.*?^[ \t]*### END HIDDEN TESTS[ \t]*(\n|\Z)",
                           re.S | re.M)


def nbgrader_metadata(cell) -> dict:
    """The cell's ``metadata.nbgrader`` (``{}`` when it has none, or when it is not a mapping)."""
    metadata = cell.get("metadata") if isinstance(cell, dict) else None
    found = metadata.get("nbgrader") if isinstance(metadata, dict) else None
    return found if isinstance(found, dict) else {}


def _view(cell) -> NotebookNode:
    """What nbgrader's predicates read (``cell.metadata['nbgrader']``), from any cell."""
    meta = nbgrader_metadata(cell)
    return NotebookNode(metadata=NotebookNode({"nbgrader": meta} if meta else {}))


def is_grade(cell) -> bool:
    """A test cell (nbgrader grade cell)."""
    return bool(utils.is_grade(_view(cell)))


def is_solution(cell) -> bool:
    """An answer cell (nbgrader solution cell)."""
    return bool(utils.is_solution(_view(cell)))


def is_locked(cell) -> bool:
    """A cell nbgrader puts back from the source when it grades (never an answer; every test)."""
    return bool(utils.is_locked(_view(cell)))


def is_task(cell) -> bool:
    return bool(utils.is_task(_view(cell)))


def grade_id(cell) -> str | None:
    """The cell's grade_id (None for a cell nbgrader does not track)."""
    found = nbgrader_metadata(cell).get("grade_id")
    return found if isinstance(found, str) and found else None


def grade_id_of_test(cell) -> str | None:
    """The grade_id of a test cell (None for any other cell)."""
    return grade_id(cell) if is_grade(cell) else None


def points(cell) -> float:
    """The points of a test cell (0 for any other cell)."""
    return float(nbgrader_metadata(cell).get("points") or 0) if is_grade(cell) else 0.0


def kind(cell) -> str:
    """``"answer"`` (solution cell), ``"locked"`` (test or read-only cell) or ``"plain"``."""
    if is_solution(cell):
        return "answer"
    return "locked" if is_locked(cell) else "plain"


def grade_ids(cells) -> list[str]:
    """The grade_ids of these cells, in order (NotebookNodes or plain dicts; other items skipped)."""
    return [g for g in map(grade_id, cells) if g] if isinstance(cells, (list, tuple)) else []


def answer_cells(nb) -> dict[str, str]:
    """``{grade_id: source}`` of the notebook's code answer cells that carry a grade_id, in order."""
    return {grade_id(c): c.source for c in nb.cells
            if c.cell_type == "code" and is_solution(c) and grade_id(c)}


def hidden_tests(source: str) -> str:
    """The code between a cell's hidden-test markers ("" when it has none)."""
    found = HIDDEN_REGION.search(source)
    if not found:
        return ""
    lines = found.group(0).splitlines()
    return "\n".join(lines[1:-1])
