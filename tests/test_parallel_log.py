"""Parallel grading's steps on small fixtures, in seconds (tests/test_parallel.py grades real
classes, slowly): following nbgrader by its log (a recorded ``nbgrader autograde`` log,
tests/fixtures/parallel/autograde.log, made by tools/record_autograde_log.py), the reasons a
student failed, and the merge's reading of bundles."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from asl_course.grading.instructor import parallel

FIXTURES = Path(__file__).resolve().parent / "fixtures" / "parallel"
RECORDED = FIXTURES / "autograde.log"


def recorded() -> str:
    return RECORDED.read_text()


# --- Reading nbgrader's log --------------------------------------------------------------------------


def test_the_recorded_log_says_who_was_graded_and_why_the_others_were_not():
    """Three hand-ins of notebook 2: the solution and the untouched release are graded (a release
    scores 0 but nbgrader grades it), a file that is not JSON is not, with nbgrader's reason."""
    progress = {p.student: p for p in parallel.read_progress(recorded())}
    assert list(progress) == ["a_solution", "b_release", "c_not_json"]
    assert progress["a_solution"].finished and progress["b_release"].finished
    assert not progress["c_not_json"].finished
    assert "c_not_json" not in progress["a_solution"].errors + progress["b_release"].errors
    assert progress["a_solution"].errors == "no error message in the log"
    assert progress["c_not_json"].errors == ("nbformat.reader.NotJSONError: Notebook does not appear to be JSON: "
                                             "'{\"cells\": ['")


@pytest.mark.parametrize("cut", [0.25, 0.5, 0.75])
def test_a_log_read_while_nbgrader_writes_it_never_says_more_than_the_whole(cut):
    """The worker reads the log as it grows: a prefix never shows a student finished that the
    whole log does not, and what it shows finished stays finished."""
    text = recorded()
    whole = {p.student: p.finished for p in parallel.read_progress(text)}
    part = {p.student: p.finished for p in parallel.read_progress(text[: int(len(text) * cut)])}
    assert set(part) <= set(whole)
    assert all(whole[s] for s, done in part.items() if done)


def test_if_nbgraders_wording_changes_no_student_is_counted_graded_on_the_logs_word():
    """Another wording of the finishing line: nobody counts as finished (nothing is merged on a
    guess); after the run, students whose folders nbgrader wrote stop the worker with the reason."""
    changed = recorded().replace("Setting destination file permissions", "Applying file permissions")
    assert not any(p.finished for p in parallel.read_progress(changed))
    assert parallel.read_progress(recorded().replace("Creating/updating student with ID", "Student")) != []
    with pytest.raises(parallel.GradingError, match="does not say so in the words"):
        parallel.check_log_followed(["a_solution"], RECORDED)
    parallel.check_log_followed([], RECORDED)


def test_nbgrader_still_writes_the_lines_the_worker_follows():
    """The installed nbgrader's source still holds the three messages (an upgrade that rewords one
    fails here, in a second, before any class is graded with it)."""
    import nbgrader

    root = Path(nbgrader.__file__).parent
    text = "".join((root / f).read_text() for f in ("converters/base.py", "converters/autograde.py"))
    for line in ("Setting destination file permissions", "Creating/updating student with ID", '"Sanitizing %s"'):
        assert line in text, line


# --- A run followed, its failures named ------------------------------------------------------------------


def test_following_a_run_counts_a_student_graded_only_when_its_folder_is_written_too(tmp_path):
    log = tmp_path / "run1.log"
    log.write_text(recorded())
    proc = subprocess.Popen([sys.executable, "-c", "pass"])
    proc.wait()
    said = []
    graded, times, state = parallel.follow(proc, log, lambda s: s != "b_release", ["a_solution", "b_release"],
                                           60, lambda s, t: said.append(s))
    assert (graded, state, said) == (["a_solution"], "done", ["a_solution"]) and set(times) == {"a_solution"}


def test_a_run_with_no_progress_is_stopped_as_hung(tmp_path):
    log = tmp_path / "run1.log"
    log.write_text("")
    proc = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"], start_new_session=True)
    graded, _, state = parallel.follow(proc, log, lambda s: True, ["a"], 0.5, lambda *_: None)
    assert (graded, state) == ([], "hung") and proc.poll() is not None


