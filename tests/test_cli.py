"""Each CLI subcommand on a tiny run (in-process, so the whole file takes seconds)."""

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import yaml
from PIL import Image

from gankit.cli import main

TINY = ["--set", "model.g_base=8", "--set", "model.d_base=8", "--set", "train.log_every=2",
        "--set", "train.sample_every=3", "--no-progress"]


@pytest.fixture(scope="module")
def run_dir(tmp_path_factory):
    out = tmp_path_factory.mktemp("cli") / "dcgan"
    assert main(["train", "dcgan", "--data", "digits", "--out", str(out), "--steps", "4", "--batch-size", "16",
                 *TINY]) == 0
    return out


def test_train_writes_the_run_directory(run_dir):
    assert (run_dir / "config.yaml").exists() and (run_dir / "losses.png").exists()
    assert sorted(p.name for p in (run_dir / "samples").iterdir()) == ["step_000003.png", "step_000004.png"]
    rows = [json.loads(line) for line in (run_dir / "metrics.jsonl").read_text().splitlines()]
    assert [r["step"] for r in rows] == [2, 4]
    assert {"d_loss", "g_loss", "D(x)", "D(G(z))", "img_per_s", "epoch"} <= rows[0].keys()
    config = yaml.safe_load((run_dir / "config.yaml").read_text())
    assert config["options"]["g_base"] == config["options"]["d_base"] == 8 and "pack" in config["options"]
    assert config["resolved"]["data_shape"] == [1, 8, 8]


def test_resume_continues_to_the_new_total(run_dir):
    assert main(["train", "--out", str(run_dir), "--steps", "6", "--resume", "--no-progress"]) == 0
    rows = [json.loads(line) for line in (run_dir / "metrics.jsonl").read_text().splitlines()]
    assert rows[-1]["step"] == 6


def test_sample_png_and_npy(run_dir, tmp_path, capsys):
    assert main(["sample", str(run_dir), "-n", "10", "--out", str(tmp_path / "s.png")]) == 0
    assert Image.open(tmp_path / "s.png").size[0] > 8
    assert main(["sample", str(run_dir), "-n", "10", "--out", str(tmp_path / "s.npy"), "--seed", "3"]) == 0
    arr = np.load(tmp_path / "s.npy")
    assert arr.dtype == np.uint8 and arr.shape == (10, 8, 8)
    main(["sample", str(run_dir), "-n", "10", "--out", str(tmp_path / "t.npy"), "--seed", "3"])
    assert np.array_equal(arr, np.load(tmp_path / "t.npy"))  # a seed gives the same samples
    main(["sample", str(run_dir), "-n", "10", "--out", str(tmp_path / "u.npy"), "--seed", "3", "--truncation", "0"])
    truncated = np.load(tmp_path / "u.npy")  # every latent at the prior's mean: one image ten times
    assert not np.array_equal(arr, truncated) and (truncated == truncated[0]).all()
    for command in (["sample", str(run_dir), "--out", str(tmp_path / "v.npy")], ["eval", str(run_dir), "--quiet"]):
        assert main([*command, "-n", "10", "--truncation", "-1"]) == 2  # Run.sample checks it for both
        assert "truncation must lie in [0, 2]" in capsys.readouterr().err


def test_sample_toy_npy_is_float_points(tmp_path):
    out = tmp_path / "ring"
    assert main(["train", "gan", "--data", "ring8", "--out", str(out), "--steps", "2", "--no-progress"]) == 0
    assert main(["sample", str(out), "-n", "7", "--out", str(tmp_path / "p.npy")]) == 0
    arr = np.load(tmp_path / "p.npy")
    assert arr.dtype == np.float32 and arr.shape == (7, 2)
    assert main(["sample", str(out), "-n", "50", "--out", str(tmp_path / "p.png")]) == 0


def test_interpolate_png_and_gif(run_dir, tmp_path):
    assert main(["interpolate", str(run_dir), "--rows", "2", "--steps", "5", "--out", str(tmp_path / "i.png")]) == 0
    assert main(["interpolate", str(run_dir), "--rows", "2", "--steps", "5", "--out", str(tmp_path / "i.gif")]) == 0
    gif = Image.open(tmp_path / "i.gif")
    assert gif.n_frames == 8  # 5 frames forth, 3 back


def test_list_names_everything(capsys):
    assert main(["list"]) == 0
    out = capsys.readouterr().out
    for word in ("dcgan", "lsgan", "demo", "fashion-mnist", "ring8", "non-saturating", "least-squares"):
        assert word in out


