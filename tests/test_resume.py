"""Checkpoints resume exactly: N steps + resume to 2N == 2N uninterrupted (CPU, same seed)."""

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
import torch

from gankit.config import RunConfig
from gankit.train.checkpoint import checkpoint_dirs, latest_checkpoint, load_weights
from gankit.train.trainer import train


def config(model, data, steps, **train_options):
    cfg = RunConfig(model=model)
    cfg.data.name = data
    cfg.train.steps = steps
    cfg.train.log_every = 5
    cfg.train.sample_every = 1000
    cfg.train.checkpoint_every = 1000
    cfg.train.batch_size = 32
    for k, v in train_options.items():
        setattr(cfg.train, k, v)
    return cfg


def final_weights(run_dir):
    return load_weights(latest_checkpoint(run_dir))


@pytest.mark.parametrize("model, data, options", [
    ("gan", "ring8", {"k": 2, "ema": 0.9}),  # dropout (global RNG), k > 1, EMA
    ("dcgan", "digits", {}),  # BatchNorm, the shared k = 1 generator pass
])
def test_resume_is_bit_exact(tmp_path, model, data, options):
    train(config(model, data, 12, **options), tmp_path / "straight", progress=False)
    train(config(model, data, 6, **options), tmp_path / "resumed", progress=False)
    train(config(model, data, 12, **options), tmp_path / "resumed", resume=True, progress=False)
    a, b = final_weights(tmp_path / "straight"), final_weights(tmp_path / "resumed")
    assert a.keys() == b.keys()
    for key in a:
        assert torch.equal(a[key], b[key]), key
    # And training did change the weights (the comparison is not between two initialisations).
    first = load_weights(checkpoint_dirs(tmp_path / "resumed")[0])
    assert any(not torch.equal(first[k], a[k]) for k in a)


def test_existing_run_is_not_overwritten_and_resume_needs_a_checkpoint(tmp_path):
    train(config("gan", "ring8", 2), tmp_path / "run", progress=False)
    with pytest.raises(FileExistsError, match="--resume"):
        train(config("gan", "ring8", 4), tmp_path / "run", progress=False)
    with pytest.raises(FileNotFoundError, match="no checkpoint"):
        train(config("gan", "ring8", 4), tmp_path / "empty", resume=True, progress=False)


def test_config_records_every_model_option_so_a_new_default_cannot_change_a_resumed_run(tmp_path):
    from dataclasses import fields

    from gankit.config import read_run_config
    from gankit.models.registry import recipe_class

    train(config("gan", "ring8", 2), tmp_path / "run", progress=False)
    saved, _ = read_run_config(tmp_path / "run")
    assert set(saved.options) == {f.name for f in fields(recipe_class("gan").Options)}
    assert saved.options["pack"] == 1
    # The Python API may still resume with the options left out: they resolve to the same values.
    train(config("gan", "ring8", 4), tmp_path / "run", resume=True, progress=False)


def test_keeps_last_n_checkpoints(tmp_path):
    train(config("gan", "ring8", 10, checkpoint_every=2, keep_checkpoints=2), tmp_path / "run", progress=False)
    assert [p.name for p in checkpoint_dirs(tmp_path / "run")] == ["step_00000008", "step_00000010"]
    assert not list((tmp_path / "run" / "checkpoints").glob(".tmp*"))


def test_ctrl_c_writes_a_checkpoint_that_resumes(tmp_path):
    run = tmp_path / "run"
    env = {**os.environ, "PYTHONPATH": str(Path(__file__).parents[1] / "src")}
    cmd = [sys.executable, "-m", "gankit", "train", "gan", "--data", "ring8", "--out", str(run),
           "--steps", "1000000", "--no-progress", "--set", "train.log_every=1"]
    proc = subprocess.Popen(cmd, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    deadline = time.monotonic() + 120
    while not (run / "metrics.jsonl").exists() and time.monotonic() < deadline:  # training has started
        time.sleep(0.2)
    proc.send_signal(signal.SIGINT)
    out, _ = proc.communicate(timeout=120)
    assert proc.returncode == 0, out
    assert "stopped early" in out
    stopped = latest_checkpoint(run)
    assert stopped is not None
    step = int(stopped.name.split("_")[1])
    cmd[cmd.index("1000000")] = str(step + 3)
    done = subprocess.run(cmd + ["--resume"], env=env, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    assert latest_checkpoint(run).name == f"step_{step + 3:08d}"
