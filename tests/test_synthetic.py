"""The offline stand-in: deterministic, schema-valid, small, and unmistakably labelled."""

from __future__ import annotations

import json
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest

from _datautil import quiet
from asl_course import dataset as data
from asl_course.dataset import synthetic
from asl_course.tooling import cli

FILES = (data.TRAIN_FILE, data.VALID_FILE, data.MARKER_FILE)


@pytest.fixture(autouse=True)
def _no_data_env(monkeypatch):
    monkeypatch.delenv(data.DATA_ENV, raising=False)


@pytest.fixture(scope="module")
def made(tmp_path_factory):
    dest = tmp_path_factory.mktemp("synthetic") / "asl_data"
    started = time.perf_counter()
    marker = data.write_synthetic(dest, seed=0, log=quiet)
    seconds = time.perf_counter() - started
    print(f"\nwrote the stand-in in {seconds:.1f} s")
    return dest, marker, seconds


def test_same_seed_same_bytes(made, tmp_path):
    dest, _, _ = made
    again = tmp_path / "again"
    data.write_synthetic(again, seed=0, log=quiet)
    for name in FILES:
        assert (again / name).read_bytes() == (dest / name).read_bytes(), name


def test_other_seed_other_images():
    a = synthetic.generate(seed=1, train_per_class=2, valid_per_class=1)
    b = synthetic.generate(seed=2, train_per_class=2, valid_per_class=1)
    assert not np.array_equal(a["train"][0], b["train"][0])


def test_schema_valid(made):
    dest, marker, _ = made
    rows = {}
    for name in (data.TRAIN_FILE, data.VALID_FILE):
        content = (dest / name).read_bytes()
        assert content.startswith(data.HEADER.encode() + b"\n") and b"\r" not in content
        values = data.validate_csv(content, name, numbering="course")  # the release's checks
        assert values.shape[1] == 785
        assert set(np.unique(values[:, 0])) == set(range(data.NUM_CLASSES))
        rows[name] = len(values)
        assert marker["files"][name]["rows"] == len(values)
        assert marker["files"][name]["sha256"] == data.sha256_bytes(content)
    assert 1500 <= rows[data.TRAIN_FILE] <= 2500 and 500 <= rows[data.VALID_FILE] <= 700
    x_train, y_train, x_valid, y_valid = data.load_arrays(dest)
    assert x_train.dtype == np.uint8 and x_train.shape == (rows[data.TRAIN_FILE], 784)
    assert y_train.dtype == np.int64 and y_valid.max() == 23


def test_size(made):
    """Small enough to make on the fly in CI (its time: `asl-course bench data`)."""
    dest, _, _ = made
    total = sum((dest / name).stat().st_size for name in FILES)
    assert total < 6_200_000


def test_check_and_describe_say_synthetic(made, capsys):
    dest, _, _ = made
    result = data.check(dest)
    assert result["kind"] == "synthetic" and result["reasons"] == []
    line = data.describe(dest)
    assert line.startswith("Data: SYNTHETIC STAND-IN made by asl_course (not the real data set): ")
    assert line.endswith("Figures from it are not results on Sign Language MNIST.")
    marker = data.provenance(dest)
    assert marker["kind"] == "synthetic" and "SYNTHETIC STAND-IN" in marker["description"]
    assert "not results" in marker["description"]
    assert cli.main(["data", "check", str(dest)]) == 0
    out = capsys.readouterr().out
    assert "kind: synthetic" in out and "SYNTHETIC STAND-IN" in out


def test_cli_synthetic_and_subprocess_check(tmp_path, capsys):
    dest = tmp_path / "d"
    assert cli.main(["data", "synthetic", "--dest", str(dest), "--seed", "3"]) == 0
    assert "SYNTHETIC" in capsys.readouterr().out
    assert json.loads((dest / data.MARKER_FILE).read_text())["seed"] == 3
    run = subprocess.run(
        [sys.executable, "-m", "asl_course", "data", "check", str(dest)],
        capture_output=True, text=True, timeout=120,
    )
    assert run.returncode == 0, run.stderr
    assert "kind: synthetic" in run.stdout


def test_found_from_cwd(made, tmp_path, monkeypatch):
    dest, _, _ = made
    import shutil

    shutil.copytree(dest, tmp_path / "data" / "asl_data")
    (tmp_path / "sub").mkdir()
    monkeypatch.chdir(tmp_path / "sub")
    assert data.locate() == tmp_path / "data" / "asl_data"
    assert data.check()["kind"] == "synthetic"


def test_does_not_replace_real_data(tmp_path):
    dest = tmp_path / "asl_data"
    dest.mkdir()
    (dest / data.MARKER_FILE).write_text(json.dumps({"kind": "real", "description": "x"}))
    with pytest.raises(data.DataError, match="holds the real release"):
        data.write_synthetic(dest, log=quiet)
    assert list(dest.iterdir()) == [dest / data.MARKER_FILE]


def test_validation_split_is_harder_on_purpose():
    splits = synthetic.generate_with_mirror_flags(0, 4, 20)
    (_, y_train, mirrored_train), (_, y_valid, mirrored_valid) = splits["train"], splits["valid"]
    assert not mirrored_train.any()  # right hands only
    assert 0.3 < mirrored_valid.mean() < 0.7  # about half left hands
    assert synthetic.POSES["valid"] == {"rotation": 10.0, "zoom": 0.10, "shift": 0.10, "mirror": 0.5}
    assert synthetic.POSES["train"]["rotation"] < 10 and synthetic.POSES["train"]["mirror"] == 0


def test_letters_are_not_mirror_symmetric(made):
    """Each letter's mean training image differs clearly from its mirror image."""
    dest, _, _ = made
    x, y, _, _ = data.load_arrays(dest)
    images = x.reshape(-1, 28, 28).astype(float)
    for label in range(data.NUM_CLASSES):
        mean = images[y == label].mean(axis=0)
        difference = np.abs(mean - mean[:, ::-1])
        assert difference.mean() > 3 and difference.max() > 40, data.letter(label)
