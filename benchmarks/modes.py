"""Mode collapse: which stability trick fixes what, on ring8, grid25 and stacked MNIST.

Every row trains the same networks with one trick switched on (or none), for a fixed number of
steps, on several seeds, and counts the modes its generator covers (VEEGAN / PacGAN protocol):

* ring8 / grid25: 2,500 samples; a sample is high quality when it lies within 3 standard deviations
  of its nearest centre; a mode is covered when it has at least one high-quality sample.
* stacked-mnist: 26,000 samples whose three channels are read by gankit's digit classifier; the
  modes covered (of 1,000) and the KL divergence of the mode histogram to uniform.

The published figures (VEEGAN, Srivastava et al. 2017; PacGAN, Lin et al. 2018; Unrolled GAN,
Metz et al. 2017, as tabulated by PacGAN) stand beside the rows; they were trained far longer.

    python benchmarks/modes.py --data ring8,grid25 --steps 2000 --seeds 0,1,2 --workers 2
    python benchmarks/modes.py --data stacked-mnist --rows "DCGAN,PacDCGAN2" --steps 1500 --seeds 0
    python benchmarks/modes.py --presets ring8-best,grid25-best --seeds 0,1,2 --workers 2

``--presets`` trains each named preset as a user would (``gankit train --preset NAME --seed S``, its
own networks and budget, one torch thread per worker) and counts its modes the same way.
"""

from __future__ import annotations

import argparse
import datetime
import json
import sys
import tempfile
import time
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).parent))
from machine import cpu_model  # noqa: E402

# The networks: MLPs with ReLU and no dropout. The grid's are VEEGAN's / PacGAN's 4 hidden layers of
# 400 units; the ring's are the smaller ones of Metz et al. (G 2 x 128, D 1 x 128 here).
# fp32 on every CPU (train.precision would pick bf16 on some), so the rows compare across machines.
TOY_MLP = {"model.slope": 0.0, "model.dropout": 0.0, "model.latent_dim": 16,
           "train.batch_size": 128, "train.lr_g": 1e-3, "train.lr_d": 1e-3, "train.precision": "fp32"}
BASE = {
    "ring8": {"model": "gan", **TOY_MLP, "model.g_widths": [128, 128], "model.d_widths": [128]},
    "grid25": {"model": "gan", **TOY_MLP, "model.g_widths": [400] * 4, "model.d_widths": [400] * 4},
    "stacked-mnist": {"model": "dcgan", "model.g_base": 32, "model.d_base": 32, "train.batch_size": 64,
                      "train.precision": "fp32"},
}
# Rows: name -> the options it sets on top of the base.
TOY_ROWS = {
    "GAN (minimax)": {"train.loss": "minimax"},
    "GAN (non-saturating)": {},
    "feature matching": {"model.feature_matching": True},
    "minibatch discrimination (B=8)": {"model.minibatch_discrimination": 8},
    "historical averaging (w=0.01)": {"model.historical_averaging": 0.01},
    "one-sided label smoothing (0.9)": {"train.real_label": 0.9},
    "virtual batch norm": {"model.virtual_batchnorm": True, "model.g_batchnorm": True},
    "instance noise (std 0.1)": {"model.instance_noise": 0.1},
    "Unrolled 5": {"model.unrolled_steps": 5},
    "Unrolled 10": {"model.unrolled_steps": 10},
    "PacGAN2": {"model.pack": 2},
    "PacGAN4": {"model.pack": 4},
    "WGAN-GP (lambda=10, k=1)": {"train.loss": "wasserstein", "model.gradient_penalty": 10.0},
    "R1 (gamma=1)": {"model.r1": 1.0},
    "spectral norm": {"model.spectral_norm": True},
    "hinge loss": {"train.loss": "hinge"},
    "TTUR (lr_d = 4 lr_g)": {"train.lr_g": 2.5e-4},
    "mixture latent (K=100)": {"model.latent_components": 100},
    "best: Unrolled 5 + PacGAN2": {"model.unrolled_steps": 5, "model.pack": 2},
    # grid25-best's combination (without its learning-rate decay), measured at the rows' budget.
    "PacGAN4 + instance noise (std 0.5)": {"model.pack": 4, "model.instance_noise": 0.5},
}
STACKED_ROWS = {
    "DCGAN": {},
    "PacDCGAN2": {"model.pack": 2},
    "DCGAN + minibatch discrimination": {"model.minibatch_discrimination": 16},
}
ROWS = {"ring8": TOY_ROWS, "grid25": TOY_ROWS, "stacked-mnist": STACKED_ROWS}
# Published (modes, high-quality %) / (modes, KL): PacGAN's Tables 2-4 (its rows for GAN, Unrolled GAN and
# VEEGAN come from VEEGAN's paper). Their stacked MNIST draws from all 60,000 MNIST digits.
ANCHORS = {
    "ring8": [("GAN", "1", "99.3"), ("Unrolled GAN", "7.6", "35.6"), ("VEEGAN", "8", "52.9"),
              ("PacGAN2", "7.9", "95.6")],
    "grid25": [("GAN", "3.3", "0.5"), ("VEEGAN", "24.6", "40"), ("PacGAN4", "24.8", "93.6")],
    "stacked-mnist": [("DCGAN", "99", "KL 3.4"), ("VEEGAN", "150", "KL 2.95"), ("PacDCGAN2", "1000", "KL 0.06")],
}
SAMPLES = {"ring8": 2500, "grid25": 2500, "stacked-mnist": 26_000}


