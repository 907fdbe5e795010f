"""The lesson's augmentation three ways: ``ImageDataGenerator``, Keras preprocessing layers, tf.data.

The lesson (notebook 3, :func:`asl_course.learners.lesson.make_datagen`) augments with
``ImageDataGenerator(**facts.DATAGEN_SETTINGS)``: rotation up to 10 degrees, zoom up to 10 %
in or out, shifts up to 10 % each way, horizontal flips. Here the same transforms are made

(a) as Keras preprocessing layers (:func:`make_layers`): a ``keras.Sequential`` of
    ``RandomRotation``, ``RandomZoom``, ``RandomTranslation`` and ``RandomFlip("horizontal")``
    that can sit inside the model (:func:`model_with_layers`; active only while training) or
    run in an input pipeline. It works on every Keras 3 backend (TensorFlow, JAX, PyTorch).
(b) as a ``tf.data`` pipeline (:func:`make_dataset`): ``from_tensor_slices -> shuffle ->
    batch -> map(layers, num_parallel_calls=AUTOTUNE) -> prefetch``. TensorFlow only.
(c) the fast way, "fused": the generator's single affine map per image, built for a whole
    batch with array ops and applied in one ``keras.ops.image.affine_transform`` call, as a
    layer (:func:`make_fused_layer`, :func:`model_with_fused_layer`; any backend) or in a
    ``tf.data`` pipeline (:func:`make_fused_dataset`; TensorFlow backend).
(d) the jit layer (:func:`make_jit_layer`): the fused way resampled in ``keras.ops`` only
    (:func:`resample`), so that a model holding it keeps its compiled training step on every
    backend, and the whole data set on the accelerator (:func:`device_training`).

How the settings translate (Keras 3.15, read from the layers' docs and source):

- ``rotation_range=10`` (degrees, uniform in [-10, 10]) -> ``RandomRotation(10 / 360)``: the
  layer's factor is a fraction of a full turn (2 pi).
- ``zoom_range=0.1`` (the generator draws the row and the column scale independently in
  [0.9, 1.1]; above 1 zooms out) -> ``RandomZoom(height_factor=0.1, width_factor=0.1)``: each
  factor f draws 1 + uniform(-f, f) per axis, positive zooms out. ``width_factor=None`` (the
  default) would keep the aspect ratio, which the generator does not.
- ``width_shift_range=0.1, height_shift_range=0.1`` -> ``RandomTranslation(0.1, 0.1)``: the
  layer's ``height_factor`` moves images up/down (rows) and ``width_factor`` left/right
  (columns), as the names say. The generator (Keras 3 trap, measured by
  :func:`asl_course.learners.notebook.show_shift_axes`) moves images VERTICALLY with
  ``width_shift_range`` and horizontally with ``height_shift_range``. The lesson means "shift
  up to 10 % each way" and gives both axes 0.1, so the set of transforms is the same whichever
  name moves which axis; with different values the layer's names are the honest ones.
- ``horizontal_flip=True`` -> ``RandomFlip("horizontal")`` (``vertical_flip=False``: no flip
  up/down).
- ``fill_mode``: the generator's default is ``"nearest"``, the layers' ``"reflect"``; the
  layers here are given ``"nearest"``. Both interpolate bilinearly.

One difference is left on purpose: the generator combines the transforms into one affine map
and resamples once; the layers resample once per layer (rotation, zoom, translation), which
blurs a little more. :func:`compare` measures that the three ways make the same kind of images.
"""

from __future__ import annotations

import functools
import logging
import math
import statistics
import time

import numpy as np

from asl_course import facts
from asl_course.i18n import drawing, t
from asl_course.learners import lesson

#: The three ways, in the order the figure and the benchmark show them.
WAYS = ("generator", "layers", "tf.data")
#: With the fast way (one affine map per image, :func:`make_fused_dataset`, :func:`make_fused_layer`).
ALL_WAYS = WAYS + ("fused", "fused layer")
#: The ways that keep the training step compiled on every backend (:func:`make_jit_layer`; the
#: whole data set on the accelerator, :func:`device_training`): ``asl-course bench augmentation``
#: times them beside :data:`ALL_WAYS`.
JIT_WAYS = ("jit layer", "on device")


def layer_settings(settings: dict | None = None) -> dict:
    """The preprocessing layers' arguments for ``ImageDataGenerator`` settings (the lesson's by default)."""
    s = dict(facts.DATAGEN_SETTINGS if settings is None else settings)
    unknown = set(s) - {"rotation_range", "zoom_range", "width_shift_range", "height_shift_range",
                        "horizontal_flip", "vertical_flip", "fill_mode"}
    if unknown:
        raise ValueError(f"no layer version of {sorted(unknown)}: give only rotation, zoom, shifts, flips, fill_mode")
    zoom = s.get("zoom_range", 0.0)
    if not np.isscalar(zoom):
        raise ValueError("zoom_range: give one number (the lesson's form), not a pair")
    flips = [m for m, on in (("horizontal", s.get("horizontal_flip")), ("vertical", s.get("vertical_flip"))) if on]
    return {
        "rotation": float(s.get("rotation_range", 0)) / 360.0,
        "zoom": float(zoom),
        # The generator's width_shift_range moves rows, height_shift_range columns (Keras 3).
        "rows": float(s.get("width_shift_range", 0.0)),
        "cols": float(s.get("height_shift_range", 0.0)),
        "flip": "_and_".join(flips) or None,
        "fill_mode": s.get("fill_mode", "nearest"),
    }


