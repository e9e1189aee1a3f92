"""The pixel-range convention: images are stored as uint8 in 0..255 and networks see float32 in [-1, 1].

Every place that crosses between the two (batches on the device, sampling, translation, the
playground's given images, the metrics) goes through these two functions, so the mapping is
written once and its rounding is the same everywhere.
"""

from __future__ import annotations

import numpy as np
import torch


def to_uint8(images: torch.Tensor | np.ndarray) -> np.ndarray:
    """(N, C, H, W) float in [-1, 1] (or uint8) -> uint8 (N, C, H, W)."""
    if isinstance(images, torch.Tensor):
        images = images.detach().float().cpu().numpy()
    if images.dtype == np.uint8:
        return images
    return np.clip(np.rint((images + 1.0) * 127.5), 0, 255).astype(np.uint8)


def from_uint8(images: np.ndarray | torch.Tensor) -> torch.Tensor:
    """uint8 images (an array or a tensor, on any device) -> float32 in [-1, 1] (the inverse of :func:`to_uint8`)."""
    if isinstance(images, np.ndarray):
        images = torch.from_numpy(np.ascontiguousarray(images))
    # The conversion to float32 copies, so the in-place steps never touch the caller's uint8 data.
    return images.to(torch.float32).div_(127.5).sub_(1.0)