def test_data_table_and_grid(tmp_path, capsys):
    assert main(["data"]) == 0
    assert "digits" in capsys.readouterr().out
    assert main(["data", "digits", "--grid", str(tmp_path / "g.png"), "-n", "16"]) == 0
    assert Image.open(tmp_path / "g.png").size[0] > 8
    assert main(["data", "ring8", "--grid", str(tmp_path / "r.png")]) == 0


@pytest.mark.parametrize("argv, message", [
    (["train", "gan", "--data", "ring8", "--stesp", "3"], "did you mean '--steps'"),
    (["train", "gan", "--data", "ring8", "--set", "train.bach_size=3"], "did you mean 'batch_size'"),
    (["train", "gna", "--data", "ring8"], "did you mean 'gan'"),
    (["train", "gan", "--data", "ring9"], "ring8"),
    (["train", "--preset", "dmeo"], "did you mean 'demo'"),
    (["sample", "/nonexistent/run"], "not a gankit run directory"),
    (["train", "gan", "--data", "ring8", "--precision", "fp8"], "invalid choice"),
    (["train", "gan", "--data", "ring8", "--set", "train.k=0"], "train.k must be at least 1"),
    (["train", "dcgan", "--data", "ring8"], "use the 'gan' model for toy point data"),
    pytest.param(["train", "gan", "--data", "ring8", "--device", "cuda"], "no CUDA device",
                 marks=pytest.mark.skipif(__import__("torch").cuda.is_available(), reason="a GPU is present")),
])
def test_bad_input_fails_with_a_suggestion(argv, message, capsys, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    assert main(argv) == 2
    assert message in capsys.readouterr().err
    assert not (tmp_path / "runs").exists()  # nothing half-made is left behind


def test_preset_with_explicit_overrides(tmp_path):
    out = tmp_path / "demo"
    # The demo preset trains for minutes; an explicit --steps replaces its whole budget.
    assert main(["train", "--preset", "demo", "--data", "digits", "--steps", "2", "--out", str(out), "--no-progress",
                 "--set", "model.fc=16", "--set", "model.g_base=8", "--set", "model.d_base=8"]) == 0
    config = yaml.safe_load((out / "config.yaml").read_text())
    assert config["model"] == "dcgan" and config["data"]["name"] == "digits"
    assert config["options"]["fc"] == 16 and config["train"]["ema"] == 0.999  # overridden / the preset's own
    assert config["train"]["steps"] == 2 and config["train"]["minutes"] is None


def test_module_entry_point_help():
    done = subprocess.run([sys.executable, "-m", "gankit", "train", "--help"], capture_output=True, text=True,
                          env={"PYTHONPATH": str(Path(__file__).parents[1] / "src"), "PATH": ""})
    assert done.returncode == 0 and "--resume" in done.stdout and "examples:" in done.stdout


def test_eval_a_real_run_appends_to_its_metrics(run_dir, tmp_path):
    out = tmp_path / "e.json"
    assert main(["eval", str(run_dir), "-n", "200", "--metrics", "fid,score,nn", "--json", str(out), "--quiet"]) == 0
    result = json.loads(out.read_text())
    assert {"fid", "classifier_score", "class_kl", "nn_ratio"} <= result.keys()
    assert "cond_accuracy" not in result  # an unconditional generator is not asked for classes
    last = json.loads((run_dir / "metrics.jsonl").read_text().splitlines()[-1])
    assert last["eval"] is True and last["fid"] == result["fid"]
    figure = Image.open(run_dir / "nearest_neighbours.png")  # GAN paper Fig. 2: sample | 3 nearest
    assert figure.width > 3 * figure.height / 8


def test_theory_command_is_wired(capsys):
    assert main(["theory", "--help"]) == 0
    assert "--dstar-steps" in capsys.readouterr().out


def test_epochs_and_minutes_budgets(tmp_path):
    # digits: 1,433 training images -> 22 batches of 64 per epoch; k = 1 takes one real batch per step.
    out = tmp_path / "epochs"
    assert main(["train", "gan", "--data", "digits", "--epochs", "2", "--out", str(out), "--no-progress"]) == 0
    rows = [json.loads(line) for line in (out / "metrics.jsonl").read_text().splitlines()]
    assert rows[-1]["step"] == 44 and rows[-1]["epoch"] == 2.0
    out = tmp_path / "minutes"  # a tiny wall-clock budget stops a run that has no step limit
    assert main(["train", "gan", "--data", "digits", "--minutes", "0.02", "--out", str(out), "--no-progress"]) == 0
    rows = [json.loads(line) for line in (out / "metrics.jsonl").read_text().splitlines()]
    assert rows[-1]["step"] >= 1 and rows[-1]["time"] >= 1.2  # it ran until its deadline (0.02 min), not less
