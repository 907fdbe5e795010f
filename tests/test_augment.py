"""The lesson's augmentation three ways (asl_course.learners.augment) and `asl-course bench augmentation`."""

from __future__ import annotations

import json
import math
import re
import subprocess
import sys

import numpy as np
import pytest

from asl_course import facts
from asl_course.learners import augment

pytest.importorskip("tensorflow")


def _originals(k: int = 4) -> np.ndarray:
    """Asymmetric test images: a left-to-right ramp and an off-centre bright block (a flip shows)."""
    ims = np.zeros((k, 28, 28, 1), dtype="float32")
    cols = np.mgrid[0:28, 0:28][1]
    for i in range(k):
        ims[i, ..., 0] = 0.2 + 0.3 * cols / 27
        r, c = 4 + 3 * i, 3 + 2 * i
        ims[i, r:r + 10, c:c + 6, 0] = 1.0
    return ims


def _settings(**change) -> dict:
    s = dict(facts.DATAGEN_SETTINGS)
    s.update(change)
    return s


def test_layer_settings_translate_the_lesson():
    p = augment.layer_settings()
    assert p["rotation"] == pytest.approx(10 / 360)
    assert p["zoom"] == 0.1 and p["rows"] == 0.1 and p["cols"] == 0.1
    assert p["flip"] == "horizontal" and p["fill_mode"] == "nearest"
    # The generator's width_shift_range moves rows (Keras 3): the layer's height factor gets it.
    p = augment.layer_settings(_settings(width_shift_range=0.2, height_shift_range=0.05))
    assert (p["rows"], p["cols"]) == (0.2, 0.05)
    with pytest.raises(ValueError, match="no layer version"):
        augment.layer_settings(_settings(shear_range=5))


def test_layers_are_the_lesson_s_transforms():
    layers = augment.make_layers().layers
    names = [type(layer).__name__ for layer in layers]
    assert names == ["RandomRotation", "RandomZoom", "RandomTranslation", "RandomFlip"]
    rot, zoom, shift, flip = layers
    assert rot.factor == pytest.approx((-10 / 360, 10 / 360)) and rot.fill_mode == "nearest"
    assert (zoom.height_factor, zoom.width_factor) == (0.1, 0.1) and zoom.fill_mode == "nearest"
    assert (shift.height_factor, shift.width_factor) == (0.1, 0.1) and shift.fill_mode == "nearest"
    assert flip.mode == "horizontal"


@pytest.mark.parametrize("way", augment.ALL_WAYS)
def test_copies_shapes_dtype_range(way):
    ims = _originals(3)
    out = augment.copies(way, ims, 5)
    assert out.shape == (5, 3, 28, 28, 1) and out.dtype == np.float32
    assert out.min() >= 0.0 - 1e-6 and out.max() <= 1.0 + 1e-6
    assert not np.allclose(out[0], ims)  # it did transform


def test_the_three_ways_make_the_same_kind_of_images():
    distances = augment.compare(_originals(), n=100)
    assert set(distances) == {"layers", "tf.data"}
    assert augment.same_kind(distances), distances


@pytest.mark.parametrize("wrong", [dict(rotation_range=45), dict(horizontal_flip=False), dict(zoom_range=0.4)],
                         ids=["rotation45", "noflip", "zoom0.4"])
def test_a_wrong_setting_is_not_the_same_kind(wrong):
    distances = augment.compare(_originals(), n=100, settings=_settings(**wrong))
    assert not augment.same_kind(distances), distances


def test_the_fused_way_makes_the_generator_s_kind_of_images():
    distances = augment.compare(_originals(), ways=("fused", "fused layer", "jit layer"), n=100)
    assert augment.same_kind(distances), distances


# (Zoom moves these statistics least: 0.4 instead of 0.1 stays within the tolerance for the fused way.)
@pytest.mark.parametrize("wrong", [dict(rotation_range=45), dict(horizontal_flip=False), dict(zoom_range=0.7),
                                   dict(width_shift_range=0.3)], ids=["rotation45", "noflip", "zoom0.7", "shift0.3"])
def test_a_wrong_setting_of_the_fused_way_is_not_the_same_kind(wrong):
    distances = augment.compare(_originals(), ways=("fused", "fused layer", "jit layer"), n=100,
                                settings=_settings(**wrong))
    assert not augment.same_kind(distances), distances


_IDENTITY = dict(rotation_range=0, zoom_range=0.0, width_shift_range=0.0, height_shift_range=0.0,
                 horizontal_flip=False, vertical_flip=False)


