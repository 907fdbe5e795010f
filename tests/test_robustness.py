"""``asl-course bench robustness``: recipes trained and measured on the camera-shift suite."""

from __future__ import annotations

import json

import numpy as np
import pytest

from asl_course.errors import UserError
from asl_course.learners import shifts
from asl_course.tooling import robustness


def test_unknown_recipes_are_refused():
    with pytest.raises(ValueError, match="recipes must be among"):
        robustness.check_recipes(["lesson", "magic"])
    with pytest.raises(ValueError, match="none given"):
        robustness.check_recipes([])


def test_the_cli_refuses_bad_arguments_in_one_line(capsys):
    from asl_course.tooling import cli

    assert cli.main(["bench", "robustness", "--seeds", "0"]) != 0
    assert "--seeds must be at least 1" in capsys.readouterr().err


def test_summary_lines_name_the_data_and_the_worst_kinds():
    table = {"suite": 1, "seed": 0, "clean": 0.9,
             "kinds": {k: {s: 0.5 for s in ((1,) if k == "other_hand" else shifts.SEVERITIES)} for k in shifts.KINDS}}
    table["kinds"]["shear"][5] = 0.0
    report = {"suite": 1, "test_images": 10, "epochs": 1, "data": "real data", "fast": True,
              "runs": [{"recipe": "lesson", "seed": 0, "table": table, "summary": shifts.summary(table)}]}
    text = "\n".join(robustness.summary_lines(report))
    assert "the figures mean nothing" in text and "shear 0.400" in text and "held-out mean 0.483" in text  # (5 x 0.5 + 0.4) / 6


@pytest.mark.slow
def test_fast_run_trains_measures_and_keeps_each_model(data_dir, tmp_path):
    import keras

    lines = []
    report = robustness.run(["none", "designed"], fast=True, save_models=tmp_path / "models",
                            data_dir=data_dir, log=lines.append)
    assert [(r["recipe"], r["seed"]) for r in report["runs"]] == [("none", 0), ("designed", 0)]
    assert report["test_images"] == robustness.FAST["test_images"]
    for run in report["runs"]:
        assert set(run["table"]["kinds"]) == set(shifts.KINDS)
        assert set(run["summary"]) == {"per_kind", "design", "held_out"}
        model = keras.models.load_model(run["model"])  # the kept model reads shifts of anyone's own
        assert model.count_params() == 264_049
    text = "\n".join(lines)
    assert "held-out kinds: mean" in text and "--fast" in text
    robustness.save_report(report, tmp_path / "report.json")
    stored = json.loads((tmp_path / "report.json").read_text())
    assert stored["held_out_kinds"] == list(shifts.HELD_OUT_KINDS)
    assert np.isclose(stored["runs"][0]["table"]["clean"], report["runs"][0]["table"]["clean"])


def test_ablation_arms_leave_out_one_part_each():
    arms = robustness.ablation_arms(("geometric", "noise", "blur"))
    assert arms == {"all parts": ("geometric", "noise", "blur"), "none (lesson's geometry)": (),
                    "without geometric": ("noise", "blur"), "without noise": ("geometric", "blur"),
                    "without blur": ("geometric", "noise")}


def test_policy_arms_compare_how_the_parts_meet_on_an_image():
    arms = robustness.policy_arms(("geometric", "noise", "blur"))
    assert arms["all parts, one per image"] == {"parts": ("geometric", "noise", "blur"), "settings": {"policy": "one"}}
    assert arms["lesson's geometry, one per image"]["parts"] == ("noise", "blur")
    assert robustness.arm_spec(arms["wider geometry only"]) == (("geometric",), {})
    assert robustness.arm_spec(("noise",)) == (("noise",), {})
    assert set(robustness.ARM_SETS) == {"parts", "policy"}


def test_the_ablation_refuses_unknown_parts_before_training(data_dir):
    with pytest.raises(ValueError, match="must be among"):
        robustness.ablation({"odd": ("geometric", "sparkle")}, data_dir=data_dir)


@pytest.mark.slow
def test_fast_ablation_measures_held_out_families_under_design_kinds_only(data_dir):
    lines = []
    one = {"parts": ("geometric", "noise"), "settings": {"policy": "one"}}
    report = robustness.ablation({"one per image": one}, fast=True, data_dir=data_dir, log=lines.append)
    assert list(report["arms"]) == ["one per image"]
    assert report["arms"]["one per image"]["settings"] == {"policy": "one"}
    for arm in report["arms"].values():
        assert set(arm["table"]["kinds"]) == set(shifts.DESIGN_KINDS)  # never a held-out kind
        assert set(arm["summary"]) == {"per_kind", "design"}
    assert report["held_out_images"] == 200 and "the figures mean nothing" in "\n".join(lines)


def test_a_shortened_suite_measures_shifts_on_a_sample_and_clean_on_every_test_image():
    class FirstPixel:  # "predicts" class 1 where the image's first pixel is bright, else 0
        seen = []

        def predict(self, images, batch_size, verbose):
            self.seen.append(len(images))
            return (images.reshape(len(images), -1)[:, 0] > 0.5).astype(np.int64)

    x = np.zeros((40, 28, 28, 1), np.float32)
    x[:10, 0, 0] = 1.0  # the first ten are class 1
    labels = (np.arange(40) < 10).astype(np.int64)
    labels[10:20] = 1  # ten more labelled 1 but dark: the model is wrong on them
    model = FirstPixel()
    table = robustness.measure(model, x, labels, seed=0, suite_images=8)
    assert table["clean"] == 0.75  # 30 of 40 right, measured on all 40
    assert model.seen[0] == 8 and model.seen[-1] == 40  # the shifts on the sample, clean on all
    assert set(table["kinds"]) == set(shifts.KINDS)
    again = robustness.measure(FirstPixel(), x, labels, seed=0, suite_images=8)
    assert again["clean_sample"] == table["clean_sample"]  # the same sample for every recipe
