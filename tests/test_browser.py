"""JupyterLab in a real browser: what a learner sees and does with the editions (issue 9).

JupyterLab 4 runs on localhost (a free port, a token, throwaway config/settings folders and
copies of the committed notebooks), and Debian's Chromium (``/usr/bin/chromium``, or
``$ASL_CHROMIUM``) is driven by Playwright. The learner's JupyterLab is mirrored: nbgrader's
instructor plugins are switched off with the command the README gives learners
(``jupyter labextension disable``); JupyterLab's news prompt is answered "no".

- the self-study edition: the answer cell is hidden (only its title shows), a click opens it,
  and *Run All* runs every cell with no traceback;
- the student edition: the setup cell runs, an untouched exercise stops with its stub's
  ``NotImplementedError``, and its self-check answers with the "define ... in the cell above"
  message, not a traceback; test and setup cells cannot be edited or deleted (an answer cell
  and a plain cell, as controls, can); nbgrader's instructor panels are not there;
- nbgrader's *Validate* button on a solved notebook 4 (one epoch of training) says it passes;
- notebook 5's camera (issue 22), Chromium's fake camera playing a .y4m of test images: the
  widget in JupyterLab hands the frame to the kernel, and Colab's route's JavaScript returns it.

JupyterLab starts in a copy of the course folder (with its ``nbgrader_config.py``, which the
Validate button reads), as the README tells learners. Every test fails on a JavaScript error
(page errors, console errors; the Colab badge image cannot load offline and is the one
exception), on a Jupyter dialog, and on stderr in a cell it ran that tests/_quiet.py does not
allow. Screenshots go to ``$ASL_BROWSER_ARTIFACTS`` (CI: ``test-artifacts/browser/``, git-ignored), the path is printed.
``$ASL_BROWSER_EDITIONS`` points the test at another build (a folder holding ``notebooks/`` and
``release/``). Without Playwright or Chromium the tests skip, except under ``CI=true``, where they fail.
"""

from __future__ import annotations

import contextlib
import io
import json
import os
import re
import shutil
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import nbformat
import numpy as np
import pytest

import _chromium as chromium
from _quiet import unexpected
from asl_course.tooling import editions
from asl_course.tooling import classroom

#: A JupyterLab server and a real browser: not for the fast loop (CI runs this file first, alone).
pytestmark = pytest.mark.slow

REPO = Path(__file__).resolve().parent.parent
CHROMIUM, IN_CI = chromium.CHROMIUM, chromium.IN_CI
#: Where the editions under test are (default: the committed ones in this checkout).
EDITIONS = Path(os.environ.get("ASL_BROWSER_EDITIONS") or REPO)
ARTIFACTS = Path(os.environ.get("ASL_BROWSER_ARTIFACTS") or REPO / "test-artifacts" / "browser")
NAME = "01_prepare_data"  # the quickest notebook with exercises: no training
TRAIN = "04_train_and_save"  # the Validate button's test: the notebook whose training outlasted nbgrader's 30 s
VALIDATED = "Success! Your notebook passes all the tests."
#: What a learner's JupyterLab does not need (the README's `jupyter labextension disable` line).
INSTRUCTOR_PLUGINS = ("@jupyter/nbgrader:create-assignment", "@jupyter/nbgrader:formgrader",
                      "@jupyter/nbgrader:course-list")
#: The one console error allowed: the Open-in-Colab badge is an image on the internet.
BADGE_URL = "colab.research.google.com/assets/colab-badge.svg"
TRACEBACK = "Traceback (most recent call last)"
SLOW = 240_000  # ms: a setup cell imports TensorFlow on a shared 2-core machine


def _unavailable(reason: str):
    if IN_CI:
        pytest.fail(f"{reason}; CI=true, so the browser test must run (.ci/run installs Chromium)")
    pytest.skip(reason)