@pytest.mark.parametrize("way", ["fused", "fused layer", "jit layer"])
def test_the_fused_map_is_the_generator_s_composition(way):
    ims = _originals(3)
    # Nothing to do: the images come back (one resample at the identity is exact).
    np.testing.assert_allclose(augment.copies(way, ims, 2, _IDENTITY)[0], ims, atol=1e-6)
    # A flip only: each copy is the original or its mirror, and both occur.
    flipped = augment.copies(way, ims, 20, dict(_IDENTITY, horizontal_flip=True))
    mirror = [np.allclose(c, ims[i, :, ::-1], atol=1e-6) for c2 in flipped for i, c in enumerate(c2)]
    same = [np.allclose(c, ims[i], atol=1e-6) for c2 in flipped for i, c in enumerate(c2)]
    assert all(m or s for m, s in zip(mirror, same)) and any(mirror) and any(same)
    # On a black image with a bright block (the block never leaves it): the generator's
    # width_shift_range moves rows (see layer_settings), so only the row of its centre moves,
    # by up to 10 % of 28 pixels.
    block = np.zeros((2, 28, 28, 1), dtype="float32")
    block[0, 6:12, 15:20] = block[1, 14:20, 6:13] = 1.0
    stats = augment.image_stats(augment.copies(way, block, 40, dict(_IDENTITY, width_shift_range=0.1)), block)
    assert np.abs(stats["dx"]).max() < 0.01 and 2.0 < np.abs(stats["dy"]).max() <= 0.1 * 28 + 0.01
    # Rotation only (the lesson's 10 degrees): the block's centre turns about the image's centre
    # (13.5, 13.5) by up to 10 degrees, keeping its distance from it.
    rows, cols = np.mgrid[0:28, 0:28]

    def polar(a):
        r, c = (a * rows).sum() / a.sum() - 13.5, (a * cols).sum() / a.sum() - 13.5
        return np.hypot(r, c), np.arctan2(r, c)

    turns = []
    for copy in augment.copies(way, block, 40, dict(_IDENTITY, rotation_range=10)):
        for im, orig in zip(copy[..., 0], block[..., 0]):
            (r1, a1), (r0, a0) = polar(im), polar(orig)
            assert abs(r1 - r0) < 0.2
            turns.append(np.degrees(np.angle(np.exp(1j * (a1 - a0)))))
    assert max(np.abs(turns)) <= 10.2 and max(turns) > 6 and min(turns) < -6


def test_fused_dataset_is_reproducible_and_new_every_epoch():
    rng = np.random.default_rng(0)
    x = rng.random((70, 28, 28, 1)).astype("float32")
    y = np.eye(24, dtype="float32")[rng.integers(0, 24, 70)]
    ds = augment.make_fused_dataset(x, y, shuffle=False, seed=3)
    first, second = ([np.asarray(b[0]) for b in ds] for _ in range(2))
    assert [len(b) for b in first] == [32, 32, 6]
    again = [np.asarray(b[0]) for b in augment.make_fused_dataset(x, y, shuffle=False, seed=3)]
    for a, b in zip(first, again):
        np.testing.assert_array_equal(a, b)
    assert not np.allclose(first[0], second[0])  # a new draw every epoch
    labels = np.concatenate([np.asarray(b[1]) for b in ds])
    np.testing.assert_array_equal(labels, y)
    with pytest.raises(ValueError, match="labels"):
        augment.make_fused_dataset(x, y[:10])


def test_model_with_fused_layer_acts_only_in_training():
    import keras

    model = augment.model_with_fused_layer(seed=0)
    assert model.layers[0].name == "fused_augmentation" and model.count_params() == 264_049
    x = _originals(2)
    plain = keras.Sequential(model.layers[1:])
    np.testing.assert_allclose(model.predict(x, verbose=0), plain.predict(x, verbose=0), rtol=1e-5, atol=1e-6)
    assert not np.allclose(np.asarray(model.layers[0](x, training=True)), x)
    # It saves and loads like the lesson's model (its settings in the config).
    layer = augment.make_fused_layer(dict(_IDENTITY, horizontal_flip=True), seed=1)
    again = type(layer).from_config(layer.get_config())
    assert again.settings == layer.settings and again.seed == 1


def test_ks_distance():
    a = np.arange(100.0)
    assert augment.ks_distance(a, a) == 0.0
    assert augment.ks_distance(a, a + 1000) == 1.0
    assert augment.ks_distance(a, a + 50) == pytest.approx(0.5)