def make_layers(settings: dict | None = None, *, seed: int | None = None):
    """The augmentation as a ``keras.Sequential`` of preprocessing layers (any backend).

    Transforms that the settings leave at zero are left out (a zero factor is an identity).
    """
    import keras
    from keras import layers

    p = layer_settings(settings)
    fill = p["fill_mode"]
    seeds = iter(range(seed, seed + 4)) if seed is not None else iter([None] * 4)
    parts = []
    if p["rotation"]:
        parts.append(layers.RandomRotation(p["rotation"], fill_mode=fill, interpolation="bilinear", seed=next(seeds)))
    if p["zoom"]:
        parts.append(layers.RandomZoom(p["zoom"], p["zoom"], fill_mode=fill, interpolation="bilinear",
                                       seed=next(seeds)))
    if p["rows"] or p["cols"]:
        parts.append(layers.RandomTranslation(p["rows"], p["cols"], fill_mode=fill, interpolation="bilinear",
                                              seed=next(seeds)))
    if p["flip"]:
        parts.append(layers.RandomFlip(p["flip"], seed=next(seeds)))
    # All zero: an identity, so that the pipeline and the model keep their shape.
    return keras.Sequential(parts or [layers.Identity()], name="augmentation")


def model_with_layers(model=None, settings: dict | None = None, *, seed: int | None = None):
    """``model`` (the lesson's by default) with the augmentation layers in front of it.

    The layers are active only while training (``fit``); ``predict``/``evaluate`` see the
    images unchanged. This way works on every backend; the work runs where the model runs.
    """
    import keras


    model = lesson.build_model() if model is None else model
    return keras.Sequential([keras.Input(shape=(28, 28, 1)), make_layers(settings, seed=seed), *model.layers],
                            name="augmented_model")


def have_tensorflow() -> bool:
    try:
        import tensorflow  # noqa: F401
    except ImportError:
        return False
    return True


def make_dataset(x, y, settings: dict | None = None, *, batch_size: int = facts.BATCH_SIZE, shuffle: bool = True,
                 seed: int | None = None, augment=None):
    """The augmentation as a ``tf.data`` pipeline, batches of ``(images, labels)`` (TensorFlow only).

    ``from_tensor_slices -> shuffle -> batch -> map(augment, AUTOTUNE) -> prefetch``: the
    layers work on whole batches in parallel threads while the model trains on the previous
    one. ``augment``: the layers to map (default :func:`make_layers`). With ``shuffle=False``
    the batches keep the order of ``x``.
    """
    if not have_tensorflow():
        raise ImportError("the tf.data way needs TensorFlow (pip install tensorflow); on JAX or PyTorch put the "
                          "augmentation layers inside the model (asl_course.learners.augment.model_with_layers)")
    import tensorflow as tf

    if len(x) != len(y):
        raise ValueError(f"{len(x)} images but {len(y)} labels")
    augment = make_layers(settings, seed=seed) if augment is None else augment
    ds = tf.data.Dataset.from_tensor_slices((np.asarray(x, dtype="float32"), np.asarray(y, dtype="float32")))
    if shuffle:
        ds = ds.shuffle(len(x), seed=seed, reshuffle_each_iteration=True)
    ds = ds.batch(batch_size)
    ds = ds.map(lambda images, labels: (augment(images, training=True), labels),
                num_parallel_calls=tf.data.AUTOTUNE)
    return ds.prefetch(tf.data.AUTOTUNE)


# --- The fast way: one affine map per image, the whole batch in one op -------------------------------
#
# The generator draws a rotation, a zoom per axis, a shift per axis and a flip for each image,
# multiplies them into ONE affine map and resamples the image once (scipy, in Python, one image
# at a time). The preprocessing layers resample the batch three times (rotation, zoom,
# translation), each layer drawing and building its own transforms. Here the generator's
# composition is built for the whole batch with array ops (a handful of (batch,) vectors) and
# applied by one ``keras.ops.image.affine_transform`` call: on TensorFlow one
# ``ImageProjectiveTransformV3`` kernel for the batch, on JAX/PyTorch their own.


