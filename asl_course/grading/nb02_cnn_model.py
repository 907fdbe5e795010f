"""Notebook 2 (the CNN): observer, judge and model measurement of test_model."""

from __future__ import annotations

from .language import t
from .models import (save_model, describe_model, model_mistakes, saved_model_from_record, saved_model_refused,
                     take_measured)
from .expected import LAYERS, MODEL_PARAMS
from .predictions import count_mistake, observe


def obs_model(ns, ref, folder):
    out = {"model": describe_model(ns["model"])}
    if folder is not None:
        out["saved"] = save_model(ns["model"], folder / "model.keras")
    return out


def judge_model(obs, ref, models):
    description = models.get("model", obs["model"]) if models else obs["model"]
    mistakes = model_mistakes(description)
    return [t("the model differs from the lesson's: {mistakes}", mistakes="; ".join(mistakes))] if mistakes else []


def measure_model(obs, ref, live, load, seed):
    model = live["model"] if live else load("model.keras")
    return {"model": describe_model(model)}


def model_from_record(meta, folder):
    """The verifier re-describes the saved model itself (:func:`measure_model`)."""
    return saved_model_from_record(meta, folder, name="model", unread={"error": "not read"})


def model_refused(obs):
    return saved_model_refused(obs, name="model")


def model_measured(obs, models):
    return take_measured(obs, models, name="model")


# --- Thinking: the parameters of the second Conv2D, by hand (predict_params) ------------------------


def conv_params() -> tuple[int, dict, str]:
    """The second Conv2D's parameters as the lesson's layers make them, the counts a near-miss
    gives (-> what it is instead), and how the count comes about."""

    convs = [s for name, s in LAYERS if name == "Conv2D"]
    (kh, kw), c_in, f = convs[1]["kernel_size"], convs[0]["filters"], convs[1]["filters"]
    first = kh * kw * 1 * c_in + c_in
    third = kh * kw * f * convs[2]["filters"] + convs[2]["filters"]
    n = dict(kh=kh, kw=kw, filters=f, channels=c_in)
    known = {
        kh * kw * f: t("{kh} x {kw} x {filters}: one input channel and no biases; the layer reads the first layer's "
                       "{channels} feature maps, and each filter has a bias", **n),
        kh * kw * f + f: t("{filters} filters of {kh} x {kw} on one channel: the layer's input has {channels} "
                           "channels (the first layer's {channels} filters), and each filter has a {kh} x {kw} window "
                           "on every one", **n),
        kh * kw * c_in * f: t("the weights alone: each filter also has a bias"),
        c_in * f + f: t("{channels} x {filters} + {filters}: each filter has a {kh} x {kw} window ({window} weights) "
                        "per input channel", window=kh * kw, **n),
        c_in * f: t("{channels} x {filters}: each filter has a {kh} x {kw} window per input channel, and a bias", **n),
        kh * kw * c_in * f + c_in: t("a bias per input channel: a bias is one per filter ({filters})", **n),
        first: t("the first Conv2D's count ({channels} filters of {kh} x {kw} on one channel, + {channels} biases)",
                 **n),
        third: t("the third Conv2D's count"),
        400 * 512 + 512: t("the first Dense layer's count (400 x 512 weights + 512 biases)"),
        MODEL_PARAMS: t("the whole model's count"),
    }
    truth = kh * kw * c_in * f + f
    why = t("{filters} filters x ({kh} x {kw} weights x {channels} input channels + 1 bias); the {channels} channels "
            "are the first Conv2D's {channels} feature maps (batch normalisation and pooling keep the channel count)",
            **n)
    return truth, known, why


def params_mistake(value, type_name: str) -> tuple[str, str] | None:
    """Stated once: the hidden test's judge and the self-check say these words."""

    truth, known, why = conv_params()
    return count_mistake(value, type_name, truth, t("the second Conv2D's parameter count"), known, why)


def obs_prediction(ns, ref, folder):

    return observe(ns)


def judge_predict_params(obs, ref, models):
    mistake = params_mistake(obs["value"], obs["type"])
    return [f"{mistake[0]}; {mistake[1]}"] if mistake else []
