"""Plumbing for the notebooks: setup, pictures, catch-up. Teaching code stays in the notebooks.

Every notebook's setup cell calls :func:`setup`, which finds the data (and on Colab fetches
it), then prints which data the notebook runs on, the GPU if any, and the run mode, so that
no figure is ever shown without saying where it came from.
"""

from __future__ import annotations

import datetime
import json
import math
import os
import re
import shutil
import sys
import tempfile
import textwrap
import warnings
from pathlib import Path

import numpy as np

from asl_course import dataset as _data
from asl_course.learners import lesson
from asl_course.learners import predict
from asl_course.errors import UserError, one_line
from asl_course import i18n
from asl_course.i18n import drawing, lookup, mark, t

#: Set by ``asl-course run``, the test suite and the grader: the notebook is not interactive.
AUTOMATED_ENV = "ASL_COURSE_AUTOMATED"


def in_colab() -> bool:
    """True in a Google Colab runtime (Colab's kernel imports ``google.colab`` at start)."""
    return "google.colab" in sys.modules


def interactive() -> bool:
    """False under nbval, nbgrader and ``asl-course run``: there, no kernel shutdown, and no
    prompt that waits for a learner (Drive access, file uploads)."""
    return not (lesson.under_nbgrader() or os.environ.get(AUTOMATED_ENV))


# --- Quiet start: TensorFlow's C++ start-up log -----------------------------------------------

#: A line of TensorFlow's C++ log (TSL's and absl's formats) or one that comes with it. Its
#: start-up lines (CPU instructions, oneDNN, CUDA plugin registration, TF-TRT) say nothing to a
#: learner, and a notebook shows them as a red block under the setup cell.
TF_LOG_LINE = re.compile(
    r"^(\d{4}-\d\d-\d\d \d\d:\d\d:\d\d\.\d+: [IWEF] \S+:\d+\]"
    r"|[IWEF]\d{4} \d\d:\d\d:\d+\.\d+\s+\d+ \S+:\d+\]"
    r"|WARNING: All log messages before absl::InitializeLog\(\) is called"
    r"|To enable the following instructions: .* rebuild TensorFlow)"
)


def import_tensorflow_quietly() -> None:
    """Import TensorFlow with its C++ start-up log kept out of the notebook.

    ``TF_CPP_MIN_LOG_LEVEL=2`` (set by ``import asl_course``) hides the INFO and WARNING lines,
    but not the lines absl writes before it is initialised (on GPU runtimes: "Unable to register
    cuDNN/cuFFT/cuBLAS factory", tensorflow issue 100442). So the import runs with the
    process's stderr (file descriptor 2, which Jupyter kernels forward to the notebook) sent to
    a file; afterwards every line that is not a TensorFlow log line is written back to stderr.
    """
    if "tensorflow" in sys.modules:
        return
    try:
        sys.stderr.flush()
        saved = os.dup(2)
    except (OSError, ValueError, AttributeError):  # no usable fd 2: import as usual
        import tensorflow  # noqa: F401

        return
    with tempfile.TemporaryFile() as capture:
        os.dup2(capture.fileno(), 2)
        try:
            import tensorflow  # noqa: F401
        except ImportError:
            pass  # the course's own import of keras/tensorflow will say what is missing
        finally:
            os.dup2(saved, 2)
            os.close(saved)
        capture.seek(0)
        text = capture.read().decode("utf-8", errors="replace")
    kept = [line for line in text.splitlines(keepends=True) if not TF_LOG_LINE.match(line)]
    if kept:
        sys.stderr.write("".join(kept))
        sys.stderr.flush()


def gpu_names() -> list[str]:
    """Names of the GPUs TensorFlow sees (empty on a CPU machine)."""
    try:
        import_tensorflow_quietly()
        import tensorflow as tf

        return [d.name for d in tf.config.list_physical_devices("GPU")]
    except Exception:  # noqa: BLE001 - the GPU line is informative only
        return []


# --- Setup ------------------------------------------------------------------------------------


class SetupError(UserError):
    """The setup cell cannot go on; shown in a notebook as its message alone, no traceback."""

    def _render_traceback_(self):  # IPython shows this instead of a traceback
        return [f"{type(self).__name__}: {self}"]


def colab_content() -> Path:
    """Colab's working folder, ``/content`` (``$ASL_COURSE_COLAB_CONTENT`` in CI's stand-in)."""
    return Path(os.environ.get("ASL_COURSE_COLAB_CONTENT") or "/content")


