"""In the student's kernel: the hidden test (check) and the repair."""

from __future__ import annotations

import json
import os
import warnings
from pathlib import Path

from .language import t

from .expected import GRADING_DIR_ENV, GradingFailed
from .judging import judge, measure_models, observe
from .nb05_predictions import saved_model_path
from .raw import RECORD_FILE, RUN_PREFIX, record_value, type_name_of
from .refdata import reference
from .registry import exercise


def record(grade_id: str, namespace: dict, folder: Path) -> None:
    """Write the raw values of an exercise into ``folder`` (a run folder, under the autograder)."""
    ex = exercise(grade_id)
    meta: dict = {"grade_id": grade_id, "values": {}}
    missing = [name for name in ex.reads if name not in namespace]
    if missing:
        meta["missing"] = missing
    elif not ex.function:
        for name in ex.reads + ex.records_also:
            if name not in namespace:
                continue
            try:
                meta["values"][name] = record_value(ex, name, namespace[name], namespace, folder)
            except Exception as exc:  # noqa: BLE001 - a value that cannot be written: say so
                meta["values"][name] = {"type": type_name_of(namespace[name]), "kind": "broken",
                                        "error": f"{type(exc).__name__}: {str(exc)[:200]}"}
    if ex.record_files is not None:
        ex.record_files(namespace, folder, meta)
    (folder / RECORD_FILE).write_text(json.dumps(meta))


def _repair(grade_id: str, namespace: dict, ref) -> None:
    ex = exercise(grade_id)
    if ex.repair is not None:
        ex.repair(namespace, ref)


def repair(grade_id: str, namespace: dict) -> None:
    """Put the right values in the namespace after a failed exercise, so that the next exercise is
    graded on its own work. Under the autograder only the autograder calls this, after the
    exercise's raw values have been moved out of the kernel's reach."""
    ref = reference() if exercise(grade_id).needs_reference else None
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        _repair(grade_id, namespace, ref)


# --- Entry points ----------------------------------------------------------------------------------


def artefact_dir(grade_id: str) -> Path | None:
    """A new run folder for one run of an exercise's hidden test (under the autograder)."""
    root = os.environ.get(GRADING_DIR_ENV)
    if not root:
        return None
    folder = Path(root) / "artefacts" / grade_id / f"{RUN_PREFIX}{os.urandom(8).hex()}"
    folder.mkdir(parents=True)
    return folder


def _quiet():
    """Silence Python warnings while grading: a test cell's stderr must not depend on them."""
    catcher = warnings.catch_warnings()
    catcher.__enter__()
    warnings.simplefilter("ignore")
    return catcher


def sentences(mistakes: list[str]) -> str:
    """Mistakes as one message, each a sentence."""
    return " ".join(m.rstrip() if m.rstrip().endswith((".", "?", "!")) else m.rstrip() + "." for m in mistakes)


def check(grade_id: str, namespace: dict) -> None:
    """The hidden test of one exercise, in the student's kernel (see the module's docstring).

    Under the autograder it first records the exercise's raw values for the verifier, then
    judges them here so that the student reads the mistake in the test cell's output; the
    verifier's judgement is the one that scores. Outside the autograder (``nbgrader validate``,
    the tests) a failure also repairs the namespace; under it, the autograder repairs, once the
    raw values are out of the kernel's reach, so that no expected value enters the kernel before.
    """
    catcher = _quiet()
    try:
        ref = reference() if exercise(grade_id).needs_reference else None
        folder = artefact_dir(grade_id)
        if folder is not None:
            record(grade_id, namespace, folder)
        obs = observe(grade_id, namespace, ref, None)
        models = None
        if "missing" not in obs and "broken" not in obs:
            try:
                live = {name: namespace.get(name) for name in exercise(grade_id).reads}
                live.update(model=namespace.get("model"), model_path=saved_model_path(namespace))
                models = measure_models(grade_id, obs, ref, live=live)
            except Exception as exc:  # noqa: BLE001
                models = None
                obs = {"broken": f"{type(exc).__name__}: {str(exc)[:300]}"}
        mistakes = judge(grade_id, obs, ref, models)
        if mistakes and folder is None:
            try:
                _repair(grade_id, namespace, ref)
            except Exception:  # noqa: BLE001 - a repair is a courtesy to the next exercises
                pass
    finally:
        catcher.__exit__(None, None, None)
    if mistakes:
        raise GradingFailed(sentences(mistakes))
    print(t("\u2714 graded: {grade_id} passes", grade_id=grade_id))
