"""Notebook 2 (the CNN): observer, judge and model measurement of test_model."""

from __future__ import annotations

from .models import (save_model, describe_model, model_mistakes, saved_model_from_record, saved_model_refused,
                     take_measured)


def _obs_model(ns, ref, folder):
    out = {"model": describe_model(ns["model"])}
    if folder is not None:
        out["saved"] = save_model(ns["model"], folder / "model.keras")
    return out


def _judge_model(obs, ref, models):
    description = models.get("model", obs["model"]) if models else obs["model"]
    mistakes = model_mistakes(description)
    return ["the model differs from the lesson's: " + "; ".join(mistakes)] if mistakes else []


def _measure_model(obs, ref, live, load, seed):
    model = live["model"] if live else load("model.keras")
    return {"model": describe_model(model)}


def _model_from_record(meta, folder):
    """The verifier re-describes the saved model itself (:func:`_measure_model`)."""
    return saved_model_from_record(meta, folder, name="model", unread={"error": "not read"})


def _model_refused(obs):
    return saved_model_refused(obs, name="model")


def _model_measured(obs, models):
    return take_measured(obs, models, name="model")
