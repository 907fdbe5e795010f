"""Notebook 4 (train and save): observers, judges, model measurements and repairs."""

from __future__ import annotations

import math
import shutil
from pathlib import Path

import numpy as np

from .expected import (BATCH_SIZE, HISTORY_TOLERANCE, MAX_MODEL_BYTES, MIN_DESCENT, MIN_MOVED, MIN_VAL_ACCURACY,
                       MIN_VAL_ACCURACY_STANDIN)
from .nb01_prepare_data import said
from .models import predict, save_model, descent, describe_model, load_saved_model, model_mistakes
from .raw import CompiledModel, compile_config
from .refdata import grading_mode, plan
from .expected import RELEASE_TRAIN_IMAGES
from .language import t
from .predictions import count_mistake, observe


def obs_compile(ns, ref, folder):
    model = ns["model"]
    out = {"compiled": bool(getattr(model, "compiled", False))}
    try:
        cfg = model.get_compile_config() or {}
    except Exception:  # noqa: BLE001
        cfg = {}
    loss = cfg.get("loss")
    if isinstance(loss, dict):
        out["from_logits"] = bool(loss.get("config", {}).get("from_logits"))
        loss = loss.get("config", {}).get("name") or loss.get("class_name")
    out["loss"] = None if loss is None else str(loss)
    out["metrics"] = [str(m.get("class_name") if isinstance(m, dict) else m) for m in (cfg.get("metrics") or [])]
    opt = cfg.get("optimizer")
    out["optimizer"] = opt.get("class_name") if isinstance(opt, dict) else (None if opt is None else str(opt))
    return out


def obs_steps(ns, ref, folder):
    steps, it = ns["steps_per_epoch"], ns["img_iter"]
    out = {"steps_type": type(steps).__name__,
           "steps": float(steps) if isinstance(steps, (int, float, np.integer, np.floating)) and not isinstance(steps, bool) else None,
           "batch_size": ns["batch_size"] if isinstance(ns["batch_size"], int) else repr(ns["batch_size"])[:40],
           "iter_batch_size": getattr(it, "batch_size", None),
           "iter_images": len(getattr(it, "x", [])) if hasattr(getattr(it, "x", None), "__len__") else None}
    return out


def history_facts(history) -> dict:
    """What :func:`history_mistake` reads of ``history``: its type, whether it is a Keras
    ``History``, and the figures it holds (None: it holds none)."""
    import keras

    out = {"history_type": f"{type(history).__module__}.{type(history).__qualname__}",
           "is_history": isinstance(history, keras.callbacks.History) and type(history).__qualname__ == "History"}
    hist = getattr(history, "history", None)
    if isinstance(hist, dict):
        out["history"] = {str(k): [float(v) for v in list(vals)[:1000]] for k, vals in hist.items()
                          if str(k) in ("loss", "accuracy", "val_loss", "val_accuracy")}
    else:
        out["history"] = None
    return out


def obs_fit(ns, ref, folder):
    model, history = ns["model"], ns["history"]
    out = {**history_facts(history), "history_model_is_model": getattr(history, "model", None) is model}
    params = getattr(history, "params", None)
    out["params"] = {k: params.get(k) for k in ("epochs", "steps")} if isinstance(params, dict) else None
    out["epoch"] = list(getattr(history, "epoch", []) or [])[:1000]
    out["model"] = describe_model(model)
    out["iterations"] = _iterations(model)
    if folder is not None:
        out["saved"] = save_model(model, folder / "trained.keras")
    return out


def _iterations(model) -> int | None:
    try:
        return int(model.optimizer.iterations.numpy())
    except Exception:  # noqa: BLE001
        return None


def obs_save(ns, ref, folder):
    path = Path(ns.get("__save_path__", "asl_model.keras")).absolute()
    out = {"path": str(path), "exists": path.is_file(),
           "others": sorted(p.name for p in path.parent.glob("asl_model*") if p.name != path.name)[:5]}
    if path.is_file():
        out["bytes"] = path.stat().st_size
    if folder is not None:
        if out["exists"] and out["bytes"] <= MAX_MODEL_BYTES:
            shutil.copyfile(path, folder / "saved.keras")
        out["memory_saved"] = save_model(ns["model"], folder / "memory.keras")
    return out


