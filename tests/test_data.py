"""asl_course.dataset and `asl-course data`: labels, locate, import (real and bad inputs), fetch, check.

The real release is read from <repo>/../shared/asl_data when it is there (those tests skip
otherwise); bad inputs are small CSVs made here or modified copies of the release written to
tmp_path. Nothing from the release is ever part of the repository.
"""

from __future__ import annotations

import gzip
import io
import json
import shutil
import subprocess
import sys
import time
import types
import zipfile
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from _datautil import (
    REAL_TEST_GZ,
    REAL_TRAIN_GZ,
    SHARED,
    csv_text,
    leftovers,
    make_csv,
    make_rows,
    quiet,
    real_csv,
    requires_real,
    set_cell,
    snapshot,
    write_pair,
)
from asl_course import dataset as data
from asl_course.tooling import cli
from asl_course.errors import UserError

SMALL_ROWS = {"train": 48, "test": 24}


@pytest.fixture(autouse=True)
def _no_data_env(monkeypatch):
    """The session's conftest points $ASL_DATA_DIR at its data; these tests choose their own."""
    monkeypatch.delenv(data.DATA_ENV, raising=False)


@pytest.fixture(scope="module")
def standin(tmp_path_factory) -> Path:
    """A good data folder (the stand-in), to copy as 'an existing good copy at dest'."""
    folder = tmp_path_factory.mktemp("standin") / "asl_data"
    data.write_synthetic(folder, log=quiet)
    return folder


@pytest.fixture
def good_dest(tmp_path, standin) -> Path:
    dest = tmp_path / "dest" / "asl_data"
    shutil.copytree(standin, dest)
    return dest


# --------------------------------------------------------------------------------------
# Labels


def test_label_mapping_scalars():
    assert [data.release_to_course_label(v) for v in (0, 8, 10, 24)] == [0, 8, 9, 23]
    assert [data.course_to_release_label(v) for v in (0, 8, 9, 23)] == [0, 8, 10, 24]
    assert isinstance(data.release_to_course_label(np.int64(10)), int)
    assert data.letter(0) == "A" and data.letter(9) == "K" and data.letter(23) == "Y"
    assert data.letter(data.release_to_course_label(10)) == "K"
    assert len(data.LETTERS) == data.NUM_CLASSES == 24 and "J" not in data.LETTERS


def test_label_mapping_arrays_round_trip():
    release = np.array(data.RELEASE_LABELS)
    course = data.release_to_course_label(release)
    assert isinstance(course, np.ndarray) and course.dtype == np.int64
    assert course.tolist() == list(range(24))
    assert data.course_to_release_label(course).tolist() == list(release)
    assert data.release_to_course_label(release.reshape(4, 6)).shape == (4, 6)


@pytest.mark.parametrize("bad", [9, 25, -1, 100, np.array([3, 9, 4])])
def test_release_label_out_of_numbering_raises(bad):
    with pytest.raises(data.DataError, match="release numbering"):
        data.release_to_course_label(bad)


@pytest.mark.parametrize("bad", [24, -1])
def test_course_label_out_of_range_raises(bad):
    with pytest.raises(data.DataError):
        data.course_to_release_label(bad)
    with pytest.raises(data.DataError):
        data.letter(bad)


def test_errors_are_user_errors():
    assert issubclass(data.DataNotFoundError, data.DataError)
    assert issubclass(data.DataError, UserError)


# --------------------------------------------------------------------------------------
# default_dest and locate


def _fake_data_folder(folder: Path) -> Path:
    folder.mkdir(parents=True)
    (folder / data.TRAIN_FILE).write_text(data.HEADER + "\n")
    (folder / data.VALID_FILE).write_text(data.HEADER + "\n")
    return folder