def fused_transforms(draw, n, height: int = 28, width: int = 28, settings: dict | None = None):
    """The ``(n, 8)`` transforms (output pixel -> input pixel) of ``n`` random augmentations.

    ``draw(shape, low, high)`` returns uniform random numbers (a backend tensor). The map is the
    generator's: input = centre + R Z F (p - centre) + R t, where p is the output pixel, F a
    horizontal (and/or vertical) flip with probability 1/2 each, Z the zoom (row and column
    scales drawn independently in [1 - zoom, 1 + zoom], above 1 zooms out), R the rotation and t
    the shift (up to ``rows`` of the height along rows, ``cols`` of the width along columns:
    :func:`layer_settings`, which also maps the generator's swapped shift names). In the
    returned (column, row) order ``[a0, a1, a2, b0, b1, b2, 0, 0]``: input column =
    a0 x + a1 y + a2, input row = b0 x + b1 y + b2 for output column x and row y.
    """
    from keras import ops

    p = layer_settings(settings)
    shape = (n,)

    def uniform(half):
        return draw(shape, -half, half) if half else ops.zeros(shape)

    def sign(on):
        return ops.where(draw(shape, 0.0, 1.0) < 0.5, -1.0, 1.0) if on else ops.ones(shape)

    theta = uniform(2.0 * math.pi * p["rotation"])
    zoom_rows = 1.0 + uniform(p["zoom"])
    zoom_cols = 1.0 + uniform(p["zoom"])
    shift_rows = uniform(p["rows"]) * height
    shift_cols = uniform(p["cols"]) * width
    flips = p["flip"] or ""
    flip_cols, flip_rows = sign("horizontal" in flips), sign("vertical" in flips)
    cos, sin = ops.cos(theta), ops.sin(theta)
    # (row, col) coordinates, as the generator writes them: R = [[cos, -sin], [sin, cos]].
    # M = R @ diag(zoom_rows * flip_rows, zoom_cols * flip_cols)
    m_rr, m_rc = cos * zoom_rows * flip_rows, -sin * zoom_cols * flip_cols
    m_cr, m_cc = sin * zoom_rows * flip_rows, cos * zoom_cols * flip_cols
    c_row, c_col = (height - 1) / 2.0, (width - 1) / 2.0
    off_row = c_row + cos * shift_rows - sin * shift_cols - (m_rr * c_row + m_rc * c_col)
    off_col = c_col + sin * shift_rows + cos * shift_cols - (m_cr * c_row + m_cc * c_col)
    zero = ops.zeros(shape)
    # Column first (x), then row (y), as affine_transform reads them.
    return ops.stack([m_cc, m_cr, off_col, m_rc, m_rr, off_row, zero, zero], axis=1)


def resample(images, transforms, *, interpolation: str = "bilinear"):
    """Resample a batch ``(n, h, w, c)`` through ``transforms`` (:func:`fused_transforms`' ``(n, 8)``),
    with ``keras.ops`` only: every backend compiles it (XLA on TensorFlow, ``jax.jit``, ``torch.compile``).

    Each output pixel's source coordinates are computed for the whole batch at once, and the
    source pixels fetched with one flat ``ops.take`` per neighbour from the batch seen as
    ``(n * h * w, c)`` rows: channels are never mixed, nothing is vmapped or looped per image.
    Coordinates are clipped to the image, which is the generator's ``fill_mode="nearest"``
    (scipy's edge replication); ``"bilinear"`` interpolates as the generator does (order 1),
    ``"nearest"`` takes the nearest pixel (one gather instead of four).
    """
    from keras import ops

    if interpolation not in ("bilinear", "nearest"):
        raise ValueError(f"interpolation must be 'bilinear' or 'nearest', not {interpolation!r}")
    n = ops.shape(images)[0]
    h, w, c = images.shape[1], images.shape[2], images.shape[3]
    rows = ops.cast(ops.repeat(ops.arange(h), w), "float32")  # output pixel (row, col), row-major
    cols = ops.cast(ops.tile(ops.arange(w), h), "float32")
    t = ops.cast(transforms, "float32")
    src_col = t[:, 0:1] * cols + t[:, 1:2] * rows + t[:, 2:3]  # (n, h * w)
    src_row = t[:, 3:4] * cols + t[:, 4:5] * rows + t[:, 5:6]
    flat = ops.reshape(images, (-1, c))
    base = ops.expand_dims(ops.arange(n, dtype="int32") * (h * w), 1)

    def fetch(r, q):  # pixels at integer rows r, columns q (float), edges replicated
        r = ops.cast(ops.clip(r, 0, h - 1), "int32")
        q = ops.cast(ops.clip(q, 0, w - 1), "int32")
        return ops.take(flat, ops.reshape(base + r * w + q, (-1,)), axis=0)

    if interpolation == "nearest":
        out = fetch(ops.floor(src_row + 0.5), ops.floor(src_col + 0.5))
    else:
        r0, q0 = ops.floor(src_row), ops.floor(src_col)
        fr = ops.reshape(src_row - r0, (-1, 1))
        fq = ops.reshape(src_col - q0, (-1, 1))
        top = fetch(r0, q0) * (1 - fq) + fetch(r0, q0 + 1) * fq
        bottom = fetch(r0 + 1, q0) * (1 - fq) + fetch(r0 + 1, q0 + 1) * fq
        out = top * (1 - fr) + bottom * fr
    return ops.reshape(ops.cast(out, images.dtype), ops.shape(images))