def _colab_data_help(why: str) -> str:
    return t(
        "{why}\n"
        "The data set is public: kagglehub downloads it without a Kaggle account. What to do:\n"
        "- If Kaggle asks for an account (an error 401 or 403): create a free account on "
        "kaggle.com, make an API token (kaggle.com -> Settings -> API), add it as Colab secrets "
        "KAGGLE_USERNAME and KAGGLE_KEY (the key icon in Colab's left bar; switch on 'Notebook "
        "access'), then run this cell again: kagglehub reads them.\n"
        "- If the download fails: on any computer, download the zip from {url} "
        "(the Download button), upload it here (run `from google.colab import files; "
        "files.upload()`, or drag it into the Files pane), then run this cell again: it imports "
        "the zip it finds in this folder (or run `!asl-course data import archive.zip`).",
        why=why, url=_data.KAGGLE_URL,
    )


def _uploaded_release(folder: Path) -> list[Path]:
    """The release's files a learner uploaded to the working folder: a zip or the CSVs."""
    found = sorted(folder.glob("*.zip")) + sorted(folder.glob("sign_mnist_*.csv*"))
    return [p for p in found if p.is_file()]


def _colab_data() -> Path:
    """On Colab: import an uploaded release, else download it with kagglehub."""
    dest = _data.default_dest()
    uploaded = _uploaded_release(Path.cwd())
    try:
        if uploaded:
            print(t("Importing the data set you uploaded: {files}", files=", ".join(p.name for p in uploaded)))
            _data.import_release(uploaded, dest)
        else:
            print(t("Getting the data set (Kaggle {dataset}) with kagglehub ...", dataset=_data.KAGGLE_DATASET))
            _data.fetch(dest)
    except _data.DataError as exc:
        message = str(exc).split(" Alternatives:")[0]  # the CLI's alternatives do not apply here
        raise SetupError(_colab_data_help(message)) from None
    return dest


def quiet_mixed_types() -> None:
    """Silence pandas' DtypeWarning (and only it) in this kernel.

    ``pd.read_csv(path, header=None)`` on the course's CSVs reads the header as a row of text, so
    every column has mixed types, and pandas warns once per file with all 785 column numbers
    (7,700 characters): more than a screen above the self-check, which says the same in one line
    ("the CSV was read with header=None") with its fix.
    """
    import pandas as pd

    warnings.filterwarnings("ignore", category=pd.errors.DtypeWarning)


def setup(data_dir: str | os.PathLike | None = None) -> Path:
    """Find the data (fetch it on Colab when missing) and print data source, GPU and mode."""
    import_tensorflow_quietly()  # first, before anything imports it with its start-up log
    quiet_mixed_types()
    predict.quiet_tensorflow_info()  # notebook 5's SavedModel export: no "INFO:tensorflow:Assets written"
    try:
        folder = _data.locate(data_dir)
    except _data.DataNotFoundError:
        if not in_colab():
            raise
        _colab_data()
        folder = _data.locate(data_dir)
    print(_data.describe(folder))
    gpus = gpu_names()
    print(t("GPU: {names}", names=", ".join(gpus)) if gpus else t("GPU: none (training runs on the CPU)"))
    print(lesson.run_plan().describe())
    if i18n.language() != i18n.SOURCE_LANGUAGE and i18n.hangul_font() is None:
        print(t("The figures keep their English titles: matplotlib has no Hangul font here. For Korean titles, "
                "install one (Colab: !apt-get -qq install fonts-nanum) and draw the figure again."))
    return folder


def is_real(data_dir: str | os.PathLike | None = None) -> bool:
    try:
        return _data.provenance(data_dir).get("kind") == "real"
    except _data.DataError:
        return False


# --- The model's way from notebook 4 to notebook 5 --------------------------------------------
#
# On Colab every notebook has its own runtime: the asl_model.keras notebook 4 saves is not in
# notebook 5's folder. Notebook 4 copies it to Google Drive (or downloads it); notebook 5 looks
# in its folder, then in Drive, then asks for an upload, and only then trains a stand-in.

#: Where the course keeps the model in the learner's Google Drive.
DRIVE_FOLDER = "asl_course"


