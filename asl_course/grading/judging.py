"""Observe, judge and re-measure one exercise through its registry declaration (the same code
in the kernel and in the verifier)."""

from __future__ import annotations

import warnings
from pathlib import Path

from .language import lookup, t

from .expected import MAX_MODEL_BYTES, GradingFailed
from .refdata import Reference
from .registry import exercise


def observe(grade_id: str, namespace: dict, ref: Reference, folder: Path | None = None) -> dict:
    """Measure what an exercise produced (in the kernel); write model files into ``folder``."""
    ex = exercise(grade_id)
    missing = [name for name in ex.reads if name not in namespace]
    if missing:
        return {"missing": missing}
    try:
        return ex.observe(namespace, ref, folder)
    except Exception as exc:  # noqa: BLE001 - a strange value: say what broke
        return {"broken": f"{type(exc).__name__}: {str(exc)[:300]}"}


def judge(grade_id: str, obs: dict, ref: Reference, models: dict | None = None) -> list[str]:
    """The mistakes in an observation (empty: the exercise is right).

    ``models`` holds what the caller measured on real model objects (descriptions,
    iterations, re-measured accuracy, prediction agreement); without it the model
    exercises are judged on the observation alone, and accuracy is not judged.
    """
    ex = exercise(grade_id)
    if "missing" in obs:
        return [not_defined(obs["missing"], ex.hint)]
    if "broken" in obs:
        return [t("the grader could not read the exercise's values ({broken})", broken=obs["broken"])]
    try:
        return ex.judge(obs, ref, models)
    except (KeyError, TypeError, ValueError, AttributeError) as exc:
        return [t("the exercise's values are not what the grader expects ({error})",
                  error=f"{type(exc).__name__}: {str(exc)[:200]}")]


def not_defined(missing: list[str], hint: str = "") -> str:
    """The hidden test's word for names the notebook does not define, with the exercise's hint
    (what usually stops its cell; in the learner's language)."""
    names = ", ".join(missing)
    if hint and len(missing) == 1:
        return t("{names} is not defined: did the exercise's cell run without an error? ({hint})",
                 names=names, hint=lookup(hint))
    if hint:
        return t("{names} are not defined: did the exercise's cell run without an error? ({hint})",
                 names=names, hint=lookup(hint))
    if len(missing) == 1:
        return t("{names} is not defined: did the exercise's cell run without an error?", names=names)
    return t("{names} are not defined: did the exercise's cell run without an error?", names=names)


def measure_models(grade_id: str, obs: dict, ref: Reference, *, live: dict | None = None,
                   folder: Path | None = None, seed: int | None = None) -> dict | None:
    """Re-measure the models of an exercise: from live objects (``live``) or saved files (``folder``)."""
    ex = exercise(grade_id)
    if ex.measure is None or "missing" in obs or "broken" in obs:
        return None
    import keras

    def load(name, compile=False):
        path = folder / name
        if not path.is_file() or path.stat().st_size > MAX_MODEL_BYTES:
            raise GradingFailed(t("the grader's copy of the model ({name}) is missing", name=name))
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            return keras.models.load_model(path, compile=compile, safe_mode=True)

    return ex.measure(obs, ref, live, load, seed)
