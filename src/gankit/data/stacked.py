"""Stacked MNIST (Metz et al. 2017; VEEGAN; PacGAN): three digits as the channels of one image.

Each example stacks three MNIST digits, drawn independently and uniformly, as the R, G and B
channels of a 28x28 image, so the data have 10^3 = 1,000 modes (the three-digit numbers 000-999),
all equally likely. A generator that covers them all must get every digit in every channel right;
the evaluation counts modes by reading each channel with the digit classifier
(:func:`gankit.metrics.modes.stacked_modes`). gankit's digit pool is ``mnist-5k`` (4,000 training
and 1,000 test digits), not the papers' 60,000.
"""

from __future__ import annotations

import numpy as np

from .builtin import load_mnist_5k
from .imageset import ImageSet

STACKED_SIZES = {"train": 50_000, "test": 26_000}  # 26,000 test: the evaluation's sample count
STACKED_SEED = 0


def build_stacked_mnist(digit_images, digit_labels, n: int, seed: int = STACKED_SEED):
    """Stack three randomly drawn digits as the channels of one image, deterministically for a
    seed. digit_images: (M,1,28,28) or (M,28,28) uint8; returns ((n,3,28,28) uint8, (n,) mode ids
    ``100*d0 + 10*d1 + d2``)."""
    x = np.asarray(digit_images)
    x = x[:, 0] if x.ndim == 4 else x
    y = np.asarray(digit_labels).astype(np.int64)
    idx = np.random.default_rng(seed).integers(0, len(x), size=(n, 3))
    return np.ascontiguousarray(x[idx]), y[idx[:, 0]] * 100 + y[idx[:, 1]] * 10 + y[idx[:, 2]]


def load_stacked(split: str, n: int | None = None, seed: int = STACKED_SEED) -> ImageSet:
    """``stacked-mnist``: built from the same split of ``mnist-5k``; labels are the 1,000 mode ids."""
    digits = load_mnist_5k(split)
    x, y = build_stacked_mnist(digits.x, digits.y, STACKED_SIZES[split] if n is None else n, seed)
    return ImageSet("stacked-mnist", x, y, 1000, "mnist-5k (stacked)")
