"""Is the model copying its training set?  Nearest-training-image distances, and a picture of them."""
from __future__ import annotations

from pathlib import Path

import numpy as np
import torch
from PIL import Image

from gankit.viz.grid import enlarge


def _flat01(x) -> torch.Tensor:
    a = np.asarray(x)
    t = torch.as_tensor(a.reshape(len(a), -1))
    return t.float() / 255.0 if a.dtype == np.uint8 else t.float()


def nearest_neighbours(queries, train, batch_size: int = 1000, k: int = 1) -> tuple[np.ndarray, np.ndarray]:
    """L2 distances (pixels in [0,1], flattened) from each query to its ``k`` nearest training
    images, and their indices, each of shape (N, k), nearest first.  float32 matmul
    distances: exact enough to rank neighbours, and fast."""
    q, t = _flat01(queries), _flat01(train)
    if q.shape[1] != t.shape[1]:
        raise ValueError(f"queries have {q.shape[1]} values per item, training images {t.shape[1]}")
    t_sq = (t * t).sum(1)
    dists, idx = [], []
    for i in range(0, len(q), batch_size):
        qb = q[i:i + batch_size]
        d2 = (qb * qb).sum(1, keepdim=True) + t_sq[None] - 2.0 * qb @ t.T
        v, j = d2.topk(min(k, len(t)), dim=1, largest=False)
        dists.append(v.clamp_min(0).sqrt())
        idx.append(j)
    return torch.cat(dists).double().numpy(), torch.cat(idx).numpy()


def nn_ratio(samples, train, test) -> dict[str, float]:
    """median NN distance of samples / median NN distance of held-out real test images (both to the
    training set).  Near 1: samples are as far from the training set as new real images; well below
    1: the model reproduces training images."""
    ds, dt = nearest_neighbours(samples, train)[0][:, 0], nearest_neighbours(test, train)[0][:, 0]
    ms, mt = float(np.median(ds)), float(np.median(dt))
    return {"nn_ratio": ms / mt if mt > 0 else float("nan"), "nn_sample_median": ms, "nn_test_median": mt}


def _tile(img: np.ndarray) -> np.ndarray:
    """(C,H,W) uint8 -> (H,W,3) uint8."""
    return np.repeat(img, 3, axis=0).transpose(1, 2, 0) if img.shape[0] == 1 else img[:3].transpose(1, 2, 0)


def render_neighbours(samples, train, path, n: int = 8, k: int = 3, scale: int = 3, gap: int = 2) -> Path:
    """PNG in the style of Goodfellow et al. 2014, Fig. 2: each row is one sample (left, framed in
    yellow) followed by its k nearest training images.  samples/train: uint8 (N,C,H,W)."""
    s, t = np.asarray(samples)[:n], np.asarray(train)
    if s.ndim != 4 or t.ndim != 4:
        raise ValueError("render_neighbours needs uint8 images shaped (N,C,H,W)")
    nn_idx = nearest_neighbours(s, t, k=k)[1]
    h, w = s.shape[2:]
    cell_h, cell_w = h + 2 * gap, w + 2 * gap
    canvas = np.full((len(s) * cell_h, (1 + nn_idx.shape[1]) * cell_w + gap, 3), 255, np.uint8)
    for r in range(len(s)):
        y = r * cell_h
        canvas[y:y + cell_h, 0:cell_w] = (255, 200, 0)
        canvas[y + gap:y + gap + h, gap:gap + w] = _tile(s[r])
        for c, j in enumerate(nn_idx[r]):
            x0 = (c + 1) * cell_w + gap
            canvas[y + gap:y + gap + h, x0 + gap:x0 + gap + w] = _tile(t[j])
    img = Image.fromarray(enlarge(canvas, scale))
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    img.save(path)
    return path
