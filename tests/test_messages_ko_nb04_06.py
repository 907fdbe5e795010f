"""Notebooks 4-6's grading messages in the learner's language (asl_course/locale/ko/grading.nb0[4-6]_*.po):
the same mistake reads in Korean with ASL_COURSE_LANG=ko and in English with en, its figures in both;
and nb06's "use <fix>" sentence is built alike in both languages."""

from __future__ import annotations

import re
import types

import numpy as np
import pytest

from asl_course import i18n
from asl_course.grading import nb04_train_and_save as nb4
from asl_course.grading import nb05_predictions as nb5
from asl_course.grading import nb06_fast_and_stable as nb6

HANGUL = re.compile("[\uac00-\ud7a3]")
N = 100  # training images of the small pipeline below


def _pipeline(batch_size: int) -> dict:
    """The facts (nb6.dataset_graph_facts) of the lesson's pipeline over N images, in batches of ``batch_size``."""
    return {"steps": [{"op": "TensorSliceDataset", "shapes": [[N, 28, 28, 1], [N, 24]]},
                      {"op": "ShuffleDatasetV3", "buffer_size": N},
                      {"op": "BatchDatasetV2", "batch_size": batch_size, "drop_remainder": False},
                      {"op": "ParallelMapDatasetV2", "parallel": True, "num_parallel_calls": -1,
                       "transforms_images": True, "flips": True},
                      {"op": "PrefetchDataset", "buffer_size": -1}]}


def _judged(lang, monkeypatch):
    """Three mistakes, one per notebook, judged in ``lang``."""
    monkeypatch.setenv(i18n.ENV, lang)
    steps = nb4.steps_mistake(857.96875, "float", 27455)
    pixels = nb5.prepared_mistake({"shape": [1, 28, 28, 1], "kind": "f", "values": [0.0] * 783 + [255.0]},
                                  np.zeros(784), "plain")
    ref = types.SimpleNamespace(y_train=np.arange(N) % 24)
    batches = nb6.judge_train_ds({"facts": _pipeline(64)}, ref, None)
    return steps, pixels, batches


def test_the_mistakes_read_in_korean_with_their_figures(monkeypatch):
    (steps, fix), pixels, batches = _judged("ko", monkeypatch)
    for text, figure in ((steps, "857.969"), (pixels, "255"), (batches[0], "64")):
        assert HANGUL.search(text) and figure in text, text
    assert HANGUL.search(fix) and "math.ceil(len(x_train) / batch_size)" in fix
    assert batches == ["train_ds가 32장이 아니라 64장씩 배치를 만듭니다; 다음을 사용하세요: .batch(32)"]


def test_the_same_mistakes_read_in_english(monkeypatch):
    (steps, fix), pixels, batches = _judged("en", monkeypatch)
    assert steps == "steps_per_epoch is a float (857.969); Keras 3 needs an integer (TypeError)"
    assert fix == "steps_per_epoch = math.ceil(len(x_train) / batch_size), or len(img_iter)"
    assert pixels == "its pixels go up to 255: divide by 255, as the training data was"
    assert batches == ["train_ds makes batches of 64, not 32; use .batch(32)"]
    assert not any(HANGUL.search(t) for t in (steps, fix, pixels, *batches))


def test_a_fix_starts_with_code_in_korean_exactly_when_it_does_in_english():
    """nb6's grader sentence says "use <fix>" when the fix starts with code (nb6.CODE_STARTS): a
    translation that started otherwise would word the sentence differently in Korean."""
    starts = nb6.CODE_STARTS + ("{",)
    entries, _ = i18n.read_po(i18n.LOCALE_DIR / "ko" / "grading.nb06_fast_and_stable.po")
    differ = [e.msgid for e in entries if e.translated and
              next((s for s in starts if e.msgid.startswith(s)), None) !=
              next((s for s in starts if e.msgstr.startswith(s)), None)]
    assert differ == []
    assert len(entries) > 40


@pytest.mark.parametrize("fix", [".shuffle(len(x_train)) before .batch", "map after .batch"])
def test_the_grader_s_sentence_has_the_same_shape_in_both_languages(fix, monkeypatch):
    said = {}
    for lang in ("en", "ko"):
        monkeypatch.setenv(i18n.ENV, lang)
        said[lang] = nb6.grader_sentence(("x", i18n.t(fix)))
    use = {lang: i18n.t("use {fix}", lang=lang, fix="") for lang in ("en", "ko")}
    assert said["en"].startswith("x; " + use["en"]) == said["ko"].startswith("x; " + use["ko"])