#: How the fused layer resamples: ``"affine_transform"`` (``keras.ops.image.affine_transform``;
#: no XLA kernel on TensorFlow, a vmapped 3-D ``map_coordinates`` on JAX, a Python loop per image
#: on PyTorch) or ``"gather"`` (:func:`resample`: ``keras.ops`` only, compiles on every backend).
RESAMPLERS = ("affine_transform", "gather")


@functools.cache
def fused_layer_class():
    """The ``FusedAugmentation`` layer class (made on first use, so that importing this module needs no Keras)."""
    import keras

    class FusedAugmentation(keras.layers.Layer):
        """The lesson's augmentation as one random affine map per image, one resample per batch.

        Active only while training, like Keras' preprocessing layers; any backend. ``settings``:
        ``ImageDataGenerator`` settings (the lesson's by default). ``resample="gather"`` (the
        jit layer, :func:`make_jit_layer`) is written in ``keras.ops`` only and supports jit
        on every backend; ``"affine_transform"`` supports it except on TensorFlow, whose
        ``ImageProjectiveTransformV3`` has no XLA kernel (TF 2.21). The random numbers come
        from a ``keras.random.SeedGenerator``: the same seed gives the same images, bit for bit.
        """

        def __init__(self, settings: dict | None = None, seed: int | None = None, resample: str = "affine_transform",
                     interpolation: str = "bilinear", **kwargs):
            super().__init__(**kwargs)
            if resample not in RESAMPLERS:
                raise ValueError(f"resample must be one of {RESAMPLERS}, not {resample!r}")
            self.settings = dict(facts.DATAGEN_SETTINGS if settings is None else settings)
            self.fill_mode = layer_settings(self.settings)["fill_mode"]
            if resample == "gather" and self.fill_mode != "nearest":
                raise ValueError(f"the gather resampler fills as the generator's default, 'nearest', "
                                 f"not {self.fill_mode!r}: use resample='affine_transform'")
            self.seed, self.resample, self.interpolation = seed, resample, interpolation
            self.seed_generator = keras.random.SeedGenerator(seed)
            self.supports_jit = resample == "gather" or keras.backend.backend() != "tensorflow"

        def call(self, images, training=None):
            if not training:
                return images
            from keras import ops

            def draw(shape, low, high):
                return keras.random.uniform(shape, low, high, seed=self.seed_generator)

            transforms = fused_transforms(draw, ops.shape(images)[0], images.shape[1], images.shape[2], self.settings)
            if self.resample == "gather":
                return resample(images, transforms, interpolation=self.interpolation)
            return ops.image.affine_transform(images, transforms, interpolation=self.interpolation,
                                              fill_mode=self.fill_mode)

        def compute_output_shape(self, input_shape):
            return input_shape

        def get_config(self):
            return {**super().get_config(), "settings": self.settings, "seed": self.seed, "resample": self.resample,
                    "interpolation": self.interpolation}

    return FusedAugmentation


def make_fused_layer(settings: dict | None = None, *, seed: int | None = None):
    """The fast way as a layer (any backend): ``FusedAugmentation`` for ``settings``."""
    return fused_layer_class()(settings, seed=seed, name="fused_augmentation")


def make_jit_layer(settings: dict | None = None, *, seed: int | None = None, interpolation: str = "bilinear"):
    """The fused way resampled by :func:`resample`: ``keras.ops`` only, so a model holding it keeps
    jit (XLA, ``jax.jit``, ``torch.compile``) on every backend, which Keras' random image layers
    (``supports_jit = False``) switch off for the whole training step."""
    return fused_layer_class()(settings, seed=seed, resample="gather", interpolation=interpolation,
                               name="jit_augmentation")


def model_with_fused_layer(model=None, settings: dict | None = None, *, seed: int | None = None, jit: bool = False):
    """``model`` (the lesson's by default) with :func:`make_fused_layer` (or, ``jit=True``,
    :func:`make_jit_layer`) in front: it acts only in ``fit``."""
    import keras


    model = lesson.build_model() if model is None else model
    layer = (make_jit_layer if jit else make_fused_layer)(settings, seed=seed)
    return keras.Sequential([keras.Input(shape=(28, 28, 1)), layer, *model.layers],
                            name="jit_augmented_model" if jit else "fused_augmented_model")


