"""The notebook camera (asl_course/learners/camera.py), every route with fakes for the browser.

The front ends are played here: the widget's browser side by ``set_state`` (what ipywidgets
does with a message from the page), Colab by fake ``google.colab.output`` / ``files`` modules.
The real browser plays it in tests/test_browser_camera.py (JupyterLab, Chromium's fake camera).
"""

from __future__ import annotations

import io
import shutil
import subprocess
import sys
import types

import numpy as np
import pytest
from PIL import Image

from asl_course.learners import camera, predict


def png(pixels) -> bytes:
    buffer = io.BytesIO()
    Image.fromarray(np.asarray(pixels, dtype=np.uint8)).save(buffer, "PNG")
    return buffer.getvalue()


FRAME = np.random.default_rng(0).integers(0, 256, size=(48, 64, 3), dtype=np.uint8)
TEST_IMAGE = Image.fromarray(np.full((28, 28), 77, np.uint8), "L")


@pytest.fixture
def shown(monkeypatch):
    """A kernel with a front end (interactive, not Colab); records what is displayed."""
    import IPython
    import IPython.display

    monkeypatch.delenv("ASL_COURSE_AUTOMATED", raising=False)
    monkeypatch.delenv("NBGRADER_EXECUTION", raising=False)
    monkeypatch.setattr(IPython, "get_ipython", lambda: object())
    displayed = []
    monkeypatch.setattr(IPython.display, "display", lambda *objs, **kw: displayed.extend(objs))
    return displayed


def test_no_front_end_returns_at_once_with_a_note_and_the_test_image(shown, monkeypatch, capsys):
    monkeypatch.setenv("ASL_COURSE_AUTOMATED", "1")  # nbval, asl-course run, the Colab CI runtime
    shot = camera.capture()
    assert not shown and shot.image is None and not shot.waiting
    assert "No camera here" in capsys.readouterr().out
    image, source = shot.picture(TEST_IMAGE, "the test image of an A")
    assert source == "test image" and np.asarray(image).shape == (28, 28, 3)
    said = capsys.readouterr().out
    assert "Using the test image of an A instead." in said and "run this cell again" not in said


def test_under_nbgrader_nothing_is_shown(shown, monkeypatch):
    monkeypatch.setenv("NBGRADER_EXECUTION", "autograde")
    assert camera.front_end() == "none" and camera.capture().image is None and not shown


def test_without_a_kernel_nothing_is_shown(monkeypatch):
    import IPython

    monkeypatch.delenv("ASL_COURSE_AUTOMATED", raising=False)
    monkeypatch.setattr(IPython, "get_ipython", lambda: None)
    assert camera.front_end() == "none"


def test_the_widget_route_returns_at_once_and_the_click_brings_the_frame(shown, capsys):
    shot = camera.capture()
    widget, upload = shot.widgets
    assert shown == [widget, upload] and shot.image is None and shot.waiting
    assert "export default" in widget._esm and widget.advice == camera.ADVICE
    widget.set_state({"status": "camera on: 64x48"})
    widget.set_state({"frame": memoryview(png(FRAME))})  # the page's DataView arrives as a buffer
    image, source = shot.picture(TEST_IMAGE)
    assert source == "camera" and np.array_equal(np.asarray(image), FRAME)
    assert np.array_equal(shot.array(), FRAME)
    assert "Your picture (camera: camera frame, 64x48)" in capsys.readouterr().out


def test_no_click_yet_gives_the_test_image_and_says_how(shown, capsys):
    shot = camera.capture()
    image, source = shot.picture(TEST_IMAGE)
    assert source == "test image" and np.asarray(image)[0, 0, 0] == 77
    assert "No picture taken yet. Using a test image instead (take a picture" in capsys.readouterr().out


def test_a_camera_error_is_said_and_the_upload_still_works(shown, capsys):
    shot = camera.capture()
    widget, upload = shot.widgets
    widget.set_state({"status": "error: no camera (NotAllowedError: Permission denied): allow the camera"})
    shot.picture(TEST_IMAGE)
    assert "Camera: no camera (NotAllowedError: Permission denied)" in capsys.readouterr().out
    upload.set_state({"value": [{"name": "hand.png", "type": "image/png", "size": 1, "last_modified": 0,
                                 "content": memoryview(png(FRAME[..., 0]))}]})
    image, source = shot.picture(TEST_IMAGE)
    assert source == "upload" and np.array_equal(np.asarray(image)[..., 1], FRAME[..., 0])


def test_an_unreadable_upload_says_so_and_loses_nothing(shown, capsys):
    shot = camera.capture()
    widget, upload = shot.widgets
    widget.set_state({"frame": memoryview(png(FRAME))})
    upload.set_state({"value": [{"name": "notes.txt", "type": "text/plain", "size": 5, "last_modified": 0,
                                 "content": memoryview(b"hello")}]})
    assert "notes.txt is not a picture Pillow can read" in shot.note
    assert shot.source == "camera" and np.array_equal(shot.array(), FRAME)  # the frame is kept


def test_uploaded_files_of_ipywidgets_8_and_7():
    eight = ({"name": "a.png", "type": "image/png", "size": 3, "last_modified": 0, "content": b"abc"},)
    seven = {"a.png": {"metadata": {"name": "a.png", "type": "image/png", "size": 3}, "content": b"abc"}}
    assert camera.uploaded_files(eight) == camera.uploaded_files(seven) == [("a.png", b"abc")]
    assert camera.uploaded_files(()) == camera.uploaded_files({}) == []


