"""The Korean edition's messages of notebooks 1-3's exercises (issue 27): a learner whose
language is Korean reads the mistakes, fixes and verdicts of grading's nb01/nb02/nb03 and
predictions modules in Korean, with the values filled in; in English they are as before; and
which exercises fail does not depend on the language.
"""

from __future__ import annotations

import re

import numpy as np
import pytest

from asl_course import grading, i18n

HANGUL = re.compile("[\uac00-\ud7a3]")


@pytest.fixture(params=["ko", "en"])
def lang(request, monkeypatch):
    monkeypatch.setenv(i18n.ENV, request.param)
    return request.param


def test_num_classes_mistake_is_said_in_the_learners_language(lang):
    what, fix = grading.num_classes_mistake(23)
    if lang == "en":
        assert (what, fix) == ("num_classes is 23; the alphabet has 24 static letters (no J, no Z)",
                               "set num_classes = 24 (the labels are encoded right already: do not encode them again)")
    else:
        assert HANGUL.search(what) and "num_classes" in what and "23" in what and "J" in what, what
        assert HANGUL.search(fix) and "num_classes = 24" in fix, fix


def test_reshape_mistake_keeps_the_code_and_values_in_korean(lang):
    what, fix = grading.reshape_mistake("x_valid", (5, 28, 28), 5)
    if lang == "en":
        assert what == "x_valid has shape (5, 28, 28): the channel axis is missing"
        assert fix == "Conv2D needs (images, height, width, channels): x_valid = x_valid.reshape(-1, 28, 28, 1)"
    else:
        assert HANGUL.search(what) and "x_valid" in what and "(5, 28, 28)" in what, what
        assert HANGUL.search(fix) and fix.endswith("x_valid = x_valid.reshape(-1, 28, 28, 1)"), fix


def test_a_hidden_tests_verdict_on_a_prediction_nests_translated_pieces(lang):
    """test_predict_params: count_mistake's sentence around nb02's own words (what is counted)."""
    mistakes = grading.judge("test_predict_params", {"type": "int", "value": 7}, None)
    assert len(mistakes) == 1
    if lang == "en":
        assert mistakes[0].startswith("you predicted 7, but the second Conv2D's parameter count is not 7; it is ")
    else:
        assert HANGUL.search(mistakes[0]) and "7" in mistakes[0] and "Conv2D" in mistakes[0], mistakes[0]
        assert "you predicted" not in mistakes[0] and "parameter count" not in mistakes[0], mistakes[0]


class _Ref:
    """Reference data as the load_csv judge reads it: the files' sizes and the rows' digests."""
    y_train, y_valid = np.zeros(100, int), np.zeros(40, int)

    @staticmethod
    def digest(name):
        return "the rows"


def _frame(rows, **changes):
    facts = {"type": "DataFrame", "shape": [rows, 785], "dataframe": True, "columns_ok": True, "has_label": True,
             "first_columns": ["label", "pixel1", "pixel2"], "header_row": False, "index_name": None, "kind": "i",
             "dtype": "int64", "digest": "the rows"}
    return {**facts, **changes}


@pytest.mark.parametrize("obs, failing", [
    ({"train_df": _frame(100, shape=[100, 700]), "valid_df": _frame(40, digest="other rows")}, 2),
    ({"train_df": _frame(40), "valid_df": _frame(100)}, 1),  # the two files swapped: one mistake about both
    ({"train_df": _frame(100), "valid_df": _frame(40)}, 0),
])
def test_which_dataframes_are_wrong_does_not_depend_on_the_language(lang, obs, failing):
    mistakes = grading.judge("test_load_csv", obs, _Ref())
    assert len(mistakes) == failing, mistakes
    assert all(bool(HANGUL.search(m)) == (lang == "ko") for m in mistakes), mistakes


def test_a_hidden_tests_fresh_copy_says_it_in_korean_without_importing_asl_course(monkeypatch):
    """The fresh copy (grading.fresh) loads its own copy of i18n.py and the catalogs beside it."""
    from asl_course.grading import fresh

    monkeypatch.setenv(i18n.ENV, "ko")
    copy = fresh.load()
    assert copy.language.i18n is not i18n and copy.language.i18n.__name__ == fresh.FRESH_NAME + ".i18n"
    what, _ = copy.num_classes_mistake(23)
    assert HANGUL.search(what) and "23" in what, what
