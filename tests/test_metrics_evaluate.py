import argparse
import json

import numpy as np
import pytest

from gankit.commands.evaluate import add_eval_parser, add_metrics_parser
from gankit.metrics.evaluate import evaluate, format_table, reference
from gankit.metrics.samples import SampleError


@pytest.fixture(autouse=True)
def _cache(tmp_path, monkeypatch):
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))


def _digits(split):
    from gankit.data import load_dataset
    return load_dataset("digits", split=split)


def test_evaluate_real_digits_against_noise(tmp_path):
    real = _digits("test")
    labels = real.y
    r = evaluate(real.x, "digits", labels=labels, progress=False)
    assert {"fid", "kid", "kid_std", "precision", "recall", "density", "coverage", "classifier_score",
            "classifier_score_std", "class_kl", "cond_accuracy", "parzen_ll", "parzen_se", "parzen_sigma",
            "nn_ratio", "features"} == set(r)
    assert r["features"]["set"] == "dataset" and r["features"]["extractor"] == "digits"
    assert r["features"]["n"] == len(real.x) and r["features"]["n_real"] == 1433  # the whole training split
    assert r["cond_accuracy"] > 0.9 and r["classifier_score"] > 5 and r["class_kl"] < 0.05
    assert r["precision"] > 0.6 and r["recall"] > 0.6
    noise = np.random.default_rng(0).integers(0, 256, size=(364, 1, 8, 8), dtype=np.uint8)
    n = evaluate(noise, "digits", metrics="fid,kid,pr,parzen", progress=False)
    assert set(n) == {"fid", "kid", "kid_std", "precision", "recall", "parzen_ll", "parzen_se", "parzen_sigma",
                      "features"}
    assert n["fid"] > 5 * r["fid"] and n["kid"] > 5 * r["kid"]
    assert n["precision"] < 0.5 * r["precision"] and n["parzen_ll"] < r["parzen_ll"]
    # the cache now holds the real statistics: a second call reads them back
    assert any((tmp_path / "cache" / "gankit" / "stats").glob("digits-train-features-*.npz"))
    assert evaluate(real.x, "digits", metrics="fid", progress=False)["fid"] == pytest.approx(r["fid"])


def test_evaluate_toy_modes_and_skips_image_metrics():
    from gankit.data import load_dataset
    pts = load_dataset("ring8", split="test").x[:2000]
    r = evaluate(pts, "ring8", progress=False)
    assert set(r) == {"modes", "hq_fraction", "mode_kl", "precision", "recall", "density", "coverage"}
    assert r["modes"] == 8 and r["hq_fraction"] > 0.95 and r["mode_kl"] < 0.02
    collapsed = evaluate(np.repeat(pts[:1], 500, 0), "ring8", metrics="modes", progress=False)
    assert collapsed["modes"] == 1 and collapsed["mode_kl"] == pytest.approx(np.log(8))


def test_evaluate_stacked_mnist_modes():
    from gankit.metrics.modes import load_stacked_mnist
    x, _ = load_stacked_mnist("test", n=2000)
    r = evaluate(x, "stacked-mnist", progress=False)
    assert set(r) == {"modes", "mode_kl"} and r["modes"] > 750


def test_reference_rows_and_table():
    rows = reference("digits", n=364, metrics="fid,score", progress=False)
    assert list(rows) == ["real test vs train", "uniform noise", "one image repeated"]
    assert rows["real test vs train"]["fid"] < rows["uniform noise"]["fid"]
    assert rows["real test vs train"]["fid"] < rows["one image repeated"]["fid"]
    assert rows["one image repeated"]["classifier_score"] == pytest.approx(1, abs=1e-3)
    table = format_table(rows)
    lines = table.splitlines()
    assert len(lines) == 5 and "classifier_score" in lines[0] and lines[2].startswith("real test vs train")


def _cli(argv):
    parser = argparse.ArgumentParser(prog="gankit")
    sub = parser.add_subparsers(dest="command")
    add_eval_parser(sub)
    add_metrics_parser(sub)
    args = parser.parse_args(argv)
    return args.func(args)