# --- Notebook 5: observing the prediction functions ------------------------------------------------

def judge_compile(obs, ref, models):
    if not obs["compiled"] or obs["loss"] is None:
        return [t("model is not compiled: model.compile(loss=\"categorical_crossentropy\", metrics=[\"accuracy\"])")]
    mistakes = []
    if obs["loss"] not in ("categorical_crossentropy", "CategoricalCrossentropy"):
        if "sparse" in obs["loss"]:
            mistakes.append(t("the loss is {loss}, not categorical_crossentropy. sparse_categorical_crossentropy is "
                              "for integer labels; ours are one-hot", loss=obs["loss"]))
        else:
            mistakes.append(t("the loss is {loss}, not categorical_crossentropy.", loss=obs["loss"]))
    if obs.get("from_logits"):
        mistakes.append(t("the loss has from_logits=True, but the model's last layer gives probabilities (softmax), "
                          "not logits: model.compile(loss=\"categorical_crossentropy\", metrics=[\"accuracy\"])"))
    if not any(m in ("accuracy", "acc", "CategoricalAccuracy", "categorical_accuracy") for m in obs["metrics"]):
        mistakes.append(t("the metrics are {metrics}: add metrics=[\"accuracy\"]", metrics=obs["metrics"]))
    return mistakes


def expected_steps(ref) -> tuple[int, int]:
    images = plan(len(ref.y_train))["train_images"]
    return images, math.ceil(images / BATCH_SIZE)


def steps_mistake(steps, steps_type: str, images: int, batch_size=BATCH_SIZE) -> tuple[str, str] | None:
    """What is wrong with ``steps_per_epoch`` for ``images`` in batches of ``batch_size``, as
    ``(mistake, fix)`` (None: right).

    Stated once: the grader's judge (:func:`judge_steps`) and the learners' self-check
    (``asl_course.learners.checks.check_steps``) both say these words. ``steps`` is the value as a
    number (None when it is not one), ``steps_type`` its type's name; ``batch_size`` the notebook's.
    """
    if batch_size != BATCH_SIZE:
        return (t("batch_size is {batch_size}, the lesson uses {lesson}", batch_size=batch_size, lesson=BATCH_SIZE),
                t("batch_size = {lesson}, then img_iter and steps_per_epoch from it", lesson=BATCH_SIZE))
    want = math.ceil(images / batch_size)
    fix = t("steps_per_epoch = math.ceil(len(x_train) / batch_size), or len(img_iter)")
    if steps_type in ("float", "float64", "float32"):
        return t("steps_per_epoch is a float ({steps:g}); Keras 3 needs an integer (TypeError)", steps=steps), fix
    if steps is None or steps_type == "bool":
        return t("steps_per_epoch is a {type}, not an integer", type=steps_type), fix
    if steps == images // batch_size and steps != want:
        return (t("steps_per_epoch={steps:g} rounds down (//) and drops the last, partial batch ({left} images): the "
                  "iterator has {want} batches, so Keras runs out of data every other epoch (that epoch stops after "
                  "1 step)", steps=steps, left=images - int(steps) * batch_size, want=want),
                t("round up: steps_per_epoch = math.ceil(len(x_train) / batch_size), or len(img_iter)"))
    if steps != want:
        return t("steps_per_epoch is {steps:g}; {images:,} images in batches of {batch_size} make {want} steps",
                 steps=steps, images=images, batch_size=batch_size, want=want), fix
    return None


def judge_steps(obs, ref, models):
    images, _ = expected_steps(ref)
    mistakes = []
    steps = steps_mistake(obs["steps"], obs["steps_type"], images, obs["batch_size"])
    if steps:
        mistakes.append(f"{steps[0]}; {steps[1]}")
    if obs["iter_batch_size"] != BATCH_SIZE or obs["iter_images"] != images:
        mistakes.append(t("img_iter should flow the {images:,} training images of the run plan in batches of 32 "
                          "(datagen.flow(x_train, y_train, batch_size=batch_size))", images=images))
    return mistakes


