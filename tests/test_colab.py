"""Colab: the package's supported Pythons, the quiet start, the data on Colab, and the model's
way from notebook 4 to notebook 5 (Google Drive, download, upload, the one-epoch stand-in).

These run in the pinned environment with the Colab stand-in of ``.ci/colab_support/site``
(``google.colab``: Drive, files, secrets); ``.ci/colab`` runs every notebook in the
Colab-equivalent runtime itself (Python 3.13, Colab's versions).
"""

from __future__ import annotations

import importlib
import json
import os
import re
import shutil
import subprocess
import sys
import textwrap
import tomllib
from pathlib import Path

import pytest
from packaging.specifiers import SpecifierSet

from asl_course import dataset as data
from asl_course.learners import lesson, notebook

REPO = Path(__file__).resolve().parent.parent
STANDIN = REPO / ".ci" / "colab_support" / "site"
SHARED_DATA = REPO.parent / "shared" / "asl_data"

#: What TensorFlow prints at start-up without the quiet start (TF 2.20 and 2.21, CPU and GPU).
TF_START_UP_LINES = [
    "2026-12-01 09:56:42.957068: I tensorflow/core/platform/cpu_feature_guard.cc:210] This "
    "TensorFlow binary is optimized to use available CPU instructions in performance-critical operations.",
    "To enable the following instructions: AVX2 FMA, in other operations, rebuild TensorFlow with "
    "the appropriate compiler flags.",
    "WARNING: All log messages before absl::InitializeLog() is called are written to STDERR",
    "I0000 00:00:1796118541.440974   10041 cpu_feature_guard.cc:227] This TensorFlow binary is optimized",
    "E0000 00:00:1758131045.203198 3722035 cuda_dnn.cc:8579] Unable to register cuDNN factory: "
    "Attempting to register factory for plugin cuDNN when one has already been registered",
    "2025-09-17 14:44:05.176998: E external/local_xla/xla/stream_executor/cuda/cuda_fft.cc:467] "
    "Unable to register cuFFT factory: Attempting to register factory for plugin cuFFT",
    "2025-02-09 09:37:33.337631: W tensorflow/compiler/tf2tensorrt/utils/py_utils.cc:38] TF-TRT "
    "Warning: Could not find TensorRT",
    "2025-10-30 02:25:47.476347: I tensorflow/core/util/port.cc:113] oneDNN custom operations are on.",
]


# --- Pythons and versions -----------------------------------------------------------------------


def test_the_package_installs_on_colabs_python():
    """Colab runs Python 3.13 (since 2026-08-25); the pinned environment, 3.11."""
    project = tomllib.loads((REPO / "pyproject.toml").read_text())["project"]
    allowed = SpecifierSet(project["requires-python"])
    colab = (REPO.parent / "shared" / "colab" / "os-info-gpu.txt")
    versions = ["3.11.7", "3.12.0", "3.13.0", "3.13.15"]
    if colab.exists():
        versions += re.findall(r"^Python (\d+\.\d+\.\d+)", colab.read_text(), re.M)
    for version in versions:
        assert allowed.contains(version), f"requires-python {allowed} refuses Python {version}"


def test_tf_log_pattern_is_the_one_the_colab_run_checks():
    import ast

    tree = ast.parse((REPO / ".ci" / "colab_support" / "run_notebooks.py").read_text())
    call = next(node.value for node in tree.body if isinstance(node, ast.Assign)
                and getattr(node.targets[0], "id", "") == "TF_LOG")
    assert ast.literal_eval(call.args[0]) == notebook.TF_LOG_LINE.pattern


@pytest.mark.parametrize("line", TF_START_UP_LINES)
def test_tf_log_pattern_knows_the_start_up_lines(line):
    assert notebook.TF_LOG_LINE.match(line)


@pytest.mark.parametrize("line", ["Epoch 1/1", "WARNING:absl:You are saving your model as an HDF5 file",
                                  "E: something else", "2026-12-01 a date, not a log line"])
def test_tf_log_pattern_leaves_other_lines(line):
    assert not notebook.TF_LOG_LINE.match(line)


# --- Quiet start ----------------------------------------------------------------------------