def _mydrive(mount: bool) -> Path | None:
    """``MyDrive/asl_course`` of the mounted Google Drive; mounts it first when ``mount`` (Colab
    then asks the learner for access). None when Drive is not (or could not be) mounted."""
    mountpoint = colab_content() / "drive"
    if not (mountpoint / "MyDrive").is_dir():
        if not mount:
            return None
        try:
            from google.colab import drive

            drive.mount(str(mountpoint))
        except Exception as exc:  # noqa: BLE001 - declined, timed out, no Drive
            print(t("Google Drive was not mounted ({kind}: {why}).", kind=type(exc).__name__, why=one_line(exc, 200)))
            return None
        if not (mountpoint / "MyDrive").is_dir():
            return None
    folder = mountpoint / "MyDrive" / DRIVE_FOLDER
    return folder


def keep_model(path: str | os.PathLike = "asl_model.keras", *, drive: bool = True) -> Path | None:
    """Notebook 4: keep the saved model for notebook 5 and say where it is.

    On Colab (notebook 5 runs in another runtime): copy it to Google Drive
    (``MyDrive/asl_course/``) when Drive is mounted, or, when ``drive`` and a learner is there,
    mount it (Colab asks for access); else start a browser download of the file. Returns the
    copy in Drive, or None. Under automated runs nothing waits for a learner: Drive is used
    only if already mounted.
    """
    path = Path(path)
    if not path.is_file():
        print(t("{path} is not there yet: the save exercise above writes it (model.save). Run it, "
                "then this cell again.", path=path))
        return None
    if not in_colab():
        print(t("The model is in {path}. Notebook 5 loads {name} from its own folder: "
                "if that is another folder, copy the file there.", path=path.resolve(), name=path.name))
        return None
    folder = _mydrive(mount=drive and interactive())
    if folder is not None:
        folder.mkdir(parents=True, exist_ok=True)
        target = folder / path.name
        shutil.copyfile(path, target)
        print(t("Copied {name} to your Google Drive: {target}. Notebook 5 finds it there "
                "(it asks for access to your Drive too).", name=path.name, target=target))
        return target
    if interactive():
        from google.colab import files

        files.download(str(path))
        print(t("Your browser downloads {name}: keep it. Notebook 5 runs in another runtime "
                "and asks you to upload it.", name=path.name))
    else:
        print(t("{name} stays in this runtime only (no Google Drive mounted; an automated run "
                "starts no download). Notebook 5 will train a one-epoch stand-in.", name=path.name))
    return None


def _upload_model(path: Path) -> bool:
    """Interactive Colab: ask the learner to upload the model; True when ``path`` then exists."""
    from google.colab import files

    print(t("Upload {name} (the file notebook 4 downloaded), or cancel to train a "
            "one-epoch stand-in instead.", name=path.name))
    try:
        uploaded = files.upload()
    except Exception as exc:  # noqa: BLE001 - cancelled, or the widget failed
        print(t("No upload ({kind}).", kind=type(exc).__name__))
        return False
    models = [name for name in uploaded if name.endswith(".keras")]
    if not models:
        if uploaded:
            print(t("{files}: not a .keras file.", files=", ".join(uploaded)))
        return False
    if not path.exists():  # Colab saved it under its own name, maybe "asl_model (1).keras"
        Path(models[0]).replace(path)
    print(t("Using the model you uploaded ({name}).", name=models[0]))
    return True


def model_for_notebook_5(prepared: lesson.Prepared, path: str | os.PathLike = "asl_model.keras",
                         *, drive: bool = True) -> tuple[Path, str]:
    """Notebook 5: find notebook 4's model, or train a one-epoch stand-in and say so plainly.

    Looks in this folder; on Colab then in Google Drive (mounting it first when ``drive`` and a
    learner is there), then asks for an upload (only with a learner). Otherwise trains the fast
    plan's model, measures its validation accuracy, and saves it to ``path``. Returns ``path``
    and a label for figure captions.
    """
    path = Path(path)
    if path.is_file():
        print(t("Using the model in {path} (notebook 4 saves it there).", path=path.resolve()))
        return path, path.name
    looked = [t("{name} is not in this folder ({folder})", name=path.name, folder=Path.cwd())]
    if in_colab():
        folder = _mydrive(mount=drive and interactive())
        if folder is not None and (folder / path.name).is_file():
            source = folder / path.name
            saved = datetime.datetime.fromtimestamp(source.stat().st_mtime).strftime("%Y-%m-%d %H:%M")
            shutil.copyfile(source, path)
            print(t("Using notebook 4's model from your Google Drive: {source} (saved {saved}), copied to {path}.",
                    source=source, saved=saved, path=path.resolve()))
            return path, t("{name} (from Google Drive)", name=path.name)
        looked.append(t("nor in Google Drive") if folder is not None else t("Google Drive is not mounted"))
        if interactive() and _upload_model(path):
            return path, path.name
    print(t("{looked}. Training a stand-in model now (a minute or two on a CPU) ...", looked="; ".join(looked)))
    plan = lesson.run_plan(True)
    model, _ = lesson.trained_model(prepared, plan=plan)
    accuracy = float(np.mean(np.argmax(model.predict(prepared.x_valid, verbose=0, batch_size=256), axis=1)
                             == prepared.labels_valid))
    model.save(path)
    del model
    print(t("STAND-IN MODEL: what follows analyses a one-epoch stand-in ({epochs} epoch, "
            "validation accuracy {accuracy:.3f} on {n:,} images), saved as "
            "{name}, NOT the model you trained in notebook 4. To analyse yours, put notebook "
            "4's asl_model.keras in this folder (on Colab: save it to Google Drive in notebook 4) "
            "and run this notebook again.", epochs=plan.epochs, accuracy=accuracy, n=len(prepared.x_valid),
            name=path.name))
    return path, t("{name} (one-epoch stand-in, validation accuracy {accuracy:.3f})", name=path.name, accuracy=accuracy)


