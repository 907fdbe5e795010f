"""Notebook 7's exercises (asl_course.grading.nb07_beyond_the_studio): the family split judged
against the grader's own families, the lookup prediction, low_contrast called on the grader's
images, each near-miss named; the self-checks say the grader's words; hostile answers get nothing."""

from __future__ import annotations

import builtins

import numpy as np
import pytest

from asl_course import grading
from asl_course.grading import judging
from asl_course.grading import nb07_beyond_the_studio as nb7
from asl_course.grading.refdata import Reference
from asl_course.learners import checks

PHOTOS, COPIES = 96, 8  # 4 photos per letter, 8 near-copies each


@pytest.fixture(scope="module")
def ref():
    """Training images made as the release was: near-copies of a few photos (one family each)."""
    rng = np.random.default_rng(0)
    photos = rng.integers(30, 226, (PHOTOS, 784)).astype("float64")
    copies = np.repeat(photos, COPIES, axis=0) + rng.normal(0, 3, (PHOTOS * COPIES, 784))
    order = rng.permutation(len(copies))
    x_train = np.clip(copies, 0, 255).astype(np.uint8)[order]
    y_train = (np.repeat(np.arange(PHOTOS), COPIES) % 24)[order]
    return Reference(x_train, y_train, rng.integers(0, 256, (40, 784), dtype=np.uint8), np.arange(40) % 24)


def photo_of(ref):
    return nb7.reference_families(ref)


def judged(grade_id, ns, ref):
    return judging.judge(grade_id, judging.observe(grade_id, ns, ref), ref)


def right_split(ref, seed=0):
    family, labels = photo_of(ref), ref.y_train
    rng = np.random.default_rng(seed)
    held = [rng.choice(np.unique(family[labels == letter])) for letter in range(24)]
    valid = np.isin(family, held)
    return np.flatnonzero(~valid), np.flatnonzero(valid)


def test_the_grader_s_families_are_the_photos(ref):
    family = photo_of(ref)
    assert len(np.unique(family)) == PHOTOS
    assert all(len(np.unique(ref.y_train[family == f])) == 1 for f in np.unique(family))


def test_a_family_split_passes(ref):
    train, valid = right_split(ref)
    assert judged("test_family_split", {"train_rows": train, "valid_rows": valid}, ref) == []


def half_split(ref):
    family, labels = photo_of(ref), ref.y_train
    held = [f for letter in range(24) for f in np.unique(family[labels == letter])[:2]]
    valid = np.isin(family, held)
    return np.flatnonzero(~valid), np.flatnonzero(valid)


