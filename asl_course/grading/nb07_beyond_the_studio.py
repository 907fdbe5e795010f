"""Notebook 7 (hands the data set never showed): observers, judges and repairs.

- ``family_split``: ``train_rows``, ``valid_rows`` judged from the raw arrays against the
  grader's *own* families of the reference training images (:func:`grader_families`: cosine of
  centred pixels >= :data:`FAMILY_THRESHOLD`, connected groups), never the notebook's ``family``.
- ``predict_lookup``: a fixed choice (what a 1-nearest-neighbour lookup scores on a random split).
- ``low_contrast``: a function, called on the grader's own images (in the kernel, and by the
  verifier in its sandbox, like notebook 5's functions) and compared with :func:`contrast_reference`.
"""

from __future__ import annotations

import sys

import numpy as np

from .arrays import array_facts
from .language import t
from .nb05_predictions import grader_rng
from .predictions import choice_mistake, observe

#: Two training images are of one photo at this cosine of centred pixels (as ``dataset.families``).
FAMILY_THRESHOLD = 0.97
#: The share of the images a family split holds out may lie in this range.
VALID_SHARE = (0.15, 0.25)
#: Factors the grader calls low_contrast with (one above 1, where clipping matters).
CONTRAST_FACTORS = (0.4, 1.6)
#: Images per call.
CONTRAST_IMAGES = 6
CONTRAST_TOLERANCE = 1e-5
NUM_LETTERS = 24
_BLOCK = 2048


# --- family_split ------------------------------------------------------------------------------------


def grader_families(pixels: np.ndarray) -> np.ndarray:
    """The grader's families of ``pixels`` (N, 784): connected groups at cosine >= the threshold."""
    from scipy.sparse import coo_matrix
    from scipy.sparse.csgraph import connected_components

    x = np.asarray(pixels, dtype=np.float32).reshape(len(pixels), -1)
    x = x - x.mean(axis=1, keepdims=True)
    norms = np.linalg.norm(x, axis=1, keepdims=True)
    x = x / np.where(norms == 0, 1.0, norms)
    rows, cols = [], []
    for start in range(0, len(x), _BLOCK):
        r, c = np.nonzero(x[start:start + _BLOCK] @ x.T >= FAMILY_THRESHOLD)
        rows.append(r + start)
        cols.append(c)
    r, c = np.concatenate(rows), np.concatenate(cols)
    graph = coo_matrix((np.ones(len(r), dtype=np.int8), (r, c)), shape=(len(x), len(x)))
    return connected_components(graph, directed=False)[1]


def reference_families(ref) -> np.ndarray:
    """:func:`grader_families` of the reference training images, computed once per process."""
    shared = sys.modules.setdefault("_asl_grading_cache", type(sys)("_asl_grading_cache")).__dict__
    key = ("families", ref.digest("x_train"))
    if key not in shared:
        shared[key] = grader_families(ref.x_train)
    return shared[key]


def rows_facts(value, n: int) -> dict:
    """What a row index array is: its type, dtype kind, shape, whether its values are rows of ``n``."""
    facts, a = array_facts(value)
    if a is None:
        return {"type": type(value).__name__}
    out = {"type": type(value).__name__, "kind": a.dtype.kind, "shape": list(a.shape), "size": int(a.size)}
    if a.dtype.kind in "iu" and a.ndim == 1:
        out["in_range"] = bool(a.size == 0 or (int(a.min()) >= 0 and int(a.max()) < n))
        out["repeats"] = int(a.size - np.unique(a).size)
    return out


def split_facts(train_rows, valid_rows, family: np.ndarray, labels: np.ndarray) -> dict:
    """The facts the judge reads: the arrays' kinds and, when they are row indices, how they split."""
    n = len(family)
    facts = {"n": n, "train": rows_facts(train_rows, n), "valid": rows_facts(valid_rows, n)}
    if not all(f.get("in_range") for f in (facts["train"], facts["valid"])):
        return facts
    train, valid = np.asarray(train_rows).astype(np.int64), np.asarray(valid_rows).astype(np.int64)
    both = np.intersect1d(train, valid)
    covered = np.union1d(train, valid)
    shared = np.intersect1d(family[train], family[valid])
    facts.update(overlap=int(both.size), not_covered=int(n - covered.size),
                 valid_share=float(np.unique(valid).size / n), shared_families=int(shared.size),
                 families=int(np.unique(family).size),
                 letters_held_out=int(np.unique(labels[valid]).size),
                 letters_trained=int(np.unique(labels[train]).size))
    return facts


def obs_family_split(ns, ref, folder):
    return split_facts(ns["train_rows"], ns["valid_rows"], reference_families(ref), np.asarray(ref.y_train))


