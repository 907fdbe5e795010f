"""asl_course.learners.shifts: the camera-shift suite (kinds, severities, seeds, the tables)."""

from __future__ import annotations

import numpy as np
import pytest

from asl_course.errors import UserError
from asl_course.learners import shifts


@pytest.fixture(scope="module")
def arrays(data_dir):
    """40 validation images as the data file holds them (uint8, (N, 784)) and their labels."""
    from asl_course import dataset as data

    _, _, x_valid, y_valid = data.load_arrays(data_dir)
    return x_valid[:40].astype(np.uint8), y_valid[:40]


@pytest.fixture(scope="module")
def pixels(arrays):
    return arrays[0]


def test_the_suite_names_design_and_held_out_kinds_apart():
    assert set(shifts.DESIGN_KINDS) | set(shifts.HELD_OUT_KINDS) == set(shifts.KINDS)
    assert not set(shifts.DESIGN_KINDS) & set(shifts.HELD_OUT_KINDS)
    assert len(shifts.HELD_OUT_KINDS) >= 5 and len(shifts.DESIGN_KINDS) >= 10
    for kind in shifts.KINDS.values():
        assert len(kind.levels) == len(shifts.SEVERITIES) and kind.what


@pytest.mark.parametrize("kind", list(shifts.KINDS))
def test_every_kind_keeps_shape_dtype_and_range_and_is_seeded(pixels, kind):
    out = shifts.apply(pixels, kind, 3, seed=0)
    assert out.shape == pixels.shape and out.dtype == pixels.dtype
    assert np.array_equal(out, shifts.apply(pixels, kind, 3, seed=0))  # deterministic
    assert not np.array_equal(out, pixels)  # it changes the images
    floats = pixels.reshape(-1, 28, 28, 1) / 255.0
    as_floats = shifts.apply(floats, kind, 3, seed=0)
    assert as_floats.shape == floats.shape and 0 <= as_floats.min() and as_floats.max() <= 1
    assert np.abs(as_floats * 255 - out.reshape(as_floats.shape)).max() <= 1.0  # the same shift, either form


RANDOM_KINDS = [k for k in shifts.KINDS if k not in ("larger", "smaller", "contrast", "blur", "jpeg", "other_hand",
                                                    "pixelate")]


@pytest.mark.parametrize("kind", RANDOM_KINDS)
def test_another_seed_draws_other_changes(pixels, kind):
    assert not np.array_equal(shifts.apply(pixels, kind, 3, seed=0), shifts.apply(pixels, kind, 3, seed=1))


@pytest.mark.parametrize("kind", [k for k in shifts.KINDS if k != "other_hand"])
def test_a_higher_severity_changes_more(pixels, kind):
    change = [np.abs(shifts.apply(pixels, kind, s, seed=0).astype(float) - pixels).mean() for s in (1, 5)]
    assert change[1] > change[0]


def test_other_hand_is_the_mirror_image(pixels):
    out = shifts.apply(pixels, "other_hand", 1).reshape(-1, 28, 28)
    assert np.array_equal(out, pixels.reshape(-1, 28, 28)[:, :, ::-1])


def test_tilt_is_a_rotation_beyond_the_lessons_range(pixels):
    assert min(shifts.KINDS["tilt"].levels) > 10  # the lesson's augmentation rotates up to 10 degrees
    assert min(shifts.KINDS["position"].levels) > 0.1


@pytest.mark.parametrize("kind, severity, words", [("fog", 1, "unknown shift kind"), ("tilt", 0, "severity"),
                                                   ("tilt", 6, "severity")])
def test_bad_arguments_say_what_to_give(pixels, kind, severity, words):
    with pytest.raises(UserError, match=words):
        shifts.apply(pixels, kind, severity)


def test_bad_images_say_what_shape_to_give():
    with pytest.raises(UserError, match=r"\(N, 784\)"):
        shifts.apply(np.zeros((3, 30, 30)), "tilt", 1)


def test_evaluate_measures_each_kind_and_severity(pixels, arrays):
    labels = arrays[1]
    memory = {np.rint(img * 255).astype(np.uint8).tobytes(): lab for img, lab in
              zip(pixels.reshape(-1, 28, 28, 1) / 255.0, labels)}

    def remembers(images):  # right on the clean images, wrong on any changed one
        keys = [np.rint(img * 255).astype(np.uint8).tobytes() for img in images]
        return np.array([memory.get(k, -1) for k in keys])

    table = shifts.evaluate(remembers, pixels, labels, kinds=["tilt", "other_hand", "gamma"], seed=0)
    assert table["clean"] == 1.0 and table["suite"] == shifts.SUITE_VERSION
    assert set(table["kinds"]) == {"tilt", "other_hand", "gamma"}
    assert list(table["kinds"]["tilt"]) == [1, 2, 3, 4, 5] and list(table["kinds"]["other_hand"]) == [1]
    assert max(table["kinds"]["tilt"].values()) < 0.2
    summary = shifts.summary(table)
    assert summary["held_out"]["worst"] == "gamma" and summary["held_out"]["mean"] < 0.2
    assert summary["design"]["mean"] < 0.2
    text = "\n".join(shifts.table_lines(table, "memory"))
    assert "gamma" in text and "held" in text and "held-out kinds: mean" in text


def test_evaluate_takes_probabilities_or_one_hot_labels(pixels, arrays):
    labels = arrays[1]
    one_hot = np.eye(24)[labels]
    table = shifts.evaluate(lambda images: np.tile(one_hot[:1], (len(images), 1)), pixels, one_hot,
                            kinds=["blur"], severities=(1,))
    assert table["clean"] == pytest.approx(np.mean(labels == labels[0]))


def test_show_kinds_draws_a_row_per_kind(pixels, tmp_path):
    import matplotlib

    matplotlib.use("Agg")
    fig = shifts.show_kinds(pixels[:1], path=tmp_path / "kinds.png")
    assert len(fig.axes) == 6 * len(shifts.KINDS) and (tmp_path / "kinds.png").stat().st_size > 10_000