# --- Pictures -----------------------------------------------------------------------------

#: Figures fit a notebook's width on a laptop: 10 inches at Jupyter's 100 dpi, 1,000 pixels.
FIGURE_WIDTH = 10.0


@drawing
def show_grid(images, labels=None, *, rows: int = 4, cols: int = 8, title: str | None = None):
    """Show images (N, 28, 28[, 1]) in a rows x cols grid, with letters as titles."""
    import matplotlib.pyplot as plt

    images = np.asarray(images)
    rows = max(1, min(rows, math.ceil(len(images) / cols)))  # no empty rows
    fig, axes = plt.subplots(rows, cols, figsize=(cols * 1.3, rows * 1.45), squeeze=False)
    for i, ax in enumerate(np.ravel(axes)):
        ax.axis("off")
        if i >= len(images):
            continue
        ax.imshow(np.squeeze(images[i]), cmap="gray")
        if labels is not None:
            label = np.asarray(labels[i])
            index = int(label.argmax()) if label.ndim else int(label)
            ax.set_title(_data.letter(index), fontsize=9)
    if title:
        fig.suptitle(lookup(title))
    fig.tight_layout()
    plt.show()


@drawing
def show_each_augmentation(image, *, seed: int = 0):
    """One image under each of the lesson's augmentations, alone, and all of them together."""
    import matplotlib.pyplot as plt
    from tensorflow.keras.preprocessing.image import ImageDataGenerator

    image = np.asarray(image, dtype="float32").reshape(1, 28, 28, 1)
    single = [
        (t("original"), {}),
        ("rotation_range=10", {"rotation_range": 10}),
        ("zoom_range=0.1", {"zoom_range": 0.1}),
        ("width_shift_range=0.1", {"width_shift_range": 0.1}),
        ("height_shift_range=0.1", {"height_shift_range": 0.1}),
        ("horizontal_flip=True", {"horizontal_flip": True}),
        (t("all together"), dict(lesson.DATAGEN_SETTINGS)),
    ]
    samples = 4
    fig, axes = plt.subplots(len(single), samples, figsize=(samples * 1.6, len(single) * 1.6))
    for row, (name, settings) in enumerate(single):
        gen = ImageDataGenerator(**settings)
        flow = gen.flow(image, batch_size=1, seed=seed + row)
        for col in range(samples):
            ax = axes[row, col]
            ax.axis("off")
            if name == "horizontal_flip=True":
                # A flip is a coin toss; show both outcomes side by side.
                shown = image[0] if col % 2 == 0 else image[0][:, ::-1]
            else:
                shown = next(flow)[0]
            ax.imshow(np.squeeze(shown), cmap="gray", vmin=0, vmax=1)
        axes[row, 0].set_title(name, fontsize=9, loc="left")
    fig.tight_layout()
    plt.show()


def shift_axes(shift: float = 0.3, draws: int = 200, *, seed: int = 0) -> dict[str, tuple[float, float]]:
    """Measure which way each shift option moves a white square: mean |rows moved|, |columns moved|.

    ``ImageDataGenerator.random_transform`` on a 28x28 image with one 8x8 square, ``draws``
    times per option; the square's centre is compared with where it started.
    """
    from tensorflow.keras.preprocessing.image import ImageDataGenerator

    square = np.zeros((28, 28, 1), dtype="float32")
    square[10:18, 10:18] = 1.0
    moved = {}
    for option in ("width_shift_range", "height_shift_range"):
        gen = ImageDataGenerator(**{option: shift}, fill_mode="constant")
        rows, cols = [], []
        for i in range(draws):
            r, c = np.nonzero(np.squeeze(gen.random_transform(square, seed=seed + i)) > 0.5)
            rows.append(abs(r.mean() - 13.5))
            cols.append(abs(c.mean() - 13.5))
        moved[option] = (float(np.mean(rows)), float(np.mean(cols)))
    return moved


