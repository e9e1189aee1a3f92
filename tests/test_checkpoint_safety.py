"""Checkpoints load without unpickling code, and are written durably.

``state.pt`` is read with ``torch.load(..., weights_only=True)``: a run directory from someone else
can hold a ``state.pt`` whose unpickling would call ``os.system``; gankit must refuse it before
any of it runs, with one clear error, through the library (``load_state``, ``gankit.load``) and
through ``gankit train --resume``.
"""

import os
import pathlib
import pickle
import random

import numpy as np
import pytest
import torch

import gankit
from gankit.cli import main
from gankit.config import RunConfig
from gankit.train import checkpoint as ckpt
from gankit.train.checkpoint import CheckpointError, latest_checkpoint, load_state
from gankit.train.trainer import train

SMALL = ["--set", "model.g_widths=[32,32]", "--set", "model.d_widths=[32,32]", "--set", "model.latent_dim=8"]


def small_run(run_dir, steps=3, **train_options):
    """A real Trainer checkpoint: Adam states, a generator state, an EMA, streams, RNG states."""
    cfg = RunConfig(model="gan")
    cfg.data.name = "ring8"
    cfg.options.update({"g_widths": [32, 32], "d_widths": [32, 32], "latent_dim": 8})
    cfg.train.steps = steps
    cfg.train.batch_size = 64
    cfg.train.log_every = 1
    cfg.train.sample_every = 1000
    for k, v in {"k": 2, "ema": 0.9, **train_options}.items():
        setattr(cfg.train, k, v)
    train(cfg, run_dir, progress=False)
    return latest_checkpoint(run_dir)


class TouchOnLoad:
    """Unpickling this calls ``Path.touch(marker)``: a stand-in for any code an attacker picks."""

    # torch.save pickles with protocol 2, which reaches a method as getattr(pathlib.Path, "touch").
    shows_as = "builtins.getattr"

    def __init__(self, marker):
        self.marker = pathlib.Path(marker)

    def __reduce__(self):
        return pathlib.Path.touch, (self.marker,)


class SystemOnLoad:
    """Unpickling this runs a shell command."""

    shows_as = f"{os.system.__module__}.system"  # posix.system

    def __init__(self, marker):
        self.marker = str(marker)

    def __reduce__(self):
        return os.system, (f"echo pwned > '{self.marker}'",)


def tamper(checkpoint, payload, old_rng=False):
    """Rewrite a checkpoint's state.pt with ``payload`` hidden in the recipe's extra state."""
    path = checkpoint / "state.pt"
    state = torch.load(path, weights_only=True)
    state["recipe"] = {"extra": payload}
    if old_rng:
        state["rng"]["numpy"] = np.random.get_state()
    torch.save(state, path)


# --- the safe format ---------------------------------------------------------------------------
def test_a_trainer_checkpoint_loads_with_weights_only(tmp_path):
    checkpoint = small_run(tmp_path / "run")
    path = checkpoint / "state.pt"
    assert torch.serialization.get_unsafe_globals_in_checkpoint(path) == []
    state = torch.load(path, weights_only=True)  # raises if anything needs more than weights_only
    assert set(state) >= {"step", "images", "elapsed", "rng", "noise", "streams", "optimizers", "recipe"}
    assert state["step"] == 3
    assert state["optimizers"]["D"]["state"], "the Adam moments are in the checkpoint"
    assert isinstance(state["noise"], torch.Tensor) and state["noise"].dtype == torch.uint8
    # load_state is that same safe load.
    again = load_state(checkpoint)
    assert torch.equal(again["rng"]["numpy"]["key"], state["rng"]["numpy"]["key"])


def test_rng_state_round_trips_bit_exactly_through_a_safe_load(tmp_path):
    torch.manual_seed(1)
    np.random.seed(2)
    random.seed(3)
    np.random.normal()  # leaves a cached Gaussian in numpy's legacy state
    random.gauss(0, 1)  # and in Python's
    torch.save({"rng": ckpt.rng_state()}, tmp_path / "state.pt")
    expected = (torch.rand(5), np.random.normal(size=5), np.random.randint(0, 2**31, 5),
                [random.random() for _ in range(5)], random.gauss(0, 1))
    torch.manual_seed(99)
    np.random.seed(99)
    random.seed(99)
    ckpt.set_rng_state(load_state(tmp_path)["rng"])
    got = (torch.rand(5), np.random.normal(size=5), np.random.randint(0, 2**31, 5),
           [random.random() for _ in range(5)], random.gauss(0, 1))
    assert torch.equal(expected[0], got[0])
    assert np.array_equal(expected[1], got[1]) and np.array_equal(expected[2], got[2])
    assert expected[3:] == got[3:]


def test_a_checkpoint_of_the_previous_format_still_loads_and_restores(tmp_path):
    """Older gankit saved np.random.get_state()'s tuple (a uint32 ndarray) and random.getstate()."""
    np.random.seed(5)
    random.seed(6)
    old = {"torch": torch.get_rng_state(), "numpy": np.random.get_state(), "python": random.getstate()}
    torch.save({"step": 1, "rng": old}, tmp_path / "state.pt")
    expected = (np.random.rand(3), random.random())
    np.random.seed(0)
    random.seed(0)
    state = load_state(tmp_path)
    ckpt.set_rng_state(state["rng"])
    assert np.array_equal(np.random.rand(3), expected[0]) and random.random() == expected[1]


