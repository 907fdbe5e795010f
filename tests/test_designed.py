"""The designed augmentation (asl_course.learners.designed): batched numpy ops, no training."""

from __future__ import annotations

import numpy as np
import pytest

from asl_course.learners import designed


def hand(n=16, seed=0):
    """Smooth images in 0..1: a bright blob (the hand) on a darker plain background, each a little apart."""
    rng = np.random.default_rng(seed)
    rows, cols = np.mgrid[0:28, 0:28]
    centres = rng.uniform(10, 18, (n, 2))
    blob = np.exp(-(((rows - centres[:, 0, None, None]) ** 2 + (cols - centres[:, 1, None, None]) ** 2) / 30.0))
    return (0.2 + 0.7 * blob)[..., None].astype(np.float32)


def test_same_seed_same_images_and_shape_kept():
    x = hand()
    a, b = designed.augment(x, seed=3), designed.augment(x, seed=3)
    assert a.shape == x.shape and a.dtype == np.float32
    assert np.array_equal(a, b) and not np.array_equal(a, designed.augment(x, seed=4))
    assert 0 <= a.min() and a.max() <= 1


def test_identity_map_gives_the_image_back():
    x = hand()[..., 0]
    m = np.repeat(np.eye(2)[None], len(x), axis=0)
    assert np.allclose(designed.warp(x, m, np.zeros((len(x), 2))), x, atol=1e-6)


def test_a_larger_scale_makes_the_hand_larger():
    x = np.zeros((1, 28, 28), np.float32)
    x[0, 10:18, 10:18] = 1.0  # an 8x8 square in the middle
    geometry = {"rotation": 0.0, "scale": (1.5, 1.5), "aspect": 0.0, "shift": 0.0}
    out = designed.warp(x, *designed.affine_maps(np.random.default_rng(0), 1, geometry))
    assert (out > 0.5).sum() > 1.8 * (x > 0.5).sum()


def test_blur_keeps_the_mean_and_sigma_zero_changes_nothing():
    x = np.full((2, 28, 28), 0.2, np.float32)
    x[:, 8:20, 8:20] = 0.9  # a sharp-edged square
    assert np.allclose(designed.gaussian_blur(x, np.zeros(len(x))), x, atol=1e-6)
    blurred = designed.gaussian_blur(x, np.array([1.5, 0.0]))
    assert np.abs(np.diff(blurred[0], axis=1)).max() < 0.5 * np.abs(np.diff(x[0], axis=1)).max()
    assert np.allclose(blurred[1], x[1], atol=1e-6)  # each image its own sigma
    assert np.allclose(blurred.mean(axis=(1, 2)), x.mean(axis=(1, 2)), atol=0.01)


@pytest.mark.parametrize("part", designed.PARTS)
def test_each_part_changes_images_only_when_it_is_asked_for(part):
    x = hand(64)
    always = {"p": 1.0}
    without = designed.augment(x, seed=1, parts=(), settings=always)  # the lesson's geometry only
    withpart = designed.augment(x, seed=1, parts=(part,), settings=always)
    assert not np.allclose(without, withpart, atol=1e-3)


def test_background_mixing_leaves_the_hand_and_changes_the_background():
    x = hand(64)[..., 0]
    mask = designed.background_mask(x)
    assert mask[x > 0.8].max() < 0.05 and mask[x < 0.21].min() > 0.9


def test_unknown_parts_are_refused():
    with pytest.raises(ValueError, match="must be among"):
        designed.augment(hand(2), parts=("geometric", "sparkle"))


def test_the_flow_gives_every_image_once_an_epoch_and_new_draws_each_epoch():
    x, y = hand(70), np.eye(24, dtype=np.float32)[np.arange(70) % 24]
    flow = designed.flow(x, y, batch_size=32, seed=0)
    assert len(flow) == 3
    batches = [flow[i] for i in range(len(flow))]
    assert [len(b[0]) for b in batches] == [32, 32, 6]
    labels = np.concatenate([b[1] for b in batches]).argmax(1)
    assert sorted(labels) == sorted(y.argmax(1))
    first = flow[0][0].copy()
    flow.on_epoch_end()
    assert not np.allclose(first, flow[0][0])


def test_policy_one_gives_each_image_exactly_one_part_or_none():
    rng = np.random.default_rng(0)
    masks = designed.part_masks(rng, 6000, designed.PARTS, {**designed.SETTINGS, "policy": "one"})
    assert set(masks) == set(designed.PARTS) - {"geometric"}
    per_image = np.sum(list(masks.values()), axis=0)
    assert per_image.max() == 1  # never two parts on one image
    shares = [m.mean() for m in masks.values()] + [np.mean(per_image == 0)]
    assert np.allclose(shares, 1 / 6, atol=0.02)  # five parts and "as it is", drawn uniformly
    independent = designed.part_masks(rng, 6000, designed.PARTS, {**designed.SETTINGS, "policy": "independent"})
    assert np.sum(list(independent.values()), axis=0).max() > 1  # independently, parts meet


def test_an_unknown_policy_is_refused():
    with pytest.raises(ValueError, match="policy must be"):
        designed.augment(hand(2), settings={"policy": "two"})


def test_the_chosen_design_keeps_the_lessons_geometry_and_one_photometric_part_per_image():
    assert "geometric" not in designed.CHOSEN_PARTS and set(designed.CHOSEN_PARTS) < set(designed.PARTS)
    assert designed.SETTINGS["policy"] == "one"
    x = hand(64)
    assert np.array_equal(designed.augment(x, seed=5), designed.augment(x, seed=5, parts=designed.CHOSEN_PARTS))
