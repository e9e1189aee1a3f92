"""benchmarks/fid_curve.py: where one run's FID curve overtakes another's, and each checkpoint's clock."""

import json
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "benchmarks"))
from fid_curve import first_lasting_lead, logged_seconds, minutes_at, seconds_at  # noqa: E402


def test_the_lead_counts_only_where_both_curves_were_scored_and_only_if_it_lasts():
    grown = [(0, 10), (10, 5), (20, 3)]
    fixed = [(5, 8), (15, 4), (30, 2)]
    # At 15 minutes both are at 4 (not below), so the lasting lead starts at 20; nothing before 5 counts.
    assert first_lasting_lead(grown, fixed) == 20
    assert first_lasting_lead(fixed, grown) is None  # never below for good within 5-20 minutes
    assert first_lasting_lead([(0, 10), (10, 5)], [(0, 4), (10, 6)]) == 10
    assert first_lasting_lead([(0, 3), (10, 9)], [(0, 4), (10, 6)]) is None  # ahead first, then behind


def test_a_checkpoint_takes_the_time_of_the_last_training_row_at_or_before_it(tmp_path):
    rows = [{"step": 50, "time": 5.0, "d_loss": 1.0}, {"step": 100, "time": 11.0, "d_loss": 1.0},
            {"step": 100, "fid": 30.0}, {"step": 150, "time": 20.0, "d_loss": 1.0}]
    (tmp_path / "metrics.jsonl").write_text("".join(json.dumps(row) + "\n" for row in rows))
    logged = logged_seconds(tmp_path)
    assert logged == [(50, 5.0), (100, 11.0), (150, 20.0)]  # the evaluation row is not a training row
    assert seconds_at(100, logged) == 11.0 and seconds_at(120, logged) == 11.0 and seconds_at(10, logged) == 0.0
    assert minutes_at(100, logged) == pytest.approx(11.0 / 60)
    # A step budget: the axis follows the steps, not a clock that slowed while neighbours ran.
    assert minutes_at(100, logged, budget_minutes=30.0) == pytest.approx(20.0)
    assert minutes_at(150, logged, budget_minutes=30.0) == pytest.approx(30.0)
    (tmp_path / "metrics.jsonl").write_text(json.dumps({"step": 1, "fid": 3.0}) + "\n")
    with pytest.raises(SystemExit, match="no training rows"):
        logged_seconds(tmp_path)


def test_points_of_an_earlier_json_are_reused_only_with_the_same_samples_and_features(tmp_path):
    from types import SimpleNamespace

    from fid_curve import scored_before

    saved = {"n": 500, "features": "inception", "fid_convention": "tf",
             "curves": {"a": [{"run": "runs/a", "step": 250, "fid": 99.0, "stage": "4x4", "minutes": 1.0}]}}
    path = tmp_path / "curve.json"
    path.write_text(json.dumps(saved))
    same = SimpleNamespace(n=500, features="inception", fid_convention="tf")
    assert scored_before(path, same)[("runs/a", 250)]["fid"] == 99.0
    assert scored_before(tmp_path / "none.json", same) == {}
    with pytest.raises(SystemExit, match="other settings"):
        scored_before(path, SimpleNamespace(n=1000, features="inception", fid_convention="tf"))
