"""Notebook 5 (predictions): observers, judges, model measurements and repairs."""

from __future__ import annotations

import os
import shutil
import tempfile
from pathlib import Path

import numpy as np

from .expected import INPUT_SHAPE, LETTERS, MAX_MODEL_BYTES, MODEL_FILE, NUM_CLASSES, PREPARE_TOLERANCE, PROBE_KINDS, MAX_STORED
from .arrays import array_facts
from .models import predict, save_model, load_saved_model
from .expected import MISSING_LETTERS
from .predictions import observe, pair_mistake
from .language import t


def grader_rng() -> np.random.Generator:
    """Unpredictable inputs for a student's function (a seed the notebook cannot know)."""
    return np.random.default_rng(int.from_bytes(os.urandom(8), "little"))


def probe_picture(pixels: np.ndarray, kind: str):
    """A Pillow picture of one 28x28 image: ``plain`` (28x28 grayscale), ``enlarged`` (224x224
    grayscale) or ``rgb`` (140x140, three equal channels)."""
    from PIL import Image

    base = Image.fromarray(np.asarray(pixels, dtype=np.uint8).reshape(28, 28), "L")
    if kind == "plain":
        return base
    if kind == "enlarged":
        return base.resize((224, 224), Image.Resampling.BICUBIC)
    if kind == "rgb":
        return base.resize((140, 140), Image.Resampling.BICUBIC).convert("RGB")
    raise ValueError(kind)


def _call(fn, *args) -> tuple[object, str | None]:
    """``fn(*args)`` and None, or None and the error it raised, in words."""
    try:
        return fn(*args), None
    except Exception as exc:  # noqa: BLE001 - the student's function failed: say how
        return None, f"{type(exc).__name__}: {str(exc)[:200]}"


def _array_facts(value) -> dict:
    """Shape, dtype and (when small) the values of what a function returned."""
    facts, a = array_facts(value)
    if a is not None and a.dtype.kind in "biuf" and a.size <= MAX_STORED:
        facts["values"] = np.asarray(a, dtype="float64").reshape(-1).tolist()
    return facts


def _copy_model_file(path: Path, folder: Path | None, name: str) -> dict:
    out = {"exists": path.is_file()}
    if out["exists"]:
        out["bytes"] = path.stat().st_size
        if folder is not None and out["bytes"] <= MAX_MODEL_BYTES:
            shutil.copyfile(path, folder / name)
    return out


def saved_model_path(ns: dict) -> Path:
    return Path(ns.get("__model_path__", MODEL_FILE)).absolute()


def obs_load_model(ns, ref, folder):
    model = ns["model"]
    out = {"type": type(model).__name__, "file": _copy_model_file(saved_model_path(ns), folder, "file.keras")}
    if folder is not None:
        out["saved"] = save_model(model, folder / "model.keras")
    return out


def obs_prepare_image(ns, ref, folder):
    fn = ns["prepare_image"]
    if not callable(fn):
        return {"not_callable": type(fn).__name__}
    rows = sorted(int(r) for r in grader_rng().choice(len(ref.x_valid), size=2, replace=False))
    probes = []
    with tempfile.TemporaryDirectory(prefix="asl-grading-") as tmp:
        for row in rows:
            for kind in PROBE_KINDS:
                path = Path(tmp) / f"picture_{row}_{kind}.png"
                probe_picture(ref.x_valid[row], kind).save(path)
                got, error = _call(fn, str(path))
                probes.append({"row": row, "kind": kind, "error": error,
                               "result": None if error else _array_facts(got)})
    return {"probes": probes}


def obs_predict_letter(ns, ref, folder):
    letters = ns["LETTERS"]
    out = {"letters": "".join(letters) if isinstance(letters, (str, list, tuple))
           and all(isinstance(t, str) for t in letters) else repr(letters)[:60],
           "file": _copy_model_file(saved_model_path(ns), folder, "file.keras")}
    fn = ns["predict_letter"]
    if not callable(fn):
        return {**out, "not_callable": type(fn).__name__}
    rows = sorted(int(r) for r in grader_rng().choice(len(ref.x_valid), size=6, replace=False))
    answers = []
    with tempfile.TemporaryDirectory(prefix="asl-grading-") as tmp:
        for row in rows:
            path = Path(tmp) / f"picture_{row}.png"
            probe_picture(ref.x_valid[row], "plain").save(path)
            got, error = _call(fn, str(path))
            answer = {"row": row, "error": error}
            if error is None:
                if isinstance(got, (tuple, list)) and len(got) == 2:
                    letter, prob = got
                    answer["letter"] = letter if isinstance(letter, str) else repr(letter)[:40]
                    answer["letter_is_str"] = isinstance(letter, str)
                    try:
                        answer["probability"] = float(prob)
                    except (TypeError, ValueError):
                        answer["probability"] = None
                else:
                    answer["returned"] = repr(got)[:80]
            answers.append(answer)
    out["answers"] = answers
    return out


