"""Run the solved notebooks headless, in order, each in a fresh kernel with a timeout.

Used by ``asl-course run``: it writes the executed notebooks, the trained model (the
notebooks save it in their working folder, the output folder) and every figure as PNG, plus
``run.json`` with the data used, the mode, and per-notebook times.
"""

from __future__ import annotations

import json
import os
import re
import time
from pathlib import Path
from unittest import mock

import nbformat
from nbconvert.filters import strip_ansi
from nbconvert.preprocessors import CoalesceStreamsPreprocessor

from asl_course import dataset as _data, i18n
from asl_course.errors import UserError


def _figures(nb, stem: str, folder: Path) -> list[Path]:
    """Write every PNG the notebook shows to ``folder`` as ``<stem>-<n>.png``, n in the order shown."""
    from nbconvert.preprocessors import ExtractOutputPreprocessor

    extractor = ExtractOutputPreprocessor(extract_output_types={"image/png"},
                                          output_filename_template="{cell_index:05d}-{index:03d}{extension}")
    _, resources = extractor.preprocess(nbformat.from_dict(nb), {"outputs": {}})  # on a copy
    paths = []
    for name in sorted(resources["outputs"]):
        path = folder / f"{stem}-{len(paths) + 1}.png"
        path.write_bytes(resources["outputs"][name])
        paths.append(path)
    return paths


def transport_encryption() -> str:
    """How the runner's kernels talk to it: CurveZMQ keys provisioned by the kernel manager
    where pyzmq has CURVE (its wheels do). ipykernel 7.4 warns, on the terminal, for every kernel
    that runs over TCP without them ("Kernel is running over TCP without encryption")."""
    import zmq

    return "auto" if zmq.has("curve") else "disabled"


def _progress_client(log):
    """An nbclient NotebookClient that echoes Keras' epoch lines while a cell runs, and starts its
    kernel with encrypted sockets (:func:`transport_encryption`)."""
    from nbclient import NotebookClient

    class ProgressClient(NotebookClient):
        def create_kernel_manager(self):
            manager = super().create_kernel_manager()
            manager.transport_encryption = transport_encryption()
            return manager

        def output(self, outs, msg, display_id, cell_index):
            if msg["msg_type"] == "stream":
                for part in msg["content"].get("text", "").split("\n"):
                    line = strip_ansi(part.rsplit("\r", 1)[-1]).replace("\b", "").strip()
                    if re.match(r"Epoch \d+/\d+$", line) or "val_accuracy" in line:
                        log(f"      {line}")
            return super().output(outs, msg, display_id, cell_index)

    return ProgressClient


def run_notebook(path: Path, out: Path, figures: Path, *, cell_timeout: int, log=print, where: str = "") -> dict:
    """Execute one notebook into ``out`` (its figures into ``figures``): ``{name, seconds, figures}``;
    :class:`UserError` naming the partly executed copy if a cell fails."""
    from nbclient.exceptions import CellExecutionError, CellTimeoutError, DeadKernelError

    nb = nbformat.read(path, as_version=4)
    code_cells = sum(c.cell_type == "code" for c in nb.cells)
    log(f"{where or path.name}: {code_cells} code cells ...")
    done = {"n": 0}

    def on_cell_start(cell, cell_index):
        if cell.cell_type == "code":
            done["n"] += 1
            first = next((ln for ln in cell.source.splitlines() if ln.strip()), "")[:60]
            log(f"    {path.stem}: cell {done['n']}/{code_cells}: {first}")

    client = _progress_client(log)(nb, timeout=cell_timeout, kernel_name="python3",
                                   resources={"metadata": {"path": str(out)}}, on_cell_start=on_cell_start)
    # The kernel speaks the notebook's language (its metadata), unless $ASL_COURSE_LANG says otherwise.
    language = {i18n.ENV: os.environ.get(i18n.ENV) or i18n.notebook_language(nb)}
    start = time.perf_counter()
    try:
        with mock.patch.dict(os.environ, language):
            client.execute()
    except (CellExecutionError, CellTimeoutError, DeadKernelError) as exc:
        nbformat.write(nb, out / path.name)
        first = str(exc).strip().splitlines()
        raise UserError(
            f"{path.name} failed ({type(exc).__name__}); the partly executed notebook is "
            f"in {out / path.name}. Last lines: " + " | ".join(first[-3:])
        ) from None
    seconds = time.perf_counter() - start
    nb, _ = CoalesceStreamsPreprocessor().preprocess(nb, {})  # one stream, progress bars resolved
    nbformat.write(nb, out / path.name)
    pngs = _figures(nb, path.stem, figures)
    return {"name": path.name, "seconds": round(seconds, 1), "figures": len(pngs)}


def run_notebooks(
    notebooks: list[Path],
    out: Path,
    *,
    fast: bool,
    data_dir: Path,
    cell_timeout: int = 1800,
    log=print,
) -> dict:
    """Execute ``notebooks`` in order; stop at the first failing one with a clear error."""
    out.mkdir(parents=True, exist_ok=True)
    figures = out / "figures"
    figures.mkdir(exist_ok=True)
    settings = mock.patch.dict(os.environ, {
        "TF_CPP_MIN_LOG_LEVEL": "2",  # TensorFlow's start-up chatter would fill the notebooks' outputs
        "ASL_COURSE_FAST": "1" if fast else "0",
        "ASL_COURSE_AUTOMATED": "1",
        "ASL_DATA_DIR": str(data_dir.resolve()),
    })
    report = {
        "data": _data.describe(data_dir),
        "mode": "fast" if fast else "full",
        "notebooks": [],
    }
    with settings:  # the kernels inherit them; this process's environment is restored after
        for index, path in enumerate(notebooks, 1):
            where = f"[{index}/{len(notebooks)}] {path.name}"
            entry = run_notebook(path, out, figures, cell_timeout=cell_timeout, log=log, where=where)
            report["notebooks"].append(entry)
            log(f"{where}: done in {entry['seconds']:.0f} s, {entry['figures']} figures")
    (out / "run.json").write_text(json.dumps(report, indent=2) + "\n")
    return report
