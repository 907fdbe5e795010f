"""The editions are generated from source/, consistent, and teach the lesson in order."""

from __future__ import annotations

import copy
import re
import shutil
import subprocess
import sys
from pathlib import Path

import nbformat
import pytest

from asl_course.tooling import editions
from asl_course.errors import UserError

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
    site = editions.publication(REPO)
    assert badges == [f"{site.url.removeprefix('https://github.com/')}/blob/{site.branch}/{rel}"]
    assert "@@" not in text
    for link in re.findall(r"\]\((?!https?:)([^)]+\.ipynb)\)", text):
        assert (REPO / rel).parent.joinpath(link).resolve().exists(), f"{rel}: broken link {link}"


@pytest.mark.parametrize("edition", ["notebooks", "solutions", "release"])
@pytest.mark.parametrize("name", NAMES)
def test_no_hidden_tests_or_markers_in_editions(edition, name):
    text = "\n".join(code(read(REPO / editions.edition_path(edition, name))))
    assert "HIDDEN TESTS" not in text and "grading." not in text
    assert "### BEGIN SOLUTION" not in text


def _undo_selfstudy(cells) -> list[str]:
    """The self-study edition's code cells with each answer put back where its stub is and
    each self-check unwrapped (what the solutions edition must hold)."""
    out, practice = [], None
    for cell in cells:
        if cell.cell_type != "code":
            continue
        text = cell.source
        if text.startswith(editions.ANSWER_TITLE):
            title, _, condition, *body = text.splitlines()
            assert re.fullmatch(r"if selfstudy\.use_answer\('\w+'\):", condition), condition
            answer = "\n".join(line[4:] for line in body)
            assert practice is not None and editions.SELFSTUDY_STUB in out[practice], "an answer follows its exercise"
            out[practice] = out[practice].replace(editions.SELFSTUDY_STUB, answer)
            practice = None
            continue
        if "with selfstudy.self_check(" in text:
            first, _, rest = text.partition("\n")
            lines = rest.splitlines()
            assert lines[0].startswith("from asl_course.learners import selfstudy") and lines[1] == ""
            assert re.fullmatch(r"with selfstudy\.self_check\('\w+'\):", lines[2]), lines[2]
            text = "\n".join([first] + [line[4:] for line in lines[3:]])
        if editions.SELFSTUDY_STUB in text:
            practice = len(out)
        out.append(text)
    return out


@pytest.mark.parametrize("name", NAMES)
def test_selfstudy_answers_are_the_solutions(name):
    """Each exercise of the self-study edition, filled with its hidden answer, is the solution."""
    nb = read(REPO / "notebooks" / f"{name}.ipynb")
    assert _undo_selfstudy(nb.cells) == code(read(REPO / "solutions" / f"{name}.ipynb"))


@pytest.mark.parametrize("name", NAMES)
def test_selfstudy_answers_hidden_in_both_frontends_and_nothing_raises(name):
    """Answer cells: hidden in JupyterLab (source_hidden) and Colab (form + #@title first line),
    right after their self-check; no stub raises, so Run All reaches the end."""
    source = read(REPO / "source" / name / f"{name}.ipynb")
    nb = read(REPO / "notebooks" / f"{name}.ipynb")
    exercises = [c.metadata["nbgrader"]["grade_id"] for c in source.cells if c.metadata.get("nbgrader", {}).get("solution")]
    answers = [i for i, c in enumerate(nb.cells) if c.source.startswith(editions.ANSWER_TITLE)]
    assert len(answers) == len(exercises) > 0
    for i, exercise in zip(answers, exercises):
        cell = nb.cells[i]
        assert cell.cell_type == "code" and cell.metadata.get("jupyter") == {"source_hidden": True}, "not hidden in JupyterLab"
        assert cell.metadata.get("cellView") == "form", "not hidden on Colab"
        assert f"use_answer({exercise!r})" in cell.source
        assert f"self_check({exercise!r})" in nb.cells[i - 1].source, "the self-check comes right before its answer"
        assert editions.SELFSTUDY_STUB in nb.cells[i - 2].source, "the learner's cell comes before its self-check"
    others = [c for i, c in enumerate(nb.cells) if i not in answers]
    assert not any({"jupyter", "cellView"} & set(c.metadata) for c in others), "only answer cells are hidden"
    assert not any("raise NotImplementedError" in c.source for c in nb.cells if c.cell_type == "code")


def _run_cells(cells, namespace) -> None:
    for cell in cells:
        if cell.cell_type == "code":
            exec(compile(cell.source, "<cell>", "exec"), namespace)


