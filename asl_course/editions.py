"""Generate the course's editions from ``source/`` and check them for drift.

``source/<assignment>/<assignment>.ipynb`` are the only hand-written notebooks. From them:

- ``release/<assignment>/<assignment>.ipynb``: the student edition, made by nbgrader's own
  ``generate_assignment`` (answers replaced by stubs, hidden tests removed, cells locked);
- ``notebooks/<assignment>.ipynb``: the self-study edition: each answer stubbed as in the
  release and given after it in a collapsible ``<details>`` block;
- ``solutions/<assignment>.ipynb``: solved, without nbgrader markers or hidden tests.

Every edition is normalised the same way (outputs stripped, metadata limited to what the
course uses: ``nbgrader`` where nbgrader needs it, ``tags``), gets an Open-in-Colab badge
whose URL matches its own path, and has the repository URL filled in. ``build(check=True)``
builds into a temporary folder and reports every file that differs from the committed one.
"""

from __future__ import annotations

import copy
import filecmp
import re
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

import nbformat

from asl_course import REPO_BRANCH, REPO_URL
from asl_course.errors import UserError

EDITIONS = ("release", "notebooks", "solutions")
BADGE_MARK = "<!-- colab-badge -->"
BADGE = (
    "[![Open In Colab](https://colab.research.google.com/assets/colab-badge.svg)]"
    "({url})"
)
STUB = "# YOUR CODE HERE\nraise NotImplementedError()"
NOTEBOOK_META_KEYS = ("kernelspec", "language_info", "accelerator", "colab")
CELL_META_KEYS = {"release": ("nbgrader", "tags"), "notebooks": ("tags",), "solutions": ("tags",)}

_BEGIN_SOLUTION = re.compile(r"^\s*### BEGIN SOLUTION\s*$")
_END_SOLUTION = re.compile(r"^\s*### END SOLUTION\s*$")
_BEGIN_HIDDEN = re.compile(r"^\s*### BEGIN HIDDEN TESTS\s*$")
_END_HIDDEN = re.compile(r"^\s*### END HIDDEN TESTS\s*$")
_NEXT_LINK = re.compile(r"\]\((\d\d_[a-z0-9_]+)\.ipynb\)")


def repo_root() -> Path:
    """The checkout holding ``source/`` (this package's parent folder)."""
    return Path(__file__).resolve().parent.parent


def assignments(root: Path) -> list[str]:
    """Assignment names, in order: the folders of ``source/`` holding ``<name>.ipynb``."""
    found = sorted(p.parent.name for p in (root / "source").glob("*/*.ipynb") if p.stem == p.parent.name)
    if not found:
        raise UserError(f"no source notebooks in {root / 'source'} (expected source/NAME/NAME.ipynb)")
    return found


def colab_url(relative: str) -> str:
    slug = REPO_URL.removeprefix("https://github.com/")
    return f"https://colab.research.google.com/github/{slug}/blob/{REPO_BRANCH}/{relative}"


def edition_path(edition: str, name: str) -> str:
    return f"release/{name}/{name}.ipynb" if edition == "release" else f"{edition}/{name}.ipynb"


# --- Cell transformations ----------------------------------------------------------------------


def _drop_region(source: str, begin: re.Pattern, end: re.Pattern, keep_inside: bool) -> str:
    out, inside = [], False
    for line in source.splitlines():
        if begin.match(line):
            inside = True
            continue
        if end.match(line):
            inside = False
            continue
        if not inside or keep_inside:
            out.append(line)
    return "\n".join(out).strip("\n")


def solved(source: str) -> str:
    """A cell's code with the solution markers removed and its hidden tests dropped."""
    without_hidden = _drop_region(source, _BEGIN_HIDDEN, _END_HIDDEN, keep_inside=False)
    return _drop_region(without_hidden, _BEGIN_SOLUTION, _END_SOLUTION, keep_inside=True)


def answer_only(source: str) -> str:
    """The code between the solution markers (what a learner is asked to write)."""
    lines, inside, out = source.splitlines(), False, []
    for line in lines:
        if _BEGIN_SOLUTION.match(line):
            inside = True
        elif _END_SOLUTION.match(line):
            inside = False
        elif inside:
            out.append(line)
    return "\n".join(out)


def stubbed(source: str) -> str:
    """A solution cell as the student sees it: the answer replaced by the stub."""
    out, inside = [], False
    for line in source.splitlines():
        if _BEGIN_SOLUTION.match(line):
            inside = True
            indent = line[: len(line) - len(line.lstrip())]
            out.extend(indent + s for s in STUB.splitlines())
            continue
        if _END_SOLUTION.match(line):
            inside = False
            continue
        if not inside:
            out.append(line)
    return "\n".join(out)


