"""The lesson's facts are stated once (asl_course.facts); the copies that must stay are held equal.

Grading keeps its own statement of what is right (it must not trust the reference code it grades
against), the self-checks keep the few numbers they print; each is compared with the facts here,
and the facts with the lesson's specification when ``../shared/lesson-spec.md`` is present.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from asl_course import dataset as data, facts, grading
from asl_course.dataset import synthetic
from asl_course.grading.plugins import autograder
from asl_course.learners import checks, lesson, predict

SPEC = Path(__file__).resolve().parents[2] / "shared" / "lesson-spec.md"
CONFIG = Path(__file__).resolve().parents[1] / "nbgrader_config.py"


def test_every_module_reads_the_facts():
    assert data.LETTERS == predict.LETTERS == synthetic.LETTERS == facts.LETTERS
    assert data.NUM_CLASSES == predict.NUM_CLASSES == facts.NUM_CLASSES == 24
    assert data.RELEASE_LABELS == facts.RELEASE_LABELS and 9 not in facts.RELEASE_LABELS
    assert data.RELEASE_ROWS == {"train": facts.TRAIN_IMAGES, "test": facts.VALID_IMAGES}
    assert lesson.MODEL_FILE == predict.MODEL_FILE == facts.MODEL_FILE
    assert (lesson.BATCH_SIZE, lesson.FULL_EPOCHS, lesson.MODEL_PARAMS) == (
        facts.BATCH_SIZE, facts.FULL_EPOCHS, facts.MODEL_PARAMS)
    assert lesson.DATAGEN_SETTINGS == facts.DATAGEN_SETTINGS
    assert predict.INPUT_SHAPE == facts.IMAGE_SHAPE and synthetic.SIZE == facts.IMAGE_SIZE


def test_gradings_independent_statement_agrees():
    assert grading.LETTERS == facts.LETTERS
    assert grading.NUM_CLASSES == facts.NUM_CLASSES == checks.NUM_CLASSES
    assert grading.N_PIXELS == facts.NUM_PIXELS
    assert grading.BATCH_SIZE == facts.BATCH_SIZE
    assert grading.MODEL_PARAMS == facts.MODEL_PARAMS
    assert grading.INPUT_SHAPE == (None, *facts.IMAGE_SHAPE)
    assert grading.MODEL_FILE == facts.MODEL_FILE
    # ImageDataGenerator stores zoom_range=z as [1-z, 1+z] and rotation as a float.
    expected = dict(facts.DATAGEN_SETTINGS)
    z = expected.pop("zoom_range")
    assert dict(grading.DATAGEN, zoom_range=None) == dict(expected, zoom_range=None)
    assert grading.DATAGEN["zoom_range"] == pytest.approx([1 - z, 1 + z])


def test_the_reference_model_meets_gradings_statement():
    model = lesson.build_model()
    assert model.count_params() == facts.MODEL_PARAMS
    assert grading.model_mistakes(grading.describe_model(model)) == []


def test_the_reference_datagen_meets_gradings_statement():
    datagen = lesson.make_datagen()
    for name, value in grading.DATAGEN.items():
        got = getattr(datagen, name)
        assert (list(got) if name == "zoom_range" else got) == pytest.approx(value), name


def test_the_config_does_not_restate_the_time_limits():
    """The per-cell limits live in the autograder's defaults; the config may only override them."""
    text = CONFIG.read_text()
    assert not re.search(r"^c\.GuardedExecute\.(timeout|first_cell_timeout|cell_timeouts)\b", text, re.M)
    assert autograder.GuardedExecute().cell_timeouts == autograder.CELL_TIMEOUTS
    assert autograder.GuardedExecute().first_cell_timeout == autograder.FIRST_CELL_TIMEOUT


@pytest.mark.skipif(not SPEC.is_file(), reason="needs ../shared/lesson-spec.md")
def test_the_facts_are_the_specifications():
    spec = SPEC.read_text()
    lessons_choice = re.search(r"The lesson's choice: (.*?)\.\n", spec, re.S).group(1)
    settings = dict(re.findall(r"(\w+)=([\w.]+)", lessons_choice))
    assert {k: eval(v) for k, v in settings.items()} == facts.DATAGEN_SETTINGS  # noqa: S307 - literals
    assert "batch_size=32" in spec and f"epochs={facts.FULL_EPOCHS}" in spec


@pytest.mark.skipif(not SPEC.is_file(), reason="needs ../shared/lesson-spec.md")
def test_notebook_6_plots_the_lesson_s_own_log_as_the_specification_gives_it():
    import re

    from asl_course.learners import recipe

    rows = re.findall(r"^\s*\| (\d+) \| [\d.]+ \| [\d.]+ \| [\d.]+ \| ([\d.]+) \|$", SPEC.read_text(), re.M)
    assert {int(e): float(v) for e, v in rows} == recipe.LESSON_LOG