def obs_top_k(ns, ref, folder):
    fn = ns["top_k"]
    if not callable(fn):
        return {"not_callable": type(fn).__name__}
    rng = grader_rng()
    cases = []
    for k in (1, 3, 5):
        row = rng.dirichlet(np.ones(NUM_CLASSES))
        got, error = _call(fn, row.copy(), k)
        case = {"k": k, "row": row.tolist(), "error": error}
        if error is None:
            try:
                case["pairs"] = [[str(t), float(p)] for t, p in got][:NUM_CLASSES]
            except (TypeError, ValueError):
                case["returned"] = repr(got)[:80]
        cases.append(case)
    return {"cases": cases}


def obs_accuracy_per_letter(ns, ref, folder):
    fn = ns["accuracy_per_letter"]
    if not callable(fn):
        return {"not_callable": type(fn).__name__}
    rng = grader_rng()
    cases = []
    for _ in range(3):
        cm = rng.integers(0, 40, size=(NUM_CLASSES, NUM_CLASSES))
        cm[np.diag_indices(NUM_CLASSES)] += rng.integers(1, 300, size=NUM_CLASSES)
        got, error = _call(fn, cm.copy())
        cases.append({"cm": cm.tolist(), "error": error, "result": None if error else _array_facts(got)})
    return {"cases": cases}


# --- Notebook 5: judging the prediction functions --------------------------------------------------


def _not_callable(obs, name: str, signature: str) -> list[str]:
    return [t("{name} is a {type}, not a function: define it with def {signature}: ... return ...",
              name=name, type=obs["not_callable"], signature=signature)]


def judge_load_model(obs, ref, models):
    if not obs.get("file", {}).get("exists"):
        return [t("{file} is missing from the notebook's folder: notebook 4 saves it there, and the setup "
                  "cell trains a quick one when it is missing (did a cell delete or move it?)", file=MODEL_FILE)]
    models = models or {}
    if "not_model" in models:
        return [t('model is not a Keras model ({what}): model = keras.models.load_model("{file}")',
                  what=models["not_model"], file=MODEL_FILE)]
    if "same" not in models:
        return [t("the grader could not compare model with the model saved in the file")]
    mistakes = []
    if models.get("input_shape") != list(INPUT_SHAPE) or models.get("output_shape") != [None, NUM_CLASSES]:
        mistakes.append(t("model takes {input_shape} and gives {output_shape}; the lesson's model takes "
                          "(None, 28, 28, 1) images and gives 24 probabilities",
                          input_shape=models.get("input_shape"), output_shape=models.get("output_shape")))
    if not models["same"]:
        mistakes.append(t('model does not predict what the model saved in {file} predicts: load that file, '
                          'model = keras.models.load_model("{file}"), rather than building or training a model',
                          file=MODEL_FILE))
    return mistakes


