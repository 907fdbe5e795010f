"""Every figure the notebooks show, rendered (Agg) in every mode it has, and checked for what a
reader needs: the whole figure about 1,000 pixels wide, every text inside it and clear of the
others, a short legend that covers no data, whole-epoch ticks, every promised series drawn
inside the axes, and the notebook's words next to the figure saying what it shows.

No training: the histories are made-up ``History.history``-like dicts, or the stored runs.
Each rendered figure is kept as ``test-artifacts/figures/NAME.png`` (look at them).
"""

from __future__ import annotations

import itertools
import re
from pathlib import Path

import nbformat
import numpy as np
import pytest

from asl_course.learners import lesson

matplotlib = pytest.importorskip("matplotlib")
matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
from matplotlib.text import Text  # noqa: E402

REPO = Path(__file__).resolve().parent.parent
ARTIFACTS = REPO / "test-artifacts" / "figures"
#: A notebook's output area on a laptop: figures 10 inches (1,000 px at 100 dpi) wide, 10% slack.
MAX_WIDTH_INCHES = 11.0
LEGEND_CHARS = 40


# --- Rendering and the checks every figure passes ------------------------------------------------


@pytest.fixture
def shown(monkeypatch):
    """Call a figure function the way a notebook does; return the figures it drew, rendered, saved
    and checked. Closes them afterwards."""
    drawn = []

    def show(name, function, *args, **kwargs):
        before = set(plt.get_fignums())
        function(*args, **kwargs)
        figures = [plt.figure(n) for n in plt.get_fignums() if n not in before]
        for i, fig in enumerate(figures):
            fig.canvas.draw()  # once: the picture kept (before any check can fail) is the one checked
            ARTIFACTS.mkdir(parents=True, exist_ok=True)
            plt.imsave(ARTIFACTS / f"{name}{'-' + str(i) if i else ''}.png", np.asarray(fig.canvas.buffer_rgba()))
            assert_readable(fig)
        drawn.extend(figures)
        return figures

    monkeypatch.setattr(plt, "show", lambda *a, **k: None)
    yield show
    for fig in drawn:
        plt.close(fig)


def layout_texts(fig) -> list[tuple]:
    """The figure's visible, non-empty words that are not data annotations, each with the axes
    it belongs to (None: the figure's): titles, axis labels, drawn tick labels, legend entries,
    figure texts."""
    owned = [(t, None) for t in fig.texts]  # suptitle and notes among them
    owned += [(t, None) for legend in fig.legends for t in legend.get_texts()]
    for ax in fig.axes:  # its three titles (centre, left, right), not its annotations
        texts = [t for t in ax.get_children() if isinstance(t, Text) and t not in ax.texts]
        if ax.axison:
            texts += [ax.xaxis.label, ax.yaxis.label] + tick_labels(ax.xaxis, 0) + tick_labels(ax.yaxis, 1)
        if ax.get_legend():
            texts += ax.get_legend().get_texts()
        owned += [(t, ax) for t in texts]
    kept = {id(t): (t, ax) for t, ax in owned if t.get_visible() and t.get_text().strip()}
    return list(kept.values())


def tick_labels(axis, coordinate: int) -> list:
    """The tick labels drawn: those of ticks inside the view (Matplotlib keeps some outside)."""
    low, high = sorted(axis.get_view_interval())
    slack = 1e-9 * abs(high - low)
    return [label for label in axis.get_ticklabels() if low - slack <= label.get_position()[coordinate] <= high + slack]


def drawn_axes(fig) -> list:
    """The axes that show something: a frame, an image, a curve, a bar or a note."""
    return [ax for ax in fig.axes
            if ax.images or ax.lines or ax.collections or ax.patches or ax.texts or (ax.axison and ax.get_frame_on())]


def extent(artist, renderer):
    return artist.get_window_extent(renderer)


