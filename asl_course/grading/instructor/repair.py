"""Repair: check each submission against the release and rebuild a gradeable notebook where needed.

Cells are matched to the release by what nbgrader itself keys on (:func:`repair_notebook`, one
step a function): the grade_id; then the release's own cell text, the same first, then close (the
release in another edition's wording: a badge filled in, "(read-only)" added); then, for an
answer whose metadata is gone, its place between the cells found. A rebuild holds each release
cell once and the student's own cells where they were: it adds nothing else and copies nothing.
Each thing found is a :class:`Finding`; those the student reads (the note cell) are tested true.

What instructors meet in nbgrader's tracker, and what repair does with it:

- **cleared nbgrader metadata** (another editor or Colab dropped it, nbgrader issue 1398): the
  read-only cells, markdown and given code are found by their text, each answer by its place
  (between the release cells around it) and content (the most like the instructor's solution
  among the cells found there);
- **a duplicated cell** (two cells with one grade_id, issue 1083): an answer's copies are all
  kept, in the student's order, the last one that is not the release's stub holding the
  grade_id; a read-only cell's copy is dropped (the release's cell is used);
- **a retyped cell** (code turned into markdown or raw): the answer is put back into a cell of
  the release's type;
- **reordered cells**: put back into the release's order;
- **deleted cells**: a read-only cell comes back from the release (as nbgrader's
  ``add_missing_cells`` does); a deleted answer is reported and the release's stub stays (it
  scores nothing: nothing is invented); a deleted given cell stays deleted (noted for the
  instructor), as nbgrader grades it;
- **Colab's metadata** (``colab``, ``outputId``, ``cellView``, ``id``, ``executionInfo``,
  ``provenance``): harmless on its own (nbgrader ignores it; noted in the report); a
  rebuilt notebook is the release's, without it;
- **an older nbformat** (v3, ``worksheets``): converted to v4, then checked as above;
- **outputs larger than** :data:`MAX_OUTPUT_BYTES` (a 200 MB image dump): rebuilt without
  outputs (grading runs every cell again).

Refused, with the reason (and skipped by grading): an empty file, a ``.py`` or ``.html``
export, a PDF, zip or other binary, text that is not JSON (e.g. a truncated download), JSON
that is not a notebook, a notebook of another assignment, and one in which none of the
release's cells can be found.

A rebuilt notebook is a fresh copy of the release with the student's answers put in, and
the student's own extra cells kept where they were (after the same release cell), so the
kernel runs the same code a clean notebook with the same answers would. Where a repair
happens: the original is kept untouched as ``<notebook>.original.ipynb`` beside the repaired
``<notebook>.ipynb`` (nbgrader skips it: it is not a notebook of the assignment), the
repaired notebook starts with a markdown cell saying what was repaired (the student reads it in
the feedback: nbgrader keeps a student's own markdown cells in the feedback page), and
``repairs/<assignment>/<student>.json`` (and ``summary.json`` for the class) lists it.
Running repair again starts again from the kept original.
"""

from __future__ import annotations

import copy
import dataclasses
import difflib
import json
import time
from pathlib import Path

import nbformat

from asl_course.errors import UserError
from asl_course.grading import cells

#: Outputs above this (bytes of JSON) are dropped by a rebuild (grading runs every cell again).
MAX_OUTPUT_BYTES = 10 * 1024 * 1024
#: Files above this are refused without being read (bytes).
MAX_FILE_BYTES = 1 << 30
#: Grading skips a notebook larger than this that was not repaired (see :func:`triage`).
MAX_GRADE_BYTES = 25 * 1024 * 1024
ORIGINAL_SUFFIX = ".original.ipynb"
RESTORED = "the read-only cell was deleted: put back from the release"
NOTE_KEY = "asl_course_repair"
COLAB_CELL_KEYS = ("colab", "outputId", "cellView", "id", "executionInfo", "colab_type")


class Refused(Exception):
    """The file cannot be graded: the message says why and what the student should hand in."""


# --- Reading a submission -----------------------------------------------------------------------------