def test_tf_data_batches_of_32_in_order_with_labels():
    rng = np.random.default_rng(0)
    x = rng.random((100, 28, 28, 1)).astype("float32")
    y = np.eye(24, dtype="float32")[rng.integers(0, 24, 100)]
    identity = dict(rotation_range=0, zoom_range=0.0, width_shift_range=0.0, height_shift_range=0.0,
                    horizontal_flip=False, vertical_flip=False)
    batches = list(augment.make_dataset(x, y, identity, shuffle=False))
    assert [len(b[0]) for b in batches] == [32, 32, 32, 4]
    np.testing.assert_array_equal(np.concatenate([np.asarray(b[0]) for b in batches]), x)
    np.testing.assert_array_equal(np.concatenate([np.asarray(b[1]) for b in batches]), y)
    # Shuffled and augmented: still 32 per batch, each label with its own image.
    flip_only = dict(identity, horizontal_flip=True)
    seen = []
    for images, labels in augment.make_dataset(x, y, flip_only, seed=1):
        assert images.shape[1:] == (28, 28, 1) and labels.shape[1:] == (24,)
        for im, lab in zip(np.asarray(images), np.asarray(labels)):
            match = [i for i in range(len(x)) if np.array_equal(im, x[i]) or np.array_equal(im, x[i, :, ::-1])]
            assert len(match) == 1 and np.array_equal(lab, y[match[0]])
            seen.append(match[0])
    assert sorted(seen) == list(range(100)) and seen != list(range(100))
    with pytest.raises(ValueError, match="labels"):
        augment.make_dataset(x, y[:10])


def test_model_with_layers_is_the_lesson_s_model_plus_augmentation():
    model = augment.model_with_layers(seed=0)
    assert model.layers[0].name == "augmentation"
    assert model.count_params() == 264_049
    x = _originals(2)
    # Outside training the layers pass the images through: predict is the plain model's.
    plain = __import__("keras").Sequential(model.layers[1:])
    np.testing.assert_allclose(model.predict(x, verbose=0), plain.predict(x, verbose=0), rtol=1e-5, atol=1e-6)


def test_show_three_ways_figure():
    import matplotlib

    matplotlib.use("Agg")
    fig = augment.show_three_ways(_originals(2), copies_per_way=3)
    assert len(fig.axes) == 2 * 3 * 4
    assert [fig.axes[r * 4].get_ylabel() for r in range(3)] == list(augment.WAYS)


@pytest.mark.slow
def test_bench_augmentation_prints_the_ratios(tmp_path):
    out = tmp_path / "aug.json"
    run = subprocess.run([sys.executable, "-m", "asl_course", "bench", "augmentation", "--steps", "5", "--rounds", "2",
                          "--json", str(out)], capture_output=True, text=True, timeout=900)
    assert run.returncode == 0, run.stderr[-3000:]
    report = json.loads(out.read_text())
    assert list(report["ways"]) == ["none", "generator", "layers", "tf.data", "fused", "fused layer", "jit layer",
                                    "on device"]
    assert report["steps"] == 5 and report["rounds"] == 2
    for name, entry in report["ways"].items():
        assert len(entry["rounds_s"]) == 2 and entry["seconds"] == min(entry["rounds_s"]) > 0
        assert math.isclose(entry["ratio"], entry["seconds"] / report["ways"]["none"]["seconds"], abs_tol=0.01)
        assert f"{name}" in run.stdout and f"ratio {entry['ratio']:.2f}" in run.stdout
    assert list(report["alone"]) == ["generator", "layers", "fused layer", "jit layer", "on device", "tf.data", "fused"]
    fastest = min((e["seconds"], n) for n, e in report["ways"].items() if n != "none")[1]
    assert report["targets"]["fastest"] == fastest and f"fastest augmented way: {fastest}, ratio" in run.stdout
    for name, entry in report["alone"].items():
        assert entry["seconds"] > 0 and math.isclose(entry["batches_per_s"], 5 / entry["seconds"], rel_tol=0.05)
        assert re.search(rf"^  {re.escape(name)}\s+{entry['seconds']:.2f} s\s+{entry['batches_per_s']:.1f} batches/s$",
                         run.stdout, re.M)
    bad = subprocess.run([sys.executable, "-m", "asl_course", "bench", "augmentation", "--steps", "0"],
                         capture_output=True, text=True, timeout=300)
    assert bad.returncode != 0 and "--steps must be at least 1" in bad.stdout + bad.stderr


_NO_TENSORFLOW = '''
import importlib.abc, runpy, sys
class NoTF(importlib.abc.MetaPathFinder):
    # TensorFlow absent, as on a JAX-only GPU machine (kept out of sys.modules: Keras looks there).
    def find_spec(self, name, path=None, target=None):
        if name == "tensorflow" or name.startswith("tensorflow."):
            raise ModuleNotFoundError(f"No module named {name!r}")
sys.meta_path.insert(0, NoTF())
sys.argv = ["asl-course", "bench", "augmentation", "--steps", "3", "--rounds", "1"]
runpy.run_module("asl_course", run_name="__main__")
'''