@drawing
def show_shift_axes(image, *, shift: float = 0.3, samples: int = 4, seed: int = 0):
    """What ``width_shift_range`` and ``height_shift_range`` really do, measured here and now.

    Row 1: a white square; rows 2-3: ``image`` (a sign). Each shifted ``samples`` times by
    each option alone, with the measured mean movement (rows vs columns) in the titles.
    """
    import keras
    import matplotlib.pyplot as plt
    from tensorflow.keras.preprocessing.image import ImageDataGenerator

    square = np.zeros((28, 28, 1), dtype="float32")
    square[10:18, 10:18] = 1.0
    image = np.asarray(image, dtype="float32").reshape(28, 28, 1)
    moved = shift_axes(shift, seed=seed)
    options = ("width_shift_range", "height_shift_range")
    fig, axes = plt.subplots(len(options) * 2, samples + 1, figsize=(1.7 * (samples + 1), 1.8 * 2 * len(options)))
    for block, option in enumerate(options):
        gen = ImageDataGenerator(**{option: shift}, fill_mode="constant")
        rows, cols = moved[option]
        way = t("up/down (rows)") if rows > cols else t("left/right (columns)")
        for k, picture in enumerate((square, image)):
            r = block * 2 + k
            axes[r, 0].imshow(np.squeeze(picture), cmap="gray", vmin=0, vmax=1)
            axes[r, 0].set_title(t("original"), fontsize=8)
            for col in range(1, samples + 1):
                axes[r, col].imshow(np.squeeze(gen.random_transform(picture, seed=seed + col)),
                                    cmap="gray", vmin=0, vmax=1)
            axes[r, 1].set_title(t("{option}={shift}: moves {way}", option=option, shift=shift, way=way), fontsize=8,
                                 loc="left")
        axes[block * 2, samples].set_title(t("mean |move|: rows {rows:.1f}, cols {cols:.1f} px", rows=rows, cols=cols),
                                           fontsize=7, loc="right")  # the last column: right-aligned, inside the figure
    for ax in np.ravel(axes):
        ax.set_xticks([])
        ax.set_yticks([])
    fig.suptitle(t("Measured on Keras {version}: each option alone, {samples} random draws", version=keras.__version__,
                   samples=samples), fontsize=10)
    fig.tight_layout()
    plt.show()
    return moved


@drawing
def show_before_after(originals, augmented, labels=None, *, pairs: int = 16, cols: int = 4,
                      title: str | None = None):
    """Each original next to its augmented copy, pair by pair (``pairs`` pairs, ``cols`` pairs a row)."""
    import matplotlib.pyplot as plt

    originals, augmented = np.asarray(originals), np.asarray(augmented)
    pairs = min(pairs, len(originals), len(augmented))
    rows = math.ceil(pairs / cols)
    fig, axes = plt.subplots(rows, cols * 2, figsize=(cols * 2 * 1.25, rows * 1.5), squeeze=False)
    for i in range(rows * cols):
        r, c = divmod(i, cols)
        left, right = axes[r, 2 * c], axes[r, 2 * c + 1]
        for ax in (left, right):
            ax.set_xticks([])
            ax.set_yticks([])
            if i >= pairs:
                ax.axis("off")
        if i >= pairs:
            continue
        left.imshow(np.squeeze(originals[i]), cmap="gray", vmin=0, vmax=1)
        right.imshow(np.squeeze(augmented[i]), cmap="gray", vmin=0, vmax=1)
        letter = ""
        if labels is not None:
            label = np.asarray(labels[i])
            letter = _data.letter(int(label.argmax()) if label.ndim else int(label)) + ": "
        left.set_title(t("{letter}before", letter=letter), fontsize=8)
        right.set_title(t("after"), fontsize=8)
        for spine in right.spines.values():
            spine.set_edgecolor("tab:orange")
            spine.set_linewidth(2)
    if title:
        fig.suptitle(lookup(title), fontsize=10)
    fig.tight_layout()
    plt.show()