@pytest.fixture(scope="module")
def playwright_api():
    yield from chromium.playwright(_unavailable)


@pytest.fixture(scope="module")
def artifacts(request) -> Path:
    if ARTIFACTS.exists():
        shutil.rmtree(ARTIFACTS)
    ARTIFACTS.mkdir(parents=True)
    reporter = request.config.pluginmanager.get_plugin("terminalreporter")
    if reporter is not None:
        reporter.write_line(f"browser test screenshots: {ARTIFACTS}")
    return ARTIFACTS



@pytest.fixture(scope="module")
def lab(tmp_path_factory, playwright_api):
    """A JupyterLab server on copies of the committed notebooks; yields (base URL, token, work)."""
    base = tmp_path_factory.mktemp("jupyterlab")
    work = base / "course"
    (work / "notebooks").mkdir(parents=True)
    (work / "release" / NAME).mkdir(parents=True)
    shutil.copy(EDITIONS / "notebooks" / f"{NAME}.ipynb", work / "notebooks")
    shutil.copy(EDITIONS / "release" / NAME / f"{NAME}.ipynb", work / "release" / NAME)
    (work / "ko" / "release" / NAME).mkdir(parents=True)  # the Korean student edition (issue 27)
    shutil.copy(EDITIONS / "ko" / "release" / NAME / f"{NAME}.ipynb", work / "ko" / "release" / NAME)
    (work / "release" / TRAIN).mkdir()  # a student's solved notebook 4
    nbformat.write(classroom.solution_notebook(EDITIONS, TRAIN), work / "release" / TRAIN / f"{TRAIN}.ipynb")
    shutil.copy(REPO / "nbgrader_config.py", work)  # the course folder's: the Validate button reads it
    env = dict(
        os.environ,
        JUPYTER_CONFIG_DIR=str(base / "config"),
        JUPYTERLAB_SETTINGS_DIR=str(base / "settings"),
        JUPYTERLAB_WORKSPACES_DIR=str(base / "workspaces"),
        JUPYTER_RUNTIME_DIR=str(base / "runtime"),
    )
    # The learner's set-up (README): nbgrader's instructor panels switched off.
    subprocess.run([sys.executable, "-m", "jupyter", "labextension", "disable", "--level=user",
                    *INSTRUCTOR_PLUGINS], env=env, check=True, capture_output=True)
    notification = base / "settings" / "@jupyterlab" / "apputils-extension" / "notification.jupyterlab-settings"
    notification.parent.mkdir(parents=True)
    notification.write_text(json.dumps({"fetchNews": "false", "checkForUpdates": False}))

    port, token = chromium.free_port(), os.urandom(16).hex()
    command = [sys.executable, "-m", "jupyterlab", "--no-browser", "--ip=127.0.0.1", f"--port={port}",
               "--ServerApp.port_retries=0", f"--IdentityProvider.token={token}",
               f"--ServerApp.root_dir={work}"]
    if hasattr(os, "geteuid") and os.geteuid() == 0:
        command.append("--allow-root")
    log = open(base / "jupyterlab.log", "w")
    server = subprocess.Popen(command, env=env, stdout=log, stderr=subprocess.STDOUT, cwd=work)
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 120
        while True:
            if server.poll() is not None:
                pytest.fail(f"JupyterLab exited ({server.returncode}):\n{(base / 'jupyterlab.log').read_text()[-3000:]}")
            try:
                urllib.request.urlopen(f"{url}/api/status?token={token}", timeout=5)
                break
            except OSError:
                if time.monotonic() > deadline:
                    pytest.fail("JupyterLab did not answer within 120 s")
                time.sleep(0.5)
        yield url, token, work
    finally:
        server.terminate()  # the server shuts its kernels down on SIGTERM
        try:
            server.wait(30)
        except subprocess.TimeoutExpired:
            server.kill()
            server.wait()
        log.close()
        shutil.copy(base / "jupyterlab.log", ARTIFACTS / "jupyterlab.log") if ARTIFACTS.exists() else None