@pytest.mark.slow
@pytest.mark.full_class  # the device script's path (deploy/device/); JAX itself is tested in test_jit_augment.py
def test_bench_augmentation_on_jax_without_tensorflow():
    import importlib.util
    import os

    if importlib.util.find_spec("jax") is None:
        pytest.skip("JAX is not installed here (pip install jax, or put it on PYTHONPATH)")
    run = subprocess.run([sys.executable, "-c", _NO_TENSORFLOW], capture_output=True, text=True, timeout=900,
                         env={**os.environ, "KERAS_BACKEND": "jax"})
    assert run.returncode == 0, run.stderr[-3000:]
    assert "jax backend" in run.stdout
    assert re.search(r"generator\s+not available", run.stdout) and re.search(r"tf.data\s+not available", run.stdout)
    assert re.search(r"  fused\s+not available", run.stdout)
    assert re_ratio("layers", run.stdout) and re_ratio("fused layer", run.stdout) and re_ratio("none", run.stdout) == 1.0
    assert re_ratio("jit layer", run.stdout) and re_ratio("on device", run.stdout)
    assert "the generator not timed here" in run.stdout


def re_ratio(name: str, text: str) -> float | None:
    import re

    m = re.search(rf"^\s+{re.escape(name)}\s+[0-9.]+ s .*ratio ([0-9.]+)", text, re.M)
    return float(m.group(1)) if m else None


# --- `asl-course bench augmentation --full`: the accuracy table (asl_course.learners.recipe) ----------------------


def _cli(argv, capsys):
    from asl_course.tooling import cli

    code = cli.main(argv)
    out = capsys.readouterr()
    return code, out.out + out.err


def test_bench_full_refuses_on_the_stand_in(tmp_path, monkeypatch, capsys):
    from asl_course import dataset as data

    data.write_synthetic(tmp_path / "asl_data", log=lambda *_: None)
    monkeypatch.setenv("ASL_DATA_DIR", str(tmp_path / "asl_data"))
    code, text = _cli(["bench", "augmentation", "--full", "--seeds", "1", "--epochs", "1"], capsys)
    assert code == 2 and "real data only" in text and "synthetic stand-in" in text


@pytest.mark.parametrize("argv, message", [
    (["--full", "--steps", "5"], "give one or the other"),
    (["--full", "--seeds", "0"], "--seeds must be at least 1"),
    (["--full", "--epochs", "21"], "1 to 20"),
    (["--full", "--recipes", "adam"], "recipe must be one of"),
    (["--seeds", "2"], "go with --full"),
])
def test_bench_full_refuses_bad_options(argv, message, capsys):
    code, text = _cli(["bench", "augmentation", *argv], capsys)
    assert code == 2 and message in text


def test_bench_augmentation_lines():
    from asl_course.tooling import bench

    report = {"full_epoch": False, "steps": 100, "batch_size": 32, "rounds": 3, "machine": "a machine",
              "data": "real data", "cpu_load_before": 0.5, "cpu_load_after": 1.5,
              "ways": {"none": {"seconds": 3.5, "seconds_per_step_ms": 35.0, "median_s": 5.2, "rounds_s": [5.2, 3.5, 5.3],
                                "ratio": 1.0},
                       "fused": {"not_available": "the fused tf.data way needs TensorFlow as Keras' backend"}}}
    lines = bench.augmentation_lines(report)
    assert "the fastest of 3 rounds" in lines[0] and "100 steps" in lines[0]
    assert lines[1].split() == ["none", "3.50", "s", "35.0", "ms/step", "ratio", "1.00", "median", "5.20", "s",
                                "rounds:", "5.2,", "3.5,", "5.3"]
    assert "fused" in lines[2] and "not available" in lines[2]


def test_bench_full_table_lines():
    from asl_course.tooling import bench
    from asl_course.learners import recipe

    def run(name, seed, val):
        return {"recipe": name, "seed": seed, "summary": {**recipe.summarize({"val_accuracy": val}),
                                                          "seconds_per_epoch": 61.5}}

    runs = [run("lesson", 0, [0.9, 0.97, 0.89, 0.99, 0.98, 0.976]),
            run("stable", 0, [0.9, 0.99, 0.993, 0.996, 0.997, 0.998]),
            run("stable", 1, [0.9, 0.99, 0.992, 0.995, 0.996, 0.994])]
    report = {"machine": "a machine", "data": "real data", "runs": runs, "table": recipe.table(runs),
              "cpu_load_before": 1.0, "cpu_load_after": 2.0}
    lines = bench.accuracy_table_lines(report)
    assert "  lesson          0      6  0.9760  0.9900     0.8900     61.5" in lines
    assert "  stable          1      6  0.9940  0.9960     0.9900     61.5" in lines
    stable = next(line for line in lines if line.startswith("  stable:"))
    assert "mean final 0.9960" in stable and "three_seeds_or_more NO" in stable
    assert "every_last5_at_least_0.99 yes" in stable and "mean_final_at_least_0.995 yes" in stable