def prepared_mistake(result: dict, original: np.ndarray, kind: str) -> str | None:
    """What is wrong with prepare_image's result for one picture (None when right)."""
    shape = result.get("shape")
    if "values" not in result:
        return t("it returned a {type} of shape {shape}, not an array of 784 numbers: "
                 "return the prepared pixels, shape (1, 28, 28, 1)", type=result.get("type"), shape=shape)
    if shape and len(shape) >= 3 and shape[-1] == 3:
        return t("it has shape {shape}: 3 colour channels. Convert the picture to grayscale "
                 "(Image.open(path).convert(\"L\")) before resizing", shape=tuple(shape))
    if shape != [1, 28, 28, 1]:
        return t("it has shape {shape}; the model takes a batch of one image, "
                 "(1, 28, 28, 1): resize to 28x28 and reshape with .reshape(1, 28, 28, 1)",
                 shape=tuple(shape) if shape else shape)
    got = np.asarray(result["values"], dtype="float64")
    if result.get("kind") not in ("f",) or float(got.max()) > 1.0 + 1e-6:
        return t("its pixels go up to {top:g}: divide by 255, as the training data was", top=float(got.max()))
    want = np.asarray(original, dtype="float64").reshape(-1) / 255.0
    error = float(np.abs(got - want).mean())
    if float(np.abs(got - (1.0 - want)).mean()) < error / 3:
        return t("its pixels are inverted (1 - x): keep them as they are, only divide by 255")
    if float(got.max()) < 0.05:
        return t("its pixels are nearly all 0: was it divided by 255 twice?")
    if kind == "plain" and error > 1e-6:
        return t("it changes a 28x28 grayscale picture (mean difference {error:.4f}): such a picture only needs "
                 "/ 255 and the reshape", error=error)
    if error > PREPARE_TOLERANCE:
        return t("it is far from the original image (mean difference {error:.3f}): convert to grayscale, "
                 "resize the whole picture to (28, 28) without cropping, divide by 255", error=error)
    return None


def _rows_ok(rows, ref, least: int) -> bool:
    return (len(set(rows)) >= least and all(isinstance(r, int) and 0 <= r < len(ref.x_valid) for r in rows))


def judge_prepare_image(obs, ref, models):
    if "not_callable" in obs:
        return _not_callable(obs, "prepare_image", "prepare_image(path)")
    probes = obs["probes"]
    rows = [p["row"] for p in probes]
    if not _rows_ok(rows, ref, 2) or any({p["kind"] for p in probes if p["row"] == r} != set(PROBE_KINDS)
                                         for r in rows):
        return [t("the grader's measurements of prepare_image are incomplete")]
    for p in probes:
        if p["error"]:
            grayscale_ok = all(not q["error"] for q in probes if q["row"] == p["row"] and q["kind"] != "rgb")
            if p["kind"] == "rgb" and grayscale_ok:
                return [t("prepare_image on a {kind} picture raised {error}: it works on grayscale pictures only; "
                          "convert every picture to grayscale first, Image.open(path).convert(\"L\")",
                          kind=p["kind"], error=p["error"])]
            return [t("prepare_image on a {kind} picture raised {error}", kind=p["kind"], error=p["error"])]
        mistake = prepared_mistake(p["result"], ref.x_valid[p["row"]], p["kind"])
        if mistake:
            return [t("prepare_image on a {kind} picture: {mistake}", kind=p["kind"], mistake=mistake)]
    return []


def judge_predict_letter(obs, ref, models):
    mistakes = []
    if obs["letters"] != LETTERS:
        if "J" in obs["letters"] or "Z" in obs["letters"]:
            mistakes.append(t("LETTERS is {letters!r}; class i is letter i of the 24 static letters, {lesson!r} (J "
                              "and Z need motion, so the data set has neither; with J in the list every letter after "
                              "I is shifted by one)", letters=obs["letters"], lesson=LETTERS))
        else:
            mistakes.append(t("LETTERS is {letters!r}; class i is letter i of the 24 static letters, {lesson!r}",
                              letters=obs["letters"], lesson=LETTERS))
    if not obs.get("file", {}).get("exists"):
        return mistakes + [t("{file} is missing from the notebook's folder (did a cell delete or move it?)",
                             file=MODEL_FILE)]
    if "not_callable" in obs:
        return mistakes + _not_callable(obs, "predict_letter", "predict_letter(path)")
    answers = obs["answers"]
    expected = (models or {}).get("expected")
    if not _rows_ok([a["row"] for a in answers], ref, 6) or not isinstance(expected, dict):
        return mistakes + [t("the grader's measurements of predict_letter are incomplete")]
    for a in answers:
        if a["error"]:
            return mistakes + [t("predict_letter raised {error}", error=a["error"])]
        if "returned" in a:
            return mistakes + [t("predict_letter returned {returned}: return a pair, (letter, probability)",
                                 returned=a["returned"])]
        index, probability = expected[str(a["row"])]
        if not a.get("letter_is_str"):
            return mistakes + [t("predict_letter's letter is {letter}, not a letter: map the class index to "
                                 "its letter with LETTERS[index]", letter=a["letter"])]
        if a["letter"] != LETTERS[index]:
            return mistakes + [t("predict_letter says {letter!r} for a picture the saved model reads as "
                                 "{want!r} (class {index}): index = probabilities.argmax(), letter = "
                                 "LETTERS[index], with the picture prepared by prepare_image",
                                 letter=a["letter"], want=LETTERS[index], index=index)]
        if a.get("probability") is None or abs(a["probability"] - probability) > 1e-3:
            return mistakes + [t("predict_letter's probability is {got}; the saved model gives "
                                 "{probability:.4f} to {letter}: return probabilities[index]",
                                 got=a.get("probability"), probability=probability, letter=LETTERS[index])]
    return mistakes


