"""Quiet outputs (issue 24): no warning or log block that a learner cannot act on.

The solved notebooks' cells are checked in the nbval run (tests/_quiet.py's plugin), the cells the
browser test runs in tests/test_browser.py, and ``asl-course run``'s terminal in
tests/test_runner.py. Here: what none of those runs reaches. Notebook 4's kernel shutdown runs
only for a learner (never under nbval, nbgrader or ``asl-course run``), and TensorFlow logs its
INFO lines only in an interactive kernel.
"""

from __future__ import annotations

import logging
import os
import time
from pathlib import Path

import nbformat
import pytest
from nbformat.v4 import new_code_cell, new_notebook

from _quiet import ALLOWED, stderr_lines, unexpected

REPO = Path(__file__).resolve().parent.parent


def learner_kernel(tmp_path: Path, *sources: str):
    """Run cells in a fresh kernel as a learner's JupyterLab does (interactive: not automated, not
    under nbgrader); the executed notebook, and whether the kernel was still alive at the end."""
    from jupyter_core.utils import run_sync
    from nbclient import NotebookClient
    from nbclient.exceptions import DeadKernelError

    nb = new_notebook(cells=[new_code_cell(s) for s in sources])
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    env = {k: v for k, v in os.environ.items() if k not in ("ASL_COURSE_AUTOMATED", "NBGRADER_EXECUTION")}
    client = NotebookClient(nb, timeout=300, kernel_name="python3", resources={"metadata": {"path": str(tmp_path)}})
    with client.setup_kernel(env=env):
        try:
            for index, cell in enumerate(nb.cells):
                client.execute_cell(cell, index)
        except DeadKernelError:
            pass
        is_alive = run_sync(client.km.is_alive)
        deadline = time.monotonic() + 30  # a kernel told to shut down exits once its cell is done
        while is_alive() and time.monotonic() < deadline and "do_shutdown" in sources[-1]:
            time.sleep(0.2)
        alive = bool(is_alive())
    return nb, alive


@pytest.mark.slow
def test_notebook_4s_kernel_shutdown_says_nothing_and_shuts_down(tmp_path):
    """The lesson's ``IPython.Application.instance()`` warns in IPython 9 (a DeprecationWarning in the
    notebook's last cell); the course imports ``Application`` from traitlets, the same object."""
    solved = nbformat.read(REPO / "solutions" / "04_train_and_save.ipynb", as_version=4)
    shutdown = next(c.source for c in solved.cells if "do_shutdown" in c.source)
    nb, alive = learner_kernel(tmp_path, "from asl_course.learners import notebook\nassert notebook.interactive()", shutdown)
    assert not alive, "the cell did not shut the kernel down"
    assert nb.cells[0].outputs == [], nb.cells[0].outputs
    assert nb.cells[1].get("outputs", []) == [], f"the shutdown cell shows: {nb.cells[1].outputs}"


@pytest.mark.slow
def test_a_savedmodel_export_in_a_notebook_logs_nothing(tmp_path, data_dir):
    """Notebook 5's export, after its setup cell, in an interactive kernel (where TensorFlow logs
    INFO): no "INFO:tensorflow:Assets written to" on stdout, nor on stderr."""
    nb, alive = learner_kernel(
        tmp_path,
        f"from asl_course.learners import notebook\nDATA_DIR = notebook.setup({str(data_dir)!r})",
        "import keras\nmodel = keras.Sequential([keras.Input((28, 28, 1)), keras.layers.Flatten(), keras.layers.Dense(24)])\n"
        "model.export('asl_model_savedmodel', verbose=False)",
        "import logging, tensorflow as tf\ntf.get_logger().warning('a real warning still shows')",
    )
    assert alive
    export = nb.cells[1].outputs
    assert not [o for o in export if "INFO" in o.get("text", "")], export
    assert stderr_lines(export) == [], export
    assert "a real warning still shows" in "".join(o.get("text", "") for o in nb.cells[2].outputs)


def test_the_camera_widget_in_a_learners_kernel_says_nothing_on_stderr(tmp_path):
    """Notebook 5's "your own hand" in an interactive kernel (nbval runs it headless, where it shows
    nothing): the camera widget and the upload button are shown, no stderr; no click came, so
    the next cell says so and takes the test picture."""
    from PIL import Image

    Image.new("L", (28, 28), 90).save(tmp_path / "test.png")
    nb, alive = learner_kernel(
        tmp_path,
        "from asl_course.learners import camera\nshot = camera.capture()",
        "picture, source = shot.picture('test.png')\nprint(source, picture.size)",
    )
    assert alive
    shown = [o for o in nb.cells[0].outputs if "application/vnd.jupyter.widget-view+json" in o.get("data", {})]
    assert len(shown) == 2, nb.cells[0].outputs  # the camera and the upload button
    assert [stderr_lines(c.outputs) for c in nb.cells] == [[], []], [c.outputs for c in nb.cells]
    assert "test image (28, 28)" in nb.cells[1].outputs[-1]["text"]


@pytest.mark.slow
def test_export_savedmodel_keeps_tensorflows_info_lines_out(tmp_path, caplog):
    """``asl_course.learners.predict.export_savedmodel`` where TensorFlow's logger is at INFO (as in any
    interactive kernel): no INFO record; the logger is left at WARNING, warnings still pass."""
    import keras
    import tensorflow as tf

    from asl_course.learners import predict

    model = keras.Sequential([keras.Input((28, 28, 1)), keras.layers.Flatten(), keras.layers.Dense(24)])
    logger = tf.get_logger()
    level = logger.level
    logger.setLevel(logging.INFO)
    try:
        with caplog.at_level(logging.INFO):
            predict.export_savedmodel(model, tmp_path / "asl_model.keras")
        assert not [r.getMessage() for r in caplog.records if r.name == "tensorflow" and r.levelno < logging.WARNING]
        assert logger.isEnabledFor(logging.WARNING)
    finally:
        logger.setLevel(level)
    assert (tmp_path / "asl_model_savedmodel" / "saved_model.pb").is_file()


def test_the_stderr_check_catches_a_warning_and_each_allowance_says_why():
    warned = [nbformat.v4.new_output("stream", name="stderr", text="/x.py:3: DeprecationWarning: old\n  f()\n"),
              nbformat.v4.new_output("stream", name="stdout", text="fine\n")]
    assert unexpected(warned) == ["/x.py:3: DeprecationWarning: old", "  f()"]
    assert unexpected([nbformat.v4.new_output("stream", name="stdout", text="WARNING: on stdout\n")]) == []
    assert all(why.strip() for why in ALLOWED.values())
