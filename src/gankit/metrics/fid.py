"""Fréchet distance between Gaussian fits to features (FID), computed as pytorch-fid does."""
from __future__ import annotations

import warnings

import numpy as np
from scipy import linalg


def gaussian_stats(features) -> tuple[np.ndarray, np.ndarray]:
    """Mean and (unbiased, N-1) covariance of features (N, D), in float64."""
    f = np.asarray(features, dtype=np.float64)
    if f.ndim != 2 or len(f) < 2:
        raise ValueError(f"gaussian_stats needs features shaped (N>=2, D), got {f.shape}")
    return f.mean(axis=0), np.cov(f, rowvar=False).reshape(f.shape[1], f.shape[1])


def frechet_distance(mu1, sigma1, mu2, sigma2, eps: float = 1e-6) -> float:
    """||mu1 - mu2||^2 + Tr(S1 + S2 - 2 (S1 S2)^(1/2)).

    Like pytorch-fid: the product's square root comes from scipy.linalg.sqrtm in float64; when it is
    not finite (singular product) eps is added to both diagonals and it is retried; imaginary parts
    from numerical error are dropped.  pytorch-fid raises when the imaginary part of the diagonal
    exceeds 1e-3; here that only warns, so a degenerate model (e.g. one repeated image) still gets
    a number."""
    mu1, mu2 = np.atleast_1d(np.asarray(mu1, np.float64)), np.atleast_1d(np.asarray(mu2, np.float64))
    sigma1, sigma2 = np.atleast_2d(np.asarray(sigma1, np.float64)), np.atleast_2d(np.asarray(sigma2, np.float64))
    if mu1.shape != mu2.shape or sigma1.shape != sigma2.shape or sigma1.shape != (mu1.size, mu1.size):
        raise ValueError(f"mismatched statistics: mu {mu1.shape} vs {mu2.shape}, "
                         f"sigma {sigma1.shape} vs {sigma2.shape}")
    diff = mu1 - mu2
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # sqrtm warns on singular input; the fallback below handles it
        covmean = linalg.sqrtm(sigma1.dot(sigma2))
    if not np.isfinite(covmean).all():
        offset = np.eye(sigma1.shape[0]) * eps
        covmean = linalg.sqrtm((sigma1 + offset).dot(sigma2 + offset))
    if np.iscomplexobj(covmean):
        if not np.allclose(np.diagonal(covmean).imag, 0, atol=1e-3):
            warnings.warn(f"FID: sqrtm has imaginary component {np.max(np.abs(covmean.imag)):.3g}; dropped")
        covmean = covmean.real
    return float(diff.dot(diff) + np.trace(sigma1) + np.trace(sigma2) - 2.0 * np.trace(covmean))


def fid_from_features(features1, features2) -> float:
    return frechet_distance(*gaussian_stats(features1), *gaussian_stats(features2))
