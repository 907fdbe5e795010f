"""``asl-course predict IMAGE... [--model PATH] [--json] [--top K]``: letters for new pictures.

Each picture is prepared as the lesson prepared its data (grayscale, 28x28, /255; see
:func:`asl_course.learners.predict.prepare_image`) and the saved model predicts its letter.

Exit codes and errors (never a traceback):

- ``0``: every image was predicted.
- ``1``: some images could not be read. Each bad one is reported on stderr (and, with
  ``--json``, as an ``"error"`` entry in place of its prediction); the readable images are
  still predicted and printed, in the order given. One bad file in a folder of photos should
  not hide the answers for the others, and the exit code still tells a script that not all
  went well.
- ``2``: nothing could be predicted because of the model (missing, a folder, corrupt, not a
  28x28x1 -> 24-letter model) or the command line: one line on stderr says what is wrong,
  with which file, and what to do.

The model is ``--model PATH``, else ``output/asl_model.keras`` (what ``asl-course run``
writes) if it exists, else ``./asl_model.keras`` (what notebook 4 saves in its folder).
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import sys
from pathlib import Path

from asl_course.errors import UserError


def _top(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"K must be a whole number from 1 to 24, got {text!r}") from None
    if not 1 <= value <= 24:
        raise argparse.ArgumentTypeError(f"K must be from 1 to 24 (there are 24 letters), got {value}")
    return value


def add_model_argument(parser) -> None:
    """``--model PATH``: the saved model (predict, export, serve); None means the default path."""
    parser.add_argument(
        "--model", type=Path, default=None, metavar="PATH",
        help="the saved .keras model (default: output/asl_model.keras if it exists, else ./asl_model.keras)",
    )


def register(subparsers) -> None:
    parser = subparsers.add_parser(
        "predict",
        help="predict the letter signed in pictures, with the saved model",
        description=(
            "Predict the ASL letter shown in each picture (any size, grayscale or colour) with "
            "the course's saved model. Pictures are prepared as the training data was: "
            "grayscale, centre square, 28x28, pixels / 255. Exit code 0: all predicted; 1: some "
            "pictures could not be read (the others are still predicted); 2: bad model or "
            "command line."
        ),
    )
    parser.add_argument("images", nargs="+", metavar="IMAGE", help="picture files (PNG, JPEG, ...)")
    add_model_argument(parser)
    parser.add_argument("--json", action="store_true", help="print the results as JSON on stdout")
    parser.add_argument(
        "--top", type=_top, default=1, metavar="K", help="also show the K most likely letters (default 1)"
    )
    parser.set_defaults(handler=handle)


@contextlib.contextmanager
def _quiet_stderr():
    """Hide TensorFlow's C++ start-up chatter (written straight to file descriptor 2) on import."""
    try:
        saved = os.dup(2)
    except OSError:  # no real stderr (an embedding host): nothing to hide
        yield
        return
    try:
        with open(os.devnull, "w") as devnull:
            sys.stderr.flush()
            os.dup2(devnull.fileno(), 2)
            yield
    finally:
        sys.stderr.flush()
        os.dup2(saved, 2)
        os.close(saved)


def import_keras() -> None:
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    try:
        with _quiet_stderr():
            import keras  # noqa: F401 - imported here, once, with its chatter hidden
    except ImportError as exc:
        raise UserError(
            f"Keras/TensorFlow cannot be imported ({exc}). Install the course's requirements: "
            "pip install -r requirements.txt -e ."
        ) from None


def handle(args) -> int:
    from asl_course.learners import predict

    model_path = args.model if args.model is not None else predict.default_model_path()
    if not model_path.exists():  # before importing TensorFlow: a quick, clear answer
        predict.load_model(model_path)
    import_keras()
    model = predict.load_model(model_path)
    if not args.json:
        print(f"model: {model_path}", file=sys.stderr)
    results, errors = predictions(model, args.images, args.top)
    for message in errors:
        print(f"asl-course predict: error: {message}", file=sys.stderr)
    if args.json:
        json.dump({"model": str(model_path), "predictions": results}, sys.stdout, indent=2)
        sys.stdout.write("\n")
    else:
        for line in table(results, args.top):
            print(line)
    if errors:
        print(
            f"asl-course predict: {len(errors)} of {len(args.images)} images could not be read"
            + ("; the others were predicted." if len(errors) < len(args.images) else "."),
            file=sys.stderr,
        )
        return 1
    return 0


def predictions(model, images: list, top: int) -> tuple[list[dict], list[str]]:
    """One entry per image, in order (its prediction, or ``{"image", "error"}`` for one that cannot
    be read), and the errors; the images that can be read are predicted in one batch."""
    import numpy as np

    from asl_course.learners import predict

    entries: list[dict | None] = []
    batch, errors = [], []
    for name in images:
        try:
            batch.append(predict.prepare_image(name))
            entries.append(None)
        except predict.ImageError as exc:
            entries.append({"image": name, "error": str(exc)})
            errors.append(str(exc))
    if not batch:
        return entries, errors
    rows = iter(predict.probabilities(model, np.concatenate(batch)))
    results = []
    for name, entry in zip(images, entries):
        if entry is None:
            row = next(rows)
            index = int(row.argmax())
            entry = predict.Prediction(name, predict.LETTERS[index], index, float(row[index]),
                                       tuple(predict.top_k(row, top))).as_dict()
        results.append(entry)
    return results, errors


def table(results: list[dict], top: int) -> list[str]:
    """The predictions as aligned lines (an image that could not be read points to its error)."""
    width = max(len(str(r["image"])) for r in results)
    lines = []
    for r in results:
        if "error" in r:
            lines.append(f"{r['image']:<{width}}  (not read: see the error above)")
            continue
        line = f"{r['image']:<{width}}  {r['letter']}  {r['confidence']:6.1%}"
        if top > 1:
            line += "   top {}: {}".format(top, ", ".join(f"{t['letter']} {t['probability']:.1%}" for t in r["top"]))
        lines.append(line)
    return lines