@drawing
def show_fill_modes(image, *, shift: float = 0.35, cval: float = 0.5):
    """The four ``fill_mode`` options, on one image shifted right so the gap shows."""
    import matplotlib.pyplot as plt
    from tensorflow.keras.preprocessing.image import ImageDataGenerator

    image = np.asarray(image, dtype="float32").reshape(28, 28, 1)
    dx = int(round(shift * 28))
    modes = [
        ("constant", f"kkkk|abcd|kkkk (cval={cval})"),
        ("nearest", t("aaaa|abcd|dddd (default)")),
        ("reflect", "abcddcba|abcd|dcbaabcd"),
        ("wrap", "abcdabcd|abcd|abcdabcd"),
    ]
    fig, axes = plt.subplots(1, len(modes) + 1, figsize=(FIGURE_WIDTH, 2.9), layout="constrained")
    axes[0].imshow(np.squeeze(image), cmap="gray", vmin=0, vmax=1)
    axes[0].set_title(t("original"), fontsize=9)
    for ax, (mode, pattern) in zip(axes[1:], modes):
        gen = ImageDataGenerator(fill_mode=mode, cval=cval)
        moved = gen.apply_transform(image, {"tx": -dx})  # tx: a horizontal shift (measured)
        ax.imshow(np.squeeze(moved), cmap="gray", vmin=0, vmax=1)
        ax.set_title(f"{mode}\n{pattern}", fontsize=8)
    for ax in axes:
        ax.axis("off")
    fig.suptitle(t("fill_mode: what fills the {dx} columns uncovered by a shift", dx=dx), fontsize=10)
    plt.show()


@drawing
def epoch_axis(ax, epochs: int) -> None:
    """An x axis of whole epochs 1..``epochs`` (never 2.5), with half an epoch of room each side."""
    from matplotlib.ticker import MaxNLocator

    ax.set_xlim(0.5, max(epochs, 1) + 0.5)
    ax.xaxis.set_major_locator(MaxNLocator(integer=True, min_n_ticks=1))
    ax.set_xlabel(t("epoch"))


@drawing
def frame_figure(fig, *, title: str | None = None, handles=(), notes=(), ncol: int = 4) -> None:
    """Title, one legend and notes around a constrained-layout figure's plots, each in a band
    of its own: the title on top, the legend under it (never over a curve), the notes (what a
    short legend entry stands for, in full) wrapped under the plots. Sizes in inches."""
    height = fig.get_size_inches()[1]
    top = 0.08
    if title:
        fig.suptitle(title, y=1 - top / height, va="top", fontsize=12)
        top += 0.32
    if handles:
        ncol = min(ncol, len(handles))
        fig.legend(handles=list(handles), loc="upper center", bbox_to_anchor=(0.5, 1 - top / height), ncol=ncol,
                   fontsize=9, frameon=False, borderaxespad=0)
        top += 0.26 * math.ceil(len(handles) / ncol) + 0.06
    lines = [part for note in notes for part in textwrap.wrap(note, 150)]
    bottom = 0.05
    if lines:
        fig.text(0.01, bottom / height, "\n".join(lines), fontsize=8, ha="left", va="bottom")
        bottom += 0.15 * len(lines) + 0.05
    fig.get_layout_engine().set(rect=(0, bottom / height, 1, 1 - (top + bottom) / height))


def split_label(label: str) -> tuple[str, str]:
    """A run's label and its note: ``"no augmentation (first epoch of ...)"`` ->
    ``("no augmentation", "first epoch of ...")``; a short label has no note."""
    name, _, note = label.partition(" (")
    if not note:
        return label, ""
    return name, note[:-1] if note.endswith(")") else note


def plot_histories(curves: dict[str, dict], *, title: str | None = None):
    """Show :func:`histories_figure` (notebook 4's "Did augmentation help?")."""
    import matplotlib.pyplot as plt

    histories_figure(curves, title=title)
    plt.show()


