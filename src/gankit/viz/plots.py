"""Matplotlib figures of a run: loss curves and point-cloud samples of the toy datasets."""

from __future__ import annotations

import json
from pathlib import Path

import matplotlib

matplotlib.use("Agg")  # no display on servers and in CI
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402


def read_metrics(path: Path) -> list[dict]:
    if not Path(path).exists():
        return []
    return [json.loads(line) for line in Path(path).read_text().splitlines() if line.strip()]


def plot_losses(metrics_path: Path, out: Path) -> Path | None:
    """Losses and mean discriminator outputs against steps from ``metrics.jsonl``."""
    rows = [r for r in read_metrics(metrics_path) if "g_loss" in r]
    if not rows:
        return None
    steps = [r["step"] for r in rows]
    fig, (ax1, ax2) = plt.subplots(1, 2, figsize=(10, 3.6))
    for key in ("d_loss", "g_loss"):
        ax1.plot(steps, [r.get(key, np.nan) for r in rows], label=key)
    ax1.set_xlabel("step")
    ax1.set_title("losses")
    ax1.legend()
    for key in ("D(x)", "D(G(z))"):
        ax2.plot(steps, [r.get(key, np.nan) for r in rows], label=key)
    ax2.set_xlabel("step")
    ax2.set_title("mean discriminator output")
    ax2.legend()
    fig.tight_layout()
    fig.savefig(out, dpi=110)
    plt.close(fig)
    return out


def plot_points(samples: np.ndarray, real: np.ndarray, out: Path, title: str = "") -> Path:
    """Toy data: a histogram (1-D) or scatter (2-D) of generated points over real ones."""
    fig, ax = plt.subplots(figsize=(4.5, 4.5) if samples.shape[1] >= 2 else (6, 3.2))
    if samples.shape[1] == 1:
        bins = np.linspace(min(real.min(), samples.min()), max(real.max(), samples.max()), 80)
        ax.hist(real[:, 0], bins=bins, density=True, alpha=0.5, color="k", label="data")
        ax.hist(samples[:, 0], bins=bins, density=True, alpha=0.5, color="g", label="G(z)")
        ax.legend()
    else:
        ax.scatter(real[:, 0], real[:, 1], s=2, c="k", alpha=0.3, label="data")
        ax.scatter(samples[:, 0], samples[:, 1], s=2, c="g", alpha=0.5, label="G(z)")
        ax.set_aspect("equal")
        ax.legend(loc="upper right", markerscale=4)
    ax.set_title(title)
    fig.tight_layout()
    fig.savefig(out, dpi=100)
    plt.close(fig)
    return out