#: The training cell's answer, as the lesson writes it.
FIT_CALL = ("history = model.fit(img_iter, epochs=epochs, steps_per_epoch=steps_per_epoch, "
            "validation_data=(x_valid, y_valid))")
#: How far history's last val_loss may be from a re-measurement, relative to it (the self-check
#: measures the loss too; the grader re-measures accuracy only, against :data:`HISTORY_TOLERANCE`).
HISTORY_LOSS_TOLERANCE = 0.05


def trained_mistake(iterations: int | None, fit_steps: int | None = None) -> tuple[str, str] | None:
    """A model whose optimizer made no step (``iterations``: 0 or None), or other steps than the fit
    that made ``history`` (``fit_steps``: its epochs times its steps per epoch; None: not checked),
    as ``(mistake, fix)``.

    Stated once: the grader's judge (:func:`judge_fit`) and the learners' self-check
    (``asl_course.learners.checks.check_trained``) both say these words.
    """
    if not iterations:
        return t("the model has not been trained"), FIT_CALL
    if fit_steps is not None and iterations != fit_steps:
        return (t("the model's optimizer made {iterations:,} training steps, but this fit made {fit_steps:,}: the "
                  "model was trained before this fit (loaded from a file, or fit run twice?)",
                  iterations=iterations, fit_steps=fit_steps),
                t("rerun the notebook from the top (the model is rebuilt there) and train it once"))
    return None


def history_mistake(f: dict) -> tuple[str, str] | None:
    """What is wrong with the ``history`` of the training cell, as ``(mistake, fix)`` (None: nothing seen).

    Stated once: the grader's judge (:func:`judge_fit`) and the learners' self-check
    (``asl_course.learners.checks.check_trained``) both say these words. ``f``: the
    :func:`history_facts` of ``history``, with ``epochs`` (the number of epochs fit should have
    run; None: not checked), and ``accuracy`` and ``loss``, the trained model's accuracy and loss
    on the validation images, measured (None: not measured; the grader measures accuracy only):
    fit validates once more after its last step, so its last figures are those of the model on
    its validation data, and other figures mean that fit was validated on other data.
    """
    if not f.get("is_history"):
        return t("history is a {type}, not the History that model.fit returns", type=f.get("history_type")), FIT_CALL
    hist = f.get("history") or {}
    val, epochs = hist.get("val_accuracy"), f.get("epochs")
    if not val or (epochs is not None and len(val) != epochs):
        return (t("history has no validation accuracy per epoch: fit had no validation data"),
                t("pass validation_data=(x_valid, y_valid) to model.fit"))
    accuracy, loss = f.get("accuracy"), f.get("loss")
    if accuracy is None:
        return None
    fix = t("validation_data=(x_valid, y_valid), the arrays prepared like x_train (normalised: divided by 255), "
            "then train again")
    if abs(val[-1] - accuracy) > HISTORY_TOLERANCE:
        return (t("fit's last epoch reported val_accuracy {reported:.4f}, but the model gets {accuracy:.4f} on the "
                  "validation images: fit was validated on other data (unnormalised images, x_valid * 255?)",
                  reported=val[-1], accuracy=accuracy), fix)
    reported = (hist.get("val_loss") or [None])[-1]
    if loss is not None and reported is not None and \
            abs(reported - loss) > HISTORY_LOSS_TOLERANCE * max(abs(loss), 1e-3):
        return (t("fit's last epoch reported val_loss {reported:.4g}, but the model's loss on the validation images "
                  "is {loss:.4g}: fit was validated on other data (unnormalised images, x_valid * 255?)",
                  reported=reported, loss=loss), fix)
    return None