def read_submission(path: Path, *, max_bytes: int = MAX_FILE_BYTES) -> tuple[dict, list[str]]:
    """The notebook (a v4 dict) in ``path`` and what reading it found, or :class:`Refused`."""
    path = Path(path)
    refuse_by_size(path.stat().st_size, max_bytes)
    with open(path, "rb") as handle:
        refuse_by_look(handle.read(4096), path.suffix.lower())
    data = notebook_json(path.read_bytes())
    found = []
    major = data.get("nbformat")
    if major == 3 or "worksheets" in data:
        data = nbformat.convert(nbformat.from_dict(data), 4)
        found.append("saved in nbformat 3 (an old Jupyter): converted to nbformat 4")
    elif major != 4:
        raise Refused(f"nbformat {major!r}: this course reads notebooks of nbformat 3 and 4")
    raw_cells = data.get("cells")
    if not isinstance(raw_cells, list) or not all(isinstance(c, dict) and "source" in c for c in raw_cells):
        raise Refused("its cells are not a list of notebook cells: the JSON is damaged; ask for the .ipynb again")
    for cell in raw_cells:
        if isinstance(cell.get("source"), list):
            cell["source"] = "".join(map(str, cell["source"]))
        cell.setdefault("metadata", {})
        if not isinstance(cell["metadata"], dict):
            cell["metadata"] = {}
            found.append("a cell's metadata was not a mapping: cleared")
    return data, found


def refuse_by_size(size: int, max_bytes: int = MAX_FILE_BYTES) -> None:
    """:class:`Refused` for an empty file or one over ``max_bytes``."""
    if size == 0:
        raise Refused("the file is empty (0 bytes): the upload failed or the notebook was never saved; "
                      "ask the student to hand in the .ipynb again")
    if size > max_bytes:
        raise Refused(f"the file is {size / 1e6:.0f} MB, more than {max_bytes / 1e6:.0f} MB: ask the student "
                      "to clear the outputs (Edit > Clear All Outputs) and hand it in again")


def refuse_by_look(head: bytes, suffix: str) -> None:
    """:class:`Refused` for what the file's first bytes (and its suffix) show is no notebook: a .py,
    HTML or PDF export, a zip archive, a binary file."""
    if suffix == ".py" or head.lstrip().startswith((b"# coding", b"#!", b"# %%", b"# In[", b"#!/usr/bin/env python")):
        raise Refused("a .py export (File > Download > .py), not a notebook: its cells and their nbgrader "
                      "marks are gone; ask the student for the .ipynb (File > Download > Download .ipynb)")
    lowered = head.lstrip().lower()
    if suffix in (".html", ".htm") or lowered.startswith((b"<!doctype html", b"<html")):
        raise Refused("an HTML export (a web page of the notebook), not a notebook: it cannot be run; ask the "
                      "student for the .ipynb (File > Download > Download .ipynb)")
    if head.startswith(b"%PDF"):
        raise Refused("a PDF, not a notebook: ask the student for the .ipynb")
    if head.startswith(b"PK\x03\x04"):
        raise Refused("a zip archive, not a notebook: unpack it and hand in the .ipynb inside")
    if b"\x00" in head:
        raise Refused("a binary file, not a notebook (a notebook is JSON text): ask the student for the .ipynb")


def notebook_json(raw: bytes) -> dict:
    """The file's JSON object if it is a notebook's (cells, or nbformat 3's worksheets), else :class:`Refused`."""
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise Refused(f"not UTF-8 text (byte {exc.start}): a binary file, not a notebook; ask the student "
                      "for the .ipynb") from None
    try:
        data = json.loads(text)
    except ValueError as exc:
        raise Refused(f"not valid JSON ({exc}): the notebook is damaged, perhaps cut off in the upload; ask the "
                      "student to hand in the .ipynb again") from None
    if not isinstance(data, dict) or ("cells" not in data and "worksheets" not in data):
        raise Refused("JSON, but not a Jupyter notebook (no cells): ask the student for the .ipynb")
    return data


# --- Matching the release --------------------------------------------------------------------------
#
# What nbgrader itself keys on decides which cell is which: a cell's grade_id first, then the
# release's own cell text (exactly, then closely: the same cell as another edition of the release
# words it), then, for an answer whose metadata is gone, its place between the cells already found.
# Each step is a function of its own on an :class:`Alignment`; :func:`repair_notebook` runs them.

#: Two cells of one type whose text is at least this alike (difflib's ratio) are one cell of the
#: release in another wording (a badge filled in, "(read-only)" added: 0.66 and more in this course's
#: editions; two different cells of one notebook are alike up to 0.83 only inside one window).
CLOSE = 0.6


def _norm(text: str) -> str:
    return "\n".join(line.rstrip() for line in str(text).strip().splitlines())


def _similar(a: str, b: str) -> float:
    return difflib.SequenceMatcher(None, _norm(a), _norm(b), autojunk=False).ratio()