def judge_top_k(obs, ref, models):
    if "not_callable" in obs:
        return _not_callable(obs, "top_k", "top_k(probabilities, k=3)")
    cases = obs["cases"]
    if sorted(c["k"] for c in cases) != [1, 3, 5]:
        return [t("the grader's measurements of top_k are incomplete")]
    for c in cases:
        k, row = c["k"], np.asarray(c["row"], dtype="float64")
        if row.shape != (NUM_CLASSES,):
            return [t("the grader's measurements of top_k are incomplete")]
        if c["error"]:
            return [t("top_k(probabilities, {k}) raised {error}", k=k, error=c["error"])]
        if "pairs" not in c:
            return [t("top_k returned {returned}: return a list of (letter, probability) pairs", returned=c["returned"])]
        order = np.argsort(-row, kind="stable")[:k]
        want = [LETTERS[i] for i in order]
        got = [letter for letter, _ in c["pairs"]]
        if len(got) != k:
            return [t("top_k(probabilities, {k}) gives {n} pairs: keep the first k of the sorted indices", k=k,
                      n=len(got))]
        if k > 1 and got == want[::-1]:
            return [t("top_k lists the letters in increasing order of probability: np.argsort sorts ascending, "
                      "so reverse it, np.argsort(probabilities)[::-1][:k]")]
        if got != want:
            return [t("top_k(probabilities, {k}) gives {got}; the {k} most likely letters, best first, are {want}",
                      k=k, got=got, want=want)]
        if not np.allclose([p for _, p in c["pairs"]], row[order], atol=1e-6):
            return [t("top_k's probabilities are not the input's: return (LETTERS[i], float(probabilities[i]))")]
    return []


def judge_accuracy_per_letter(obs, ref, models):
    if "not_callable" in obs:
        return _not_callable(obs, "accuracy_per_letter", "accuracy_per_letter(cm)")
    cases = obs["cases"]
    if len(cases) < 3:
        return [t("the grader's measurements of accuracy_per_letter are incomplete")]
    for c in cases:
        cm = np.asarray(c["cm"], dtype="float64")
        if cm.shape != (NUM_CLASSES, NUM_CLASSES) or cm.min() < 0 or np.any(np.diagonal(cm) < 1):
            return [t("the grader's measurements of accuracy_per_letter are incomplete")]
        if c["error"]:
            return [t("accuracy_per_letter(cm) raised {error}", error=c["error"])]
        result = c["result"]
        if "values" not in result or result.get("shape") != [NUM_CLASSES]:
            return [t("accuracy_per_letter(cm) gives a {type} of shape {shape}; expected 24 values, one per letter",
                      type=result.get("type"), shape=tuple(result["shape"]) if result.get("shape") else None)]
        got = np.asarray(result["values"])
        if np.allclose(got, np.diagonal(cm) / cm.sum(axis=0)):
            return [t("accuracy_per_letter divides by the column sums (the images *predicted* as each letter); "
                      "rows are the true letters: cm.diagonal() / cm.sum(axis=1)")]
        if not np.allclose(got, np.diagonal(cm) / cm.sum(axis=1)):
            return [t("accuracy_per_letter(cm) is not each letter's right predictions over its images: "
                      "cm.diagonal() / cm.sum(axis=1)")]
    return []


def _file_model(obs, live, load):
    """The model in the file notebook 5 loads (None when there is no file)."""
    if not obs.get("file", {}).get("exists"):
        return None
    return load_saved_model(live["model_path"]) if live else load("file.keras")


