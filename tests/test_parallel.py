"""Grading a class in parallel (``asl_course.grading.instructor.parallel``, ``asl-course grade``, ``deploy/``).

Unit tests first (no grading). Then small classes graded through ``nbgrader autograde``
(notebooks 1 and 2, a few students each, ~10 s per submission on an idle core):

- the same submissions graded serially (one ``nbgrader autograde``) and with 2 workers (one
  worker is the same code with one shard; ``asl-course bench grading --workers N`` times both):
  the same gradebook (scores, comments, flags per student and notebook), the same
  ``nbgrader export`` and feedback, and grading again changes nothing;
- a worker whose nbgrader dies on one student and hangs on another: the others are graded,
  the two are reported with the reason, and grading them again once fixed completes the class;
- the Kubernetes Indexed Job and the Slurm job array of ``deploy/``, simulated: their own
  commands (read from the manifest and the batch script) run once per index with the index
  variable the engine sets, then their merge step.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
from pathlib import Path

import nbformat
import pytest
import yaml

from _course import course_folder
from asl_course.grading.instructor import parallel
from asl_course.tooling import classroom, cli
from submissions.catalogue import PARALLEL_CLASS, catalogue

REPO = Path(__file__).resolve().parent.parent
A1, A2 = "01_prepare_data", "02_cnn_model"
BY_ID = {s.student: s for s in catalogue()}


# --- Shards and the command line (no grading) ----------------------------------------------------


def test_shards_are_disjoint_cover_the_class_and_do_not_depend_on_order():
    students = [f"s{i:02d}" for i in range(11)]
    for n in (1, 2, 3, 4, 11, 12):
        shards = [parallel.shard_students(students, k, n) for k in range(n)]
        assert sorted(sum(shards, [])) == students
        assert max(map(len, shards)) - min(map(len, shards)) <= 1
        assert shards == [parallel.shard_students(list(reversed(students)), k, n) for k in range(n)]
    assert parallel.shard_students(students, 1, 4) == ["s01", "s05", "s09"]


@pytest.mark.parametrize("text,expected", [("0/4", (0, 4)), ("3/4", (3, 4)), (" 0 / 1 ", (0, 1))])
def test_parse_shard(text, expected):
    assert parallel.parse_shard(text) == expected


@pytest.mark.parametrize("text", ["4/4", "1", "-1/4", "0/0", "a/b", "1/2/3", "$JOB_COMPLETION_INDEX/4"])
def test_parse_shard_rejects_with_the_form_to_write(text):
    with pytest.raises(parallel.GradingError, match="K/N"):
        parallel.parse_shard(text)


@pytest.mark.parametrize("argv,message", [
    (["grade", "merge"], "name the bundle folders"),
    (["grade", A1, "--shard", "0/2"], "--shard K/N needs --out"),
    (["grade", A1, "--out", "x"], "--out goes with --shard"),
    (["grade", A1, A2], "one assignment at a time"),
    (["grade", "merge", "x", "--workers", "2"], "--workers does not apply"),
    (["grade", A1, "--timeout", "0"], "--timeout must be a positive"),
])
def test_cli_errors_say_what_to_do(argv, message, capsys):
    assert cli.main(argv) == 2
    assert message in capsys.readouterr().err


def test_cli_outside_a_course_folder(tmp_path, capsys):
    assert cli.main(["grade", A1, "--course", str(tmp_path)]) == 2
    assert "not an nbgrader course folder" in capsys.readouterr().err


# --- A small class, graded three ways --------------------------------------------------------------

#: Notebook 1: a partly done notebook (grades of several exercises, some lost, handed in late: one
#: worker, its bundle merged); notebook 2: solution and release (two shards with 2 workers). Kept
#: small: each student is graded twice (serially, in parallel), in CI's time; the simulated class
#: (tests/test_grading.py) grades every other kind of submission, and leaves a01_partial and
#: a02_release to this class in CI (tests/submissions/catalogue.py).
CLASS = PARALLEL_CLASS


def _make(root, student, assignment):
    return BY_ID[student].make(root)


def _expected(student, assignment):
    return BY_ID[student].expected()


def _snapshot(course, assignment):
    """Every gradebook value a serial run sets, per student and notebook (not ids or row order)."""
    from nbgrader.api import Gradebook

    out = {}
    with Gradebook(f"sqlite:///{course.root / 'gradebook.db'}") as gb:
        for sub in gb.assignment_submissions(assignment):
            for nb in sub.notebooks:
                out[(sub.student.id, nb.name)] = {
                    "timestamp": str(sub.timestamp),
                    "flagged": nb.flagged, "late": nb.late_submission_penalty,
                    "grades": sorted((g.name, g.auto_score, g.manual_score, g.extra_credit, g.needs_manual_grade)
                                     for g in nb.grades),
                    "comments": sorted((c.name, c.auto_comment, c.manual_comment) for c in nb.comments),
                }
    return out


def _feedback_scores(course, student, assignment):
    page = course.feedback_html(student, assignment)
    return re.findall(r"Score: ([0-9.]+ / [0-9.]+)", page)


@pytest.fixture(scope="module")
def base(tmp_path_factory, data_dir):
    """A course folder with notebooks 1 and 2 released and the class submitted (not graded)."""
    root = tmp_path_factory.mktemp("class") / "course"
    course = classroom.Course.create(root, data_dir=data_dir)
    for assignment, students in CLASS.items():
        course.generate(assignment)
        for student in students:
            course.submit(student, assignment, _make(root, student, assignment))
    # One late submission: its timestamp and late penalty must come through the merge.
    (root / "submitted" / "a01_partial" / A1 / "timestamp.txt").write_text("2026-11-30 12:00:00.000000 UTC")
    return course


def _copy(base, dest):
    shutil.copytree(base.root, dest)
    return classroom.Course(dest, base.env)


@pytest.fixture(scope="module")
def serial(base, tmp_path_factory):
    course = _copy(base, tmp_path_factory.mktemp("serial") / "course")
    for assignment in CLASS:
        course.autograde(assignment)
        course.generate_feedback(assignment)
    return course


@pytest.fixture(scope="module", params=[2], ids=["2workers"])
def parallel_course(request, base, tmp_path_factory):
    workers = request.param
    course = _copy(base, tmp_path_factory.mktemp(f"w{workers}") / "course")
    course.reports = {}
    for assignment in CLASS:
        course.reports[assignment] = parallel.grade(course.root, assignment, workers=workers, env=course.env,
                                                    log=lambda *_: None)
        course.generate_feedback(assignment)
    course.workers = workers
    return course


@pytest.mark.slow
def test_parallel_grading_gives_the_serial_gradebook(serial, parallel_course):
    for assignment, students in CLASS.items():
        report = parallel_course.reports[assignment]
        assert report["graded"] == {assignment: sorted(students)} and report["failed"] == {}
        # never more workers than students (notebook 1's one student: one worker, through a bundle too)
        assert report["workers"] == min(parallel_course.workers, len(students))
        assert len(report["shards"]) == report["workers"]
        assert _snapshot(parallel_course, assignment) == _snapshot(serial, assignment)
        scores = parallel_course.scores(assignment)
        for student in students:
            assert scores[student] == _expected(student, assignment), student
    late = _snapshot(parallel_course, A1)[("a01_partial", A1)]
    assert late["timestamp"].startswith("2026-11-30 12:00")


@pytest.mark.slow
def test_feedback_and_export_work_on_the_merged_course(serial, parallel_course):
    for assignment, students in CLASS.items():
        for student in students:
            assert (parallel_course.root / "autograded" / student / assignment / f"{assignment}.ipynb").is_file()
            assert _feedback_scores(parallel_course, student, assignment) == \
                _feedback_scores(serial, student, assignment), student
    rows = sorted(tuple(sorted(r.items())) for r in parallel_course.export())
    assert rows == sorted(tuple(sorted(r.items())) for r in serial.export())
    assert not list(parallel_course.root.glob(".asl-grade-*")), "the workers' folders are left behind"


@pytest.mark.slow
def test_grading_again_changes_nothing_and_keeps_a_manual_grade(parallel_course):
    """Idempotent: a second run (here of notebook 2, 2 workers) gives the same rows, none added;
    a grader's manual score survives it (nbgrader marks it for review), in the merge too. (One
    regrade for both: each is a full nbgrader run per shard.)"""
    from nbgrader.api import Gradebook

    url = f"sqlite:///{parallel_course.root / 'gradebook.db'}"
    before = _snapshot(parallel_course, A2)
    with Gradebook(url) as gb:
        count = len(gb.assignment_submissions(A2))
        grade = gb.find_grade("test_model", A2, A2, "a02_release")
        grade.manual_score = 1.5
        gb.db.commit()
    report = parallel.grade(parallel_course.root, A2, workers=2, env=parallel_course.env, log=lambda *_: None)
    assert report["failed"] == {}
    with Gradebook(url) as gb:
        assert len(gb.assignment_submissions(A2)) == count
        grade = gb.find_grade("test_model", A2, A2, "a02_release")
        assert (grade.manual_score, grade.auto_score, grade.needs_manual_grade) == (1.5, 0.0, True)
        grade.manual_score = None
        grade.needs_manual_grade = False
        gb.db.commit()
    assert _snapshot(parallel_course, A2) == before


@pytest.mark.slow
def test_merge_refuses_a_bundle_of_another_version_of_the_assignment(base, tmp_path):
    course = _copy(base, tmp_path / "course")
    bundle = tmp_path / "bundles" / f"{A2}.shard-0-of-1"
    result = parallel.grade_shard(course.root, A2, [], bundle, env=course.env, log=lambda *_: None)
    assert result["graded"] == [] and result["failed"] == {}
    assert parallel.merge(course.root, [bundle.parent])["graded"] == {}
    data = json.loads((bundle / parallel.RESULT_FILE).read_text())
    data["fingerprint"] = "0" * 16
    (bundle / parallel.RESULT_FILE).write_text(json.dumps(data))
    with pytest.raises(parallel.GradingError, match="another version"):
        parallel.merge(course.root, [bundle])
    with pytest.raises(parallel.GradingError, match="holds no grading bundle"):
        parallel.merge(course.root, [tmp_path])


@pytest.mark.slow
def test_grading_needs_the_assignment_in_the_gradebook(base, tmp_path):
    course = _copy(base, tmp_path / "course")
    with pytest.raises(parallel.GradingError, match="nbgrader generate_assignment 03_augmentation"):
        parallel.grade(course.root, "03_augmentation", workers=2, env=course.env)
    with pytest.raises(parallel.GradingError, match="no submitted/<student>/02_cnn_model folder for nobody"):
        parallel.grade(course.root, A2, workers=2, students=["nobody"], env=course.env)


# --- A worker that dies, and one that hangs ----------------------------------------------------------

#: Added to the course's nbgrader_config.py: nbgrader itself is killed while grading b_crash
#: (as by the kernel's out-of-memory killer) and hangs while grading c_hang (as on a kernel
#: that cannot be stopped), before any notebook of theirs runs.
TROUBLE = '''
import os, signal, time
from nbgrader.preprocessors import NbGraderPreprocessor
class _Trouble(NbGraderPreprocessor):
    def preprocess(self, nb, resources):
        student = resources["nbgrader"]["student"]
        if student == "b_crash":
            os.kill(os.getpid(), signal.SIGKILL)
        if student == "c_hang":
            time.sleep(3600)
        return nb, resources
c.Autograde.autograde_preprocessors = [_Trouble] + c.Autograde.autograde_preprocessors
'''
TROUBLE_MARK = "# --- trouble ---"
#: The hang limit: above an honest submission's time with the worker's start-up on a busy machine
#: (notebook 2: 12-16 s alone, 30-40 s at a load average of 8).
HANG_S = 90


@pytest.mark.slow
def test_a_crash_and_a_hang_do_not_stop_the_class(tmp_path, data_dir, capsys):
    root = tmp_path / "course"
    course = classroom.Course.create(root, data_dir=data_dir, config_extra=TROUBLE_MARK + TROUBLE)
    course.generate(A2)
    students = ["a_ok", "b_crash", "c_hang", "d_ok"]
    for student in students:
        course.submit(student, A2, classroom.solution_notebook(root, A2))
    # 2 workers: shard 0 = a_ok, c_hang; shard 1 = b_crash, d_ok (each trouble after or before an honest one)
    report = parallel.grade(root, A2, workers=2, env=course.env, timeout=HANG_S, log=lambda *_: None)
    assert report["graded"] == {A2: ["a_ok", "d_ok"]}
    failed = report["failed"][A2]
    assert sorted(failed) == ["b_crash", "c_hang"]
    assert "died while grading it" in failed["b_crash"] and "SIGKILL" in failed["b_crash"]
    assert failed["c_hang"].startswith(f"hung: no student finished for {HANG_S} s")
    full = BY_ID["a02_solution"].expected()  # the solution's points per exercise (the registry's)
    assert course.scores(A2) == {"a_ok": full, "d_ok": full}
    assert not (root / "autograded" / "b_crash").exists() and not (root / "autograded" / "c_hang").exists()
    leftovers = [p for p in _processes() if str(root) in p]
    assert not leftovers, f"processes of the stopped runs are still there: {leftovers}"

    # The cause fixed, the two graded again from the command line; the others are left as they were.
    config = root / "nbgrader_config.py"
    config.write_text(config.read_text().split(TROUBLE_MARK)[0])
    kept = (root / "autograded" / "a_ok" / A2 / f"{A2}.ipynb").stat().st_mtime_ns
    env_before = dict(os.environ)
    os.environ.update({k: v for k, v in course.env.items() if k in ("ASL_DATA_DIR", "PATH")})
    try:
        rc = cli.main(["grade", A2, "--course", str(root), "--workers", "2", "--student", "b_crash", "c_hang"])
    finally:
        os.environ.clear()
        os.environ.update(env_before)
    out = capsys.readouterr().out
    assert rc == 0, out
    assert f"{A2}: merged 2 students: b_crash, c_hang" in out
    assert course.scores(A2) == {s: full for s in students}
    assert (root / "autograded" / "a_ok" / A2 / f"{A2}.ipynb").stat().st_mtime_ns == kept


def _processes() -> list[str]:
    import psutil

    out = []
    for p in psutil.process_iter(["cmdline", "cwd"]):
        try:  # its command line, and the folder it runs in (a kernel runs in the student's folder)
            out.append(" ".join(p.info["cmdline"] or []) + f" (in {p.info['cwd']})")
        except psutil.Error:
            pass
    return out


# --- The job engines of deploy/, simulated ---------------------------------------------------------

#: One student for four shards: three shards grade nobody, as on a cluster with more workers than
#: students, and one runs nbgrader (its start-up, not the student, is its cost). Merging the bundles
#: of several graded shards is the parallel class's (above).
SIM_CLASS = {"a02_solution": sum(BY_ID["a02_solution"].expected().values())}  # all its points (the registry's)


@pytest.fixture
def sim_course(base, tmp_path):
    course = _copy(base, tmp_path / "course")
    shutil.rmtree(course.root / "submitted")
    for student in SIM_CLASS:
        course.submit(student, A2, BY_ID[student].make(course.root))
    return course


def _k8s(name):
    docs = list(yaml.safe_load_all((REPO / "deploy" / "kubernetes" / name).read_text()))
    assert len(docs) == 1 and docs[0]["apiVersion"] == "batch/v1" and docs[0]["kind"] == "Job"
    return docs[0]


def _container(job):
    pod = job["spec"]["template"]["spec"]
    assert pod["restartPolicy"] in ("Never", "OnFailure")
    (container,) = pod["containers"]
    assert container["image"] and container["command"][:2] == ["/bin/sh", "-c"]
    mounts = {m["mountPath"] for m in container["volumeMounts"]}
    env = {e["name"]: e["value"] for e in container["env"]}
    assert env["COURSE_DIR"] in mounts, "the course folder is where the volume is mounted"
    return container, env


def _run_sh(script, env, cwd):
    return subprocess.run(["/bin/sh", "-c", script], env=env, cwd=cwd, capture_output=True, text=True, timeout=1200)


@pytest.mark.slow
def test_kubernetes_indexed_job_simulated(sim_course, tmp_path):
    """grade-job.yaml's command, once per JOB_COMPLETION_INDEX, then merge-job.yaml's command."""
    job = _k8s("grade-job.yaml")
    spec = job["spec"]
    assert spec["completionMode"] == "Indexed"
    container, env = _container(job)
    n = spec["completions"]
    assert int(env["SHARDS"]) == n == spec["parallelism"], "completions, parallelism and SHARDS agree"
    mount = env["COURSE_DIR"]

    def pod_env(values, index=None):
        out = dict(sim_course.env)
        for name, value in values.items():  # the volume, mounted here at the test's course folder
            out[name] = value.replace(mount, str(sim_course.root), 1) if value.startswith(mount) else value
        out["ASSIGNMENT"] = A2
        if index is not None:
            out["JOB_COMPLETION_INDEX"] = str(index)
        return out

    for index in range(n):  # the pods, one after another (on a cluster: at once)
        result = _run_sh(container["command"][2], pod_env(env, index), tmp_path)
        assert result.returncode == 0, result.stdout + result.stderr
        assert f"shard {index}/{n}" in result.stdout
    bundles = Path(pod_env(env)["BUNDLES"]) / A2
    assert sorted(p.name for p in bundles.iterdir()) == [f"{A2}.shard-{k}-of-{n}" for k in range(n)]
    merge_container, merge_values = _container(_k8s("merge-job.yaml"))
    assert {k: merge_values[k] for k in ("COURSE_DIR", "BUNDLES")} == {k: env[k] for k in ("COURSE_DIR", "BUNDLES")}
    result = _run_sh(merge_container["command"][2], pod_env(merge_values), tmp_path)
    assert result.returncode == 0, result.stdout + result.stderr
    assert {s: sum(v.values()) for s, v in sim_course.scores(A2).items()} == SIM_CLASS


@pytest.mark.slow
def test_slurm_job_array_simulated(sim_course, tmp_path):
    """grade-array.sbatch, once per SLURM_ARRAY_TASK_ID of its --array, then merge.sbatch; and
    a merge before every shard is there reports the missing shards."""
    script = REPO / "deploy" / "slurm" / "grade-array.sbatch"
    text = script.read_text()
    first, last = map(int, re.search(r"^#SBATCH --array=(\d+)-(\d+)$", text, re.M).groups())
    shards = int(re.search(r"^SHARDS=(\d+)$", text, re.M).group(1))
    assert (first, last) == (0, shards - 1), "--array=0-(SHARDS-1)"
    env = dict(sim_course.env, ASSIGNMENT=A2, SLURM_SUBMIT_DIR=str(sim_course.root),
               SLURM_ARRAY_TASK_COUNT=str(shards), SLURM_ARRAY_JOB_ID="1234")
    env.pop("COURSE_DIR", None)
    env.pop("BUNDLES", None)
    merge = REPO / "deploy" / "slurm" / "merge.sbatch"
    for task in range(first, last + 1):
        result = subprocess.run(["bash", str(script)], env=dict(env, SLURM_ARRAY_TASK_ID=str(task)),
                                cwd=tmp_path, capture_output=True, text=True, timeout=1200)
        assert result.returncode == 0, result.stdout + result.stderr
        if task == first:
            early = subprocess.run(["bash", str(merge)], env=env, cwd=tmp_path, capture_output=True, text=True)
            assert early.returncode == 1
            assert f"shards {', '.join(map(str, range(1, shards)))} have no bundle yet" in early.stdout
    result = subprocess.run(["bash", str(merge)], env=env, cwd=tmp_path, capture_output=True, text=True)
    assert result.returncode == 0, result.stdout + result.stderr
    assert {s: sum(v.values()) for s, v in sim_course.scores(A2).items()} == SIM_CLASS
    wrong = subprocess.run(["bash", str(script)], env=dict(env, SLURM_ARRAY_TASK_ID="0", SLURM_ARRAY_TASK_COUNT="3"),
                           cwd=tmp_path, capture_output=True, text=True)
    assert wrong.returncode == 2 and "change --array and SHARDS together" in wrong.stderr


# --- Never stop on one notebook: the check before grading (no grading) ------------------------------


def test_preflight_skips_what_cannot_be_graded_and_says_why(tmp_path):
    """Empty, binary, invalid JSON, an HTML export, another assignment's notebook, one too large, one damaged:
    each skipped with its reason; the clean and the repaired ones go on to grading."""
    from asl_course.grading.instructor import repair

    root = course_folder(tmp_path / "course", (A1, A2))
    solution = classroom.solution_notebook(REPO, A2)
    damaged = json.loads(nbformat.writes(solution))
    for cell in damaged["cells"]:
        cell["metadata"] = {}
    big = json.loads(nbformat.writes(solution))
    big["cells"][2]["outputs"] = [{"output_type": "stream", "name": "stdout",
                                   "text": "0" * (repair.MAX_GRADE_BYTES + 1)}]
    hand_ins = {
        "clean": (f"{A2}.ipynb", nbformat.writes(solution).encode()),
        "empty": (f"{A2}.ipynb", b""),
        "binary": (f"{A2}.ipynb", bytes(range(256))),
        "badjson": (f"{A2}.ipynb", b'{"cells": ['),
        "html": (f"{A2}.html", b"<!DOCTYPE html><html></html>"),
        "other": (f"{A2}.ipynb", nbformat.writes(classroom.solution_notebook(REPO, A1)).encode()),
        "big": (f"{A2}.ipynb", json.dumps(big).encode()),
        "damaged": (f"{A2}.ipynb", json.dumps(damaged).encode()),
        "fixed": (f"{A2}.ipynb", json.dumps(damaged).encode()),
    }
    for student, (name, data) in hand_ins.items():
        folder = root / "submitted" / student / A2
        folder.mkdir(parents=True)
        (folder / name).write_bytes(data)
    repair.repair_class(root, A2, ["fixed"])
    lines = []
    skipped = parallel.preflight(root, A2, sorted(hand_ins), log=lines.append)
    assert set(skipped) == {"empty", "binary", "badjson", "html", "other", "big", "damaged"}
    for student, words in {"empty": "empty", "binary": "binary", "badjson": "not valid JSON",
                           "html": "HTML export", "other": f"notebook of {A1}", "big": "asl-course repair",
                           "damaged": "asl-course repair"}.items():
        assert words in skipped[student], (student, skipped[student])
        assert any(line.startswith(f"{A2}: SKIPPED {student}:") for line in lines)
    assert parallel.repaired_students(root, A2) == {"fixed": repair.read_summary(root, A2)["repaired"]["fixed"]}
