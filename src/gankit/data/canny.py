"""Canny's edge detector (Canny 1986) in NumPy/SciPy: the contours of the paired edge datasets.

The four stages: Gaussian smoothing, Sobel gradients, non-maximum suppression across the
gradient direction (quantised to 0, 45, 90 and 135 degrees), and hysteresis (weak edge pixels are
kept only when connected, 8-neighbourly, to a strong one). The thresholds are fractions of each
image's largest gradient magnitude, so dark and light images get comparable contours.
"""

from __future__ import annotations

import numpy as np
from scipy import ndimage

SOBEL_X = np.array([[-1, 0, 1], [-2, 0, 2], [-1, 0, 1]], dtype=np.float64)


def gradients(gray: np.ndarray, sigma: float) -> tuple[np.ndarray, np.ndarray]:
    """(magnitude, angle in degrees in [0, 180)) of the Sobel gradient of the smoothed image."""
    smooth = ndimage.gaussian_filter(gray.astype(np.float64), sigma, mode="nearest") if sigma > 0 else gray
    gx = ndimage.correlate(smooth, SOBEL_X, mode="nearest")
    gy = ndimage.correlate(smooth, SOBEL_X.T, mode="nearest")
    return np.hypot(gx, gy), np.rad2deg(np.arctan2(gy, gx)) % 180.0


def non_maximum_suppression(magnitude: np.ndarray, angle: np.ndarray) -> np.ndarray:
    """``magnitude`` where it is a maximum along the gradient direction, else 0."""
    padded = np.pad(magnitude, 1)
    h, w = magnitude.shape

    def shifted(dy: int, dx: int) -> np.ndarray:
        return padded[1 + dy:1 + dy + h, 1 + dx:1 + dx + w]

    # The gradient direction, quantised; its two neighbours along it (rows grow downwards).
    sector = (np.floor((angle + 22.5) / 45.0).astype(int)) % 4
    out = np.zeros_like(magnitude)
    for k, (dy, dx) in enumerate(((0, 1), (1, 1), (1, 0), (1, -1))):
        keep = (sector == k) & (magnitude >= shifted(dy, dx)) & (magnitude >= shifted(-dy, -dx))
        out[keep] = magnitude[keep]
    return out


def hysteresis(thin: np.ndarray, low: float, high: float) -> np.ndarray:
    """Pixels above ``high``, and those above ``low`` connected to one of them."""
    weak = thin > low
    labels, count = ndimage.label(weak, structure=np.ones((3, 3), dtype=bool))
    if count == 0:
        return weak
    strong_labels = np.unique(labels[thin > high])
    return np.isin(labels, strong_labels[strong_labels > 0])


def canny(gray: np.ndarray, sigma: float = 1.0, low: float = 0.1, high: float = 0.2) -> np.ndarray:
    """Boolean edge map of a 2-D image.

    Parameters
    ----------
    gray : 2-D array (any range).
    sigma : standard deviation of the Gaussian smoothing, in pixels.
    low, high : hysteresis thresholds as fractions of the largest gradient magnitude.
    """
    if gray.ndim != 2:
        raise ValueError(f"canny needs a 2-D (gray) image, got shape {gray.shape}")
    if not 0 <= low <= high:
        raise ValueError(f"canny needs 0 <= low <= high, got low={low}, high={high}")
    magnitude, angle = gradients(gray, sigma)
    top = magnitude.max()
    if top <= 0:
        return np.zeros(gray.shape, dtype=bool)
    return hysteresis(non_maximum_suppression(magnitude, angle), low * top, high * top)


def contour_images(images: np.ndarray, sigma: float = 1.0, low: float = 0.1, high: float = 0.2) -> np.ndarray:
    """Black contours on white, uint8 (N, 1, H, W), of uint8 images (N, C, H, W) (luma for RGB)."""
    x = images.astype(np.float64)
    gray = x[:, 0] if x.shape[1] == 1 else x[:, 0] * 0.299 + x[:, 1] * 0.587 + x[:, 2] * 0.114
    edges = np.stack([canny(g, sigma, low, high) for g in gray])
    return np.where(edges, 0, 255).astype(np.uint8)[:, None]
