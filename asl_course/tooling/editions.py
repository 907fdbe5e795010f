"""Generate the course's editions from ``source/`` and check them for drift.

``source/<assignment>/<assignment>.ipynb`` are the only hand-written notebooks. From them:

- ``release/<assignment>/<assignment>.ipynb``: the student edition, written by nbgrader's own
  ``generate_assignment`` (answers replaced by stubs, hidden tests removed), whose last step is
  the course's :class:`ReleaseEdition` (nbgrader_config.py): the cells nbgrader locks keep its
  ``editable``/``deletable`` flags (JupyterLab honours them), the setup cell is locked the same
  way, and each locked cell says "(read-only)" in its first line. So the README's
  ``nbgrader generate_assignment A --force`` and ``asl-course build`` write the same file;
- ``notebooks/<assignment>.ipynb``: the self-study edition, where *Run All* works: each
  exercise is the learner's cell (it does not raise), its self-check (a mistake is reported,
  not raised: :mod:`asl_course.learners.selfstudy`), then the answer in a code cell hidden in JupyterLab
  (``jupyter.source_hidden``) and on Colab (``cellView: form`` with a ``#@title``), which runs
  only if the learner's own code has not passed the self-check;
- ``solutions/<assignment>.ipynb``: solved, without nbgrader markers or hidden tests.

Every edition is normalised the same way (outputs stripped, metadata limited to what the
course uses: ``nbgrader`` where nbgrader needs it, ``tags``, and the few keys above that a
frontend needs), gets an Open-in-Colab badge whose URL matches its own path, the paragraph on
how to work through it (``<!-- how-to-work -->`` in the first cell), and has the repository
URL filled in: where the course is published (:func:`publication`: pyproject.toml's
``[project.urls] Repository`` and ``[tool.asl-course] branch``; ``asl-course build --repo-url``). ``build(check=True)`` builds into a temporary folder and reports every file
that differs from the committed one.
"""

from __future__ import annotations

import copy
import dataclasses
import filecmp
import os
import re
import shutil
import subprocess
import sys
import tempfile
import tomllib
from importlib import metadata
from pathlib import Path

import nbformat

from nbgrader.preprocessors import NbGraderPreprocessor
from traitlets import Unicode, default

from asl_course import i18n
from asl_course.errors import UserError
from asl_course.grading import cells
from asl_course.tooling import translate

EDITIONS = ("release", "notebooks", "solutions")
BADGE_MARK = "<!-- colab-badge -->"
BADGE = (
    "[![Open In Colab](https://colab.research.google.com/assets/colab-badge.svg)]"
    "({url})"
)
STUB = "# YOUR CODE HERE\nraise NotImplementedError()"
#: The self-study edition's stub: it does not raise, so Run All goes on to the answer.
SELFSTUDY_STUB = "# YOUR CODE HERE (then run this cell and the self-check below it)"
#: First line of the self-study answer cells (Colab shows it as the hidden cell's title).
ANSWER_TITLE = "#@title Show the answer (run to continue with it)"
NOTEBOOK_META_KEYS = ("kernelspec", "language_info", "accelerator", "colab", i18n.METADATA_KEY)
#: Cell metadata kept per edition: nbgrader's (release), tags, and what the frontends honour:
#: editable/deletable (JupyterLab: nbgrader's locked cells), jupyter.source_hidden (JupyterLab)
#: and cellView (Colab) on the self-study answer cells.
CELL_META_KEYS = {
    "release": ("nbgrader", "tags", "editable", "deletable"),
    "notebooks": ("tags", "jupyter", "cellView"),
    "solutions": ("tags",),
}
HOWTO_MARK = "<!-- how-to-work -->"
HOWTO = {
    "release": i18n.mark(
        "Cells marked `# YOUR CODE HERE` are yours to fill in: replace `raise NotImplementedError()`\n"
        "with your code. Each is followed by a self-check that tells you what is wrong and how to fix\n"
        "it. The self-checks and the setup cell are read-only (their first line says so): you can run\n"
        "them but not edit or delete them. Run the cells in order from the top; *Run All* stops at\n"
        "the first exercise you have not done yet."
    ),
    "notebooks": i18n.mark(
        "This is the self-study edition. Each exercise is three cells: yours (`# YOUR CODE HERE`),\n"
        "a self-check that tells you what is wrong and how to fix it, then the answer, hidden: click\n"
        "it to see it (JupyterLab: the bar to its left; Colab: *Show code*). Write and run your code\n"
        "first, then its self-check. The answer cell runs the answer only if your code has not\n"
        "passed the self-check, so an answer of yours that passes is kept and the notebook goes on\n"
        "with it. *Run All* works from the top whether or not you have done the exercises: each one\n"
        "not done is reported by its self-check and filled in by its answer. If your code changed\n"
        "the data before it failed (say, deleted a column), the answer may not fit any more: run\n"
        "the notebook again from the top."
    ),
    "solutions": i18n.mark(
        "This is the solved edition: every exercise is done, and the self-check below each one\n"
        "passes. *Run All* works."
    ),
}
READ_ONLY = "(read-only)"

