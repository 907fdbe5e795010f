"""The sandbox's resource limits under GuardedExecute (asl_course/grading/plugins/limits.py):
tiny limits, tiny cells; a memory bomb, a fork bomb, a disk filler stop their own notebook with
the limit named, an honest notebook keeps its files, a notebook past its total time stops.
Needs bubblewrap (skipped without it). The grading session: tests/_plugins.py.
"""

from __future__ import annotations

import pytest
from nbformat.v4 import new_code_cell

from asl_course.grading.plugins import autograder, limits

from _plugins import (MiB, TINY, answer, bad_answer, errors, graded_cell, needs_bwrap, run_cells, score, session,  # noqa: F401
                      stdout_text, stopped_by)


@needs_bwrap
@pytest.mark.slow
def test_a_memory_bomb_stops_its_notebook_with_the_limit_named(session, tmp_path):
    """8x the limit in 32 MiB steps, each touched: the kernel is killed early (cgroup: the OOM
    killer; rlimits: MemoryError), the cell and the rest score 0, and the limit is named."""
    bomb = "blocks = []\nfor i in range(64):\n    blocks.append(bytearray(32 * 2**20))\n    print(i, flush=True)"
    nb, _ = run_cells(bad_answer(bomb, "print('after')"), tmp_path, **TINY)
    bomb, test = nb.cells[1:]
    said = " ".join(o.evalue for o in errors(bomb))
    assert "memory limit (256 MiB, GuardedExecute.memory_limit)" in said, said
    assert int(stdout_text(bomb).split()[-1]) < 8, "the bomb was not stopped at its limit"
    assert score(test) == 0 and "after" not in stdout_text(test)


@needs_bwrap
@pytest.mark.slow
def test_a_fork_bomb_stops_its_notebook_with_the_limit_named(session, tmp_path):
    bomb = "import os, time\nwhile True:\n    try:\n        os.fork()\n    except OSError:\n        time.sleep(0.001)"
    nb, _ = run_cells(bad_answer(bomb, "print('after')"), tmp_path, **TINY)
    bomb, test = nb.cells[1:]
    assert "process limit (64 processes and threads, GuardedExecute.max_processes)" in stopped_by(bomb)
    assert [o.evalue for o in test.outputs] == [f"not run: an earlier cell went over a limit: it tried to run more "
                                                f"than the process limit (64 processes and threads, "
                                                f"GuardedExecute.max_processes)"]


@needs_bwrap
@pytest.mark.slow
@pytest.mark.parametrize("setup", ["tmpfs", "watched"])
def test_a_disk_filler_scores_0_keeps_nothing_and_the_notebook_goes_on(session, tmp_path, setup, monkeypatch):
    """A file past the limit in its folder, and one in /tmp: each cell fails and names the limit; the
    next cells run; the notebook's folder keeps what was submitted, not what the notebook wrote. As
    root here, the folder is a tmpfs; without root (``watched``: rlimits, the folder's size watched)."""
    settings = dict(TINY)
    if setup == "watched":
        monkeypatch.setattr(limits, "mechanism", lambda: "rlimit")
        monkeypatch.setattr(limits, "can_mount", lambda: False)
        settings["max_processes"] = None  # RLIMIT_NPROC of uid 65534 counts every sandbox on this machine
    folder = tmp_path / "nb"
    folder.mkdir()
    (folder / "submitted.txt").write_text("mine")
    fill = "f = open({!r}, 'wb')\nfor i in range(64):\n    f.write(bytes(2**20))\n"
    nb, _ = run_cells([
        new_code_cell("open('model.keras', 'w').write('a model')"),
        graded_cell(fill.format("big.bin"), "test_images"),
        graded_cell(fill.format("/tmp/big.bin"), "test_labels"),
        graded_cell("print('after')", "test_one_hot"),
    ], tmp_path, **settings)
    _, here, tmp, after = nb.cells
    if setup == "watched":  # the folder went over (16 MiB and 7 bytes): the watcher stops the sandbox
        assert "disk limit (16 MiB in the notebook's folder" in " ".join(o.evalue for o in errors(here))
        assert "disk limit" in stopped_by(here) + stopped_by(tmp) and score(after) == 0
        assert [o.ename for o in after.outputs] == ["NotRun"]
    else:  # a tmpfs cannot go over: each write fails, and the notebook goes on
        for cell in (here, tmp):
            assert score(cell) == 0 and "disk limit (16 MiB in the notebook's folder" in " ".join(
                o.evalue for o in errors(cell)), cell.outputs
        assert stdout_text(after) == "after\n" and score(after) == 1
    assert sorted(p.name for p in folder.iterdir() if p.suffix != ".ipynb") == ["submitted.txt"]


@needs_bwrap
@pytest.mark.slow
def test_filling_the_record_folder_stops_the_sandbox(session, tmp_path, monkeypatch):
    """The folder the hidden tests record into holds one exercise's records at a time: more (here 8
    MiB, for the test) is a disk filler, and the sandbox is stopped."""
    monkeypatch.setattr(autograder, "RECORDS_LIMIT", 8 * MiB)
    nb, _ = run_cells([
        new_code_cell("import os, time"),
        answer("for i in range(6):\n    with open(os.environ['ASL_GRADING_DIR'] + f'/artefacts/f{i}', 'wb') as f:\n"
               "        f.write(bytes(2 * 2**20))\ntime.sleep(5)", "images"),
        graded_cell("print('after')", "test_images"),
    ], tmp_path, **TINY)
    assert "the folder its hidden tests record into" in stopped_by(nb.cells[1]) and score(nb.cells[2]) == 0


@needs_bwrap
@pytest.mark.slow
def test_an_honest_notebook_keeps_its_files(session, tmp_path):
    (tmp_path / "nb").mkdir()
    (tmp_path / "nb" / "old.txt").write_text("deleted by the notebook")
    nb, _ = run_cells([new_code_cell("import os\nos.makedirs('out', exist_ok=True)\nopen('out/model.keras', 'wb')"
                                ".write(bytes(3 * 2**20))\nos.remove('old.txt')\nprint('done')")], tmp_path, **TINY)
    assert stdout_text(nb.cells[0]) == "done\n" and not errors(nb.cells[0])
    assert (tmp_path / "nb" / "out" / "model.keras").stat().st_size == 3 * 2**20
    assert not (tmp_path / "nb" / "old.txt").exists()


@pytest.mark.slow
def test_a_notebook_past_its_total_time_stops_with_the_limit_named(session, tmp_path):
    """A cell under its own limit (40 s) but past the notebook's total (15 s, by notebook name: it
    wins over the default) is interrupted at the notebook's end, and the rest scores 0."""
    nb, _ = run_cells([new_code_cell("import time"), graded_cell("time.sleep(1)\nprint('slept')", "test_images"),
                  graded_cell("time.sleep(30)\nprint('slept')", "test_labels"),
                  graded_cell("print('after')", "test_one_hot")],
                 tmp_path, timeout=40, iopub_timeout=10, notebook_timeout=600, notebook_timeouts={"nb": 15})
    first, cut, rest = nb.cells[1:]
    limit = "the notebook ran past its total time limit (15 s, GuardedExecute.notebook_timeout)"
    assert stdout_text(first) == "slept\n" and score(first) == 1
    assert ("NotebookTimeLimit", limit) in [(o.ename, o.evalue) for o in errors(cut)] and score(cut) == 0
    assert [o.evalue for o in rest.outputs] == [f"not run: {limit}"] and score(rest) == 0
