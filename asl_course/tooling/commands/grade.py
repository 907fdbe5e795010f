"""``asl-course grade``: autograde a class with parallel workers, on one machine or many.

    asl-course grade ASSIGNMENT [--workers N]            # this machine, N workers, one gradebook
    asl-course grade ASSIGNMENT --shard K/N --out DIR    # one shard (a machine of a job array)
    asl-course grade merge DIR...                        # merge the shards' bundles into the course

See :mod:`asl_course.grading.instructor.parallel` and ``deploy/README.md``.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

from asl_course.errors import UserError

USAGE = """asl-course grade ASSIGNMENT [--workers N] [--student S ...]
       asl-course grade ASSIGNMENT --shard K/N --out DIR
       asl-course grade merge DIR [DIR ...]"""


def register(sub) -> None:
    parser = sub.add_parser(
        "grade", usage=USAGE,
        help="autograde a class with parallel workers into the course gradebook (or one shard, or merge shards)",
        description="Autograde ASSIGNMENT with `nbgrader autograde` in N private course folders at once and merge "
                    "the results into the course's gradebook and autograded/ folders; or grade shard K of N into "
                    "a bundle folder (one machine of a Kubernetes Indexed Job or Slurm job array), and merge "
                    "bundles with `asl-course grade merge DIR...`. Students who could not be graded (their run "
                    "failed, died or hung) are listed with the reason; grading and merging then exit with 1 "
                    "(a shard exits 0 once its bundle is written: the merge reports its failures). Before grading, each "
                    "notebook is checked: one nbgrader cannot read (empty, binary, invalid JSON, an export, another "
                    "assignment's, too large) or that needs `asl-course repair` is skipped with the reason; the "
                    "summary names who was graded, repaired and skipped.")
    parser.add_argument("target", nargs="+", metavar="ASSIGNMENT | merge DIR",
                        help="the assignment to grade (e.g. 04_train_and_save), or `merge` and bundle folders")
    parser.add_argument("--course", type=Path, default=Path("."),
                        help="the nbgrader course folder (default: the current folder)")
    parser.add_argument("--workers", type=int, default=None,
                        help="parallel workers on this machine (default: the CPU cores, at most the students)")
    parser.add_argument("--student", nargs="+", default=None, metavar="ID",
                        help="grade only these students (e.g. those who failed last time)")
    parser.add_argument("--shard", default=None, metavar="K/N",
                        help="grade only shard K (0-based) of N of the sorted students; needs --out")
    parser.add_argument("--out", type=Path, default=None,
                        help="with --shard: write the result bundle to DIR/ASSIGNMENT.shard-K-of-N (a shared folder)")
    parser.add_argument("--timeout", type=float, default=None,
                        help="seconds without any student finishing after which a worker's run counts as hung "
                             "(default 1800)")
    parser.add_argument("--keep", type=Path, default=None, help="keep the workers' bundles in this folder")
    parser.add_argument("--json", type=Path, default=None, help="also write the report to this file")
    parser.set_defaults(handler=handle)


def handle(args) -> int:
    from asl_course.grading.instructor import parallel

    timeout = parallel.DEFAULT_TIMEOUT if args.timeout is None else args.timeout
    if timeout <= 0:
        raise UserError("--timeout must be a positive number of seconds")
    if args.target[0] == "merge":
        if len(args.target) < 2:
            raise UserError("asl-course grade merge DIR...: name the bundle folders (the --out folders of the shards)")
        for option in ("workers", "student", "shard", "out", "keep"):
            if getattr(args, option) is not None:
                raise UserError(f"--{option} does not apply to `asl-course grade merge`")
        report = parallel.merge(args.course, args.target[1:])
        return _summarize(report, args.json)
    if len(args.target) != 1:
        raise UserError(f"grade one assignment at a time (got {' '.join(args.target)}); "
                        "to merge bundles: asl-course grade merge DIR...")
    assignment = args.target[0]
    if args.shard is not None:
        if args.out is None:
            raise UserError("--shard K/N needs --out DIR (a folder that the merge step can read)")
        if args.workers is not None or args.keep is not None:
            raise UserError("--shard grades one shard with one worker: leave out --workers and --keep")
        k, n = parallel.parse_shard(args.shard)
        settings = parallel.course_settings(args.course)
        everyone = parallel.class_students(args.course, assignment, settings)
        if args.student:
            everyone = sorted(set(everyone) & set(args.student))
        mine = parallel.shard_students(everyone, k, n)
        print(f"{assignment}: shard {k}/{n}: {len(mine)} of {len(everyone)} students")
        result = parallel.grade_shard(args.course, assignment, mine, args.out / f"{assignment}.shard-{k}-of-{n}",
                                      shard=(k, n), timeout=timeout)
        if args.json:
            args.json.write_text(json.dumps(result, indent=1) + "\n")
        print(f"bundle: {args.out / f'{assignment}.shard-{k}-of-{n}'} ({len(result['graded'])} graded, "
              f"{len(result['failed'])} not graded)")
        for student, reason in sorted(result["failed"].items()):
            print(f"{assignment}: NOT GRADED {student}: {reason}")
        for student, reason in sorted(result.get("skipped", {}).items()):
            print(f"{assignment}: SKIPPED {student}: {reason}")
        # 0 once the bundle is written, whoever failed (the merge reports them and exits 1): a job
        # engine would otherwise re-run the whole shard for a submission that fails every time.
        return 0
    if args.out is not None:
        raise UserError("--out goes with --shard K/N (without it, the class is graded and merged here)")
    workers = args.workers if args.workers is not None else (os.cpu_count() or 1)
    report = parallel.grade(args.course, assignment, workers=workers, students=args.student, timeout=timeout,
                            keep=args.keep)
    print(f"{assignment}: {sum(len(v) for v in report['graded'].values())} graded in {report['wall_s']} s "
          f"with {report['workers']} worker(s)")
    return _summarize(report, args.json)


def _summarize(report: dict, json_path) -> int:
    """Who was graded, repaired (by `asl-course repair` before), skipped and not graded, and why."""
    for assignment, students in sorted(report["graded"].items()):
        print(f"{assignment}: merged {len(students)} students: {', '.join(students)}")
    for assignment in sorted(set(report["graded"]) | set(report.get("skipped", {})) | set(report["failed"])):
        graded = report["graded"].get(assignment, [])
        repaired = report.get("repaired", {}).get(assignment, {})
        skipped = report.get("skipped", {}).get(assignment, {})
        failed = report["failed"].get(assignment, {})
        print(f"{assignment}: summary: {len(graded)} graded ({len(repaired)} of them repaired first), "
              f"{len(skipped)} skipped, {len(failed)} not graded")
        for student, repairs in sorted(repaired.items()):
            print(f"{assignment}: REPAIRED {student}: {'; '.join(repairs)}")
    bad = 0
    for assignment, skipped in sorted(report.get("skipped", {}).items()):
        for student, reason in sorted(skipped.items()):
            bad += 1
            print(f"{assignment}: SKIPPED {student}: {reason}")
    for assignment, failed in sorted(report["failed"].items()):
        for student, reason in sorted(failed.items()):
            bad += 1
            print(f"{assignment}: NOT GRADED {student}: {reason}")
    for assignment, missing in sorted(report["missing_shards"].items()):
        bad += 1
        print(f"{assignment}: shards {', '.join(map(str, missing))} have no bundle yet: their students are not merged")
    if bad:
        print("Grade them again (e.g. asl-course grade ASSIGNMENT --student ID ...) once the cause is fixed.")
    if json_path:
        json_path.write_text(json.dumps(report, indent=1, default=str) + "\n")
    return 1 if bad else 0