def test_each_student_not_graded_gets_its_reason(tmp_path):
    log = FIXTURES / "autograde.log"
    progress = parallel.read_progress(recorded())
    done = parallel.failure_reasons(progress, ["c_not_json"], ["a_solution", "b_release"], "done", 1, 60, log)
    assert list(done) == ["c_not_json"] and done["c_not_json"].startswith("nbgrader could not grade it: ")
    # killed while on its last student: that one died, the one nbgrader had given up on keeps its reason
    died = parallel.failure_reasons(progress, ["b_release", "c_not_json"], ["a_solution"], "died", -9, 60, log)
    assert "died while grading it (signal 9 (SIGKILL)" in died["c_not_json"]
    assert died["b_release"].startswith("nbgrader could not grade it")
    hung = parallel.failure_reasons(progress, ["c_not_json"], ["a_solution", "b_release"], "hung", -9, 60, log)
    assert hung["c_not_json"].startswith("hung: no student finished for 60 s")
    # nbgrader stopped before it reached anyone: every student fails, with the log's last errors
    nobody = parallel.failure_reasons([], ["x", "y"], [], "died", 2, 60, log)
    assert set(nobody) == {"x", "y"} and nobody["x"].startswith("nbgrader died before grading anyone (status 2)")


# --- Merging: the bundles read, the shards counted --------------------------------------------------------


def test_bundles_that_cannot_be_read_or_are_of_another_format_are_refused(tmp_path):
    good, broken, other = (tmp_path / n for n in ("good", "broken", "other"))
    for path, text in ((good, json.dumps({"format": parallel.BUNDLE_FORMAT})), (broken, "{"),
                       (other, json.dumps({"format": 99}))):
        path.mkdir()
        (path / parallel.RESULT_FILE).write_text(text)
    assert parallel.read_bundles([good]) == [(good, {"format": parallel.BUNDLE_FORMAT})]
    with pytest.raises(parallel.GradingError, match="cannot be read.*grade that shard again"):
        parallel.read_bundles([good, broken])
    with pytest.raises(parallel.GradingError, match="format 99, this version reads"):
        parallel.read_bundles([other])


def test_missing_shards_are_named_and_mixed_counts_warned():
    results = [{"assignment": "A", "shard": [0, 3]}, {"assignment": "A", "shard": [2, 3]},
               {"assignment": "B", "shard": [0, 1]}]
    assert parallel.missing_shards(results, log=lambda *_: None) == {"A": [1]}
    said = []
    assert parallel.missing_shards(results + [{"assignment": "B", "shard": [1, 2]}], log=said.append) == {"A": [1]}
    assert said and "different shard counts ([1, 2])" in said[0]


# --- The benchmark's figures of a graded class (asl-course bench grading) -----------------------------------


def test_the_benchmark_reports_each_run_and_the_class_in_figures():
    from asl_course.tooling import bench

    def report(wall, seconds, failed=None):
        return {"workers": len(seconds), "wall_s": wall, "failed": failed or {},
                "shards": [{"seconds": s} for s in seconds]}

    one = bench.grading_run(report(30.0, [{"a": 10.0, "b": 8.0, "release": 6.0}]), "A", 3)
    two = bench.grading_run(report(15.0, [{"a": 9.0}, {"b": 7.0, "release": 5.0}], {"A": {"x": "why"}}), "A", 3)
    assert one == {"workers": 1, "wall_s": 30.0, "seconds_per_submission": 10.0, "submissions_per_hour": 360.0,
                   "student_s": {"a": 10.0, "b": 8.0, "release": 6.0}, "not_graded": {}}
    assert two["student_s"] == {"a": 9.0, "b": 7.0, "release": 5.0} and two["not_graded"] == {"x": "why"}
    scores = {1: {"a": {"t1": 1.0, "t2": 2.0}}, 2: {"a": {"t1": 1.0, "t2": 2.0}}}
    entry = bench.assignment_entry({1: one, 2: two}, scores, 3, 2)
    assert entry["seconds_per_submission_in_a_worker"] == 8.0 and entry["same_scores"] and entry["scores"] == {"a": 3.0}
    assert not bench.assignment_entry({1: one, 2: two}, {1: scores[1], 2: {"a": {"t1": 0.0}}}, 3, 2)["same_scores"]
    assert bench.class_throughput({1: 30.0, 2: 15.0}, 3) == {
        "1": {"wall_s": 30.0, "submissions": 3, "submissions_per_hour": 360.0},
        "2": {"wall_s": 15.0, "submissions": 3, "submissions_per_hour": 720.0}}
    assert bench.class_throughput({1: 0.0}, 0)["1"]["submissions_per_hour"] is None