_BEGIN_SOLUTION = re.compile(r"^\s*### BEGIN SOLUTION\s*$")
_END_SOLUTION = re.compile(r"^\s*### END SOLUTION\s*$")
_NEXT_LINK = re.compile(r"\]\((\d\d_[a-z0-9_]+)\.ipynb\)")


#: Environment variable naming the course folder (a checkout holding ``source/``).
ROOT_ENV = "ASL_COURSE_ROOT"


def _is_course(folder: Path) -> bool:
    return (folder / "source").is_dir() and (folder / "nbgrader_config.py").is_file()


def repo_root(start: Path | None = None) -> Path:
    """The course folder ``build``, ``run`` and ``bench`` work on: a checkout holding ``source/``.

    ``$ASL_COURSE_ROOT`` if set; else the current folder or the nearest folder above it that
    holds ``source/`` and ``nbgrader_config.py``; else this package's parent folder when the
    package runs from a checkout (an editable install). An installed package alone has no
    source notebooks: that is a clear error, not a search of site-packages.
    """
    if os.environ.get(ROOT_ENV):
        root = Path(os.environ[ROOT_ENV]).expanduser().resolve()
        if not _is_course(root):
            raise UserError(f"{ROOT_ENV}={root} is not a course folder (no source/ and nbgrader_config.py there).")
        return root
    here = (start or Path.cwd()).resolve()
    for folder in (here, *here.parents):
        if _is_course(folder):
            return folder
    checkout = Path(__file__).resolve().parents[2]  # asl_course/tooling/editions.py
    if _is_course(checkout):
        return checkout
    raise UserError("this command works on the course's folder (a clone of the repository, with source/ and "
                    f"nbgrader_config.py): run it there, or set {ROOT_ENV} to it.")


def assignments(root: Path) -> list[str]:
    """Assignment names, in order: the folders of ``source/`` holding ``<name>.ipynb``."""
    found = sorted(p.parent.name for p in (root / "source").glob("*/*.ipynb") if p.stem == p.parent.name)
    if not found:
        raise UserError(f"no source notebooks in {root / 'source'} (expected source/NAME/NAME.ipynb)")
    return found


# --- Where the course is published ----------------------------------------------------------------


@dataclasses.dataclass(frozen=True)
class Site:
    """Where the course is published: its GitHub repository and the branch students open."""
    url: str
    branch: str

    def __post_init__(self):
        if not re.fullmatch(r"https://github\.com/[\w.-]+/[\w.-]+", self.url):
            raise UserError(f"the course's repository {self.url!r} is not https://github.com/OWNER/NAME: Colab "
                            "opens notebooks from GitHub (set Repository under [project.urls] in pyproject.toml, "
                            "or pass --repo-url)")
        if not re.fullmatch(r"[\w./-]+", self.branch):
            raise UserError(f"the branch {self.branch!r} is not a git branch name")


def _site_in(pyproject: Path) -> Site | None:
    try:
        data = tomllib.loads(pyproject.read_text())
    except (OSError, tomllib.TOMLDecodeError):
        return None
    url = data.get("project", {}).get("urls", {}).get("Repository")
    branch = data.get("tool", {}).get("asl-course", {}).get("branch", "main")
    return Site(url.rstrip("/").removesuffix(".git"), branch) if url else None


