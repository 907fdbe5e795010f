"""How good is the model, letter by letter? Confusion matrix, per-letter accuracy, mistakes.

Used by notebook 5. The numbers are computed here and returned as data (arrays, lists of
:class:`ConfusedPair`), so that a notebook prints what it measured and its text never has to
claim a figure it did not compute; the ``plot_*``/``show_*`` functions only draw them.

Conventions: the confusion matrix ``cm[i, j]`` counts images of true class ``i`` predicted as
class ``j`` (rows: true letters, columns: predicted letters), like scikit-learn's. A letter's
accuracy is ``cm[i, i] / cm[i].sum()`` (the share of its images the model gets right, also
called its recall); a letter with no images has accuracy ``nan``.
"""

from __future__ import annotations

import dataclasses

import numpy as np

from asl_course import dataset as _data
from asl_course.i18n import drawing, lookup, t
from asl_course.learners import notebook
from asl_course.learners.mistakes import fail

LETTERS = _data.LETTERS
NUM_CLASSES = _data.NUM_CLASSES


def _labels(values, name: str) -> np.ndarray:
    arr = np.asarray(values)
    if arr.ndim == 2 and arr.shape[1] == NUM_CLASSES:  # one-hot rows or probabilities
        arr = arr.argmax(axis=1)
    if arr.ndim != 1:
        raise ValueError(t("{name} should be class numbers 0..23 (or one-hot rows), got shape {shape}.",
                           name=name, shape=arr.shape))
    if arr.size and (arr.min() < 0 or arr.max() >= NUM_CLASSES):
        raise ValueError(t("{name} holds values outside 0..23.", name=name))
    return arr.astype(np.int64)


def confusion_matrix(labels, predicted) -> np.ndarray:
    """24x24 counts: ``cm[true, predicted]``. Accepts class numbers or one-hot/probability rows."""
    true = _labels(labels, "labels")
    pred = _labels(predicted, "predicted")
    if true.shape != pred.shape:
        raise ValueError(t("labels ({true}) and predicted ({predicted}) differ in length.",
                           true=true.shape, predicted=pred.shape))
    cm = np.zeros((NUM_CLASSES, NUM_CLASSES), dtype=np.int64)
    np.add.at(cm, (true, pred), 1)
    return cm


def accuracy_per_letter(cm) -> np.ndarray:
    """Per-letter accuracy from a confusion matrix: diagonal / row sums (``nan`` for no images)."""
    cm = np.asarray(cm, dtype="float64")
    totals = cm.sum(axis=1)
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(totals > 0, np.diagonal(cm) / np.where(totals > 0, totals, 1), np.nan)


def per_letter_accuracy(labels, predicted) -> np.ndarray:
    """The 24 per-letter accuracies (in the order of :data:`LETTERS`)."""
    return accuracy_per_letter(confusion_matrix(labels, predicted))


@dataclasses.dataclass(frozen=True)
class ConfusedPair:
    """``count`` images of ``true`` were predicted as ``predicted`` (``share`` of ``true``'s images).

    With ``symmetric=True`` in :func:`most_confused_pairs`, ``count`` adds both directions and
    ``share`` is that count over both letters' images.
    """

    true: str
    predicted: str
    count: int
    share: float

    def __str__(self) -> str:
        return t("{true} -> {predicted}: {count} images ({share:.1%})", true=self.true, predicted=self.predicted,
                 count=self.count, share=self.share)


def most_confused_pairs(labels, predicted, *, top: int = 5, symmetric: bool = False) -> list[ConfusedPair]:
    """The ``top`` most frequent mistakes, as data: largest count first, then alphabetical.

    Only pairs that actually occur (count >= 1) are listed, so the list may be shorter.
    """
    cm = confusion_matrix(labels, predicted)
    totals = cm.sum(axis=1)
    pairs = []
    for i in range(NUM_CLASSES):
        for j in range(NUM_CLASSES):
            if i == j or (symmetric and j < i):
                continue
            count = int(cm[i, j] + (cm[j, i] if symmetric else 0))
            images = int(totals[i] + (totals[j] if symmetric else 0))
            if count:
                pairs.append(ConfusedPair(LETTERS[i], LETTERS[j], count, count / images if images else 0.0))
    pairs.sort(key=lambda p: (-p.count, p.true, p.predicted))
    return pairs[:top]


