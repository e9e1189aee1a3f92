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


def gaussian_window(size: int = WINDOW, sigma: float = SIGMA) -> torch.Tensor:
    """The normalised 2-D Gaussian window (size, size), in float64."""
    r = torch.arange(size, dtype=torch.float64) - (size - 1) / 2
    g = torch.exp(-r ** 2 / (2 * sigma ** 2))
    g = g / g.sum()
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
    kernel = gaussian_window(size, sigma).expand(c, 1, size, size)

    def blur(t):
        return F.conv2d(t, kernel, groups=c)

    c1, c2 = (K1 * data_range) ** 2, (K2 * data_range) ** 2
    mu_x, mu_y = blur(x), blur(y)
    var_x = blur(x * x) - mu_x ** 2
    var_y = blur(y * y) - mu_y ** 2
    cov = blur(x * y) - mu_x * mu_y
    s = ((2 * mu_x * mu_y + c1) * (2 * cov + c2)) / ((mu_x ** 2 + mu_y ** 2 + c1) * (var_x + var_y + c2))
    return s.flatten(1).mean(1).numpy()