class Learner:
    """One browser page on JupyterLab, recording every JavaScript error it sees."""

    def __init__(self, page, url: str, token: str, shots: Path):
        self.page, self.url, self.token, self.shots = page, url, token, shots
        self.errors: list[str] = []
        page.on("pageerror", lambda exc: self.errors.append(f"page error: {exc}"))
        page.on("console", self._console)

    def _console(self, message) -> None:
        if message.type != "error":
            return
        where = (message.location or {}).get("url", "")
        if BADGE_URL in where and "Failed to load resource" in message.text:
            return
        self.errors.append(f"console error: {message.text} ({where})")

    def shot(self, name: str) -> None:
        self.page.screenshot(path=str(self.shots / f"{name}.png"))

    def open(self, relative: str, n_cells: int):
        """Open a notebook as the only tab (``reset``: no tabs restored from an earlier test)."""
        self.page.goto(f"{self.url}/lab/tree/{relative}?reset&token={self.token}")
        panel = self.page.locator(".jp-NotebookPanel:visible")
        cells = panel.locator(".jp-Notebook .jp-Cell")
        cells.first.wait_for(timeout=120_000)
        deadline = time.monotonic() + 60
        while cells.count() != n_cells or self.page.locator(".jp-NotebookPanel").count() != 1:
            assert time.monotonic() < deadline, (
                f"{relative}: {cells.count()} cells shown, the notebook has {n_cells}; "
                f"{self.page.locator('.jp-NotebookPanel').count()} notebooks open")
            self.page.wait_for_timeout(250)
        self.wait_idle()
        return panel

    def wait_idle(self, timeout: float = SLOW) -> None:
        """The kernel has started and finished what it was asked (status bar: "| Idle")."""
        self.page.locator(".jp-StatusBar-Item", has_text=re.compile(r"\| Idle")).first.wait_for(timeout=timeout)

    def wait_run_all(self, panel, timeout: float = 600) -> None:
        """Wait until Run All has finished or stopped: no cell queued or running ([*]), kernel idle."""
        prompts = panel.locator(".jp-Notebook .jp-InputPrompt")
        deadline = time.monotonic() + timeout
        self.page.wait_for_timeout(1000)
        while any("[*]" in (text or "") for text in prompts.all_text_contents()):
            assert time.monotonic() < deadline, f"Run All still running after {timeout:.0f} s"
            self.page.wait_for_timeout(1000)
        self.wait_idle()

    def cell(self, panel, index: int):
        return panel.locator(".jp-Notebook .jp-Cell").nth(index)

    def run(self, panel, index: int) -> str:
        """Select a cell, run it (Shift+Enter), wait for the kernel; return its output text."""
        cell = self.cell(panel, index)
        cell.scroll_into_view_if_needed()
        cell.locator(".jp-InputPrompt").click()
        self.page.keyboard.press("Shift+Enter")
        cell.locator(".jp-InputPrompt", has_text=re.compile(r"\[\d+\]")).wait_for(timeout=SLOW)
        self.wait_idle()
        return cell.locator(".jp-OutputArea").inner_text()

    def check_clean(self) -> None:
        dialogs = self.page.locator(".jp-Dialog:visible")
        texts = [dialogs.nth(i).inner_text() for i in range(dialogs.count())]
        assert not texts, f"a Jupyter dialog is open: {texts}"
        assert not self.errors, "JavaScript errors in JupyterLab:\n" + "\n".join(self.errors)

    def check_quiet(self, panel, path: Path) -> None:
        """Save the notebook (Ctrl+S, as a learner does) and read it back: no cell that ran shows
        stderr that tests/_quiet.py does not allow (a red block the learner cannot act on)."""
        before = path.stat().st_mtime_ns
        panel.locator(".jp-Notebook .jp-InputPrompt").first.click()
        self.page.keyboard.press("Escape")
        self.page.keyboard.press("Control+s")
        deadline = time.monotonic() + 30
        while path.stat().st_mtime_ns == before:
            assert time.monotonic() < deadline, f"{path.name} was not saved within 30 s"
            self.page.wait_for_timeout(250)
        self.page.wait_for_timeout(500)  # the contents API writes the file in one go; let it finish
        nb = nbformat.read(path, as_version=4)
        found = {i: unexpected(c.get("outputs")) for i, c in enumerate(nb.cells)}
        found = {i: lines for i, lines in found.items() if lines}
        assert not found, f"stderr in {path.name} (cell: lines): {found}"