def publication(start: Path | None = None) -> Site:
    """Where the course is published, from the project's metadata: ``Repository`` under
    ``[project.urls]`` and ``branch`` under ``[tool.asl-course]`` of the nearest pyproject.toml at or
    above ``start`` (the course folder), else of this package's checkout, else of the installed
    package (its ``Project-URL``)."""
    here = Path(start or Path.cwd()).resolve()
    checkout = Path(__file__).resolve().parents[2] / "pyproject.toml"
    for pyproject in [*(folder / "pyproject.toml" for folder in (here, *here.parents)), checkout]:
        site = _site_in(pyproject)
        if site is not None:
            return site
    try:
        urls = dict(u.split(", ", 1) for u in metadata.metadata("asl-course").get_all("Project-URL") or [])
    except metadata.PackageNotFoundError:
        urls = {}
    if urls.get("Repository"):
        return Site(urls["Repository"].rstrip("/"), "main")
    raise UserError("where is the course published? Add `Repository = \"https://github.com/OWNER/NAME\"` under "
                    "[project.urls] in the course's pyproject.toml, or pass --repo-url")


def colab_url(relative: str, site: Site) -> str:
    slug = site.url.removeprefix("https://github.com/")
    return f"https://colab.research.google.com/github/{slug}/blob/{site.branch}/{relative}"


def edition_path(edition: str, name: str, lang: str = i18n.SOURCE_LANGUAGE) -> str:
    """An edition's path in the course folder: ``release/NAME/NAME.ipynb``, ``notebooks/NAME.ipynb``,
    ``solutions/NAME.ipynb``; a translation's under its language's folder (``ko/notebooks/...``)."""
    path = f"release/{name}/{name}.ipynb" if edition == "release" else f"{edition}/{name}.ipynb"
    return path if lang == i18n.SOURCE_LANGUAGE else f"{lang}/{path}"


def languages() -> tuple[str, ...]:
    """The languages the editions are built in: English, and each language with notebook catalogs."""
    return (i18n.SOURCE_LANGUAGE, *(lang for lang in i18n.LANGUAGES if lang != i18n.SOURCE_LANGUAGE
                                    and (i18n.LOCALE_DIR / lang / "notebooks").is_dir()))


# --- Cell transformations ----------------------------------------------------------------------


def _regions(source: str, begin: re.Pattern, end: re.Pattern) -> list[tuple[str, str]]:
    """The source's lines, each as ``(where, line)``: "out", "begin", "inside" or "end".

    The one walker over nbgrader's ``### BEGIN ...`` / ``### END ...`` regions; like nbgrader's
    ClearSolutions and ClearHiddenTests it refuses a region that is not closed (or one opened
    inside another), which would otherwise leak an answer or a hidden test into an edition.
    """
    out, inside = [], False
    for number, line in enumerate(source.splitlines(), 1):
        if begin.match(line):
            if inside:
                raise UserError(f"line {number}: {line.strip()!r} opens a region inside another: close the first one.")
            inside = True
            out.append(("begin", line))
        elif end.match(line):
            if not inside:
                raise UserError(f"line {number}: {line.strip()!r} closes a region that was not opened.")
            inside = False
            out.append(("end", line))
        else:
            out.append(("inside" if inside else "out", line))
    if inside:
        raise UserError(f"a region opened with {begin.pattern.strip('^$').replace(chr(92) + 's*', ' ').strip()!r} "
                        "is never closed: add its END marker.")
    return out


def _drop_region(source: str, begin: re.Pattern, end: re.Pattern, keep_inside: bool) -> str:
    kept = ("out", "inside") if keep_inside else ("out",)
    return "\n".join(line for where, line in _regions(source, begin, end) if where in kept).strip("\n")


def solved(source: str) -> str:
    """A cell's code with the solution markers removed and its hidden tests dropped."""
    without_hidden = _drop_region(source, cells.BEGIN_HIDDEN, cells.END_HIDDEN, keep_inside=False)
    return _drop_region(without_hidden, _BEGIN_SOLUTION, _END_SOLUTION, keep_inside=True)


def answer_only(source: str) -> str:
    """The code between the solution markers (what a learner is asked to write)."""
    return "\n".join(line for where, line in _regions(source, _BEGIN_SOLUTION, _END_SOLUTION) if where == "inside")


