"""Evaluation on Inception features: choosing the feature set, what is recorded, the cache key,
--samples A --against B, and the Inception Score refusal.  A randomly initialised network stands
in for the real weights (same shapes and cost per image) and a few 8x8 images keep this fast."""
import json

import numpy as np
import pytest
import torch

from gankit.metrics.evaluate import evaluate, format_table, parse_metrics, reference
from gankit.metrics.extractor import sha256_file
from gankit.metrics.features import choose_features, describe_features
from gankit.metrics.inception import FIDInceptionV3
from gankit.metrics.samples import SampleError, as_images
from test_metrics_evaluate import _cli


@pytest.fixture(autouse=True)
def _cache(tmp_path, monkeypatch):
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))


@pytest.fixture(scope="module")
def weights(tmp_path_factory):
    torch.manual_seed(0)
    path = tmp_path_factory.mktemp("w") / "random_inception.pth"
    torch.save(FIDInceptionV3().state_dict(), path)
    return path


def test_feature_set_defaults_and_refusals():
    assert choose_features(None, None, "digits") == "dataset"
    assert choose_features(None, None, None) == "inception"  # folder: data have no classifier
    assert choose_features(None, "w.pth", "digits") == "inception"  # as before --features existed
    assert choose_features("inception", None, "digits") == "inception"
    with pytest.raises(ValueError, match="own classifier"):
        choose_features("dataset", None, None)
    with pytest.raises(ValueError, match="drop one"):
        choose_features("dataset", "w.pth", "digits")
    with pytest.raises(ValueError, match="choose from dataset, inception"):
        choose_features("clip", None, "digits")
    for name in ("is", "inception_score"):
        with pytest.raises(ValueError, match="no 1008-way"):
            parse_metrics(f"fid,{name}")


def test_any_image_layout_is_read():
    rng = np.random.default_rng(0)
    grey = rng.integers(0, 256, size=(2, 5, 6), dtype=np.uint8)
    colour = rng.integers(0, 256, size=(2, 3, 5, 6), dtype=np.uint8)
    assert np.array_equal(as_images(grey), grey[:, None])
    assert np.array_equal(as_images(grey[:, None]), grey[:, None])
    assert np.array_equal(as_images(colour), colour)
    assert np.array_equal(as_images(colour.transpose(0, 2, 3, 1)), colour)
    with pytest.raises(SampleError, match=r"\(N,H,W,3\)"):
        as_images(rng.integers(0, 256, size=(2, 5, 6, 7), dtype=np.uint8))


def test_inception_eval_records_what_it_read_and_caches_per_convention(weights, tmp_path):
    from gankit.data import load_dataset

    x = load_dataset("digits", split="test").x[:3]
    r = evaluate(x, "digits", metrics="kid", features="inception", inception_weights=weights,
                 convention="clean", real_n=3, progress=False)
    assert set(r) == {"kid", "kid_std", "features"}
    assert r["features"] == {"set": "inception", "fid_convention": "clean", "weights_sha256": sha256_file(weights),
                             "n": 3, "n_real": 3}
    assert "inception" not in format_table(r) and "clean convention" in describe_features(r["features"])
    stats = tmp_path / "cache" / "gankit" / "stats"
    assert len(list(stats.glob("digits-train-features-*.npz"))) == 1
    rows = reference("digits", n=2, metrics="kid", features="inception", inception_weights=weights,
                     convention="tf", real_n=3, progress=False)
    assert list(rows) == ["real test vs train", "uniform noise", "one image repeated"]
    assert all(row["features"]["fid_convention"] == "tf" and row["features"]["n"] == 2 for row in rows.values())
    assert len(list(stats.glob("digits-train-features-*.npz"))) == 2  # the tf statistics are their own file


def test_cli_samples_against_another_array(weights, tmp_path, capsys):
    rng = np.random.default_rng(0)
    np.save(tmp_path / "a.npy", rng.integers(0, 256, size=(2, 8, 8, 3), dtype=np.uint8))
    np.save(tmp_path / "b.npy", rng.integers(0, 256, size=(3, 1, 8, 8), dtype=np.uint8))
    out = tmp_path / "m.json"
    rc = _cli(["eval", "--samples", str(tmp_path / "a.npy"), "--against", str(tmp_path / "b.npy"),
               "--metrics", "kid", "--inception-weights", str(weights), "--fid-convention", "pytorch",
               "--json", str(out), "--quiet"])
    assert rc == 0
    d = json.loads(out.read_text())
    assert set(d) == {"kid", "kid_std", "features"} and d["kid"] > 0
    assert d["features"]["n"] == 2 and d["features"]["n_real"] == 3 and d["features"]["fid_convention"] == "pytorch"
    assert "pytorch convention" in capsys.readouterr().out
    assert _cli(["eval", "--against", str(tmp_path / "b.npy"), "--quiet"]) == 2
    assert "give both" in capsys.readouterr().err
    assert _cli(["eval", "--samples", str(tmp_path / "a.npy"), "--against", str(tmp_path / "b.npy"),
                 "--metrics", "kid,is", "--inception-weights", str(weights), "--quiet"]) == 2
    assert "Inception Score is not available" in capsys.readouterr().err
