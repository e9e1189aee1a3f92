"""Kill training with SIGKILL anywhere, resume, and still end bit-identical to an uninterrupted run.

SIGKILL cannot be caught: the process stops between two machine instructions, whatever it was
doing (importing torch, training, half-way through writing a checkpoint, deleting an old one).
A checkpoint is saved every step, so many kills land inside a write. The test checks after every
kill that each ``step_*`` folder is complete and that the newest loads safely, restarts (with
``--resume`` once a checkpoint exists), and at the end compares the final weights, bit for bit,
with the same configuration trained in one go.

Measured on the shared 2-core CPU machine: 24 kills aimed 8 at start-up, 8 at training and 8 at
checkpoint writes; where they landed in one run: 8 in start-up, 5 in training between saves, 11
inside a checkpoint write (a save takes most of a step here). 25 starts, 120 s of killing and
resuming, about 145 s for the whole test with the uninterrupted run. Most of it is start-up
(importing torch, 4-8 s a start under load).
"""

import os
import random
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
import torch

from gankit.train.checkpoint import PREFIX, TMP, latest_checkpoint, load_state, load_weights

STEPS = 400  # ~15-20 s of training uninterrupted, checkpointing every step
KILLS = 24
SLOW_DOWN = 200  # seconds: after this long, stop killing and let the run finish
ARGS = ["train", "gan", "--data", "ring8", "--steps", str(STEPS), "--no-progress", "--batch-size", "64",
        "--set", "train.checkpoint_every=1", "--set", "train.log_every=1", "--set", "train.keep_checkpoints=2",
        "--set", "model.g_widths=[32,32]", "--set", "model.d_widths=[32,32]", "--set", "model.latent_dim=8"]
ENV = {**os.environ, "PYTHONPATH": str(Path(__file__).parents[1] / "src"), "OMP_NUM_THREADS": "1"}


def start(run: Path, log: Path) -> subprocess.Popen:
    resume = ["--resume"] if latest_checkpoint(run) is not None else []
    with open(log, "ab") as out:
        return subprocess.Popen([sys.executable, "-m", "gankit", *ARGS, "--out", str(run), *resume], env=ENV,
                                stdout=out, stderr=subprocess.STDOUT)


def own_files(folder: Path, pid: int) -> list[str]:
    """Temporary folders of process ``pid`` in checkpoints/ (its saves in progress)."""
    try:
        return [name for name in os.listdir(folder) if name.startswith(TMP) and name.endswith(f"-{pid}")]
    except FileNotFoundError:
        return []


def newest_step(names: list[str]) -> int:
    return max((int(name[len(PREFIX):]) for name in names if name.startswith(PREFIX)), default=0)


def kill_somewhere(proc: subprocess.Popen, folder: Path, aim: str, rng: random.Random,
                   startup_s: float) -> float | None:
    """SIGKILL ``proc`` at a random moment of the phase ``aim`` names (unless it finishes first).

    ``start-up``: a random delay after launch, up to ``startup_s`` (how long importing torch,
    building the run and loading the checkpoint took last time). ``training``: a random delay
    after its first save. ``write``: the moment the temporary folder of a save is seen, after a
    random number of steps. Each start trains at most a dozen steps or so, whatever the machine's
    speed, so the run cannot finish before the kills are done. Returns the start-up time seen.
    """
    launched = time.monotonic()
    first = newest_step(os.listdir(folder)) if folder.is_dir() else 0
    cap = rng.randint(0 if aim == "write" else 1, 12)
    delay = rng.uniform(0.2, startup_s) if aim == "start-up" else rng.uniform(0, 0.8)
    training_since = None
    while proc.poll() is None:
        names = os.listdir(folder) if folder.is_dir() else []
        writing = any(name.startswith(TMP) and name.endswith(f"-{proc.pid}") for name in names)
        progress = newest_step(names) - first
        now = time.monotonic()
        if training_since is None and (writing or progress > 0):
            training_since = now
        if aim == "write":
            due = writing and progress >= cap
        else:
            since = launched if aim == "start-up" else training_since
            due = progress >= cap or (since is not None and now - since >= delay)
        if due:
            proc.send_signal(signal.SIGKILL)
            break
        time.sleep(0.001)
    return None if training_since is None else training_since - launched


def check_checkpoints(run: Path) -> None:
    """Every visible checkpoint is whole; the newest loads (weights_only) and holds finite weights."""
    folder = run / "checkpoints"
    if not folder.is_dir():
        return
    for path in folder.iterdir():
        if path.name.startswith(PREFIX):
            assert {p.name for p in path.iterdir()} == {"weights.safetensors", "state.pt"}, path
    newest = latest_checkpoint(run)
    if newest is not None:
        assert load_state(newest)["step"] == int(newest.name[len(PREFIX):])
        assert all(torch.isfinite(w).all() for w in load_weights(newest).values())


@pytest.mark.slow
def test_sigkill_anywhere_then_resume_is_bit_exact(tmp_path):
    began = time.monotonic()
    rng = random.Random(2024)
    run, log = tmp_path / "killed", tmp_path / "killed.log"
    folder = run / "checkpoints"
    landed = {"start-up": 0, "training": 0, "checkpoint write": 0}
    starts = kills = 0
    startup_s = 4.0  # until measured
    aims = ["start-up", "training", "write"] * (KILLS // 3)
    rng.shuffle(aims)
    steps = []  # the newest checkpoint's step after each kill
    while True:
        before = latest_checkpoint(run)
        proc = start(run, log)
        starts += 1
        if kills < len(aims) and time.monotonic() - began < SLOW_DOWN:
            startup_s = kill_somewhere(proc, folder, aims[kills], rng, startup_s) or startup_s
        code = proc.wait(timeout=300)
        if code == 0:
            break
        assert code == -signal.SIGKILL, log.read_text()[-3000:]
        kills += 1
        if own_files(folder, proc.pid):
            landed["checkpoint write"] += 1
        elif latest_checkpoint(run) != before:
            landed["training"] += 1
        else:
            landed["start-up"] += 1
        check_checkpoints(run)
        newest = latest_checkpoint(run)
        steps.append(int(newest.name[len(PREFIX):]) if newest else 0)
    print(f"\n{kills} kills ({landed}), {starts} starts, {time.monotonic() - began:.0f} s; steps {steps}")
    assert kills >= 20, landed
    assert landed["checkpoint write"] >= 1 and landed["training"] >= 1 and landed["start-up"] >= 1, landed
    killed = latest_checkpoint(run)
    assert killed.name == f"{PREFIX}{STEPS:08d}"
    assert not list(folder.glob(TMP + "*")), "leftovers of killed writes are swept by the next save"

    straight = tmp_path / "straight"
    subprocess.run([sys.executable, "-m", "gankit", *ARGS, "--out", str(straight)], env=ENV, check=True,
                   stdout=subprocess.DEVNULL)
    a, b = load_weights(latest_checkpoint(straight)), load_weights(killed)
    assert a.keys() == b.keys()
    for key in a:
        assert torch.equal(a[key], b[key]), key
    sa, sb = load_state(latest_checkpoint(straight)), load_state(killed)
    assert (sa["step"], sa["images"]) == (sb["step"], sb["images"])
    for name in sa["optimizers"]:  # the Adam moments too
        for index, moments in sa["optimizers"][name]["state"].items():
            for key, value in moments.items():
                assert torch.equal(value, sb["optimizers"][name]["state"][index][key]), (name, index, key)
    print(f"total {time.monotonic() - began:.0f} s")
