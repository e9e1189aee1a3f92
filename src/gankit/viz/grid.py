"""Image grids with Pillow (no torchvision): tensors in [-1, 1] or uint8 arrays to one PNG."""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import torch
from PIL import Image

from gankit.data.pixels import to_uint8

VISIBLE_SIDE = 256  # pixels: the longer side that figures for the screen (GIFs, the report) reach at least


def grid_array(images: torch.Tensor | np.ndarray, nrow: int | None = None, padding: int = 2,
               pad_value: int = 255) -> np.ndarray:
    """Tile (N, C, H, W) images into one (H', W') or (H', W', 3) uint8 array, ``nrow`` per row."""
    arr = to_uint8(images)
    n, c, h, w = arr.shape
    nrow = nrow or max(1, int(math.ceil(math.sqrt(n))))
    rows = int(math.ceil(n / nrow))
    out = np.full((c, rows * (h + padding) + padding, nrow * (w + padding) + padding), pad_value, np.uint8)
    for i in range(n):
        r, col = divmod(i, nrow)
        y, x = padding + r * (h + padding), padding + col * (w + padding)
        out[:, y:y + h, x:x + w] = arr[i]
    return out[0] if c == 1 else out.transpose(1, 2, 0)


def enlarge(picture: np.ndarray, scale: int | None = None) -> np.ndarray:
    """A uint8 (H, W) or (H, W, 3) picture enlarged by a whole factor, nearest-neighbour so pixels stay crisp.

    Without ``scale``: the smallest factor that makes its longer side at least ``VISIBLE_SIDE``
    pixels, so that a grid of 8x8 digits is still something a person can look at.
    """
    if scale is None:
        scale = max(1, math.ceil(VISIBLE_SIDE / max(picture.shape[:2])))
    if scale <= 1:
        return picture
    return np.repeat(np.repeat(picture, scale, axis=0), scale, axis=1)


def save_grid(images: torch.Tensor | np.ndarray, path: str | Path, nrow: int | None = None,
              scale: int | None = None) -> Path:
    """Write a PNG grid; small images are enlarged (nearest) so that a person can see them."""
    if scale is None:  # each image at least ~64 px: the grid files are read image by image
        scale = max(1, 64 // int(images.shape[2]))
    img = Image.fromarray(enlarge(grid_array(images, nrow), scale))
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    img.save(path)
    return path


def save_gif(frames: list[np.ndarray], path: str | Path, duration_ms: int = 120) -> Path:
    """Frames (uint8 grids from ``grid_array``) to a looping GIF that plays forth and back."""
    images = [Image.fromarray(f) for f in frames + frames[-2:0:-1]]
    path = Path(path)
    images[0].save(path, save_all=True, append_images=images[1:], duration=duration_ms, loop=0)
    return path
