"""The jit layer (``augment.make_jit_layer``: the fused augmentation in ``keras.ops`` only) and the
whole data set on the accelerator (``augment.device_training``), on each Keras backend.

TensorFlow is the course's backend and is tested here; JAX (pinned in requirements.txt, CPU build)
and PyTorch (not pinned: a large install; ``pip install torch==2.13.0`` takes the CPU build) each
run the same checks in a subprocess with ``KERAS_BACKEND`` set. Under ``CI=true`` a missing JAX
fails the test instead of skipping it; a missing PyTorch skips it. The tests that train (tiny
models, a few steps) are marked slow.
"""

from __future__ import annotations

import importlib.util
import json
import os
import subprocess
import sys

import numpy as np
import pytest

pytest.importorskip("tensorflow")

from asl_course.learners import augment  # noqa: E402

#: Run with KERAS_BACKEND set: the checks every backend must pass; prints one JSON line of findings.
BACKEND_CHECKS = r'''
import json, sys, warnings
import numpy as np
import keras
from asl_course.learners import augment

rng = np.random.default_rng(0)
x = rng.random((64, 28, 28, 1)).astype("float32")
y = np.eye(24, dtype="float32")[rng.integers(0, 24, 64)]
found = {"backend": keras.backend.backend()}

def tiny(first):
    keras.utils.set_random_seed(0)
    return keras.Sequential([keras.Input((28, 28, 1)), first, keras.layers.Conv2D(4, 3, activation="relu"),
                             keras.layers.Flatten(), keras.layers.Dense(24, activation="softmax")])

# 1. A model holding the jit layer keeps jit_compile=True and trains (XLA, jax.jit, torch.compile).
model = tiny(augment.make_jit_layer(seed=0))
model.compile(loss="categorical_crossentropy", optimizer="sgd", jit_compile=True)
loss = model.fit(x, y, batch_size=32, epochs=1, verbose=0).history["loss"][-1]
found["jit_layer_model_jit_compile"] = bool(model.jit_compile)
found["jit_layer_model_loss_finite"] = bool(np.isfinite(loss))
# ...while Keras' own random layers switch jit off for the whole step (a warning, then False).
with warnings.catch_warnings():
    warnings.simplefilter("ignore")
    other = tiny(augment.make_layers(seed=0))
    other.compile(loss="categorical_crossentropy", jit_compile=True)
found["keras_layers_model_jit_compile"] = bool(other.jit_compile)

# 2. Bit for bit the same images for the same seed; another seed, other images; each call draws anew.
def two_calls(seed):
    layer = augment.make_jit_layer(seed=seed)
    return [keras.ops.convert_to_numpy(layer(x, training=True)) for _ in range(2)]
a, b, c = two_calls(7), two_calls(7), two_calls(8)
found["same_seed_identical"] = all(np.array_equal(p, q) for p, q in zip(a, b))
found["calls_differ"] = not np.array_equal(a[0], a[1])
found["other_seed_differs"] = not np.array_equal(a[0], c[0])
found["identity_outside_training"] = bool(np.array_equal(
    keras.ops.convert_to_numpy(augment.make_jit_layer(seed=0)(x, training=False)), x))

# 3. The whole data set on the device: images stay with their labels through the shuffled indexing.
#    Four classes, each image a constant grey g_c (the augmentation keeps a constant image constant),
#    and a model that already knows them: logit_c = 2 A g_c t - A g_c^2 for the mean grey t (that is
#    -A (t - g_c)^2 up to a term shared by every class). Paired right, every batch's loss is near 0;
#    an image trained against another image's label costs about A (0.2)^2 = 8.
k = np.arange(96) % 4
grey = (k + 1) / 5.0
xs = np.repeat(grey.astype("float32"), 28 * 28).reshape(96, 28, 28, 1)
ys = np.eye(4, dtype="float32")[k]
g, A = np.arange(1, 5) / 5.0, 200.0
net = keras.Sequential([keras.Input((28, 28, 1)), augment.make_jit_layer(seed=0), keras.layers.GlobalAveragePooling2D(),
                        keras.layers.Dense(4, activation="softmax")])
net.layers[-1].set_weights([(2 * A * g)[None, :].astype("float32"), (-A * g * g).astype("float32")])
net.compile(loss="categorical_crossentropy", optimizer=keras.optimizers.SGD(0.5))
train = augment.device_training(net, xs, ys, seed=0, batch_size=8)
found["device_losses"] = [round(train(12), 4) for _ in range(4)]
found["device_weights_moved"] = not np.array_equal(net.layers[-1].get_weights()[1], (-A * g * g).astype("float32"))
found["device_accuracy"] = float((net.predict(xs, verbose=0).argmax(1) == k).mean())
print("FOUND " + json.dumps(found))
'''


