"""The course's web page and ``asl-course serve`` (issue 22).

- The server without a browser (starlette's TestClient): the page, the model, onnxruntime-web's
  files, ``POST /predict`` (the same preparation and the same numbers as Python's), and bad
  requests answered with a clear 4xx JSON error.
- The page's preparation in Chromium against :func:`prepare_image` on the same frames. The page
  repeats Pillow's integer arithmetic (luma, bicubic fixed-point resampling), so on pixels both
  see alike (arrays, PNG files) the tensors must be *identical* (tolerance 0); on a JPEG the
  browser's decoder and Pillow's may round differently, so there the tolerance is 3 gray levels
  per pixel at most (3/255), well inside what the training augmentation varies.
- The page served by ``asl-course serve``, its camera a video of test-file hands (slow: it needs
  the trained model): the letters read on a plain and on a cluttered background, no JavaScript
  error, screenshots in ``$ASL_BROWSER_ARTIFACTS`` (default test-artifacts/browser/web/).
"""

from __future__ import annotations

import base64
import io
import os
import socket
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest

import _chromium as chromium
from asl_course.learners import lesson, predict
from asl_course.tooling import cli, export
from asl_course.web import fakecam, runtime, server

REPO = Path(__file__).resolve().parent.parent
CHROMIUM, IN_CI = chromium.CHROMIUM, chromium.IN_CI
ARTIFACTS = Path(os.environ.get("ASL_BROWSER_ARTIFACTS") or REPO / "test-artifacts" / "browser") / "web"


def _unavailable(reason: str):
    if IN_CI:
        pytest.fail(f"{reason}; CI=true, so this test must run")
    pytest.skip(reason)


@pytest.fixture(scope="module")
def runtime_dir() -> Path:
    try:
        return runtime.fetch(log=lambda *_: None)
    except runtime.RuntimeMissing as exc:
        _unavailable(str(exc))


@pytest.fixture(scope="module")
def untrained_onnx(tmp_path_factory) -> Path:
    import keras

    keras.utils.set_random_seed(5)
    return export.export_onnx(lesson.build_model(), tmp_path_factory.mktemp("onnx") / "asl_model.onnx")


@pytest.fixture(scope="module")
def client(untrained_onnx, runtime_dir):
    from starlette.testclient import TestClient

    with TestClient(server.create_app(untrained_onnx, runtime_dir, max_upload=200_000)) as c:
        yield c


def _png(pixels) -> bytes:
    from PIL import Image

    out = io.BytesIO()
    Image.fromarray(np.asarray(pixels, dtype=np.uint8)).save(out, format="PNG")
    return out.getvalue()


def _photo(seed: int = 0, shape=(90, 120, 3)) -> np.ndarray:
    return np.random.default_rng(seed).integers(0, 256, shape, dtype=np.uint8)


# --- The server, no browser ------------------------------------------------------------------


def test_the_page_model_and_runtime_are_served(client):
    page = client.get("/")
    assert page.status_code == 200 and 'id="guide"' in page.text and "app.js" in page.text
    assert client.get("/model.onnx").status_code == 200
    wasm = client.get("/ort/ort-wasm-simd-threaded.wasm")
    assert wasm.status_code == 200 and wasm.headers["content-type"] == "application/wasm"
    assert client.get("/ort/ort.wasm.min.mjs").headers["content-type"].startswith("text/javascript")
    assert client.get("/prepare.js").status_code == 200


def test_predict_answers_as_python_does(client, untrained_onnx):
    from PIL import Image

    photo = _photo(1)
    want = export.onnx_probabilities(export.onnx_session(untrained_onnx), predict.prepare_image(Image.fromarray(photo)))[0]
    top = predict.top_k(want, 3)
    for response in (client.post("/predict", content=_png(photo), headers={"content-type": "image/png"}),
                     client.post("/predict", files={"image": ("hand.png", _png(photo), "image/png")})):
        assert response.status_code == 200, response.text
        got = response.json()
        assert [t["letter"] for t in got["top"]] == [t for t, _ in top] and got["letter"] == top[0][0]
        np.testing.assert_allclose([t["probability"] for t in got["top"]], [p for _, p in top], atol=1e-7)