def _kernel_stderr(code: str, cwd: Path, env: dict) -> tuple[str, str]:
    """Run ``code`` as one cell in a fresh kernel of this environment: its stdout, and its
    stderr: the cell's stderr output together with what the kernel process wrote to its file
    descriptor 2 (Jupyter forwards that to the notebook too, but not always before the cell
    ends, so the cell's outputs alone would make a test that passes by luck)."""
    import nbformat
    from nbclient import NotebookClient

    nb = nbformat.v4.new_notebook()
    nb.cells.append(nbformat.v4.new_code_cell(code))
    with open(cwd / "kernel-stderr.txt", "w+b") as fd2:
        NotebookClient(nb, timeout=600, kernel_name="python3",
                       resources={"metadata": {"path": str(cwd)}}).execute(env=env, stderr=fd2)
        fd2.seek(0)
        process = fd2.read().decode("utf-8", errors="replace")
    outputs = nb.cells[0].outputs
    out = "".join(o.get("text", "") for o in outputs if o.get("name") == "stdout")
    err = "".join(o.get("text", "") for o in outputs if o.get("name") == "stderr")
    return out, err + "\n" + process


def test_setup_cell_starts_quietly(tmp_path, data_dir):
    """A learner's first cell, in a fresh kernel that has no TF_CPP_MIN_LOG_LEVEL of its own:
    no TensorFlow C++ log line reaches the notebook (the kernel forwards fd 2 to it)."""
    env = {k: v for k, v in os.environ.items() if k != "TF_CPP_MIN_LOG_LEVEL"}
    env["ASL_DATA_DIR"] = str(data_dir)
    code = (REPO / "solutions" / "01_prepare_data.ipynb")
    import nbformat

    setup_cell = next(c for c in nbformat.read(code, 4).cells if c.cell_type == "code").source
    out, err = _kernel_stderr(setup_cell + "\nimport keras\nkeras.Sequential([keras.Input((4,)), keras.layers.Dense(2)])",
                              tmp_path, env)
    assert "GPU:" in out, out
    found = [line for line in err.splitlines() if notebook.TF_LOG_LINE.match(line)]
    assert not found, "TensorFlow's C++ log reached the notebook:\n" + "\n".join(found)


def test_absl_lines_are_filtered_but_other_stderr_kept(tmp_path):
    """What the environment variable cannot hide (absl's lines before its initialisation, as
    on Colab's GPU runtime) is filtered at the file descriptor; anything else is kept."""
    fake = tmp_path / "fake" / "tensorflow"
    fake.mkdir(parents=True)
    lines = "\n".join(TF_START_UP_LINES[2:6])
    (fake / "__init__.py").write_text(
        "import os\n"
        f"os.write(2, {lines!r}.encode() + b'\\nsomething a learner must see\\n')\n"
    )
    script = textwrap.dedent(f"""
        import sys
        sys.path.insert(0, {str(fake.parent)!r})
        from asl_course.learners import notebook
        notebook.import_tensorflow_quietly()
        import tensorflow
        print("imported", tensorflow.__file__)
    """)
    run = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=120, cwd=tmp_path)
    assert run.returncode == 0, run.stderr
    assert "imported" in run.stdout
    assert run.stderr.strip() == "something a learner must see", run.stderr


def test_import_sets_the_log_level_but_keeps_the_learners(tmp_path):
    code = "import os, asl_course; print(os.environ.get('TF_CPP_MIN_LOG_LEVEL'))"
    env = {k: v for k, v in os.environ.items() if k != "TF_CPP_MIN_LOG_LEVEL"}

    def level():
        return subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True,
                              cwd=tmp_path).stdout.strip()

    assert level() == "2"
    env["TF_CPP_MIN_LOG_LEVEL"] = "0"
    assert level() == "0"


# --- The Colab stand-in ---------------------------------------------------------------------


