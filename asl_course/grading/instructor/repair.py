"""Repair: check each submission against the release and rebuild a gradeable notebook where needed.

What instructors meet in nbgrader's tracker, and what :func:`repair_notebook` does with it:

- **cleared nbgrader metadata** (another editor dropped it, nbgrader issue 1398): the cells are
  matched to the release by content (read-only cells, markdown, given code), and each answer
  by position (between the release cells around it) and content (the most like the
  instructor's solution among the cells found there);
- **a duplicated cell** (two cells with one grade_id, issue 1083): an answer's copies are all
  kept, in the student's order, the last one that is not the release's stub holding the
  grade_id; a read-only cell's copy is dropped (the release's cell is used);
- **a retyped cell** (code turned into markdown or raw): the answer is put back into a cell of
  the release's type;
- **reordered cells**: put back into the release's order;
- **deleted cells**: a read-only cell comes back from the release; a deleted answer is
  reported and the release's stub stays (it scores nothing: nothing is invented);
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
import difflib
import json
from pathlib import Path

import nbformat

from asl_course.errors import UserError

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
    size = path.stat().st_size
    if size == 0:
        raise Refused("the file is empty (0 bytes): the upload failed or the notebook was never saved; "
                      "ask the student to hand in the .ipynb again")
    if size > max_bytes:
        raise Refused(f"the file is {size / 1e6:.0f} MB, more than {max_bytes / 1e6:.0f} MB: ask the student "
                      "to clear the outputs (Edit > Clear All Outputs) and hand it in again")
    suffix = path.suffix.lower()
    with open(path, "rb") as handle:
        head = handle.read(4096)
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
    raw = path.read_bytes()
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
    found = []
    major = data.get("nbformat")
    if major == 3 or "worksheets" in data:
        data = nbformat.convert(nbformat.from_dict(data), 4)
        found.append("saved in nbformat 3 (an old Jupyter): converted to nbformat 4")
    elif major != 4:
        raise Refused(f"nbformat {major!r}: this course reads notebooks of nbformat 3 and 4")
    cells = data.get("cells")
    if not isinstance(cells, list) or not all(isinstance(c, dict) and "source" in c for c in cells):
        raise Refused("its cells are not a list of notebook cells: the JSON is damaged; ask for the .ipynb again")
    for cell in cells:
        if isinstance(cell.get("source"), list):
            cell["source"] = "".join(map(str, cell["source"]))
        cell.setdefault("metadata", {})
        if not isinstance(cell["metadata"], dict):
            cell["metadata"] = {}
            found.append("a cell's metadata was not a mapping: cleared")
    return data, found


# --- Matching the release --------------------------------------------------------------------------


def _nbg(cell) -> dict:
    meta = cell.get("metadata", {}).get("nbgrader")
    return meta if isinstance(meta, dict) else {}


def _kind(cell) -> str:
    m = _nbg(cell)
    if m.get("solution"):
        return "answer"
    if m.get("locked") or m.get("grade"):
        return "locked"
    return "plain"


def _norm(text: str) -> str:
    return "\n".join(line.rstrip() for line in str(text).strip().splitlines())


def _similar(a: str, b: str) -> float:
    return difflib.SequenceMatcher(None, _norm(a), _norm(b), autojunk=False).ratio()


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
    gid = _nbg(cell).get("grade_id")
    first = _norm(cell.get("source", "")).split("\n")[0][:50]
    return f"`{gid}`" if gid else f"cell {index + 1} ({first!r})"


def repair_notebook(sub: dict, release, *, solutions: dict | None = None, assignment: str = "",
                    others: dict | None = None, read_notes=()) -> dict:
    """Compare ``sub`` (a v4 notebook dict) with ``release`` (nbformat node) and rebuild if needed.

    ``solutions``: ``{grade_id: the instructor's answer}`` (to recognise an answer among cells
    whose metadata is gone); ``others``: ``{assignment: set of grade_ids}`` of the other
    assignments (to name a notebook handed in to the wrong one). Returns ``{"status": "ok" |
    "repaired", "repairs": [...], "notes": [...], "not_placed": [...], "notebook": v4 node or None}``;
    raises :class:`Refused` if nothing gradeable can be made.
    """
    solutions = solutions or {}
    sub = copy.deepcopy(sub)
    for cell in sub.get("cells", []):
        if isinstance(cell.get("source"), list):
            cell["source"] = "".join(map(str, cell["source"]))
        if not isinstance(cell.get("metadata"), dict):
            cell["metadata"] = {}
    rel = list(release.cells)
    rel_ids = {(_nbg(c).get("grade_id")): i for i, c in enumerate(rel) if _nbg(c).get("grade_id")}
    cells = list(sub.get("cells", []))
    repairs, notes, not_placed = [], list(read_notes), []
    rebuild = bool(read_notes and any("nbformat 3" in n for n in read_notes))
    sub_ids = {_nbg(c).get("grade_id") for c in cells if _nbg(c).get("grade_id")}

    # Another assignment's notebook?
    if sub_ids and not (sub_ids & set(rel_ids)):
        for other, ids in (others or {}).items():
            if sub_ids & set(ids):
                raise Refused(f"this is the notebook of {other}, not of {assignment}: its cells are {other}'s "
                              f"(grade_ids {', '.join(sorted(sub_ids & set(ids))[:3])}); ask the student to hand "
                              f"in {assignment}.ipynb (or file it under {other})")

    # 1. By grade_id.
    match: dict[int, list[int]] = {}  # release index -> submission indexes
    unknown_ids = []
    for j, cell in enumerate(cells):
        gid = _nbg(cell).get("grade_id")
        if gid in rel_ids:
            match.setdefault(rel_ids[gid], []).append(j)
        elif gid:
            unknown_ids.append(j)
    for j in unknown_ids:
        notes.append(f"{_label(cells[j], j)}: a grade_id the release does not have: kept as the student's own cell")
        rebuild = True
    # 2. By content: read-only, markdown and given cells the student did not change.
    taken = {j for js in match.values() for j in js}
    by_text: dict[str, list[int]] = {}
    for i, cell in enumerate(rel):
        if i not in match and _kind(cell) != "answer" and _norm(cell.source):
            by_text.setdefault(_norm(cell.source), []).append(i)
    content_matched = 0
    for j, cell in enumerate(cells):
        if j in taken:
            continue
        cands = [i for i in by_text.get(_norm(cell.get("source", "")), []) if i not in match]
        if cands:
            match[cands[0]] = [j]
            taken.add(j)
            content_matched += 1
            if _kind(rel[cands[0]]) == "locked":
                if not _nbg(cell):
                    repairs.append(f"{_label(rel[cands[0]], cands[0])}: its nbgrader metadata was gone "
                                   "(found by its content)")
                rebuild = True
    anchors = [i for i in match if _kind(rel[i]) != "answer"]
    comparable = [i for i, c in enumerate(rel) if _kind(c) != "answer" and _norm(c.source)]
    if comparable and len(anchors) < max(1, 0.3 * len(comparable)) and not (sub_ids & set(rel_ids)):
        raise Refused(f"this does not look like {assignment}: only {len(anchors)} of the release's "
                      f"{len(comparable)} cells are in it and none of its graded cells; perhaps another "
                      f"assignment's notebook: ask the student to hand in {assignment}.ipynb")

    # 3. Answers whose metadata is gone: by position between matched cells, then content.
    def position(i):  # where release cell i sits in the submission (first copy), or None
        return min(match[i]) if i in match else None

    for i, cell in enumerate(rel):
        if _kind(cell) != "answer" or i in match:
            continue
        before = [position(k) for k in range(i - 1, -1, -1) if position(k) is not None]
        after = [position(k) for k in range(i + 1, len(rel)) if position(k) is not None]
        lo = before[0] if before else -1
        hi = after[0] if after else len(cells)
        if hi < lo:
            lo, hi = -1, len(cells)
        window = [j for j in range(lo + 1, hi) if j not in taken and not _nbg(cells[j]).get("grade_id")]
        gid = _nbg(cell).get("grade_id")
        if not window:
            repairs.append(f"`{gid}`: the answer cell is missing: the release's empty cell is put back "
                           "(this exercise scores nothing)")
            rebuild = True
            continue
        target = solutions.get(gid, cell.source)
        best = max(window, key=lambda j: (_similar(cells[j].get("source", ""), target), -j))
        match[i] = [best]
        taken.add(best)
        for j in window:
            if j != best and cells[j].get("cell_type") == "code" and _norm(cells[j].get("source", "")):
                not_placed.append(f"{_label(cells[j], j)} could also be the answer to `{gid}` (taken from "
                                  f"{_label(cells[best], best)}, the more like it): kept as the student's own "
                                  "cell, where it was, not as the answer")
        repairs.append(f"`{gid}`: its nbgrader metadata was gone: the answer was found by its place and content "
                       f"({_label(cells[best], best)})")
        rebuild = True

    # Duplicates, retyped cells, order.
    for i, js in sorted(match.items()):
        gid = _nbg(rel[i]).get("grade_id")
        if len(js) > 1:
            rebuild = True
            if _kind(rel[i]) == "answer":
                repairs.append(f"`{gid}`: {len(js)} cells had this grade_id (a copied cell): all kept, in the "
                               "student's order, the last one holding the grade_id")
            else:
                repairs.append(f"`{gid}`: {len(js)} copies of this read-only cell: one kept (the release's)")
        for j in js:
            if cells[j].get("cell_type") != rel[i].cell_type and _kind(rel[i]) == "answer":
                repairs.append(f"`{gid}`: the answer was in a {cells[j].get('cell_type')} cell: put back into a "
                               f"{rel[i].cell_type} cell")
                rebuild = True
            elif cells[j].get("cell_type") != rel[i].cell_type and _kind(rel[i]) == "locked":
                repairs.append(f"`{gid}`: the read-only cell was retyped: the release's cell is used")
                rebuild = True
    order = [position(i) for i in range(len(rel)) if position(i) is not None and _kind(rel[i]) != "plain"]
    if order != sorted(order):
        repairs.append("cells were moved: put back into the release's order")
        rebuild = True
    for i, cell in enumerate(rel):
        if i not in match and _kind(cell) == "locked":
            repairs.append(f"{_label(cell, i)}: {RESTORED}")
            rebuild = True
    if _output_bytes(sub) > MAX_OUTPUT_BYTES:
        repairs.append(f"outputs of {_output_bytes(sub) / 1e6:.0f} MB: dropped (grading runs every cell again)")
        rebuild = True
    if _has_colab(sub, release):
        notes.append("Colab's metadata (colab, outputId, cellView, provenance): harmless"
                     + (", not carried into the rebuilt notebook" if rebuild else ", left as it is"))

    extras = [j for j in range(len(cells)) if j not in taken]
    if not rebuild:
        return {"status": "ok", "repairs": [], "notes": notes, "not_placed": [], "notebook": None}

    # Rebuild: the release, the answers, the student's own cells after the same release cell.
    anchor_of = {}
    ordered = sorted((j, i) for i, js in match.items() for j in js)
    for j in extras:
        prev = [i for jj, i in ordered if jj < j]
        anchor_of[j] = prev[-1] if prev else -1
    out = nbformat.v4.new_notebook()
    out.metadata = copy.deepcopy(release.metadata)
    out.nbformat, out.nbformat_minor = release.nbformat, release.nbformat_minor

    def window_of(i):  # the submission cells between the matched release cells around release cell i
        before = [position(k) for k in range(i - 1, -1, -1) if position(k) is not None]
        after = [position(k) for k in range(i + 1, len(rel)) if position(k) is not None]
        lo, hi = (before[0] if before else -1), (after[0] if after else len(cells))
        return range(lo + 1, hi) if lo < hi else range(0)

    def student_cell(j):
        cell = cells[j]
        kind = cell.get("cell_type") if cell.get("cell_type") in ("code", "markdown", "raw") else "code"
        new = (nbformat.v4.new_code_cell if kind == "code" else
               nbformat.v4.new_markdown_cell if kind == "markdown" else nbformat.v4.new_raw_cell)(cell.get("source", ""))
        return new

    def extras_after(i):
        return [student_cell(j) for j in extras if anchor_of[j] == i]

    for cell in extras_after(-1):
        out.cells.append(cell)
    for i, cell in enumerate(rel):
        kind = _kind(cell)
        if kind == "answer" and i in match:
            js = sorted(match[i])
            stub = _norm(cell.source)
            holder = next((j for j in reversed(js) if _norm(cells[j].get("source", "")) != stub), js[-1])
            for j in js:
                if j == holder:
                    new = copy.deepcopy(cell)
                    new.source = cells[j].get("source", "")
                    out.cells.append(new)
                else:
                    out.cells.append(student_cell(j) if cells[j].get("cell_type") == cell.cell_type
                                     else nbformat.v4.new_code_cell(cells[j].get("source", "")))
        elif kind == "plain" and i not in match and cell.cell_type == "code" and any(
                cells[j].get("cell_type") == "code" for j in window_of(i) if j in extras):
            pass  # a given code cell the student edited: the student's version (among the extras) is kept
        else:
            out.cells.append(copy.deepcopy(cell))
        out.cells.extend(extras_after(i))
    for j in extras:
        if cells[j].get("cell_type") == "code" and _norm(cells[j].get("source", "")):
            notes.append(f"{_label(cells[j], j)}: the student's own cell, kept after the same release cell")
    for k, cell in enumerate(out.cells):
        if cell.cell_type == "code":
            cell.outputs, cell.execution_count = [], None
        cell["id"] = f"cell-{k:03d}"  # deterministic: a second repair writes the same file
    return {"status": "repaired", "repairs": repairs, "notes": notes, "not_placed": not_placed, "notebook": out}


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
    return {_nbg(c)["grade_id"]: c.source for c in nb.cells if _nbg(c).get("solution") and _nbg(c).get("grade_id")}


def other_ids(course: Path, assignment: str) -> dict:
    out = {}
    paths = sorted((Path(course) / "release").glob("*/*.ipynb")) + sorted((Path(course) / "source").glob("*/*.ipynb"))
    for path in paths:
        if path.stem != assignment and path.stem not in out and path.parent.name == path.stem:
            try:
                nb = nbformat.read(path, as_version=4)
            except Exception:  # noqa: BLE001 - a broken release is not this student's problem
                continue
            out[path.stem] = {_nbg(c).get("grade_id") for c in nb.cells if _nbg(c).get("grade_id")}
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
    import time

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