@drawing
def histories_figure(curves: dict[str, dict], *, title: str | None = None):
    """Loss and accuracy, train (dashed) vs validation (solid), for several runs on one figure.

    ``curves`` maps a run's label to a Keras ``History.history``-like dict (None: not shown,
    said in the caption). A label's parenthesised note (see :func:`split_label`) goes to the
    caption under the figure, its name to the legend. Returns the figure.
    """
    import matplotlib.pyplot as plt
    from matplotlib.lines import Line2D

    fig, (ax_loss, ax_acc) = plt.subplots(1, 2, figsize=(FIGURE_WIDTH, 4.6), layout="constrained")
    handles, notes, epochs = [], [], 1
    for (label, hist), color in zip(curves.items(), ["tab:blue", "tab:orange", "tab:green", "tab:red"]):
        name, note = split_label(label)
        if hist is None:
            notes.append(t("{name}: not shown ({note}).", name=name, note=note or t("no history")))
            continue
        notes += [t("{name}: {note}.", name=name, note=note)] if note else []
        x = np.arange(1, len(hist["loss"]) + 1)
        epochs = max(epochs, len(x))
        for ax, key in ((ax_loss, "loss"), (ax_acc, "accuracy")):
            ax.plot(x, hist[key], color=color, ls="--", marker="s", ms=4)
            ax.plot(x, hist[f"val_{key}"], color=color, marker="o", ms=5)
        handles.append(Line2D([], [], color=color, marker="o", label=name))
    handles += [Line2D([], [], color="gray", ls="--", marker="s", ms=4, label=t("train")),
                Line2D([], [], color="gray", marker="o", label=t("validation"))]
    ax_loss.set(ylabel=t("loss (log scale)"), title=t("Loss"))
    ax_acc.set(ylabel=t("accuracy"), title=t("Accuracy"))
    ax_loss.set_yscale("log")
    for ax in (ax_loss, ax_acc):
        epoch_axis(ax, epochs)
        ax.grid(alpha=0.3)
    if epochs == 1:
        notes.append(t("One epoch: each run is one point per panel, not a curve."))
    frame_figure(fig, title=lookup(title), handles=handles, notes=notes)
    return fig


def summarize_history(hist: dict) -> dict:
    """Final, best and min-of-last-5 validation accuracy, and the final training accuracy."""
    if hist is None:
        return {}
    val = list(hist["val_accuracy"])
    return {
        "epochs": len(val),
        "final_val_acc": round(float(val[-1]), 4),
        "best_val_acc": round(float(max(val)), 4),
        "min_last5_val_acc": round(float(min(val[-5:])), 4),
        "final_train_acc": round(float(hist["accuracy"][-1]), 4),
    }


# --- The no-augmentation baseline -------------------------------------------------------------

REFERENCE_DIR = Path(__file__).resolve().parent.parent / "reference"  # asl_course/reference/
BASELINE_FILE = REFERENCE_DIR / "baseline_no_augmentation_real.json"


def load_reference_baseline() -> dict | None:
    """The project's recorded full run without augmentation on the real data, if recorded."""
    if not BASELINE_FILE.exists():
        return None
    return json.loads(BASELINE_FILE.read_text())


AUGMENTED_FILE = REFERENCE_DIR / "augmented_real.json"

_RESULT_COLUMNS = (("final_val_acc", mark("final val acc")), ("best_val_acc", mark("best")),
                   ("min_last5_val_acc", mark("min of last 5")), ("final_train_acc", mark("final train acc")))


def stored_results() -> list[dict]:
    """The course's recorded full runs on the real data (with, then without augmentation)."""
    runs = []
    for path in (AUGMENTED_FILE, BASELINE_FILE):
        if path.exists():
            record = json.loads(path.read_text())
            record["file"] = f"asl_course/reference/{path.name}"
            runs.append(record)
    return runs


def stored_results_table(runs: list[dict] | None = None) -> str:
    """The recorded full runs as a Markdown table, with where and when each was measured."""
    runs = stored_results() if runs is None else runs
    if not runs:
        return t("No stored results (asl_course/reference/ holds none).")
    head = t("| run | {columns} | epochs | measured |", columns=" | ".join(lookup(name) for _, name in _RESULT_COLUMNS))
    lines = [head, "|" + "---|" * (len(_RESULT_COLUMNS) + 3)]
    for run in runs:
        s = run["summary"]
        label = t("with ImageDataGenerator") if run["augmentation"] else t("without augmentation")
        cells = " | ".join(f"{s[key]:.4f}" for key, _ in _RESULT_COLUMNS)
        lines.append(f"| {label} | {cells} | {s['epochs']} | {run['date']}, {run['data']}, {run['machine']} "
                     f"(`{run['file']}`) |")
    return "\n".join(lines)


def show_stored_results():
    """Show the recorded full runs, labelled as a stored result, and their validation curves."""
    import matplotlib.pyplot as plt

    runs = stored_results()
    text = t("**Stored result, not this notebook's run.** The course's own full run of this notebook "
             "(20 epochs, batch 32, all 27,455 training images, seed 0), measured on the real data "
             "set:\n\n{table}", table=stored_results_table(runs))
    try:
        from IPython.display import Markdown, display

        display(Markdown(text))
    except ImportError:  # pragma: no cover - outside IPython
        print(text)
    if runs:
        stored_results_figure(runs)
        plt.show()