def answer_cell(exercise: str, answer: str) -> nbformat.NotebookNode:
    """The self-study edition's answer: a code cell hidden in JupyterLab and on Colab.

    It runs the answer only if the learner's own code has not passed its self-check
    (:func:`asl_course.learners.selfstudy.use_answer`), so Run All goes on and a passing answer is kept.
    """
    body = "\n".join(("    " + line) if line.strip() else "" for line in answer.splitlines())
    text = (
        f"{ANSWER_TITLE}\n"
        "from asl_course.learners import selfstudy  # runs the answer unless your code passed the self-check\n"
        f"if selfstudy.use_answer({exercise!r}):\n{body}"
    )
    cell = nbformat.v4.new_code_cell(text)
    cell.metadata["jupyter"] = {"source_hidden": True}
    cell.metadata["cellView"] = "form"
    return cell


def selfstudy_check(exercise: str, test_source: str) -> str:
    """A self-check that reports a mistake instead of raising (Run All goes on)."""
    first, _, rest = solved(test_source).partition("\n")
    body = "\n".join(("    " + line) if line.strip() else "" for line in rest.strip("\n").splitlines())
    return (
        f"{first}\n"
        "from asl_course.learners import selfstudy  # in this edition a mistake is reported and Run All goes on\n\n"
        f"with selfstudy.self_check({exercise!r}):\n{body or '    pass'}"
    )


def selfstudy_stub(source: str) -> str:
    """A solution cell as the self-learner sees it: the answer replaced by a stub that does not raise."""
    out = []
    for where, line in _regions(source, _BEGIN_SOLUTION, _END_SOLUTION):
        if where == "begin":
            indent = line[: len(line) - len(line.lstrip())]
            out.append(indent + SELFSTUDY_STUB)
            if indent:  # an answer inside a block: the block still needs a statement
                out.append(indent + "pass")
        elif where == "out":
            out.append(line)
    return "\n".join(out)


def mark_read_only(source: str) -> str:
    """Say "(read-only)" in a locked cell's first line ("# Setup." / '\"\"\"Self-check: ...')."""
    first, sep, rest = source.partition("\n")
    marked = re.sub(r'^(\s*(?:"""|# ))([A-Za-z][A-Za-z -]*?)([.:])', rf"\1\2 {READ_ONLY}\3", first, count=1)
    if marked == first:
        return f"# {READ_ONLY}\n{source}"
    return marked + sep + rest


def is_setup_cell(cell) -> bool:
    return cell.cell_type == "code" and cell.source.lstrip().startswith("# Setup")


def _finish(nb, edition: str, name: str, site: Site, lang: str = i18n.SOURCE_LANGUAGE) -> nbformat.NotebookNode:
    """Badge, repository URL, links, and the normalised form every edition shares; a translation
    says its language in the notebook's metadata (``asl_course.lang``: the package's messages follow it)."""
    url = colab_url(edition_path(edition, name, lang), site)
    nb.metadata = {k: copy.deepcopy(nb.metadata[k]) for k in NOTEBOOK_META_KEYS if k in nb.metadata}
    nb.metadata.pop(i18n.METADATA_KEY, None)
    if lang != i18n.SOURCE_LANGUAGE:
        nb.metadata[i18n.METADATA_KEY] = {"lang": lang}
    howto = i18n.lookup(HOWTO[edition], lang)
    keep = CELL_META_KEYS[edition]
    for i, cell in enumerate(nb.cells):
        text = cell.source
        text = text.replace(BADGE_MARK, BADGE.format(url=url))
        text = text.replace("@@REPO_URL@@", site.url).replace("@@REPO_BRANCH@@", site.branch)
        text = text.replace(HOWTO_MARK, howto)
        if edition == "release" and cell.cell_type == "markdown":
            text = _NEXT_LINK.sub(lambda m: f"](../{m.group(1)}/{m.group(1)}.ipynb)", text)
        cell.source = text
        cell.metadata = {k: copy.deepcopy(cell.metadata[k]) for k in keep if k in cell.metadata}
        cell.id = f"{name[:2]}-{edition[0]}-{i:02d}"
        if cell.cell_type == "code":
            cell.outputs = []
            cell.execution_count = None
        cell.pop("attachments", None)
    nb.nbformat, nb.nbformat_minor = 4, 5
    nbformat.validate(nb)
    return nb


def make_solutions(source_nb, name: str, site: Site | None = None,
                   lang: str = i18n.SOURCE_LANGUAGE) -> nbformat.NotebookNode:
    nb = copy.deepcopy(source_nb)
    for cell in nb.cells:
        if cell.cell_type == "code":
            cell.source = solved(cell.source)
    return _finish(nb, "solutions", name, site or publication(), lang)