def test_cli_eval_samples_json_and_bad_samples(tmp_path, capsys):
    real = _digits("test")
    np.save(tmp_path / "s.npy", real.x.astype(np.float32) / 127.5 - 1)  # [-1,1] floats
    np.save(tmp_path / "s.labels.npy", real.y)
    out = tmp_path / "m.json"
    rc = _cli(["eval", "--samples", str(tmp_path / "s.npy"), "--labels", str(tmp_path / "s.labels.npy"),
               "--data", "digits", "--metrics", "fid,score", "--json", str(out), "--quiet"])
    assert rc == 0
    d = json.loads(out.read_text())
    assert set(d) == {"fid", "classifier_score", "classifier_score_std", "class_kl", "cond_accuracy", "features"}
    assert d["cond_accuracy"] > 0.9
    assert "classifier_score" in capsys.readouterr().out
    bad = real.x.astype(np.float32)
    bad[0, 0, 0, 0] = np.nan
    np.save(tmp_path / "bad.npy", bad)
    assert _cli(["eval", "--samples", str(tmp_path / "bad.npy"), "--data", "digits", "--quiet"]) == 2
    assert "NaN" in capsys.readouterr().err
    assert _cli(["eval", "--samples", str(tmp_path / "s.npy"), "--quiet"]) == 2
    assert _cli(["eval", "--samples", str(tmp_path / "s.npy"), "--data", "digits", "--truncation", "0.5"]) == 2
    assert "does not apply to --samples" in capsys.readouterr().err
    assert _cli(["eval", "--metrics", "fid,bogus", "--samples", str(tmp_path / "s.npy"), "--data", "digits",
                 "--quiet"]) == 2


def test_cli_eval_run_dir_samples_with_labels_and_appends(monkeypatch, tmp_path):
    import gankit

    real = _digits("test")

    class FakeRun:
        data_name, num_classes, conditional = "digits", 10, True
        run_dir = tmp_path
        appended = []

        truncations = []

        def sample_array(self, n, seed=0, labels=None, truncation=None):
            # a perfect conditional generator: the first real test image of each requested class
            self.truncations.append(truncation)
            first = {int(c): real.x[np.argmax(real.y == c)] for c in range(10)}
            return np.stack([first[int(c)] for c in labels])

        def append_metrics(self, row):
            self.appended.append(row)

    monkeypatch.setattr(gankit, "load", lambda run_dir, **kw: FakeRun(), raising=False)
    assert _cli(["eval", str(tmp_path), "-n", "200", "--metrics", "score", "--quiet"]) == 0
    row = FakeRun.appended[-1]
    assert row["cond_accuracy"] > 0.85 and row["class_kl"] < 0.1
    assert FakeRun.truncations == [None] and "truncation" not in row  # the full prior unless asked
    assert _cli(["eval", str(tmp_path), "-n", "200", "--metrics", "score", "--truncation", "0.6", "--quiet"]) == 0
    assert FakeRun.truncations[-1] == 0.6 and FakeRun.appended[-1]["truncation"] == 0.6


def test_samples_drawn_at_another_size_are_resized_to_the_datasets():
    """A run trained with data.size=16 on 8x8 digits (StyleGAN2 needs 4 * 2^k pixels) is evaluated
    at the digits' size: its samples resized, float or uint8, channels first or last."""
    from gankit.metrics.samples import at_data_size, prepare_for_dataset

    x = np.full((3, 1, 16, 16), 200, dtype=np.uint8)
    x[:, :, :8] = 0
    small, drawn_at = at_data_size(x, (1, 8, 8))
    assert small.shape == (3, 1, 8, 8) and small.dtype == np.uint8 and drawn_at == 16
    assert (small[:, :, :3] == 0).all() and (small[:, :, 5:] == 200).all()
    as_floats, _ = at_data_size(x.transpose(0, 2, 3, 1) / 255.0, (1, 8, 8))  # (N, H, W, C) in [0, 1]
    assert np.abs(as_floats.astype(int) - small).max() <= 1
    assert (prepare_for_dataset(x, "digits") == small).all()
    same = np.zeros((2, 1, 8, 8), dtype=np.uint8)
    kept, drawn_at = at_data_size(same, (1, 8, 8))
    assert (kept == same).all() and drawn_at is None
    with pytest.raises(SampleError, match="expected images shaped"):  # not square: not a run's samples
        at_data_size(np.zeros((2, 1, 16, 12), dtype=np.uint8), (1, 8, 8))


def test_real_images_make_the_samples_round_trip_so_the_training_data_at_that_size_score_zero():
    """Training images enlarged to 16x16 as a data.size=16 run sees them, scored as its samples are
    (resized back to 8x8): FID about 0, the real side made the same way; far above 0 for the same
    images handed over at 8x8, which are compared with the digits as they are (the resizes blur):
    a floor no run could beat."""
    from gankit.data import load_dataset
    from gankit.metrics.samples import resize_images

    x = load_dataset("digits", "train", size=16).x
    alike = evaluate(x, "digits", metrics=["fid"], progress=False)
    as_they_are = evaluate(resize_images(x, (8, 8)), "digits", metrics=["fid"], progress=False)
    assert abs(alike["fid"]) < 1e-3 < 0.5 < as_they_are["fid"]
    assert alike["features"]["drawn_at"] == 16 and "drawn_at" not in as_they_are["features"]
