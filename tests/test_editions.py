"""The editions are generated from source/, consistent, and teach the lesson in order."""

from __future__ import annotations

import re
from pathlib import Path

import nbformat
import pytest

from asl_course import editions

REPO = Path(__file__).resolve().parent.parent
NAMES = editions.assignments(REPO)


def read(path: Path):
    return nbformat.read(path, as_version=4)


def code(nb) -> list[str]:
    return [c.source for c in nb.cells if c.cell_type == "code"]


def test_no_drift_between_source_and_editions():
    """`asl-course build --check`: every committed edition equals a fresh build."""
    assert editions.drift(REPO) == []


@pytest.mark.parametrize("name", NAMES)
def test_source_notebook_is_clean(name):
    nb = read(REPO / "source" / name / f"{name}.ipynb")
    assert all(not c.get("outputs") and c.get("execution_count") is None for c in nb.cells if c.cell_type == "code")
    assert nb.metadata.get("accelerator") == "GPU"
    titles = [c for c in nb.cells if c.cell_type == "markdown" and c.source.startswith("# ")]
    assert len(titles) == 1, "one title per notebook"
    ids = [c.metadata["nbgrader"]["grade_id"] for c in nb.cells if "nbgrader" in c.metadata]
    assert len(ids) == len(set(ids)), "grade_ids must be unique"
    for cell in nb.cells:
        meta = cell.metadata.get("nbgrader")
        if meta:
            assert meta["schema_version"] == 3
            if meta.get("grade"):
                first = cell.source.splitlines()[0]
                assert first.startswith('"""') and first.endswith('"""'), "test cells start with a one-line docstring"


@pytest.mark.parametrize("edition", editions.EDITIONS)
@pytest.mark.parametrize("name", NAMES)
def test_badge_matches_path_and_repo_url_filled(edition, name):
    rel = editions.edition_path(edition, name)
    nb = read(REPO / rel)
    text = "\n".join(c.source for c in nb.cells)
    badges = re.findall(r"\(https://colab\.research\.google\.com/github/([^)]+)\)", text)
    assert badges == [f"{editions.REPO_URL.removeprefix('https://github.com/')}/blob/{editions.REPO_BRANCH}/{rel}"]
    assert "@@" not in text
    for link in re.findall(r"\]\((?!https?:)([^)]+\.ipynb)\)", text):
        assert (REPO / rel).parent.joinpath(link).resolve().exists(), f"{rel}: broken link {link}"


@pytest.mark.parametrize("edition", ["notebooks", "solutions", "release"])
@pytest.mark.parametrize("name", NAMES)
def test_no_hidden_tests_or_markers_in_editions(edition, name):
    text = "\n".join(code(read(REPO / editions.edition_path(edition, name))))
    assert "HIDDEN TESTS" not in text and "grading." not in text
    assert "### BEGIN SOLUTION" not in text


@pytest.mark.parametrize("name", NAMES)
def test_selfstudy_answers_are_the_solutions(name):
    """Each TODO in the self-study edition, filled with the answer below it, is the solution."""
    nb = read(REPO / "notebooks" / f"{name}.ipynb")
    filled, cells = [], nb.cells
    for i, cell in enumerate(cells):
        if cell.cell_type == "markdown" and cell.source.startswith("<details>"):
            assert "</summary>\n\n```python\n" in cell.source and cell.source.endswith("```\n\n</details>")
            answer = cell.source.split("```python\n", 1)[1].rsplit("\n```", 1)[0]
            assert filled and editions.STUB in filled[-1], "an answer follows its TODO cell"
            filled[-1] = filled[-1].replace(editions.STUB, answer)
        elif cell.cell_type == "code":
            filled.append(cell.source)
    assert filled == code(read(REPO / "solutions" / f"{name}.ipynb"))


@pytest.mark.parametrize("name", NAMES)
def test_release_has_stubs_where_source_has_answers(name):
    source = read(REPO / "source" / name / f"{name}.ipynb")
    release = read(REPO / "release" / name / f"{name}.ipynb")
    answers = [c for c in source.cells if c.metadata.get("nbgrader", {}).get("solution")]
    stubs = [c for c in release.cells if "raise NotImplementedError()" in c.source]
    assert answers and len(stubs) == len(answers)


def test_the_lesson_is_taught_in_order():
    """Every code step of the lesson spec appears, in the spec's order, across the solutions."""
    text = "\n".join("\n".join(code(read(REPO / "solutions" / f"{n}.ipynb"))) for n in NAMES)
    steps = [
        "pd.read_csv", 'del train_df["label"]', "train_df.values", "to_categorical(y_train, num_classes)",
        "x_train / 255", "reshape(-1, 28, 28, 1)", "Conv2D(75, (3, 3)", "Dense(units=24, activation=\"softmax\")",
        "show_fill_modes", "ImageDataGenerator(", "horizontal_flip=True", "vertical_flip=False",
        "datagen.flow(x_train, y_train, batch_size=32)", "next(img_iter)", "datagen.fit(x_train)",
        'loss="categorical_crossentropy"', "math.ceil(len(x_train) / batch_size)", "model.fit(",
        'model.save("asl_model.keras")', "do_shutdown(True)", "load_model(",
    ]
    positions = []
    for step in steps:
        assert step in text, f"the lesson step {step!r} is missing"
        positions.append(text.index(step))
    assert positions == sorted(positions), "the steps are not in the lesson's order"


def test_kernel_shutdown_is_guarded():
    nb = read(REPO / "solutions" / "04_train_and_save.ipynb")
    cell = next(c for c in nb.cells if "do_shutdown" in c.source)
    assert "notebook.interactive()" in cell.source
    from asl_course import notebook

    assert not notebook.interactive(), "the test session must count as automated"


def test_nbgrader_validator_passes_source_and_fails_release(tmp_path):
    """nbgrader's own validator, through its Python API (the CLI exits 0 either way)."""
    from nbgrader.validator import Validator

    name = "02_cnn_model"  # the quickest notebook: no training; the others run under nbval
    assert Validator().validate(str(REPO / "source" / name / f"{name}.ipynb")) == {}
    inverted = Validator(invert=True).validate(str(REPO / "release" / name / f"{name}.ipynb"))
    assert inverted == {}, "the untouched release must fail its tests"
    failing = Validator().validate(str(REPO / "release" / name / f"{name}.ipynb"))
    assert failing, "the validator must report the release's unanswered exercises"