@pytest.fixture
def colab(tmp_path, monkeypatch):
    """A Colab runtime: the stand-in google.colab imported, /content = tmp_path/content (the
    working folder), every call logged. Yields a helper to read the log."""
    content = tmp_path / "content"
    content.mkdir()
    log = tmp_path / "standin.jsonl"
    monkeypatch.chdir(content)
    monkeypatch.setenv("ASL_COURSE_COLAB_CONTENT", str(content))
    monkeypatch.setenv("COLAB_STANDIN_LOG", str(log))
    monkeypatch.setenv("COLAB_STANDIN_DOWNLOADS", str(tmp_path / "downloads"))
    for name in ("COLAB_STANDIN_DRIVE", "COLAB_STANDIN_DRIVE_GRANT", "COLAB_STANDIN_UPLOAD"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.syspath_prepend(str(STANDIN))
    for name in [m for m in sys.modules if m == "google.colab" or m.startswith("google.colab.")]:
        monkeypatch.delitem(sys.modules, name)
    importlib.import_module("google.colab")
    assert notebook.in_colab()

    class Runtime:
        folder = content

        @staticmethod
        def calls():
            return [json.loads(line)["call"] for line in log.read_text().splitlines()] if log.exists() else []

        @staticmethod
        def drive(root: Path, *, mounted: bool):
            (root / "MyDrive").mkdir(parents=True, exist_ok=True)
            monkeypatch.setenv("COLAB_STANDIN_DRIVE", str(root))
            if mounted:
                from google.colab import drive

                drive._link(str(content / "drive"))

    yield Runtime
    for name in [m for m in sys.modules if m == "google.colab" or m.startswith("google.colab.")]:
        sys.modules.pop(name, None)


def _interactive(monkeypatch, on: bool):
    if on:
        monkeypatch.delenv("ASL_COURSE_AUTOMATED", raising=False)
        monkeypatch.delenv("NBGRADER_EXECUTION", raising=False)
    else:
        monkeypatch.setenv("ASL_COURSE_AUTOMATED", "1")
    assert notebook.interactive() is on


@pytest.fixture(scope="module")
def tiny_model_file(tmp_path_factory):
    """A real, small .keras file (the lesson's model, untrained) to move around."""
    path = tmp_path_factory.mktemp("model") / "asl_model.keras"
    model = lesson.build_model()
    lesson.compile_model(model)
    model.save(path)
    return path


def test_standin_prompts_fail_at_once_without_a_learner(colab):
    from google.colab import StandInPrompt, drive, files, userdata

    with pytest.raises(StandInPrompt, match="waits for the learner"):
        drive.mount(str(colab.folder / "drive"))
    with pytest.raises(StandInPrompt, match="waits for the learner"):
        files.upload()
    with pytest.raises(userdata.SecretNotFoundError):
        userdata.get("KAGGLE_KEY")
    assert colab.calls() == ["drive.mount", "files.upload", "userdata.get"]


def test_notebook_4_copies_to_a_mounted_drive_and_5_takes_it_from_there(colab, tmp_path, monkeypatch, tiny_model_file, capsys):
    _interactive(monkeypatch, False)
    colab.drive(tmp_path / "gdrive", mounted=True)
    shutil.copy(tiny_model_file, "asl_model.keras")
    kept = notebook.keep_model("asl_model.keras")
    assert kept == colab.folder / "drive" / "MyDrive" / "asl_course" / "asl_model.keras"
    assert (tmp_path / "gdrive" / "MyDrive" / "asl_course" / "asl_model.keras").read_bytes() == tiny_model_file.read_bytes()
    assert "Copied asl_model.keras to your Google Drive" in capsys.readouterr().out
    # Notebook 5: another runtime, the same Drive, an empty working folder.
    Path("asl_model.keras").unlink()

    def no_training(*args, **kwargs):
        raise AssertionError("trained a stand-in although Drive has the model")

    monkeypatch.setattr(lesson, "trained_model", no_training)
    path, label = notebook.model_for_notebook_5(None, "asl_model.keras")
    assert path.read_bytes() == tiny_model_file.read_bytes()
    assert "from your Google Drive" in capsys.readouterr().out and "Google Drive" in label
    assert "drive.mount" not in colab.calls() and "files.upload" not in colab.calls()


def test_interactive_notebook_4_mounts_drive_when_the_learner_allows(colab, tmp_path, monkeypatch, tiny_model_file, capsys):
    _interactive(monkeypatch, True)
    colab.drive(tmp_path / "gdrive", mounted=False)
    monkeypatch.setenv("COLAB_STANDIN_DRIVE_GRANT", "1")
    shutil.copy(tiny_model_file, "asl_model.keras")
    assert notebook.keep_model("asl_model.keras") is not None
    assert colab.calls() == ["drive.mount"]
    assert (tmp_path / "gdrive" / "MyDrive" / "asl_course" / "asl_model.keras").exists()
    assert "Mounted at" in capsys.readouterr().out


def test_interactive_notebook_4_downloads_when_drive_is_declined(colab, tmp_path, monkeypatch, tiny_model_file, capsys):
    _interactive(monkeypatch, True)
    shutil.copy(tiny_model_file, "asl_model.keras")
    assert notebook.keep_model("asl_model.keras") is None
    assert colab.calls() == ["drive.mount", "files.download"]
    assert (tmp_path / "downloads" / "asl_model.keras").exists()
    out = capsys.readouterr().out
    assert "Google Drive was not mounted" in out and "Your browser downloads asl_model.keras" in out


def test_automated_notebook_4_asks_nothing(colab, monkeypatch, tiny_model_file, capsys):
    _interactive(monkeypatch, False)
    shutil.copy(tiny_model_file, "asl_model.keras")
    assert notebook.keep_model("asl_model.keras") is None
    assert colab.calls() == []
    assert "one-epoch stand-in" in capsys.readouterr().out


def test_interactive_notebook_5_takes_an_upload_renamed_by_colab(colab, tmp_path, monkeypatch, tiny_model_file, capsys):
    _interactive(monkeypatch, True)
    upload = tmp_path / "upload"
    upload.mkdir()
    shutil.copy(tiny_model_file, upload / "asl_model (1).keras")  # the browser's second download
    monkeypatch.setenv("COLAB_STANDIN_UPLOAD", str(upload))
    monkeypatch.setattr(lesson, "trained_model", lambda *a, **k: pytest.fail("trained despite the upload"))
    path, label = notebook.model_for_notebook_5(None, "asl_model.keras", drive=False)
    assert path == Path("asl_model.keras") and path.read_bytes() == tiny_model_file.read_bytes()
    assert colab.calls() == ["files.upload"]
    assert "Using the model you uploaded (asl_model (1).keras)" in capsys.readouterr().out


@pytest.mark.slow
def test_notebook_5_without_a_model_says_it_analyses_a_stand_in(colab, monkeypatch, prepared, capsys):
    """No model anywhere, automated (so no upload prompt): the stand-in is trained, measured on
    the validation set, saved, and the message says so with the accuracy it measured."""
    _interactive(monkeypatch, False)
    import keras
    import numpy as np

    def one_step(prepared, *, plan=None, seed=0):  # the real model, trained for a few steps only
        keras.utils.set_random_seed(seed)
        model = lesson.build_model()
        lesson.compile_model(model)
        model.fit(prepared.x_train[:64], prepared.y_train[:64], epochs=1, verbose=0)
        return model, None

    monkeypatch.setattr(lesson, "trained_model", one_step)
    path, label = notebook.model_for_notebook_5(prepared, "asl_model.keras")
    out = capsys.readouterr().out
    measured = float(re.search(r"validation accuracy (\d\.\d{3})", out).group(1))
    model = keras.models.load_model(path)
    again = float(np.mean(model.predict(prepared.x_valid, verbose=0).argmax(axis=1) == prepared.labels_valid))
    assert abs(measured - again) < 0.0006
    assert "what follows analyses a one-epoch stand-in" in out and "NOT the model you trained" in out
    assert "Google Drive is not mounted" in out
    assert f"{measured:.3f}" in label
    assert colab.calls() == []


# --- Data on Colab --------------------------------------------------------------------------


def test_colab_setup_without_data_explains_instead_of_a_traceback(colab, monkeypatch):
    monkeypatch.delenv("ASL_DATA_DIR", raising=False)

    class Offline:
        @staticmethod
        def dataset_download(handle):
            raise ConnectionError("Failed to resolve 'www.kaggle.com'")

    monkeypatch.setitem(sys.modules, "kagglehub", Offline)
    with pytest.raises(notebook.SetupError) as info:
        notebook.setup()
    message = str(info.value)
    for words in ("without a Kaggle account", "KAGGLE_USERNAME", "KAGGLE_KEY", "files.upload()",
                  "run this cell again", data.KAGGLE_URL, "Failed to resolve"):
        assert words in message, words
    assert "asl-course data synthetic" not in message  # the CLI's alternatives are not for Colab
    assert info.value._render_traceback_() == [f"SetupError: {message}"]


@pytest.mark.skipif(not (SHARED_DATA / "sign_mnist_train.csv.gz").exists(), reason="needs ../shared/asl_data")
def test_colab_setup_imports_an_uploaded_release(colab, monkeypatch, capsys):
    monkeypatch.delenv("ASL_DATA_DIR", raising=False)
    monkeypatch.setitem(sys.modules, "kagglehub", None)  # no download may be tried
    for name in ("sign_mnist_train.csv.gz", "sign_mnist_test.csv.gz"):
        os.symlink(SHARED_DATA / name, colab.folder / name)
    folder = notebook.setup()
    assert folder == colab.folder / "data" / "asl_data"
    assert data.provenance(folder)["kind"] == "real"
    assert "Importing the data set you uploaded" in capsys.readouterr().out


def test_the_colab_run_looks_for_notebook_5s_own_messages_in_each_language():
    """The Colab run's check of the 04 -> 05 hand-over looks for the package's messages (their msgids in
    learners/notebook.py's catalog), in the notebook's language: Korean text for the Korean edition."""
    import sys

    from asl_course import i18n

    sys.path.insert(0, str(REPO / ".ci" / "colab_support"))
    try:
        import run_notebooks
    finally:
        sys.path.pop(0)
    msgids = {e.msgid for e in i18n.read_po(i18n.LOCALE_DIR / "ko" / "learners.notebook.po")[0]}
    for message in (run_notebooks.DRIVE_MESSAGE, run_notebooks.STAND_IN_MESSAGE):
        assert message in msgids
        english, korean = (run_notebooks.said(message, lang, REPO) for lang in ("en", "ko"))
        assert message.startswith(english) and english != korean and re.search("[\uac00-\ud7a3]", korean)
