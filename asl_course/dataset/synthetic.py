"""The offline stand-in for Sign Language MNIST: procedurally drawn hand-like shapes.

NOT the real data set. It exists so that the course's notebooks, tests and CI run without
a download; figures made from it are not results on Sign Language MNIST. ``asl-course data
synthetic`` (:func:`write_synthetic`, also ``asl_course.dataset.write_synthetic``) writes it in the
course's layout.

Each of the 24 letters is a hand drawn from simple shapes: a palm with a thumb-side bulge and
a wrist, four fingers that are extended, curled (a knuckle plus the folded finger on the palm)
or hooked, a thumb in one of several places (beside the fist, out to the side, across the
palm, poking up between two fingers, touching a fingertip), a ring for O and F, and for G,
H, P, Q a turned hand. The shapes are those of a right hand, so none of them is
mirror-symmetric: a mirrored image is a left hand. Per image: finger angles and lengths,
thumb, palm size, skin tone, soft shaded edges, a textured background, a lighting gradient
and pixel noise vary.

The two splits differ on purpose, so that data augmentation has something to fix:

- train: right hands only, small pose changes (rotation up to 3 degrees, zoom and shifts up
  to 3 %).
- valid: half of the hands mirrored (left hands), rotation up to 10 degrees, zoom and shifts
  up to 10 %: the ranges of the lesson's augmentation (``rotation_range=10``,
  ``zoom_range=0.1``, ``width/height_shift_range=0.1``, ``horizontal_flip=True``).

A model trained on the train split without augmentation does clearly worse on the
validation split than one trained with that augmentation. Measured once (seed 0; a CNN of
two conv/pool blocks, dense 128, dropout 0.3; Adam, batch 32, 20 epochs, CPU): validation
accuracy 0.43 without augmentation (0.67 on the right hands, 0.16 on the mirrored ones) and
0.85 with the lesson's ``ImageDataGenerator`` augmentation (0.86 / 0.85).

Deterministic: the same seed gives the same arrays (and so the same CSV bytes) on a given
machine and numpy version. Numpy only, no TensorFlow.
"""

from __future__ import annotations

import math
import time
from pathlib import Path

import numpy as np

from asl_course import __version__, facts as _facts

from .encoding import encode_csv
from .files import SYNTHETIC_DESCRIPTION, TRAIN_FILE, VALID_FILE, DataError, Log
from .folder import default_dest
from .install import check_dest, file_entry, install_files, marker_kind

#: Bump when the drawing changes (recorded in the data folder's marker).
GENERATOR_VERSION = 1
LETTERS = _facts.LETTERS
SIZE = _facts.IMAGE_SIZE
TRAIN_PER_CLASS = 70
VALID_PER_CLASS = 24

#: Pose ranges per split: rotation (degrees), zoom and shift (fractions of the image), and
#: the probability of a mirrored (left) hand.
POSES = {
    "train": {"rotation": 3.0, "zoom": 0.03, "shift": 0.03, "mirror": 0.0},
    "valid": {"rotation": 10.0, "zoom": 0.10, "shift": 0.10, "mirror": 0.5},
}
#: How big a hand is drawn, and where (hand coordinates are scaled, then moved).
HAND_SCALE = 1.2
HAND_OFFSET = (0.0, -0.06)
SPLIT_NOTES = {
    "train": "right hands only; rotation up to 3 degrees, zoom and shifts up to 3 %",
    "valid": (
        "half mirrored (left hands); rotation up to 10 degrees, zoom and shifts up to 10 % "
        "(the lesson's augmentation ranges)"
    ),
}

# --------------------------------------------------------------------------------------
# The hand, in hand coordinates: x right, y up, the image spans -1..1 (14 pixels per unit).
# Right hand seen from the front: thumb on the left.

PALM_CENTER = (0.0, -0.12)
PALM_HALF = (0.30, 0.30)
PALM_CORNER = 0.12
FINGER_X = (-0.21, -0.07, 0.07, 0.20)  # index, middle, ring, pinky
FINGER_Y = 0.13
FINGER_LENGTH = (0.55, 0.62, 0.56, 0.44)
FINGER_TILT = (6.0, 0.0, -5.0, -11.0)  # degrees, positive leans towards the thumb
FINGER_RADIUS = 0.085
THUMB_BASE = (-0.27, -0.24)
THUMB_RADIUS = 0.10