def rows_mistake(name: str, facts: dict, n: int) -> tuple[str, str] | None:
    """What is wrong with one of the two arrays as an array of row numbers (None: nothing)."""
    kind = facts.get("kind")
    if kind is None:
        return (t("{name} is a {type}, not an array", name=name, type=facts["type"]),
                t("make it an integer array of row numbers, np.flatnonzero(...) or np.concatenate([...])"))
    if kind == "b":
        return (t("{name} is a boolean mask, not row numbers", name=name),
                t("turn the mask into row numbers with np.flatnonzero(mask)"))
    if kind == "f":
        return (t("{name} holds floats", name=name),
                t("row numbers are integers: .astype(int), or build them with np.flatnonzero / np.isin"))
    if kind not in "iu" or len(facts.get("shape", [])) != 1:
        return (t("{name} has dtype kind {kind!r} and shape {shape}", name=name, kind=kind,
                  shape=tuple(facts.get("shape", []))),
                t("make it a one-dimensional integer array of row numbers"))
    if not facts.get("in_range"):
        return (t("{name} has numbers outside 0..{last}", name=name, last=n - 1),
                t("use the rows of the training images, 0 to len(family) - 1"))
    return None


def split_mistakes(facts: dict) -> list[tuple[str, str]]:
    """Each mistake of a family split, with its fix (empty: right). Stated once: the judge and the self-check."""
    n = facts["n"]
    for name in ("train_rows", "valid_rows"):
        mistake = rows_mistake(name, facts[name.split("_")[0]], n)
        if mistake:
            return [mistake]
    found = []
    if facts["overlap"]:
        found.append((t("{count} rows are in both train_rows and valid_rows", count=facts["overlap"]),
                      t("each image goes to one side: train_rows = the rows whose family is not held out")))
    if facts["train"]["repeats"] or facts["valid"]["repeats"]:
        found.append((t("a row appears twice in one of the arrays"),
                      t("list each row once (np.unique, or np.flatnonzero of a mask)")))
    if facts["not_covered"]:
        found.append((t("{count} images are in neither array", count=facts["not_covered"]),
                      t("every image goes to one side: the held-out families' rows, and all the others")))
    if facts["shared_families"]:
        found.append((t("{count} families have images on both sides: the split cuts families (did you draw rows, "
                        "not families?)", count=facts["shared_families"]),
                      t("choose whole families, held = the chosen family numbers, valid = np.isin(family, held)")))
    low, high = VALID_SHARE
    if not low <= facts["valid_share"] <= high:
        found.append((t("valid_rows holds {share:.0%} of the images", share=facts["valid_share"]),
                      t("hold out about 20 % of each letter's images ({low:.0%} to {high:.0%} in all)",
                        low=low, high=high)))
    if facts["letters_held_out"] < NUM_LETTERS or facts["letters_trained"] < NUM_LETTERS:
        found.append((t("only {held} letters are held out and {trained} trained on",
                        held=facts["letters_held_out"], trained=facts["letters_trained"]),
                      t("choose families letter by letter, so that every letter is on both sides")))
    return found


def judge_family_split(obs, ref, models):
    return [f"{m}; {fix}" for m, fix in split_mistakes(obs)]


def repair_family_split(ns, ref):
    family, labels = reference_families(ref), np.asarray(ref.y_train)
    rng = np.random.default_rng(0)
    held = []
    for letter in np.unique(labels):
        numbers = rng.permutation(np.unique(family[labels == letter]))
        sizes = np.array([(family == f).sum() for f in numbers])
        take = int(np.searchsorted(np.cumsum(sizes), 0.2 * sizes.sum())) + 1
        held.extend(numbers[:take].tolist())
    valid = np.isin(family, held)
    ns["train_rows"], ns["valid_rows"] = np.flatnonzero(~valid), np.flatnonzero(valid)


# --- Think first: a lookup table on a random split (predict_lookup) -----------------------------------

LOOKUP_OPTIONS = ("about 0.83, like the test file", "about 0.95", "about 1.00")
LOOKUP_ANSWER = "about 1.00"


def lookup_mistake(value, type_name: str) -> tuple[str, str] | None:
    """Stated once: the hidden test's judge and the self-check say these words."""
    options = {
        LOOKUP_OPTIONS[0]: t("that is what the lookup scores on the test file, other photos; a random split's "
                             "held-out images are near-copies of training images"),
        LOOKUP_OPTIONS[1]: t("a lookup misses only when no near-copy is left in the training part, and a family "
                             "of about 20 images almost always keeps one"),
        LOOKUP_OPTIONS[2]: t("right"),
    }
    why = t("each held-out image of a random split has a near-copy of its own photo among the training images "
            "(median nearest cosine 0.9999), so a lookup table, which learns nothing, scores about 1.00: a random "
            "split measures memory")
    return choice_mistake(value, type_name, options, LOOKUP_ANSWER, why)


def obs_prediction(ns, ref, folder):
    return observe(ns)


def judge_predict_lookup(obs, ref, models):
    mistake = lookup_mistake(obs["value"], obs["type"])
    return [f"{mistake[0]}; {mistake[1]}"] if mistake else []


# --- low_contrast ------------------------------------------------------------------------------------


