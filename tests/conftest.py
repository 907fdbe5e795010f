"""Test-session setup shared by the unit tests and the nbval notebook runs.

- Fast mode (``ASL_COURSE_FAST=1``) and "automated" (no kernel shutdown) for every kernel
  that nbval or a test starts: they inherit this process's environment.
- Data: ``$ASL_DATA_DIR`` if set; else the repository's ``data/asl_data`` if it holds a valid
  copy (``.ci/run`` imports the real release there from ``../shared/asl_data``); else the
  synthetic stand-in, generated into a temporary folder. The header says which.
- Markers: ``slow`` is for what trains a model, grades a class through nbgrader, or runs whole
  notebooks. The solved notebooks (nbval) and every test that uses :func:`trained_model` are
  marked here; other slow tests carry ``@pytest.mark.slow``. The fast loop is
  ``pytest -m "not slow"``.
- :func:`trained_model`: the one trained lesson model of a session, for every test that needs one.
- ``full_class``: what CI leaves out because it is covered otherwise: the simulated submissions
  whose mistakes CI grades inside a combined one, whose verdicts and messages are tested
  in-process, or that another test grades (solutions graded again, tests/test_parallel.py's
  class), and ``nbgrader validate`` of each notebook under the autograder (the class grades each
  full solution through nbgrader itself), the browser's *Validate* button on notebook 4 (a
  training; tests/test_validate.py checks the button's configuration fast) and the JAX bench
  without TensorFlow: deselected unless ``--full-class`` (or ``ASL_FULL_CLASS=1``), which
  ``.ci/run --full`` sets.
"""

from __future__ import annotations

import math
import os
import tempfile
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent
SHARED_DATA = REPO.parent / "shared" / "asl_data"
#: Files tests read, never tests: the damaged notebooks of tests/fixtures/repair are not run by nbval.
collect_ignore = ["fixtures"]

os.environ.setdefault("ASL_COURSE_FAST", "1")
os.environ.setdefault("ASL_COURSE_AUTOMATED", "1")
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")


def _choose_data() -> tuple[Path, str]:
    from asl_course import dataset as data

    if os.environ.get(data.DATA_ENV):
        folder = Path(os.environ[data.DATA_ENV])
        return folder, data.check(folder)["kind"]
    repo_copy = REPO / "data" / "asl_data"
    if repo_copy.exists():
        report = data.check(repo_copy)
        if report["kind"] in ("real", "synthetic"):
            return repo_copy, report["kind"]
    folder = Path(tempfile.mkdtemp(prefix="asl-standin-")) / "asl_data"
    data.write_synthetic(folder, log=lambda *_: None)
    return folder, "synthetic"


DATA_DIR, DATA_KIND = _choose_data()
os.environ["ASL_DATA_DIR"] = str(DATA_DIR)


def pytest_report_header(config):
    from asl_course import dataset as data

    return [f"asl-course data ({DATA_KIND}): {DATA_DIR}", data.describe(DATA_DIR)]


@pytest.fixture(scope="session")
def data_dir() -> Path:
    """The data folder the whole session uses (real release or stand-in, see the header)."""
    return DATA_DIR


@pytest.fixture(scope="session")
def real_data_dir() -> Path:
    """The session's data folder, only when it holds the real release."""
    if DATA_KIND != "real":
        pytest.skip("needs the real release: run `asl-course data import ../shared/asl_data`")
    return DATA_DIR


@pytest.fixture(scope="session")
def prepared(data_dir):
    """The lesson's prepared arrays (steps 1-2) from the session's data."""
    from asl_course.learners import lesson

    return lesson.prepare(data_dir)


#: Fixtures whose use makes a test slow (each trains a model once per session).
SLOW_FIXTURES = frozenset({"trained_model"})


def pytest_addoption(parser):
    parser.addoption("--full-class", action="store_true", default=False,
                     help="also grade the simulated submissions marked full_class (tests/submissions/catalogue.py)")


def pytest_configure(config):
    from _quiet import QuietCells

    config.pluginmanager.register(QuietCells(), "asl-quiet-cells")  # stderr in a solved notebook's cell fails it
    #: (student, assignment) -> seconds its notebook ran under the autograder (tests/test_grading.py).
    config.asl_class_times = {}
    #: Whether this session grades the whole simulated class (the course fixture submits only
    #: what will be checked: a deselected submission would still cost its grading).
    config.full_class = bool(config.getoption("--full-class")) or (
        os.environ.get("ASL_FULL_CLASS", "").strip().lower() in {"1", "true", "yes"})


