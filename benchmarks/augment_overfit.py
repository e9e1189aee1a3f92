"""How far the discriminator overfits a small training set, with and without augmentation (issue 11).

For every checkpoint of every run named, three things are measured on un-augmented images:

* FID of ``-n`` samples of the raw generator (not its EMA) against the dataset's training split
  (gankit's features, as `gankit eval`);
* D's mean logit on ``-n`` training images and on as many held-out test images: the difference
  (train minus test) is the overfitting that Karras et al. 2020 (ADA, Fig. 1b) plot, D learning the
  training images themselves instead of what makes an image real;
* D's mean logit on ``-n`` samples, so the real/fake gap (test minus samples) sits beside it.

The training log's own D(x) and D(G(z)) (on the augmented batches D trained on) are plotted too.
Rows are grouped by a label (``none=RUN,RUN``) and averaged over the runs of a group (the seeds).

    python benchmarks/augment_overfit.py none=R/none-s0,R/none-s1 ada=R/ada-s0,R/ada-s1 \\
        --out docs/figures/augment_overfit.png --json R/overfit.jsonl
    python benchmarks/augment_overfit.py --table R/overfit.jsonl    # the table again, no measuring
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import numpy as np
import torch

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "src"))

from machine import cpu_model  # noqa: E402

from gankit.config import read_run_config  # noqa: E402
from gankit.data import load_dataset  # noqa: E402
from gankit.metrics.evaluate import evaluate  # noqa: E402
from gankit.run import Run  # noqa: E402
from gankit.train import checkpoint as ckpt  # noqa: E402
from gankit.data.pixels import from_uint8, to_uint8  # noqa: E402
from gankit.viz.plots import plt, read_metrics  # noqa: E402


def real_images(data: str, split: str, n: int, seed: int = 0) -> torch.Tensor:
    """``n`` images of a split (all when it has fewer), a fixed random subset, in [-1, 1]."""
    x = load_dataset(data, split=split, store="memory").x
    pick = np.sort(np.random.default_rng(seed).permutation(len(x))[:n])
    return from_uint8(x[pick])


@torch.no_grad()
def mean_logit(discriminator, images: torch.Tensor, batch_size: int = 500) -> float:
    out = [discriminator(images[i:i + batch_size]).float() for i in range(0, len(images), batch_size)]
    return float(torch.cat(out).mean())


def measure_checkpoint(run_dir: Path, checkpoint: Path, train: torch.Tensor, test: torch.Tensor, n: int) -> dict:
    run = Run(run_dir, ema=False, checkpoint=checkpoint)
    samples = run.sample(n, seed=0)
    discriminator = run.recipe.nets["D"]
    fid = evaluate(to_uint8(samples), run.data_name, metrics="fid", progress=False)["fid"]
    return {"run": str(run_dir), "step": run.step, "fid": fid,
            "d_train": mean_logit(discriminator, train), "d_test": mean_logit(discriminator, test),
            "d_fake": mean_logit(discriminator, samples)}


def measure(groups: dict[str, list[Path]], n: int, out_json: Path | None) -> list[dict]:
    rows = []
    data = {read_run_config(run)[0].data.name for runs in groups.values() for run in runs}
    if len(data) != 1:
        raise SystemExit(f"the runs train on different datasets ({', '.join(sorted(data))}); compare one at a time")
    data_name = data.pop()
    train, test = real_images(data_name, "train", n), real_images(data_name, "test", n)
    for label, runs in groups.items():
        for run_dir in runs:
            for checkpoint in ckpt.checkpoint_dirs(run_dir):
                row = {"group": label, **measure_checkpoint(run_dir, checkpoint, train, test, n)}
                print(json.dumps(row), flush=True)
                rows.append(row)
                if out_json:
                    with open(out_json, "a") as f:
                        f.write(json.dumps(row) + "\n")
    return rows


def by_group(rows: list[dict]) -> dict[str, dict[int, list[dict]]]:
    """group -> i -> the i-th checkpoint of each run of the group (every ``train.checkpoint_every``
    steps; the last, where a time budget ran out, falls at a different step in each run)."""
    out: dict[str, dict[int, list[dict]]] = {}
    for row in rows:
        runs = out.setdefault(row["group"], {})
        runs.setdefault(row["run"], []).append(row)
    table = {}
    for group, runs in out.items():
        per_run = [sorted(r, key=lambda row: row["step"]) for r in runs.values()]
        length = min(len(r) for r in per_run)
        table[group] = {i: [r[i] for r in per_run] for i in range(length)}
    return table


def mean_std(values) -> str:
    values = np.asarray(values, dtype=float)
    return f"{values.mean():.2f} ± {values.std():.2f}"


def print_table(rows: list[dict]) -> None:
    print(f"# {cpu_model()}; mean ± std over the runs of each group; D logits on un-augmented images")
    print("| augmentation | step | FID | D(train) − D(test) | D(test) − D(samples) |")
    print("|---|--:|--:|--:|--:|")
    for group, checkpoints in by_group(rows).items():
        for i, same in checkpoints.items():
            step = int(np.mean([r["step"] for r in same]))
            print(f"| {group} | {step:,} | {mean_std([r['fid'] for r in same])} "
                  f"| {mean_std([r['d_train'] - r['d_test'] for r in same])} "
                  f"| {mean_std([r['d_test'] - r['d_fake'] for r in same])} |")


def plot(rows: list[dict], out: Path) -> None:
    fig, axes = plt.subplots(1, 3, figsize=(13, 3.6))
    for group, checkpoints in by_group(rows).items():
        steps = [np.mean([r["step"] for r in same]) for same in checkpoints.values()]
        fid = [np.mean([r["fid"] for r in same]) for same in checkpoints.values()]
        gap = [np.mean([r["d_train"] - r["d_test"] for r in same]) for same in checkpoints.values()]
        line, = axes[0].plot(steps, fid, marker="o", label=group)
        axes[1].plot(steps, gap, marker="o", color=line.get_color(), label=group)
        runs = {r["run"] for same in checkpoints.values() for r in same}
        logs = [[m for m in read_metrics(Path(run) / "metrics.jsonl") if "D(x)" in m] for run in sorted(runs)]
        length = min(len(log) for log in logs)
        log_steps = [logs[0][i]["step"] for i in range(length)]
        real = np.mean([[log[i]["D(x)"] for i in range(length)] for log in logs], axis=0)
        fake = np.mean([[log[i]["D(G(z))"] for i in range(length)] for log in logs], axis=0)
        window = max(1, length // 40)  # the logged values are per-batch and noisy
        smooth = np.convolve(real - fake, np.ones(window) / window, mode="valid")
        axes[2].plot(log_steps[window - 1:], smooth, color=line.get_color(), label=group)
    axes[0].set(title="FID (lower is better)", xlabel="step")
    axes[1].set(title="D logit: training minus held-out digits\n(overfitting)", xlabel="step")
    axes[2].set(title="D(x) − D(G(z)) on the batches D trained on\n(training log, smoothed)", xlabel="step")
    for ax in axes:
        ax.grid(alpha=0.3)
    axes[0].legend()
    fig.tight_layout()
    fig.savefig(out, dpi=110)
    print(f"wrote {out}")


def parse_groups(specs: list[str]) -> dict[str, list[Path]]:
    groups = {}
    for spec in specs:
        label, sep, runs = spec.partition("=")
        if not sep or not runs:
            raise SystemExit(f"{spec!r}: name each group as LABEL=RUN[,RUN...], e.g. none=R/none-s0,R/none-s1")
        groups[label] = [Path(r) for r in runs.split(",")]
        for run in groups[label]:
            if not (run / "config.yaml").exists():
                raise SystemExit(f"{run} is not a run directory (no config.yaml)")
    return groups


def main(argv=None) -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("groups", nargs="*", help="LABEL=RUN[,RUN...]: runs of one augmentation (one per seed)")
    p.add_argument("-n", type=int, default=1000, help="samples, training and test images per checkpoint")
    p.add_argument("--json", type=Path, help="append one JSON line per checkpoint here")
    p.add_argument("--table", type=Path, help="print the table (and --out plot) of a saved --json, measuring nothing")
    p.add_argument("--out", type=Path, help="write the curves here (PNG)")
    args = p.parse_args(argv)
    if args.table:
        rows = [json.loads(line) for line in args.table.read_text().splitlines() if line.strip()]
    elif args.groups:
        rows = measure(parse_groups(args.groups), args.n, args.json)
    else:
        p.error("name the runs (LABEL=RUN,...) or a saved --table")
    print_table(rows)
    if args.out:
        plot(rows, args.out)


if __name__ == "__main__":
    main()
