"""The camera-shift suite: what a webcam or a phone does to a hand that the data set never shows.

Sign Language MNIST's test file is photos from the same studio as the training file: same
framing, light, background and camera. A learner's camera is not that. This module changes
test images as a camera would, in named **kinds**, each at several **severities** (1 mild to 5
harsh), seeded and versioned, after MNIST-C and ImageNet-C:

========================  =================================================================
design kinds              ``larger``, ``smaller``, ``position``, ``tilt``, ``brightness``,
(augmentation may be      ``contrast``, ``blur``, ``noise``, ``jpeg``, ``clutter``,
chosen against these)     ``occlusion``, ``other_hand``
held-out kinds            ``gamma``, ``motion_blur``, ``shot_noise``, ``pixelate``,
(never looked at while    ``uneven_light``, ``shear``
designing; reported)
========================  =================================================================

What each kind does at severity 1..5 is in :data:`KINDS` (``what`` and ``levels``): the
geometric kinds go beyond the lesson's augmentation range (10 degrees, 10 % shifts and zoom),
the photometric ones model a webcam's exposure, focus, sensor and compression. ``other_hand``
(a mirror image: a left-handed signer) has one severity. The levels were set by looking at
pictures (:func:`show_kinds`), before any model was measured on them: severity 5 is harsh but a
person still reads the letter; no level was tuned on an accuracy.

Deterministic: the same images, kind, severity, ``seed`` and :data:`SUITE_VERSION` give the
same pixels (numpy, scipy and Pillow only; no TensorFlow). Change a kind's meaning and the
version goes up, so stored results name the suite they were measured on.

API::

    shifted = shifts.apply(x, "tilt", 3, seed=0)          # same shape and dtype as x
    table = shifts.evaluate(predict, x, y, seed=0)        # accuracy per kind and severity
    shifts.summary(table)                                 # mean and worst, design vs held-out
    shifts.show_kinds(x[:1])                              # one picture per kind and severity

``x`` is pixels: uint8 0..255 or float 0..1 (the prepared images), shaped ``(N, 784)``,
``(N, 28, 28)`` or ``(N, 28, 28, 1)``. ``predict`` takes prepared float images
``(N, 28, 28, 1)`` in 0..1 and returns class ids or class probabilities.
"""

from __future__ import annotations

import io
from dataclasses import dataclass
from typing import Callable

import numpy as np

from asl_course.errors import UserError
from asl_course.i18n import drawing

SUITE_VERSION = 1
SIDE = 28
SEVERITIES = (1, 2, 3, 4, 5)


@dataclass(frozen=True)
class Kind:
    name: str
    what: str
    levels: tuple  # the parameter at severity 1..5
    held_out: bool = False


KINDS: dict[str, Kind] = {k.name: k for k in (
    Kind("larger", "hand nearer the camera: the centre enlarged by this factor", (1.15, 1.3, 1.45, 1.6, 1.8)),
    Kind("smaller", "hand farther away: shrunk by this factor, the edges repeated around it",
         (0.85, 0.75, 0.65, 0.55, 0.45)),
    Kind("position", "hand off centre: moved by this fraction of the width, in a random direction",
         (0.12, 0.18, 0.24, 0.3, 0.36)),
    Kind("tilt", "hand tilted: rotated by this many degrees, either way", (15, 20, 25, 32, 40)),
    Kind("brightness", "exposure: this fraction of full scale added or taken away", (0.08, 0.16, 0.24, 0.32, 0.4)),
    Kind("contrast", "flat light: contrast around the image's mean multiplied by this", (0.6, 0.5, 0.4, 0.3, 0.2)),
    Kind("blur", "out of focus: Gaussian blur of this many pixels (sigma, at 28x28)", (0.5, 0.75, 1.0, 1.25, 1.5)),
    Kind("noise", "sensor noise: Gaussian, this fraction of full scale (sd)", (0.03, 0.05, 0.08, 0.11, 0.14)),
    Kind("jpeg", "compression: JPEG at this quality", (30, 20, 15, 10, 7)),
    Kind("clutter", "a busy background: texture and edges of this strength where the background is",
         (0.2, 0.3, 0.4, 0.5, 0.6)),
    Kind("occlusion", "something in front: a grey square of this fraction of the width", (0.2, 0.26, 0.32, 0.38, 0.45)),
    Kind("other_hand", "the other hand: a mirror image (one severity)", (1, 1, 1, 1, 1)),
    Kind("gamma", "a camera's tone curve: gamma of this, or its inverse", (1.4, 1.8, 2.2, 2.6, 3.0), True),
    Kind("motion_blur", "a moving hand: a line blur of this many pixels at a random angle", (3, 4, 5, 6, 7), True),
    Kind("shot_noise", "low light: Poisson noise with this many photons at full scale", (250, 120, 60, 35, 20), True),
    Kind("pixelate", "a low-resolution camera: down to this many pixels a side and back", (20, 16, 14, 12, 10), True),
    Kind("uneven_light", "light from one side: a gradient of this fraction of full scale", (0.2, 0.3, 0.4, 0.5, 0.6),
         True),
    Kind("shear", "a camera at an angle: sheared by this factor, either way", (0.15, 0.25, 0.35, 0.45, 0.55), True),
)}
DESIGN_KINDS = tuple(k for k, v in KINDS.items() if not v.held_out)
HELD_OUT_KINDS = tuple(k for k, v in KINDS.items() if v.held_out)


