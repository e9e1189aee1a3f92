"""DDP on CPU (gloo): 2 ranks x B equals 1 rank x 2B; checkpoints cross between DDP and one process;
the CLI runs under torchrun; a killed rank ends the job."""

import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest
import torch
import torch.multiprocessing as mp

from gankit.config import RunConfig
from gankit.train.checkpoint import latest_checkpoint, load_weights
from gankit.train.trainer import train

SRC = str(Path(__file__).parents[1] / "src")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def config(batch_size: int, steps: int = 1) -> RunConfig:
    cfg = RunConfig(model="gan")  # no BatchNorm, and no dropout below: the comparison is exact up to float sums
    cfg.data.name = "ring8"
    cfg.options = {"g_widths": [32, 32], "d_widths": [32, 32], "dropout": 0.0, "latent_dim": 8}
    cfg.train.batch_size = batch_size
    cfg.train.steps = steps
    cfg.train.log_every = 1
    cfg.train.sample_every = 1000
    cfg.train.collective_timeout_s = 60
    cfg.train.precision = "fp32"  # exact up to float sums: bf16 rounding would hide the comparison
    return cfg


def rank_main(rank: int, world_size: int, port: int, run_dir: str, batch_size: int, steps: int) -> None:
    os.environ.update(RANK=str(rank), WORLD_SIZE=str(world_size), LOCAL_RANK=str(rank),
                      MASTER_ADDR="127.0.0.1", MASTER_PORT=str(port))
    torch.set_num_threads(1)
    train(config(batch_size, steps), run_dir, progress=False)


def spawn_ddp(run_dir: Path, batch_size: int, steps: int) -> None:
    mp.start_processes(rank_main, args=(2, free_port(), str(run_dir), batch_size, steps), nprocs=2,
                       join=True, start_method="spawn")


def test_two_ranks_of_b_equal_one_rank_of_2b(tmp_path):
    spawn_ddp(tmp_path / "ddp", batch_size=16, steps=1)
    train(config(batch_size=32, steps=1), tmp_path / "single", progress=False)
    a, b = load_weights(latest_checkpoint(tmp_path / "ddp")), load_weights(latest_checkpoint(tmp_path / "single"))
    assert a.keys() == b.keys()
    for key in a:
        torch.testing.assert_close(a[key], b[key], rtol=1e-5, atol=1e-6, msg=key)
    # The comparison is meaningful: a rank that trained on only its own half would differ.
    train(config(batch_size=16, steps=1), tmp_path / "half", progress=False)
    c = load_weights(latest_checkpoint(tmp_path / "half"))
    assert any(not torch.allclose(a[k], c[k], rtol=1e-5, atol=1e-6) for k in a)


@pytest.mark.slow
def test_ddp_checkpoint_resumes_in_one_process_and_back(tmp_path):
    run = tmp_path / "run"
    spawn_ddp(run, batch_size=16, steps=3)
    cfg = config(batch_size=16, steps=5)
    train(cfg, run, resume=True, progress=False)  # one process continues the 2-rank run
    assert latest_checkpoint(run).name == "step_00000005"
    mp.start_processes(resume_rank_main, args=(2, free_port(), str(run), 16, 7), nprocs=2, join=True,
                       start_method="spawn")  # and DDP continues the single-process run
    assert latest_checkpoint(run).name == "step_00000007"


def resume_rank_main(rank, world_size, port, run_dir, batch_size, steps):
    os.environ.update(RANK=str(rank), WORLD_SIZE=str(world_size), LOCAL_RANK=str(rank),
                      MASTER_ADDR="127.0.0.1", MASTER_PORT=str(port))
    torch.set_num_threads(1)
    train(config(batch_size, steps), run_dir, resume=True, progress=False)


def torchrun(args: list[str], **kwargs) -> subprocess.Popen:
    env = {**os.environ, "PYTHONPATH": SRC, "OMP_NUM_THREADS": "1"}
    cmd = [sys.executable, "-m", "torch.distributed.run", "--nproc_per_node=2", "--master_port", str(free_port()),
           "-m", "gankit", *args]
    return subprocess.Popen(cmd, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, **kwargs)


def layout(run: Path) -> set[str]:
    return {str(p.relative_to(run)) for p in run.rglob("*")}


@pytest.mark.slow
@pytest.mark.skipif(not Path("/usr/share/datasets/fashion-mnist").exists(), reason="Fashion-MNIST not installed")
def test_cli_under_torchrun_makes_the_same_run_directory(tmp_path):
    common = ["train", "dcgan", "--data", "fashion-mnist", "--steps", "4", "--batch-size", "16", "--no-progress",
              "--set", "model.g_base=8", "--set", "model.d_base=8", "--set", "train.sample_every=2",
              "--set", "train.log_every=2"]
    proc = torchrun([*common, "--out", str(tmp_path / "ddp")])
    out, _ = proc.communicate(timeout=300)
    assert proc.returncode == 0, out
    from gankit.cli import main

    assert main([*common, "--out", str(tmp_path / "single")]) == 0
    assert layout(tmp_path / "ddp") == layout(tmp_path / "single")
    assert (tmp_path / "ddp" / "samples" / "step_000004.png").exists()


@pytest.mark.slow
def test_a_killed_rank_ends_the_job(tmp_path):
    run = tmp_path / "run"
    proc = torchrun(["train", "gan", "--data", "ring8", "--steps", "100000000", "--no-progress", "--out", str(run),
                     "--set", "train.log_every=1", "--set", "train.collective_timeout_s=20"],
                    start_new_session=True)
    try:
        deadline = time.monotonic() + 120
        while not (run / "metrics.jsonl").exists():
            assert time.monotonic() < deadline and proc.poll() is None, proc.communicate()[0]
            time.sleep(0.2)
        workers = subprocess.run(["pgrep", "-f", "-P", str(proc.pid), "gankit"], capture_output=True, text=True)
        pids = [int(p) for p in workers.stdout.split()]
        assert len(pids) == 2, workers.stdout
        os.kill(pids[1], signal.SIGKILL)
        start = time.monotonic()
        proc.communicate(timeout=90)  # bounded: a hang fails the test here
        assert proc.returncode != 0
        assert time.monotonic() - start < 90
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)
