"""A camera made of test images, for the page's real-browser test and the camera benchmark.

Chromium can take a ``.y4m`` video file as its camera (``--use-fake-device-for-media-stream
--use-file-for-fake-video-capture=FILE``). :func:`letter_frames` draws the scene: a test-file
hand enlarged to fill the page's guide box (the centre square of a 4:3 frame), on a plain
background or a cluttered one (the hand's own wall replaced by coloured clutter, as a room
behind a learner would be), and, left of the box where the model does not look, five black or
white squares that encode which letter the frame shows (so a test reads, from the frame the
page processed, which letter it was). :func:`write_y4m` writes the frames as YUV4MPEG2 4:2:0
(BT.601, limited range) with numpy alone. :func:`open_page` starts Chromium on such a file and
:func:`read_letters` reads the page's top letter for each letter of the video.
"""

from __future__ import annotations

import time
from pathlib import Path

import numpy as np

from asl_course.learners import predict

WIDTH, HEIGHT = 320, 240  # 4:3, like a webcam; the guide box is the centre 240x240
BITS = 5  # letter index + 1 in 5 bits (0: no marker)
BLOCK = 40
MARKER_Y = [8 + 46 * k for k in range(BITS)]
CHROMIUM_FLAGS = ("--use-fake-device-for-media-stream", "--use-fake-ui-for-media-stream",
                  "--autoplay-policy=no-user-gesture-required")