def assert_readable(fig) -> None:
    """(Of a drawn figure.) Width; every word inside the figure, clear of every other word and of every other plot;
    legends short and off the data; annotations inside their plot."""
    assert fig.get_size_inches()[0] <= MAX_WIDTH_INCHES, f"{fig.get_size_inches()[0]} inches wide"
    renderer = fig.canvas.get_renderer()
    texts = [(text, owner, extent(text, renderer).padded(-1)) for text, owner in layout_texts(fig)]
    for text, _, box in texts:
        assert fig.bbox.contains(box.x0, box.y0) and fig.bbox.contains(box.x1, box.y1), \
            f"{text.get_text()[:60]!r} reaches out of the figure"
    for (a, _, box_a), (b, _, box_b) in itertools.combinations(texts, 2):
        assert not box_a.overlaps(box_b), f"{a.get_text()[:40]!r} overlaps {b.get_text()[:40]!r}"
    plots = drawn_axes(fig)
    for text, owner, box in texts:
        for ax in plots:
            assert ax is owner or not box.overlaps(ax.bbox), f"{text.get_text()[:40]!r} lies over another plot"
    for ax in fig.axes:
        for text in ax.texts:  # annotations stay in their own plot
            box = extent(text, renderer)
            assert ax.bbox.padded(2).contains(box.x0, box.y0) and ax.bbox.padded(2).contains(box.x1, box.y1)
    for legend in legends(fig):
        assert_legend_clear(legend, fig, renderer)


def assert_legend_clear(legend, fig, renderer) -> None:
    """Short entries, and no point of a curve nor any bar under the legend."""
    entries = [t.get_text() for t in legend.get_texts()]
    assert all(len(e) <= LEGEND_CHARS for e in entries), [e for e in entries if len(e) > LEGEND_CHARS]
    box = extent(legend, renderer)
    for ax in fig.axes:
        for line in ax.lines:
            points = line.get_transform().transform(np.column_stack(line.get_data()).astype(float))
            covered = [p for p in points if np.isfinite(p).all() and box.contains(*p)]
            assert not covered, f"the legend covers {line.get_label()!r}"
        for bar in ax.patches:
            assert not box.overlaps(extent(bar, renderer)), "the legend covers a bar"


def legends(fig) -> list:
    return list(fig.legends) + [ax.get_legend() for ax in fig.axes if ax.get_legend()]


def legend_entries(fig) -> list[str]:
    return [t.get_text() for legend in legends(fig) for t in legend.get_texts()]


def figure_words(fig) -> str:
    """Every word the figure shows (title, legend, notes), in one string."""
    return " ".join(t.get_text() for t, _ in layout_texts(fig)).replace("\n", " ")


def assert_whole_epochs(ax, epochs: int) -> None:
    """Ticks at whole epochs within 1..epochs, their labels apart, and every epoch in view."""
    low, high = ax.get_xlim()
    ticks = [t for t in ax.get_xticks() if low <= t <= high]
    assert ticks and all(float(t).is_integer() and 1 <= t <= epochs for t in ticks), ticks
    assert low < 1 and high > epochs
    renderer = ax.figure.canvas.get_renderer()
    boxes = [extent(t, renderer) for t in ax.get_xticklabels() if t.get_text()]
    assert not any(a.overlaps(b) for a, b in itertools.combinations(boxes, 2))


def assert_in_view(ax, line) -> None:
    """Every finite point of ``line`` drawn inside the axes (in pixels: log scales, and lines
    such as ``axhline`` whose x is in axes coordinates, alike)."""
    xy = np.column_stack([np.asarray(v, dtype=float) for v in line.get_data()])
    xy = xy[np.isfinite(xy).all(axis=1)]
    assert len(xy), f"{line.get_label()!r} has no points"
    box = ax.bbox.padded(0.5)
    outside = [tuple(p) for p, q in zip(xy, line.get_transform().transform(xy)) if not box.contains(*q)]
    assert not outside, f"{line.get_label()!r}: {outside} outside x {ax.get_xlim()}, y {ax.get_ylim()}"


def markdown_before(notebook: str, call: str) -> str:
    """The markdown cells right before (and after) the code cell that calls ``call``, in the
    source notebook, as one string."""
    path = next((REPO / "source").glob(f"{notebook}*/*.ipynb"))
    cells = nbformat.read(path, as_version=4).cells
    i = next(i for i, c in enumerate(cells) if c.cell_type == "code" and call in c.source)
    before = []
    for cell in reversed(cells[:i]):
        if cell.cell_type != "markdown":
            break
        before.insert(0, cell.source)
    after = cells[i + 1].source if i + 1 < len(cells) and cells[i + 1].cell_type == "markdown" else ""
    return re.sub(r"\s+", " ", "\n".join(before + [after]))


