"""Notebook 7 (hands the data set never showed): the lookup table, the stored robustness results.

- :func:`lookup_accuracy`: a 1-nearest-neighbour lookup (cosine of centred pixels, numpy matrix
  products): what memory alone scores on a set of images.
- :func:`stored_report`: the course's stored results on the real data
  (``asl_course/reference/robustness_real.json``, ``splits_real.json``, written by
  ``asl-course bench robustness|splits --json``), or None when a file is missing or unreadable;
  :func:`stored_splits_lines`, :func:`stored_recipes_lines` show them, or say they are not available.
- :func:`show_families`: pictures of a few families of near-copies.

Numpy only, plus matplotlib for the pictures.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np

from asl_course.dataset import families
from asl_course.dataset.families import describe, family_split, nearest_training_cosine, random_split  # noqa: F401 - the notebook's names
from asl_course.i18n import drawing, t
from asl_course.learners import shifts

REFERENCE = Path(__file__).resolve().parent.parent / "reference"
ROBUSTNESS_FILE = "robustness_real.json"
SPLITS_FILE = "splits_real.json"
LOOKUP_BLOCK = 1024
"""Rows compared at once (a block of similarities is ``LOOKUP_BLOCK x`` training images, float32)."""


def lookup_predict(train_pixels, train_labels, pixels, block_rows: int = LOOKUP_BLOCK) -> np.ndarray:
    """The label of each row's nearest training image (cosine of centred pixels)."""
    train = families.centred_unit(train_pixels)
    other = families.centred_unit(pixels)
    labels = np.asarray(train_labels)
    out = np.empty(len(other), dtype=labels.dtype)
    for start in range(0, len(other), block_rows):
        out[start:start + block_rows] = labels[(other[start:start + block_rows] @ train.T).argmax(axis=1)]
    return out


def lookup_accuracy(train_pixels, train_labels, pixels, labels) -> float:
    """The share of ``pixels`` whose nearest training image has their label."""
    return float(np.mean(lookup_predict(train_pixels, train_labels, pixels) == np.asarray(labels)))


def family_numbers(data_dir=None) -> np.ndarray:
    """The family of each training image of the data folder (``dataset.families.families``, cached there)."""
    return families.families(data_dir)


def stored_report(name: str, folder=REFERENCE) -> dict | None:
    """A stored report (a JSON object), or None when it is missing or unreadable."""
    try:
        report = json.loads((Path(folder) / name).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    return report if isinstance(report, dict) else None


def not_available(name: str) -> str:
    return t("stored results not available ({name} is not in asl_course/reference/ yet)", name=name)


def splits_lines(report: dict | None, name: str = SPLITS_FILE) -> list[str]:
    """The stored ``bench splits`` report: each split's held-out accuracy against the test file's."""
    if report is None:
        return [not_available(name)]
    lines = [t("stored results ({data}, {recipe} recipe, {epochs} epochs, seed {seed}): not your run",
               data=report.get("data", "?"), recipe=report.get("recipe", "?"), epochs=report.get("epochs", "?"),
               seed=report.get("seed", "?")),
             f"  {'split':9s} {'held out':>9s} {'validation':>10s} {'test file':>9s} {'error':>7s}"]
    for split, s in report.get("splits", {}).items():
        lines.append(f"  {split:9s} {s['held_out_images']:9,d} {s['held_out_accuracy']:10.4f} "
                     f"{s['test_accuracy']:9.4f} {s['error_of_validation']:+7.4f}")
    return lines


def recipe_rows(report: dict) -> dict[str, list[dict]]:
    """Per recipe, per seed: the per-kind means and the design / held-out summaries."""
    rows: dict[str, list[dict]] = {}
    for run in report.get("runs", []):
        rows.setdefault(run["recipe"], []).append({"seed": run["seed"], "clean": run["table"]["clean"],
                                                   **shifts.summary(run["table"])})
    return rows


def recipes_lines(report: dict | None, name: str = ROBUSTNESS_FILE) -> list[str]:
    """The stored ``bench robustness`` report: per kind the mean over severities, then the design and
    held-out means and worst kinds, one column per recipe and seed."""
    if report is None:
        return [not_available(name)]
    rows = recipe_rows(report)
    columns = [(recipe, r) for recipe, runs in rows.items() for r in runs]
    if not columns:
        return [not_available(name)]
    head = [t("stored results ({data}, {epochs} epochs, suite v{suite}): not your run", data=report.get("data", "?"),
              epochs=report.get("epochs", "?"), suite=report.get("suite", "?"))]
    head.append(f"{'kind':<14}" + "".join(f"{recipe[:8] + ' ' + str(r['seed']):>11}" for recipe, r in columns))
    head.append(f"{'clean':<14}" + "".join(f"{r['clean']:>11.3f}" for _, r in columns))
    for kind in shifts.KINDS:
        if all(kind in r["per_kind"] for _, r in columns):
            tag = " *" if shifts.KINDS[kind].held_out else ""
            head.append(f"{kind + tag:<14}" + "".join(f"{r['per_kind'][kind]:>11.3f}" for _, r in columns))
    for group in ("design", "held_out"):
        if all(group in r for _, r in columns):
            head.append(f"{group.replace('_', '-') + ' mean':<14}"
                        + "".join(f"{r[group]['mean']:>11.3f}" for _, r in columns))
            head.append(f"{group.replace('_', '-') + ' worst':<14}"
                        + "".join(f"{r[group]['worst_accuracy']:>11.3f}" for _, r in columns))
    head.append(t("* held-out kinds: never looked at while the designed augmentation was chosen"))
    return head


@drawing
def show_families(pixels, numbers, labels, *, count: int = 4, per_family: int = 8, seed: int = 0):
    """``count`` families (rows), ``per_family`` of their images each (columns)."""
    import matplotlib.pyplot as plt

    numbers = np.asarray(numbers)
    rng = np.random.default_rng(seed)
    sizes = np.bincount(numbers)
    largest = np.argsort(-sizes, kind="stable")[:count * 10]  # families with at least a few images
    chosen = rng.choice(largest, size=min(count, len(largest)), replace=False)
    count = len(chosen)
    fig, axes = plt.subplots(count, per_family, figsize=(per_family * 0.9, count * 1.0), squeeze=False)
    for row, family in zip(axes, chosen):
        members = np.flatnonzero(numbers == family)[:per_family]
        for ax, index in zip(row, members):
            ax.imshow(np.asarray(pixels[index]).reshape(28, 28), cmap="gray")
        row[0].set_ylabel(t("family {number}", number=int(family)), fontsize=8)
    for ax in axes.ravel():
        ax.set_xticks([])
        ax.set_yticks([])
    fig.suptitle(t("near-copies of one photo each (a row: one family)"), fontsize=9)
    fig.tight_layout()
    return fig
