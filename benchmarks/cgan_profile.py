"""Where an iteration's time goes: gankit's Trainer against the classic ``cgan.py`` loop (same networks).

    PYTHONPATH=src python benchmarks/cgan_profile.py

Prints one row per loop: wall milliseconds per iteration (300 iterations after 30 of warm-up),
images/s, and from ``torch.profiler`` the self time per iteration of the matmuls (``aten::mm`` +
``aten::addmm``), of the dropout masks (``aten::bernoulli_``) and of fused Adam kernels (the
classic loop's for-loop Adam is spread over element-wise ops and not counted here).
"""

from __future__ import annotations

import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import torch
from torch.profiler import ProfilerActivity, profile
from torch.utils.data import DataLoader

sys.path.insert(0, str(Path(__file__).resolve().parent))
import classic_conditional  # noqa: E402
import throughput  # noqa: E402
from gankit.data import load_dataset  # noqa: E402
from gankit.train.trainer import Trainer  # noqa: E402

ITERATIONS, WARMUP, PROFILED = 300, 30, 100


def wall_ms(step) -> float:
    for _ in range(WARMUP):
        step()
    start = time.perf_counter()
    for _ in range(ITERATIONS):
        step()
    return (time.perf_counter() - start) / ITERATIONS * 1e3


def profiled_ms(step) -> tuple[float, float, float]:
    """(matmul, dropout-mask, fused-Adam) self milliseconds per iteration."""
    with profile(activities=[ProfilerActivity.CPU]) as prof:
        for _ in range(PROFILED):
            step()
    own = {e.key: e.self_cpu_time_total for e in prof.key_averages()}  # microseconds
    matmul = own.get("aten::mm", 0) + own.get("aten::addmm", 0)
    adam = sum(v for k, v in own.items() if k.startswith("aten::") and "adam" in k)
    return tuple(v / PROFILED / 1e3 for v in (matmul, own.get("aten::bernoulli_", 0), adam))


def main() -> None:
    config = next(c for c in throughput.CONFIGS if c.name == "cgan-classic")
    run_dir = Path(tempfile.mkdtemp(prefix="gankit-profile-")) / "run"
    trainer = Trainer(throughput.make_run_config(config, "fp32"), run_dir, progress=False)
    totals, counts = {}, {}

    torch.manual_seed(0)
    np.random.seed(0)
    data = load_dataset("fashion-mnist", "train")
    loader = DataLoader(throughput.PILImageDataset(data.x, data.y, 32), batch_size=throughput.BATCH, shuffle=True)
    g, d = classic_conditional.cgan_nets(1, 32)
    opt_g = torch.optim.Adam(g.parameters(), lr=2e-4, betas=(0.5, 0.999))
    opt_d = torch.optim.Adam(d.parameters(), lr=2e-4, betas=(0.5, 0.999))
    batches = iter(())

    def next_batch():
        nonlocal batches
        try:
            return next(batches)
        except StopIteration:
            batches = iter(loader)
            return next(batches)

    fixed = next_batch()

    def classic(batch):
        d_loss, g_loss = classic_conditional.cgan_step(g, d, opt_g, opt_d, *batch)
        d_loss.item(), g_loss.item()  # the script's per-batch log line

    loops = {"gankit iteration": lambda: trainer.iteration(totals, counts),
             "classic loop": lambda: classic(next_batch()),
             "classic step without its data pipeline": lambda: classic(fixed),
             "classic data pipeline alone": next_batch}
    print(f"threads {torch.get_num_threads()}, batch {throughput.BATCH}")
    print("| loop | ms / iteration | img/s | matmul ms | dropout-mask ms | fused Adam ms |")
    print("|---|--:|--:|--:|--:|--:|")
    for name, step in loops.items():
        ms = wall_ms(step)
        parts = profiled_ms(step) if step is not next_batch else (0.0, 0.0, 0.0)
        print(f"| {name} | {ms:.2f} | {throughput.BATCH / ms * 1e3:,.0f} | " + " | ".join(f"{v:.2f}" for v in parts) + " |")


if __name__ == "__main__":
    main()
