"""Notebook 2 (the CNN): observer, judge and model measurement of test_model."""

from __future__ import annotations

from .models import (save_model, describe_model, model_mistakes, saved_model_from_record, saved_model_refused,
                     take_measured)
from .expected import LAYERS, MODEL_PARAMS
from .predictions import count_mistake, observe


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


# --- Thinking: the parameters of the second Conv2D, by hand (predict_params) ------------------------


def conv_params() -> tuple[int, dict, str]:
    """The second Conv2D's parameters as the lesson's layers make them, the counts a near-miss
    gives (-> what it is instead), and how the count comes about."""

    convs = [s for name, s in LAYERS if name == "Conv2D"]
    (kh, kw), c_in, f = convs[1]["kernel_size"], convs[0]["filters"], convs[1]["filters"]
    first = kh * kw * 1 * c_in + c_in
    third = kh * kw * f * convs[2]["filters"] + convs[2]["filters"]
    known = {
        kh * kw * f: f"{kh} x {kw} x {f}: one input channel and no biases; the layer reads the first layer's "
                     f"{c_in} feature maps, and each filter has a bias",
        kh * kw * f + f: f"{f} filters of {kh} x {kw} on one channel: the layer's input has {c_in} channels (the "
                         f"first layer's {c_in} filters), and each filter has a {kh} x {kw} window on every one",
        kh * kw * c_in * f: "the weights alone: each filter also has a bias",
        c_in * f + f: f"{c_in} x {f} + {f}: each filter has a {kh} x {kw} window ({kh * kw} weights) per input channel",
        c_in * f: f"{c_in} x {f}: each filter has a {kh} x {kw} window per input channel, and a bias",
        kh * kw * c_in * f + c_in: f"a bias per input channel: a bias is one per filter ({f})",
        first: f"the first Conv2D's count ({c_in} filters of {kh} x {kw} on one channel, + {c_in} biases)",
        third: "the third Conv2D's count",
        400 * 512 + 512: "the first Dense layer's count (400 x 512 weights + 512 biases)",
        MODEL_PARAMS: "the whole model's count",
    }
    truth = kh * kw * c_in * f + f
    why = (f"{f} filters x ({kh} x {kw} weights x {c_in} input channels + 1 bias); the {c_in} channels are the "
           f"first Conv2D's {c_in} feature maps (batch normalisation and pooling keep the channel count)")
    return truth, known, why


def params_mistake(value, type_name: str) -> tuple[str, str] | None:
    """Stated once: the hidden test's judge and the self-check say these words."""

    truth, known, why = conv_params()
    return count_mistake(value, type_name, truth, "the second Conv2D's parameter count", known, why)


def _obs_prediction(ns, ref, folder):

    return observe(ns)


def _judge_predict_params(obs, ref, models):
    mistake = params_mistake(obs["value"], obs["type"])
    return [f"{mistake[0]}; {mistake[1]}"] if mistake else []