def sentence_with(text: str, *words: str) -> str | None:
    """The first sentence (or list item) of ``text`` holding every one of ``words``."""
    for sentence in re.split(r"(?<=[.!?])\s+|\s+- ", text):
        if all(w.lower() in sentence.lower() for w in words):
            return sentence
    return None


def history(epochs: int, start: float = 0.6, end: float = 0.98, seed: int = 0) -> dict:
    """A ``History.history``-like dict: accuracy rising from ``start`` to ``end``, loss falling."""
    rng = np.random.default_rng(seed)
    acc = np.clip(np.linspace(start, end, epochs) + rng.normal(0, 0.01, epochs), 0, 1)
    val = np.clip(acc + rng.normal(0.02, 0.02, epochs), 0, 1)
    return {"loss": list(1.5 * (1 - acc) + 0.01), "accuracy": list(acc),
            "val_loss": list(1.5 * (1 - val) + 0.02), "val_accuracy": list(val)}


# --- Notebook 4: "Did augmentation help?" -----------------------------------------------------------

BASELINE_CASES = {  # data, reference run kept, mode; grading: no baseline at all
    "real-fast": (True, True, "1", False), "real-full": (True, True, "0", False),
    "standin-fast": (False, True, "1", False), "standin-full": (False, True, "0", False),
    "noreference-full": (True, False, "0", False), "grading": (True, True, "1", True),
}


@pytest.mark.parametrize("case", list(BASELINE_CASES))
def test_notebook4_history_figure(case, shown, monkeypatch, tmp_path):
    """The comparison figure in each mode: both runs drawn (one point each in fast mode), whole
    epochs, short legend entries, the baseline's origin in the caption and in the text above."""
    from asl_course.learners import notebook

    real, kept, fast, grading = BASELINE_CASES[case]
    monkeypatch.setenv("ASL_COURSE_FAST", fast)
    monkeypatch.delenv("NBGRADER_EXECUTION", raising=False)
    if grading:
        monkeypatch.setenv("NBGRADER_EXECUTION", "autograde")
    monkeypatch.setattr(notebook, "is_real", lambda data_dir=None: real)
    if not kept:
        monkeypatch.setattr(notebook, "BASELINE_FILE", tmp_path / "absent.json")
    epochs = lesson.run_plan().epochs

    class Trained:  # lesson.train, without training: a made-up history of the plan's length
        history = history(epochs, 0.7, 0.95, seed=1)

    monkeypatch.setattr(lesson, "train", lambda *a, **k: Trained)
    monkeypatch.setattr(lesson, "build_model", lambda: None)
    monkeypatch.setattr(lesson, "compile_model", lambda model: None)
    baseline, label = notebook.baseline_history(None, tmp_path)
    curves = {"with augmentation": history(epochs), label: baseline}
    (fig,) = shown(f"nb4-histories-{case}", notebook.plot_histories, curves, title=notebook.figure_caption(tmp_path))

    ax_loss, ax_acc = fig.axes
    for ax, key in ((ax_loss, "loss"), (ax_acc, "accuracy")):
        assert_whole_epochs(ax, epochs)
        for curve in filter(None, curves.values()):
            drawn = [line for line in ax.lines if list(line.get_ydata()) in (curve[key], curve[f"val_{key}"])]
            assert len(drawn) == 2, f"{key}: the train and validation series of a run"
            for line in drawn:
                assert_in_view(ax, line)
                assert line.get_marker() not in (None, "", "None"), "a one-epoch series is a point: it needs a marker"
    words = figure_words(fig)
    assert "with augmentation" in legend_entries(fig)
    text = markdown_before("04", "plot_histories(")
    if grading:
        assert baseline is None and "no augmentation: not shown" in words
    elif "reference run" in label:  # the stored run's epochs: said in the caption and in the text
        assert label.split(" (")[1].rstrip(")") in words
        mode = ("fast mode", "first epoch") if fast == "1" else ("full mode",)
        assert sentence_with(text, "reference run", *mode), f"the text does not say {mode}: {text}"
    else:
        assert "trained in this notebook" in words
        assert sentence_with(text, "trained here", "stand-in" if not real else "recorded")
    if epochs == 1:
        assert "one point" in words and sentence_with(text, "fast mode", "single point")


