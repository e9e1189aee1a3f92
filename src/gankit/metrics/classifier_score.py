"""Scores read off the dataset classifier's class probabilities p(y|x)."""
from __future__ import annotations

import numpy as np

_EPS = 1e-12


def classifier_score(probs, splits: int = 10) -> tuple[float, float]:
    """exp(E_x KL(p(y|x) || p(y))) on each of `splits` equal parts (p(y) = the part's mean);
    returns mean and std over the parts, as the Inception Score.

    The rows are shuffled (fixed seed) before splitting: the score assumes each part is an iid
    draw, and ordered inputs (a test set sorted by class, class-by-class conditional samples)
    would otherwise give every part a single class and a score near 1."""
    p = np.asarray(probs, np.float64)
    if p.ndim != 2 or len(p) < splits:
        raise ValueError(f"classifier_score needs probabilities (N>={splits}, K), got {p.shape}")
    p = p[np.random.default_rng(0).permutation(len(p))]
    part = len(p) // splits
    scores = []
    for s in range(splits):
        q = p[s * part:(s + 1) * part]
        py = q.mean(0, keepdims=True)
        kl = (q * (np.log(q + _EPS) - np.log(py + _EPS))).sum(1)
        scores.append(np.exp(kl.mean()))
    return float(np.mean(scores)), float(np.std(scores))


def histogram_kl_to_uniform(counts) -> float:
    """KL(h || uniform) of a count histogram, with 0 log 0 = 0; NaN for an empty histogram."""
    c = np.asarray(counts, np.float64)
    if c.sum() == 0:
        return float("nan")
    h = c / c.sum()
    nz = h > 0
    return float((h[nz] * np.log(h[nz] * len(h))).sum())


def class_kl(probs, num_classes: int | None = None) -> float:
    """KL to uniform of the histogram of predicted classes (0 = all classes equally often)."""
    p = np.asarray(probs)
    k = num_classes or p.shape[1]
    return histogram_kl_to_uniform(np.bincount(p.argmax(1), minlength=k))


def cond_accuracy(probs, labels) -> float:
    """Fraction of samples the classifier assigns to the label they were generated for."""
    p, y = np.asarray(probs), np.asarray(labels).reshape(-1)
    if len(p) != len(y):
        raise ValueError(f"{len(p)} samples but {len(y)} labels")
    return float((p.argmax(1) == y).mean())
