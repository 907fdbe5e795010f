"""asl_course.dataset.families: near-copy families of the training file and splits that respect them.

Fast tests on a drawn set whose families are known (photos, each copied with small changes as
the release's augmentation did); the real release's counts where it is present (slow: 20 s).
"""

from __future__ import annotations

import json
import shutil

import numpy as np
import pytest

from asl_course import dataset as data
from asl_course.dataset import families as fam


def _photos_and_copies(photos: int = 40, copies: int = 12, seed: int = 0):
    """Smooth random 28x28 'photos', each copied with other brightness, contrast and noise."""
    from scipy.ndimage import gaussian_filter

    rng = np.random.default_rng(seed)
    base = np.stack([gaussian_filter(rng.normal(size=(28, 28)), 2) for _ in range(photos)])
    base = base / base.std()
    images, truth, labels = [], [], []
    for p in range(photos):
        for _ in range(copies):
            img = base[p] * rng.uniform(0.9, 1.1) + rng.uniform(-0.2, 0.2) + rng.normal(0, 0.05, (28, 28))
            images.append(img.ravel())
            truth.append(p)
            labels.append(p % 4)
    x = np.asarray(images)
    x = np.clip((x - x.min()) / (x.max() - x.min()) * 255, 0, 255).astype(np.uint8)
    order = rng.permutation(len(x))
    return x[order], np.asarray(truth)[order], np.asarray(labels)[order]


def _same_grouping(a: np.ndarray, b: np.ndarray) -> bool:
    pairs = set(zip(a.tolist(), b.tolist()))
    return len(pairs) == len(set(a.tolist())) == len(set(b.tolist()))


def test_families_are_the_photos_copies():
    x, truth, _ = _photos_and_copies()
    numbers = fam.link_families(x, block_rows=100)
    assert _same_grouping(numbers, truth)
    assert numbers.max() + 1 == 40


def test_family_numbers_are_deterministic_and_in_order_of_first_image():
    x, _, _ = _photos_and_copies(seed=1)
    a = fam.link_families(x, block_rows=64)
    b = fam.link_families(x, block_rows=1000)
    assert np.array_equal(a, b)
    _, first = np.unique(a, return_index=True)
    assert np.all(np.diff(first) > 0)  # family k starts before family k+1
    assert a[0] == 0


def test_a_higher_threshold_splits_families():
    x, truth, _ = _photos_and_copies(seed=2)
    assert fam.link_families(x, threshold=0.99999).max() + 1 > len(set(truth.tolist()))


def test_family_split_holds_out_whole_families_of_every_letter():
    x, truth, labels = _photos_and_copies(photos=60)
    numbers = fam.link_families(x)
    train, valid = fam.family_split(numbers, labels, 0.25, seed=3)
    assert len(np.intersect1d(train, valid)) == 0 and len(train) + len(valid) == len(x)
    assert not set(numbers[train].tolist()) & set(numbers[valid].tolist())
    assert set(labels[valid].tolist()) == set(labels.tolist())
    share = len(valid) / len(x)
    assert 0.2 <= share <= 0.4
    again = fam.family_split(numbers, labels, 0.25, seed=3)
    assert np.array_equal(again[1], valid)
    other = fam.family_split(numbers, labels, 0.25, seed=4)
    assert not np.array_equal(other[1], valid)


def test_a_random_split_puts_near_copies_on_both_sides_and_the_family_split_does_not():
    x, _, labels = _photos_and_copies(photos=60)
    numbers = fam.link_families(x)
    _, rvalid = fam.random_split(len(x), 0.25, seed=0)
    rtrain = np.setdiff1d(np.arange(len(x)), rvalid)
    ftrain, fvalid = fam.family_split(numbers, labels, 0.25, seed=0)
    near_random = fam.nearest_training_cosine(x[rtrain], x[rvalid])
    near_family = fam.nearest_training_cosine(x[ftrain], x[fvalid])
    assert np.median(near_random) >= fam.THRESHOLD
    assert np.median(near_family) < fam.THRESHOLD


def test_describe_counts():
    numbers = np.array([0, 0, 1, 2, 2, 2])
    labels = np.array([5, 5, 3, 1, 1, 2])
    assert fam.describe(numbers, labels) == {
        "images": 6, "families": 3, "median_size": 2.0, "largest": 3, "single_images": 1,
        "mixed_letter_families": 1,
    }