# --- images in and out ---------------------------------------------------------------------------------

def _as_float_images(x) -> tuple[np.ndarray, Callable[[np.ndarray], np.ndarray]]:
    """``(N, 28, 28)`` float64 in 0..255, and the function that gives pixels back as ``x`` was."""
    arr = np.asarray(x)
    if arr.size == 0 or arr.size % (SIDE * SIDE) or arr.ndim not in (2, 3, 4):
        raise UserError(f"images of shape {arr.shape}: give (N, 784), (N, 28, 28) or (N, 28, 28, 1) pixels.")
    shape, dtype = arr.shape, arr.dtype
    scale = 255.0 if np.issubdtype(dtype, np.integer) else (255.0 if float(np.nanmax(arr)) > 1.5 else 1.0)
    images = arr.reshape(-1, SIDE, SIDE).astype(np.float64) * (255.0 / scale)

    def back(out: np.ndarray) -> np.ndarray:
        out = np.clip(out, 0, 255) * (scale / 255.0)
        if np.issubdtype(dtype, np.integer):
            out = np.rint(out)
        return out.reshape(shape).astype(dtype)

    return images, back


def _rng(kind: str, severity: int, seed: int) -> np.random.Generator:
    return np.random.default_rng([SUITE_VERSION, list(KINDS).index(kind), int(severity), int(seed)])


def _affine(images: np.ndarray, matrices: np.ndarray, offsets: np.ndarray) -> np.ndarray:
    """Each image resampled at ``matrix @ out + offset`` (bilinear, edges repeated, as the generator fills)."""
    from scipy.ndimage import affine_transform

    return np.stack([affine_transform(img, m, offset=o, order=1, mode="nearest")
                     for img, m, o in zip(images, matrices, offsets)])


def _centred(matrices: np.ndarray, shifts: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray]:
    """Offsets that keep the image centre fixed under ``matrices`` (then move by ``shifts`` pixels)."""
    c = np.array([(SIDE - 1) / 2] * 2)
    offsets = c - matrices @ c
    if shifts is not None:
        offsets = offsets - shifts
    return matrices, offsets


# --- the kinds -------------------------------------------------------------------------------------------

def _larger(x, level, rng):
    m = np.repeat(np.eye(2)[None] / level, len(x), axis=0)
    return _affine(x, *_centred(m))


def _smaller(x, level, rng):
    m = np.repeat(np.eye(2)[None] / level, len(x), axis=0)
    return _affine(x, *_centred(m))


def _position(x, level, rng):
    angle = rng.uniform(0, 2 * np.pi, len(x))
    shifts = level * SIDE * np.stack([np.sin(angle), np.cos(angle)], axis=1)
    m = np.repeat(np.eye(2)[None], len(x), axis=0)
    return _affine(x, *_centred(m, shifts))


def _rotation(theta: np.ndarray) -> np.ndarray:
    c, s = np.cos(theta), np.sin(theta)
    return np.stack([np.stack([c, -s], -1), np.stack([s, c], -1)], -2)


def _tilt(x, level, rng):
    theta = np.deg2rad(level) * rng.choice([-1.0, 1.0], len(x))
    return _affine(x, *_centred(_rotation(theta)))


def _shear(x, level, rng):
    k = level * rng.choice([-1.0, 1.0], len(x))
    m = np.repeat(np.eye(2)[None], len(x), axis=0)
    m[:, 1, 0] = k  # columns move with rows: a horizontal shear
    return _affine(x, *_centred(m))


def _brightness(x, level, rng):
    return x + level * 255 * rng.choice([-1.0, 1.0], (len(x), 1, 1))


def _contrast(x, level, rng):
    mean = x.mean(axis=(1, 2), keepdims=True)
    return (x - mean) * level + mean


