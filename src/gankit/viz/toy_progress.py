"""Toy runs over time: generated points over the mode centres at intervals (Metz et al.'s Figure 1).

The Trainer saves the points of every toy sample snapshot (``samples/step_N.npy``); this module
draws them as one strip of panels (``modes.png``) and as an animation (``modes.gif``), each panel
with the mixture's centres marked, so a collapse onto few modes, or a generator hopping from mode
to mode, is visible at a glance.
"""

from __future__ import annotations

import io
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
from PIL import Image  # noqa: E402

STRIP_PANELS = 6


def snapshots(run_dir: Path) -> list[tuple[int, np.ndarray]]:
    """(step, points) of every saved toy snapshot of a run, in step order."""
    out = []
    for path in sorted(Path(run_dir, "samples").glob("step_*.npy")):
        out.append((int(path.stem.split("_")[1]), np.load(path)))
    return out


def draw_panel(ax, points: np.ndarray, centers: np.ndarray | None, step: int, limits) -> None:
    if centers is not None:
        ax.scatter(centers[:, 0], centers[:, 1], s=40, marker="x", c="r", linewidths=1, zorder=3)
    ax.scatter(points[:, 0], points[:, 1], s=1, c="g", alpha=0.4)
    ax.set_xlim(*limits)
    ax.set_ylim(*limits)
    ax.set_aspect("equal")
    ax.set_xticks([])
    ax.set_yticks([])
    ax.set_title(f"step {step}", fontsize=9)


def axis_limits(centers: np.ndarray | None, points: np.ndarray) -> tuple[float, float]:
    ref = centers if centers is not None else points
    reach = float(np.abs(ref).max()) * 1.3 + 0.2
    return -reach, reach


def save_toy_progress(run_dir: str | Path, centers: np.ndarray | None = None,
                      panels: int = STRIP_PANELS) -> tuple[Path, Path] | None:
    """Write ``modes.png`` (``panels`` snapshots evenly spread over training) and ``modes.gif`` (all of
    them) into ``run_dir``; None when the run saved no 2-D snapshots."""
    run_dir = Path(run_dir)
    shots = [(s, p) for s, p in snapshots(run_dir) if p.ndim == 2 and p.shape[1] == 2]
    if not shots:
        return None
    limits = axis_limits(centers, shots[-1][1])
    picks = sorted({round(i) for i in np.linspace(0, len(shots) - 1, min(panels, len(shots)))})
    fig, axes = plt.subplots(1, len(picks), figsize=(2.2 * len(picks), 2.4), squeeze=False)
    for ax, i in zip(axes[0], picks):
        draw_panel(ax, shots[i][1], centers, shots[i][0], limits)
    fig.tight_layout()
    strip = run_dir / "modes.png"
    fig.savefig(strip, dpi=100)
    plt.close(fig)
    frames = []
    for step, points in shots:
        fig, ax = plt.subplots(figsize=(3, 3))
        draw_panel(ax, points, centers, step, limits)
        fig.tight_layout()
        buffer = io.BytesIO()
        fig.savefig(buffer, format="png", dpi=80)
        plt.close(fig)
        frames.append(Image.open(io.BytesIO(buffer.getvalue())).convert("P", palette=Image.ADAPTIVE))
    gif = run_dir / "modes.gif"
    frames[0].save(gif, save_all=True, append_images=frames[1:], duration=400, loop=0)
    return strip, gif
