"""``asl-course intake DOWNLOAD --roster CSV``: file an LMS download under ``submitted/<student>/<assignment>/``.

See :mod:`asl_course.grading.instructor.intake` (the LMS name forms, the roster's columns, attempts).
"""

from __future__ import annotations

import json
from pathlib import Path


def register(sub) -> None:
    parser = sub.add_parser(
        "intake", help="file the hand-ins of an LMS download (Canvas, Moodle, Blackboard, Gradescope zip) "
                       "under submitted/<student>/<assignment>/",
        description="Read the zip (or unpacked folder) an LMS exports, map each hand-in to a student id with the "
                    "roster CSV (columns: student_id and any of lms_user_id, participant_id, sid, username, email, name), take the "
                    "latest of several attempts, and copy it to submitted/<student>/<assignment>/ (LMS test users skipped). Every file it "
                    "could not place is listed with the reason; the command then exits with 1.")
    parser.add_argument("download", type=Path, help="the LMS's zip, or the folder it unpacks to")
    parser.add_argument("--roster", type=Path, required=True, help="CSV: student_id, and lms_user_id / sid / username / email / name")
    parser.add_argument("--assignment", default=None,
                        help="the assignment every hand-in belongs to (default: read from each file's name or cells)")
    parser.add_argument("--course", type=Path, default=Path("."), help="the nbgrader course folder (default: .)")
    parser.add_argument("--dry-run", action="store_true", help="report only; copy nothing")
    parser.add_argument("--json", type=Path, default=None, help="also write the report to this file")
    parser.set_defaults(handler=handle)


def handle(args) -> int:
    from asl_course.grading.instructor import intake

    report = intake.intake(args.course, args.download, args.roster, assignment=args.assignment, dry_run=args.dry_run)
    for line in intake.describe(report):
        print(line)
    if args.json:
        args.json.write_text(json.dumps(report, indent=1) + "\n")
    return 1 if report["not_placed"] else 0
