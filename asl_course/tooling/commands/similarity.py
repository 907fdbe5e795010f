"""``asl-course similarity ASSIGNMENT``: rank pairs of students by how alike their answers are.

See :mod:`asl_course.grading.instructor.similarity` (what is compared, how, and what is left out).
"""

from __future__ import annotations

import json
from pathlib import Path


def register(sub) -> None:
    parser = sub.add_parser(
        "similarity", help="rank pairs of students whose answers are alike, with the shared lines side by side",
        description="Compare the answer cells of every pair of submitted/<student>/ASSIGNMENT/ notebooks, with "
                    "comments, names, literals and the order of independent lines normalised away, the release's "
                    "code and what many students wrote left out. Prints the ranking and writes an HTML report "
                    "with each close pair's shared lines side by side. Exercises whose answers are too short to "
                    "tell (one-liners everyone writes alike) are named and left out. Settings: "
                    "c.Similarity.* in the course's nbgrader_config.py, or the options below.")
    parser.add_argument("assignment", help="the assignment (e.g. 05_predictions)")
    parser.add_argument("--course", type=Path, default=Path("."), help="the nbgrader course folder (default: .)")
    parser.add_argument("--html", type=Path, default=None,
                        help="write the HTML report here (default: similarity/ASSIGNMENT.html in the course folder)")
    parser.add_argument("--json", type=Path, default=None, help="also write the ranking to this file")
    parser.add_argument("--threshold", type=float, default=None,
                        help="flag pairs scoring at least this (0..1; default: c.Similarity.threshold, 0.8)")
    parser.add_argument("--min-tokens", type=int, default=None,
                        help="answers shorter than this (normalised tokens) are too short to tell (default 30)")
    parser.add_argument("--shown", type=int, default=None, help="pairs shown side by side (default 10)")
    parser.set_defaults(handler=handle)


def handle(args) -> int:
    from asl_course.grading.instructor import similarity

    settings = similarity.load_settings(args.course, threshold=args.threshold, min_tokens=args.min_tokens,
                                        shown=args.shown)
    report = similarity.similarity_report(args.course, args.assignment, settings)
    for line in similarity.describe(report):
        print(line)
    page = args.html or args.course / similarity.REPORT_DIR / f"{args.assignment}.html"
    page.parent.mkdir(parents=True, exist_ok=True)
    page.write_text(similarity.to_html(report), encoding="utf-8")
    print(f"report: {page}")
    if args.json:
        args.json.write_text(json.dumps(similarity.to_json(report), indent=1) + "\n")
    return 0
