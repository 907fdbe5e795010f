"""The package's parts are folders (ARCHITECTURE.md, "Where each part lives"), and each imports
only what it may; notebooks and nbgrader_config.py use the course's API only (its public surface);
an older release's flat names (asl_course.MOVED) give the modules of today; no module imports or uses
(``module._name``) another's underscore name.

Each import check imports a part's modules in a fresh interpreter and lists what came with them:
a learner's notebook must not pull in the nbgrader plugins, the sandbox, the instructor's tools
or the tooling (nor nbgrader itself); the data step and the facts stand on their own.
"""

from __future__ import annotations

import ast
import importlib
import json
import os
import re
import site
import subprocess
import sys
from pathlib import Path

import pytest

import asl_course

PACKAGE = Path(asl_course.__file__).resolve().parent

FACTS = ["asl_course.facts", "asl_course.errors", "asl_course.i18n"]  # i18n: every part speaks the learner's language
DATASET = ["asl_course.dataset." + m for m in
           ("files", "labels", "sources", "validate", "encoding", "install", "importer", "kaggle", "synthetic",
            "folder", "audit", "families")]
LEARNERS = ["asl_course.learners." + m for m in
            ("lesson", "notebook", "checks", "mistakes", "selfstudy", "predict", "evaluation", "augment", "recipe", "shifts", "designed",
             "camera", "beyond")]
GRADING = ["asl_course.grading"]  # the hidden tests and verdicts (what a kernel loads)
PLUGINS = ["asl_course.grading.plugins." + m for m in ("autograder", "verifier", "harness", "sandbox", "limits", "feedback")]
INSTRUCTOR = ["asl_course.grading.instructor." + m for m in ("intake", "repair", "parallel", "similarity")]
TOOLING = ["asl_course.tooling." + m for m in ("editions", "runner", "bench", "cli", "classroom", "robustness", "export",
                                             "translate")] + [
    "asl_course.tooling.commands." + m for m in ("data", "build", "translate", "run", "predict", "export", "serve", "intake", "repair",
                                                 "grade", "similarity", "bench")]
WEB = ["asl_course.web." + m for m in ("runtime", "server", "fakecam")]
THIRD_PARTY_GRADING = {"nbgrader", "nbclient", "jupyter_client", "bleach"}

#: The course's API (ARCHITECTURE.md, "The public surface"): the modules the notebooks (every
#: edition) import, and the names nbgrader_config.py gives nbgrader. Everything else is internal.
NOTEBOOK_API = {"asl_course.learners." + m for m in
                ("notebook", "lesson", "checks", "evaluation", "predict", "augment", "recipe", "selfstudy", "camera",
                 "beyond", "shifts", "designed")}
CONFIG_API = {"asl_course.grading.plugins.autograder": {"GuardedExecute", "VerifyOutsideKernel", "CELL_TIMEOUTS"},
              "asl_course.grading.plugins.feedback": {"HideHiddenTests", "SanitizeStudentHTML"},
              "asl_course.tooling.editions": {"ReleaseEdition"}}
#: What an older release imported (its notebooks and nbgrader_config.py), and what each gives now:
#: asl_course.MOVED, the one list of old flat names.
L, P = "asl_course.learners.", "asl_course.grading.plugins."
OLD_IMPORTS = {
    "from asl_course import notebook": {"notebook": L + "notebook"},
    "from asl_course import checks": {"checks": L + "checks"},
    "from asl_course import lesson": {"lesson": L + "lesson"},
    "from asl_course import evaluation, lesson, predict": {"evaluation": L + "evaluation", "predict": L + "predict"},
    "from asl_course import selfstudy": {"selfstudy": L + "selfstudy"},
    "import asl_course.autograder": {"asl_course.autograder": P + "autograder"},
    "import asl_course.feedback": {"asl_course.feedback": P + "feedback"},
}
ROOT = PACKAGE.parent
NOTEBOOKS = sorted(p for d in ("source", "release", "notebooks", "solutions") for p in (ROOT / d).rglob("*.ipynb")
                   if ".ipynb_checkpoints" not in p.parts)