def run_one(job: tuple[str, str, dict, int, int]) -> dict:
    """Train one row on one seed in a temporary run directory; count its modes."""
    import torch

    from gankit.config import RunConfig, apply_overrides
    from gankit.metrics.evaluate import evaluate
    from gankit.models import Noise
    from gankit.train.trainer import Trainer

    data, row, options, seed, steps = job
    torch.set_num_threads(1)
    options = {**BASE[data], **options}
    cfg = RunConfig(model=options.pop("model"))
    cfg.data.name = data
    apply_overrides(cfg, {**options, "train.steps": steps, "train.seed": seed, "train.log_every": 500,
                          "train.sample_every": 10 ** 9, "train.checkpoint_every": 10 ** 9})
    start = time.monotonic()
    with tempfile.TemporaryDirectory() as run_dir:
        trainer = Trainer(cfg, run_dir, progress=False)
        trainer.fit()
        trained = time.monotonic() - start
        g = trainer.generator().eval()
        chunks = []
        with torch.no_grad():
            noise = Noise.seeded(10_000 + seed)
            for i in range(0, SAMPLES[data], 2000):
                n = min(2000, SAMPLES[data] - i)
                chunks.append(trainer.recipe.generate(trainer.recipe.draw_inputs(n, noise), g).float().numpy())
        trainer.close()
    result = evaluate(np.concatenate(chunks), data, metrics="modes", progress=False,
                      value_range=None if data != "stacked-mnist" else (-1, 1))
    return {"data": data, "row": row, "seed": seed, "steps": steps, "seconds": round(trained, 1),
            **{k: float(v) for k, v in result.items()}}


def run_preset(job: tuple[str, int]) -> dict:
    """Train a preset with ``gankit train`` (its own budget) on one seed; count its modes."""
    import os
    import subprocess

    from gankit.config import load_preset
    from gankit.metrics.evaluate import evaluate
    from gankit.run import Run

    name, seed = job
    data = load_preset(name)["data"]["name"]
    env = {**os.environ, "OMP_NUM_THREADS": "1"}
    with tempfile.TemporaryDirectory() as run_dir:
        start = time.monotonic()
        subprocess.run([sys.executable, "-m", "gankit", "train", "--preset", name, "--seed", str(seed), "--out",
                        run_dir, "--no-progress", "--set", "train.report=false"],
                       env=env, check=True, stdout=subprocess.DEVNULL)
        seconds = time.monotonic() - start
        run = Run(run_dir)
        samples = run.sample_array(SAMPLES[data], seed=10_000 + seed)
        steps = run.step
    result = evaluate(samples, data, metrics="modes", progress=False)
    return {"data": data, "row": f"preset {name}", "seed": seed, "steps": steps, "seconds": round(seconds, 1),
            **{k: float(v) for k, v in result.items()}}


def mean_std(values) -> str:
    values = np.asarray(values, float)
    if np.isnan(values).all():
        return "-"
    return f"{np.nanmean(values):.3g} ± {np.nanstd(values):.2g}" if len(values) > 1 else f"{values[0]:.3g}"