def make_selfstudy(source_nb, name: str, site: Site | None = None,
                   lang: str = i18n.SOURCE_LANGUAGE) -> nbformat.NotebookNode:
    """Each exercise: the learner's cell (no raise), its self-check (reports), the hidden answer."""
    nb = copy.deepcopy(source_nb)
    kept, pending = [], None  # pending: (exercise, answer) waiting for its self-check
    for cell in nb.cells:
        for key in ("jupyter", "cellView"):  # only the answer cells carry these
            cell.metadata.pop(key, None)
        if pending and not (cell.cell_type == "code" and cells.is_grade(cell)):
            raise UserError(
                f"source/{name}: the exercise {pending[0]!r} is not followed by its test cell; the "
                "self-study edition needs one right after each answer cell (its answer runs after it)."
            )
        if cell.cell_type == "code" and cells.is_solution(cell):
            pending = (cells.grade_id(cell) or f"cell{len(kept)}", answer_only(cell.source))
            cell.source = selfstudy_stub(cell.source)
        elif cell.cell_type == "code" and cells.is_grade(cell) and pending:
            cell.source = selfstudy_check(pending[0], cell.source)
            kept.append(cell)
            cell = answer_cell(*pending)
            pending = None
        elif cell.cell_type == "code":
            cell.source = solved(cell.source)
        kept.append(cell)
    if pending:
        raise UserError(f"source/{name}: the last exercise {pending[0]!r} has no test cell after it.")
    nb.cells = kept
    return _finish(nb, "notebooks", name, site or publication(), lang)


def make_release(generated_nb, name: str, site: Site | None = None,
                 lang: str = i18n.SOURCE_LANGUAGE) -> nbformat.NotebookNode:
    """nbgrader's release, with its lock flags kept, the setup cell locked, and locked cells marked."""
    from nbgrader.utils import compute_checksum

    nb = copy.deepcopy(generated_nb)
    setup = next((c for c in nb.cells if is_setup_cell(c)), None)
    if setup is not None:
        setup.metadata["editable"] = False
        setup.metadata["deletable"] = False
    locked = [c for c in nb.cells if c.cell_type == "code" and c.metadata.get("editable") is False]
    for cell in locked:
        cell.source = mark_read_only(cell.source)
    nb = _finish(nb, "release", name, site or publication(), lang)
    for cell in nb.cells:
        grading = cells.nbgrader_metadata(cell)
        if cell.metadata.get("editable") is False and "checksum" in grading:
            # nbgrader's validator compares the checksum with the cell as released (the grader
            # puts the source cell, hidden tests and all, back in any case)
            grading["checksum"] = compute_checksum(cell)
    return nb


# --- Building ----------------------------------------------------------------------------------


class ReleaseEdition(NbGraderPreprocessor):
    """The student edition as ``nbgrader generate_assignment`` writes it (nbgrader_config.py puts this
    last in ``GenerateAssignment.preprocessors``): :func:`make_release` on nbgrader's release, so
    ``nbgrader generate_assignment`` and ``asl-course build`` write the same notebook."""

    repo_url = Unicode(help="the course's GitHub repository (Colab badges, the setup cell's install); "
                            "default: Repository under [project.urls] in pyproject.toml").tag(config=True)
    repo_branch = Unicode(help="the branch students open; default: branch under [tool.asl-course] in "
                               "pyproject.toml, else main").tag(config=True)
    lang = Unicode(i18n.SOURCE_LANGUAGE, help="the edition's language (its source/ was translated by "
                                              "`asl-course build`; nbgrader's own runs are English)").tag(config=True)

    @default("repo_url")
    def _default_url(self):
        return publication().url

    @default("repo_branch")
    def _default_branch(self):
        return publication().branch

    def preprocess(self, nb, resources):
        name = resources["nbgrader"]["notebook"]
        return make_release(nb, name, Site(self.repo_url, self.repo_branch), self.lang), resources