def near_misses(ref):
    train, valid = right_split(ref)
    n = len(ref.y_train)
    rng = np.random.default_rng(1)
    rows = rng.permutation(n)
    mask = np.zeros(n, bool)
    mask[valid] = True
    one_letter_out = np.isin(np.arange(n), valid) & (ref.y_train != 0)
    return {
        "rows, not families": ((np.sort(rows[n // 5:]), np.sort(rows[:n // 5])), "families have images on both sides"),
        "a family on both sides": ((np.union1d(train, valid[:3]), valid), "rows are in both"),
        "a letter missing": ((np.flatnonzero(~one_letter_out), np.flatnonzero(one_letter_out)), "letters are held out"),
        "boolean masks": ((~mask, mask), "boolean mask"),
        "float indices": ((train.astype(float), valid), "holds floats"),
        "an image in neither": ((train[1:], valid), "in neither"),
        "too much held out": (half_split(ref), "holds 50%"),
        "a list is fine": ((list(train), valid), None),
        "not an array": (("rows", valid), "integer array of row numbers"),
        "out of range": ((np.append(train, n + 5), valid), "outside 0.."),
    }


def test_each_near_miss_of_the_split_is_named(ref):
    for name, ((train, valid), words) in near_misses(ref).items():
        mistakes = judged("test_family_split", {"train_rows": train, "valid_rows": valid}, ref)
        assert (mistakes == []) if words is None else (mistakes and words in mistakes[0]), (name, mistakes)


def test_the_split_is_judged_on_the_grader_s_families_not_the_notebook_s(ref):
    """A notebook whose own `family` says each image is its own family still fails the grader."""
    rows = np.random.default_rng(2).permutation(len(ref.y_train))
    ns = {"train_rows": np.sort(rows[150:]), "valid_rows": np.sort(rows[:150]), "family": np.arange(len(rows))}
    assert "families have images on both sides" in judged("test_family_split", ns, ref)[0]


@pytest.mark.parametrize("value, words", [("about 1.00", None), ("About 1.00", None),
                                          ("about 0.95", "near-copy"), ("about 0.83, like the test file", "test file"),
                                          (1.0, "not one of the options"), ("1", "not one of the options")])
def test_the_lookup_prediction(ref, value, words):
    mistakes = judged("test_predict_lookup", {"prediction": value}, ref)
    assert (mistakes == []) if words is None else (words in mistakes[0])


def right_contrast(images, factor):
    mean = images.mean(axis=(1, 2, 3), keepdims=True)
    return np.clip(mean + factor * (images - mean), 0, 1).astype(images.dtype)


def in_place(images, factor):
    mean = images.mean(axis=(1, 2, 3), keepdims=True)
    images -= mean
    images *= factor
    images += mean
    return np.clip(images, 0, 1, out=images)


WRONG_CONTRAST = {
    "the batch's mean": (lambda x, f: np.clip(x.mean() + f * (x - x.mean()), 0, 1).astype(x.dtype), "whole batch"),
    "no clip": (lambda x, f: (x.mean(axis=(1, 2, 3), keepdims=True) * (1 - f) + f * x).astype(x.dtype), "leave 0..1"),
    "the pixels": (lambda x, f: np.clip(f * x, 0, 1).astype(x.dtype), "multiplies the pixels"),
    "float64": (lambda x, f: right_contrast(x.astype("float64"), f), "float64"),
    "in place": (in_place, "changed the images"),
    "a shape lost": (lambda x, f: right_contrast(x, f)[..., 0], "shape"),
    "raises": (lambda x, f: x.nope, "raised AttributeError"),
    "not a function": (3, "not a function"),
    "something else": (lambda x, f: np.clip(0.5 + f * (x - 0.5), 0, 1).astype(x.dtype), "differs"),
}


def test_low_contrast_right_and_each_near_miss_named(ref):
    assert judged("test_low_contrast", {"low_contrast": right_contrast}, ref) == []
    for name, (fn, words) in WRONG_CONTRAST.items():
        mistakes = judged("test_low_contrast", {"low_contrast": fn}, ref)
        assert mistakes and words in mistakes[0], (name, mistakes)


def test_low_contrast_is_called_on_images_the_notebook_cannot_know(ref):
    seen = []

    def spy(images, factor):
        seen.append(images.copy())
        return right_contrast(images, factor)

    judged("test_low_contrast", {"low_contrast": spy}, ref)
    judged("test_low_contrast", {"low_contrast": spy}, ref)
    assert seen[0].shape == (nb7.CONTRAST_IMAGES, 28, 28, 1) and not np.array_equal(seen[0], seen[2])


def test_the_grader_s_reference_is_its_own(ref):
    x = (ref.x_valid[:4] / 255).reshape(-1, 28, 28, 1).astype("float32")
    want = right_contrast(x, 0.3)
    assert np.allclose(nb7.contrast_reference(x, 0.3), want) and nb7.contrast_reference(x, 0.3).dtype == np.float32


def test_hostile_answers_get_no_points(ref, monkeypatch, tmp_path):
    """A function that reads files or patches builtins, and a split that patches numpy, gain nothing."""
    secret = tmp_path / "answers.npy"
    np.save(secret, np.zeros((6, 28, 28, 1), "float32"))

    def reads_a_file(images, factor):
        return np.load(secret)

    assert judged("test_low_contrast", {"low_contrast": reads_a_file}, ref)

    def patches_builtins(images, factor):
        monkeypatch.setattr(builtins, "abs", lambda v: 0)
        monkeypatch.setattr(np, "array_equal", lambda *a, **k: True)
        return images

    assert judged("test_low_contrast", {"low_contrast": patches_builtins}, ref)

    class Liar(np.ndarray):
        def __eq__(self, other):
            return np.ones(np.shape(other), bool)

    rows = np.arange(len(ref.y_train)).view(Liar)
    assert judged("test_family_split", {"train_rows": rows, "valid_rows": rows[:0]}, ref)


def test_repairs_put_the_grader_s_values_in_place(ref):
    ns = {}
    nb7.repair_family_split(ns, ref)
    nb7.repair_low_contrast(ns, ref)
    assert judged("test_family_split", ns, ref) == []
    assert judged("test_low_contrast", ns, ref) == []


def test_the_self_checks_say_the_grader_s_words(ref, capsys):
    family = photo_of(ref)
    x_test = (ref.x_valid / 255).reshape(-1, 28, 28, 1).astype("float32")
    train, valid = right_split(ref)
    base = {"family": family, "labels": ref.y_train, "x_test": x_test}
    cases = [("family_split", {**base, "train_rows": valid, "valid_rows": train}, "test_family_split"),
             ("family_split", {**base, "train_rows": ~np.isin(np.arange(len(family)), valid),
                               "valid_rows": np.isin(np.arange(len(family)), valid)}, "test_family_split"),
             ("predict_lookup", {"prediction": "about 0.95"}, "test_predict_lookup"),
             ("low_contrast", {**base, "low_contrast": WRONG_CONTRAST["no clip"][0]}, "test_low_contrast")]
    for exercise, ns, grade_id in cases:
        with pytest.raises(checks.SelfCheckFailed) as failed:
            checks.self_check(exercise, ns)
        first = judged(grade_id, ns, ref)[0]
        mistake = str(failed.value).split("Mistake: ")[1].split("\n")[0]
        assert first.startswith(mistake), (exercise, mistake, first)
    checks.self_check("family_split", {**base, "train_rows": train, "valid_rows": valid})
    checks.self_check("predict_lookup", {"prediction": "about 1.00"})
    checks.self_check("low_contrast", {**base, "low_contrast": right_contrast})
    assert capsys.readouterr().out.count("\u2714") == 3


def test_the_notebook_s_helpers_on_small_data(ref, tmp_path):
    """The lookup table, the families' pictures, and the stored reports (missing, broken, present)."""
    from asl_course.learners import beyond

    family = photo_of(ref)
    train, valid = right_split(ref)
    assert beyond.lookup_accuracy(ref.x_train, ref.y_train, ref.x_train[valid], ref.y_train[valid]) == 1.0
    assert beyond.lookup_accuracy(ref.x_train[train], ref.y_train[train], ref.x_train[valid], ref.y_train[valid]) < 0.2
    beyond.show_families(ref.x_train, np.arange(len(family)), ref.y_train)  # single images: still draws
    assert beyond.stored_report("nothing.json", tmp_path) is None
    (tmp_path / "broken.json").write_text("{not json")
    assert beyond.stored_report("broken.json", tmp_path) is None
    assert "stored results not available" in beyond.recipes_lines(None)[0]
    assert "stored results not available" in beyond.splits_lines(None)[0]
    table = {"suite": 1, "seed": 0, "clean": 0.9,
             "kinds": {k: {1: 0.5, 2: 0.4} for k in beyond.shifts.KINDS}}
    report = {"data": "stand-in", "epochs": 1, "suite": 1, "runs": [{"recipe": r, "seed": 0, "table": table}
                                                                     for r in ("none", "designed")]}
    lines = beyond.recipes_lines(report)
    assert "held-out mean" in "\n".join(lines) and "designed 0" in lines[1] and "not your run" in lines[0]