# Thumb poses: the knuckle and the tip (hand coordinates).
THUMBS = {
    "side": ((-0.37, 0.02), (-0.34, 0.26)),  # A: up beside the fist
    "out": ((-0.52, -0.10), (-0.80, -0.02)),  # L, C: straight out to the side
    "out_up": ((-0.48, 0.00), (-0.64, 0.24)),  # Y: out and up
    "low": ((-0.10, -0.32), (0.16, -0.30)),  # across the bottom of the palm
    "mid": ((-0.12, -0.06), (0.14, 0.02)),  # S, I: across the middle of the palm
    "between_im": ((-0.20, -0.04), (-0.14, 0.32)),  # T, K, P: up between index and middle
    "between_mr": ((-0.08, -0.10), (0.00, 0.30)),  # N: between middle and ring
    "between_rp": ((0.02, -0.14), (0.14, 0.30)),  # M: between ring and pinky
    "touch_index": ((-0.42, 0.02), (-0.30, 0.27)),  # F, O: up to the index fingertip
    "touch_mid": ((-0.14, -0.08), (0.04, 0.10)),  # D: to the curled middle finger
    "touch_pinky": ((-0.02, -0.22), (0.20, -0.04)),  # W: to the curled pinky
    "parallel": ((-0.44, 0.04), (-0.46, 0.40)),  # G, Q: alongside the index
}

# letter: (thumb, (index, middle, ring, pinky), spread in degrees, hand turn in degrees, extra)
# extra: "small" / "big" ring (F, O), "thumb_long" (K, P), or None
# finger states: "up" extended, "curl" folded onto the palm, "hook" bent at the middle joint,
# "stub" a short bend (F's index, which forms the ring with the thumb).
U, C_, H_, S_ = "up", "curl", "hook", "stub"
SPECS = {
    "A": ("side", (C_, C_, C_, C_), 0, 0, None),
    "B": ("low", (U, U, U, U), 0, 0, None),
    "C": ("out", (H_, H_, H_, H_), 0, 0, None),
    "D": ("touch_mid", (U, C_, C_, C_), 0, 0, None),
    "E": ("low", (C_, C_, C_, C_), 0, 0, None),
    "F": ("touch_index", (S_, U, U, U), 9, 0, "small"),
    "G": ("parallel", (U, C_, C_, C_), 0, -90, None),
    "H": ("low", (U, U, C_, C_), 0, -90, None),
    "I": ("low", (C_, C_, C_, U), 0, 0, None),
    "K": ("between_im", (U, U, C_, C_), 18, 0, "thumb_long"),
    "L": ("out", (U, C_, C_, C_), 0, 0, None),
    "M": ("between_rp", (C_, C_, C_, C_), 0, 0, None),
    "N": ("between_mr", (C_, C_, C_, C_), 0, 0, None),
    "O": ("touch_index", (C_, C_, C_, C_), 0, 0, "big"),
    "P": ("between_im", (U, U, C_, C_), 18, 160, "thumb_long"),
    "Q": ("parallel", (U, C_, C_, C_), 0, 150, None),
    "R": ("low", (U, U, C_, C_), -20, 0, None),  # negative spread: index and middle cross
    "S": ("mid", (C_, C_, C_, C_), 0, 0, None),
    "T": ("between_im", (C_, C_, C_, C_), 0, 0, None),
    "U": ("low", (U, U, C_, C_), 0, 0, None),
    "V": ("low", (U, U, C_, C_), 22, 0, None),
    "W": ("touch_pinky", (U, U, U, C_), 13, 0, None),
    "X": ("low", (H_, C_, C_, C_), 0, 0, None),
    "Y": ("out_up", (C_, C_, C_, U), 0, 0, None),
}
assert "".join(SPECS) == LETTERS

RINGS = {"small": ((-0.27, 0.33), 0.11, 0.05), "big": ((-0.06, 0.40), 0.25, 0.075)}

# Primitive slots, in drawing order (later ones in front):
# 0 wrist, 1 palm (rounded box), 2 thumb-side bulge, 3-10 fingers (two segments each,
# pinky first), 11 ring, 12-13 thumb (two segments).
N_SLOTS = 14
PALM_SLOT, RING_SLOT = 1, 11


def _unit(angle_deg: float) -> tuple[float, float]:
    """Direction of a finger leaning ``angle_deg`` towards the thumb side from straight up."""
    a = math.radians(angle_deg)
    return -math.sin(a), math.cos(a)


