"""``asl-course repair ASSIGNMENT``: check every submission against the release, rebuild damaged ones.

See :mod:`asl_course.grading.instructor.repair` (what is repaired, what is refused, where the original is kept).
"""

from __future__ import annotations

import json
from pathlib import Path


def register(sub) -> None:
    parser = sub.add_parser(
        "repair", help="check every submission of an assignment against the release and rebuild damaged notebooks",
        description="For each submitted/<student>/ASSIGNMENT/: check the notebook against the release; where cells "
                    "were duplicated, retyped, moved or deleted, nbgrader's metadata cleared, the notebook saved in "
                    "nbformat 3 or its outputs are huge, put the student's answers into a fresh copy of the release "
                    "(the original kept as ASSIGNMENT.original.ipynb). Refused with the reason: empty files, .py "
                    ".html or binary files, invalid JSON, another assignment's notebook. Writes "
                    "repairs/ASSIGNMENT/<student>.json and summary.json; exits 1 if any was refused.")
    parser.add_argument("assignment", help="the assignment (e.g. 02_cnn_model)")
    parser.add_argument("--course", type=Path, default=Path("."), help="the nbgrader course folder (default: .)")
    parser.add_argument("--student", nargs="+", default=None, metavar="ID", help="only these students")
    parser.add_argument("--dry-run", action="store_true", help="report only; write nothing")
    parser.add_argument("--json", type=Path, default=None, help="also write the class summary to this file")
    parser.set_defaults(handler=handle)


def handle(args) -> int:
    from asl_course.grading.instructor import repair

    summary = repair.repair_class(args.course, args.assignment, args.student, dry_run=args.dry_run)
    for line in repair.describe(summary):
        print(line)
    if args.json:
        args.json.write_text(json.dumps(summary, indent=1) + "\n")
    return 1 if summary["refused"] else 0