def misclassified(labels, predicted, probabilities=None) -> np.ndarray:
    """Indices of wrongly predicted images; most confident mistakes first when probabilities are given."""
    true = _labels(labels, "labels")
    pred = _labels(predicted, "predicted")
    wrong = np.flatnonzero(true != pred)
    if probabilities is not None:
        confidence = np.asarray(probabilities)[wrong, pred[wrong]]
        wrong = wrong[np.argsort(-confidence, kind="stable")]
    return wrong


def figure_caption(data_dir=None, model_label: str = "asl_model.keras") -> str:
    """A figure title naming the data (real, or the synthetic stand-in) and the model evaluated."""
    if notebook.is_real(data_dir):
        return t("Sign Language MNIST validation set (real data), model {model}", model=model_label)
    return t("SYNTHETIC STAND-IN, not real results - model {model}", model=model_label)


# --- Pictures -------------------------------------------------------------------------------


@drawing
def plot_confusion_matrix(labels, predicted, *, title: str | None = None, annotate: bool = True):
    """The confusion matrix with letters on both axes; colour = share of the true letter's images."""
    import matplotlib.pyplot as plt

    cm = confusion_matrix(labels, predicted)
    totals = cm.sum(axis=1, keepdims=True)
    shares = np.divide(cm, totals, out=np.zeros(cm.shape, dtype="float64"), where=totals > 0)
    fig, ax = plt.subplots(figsize=(9.5, 8.2))
    image = ax.imshow(shares, cmap="Blues", vmin=0, vmax=1)
    ticks = np.arange(NUM_CLASSES)
    ax.set_xticks(ticks, list(LETTERS))
    ax.set_yticks(ticks, list(LETTERS))
    ax.set_xlabel(t("predicted letter"))
    ax.set_ylabel(t("true letter"))
    if annotate:
        for i in range(NUM_CLASSES):
            for j in range(NUM_CLASSES):
                if cm[i, j]:
                    ax.text(j, i, str(cm[i, j]), ha="center", va="center", fontsize=5.5,
                            color="white" if shares[i, j] > 0.5 else ("black" if i == j else "tab:red"))
    fig.colorbar(image, ax=ax, fraction=0.046, pad=0.03, label=t("share of the true letter's images"))
    accuracy = np.trace(cm) / max(cm.sum(), 1)
    heading = t("confusion matrix: {n:,} images, accuracy {accuracy:.3f}", n=cm.sum(), accuracy=accuracy)
    ax.set_title((lookup(title) + "\n" if title else "") + heading, fontsize=10)
    fig.tight_layout()
    plt.show()


@drawing
def plot_per_letter_accuracy(accuracies, *, overall: float | None = None, title: str | None = None):
    """A bar per letter (24 values in the order of :data:`LETTERS`), the overall accuracy as a line."""
    import matplotlib.pyplot as plt

    acc = np.asarray(accuracies, dtype="float64")
    fig, ax = plt.subplots(figsize=(10, 3.4))
    colors = ["tab:red" if a < 0.5 else ("tab:orange" if a < 0.8 else "tab:blue") for a in np.nan_to_num(acc)]
    ax.bar(list(LETTERS), np.nan_to_num(acc), color=colors)
    if overall is not None:
        ax.axhline(overall, color="black", ls="--", lw=1, label=t("all letters: {overall:.3f}", overall=overall))
        ax.legend(loc="lower right", bbox_to_anchor=(1, 1), fontsize=8, frameon=False)  # above the bars
    ax.set_ylim(0, 1.05)
    ax.set_ylabel(t("accuracy"))
    ax.set_xlabel(t("true letter"))
    ax.grid(axis="y", alpha=0.3)
    ax.set_title(lookup(title) if title else t("accuracy per letter"), fontsize=10)
    fig.tight_layout()
    plt.show()


