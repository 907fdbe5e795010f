"""Deployment: load the saved model, prepare new images as the lesson prepared its data, predict
letters, and export a SavedModel for serving.

Used by notebook 5 (``05_predictions``), by ``asl-course predict`` and by the tests.

Preparing an image (:func:`prepare_image`) repeats what the lesson did to its training data,
for a picture of any size and colour mode:

1. open it with Pillow (an unreadable file raises :class:`ImageError`), apply its EXIF
   orientation (phone photos), and flatten transparency onto white;
2. crop it to its centre square when it is not square (training images are square, and
   squashing a hand changes its shape), then convert it to grayscale (``"L"``: ITU-R 601
   luma) and resize it to 28x28 (bicubic, which Pillow anti-aliases when shrinking);
3. scale the pixels by 1/255 and reshape to ``(1, 28, 28, 1)`` float32.

For a square picture this is exactly notebook 5's
``Image.open(path).convert("L").resize((28, 28))``, ``/ 255``, ``reshape(1, 28, 28, 1)``.

Loading a model (:func:`load_model`) turns every way it can go wrong (no file, a folder, a
corrupt or foreign file, a model whose input is not 28x28x1 or whose output is not 24
letters) into a :class:`ModelError` that names the file, the problem and what to do. Both
error classes are :class:`asl_course.errors.UserError`, so ``asl-course`` prints them on one
line, without a traceback.

The notebook-5 self-checks (``check_*``) are at the end of this module; they raise
:class:`asl_course.learners.mistakes.SelfCheckFailed`. Notebook 5's hidden tests are in
:mod:`asl_course.grading` (``nb05_predictions``).
"""

from __future__ import annotations

import dataclasses
import logging
import os
import shutil
import uuid
import zipfile
from collections import deque
from pathlib import Path
from typing import Iterable, Sequence

import numpy as np

from asl_course import dataset as _data, facts as _facts
from asl_course import grading
from asl_course.errors import UserError, one_line
from asl_course.i18n import drawing, lookup, mark, t
from asl_course.learners.mistakes import fail

#: Course label ``i`` is ``LETTERS[i]``: 24 static letters, no J and no Z (they need motion).
LETTERS = _data.LETTERS
NUM_CLASSES = _data.NUM_CLASSES
IMAGE_SIZE = _data.IMAGE_SIZE
#: What the lesson's model takes and gives: a batch of 28x28 grayscale images, 24 probabilities.
INPUT_SHAPE = _facts.IMAGE_SHAPE
OUTPUT_SHAPE = (NUM_CLASSES,)
#: Notebook 4 saves this file in its working folder; ``asl-course run`` writes it to output/.
MODEL_FILE = _facts.MODEL_FILE
#: Where ``asl-course predict`` looks for a model, in order, when ``--model`` is not given.
DEFAULT_MODEL_PATHS = (Path("output") / MODEL_FILE, Path(MODEL_FILE))
#: ``export_savedmodel("x/asl_model.keras")`` writes ``x/asl_model_savedmodel/``.
SAVEDMODEL_SUFFIX = "_savedmodel"
#: Colour a transparent picture is flattened onto before it becomes grayscale.
TRANSPARENT_FILL = (255, 255, 255)

_TRAIN_AGAIN = mark(
    "Save a trained model with model.save(\"asl_model.keras\") (notebook 4), or run "
    "`asl-course run --fast` (writes output/asl_model.keras), or pass --model PATH."
)


class PredictError(UserError):
    """Something ``predict`` cannot work with; the message says what, which file, what to do."""


class ImageError(PredictError):
    """An image file that is missing or that Pillow cannot read as a picture."""


class ModelError(PredictError):
    """A model file that is missing, unreadable, or not a 28x28x1 -> 24-letter classifier."""



# --- Letters --------------------------------------------------------------------------------


def letter(index: int) -> str:
    """The letter of class ``index`` (0..23): ``letter(9) == "K"`` (there is no J)."""
    return _data.letter(index)


def top_k(probabilities, k: int = 3) -> list[tuple[str, float]]:
    """The ``k`` most likely letters of one image, best first: ``[("B", 0.93), ("D", 0.04), ...]``.

    ``probabilities`` is one row of 24 (or a batch of one, shape ``(1, 24)``).
    """
    row = np.asarray(probabilities, dtype="float64").reshape(-1)
    if row.shape != OUTPUT_SHAPE:
        raise PredictError(t("expected 24 probabilities (one per letter), got shape {shape}.",
                               shape=np.shape(probabilities)))
    k = max(1, min(int(k), NUM_CLASSES))
    order = np.argsort(-row, kind="stable")[:k]
    return [(LETTERS[i], float(row[i])) for i in order]


# --- Images ---------------------------------------------------------------------------------


