"""``asl-course export``: the SavedModel and the ONNX file beside the ``.keras`` model, and the
ONNX file's parity with Keras (onnxruntime, the runtime the web page runs in the browser).

The mechanics (files written, the ONNX input and output names and shapes, clear errors for a
missing or corrupt model) use an untrained lesson model: fast. The parity that carries the
issue's figure (the same letter for 1,000 test-file images, probabilities within 1e-4) uses the
session's trained model (``trained_model``, slow).
"""

from __future__ import annotations

import numpy as np
import pytest

from asl_course.learners import lesson, predict
from asl_course.tooling import cli, export


@pytest.fixture(scope="module")
def untrained(tmp_path_factory):
    import keras

    keras.utils.set_random_seed(1)
    model = lesson.build_model()
    path = tmp_path_factory.mktemp("untrained") / lesson.MODEL_FILE
    lesson.save_model(model, path)
    return path, model


def test_export_writes_savedmodel_and_onnx_with_the_course_names(untrained, tmp_path, capsys):
    path, model = untrained
    code = cli.main(["export", "--model", str(path), "--out", str(tmp_path), "--parity", "0"])
    out = capsys.readouterr().out
    assert code == 0
    onnx_file = tmp_path / "asl_model.onnx"
    assert str(onnx_file) in out and (tmp_path / "asl_model_savedmodel" / "saved_model.pb").is_file()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["asl_model.onnx", "asl_model_savedmodel"]
    session = export.onnx_session(onnx_file)
    (given,), (taken,) = session.get_inputs(), session.get_outputs()
    assert (given.name, given.shape[1:], given.type) == ("image", [28, 28, 1], "tensor(float)")
    assert (taken.name, taken.shape[1:]) == ("probabilities", [24])
    images = np.random.default_rng(0).random((5, 28, 28, 1)).astype("float32")
    probs = export.onnx_probabilities(session, images)
    assert probs.shape == (5, 24)
    np.testing.assert_allclose(probs, model.predict(images, verbose=0), atol=1e-5)


def test_export_beside_the_model_by_default(untrained, tmp_path):
    import shutil

    path = tmp_path / lesson.MODEL_FILE
    shutil.copy(untrained[0], path)
    written = export.export_all(path)
    assert written["onnx"] == tmp_path / "asl_model.onnx" and written["onnx"].is_file()
    assert written["savedmodel"] == tmp_path / "asl_model_savedmodel"


@pytest.mark.parametrize("kind", ["missing", "garbage", "truncated"])
def test_a_missing_or_corrupt_model_is_one_clear_line(kind, untrained, tmp_path, capsys):
    path = tmp_path / "asl_model.keras"
    if kind == "garbage":
        path.write_bytes(b"\x00not a model" * 50)
    elif kind == "truncated":
        path.write_bytes(untrained[0].read_bytes()[:3000])
    assert cli.main(["export", "--model", str(path)]) == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and err.startswith("asl-course export: error: ") and str(path) in err
    assert "asl-course run" in err  # what to do
    assert not (tmp_path / "asl_model.onnx").exists()


def test_a_corrupt_onnx_file_is_one_clear_line(untrained, tmp_path):
    bad = tmp_path / "asl_model.onnx"
    bad.write_bytes(b"\x08\x01garbage")
    with pytest.raises(export.ExportError, match="cannot be read as an ONNX model.*asl-course export") as info:
        export.onnx_session(bad)
    assert "\n" not in str(info.value)
    with pytest.raises(export.ExportError, match="no ONNX model at"):
        export.onnx_session(tmp_path / "none.onnx")


def test_parity_notices_a_different_model(untrained, tmp_path):
    """The parity check fails when the ONNX file is not the Keras model's (it can fail)."""
    import keras

    keras.utils.set_random_seed(2)
    other = export.export_onnx(lesson.build_model(), tmp_path / "other.onnx")
    images = np.random.default_rng(3).random((64, 28, 28, 1)).astype("float32")
    result = export.parity(untrained[1], other, images)
    assert not result.ok and result.max_difference > export.PARITY_TOLERANCE


@pytest.mark.slow
def test_onnx_parity_with_keras_on_1000_test_images(trained_model, prepared, tmp_path, capsys):
    path, model = trained_model
    onnx_file = export.export_onnx(model, tmp_path / "asl_model.onnx")
    images = prepared.x_valid[: export.PARITY_IMAGES]
    result = export.parity(model, onnx_file, images)
    with capsys.disabled():
        print(f"\n{result}")
    assert result.images == 1000
    assert result.same_letter == 1000, result
    assert result.max_difference <= 1e-4, result
