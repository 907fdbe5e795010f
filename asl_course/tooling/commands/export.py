"""``asl-course export [--model PATH] [--out DIR] [--parity N]``: the model for every runtime.

Writes the SavedModel and the ONNX file beside the ``.keras`` model (or in ``--out``; see
:mod:`asl_course.tooling.export`), then, where the course's data is installed, runs the ONNX
file and the Keras model on the first N test-file images (default 1,000; ``--parity 0``: skip)
and prints whether they agree. Exit code 0: written (and in agreement); 1: written but the
ONNX model disagrees with Keras; 2: no model, a corrupt one, or a bad command line.
"""

from __future__ import annotations

import sys
from pathlib import Path


def register(subparsers) -> None:
    parser = subparsers.add_parser(
        "export",
        help="export the saved model as a SavedModel and as ONNX (for the web page), checked against Keras",
        description="Export the saved .keras model as a TensorFlow SavedModel and as ONNX (the format the "
                    "course's web page runs in the browser), and check the ONNX file against Keras.",
    )
    from asl_course.tooling.commands.predict import add_model_argument

    add_model_argument(parser)
    parser.add_argument("--out", type=Path, default=None, metavar="DIR",
                        help="where to write the exports (default: beside the model)")
    parser.add_argument("--parity", type=int, default=None, metavar="N",
                        help="compare ONNX with Keras on the first N test-file images (default 1000; 0: skip)")
    parser.set_defaults(handler=handle)


def handle(args) -> int:
    from asl_course.learners import predict
    from asl_course.tooling import export
    from asl_course.tooling.commands.predict import import_keras

    model_path = args.model if args.model is not None else predict.default_model_path()
    if not model_path.exists():  # before importing TensorFlow: a quick, clear answer
        predict.load_model(model_path)
    import_keras()
    paths = export.export_all(model_path, args.out)
    for kind in ("savedmodel", "onnx"):
        print(f"{kind:<10} {paths[kind]}")
    count = export.PARITY_IMAGES if args.parity is None else max(0, args.parity)
    if not count:
        return 0
    from asl_course.errors import UserError

    try:
        images = export.parity_images(count)
    except UserError as exc:
        print(f"parity not checked: {exc}", file=sys.stderr)
        return 0
    result = export.parity(predict.load_model(model_path), paths["onnx"], images)
    print(result)
    return 0 if result.ok else 1