def _hand(spec, rng: np.random.Generator) -> np.ndarray:
    """One hand's primitives: rows ``(ax, ay, bx, by, radius, shade, kind)`` per slot.

    kind: 0 unused, 1 capsule (segment a-b, radius), 2 rounded box (centre a, half sizes b),
    3 ring (centre a, radius bx, half width = radius column).
    """
    thumb, fingers, spread, _turn, ring = spec
    prims = np.zeros((N_SLOTS, 7))
    palm_scale = 1.0 + rng.uniform(-0.05, 0.05)
    px, py = PALM_CENTER
    hx, hy = PALM_HALF[0] * palm_scale, PALM_HALF[1] * palm_scale
    prims[0] = (0.0, py - 0.30, rng.uniform(-0.06, 0.06), -1.9, 0.23 * palm_scale, 0.93, 1)
    prims[1] = (px, py, hx, hy, PALM_CORNER, 0.97, 2)
    prims[2] = (-0.20, py - 0.25, -0.28 * palm_scale, py + 0.02, 0.12, 0.97, 1)
    spreads = (1.0, 0.0, -0.6, -1.0)  # how much of the spread each finger takes
    for order, f in enumerate((3, 2, 1, 0)):  # pinky first, index last (in front)
        state = fingers[f]
        slot = 3 + 2 * order
        x0 = FINGER_X[f] * palm_scale + rng.normal(0, 0.008)
        y0 = FINGER_Y * palm_scale
        radius = FINGER_RADIUS * (1 + rng.uniform(-0.08, 0.08))
        tilt = FINGER_TILT[f] + spread * spreads[f] + rng.normal(0, 2.5)
        if spread < 0 and f == 1:  # R: the middle finger leans over the index
            tilt = FINGER_TILT[f] - spread + rng.normal(0, 2.5)
        length = FINGER_LENGTH[f] * (1 + rng.uniform(-0.08, 0.08))
        if state == "up":
            dx, dy = _unit(tilt)
            prims[slot] = (x0, y0 - 0.05, x0 + dx * length, y0 + dy * length, radius, 1.0, 1)
        elif state == "curl":  # the knuckle on top, the folded finger down the palm's front
            prims[slot] = (x0, y0 - 0.02, x0, y0 + 0.07, radius * 1.08, 0.92, 1)
            fold = 0.20 * (1 + rng.uniform(-0.1, 0.1))
            prims[slot + 1] = (x0, y0 + 0.02, x0 + 0.01, y0 - fold, radius * 0.95, 0.86, 1)
        elif state == "hook":  # up to the middle joint, then bent towards the thumb side
            dx, dy = _unit(tilt + 8)
            k = length * 0.5
            jx, jy = x0 + dx * k, y0 + dy * k
            ex, ey = _unit(tilt + 85 + rng.normal(0, 5))
            k2 = length * 0.42
            prims[slot] = (x0, y0 - 0.05, jx, jy, radius, 1.0, 1)
            prims[slot + 1] = (jx, jy, jx + ex * k2, jy + ey * k2, radius * 0.95, 0.95, 1)
        elif state == "stub":
            dx, dy = _unit(tilt + 20)
            prims[slot] = (x0, y0 - 0.04, x0 + dx * 0.16, y0 + dy * 0.16, radius, 0.95, 1)
    if ring in RINGS:
        (cx, cy), r, w = RINGS[ring]
        prims[RING_SLOT] = (
            cx * palm_scale + rng.normal(0, 0.01),
            cy * palm_scale + rng.normal(0, 0.01),
            r * (1 + rng.uniform(-0.06, 0.06)),
            0.0,
            w,
            0.98,
            3,
        )
    (kx, ky), (tx, ty) = THUMBS[thumb]
    jitter = rng.normal(0, 0.02, size=4)
    bx, by = THUMB_BASE
    kx, ky = kx * palm_scale + jitter[0], ky * palm_scale + jitter[1]
    tx, ty = tx * palm_scale + jitter[2], ty * palm_scale + jitter[3]
    if ring == "thumb_long":  # K, P: the thumb tip shows between the two raised fingers
        ty += 0.08
    prims[12] = (bx, by, kx, ky, THUMB_RADIUS * 1.1, 1.0, 1)
    prims[13] = (kx, ky, tx, ty, THUMB_RADIUS, 1.06, 1)
    return prims