def pytest_terminal_summary(terminalreporter, config):
    """The simulated class's seconds per submission (the autograder's "ran ... in N s" lines;
    tests/test_grading.py): where CI's grading time goes, slowest first."""
    times = getattr(config, "asl_class_times", None)
    if not times:
        return
    terminalreporter.section("the simulated class: seconds per submission (its notebook run)")
    for assignment in sorted({a for _, a in times}):
        subs = sorted(((s, t) for (s, a), t in times.items() if a == assignment), key=lambda st: -st[1])
        terminalreporter.write_line(f"{assignment}: {sum(t for _, t in subs):.0f} s over {len(subs)}: "
                                    + ", ".join(f"{s} {t:.0f}" for s, t in subs))


@pytest.hookimpl(tryfirst=True)
def pytest_runtest_setup(item):
    """A solved notebook's kernel (nbval starts it when the notebook's first cell is set up, from this
    process's environment) speaks the notebook's language, as a learner's would: $ASL_COURSE_LANG
    from its metadata (the Korean editions say ``ko``); other tests start from no language set."""
    from asl_course import i18n

    path = item.nodeid.split("::")[0]
    if path.endswith(".ipynb"):
        os.environ[i18n.ENV] = i18n.notebook_file_language(Path(item.config.rootpath) / path) or "en"
    else:
        os.environ.pop(i18n.ENV, None)


def pytest_collection_modifyitems(config, items):
    for item in items:
        notebook = item.nodeid.split("::")[0].endswith(".ipynb")  # nbval: a solved notebook's cell
        if notebook or SLOW_FIXTURES & set(getattr(item, "fixturenames", ())):
            item.add_marker(pytest.mark.slow)
    if not config.full_class:
        left_out = [item for item in items if item.get_closest_marker("full_class")]
        if left_out:
            config.hook.pytest_deselected(items=left_out)
            items[:] = [item for item in items if not item.get_closest_marker("full_class")]


#: The shared model trains for at least this many batches: one fast-plan epoch on the real data is
#: 858; on the small synthetic stand-in (1,680 images, 53 batches) it takes more epochs.
MIN_STEPS = 400


@pytest.fixture(scope="session")
def trained_model(prepared, tmp_path_factory):
    """(path of asl_model.keras, the model): the lesson's model and training, fast plan, once a session.

    As ``lesson.trained_model`` but without validating after each epoch (tests measure accuracy
    themselves), and with at least ``MIN_STEPS`` batches (more epochs on the small stand-in,
    where one epoch leaves the model at chance). Tests must not train it further.
    """
    import keras

    from asl_course.learners import lesson

    plan = lesson.run_plan(True)
    keras.utils.set_random_seed(0)
    model = lesson.build_model()
    lesson.compile_model(model)
    x_train, y_train = prepared.x_train[: plan.train_images], prepared.y_train[: plan.train_images]
    batches = lesson.make_datagen(x_train).flow(x_train, y_train, batch_size=plan.batch_size)
    epochs = max(plan.epochs, math.ceil(MIN_STEPS / len(batches)))
    model.fit(batches, epochs=epochs, steps_per_epoch=len(batches), verbose=0)
    path = tmp_path_factory.mktemp("model") / lesson.MODEL_FILE
    lesson.save_model(model, path)
    return path, model


@pytest.fixture(scope="session")
def plugin_grading_session(tmp_path_factory):
    """One real grading session (data, reference, package copy, verifier process) on the synthetic
    stand-in, for the tests of the nbgrader plugins (tests/_plugins.py makes it the autograder's
    own while each of their modules runs)."""
    from asl_course.dataset import write_synthetic
    from asl_course.grading.plugins import autograder

    folder = tmp_path_factory.mktemp("plugins") / "asl_data"
    write_synthetic(folder, log=lambda *_: None)
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("ASL_DATA_DIR", str(folder))
        session = autograder.GradingSession()
    session.asl_data_dir = folder
    try:
        yield session
    finally:
        session.close()