def _gamma(x, level, rng):
    g = np.where(rng.random((len(x), 1, 1)) < 0.5, level, 1 / level)
    return 255 * (x / 255) ** g


def _blur(x, level, rng):
    from scipy.ndimage import gaussian_filter

    return gaussian_filter(x, sigma=(0, level, level), mode="nearest")


def _motion_blur(x, level, rng):
    from scipy.ndimage import convolve

    out = np.empty_like(x)
    for i, angle in enumerate(rng.uniform(0, np.pi, len(x))):
        kernel = np.zeros((level, level))
        t = np.linspace(-(level - 1) / 2, (level - 1) / 2, 4 * level)
        rows = np.clip(np.rint((level - 1) / 2 + t * np.sin(angle)), 0, level - 1).astype(int)
        cols = np.clip(np.rint((level - 1) / 2 + t * np.cos(angle)), 0, level - 1).astype(int)
        kernel[rows, cols] = 1
        out[i] = convolve(x[i], kernel / kernel.sum(), mode="nearest")
    return out


def _noise(x, level, rng):
    return x + rng.normal(0, level * 255, x.shape)


def _shot_noise(x, level, rng):
    return rng.poisson(np.clip(x, 0, 255) / 255 * level) / level * 255


def _jpeg(x, level, rng):
    from PIL import Image

    out = np.empty_like(x)
    for i, img in enumerate(np.clip(np.rint(x), 0, 255).astype(np.uint8)):
        buffer = io.BytesIO()
        Image.fromarray(img, mode="L").save(buffer, format="JPEG", quality=int(level))
        out[i] = np.asarray(Image.open(io.BytesIO(buffer.getvalue())), dtype=np.float64)
    return out


def _pixelate(x, level, rng):
    from PIL import Image

    out = np.empty_like(x)
    for i, img in enumerate(np.clip(np.rint(x), 0, 255).astype(np.uint8)):
        small = Image.fromarray(img, mode="L").resize((level, level), Image.BOX)
        out[i] = np.asarray(small.resize((SIDE, SIDE), Image.NEAREST), dtype=np.float64)
    return out


def _clutter(x, level, rng):
    """Texture and straight edges added where the picture looks like its own border (the background)."""
    from scipy.ndimage import gaussian_filter

    border = np.concatenate([x[:, 0, :], x[:, -1, :], x[:, :, 0], x[:, :, -1]], axis=1)
    background = np.median(border, axis=1)[:, None, None]
    mask = gaussian_filter(np.exp(-(((x - background) / 30.0) ** 2)), sigma=(0, 1, 1))
    texture = gaussian_filter(rng.normal(size=x.shape), sigma=(0, 1.5, 1.5))
    texture /= texture.std(axis=(1, 2), keepdims=True) + 1e-9
    rows, cols = np.mgrid[0:SIDE, 0:SIDE]
    for i in range(len(x)):
        for _ in range(3):  # edges of things behind the hand
            a, b = rng.uniform(0, np.pi), rng.uniform(0, SIDE)
            line = np.abs(rows * np.cos(a) + cols * np.sin(a) - b) < 1.0
            texture[i][line] += rng.choice([-2.5, 2.5])
    return x + level * 255 * mask * np.clip(texture, -3, 3) / 3


def _occlusion(x, level, rng):
    out = x.copy()
    side = int(round(level * SIDE))
    for i in range(len(x)):
        r, c = rng.integers(0, SIDE - side + 1, 2)
        out[i, r:r + side, c:c + side] = rng.uniform(0, 255)
    return out


def _other_hand(x, level, rng):
    return x[:, :, ::-1]


def _uneven_light(x, level, rng):
    angle = rng.uniform(0, 2 * np.pi, len(x))[:, None, None]
    rows, cols = np.mgrid[0:SIDE, 0:SIDE] / (SIDE - 1) - 0.5
    ramp = rows[None] * np.sin(angle) + cols[None] * np.cos(angle)
    return x + level * 255 * ramp


_APPLY = {name: globals()[f"_{name}"] for name in KINDS}


def apply(x, kind: str, severity: int, *, seed: int = 0):
    """``x`` changed by ``kind`` at ``severity`` (1..5): the same shape and dtype as ``x``."""
    if kind not in KINDS:
        raise UserError(f"unknown shift kind {kind!r}: choose one of {', '.join(KINDS)}.")
    if severity not in SEVERITIES:
        raise UserError(f"severity {severity!r}: choose 1 (mild) to 5 (harsh).")
    images, back = _as_float_images(x)
    level = KINDS[kind].levels[severity - 1]
    return back(_APPLY[kind](images, level, _rng(kind, severity, seed)))


