"""The autograder's verifier process: re-judges exercises outside the student's kernel.

Started by :class:`asl_course.grading.plugins.autograder.GradingSession` before the first submission runs
(``python -I``, from a snapshot of the course package), it loads the grading code and the
reference data once, then answers one JSON request per line on stdin with
``{"mistakes": [...]}`` (or ``{"error": ...}``) on stdout. A request is
``{"grade_id", "folder"}`` (the exercise's secured runs: raw values the verifier measures
itself), plus ``"seed"`` for test_fit (the initialisation the autograder gave the model), or,
for notebook 5's functions, ``"cells"`` (the notebook's answer cells) and ``"model_file"``: the
verifier runs those cells in a fresh sandbox (:mod:`asl_course.grading.plugins.harness`) and calls the functions
on inputs it chooses. Nothing a submission does in its kernel reaches this process's memory.
"""

from __future__ import annotations

import json
import os
import sys
import threading
from pathlib import Path

import asl_course
from asl_course import grading, i18n
from asl_course.grading.plugins import harness


def _warm() -> None:
    try:
        import keras  # noqa: F401 - import TensorFlow while the first notebook runs
    except Exception:  # noqa: BLE001
        pass


_HARNESS: dict = {}


def _functions(cells: list[str], model_file: str | None) -> dict:
    """Notebook 5's functions from a fresh sandbox running its answer cells (one per notebook:
    kept while the requests are for the same cells and model file)."""
    key = json.dumps([cells, model_file])
    if _HARNESS.get("key") != key:
        old = _HARNESS.pop("harness", None)
        if old is not None:
            old.close()
        package = Path(asl_course.__file__).resolve().parent.parent  # the folder holding asl_course/
        _HARNESS.update(key=key, harness=harness.Harness(cells, Path(model_file) if model_file else None, package))
    names = {name for gid in grading.FUNCTION_EXERCISES for name in grading.READS[gid]}
    return _HARNESS["harness"].functions(names)


def main() -> None:
    # The protocol owns the real stdout; anything else printed goes to stderr (the log).
    protocol = os.fdopen(os.dup(1), "w", buffering=1)
    os.dup2(2, 1)
    sys.stdout = sys.stderr
    reference = grading.load_reference_npz(sys.argv[1])
    threading.Thread(target=_warm, daemon=True).start()
    for line in sys.stdin:
        try:
            request = json.loads(line)
            functions = None
            os.environ[i18n.ENV] = i18n.valid(request.get("lang")) or i18n.SOURCE_LANGUAGE  # the mistakes' words
            if request["grade_id"] in grading.FUNCTION_EXERCISES and "cells" in request:
                functions = _functions(request["cells"], request.get("model_file"))
            mistakes = grading.verify(request["grade_id"], request["folder"], reference,
                                      seed=request.get("seed"), functions=functions)
            reply = {"mistakes": [str(m) for m in mistakes]}
        except BaseException as exc:  # noqa: BLE001 - answer every request
            reply = {"error": f"{type(exc).__name__}: {str(exc)[:300]}"}
        protocol.write(json.dumps(reply) + "\n")
        protocol.flush()


if __name__ == "__main__":
    main()
