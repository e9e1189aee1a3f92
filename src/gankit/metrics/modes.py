"""Mode counting: toy mixtures (VEEGAN / PacGAN protocol) and stacked three-digit MNIST (1000 modes)."""
from __future__ import annotations

import numpy as np
import torch

from gankit.data.stacked import build_stacked_mnist, load_stacked

from .classifier_score import histogram_kl_to_uniform

__all__ = ["STACKED_SIZE", "build_stacked_mnist", "load_stacked_mnist", "stacked_mode_labels", "stacked_modes",
           "toy_modes"]

STACKED_SIZE = 26_000  # samples per evaluation by convention (VEEGAN, PacGAN)


def toy_modes(samples, centers, std: float, threshold: float = 3.0) -> dict[str, float]:
    """A sample is high-quality when its Euclidean distance to the nearest centre is within
    threshold*std.  Returns modes (centres with >= 1 HQ sample), hq_fraction, mode_kl (KL of the
    HQ samples' mode histogram to uniform; NaN when there is no HQ sample) and num_modes."""
    x = torch.as_tensor(np.asarray(samples, np.float64))
    c = torch.as_tensor(np.asarray(centers, np.float64))
    if x.ndim == 1:
        x = x[:, None]
    if c.ndim == 1:
        c = c[:, None]
    if x.shape[1] != c.shape[1]:
        raise ValueError(f"samples have dimension {x.shape[1]}, centres {c.shape[1]}")
    nearest, dist = [], []
    for i in range(0, len(x), 10_000):
        d = torch.cdist(x[i:i + 10_000], c)
        v, j = d.min(1)
        dist.append(v)
        nearest.append(j)
    dist, nearest = torch.cat(dist).numpy(), torch.cat(nearest).numpy()
    hq = dist <= threshold * std
    counts = np.bincount(nearest[hq], minlength=len(c))
    return {"modes": int((counts > 0).sum()), "hq_fraction": float(hq.mean()) if len(hq) else 0.0,
            "mode_kl": histogram_kl_to_uniform(counts), "num_modes": int(len(c))}


def stacked_mode_labels(images, digit_classifier, batch_size: int = 3000) -> np.ndarray:
    """(N,3,28,28) images -> mode ids 100*d0 + 10*d1 + d2, each channel read by the digit classifier
    (an Extractor, or any callable mapping (M,1,28,28) uint8 to predicted digits)."""
    x = np.asarray(images)
    if x.ndim != 4 or x.shape[1] != 3:
        raise ValueError(f"stacked digits must be shaped (N,3,H,W), got {x.shape}")
    flat = x.reshape(len(x) * 3, 1, *x.shape[2:])
    predict = digit_classifier.predict if hasattr(digit_classifier, "predict") else digit_classifier
    digits = np.concatenate([np.asarray(predict(flat[i:i + batch_size]))
                             for i in range(0, len(flat), batch_size)]).reshape(len(x), 3)
    return digits[:, 0] * 100 + digits[:, 1] * 10 + digits[:, 2]


def stacked_modes(images, digit_classifier) -> dict[str, float]:
    """modes hit (of 1000) and KL of the 1000-bin mode histogram to uniform."""
    counts = np.bincount(stacked_mode_labels(images, digit_classifier), minlength=1000)
    return {"modes": int((counts > 0).sum()), "mode_kl": histogram_kl_to_uniform(counts), "num_modes": 1000}


def load_stacked_mnist(split: str = "train", n: int = STACKED_SIZE, seed: int = 0, root=None):
    """Stacked MNIST built from mnist-5k's split: ((n,3,28,28) uint8, (n,) mode ids); see
    :mod:`gankit.data.stacked` (``--data stacked-mnist`` trains on the same construction)."""
    data = load_stacked(split, n=n, seed=seed)
    return data.x, data.y