@contextlib.contextmanager
def chromium_learner(playwright_api, lab, artifacts, name: str, args: tuple[str, ...] = ()):
    """A :class:`Learner` in a fresh Chromium (``args``: its command-line switches)."""
    url, token, _ = lab
    browser = playwright_api.chromium.launch(executable_path=CHROMIUM, args=list(args))
    page = browser.new_page(viewport={"width": 1400, "height": 900})
    page.set_default_timeout(60_000)
    person = Learner(page, url, token, artifacts)
    try:
        yield person
    finally:
        try:  # how the page looked when the test ended (passed or failed)
            person.shot(f"end-{name}")
        except Exception:  # noqa: BLE001 - a screenshot must not hide the real failure
            pass
        browser.close()


@pytest.fixture
def learner(playwright_api, lab, artifacts, request):
    with chromium_learner(playwright_api, lab, artifacts, request.node.name) as person:
        yield person


def _indices(nb) -> dict[str, int]:
    """Cell indices by role: setup, each nbgrader grade_id, and the first plain code cell."""
    found = {}
    for i, cell in enumerate(nb.cells):
        grade_id = cell.metadata.get("nbgrader", {}).get("grade_id")
        if grade_id:
            found[grade_id] = i
        elif editions.is_setup_cell(cell):
            found.setdefault("setup", i)
        elif cell.cell_type == "code" and "plain" not in found and i > found.get("setup", i):
            found["plain"] = i
    return found


def _visible_text(locator) -> str:
    return locator.evaluate("e => e.innerText")


def test_selfstudy_answer_hidden_until_opened_and_run_all_works(learner, lab):
    nb = nbformat.read(lab[2] / "notebooks" / f"{NAME}.ipynb", as_version=4)
    answers = [i for i, c in enumerate(nb.cells) if c.source.startswith(editions.ANSWER_TITLE)]
    assert answers, "the self-study notebook has no answer cells"
    first = answers[0]
    code_line = nb.cells[first].source.splitlines()[-1].strip()  # a line of the answer itself

    panel = learner.open(f"notebooks/{NAME}.ipynb", len(nb.cells))
    answer = learner.cell(panel, first)
    answer.scroll_into_view_if_needed()
    assert answer.locator(".jp-InputArea").is_hidden(), "the answer's code is shown before it is opened"
    placeholder = answer.locator(".jp-InputPlaceholder")
    assert placeholder.is_visible()
    assert "Show the answer" in _visible_text(placeholder), "the hidden answer shows no title"
    assert code_line not in _visible_text(panel), "the answer's code can be read without opening it"
    learner.shot("01-selfstudy-answer-hidden")

    placeholder.click()  # what a learner does to see the answer
    answer.locator(".jp-InputArea").wait_for(state="visible")
    assert code_line in _visible_text(answer), "opening the answer cell does not show the answer"
    learner.shot("02-selfstudy-answer-opened")
    learner.check_clean()

    learner.page.locator(".lm-MenuBar-itemLabel", has_text=re.compile("^Run$")).click()
    learner.page.locator(".lm-Menu-itemLabel", has_text=re.compile("^Run All Cells$")).click()
    code_cells = [i for i, c in enumerate(nb.cells) if c.cell_type == "code"]
    learner.wait_run_all(panel)
    learner.cell(panel, code_cells[-1]).scroll_into_view_if_needed()
    learner.shot("03-selfstudy-run-all-done")
    # a hidden answer cell shows no prompt: its output says that it ran
    not_run = [i for i in code_cells if not (
        re.search(r"Running the answer|ran nothing", learner.cell(panel, i).locator(".jp-OutputArea").text_content())
        if i in answers else
        re.search(r"\[\d+\]", learner.cell(panel, i).locator(".jp-InputPrompt").text_content()))]
    assert not not_run, f"Run All did not run cells {not_run}"
    outputs = panel.locator(".jp-Notebook").text_content()  # every cell, on screen or not
    assert TRACEBACK not in outputs, "Run All of the untouched self-study notebook shows a traceback"
    assert "Running the answer" in outputs, "the answer cells did not fill the exercises in"
    learner.check_clean()
    learner.check_quiet(panel, lab[2] / "notebooks" / f"{NAME}.ipynb")