def run_checks(backend: str, extra_path: str = "") -> dict:
    env = {**os.environ, "KERAS_BACKEND": backend}
    if extra_path:
        env["PYTHONPATH"] = os.pathsep.join(p for p in (extra_path, env.get("PYTHONPATH", "")) if p)
    run = subprocess.run([sys.executable, "-c", BACKEND_CHECKS], capture_output=True, text=True, timeout=600, env=env)
    assert run.returncode == 0, run.stderr[-4000:]
    line = next(ln for ln in run.stdout.splitlines() if ln.startswith("FOUND "))
    return json.loads(line[len("FOUND "):])


def assert_backend_passes(found: dict, backend: str) -> None:
    print(found)
    assert found["backend"] == backend
    assert found["jit_layer_model_jit_compile"] and found["jit_layer_model_loss_finite"], found
    assert found["keras_layers_model_jit_compile"] is False, found
    assert found["same_seed_identical"] and found["calls_differ"] and found["other_seed_differs"], found
    assert found["identity_outside_training"], found
    assert max(found["device_losses"]) < 0.05 and found["device_weights_moved"], found
    assert found["device_accuracy"] == 1.0, found


def backend_available(module: str, *, required_in_ci: bool) -> None:
    if importlib.util.find_spec(module) is None:
        if required_in_ci and os.environ.get("CI") == "true":
            pytest.fail(f"{module} is pinned in requirements.txt but not installed (pip install -r requirements.txt)")
        pytest.skip(f"{module} is not installed here")


@pytest.mark.slow
def test_tensorflow_backend():
    assert_backend_passes(run_checks("tensorflow"), "tensorflow")


@pytest.mark.slow
def test_jax_backend():
    backend_available("jax", required_in_ci=True)
    assert_backend_passes(run_checks("jax"), "jax")


@pytest.mark.slow
def test_torch_backend():
    """``torch.compile`` of the training step (``jit_compile=True`` on PyTorch); skipped without PyTorch."""
    backend_available("torch", required_in_ci=False)
    assert_backend_passes(run_checks("torch"), "torch")


# --- TensorFlow: XLA really compiles the step, and the resampler is affine_transform's -----------------


def tiny_model(first):
    import keras

    keras.utils.set_random_seed(0)
    return keras.Sequential([keras.Input((28, 28, 1)), first, keras.layers.Conv2D(4, 3, activation="relu"),
                             keras.layers.Flatten(), keras.layers.Dense(24, activation="softmax")])


@pytest.mark.slow
def test_xla_compiles_the_step_with_the_jit_layer_and_refuses_affine_transform():
    """The same model and ``jit_compile=True``: with the gather resampler it trains; with
    ``affine_transform`` (made to claim jit support) XLA refuses ``ImageProjectiveTransformV3``,
    which shows that the step really went through XLA. The fused layer itself says it cannot."""
    import tensorflow as tf

    rng = np.random.default_rng(0)
    x = rng.random((64, 28, 28, 1)).astype("float32")
    y = np.eye(24, dtype="float32")[rng.integers(0, 24, 64)]
    model = tiny_model(augment.make_jit_layer(seed=0))
    model.compile(loss="categorical_crossentropy", optimizer="sgd", jit_compile=True)
    model.fit(x, y, batch_size=32, epochs=1, verbose=0)
    assert model.jit_compile is True
    claiming = augment.make_fused_layer(seed=0)
    assert claiming.supports_jit is False  # on TensorFlow: no XLA kernel for ImageProjectiveTransformV3
    claiming.supports_jit = True
    wrong = tiny_model(claiming)
    wrong.compile(loss="categorical_crossentropy", optimizer="sgd", jit_compile=True)
    with pytest.raises(tf.errors.InvalidArgumentError, match="ImageProjectiveTransformV3"):
        wrong.fit(x, y, batch_size=32, epochs=1, verbose=0)
    # The layer alone compiles to XLA's gather.
    layer = augment.make_jit_layer(seed=0)
    hlo = tf.function(lambda b: layer(b, training=True), jit_compile=True).experimental_get_compiler_ir(
        tf.constant(x[:8]))(stage="hlo")
    assert "gather(" in hlo


