"""Measuring values: canonical digests and facts of arrays (the same in the kernel and the verifier)."""

from __future__ import annotations

import hashlib

import numpy as np


# --- Measuring values (canonical digests, facts) ------------------------------------------------


def sha(a: np.ndarray) -> str:
    return hashlib.sha256(memoryview(np.ascontiguousarray(a))).hexdigest()


def array_facts(value) -> tuple[dict, np.ndarray | None]:
    """Type, dtype, shape, min and max of a value, and the value as an array (None if it is not one)."""
    facts = {"type": type(value).__name__}
    if value is None:
        return facts, None
    try:
        a = value.to_numpy() if hasattr(value, "to_numpy") else np.asarray(value)
    except Exception as exc:  # noqa: BLE001 - anything that is not array-like
        facts["error"] = f"{type(exc).__name__}"
        return facts, None
    if a.dtype == object:
        facts.update(dtype="object", shape=list(a.shape))
        return facts, None
    facts.update(dtype=str(a.dtype), kind=a.dtype.kind, shape=list(a.shape))
    if a.size and a.dtype.kind in "biuf":
        facts.update(min=float(np.min(a)), max=float(np.max(a)))
    return facts, a


def _chunks(a: np.ndarray, rows: int = 2048):
    for start in range(0, len(a), rows):
        yield a[start:start + rows]


def int_digest(a: np.ndarray) -> str | None:
    """sha256 of the values as uint8 when they are all integers in 0..255 (else None)."""
    if a is None or a.dtype.kind not in "biuf" or a.ndim == 0:
        return None
    digest = hashlib.sha256()
    for part in _chunks(a):
        if part.dtype.kind == "f":
            if not np.array_equal(part, np.rint(part)):
                return None
        if part.size and (part.min() < 0 or part.max() > 255):
            return None
        digest.update(memoryview(np.ascontiguousarray(part, dtype=np.uint8)))
    return digest.hexdigest()


def scaled_digest(a: np.ndarray) -> tuple[str | None, float]:
    """sha256 of round(a * 255) as uint8 when a is k/255 for integers k in 0..255, and the
    largest distance of a * 255 from an integer."""
    if a is None or a.dtype.kind != "f" or a.ndim == 0:
        return None, float("inf")
    digest, worst = hashlib.sha256(), 0.0
    for part in _chunks(a.reshape(len(a), -1) if a.ndim > 1 else a):
        q = part.astype(np.float64) * 255.0
        r = np.rint(q)
        if part.size:
            worst = max(worst, float(np.max(np.abs(q - r))))
            if r.min() < 0 or r.max() > 255:
                return None, worst
        digest.update(memoryview(np.ascontiguousarray(r, dtype=np.uint8)))
    return (digest.hexdigest() if worst <= 1e-3 else None), worst


def onehot_facts(a: np.ndarray) -> dict:
    if a is None or a.ndim != 2 or a.dtype.kind not in "biuf" or not a.size:
        return {}
    return {
        "onehot": bool(np.isin(a, (0, 1)).all() and np.allclose(a.sum(axis=1), 1)),
        "argmax": sha(np.ascontiguousarray(a.argmax(axis=1), dtype=np.uint8)),
        "top_class": int(a.argmax(axis=1).max()),
    }
