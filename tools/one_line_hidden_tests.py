"""Rewrite the source notebooks' hidden tests from the old 7-line loader to the one line.

    python tools/one_line_hidden_tests.py [--check] [NOTEBOOK ...]     (default: source/*/*.ipynb)
    asl-course build                                                    (then: the editions again)

A hidden test that loads the grading code by hand (``import importlib.util as _iu ...`` then
``_grading.check("test_x", globals())``, with or without its comment lines) becomes
:data:`asl_course.grading.fresh.HIDDEN_TEST` for its cell's grade_id: one line, same protections
(asl_course/grading/fresh.py). Only that exact loader is rewritten: a hidden test holding any
other code, or calling ``check`` with another cell's grade_id, is reported and left as it is.
Cells are edited with nbformat: their metadata (nbgrader's grade_id, points, locks) is kept, and
only the hidden lines change, which nbgrader's release leaves out (its checksums are of the
cell as released); ``asl-course build`` regenerates release/, notebooks/ and solutions/ and the
gradebook's copy of the source comes from ``nbgrader generate_assignment`` as before.
Rerunnable: a notebook already in the one-line form is left untouched. ``--check`` changes
nothing and exits 1 if a notebook would change.
"""

from __future__ import annotations

import argparse
import re
import sys
from pathlib import Path

import nbformat

from asl_course.grading import cells
from asl_course.grading.fresh import HIDDEN_TEST

#: The old loader's code lines (comments and blank lines aside), in order; then the check call.
OLD_LOADER = [
    "import importlib.util as _iu, os as _os, sys as _sys",
    "_spec = _iu.spec_from_file_location(",
    '"_asl_grading", _os.environ.get("ASL_GRADING_CODE") or _iu.find_spec("asl_course.grading").origin)',
    "_grading = _iu.module_from_spec(_spec)",
    "_sys.modules[_spec.name] = _grading",
    "_spec.loader.exec_module(_grading)",
]
OLD_CHECK = re.compile(r'_grading\.check\("(?P<grade_id>[A-Za-z0-9_]+)", globals\(\)\)')


def _code_lines(hidden: str) -> list[str]:
    """The hidden test's code, one stripped line each, comments (whole or trailing) left out."""
    out = []
    for line in hidden.splitlines():
        code = line.split("  #")[0].strip()
        if code and not code.startswith("#"):
            out.append(code)
    return out


def one_line(source: str, grade_id: str) -> str | None:
    """The cell's source with its old loader made one line; None if it holds no old loader.
    :class:`ValueError` if its hidden test is not exactly the old loader for this ``grade_id``."""
    hidden = cells.hidden_tests(source)
    code = _code_lines(hidden)
    if not hidden or code == [HIDDEN_TEST.format(grade_id=grade_id)]:
        return None
    found = OLD_CHECK.fullmatch(code[-1]) if code else None
    if code[:-1] != OLD_LOADER or not found:
        raise ValueError("its hidden test is not the old loader alone: rewrite it by hand")
    if found["grade_id"] != grade_id:
        raise ValueError(f"its hidden test checks {found['grade_id']!r}, not its own grade_id {grade_id!r}")
    lines = source.splitlines()
    begin = next(i for i, line in enumerate(lines) if cells.BEGIN_HIDDEN.match(line))
    end = next(i for i, line in enumerate(lines) if i > begin and cells.END_HIDDEN.match(line))
    indent = lines[begin][: len(lines[begin]) - len(lines[begin].lstrip())]
    return "\n".join(lines[: begin + 1] + [indent + HIDDEN_TEST.format(grade_id=grade_id)] + lines[end:])


def convert(path: Path, write: bool = True) -> tuple[int, list[str]]:
    """(hidden tests rewritten, problems) for one notebook; written back only if something changed."""
    nb = nbformat.read(path, as_version=4)
    changed, problems = 0, []
    for cell in nb.cells:
        grade_id = cells.grade_id_of_test(cell)
        if cell.cell_type != "code" or grade_id is None:
            continue
        try:
            new = one_line(cell.source, grade_id)
        except ValueError as exc:
            problems.append(f"{path}: {grade_id}: {exc}")
            continue
        if new is not None:
            cell.source, changed = new, changed + 1
    if changed and write:
        nbformat.write(nb, path)
    return changed, problems


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("notebooks", nargs="*", type=Path)
    parser.add_argument("--check", action="store_true", help="change nothing; exit 1 if a notebook would change")
    args = parser.parse_args(argv)
    paths = args.notebooks or sorted(Path("source").glob("*/*.ipynb"))
    total, all_problems = 0, []
    for path in paths:
        changed, problems = convert(path, write=not args.check)
        total += changed
        all_problems += problems
        if changed:
            print(f"{path}: {changed} hidden test(s) {'to make' if args.check else 'made'} one line")
    for problem in all_problems:
        print(problem, file=sys.stderr)
    if total and not args.check:
        print("now run: asl-course build   (then asl-course build --check), and commit source/ with the editions")
    return 1 if all_problems or (args.check and total) else 0


if __name__ == "__main__":
    sys.exit(main())