@pytest.mark.parametrize("kind, status, words", [
    ("not-an-image", 400, "not a picture"),
    ("truncated", 400, "cannot be read"),
    ("too-big", 413, "over"),
    ("too-many-pixels", 413, "megapixels"),
    ("wrong-type", 415, "is not a picture"),
    ("no-field", 400, "field named image"),
])
def test_bad_uploads_get_a_clear_4xx_json_error(client, monkeypatch, kind, status, words):
    png = _png(_photo(2))
    headers = {"content-type": "image/png"}
    if kind == "not-an-image":
        response = client.post("/predict", content=b"hello, not a picture", headers=headers)
    elif kind == "truncated":
        response = client.post("/predict", content=png[: len(png) // 2], headers=headers)
    elif kind == "too-big":
        response = client.post("/predict", content=b"\x89PNG" + b"\0" * 300_000, headers=headers)
    elif kind == "too-many-pixels":
        monkeypatch.setattr(server, "MAX_PIXELS", 1000)
        response = client.post("/predict", content=png, headers=headers)
    elif kind == "wrong-type":
        response = client.post("/predict", content=png, headers={"content-type": "text/plain"})
    else:
        response = client.post("/predict", files={"photo": ("hand.png", png, "image/png")})
    assert response.status_code == status, response.text
    assert response.headers["content-type"] == "application/json"
    message = response.json()["error"]
    assert words in message and "\n" not in message


def test_serve_without_a_model_says_how_to_train_one(tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    assert cli.main(["serve"]) == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and "asl-course run --fast" in err and "--model" in err


# --- The page's preparation in Chromium ---------------------------------------------------------


@pytest.fixture(scope="module")
def playwright_api():
    yield from chromium.playwright(_unavailable)



@pytest.fixture(scope="module")
def served(untrained_onnx, runtime_dir):
    """The app on a real port (uvicorn in a thread): the page with an untrained model."""
    import threading

    import uvicorn

    port = chromium.free_port()
    config = uvicorn.Config(server.create_app(untrained_onnx, runtime_dir), host="127.0.0.1", port=port, log_level="warning")
    web = uvicorn.Server(config)
    thread = threading.Thread(target=web.run, daemon=True)
    thread.start()
    while not web.started:
        time.sleep(0.05)
    yield f"http://127.0.0.1:{port}/"
    web.should_exit = True
    thread.join(10)


@pytest.fixture(scope="module")
def page(playwright_api, served):
    browser = playwright_api.chromium.launch(executable_path=CHROMIUM)
    tab = browser.new_page()
    errors = []
    tab.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    tab.on("pageerror", lambda e: errors.append(str(e)))
    tab.goto(served + "?nocamera")
    tab.wait_for_function("window.asl && window.asl.ready === true", timeout=60_000)
    yield tab
    browser.close()
    assert not errors, errors


def _page_prepares(tab, rgb: np.ndarray) -> np.ndarray:
    rgba = np.concatenate([rgb, np.full(rgb.shape[:2] + (1,), 255, np.uint8)], axis=-1)
    got = tab.evaluate("""([b64, w, h]) => {
        const bytes = Uint8ClampedArray.from(atob(b64), (c) => c.charCodeAt(0));
        return Array.from(window.asl.prepareRGBA(bytes, w, h).input); }""",
                       [base64.b64encode(rgba.tobytes()).decode(), rgb.shape[1], rgb.shape[0]])
    return np.asarray(got, dtype="float32").reshape(1, 28, 28, 1)


FRAMES = {  # (height, width): a webcam, a portrait phone photo, odd sizes, the training size
    "webcam-640x480": (480, 640), "portrait-300x500": (500, 300), "odd-241x333": (241, 333),
    "square-100": (100, 100), "train-28": (28, 28), "small-20x30": (30, 20),
}


@pytest.mark.parametrize("name", list(FRAMES))
def test_page_prepares_frames_exactly_as_prepare_image(page, name):
    height, width = FRAMES[name]
    rgb = _photo(hash(name) % 1000, (height, width, 3))
    rgb[height // 4: height // 2] //= 3  # some structure, not only noise
    want = predict.prepare_image(rgb)
    got = _page_prepares(page, rgb)
    assert float(np.abs(got - want).max()) == 0.0


def test_page_prepares_a_camera_frame_of_a_hand_exactly(page, prepared):
    pixels = np.rint(prepared.x_valid[0].reshape(28, 28) * 255)
    rgb = fakecam.hand_frame(pixels, 0, cluttered=True)
    np.testing.assert_array_equal(_page_prepares(page, rgb), predict.prepare_image(rgb))


def test_page_reads_a_chosen_photo_as_python_does(page, tmp_path):
    """The whole photo route: file input, the browser's decoder, the shown 28x28 and letters."""
    from PIL import Image

    rgb = _photo(7, (300, 400, 3))
    rgb[100:200] //= 2
    for suffix, tolerance in ((".png", 0.0), (".jpg", 3 / 255)):
        path = tmp_path / f"hand{suffix}"
        Image.fromarray(rgb).save(path, quality=90) if suffix == ".jpg" else Image.fromarray(rgb).save(path)
        page.evaluate("window.asl.shown = null")
        page.set_input_files("#file", str(path))
        page.wait_for_function("window.asl.shown !== null")
        got = np.asarray(page.evaluate("Array.from(window.asl.shown.input)"), "float32").reshape(1, 28, 28, 1)
        difference = float(np.abs(got - predict.prepare_image(path)).max())
        print(f"{suffix}: largest difference {difference * 255:.1f} gray levels")
        assert difference <= tolerance + 1e-7, f"{suffix}: {difference * 255:.1f} gray levels apart"
    assert "hand.jpg: most likely" in page.text_content("#status")


# --- The page served by `asl-course serve`, its camera a video of hands (slow) -------------------


@pytest.fixture(scope="module")
def served_trained(trained_model, runtime_dir, tmp_path_factory):
    """``asl-course serve --model`` (a real process) on the session's trained model."""
    import shutil

    folder = tmp_path_factory.mktemp("serve")
    model = shutil.copy(trained_model[0], folder / lesson.MODEL_FILE)
    port = chromium.free_port()
    env = dict(os.environ, ASL_WEB_RUNTIME=str(runtime_dir), PYTHONWARNINGS="ignore")
    log = open(folder / "serve.log", "w+")
    proc = subprocess.Popen([sys.executable, "-m", "asl_course", "serve", "--model", str(model), "--port", str(port)],
                            stdout=log, stderr=subprocess.STDOUT, env=env)
    try:
        deadline = time.monotonic() + 300
        while True:
            with socket.socket() as s:
                if s.connect_ex(("127.0.0.1", port)) == 0:
                    break
            log.seek(0)
            assert proc.poll() is None and time.monotonic() < deadline, f"asl-course serve did not start:\n{log.read()}"
            time.sleep(0.5)
        yield f"http://127.0.0.1:{port}/"
    finally:
        proc.terminate()
        proc.wait(20)
        log.close()


def _one_hand_per_letter(model, prepared, candidates: int = 8):
    """For each letter, the first test-file image (of its first ``candidates``) that Keras reads
    right from the plain frame the video shows (the page is under test here, not the model: its
    accuracy is measured elsewhere), and how many were passed over."""
    pixels = np.rint(prepared.x_valid.reshape(-1, 784) * 255)
    labels = np.asarray(prepared.labels_valid)
    rows = [np.flatnonzero(labels == index)[:candidates] for index in range(predict.NUM_CLASSES)]
    frames = [fakecam.hand_frame(pixels[r], index) for index, group in enumerate(rows) for r in group]
    read = predict.probabilities(model, np.concatenate([predict.prepare_image(f) for f in frames])).argmax(axis=1)
    chosen, skipped, at = [], 0, 0
    for index, group in enumerate(rows):
        right = np.flatnonzero(read[at:at + len(group)] == index)
        at += len(group)
        chosen.append(pixels[group[right[0] if len(right) else 0]])
        skipped += int(right[0]) if len(right) else len(group)
    return np.asarray(chosen), skipped


def _python_reads(model, hands, cluttered: bool) -> int:
    frames = [fakecam.hand_frame(h, i, cluttered=cluttered) for i, h in enumerate(hands)]
    read = predict.probabilities(model, np.concatenate([predict.prepare_image(f) for f in frames])).argmax(axis=1)
    return int((read == np.arange(len(hands))).sum())


@pytest.mark.slow
def test_fake_camera_reads_the_letters_of_test_hands(trained_model, prepared, served_trained, playwright_api, tmp_path):
    _, model = trained_model
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    hands, skipped = _one_hand_per_letter(model, prepared)
    indices = list(range(predict.NUM_CLASSES))
    right = {}
    for background in ("plain", "cluttered"):
        video = fakecam.letter_video(hands, indices, tmp_path / f"{background}.y4m", cluttered=background == "cluttered")
        console: list[str] = []
        browser, page = fakecam.open_page(playwright_api, CHROMIUM, video, served_trained, console)
        try:
            seen = fakecam.read_letters(page)
            page.screenshot(path=ARTIFACTS / f"camera-{background}.png")
        finally:
            browser.close()
        read = {i: fakecam.majority(v) for i, v in seen.items()}
        right[background] = sum(read[i] == predict.LETTERS[i] for i in read)
        python = _python_reads(model, hands, background == "cluttered")
        print(f"\nfake camera, {background} background: the page read {right[background]} of 24 letters right "
              f"({len(seen)} seen; Python reads {python} of these frames right); "
              f"misread: {sorted((predict.LETTERS[i], t) for i, t in read.items() if t != predict.LETTERS[i])}; "
              f"{skipped} test images skipped to find one Keras reads right per letter")
        assert not console, f"JavaScript errors on the page: {console}"
        assert len(seen) == predict.NUM_CLASSES, f"letters never shown: {set(indices) - set(seen)}"
    assert right["plain"] >= 22


@pytest.mark.slow
def test_bench_camera_counts_frames_and_sizes_the_page(runtime_dir, tmp_path):
    """``asl-course bench camera`` (a real process: it runs its own Playwright) measures, and the
    page with its runtime stays within the issue's 15 MB."""
    if not (Path(CHROMIUM).exists() and os.access(CHROMIUM, os.X_OK)):
        _unavailable(f"no Chromium at {CHROMIUM} (apt-get install -y chromium)")
    import json

    env = dict(os.environ, ASL_WEB_RUNTIME=str(runtime_dir), PYTHONWARNINGS="ignore")
    result = subprocess.run([sys.executable, "-m", "asl_course", "bench", "camera", "--seconds", "2",
                             "--json", str(tmp_path / "camera.json")], capture_output=True, text=True, env=env, timeout=600)
    assert result.returncode == 0, result.stderr[-2000:]
    assert "frames/s" in result.stdout and "limit 15 MB" in result.stdout
    report = json.loads((tmp_path / "camera.json").read_text())
    assert report["frames"] > 0 and report["frame_size"] == "640x480" and not report["javascript_errors"]
    assert report["page_bytes"] + report["runtime_bytes"] <= 15_000_000