def details_cell(answer: str) -> nbformat.NotebookNode:
    """The self-study edition's collapsible answer (blank lines around the fence matter)."""
    text = (
        "<details>\n<summary><b>Show the answer</b> (try it yourself first)</summary>\n\n"
        f"```python\n{answer}\n```\n\n</details>"
    )
    return nbformat.v4.new_markdown_cell(text)


def _meta(cell) -> dict:
    return cell.get("metadata", {}).get("nbgrader", {})


def _finish(nb, edition: str, name: str) -> nbformat.NotebookNode:
    """Badge, repository URL, links, and the normalised form every edition shares."""
    url = colab_url(edition_path(edition, name))
    nb.metadata = {k: copy.deepcopy(nb.metadata[k]) for k in NOTEBOOK_META_KEYS if k in nb.metadata}
    keep = CELL_META_KEYS[edition]
    for i, cell in enumerate(nb.cells):
        text = cell.source
        text = text.replace(BADGE_MARK, BADGE.format(url=url))
        text = text.replace("@@REPO_URL@@", REPO_URL).replace("@@REPO_BRANCH@@", REPO_BRANCH)
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


def make_solutions(source_nb, name: str) -> nbformat.NotebookNode:
    nb = copy.deepcopy(source_nb)
    for cell in nb.cells:
        if cell.cell_type == "code":
            cell.source = solved(cell.source)
    return _finish(nb, "solutions", name)


def make_selfstudy(source_nb, name: str) -> nbformat.NotebookNode:
    nb = copy.deepcopy(source_nb)
    cells = []
    for cell in nb.cells:
        meta = _meta(cell)
        if cell.cell_type == "code" and meta.get("solution"):
            answer = answer_only(cell.source)
            cell.source = stubbed(cell.source)
            cells.extend([cell, details_cell(answer)])
            continue
        if cell.cell_type == "code":
            cell.source = solved(cell.source)
        cells.append(cell)
    nb.cells = cells
    return _finish(nb, "notebooks", name)


def make_release(generated_nb, name: str) -> nbformat.NotebookNode:
    return _finish(copy.deepcopy(generated_nb), "release", name)


# --- Building ----------------------------------------------------------------------------------


def _nbgrader_generate(root: Path, work: Path) -> Path:
    """Run nbgrader's generate_assignment on a copy of source/ (it needs a course folder)."""
    shutil.copytree(root / "source", work / "source")
    shutil.copy(root / "nbgrader_config.py", work / "nbgrader_config.py")
    result = subprocess.run(
        [sys.executable, "-m", "nbgrader", "generate_assignment", "*", "--no-db", "--force"],
        cwd=work,
        capture_output=True,
        text=True,
    )
    if result.returncode != 0:
        raise UserError("nbgrader generate_assignment failed:\n" + result.stdout[-2000:] + result.stderr[-4000:])
    return work / "release"


def write_editions(root: Path, out: Path, log=print) -> list[Path]:
    """Write all three editions under ``out`` (``out`` may be ``root`` itself)."""
    names = assignments(root)
    written = []
    with tempfile.TemporaryDirectory(prefix="asl-build-") as tmp:
        generated = _nbgrader_generate(root, Path(tmp))
        for name in names:
            source_nb = nbformat.read(root / "source" / name / f"{name}.ipynb", as_version=4)
            release_nb = nbformat.read(generated / name / f"{name}.ipynb", as_version=4)
            editions = {
                "release": make_release(release_nb, name),
                "notebooks": make_selfstudy(source_nb, name),
                "solutions": make_solutions(source_nb, name),
            }
            for edition, nb in editions.items():
                path = out / edition_path(edition, name)
                path.parent.mkdir(parents=True, exist_ok=True)
                nbformat.write(nb, path)
                written.append(path)
            log(f"built {name}: release, notebooks, solutions")
    return written


def _edition_files(folder: Path) -> set[str]:
    files = set()
    for edition in EDITIONS:
        base = folder / edition
        if base.exists():
            files |= {str(p.relative_to(folder)) for p in base.rglob("*.ipynb") if ".ipynb_checkpoints" not in p.parts}
    return files


def drift(root: Path) -> list[str]:
    """Differences between the committed editions and a fresh build (empty: no drift)."""
    with tempfile.TemporaryDirectory(prefix="asl-check-") as tmp:
        fresh = Path(tmp)
        write_editions(root, fresh, log=lambda *_: None)
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