def make_fused_dataset(x, y, settings: dict | None = None, *, batch_size: int = facts.BATCH_SIZE,
                       shuffle: bool = True, seed: int | None = None):
    """The fast way as a ``tf.data`` pipeline (TensorFlow backend): batches of ``(images, labels)``.

    ``from_tensor_slices -> shuffle -> batch -> map(one affine map per image, AUTOTUNE) -> prefetch``.
    Each batch's random numbers come from a stateless generator keyed by a per-batch seed from
    ``tf.data.Dataset.random`` (new every epoch), so parallel calls stay reproducible.
    """
    if not have_tensorflow():
        raise ImportError("the tf.data way needs TensorFlow (pip install tensorflow); on JAX or PyTorch put the "
                          "fused layer inside the model (asl_course.learners.augment.model_with_fused_layer)")
    import keras
    import tensorflow as tf

    if keras.backend.backend() != "tensorflow":
        raise RuntimeError(f"make_fused_dataset builds TensorFlow ops, but Keras runs on {keras.backend.backend()}: "
                           "use model_with_fused_layer, or set KERAS_BACKEND=tensorflow before importing keras")
    if len(x) != len(y):
        raise ValueError(f"{len(x)} images but {len(y)} labels")
    fill = layer_settings(settings)["fill_mode"]
    ds = tf.data.Dataset.from_tensor_slices((np.asarray(x, dtype="float32"), np.asarray(y, dtype="float32")))
    if shuffle:
        ds = ds.shuffle(len(x), seed=seed, reshuffle_each_iteration=True)
    ds = ds.batch(batch_size)
    keys = tf.data.Dataset.random(seed=seed, rerandomize_each_iteration=True)
    ds = tf.data.Dataset.zip((ds, keys))

    def augment(batch, key):
        images, labels = batch
        counter = [0]

        def draw(shape, low, high):
            counter[0] += 1
            return tf.random.stateless_uniform(shape, seed=tf.stack([key, tf.constant(counter[0], tf.int64)]),
                                               minval=low, maxval=high)

        transforms = fused_transforms(draw, tf.shape(images)[0], images.shape[1], images.shape[2], settings)
        out = keras.ops.image.affine_transform(images, transforms, interpolation="bilinear", fill_mode=fill)
        return out, labels

    ds = ds.map(augment, num_parallel_calls=tf.data.AUTOTUNE)
    return ds.prefetch(tf.data.AUTOTUNE)


# --- Copies of the same originals, each way --------------------------------------------------------------


def copies(way: str, images, n: int, settings: dict | None = None, *, seed: int = 0) -> np.ndarray:
    """``n`` augmented copies of each of ``images`` (shape (k, 28, 28, 1)) made ``way``: (n, k, 28, 28, 1)."""
    images = np.asarray(images, dtype="float32").reshape(-1, 28, 28, 1)
    k = len(images)
    tiled = np.tile(images, (n, 1, 1, 1))
    if way == "generator":
        if not have_tensorflow():
            raise ImportError("ImageDataGenerator needs TensorFlow (tensorflow.keras.preprocessing.image)")
        from tensorflow.keras.preprocessing.image import ImageDataGenerator

        s = dict(facts.DATAGEN_SETTINGS if settings is None else settings)
        gen = ImageDataGenerator(**s)
        rng = np.random.default_rng(seed)
        out = np.stack([gen.random_transform(im, seed=int(rng.integers(2**31))) for im in tiled])
    elif way in ("layers", "fused layer", "jit layer"):
        import keras

        keras.utils.set_random_seed(seed)
        make = {"layers": make_layers, "fused layer": make_fused_layer, "jit layer": make_jit_layer}[way]
        layer = make(settings, seed=seed)
        out = np.asarray(layer(tiled, training=True))
    elif way in ("tf.data", "fused"):
        labels = np.zeros((len(tiled), 1), dtype="float32")
        make = make_dataset if way == "tf.data" else make_fused_dataset
        out = np.concatenate([np.asarray(b) for b, _ in
                              make(tiled, labels, settings, shuffle=False, seed=seed, batch_size=256)])
    else:
        raise ValueError(f"way must be one of {ALL_WAYS + JIT_WAYS[:1]}, not {way!r}")
    return out.reshape(n, k, 28, 28, 1).astype("float32")


