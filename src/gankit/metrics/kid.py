"""Kernel Inception Distance: unbiased MMD^2 with the cubic polynomial kernel (Bińkowski et al. 2018)."""
from __future__ import annotations

import numpy as np


def polynomial_kernel(x: np.ndarray, y: np.ndarray) -> np.ndarray:
    """k(x, y) = (x·y / d + 1)^3."""
    return (x @ y.T / x.shape[1] + 1.0) ** 3


def mmd2_unbiased(x, y) -> float:
    """Unbiased MMD^2: within-set kernel means exclude the diagonal (i = j) terms."""
    x, y = np.asarray(x, np.float64), np.asarray(y, np.float64)
    m, n = len(x), len(y)
    kxx, kyy, kxy = polynomial_kernel(x, x), polynomial_kernel(y, y), polynomial_kernel(x, y)
    sxx = (kxx.sum() - np.trace(kxx)) / (m * (m - 1))
    syy = (kyy.sum() - np.trace(kyy)) / (n * (n - 1))
    return float(sxx + syy - 2.0 * kxy.mean())


def kid(features1, features2, num_subsets: int = 100, subset_size: int = 1000,
        seed: int = 0) -> tuple[float, float]:
    """Mean and standard deviation of the unbiased MMD^2 over random subsets (drawn without
    replacement within a subset); the subset size is capped to the smaller sample count."""
    f1, f2 = np.asarray(features1, np.float64), np.asarray(features2, np.float64)
    if f1.ndim != 2 or f2.ndim != 2 or f1.shape[1] != f2.shape[1]:
        raise ValueError(f"KID needs two feature arrays (N, D) with equal D, got {f1.shape} and {f2.shape}")
    size = min(subset_size, len(f1), len(f2))
    if size < 2:
        raise ValueError(f"KID needs at least 2 samples per set, got {len(f1)} and {len(f2)}")
    rng = np.random.default_rng(seed)
    vals = np.array([mmd2_unbiased(f1[rng.choice(len(f1), size, replace=False)],
                                   f2[rng.choice(len(f2), size, replace=False)])
                     for _ in range(num_subsets)])
    return float(vals.mean()), float(vals.std())