@pytest.mark.parametrize("interpolation, atol", [("bilinear", 1e-5), ("nearest", 0.0)])
def test_the_gather_resampler_is_affine_transform_s(interpolation, atol):
    """Through the same random maps, :func:`augment.resample` gives what ``keras.ops.image.affine_transform``
    gives with ``fill_mode="nearest"`` (TensorFlow's kernel), bilinear or nearest."""
    import keras

    rng = np.random.default_rng(1)
    x = rng.random((16, 28, 28, 2)).astype("float32")  # two channels: each resampled on its own
    transforms = augment.fused_transforms(lambda shape, lo, hi: keras.random.uniform(shape, lo, hi, seed=3), 16,
                                          settings=dict(augment.facts.DATAGEN_SETTINGS, rotation_range=40))
    want = np.asarray(keras.ops.image.affine_transform(x, transforms, interpolation=interpolation,
                                                       fill_mode="nearest"))
    got = np.asarray(augment.resample(x, transforms, interpolation=interpolation))
    if interpolation == "nearest":  # a pixel exactly half-way may round either way: allow a few
        assert (np.abs(got - want) > 1e-6).mean() < 0.002
    else:
        np.testing.assert_allclose(got, want, atol=atol)


def test_the_jit_layer_s_settings_and_config():
    import keras

    layer = augment.make_jit_layer(seed=3, interpolation="nearest")
    again = type(layer).from_config(layer.get_config())
    assert (again.resample, again.interpolation, again.seed) == ("gather", "nearest", 3) and again.supports_jit
    with pytest.raises(ValueError, match="resample must be one of"):
        type(layer)(resample="scipy")
    with pytest.raises(ValueError, match="'nearest'"):
        type(layer)(dict(augment.facts.DATAGEN_SETTINGS, fill_mode="reflect"), resample="gather")
    with pytest.raises(ValueError, match="interpolation"):
        augment.resample(np.zeros((1, 28, 28, 1), "float32"), np.zeros((1, 8), "float32"), interpolation="cubic")
    model = augment.model_with_fused_layer(seed=0, jit=True)
    assert model.layers[0].name == "jit_augmentation" and model.count_params() == 264_049
    assert isinstance(model.layers[0], keras.layers.Layer)


def test_device_training_refuses_mismatched_labels():
    model = tiny_model(augment.make_jit_layer(seed=0))
    model.compile(loss="categorical_crossentropy")
    with pytest.raises(ValueError, match="labels"):
        augment.device_training(model, np.zeros((10, 28, 28, 1)), np.zeros((9, 24)))


def test_timing_ways_refuses_an_unknown_way():
    with pytest.raises(ValueError, match="no way called"):
        augment.timing_ways(np.zeros((64, 28, 28, 1)), np.zeros((64, 24)), steps=1, ways=("fused", "warp"))


def test_gpu_targets_are_read_off_a_timing():
    from asl_course.tooling import bench

    ways = {"none": {"seconds": 2.0}, "generator": {"seconds": 12.0}, "layers": {"seconds": 40.0},
            "jit layer": {"seconds": 2.4}, "on device": {"seconds": 2.2}, "tf.data": {"not_available": "no TF"}}
    assert bench.gpu_targets(ways) == {"fastest": "on device", "fastest_ratio": 1.1, "at_most_1.3x": True,
                                       "times_faster_than_generator": 5.45, "at_least_4x_faster_than_generator": True}
    ways["on device"]["seconds"] = 3.0
    ways.pop("generator")
    t = bench.gpu_targets(ways)
    assert (t["fastest"], t["fastest_ratio"], t["at_most_1.3x"]) == ("jit layer", 1.2, True)
    assert "times_faster_than_generator" not in t
    ways["jit layer"]["seconds"] = 2.8
    assert bench.gpu_targets(ways)["at_most_1.3x"] is False
    report = {"full_epoch": False, "steps": 10, "batch_size": 32, "rounds": 1, "machine": "m", "data": "real data",
              "cpu_load_before": 0, "cpu_load_after": 0, "ways": {}, "targets": bench.gpu_targets(ways)}
    assert "fastest augmented way: jit layer, ratio 1.40 (GPU target at most 1.3: NO), the generator not timed here" \
        in bench.augmentation_lines(report)
