"""The README's translation figure: held-out pairs as input | each run's output | target.

    python benchmarks/translation_figure.py OUT.png RUN_DIR [RUN_DIR ...] [--n 8]

Every run must be trained on the same paired dataset (its test split gives the pairs); a
CycleGAN run is read A -> B.
"""
from __future__ import annotations

import argparse

import numpy as np

import gankit
from gankit.data.imageset import convert_images
from gankit.metrics.translation import held_out_pairs, translate
from gankit.viz.grid import save_grid


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("out")
    p.add_argument("runs", nargs="+")
    p.add_argument("--n", type=int, default=8, help="held-out pairs, one per row")
    args = p.parse_args()
    runs = [gankit.load(r) for r in args.runs]
    inputs, targets, _ = held_out_pairs(runs[0])
    rows = np.linspace(0, len(inputs) - 1, args.n).astype(int)  # spread over the test split
    a, b = inputs[rows], targets[rows]
    columns = [a] + [translate(run, a) for run in runs] + [b]
    c = max(x.shape[1] for x in columns)
    columns = [convert_images(x, channels=c) if x.shape[1] != c else x for x in columns]
    grid = np.stack(columns, 1).reshape(-1, *columns[0].shape[1:])
    print(f"wrote {save_grid(grid, args.out, nrow=len(columns))}: input | "
          + " | ".join(f"{r.config.model} ({r.run_dir.name})" for r in runs) + " | target")


if __name__ == "__main__":
    main()