def _tiny_source(learner_code: str | None):
    """A one-exercise source notebook: x (255.0) divided by 255, once (running it twice is wrong)."""
    grading = {"grade": False, "locked": False, "schema_version": 3, "task": False}
    answer = nbformat.v4.new_code_cell("### BEGIN SOLUTION\nx = x / 255\n### END SOLUTION")
    answer.metadata["nbgrader"] = {**grading, "grade_id": "scale", "solution": True}
    check = nbformat.v4.new_code_cell('"""Self-check: x is 1."""\nassert x == 1.0, f"x is {x}; divide it by 255, once"')
    check.metadata["nbgrader"] = {**grading, "grade": True, "grade_id": "test_scale", "solution": False, "points": 1, "locked": True}
    nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_markdown_cell("# Tiny"),
                                         nbformat.v4.new_code_cell("x = 255.0"), answer, check])
    built = editions.make_selfstudy(nb, "99_tiny")
    if learner_code is not None:  # the learner types their own answer in place of the stub
        cell = next(c for c in built.cells if editions.SELFSTUDY_STUB in c.source)
        cell.source = cell.source.replace(editions.SELFSTUDY_STUB, learner_code)
    return built


@pytest.mark.parametrize("learner_code, expect_x, expect_out", [
    (None, 1.0, ["x is 255.0", "Running the answer"]),  # untouched: reported, then filled in
    ("x = x / 255.0", 1.0, ["Your code passed the self-check", "ran nothing"]),  # kept, not divided twice
    ("x = x / 2", 0.5, ["x is 127.5", "Running the answer"]),  # reported; the answer runs on 127.5
])
def test_selfstudy_run_all_keeps_a_passing_answer(learner_code, expect_x, expect_out, capsys):
    """Run All in the self-study edition never stops; a learner's passing answer is kept, a
    failing one is reported and the answer runs after it (on what the learner's code left)."""
    from asl_course.learners import selfstudy

    selfstudy.reset()
    namespace = {}
    _run_cells(_tiny_source(learner_code).cells, namespace)
    out = capsys.readouterr().out
    assert namespace["x"] == pytest.approx(expect_x)
    for words in expect_out:
        assert words in out, out
    assert "Traceback" not in out


def test_selfstudy_needs_a_test_cell_after_each_exercise():
    """The answer runs after the self-check, so an exercise without one is a build error."""
    source = read(REPO / "source" / NAMES[0] / f"{NAMES[0]}.ipynb")
    source.cells = [c for c in source.cells if not c.metadata.get("nbgrader", {}).get("grade")]
    with pytest.raises(editions.UserError, match="not followed by its test cell"):
        editions.make_selfstudy(source, NAMES[0])


@pytest.mark.parametrize("name", NAMES)
def test_release_keeps_lock_flags_and_says_read_only(name):
    """nbgrader's lock flags survive the builder (JupyterLab honours them), the setup cell is
    locked too, each locked cell says "(read-only)" first, and nbgrader's checksums still match."""
    from nbgrader.utils import compute_checksum

    nb = read(REPO / "release" / name / f"{name}.ipynb")
    setup = [c for c in nb.cells if editions.is_setup_cell(c)]
    assert len(setup) == 1
    tests = [c for c in nb.cells if c.metadata.get("nbgrader", {}).get("grade")]
    answers = [c for c in nb.cells if c.metadata.get("nbgrader", {}).get("solution")]
    assert tests and answers
    for cell in setup + tests:
        assert cell.metadata.get("editable") is False and cell.metadata.get("deletable") is False
        assert editions.READ_ONLY in cell.source.splitlines()[0]
    for cell in tests:
        assert cell.metadata["nbgrader"]["checksum"] == compute_checksum(cell)
    for cell in answers:
        assert cell.metadata.get("deletable") is False and cell.metadata.get("editable", True) is not False
    locked = [c for c in nb.cells if c.metadata.get("editable") is False]
    assert len(locked) == len(setup) + len(tests), "only the setup and test cells are read-only"
    for edition in ("notebooks", "solutions"):
        other = read(REPO / editions.edition_path(edition, name))
        assert not any({"editable", "deletable"} & set(c.metadata) for c in other.cells)


def test_mark_read_only():
    assert editions.mark_read_only('"""Self-check: x."""\ny') == '"""Self-check (read-only): x."""\ny'
    assert editions.mark_read_only("# Setup. On Colab: z\nw") == "# Setup (read-only). On Colab: z\nw"
    assert editions.mark_read_only("x = 1") == "# (read-only)\nx = 1"