def test_default_dest(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    assert data.default_dest() == tmp_path / "data" / "asl_data"
    monkeypatch.setenv(data.DATA_ENV, str(tmp_path / "elsewhere"))
    assert data.default_dest() == tmp_path / "elsewhere"


def test_locate_order(tmp_path, monkeypatch):
    found = _fake_data_folder(tmp_path / "root" / "data" / "asl_data")
    deep = tmp_path / "root" / "a" / "b"
    deep.mkdir(parents=True)
    monkeypatch.chdir(deep)
    assert data.locate() == found  # searched up from cwd
    env_dir = _fake_data_folder(tmp_path / "env")
    monkeypatch.setenv(data.DATA_ENV, str(env_dir))
    assert data.locate() == env_dir  # $ASL_DATA_DIR beats the search
    explicit = _fake_data_folder(tmp_path / "explicit")
    assert data.locate(explicit) == explicit  # the argument beats both
    assert data.locate(str(explicit)) == explicit


def test_locate_needs_both_files(tmp_path, monkeypatch):
    half = tmp_path / "data" / "asl_data"
    half.mkdir(parents=True)
    (half / data.TRAIN_FILE).write_text(data.HEADER + "\n")
    monkeypatch.chdir(tmp_path)
    with pytest.raises(data.DataNotFoundError):
        data.locate()
    with pytest.raises(data.DataNotFoundError, match="sign_mnist_valid.csv"):
        data.locate(half)


def test_locate_error_gives_the_commands(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    with pytest.raises(data.DataNotFoundError) as info:
        data.locate()
    message = str(info.value)
    for command in ("asl-course data fetch", "asl-course data import PATH", "asl-course data synthetic"):
        assert command in message
    assert "\n" not in message and str(tmp_path) in message
    monkeypatch.setenv(data.DATA_ENV, str(tmp_path / "nothing"))
    with pytest.raises(data.DataNotFoundError, match=r"\$ASL_DATA_DIR") as info:
        data.locate()
    assert "asl-course data synthetic" in str(info.value)


def test_check_missing_and_cli_exit(tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    result = data.check()
    assert result["kind"] == "missing" and result["rows"] == {}
    assert "asl-course data fetch" in result["reasons"][0]
    assert data.check(tmp_path / "nowhere")["kind"] == "missing"
    assert cli.main(["data", "check"]) == 1
    out = capsys.readouterr().out
    assert "kind: missing" in out


# --------------------------------------------------------------------------------------
# Import: small files


def _import(paths, dest, **kwargs):
    return data.import_release(paths, dest, log=quiet, **kwargs)


def test_small_well_formed_files_need_the_override(tmp_path):
    paths = write_pair(tmp_path / "in", make_csv(48), make_csv(24, seed=1))
    dest = tmp_path / "out" / "asl_data"
    with pytest.raises(data.DataError, match="--allow-checksum-mismatch") as info:
        _import(paths, dest)
    assert "48 data rows" in str(info.value) and "27,455" in str(info.value)
    assert not dest.exists() and leftovers(dest.parent if dest.parent.exists() else tmp_path) == []
    marker = _import(paths, dest, allow_checksum_mismatch=True)
    assert marker["checksums_match"] is False
    assert (dest / data.MARKER_FILE).is_file()
    result = data.check(dest)
    assert result["kind"] == "real" and result["notes"] and result["rows"] == {"train": 48, "valid": 24}
    assert "differ from the published release" in data.describe(dest)


def test_import_converts_labels_and_writes_lf(tmp_path, monkeypatch):
    train, test = make_csv(48), make_csv(24, seed=1)
    monkeypatch.setattr(data.files, "RELEASE_ROWS", SMALL_ROWS)
    monkeypatch.setattr(data.files, "RELEASE_SHA256", {"train": data.sha256_bytes(train), "test": data.sha256_bytes(test)})
    dest = tmp_path / "asl_data"
    marker = _import(write_pair(tmp_path / "in", train, test, gz=True), dest)
    assert marker["kind"] == "real" and marker["checksums_match"] is True
    written = (dest / data.TRAIN_FILE).read_bytes()
    assert b"\r" not in written and written.startswith(data.HEADER.encode() + b"\n")
    frame = pd.read_csv(io.BytesIO(written))
    expected = make_rows(48)
    assert (frame.to_numpy()[:, 1:] == expected[:, 1:]).all()
    assert frame["label"].tolist() == data.release_to_course_label(expected[:, 0]).tolist()
    assert marker["files"][data.TRAIN_FILE]["sha256"] == data.sha256_bytes(written)
    assert marker["release"]["train"]["sha256"] == data.sha256_bytes(train)
    assert marker["label_mapping"]["release_to_course"]["10"] == 9
    x_train, y_train, x_valid, y_valid = data.load_arrays(dest)
    assert x_train.dtype == np.uint8 and x_train.shape == (48, 784) and y_train.dtype == np.int64
    assert y_valid.tolist() == list(range(24))
    assert data.check(dest)["kind"] == "real" and data.check(dest)["notes"] == []


def test_kaggle_layout_with_duplicate_copies(tmp_path, monkeypatch):
    """kagglehub's folder (and the zip) hold each CSV twice: at the top and in a subfolder."""
    train, test = make_csv(48), make_csv(24, seed=1)
    monkeypatch.setattr(data.files, "RELEASE_ROWS", SMALL_ROWS)
    monkeypatch.setattr(data.files, "RELEASE_SHA256", {"train": data.sha256_bytes(train), "test": data.sha256_bytes(test)})
    folder = tmp_path / "kaggle" / "versions" / "1"
    write_pair(folder, train, test)
    write_pair(folder / "sub", train, test)
    (folder / "amer_sign2.png").write_bytes(b"\x89PNG not really")
    write_pair(folder / ".hidden", make_csv(48, seed=7), test)  # hidden folders are not searched
    dest = tmp_path / "asl_data"
    _import(folder, dest)
    assert data.check(dest)["kind"] == "real"
    # ... but two different files for one role is an error
    write_pair(folder / "other", make_csv(48, seed=5), test)
    with pytest.raises(data.DataError, match="two different sign_mnist_train.csv"):
        _import(folder, tmp_path / "dest2")


def _zip(path: Path, members: dict[str, bytes]) -> Path:
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED, compresslevel=1) as archive:
        for name, content in members.items():
            archive.writestr(name, content)
    return path


# Each bad input: a function (tmp_path) -> paths to import, and what the error must say.
def _missing_file(tmp):
    paths = write_pair(tmp, make_csv(48), make_csv(24))
    paths[0].unlink()
    return paths


def _empty_file(tmp):
    return write_pair(tmp, b"", make_csv(24))


def _truncated(tmp):
    train = make_csv(48)
    return write_pair(tmp, train[: len(train) - 1000], make_csv(24))


def _wrong_header(tmp):
    header = data.HEADER.replace("pixel1,", "pixel0,")
    return write_pair(tmp, csv_text(make_rows(48).tolist(), header=header), make_csv(24))


def _non_numeric(tmp):
    return write_pair(tmp, set_cell(make_csv(48), 6, 100, "abc"), make_csv(24))


def _pixel_256(tmp):
    return write_pair(tmp, make_csv(48), set_cell(make_csv(24), 3, 784, "256"))


def _label_25(tmp):
    return write_pair(tmp, set_cell(make_csv(48), 10, 0, "25"), make_csv(24))


def _label_9(tmp):
    return write_pair(tmp, set_cell(make_csv(48), 11, 0, "9"), make_csv(24))


def _zip_without_csvs(tmp):
    tmp.mkdir(parents=True, exist_ok=True)
    return [_zip(tmp / "archive.zip", {"amer_sign2.png": b"png", "readme.txt": b"hello"})]


def _swapped_by_rows(tmp):
    return write_pair(tmp, make_csv(24), make_csv(48))


def _only_train(tmp):
    return write_pair(tmp, make_csv(48), make_csv(24))[:1]


def _short_row(tmp):
    lines = make_csv(48).split(b"\r\n")
    lines[5] = b",".join(lines[5].split(b",")[:400])
    return write_pair(tmp, b"\r\n".join(lines), make_csv(24))


BAD_INPUTS = {
    "missing file": (_missing_file, ["sign_mnist_train.csv", "no such file"]),
    "empty file": (_empty_file, ["sign_mnist_train.csv", "is empty"]),
    "truncated mid-row": (_truncated, ["sign_mnist_train.csv", "truncated", "line 49", "cut off"]),
    "wrong header": (_wrong_header, ["sign_mnist_train.csv", "header", "'pixel0'", "'pixel1'"]),
    "non-numeric cell": (_non_numeric, ["sign_mnist_train.csv", "line 8", "pixel100", "'abc'"]),
    "pixel 256": (_pixel_256, ["sign_mnist_test.csv", "line 5", "pixel784", "256", "0..255"]),
    "label 25": (_label_25, ["sign_mnist_train.csv", "line 12", "label 25", "0..24"]),
    "label 9": (_label_9, ["sign_mnist_train.csv", "line 13", "label 9", "J"]),
    "zip without the CSVs": (_zip_without_csvs, ["archive.zip", "holds no sign_mnist_train.csv", "amer_sign2.png"]),
    "train and valid swapped": (_swapped_by_rows, ["sign_mnist_train.csv", "swapped"]),
    "only one file": (_only_train, ["No sign_mnist_test.csv"]),
    "short row": (_short_row, ["sign_mnist_train.csv", "line 6", "400 of 785"]),
}


@pytest.mark.parametrize("case", list(BAD_INPUTS))
def test_bad_input_is_a_clear_error_and_writes_nothing(case, tmp_path, good_dest, monkeypatch):
    monkeypatch.setattr(data.files, "RELEASE_ROWS", SMALL_ROWS)  # let small files past the row counts
    make, needles = BAD_INPUTS[case]
    paths = make(tmp_path / "in")
    before = snapshot(good_dest)
    with pytest.raises(data.DataError) as info:
        _import(paths, good_dest, allow_checksum_mismatch=True)
    message = str(info.value)
    for needle in needles:
        assert needle in message, f"{needle!r} not in: {message}"
    assert "\n" not in message
    assert snapshot(good_dest) == before
    assert leftovers(good_dest.parent) == []
    # a fresh destination is not created either
    fresh = tmp_path / "fresh" / "asl_data"
    with pytest.raises(data.DataError):
        _import(paths, fresh, allow_checksum_mismatch=True)
    assert not fresh.exists()


def test_checksum_mismatch_names_the_override(tmp_path, good_dest, monkeypatch):
    monkeypatch.setattr(data.files, "RELEASE_ROWS", SMALL_ROWS)
    paths = write_pair(tmp_path / "in", make_csv(48), make_csv(24))
    before = snapshot(good_dest)
    with pytest.raises(data.DataError) as info:
        _import(paths, good_dest)
    message = str(info.value)
    assert "sha256" in message and "--allow-checksum-mismatch" in message
    assert "allow_checksum_mismatch=True" in message
    assert snapshot(good_dest) == before and leftovers(good_dest.parent) == []
    marker = _import(paths, good_dest, allow_checksum_mismatch=True)  # replaces the stand-in
    assert marker["checksums_match"] is False
    assert json.loads((good_dest / data.MARKER_FILE).read_text())["kind"] == "real"
    assert leftovers(good_dest.parent) == []


def test_dest_with_other_files_is_refused(tmp_path):
    paths = write_pair(tmp_path / "in", make_csv(48), make_csv(24))
    dest = tmp_path / "home"
    dest.mkdir()
    (dest / "thesis.tex").write_text("precious")
    with pytest.raises(data.DataError, match="other files"):
        _import(paths, dest, allow_checksum_mismatch=True)
    assert (dest / "thesis.tex").read_text() == "precious"


def test_swap_killed_midway_is_recovered(tmp_path, standin):
    """A data step killed between its two renames leaves `.NAME.old-PID-...`: put back or tidied."""
    dead = 4194305  # above Linux's largest pid: never running
    parent = tmp_path / "p"
    parent.mkdir()
    old = parent / f".asl_data.old-{dead}-0123abcd"
    shutil.copytree(standin, old)
    (parent / f".asl_data.new-{dead}-89abcdef").mkdir()
    data.install.clean_stale(parent / "asl_data")
    assert data.check(parent / "asl_data")["kind"] == "synthetic"
    assert leftovers(parent) == []
    shutil.copytree(standin, old)  # and when the folder is there, a stale copy is deleted
    paths = write_pair(tmp_path / "in", make_csv(48), make_csv(24))
    _import(paths, parent / "asl_data", allow_checksum_mismatch=True)
    assert leftovers(parent) == [] and data.check(parent / "asl_data")["kind"] == "real"


def test_cli_import_error_is_one_line_exit_2(tmp_path, capsys):
    paths = write_pair(tmp_path / "in", set_cell(make_csv(48), 2, 0, "25"), make_csv(24))
    code = cli.main(["data", "import", *map(str, paths), "--dest", str(tmp_path / "d"), "--allow-checksum-mismatch"])
    err = capsys.readouterr().err
    assert code == 2
    assert err.startswith("asl-course data: error: ") and err.count("\n") == 1
    assert "label 25" in err and "Traceback" not in err


# --------------------------------------------------------------------------------------
# check() on damaged folders


def test_check_reports_changed_and_unmarked_folders(tmp_path, standin, capsys):
    changed = tmp_path / "changed"
    shutil.copytree(standin, changed)
    content = (changed / data.VALID_FILE).read_bytes()
    (changed / data.VALID_FILE).write_bytes(content.replace(b"\n1,", b"\n2,", 1))
    result = data.check(changed)
    assert result["kind"] == "invalid"
    assert any("sha256 differs" in r for r in result["reasons"])
    assert cli.main(["data", "check", str(changed)]) == 1

    unmarked = tmp_path / "unmarked"
    shutil.copytree(standin, unmarked)
    (unmarked / data.MARKER_FILE).unlink()
    result = data.check(unmarked)
    assert result["kind"] == "invalid" and any("SOURCE.json" in r for r in result["reasons"])

    broken = tmp_path / "broken"
    shutil.copytree(standin, broken)
    (broken / data.TRAIN_FILE).write_bytes(data.HEADER.encode() + b"\n99," + b"0," * 783 + b"0\n")
    result = data.check(broken)
    assert result["kind"] == "invalid" and any("label 99" in r for r in result["reasons"])
    capsys.readouterr()


# --------------------------------------------------------------------------------------
# fetch


def test_fetch_without_kagglehub(tmp_path, monkeypatch, capsys):
    monkeypatch.setitem(sys.modules, "kagglehub", None)  # import kagglehub -> ImportError
    dest = tmp_path / "asl_data"
    with pytest.raises(data.DataError) as info:
        data.fetch(dest, log=quiet)
    message = str(info.value)
    assert "kagglehub" in message and "asl-course data import" in message
    assert "asl-course data synthetic" in message and data.KAGGLE_URL in message
    assert cli.main(["data", "fetch", "--dest", str(dest)]) == 2
    assert "asl-course data import" in capsys.readouterr().err
    assert not dest.exists()


def _fake_kagglehub(download):
    return types.SimpleNamespace(dataset_download=download)


def test_fetch_with_failing_download(tmp_path, monkeypatch, capsys):
    def download(handle):
        assert handle == "datamunge/sign-language-mnist"
        raise ConnectionError("Max retries exceeded\nName or service not known")

    monkeypatch.setitem(sys.modules, "kagglehub", _fake_kagglehub(download))
    dest = tmp_path / "asl_data"
    with pytest.raises(data.DataError) as info:
        data.fetch(dest, log=quiet)
    message = str(info.value)
    assert "ConnectionError" in message and "\n" not in message
    assert "asl-course data import" in message and "asl-course data synthetic" in message
    assert cli.main(["data", "fetch", "--dest", str(dest)]) == 2
    capsys.readouterr()
    assert not dest.exists()


def test_fetch_imports_the_downloaded_folder(tmp_path, monkeypatch):
    train, test = make_csv(48), make_csv(24, seed=1)
    monkeypatch.setattr(data.files, "RELEASE_ROWS", SMALL_ROWS)
    monkeypatch.setattr(data.files, "RELEASE_SHA256", {"train": data.sha256_bytes(train), "test": data.sha256_bytes(test)})
    cache = tmp_path / "cache" / "datasets" / "datamunge" / "sign-language-mnist" / "versions" / "1"
    write_pair(cache, train, test)
    write_pair(cache / "sign_mnist_train", train, test)
    monkeypatch.setitem(sys.modules, "kagglehub", _fake_kagglehub(lambda handle: str(cache)))
    marker = data.fetch(tmp_path / "asl_data", log=quiet)
    assert marker["kind"] == "real" and marker["checksums_match"] is True


# --------------------------------------------------------------------------------------
# The real release


@pytest.fixture(scope="module")
def real_import(tmp_path_factory):
    dest = tmp_path_factory.mktemp("real") / "asl_data"
    messages = []
    started = time.perf_counter()
    marker = data.import_release(SHARED, dest, log=messages.append)  # the .csv.gz form
    seconds = time.perf_counter() - started
    print(f"\nimported the real release in {seconds:.1f} s")
    return dest, marker, seconds


@requires_real
def test_real_import_rows_and_checksums(real_import):
    dest, marker, seconds = real_import
    assert marker["checksums_match"] is True
    assert marker["release"]["train"]["sha256"] == data.RELEASE_SHA256["train"]
    assert marker["release"]["test"]["sha256"] == data.RELEASE_SHA256["test"]
    assert marker["files"][data.TRAIN_FILE]["rows"] == 27455
    assert marker["files"][data.VALID_FILE]["rows"] == 7172
    for name in (data.TRAIN_FILE, data.VALID_FILE):
        assert data.sha256_file(dest / name) == marker["files"][name]["sha256"]
    assert sorted(p.name for p in dest.iterdir()) == sorted([data.TRAIN_FILE, data.VALID_FILE, data.MARKER_FILE])


@requires_real
def test_real_label_mapping(real_import):
    dest, _, _ = real_import
    x_train, y_train, x_valid, y_valid = data.load_arrays(dest)
    assert x_train.shape == (27455, 784) and x_valid.shape == (7172, 784)
    assert x_train.dtype == np.uint8 and y_train.dtype == np.int64
    release_train = pd.read_csv(REAL_TRAIN_GZ, usecols=["label"])["label"].to_numpy()
    assert set(np.unique(y_train)) == set(range(24)) and set(np.unique(y_valid)) == set(range(24))
    assert (y_train[release_train == 10] == 9).all() and (release_train == 10).any()
    assert (y_train[release_train == 24] == 23).all() and (release_train == 24).any()
    assert (y_train[release_train == 0] == 0).all()
    assert y_train.max() == 23  # no 24 remains
    assert data.letter(y_train[np.argmax(release_train == 10)]) == "K"
    assert data.letter(y_train[np.argmax(release_train == 24)]) == "Y"
    assert data.letter(y_train[np.argmax(release_train == 0)]) == "A"
    assert (y_train == data.release_to_course_label(release_train)).all()


@requires_real
def test_real_check_and_describe(real_import, capsys):
    dest, _, _ = real_import
    result = data.check(dest)
    assert result["kind"] == "real" and result["reasons"] == [] and result["notes"] == []
    assert result["rows"] == {"train": 27455, "valid": 7172}
    line = data.describe(dest)
    assert line.startswith("Data: real Sign Language MNIST release (Kaggle datamunge/sign-language-mnist, CC0)")
    assert "27,455 train / 7,172 validation images, imported " in line
    assert data.provenance(dest)["kind"] == "real"
    assert cli.main(["data", "check", str(dest)]) == 0
    assert "kind: real" in capsys.readouterr().out


@requires_real
def test_real_second_import_is_a_quick_no_op(real_import):
    dest, _, first_seconds = real_import
    before = snapshot(dest)
    messages = []
    started = time.perf_counter()
    marker = data.import_release([REAL_TRAIN_GZ, REAL_TEST_GZ], dest, log=messages.append)
    seconds = time.perf_counter() - started
    assert "nothing to do" in messages[-1]
    assert snapshot(dest) == before and marker["kind"] == "real"
    # How long it takes is `asl-course bench data`'s to say; here: it parses and writes nothing.
    print(f"\nno-op import in {seconds:.1f} s (the import took {first_seconds:.1f} s)")


@requires_real
def test_real_cli_subprocess_check(real_import):
    dest, _, _ = real_import
    run = subprocess.run(
        [sys.executable, "-m", "asl_course", "data", "check", str(dest)],
        capture_output=True, text=True, timeout=120,
    )
    assert run.returncode == 0, run.stderr
    assert "kind: real" in run.stdout and "27,455" in run.stdout


@requires_real
@pytest.mark.slow
def test_real_zip_form(tmp_path, real_import):
    dest, _, _ = real_import
    train, test = real_csv(REAL_TRAIN_GZ), real_csv(REAL_TEST_GZ)
    archive = _zip(tmp_path / "archive.zip", {
        "amer_sign2.png": b"not a png",
        "sign_mnist_test.csv": test,
        "sign_mnist_test/sign_mnist_test.csv": test,
        "sign_mnist_train/sign_mnist_train.csv": train,
    })
    del train, test
    zip_dest = tmp_path / "from_zip"
    marker = data.import_release(archive, zip_dest, log=quiet)
    assert marker["checksums_match"] is True
    for name in (data.TRAIN_FILE, data.VALID_FILE):
        assert (zip_dest / name).read_bytes() == (dest / name).read_bytes()


@requires_real
def test_real_swapped_files(tmp_path, good_dest):
    folder = tmp_path / "swapped"
    folder.mkdir()
    shutil.copy(REAL_TEST_GZ, folder / "sign_mnist_train.csv.gz")
    shutil.copy(REAL_TRAIN_GZ, folder / "sign_mnist_test.csv.gz")
    before = snapshot(good_dest)
    with pytest.raises(data.DataError, match="swapped") as info:
        data.import_release(folder, good_dest, log=quiet, allow_checksum_mismatch=True)
    assert "sign_mnist_train.csv" in str(info.value)
    assert snapshot(good_dest) == before and leftovers(good_dest.parent) == []


@requires_real
@pytest.mark.slow
def test_real_truncated_and_damaged_copies(tmp_path, good_dest):
    train = real_csv(REAL_TRAIN_GZ)
    test_path = tmp_path / "sign_mnist_test.csv"
    test_path.write_bytes(real_csv(REAL_TEST_GZ))
    before = snapshot(good_dest)
    # cut in the middle of line 1001 (an interrupted download)
    start = 0
    for _ in range(1000):
        start = train.index(b"\n", start) + 1
    cut = tmp_path / "cut" / "sign_mnist_train.csv"
    cut.parent.mkdir()
    cut.write_bytes(train[: start + 1500])
    with pytest.raises(data.DataError, match="truncated: its last line \\(line 1001\\)"):
        data.import_release([cut, test_path], good_dest, log=quiet, allow_checksum_mismatch=True)
    # one pixel of 256 on line 20,001, column pixel784
    lines = train.split(b"\r\n")
    cells = lines[20000].split(b",")
    cells[-1] = b"256"
    lines[20000] = b",".join(cells)
    damaged = tmp_path / "damaged" / "sign_mnist_train.csv"
    damaged.parent.mkdir()
    damaged.write_bytes(b"\r\n".join(lines))
    del lines, cells
    with pytest.raises(data.DataError, match="line 20001, column pixel784: 256"):
        data.import_release([damaged, test_path], good_dest, log=quiet, allow_checksum_mismatch=True)
    assert snapshot(good_dest) == before and leftovers(good_dest.parent) == []


@requires_real
@pytest.mark.slow
def test_real_lf_copy_is_a_checksum_mismatch(tmp_path, real_import):
    """The test file re-saved with LF endings: same data, other bytes; needs the override."""
    dest, _, _ = real_import
    lf_test = tmp_path / "lf" / "sign_mnist_test.csv"
    lf_test.parent.mkdir()
    lf_test.write_bytes(real_csv(REAL_TEST_GZ).replace(b"\r\n", b"\n"))
    paths = [REAL_TRAIN_GZ, lf_test]
    out = tmp_path / "asl_data"
    with pytest.raises(data.DataError, match="--allow-checksum-mismatch") as info:
        data.import_release(paths, out, log=quiet)
    assert str(lf_test) in str(info.value) and "sha256" in str(info.value)
    assert not out.exists()
    marker = data.import_release(paths, out, log=quiet, allow_checksum_mismatch=True)
    assert marker["checksums_match"] is False
    for name in (data.TRAIN_FILE, data.VALID_FILE):
        assert (out / name).read_bytes() == (dest / name).read_bytes()
    result = data.check(out)
    assert result["kind"] == "real" and result["notes"]
    assert "--allow-checksum-mismatch" in data.describe(out)