def table(data: str, results: list[dict]) -> str:
    toy = data != "stacked-mnist"
    head = ("| row | modes | high quality % | KL to uniform | s/run |" if toy
            else "| row | modes (of 1000) | KL to uniform | s/run |")
    lines = [head, "|" + "---|" * (head.count("|") - 1)]
    for row in dict.fromkeys([*ROWS[data], *(r["row"] for r in results if r["data"] == data)]):
        rs = [r for r in results if r["data"] == data and r["row"] == row]
        if not rs:
            continue
        cells = [row, mean_std([r["modes"] for r in rs])]
        if toy:
            cells.append(mean_std([100 * r["hq_fraction"] for r in rs]))
        cells += [mean_std([r["mode_kl"] for r in rs]), f"{np.mean([r['seconds'] for r in rs]):.0f}"]
        lines.append("| " + " | ".join(cells) + " |")
    for name, modes, quality in ANCHORS[data]:
        cells = [f"*published: {name}*", modes] + ([quality, "", ""] if toy else [quality.replace("KL ", ""), ""])
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines)


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                formatter_class=argparse.RawDescriptionHelpFormatter, epilog=__doc__)
    p.add_argument("--data", default="ring8,grid25", help="comma-separated: ring8, grid25, stacked-mnist")
    p.add_argument("--rows", default=None, help="comma-separated row names, or their part before the bracket "
                   "(e.g. \"Unrolled 5,WGAN-GP\"; default: all of the dataset's)")
    p.add_argument("--presets", default=None, help="comma-separated presets (ring8-best, grid25-best, "
                   "stacked-mnist-best) to train with their own budgets instead of the rows")
    p.add_argument("--seeds", default="0,1,2")
    p.add_argument("--steps", type=int, default=2000, help="training iterations per run (default %(default)s)")
    p.add_argument("--workers", type=int, default=2, help="runs in parallel, one torch thread each")
    p.add_argument("--json", default=None, help="append each result as a JSON line to this file")
    p.add_argument("--table", metavar="RESULTS.jsonl", default=None,
                   help="only print the tables of results saved earlier with --json")
    args = p.parse_args(argv)
    if args.table:
        saved = [json.loads(line) for line in Path(args.table).read_text().splitlines() if line.strip()]
        for data in dict.fromkeys(r["data"] for r in saved):
            seeds = sorted({r["seed"] for r in saved if r["data"] == data})
            steps = sorted({r["steps"] for r in saved if r["data"] == data})
            print(f"### {data}: {'/'.join(map(str, steps))} steps, seeds {','.join(map(str, seeds))}\n\n"
                  f"{table(data, saved)}\n")
        return 0
    if args.presets:
        return run_presets(args)
    datasets = args.data.split(",")
    for data in datasets:
        if data not in ROWS:
            p.error(f"unknown --data {data!r}; choose from {', '.join(ROWS)}")
    wanted = None if args.rows is None else [r.strip() for r in args.rows.split(",") if r.strip()]
    names = [row for data in datasets for row in ROWS[data]]
    unknown = [w for w in wanted or () if not any(matches(row, w) for row in names)]
    if unknown:  # a name that matches nothing is an error, not a row silently left out
        p.error(f"--rows: no row is named {', '.join(map(repr, unknown))}; the rows: {'; '.join(dict.fromkeys(names))} "
                "(a name up to its bracket also picks a row, e.g. WGAN-GP)")
    jobs = [(data, row, options, int(seed), args.steps) for data in datasets for row, options in ROWS[data].items()
            if wanted is None or any(matches(row, w) for w in wanted) for seed in args.seeds.split(",")]
    started = datetime.datetime.now(datetime.timezone.utc)
    print(f"# {started:%Y-%m-%d %H:%M} UTC, {cpu_model()}, {len(jobs)} runs, {args.workers} workers", flush=True)
    results = run_all(run_one, jobs, args)
    minutes = (datetime.datetime.now(datetime.timezone.utc) - started).total_seconds() / 60
    print(f"\n{len(jobs)} runs in {minutes:.1f} minutes\n")
    for data in datasets:
        print(f"### {data}: {args.steps} steps, seeds {args.seeds}\n\n{table(data, results)}\n")
    return 0


def matches(row: str, name: str) -> bool:
    """Whether ``--rows`` item ``name`` picks ``row``: its whole name, or the part before its bracket
    (row names such as "WGAN-GP (lambda=10, k=1)" hold commas, which separate the items)."""
    return name in (row, row.split(" (")[0])


def run_all(fn, jobs, args) -> list[dict]:
    """``fn`` on every job in ``args.workers`` processes; each result printed (and saved) as it comes."""
    results = []
    with ProcessPoolExecutor(args.workers) as pool:
        for r in pool.map(fn, jobs):
            results.append(r)
            print(json.dumps(r), flush=True)
            if args.json:
                with open(args.json, "a") as f:
                    f.write(json.dumps(r) + "\n")
    return results


def run_presets(args) -> int:
    jobs = [(name, int(seed)) for name in args.presets.split(",") for seed in args.seeds.split(",")]
    started = datetime.datetime.now(datetime.timezone.utc)
    print(f"# {started:%Y-%m-%d %H:%M} UTC, {cpu_model()}, {len(jobs)} preset runs, {args.workers} workers",
          flush=True)
    results = run_all(run_preset, jobs, args)
    for data in dict.fromkeys(r["data"] for r in results):
        print(f"\n### {data}: presets, seeds {args.seeds}\n\n{table(data, results)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