def _upsampler(coarse: int) -> np.ndarray:
    """Bilinear interpolation matrix (SIZE x coarse)."""
    pos = (np.arange(SIZE) + 0.5) / SIZE * (coarse - 1)
    low = np.clip(np.floor(pos).astype(int), 0, coarse - 2)
    frac = pos - low
    m = np.zeros((SIZE, coarse))
    m[np.arange(SIZE), low] = 1 - frac
    m[np.arange(SIZE), low + 1] = frac
    return m


def _render(prims: np.ndarray, turns: np.ndarray, split: str, rng: np.random.Generator):
    """Draw ``B`` hands (primitives ``(B, N_SLOTS, 7)``): uint8 images ``(B, 784)`` and
    which of them are mirrored."""
    b = len(prims)
    pose = POSES[split]
    rot = np.radians(rng.uniform(-pose["rotation"], pose["rotation"], b))
    zoom = HAND_SCALE * (1.0 + rng.uniform(-pose["zoom"], pose["zoom"], b))
    shift = rng.uniform(-pose["shift"], pose["shift"], (b, 2)) * 2.0 + HAND_OFFSET  # image: 2 units
    mirror = np.where(rng.random(b) < pose["mirror"], -1.0, 1.0)
    skin = rng.uniform(165, 240, b)
    soft = rng.uniform(0.6, 1.0, b) / 14.0  # edge width: about one pixel
    bg_level = rng.uniform(20, 110, b)
    bg_amp = rng.uniform(6, 30, b)
    light = rng.uniform(0.0, 0.3, b)
    light_angle = rng.uniform(0, 2 * np.pi, b)
    noise_sigma = rng.uniform(2, 5, b)
    coarse = rng.normal(0, 1, (b, 5, 5))
    fine = rng.normal(0, 1, (b, 10, 10))
    noise = rng.normal(0, 1, (b, SIZE, SIZE))

    # Pixel centres in image coordinates (x right, y up) and in each hand's coordinates.
    c = (np.arange(SIZE) + 0.5) / SIZE * 2 - 1
    qx, qy = np.meshgrid(c, -c)
    q = np.stack([qx.ravel(), qy.ravel()], axis=1)  # (784, 2)
    rel = q[None, :, :] - shift[:, None, :]
    cos_r, sin_r = np.cos(-rot), np.sin(-rot)
    ux = (cos_r[:, None] * rel[..., 0] - sin_r[:, None] * rel[..., 1]) / zoom[:, None]
    uy = (sin_r[:, None] * rel[..., 0] + cos_r[:, None] * rel[..., 1]) / zoom[:, None]
    ux = ux * mirror[:, None]
    turn = np.radians(-turns)
    cos_t, sin_t = np.cos(turn)[:, None], np.sin(turn)[:, None]
    f32 = np.float32  # the drawing runs in float32: half the memory traffic of float64
    x = (cos_t * ux - sin_t * uy).astype(f32)
    y = (sin_t * ux + cos_t * uy).astype(f32)
    prims = prims.astype(f32)
    skin, soft = skin.astype(f32)[:, None], soft.astype(f32)[:, None]

    up_c, up_f = _upsampler(5), _upsampler(10)
    texture = np.einsum("ij,bjk,lk->bil", up_c, coarse, up_c) + 0.5 * np.einsum(
        "ij,bjk,lk->bil", up_f, fine, up_f
    )
    img = (bg_level[:, None] + bg_amp[:, None] * texture.reshape(b, -1) / 1.5).astype(f32)
    rim_width = f32(1.1 / 14.0)
    for slot in range(N_SLOTS):
        p = prims[:, slot, :]
        kind = p[:, 6]
        if not kind.any():
            continue
        ax, ay, bx, by, r = (p[:, i][:, None] for i in range(5))
        if slot == PALM_SLOT:  # rounded box: centre a, half sizes b, corner r
            dx = np.abs(x - ax) - (bx - r)
            dy = np.abs(y - ay) - (by - r)
            outside = np.hypot(np.maximum(dx, 0), np.maximum(dy, 0))
            d = outside + np.minimum(np.maximum(dx, dy), f32(0)) - r
        elif slot == RING_SLOT:  # ring: centre a, radius bx, half width r
            d = np.abs(np.hypot(x - ax, y - ay) - bx) - r
        else:  # capsule
            vx, vy = bx - ax, by - ay
            wx, wy = x - ax, y - ay
            h = np.clip((wx * vx + wy * vy) / np.maximum(vx * vx + vy * vy, f32(1e-9)), 0, 1)
            d = np.hypot(wx - vx * h, wy - vy * h) - r
        alpha = np.clip(f32(0.5) - d / soft, 0, 1) * (kind[:, None] > 0)
        depth = np.maximum(-d, f32(0))
        color = skin * p[:, 5][:, None] * (1 - f32(0.4) * np.exp(-depth / rim_width))
        img = img * (1 - alpha) + alpha * color
    gx, gy = np.cos(light_angle), np.sin(light_angle)
    img = img * (1 + light[:, None] * (gx[:, None] * q[None, :, 0] + gy[:, None] * q[None, :, 1]))
    img = img + noise_sigma[:, None] * noise.reshape(b, -1)
    return np.clip(np.rint(img), 0, 255).astype(np.uint8), mirror < 0