@pytest.mark.parametrize("edition", editions.EDITIONS)
@pytest.mark.parametrize("name", NAMES)
def test_first_cell_says_how_to_work_through_this_edition(edition, name):
    first = read(REPO / editions.edition_path(edition, name)).cells[0].source
    assert editions.HOWTO_MARK not in first
    assert editions.HOWTO[edition] in first


@pytest.mark.parametrize("name", NAMES)
def test_release_has_stubs_where_source_has_answers(name):
    source = read(REPO / "source" / name / f"{name}.ipynb")
    release = read(REPO / "release" / name / f"{name}.ipynb")
    answers = [c for c in source.cells if c.metadata.get("nbgrader", {}).get("solution")]
    stubs = [c for c in release.cells if c.cell_type == "code" and "raise NotImplementedError()" in c.source]
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
    from asl_course.learners import notebook

    assert not notebook.interactive(), "the test session must count as automated"


@pytest.mark.slow
def test_nbgrader_validator_passes_source_and_fails_release(tmp_path):
    """nbgrader's own validator, through its Python API (the CLI exits 0 either way)."""
    from nbgrader.validator import Validator

    name = "02_cnn_model"  # the quickest notebook: no training; the others run under nbval
    assert Validator().validate(str(REPO / "source" / name / f"{name}.ipynb")) == {}
    inverted = Validator(invert=True).validate(str(REPO / "release" / name / f"{name}.ipynb"))
    assert inverted == {}, "the untouched release must fail its tests"
    failing = Validator().validate(str(REPO / "release" / name / f"{name}.ipynb"))
    assert failing, "the validator must report the release's unanswered exercises"


def test_the_course_folder_is_found_from_where_the_command_runs(tmp_path, monkeypatch):
    """build, run and bench work on the course folder: $ASL_COURSE_ROOT, the current folder or one above
    it, else the checkout the package runs from; anything else is a clear error."""
    course = tmp_path / "course"
    (course / "source" / "01_x").mkdir(parents=True)
    (course / "nbgrader_config.py").write_text("")
    (course / "source" / "01_x" / "deep").mkdir()
    monkeypatch.delenv(editions.ROOT_ENV, raising=False)
    assert editions.repo_root(course / "source" / "01_x" / "deep") == course.resolve()
    assert editions.repo_root(tmp_path) == REPO  # nothing above tmp_path: the checkout
    monkeypatch.setenv(editions.ROOT_ENV, str(course))
    assert editions.repo_root(tmp_path) == course.resolve()
    monkeypatch.setenv(editions.ROOT_ENV, str(tmp_path))
    with pytest.raises(UserError, match="not a course folder"):
        editions.repo_root()
    monkeypatch.delenv(editions.ROOT_ENV)
    monkeypatch.setattr(editions, "__file__", str(tmp_path / "site-packages" / "asl_course" / "tooling" / "editions.py"))
    with pytest.raises(UserError, match="clone of the repository"):
        editions.repo_root(tmp_path)


@pytest.mark.parametrize("source, words", [
    ("x = 1\n### BEGIN SOLUTION\nanswer = 2", "never closed"),
    ("### END SOLUTION\nx = 1", "not opened"),
    ("### BEGIN SOLUTION\n### BEGIN SOLUTION\na = 1\n### END SOLUTION", "inside another"),
    ("check()\n### BEGIN HIDDEN TESTS\nsecret()", "never closed"),
])
def test_unterminated_or_nested_markers_are_refused(source, words):
    """An unclosed region would put an answer or a hidden test into an edition: refused, as nbgrader does."""
    for transform in (editions.solved, editions.answer_only, editions.selfstudy_stub):
        if "HIDDEN" in source and transform is not editions.solved:
            continue  # only solved() reads the hidden-test markers
        with pytest.raises(UserError, match=words):
            transform(source)


# --- One release: nbgrader's and the build's; published where the project says ---------------------------


def _course_copy(dest: Path, url: str | None = None, branch: str | None = None) -> Path:
    """The course as an instructor clones it (source/, nbgrader_config.py, pyproject.toml), optionally
    published elsewhere."""
    shutil.copytree(REPO / "source", dest / "source")
    shutil.copy(REPO / "nbgrader_config.py", dest)
    text = (REPO / "pyproject.toml").read_text()
    if url:
        text = re.sub(r'(?m)^Repository = ".*"$', f'Repository = "{url}"', text)
    if branch:
        text = re.sub(r'(?m)^branch = ".*"$', f'branch = "{branch}"', text)
    (dest / "pyproject.toml").write_text(text)
    return dest