def closeness(release_text: str, text: str) -> float:
    """How alike a release cell and a submitted cell are: difflib's ratio, and at least :data:`CLOSE`
    when their first lines are the same (a heading, a docstring: a short cell whose badge or link
    another edition words otherwise)."""
    a, b = _norm(release_text), _norm(text)
    first = a.split("\n")[0]
    if first and first == b.split("\n")[0]:
        return max(CLOSE, _similar(a, b) if len(b) < 4 * len(a) + 200 else 0.0)
    if 2 * min(len(a), len(b)) < CLOSE * (len(a) + len(b)):  # lengths alone rule it out (a huge cell: no diff)
        return 0.0
    return _similar(a, b)


def _has_colab(nb: dict, release=None) -> bool:
    """Colab's own metadata beyond what the release carries (the release names Colab's GPU)."""
    colab = nb.get("metadata", {}).get("colab")
    if colab and colab != (release.metadata.get("colab") if release is not None else None):
        return True
    return any(k in c.get("metadata", {}) for c in nb.get("cells", []) for k in ("colab", "outputId", "cellView",
                                                                                "executionInfo"))


def _output_bytes(nb: dict) -> int:
    return sum(len(json.dumps(c.get("outputs", []))) for c in nb.get("cells", []) if c.get("cell_type") == "code")


def _label(cell, index: int) -> str:
    gid = cells.grade_id(cell)
    first = _norm(cell.get("source", "")).split("\n")[0][:50]
    return f"`{gid}`" if gid else f"cell {index + 1} ({first!r})"


@dataclasses.dataclass
class Finding:
    """One thing repair found. ``kind``: what (see :data:`FINDINGS`); ``cell``: the release cell's
    index it is about (None: the notebook); ``audience``: "student" (written into the repaired
    notebook's note: it must be true), "not_placed" (the same, under "not placed") or "instructor"."""
    kind: str
    message: str
    cell: int | None = None
    audience: str = "student"
    rebuild: bool = True


#: Every kind of finding. Those a student reads are checked against the damage done to small
#: fixture notebooks in tests/test_repair.py (``outputs``: on a real 200 MB one).
FINDINGS = ("metadata_gone", "answer_found", "answer_missing", "duplicated_answer", "duplicated_locked",
            "retyped_answer", "retyped_locked", "moved", "restored", "outputs", "could_be_answer",
            "unknown_grade_id", "own_cell", "plain_left_out", "colab", "nbformat3", "read")


@dataclasses.dataclass
class Alignment:
    """How a submission's cells line up with the release's: ``match`` maps a release cell's index to
    the submission cells that are it (more than one: copies), ``how`` says how each was found."""
    rel: list
    cells: list
    match: dict = dataclasses.field(default_factory=dict)
    how: dict = dataclasses.field(default_factory=dict)
    findings: list = dataclasses.field(default_factory=list)

    def add(self, i: int, j: int, how: str) -> None:
        self.match.setdefault(i, []).append(j)
        self.how.setdefault(i, how)

    def taken(self) -> set:
        return {j for js in self.match.values() for j in js}

    def position(self, i: int) -> int | None:
        """Where release cell ``i`` is in the submission (its first copy), or None."""
        return min(self.match[i]) if i in self.match else None

    def window(self, i: int) -> range:
        """The submission cells between the found release cells around release cell ``i``."""
        before = next((p for k in range(i - 1, -1, -1) if (p := self.position(k)) is not None), -1)
        after = next((p for k in range(i + 1, len(self.rel)) if (p := self.position(k)) is not None), len(self.cells))
        return range(before + 1, after) if before < after else range(len(self.cells))

    def note(self, kind: str, message: str, cell: int | None = None, audience: str = "student",
             rebuild: bool = True) -> None:
        self.findings.append(Finding(kind, message, cell, audience, rebuild))


def normalise_cells(sub: dict) -> list:
    """The submission's cells (copied), each with a text source and a metadata mapping."""
    copied = copy.deepcopy(list(sub.get("cells", [])))
    for cell in copied:
        if isinstance(cell.get("source"), list):
            cell["source"] = "".join(map(str, cell["source"]))
        if not isinstance(cell.get("metadata"), dict):
            cell["metadata"] = {}
    return copied