def test_release_setup_exercise_and_self_check(learner, lab):
    nb = nbformat.read(lab[2] / "release" / NAME / f"{NAME}.ipynb", as_version=4)
    at = _indices(nb)
    panel = learner.open(f"release/{NAME}/{NAME}.ipynb", len(nb.cells))

    setup_out = learner.run(panel, at["setup"])
    learner.shot("04-release-setup-ran")
    assert TRACEBACK not in setup_out, f"the setup cell failed:\n{setup_out[-2000:]}"
    from asl_course import dataset  # the kernel's data is the session's ($ASL_DATA_DIR, tests/conftest.py)
    assert dataset.describe() in setup_out, f"the setup cell did not name the session's data:\n{setup_out}"

    exercise_out = learner.run(panel, at["load_csv"])  # untouched: the stub raises, as it should
    assert "NotImplementedError" in exercise_out
    check_out = learner.run(panel, at["test_load_csv"])
    learner.shot("05-release-untouched-self-check")
    assert TRACEBACK not in check_out and "NameError" not in check_out, (
        f"an untouched exercise's self-check shows a traceback instead of its message:\n{check_out}")
    assert "define `train_df`" in check_out and "in the cell above" in check_out, check_out
    learner.check_clean()
    learner.check_quiet(panel, lab[2] / "release" / NAME / f"{NAME}.ipynb")


def test_korean_release_speaks_korean_in_jupyterlab(learner, lab):
    """The Korean edition in JupyterLab: nothing sets $ASL_COURSE_LANG; the kernel finds its notebook
    (JupyterLab names it: JPY_SESSION_NAME) and the notebook's metadata says Korean."""
    nb = nbformat.read(lab[2] / "ko" / "release" / NAME / f"{NAME}.ipynb", as_version=4)
    at = _indices(nb)
    panel = learner.open(f"ko/release/{NAME}/{NAME}.ipynb", len(nb.cells))
    setup_out = learner.run(panel, at["setup"])
    assert TRACEBACK not in setup_out, f"the setup cell failed:\n{setup_out[-2000:]}"
    learner.run(panel, at["load_csv"])
    check_out = learner.run(panel, at["test_load_csv"])
    learner.shot("05-ko-release-untouched-self-check")
    assert "train_df" in check_out and re.search("[\uac00-\ud7a3]", check_out), (
        f"the self-check of the Korean edition does not speak Korean:\n{check_out}")
    assert "in the cell above" not in check_out
    learner.check_clean()


def _source(learner, panel, index: int) -> str:
    return learner.cell(panel, index).locator(".jp-InputArea .cm-content").inner_text()