def _generate(course: Path, assignment: str = "*") -> None:
    result = subprocess.run([sys.executable, "-m", "nbgrader", "generate_assignment", assignment, "--force"],
                            cwd=course, capture_output=True, text=True)
    assert result.returncode == 0, result.stderr[-3000:]


@pytest.mark.slow
def test_nbgrader_generate_assignment_writes_the_committed_release(tmp_path):
    """The README's first step, `nbgrader generate_assignment A --force`, gives students exactly the committed
    release (badge, setup cell's install, "(read-only)", lock flags): the build's release is nbgrader's."""
    course = _course_copy(tmp_path / "course")
    _generate(course)
    for name in NAMES:
        rel = editions.edition_path("release", name)
        assert (course / rel).read_bytes() == (REPO / rel).read_bytes(), rel


def test_a_copy_published_elsewhere_points_its_badges_and_setup_cells_there(tmp_path, monkeypatch):
    """nbgrader runs ReleaseEdition in the course folder: its defaults are that folder's pyproject.toml."""
    course = _course_copy(tmp_path / "course", "https://github.com/someone/asl-fork", "spring")
    monkeypatch.chdir(course)
    step = editions.ReleaseEdition()
    assert (step.repo_url, step.repo_branch) == ("https://github.com/someone/asl-fork", "spring")
    unreleased = read(REPO / "source" / NAMES[1] / f"{NAMES[1]}.ipynb")  # badge mark, @@REPO_URL@@ still there
    out, _ = step.preprocess(unreleased, {"nbgrader": {"notebook": NAMES[1]}})
    text = nbformat.writes(out)
    assert "colab.research.google.com/github/someone/asl-fork/blob/spring/release/" in text
    assert "git+https://github.com/someone/asl-fork@spring" in text
    assert "asl-course/asl-augmentation" not in text and "@@" not in text and editions.BADGE_MARK not in text


def test_where_the_course_is_published_is_read_from_the_project(tmp_path):
    course = _course_copy(tmp_path / "course", "https://github.com/someone/asl-fork/", "spring")
    assert editions.publication(course) == editions.Site("https://github.com/someone/asl-fork", "spring")
    assert editions.publication(course / "source") == editions.publication(course)  # found from below too
    with pytest.raises(UserError, match="GitHub"):
        editions.Site("https://gitlab.com/someone/asl-fork", "main")


def test_the_release_edition_step_follows_the_published_site():
    site = editions.Site("https://github.com/someone/asl-fork", "spring")
    generated = nbformat.read(REPO / editions.edition_path("release", NAMES[0]), as_version=4)
    source = read(REPO / "source" / NAMES[0] / f"{NAMES[0]}.ipynb")
    for nb in (editions.make_selfstudy(source, NAMES[0], site), editions.make_solutions(source, NAMES[0], site)):
        text = "\n".join(c.source for c in nb.cells)
        assert "someone/asl-fork/blob/spring/" in text and "git+https://github.com/someone/asl-fork@spring" in text
    step = editions.ReleaseEdition(repo_url=site.url, repo_branch=site.branch)
    assert step.enabled  # nbgrader skips a preprocessor that is not
    raw = copy.deepcopy(read(REPO / "source" / NAMES[0] / f"{NAMES[0]}.ipynb"))
    raw.cells = [c for c in raw.cells if c.cell_type == "markdown"][:1]
    out, _ = step.preprocess(raw, {"nbgrader": {"notebook": NAMES[0]}})
    assert f"someone/asl-fork/blob/spring/release/{NAMES[0]}/{NAMES[0]}.ipynb" in out.cells[0].source
    assert editions.HOWTO["release"] in out.cells[0].source


def test_nbgrader_config_releases_through_nbgrader_steps_then_the_course_edition():
    """`nbgrader generate_assignment` runs nbgrader's own steps unchanged, then ReleaseEdition last."""
    from nbgrader.converters import GenerateAssignment
    from traitlets.config.loader import PyFileConfigLoader

    config = PyFileConfigLoader("nbgrader_config.py", path=str(REPO)).load_config()
    config_list = list(config.GenerateAssignment.preprocessors)
    defaults = [f"{p.__module__.rsplit('.', 1)[0]}.{p.__name__}" for p in GenerateAssignment.preprocessors.default()]
    assert config_list[:-1] == defaults
    assert config_list[-1] == "asl_course.tooling.editions.ReleaseEdition"