def refuse_other_assignment(submitted: list, rel: list, assignment: str, others: dict) -> None:
    """:class:`Refused` if the cells carry another assignment's grade_ids and none of this one's."""
    sub_ids, rel_ids = set(cells.grade_ids(submitted)), set(cells.grade_ids(rel))
    if sub_ids and not (sub_ids & rel_ids):
        for other, ids in (others or {}).items():
            if sub_ids & set(ids):
                raise Refused(f"this is the notebook of {other}, not of {assignment}: its cells are {other}'s "
                              f"(grade_ids {', '.join(sorted(sub_ids & set(ids))[:3])}); ask the student to hand "
                              f"in {assignment}.ipynb (or file it under {other})")


def match_by_grade_id(al: Alignment) -> None:
    """Step 1, nbgrader's own key: every cell carrying a grade_id of the release is that cell."""
    rel_ids = {cells.grade_id(c): i for i, c in enumerate(al.rel) if cells.grade_id(c)}
    for j, cell in enumerate(al.cells):
        gid = cells.grade_id(cell)
        if gid in rel_ids:
            al.add(rel_ids[gid], j, "grade_id")
        elif gid:
            al.note("unknown_grade_id", f"{_label(cell, j)}: a grade_id the release does not have: kept as the "
                    "student's own cell", audience="instructor")


def _free(al: Alignment, j: int) -> bool:
    cell = al.cells[j]
    return not cells.grade_id(cell) and not cell.get("metadata", {}).get(NOTE_KEY)


def _wanted(al: Alignment) -> list[int]:
    """The release cells step 2 looks for: not found yet, not answers, not empty."""
    return [i for i, c in enumerate(al.rel) if i not in al.match and cells.kind(c) != "answer" and _norm(c.source)]


def match_same_text(al: Alignment) -> None:
    """Step 2, the release's own text, for the cells that are not answers: the same text, in order (so
    repeated cells pair up in turn)."""
    taken = al.taken()
    for i in _wanted(al):
        text = _norm(al.rel[i].source)
        j = next((j for j in range(len(al.cells)) if j not in taken and _free(al, j)
                  and _norm(al.cells[j].get("source", "")) == text), None)
        if j is not None:
            al.add(i, j, "text")
            taken.add(j)


def match_close_text(al: Alignment) -> None:
    """Step 3: a close text (:data:`CLOSE`) of the same cell type, within the window of the cells found
    around it: the release's cell in another edition's wording. The most alike pair first."""
    taken, ratios = al.taken(), {}
    while True:
        best = None
        for i in _wanted(al):
            for j in al.window(i):
                if j in taken or not _free(al, j) or al.cells[j].get("cell_type") != al.rel[i].cell_type:
                    continue
                if (i, j) not in ratios:
                    ratios[i, j] = closeness(al.rel[i].source, al.cells[j].get("source", ""))
                if ratios[i, j] >= CLOSE and (best is None or ratios[i, j] > best[0]):
                    best = (ratios[i, j], i, j)
        if best is None:
            return
        al.add(best[1], best[2], "close text")
        taken.add(best[2])


def note_metadata_gone(al: Alignment) -> None:
    """A read-only cell found by its text alone has lost nbgrader's metadata (the rebuild restores it)."""
    for i, how in al.how.items():
        if how != "grade_id" and cells.kind(al.rel[i]) == "locked":
            if not any(cells.nbgrader_metadata(al.cells[j]) for j in al.match[i]):
                al.note("metadata_gone", f"{_label(al.rel[i], i)}: its nbgrader metadata was gone (found by its "
                        "content)", i)
            else:
                al.note("metadata_gone", f"{_label(al.rel[i], i)}: its nbgrader metadata was changed (found by "
                        "its content)", i)


def refuse_if_not_this_assignment(al: Alignment, assignment: str) -> None:
    anchors = [i for i in al.match if cells.kind(al.rel[i]) != "answer"]
    comparable = [i for i, c in enumerate(al.rel) if cells.kind(c) != "answer" and _norm(c.source)]
    by_id = any(how == "grade_id" for how in al.how.values())
    if comparable and len(anchors) < max(1, 0.3 * len(comparable)) and not by_id:
        raise Refused(f"this does not look like {assignment}: only {len(anchors)} of the release's "
                      f"{len(comparable)} cells are in it and none of its graded cells; perhaps another "
                      f"assignment's notebook: ask the student to hand in {assignment}.ipynb")