def _nbgrader_generate(root: Path, work: Path, site: Site, sources: dict, lang: str) -> Path:
    """Run nbgrader's generate_assignment (its ReleaseEdition step included) on the source notebooks
    (``sources``: name -> notebook, translated for ``lang``) written into ``work/source/``."""
    for name, nb in sources.items():
        folder = work / "source" / name
        shutil.copytree(root / "source" / name, folder)
        nbformat.write(nb, folder / f"{name}.ipynb")
    shutil.copy(root / "nbgrader_config.py", work / "nbgrader_config.py")
    result = subprocess.run(
        [sys.executable, "-m", "nbgrader", "generate_assignment", "*", "--no-db", "--force",
         f"--ReleaseEdition.repo_url={site.url}", f"--ReleaseEdition.repo_branch={site.branch}",
         f"--ReleaseEdition.lang={lang}"],
        cwd=work,
        capture_output=True,
        text=True,
    )
    if result.returncode != 0:
        raise UserError("nbgrader generate_assignment failed:\n" + result.stdout[-2000:] + result.stderr[-4000:])
    return work / "release"


def source_notebooks(root: Path, lang: str = i18n.SOURCE_LANGUAGE) -> tuple[dict, int]:
    """The source notebooks (name -> nbformat notebook), their markdown translated for ``lang``, and
    the number of markdown blocks with no translation (they stay English)."""
    sources, untranslated = {}, 0
    for name in assignments(root):
        nb = nbformat.read(root / "source" / name / f"{name}.ipynb", as_version=4)
        if lang != i18n.SOURCE_LANGUAGE:
            nb, missing = translate.translate_notebook(nb, lang, name)
            untranslated += missing
        sources[name] = nb
    return sources, untranslated


def write_editions(root: Path, out: Path, log=print, site: Site | None = None,
                   langs: tuple[str, ...] | None = None) -> list[Path]:
    """Write all three editions of each language (default: :func:`languages`) under ``out`` (``out``
    may be ``root`` itself); ``site``: where the course is published (default: :func:`publication`
    of ``root``)."""
    site = site or publication(root)
    written = []
    for lang in langs or languages():
        written += _write_language(root, out, log, site, lang)
    return written


def _write_language(root: Path, out: Path, log, site: Site, lang: str) -> list[Path]:
    sources, untranslated = source_notebooks(root, lang)
    written = []
    with tempfile.TemporaryDirectory(prefix="asl-build-") as tmp:
        generated = _nbgrader_generate(root, Path(tmp), site, sources, lang)
        for name, source_nb in sources.items():
            try:
                editions = {
                    "notebooks": make_selfstudy(source_nb, name, site, lang),
                    "solutions": make_solutions(source_nb, name, site, lang),
                }
            except UserError as exc:
                raise UserError(f"source/{name}/{name}.ipynb: {exc}") from None
            release = out / edition_path("release", name, lang)
            release.parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(generated / name / f"{name}.ipynb", release)  # nbgrader's own file, as it wrote it
            written.append(release)
            for edition, nb in editions.items():
                path = out / edition_path(edition, name, lang)
                path.parent.mkdir(parents=True, exist_ok=True)
                nbformat.write(nb, path)
                written.append(path)
            log(f"built {name}: release, notebooks, solutions" + ("" if lang == i18n.SOURCE_LANGUAGE else f" ({lang})"))
    if untranslated:
        log(f"{lang}: {untranslated} markdown blocks have no translation and stay English "
            f"(`asl-course translate status --lang {lang}` lists them)")
    return written


def _edition_files(folder: Path) -> set[str]:
    files = set()
    for lang, edition in ((lang, e) for lang in i18n.LANGUAGES for e in EDITIONS):
        base = folder / edition if lang == i18n.SOURCE_LANGUAGE else folder / lang / edition
        if base.exists():
            files |= {str(p.relative_to(folder)) for p in base.rglob("*.ipynb") if ".ipynb_checkpoints" not in p.parts}
    return files


def drift(root: Path, site: Site | None = None) -> list[str]:
    """Differences between the committed editions and a fresh build (empty: no drift)."""
    with tempfile.TemporaryDirectory(prefix="asl-check-") as tmp:
        fresh = Path(tmp)
        write_editions(root, fresh, log=lambda *_: None, site=site)
        want, have = _edition_files(fresh), _edition_files(root)
        problems = [f"missing: {p}" for p in sorted(want - have)]
        problems += [f"not generated from source/ (delete it): {p}" for p in sorted(have - want)]
        problems += [
            f"differs from a fresh build: {p}"
            for p in sorted(want & have)
            if not filecmp.cmp(fresh / p, root / p, shallow=False)
        ]
    return problems


def remove_stale(root: Path, keep: list[Path]) -> None:
    keep_rel = {str(p.relative_to(root)) for p in keep}
    for rel in _edition_files(root) - keep_rel:
        (root / rel).unlink()