def test_notebook4_stored_results_figure(shown, capsys):
    """The stored full runs: whole epochs 1..20, every recorded point in view, and the epochs the
    text quotes ("0.72 at epoch 2") are points of the figure."""
    from asl_course.learners import notebook

    runs = notebook.stored_results()
    if not runs:
        pytest.skip("no stored results in this copy of the package")
    (fig,) = shown("nb4-stored-results", notebook.show_stored_results)
    (ax,) = fig.axes
    assert_whole_epochs(ax, max(r["summary"]["epochs"] for r in runs))
    for line in ax.lines:
        assert_in_view(ax, line)
    points = {(round(float(x)), round(float(y), 2)) for line in ax.lines if line.get_transform() == ax.transData
              for x, y in zip(*line.get_data())}
    text = markdown_before("04", "show_stored_results(")
    quoted = re.findall(r"(0\.\d\d) at epoch (\d+)", text)
    assert quoted, text
    for value, epoch in quoted:
        assert (int(epoch), float(value)) in points, f"the text quotes {value} at epoch {epoch}: not in the figure"
    assert "Stored result, not this notebook's run" in figure_words(fig)


def test_notebook4_stored_results_absent(shown, monkeypatch, tmp_path):
    """Without the stored files: no empty figure (the table's text says there are none)."""
    from asl_course.learners import notebook

    monkeypatch.setattr(notebook, "AUGMENTED_FILE", tmp_path / "a.json")
    monkeypatch.setattr(notebook, "BASELINE_FILE", tmp_path / "b.json")
    assert notebook.stored_results() == []
    assert shown("nb4-stored-results-absent", notebook.show_stored_results) == []


# --- Notebook 6: the stored runs and the learner's run ----------------------------------------------

YOUR_RUNS = {"fast": ("1", [0.26]), "full": ("0", list(np.linspace(0.9, 0.999, 20))), "none": ("1", None)}


@pytest.mark.parametrize("mode", list(YOUR_RUNS))
def test_notebook6_stored_runs_figure(mode, shown, monkeypatch, capsys):
    """Every stored run, the lesson's log and the learner's run (fast mode's ~0.26 too) drawn
    inside the axes; whole epochs; one short legend entry per recipe, whose epochs and seeds the
    text above the figure states."""
    from asl_course.learners import recipe

    stored = recipe.stored_runs()
    if stored is None:
        pytest.skip("no stored runs in this copy of the package")
    fast, val = YOUR_RUNS[mode]
    monkeypatch.setenv("ASL_COURSE_FAST", fast)
    mine = {"val_accuracy": val} if val else None
    (fig,) = shown(f"nb6-stored-runs-{mode}", recipe.show_stored_runs, mine)
    (ax,) = fig.axes
    assert_whole_epochs(ax, 20)
    by_label = {line.get_label(): line for line in ax.lines}
    for run in stored["runs"]:
        assert_in_view(ax, by_label[f"{run['recipe']}, seed {run['seed']}"])
    assert_in_view(ax, by_label["the lesson's own log (its GPU)"])
    entries = legend_entries(fig)
    if mine:
        (your,) = [line for line in ax.lines if line.get_label().startswith("your run")]
        assert list(your.get_ydata()) == val and your.get_label() in entries
        assert_in_view(ax, your)
        assert ("fast mode" in your.get_label()) == (fast == "1")
        if "Your run reaches" in figure_words(fig):  # the scale stretched down to it: the text says so
            assert sentence_with(markdown_before("06", "show_stored_runs("), "fast mode", "stretches down")
    else:
        assert not any(e.startswith("your run") for e in entries)
    text = markdown_before("06", "show_stored_runs(")
    for entry in entries:
        match = re.fullmatch(r"(\w+) \((\d+) seeds, (\d+) epochs\)", entry)
        if match:
            name, seeds, epochs = match.groups()
            assert sentence_with(text, f"**{name}**", f"{epochs} epochs", f"{seeds} seeds"), \
                f"the text does not say that {name} is {seeds} seeds of {epochs} epochs"
    assert {r["recipe"] for r in stored["runs"]} <= {e.split(" (")[0] for e in entries}
    out = capsys.readouterr().out
    assert "Stored results, not this notebook's run" in out
    for run in stored["runs"]:  # under the table: what each recipe is, its length included
        epochs = len(run["history"]["val_accuracy"])
        assert re.search(rf"^{run['recipe']}: .*\b{epochs} epochs", out, re.M), out