def measure_load_model(obs, ref, live, load, seed):
    """The loaded model against the file's: same input and output shapes, same predictions."""
    import keras

    out: dict = {}
    file_model = _file_model(obs, live, load)
    if file_model is None:
        return out
    if live:
        model = live["model"]
        if not isinstance(model, keras.Model):
            return {"not_model": f"a {type(model).__name__}"}
    elif obs.get("saved"):
        return {"not_model": str(obs["saved"])[:200]}
    else:
        model = load("model.keras")
    try:
        out["input_shape"] = [None if d is None else int(d) for d in model.input_shape]
        out["output_shape"] = [None if d is None else int(d) for d in model.output_shape]
    except Exception:  # noqa: BLE001
        out["input_shape"] = out["output_shape"] = None
    if out["input_shape"] == list(INPUT_SHAPE):
        sample = ref.valid_images()[:256]
        mine, theirs = predict(model, sample), predict(file_model, sample)
        out["same"] = bool(mine.shape == theirs.shape and np.allclose(mine, theirs, atol=1e-5))
    else:
        out["same"] = False
    return out


def measure_predict_letter(obs, ref, live, load, seed):
    """The file model's answers for the probes predict_letter was asked about."""
    out: dict = {}
    file_model = _file_model(obs, live, load)
    if file_model is None:
        return out
    rows = [a.get("row") for a in obs.get("answers", [])]
    if not _rows_ok(rows, ref, 1):
        return out
    images = (ref.x_valid[rows] / 255.0).reshape(-1, 28, 28, 1).astype("float32")
    probabilities = predict(file_model, images)
    out["expected"] = {str(r): [int(p.argmax()), float(p.max())] for r, p in zip(rows, probabilities)}
    return out


def prepare_picture(path) -> np.ndarray:
    """The grader's own preparation of a picture file: grayscale, 28x28, / 255, (1, 28, 28, 1)."""
    from PIL import Image

    with Image.open(path) as image:
        pixels = np.asarray(image.convert("L").resize((28, 28)), dtype="float32") / 255
    return pixels.reshape(1, 28, 28, 1)


def top_letters(probabilities, k: int = 3) -> list[tuple[str, float]]:
    """The grader's own top-k: the k most likely letters, best first."""
    row = np.asarray(probabilities, dtype="float64").reshape(-1)
    return [(LETTERS[i], float(row[i])) for i in np.argsort(-row, kind="stable")[:k]]


def record_load_model(namespace, folder, meta):
    """The model file the notebook loads (a copy), to compare with the model it loaded."""
    _copy_model_file(saved_model_path(namespace), folder, "file.keras")


def load_model_from_record(meta, folder):
    model = meta["values"].get("model", {})
    return {"type": model.get("type"), "file": {"exists": (folder / "file.keras").is_file()},
            "saved": model.get("error") if model.get("kind") == "model" else f"{model.get('type')} is not a Keras model"}


# --- Repairs: the grader's own functions -----------------------------------------------------------


def repair_load_model(ns, ref):
    path = saved_model_path(ns)
    if path.is_file():
        ns["model"] = load_saved_model(path)


def repair_prepare_image(ns, ref):
    ns["prepare_image"] = prepare_picture


def repair_predict_letter(ns, ref):
    ns["LETTERS"] = LETTERS
    model, prepare = ns.get("model"), ns.get("prepare_image", prepare_picture)

    def predict_letter(path):
        probabilities = np.asarray(model.predict(prepare(path), verbose=0))[0]
        return LETTERS[int(probabilities.argmax())], float(probabilities.max())

    ns["predict_letter"] = predict_letter


def repair_top_k(ns, ref):
    ns["top_k"] = top_letters


def repair_accuracy_per_letter(ns, ref):
    ns["accuracy_per_letter"] = lambda cm: np.diagonal(cm) / np.asarray(cm).sum(axis=1)


# --- Thinking: which pair of letters will the model confuse most? (predict_confusion) ---------------


def confusion_pair_mistake(value, type_name: str) -> tuple[str, str] | None:
    """Stated once: the hidden test's judge and the self-check say these words. Which pairs a model
    confuses depends on its training, so the guess is graded as a pair that can be checked (two
    different letters of the course); the self-check compares it with the model's mistakes."""

    return pair_mistake(value, type_name, LETTERS, MISSING_LETTERS)


def obs_prediction(ns, ref, folder):

    return observe(ns)


def judge_predict_confusion(obs, ref, models):
    mistake = confusion_pair_mistake(obs["value"], obs["type"])
    return [f"{mistake[0]}; {mistake[1]}"] if mistake else []