# --- tampered files ------------------------------------------------------------------------------
@pytest.mark.parametrize("payload_class", [TouchOnLoad, SystemOnLoad])
def test_the_payload_is_real(tmp_path, payload_class):
    """The payloads below do run code when unpickled without restriction (so refusing them means something)."""
    marker = tmp_path / "marker"
    pickle.loads(pickle.dumps(payload_class(marker)))
    assert marker.exists()


@pytest.mark.parametrize("payload_class", [TouchOnLoad, SystemOnLoad])
@pytest.mark.parametrize("old_rng", [False, True], ids=["new-format", "old-numpy-rng"])
def test_a_tampered_state_is_refused_before_it_runs(tmp_path, payload_class, old_rng):
    checkpoint = small_run(tmp_path / "run", steps=2)
    marker = tmp_path / "marker"
    tamper(checkpoint, payload_class(marker), old_rng=old_rng)
    with pytest.raises(CheckpointError, match="not a gankit checkpoint state that loads safely") as info:
        load_state(checkpoint)
    message = str(info.value)
    assert "refuses to unpickle" in message and "\n" not in message
    assert payload_class.shows_as in message  # says what it contains
    # The numpy allowance for old checkpoints does not let anything else through.
    assert not marker.exists()
    with pytest.raises(CheckpointError):
        gankit.load(tmp_path / "run")
    assert not marker.exists()


def test_a_plain_pickle_in_place_of_state_pt_is_refused(tmp_path):
    marker = tmp_path / "marker"
    (tmp_path / "state.pt").write_bytes(pickle.dumps({"step": TouchOnLoad(marker)}, protocol=2))
    with pytest.raises(CheckpointError, match="could run code"):
        load_state(tmp_path)
    assert not marker.exists()


def test_resume_of_a_tampered_run_fails_in_one_line(tmp_path, capsys):
    run = tmp_path / "run"
    args = ["train", "gan", "--data", "ring8", "--out", str(run), "--no-progress", "--batch-size", "64", *SMALL]
    assert main([*args, "--steps", "2"]) == 0
    marker = tmp_path / "marker"
    tamper(latest_checkpoint(run), SystemOnLoad(marker))
    capsys.readouterr()
    assert main([*args, "--steps", "4", "--resume"]) == 2
    err = capsys.readouterr().err
    lines = [line for line in err.splitlines() if line.strip()]
    assert len(lines) == 1, err
    assert lines[0].startswith("gankit: error: ") and "refuses to unpickle" in lines[0]
    assert not marker.exists()


# --- durable, atomic writes ----------------------------------------------------------------------
def test_save_flushes_files_and_folders_before_and_after_the_rename(tmp_path, monkeypatch):
    synced = []
    real = ckpt.fsync_path
    monkeypatch.setattr(ckpt, "fsync_path", lambda path, directory=False: (synced.append(pathlib.Path(path).name),
                                                                           real(path, directory)))
    weights = {"w": torch.ones(3)}
    for step in (1, 2, 3):
        ckpt.save_checkpoint(tmp_path, step, weights, {"step": step}, keep=2)
    tmp = f".tmp-step_00000003-{os.getpid()}"
    # The last save: both files and the temporary folder, then checkpoints/ after the rename and
    # again after deleting step 1.
    assert synced[-5:] == ["weights.safetensors", "state.pt", tmp, "checkpoints", "checkpoints"]
    assert [p.name for p in ckpt.checkpoint_dirs(tmp_path)] == ["step_00000002", "step_00000003"]
    assert not list((tmp_path / "checkpoints").glob(".tmp-*"))


def test_leftovers_of_a_killed_save_are_ignored_and_swept(tmp_path):
    folder = tmp_path / "checkpoints"
    ckpt.save_checkpoint(tmp_path, 1, {"w": torch.zeros(2)}, {"step": 1}, keep=3)
    # A writer killed half-way (its process is gone): a temporary folder with one file, no rename.
    dead = folder / ".tmp-step_00000002-999999999"
    dead.mkdir()
    (dead / "weights.safetensors").write_bytes(b"half")
    assert latest_checkpoint(tmp_path).name == "step_00000001"
    ckpt.save_checkpoint(tmp_path, 2, {"w": torch.ones(2)}, {"step": 2}, keep=3)
    assert not dead.exists()
    assert latest_checkpoint(tmp_path).name == "step_00000002"
    # Re-saving a step replaces it whole.
    ckpt.save_checkpoint(tmp_path, 2, {"w": torch.full((2,), 7.0)}, {"step": 2}, keep=3)
    assert torch.equal(ckpt.load_weights(latest_checkpoint(tmp_path))["w"], torch.full((2,), 7.0))
    assert sorted(p.name for p in folder.iterdir()) == ["step_00000001", "step_00000002"]