def judge_fit(obs, ref, models):
    """Training: a genuine History of this model, the planned steps, and accuracy re-measured here."""
    mistakes = []
    description = models.get("trained", obs["model"]) if models else obs["model"]
    arch = model_mistakes(description)
    if arch:
        return [t("the trained model is not the lesson's CNN: {mistakes}", mistakes="; ".join(arch))]
    iterations = models.get("iterations", obs["iterations"]) if models else obs["iterations"]
    accuracy = models.get("accuracy") if models else None
    if trained_mistake(iterations):
        return [said(trained_mistake(iterations))]
    images, steps = expected_steps(ref)
    epochs = plan()["epochs"]
    facts = {"is_history": obs["is_history"], "history_type": obs.get("history_type"), "history": obs.get("history"),
             "epochs": epochs}
    history = history_mistake(facts)  # without the model's accuracy: the History itself
    if history and not obs["is_history"]:
        mistakes.append(said(history))
    elif not obs["history_model_is_model"]:
        mistakes.append(t("history was not made by training this model (model was replaced after fit, "
                          "or loaded from a file?)"))
    elif obs["params"] != {"epochs": epochs, "steps": steps}:
        mistakes.append(t("model.fit ran {params}; the run plan is {epochs} epoch(s) of {steps} steps: "
                          "epochs=epochs, steps_per_epoch=steps_per_epoch", params=obs["params"], epochs=epochs,
                          steps=steps))
    elif trained_mistake(iterations, epochs * steps):
        mistakes.append(said(trained_mistake(iterations, epochs * steps)))
    if not mistakes and history:
        mistakes.append(said(history))
    if mistakes:
        return mistakes
    path = (models or {}).get("descent")
    if path is not None:
        if path["min_correlation"] < MIN_DESCENT:
            return [t("the trained model does not descend from the initial weights the grader gave this notebook's "
                      "model just before training (its layers' weights are unrelated to them): train the notebook's "
                      "model in the training cell, do not load or build another one")]
        if path["min_moved"] < MIN_MOVED:
            return [t("the model's weights are still the initial weights the grader gave it before training: "
                      "the model has not been trained in the training cell")]
    if accuracy is None:
        return mistakes
    run = plan()
    mode = "fast" if run["fast"] else "full"
    need = MIN_VAL_ACCURACY[mode] if run.get("data", "real") == "real" else MIN_VAL_ACCURACY_STANDIN[mode]
    validated = history_mistake({**facts, "accuracy": accuracy, "loss": (models or {}).get("loss")})  # measured here
    if accuracy < need:
        mistakes.append(t("the trained model classifies {accuracy:.1%} of the validation images correctly (measured "
                          "by the grader); training as the lesson does reaches at least {need:.0%} here. Check that "
                          "fit uses img_iter and the normalised images", accuracy=accuracy, need=need))
    elif validated:
        mistakes.append(said(validated))
    return mistakes


def save_mistake(name: str, exists: bool, others=(), same_predictions: bool | None = None) -> tuple[str, str] | None:
    """What is wrong with the saved model file ``name``, as ``(mistake, fix)`` (None: nothing seen).

    Stated once: the grader's judge (:func:`judge_save`) and the learners' self-check
    (``asl_course.learners.checks.check_saved``) both say these words. ``others``: the names
    of other ``asl_model*`` files beside it; ``same_predictions``: whether the file predicts
    what the trained model predicts (None: not measured).
    """
    if not exists:
        missing = (t("{name} was not saved (found {others})", name=name, others=", ".join(others)) if others
                   else t("{name} was not saved", name=name))
        return (missing,
                t('Keras 3 saves a whole model only to a .keras file: model.save("asl_model.keras") '
                  '(model.save("asl_model"), without the extension, raises ValueError)'))
    if same_predictions is False:
        return (t("{name} does not predict what the trained model predicts (saved before training, or an older "
                  "save?)", name=name),
                t('save the model after training: model.save("asl_model.keras")'))
    return None