def _clutter(rng, size: int) -> np.ndarray:
    """A room behind the hand: overlapping coloured rectangles, some stripes (RGB, 0..255)."""
    room = np.full((size, size, 3), rng.integers(60, 200, 3), dtype="float64")
    for _ in range(40):
        h, w = rng.integers(size // 16, size // 3, 2)
        y, x = rng.integers(0, size - h), rng.integers(0, size - w)
        room[y:y + h, x:x + w] = rng.integers(0, 256, 3)
    for x in range(0, size, rng.integers(12, 30)):
        room[:, x:x + 3] = rng.integers(0, 256, 3)
    return room


def hand_frame(pixels, index: int, *, cluttered: bool = False, width: int = WIDTH, height: int = HEIGHT,
               seed: int = 0) -> np.ndarray:
    """One RGB frame (``height x width x 3`` uint8): the 28x28 hand filling the centre square."""
    from PIL import Image

    gray = np.asarray(pixels, dtype=np.uint8).reshape(28, 28)
    left, top, side = predict.centre_square(width, height)
    hand = np.asarray(Image.fromarray(gray).resize((side, side), Image.Resampling.BICUBIC), dtype="float64")
    box = np.repeat(hand[..., None], 3, axis=-1)
    frame = np.full((height, width, 3), 200.0)
    if cluttered:
        rng = np.random.default_rng(seed + index)
        mask = Image.fromarray(predict.wall_mask(gray).astype(np.uint8) * 255).resize((side, side), Image.Resampling.BILINEAR)
        wall = np.asarray(mask, dtype="float64")[..., None] / 255.0
        box = _clutter(rng, side) * wall + box * (1 - wall)
        frame = np.asarray(Image.fromarray(_clutter(rng, max(width, height)).astype(np.uint8)).resize((width, height)), "float64")
    frame[top:top + side, left:left + side] = box
    code = index + 1
    for k, y in enumerate(MARKER_Y):
        frame[y:y + BLOCK, 0:BLOCK] = 255.0 if code >> k & 1 else 0.0
    return np.clip(np.rint(frame), 0, 255).astype(np.uint8)


def marker(rgba: np.ndarray) -> int | None:
    """The letter index a frame's squares encode (``rgba``: height x width x 3 or 4), or None."""
    code = 0
    for k, y in enumerate(MARKER_Y):
        if float(rgba[y + BLOCK // 2, BLOCK // 2, :3].mean()) > 127:
            code |= 1 << k
    return code - 1 if 1 <= code <= predict.NUM_CLASSES else None


def to_i420(rgb: np.ndarray) -> bytes:
    """An RGB frame as I420 (BT.601, limited range): the Y plane, then U and V at half size."""
    r, g, b = (rgb[..., i].astype("float64") / 255.0 for i in range(3))
    y = 16 + 65.481 * r + 128.553 * g + 24.966 * b
    u = 128 - 37.797 * r - 74.203 * g + 112.0 * b
    v = 128 + 112.0 * r - 93.786 * g - 18.214 * b
    half = lambda c: c.reshape(c.shape[0] // 2, 2, c.shape[1] // 2, 2).mean(axis=(1, 3))  # noqa: E731
    planes = [y, half(u), half(v)]
    return b"".join(np.clip(np.rint(p), 0, 255).astype(np.uint8).tobytes() for p in planes)


def write_y4m(frames, path: str | Path, fps: int) -> Path:
    """Write RGB frames (all the same even size) as a YUV4MPEG2 4:2:0 video Chromium can play."""
    frames = list(frames)
    height, width = frames[0].shape[:2]
    path = Path(path)
    with open(path, "wb") as out:
        out.write(f"YUV4MPEG2 W{width} H{height} F{fps}:1 Ip A1:1 C420jpeg\n".encode())
        for frame in frames:
            out.write(b"FRAME\n" + to_i420(frame))
    return path


def letter_video(pixels, indices, path, *, cluttered: bool = False, fps: int = 10, seconds: float = 1.0,
                 width: int = WIDTH, height: int = HEIGHT) -> Path:
    """A video showing each image ``seconds`` long (``indices``: each one's letter index)."""
    frames = []
    for image, index in zip(pixels, indices):
        frame = hand_frame(image, int(index), cluttered=cluttered, width=width, height=height)
        frames += [frame] * max(1, round(fps * seconds))
    return write_y4m(frames, path, fps)


def open_page(playwright, chromium: str, video: Path, url: str, console: list):
    """Chromium (headless) with ``video`` as its camera, on ``url``; console errors go to ``console``."""
    browser = playwright.chromium.launch(
        executable_path=chromium, args=[*CHROMIUM_FLAGS, f"--use-file-for-fake-video-capture={video}"])
    page = browser.new_page(viewport={"width": 1100, "height": 760})
    page.on("console", lambda m: console.append(m.text) if m.type == "error" else None)
    page.on("pageerror", lambda e: console.append(str(e)))
    page.goto(url)
    page.wait_for_function("window.asl && window.asl.shown && window.asl.stats.frames > 2", timeout=60_000)
    return browser, page


#: Runs in the page: the marker of the frame whose letters are on screen, and those letters.
_SHOWN = """() => {
  const s = window.asl.shown, img = s.image, px = (x, y) => {
    const i = (y * img.width + x) * 4; return (img.data[i] + img.data[i + 1] + img.data[i + 2]) / 3; };
  const ys = %s, half = %d;
  let code = 0; ys.forEach((y, k) => { if (px(half, y + half) > 127) code |= 1 << k; });
  const shown = document.querySelector('#top li .letter').textContent;
  return {code, top: s.top[0][0], shown, fps: window.asl.stats.fps};
}""" % (MARKER_Y, BLOCK // 2)


def read_letters(page, letters_wanted: int = predict.NUM_CLASSES, timeout: float = 40.0, every: float = 0.25) -> dict:
    """Poll the page: for each letter index of the video, the top letters shown while its frames
    were read. Stops when every index has 2 readings or after ``timeout`` seconds."""
    seen: dict[int, list[str]] = {}
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        got = page.evaluate(_SHOWN)
        if 1 <= got["code"] <= predict.NUM_CLASSES and got["shown"] == got["top"]:
            seen.setdefault(got["code"] - 1, []).append(got["shown"])
        if len(seen) >= letters_wanted and all(len(v) >= 2 for v in seen.values()):
            break
        time.sleep(every)
    return seen


def majority(readings: list[str]) -> str:
    """The letter read most often (ties: the first read)."""
    return max(readings, key=lambda t: (readings.count(t), -readings.index(t)))