def place_answers(al: Alignment, solutions: dict) -> None:
    """Step 4, answers whose metadata is gone: among the free cells between the found cells around the
    release's answer cell, the one most like the instructor's answer; the others stay the student's own."""
    for i, cell in enumerate(al.rel):
        if cells.kind(cell) != "answer" or i in al.match:
            continue
        taken = al.taken()
        window = [j for j in al.window(i) if j not in taken and _free(al, j)]
        gid = cells.grade_id(cell)
        if not window:
            al.note("answer_missing", f"`{gid}`: the answer cell is missing: the release's empty cell is put back "
                    "(this exercise scores nothing)", i)
            continue
        target = solutions.get(gid, cell.source)
        best = max(window, key=lambda j: (_similar(al.cells[j].get("source", ""), target), -j))
        al.add(i, best, "place")
        for j in window:
            if j != best and al.cells[j].get("cell_type") == "code" and _norm(al.cells[j].get("source", "")):
                al.note("could_be_answer", f"{_label(al.cells[j], j)} could also be the answer to `{gid}` (taken "
                        f"from {_label(al.cells[best], best)}, the more like it): kept as the student's own cell, "
                        "where it was, not as the answer", i, audience="not_placed")
        al.note("answer_found", f"`{gid}`: its nbgrader metadata was gone: the answer was found by its place and "
                f"content ({_label(al.cells[best], best)})", i)


def note_damage(al: Alignment) -> None:
    """Copies, retyped cells, moved cells, deleted read-only cells and given cells left out."""
    for i, js in sorted(al.match.items()):
        gid, kind = cells.grade_id(al.rel[i]), cells.kind(al.rel[i])
        if len(js) > 1 and kind == "answer":
            al.note("duplicated_answer", f"`{gid}`: {len(js)} cells had this grade_id (a copied cell): all kept, "
                    "in the student's order, the last one holding the grade_id", i)
        elif len(js) > 1:
            al.note("duplicated_locked", f"`{gid}`: {len(js)} copies of this read-only cell: one kept (the "
                    "release's)", i)
        for j in js:
            typed = al.cells[j].get("cell_type")
            if typed != al.rel[i].cell_type and kind == "answer":
                al.note("retyped_answer", f"`{gid}`: the answer was in a {typed} cell: put back into a "
                        f"{al.rel[i].cell_type} cell", i)
            elif typed != al.rel[i].cell_type and kind == "locked":
                al.note("retyped_locked", f"`{gid}`: the read-only cell was retyped: the release's cell is used", i)
    order = [al.position(i) for i in range(len(al.rel)) if i in al.match and cells.kind(al.rel[i]) != "plain"]
    if order != sorted(order):
        al.note("moved", "cells were moved: put back into the release's order")
    for i, cell in enumerate(al.rel):
        if i not in al.match and cells.kind(cell) == "locked":
            al.note("restored", f"{_label(cell, i)}: {RESTORED}", i)
        elif i not in al.match and cells.kind(cell) == "plain" and _norm(cell.source):
            al.note("plain_left_out", f"{_label(cell, i)} of the release is not in the notebook: left out, as "
                    "nbgrader grades it", i, audience="instructor", rebuild=False)


def rebuild(al: Alignment, release) -> nbformat.NotebookNode:
    """A fresh copy of the release with the student's cells put in: each release cell once (a read-only
    cell or text as released, an answer or given code with the student's text), the student's own cells
    after the same release cell as before; nothing else is added, nothing twice."""
    taken = al.taken()
    ordered = sorted((j, i) for i, js in al.match.items() for j in js)
    anchor_of = {}  # a student's own cell -> the release cell found just before it
    for j in (j for j in range(len(al.cells)) if j not in taken):
        anchor_of[j] = next((i for jj, i in reversed(ordered) if jj < j), -1)
    out = nbformat.v4.new_notebook()
    out.metadata = copy.deepcopy(release.metadata)
    out.nbformat, out.nbformat_minor = release.nbformat, release.nbformat_minor

    def student_cell(j, kind=None):
        cell = al.cells[j]
        kind = kind or (cell.get("cell_type") if cell.get("cell_type") in ("code", "markdown", "raw") else "code")
        make = {"code": nbformat.v4.new_code_cell, "markdown": nbformat.v4.new_markdown_cell,
                "raw": nbformat.v4.new_raw_cell}[kind]
        return make(cell.get("source", ""))

    def extras_after(i):
        return [student_cell(j) for j in sorted(anchor_of) if anchor_of[j] == i]

    out.cells.extend(extras_after(-1))
    for i, cell in enumerate(al.rel):
        kind = cells.kind(cell)
        if kind == "answer" and i in al.match:
            js = sorted(al.match[i])
            stub = _norm(cell.source)
            holder = next((j for j in reversed(js) if _norm(al.cells[j].get("source", "")) != stub), js[-1])
            for j in js:
                if j == holder:
                    new = copy.deepcopy(cell)
                    new.source = al.cells[j].get("source", "")
                    out.cells.append(new)
                else:
                    out.cells.append(student_cell(j, cell.cell_type))
        elif kind == "plain" and i in al.match:
            new = copy.deepcopy(cell)
            if cell.cell_type == "code":  # the student's code: nbgrader runs an unlocked cell as handed in
                new.source = al.cells[al.match[i][0]].get("source", "")
            out.cells.append(new)
        elif kind != "plain":  # a read-only cell as released (found, or put back), an answer's stub
            out.cells.append(copy.deepcopy(cell))
        out.cells.extend(extras_after(i))
    for k, cell in enumerate(out.cells):
        if cell.cell_type == "code":
            cell.outputs, cell.execution_count = [], None
        cell["id"] = f"cell-{k:03d}"  # deterministic: a second repair writes the same file
    return out