def test_notebook6_stored_runs_absent(shown, monkeypatch, tmp_path, capsys):
    from asl_course.learners import recipe

    monkeypatch.setattr(recipe, "RECALIBRATED_FILE", tmp_path / "absent.json")
    assert shown("nb6-stored-runs-absent", recipe.show_stored_runs, {"val_accuracy": [0.3]}) == []
    assert "not in this copy" in capsys.readouterr().out


# --- The pictures: image grids, the confusion matrix, per-letter accuracy ---------------------------


@pytest.fixture(scope="module")
def signs():
    """24 made-up 28x28 'signs' in 0..1 (one per letter) and their one-hot labels."""
    rng = np.random.default_rng(0)
    images = rng.random((24, 28, 28, 1)).astype("float32") * 0.3
    images[:, 8:20, 8:20] += 0.6
    return images, np.eye(24, dtype="float32")


def test_image_grids(shown, signs):
    """Notebooks 1, 3 and 6's grids of images: every title inside the figure and apart."""
    from asl_course.learners import notebook

    images, labels = signs
    shown("grid", notebook.show_grid, images, labels, title="A batch from train_ds (augmented by the layers)")
    shown("before-after", notebook.show_before_after, images, images[::-1], labels,
          title="Each original next to its augmented copy")


def test_augmentation_figures(shown, signs):
    """Notebook 3's figures of the generator's options and notebook 6's three ways side by side."""
    pytest.importorskip("tensorflow")
    from asl_course.learners import augment, notebook

    images, _ = signs
    shown("each-augmentation", notebook.show_each_augmentation, images[0])
    shown("shift-axes", notebook.show_shift_axes, images[1])
    shown("fill-modes", notebook.show_fill_modes, images[2])
    shown("three-ways", augment.show_three_ways, images[:3])


def test_evaluation_figures(shown, signs):
    """Notebook 5's confusion matrix, per-letter accuracy and misclassified images."""
    from asl_course.learners import evaluation

    images, labels = signs
    rng = np.random.default_rng(2)
    true = np.repeat(np.arange(24), 30)
    predicted = np.where(rng.random(true.size) < 0.85, true, rng.integers(0, 24, true.size))
    probabilities = rng.dirichlet(np.ones(24), true.size)
    shown("confusion-matrix", evaluation.plot_confusion_matrix, true, predicted,
          title=evaluation.figure_caption(None))
    accuracy = evaluation.accuracy_per_letter(evaluation.confusion_matrix(true, predicted))
    shown("per-letter", evaluation.plot_per_letter_accuracy, accuracy, overall=float(np.mean(true == predicted)),
          title=evaluation.figure_caption(None))
    many = np.concatenate([images] * 30)
    shown("misclassified", evaluation.show_misclassified, many, true, predicted, probabilities,
          title=evaluation.figure_caption(None))


def test_prediction_figures(shown, signs, tmp_path):
    """Notebook 5's picture files and one prediction's top letters."""
    from asl_course.learners import predict

    images, labels = signs
    rows = (images[:2, ..., 0].reshape(2, 784) * 255).astype("uint8")
    records = predict.write_sample_images(rows, [0, 1], tmp_path)
    shown("pictures", predict.show_pictures, records, title="The picture files as they are")
    shown("prediction", predict.show_prediction, records[0]["path"], [("A", 0.91), ("S", 0.05), ("E", 0.02)],
          title="sign_000_plain.png", true_letter="A")