def judge_save(obs, ref, models):
    if not obs["exists"]:
        return [said(save_mistake("asl_model.keras", False, obs.get("others") or []))]
    if obs.get("bytes", 0) > MAX_MODEL_BYTES:
        return [t("asl_model.keras is {bytes:,} bytes, far more than the lesson's model", bytes=obs["bytes"])]
    if models is None:
        return []
    if models.get("saved_error"):
        return [t("asl_model.keras cannot be loaded ({error})", error=models["saved_error"])]
    arch = model_mistakes(models["saved"])
    if arch:
        return [t("asl_model.keras does not hold the lesson's CNN: {mistakes}", mistakes="; ".join(arch))]
    if not models.get("same_predictions"):
        return [said(save_mistake("asl_model.keras", True, same_predictions=False))]
    return []


# --- Measuring the models (live in the kernel, from the saved files in the verifier) ------------------


def measure_fit(obs, ref, live, load, seed):
    out: dict = {}
    model = live["model"] if live else load("trained.keras", compile=True)
    out["trained"] = describe_model(model)
    out["iterations"] = _iterations(model)
    if seed is not None and not model_mistakes(out["trained"]):
        out["descent"] = descent(model, seed)
    # Under the autograder the verifier re-measures accuracy outside the kernel; measuring it
    # here as well would only cost time (one more pass over the validation images).
    if not model_mistakes(out["trained"]) and not (live and grading_mode()):
        probabilities = predict(model, ref.valid_images())
        out["accuracy"] = float((probabilities.argmax(axis=1) == ref.y_valid).mean())
        # categorical cross-entropy as Keras computes it (probabilities clipped to [1e-7, 1 - 1e-7])
        right = np.clip(probabilities[np.arange(len(ref.y_valid)), ref.y_valid], 1e-7, 1 - 1e-7)
        out["loss"] = float(-np.log(right).mean())
    return out


def measure_save(obs, ref, live, load, seed):
    out: dict = {}
    if not obs.get("exists"):
        return out
    try:
        if live:
            saved = load_saved_model(obs["path"])
        else:
            saved = load("saved.keras")
    except Exception as exc:  # noqa: BLE001
        out["saved_error"] = f"{type(exc).__name__}: {str(exc)[:200]}"
        return out
    out["saved"] = describe_model(saved)
    if not model_mistakes(out["saved"]):
        memory = live["model"] if live else load("memory.keras")
        sample = ref.valid_images()[:256]
        out["same_predictions"] = bool(np.allclose(predict(saved, sample), predict(memory, sample), atol=1e-4))
    return out


# --- Recording the raw values, and what the verifier makes of them -----------------------------------


def record_save(namespace, folder, meta):
    """The saved file itself (a copy), and which other asl_model* files are there."""
    path = Path(namespace.get("__save_path__", "asl_model.keras")).absolute()
    meta["file"] = {"exists": path.is_file(),
                    "others": sorted(p.name for p in path.parent.glob("asl_model*") if p.name != path.name)[:5]}
    if path.is_file() and path.stat().st_size <= MAX_MODEL_BYTES:
        shutil.copyfile(path, folder / "saved.keras")
    elif path.is_file():
        meta["file"]["bytes"] = path.stat().st_size


def compile_from_record(meta, folder):
    entry = meta["values"]["model"]
    if entry.get("kind") != "model" or entry.get("error"):
        return {"compiled": False, "loss": None, "metrics": [], "optimizer": None}
    return obs_compile({"model": CompiledModel(compile_config(folder / entry["file"]))}, None, None)


def fit_from_record(meta, folder):
    values = meta["values"]
    model, history = values.get("model", {}), values.get("history", {})
    obs = {"history_type": history.get("qualname", history.get("type")),
           "is_history": history.get("kind") == "history" and bool(history.get("is_history")),
           "history_model_is_model": bool(history.get("model_is_model")),
           "params": history.get("params"), "history": history.get("history"),
           "epoch": history.get("epoch", []), "saved": model.get("error")}
    if model.get("kind") != "model":
        obs["not_model"] = model.get("type")
    return obs


