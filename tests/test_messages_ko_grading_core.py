"""The grading core's messages in the learner's language (asl_course/locale/ko/grading.{models,judging,
kernel,verdict}.po): a wrong model's mistakes (notebooks 2, 4, 5), the hidden test's "not defined" advice
with its registry hint, and the verifier's word on a test that ran twice read in Korean with
ASL_COURSE_LANG=ko, their values (code, figures) kept, and byte for byte in English with en."""

from __future__ import annotations

import re

import pytest

from asl_course import i18n
from asl_course.grading import judging, kernel, models, verdict
from asl_course.grading.expected import GRADING_DIR_ENV, INPUT_SHAPE, LAYERS, GradingFailed

HANGUL = re.compile("[\uac00-\ud7a3]")


def _lesson_description() -> dict:
    """describe_model's description of the lesson's CNN (as expected.LAYERS states it)."""
    layers = [[kind, {k: list(v) if isinstance(v, tuple) else v for k, v in s.items()}] for kind, s in LAYERS]
    return {"class": "Sequential", "input_shape": list(INPUT_SHAPE), "layers": layers, "params": 264_049}


def _said(lang: str, monkeypatch) -> dict:
    """The messages, in ``lang``: a model with padding="valid" in its first layer and a linear last
    layer, a model of the right layers with too few parameters, notebook 2's hidden test without
    ``model``, notebook 4's training exercise judged without ``history`` (its registry hint), and
    the verifier's word on a hidden test that ran twice."""
    monkeypatch.setenv(i18n.ENV, lang)
    monkeypatch.delenv(GRADING_DIR_ENV, raising=False)
    wrong = _lesson_description()
    wrong["layers"][0][1]["padding"] = "valid"
    small = {**_lesson_description(), "params": 1000}
    last = _lesson_description()
    last["layers"][-1][1]["activation"] = "linear"
    with pytest.raises(GradingFailed) as missing:
        kernel.check("test_model", {})
    fit = kernel.sentences(judging.judge("test_fit", {"missing": ["history"]}, None))
    return {"padding": models.model_mistakes(wrong), "params": models.model_mistakes(small),
            "softmax": models.model_mistakes(last), "model": str(missing.value), "fit": fit, "twice": _twice()}


def _twice() -> list[str]:
    import tempfile
    from pathlib import Path

    with tempfile.TemporaryDirectory() as folder:
        for run in ("run-a", "run-b"):
            (Path(folder) / run).mkdir()
        return verdict.verify("test_labels", folder, None)


#: What each language says (English: byte for byte as before the catalogs; Korean: its values kept).
SAID = {
    "en": {
        "padding": ["layer 1 (Conv2D) has padding='valid'; the lesson uses padding='same' "
                    "(every Conv2D and MaxPool2D layer uses padding=\"same\")"],
        "params": ["it has 1000 parameters, not 264,049"],
        "softmax": ["layer 14 (Dense) has activation='linear'; the lesson uses activation='softmax' "
                    "(the last layer turns 24 scores into probabilities with softmax)"],
        "model": "model is not defined: did the exercise's cell run without an error?",
        "fit": "history is not defined: did the exercise's cell run without an error? "
               "(history = model.fit(img_iter, ...)).",
        "twice": ["the hidden test of this exercise ran 2 times: a test that runs more than once is "
                  "void (run each cell once, from the top)"],
    },
    "ko": {
        "padding": ["1번째 층(Conv2D)의 설정이 padding='valid'입니다. 수업의 모델은 padding='same'입니다"
                    "(Conv2D 층과 MaxPool2D 층은 모두 padding=\"same\"을 씁니다)"],
        "params": ["파라미터가 264,049개가 아니라 1000개입니다"],
        "softmax": ["14번째 층(Dense)의 설정이 activation='linear'입니다. 수업의 모델은 "
                    "activation='softmax'입니다(마지막 층은 softmax로 점수 24개를 확률로 바꿉니다)"],
        "model": "model이(가) 정의되지 않았습니다: 연습 문제의 셀이 오류 없이 실행되었는지 확인하세요.",
        # The registry's hint (code) is kept as it is inside the Korean sentence; kernel.sentences ends it.
        "fit": "history이(가) 정의되지 않았습니다: 연습 문제의 셀이 오류 없이 실행되었는지 확인하세요"
               "(history = model.fit(img_iter, ...)).",
        "twice": ["이 연습 문제의 숨겨진 테스트가 2번 실행되었습니다: 두 번 이상 실행된 테스트는 무효입니다"
                  "(처음부터 셀마다 한 번씩 실행하세요)"],
    },
}


@pytest.mark.parametrize("lang", ["en", "ko"])
def test_the_grading_core_speaks_the_learner_s_language(lang, monkeypatch):
    said = _said(lang, monkeypatch)
    assert said == SAID[lang]
    texts = [*said["padding"], *said["params"], *said["softmax"], said["model"], said["fit"], *said["twice"]]
    assert all(bool(HANGUL.search(text)) == (lang == "ko") for text in texts), texts


@pytest.mark.parametrize("lang", ["en", "ko"])
def test_the_verdict_does_not_depend_on_the_language(lang, monkeypatch):
    """Which models are wrong, and how many mistakes each has, is the same in both languages."""
    said = _said(lang, monkeypatch)
    assert [len(said[k]) for k in ("padding", "params", "softmax", "twice")] == [1, 1, 1, 1]
    monkeypatch.setenv(i18n.ENV, lang)
    assert models.model_mistakes(_lesson_description()) == []