#: The parts a part may not import (the package's ``asl_course.<part>`` prefixes).
PARTS = {
    "facts": ("asl_course.facts", "asl_course.errors"),
    "dataset": ("asl_course.dataset",),
    "learners": ("asl_course.learners",),
    "grading": ("asl_course.grading",),
    "plugins": ("asl_course.grading.plugins",),
    "instructor": ("asl_course.grading.instructor",),
    "tooling": ("asl_course.tooling",),
    "web": ("asl_course.web",),
}


def imported_with(modules: list[str]) -> set[str]:
    """The package's modules (full dotted names) and the third-party top-level packages that
    importing ``modules`` loads."""
    code = (
        "import importlib, json, sys\n"
        f"for m in {modules!r}: importlib.import_module(m)\n"
        "print(json.dumps(sorted(sys.modules)))\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    names = json.loads(out.splitlines()[-1])
    return {n for n in names if n.startswith("asl_course.")} | {n.split(".")[0] for n in names}


def in_part(names: set[str], part: str) -> set[str]:
    return {n for n in names if any(n == p or n.startswith(p + ".") for p in PARTS[part])}


@pytest.mark.parametrize("part, modules, forbidden", [
    ("the facts", FACTS, ["dataset", "learners", "grading", "tooling"]),
    ("the data step", DATASET, ["learners", "grading", "tooling"]),
    ("the learners' API", LEARNERS, ["plugins", "instructor", "tooling"]),
    ("the hidden tests and verdicts", GRADING, ["learners", "plugins", "instructor", "tooling"]),
    ("the nbgrader plugins", PLUGINS, ["instructor", "tooling"]),
    ("the instructor's tools", INSTRUCTOR, ["learners", "tooling", "web"]),
    # (the learners' predict, whose prepare_image the page matches, loads the grading package's
    # judges for its self-checks: the page never grades, and no grader's plugin or tool is loaded)
    ("the web page", WEB, ["plugins", "instructor"]),
])
def test_a_part_imports_only_what_it_may(part, modules, forbidden):
    loaded = imported_with(modules)
    found = set().union(*(in_part(loaded, f) for f in forbidden))
    if part in ("the facts", "the data step", "the learners' API", "the hidden tests and verdicts"):
        found |= loaded & THIRD_PARTY_GRADING
    assert not found, f"{part} imports {sorted(found)}"


def test_the_check_sees_a_forbidden_import():
    """The check itself: the nbgrader plugins do pull in nbgrader and the sandbox, and the
    tooling the instructor's tools."""
    loaded = imported_with(["asl_course.grading.plugins.autograder"])
    assert "nbgrader" in loaded and "asl_course.grading.plugins.sandbox" in in_part(loaded, "plugins")
    assert in_part(imported_with(["asl_course.tooling.bench"]), "learners")


def clean_interpreter(code: str) -> subprocess.CompletedProcess:
    """``code`` run by an interpreter that sees this checkout and the installed packages but no
    ``.pth`` hooks (an editable install of another checkout would find its own old files)."""
    path = os.pathsep.join([str(ROOT), *site.getsitepackages(), site.getusersitepackages()])
    return subprocess.run([sys.executable, "-S", "-c", code], capture_output=True, text=True,
                          env={**os.environ, "PYTHONPATH": path})


def test_an_older_releases_imports_give_the_modules_of_today():
    """A hand-in made from an older release (its setup cell is the student's copy) or an
    nbgrader_config.py copied from one still imports the old flat names: each is the module of its
    new path itself, so its self-checks and the grader see the same code. Other old paths are gone."""
    code = ["import importlib, sys", "import asl_course"]
    for old, names in OLD_IMPORTS.items():
        code.append(old)
        for name, new in names.items():
            key = name if "." in name else "asl_course." + name
            code.append(f"assert {name} is importlib.import_module({new!r}) is sys.modules[{key!r}], {old!r}")
    code += ["from traitlets.utils.importstring import import_item",
             "assert import_item('asl_course.autograder.GuardedExecute') is asl_course.grading.plugins.autograder.GuardedExecute",
             "gone = ['asl_course.data', 'asl_course.bench', 'asl_course.commands', 'asl_course.synthetic']",
             "for name in gone:",
             "    try: importlib.import_module(name)",
             "    except ModuleNotFoundError: continue",
             "    raise AssertionError(name + ' is still importable')"]
    done = clean_interpreter("\n".join(code))
    assert done.returncode == 0, done.stderr[-800:]
    assert set(asl_course.MOVED) == {name.rpartition(".")[2] for names in OLD_IMPORTS.values() for name in names}


def test_no_alias_module_and_every_module_in_a_part():
    """Nothing stays flat at the top of asl_course/ but the facts, the errors, the language (i18n and its
    catalogs, locale/) and the package's own files (the old one-line alias modules are gone: asl_course.MOVED is the one list of old names);
    every module of every part is listed here (a new module gets its part's checks)."""
    flat = {p.name for p in PACKAGE.iterdir() if p.suffix == ".py" or (p.is_dir() and p.name != "__pycache__")}
    allowed = {"__init__.py", "__main__.py", "facts.py", "errors.py", "i18n.py",
               "dataset", "learners", "grading", "tooling", "web", "reference", "locale"}
    assert flat <= allowed, (f"{sorted(flat - allowed)}: a new module goes in its part's folder (ARCHITECTURE.md, "
                             "\"Where each part lives\"), not at the top of asl_course/; an old path is asl_course.MOVED")
    listed = set(FACTS + DATASET + LEARNERS + PLUGINS + INSTRUCTOR + TOOLING + WEB)
    for folder in ("dataset", "learners", "grading/plugins", "grading/instructor", "tooling", "tooling/commands", "web"):
        for path in (PACKAGE / folder).glob("*.py"):
            if path.stem != "__init__":
                name = "asl_course." + ".".join(path.relative_to(PACKAGE).with_suffix("").parts)
                assert name in listed, f"{name} is in no part of tests/test_layout.py"


def course_imports(source: str) -> list[tuple[str, str]]:
    """``(module, name)`` for every import of the package in ``source`` (``name`` empty for ``import m``);
    IPython's magics and shell lines are left out."""
    lines = [line for line in source.splitlines() if not line.lstrip().startswith(("%", "!"))]
    try:
        tree = ast.parse("\n".join(lines))
    except SyntaxError:
        return []
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found += [(a.name, "") for a in node.names if a.name.split(".")[0] == "asl_course"]
        elif isinstance(node, ast.ImportFrom) and (node.module or "").split(".")[0] == "asl_course":
            found += [(node.module, a.name) for a in node.names]
    return found


def test_notebooks_import_only_the_public_surface():
    """Every edition's cells import the learners' API by its path (``from asl_course.learners import
    notebook``), never an old flat name, an internal module, or an underscore name of either."""
    assert NOTEBOOKS
    bad = []
    for path in NOTEBOOKS:
        for cell in json.loads(path.read_text())["cells"]:
            if cell["cell_type"] != "code":
                continue
            source = "".join(cell["source"])
            for module, name in course_imports(source):
                full = f"{module}.{name}" if name and f"{module}.{name}" in NOTEBOOK_API else module
                if full not in NOTEBOOK_API or name.startswith("_"):
                    bad.append(f"{path.relative_to(ROOT)}: from {module} import {name}" if name else f"import {module}")
            bad += [f"{path.relative_to(ROOT)}: {m.group(0)}" for m in
                    re.finditer(r"\b(?:notebook|lesson|checks|evaluation|predict|augmentation|recipe|selfstudy)\._\w+", source)]
    assert not bad, "notebooks import what is not the course's API (ARCHITECTURE.md, \"The public surface\"):\n" + "\n".join(bad)


def test_nbgrader_config_names_only_the_public_surface():
    """nbgrader_config.py gives nbgrader the plugins by their paths, and nothing internal."""
    text = (ROOT / "nbgrader_config.py").read_text()
    named = re.findall(r"\basl_course(?:\.\w+)+", text)
    code = [m for m in re.findall(r"\"(asl_course(?:\.\w+)+)\"", text)]
    assert code, "nbgrader_config.py names no course plugin"
    for dotted in code:
        module, _, name = dotted.rpartition(".")
        assert name in CONFIG_API.get(module, ()), f"nbgrader_config.py names {dotted}, which is not the API"
        assert getattr(importlib.import_module(module), name)
    for dotted in named:
        assert dotted.split(".")[1] not in asl_course.MOVED, f"nbgrader_config.py names the old path {dotted}"


#: The files that use an older release's names on purpose: this one, the policy's test (an answer
#: calling the reference by an old path still scores 0) and the simulated class (an old hand-in).
OLD_ON_PURPOSE = {"tests/test_layout.py", "tests/test_trust.py", "tests/submissions/catalogue.py"}


def test_tests_and_tools_import_no_old_path():
    """The tests (the notebooks and code they write too), the CI's helpers and the deploy files
    name the package by its new paths only."""
    old = "|".join(asl_course.MOVED)
    pattern = re.compile(rf"from asl_course import [^\n]*\b({old})\b|\basl_course\.({old})\b")
    files = [p for d in ("tests", ".ci", "deploy") for p in (ROOT / d).rglob("*.py")]
    bad = [f"{path.relative_to(ROOT)}: {m.group(0)}" for path in files
           if str(path.relative_to(ROOT)) not in OLD_ON_PURPOSE for m in pattern.finditer(path.read_text())]
    assert not bad, "old flat paths (asl_course.MOVED; use the new ones):\n" + "\n".join(bad)


def test_every_folder_is_a_package_with_a_docstring_saying_what_it_may_import():
    """setuptools' find ships folders with an ``__init__.py`` only; each part says what it may import."""
    for folder in sorted({p.parent for p in PACKAGE.rglob("*.py")} - {PACKAGE}):
        if "__pycache__" in folder.parts:
            continue
        init = folder / "__init__.py"
        assert init.is_file(), f"{folder} has no __init__.py: a wheel would leave it out"
    for part in ("dataset", "learners", "grading/plugins", "grading/instructor", "tooling", "web"):
        doc = importlib.import_module("asl_course." + part.replace("/", ".")).__doc__ or ""
        assert "May import" in doc or "may import" in doc, f"asl_course/{part}/__init__.py does not say what it may import"


def private_imports(root: Path) -> list[str]:
    """``file:line: from module import _name`` for each underscore name a module of the package
    imports from another of its modules (relative imports resolved)."""
    found = []
    for path in sorted(root.rglob("*.py")):
        parts = list(path.relative_to(root.parent).with_suffix("").parts)
        package = parts[:-1]
        for node in ast.walk(ast.parse(path.read_text())):
            if not isinstance(node, ast.ImportFrom):
                continue
            base = package[: len(package) - node.level + 1] if node.level else []
            module = ".".join(base + ([node.module] if node.module else []))
            names = [a.name for a in node.names if a.name.startswith("_") and not a.name.startswith("__")]
            if module.split(".")[0] == root.name and names:
                found.append(f"{path.relative_to(root.parent)}:{node.lineno}: from {module} import {', '.join(names)}")
    return found


def test_no_module_imports_another_modules_underscore_name(tmp_path):
    """Underscore means private: a helper another module needs gets a public name in the module
    that owns it. (The check itself: a planted ``from .files import _x`` is found.)"""
    found = private_imports(PACKAGE)
    assert not found, "underscore names imported from another module:\n" + "\n".join(found)
    planted = tmp_path / "asl_course" / "dataset"
    planted.mkdir(parents=True)
    (planted / "a.py").write_text("from .files import _x\nfrom asl_course.grading.raw import rebuild, _y\n")
    assert [line.split(": ", 1)[1] for line in private_imports(tmp_path / "asl_course")] == [
        "from asl_course.dataset.files import _x", "from asl_course.grading.raw import _y"]



def _module_file(root: Path, dotted: str) -> Path | None:
    """The file of the project module ``dotted`` under ``root``'s parent, or None (not one of ours)."""
    base = root.parent.joinpath(*dotted.split("."))
    for path in (base.with_suffix(".py"), base / "__init__.py"):
        if path.is_file():
            return path
    return None


def _imported_modules(tree: ast.Module, package: list[str], root: Path) -> dict[str, str]:
    """``{local name: dotted module}`` for each project module the file's imports (anywhere) bind."""
    bound = {}
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for a in node.names:
                bound[a.asname or a.name.split(".")[0]] = a.name if a.asname else a.name.split(".")[0]
        elif isinstance(node, ast.ImportFrom):
            base = package[: len(package) - node.level + 1] if node.level else []
            module = ".".join(base + ([node.module] if node.module else []))
            for a in node.names:
                bound[a.asname or a.name] = f"{module}.{a.name}"
    return {name: dotted for name, dotted in bound.items()
            if dotted.split(".")[0] == root.name and _module_file(root, dotted)}


def _dotted(node: ast.expr, bound: dict[str, str]) -> str | None:
    """The module an expression (``name`` or ``name.sub.sub``) names, through the file's imports."""
    if isinstance(node, ast.Name):
        return bound.get(node.id)
    if isinstance(node, ast.Attribute):
        parent = _dotted(node.value, bound)
        return f"{parent}.{node.attr}" if parent else None
    return None


def private_attributes(root: Path, folders: list[Path]) -> list[str]:
    """``file:line: module._name`` for each ``X._name`` in ``folders``' Python files where ``X`` is a
    module of the package ``root`` (imported under any name) other than the file itself."""
    found = []
    for folder in folders:
        for path in sorted(folder.rglob("*.py")):
            rel = path.relative_to(root.parent)
            package = list(rel.with_suffix("").parts[:-1])
            tree = ast.parse(path.read_text())
            bound = _imported_modules(tree, package, root)
            for node in sorted((n for n in ast.walk(tree) if isinstance(n, ast.Attribute)), key=lambda n: n.lineno):
                if not node.attr.startswith("_") or node.attr.startswith("__"):
                    continue
                module = _dotted(node.value, bound)
                if module and _module_file(root, module) and _module_file(root, module) != path:
                    found.append(f"{rel}:{node.lineno}: {module}.{node.attr}")
    return found


def test_no_module_uses_another_modules_underscore_name(tmp_path):
    """Nor ``module._name``: the package, its tests and tools reach another module's names by their
    public names (self._x, a module's own names and third-party ones are theirs). The check itself:
    planted uses through each kind of import are found, a module's own and a stdlib one are not."""
    folders = [PACKAGE] + [ROOT / d for d in ("tests", "tools", ".ci") if (ROOT / d).is_dir()]
    found = private_attributes(PACKAGE, folders)
    assert not found, "underscore names used from another module (give them a public name):\n" + "\n".join(found)
    planted = tmp_path / "asl_course" / "grading"
    planted.mkdir(parents=True)
    for name in ("../__init__", "__init__", "nb01", "other"):
        (planted / f"{name}.py").write_text("")
    (planted / "nb01.py").write_text("import os\nfrom . import nb01\n_x = 1\nnb01._x\nos._exit\n")
    (planted / "other.py").write_text("from . import nb01 as nb1\nimport asl_course.grading\n"
                                      "from asl_course import grading\n\ndef f():\n    return nb1._y, self._z\n"
                                      "asl_course.grading.nb01._w\ngrading.nb01.ok\n")
    assert private_attributes(tmp_path / "asl_course", [tmp_path / "asl_course"]) == [
        "asl_course/grading/other.py:6: asl_course.grading.nb01._y", "asl_course/grading/other.py:7: asl_course.grading.nb01._w"]


#: Third-party packages imported inside the functions that use them, and why (ARCHITECTURE.md,
#: "Imports inside functions"). Anything else a function imports belongs at the top of its module.
HEAVY = {
    # seconds to start, and a notebook's setup cell imports asl_course first to quiet TensorFlow's
    # start-up log; `asl-course --help`, the data step and the grader's bookkeeping never need them
    "keras": "TensorFlow", "tensorflow": "TensorFlow", "jax": "an optional backend", "torch": "an optional backend",
    "matplotlib": "figures only", "pandas": "CSV reading only (the data step writes without it)",
    "PIL": "pictures only (notebook 5, the camera shifts)", "scipy": "the families and the camera shifts only",
    # there only in one place: Colab, the `fetch` extra, an instructor's grading machine
    "google": "Colab only", "IPython": "a kernel only", "kagglehub": "the optional `fetch` extra",
    "nbgrader": "the instructor's tools only", "nbclient": "asl-course run only", "nbconvert": "feedback pages, asl-course run",
    "jupyter_client": "the autograder's kernels", "jupyter_core": "the autograder's kernels", "zmq": "asl-course run only",
    "sqlalchemy": "the gradebook merge only", "psutil": "parallel grading only", "yaml": "an LMS roster only",
    "nh3": "feedback pages only",
    "anywidget": "notebook 5's camera widget only", "ipywidgets": "the camera widget's upload button only",
    "traitlets": "the camera widget only (with anywidget)",
    "onnx": "asl-course export only", "onnxruntime": "asl-course export's parity check and serve only",
    "starlette": "asl-course serve only", "platformdirs": "the web runtime's cache folder only",
}
#: Files whose functions import what they run (the package's own code too), and why.
LAZY = {
    "asl_course/tooling/commands/": "a subcommand imports its code when it runs: `asl-course --help` and the "
                                    "other commands start without TensorFlow, nbgrader or pandas",
    "asl_course/tooling/bench.py": "`asl-course bench grading` alone needs nbgrader (classroom, editions, parallel)",
    "asl_course/tooling/translate.py": "editions imports translate (the translated editions are built from its "
                                       "catalogs); translate asks editions for the assignments only when it runs",
}
#: Imports left inside a function for no listed reason: none (keep it so).
NOT_YET: set[tuple[str, str]] = set()


def function_imports(root: Path) -> list[tuple[str, int, str]]:
    """``(file, line, top-level module)`` of every import statement inside a function."""
    found = []
    for path in sorted(root.rglob("*.py")):
        tree = ast.parse(path.read_text())
        for function in ast.walk(tree):
            if not isinstance(function, (ast.FunctionDef, ast.AsyncFunctionDef)):
                continue
            for node in ast.walk(function):
                if isinstance(node, ast.Import):
                    found += [(str(path.relative_to(root.parent)), node.lineno, a.name.split(".")[0]) for a in node.names]
                elif isinstance(node, ast.ImportFrom):
                    module = "asl_course" if node.level else (node.module or "").split(".")[0]
                    found.append((str(path.relative_to(root.parent)), node.lineno, module))
    return sorted(set(found))


def test_imports_inside_functions_have_a_reason():
    """A function imports a heavy or optional third-party package (HEAVY), or what it runs where
    LAZY says why; anything else (the standard library, the package's own light modules,
    or an import that hides a cycle) goes at the top of the module."""
    bad = [f"{path}:{line}: {module}" for path, line, module in function_imports(PACKAGE)
           if module not in HEAVY and (path, module) not in NOT_YET
           and not any(path.startswith(prefix) for prefix in LAZY)]
    assert not bad, "imports inside functions without a reason (move them to the top):\n" + "\n".join(bad)