def test_release_locked_cells_and_no_instructor_panels(learner, lab):
    nb = nbformat.read(lab[2] / "release" / NAME / f"{NAME}.ipynb", as_version=4)
    at = _indices(nb)
    panel = learner.open(f"release/{NAME}/{NAME}.ipynb", len(nb.cells))
    page = learner.page

    def type_into(index: int) -> str:
        cell = learner.cell(panel, index)
        cell.scroll_into_view_if_needed()
        cell.locator(".cm-content").click()
        # in edit mode, keys go to the editor (in command mode they would be shortcuts)
        assert "jp-mod-editMode" in (panel.locator(".jp-Notebook").get_attribute("class") or "")
        page.keyboard.press("End")
        page.keyboard.type("  # typed by the learner")
        page.keyboard.press("Escape")  # back to command mode
        return _source(learner, panel, index)

    for role in ("setup", "test_load_csv"):
        before = _source(learner, panel, at[role])
        assert editions.READ_ONLY in before.splitlines()[0], f"the {role} cell does not say it is read-only"
        assert type_into(at[role]) == before, f"the {role} cell can be edited"
        editor = learner.cell(panel, at[role]).locator(".cm-content")
        assert editor.get_attribute("aria-readonly") == "true", f"JupyterLab does not mark the {role} cell read-only"
    learner.shot("06-release-typed-into-locked-cells")
    assert "typed by the learner" in type_into(at["load_csv"]), "control: the answer cell should take typing"
    assert learner.cell(panel, at["load_csv"]).locator(".cm-content").get_attribute("aria-readonly") is None

    def delete(index: int) -> int:
        count = panel.locator(".jp-Notebook .jp-Cell").count()
        learner.cell(panel, index).locator(".jp-InputPrompt").click()
        page.keyboard.press("Escape")
        page.keyboard.press("d")
        page.keyboard.press("d")
        page.wait_for_timeout(500)
        return count - panel.locator(".jp-Notebook .jp-Cell").count()

    for role in ("setup", "test_load_csv", "load_csv"):
        assert delete(at[role]) == 0, f"the {role} cell can be deleted"
    assert delete(at["plain"]) == 1, "control: a plain cell should be deletable with d, d"
    learner.shot("07-release-after-delete-attempts")

    # nbgrader's instructor panels are not in the learner's way (README: labextension disable)
    assert page.get_by_text("Create Assignment").count() == 0, "nbgrader's Create Assignment panel is shown"
    menu = page.locator(".lm-MenuBar-itemLabel", has_text=re.compile("^Nbgrader$"))
    if menu.count():
        menu.click()
        items = page.locator(".lm-Menu-itemLabel").all_inner_texts()
        learner.shot("08-release-nbgrader-menu")
        page.keyboard.press("Escape")
        assert not {"Formgrader", "Course List"} & set(items), f"instructor items in the Nbgrader menu: {items}"
    learner.check_clean()


@pytest.mark.full_class  # 1-7 min of training in CI; the button's config path: tests/test_validate.py (fast)
def test_validate_button_passes_a_solved_notebook_4(learner, lab):
    """nbgrader's *Validate* button (a toolbar button, for students) on a solved notebook 4: it saves
    the notebook, the server runs nbgrader's Validator with the course folder's config (one epoch of
    training, longer than nbgrader's own 30 s limit per cell), and a dialog gives the verdict."""
    path = f"release/{TRAIN}/{TRAIN}.ipynb"
    nb = nbformat.read(lab[2] / path, as_version=4)
    learner.open(path, len(nb.cells))
    button = learner.page.locator(".jp-NotebookPanel:visible .validate-button")
    button.click()
    results = learner.page.locator(".jp-Dialog", has_text="Validation Results")
    start = time.monotonic()
    results.wait_for(timeout=1_500_000)  # one epoch: 1-2 minutes on 2 cores; the config allows a cell 1200 s
    text = results.inner_text()
    learner.shot("09-validate-button-result")
    print(f"the Validate button answered in {time.monotonic() - start:.0f} s")
    assert VALIDATED in text, f"the Validate button on a solved notebook 4 says:\n{text[-3000:]}"
    results.locator(".jp-Dialog-button.jp-mod-accept").click()
    learner.check_clean()


