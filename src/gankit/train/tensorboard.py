"""TensorBoard logging of a run (``--set train.tensorboard=true``): scalars, sample grids, histograms.

The run directory stays the record (``metrics.jsonl``, ``samples/``); this writes the same things
to ``RUN/tb/`` for people whose habit is ``tensorboard --logdir runs``. It needs the optional
``tensorboard`` package (``pip install 'gankit[tensorboard]'``); without it the run refuses to
start, saying so, rather than training for hours without the log that was asked for.
"""

from __future__ import annotations

import importlib
from pathlib import Path

import numpy as np
from PIL import Image

from gankit.config import ConfigError

NOT_SCALARS = {"step"}


def require() -> None:
    """Raise a :class:`ConfigError` that says what to install when TensorBoard is missing."""
    try:
        importlib.import_module("torch.utils.tensorboard")
    except ImportError as exc:
        raise ConfigError("train.tensorboard=true needs the tensorboard package: pip install 'gankit[tensorboard]' "
                          f"(or leave train.tensorboard off; metrics.jsonl and samples/ are written anyway) [{exc}]"
                          ) from exc


class TensorBoardLog:
    """Writes to ``run_dir/tb``: every logged statistic, each sample grid, and weight histograms."""

    def __init__(self, run_dir: str | Path):
        require()
        from torch.utils.tensorboard import SummaryWriter

        self.writer = SummaryWriter(str(Path(run_dir) / "tb"))

    def scalars(self, row: dict) -> None:
        step = int(row["step"])
        for key, value in row.items():
            if key not in NOT_SCALARS and isinstance(value, (int, float)) and not isinstance(value, bool):
                self.writer.add_scalar(key, value, step)
        self.writer.flush()

    def samples(self, png: Path, step: int, nets) -> None:
        """The grid (or toy scatter) just written, and a histogram of every network's weights."""
        image = np.asarray(Image.open(png).convert("RGB"))
        self.writer.add_image("samples", image, step, dataformats="HWC")
        for name, net in nets.items():
            for param_name, param in net.named_parameters():
                self.writer.add_histogram(f"{name}/{param_name}", param.detach().float().cpu(), step)
        self.writer.flush()

    def close(self) -> None:
        self.writer.close()