# --- measuring a model --------------------------------------------------------------------------------

def labels_of(predictions) -> np.ndarray:
    """Class ids from class ids or from rows of class probabilities."""
    p = np.asarray(predictions)
    return p.argmax(axis=1) if p.ndim == 2 else p.astype(np.int64)


def evaluate(predict: Callable, x, y, *, kinds=None, severities=SEVERITIES, seed: int = 0) -> dict:
    """Accuracy of ``predict`` on ``x`` under each kind and severity, and on ``x`` as it is.

    Returns ``{"suite": SUITE_VERSION, "seed": seed, "clean": acc, "kinds": {kind: {severity: acc}}}``.
    ``y`` is class ids or one-hot rows.
    """
    labels = labels_of(y)
    kinds = tuple(kinds) if kinds is not None else tuple(KINDS)

    def accuracy(pixels) -> float:
        images, _ = _as_float_images(pixels)
        prepared = (images / 255.0).astype(np.float32)[..., None]
        return float(np.mean(labels_of(predict(prepared)) == labels))

    table = {"suite": SUITE_VERSION, "seed": int(seed), "clean": accuracy(x), "kinds": {}}
    for kind in kinds:
        levels = (1,) if kind == "other_hand" else tuple(severities)
        table["kinds"][kind] = {s: accuracy(apply(x, kind, s, seed=seed)) for s in levels}
    return table


def summary(table: dict) -> dict:
    """Per kind its mean over severities; then the mean and the worst kind, design and held-out apart."""
    per_kind = {k: float(np.mean(list(v.values()))) for k, v in table["kinds"].items()}
    out = {"per_kind": per_kind}
    for group, names in (("design", DESIGN_KINDS), ("held_out", HELD_OUT_KINDS)):
        values = {k: per_kind[k] for k in names if k in per_kind}
        if values:
            worst = min(values, key=values.get)
            out[group] = {"mean": float(np.mean(list(values.values()))), "worst": worst,
                          "worst_accuracy": values[worst]}
    return out


def table_lines(table: dict, title: str = "") -> list[str]:
    """The table as text: a row per kind, a column per severity, then the kind's mean."""
    lines = [title] if title else []
    lines.append(f"{'kind':<13} {'':>4} " + " ".join(f"{s:>5}" for s in SEVERITIES) + "   mean")
    lines.append(f"{'clean':<13} {'':>4} {table['clean']:>5.3f}")
    summ = summary(table)
    for kind, row in table["kinds"].items():
        tag = "held" if KINDS[kind].held_out else ""
        cells = " ".join(f"{row[s]:>5.3f}" if s in row else f"{'':>5}" for s in SEVERITIES)
        lines.append(f"{kind:<13} {tag:>4} {cells}   {summ['per_kind'][kind]:.3f}")
    for group in ("design", "held_out"):
        if group in summ:
            g = summ[group]
            lines.append(f"{group.replace('_', '-')} kinds: mean {g['mean']:.3f}, worst {g['worst']} "
                         f"{g['worst_accuracy']:.3f}")
    return lines


@drawing
def show_kinds(x, *, seed: int = 0, kinds=None, path=None):
    """One picture: the image ``x[0]`` under each kind (rows) at each severity (columns)."""
    import matplotlib.pyplot as plt

    images, _ = _as_float_images(np.asarray(x)[:1])
    kinds = tuple(kinds) if kinds is not None else tuple(KINDS)
    fig, axes = plt.subplots(len(kinds), 6, figsize=(6 * 1.1, len(kinds) * 1.15), squeeze=False)
    for row, kind in zip(axes, kinds):
        row[0].imshow(images[0], cmap="gray", vmin=0, vmax=255)
        label = kind + (" (held out)" if KINDS[kind].held_out else "")
        row[0].set_ylabel(label, rotation=0, ha="right", va="center", fontsize=8)
        for s, ax in zip(SEVERITIES, row[1:]):
            ax.imshow(apply(images, kind, s, seed=seed)[0], cmap="gray", vmin=0, vmax=255)
    for ax in axes.ravel():
        ax.set_xticks([])
        ax.set_yticks([])
    for s, ax in zip(("as is",) + SEVERITIES, axes[0]):
        ax.set_title(str(s), fontsize=8)
    fig.suptitle(f"camera-shift suite v{SUITE_VERSION}: severity 1 (mild) to 5 (harsh)", fontsize=9)
    fig.tight_layout()
    if path is not None:
        fig.savefig(path, dpi=100)
    return fig
