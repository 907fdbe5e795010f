"""Families of near-copies in the training file, and validation splits that respect them.

The Kaggle release was made by augmenting about 1,700 photos: its training file is groups of
near-copies of one photo each (a few pixels moved, a little brighter or darker). Two images
are **linked** when the cosine of their centred pixels (each image minus its own mean) is at
least :data:`THRESHOLD`; a **family** is a connected group of linked images. Measured on the
real release (2026-12-07): 1,229 families of the 27,455 training images (median 21 images,
largest 84, 2 single images), every family one letter; the median nearest neighbour within
the training file has cosine 0.9999, while the release's test file, other photos, has a
median nearest training image of 0.847 (1.7 % at 0.99 or more).

So a validation set drawn *at random* from the training file holds near-copies of training
images: it measures memory. :func:`family_split` holds out whole families instead, the same
share of every letter's images, so that validation images are of photos the model never saw.

Deterministic: the same pixels and threshold give the same family numbers (families are
numbered in the order of their first image), and the same seed the same split. Computing the
families of the real file takes about 20 s on 2 CPU cores; :func:`families` keeps them in the
data folder (:data:`CACHE_FILE`, keyed by the training file's sha256 from ``SOURCE.json``, the
threshold and :data:`METHOD_VERSION`) and recomputes whenever any of those change.

Numpy and scipy only (no TensorFlow).
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np

from .files import FAMILIES_FILE, MARKER_FILE, TRAIN_FILE, DataError
from .folder import load_arrays, locate

THRESHOLD = 0.97
"""Cosine of centred pixels at or above which two training images are of one photo."""
BLOCK_ROWS = 2048
"""Rows compared at once: a block of similarities is ``BLOCK_ROWS x N`` float32 (225 MB for the real file)."""
CACHE_FILE = FAMILIES_FILE
METHOD_VERSION = 1
VALID_FRACTION = 0.2


def centred_unit(pixels: np.ndarray) -> np.ndarray:
    """Each row minus its mean, scaled to length 1 (float32); a flat image stays all zeros."""
    x = np.asarray(pixels, dtype=np.float32).reshape(len(pixels), -1)
    x = x - x.mean(axis=1, keepdims=True)
    norms = np.linalg.norm(x, axis=1, keepdims=True)
    norms[norms == 0] = 1.0
    return x / norms


def link_families(pixels: np.ndarray, threshold: float = THRESHOLD, block_rows: int = BLOCK_ROWS) -> np.ndarray:
    """Family number of each row of ``pixels``: connected groups of rows at cosine >= threshold."""
    from scipy.sparse import coo_matrix
    from scipy.sparse.csgraph import connected_components

    unit = centred_unit(pixels)
    n = len(unit)
    rows, cols = [], []
    for start in range(0, n, block_rows):
        sims = unit[start:start + block_rows] @ unit.T
        r, c = np.nonzero(sims >= threshold)
        rows.append(r + start)
        cols.append(c)
    r, c = np.concatenate(rows), np.concatenate(cols)
    graph = coo_matrix((np.ones(len(r), dtype=np.int8), (r, c)), shape=(n, n))
    _, numbers = connected_components(graph, directed=False)
    return renumber(numbers)


def renumber(numbers: np.ndarray) -> np.ndarray:
    """The same grouping, families numbered 0, 1, ... in the order of their first row."""
    _, first, inverse = np.unique(numbers, return_index=True, return_inverse=True)
    order = np.argsort(np.argsort(first))
    return order[inverse].astype(np.int32)


def _cache_key(folder: Path, threshold: float) -> dict | None:
    try:
        marker = json.loads((folder / MARKER_FILE).read_text(encoding="utf-8"))
        sha = marker["files"][TRAIN_FILE]["sha256"]
    except (OSError, ValueError, KeyError, TypeError):
        return None
    return {"train_sha256": str(sha), "threshold": float(threshold), "method": METHOD_VERSION}


def _read_cache(path: Path, key: dict, rows: int | None) -> np.ndarray | None:
    try:
        with np.load(path, allow_pickle=False) as stored:
            if json.loads(str(stored["key"])) != key:
                return None
            numbers = np.asarray(stored["families"], dtype=np.int32)
    except (OSError, ValueError, KeyError):
        return None  # missing, corrupt or of another version: computed again
    if numbers.ndim != 1 or (rows is not None and len(numbers) != rows):
        return None
    return numbers


def _write_cache(path: Path, key: dict, numbers: np.ndarray) -> None:
    tmp = path.with_name(path.name + ".tmp.npz")
    try:
        np.savez_compressed(tmp, families=numbers, key=np.array(json.dumps(key, sort_keys=True)))
        tmp.replace(path)
    except OSError:  # a read-only data folder (the autograder's): computed each time, nothing lost
        try:
            tmp.unlink(missing_ok=True)
        except OSError:
            pass  # read-only: unlink raises EROFS, not FileNotFoundError


def families(data_dir=None, *, threshold: float = THRESHOLD, refresh: bool = False) -> np.ndarray:
    """Family number of each training image of the data folder (cached there, see the module)."""
    folder = locate(data_dir)
    key = _cache_key(folder, threshold)
    path = folder / CACHE_FILE
    if key is not None and not refresh:
        cached = _read_cache(path, key, None)
        if cached is not None:
            return cached
    x_train = load_arrays(folder)[0]
    numbers = link_families(x_train, threshold)
    if key is not None:
        _write_cache(path, key, numbers)
    return numbers


def describe(numbers: np.ndarray, labels: np.ndarray) -> dict:
    """Counts of a grouping: families, sizes, single images, families holding several letters."""
    numbers = np.asarray(numbers)
    labels = np.asarray(labels)
    if numbers.shape != labels.shape:
        raise DataError(f"{len(numbers)} family numbers for {len(labels)} labels: they must be one per image.")
    sizes = np.bincount(numbers)
    sizes = sizes[sizes > 0]
    letters_per_family = np.array([len(np.unique(labels[numbers == f])) for f in np.unique(numbers)])
    return {
        "images": int(len(numbers)),
        "families": int(len(sizes)),
        "median_size": float(np.median(sizes)),
        "largest": int(sizes.max()),
        "single_images": int((sizes == 1).sum()),
        "mixed_letter_families": int((letters_per_family > 1).sum()),
    }


def family_split(numbers: np.ndarray, labels: np.ndarray, valid_fraction: float = VALID_FRACTION,
                 seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """``(train_rows, valid_rows)``: whole families held out, about ``valid_fraction`` of each letter.

    For each letter its families are shuffled (seeded) and held out until they hold at least
    the fraction of that letter's images; no family is split. Rows are sorted.
    """
    numbers, labels = np.asarray(numbers), np.asarray(labels)
    if numbers.shape != labels.shape:
        raise DataError(f"{len(numbers)} family numbers for {len(labels)} labels: they must be one per image.")
    if not 0 < valid_fraction < 1:
        raise DataError(f"valid_fraction must be between 0 and 1, not {valid_fraction}.")
    rng = np.random.default_rng(seed)
    held = np.zeros(len(numbers), dtype=bool)
    for letter in np.unique(labels):
        rows = labels == letter
        fams = np.unique(numbers[rows])
        if len(fams) < 2:
            continue  # one photo of this letter: it stays in training
        want = valid_fraction * rows.sum()
        taken = 0
        for family in rng.permutation(fams)[:-1]:  # at least one family stays for training
            if taken >= want:
                break
            members = numbers == family
            held |= members
            taken += members.sum()
    return np.flatnonzero(~held), np.flatnonzero(held)


def random_split(n: int, valid_fraction: float = VALID_FRACTION, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """``(train_rows, valid_rows)`` drawn at random, as ``validation_split`` or ``train_test_split`` do."""
    if not 0 < valid_fraction < 1:
        raise DataError(f"valid_fraction must be between 0 and 1, not {valid_fraction}.")
    order = np.random.default_rng(seed).permutation(n)
    k = int(round(valid_fraction * n))
    return np.sort(order[k:]), np.sort(order[:k])


def nearest_training_cosine(train_pixels: np.ndarray, other_pixels: np.ndarray,
                            block_rows: int = BLOCK_ROWS) -> np.ndarray:
    """For each row of ``other_pixels``, the cosine (centred pixels) of its nearest training image."""
    train = centred_unit(train_pixels)
    other = centred_unit(other_pixels)
    best = np.empty(len(other), dtype=np.float32)
    for start in range(0, len(other), block_rows):
        best[start:start + block_rows] = (other[start:start + block_rows] @ train.T).max(axis=1)
    return best