def repair_notebook(sub: dict, release, *, solutions: dict | None = None, assignment: str = "",
                    others: dict | None = None, read_notes=()) -> dict:
    """Compare ``sub`` (a v4 notebook dict) with ``release`` (nbformat node) and rebuild if needed.

    ``solutions``: ``{grade_id: the instructor's answer}`` (to recognise an answer among cells
    whose metadata is gone); ``others``: ``{assignment: set of grade_ids}`` of the other
    assignments (to name a notebook handed in to the wrong one). Returns ``{"status": "ok" |
    "repaired", "repairs": [...], "notes": [...], "not_placed": [...], "findings": [...],
    "notebook": v4 node or None}``; raises :class:`Refused` if nothing gradeable can be made.
    """
    al = Alignment(list(release.cells), normalise_cells(sub))
    for note in read_notes:
        al.note("nbformat3" if "nbformat 3" in note else "read", note, audience="instructor",
                rebuild="nbformat 3" in note)
    refuse_other_assignment(al.cells, al.rel, assignment, others)
    match_by_grade_id(al)
    match_same_text(al)
    refuse_if_not_this_assignment(al, assignment)  # on what nbgrader's keys found, before any guess
    match_close_text(al)
    note_metadata_gone(al)
    place_answers(al, solutions or {})
    note_damage(al)
    if _output_bytes(sub) > MAX_OUTPUT_BYTES:
        al.note("outputs", f"outputs of {_output_bytes(sub) / 1e6:.0f} MB: dropped (grading runs every cell again)")
    needed = any(f.rebuild for f in al.findings)
    if _has_colab(sub, release):
        al.note("colab", "Colab's metadata (colab, outputId, cellView, provenance): harmless"
                + (", not carried into the rebuilt notebook" if needed else ", left as it is"),
                audience="instructor", rebuild=False)
    taken = al.taken()
    for j, cell in enumerate(al.cells):
        if j not in taken and cell.get("cell_type") == "code" and _norm(cell.get("source", "")) and needed:
            al.note("own_cell", f"{_label(cell, j)}: the student's own cell, kept after the same release cell",
                    audience="instructor", rebuild=False)
    result = {"status": "repaired" if needed else "ok",
              "repairs": [f.message for f in al.findings if f.audience == "student"] if needed else [],
              "notes": [f.message for f in al.findings if f.audience == "instructor"],
              "not_placed": [f.message for f in al.findings if f.audience == "not_placed"] if needed else [],
              "findings": [dataclasses.asdict(f) for f in al.findings],
              "notebook": rebuild(al, release) if needed else None}
    return result


def note_cell(repairs: list[str]):
    """The markdown cell a repaired notebook starts with (the student sees it in the feedback)."""
    lines = ["**Note from the grader: this notebook was repaired before grading.** Your answers were put "
             "into a fresh copy of the assignment; nothing in them was changed. What was repaired:", ""]
    lines += [f"- {r}" for r in repairs]
    lines += ["", "Your original file is kept as it was. If an answer is missing here, tell your instructor."]
    cell = nbformat.v4.new_markdown_cell("\n".join(lines))
    cell.metadata[NOTE_KEY] = True
    cell["id"] = "repair-note"
    return cell


# --- The course ----------------------------------------------------------------------------------------


def release_notebook(course: Path, assignment: str):
    for path in (Path(course) / "release" / assignment / f"{assignment}.ipynb", Path(course) / "release" / f"{assignment}.ipynb"):
        if path.is_file():
            return nbformat.read(path, as_version=4)
    raise UserError(f"no release of {assignment} in {course}/release/: run `nbgrader generate_assignment "
                    f"{assignment}` in the course folder first")