def open_image(path):
    """Open an image file with Pillow and load its pixels; :class:`ImageError` if that fails."""
    from PIL import Image, UnidentifiedImageError

    path = Path(path)
    if not path.exists():
        raise ImageError(t("{path}: no such file. Check the path (it is relative to {cwd}).", path=path, cwd=Path.cwd()))
    if path.is_dir():
        raise ImageError(t("{path} is a folder, not an image file. Name the image files inside it.", path=path))
    try:
        with Image.open(path) as opened:
            opened.load()
            image = opened.copy()
    except UnidentifiedImageError:
        raise ImageError(t(
            "{path} is not an image Pillow can read (PNG, JPEG, BMP, GIF, TIFF, WebP ...). "
            "Save the picture again in one of those formats.", path=path
        )) from None
    except (OSError, ValueError, Image.DecompressionBombError) as exc:
        raise ImageError(t(
            "{path} cannot be read as an image ({problem}). The file may be truncated "
            "or damaged: save or download it again.", path=path, problem=one_line(exc, 240)
        )) from None
    return image


def _to_grayscale(image):
    """Pillow image of any mode -> mode "L", EXIF orientation applied, transparency on white."""
    from PIL import Image, ImageOps

    image = ImageOps.exif_transpose(image)
    if image.mode in ("I;16", "I;16B", "I;16L", "I", "F"):  # 16-bit or float grayscale
        values = np.asarray(image, dtype="float64")
        top = 65535.0 if values.max(initial=0) > 255 else 255.0
        return Image.fromarray(np.clip(np.rint(values * 255.0 / top), 0, 255).astype(np.uint8), "L")
    if image.mode == "P":
        image = image.convert("RGBA" if "transparency" in image.info else "RGB")
    if image.mode in ("RGBA", "LA", "PA", "RGBa", "La"):
        rgba = image.convert("RGBA")
        background = Image.new("RGBA", rgba.size, TRANSPARENT_FILL + (255,))
        image = Image.alpha_composite(background, rgba).convert("RGB")
    return image.convert("L")


def centre_square(width: int, height: int) -> tuple[int, int, int]:
    """``(left, top, side)`` of the centre square of a ``width`` x ``height`` picture: what
    :func:`prepare_image` keeps (the camera's guide box and the fake camera draw the same square)."""
    side = min(width, height)
    return (width - side) // 2, (height - side) // 2, side


def _centre_square(image):
    width, height = image.size
    if width == height:
        return image
    left, top, side = centre_square(width, height)
    return image.crop((left, top, left + side, top + side))


def prepare_image(source, *, crop: bool = True) -> np.ndarray:
    """One picture -> a batch of one image as the model was trained on: ``(1, 28, 28, 1)``, 0..1.

    ``source`` is a file path, a Pillow image, or an array of pixels 0..255 (``(H, W)``,
    ``(H, W, 1)``, ``(H, W, 3)``, or the 784 values of a CSV row). With ``crop`` (the default)
    a non-square picture is cut to its centre square before it is resized.
    """
    from PIL import Image

    if isinstance(source, (str, os.PathLike)):
        image = open_image(source)
    elif isinstance(source, Image.Image):
        image = source
    else:
        pixels = np.asarray(source)
        if pixels.ndim == 1 and pixels.size == IMAGE_SIZE * IMAGE_SIZE:
            pixels = pixels.reshape(IMAGE_SIZE, IMAGE_SIZE)
        if pixels.ndim == 3 and pixels.shape[-1] == 1:
            pixels = pixels[..., 0]
        if pixels.ndim not in (2, 3) or (pixels.ndim == 3 and pixels.shape[-1] not in (3, 4)):
            raise ImageError(t("an array of shape {shape} is not a picture (H, W), (H, W, 3) or 784 values.",
                               shape=pixels.shape))
        if np.issubdtype(pixels.dtype, np.floating) and pixels.size and pixels.max() <= 1.0:
            raise ImageError(t("the array holds values in 0..1; pass pixels 0..255 (the picture before scaling)."))
        image = Image.fromarray(np.clip(pixels, 0, 255).astype(np.uint8))
    gray = _to_grayscale(image)
    if crop:
        gray = _centre_square(gray)
    if gray.size != (IMAGE_SIZE, IMAGE_SIZE):
        gray = gray.resize((IMAGE_SIZE, IMAGE_SIZE), Image.Resampling.BICUBIC)
    return (np.asarray(gray, dtype="float32") / 255.0).reshape(1, *INPUT_SHAPE)


# --- Test images made from validation rows ---------------------------------------------------

#: The kinds of picture :func:`sample_images` makes from one 28x28 row, and what each is.
SAMPLE_KINDS = {
    "plain": "the 28x28 grayscale image itself, as a PNG",
    "enlarged": "enlarged to 224x224 (a higher-resolution picture)",
    "rgb": "an RGB colour picture, 140x140, in warm light",
    "background": "RGB, 168x168, the hand kept and the wall behind it made a lighter, light blue backdrop",
    "framed": "RGB, 224x224, the whole picture shrunk onto a dark blue backdrop (the hand is smaller)",
}
#: The kinds that, prepared by :func:`prepare_image`, give back (nearly) the original 28x28
#: image: how well they are read is the pipeline's doing. ``background`` and ``framed`` change
#: the picture itself (a lighter wall; a smaller hand on a border): how well they are read says
#: how robust the *model* is.
FAITHFUL_KINDS = ("plain", "enlarged", "rgb")


