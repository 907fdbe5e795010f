"""Record a real ``nbgrader autograde`` log for the test of parallel grading's log reading.

    python tools/record_autograde_log.py [OUT]     (default: tests/fixtures/parallel/autograde.log)

Parallel grading follows nbgrader by reading its log (asl_course/grading/instructor/parallel.py,
:func:`read_progress`). This makes a throwaway course (this repository's config and source/, the
synthetic stand-in data), hands in notebook 2 for three students (the solution, the untouched
release, a file that is not JSON), runs ``nbgrader autograde`` once as a worker does, and keeps
its log with the course folder written as ``/COURSE``. Run it again after upgrading nbgrader:
if tests/test_parallel_log.py then fails, nbgrader's wording changed and ``read_progress``
must follow it. Takes a minute or two (one kernel per student).
"""

from __future__ import annotations

import subprocess
import sys
import tempfile
from pathlib import Path

from asl_course.dataset import synthetic
from asl_course.tooling import classroom

ASSIGNMENT = "02_cnn_model"
DEFAULT_OUT = Path("tests/fixtures/parallel/autograde.log")


def record(out: Path) -> str:
    with tempfile.TemporaryDirectory(prefix="asl-record-") as tmp:
        tmp = Path(tmp)
        synthetic.write_synthetic(tmp / "asl_data", log=lambda *_: None)
        root = tmp / "course"
        course = classroom.Course.create(root, data_dir=tmp / "asl_data")
        course.generate(ASSIGNMENT)
        course.submit("a_solution", ASSIGNMENT, classroom.solution_notebook(root, ASSIGNMENT))
        course.submit("b_release", ASSIGNMENT, course.release_notebook(ASSIGNMENT))
        broken = course.submit("c_not_json", ASSIGNMENT, course.release_notebook(ASSIGNMENT))
        (broken / f"{ASSIGNMENT}.ipynb").write_text('{"cells": [')
        run = subprocess.run([sys.executable, "-m", "nbgrader", "autograde", ASSIGNMENT, "--force"], cwd=root,
                             env=course.env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                             timeout=1800)
        text = run.stdout.replace(str(root.resolve()), "/COURSE").replace(str(root), "/COURSE")
        text = text.replace(str(tmp.resolve()), "/TMP").replace(str(tmp), "/TMP")
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(text)
    return text


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    out = Path(argv[0]) if argv else DEFAULT_OUT
    text = record(out)
    print(f"{out}: {len(text.splitlines())} lines of nbgrader's log")
    return 0


if __name__ == "__main__":
    sys.exit(main())