def solution_answers(course: Path, assignment: str) -> dict:
    path = Path(course) / "source" / assignment / f"{assignment}.ipynb"
    if not path.is_file():
        return {}
    nb = nbformat.read(path, as_version=4)
    return {cells.grade_id(c): c.source for c in nb.cells if cells.is_solution(c) and cells.grade_id(c)}


def other_ids(course: Path, assignment: str) -> dict:
    out = {}
    paths = sorted((Path(course) / "release").glob("*/*.ipynb")) + sorted((Path(course) / "source").glob("*/*.ipynb"))
    for path in paths:
        if path.stem != assignment and path.stem not in out and path.parent.name == path.stem:
            try:
                nb = nbformat.read(path, as_version=4)
            except Exception:  # noqa: BLE001 - a broken release is not this student's problem
                continue
            out[path.stem] = set(cells.grade_ids(nb.cells))
    return out


def _handed_in(folder: Path, assignment: str) -> Path | None:
    """The file a student handed in for ``assignment``: the kept original if repaired before."""
    for name in (f"{assignment}{ORIGINAL_SUFFIX}", f"{assignment}.ipynb", f"{assignment}.py", f"{assignment}.html",
                 f"{assignment}.htm", f"{assignment}.txt", f"{assignment}.pdf"):
        if (folder / name).is_file():
            return folder / name
    found = sorted(p for p in folder.iterdir() if p.is_file() and p.name != "timestamp.txt") if folder.is_dir() else []
    return found[0] if found else None


def repair_student(course: Path, assignment: str, student: str, *, context: dict | None = None,
                   dry_run: bool = False) -> dict:
    """Check (and repair) one student's submission; writes the repaired notebook and keeps the original."""
    course = Path(course)
    context = context or {"release": release_notebook(course, assignment),
                          "solutions": solution_answers(course, assignment),
                          "others": other_ids(course, assignment)}
    folder = course / "submitted" / student / assignment
    path = _handed_in(folder, assignment)
    report = {"student": student, "assignment": assignment, "file": path.name if path else None,
              "status": None, "repairs": [], "notes": [], "reason": None}
    if path is None:
        report.update(status="refused", reason=f"nothing handed in (submitted/{student}/{assignment}/ is empty)")
        return report
    target = folder / f"{assignment}.ipynb"
    try:
        data, found = read_submission(path)
        result = repair_notebook(data, context["release"], solutions=context["solutions"], assignment=assignment,
                                 others=context["others"], read_notes=found)
    except Refused as exc:
        report.update(status="refused", reason=str(exc))
        return report
    report.update(status=result["status"], repairs=result["repairs"], notes=result["notes"])
    if result["status"] == "repaired":
        report["repairs"] = [n for n in result["notes"] if "nbformat 3" in n] + result["repairs"]
        report["not_placed"] = result["not_placed"]
        nb = result["notebook"]
        nb.cells.insert(0, note_cell(report["repairs"] + [f"not placed: {n}" for n in result["not_placed"]]))
        if not dry_run:
            original = folder / f"{assignment}{ORIGINAL_SUFFIX}"
            if path != original:
                path.rename(original)
            nbformat.write(nb, target)
        report["original"] = f"{assignment}{ORIGINAL_SUFFIX}"
    elif path.name == f"{assignment}{ORIGINAL_SUFFIX}" and not dry_run:
        # Repaired before, clean now (e.g. the course's release changed): grade the original as handed in.
        if target.exists():
            target.unlink()
        path.rename(target)
    return report


