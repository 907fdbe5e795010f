"""Run the course's notebooks in the Colab-equivalent runtime (called by ``.ci/colab``).

Runs inside the runtime's own Python (``build/colab/venv``). Each notebook gets a fresh
"runtime", as on Colab, where every notebook opened from a badge has its own machine:

- its own working folder (``/content`` on Colab): nothing from the previous notebook is there;
- the course package *not* installed: the notebook's own setup cell installs it, with its own
  ``%pip install -q --no-deps "asl-course @ git+URL@BRANCH"`` line, only the GitHub URL pointed
  at this clone (``git+file://...``);
- ``google.colab`` imported by the kernel before the first cell (``colab_kernel_launcher``);
- the data from Colab's Kaggle cache stand-in (``kaggle_cache.py``), through kagglehub itself.

Fast mode and automated mode (``ASL_COURSE_FAST=1``, ``ASL_COURSE_AUTOMATED=1``): no prompt may
wait for a learner. A notebook fails when a cell raises, when a TensorFlow C++ log line is in
any output, or when a check of the model's way from notebook 4 to notebook 5 fails:

- Google Drive mounted (a fake Drive shared by 04 and 05; by default for ``solutions/``): 04
  must copy ``asl_model.keras`` to Drive, and 05, in a fresh folder, must use that model;
- no Drive (by default for ``notebooks/``): 05 must say that it trains a one-epoch stand-in,
  with its accuracy.

``--drive on|off`` sets it for every edition. CI (``.ci/run``) runs ``--editions notebooks
--drive on``: the self-study edition is what learners open in Colab, and its answers are the
solutions' code (tests/test_editions.py), which nbval runs with the course's pinned versions;
the no-Drive stand-in path of 05 is covered by tests/test_colab.py, and in this runtime by
``.ci/colab -- --editions notebooks --drive off --only 05_predictions``.
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import nbformat
from nbclient import NotebookClient
from nbclient.exceptions import CellExecutionError, CellTimeoutError, DeadKernelError

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
import kaggle_cache  # noqa: E402

KERNEL_NAME = "colab-standin"
#: TensorFlow's C++ log lines (absl and TSL formats), and the lines they bring with them.
TF_LOG = re.compile(
    r"^(\d{4}-\d\d-\d\d \d\d:\d\d:\d\d\.\d+: [IWEF] \S+:\d+\]"
    r"|[IWEF]\d{4} \d\d:\d\d:\d+\.\d+\s+\d+ \S+:\d+\]"
    r"|WARNING: All log messages before absl::InitializeLog\(\) is called"
    r"|To enable the following instructions: .* rebuild TensorFlow)",
    re.M,
)
ANSI = re.compile(r"\x1b\[[0-9;]*m")
#: What notebook 5 prints on each path (the package's messages, asl_course/learners/notebook.py): the
#: words before the first value, in the notebook's language (the repository's catalogs).
DRIVE_MESSAGE = "Using notebook 4's model from your Google Drive: {source} (saved {saved}), copied to {path}."
STAND_IN_MESSAGE = ("STAND-IN MODEL: what follows analyses a one-epoch stand-in ({epochs} epoch, validation accuracy "
                    "{accuracy:.3f} on {n:,} images), saved as {name}, NOT the model you trained in notebook 4. To "
                    "analyse yours, put notebook 4's asl_model.keras in this folder (on Colab: save it to Google Drive "
                    "in notebook 4) and run this notebook again.")


def said(message: str, lang: str, root: Path) -> str:
    """The words of a package message before its first value, in ``lang`` (the repository's catalogs,
    read by the package's own i18n.py: this runtime has no course package installed between runs)."""
    spec = importlib.util.spec_from_file_location("asl_course_i18n", root / "asl_course" / "i18n.py")
    i18n = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = i18n
    spec.loader.exec_module(i18n)
    return i18n.lookup(message, lang).split("{", 1)[0].strip()


def repo_constants(root: Path) -> tuple[str, str]:
    """Where the course is published (pyproject.toml: [project.urls] Repository, [tool.asl-course] branch),
    as the editions' setup cells name it."""
    import tomllib

    data = tomllib.loads((root / "pyproject.toml").read_text())
    return data["project"]["urls"]["Repository"], data.get("tool", {}).get("asl-course", {}).get("branch", "main")


def git(root: Path, *args: str) -> str:
    return subprocess.run(["git", "-C", str(root), *args], check=True, capture_output=True, text=True).stdout.strip()


def install_source(root: Path, work: Path) -> tuple[str, str]:
    """``git+file://...@ref`` for pip, and a line saying what it is. A clean clone is used as
    it is (its branch, as the setup cell names one); a working tree with uncommitted changes is
    committed into a throwaway snapshot repository first, so that what runs is what is here."""
    dirty = git(root, "status", "--porcelain", "--untracked-files=normal")
    if not dirty:
        branch = git(root, "rev-parse", "--abbrev-ref", "HEAD")
        ref = branch if branch != "HEAD" else git(root, "rev-parse", "HEAD")
        return f"git+file://{root}@{ref}", f"this clone, {ref} at {git(root, 'rev-parse', '--short', 'HEAD')}"
    snapshot = work / "snapshot"
    shutil.rmtree(snapshot, ignore_errors=True)
    snapshot.mkdir(parents=True)
    names = git(root, "ls-files", "-co", "--exclude-standard", "-z").split("\0")
    for name in filter(None, names):
        source = root / name
        if source.is_file():
            (snapshot / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(source, snapshot / name)
    for args in (["init", "-q", "-b", "main"], ["add", "-A"],
                 ["-c", "user.name=colab-ci", "-c", "user.email=ci@localhost", "commit", "-q", "-m", "snapshot"]):
        git(snapshot, *args)
    return f"git+file://{snapshot}@main", "a snapshot of this working tree (it has uncommitted changes)"


def write_kernelspec() -> None:
    folder = Path(sys.prefix) / "share" / "jupyter" / "kernels" / KERNEL_NAME
    folder.mkdir(parents=True, exist_ok=True)
    spec = {
        "argv": [sys.executable, "-m", "colab_kernel_launcher", "-f", "{connection_file}"],
        "display_name": "Python 3 (Colab stand-in)",
        "language": "python",
    }
    (folder / "kernel.json").write_text(json.dumps(spec, indent=1))


def pip_line(url: str, branch: str) -> str:
    return f'%pip install -q --no-deps "asl-course @ git+{url}@{branch}"'


def point_setup_cell(nb, url: str, branch: str, source: str) -> None:
    """The setup cell (first code cell) with its install line pointed at ``source``."""
    cell = next(c for c in nb.cells if c.cell_type == "code")
    expected = pip_line(url, branch)
    if expected not in cell.source:
        raise SystemExit(
            f"the setup cell does not install the package with the line Colab runs:\n  {expected}\n"
            f"it reads:\n{cell.source}"
        )
    cell.source = cell.source.replace(f"git+{url}@{branch}", source)


def kernel_env(content: Path, work: Path, cache_addr: str, mount: Path, extra: dict) -> dict:
    env = {k: v for k, v in os.environ.items()
           if not k.startswith(("ASL_", "NBGRADER", "COLAB_", "KAGGLE", "TBE_"))
           and k not in ("TF_CPP_MIN_LOG_LEVEL", "VIRTUAL_ENV", "PYTHONPATH", "JUPYTER_PATH", "IPYTHONDIR", "MPLBACKEND")}
    env.update(
        PATH=f"{Path(sys.executable).parent}{os.pathsep}{env.get('PATH', '')}",
        ASL_COURSE_FAST="1",
        ASL_COURSE_AUTOMATED="1",
        ASL_COURSE_COLAB_CONTENT=str(content),
        TBE_RUNTIME_ADDR=cache_addr,
        COLAB_CACHE_MOUNT_FOLDER=str(mount),
        KAGGLEHUB_CACHE=str(content / ".cache" / "kagglehub"),
        IPYTHONDIR=str(content / ".ipython"),
        MPLCONFIGDIR=str(work / "mplconfig"),  # a warm font cache, as on Colab
        COLAB_STANDIN_LOG=str(content.parent / "standin.jsonl"),
        COLAB_STANDIN_DOWNLOADS=str(content.parent / "downloads"),
        PYTHONUNBUFFERED="1",
        PYDEVD_DISABLE_FILE_VALIDATION="1",  # debugpy's note about frozen modules (terminal only)
    )
    env.update(extra)
    return env


HANGUL = re.compile("[\uac00-\ud7a3]")


def outputs_text(nb) -> list[tuple[int, str]]:
    found = []
    for i, cell in enumerate(nb.cells):
        for out in cell.get("outputs", []):
            if out.get("output_type") == "stream":
                found.append((i, out.get("text", "")))
            elif out.get("output_type") in ("execute_result", "display_data"):
                found.append((i, out.get("data", {}).get("text/plain", "")))
            elif out.get("output_type") == "error":
                found.append((i, "\n".join(out.get("traceback", []))))
    return found


def run_one(path: Path, edition: str, work: Path, source: str, url: str, branch: str,
            cache_addr: str, mount: Path, extra_env: dict) -> dict:
    # Outside the clone: the package's data search must not find the clone's data/asl_data.
    runtime = Path(tempfile.mkdtemp(prefix=f"asl-colab-{edition.replace('/', '-')}-{path.stem}-"))
    content = runtime / "content"
    content.mkdir(parents=True)
    # A fresh runtime has no course package: the setup cell must install it.
    subprocess.run([sys.executable, "-m", "pip", "uninstall", "-y", "-q", "asl-course"],
                   capture_output=True, check=False)
    nb = nbformat.read(path, as_version=4)
    point_setup_cell(nb, url, branch, source)
    env = kernel_env(content, work, cache_addr, mount, {**extra_env, "COLAB_STANDIN_NOTEBOOK": str(path)})
    client = NotebookClient(nb, timeout=900, kernel_name=KERNEL_NAME, allow_errors=False,
                            resources={"metadata": {"path": str(content)}})
    start = time.monotonic()
    error = None
    try:
        client.execute(env=env)
    except (CellExecutionError, CellTimeoutError, DeadKernelError) as exc:
        error = str(exc).strip().splitlines()[-1] if str(exc).strip() else type(exc).__name__
        failed = next((i for i, c in enumerate(nb.cells) if any(o.get("output_type") == "error" for o in c.get("outputs", []))), None)
        error = ANSI.sub("", error)
        if failed is not None:
            error = f"cell {failed}: {error}"
            said = [ANSI.sub("", line) for o in nb.cells[failed].outputs if o.get("output_type") == "stream"
                    for line in o.get("text", "").splitlines() if "ERROR" in line]
            if said:  # e.g. pip's reason for not installing the package
                error += f" (the cell printed: {said[0].strip()})"
    seconds = time.monotonic() - start
    keep = work / "runs" / edition
    keep.mkdir(parents=True, exist_ok=True)
    nbformat.write(nb, keep / f"{path.stem}.executed.ipynb")
    texts = outputs_text(nb)
    problems = [error] if error else []
    for i, text in texts:
        match = TF_LOG.search(text)
        if match:
            line = text[match.start():].splitlines()[0]
            problems.append(f"cell {i}: a TensorFlow C++ log line in the output: {line[:160]}")
            break
    lang = nb.metadata.get("asl_course", {}).get("lang", "en")
    if lang == "ko" and not error and not HANGUL.search("\n".join(t for _, t in texts)):
        problems.append("no Korean in the outputs of a Korean edition: the language was not picked up "
                        "from the notebook (google.colab._message get_ipynb)")
    log = runtime / "standin.jsonl"
    calls = [json.loads(line)["call"] for line in log.read_text().splitlines()] if log.exists() else []
    shutil.rmtree(runtime, ignore_errors=True)
    return {"edition": edition, "notebook": path.stem, "lang": lang, "seconds": seconds, "problems": problems,
            "calls": calls, "text": "\n".join(t for _, t in texts)}


def check_model_transport(results: list[dict], drive: Path | None, root: Path) -> None:
    """04 -> 05: through the fake Drive (solutions), or the one-epoch stand-in (no Drive)."""
    by_name = {r["notebook"]: r for r in results}
    nb4 = next((r for n, r in by_name.items() if n.startswith("04_")), None)
    nb5 = next((r for n, r in by_name.items() if n.startswith("05_")), None)
    if nb5 is None or nb5["problems"]:
        return
    if drive is not None:
        kept = drive / "MyDrive" / "asl_course" / "asl_model.keras"
        if nb4 is not None and not nb4["problems"] and not kept.is_file():
            nb4["problems"].append(f"notebook 4 did not copy asl_model.keras to the mounted Drive ({kept})")
        words = said(DRIVE_MESSAGE, nb5["lang"], root)
        if words not in nb5["text"]:
            nb5["problems"].append(f"notebook 5 did not say it used the model {words!r}")
        else:
            line = next(l for l in nb5["text"].splitlines() if words in l)
            print(f"   05 on the Drive path: {line.strip()}")
    else:
        words = said(STAND_IN_MESSAGE, nb5["lang"], root)
        if words not in nb5["text"]:
            nb5["problems"].append(f"notebook 5 (no model, no Drive) did not say {words!r}")
        else:
            line = next(l for l in nb5["text"].splitlines() if words in l)
            print(f"   05 without notebook 4's model: {line.strip()[:200]}")


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repo", type=Path, required=True)
    parser.add_argument("--work", type=Path, required=True)
    parser.add_argument("--shared-data", type=Path, required=True)
    parser.add_argument("--editions", default="solutions,notebooks")
    parser.add_argument("--drive", choices=("auto", "on", "off"), default="auto",
                        help="mount the fake Google Drive (auto: for solutions/ only)")
    parser.add_argument("--only", default="", help="comma-separated notebook names (default: all)")
    parser.add_argument("--kaggle", choices=("cached", "missing"), default="cached",
                        help="missing: Colab's Kaggle cache does not have the data set")
    args = parser.parse_args(argv)
    root, work = args.repo.resolve(), args.work.resolve()
    work.mkdir(parents=True, exist_ok=True)
    url, branch = repo_constants(root)
    source, what = install_source(root, work)
    print(f"== the package: {pip_line(url, branch)}\n   with git+{url}@{branch} -> {source} ({what})")
    write_kernelspec()
    mount = work / "kaggle_input"
    kaggle_cache.prepare_mount(args.shared_data.resolve(), mount)
    server, received = kaggle_cache.serve(args.kaggle)
    cache_addr = "%s:%d" % server.server_address
    only = {n for n in args.only.split(",") if n}
    results = []
    for edition in [e for e in args.editions.split(",") if e]:
        paths = sorted((root / edition).glob("*.ipynb"))
        if only:
            paths = [p for p in paths if p.stem in only]
        if not paths:
            print(f"!! no notebooks in {root / edition}")
            results.append({"edition": edition, "notebook": "(none)", "seconds": 0,
                            "problems": ["no notebooks"], "calls": []})
            continue
        drive = None
        extra: dict = {}
        if args.drive == "on" or (args.drive == "auto" and edition == "solutions"):
            drive = work / "drive" / edition
            if any(p.stem.startswith("04_") for p in paths):  # else keep what 04 left (--only 05_...)
                shutil.rmtree(drive, ignore_errors=True)
            (drive / "MyDrive").mkdir(parents=True, exist_ok=True)
            extra["COLAB_STANDIN_DRIVE"] = str(drive)
        print(f"== {edition}/ ({'Google Drive mounted' if drive else 'no Google Drive'})")
        edition_results = []
        for path in paths:
            asked = len(received)
            result = run_one(path, edition, work, source, url, branch, cache_addr, mount, extra)
            if args.kaggle == "cached" and not result["problems"] and len(received) == asked:
                result["problems"].append("the setup cell did not get the data through kagglehub")
            status = "ok" if not result["problems"] else "FAILED"
            prompts = ", ".join(sorted(set(result["calls"]))) or "none"
            print(f"   {edition}/{path.name}: {result['seconds']:6.1f} s  {status}  (google.colab calls: {prompts})")
            for problem in result["problems"]:
                print(f"      {problem}")
            edition_results.append(result)
        if not only or {"04", "05"} <= {p.stem[:2] for p in paths}:
            check_model_transport(edition_results, drive, root)
        results.extend(edition_results)
    server.shutdown()
    print("== summary (seconds per notebook, each in a fresh runtime, fast mode)")
    for r in results:
        print(f"   {r['edition']:10} {r['notebook']:22} {r['seconds']:7.1f}  {'ok' if not r['problems'] else 'FAILED: ' + '; '.join(r['problems'])}")
    print(f"   total {sum(r['seconds'] for r in results):.0f} s; Kaggle cache requests: {len(received)}")
    return 1 if any(r["problems"] for r in results) else 0


if __name__ == "__main__":
    sys.exit(main())
