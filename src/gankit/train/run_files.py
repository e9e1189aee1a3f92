"""What a run writes into its directory besides checkpoints: ``config.yaml``, ``metrics.jsonl``
(and TensorBoard's copy), the sample grids, the loss plot and the toy data's progress figures.

The Trainer decides what to write and when; this is where it lands. Only the main rank writes.
"""

from __future__ import annotations

import json
from dataclasses import asdict, replace
from pathlib import Path
from typing import Any

import numpy as np
import torch

from gankit.config import RunConfig, save_yaml
from gankit.models.registry import recipe_options
from gankit.train import tensorboard
from gankit.version import __version__
from gankit.viz.grid import save_grid
from gankit.viz.plots import plot_losses, plot_points
from gankit.viz.toy_progress import save_toy_progress


class RunFiles:
    """The files of the run directory ``run_dir``; ``tensorboard`` also logs to ``RUN/tb/``."""

    def __init__(self, run_dir: Path, tensorboard_on: bool = False):
        self.run_dir = Path(run_dir)
        self.tensorboard = tensorboard.TensorBoardLog(self.run_dir) if tensorboard_on else None

    def write_config(self, cfg: RunConfig, resolved: dict[str, Any]) -> None:
        """``config.yaml`` with every model option, defaults included (a resumed run keeps the options
        it started with even when a later gankit changes a default), and what the data resolved to."""
        self.run_dir.mkdir(parents=True, exist_ok=True)
        (self.run_dir / "samples").mkdir(exist_ok=True)
        saved = replace(cfg, options=asdict(recipe_options(cfg))).to_dict()
        saved["gankit_version"] = __version__
        saved["resolved"] = resolved
        save_yaml(saved, self.run_dir / "config.yaml")

    def append_metrics(self, row: dict[str, Any]) -> None:
        with open(self.run_dir / "metrics.jsonl", "a") as f:
            f.write(json.dumps(row) + "\n")
        if self.tensorboard is not None:
            self.tensorboard.scalars(row)

    def forget_metrics_after(self, step: int) -> None:
        """Drop the log rows of steps past the resumed checkpoint: a crashed run logged them, and
        the resumed run will log those steps again."""
        path = self.run_dir / "metrics.jsonl"
        if not path.exists():
            return
        lines = path.read_text().splitlines()
        kept = [line for line in lines if line.strip() and json.loads(line).get("step", 0) <= step]
        if len(kept) != len(lines):
            tmp = path.with_suffix(".jsonl.tmp")
            tmp.write_text("".join(line + "\n" for line in kept))
            tmp.replace(path)

    def sample_path(self, step: int) -> Path:
        return self.run_dir / "samples" / f"step_{step:06d}.png"

    def write_grid(self, step: int, samples: torch.Tensor, columns: int, nets) -> Path:
        path = save_grid(samples, self.sample_path(step), nrow=columns)
        if self.tensorboard is not None:
            self.tensorboard.samples(path, step, nets)
        return path

    def write_points(self, step: int, points: np.ndarray, real: np.ndarray, nets) -> Path:
        """Toy data: the generated points over the real ones, and the points themselves (``.npy``)
        for the run's ``modes.png`` / ``modes.gif``."""
        path = self.sample_path(step)
        np.save(path.with_suffix(".npy"), points)
        plot_points(points, real, path, f"step {step}")
        if self.tensorboard is not None:
            self.tensorboard.samples(path, step, nets)
        return path

    def finish(self, toy: bool, centres: np.ndarray | None) -> Path | None:
        """The loss plot (its path) and, for toy data, the figures of the samples over training."""
        plot = plot_losses(self.run_dir / "metrics.jsonl", self.run_dir / "losses.png")
        if toy:
            save_toy_progress(self.run_dir, centres)
        return plot

    def close(self) -> None:
        if self.tensorboard is not None:
            self.tensorboard.close()
