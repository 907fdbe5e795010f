"""The recorded no-augmentation baseline that notebook 4 shows in full mode on the real data."""

from __future__ import annotations

import pytest

from asl_course.learners import notebook
from asl_course.tooling import bench


def test_recorded_baseline_is_labelled_and_complete():
    ref = notebook.load_reference_baseline()
    assert ref is not None, "asl_course/reference/ must hold the recorded baseline"
    assert ref["data"] == "real data" and ref["mode"] == "full" and ref["augmentation"] is False
    assert ref["date"] and ref["machine"]
    hist = ref["history"]
    assert all(len(hist[k]) == 20 for k in ("loss", "accuracy", "val_loss", "val_accuracy"))
    assert notebook.summarize_history(hist)["final_val_acc"] == ref["summary"]["final_val_acc"]


@pytest.mark.parametrize("change", [{"augmentation": True}, {"mode": "fast"}, {"data": "SYNTHETIC stand-in"}])
def test_only_a_full_plain_real_run_can_be_recorded(change, monkeypatch, tmp_path):
    report = dict(notebook.load_reference_baseline(), **change)
    monkeypatch.setattr(notebook, "BASELINE_FILE", tmp_path / "baseline.json")
    with pytest.raises(ValueError):
        bench.record_baseline(report)
    assert not (tmp_path / "baseline.json").exists()