def contrast_reference(images, factor: float) -> np.ndarray:
    """The grader's own low contrast: each image's deviations from its own mean times ``factor``, clipped."""
    x = np.asarray(images)
    mean = x.mean(axis=tuple(range(1, x.ndim)), keepdims=True)
    return np.clip(mean + factor * (x - mean), 0.0, 1.0).astype(x.dtype)


def contrast_probes(ref) -> np.ndarray:
    """Prepared float32 test images (N, 28, 28, 1) in 0..1, chosen unpredictably."""
    rows = np.sort(grader_rng().choice(len(ref.x_valid), size=CONTRAST_IMAGES, replace=False))
    return (ref.x_valid[rows] / 255.0).reshape(-1, 28, 28, 1).astype("float32")


def contrast_case(fn, images: np.ndarray, factor: float) -> dict:
    """One call of the learner's function, described against the reference and its near-misses."""
    given = images.copy()
    try:
        got = fn(given, factor)
    except Exception as exc:  # noqa: BLE001 - the student's function failed: say how
        return {"factor": factor, "error": f"{type(exc).__name__}: {str(exc)[:200]}"}
    facts, a = array_facts(got)
    case = {"factor": factor, "error": None, "type": type(got).__name__, "changed_input":
            bool(not np.array_equal(given, images))}
    if a is None or a.dtype.kind not in "biuf":
        return case
    case.update(shape=list(a.shape), dtype=str(a.dtype))
    if a.shape != images.shape:
        return case
    a = a.astype("float64")
    x = images.astype("float64")
    mean = x.mean(axis=(1, 2, 3), keepdims=True)
    near = {"right": contrast_reference(x, factor),
            "batch_mean": np.clip(x.mean() + factor * (x - x.mean()), 0, 1),
            "no_clip": mean + factor * (x - mean),
            "pixels": np.clip(factor * x, 0, 1)}
    case["errors"] = {k: float(np.abs(a - v).max()) for k, v in near.items()}
    return case


def obs_low_contrast(ns, ref, folder):
    fn = ns["low_contrast"]
    if not callable(fn):
        return {"not_callable": type(fn).__name__}
    images = contrast_probes(ref)
    return {"cases": [contrast_case(fn, images, f) for f in CONTRAST_FACTORS]}


def contrast_mistake(case: dict) -> tuple[str, str] | None:
    """What is wrong with one call (None: right). Stated once: the judge and the self-check."""
    factor = case["factor"]
    if case["error"]:
        return (t("low_contrast(images, {factor}) raised {error}", factor=factor, error=case["error"]),
                t("it takes a float array (N, 28, 28, 1) and a number"))
    if "shape" not in case:
        return (t("low_contrast returned a {type}, not an array of images", type=case["type"]),
                t("return the changed images, an array of the input's shape"))
    if case["changed_input"]:
        return (t("low_contrast changed the images it was given"),
                t("work on a new array (images - mean is one): the caller still needs its originals"))
    if case["shape"] != [CONTRAST_IMAGES, 28, 28, 1]:
        return (t("low_contrast returned shape {shape} for {n} images of (28, 28, 1)", shape=tuple(case["shape"]),
                  n=CONTRAST_IMAGES), t("keep the input's shape: compute the mean with keepdims=True"))
    if case["dtype"] != "float32":
        return (t("low_contrast returned {dtype} for float32 images", dtype=case["dtype"]),
                t("keep the input's dtype: .astype(images.dtype)"))
    errors = case["errors"]
    if errors["right"] <= CONTRAST_TOLERANCE:
        return None
    hints = {
        "batch_mean": (t("it pulls towards the mean of the whole batch, not each image's own mean"),
                       t("one mean per image: images.mean(axis=(1, 2, 3), keepdims=True)")),
        "no_clip": (t("with factor {factor} its pixels leave 0..1", factor=factor),
                    t("clip the result to 0..1 with np.clip")),
        "pixels": (t("it multiplies the pixels by the factor: the picture gets darker, not flatter"),
                   t("multiply the deviations from the mean: mean + factor * (images - mean)")),
    }
    for name, words in hints.items():
        if errors[name] <= CONTRAST_TOLERANCE:
            return words
    return (t("low_contrast(images, {factor}) differs from the expected images by up to {error:.3g}", factor=factor,
              error=errors["right"]),
            t("mean + factor * (images - mean), one mean per image, clipped to 0..1, same dtype"))


def judge_low_contrast(obs, ref, models):
    if "not_callable" in obs:
        return [t("low_contrast is a {type}, not a function: define it with def low_contrast(images, factor): "
                  "... return ...", type=obs["not_callable"])]
    cases = obs.get("cases", [])
    if sorted(c.get("factor") for c in cases) != sorted(CONTRAST_FACTORS):
        return [t("the grader's measurements of low_contrast are incomplete")]
    for case in cases:
        mistake = contrast_mistake(case)
        if mistake:
            return [f"{mistake[0]}; {mistake[1]}"]
    return []


def repair_low_contrast(ns, ref):
    ns["low_contrast"] = contrast_reference