def _split(split: str, per_class: int, rng: np.random.Generator):
    """``(x, y, mirrored)`` for one split."""
    labels = np.repeat(np.arange(len(LETTERS)), per_class)
    labels = labels[rng.permutation(len(labels))]
    specs = [SPECS[LETTERS[i]] for i in labels]
    prims = np.stack([_hand(spec, rng) for spec in specs])
    turns = np.array([spec[3] for spec in specs], dtype=float) + rng.normal(0, 3, len(specs))
    x, mirrored = _render(prims, turns, split, rng)
    return x, labels.astype(np.int64), mirrored


def generate(seed: int = 0, train_per_class: int = TRAIN_PER_CLASS, valid_per_class: int = VALID_PER_CLASS):
    """The stand-in as arrays: ``{"train": (x, y), "valid": (x, y)}``, x uint8 ``(N, 784)``,
    y int64 course labels 0..23 (shuffled). Deterministic for a given ``seed``."""
    return {split: (x, y) for split, (x, y, _) in generate_with_mirror_flags(seed, train_per_class, valid_per_class).items()}


def generate_with_mirror_flags(seed, train_per_class, valid_per_class):
    train_seq, valid_seq = np.random.SeedSequence(seed).spawn(2)
    return {
        "train": _split("train", train_per_class, np.random.default_rng(train_seq)),
        "valid": _split("valid", valid_per_class, np.random.default_rng(valid_seq)),
    }


# --- Writing the stand-in as a course data folder ------------------------------------------------


def write_synthetic(dest=None, *, seed: int = 0, log: Log = print) -> dict:
    """Write the offline stand-in (drawn by :func:`generate`) to ``dest``; return its marker.

    Refuses to replace real data (choose another ``dest`` or delete it first).
    """
    started = time.perf_counter()
    dest = Path(dest).expanduser().absolute() if dest is not None else default_dest()
    check_dest(dest)
    if marker_kind(dest) == "real":
        raise DataError(
            f"{dest} holds the real release; the stand-in would replace it. Choose another "
            "--dest (e.g. data/asl_synthetic and set ASL_DATA_DIR to it), or delete the folder first."
        )
    splits = generate(seed=seed)
    files, rows = {}, {}
    for role, name in (("train", TRAIN_FILE), ("valid", VALID_FILE)):
        x, y = splits[role]
        values = np.concatenate([y.astype(np.uint8)[:, None], x], axis=1)
        files[name] = encode_csv(values)
        rows[name] = len(y)
    marker = {
        "kind": "synthetic",
        "description": SYNTHETIC_DESCRIPTION,
        "seed": int(seed),
        "generator": "asl_course.dataset.synthetic",
        "generator_version": GENERATOR_VERSION,
        "splits": SPLIT_NOTES,
        "files": {name: file_entry(files[name], rows[name]) for name in files},
        "letters": LETTERS,
        "asl_course_version": __version__,
    }
    install_files(dest, files, marker)
    total = sum(len(b) for b in files.values())
    log(
        f"Wrote the SYNTHETIC stand-in (not the real data) to {dest}: {rows[TRAIN_FILE]:,} train + "
        f"{rows[VALID_FILE]:,} validation images, {total:,} bytes, seed {seed}, in "
        f"{time.perf_counter() - started:.1f} s."
    )
    return marker