def repair_class(course, assignment: str, students=None, *, dry_run: bool = False) -> dict:
    """Repair every submission of ``assignment``; writes ``repairs/<assignment>/`` (one JSON per student, and
    ``summary.json``). Returns ``{"ok": [...], "repaired": {student: [repairs]}, "refused": {student: reason},
    "reports": {student: report}}``."""
    course = Path(course).absolute()
    context = {"release": release_notebook(course, assignment), "solutions": solution_answers(course, assignment),
               "others": other_ids(course, assignment)}
    everyone = sorted(p.parent.name for p in (course / "submitted").glob(f"*/{assignment}") if p.is_dir())
    if students:
        everyone = [s for s in everyone if s in set(students)]
    summary = {"assignment": assignment, "ok": [], "repaired": {}, "refused": {}, "reports": {}, "seconds": {}}
    out = course / "repairs" / assignment
    for student in everyone:
        started = time.monotonic()
        try:
            report = repair_student(course, assignment, student, context=context, dry_run=dry_run)
        except Exception as exc:  # noqa: BLE001 - one notebook never stops the class
            report = {"student": student, "assignment": assignment, "status": "refused", "repairs": [], "notes": [],
                      "reason": f"repair failed: {type(exc).__name__}: {exc}"}
        summary["seconds"][student] = round(time.monotonic() - started, 3)
        summary["reports"][student] = report
        if report["status"] == "ok":
            summary["ok"].append(student)
        elif report["status"] == "repaired":
            summary["repaired"][student] = report["repairs"]
        else:
            summary["refused"][student] = report["reason"]
        if not dry_run:
            out.mkdir(parents=True, exist_ok=True)
            (out / f"{student}.json").write_text(json.dumps(report, indent=1) + "\n")
    if not dry_run:
        out.mkdir(parents=True, exist_ok=True)
        previous = read_summary(course, assignment)
        if students and previous:  # a partial run updates the class summary
            for key in ("ok", "repaired", "refused", "reports", "seconds"):
                for s in everyone:
                    if isinstance(previous.get(key), dict):
                        previous[key].pop(s, None)
                    elif isinstance(previous.get(key), list) and s in previous[key]:
                        previous[key].remove(s)
                if isinstance(previous.get(key), dict):
                    previous[key].update(summary[key])
                else:
                    previous[key] = sorted(set(previous.get(key, [])) | set(summary[key]))
            summary = previous
        (out / "summary.json").write_text(json.dumps(summary, indent=1) + "\n")
    return summary


def read_summary(course, assignment: str) -> dict | None:
    path = Path(course) / "repairs" / assignment / "summary.json"
    try:
        return json.loads(path.read_text())
    except (OSError, ValueError):
        return None


def triage(course, assignment: str, student: str, *, context: dict | None = None) -> tuple[str, str]:
    """Can grading take this student's notebook as it is? ``("ok", "")``, or ``("skip", why)``.

    Used by ``asl-course grade`` before it starts: a notebook nbgrader cannot read, or one with
    damage that would grade it wrongly, is skipped with the reason (and what to run)."""
    course = Path(course)
    folder = course / "submitted" / student / assignment
    path = folder / f"{assignment}.ipynb"
    if not path.is_file():
        handed = _handed_in(folder, assignment)
        if handed is None:
            return "skip", f"no {assignment}.ipynb in submitted/{student}/{assignment}/"
        try:
            read_submission(handed)
        except Refused as exc:
            return "skip", f"{handed.name}: {exc}"
        return "skip", f"no {assignment}.ipynb (only {handed.name}): run `asl-course repair {assignment}`"
    try:
        data, found = read_submission(path, max_bytes=MAX_GRADE_BYTES)
        context = context or {"release": release_notebook(course, assignment),
                              "solutions": solution_answers(course, assignment),
                              "others": other_ids(course, assignment)}
        result = repair_notebook(data, context["release"], solutions=context["solutions"], assignment=assignment,
                                 others=context["others"], read_notes=found)
    except Refused as exc:
        hint = " (or run `asl-course repair`, which drops outputs)" if "MB" in str(exc) else ""
        return "skip", f"{path.name}: {exc}{hint}"
    # nbgrader itself puts a deleted read-only cell back (OverwriteCells.add_missing_cells): not a reason to skip.
    blocking = [r for r in result["repairs"] if not r.endswith(RESTORED)]
    if result["status"] != "ok" and (blocking or any("nbformat 3" in n for n in found)):
        why = "; ".join((blocking or found)[:3])
        return "skip", f"{path.name} needs a repair before grading ({why}): run `asl-course repair {assignment}`"
    return "ok", ""


def describe(summary: dict) -> list[str]:
    lines = [f"{summary['assignment']}: {len(summary['ok'])} fine as handed in, {len(summary['repaired'])} repaired, "
             f"{len(summary['refused'])} refused"]
    for student, repairs in sorted(summary["repaired"].items()):
        lines.append(f"REPAIRED {student}: " + "; ".join(repairs))
    for student, reason in sorted(summary["refused"].items()):
        lines.append(f"REFUSED {student}: {reason}")
    for student, report in sorted(summary["reports"].items()):
        for item in report.get("not_placed", []):
            lines.append(f"NOT PLACED {student}: {item}")
    for student, report in sorted(summary["reports"].items()):
        for note in report.get("notes", []):
            if "nbformat 3" not in note:
                lines.append(f"note {student}: {note}")
    return lines