def image_stats(augmented, originals, *, changed_above: float = 0.1) -> dict[str, np.ndarray]:
    """Per-image statistics of augmented copies (n, k, 28, 28, 1) against their originals (k, 28, 28, 1).

    ``mean``: mean pixel minus the original's; ``dx``/``dy``: the centre of mass's move in
    pixels (columns, rows; a horizontal flip mirrors dx); ``changed``: the fraction of pixels
    that differ from the original by more than ``changed_above``. Each (n * k,) flat.
    """
    o = np.asarray(originals, dtype="float64").reshape(-1, 28, 28)
    a = np.asarray(augmented, dtype="float64").reshape(-1, 28, 28)
    if len(a) % len(o):
        raise ValueError(f"{len(a)} copies do not divide into {len(o)} originals")
    o = np.tile(o, (len(a) // len(o), 1, 1))
    rows, cols = np.mgrid[0:28, 0:28]

    def centre(im):
        w = im.sum(axis=(1, 2)) + 1e-9
        return (im * rows).sum(axis=(1, 2)) / w, (im * cols).sum(axis=(1, 2)) / w

    ar, ac = centre(a)
    orow, ocol = centre(o)
    return {"mean": a.mean(axis=(1, 2)) - o.mean(axis=(1, 2)), "dx": ac - ocol, "dy": ar - orow,
            "changed": (np.abs(a - o) > changed_above).mean(axis=(1, 2))}


def ks_distance(a, b) -> float:
    """The two-sample Kolmogorov-Smirnov statistic: the largest gap between the two empirical CDFs."""
    a, b = np.sort(np.ravel(a)), np.sort(np.ravel(b))
    grid = np.concatenate([a, b])
    return float(np.max(np.abs(np.searchsorted(a, grid, side="right") / len(a)
                               - np.searchsorted(b, grid, side="right") / len(b))))


def compare(images, *, ways=("layers", "tf.data"), reference: str = "generator", settings: dict | None = None,
            reference_settings: dict | None = None, n: int = 100, seed: int = 0) -> dict[str, dict[str, float]]:
    """How far each way's images are from the reference way's: KS distance per statistic.

    ``n`` copies of each of ``images`` per way; for each statistic of :func:`image_stats`,
    the KS distance between the way's distribution and the reference's (0: the same, 1: no
    overlap). ``settings`` for the compared ways, ``reference_settings`` for the reference
    (both the lesson's by default): give a wrong ``settings`` to see the distances grow.
    """
    images = np.asarray(images, dtype="float32").reshape(-1, 28, 28, 1)
    ref = image_stats(copies(reference, images, n, reference_settings, seed=seed), images)
    out = {}
    for k, way in enumerate(ways):
        got = image_stats(copies(way, images, n, settings, seed=seed + 1 + k), images)
        out[way] = {stat: round(ks_distance(got[stat], ref[stat]), 3) for stat in ref}
    return out


def same_kind(distances: dict[str, dict[str, float]], *, tolerance: float = 0.15) -> bool:
    """Whether every KS distance from :func:`compare` is within ``tolerance``."""
    return all(d <= tolerance for per_way in distances.values() for d in per_way.values())


@drawing
def show_three_ways(images, *, copies_per_way: int = 4, settings: dict | None = None, seed: int = 0):
    """A figure: each original, then a row of generator copies, layer copies and tf.data copies.

    Ways that this machine cannot run (no TensorFlow: the generator and tf.data) are left
    blank with a note. Returns the matplotlib figure.
    """
    import matplotlib.pyplot as plt

    images = np.asarray(images, dtype="float32").reshape(-1, 28, 28, 1)
    k = len(images)
    fig, axes = plt.subplots(k * len(WAYS), copies_per_way + 1,
                             figsize=(1.5 * (copies_per_way + 1), 1.5 * k * len(WAYS)), squeeze=False)
    for w, way in enumerate(WAYS):
        try:
            made = copies(way, images, copies_per_way, settings, seed=seed + w)
        except ImportError as exc:
            made, note = None, str(exc).split("(")[0]
        for i in range(k):
            r = i * len(WAYS) + w
            axes[r, 0].imshow(images[i, ..., 0], cmap="gray", vmin=0, vmax=1)
            axes[r, 0].set_title(t("original {n}", n=i + 1) if w == 0 else "", fontsize=8)
            axes[r, 0].set_ylabel(way, fontsize=8)
            for c in range(copies_per_way):
                ax = axes[r, c + 1]
                if made is None:
                    ax.text(0.5, 0.5, t("not available") if c else note, ha="center", va="center", fontsize=6,
                            wrap=True)
                else:
                    ax.imshow(made[c, i, ..., 0], cmap="gray", vmin=0, vmax=1)
    for ax in np.ravel(axes):
        ax.set_xticks([])
        ax.set_yticks([])
    fig.suptitle(t("The lesson's augmentation three ways: ImageDataGenerator, preprocessing layers, tf.data"),
                 fontsize=9)
    fig.tight_layout()
    return fig


def steps(n_images: int, batch_size: int = facts.BATCH_SIZE) -> int:
    return math.ceil(n_images / batch_size)


# --- Timing the ways side by side (the notebook's table; ``asl-course bench augmentation``) ----------


def timing_ways(x, y, *, steps: int, warmup: int = 3, seed: int = 0, ways=ALL_WAYS) -> dict:
    """For ``"none"`` and each of ``ways`` (:data:`ALL_WAYS` by default; :data:`JIT_WAYS` too):
    a ``(warm_up, timed_run)`` pair of functions that train a fresh copy of the lesson's model,
    compiled as the lesson compiles it, for ``warmup`` and for ``steps`` steps of batch 32 on
    ``x, y``; or, for a way this machine cannot run (no TensorFlow, or another Keras backend),
    the reason as a string."""
    import keras


    unknown = set(ways) - set(ALL_WAYS + JIT_WAYS)
    if unknown:
        raise ValueError(f"no way called {sorted(unknown)}: the ways are {ALL_WAYS + JIT_WAYS}")
    batch = facts.BATCH_SIZE
    x, y = np.asarray(x, dtype="float32"), np.asarray(y, dtype="float32")
    xs, ys = x[: steps * batch], y[: steps * batch]
    xw, yw = x[: warmup * batch], y[: warmup * batch]
    tf_ok, backend = have_tensorflow(), keras.backend.backend()
    quiet = dict(epochs=1, verbose=0)

    def fresh(model):
        keras.utils.set_random_seed(seed)
        lesson.compile_model(model)
        return model

    def on_arrays(model):
        return (lambda: model.fit(xw, yw, batch_size=batch, **quiet),
                lambda: model.fit(xs, ys, batch_size=batch, shuffle=True, **quiet))

    def on_datasets(model, make):
        return (lambda: model.fit(make(xw, yw), shuffle=False, **quiet),
                lambda: model.fit(make(xs, ys), shuffle=False, **quiet))

    def generator():
        gen_model, datagen = fresh(lesson.build_model()), lesson.make_datagen(x)
        return (lambda: gen_model.fit(datagen.flow(xw, yw, batch_size=batch), steps_per_epoch=warmup, **quiet),
                lambda: gen_model.fit(datagen.flow(x, y, batch_size=batch), steps_per_epoch=steps, **quiet))

    def on_device():
        train = device_training(fresh(model_with_fused_layer(lesson.build_model(), seed=seed, jit=True)), x, y,
                                seed=seed)
        return lambda: train(warmup), lambda: train(steps)

    layers = make_layers(seed=seed) if tf_ok and "tf.data" in ways else None
    makers = {
        "generator": (generator, tf_ok, "ImageDataGenerator needs TensorFlow"),
        "layers": (lambda: on_arrays(fresh(model_with_layers(lesson.build_model(), seed=seed))), True, ""),
        "tf.data": (lambda: on_datasets(fresh(lesson.build_model()),
                                        lambda a, b: make_dataset(a, b, augment=layers, seed=seed)),
                    tf_ok, "tf.data needs TensorFlow"),
        "fused layer": (lambda: on_arrays(fresh(model_with_fused_layer(lesson.build_model(), seed=seed))), True, ""),
        "fused": (lambda: on_datasets(fresh(lesson.build_model()), lambda a, b: make_fused_dataset(a, b, seed=seed)),
                  tf_ok and backend == "tensorflow", "the fused tf.data way needs TensorFlow as Keras' backend"),
        "jit layer": (lambda: on_arrays(fresh(model_with_fused_layer(lesson.build_model(), seed=seed, jit=True))),
                      True, ""),
        "on device": (on_device, True, ""),
    }
    out: dict = {"none": on_arrays(fresh(lesson.build_model()))}
    for name in ways:
        make, runs_here, why_not = makers[name]
        out[name] = make() if runs_here else why_not
    return out


# --- The whole data set on the accelerator (``"on device"``) -------------------------------------------
#
# The fastest public training loops (cifar10-airbench) keep the data set on the GPU and make
# each batch by indexing it there: no host-to-device copy per step, no input pipeline at all.
# Sign MNIST's training images are 86 MB as float32. Here the arrays go to the accelerator
# once, each epoch's order is a permutation drawn there (``keras.random.shuffle``), each step
# takes its 32 indices from it, gathers its images and labels with ``keras.ops.take`` and runs
# the model, whose first layer is the jit layer, in one compiled step: ``jax.jit`` on JAX,
# ``tf.function`` (with XLA where Keras would choose it: ``model.jit_compile``) on TensorFlow,
# and eager or ``torch.compile`` (``model.jit_compile``) on PyTorch, as Keras' own ``fit`` does.


def on_accelerator(array):
    """``array`` as a backend tensor on the first accelerator (the CPU where there is none)."""
    import keras

    if keras.backend.backend() == "tensorflow":
        import tensorflow as tf

        gpus = tf.config.list_logical_devices("GPU")
        with tf.device(gpus[0].name if gpus else "/CPU:0"):
            return tf.identity(tf.convert_to_tensor(array))
    return keras.ops.convert_to_tensor(array)


def device_training(model, x, y, *, seed: int = 0, batch_size: int = facts.BATCH_SIZE):
    """Train compiled ``model`` (its loss: categorical cross-entropy) with ``x, y`` held on the accelerator.

    Returns ``train(steps)``: one pass of ``steps`` batches in a new random order drawn on the
    device (the order wraps round when ``steps * batch_size`` exceeds ``len(x)``), each batch
    gathered there and trained by the backend's compiled step; it returns the last batch's
    loss (waiting for the device), and the model's variables then hold the trained values.
    """
    import keras
    from keras import ops

    if len(x) != len(y):
        raise ValueError(f"{len(x)} images but {len(y)} labels")
    images, labels = on_accelerator(np.asarray(x, "float32")), on_accelerator(np.asarray(y, "float32"))
    n, shuffler = len(x), keras.random.SeedGenerator(seed)
    step, finish = DEVICE_STEPS[keras.backend.backend()](model)

    def train(steps: int) -> float:
        order = keras.random.shuffle(ops.arange(n, dtype="int32"), seed=shuffler)
        order = ops.tile(order, [math.ceil(steps * batch_size / n)])[: steps * batch_size]
        batches = ops.reshape(order, (steps, batch_size))
        for k in range(steps):
            loss = step(images, labels, batches[k])
        finish()
        return float(ops.convert_to_numpy(loss))

    return train


def batch_loss(model, images, labels, idx, loss_fn):
    from keras import ops

    return loss_fn(ops.take(labels, idx, axis=0), model(ops.take(images, idx, axis=0), training=True))


def tensorflow_step(model):
    import keras
    import tensorflow as tf

    loss_fn = keras.losses.CategoricalCrossentropy()

    @tf.function(jit_compile=bool(model.jit_compile), reduce_retracing=True)
    def step(images, labels, idx):
        with tf.GradientTape() as tape:
            loss = batch_loss(model, images, labels, idx, loss_fn)
        model.optimizer.apply(tape.gradient(loss, model.trainable_variables), model.trainable_variables)
        return loss

    return step, lambda: None


def torch_step(model):
    import keras
    import torch

    loss_fn = keras.losses.CategoricalCrossentropy()

    def step(images, labels, idx):
        model.zero_grad()
        loss = batch_loss(model, images, labels, idx, loss_fn)
        loss.backward()
        weights = model.trainable_weights[:]
        with torch.no_grad():
            model.optimizer.apply([v.value.grad for v in weights], weights)
        return loss

    return (torch.compile(step) if model.jit_compile else step), lambda: None


def jax_step(model):
    """The step as a pure function of the variables' values (Keras' stateless API), under ``jax.jit``."""
    import jax
    import keras
    from keras import ops

    loss_fn, optimizer = keras.losses.CategoricalCrossentropy(), model.optimizer
    optimizer.build(model.trainable_variables)
    groups = (model.trainable_variables, model.non_trainable_variables, optimizer.variables)
    state = [[v.value for v in group] for group in groups]

    def loss_and_updates(trainable, non_trainable, x, y):
        pred, non_trainable = model.stateless_call(trainable, non_trainable, x, training=True)
        return loss_fn(y, pred), non_trainable

    grad = jax.value_and_grad(loss_and_updates, has_aux=True)

    @jax.jit
    def pure_step(state, images, labels, idx):
        trainable, non_trainable, opt = state
        x, y = ops.take(images, idx, axis=0), ops.take(labels, idx, axis=0)
        (loss, non_trainable), grads = grad(trainable, non_trainable, x, y)
        trainable, opt = optimizer.stateless_apply(opt, grads, trainable)
        return [trainable, non_trainable, opt], loss

    def step(images, labels, idx):
        state[:], loss = pure_step(state, images, labels, idx)
        return loss

    def finish():
        for group, values in zip(groups, state):
            for variable, value in zip(group, values):
                variable.assign(value)

    return step, finish


#: The compiled training step of :func:`device_training` for each Keras backend: ``(step, finish)``.
DEVICE_STEPS = {"tensorflow": tensorflow_step, "torch": torch_step, "jax": jax_step}


def time_ways(ways: dict, *, steps: int, rounds: int = 3) -> dict:
    """Time :func:`timing_ways`' ways side by side: each warms up once, then they take turns
    ``rounds`` times, each round in a rotated order, and a way's time is its fastest round (as
    ``timeit`` does: other jobs on the machine only ever add time), its median beside it.
    Timing each way once, one after the other, would compare moments of a shared machine, not
    ways. Returns, per way, seconds, ms per step, median, every round and the ratio to ``"none"``."""
    if rounds < 1:
        raise ValueError("rounds must be at least 1")
    runnable = [name for name, way in ways.items() if not isinstance(way, str)]
    # Each fit traces its step function anew, and TensorFlow warns of "retracing"; that is expected here.
    tf_logger = logging.getLogger("tensorflow")
    level = tf_logger.level
    tf_logger.setLevel(logging.ERROR)
    try:
        return _time_rounds(ways, runnable, steps, rounds)
    finally:
        tf_logger.setLevel(level)


def _time_rounds(ways: dict, runnable: list, steps: int, rounds: int) -> dict:
    for name in runnable:
        ways[name][0]()
    times: dict[str, list[float]] = {name: [] for name in runnable}
    for r in range(rounds):
        for name in runnable[r % len(runnable):] + runnable[: r % len(runnable)]:
            started = time.perf_counter()
            ways[name][1]()
            times[name].append(time.perf_counter() - started)
    out: dict = {}
    for name, way in ways.items():
        if isinstance(way, str):
            out[name] = {"not_available": way}
            continue
        best = min(times[name])
        out[name] = {"seconds": round(best, 2), "seconds_per_step_ms": round(1000 * best / steps, 2),
                     "median_s": round(statistics.median(times[name]), 2), "rounds_s": [round(t, 2) for t in times[name]]}
    if "seconds" in out.get("none", {}):
        for entry in out.values():
            if "seconds" in entry:
                entry["ratio"] = round(entry["seconds"] / out["none"]["seconds"], 2)
    return out


def speed_table(times: dict, steps: int) -> str:
    """:func:`time_ways`' result as the notebook prints it."""
    # the columns' names stay as they are (a monospaced table); the rest is in the learner's language
    lines = [f"{'way':12s} {'seconds':>8s} {'ms/step':>8s} {'x none':>7s}   "
             + t("({steps} steps of batch {batch_size})", steps=steps, batch_size=facts.BATCH_SIZE)]
    for name, entry in times.items():
        if "seconds" in entry:
            lines.append(f"{name:12s} {entry['seconds']:8.2f} {entry['seconds_per_step_ms']:8.1f} "
                         f"{entry.get('ratio', float('nan')):7.2f}")
        else:
            lines.append(f"{name:12s} " + t("not available here ({why})", why=entry["not_available"]))
    return "\n".join(lines)
