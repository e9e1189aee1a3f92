"""Structural similarity (SSIM; Wang, Bovik, Sheikh and Simoncelli 2004).

Local means, variances and the covariance of two images are taken under an 11x11 Gaussian window
of standard deviation 1.5 (the paper's choice), over the positions where the window fits inside
the image; at each position

    SSIM = (2 mu_x mu_y + C1)(2 sigma_xy + C2) / ((mu_x^2 + mu_y^2 + C1)(sigma_x^2 + sigma_y^2 + C2)),

with C1 = (0.01 L)^2, C2 = (0.03 L)^2 for the dynamic range L. The mean over positions is an
image's SSIM (the paper's MSSIM); colour images average their channels. 1 means identical.
"""

from __future__ import annotations

import numpy as np
import torch
import torch.nn.functional as F

WINDOW = 11
SIGMA = 1.5
K1, K2 = 0.01, 0.03


def gaussian_profile(size: int = WINDOW, sigma: float = SIGMA) -> torch.Tensor:
    """The normalised 1-D Gaussian (size,), in float64: the window is its outer product with itself."""
    r = torch.arange(size, dtype=torch.float64) - (size - 1) / 2
    g = torch.exp(-r ** 2 / (2 * sigma ** 2))
    return g / g.sum()


def gaussian_window(size: int = WINDOW, sigma: float = SIGMA) -> torch.Tensor:
    """The normalised 2-D Gaussian window (size, size), in float64."""
    g = gaussian_profile(size, sigma)
    return g[:, None] * g[None, :]


def ssim(x, y, data_range: float = 255.0, window: int = WINDOW, sigma: float = SIGMA) -> np.ndarray:
    """SSIM of each pair of images: arrays (N, C, H, W) (uint8 or float) -> float64 (N,).

    Images smaller than the window use a window of their own smaller side (odd), so tiny images
    still get a number.
    """
    x, y = (torch.as_tensor(np.asarray(a)).double() for a in (x, y))
    if x.shape != y.shape or x.ndim != 4:
        raise ValueError(f"ssim needs two image batches of one shape (N, C, H, W), got {tuple(x.shape)} and "
                         f"{tuple(y.shape)}")
    n, c, h, w = x.shape
    size = min(window, h, w)
    size -= 1 - size % 2  # odd
    # The Gaussian window is separable: a column pass then a row pass (2 * size multiply-adds per
    # pixel instead of size^2), over the five maps at once.
    g = gaussian_profile(size, sigma)
    maps = torch.cat([x, y, x * x, y * y, x * y], 1)
    blurred = F.conv2d(F.conv2d(maps, g.view(1, 1, size, 1).expand(5 * c, 1, size, 1), groups=5 * c),
                       g.view(1, 1, 1, size).expand(5 * c, 1, 1, size), groups=5 * c)
    mu_x, mu_y, xx, yy, xy = blurred.split(c, 1)
    c1, c2 = (K1 * data_range) ** 2, (K2 * data_range) ** 2
    var_x = xx - mu_x ** 2
    var_y = yy - mu_y ** 2
    cov = xy - mu_x * mu_y
    s = ((2 * mu_x * mu_y + c1) * (2 * cov + c2)) / ((mu_x ** 2 + mu_y ** 2 + c1) * (var_x + var_y + c2))
    return s.flatten(1).mean(1).numpy()
