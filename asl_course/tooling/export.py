"""Export the trained model for every runtime the course serves, and check that they agree.

``asl-course export`` writes, beside the ``.keras`` file (or in ``--out``):

- ``asl_model_savedmodel/``: the TensorFlow SavedModel (TensorFlow Serving, TFLite's converter;
  :func:`asl_course.learners.predict.export_savedmodel`);
- ``asl_model.onnx``: the same inference graph as ONNX (Keras 3's ``model.export(format="onnx")``,
  through tf2onnx), which onnxruntime runs in Python and onnxruntime-web runs in the browser
  (the page of :mod:`asl_course.web`). Its input is ``image``, float32 ``(N, 28, 28, 1)`` in
  0..1; its output ``probabilities``, ``(N, 24)``.

:func:`parity` runs Keras and onnxruntime on the same prepared images and reports whether they
give the same letter for every image and the largest difference between their probabilities.
"""

from __future__ import annotations

import dataclasses
import os
import shutil
import uuid
import warnings
from pathlib import Path

import numpy as np

from asl_course.errors import one_line
from asl_course.learners import lesson, predict

#: ONNX names of the model's one input and one output (the web page feeds and reads these).
INPUT_NAME = "image"
OUTPUT_NAME = "probabilities"
ONNX_SUFFIX = ".onnx"
#: The parity check of the issue: this many test-file images, probabilities within this.
PARITY_IMAGES = 1000
PARITY_TOLERANCE = 1e-4


class ExportError(predict.ModelError):
    """An export that cannot be written or read back; the message says what to do."""


def onnx_path(keras_path: str | os.PathLike, out_dir: str | os.PathLike | None = None) -> Path:
    """``x/asl_model.keras`` -> ``x/asl_model.onnx`` (or ``OUT/asl_model.onnx``)."""
    keras_path = Path(keras_path)
    folder = Path(out_dir) if out_dir is not None else keras_path.parent
    return folder / (keras_path.stem + ONNX_SUFFIX)


def _rename_output(path: Path) -> None:
    """tf2onnx names the output after the graph's ``Identity:0``: give it a plain name."""
    import onnx

    graph_model = onnx.load(str(path))
    graph = graph_model.graph
    old = graph.output[0].name
    for node in graph.node:
        node.output[:] = [OUTPUT_NAME if name == old else name for name in node.output]
    graph.output[0].name = OUTPUT_NAME
    for value in (graph.input[0], graph.output[0]):
        value.type.tensor_type.shape.dim[0].dim_param = "batch"
    onnx.checker.check_model(graph_model)
    onnx.save(graph_model, str(path))


def export_onnx(model, dest: str | os.PathLike) -> Path:
    """Write ``model`` as ONNX at ``dest`` (atomically: a temporary file moved into place)."""
    import tensorflow as tf

    dest = Path(dest)
    dest.parent.mkdir(parents=True, exist_ok=True)
    staging = dest.with_name(f".{dest.name}.{uuid.uuid4().hex[:8]}.tmp")
    signature = [tf.TensorSpec((None, *predict.INPUT_SHAPE), tf.float32, name=INPUT_NAME)]
    predict.quiet_tensorflow_info()
    try:
        with warnings.catch_warnings():  # Keras' tf2onnx patch probes np.object (a FutureWarning)
            warnings.simplefilter("ignore", FutureWarning)
            model.export(str(staging), format="onnx", verbose=False, input_signature=signature)
        _rename_output(staging)
        os.replace(staging, dest)
    finally:
        if staging.exists():
            staging.unlink()
    return dest


def export_all(model_path: str | os.PathLike, out_dir: str | os.PathLike | None = None) -> dict[str, Path]:
    """Load the ``.keras`` model (clear :class:`ModelError` if it is missing or corrupt) and write
    its SavedModel and ONNX exports; returns ``{"keras", "savedmodel", "onnx"}`` paths."""
    model_path = Path(model_path)
    model = predict.load_model(model_path)
    saved_dest = None
    if out_dir is not None:
        saved_dest = Path(out_dir) / predict.savedmodel_path(model_path).name
    saved = predict.export_savedmodel(model, model_path, saved_dest)
    return {"keras": model_path, "savedmodel": saved, "onnx": export_onnx(model, onnx_path(model_path, out_dir))}


def onnx_session(path: str | os.PathLike):
    """An onnxruntime session for an exported model; :class:`ExportError` if it cannot be one."""
    import onnxruntime as ort

    path = Path(path)
    if not path.is_file():
        raise ExportError(f"no ONNX model at {path}. Write one with `asl-course export --model MODEL.keras`.")
    options = ort.SessionOptions()
    options.intra_op_num_threads = 1
    options.log_severity_level = 3
    try:
        session = ort.InferenceSession(str(path), options, providers=["CPUExecutionProvider"])
    except Exception as exc:  # noqa: BLE001 - onnxruntime raises its own classes for a bad file
        raise ExportError(
            f"{path} cannot be read as an ONNX model ({one_line(exc)}). It may be corrupt or "
            "cut short: write it again with `asl-course export --model MODEL.keras`."
        ) from None
    names = ([i.name for i in session.get_inputs()], [o.name for o in session.get_outputs()])
    if names != ([INPUT_NAME], [OUTPUT_NAME]):
        raise ExportError(f"{path} takes {names[0]} and gives {names[1]}, not the course's "
                          f"[{INPUT_NAME!r}] -> [{OUTPUT_NAME!r}]: export it with `asl-course export`.")
    return session


def onnx_probabilities(session, images) -> np.ndarray:
    """The ONNX model's ``(N, 24)`` probabilities for prepared images ``(N, 28, 28, 1)``."""
    batch = np.asarray(images, dtype="float32").reshape(-1, *predict.INPUT_SHAPE)
    return session.run([OUTPUT_NAME], {INPUT_NAME: batch})[0]


@dataclasses.dataclass(frozen=True)
class Parity:
    """Keras against onnxruntime on the same images."""

    images: int
    same_letter: int
    max_difference: float

    @property
    def ok(self) -> bool:
        return self.same_letter == self.images and self.max_difference <= PARITY_TOLERANCE

    def __str__(self) -> str:
        return (f"ONNX parity on {self.images} images: the same letter for {self.same_letter}, "
                f"largest probability difference {self.max_difference:.2e} (tolerance {PARITY_TOLERANCE:g})")


def parity(model, onnx_file: str | os.PathLike, images) -> Parity:
    """Compare the Keras model with its ONNX export on prepared ``images``."""
    images = np.asarray(images, dtype="float32").reshape(-1, *predict.INPUT_SHAPE)
    keras_probs = np.asarray(model.predict(images, verbose=0, batch_size=256), dtype="float64")
    onnx_probs = onnx_probabilities(onnx_session(onnx_file), images).astype("float64")
    same = int((keras_probs.argmax(axis=1) == onnx_probs.argmax(axis=1)).sum())
    return Parity(len(images), same, float(np.abs(keras_probs - onnx_probs).max()))


def parity_images(count: int = PARITY_IMAGES, data_dir=None) -> np.ndarray:
    """The first ``count`` prepared images of the test file (0..1, ``(N, 28, 28, 1)``)."""
    return lesson.prepare(data_dir).x_valid[:count].astype("float32")