def test_without_anywidget_the_upload_button_alone(shown, monkeypatch, capsys):
    def missing():
        raise ImportError("No module named 'anywidget'")

    monkeypatch.setattr(camera, "camera_widget_class", missing)
    shot = camera.capture()
    assert len(shown) == 1 and type(shown[0]).__name__ == "FileUpload"
    assert "needs anywidget" in capsys.readouterr().out


@pytest.fixture
def colab(shown, monkeypatch):
    """Fake google.colab (output.eval_js, files.upload); the test sets what they answer."""
    answers = types.SimpleNamespace(eval_js=None, upload=None, asked=[])

    def eval_js(script):
        answers.asked.append(script)
        if isinstance(answers.eval_js, Exception):
            raise answers.eval_js
        return answers.eval_js

    def upload():
        answers.asked.append("upload")
        if isinstance(answers.upload, Exception):
            raise answers.upload
        return answers.upload

    google = types.ModuleType("google")
    colab_module = types.ModuleType("google.colab")
    colab_module.output = types.SimpleNamespace(eval_js=eval_js)
    colab_module.files = types.SimpleNamespace(upload=upload)
    google.colab = colab_module
    for name, module in (("google", google), ("google.colab", colab_module),
                         ("google.colab.output", colab_module.output), ("google.colab.files", colab_module.files)):
        monkeypatch.setitem(sys.modules, name, module)
    return answers


def test_colab_route_click(colab, shown):
    import base64

    colab.eval_js = "data:image/png;base64," + base64.b64encode(png(FRAME)).decode()
    assert camera.front_end() == "colab"
    shot = camera.capture()
    assert "aslTakePhoto" in shown[0].data and colab.asked[0].startswith("aslTakePhoto(")
    assert shot.source == "camera" and np.array_equal(shot.array(), FRAME) and "upload" not in colab.asked


def test_colab_route_upload_instead(colab):
    colab.eval_js, colab.upload = "", {"my hand.jpg": png(FRAME)}
    shot = camera.capture()
    assert colab.asked[-1] == "upload" and shot.source == "upload" and np.array_equal(shot.array(), FRAME)


@pytest.mark.parametrize("answer", ["error: no camera (NotAllowedError: Permission denied)",
                                    RuntimeError("the page was closed")])
def test_colab_camera_error_then_a_cancelled_upload_gives_the_test_image(colab, answer, capsys):
    colab.eval_js, colab.upload = answer, RuntimeError("upload cancelled")
    shot = camera.capture()
    assert shot.image is None and colab.asked[-1] == "upload" and shot.note.startswith("Camera: ")
    capsys.readouterr()
    _, source = shot.picture(TEST_IMAGE)
    said = capsys.readouterr().out
    assert source == "test image" and said.startswith("Camera: ") and "run this cell again" not in said


def test_a_broken_data_url_is_said_not_raised(colab):
    colab.eval_js, colab.upload = "data:image/png,raw", {}
    shot = camera.capture()
    assert shot.image is None and "not a base64 data URL" in shot.note


def test_the_guide_box_is_what_the_model_sees():
    """A 640x480 frame whose centre square (the guide box) holds a hand image: prepare_image
    gives that image back (the frame's sides are cut off, as the box shows)."""
    y, x = np.mgrid[0:28, 0:28]
    hand = np.rint(128 + 100 * np.sin(x / 3.0) * np.cos(y / 4.0)).astype(np.uint8)
    square = np.asarray(Image.fromarray(hand).resize((480, 480), Image.Resampling.BICUBIC))
    frame = np.zeros((480, 640, 3), np.uint8)
    frame[:, 80:560] = square[..., None]
    shot = camera.Capture()
    assert shot.receive(png(frame), "camera")
    prepared = predict.prepare_image(shot.image)[0, ..., 0] * 255
    assert prepared.shape == (28, 28) and np.abs(prepared - hand).mean() < 3
    shifted = predict.prepare_image(np.roll(frame, 80, axis=1))[0, ..., 0] * 255  # the hand off the box
    assert np.abs(shifted - hand).mean() > 20


@pytest.mark.skipif(shutil.which("node") is None, reason="node checks the JavaScript's syntax")
def test_the_javascript_parses(tmp_path):
    (tmp_path / "widget.mjs").write_text(camera.WIDGET_ESM)
    (tmp_path / "colab.js").write_text(camera.COLAB_JS)
    for name in ("widget.mjs", "colab.js"):
        result = subprocess.run(["node", "--check", str(tmp_path / name)], capture_output=True, text=True)
        assert result.returncode == 0, result.stderr


@pytest.mark.parametrize("size, box", [((640, 480), (80, 0, 480, 480)), ((300, 400), (0, 50, 300, 300)),
                                       ((224, 224), (0, 0, 224, 224))])
def test_the_guide_box_is_the_centre_square(size, box):
    assert camera.guide_box(*size) == box


def test_show_picture_draws_the_box(monkeypatch):
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    shown = []
    monkeypatch.setattr(plt, "show", lambda: shown.append(plt.gcf()))
    camera.show_picture(Image.fromarray(FRAME))
    (patch,) = shown[0].axes[0].patches
    assert (patch.get_x() + 0.5, patch.get_y() + 0.5, patch.get_width()) == (8, 0, 48)
    plt.close("all")