@drawing
def stored_results_figure(runs: list[dict]):
    """The validation accuracy of each recorded run per epoch: the whole history where it was
    kept, else the recorded epochs and the best accuracy (a dotted line). Returns the figure."""
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(FIGURE_WIDTH, 4.4), layout="constrained")
    for run, color in zip(runs, ("tab:blue", "tab:orange")):
        label = t("with augmentation") if run["augmentation"] else t("without augmentation")
        if run.get("history"):
            val = run["history"]["val_accuracy"]
            ax.plot(np.arange(1, len(val) + 1), val, color=color, marker="o", ms=4,
                    label=t("{run}: every epoch", run=label))
            continue
        points = {int(k): v for k, v in (run.get("val_accuracy_at_epoch") or {}).items()}
        points[run["summary"]["epochs"]] = run["summary"]["final_val_acc"]
        xs = sorted(points)
        ax.plot(xs, [points[x] for x in xs], color=color, ls="none", marker="D", ms=7,
                label=t("{run}: the recorded epochs", run=label))
        ax.axhline(run["summary"]["best_val_acc"], color=color, ls=":", lw=1.2,
                   label=t("{run}: best, {best:.3f}", run=label, best=run["summary"]["best_val_acc"]))
    epoch_axis(ax, max(run["summary"]["epochs"] for run in runs))
    ax.set(ylabel=t("validation accuracy"))
    ax.grid(alpha=0.3)
    notes = [t("Diamonds: the only epochs recorded of that run; dotted: its best epoch's accuracy (which epoch "
               "was not recorded).")] if any(not run.get("history") for run in runs) else []
    frame_figure(fig, title=t("Stored result, not this notebook's run: the course's full run (real data)"),
                 handles=ax.get_legend_handles_labels()[0], notes=notes, ncol=3)
    return fig


def baseline_history(prepared: lesson.Prepared, data_dir=None) -> tuple[dict | None, str]:
    """The no-augmentation baseline for the comparison figure, and a label saying what it is.

    On the real data: the project's recorded reference run (20 epochs take ~6 minutes on 2
    CPU cores). Fast mode trains one epoch on every image, which is exactly the recorded
    run's first epoch (same model, seed, batch size and images), so it shows that epoch
    rather than training it again. Otherwise (the stand-in, or a plan on fewer images):
    trained here and now, with the same plan as the augmented run.
    """
    plan = lesson.run_plan()
    if lesson.under_nbgrader():
        return None, t("no augmentation (skipped while grading)")
    reference = load_reference_baseline()
    if is_real(data_dir) and reference is not None and _reference_covers(reference, plan):
        recorded = t("recorded by asl-course on {date}, {data}, {machine}", date=reference["date"],
                     data=reference["data"], machine=reference["machine"])
        if plan.epochs == len(reference["history"]["val_accuracy"]):
            return reference["history"], t("no augmentation (reference run {recorded})", recorded=recorded)
        history = {key: values[:plan.epochs] for key, values in reference["history"].items()}
        if plan.epochs == 1:
            return history, t("no augmentation (first epoch of the reference run {recorded})", recorded=recorded)
        return history, t("no augmentation (first {epochs} epochs of the reference run {recorded})",
                          epochs=plan.epochs, recorded=recorded)
    import keras

    keras.utils.set_random_seed(0)
    model = lesson.build_model()
    lesson.compile_model(model)
    history = lesson.train(model, prepared, plan=plan, augment=False, verbose=0)
    return history.history, t("no augmentation (trained in this notebook)")


def _reference_covers(reference: dict, plan: lesson.RunPlan) -> bool:
    """Whether the recorded run's first ``plan.epochs`` epochs are the run this plan would train."""
    summary = reference.get("summary", {})
    return (plan.train_images is None and reference.get("seed") == 0
            and 1 <= plan.epochs <= summary.get("epochs", len(reference["history"]["val_accuracy"])))


def figure_caption(data_dir=None) -> str:
    """A figure title that says which data and which mode produced it."""
    plan = lesson.run_plan()
    mode = t("fast mode (1 epoch)") if plan.fast else t("full run, {epochs} epochs", epochs=plan.epochs)
    if is_real(data_dir):
        return t("Sign Language MNIST (real data), {mode}", mode=mode)
    return t("SYNTHETIC STAND-IN, not real results - {mode}", mode=mode)