def wall_mask(gray: np.ndarray, step: int = 5) -> np.ndarray:
    """The smooth wall behind the hand: pixels reached from the top edge and the upper sides
    through neighbours that differ by at most ``step`` gray levels (the hand's outline stops it).

    A rough cut-out, good enough to give a picture another background while keeping the hand.
    """
    img = np.asarray(gray, dtype=np.int64)
    height, width = img.shape
    mask = np.zeros(img.shape, dtype=bool)
    seeds = [(0, c) for c in range(width)]
    seeds += [(r, c) for r in range(height // 2) for c in (0, width - 1)]
    queue = deque()
    for r, c in seeds:
        if not mask[r, c]:
            mask[r, c] = True
            queue.append((r, c))
    while queue:
        r, c = queue.popleft()
        for rr, cc in ((r + 1, c), (r - 1, c), (r, c + 1), (r, c - 1)):
            if 0 <= rr < height and 0 <= cc < width and not mask[rr, cc] and abs(img[rr, cc] - img[r, c]) <= step:
                mask[rr, cc] = True
                queue.append((rr, cc))
    return mask


def _tinted(gray: np.ndarray, gains: tuple[float, float, float]):
    from PIL import Image

    rgb = np.stack([gray * g for g in gains], axis=-1)
    return Image.fromarray(np.clip(np.rint(rgb), 0, 255).astype(np.uint8), "RGB")


def sample_images(pixels, kinds: Iterable[str] = tuple(SAMPLE_KINDS)) -> dict:
    """Pillow pictures made from one image's 784 pixels (0..255), one per kind of ``SAMPLE_KINDS``.

    They stand in for new photos (other sizes, colour modes, another background) whose true
    letter is known. Pixels in 0..1 (prepared images) are accepted too. ``plain`` prepares back to exactly the original pixels. The colours keep
    the grayscale (luma, 0.299 R + 0.587 G + 0.114 B) of what they tint.
    """
    from PIL import Image

    values = np.asarray(pixels)
    if np.issubdtype(values.dtype, np.floating) and values.size and values.max() <= 1.0:
        values = np.rint(values * 255)  # prepared pixels (0..1) back to 0..255
    gray = values.astype(np.uint8).reshape(IMAGE_SIZE, IMAGE_SIZE)
    base = Image.fromarray(gray, "L")
    out = {}
    for kind in kinds:
        if kind == "plain":
            out[kind] = base.copy()
        elif kind == "enlarged":
            out[kind] = base.resize((224, 224), Image.Resampling.BICUBIC)
        elif kind == "rgb":
            big = np.asarray(base.resize((140, 140), Image.Resampling.BICUBIC), dtype="float64")
            out[kind] = _tinted(big, (1.10, 1.0, 0.80))  # warm light
        elif kind == "background":
            wall = wall_mask(gray)
            lighter = gray.astype("float64")
            lighter[wall] = 0.5 * lighter[wall] + 125  # a lighter, flatter backdrop
            small = _tinted(lighter, (1.0, 1.0, 1.0))
            big = np.asarray(small.resize((168, 168), Image.Resampling.BICUBIC), dtype="float64")
            mask = np.asarray(Image.fromarray(wall.astype(np.uint8) * 255).resize((168, 168), Image.Resampling.BILINEAR)) / 255.0
            blue = np.stack([big[..., 0] * 0.92, big[..., 1], big[..., 2] * 1.12], axis=-1)
            rgb = blue * mask[..., None] + big * (1 - mask[..., None])
            out[kind] = Image.fromarray(np.clip(np.rint(rgb), 0, 255).astype(np.uint8), "RGB")
        elif kind == "framed":
            canvas = Image.new("RGB", (224, 224), (60, 110, 150))
            hand = base.resize((200, 200), Image.Resampling.BICUBIC).convert("RGB")
            canvas.paste(hand, (12, 12))
            out[kind] = canvas
        else:
            raise ValueError(f"unknown kind {kind!r}; choose from {', '.join(SAMPLE_KINDS)}")
    return out


def write_sample_images(x_rows, labels, folder, kinds: Iterable[str] = tuple(SAMPLE_KINDS)) -> list[dict]:
    """Write PNGs made from validation rows into ``folder``; one record per file.

    Each record: ``{"path", "kind", "row", "label", "letter"}`` (``row`` indexes ``x_rows``).
    File names say the kind and the row, never the letter: a picture's name must not give away
    its answer.
    """
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    records = []
    for row, (pixels, label) in enumerate(zip(np.asarray(x_rows), np.asarray(labels))):
        for kind, image in sample_images(pixels, kinds).items():
            path = folder / f"sign_{row:03d}_{kind}.png"
            image.save(path)
            records.append({"path": path, "kind": kind, "row": row, "label": int(label), "letter": letter(int(label))})
    return records


@drawing
def show_pictures(records: Sequence[dict], *, cols: int | None = None, title: str | None = None):
    """The picture files of :func:`write_sample_images` as they are: kind, size and colour mode."""
    import matplotlib.pyplot as plt

    cols = cols or min(len(records), len(SAMPLE_KINDS))
    rows = int(np.ceil(len(records) / cols))
    fig, axes = plt.subplots(rows, cols, figsize=(cols * 2.0, rows * 2.25), squeeze=False, layout="constrained")
    for ax in axes.ravel():
        ax.axis("off")
    for ax, record in zip(axes.ravel(), records):
        picture = open_image(record["path"])
        ax.imshow(np.asarray(picture), cmap="gray" if picture.mode == "L" else None, vmin=0, vmax=255)
        ax.set_title(f"{record['kind']}\n{picture.width}x{picture.height} {picture.mode}", fontsize=8)
    if title:
        fig.suptitle(lookup(title), fontsize=10)
    plt.show()


# --- Models ---------------------------------------------------------------------------------


def default_model_path(cwd: str | os.PathLike | None = None) -> Path:
    """``output/asl_model.keras`` if it exists (``asl-course run``), else ``./asl_model.keras``."""
    base = Path(cwd) if cwd is not None else Path()
    for candidate in DEFAULT_MODEL_PATHS:
        if (base / candidate).is_file():
            return base / candidate
    return base / DEFAULT_MODEL_PATHS[-1]


def _shape_text(shape) -> str:
    return "(" + ", ".join("None" if d is None else str(d) for d in shape) + ")"


def _fits(have: Sequence, want: Sequence) -> bool:
    return len(have) == len(want) and all(h is None or h == w for h, w in zip(have, want))


def check_model_shapes(model, path: str | os.PathLike = "the model") -> None:
    """:class:`ModelError` unless ``model`` takes (N, 28, 28, 1) images and gives 24 scores."""
    inputs, outputs = getattr(model, "inputs", None), getattr(model, "outputs", None)
    if not inputs or not outputs:
        raise ModelError(t(
            "{path}: cannot tell which images the model takes (it has no defined inputs). "
            "Save a Sequential or functional model that starts with keras.Input((28, 28, 1)).", path=path
        ))
    if len(inputs) != 1 or len(outputs) != 1:
        raise ModelError(t(
            "{path}: the model has {inputs} inputs and {outputs} outputs; the ASL "
            "model has one of each (an image in, 24 letter probabilities out).",
            path=path, inputs=len(inputs), outputs=len(outputs)
        ))
    in_shape, out_shape = tuple(inputs[0].shape), tuple(outputs[0].shape)
    if not _fits(in_shape[1:], INPUT_SHAPE):
        raise ModelError(t(
            "{path}: the model takes images of shape {shape}, but the course's "
            "images are (None, 28, 28, 1): 28x28 pixels, 1 grayscale channel. This is not the "
            "ASL model; {train_again}", path=path, shape=_shape_text(in_shape), train_again=lookup(_TRAIN_AGAIN)
        ))
    if not _fits(out_shape[1:], OUTPUT_SHAPE):
        raise ModelError(t(
            "{path}: the model gives outputs of shape {shape}, but the ASL "
            "alphabet has 24 letters (A..Y without J), so (None, 24) is expected. This is not "
            "the ASL model; {train_again}", path=path, shape=_shape_text(out_shape), train_again=lookup(_TRAIN_AGAIN)
        ))


def _keras_archive_problem(path: Path) -> str | None:
    """Why ``path`` is not a Keras 3 archive (a zip with config.json and weights), or None."""
    try:
        with zipfile.ZipFile(path) as archive:
            names = set(archive.namelist())
            bad = archive.testzip()
    except zipfile.BadZipFile:
        return t("a .keras file is a zip archive, and this file is not one")
    except OSError as exc:
        return t("it cannot be read ({problem})", problem=one_line(exc, 240))
    if bad is not None:
        return t("its member {member} is damaged", member=bad)
    missing = [n for n in ("config.json", "model.weights.h5") if n not in names]
    if missing:
        return t("the archive has no {missing}, so it holds no saved model", missing=" and no ".join(missing))
    return None


def load_model(path: str | os.PathLike | None = None):
    """Load a saved ASL model and check its shapes; a clear :class:`ModelError` otherwise.

    ``path`` defaults to :func:`default_model_path`. The model is loaded without its
    optimizer (``compile=False``): predicting needs only the layers and the weights.
    """
    path = Path(path) if path is not None else default_model_path()
    if not path.exists():
        where = f"{path}" if path.is_absolute() else t("{path} (in {cwd})", path=path, cwd=Path.cwd())
        raise ModelError(t("no model file at {where}. {train_again}", where=where, train_again=lookup(_TRAIN_AGAIN)))
    if path.is_dir():
        if (path / "saved_model.pb").exists():
            raise ModelError(t(
                "{path} is a folder, not a Keras model file (.keras). It looks like a SavedModel export, "
                "which is for serving (TensorFlow Serving, keras.layers.TFSMLayer); give the .keras file "
                "saved next to it instead.", path=path))
        raise ModelError(t("{path} is a folder, not a Keras model file (.keras).", path=path))
    if path.suffix not in (".keras", ".h5", ".hdf5"):
        raise ModelError(t(
            "{path} is not a Keras model file: its name should end in .keras (Keras 3 saves "
            "models with model.save(\"asl_model.keras\")).", path=path
        ))
    if path.suffix == ".keras":
        problem = _keras_archive_problem(path)
        if problem:
            raise ModelError(t(
                "{path} is not a readable .keras file: {problem}. It may be corrupt or "
                "incomplete (an interrupted save or download), or another kind of file renamed. "
                "{train_again}", path=path, problem=problem, train_again=lookup(_TRAIN_AGAIN)
            ))
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    import keras

    try:
        model = keras.models.load_model(path, compile=False)
    except Exception as exc:  # noqa: BLE001 - a corrupt file can fail in many ways
        raise ModelError(t(
            "{path} cannot be loaded as a Keras model ({error}: {problem}). "
            "The file may be corrupt or incomplete (an interrupted save or download), or not a "
            "model at all. {train_again}", path=path, error=type(exc).__name__, problem=one_line(exc, 240),
            train_again=lookup(_TRAIN_AGAIN)
        )) from None
    check_model_shapes(model, path)
    return model


# --- Predicting -----------------------------------------------------------------------------


def probabilities(model, images) -> np.ndarray:
    """The model's letter probabilities for a batch ``(N, 28, 28, 1)`` of prepared images.

    If the model ends in raw scores (logits) rather than a softmax, they are turned into
    probabilities with a softmax, so that confidences are always in 0..1 and sum to 1.
    """
    batch = np.asarray(images, dtype="float32").reshape(-1, *INPUT_SHAPE)
    scores = np.asarray(model.predict(batch, verbose=0, batch_size=256), dtype="float64")
    if scores.ndim != 2 or scores.shape[1] != NUM_CLASSES:
        raise ModelError(t("the model gave outputs of shape {shape}, not (N, 24).", shape=scores.shape))
    if not (np.all(scores >= -1e-6) and np.allclose(scores.sum(axis=1), 1.0, atol=1e-3)):
        shifted = np.exp(scores - scores.max(axis=1, keepdims=True))
        scores = shifted / shifted.sum(axis=1, keepdims=True)
    return scores


@dataclasses.dataclass(frozen=True)
class Prediction:
    """What the model says about one picture."""

    image: str
    letter: str
    index: int
    confidence: float
    #: The ``k`` most likely letters with their probabilities, best first.
    top: tuple[tuple[str, float], ...]

    def as_dict(self) -> dict:
        return {
            "image": self.image,
            "letter": self.letter,
            "index": self.index,
            "confidence": round(self.confidence, 6),
            "top": [{"letter": t, "probability": round(p, 6)} for t, p in self.top],
        }


def predict_images(model, images: Sequence, *, top: int = 3, names: Sequence[str] | None = None) -> list[Prediction]:
    """Predict a letter for each picture (paths, Pillow images or pixel arrays), in one batch.

    An unreadable picture raises :class:`ImageError`; to carry on past bad files, prepare
    them one by one with :func:`prepare_image` (as ``asl-course predict`` does).
    """
    if not len(images):
        return []
    prepared = np.concatenate([prepare_image(image) for image in images])
    names = list(names) if names is not None else [str(image) for image in images]
    probs = probabilities(model, prepared)
    results = []
    for name, row in zip(names, probs):
        best = top_k(row, top)
        index = int(np.argmax(row))
        results.append(Prediction(name, LETTERS[index], index, float(row[index]), tuple(best)))
    return results


def accuracy_by_kind(model, x_rows, labels, kinds: Iterable[str] = tuple(SAMPLE_KINDS)) -> dict[str, float]:
    """Accuracy on the pictures of each kind made from ``x_rows`` (in memory, no files).

    ``"original"`` is the accuracy on the rows themselves, for comparison.
    """
    labels = np.asarray(labels)
    rows = [np.asarray(x) for x in x_rows]
    made = [sample_images(x, kinds) for x in rows]
    result = {"original": np.stack([prepare_image(sample_images(x, ["plain"])["plain"])[0] for x in rows])}
    for kind in kinds:
        result[kind] = np.concatenate([prepare_image(m[kind]) for m in made])
    return {kind: float((probabilities(model, batch).argmax(axis=1) == labels).mean()) for kind, batch in result.items()}


@drawing
def show_prediction(picture, top: Sequence[tuple[str, float]], *, title: str | None = None, true_letter: str | None = None):
    """A picture next to a bar chart of its top letters (``top`` as :func:`top_k` returns it)."""
    import matplotlib.pyplot as plt

    if isinstance(picture, (str, os.PathLike)):  # the picture as it is, before preparing
        original = open_image(picture)
        grayscale = original.mode == "L"
        shown = np.asarray(original if grayscale else original.convert("RGB"))
        cmap = "gray" if grayscale else None
    else:
        shown, cmap = np.squeeze(np.asarray(picture)), "gray"
    fig, (ax_img, ax_bar) = plt.subplots(1, 2, figsize=(6.4, 2.6), gridspec_kw={"width_ratios": [1, 1.4]})
    ax_img.imshow(shown, cmap=cmap, vmin=0, vmax=255 if shown.dtype == np.uint8 else 1)
    ax_img.axis("off")
    ax_img.set_title(lookup(title) or "", fontsize=9)
    letters = [t for t, _ in top][::-1]
    values = [p for _, p in top][::-1]
    colors = ["tab:blue"] * len(top)
    if true_letter is not None:
        colors = ["tab:green" if t == true_letter else "tab:gray" for t in letters]
    ax_bar.barh(letters, values, color=colors)
    ax_bar.set_xlim(0, 1)
    ax_bar.set_xlabel(t("probability"))
    for y, value in enumerate(values):
        ax_bar.text(min(value + 0.02, 0.80), y, f"{value:.1%}", va="center", fontsize=9)
    label = (t("top {k} (true letter: {letter})", k=len(top), letter=true_letter) if true_letter
             else t("top {k}", k=len(top)))
    ax_bar.set_title(label, fontsize=9)
    fig.tight_layout()
    plt.show()


# --- Export for serving ---------------------------------------------------------------------


def savedmodel_path(keras_path: str | os.PathLike) -> Path:
    """Where :func:`export_savedmodel` writes: ``asl_model.keras`` -> ``asl_model_savedmodel/``."""
    keras_path = Path(keras_path)
    return keras_path.with_name(keras_path.stem + SAVEDMODEL_SUFFIX)


def quiet_tensorflow_info() -> None:
    """Keep TensorFlow's Python INFO lines out of a notebook; its warnings and errors still show.

    In an interactive kernel (where it finds ``sys.ps1``) TensorFlow sets its Python logger to INFO,
    so every SavedModel export logs "INFO:tensorflow:Assets written to: ..." twice, once as
    stderr (absl's ``logging.info`` during the export gives the root logger a stderr handler,
    and TensorFlow's logger propagates to it). A level the learner chose above INFO is kept.
    """
    try:
        import tensorflow as tf
    except ImportError:  # the course's own import of keras says what is missing
        return
    logger = tf.get_logger()
    if logger.getEffectiveLevel() < logging.WARNING:
        logger.setLevel(logging.WARNING)


def export_savedmodel(model, keras_path: str | os.PathLike = MODEL_FILE, dest: str | os.PathLike | None = None) -> Path:
    """Write ``model`` as a TensorFlow SavedModel alongside its ``.keras`` file, for serving.

    ``model.export()`` writes the inference graph only (no optimizer, no training): the
    folder TensorFlow Serving, TFLite's converter or ``keras.layers.TFSMLayer`` load. Its
    ``serve`` signature takes float32 ``(N, 28, 28, 1)`` images in 0..1 and returns the 24
    probabilities. The export is written to a temporary folder next to ``dest`` and moved into
    place, so an interrupted export never leaves a half-written model where one was.
    """
    dest = Path(dest) if dest is not None else savedmodel_path(keras_path)
    dest.parent.mkdir(parents=True, exist_ok=True)
    staging = dest.with_name(f".{dest.name}.{uuid.uuid4().hex[:8]}.tmp")
    quiet_tensorflow_info()
    try:
        model.export(str(staging), format="tf_saved_model", verbose=False)
        if dest.exists():
            old = dest.with_name(f".{dest.name}.{uuid.uuid4().hex[:8]}.old")
            dest.rename(old)
            staging.rename(dest)
            shutil.rmtree(old, ignore_errors=True)
        else:
            staging.rename(dest)
    finally:
        if staging.exists():
            shutil.rmtree(staging, ignore_errors=True)
    return dest


def load_savedmodel(path: str | os.PathLike):
    """The exported SavedModel as a Keras layer (``keras.layers.TFSMLayer``, ``serve`` endpoint)."""
    import keras

    path = Path(path)
    if not (path / "saved_model.pb").is_file():
        raise ModelError(t("{path} is not a SavedModel folder (no saved_model.pb). Export one with export_savedmodel().",
                           path=path))
    return keras.layers.TFSMLayer(str(path), call_endpoint="serve")


# --- Notebook 5: self-checks (visible) and grading (hidden tests) ---------------------------


#: The fix of a wrongly prepared image (the self-check's words; the grader has its own).
_PREPARE_FIX = mark("grayscale, resize to (28, 28), / 255, reshape(1, 28, 28, 1).")


def _ok(message: str) -> None:
    print(f"\u2714 {message}")


def check_loaded_model(model, path: str | os.PathLike = MODEL_FILE) -> None:
    """Self-check: ``model`` is a Keras model loaded from ``path``, with the ASL shapes."""
    import keras

    if isinstance(model, (str, os.PathLike)):
        fail(t("model is a file name, not a model."), t('load it: model = keras.models.load_model("{path}").', path=path))
    if not isinstance(model, keras.Model):
        fail(t("model is a {kind}, not a Keras model.", kind=type(model).__name__),
             f'model = keras.models.load_model("{path}").')
    try:
        check_model_shapes(model, "model")
    except ModelError as exc:
        fail(str(exc), t('load the lesson\'s model: keras.models.load_model("{path}").', path=path))
    if getattr(model, "optimizer", None) is not None and int(model.optimizer.iterations.numpy()) == 0:
        fail(t("the model has never been trained (a freshly built model?)."),
             t('load the trained one from the file: keras.models.load_model("{path}").', path=path))
    if Path(path).is_file():  # the grader compares the two as well
        probe = np.random.default_rng(0).random((8, *INPUT_SHAPE)).astype("float32")
        saved = keras.models.load_model(path, compile=False)
        if not np.allclose(model.predict(probe, verbose=0), saved.predict(probe, verbose=0), atol=1e-4):
            fail(t("model does not predict what the model saved in {path} predicts (a model built or trained here?).",
                   path=path), t('load that file: model = keras.models.load_model("{path}").', path=path))
    _ok(t("a trained model that takes {shape} images and gives 24 probabilities", shape=_shape_text(model.input_shape)))


def _prepared_mistake(got, original: np.ndarray) -> str | None:
    """What is wrong with one image's preparation, in words (None when right)."""
    arr = np.asarray(got)
    if arr.ndim == 4 and arr.shape[-1] == 3:
        return t("it has shape {shape}: 3 colour channels. Convert the picture to grayscale "
                 "(Image.open(path).convert(\"L\")) before resizing.", shape=arr.shape)
    if arr.shape != (1, *INPUT_SHAPE):
        return t("it has shape {shape}; the model takes a batch of one image, (1, 28, 28, 1). "
                 "Resize to 28x28 and reshape with .reshape(1, 28, 28, 1).", shape=arr.shape)
    if not np.issubdtype(arr.dtype, np.floating) or float(arr.max()) > 1.0 + 1e-6:
        return t("its pixels go up to {peak:g}: divide by 255, as the training data was.", peak=float(arr.max()))
    want = original.reshape(1, *INPUT_SHAPE) / 255.0
    if float(np.abs(arr - (1.0 - want)).mean()) < float(np.abs(arr - want).mean()) / 3:
        return t("its pixels are inverted (1 - x): keep them as they are, only divide by 255.")
    if float(arr.max()) < 0.05:
        return t("its pixels are nearly all 0: was it divided by 255 twice?")
    return None


def check_prepare_image(prepare_image_fn, path, original_pixels, plain_path=None) -> None:
    """Self-check: ``prepare_image(path)`` gives the (1, 28, 28, 1) image of ``original_pixels``;
    ``plain_path``: the same image as a 28x28 grayscale picture, which must come back exactly
    (the grader's words: ``grading.prepared_mistake``)."""
    original_pixels = np.asarray(original_pixels)
    if np.issubdtype(original_pixels.dtype, np.floating) and original_pixels.max() <= 1.0:
        original_pixels = np.rint(original_pixels * 255)
    if not callable(prepare_image_fn):
        fail(t("prepare_image is not a function."), t("define it with def prepare_image(path): ... return image"))
    plain = prepare_image_fn(str(plain_path)) if plain_path is not None else None
    if isinstance(plain, np.ndarray) and plain.dtype.kind in "biuf" and plain.size == IMAGE_SIZE * IMAGE_SIZE:
        facts = {"type": "ndarray", "shape": list(plain.shape), "kind": plain.dtype.kind,
                 "values": np.asarray(plain, dtype="float64").reshape(-1).tolist()}
        mistake = grading.prepared_mistake(facts, original_pixels.reshape(-1), "plain")
        if mistake:
            fail(f"prepare_image({Path(plain_path).name!r}): {mistake}", lookup(_PREPARE_FIX))
    got = prepare_image_fn(str(path))
    if got is None:
        fail(t("prepare_image returned None."), t("end the function with return <the prepared array>."))
    mistake = _prepared_mistake(got, np.asarray(original_pixels))
    if mistake:
        fail(f"prepare_image({Path(path).name!r}): {mistake}", lookup(_PREPARE_FIX))
    error = float(np.abs(np.asarray(got) - np.asarray(original_pixels).reshape(1, *INPUT_SHAPE) / 255.0).mean())
    if error > 0.05:
        fail(t("prepare_image({name!r}) is far from the original image (mean difference {error:.3f}).",
               name=Path(path).name, error=error),
             t("convert to grayscale, resize the whole picture to (28, 28) (no cropping), divide by 255."))
    _ok(t("prepare_image gives shape {shape}, pixels in 0..1, close to the original (mean difference {error:.4f})",
          shape=np.shape(got), error=error))


def check_letters(letters) -> None:
    """Self-check: the 24-letter alphabet of the course labels."""
    if not isinstance(letters, str) and not isinstance(letters, (list, tuple)):
        fail(t("LETTERS is a {kind}.", kind=type(letters).__name__), f'LETTERS = "{LETTERS}"')
    text = "".join(letters)
    if "J" in text or "Z" in text:
        fail(t("LETTERS holds J or Z. They need motion, so the data set has no J and no Z, and every "
               "letter after I would be shifted by one (class 9 is K, not J)."), f'LETTERS = "{LETTERS}"')
    if text != LETTERS:
        fail(t("LETTERS is {text!r}: {n} letters.", text=text, n=len(text)),
             t('the 24 static letters, A..Y without J: "{letters}"', letters=LETTERS))
    _ok(t("24 letters, A..Y without J: class 9 is K, class 23 is Y"))


def check_predict_letter(predict_letter_fn, model, path) -> None:
    """Self-check: ``predict_letter(path)`` returns (letter, probability) matching the model."""
    result = predict_letter_fn(str(path))
    if not isinstance(result, tuple) or len(result) != 2:
        fail(t("predict_letter returned {result!r}.", result=result), t("return a pair: return letter, probability"))
    got_letter, prob = result
    probs = probabilities(model, prepare_image(path))[0]
    index = int(np.argmax(probs))
    if not isinstance(got_letter, str):
        fail(t("the letter is {letter!r}, a {kind}.", letter=got_letter, kind=type(got_letter).__name__),
             t("map the class index to its letter: LETTERS[index]."))
    if got_letter != LETTERS[index]:
        fail(t("predict_letter says {got!r}; the model's most likely class is {index}, letter "
               "{letter!r}.", got=got_letter, index=index, letter=LETTERS[index]),
             t("index = probabilities.argmax(); letter = LETTERS[index]."))
    try:
        prob = float(prob)
    except (TypeError, ValueError):
        fail(t("the probability is {prob!r}.", prob=prob), t("return float(probabilities[index])."))
    if abs(prob - probs[index]) > 1e-4:
        fail(t("the probability is {prob:.4f}; the model gives {want:.4f} to {letter}.",
               prob=prob, want=probs[index], letter=LETTERS[index]),
             t("return the probability of the chosen letter: probabilities[index]."))
    _ok(f"predict_letter({Path(path).name!r}) = ({got_letter!r}, {prob:.3f})")


def check_top_k(top_k_fn, model, path) -> None:
    """Self-check: ``top_k(probabilities, 3)`` gives the 3 best (letter, probability), best first."""
    probs = probabilities(model, prepare_image(path))[0]
    for k in (1, 5):  # the grader asks for other k as well
        try:
            others = list(top_k_fn(probs.copy(), k))
        except Exception:  # noqa: BLE001 - said below, with k=3
            break
        if len(others) != k:
            fail(t("top_k(..., {k}) returned {n} pairs.", k=k, n=len(others)),
                 t("take the first k of the sorted indices: order[:k]."))
    got = top_k_fn(model.predict(prepare_image(path), verbose=0)[0], 3)
    want = top_k(probs, 3)
    try:
        pairs = [(str(t), float(p)) for t, p in got]
    except (TypeError, ValueError):
        fail(t("top_k returned {got!r}.", got=got), t("return a list of (letter, probability) pairs."))
    if len(pairs) != 3:
        fail(t("top_k(..., {k}) returned {n} pairs.", k=3, n=len(pairs)),
             t("take the first k of the sorted indices: order[:k]."))
    if [t for t, _ in pairs] == [t for t, _ in want][::-1] or pairs[0][1] < pairs[-1][1]:
        fail(t("the letters are in increasing order of probability."),
             t("np.argsort sorts ascending: reverse it, np.argsort(probabilities)[::-1][:k]."))
    if [t for t, _ in pairs] != [t for t, _ in want] or not np.allclose([p for _, p in pairs], [p for _, p in want], atol=1e-4):
        fail(t("top_k gives {pairs}; expected {want}.", pairs=pairs, want=[(t, round(p, 4)) for t, p in want]),
             "order = np.argsort(probabilities)[::-1][:k]; return [(LETTERS[i], float(probabilities[i])) for i in order]")
    _ok(t("top 3: {pairs}", pairs=", ".join(f"{t} {p:.1%}" for t, p in pairs)))