def save_from_record(meta, folder):
    values, file = meta["values"], meta.get("file", {})
    obs = {"exists": bool(file.get("exists")) and (folder / "saved.keras").is_file(),
           "others": file.get("others", []), "memory_saved": values.get("model", {}).get("error")}
    if file.get("bytes"):
        obs.update(exists=True, bytes=int(file["bytes"]))
    elif obs["exists"]:
        obs["bytes"] = (folder / "saved.keras").stat().st_size
    return obs


def fit_refused(obs):
    if not obs.get("not_model"):
        return None
    return t("model is a {type}, not the Keras model of the lesson", type=obs["not_model"])


def fit_measured(obs, models):
    if models:
        obs["model"] = models["trained"]
        obs["iterations"] = models.get("iterations")
    if models and "accuracy" not in models and "trained" in models and not model_mistakes(models["trained"]):
        return [t("the grader could not re-measure the trained model")]
    return None


# --- Repairs -----------------------------------------------------------------------------------------


def repair_compile(ns, ref):
    model = ns.get("model")
    if model is not None and hasattr(model, "compile"):
        model.compile(loss="categorical_crossentropy", metrics=["accuracy"])


def repair_steps(ns, ref):
    images, steps = expected_steps(ref)
    ns["batch_size"], ns["steps_per_epoch"] = BATCH_SIZE, steps
    it = ns.get("img_iter")
    if getattr(it, "batch_size", None) != BATCH_SIZE or len(getattr(it, "x", [])) != images:
        if "datagen" in ns and "x_train" in ns and "y_train" in ns:
            ns["img_iter"] = ns["datagen"].flow(ns["x_train"][:images], ns["y_train"][:images], batch_size=BATCH_SIZE)


# --- Thinking: how many images does the last batch hold? (predict_last_batch) -----------------------


def last_batch_answer(images: int) -> tuple[int, dict, str]:
    """The last batch's images for ``images`` training images in batches of 32, the counts a
    near-miss gives (-> what it is instead), and why. The question is about the real release's
    27,455 images: on other data (the stand-in, a test's few rows) the answer is the release's, and
    the words say so."""

    n = RELEASE_TRAIN_IMAGES
    steps = math.ceil(n / BATCH_SIZE)
    full = steps - 1
    last = n - full * BATCH_SIZE
    known = {BATCH_SIZE: t("a full batch: the last one is full only when {batch} divides the images exactly",
                           batch=BATCH_SIZE),
             0: t("what rounding down (//) would train of them: nothing; the iterator still deals them out"),
             steps: t("the number of batches in a pass, not the images in the last one"),
             full: t("the number of full batches, not the images in the last one"),
             n: t("all the training images"), full * BATCH_SIZE: t("the images in the full batches"),
             BATCH_SIZE - last: t("what the last batch lacks to be full")}
    figures = dict(n=n, full=full, batch=BATCH_SIZE, in_full=full * BATCH_SIZE, last=last)
    if int(images) == n:
        why = t("{n:,} images = {full:,} full batches of {batch} ({in_full:,} images) + {last}; len(x_train) // "
                "batch_size ({full}) would leave those {last} out of every epoch, so steps_per_epoch rounds up",
                **figures)
    else:
        why = t("{n:,} images (the real release's; this run has {images:,}) = {full:,} full batches of {batch} "
                "({in_full:,} images) + {last}; len(x_train) // batch_size ({full}) would leave those {last} out of "
                "every epoch, so steps_per_epoch rounds up", images=int(images), **figures)
    return last, known, why


def last_batch_mistake(value, type_name: str, images: int) -> tuple[str, str] | None:
    """Stated once: the hidden test's judge and the self-check say these words."""

    truth, known, why = last_batch_answer(images)
    return count_mistake(value, type_name, truth, t("the last batch's number of images"), known, why)


def obs_prediction(ns, ref, folder):

    return observe(ns)


def judge_predict_last_batch(obs, ref, models):
    mistake = last_batch_mistake(obs["value"], obs["type"], plan(len(ref.y_train))["train_images"])
    return [said(mistake)] if mistake else []