# --- Notebook 5's camera widget, with Chromium's fake camera (issue 22) ---------------------

#: Chromium's camera is a video file, and its permission prompt answers "allow".
FAKE_CAMERA = ("--use-fake-device-for-media-stream", "--use-fake-ui-for-media-stream")
#: The fake camera's picture: test-file images, one a second, in the centre square of 640x480
#: (the guide box), beside stripes that the guide box cuts off.
VIDEO_SIZE, VIDEO_FPS, VIDEO_IMAGES = (640, 480), 5, 3


def write_y4m(path: Path, images, size=VIDEO_SIZE, fps=VIDEO_FPS) -> None:
    """A YUV4MPEG2 video (4:2:0, no colour): each 28x28 image (0..255) for one second, enlarged into
    the frame's centre square. Luma in the studio range (16..235) that Chromium decodes it in."""
    from PIL import Image

    width, height = size
    side, left = height, (width - height) // 2
    stripes = np.where((np.arange(width) // 16) % 2 == 0, 30, 220).astype(np.uint8)
    chroma = np.full(width * height // 2, 128, np.uint8).tobytes()  # U then V planes: gray
    with open(path, "wb") as video:
        video.write(f"YUV4MPEG2 W{width} H{height} F{fps}:1 Ip A1:1 C420jpeg\n".encode())
        for image in images:
            frame = np.repeat(stripes[None, :], height, axis=0)
            hand = Image.fromarray(np.asarray(image, np.uint8).reshape(28, 28)).resize((side, side), Image.Resampling.BICUBIC)
            frame[:, left:left + side] = np.asarray(hand)
            luma = np.rint(16 + frame.astype(np.float64) * 219 / 255).astype(np.uint8).tobytes()
            for _ in range(fps):
                video.write(b"FRAME\n" + luma + chroma)


CAMERA_CELLS = (
    # The suite runs with ASL_COURSE_AUTOMATED=1, which the kernel inherits: this kernel is a learner's.
    "import os\nos.environ.pop('ASL_COURSE_AUTOMATED', None)\n"
    "from asl_course.learners import camera\nshot = camera.capture()",
    "import numpy as np\nfrom asl_course.learners import predict\n"
    "assert shot.source == 'camera', shot.note\n"
    "np.save('seen.npy', predict.prepare_image(shot.image)[0, ..., 0])\n"
    "print('frame', shot.array().shape)",
)


def test_camera_widget_hands_a_frame_to_the_kernel(playwright_api, lab, artifacts, data_dir, tmp_path):
    """The widget in JupyterLab, Chromium's fake camera playing test-file images: *Take picture*
    sends the frame to the kernel, at the camera's size, and its prepared 28x28 is the video's
    image (Pearson correlation >= 0.95 with one of them, the best by 0.2 over the others)."""
    from asl_course import dataset

    _, _, x_valid, _ = dataset.load_arrays(data_dir)
    images = x_valid[:VIDEO_IMAGES]
    video = tmp_path / "hands.y4m"
    write_y4m(video, images)
    work = lab[2]
    nbformat.write(nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(c) for c in CAMERA_CELLS],
                                            metadata={"kernelspec": {"name": "python3", "display_name": "Python 3",
                                                                     "language": "python"}}), work / "camera.ipynb")
    args = (*FAKE_CAMERA, f"--use-file-for-fake-video-capture={video}")
    with chromium_learner(playwright_api, lab, artifacts, "camera-widget", args) as learner:
        panel = learner.open("camera.ipynb", len(CAMERA_CELLS))
        learner.run(panel, 0)
        status = panel.locator(".asl-camera-status")
        status.filter(has_text="camera on").wait_for(timeout=60_000)
        assert f"{VIDEO_SIZE[0]}x{VIDEO_SIZE[1]}" in status.inner_text()
        learner.page.wait_for_timeout(500)  # a few frames in: the video is playing
        learner.shot("camera-01-live")
        panel.locator(".asl-camera-take").click()
        status.filter(has_text="picture taken").wait_for(timeout=30_000)
        learner.shot("camera-02-taken")
        said = learner.run(panel, 1)
        assert TRACEBACK not in said and f"frame ({VIDEO_SIZE[1]}, {VIDEO_SIZE[0]}, 3)" in said, said
        learner.check_clean()
        learner.check_quiet(panel, work / "camera.ipynb")
    seen = np.load(work / "seen.npy").reshape(-1)
    fits = sorted((float(np.corrcoef(seen, image / 255.0)[0, 1]), i) for i, image in enumerate(images))
    (best, index), runner_up = fits[-1], fits[-2][0]
    difference = float(np.abs(seen - images[index] / 255.0).mean())
    print(f"camera frame -> image {index}: correlation {best:.3f} (next {runner_up:.3f}), "
          f"mean absolute difference {difference:.3f}")
    assert best >= 0.95 and best - runner_up >= 0.2, fits


def test_colab_route_javascript_in_chromium(playwright_api, artifacts, tmp_path):
    """Colab's route without Colab: its JavaScript on a local page (``google.colab.output`` faked),
    what ``eval_js`` would return: the fake camera's picture as a PNG data URL at the camera's
    size; "" for *Upload a photo instead*; "error: ..." where there is no camera at all."""
    from PIL import Image

    from asl_course.learners import camera

    y, x = np.mgrid[0:28, 0:28]
    image = np.rint(128 + 100 * np.sin(x / 3.0) * np.cos(y / 4.0)).astype(np.uint8)  # smooth, like a hand
    video = tmp_path / "hand.y4m"
    write_y4m(video, [image])
    page_file = tmp_path / "colab.html"
    page_file.write_text("<html><body><script>window.google = {colab: {output: {setIframeHeight() {}}}};\n"
                         + camera.COLAB_JS + "</script></body></html>")
    runs = {"picture": (*FAKE_CAMERA, f"--use-file-for-fake-video-capture={video}"), "skip": FAKE_CAMERA,
            "no camera": ("--use-fake-ui-for-media-stream",)}
    answers = {}
    for name, args in runs.items():
        browser = playwright_api.chromium.launch(executable_path=CHROMIUM, args=list(args))
        try:
            page = browser.new_page()
            page.goto(page_file.as_uri())
            page.set_default_timeout(30_000)
            page.evaluate(f"() => {{ window.aslAnswer = aslTakePhoto({json.dumps(camera.ADVICE)}); }}")
            if name == "picture":
                page.locator(".asl-camera-status", has_text="camera on").wait_for(timeout=30_000)
                page.screenshot(path=str(artifacts / "colab-route-live.png"))
                page.locator(".asl-camera-take").click()
            elif name == "skip":
                page.locator("button", has_text="Upload a photo instead").click()
            answers[name] = page.evaluate("() => window.aslAnswer")  # what eval_js would return
            assert page.locator(".asl-camera").count() == 0, "the view stays after the answer"
        finally:
            browser.close()
    picture = Image.open(io.BytesIO(camera.decode_data_url(answers["picture"])))
    assert picture.size == VIDEO_SIZE
    from asl_course.learners import predict

    seen = predict.prepare_image(picture).reshape(-1)
    fit = float(np.corrcoef(seen, image.reshape(-1) / 255.0)[0, 1])
    print(f"Colab route: {picture.size[0]}x{picture.size[1]} picture, correlation {fit:.3f}; "
          f"no camera: {answers['no camera'][:80]}")
    assert fit >= 0.95
    assert answers["skip"] == ""
    assert answers["no camera"].startswith("error: no camera ("), answers["no camera"]
