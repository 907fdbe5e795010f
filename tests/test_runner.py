"""`asl-course run`'s notebook runner: order, progress, figures, report, clear failures."""

from __future__ import annotations

import json

import nbformat
import pytest
from nbformat.v4 import new_code_cell, new_notebook

from asl_course.tooling import runner
from asl_course.errors import UserError


def write(path, *sources):
    nb = new_notebook(cells=[new_code_cell(s) for s in sources])
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    nbformat.write(nb, path)
    return path


def test_runs_in_order_with_progress_figures_and_report(tmp_path, data_dir):
    first = write(tmp_path / "01_a.ipynb", "import os\nopen('made_by_01.txt', 'w').write(os.environ['ASL_COURSE_FAST'])")
    second = write(
        tmp_path / "02_b.ipynb",
        "print(open('made_by_01.txt').read())",
        "import sys\nfor e in (1, 2):\n    print(f'Epoch {e}/2')\n    print('\\r 1/1 - accuracy: 0.5 - val_accuracy: 0.25')",
        "import matplotlib.pyplot as plt\nplt.plot([1, 2])\nplt.show()",
    )
    lines = []
    out = tmp_path / "out"
    report = runner.run_notebooks([first, second], out, fast=True, data_dir=data_dir, cell_timeout=120, log=lines.append)
    assert [n["name"] for n in report["notebooks"]] == ["01_a.ipynb", "02_b.ipynb"]
    assert json.loads((out / "run.json").read_text())["mode"] == "fast"
    assert (out / "figures" / "02_b-1.png").read_bytes()[:4] == b"\x89PNG"
    executed = nbformat.read(out / "02_b.ipynb", as_version=4)
    assert executed.cells[0].outputs[0]["text"].strip() == "1"
    assert any("Epoch 2/2" in line for line in lines) and any("val_accuracy: 0.25" in line for line in lines)


def test_a_failing_notebook_is_a_clear_error_and_kept(tmp_path, data_dir):
    bad = write(tmp_path / "01_bad.ipynb", "raise ValueError('broken on purpose')")
    with pytest.raises(UserError) as info:
        runner.run_notebooks([bad], tmp_path / "out", fast=True, data_dir=data_dir, cell_timeout=60, log=lambda *_: None)
    assert "01_bad.ipynb failed" in str(info.value) and "broken on purpose" in str(info.value)
    assert (tmp_path / "out" / "01_bad.ipynb").exists()


def test_a_hanging_cell_times_out(tmp_path, data_dir):
    slow = write(tmp_path / "01_slow.ipynb", "import time\ntime.sleep(60)")
    with pytest.raises(UserError) as info:
        runner.run_notebooks([slow], tmp_path / "out", fast=True, data_dir=data_dir, cell_timeout=3, log=lambda *_: None)
    assert "CellTimeoutError" in str(info.value)


def test_kernels_start_without_a_warning_on_the_terminal(tmp_path, data_dir, capfd):
    """ipykernel 7.4 warns on the terminal for each kernel on TCP without CurveZMQ keys ("Kernel is
    running over TCP without encryption"): the runner's kernels get keys, and say nothing."""
    notebook = write(tmp_path / "01_a.ipynb", "print('ran')")
    capfd.readouterr()
    runner.run_notebooks([notebook], tmp_path / "out", fast=True, data_dir=data_dir, cell_timeout=120,
                         log=lambda *_: None)
    terminal = capfd.readouterr()
    assert "without encryption" not in terminal.err, terminal.err
    assert terminal.err.strip() == "", f"a kernel of asl-course run wrote to the terminal:\n{terminal.err}"
