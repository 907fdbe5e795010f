"""Outside the kernel: the verifier's judgement of one exercise."""

from __future__ import annotations

import json
import os
from pathlib import Path

from .language import t

from .judging import judge, measure_models, observe
from .raw import RECORD_FILE, RUN_PREFIX, rebuild
from .refdata import Reference
from .registry import exercise


def observe_record(grade_id: str, folder: Path, ref: Reference) -> dict:
    """The verifier's own measurement of an exercise, from the raw values in a run folder."""
    ex = exercise(grade_id)
    meta = json.loads((folder / RECORD_FILE).read_text())
    if not isinstance(meta, dict) or meta.get("grade_id") != grade_id:
        raise ValueError("a record of another exercise")
    if meta.get("missing"):
        return {"missing": [str(m) for m in meta["missing"]][:10]}
    values = meta.setdefault("values", {})
    broken = [f"{n}: {e.get('error')}" for n, e in values.items() if e.get("kind") == "broken"]
    if broken:
        return {"broken": "; ".join(broken)[:300]}
    if ex.from_record is not None:
        return ex.from_record(meta, folder)
    ns = {name: rebuild(entry, folder, name) for name, entry in values.items()}
    return observe(grade_id, ns, ref, None)


def runs(folder: str | os.PathLike) -> list[Path]:
    """The run folders of one exercise's hidden test (one per run)."""
    folder = Path(folder)
    return sorted(p for p in folder.glob(f"{RUN_PREFIX}*") if p.is_dir()) if folder.is_dir() else []


def verify(grade_id: str, folder: str | os.PathLike, ref: Reference, *, seed: int | None = None,
           functions: dict | None = None) -> list[str]:
    """The verifier's judgement of one exercise (outside the kernel).

    ``folder`` holds the runs of the exercise's hidden test; exactly one run must be there (a test
    that ran twice is void). The verifier rebuilds the raw values and measures them itself.
    ``seed``: the initialisation the autograder gave notebook 4's model (test_fit). ``functions``:
    notebook 5's functions, called on the verifier's own inputs (:mod:`asl_course.grading.plugins.harness`).
    """
    ex = exercise(grade_id)
    if ex.function and functions is not None:
        return _verify_functions(grade_id, functions, ref)
    found = runs(folder)
    if not found:
        return [t("the grader's measurements of this exercise are missing: the hidden test did not run to its "
                  "end (was the test cell or the kernel's state changed?)")]
    if len(found) > 1:
        return [t("the hidden test of this exercise ran {runs} times: a test that runs more than once is "
                  "void (run each cell once, from the top)", runs=len(found))]
    run = found[0]
    try:
        obs = observe_record(grade_id, run, ref)
    except (OSError, ValueError, KeyError, TypeError, AttributeError) as exc:
        return [t("the grader's measurements of this exercise are not what the hidden test writes ({error})",
                  error=type(exc).__name__)]
    refusal = ex.refused(obs) if ex.refused is not None else None
    if refusal:
        return [refusal]
    try:
        models = measure_models(grade_id, obs, ref, folder=run, seed=seed)
    except Exception as exc:  # noqa: BLE001
        return [t("the grader could not load the exercise's model ({error})",
                  error=f"{type(exc).__name__}: {str(exc)[:200]}")]
    if ex.measured is not None:
        early = ex.measured(obs, models)
        if early:
            return early
    return judge(grade_id, obs, ref, models)


def _verify_functions(grade_id: str, functions: dict, ref: Reference) -> list[str]:
    """Notebook 5: the functions as the verifier's sandbox holds them (``functions``: the names the
    answer cells defined, as callables into the sandbox, and ``__model_path__``)."""
    ns = dict(functions)
    obs = observe(grade_id, ns, ref, None)
    models = None
    ex = exercise(grade_id)
    if ex.measure is not None and "missing" not in obs and "broken" not in obs:
        obs["file"] = {"exists": Path(ns["__model_path__"]).is_file()}
        try:
            models = ex.measure(obs, ref, {"model_path": ns["__model_path__"]}, None, None)
        except Exception as exc:  # noqa: BLE001
            return [t("the grader could not load the model file ({error})",
                      error=f"{type(exc).__name__}: {str(exc)[:200]}")]
    return judge(grade_id, obs, ref, models)