@drawing
def show_misclassified(images, labels, predicted, probabilities=None, *, max_images: int = 24,
                       per_pair: int = 2, cols: int = 8, title: str | None = None):
    """A gallery of wrongly predicted images, titled ``true -> predicted`` (and the confidence).

    The most confident mistakes come first, at most ``per_pair`` of each (true, predicted)
    pair, so that one frequent mistake does not fill the gallery.
    """
    import matplotlib.pyplot as plt

    true = _labels(labels, "labels")
    pred = _labels(predicted, "predicted")
    wrong, seen = [], {}
    for index in misclassified(labels, predicted, probabilities):  # at most per_pair of each mistake
        pair = (true[index], pred[index])
        if seen.get(pair, 0) < per_pair:
            seen[pair] = seen.get(pair, 0) + 1
            wrong.append(index)
        if len(wrong) == max_images:
            break
    if not len(wrong):
        print(t("No misclassified images: nothing to show."))
        return
    rows = int(np.ceil(len(wrong) / cols))
    fig, axes = plt.subplots(rows, cols, figsize=(cols * 1.35, rows * 1.8 + 0.6), squeeze=False)
    for ax in axes.ravel():
        ax.axis("off")
    for ax, index in zip(axes.ravel(), wrong):
        ax.imshow(np.squeeze(np.asarray(images)[index]), cmap="gray")
        text = f"{LETTERS[true[index]]} -> {LETTERS[pred[index]]}"
        if probabilities is not None:
            text += f"\n{float(np.asarray(probabilities)[index, pred[index]]):.0%}"
        ax.set_title(text, fontsize=8, color="tab:red")
    total = int((true != pred).sum())
    heading = (t("{shown} of {total:,} misclassified images (true -> predicted, most confident first, at most "
                 "{per_pair} per pair)", shown=len(wrong), total=total, per_pair=per_pair) if probabilities is not None
               else t("{shown} of {total:,} misclassified images (true -> predicted)", shown=len(wrong), total=total))
    fig.suptitle((lookup(title) + "\n" if title else "") + heading, fontsize=10)
    fig.tight_layout()
    plt.show()


# --- Notebook 5: self-check and grading of the per-letter accuracy exercise -------------------


def check_accuracy_per_letter(fn, cm) -> None:
    """Self-check: ``fn(cm)`` gives each letter's share of its own images predicted right."""
    got = np.asarray(fn(cm), dtype="float64")
    want = accuracy_per_letter(cm)
    if got.shape != (NUM_CLASSES,):
        fail(t("the result has shape {shape}; expected 24 values, one per letter.", shape=got.shape),
             t("divide the diagonal by the row sums: cm.diagonal() / cm.sum(axis=1)."))
    columns = np.asarray(cm, dtype="float64").sum(axis=0)
    with np.errstate(invalid="ignore", divide="ignore"):
        by_column = np.diagonal(cm) / columns
    if not np.allclose(got, want, equal_nan=True) and np.allclose(got, by_column, equal_nan=True):
        fail(t("you divided by the column sums (images *predicted* as each letter)."),
             t("rows are the true letters: divide by cm.sum(axis=1)."))
    if not np.allclose(got, want, equal_nan=True):
        fail(t("the values are not correct / images of each letter."),
             t("cm.diagonal() / cm.sum(axis=1): the diagonal holds the correct predictions."))
    print(t("\u2714 per-letter accuracy: {accuracies}",
            accuracies=", ".join(f"{letter} {a:.2f}" for letter, a in zip(LETTERS, got))))