@pytest.mark.parametrize("fraction", [0, 1, -0.5, 2])
def test_bad_fractions_are_refused(fraction):
    with pytest.raises(data.DataError, match="between 0 and 1"):
        fam.family_split(np.zeros(4, int), np.zeros(4, int), fraction)
    with pytest.raises(data.DataError, match="between 0 and 1"):
        fam.random_split(4, fraction)


def test_mismatched_lengths_are_refused():
    with pytest.raises(data.DataError, match="one per image"):
        fam.family_split(np.zeros(4, int), np.zeros(5, int))


# --- the cache in the data folder -------------------------------------------------------------------

@pytest.fixture()
def small_folder(tmp_path):
    folder = tmp_path / "asl_data"
    data.write_synthetic(folder, log=lambda *_: None)
    return folder


def test_families_are_cached_in_the_data_folder_and_recomputed_when_stale(small_folder, monkeypatch):
    calls = []
    real = fam.link_families
    monkeypatch.setattr(fam, "link_families", lambda *a, **k: calls.append(1) or real(*a, **k))
    first = fam.families(small_folder)
    assert (small_folder / data.FAMILIES_FILE).is_file() and len(calls) == 1
    assert np.array_equal(fam.families(small_folder), first) and len(calls) == 1  # read back
    fam.families(small_folder, threshold=0.99)
    assert len(calls) == 2  # another threshold: computed again
    (small_folder / data.FAMILIES_FILE).write_bytes(b"not an npz")
    assert np.array_equal(fam.families(small_folder), first) and len(calls) == 3  # corrupt: computed again
    marker = json.loads((small_folder / data.MARKER_FILE).read_text())
    marker["files"][data.TRAIN_FILE]["sha256"] = "0" * 64
    (small_folder / data.MARKER_FILE).write_text(json.dumps(marker))
    fam.families(small_folder)
    assert len(calls) == 4  # another training file: computed again


def test_a_data_folder_that_cannot_be_written_still_gives_families(small_folder, monkeypatch):
    def refuse(path, **_):
        raise PermissionError(13, "Permission denied", str(path))

    monkeypatch.setattr(fam.np, "savez_compressed", refuse)
    numbers = fam.families(small_folder)
    assert len(numbers) == len(data.load_arrays(small_folder)[1])
    assert sorted(p.name for p in small_folder.iterdir()) == sorted(
        [data.TRAIN_FILE, data.VALID_FILE, data.MARKER_FILE])  # nothing half-written left


def test_a_read_only_data_folder_still_gives_families(small_folder, monkeypatch):
    """The autograder's data folder is read-only: writing and removing the cache both fail (EROFS)."""
    def read_only(*args, **_):
        raise OSError(30, "Read-only file system")

    monkeypatch.setattr(fam.np, "savez_compressed", read_only)
    monkeypatch.setattr(fam.Path, "unlink", read_only)
    numbers = fam.families(small_folder)
    assert len(numbers) == len(data.load_arrays(small_folder)[1])


def test_the_cache_does_not_block_a_new_import(small_folder):
    fam.families(small_folder)
    data.write_synthetic(small_folder, seed=1, log=lambda *_: None)  # replaces the folder whole
    assert not (small_folder / data.FAMILIES_FILE).exists()


@pytest.mark.slow
def test_the_real_training_file_is_1229_families_of_one_letter_each(real_data_dir, tmp_path):
    folder = tmp_path / "asl_data"
    shutil.copytree(real_data_dir, folder)
    numbers = fam.families(folder, refresh=True)
    x_train, y_train, x_valid, _ = data.load_arrays(folder)
    counts = fam.describe(numbers, y_train)
    assert counts == {"images": 27455, "families": 1229, "median_size": 21.0, "largest": 84,
                      "single_images": 2, "mixed_letter_families": 0}
    train, valid = fam.family_split(numbers, y_train)
    held_out = np.median(fam.nearest_training_cosine(x_train[train], x_valid[:2000]))
    family_valid = np.median(fam.nearest_training_cosine(x_train[train], x_train[valid]))
    assert family_valid < 0.9 and held_out < 0.9  # the family split looks like the test file
