"""Precision/recall (Kynkäänniemi et al. 2019) and density/coverage (Naeem et al. 2020) on features.

Distances are computed in row batches with torch.cdist so 10k x 10k sets never hold a full
distance matrix (one batch is batch_size x N)."""
from __future__ import annotations

import numpy as np
import torch


def _t(x) -> torch.Tensor:
    return torch.as_tensor(np.asarray(x, np.float64))


def knn_radii(x, k, batch_size: int = 1000):
    """Distance from each point to its k-th nearest neighbour in the same set (itself excluded).
    k may be a tuple: then one array per k, from a single pass."""
    ks = (k,) if isinstance(k, int) else tuple(k)
    x = _t(x)
    if len(x) <= max(ks):
        raise ValueError(f"need more than k={max(ks)} points for k-NN radii, got {len(x)}")
    out = []
    for i in range(0, len(x), batch_size):
        d = torch.cdist(x[i:i + batch_size], x)
        # the (k+1)-th smallest value per row: the point itself is at distance 0.
        out.append(d.topk(max(ks) + 1, dim=1, largest=False).values)
    v = torch.cat(out)
    radii = [v[:, kk].numpy() for kk in ks]
    return radii[0] if isinstance(k, int) else radii


def prdc(real, fake, k_pr: int = 3, k_dc: int = 5, batch_size: int = 1000) -> dict[str, float]:
    """All four numbers from one pass over real-vs-fake distances.

    precision: fraction of fakes inside some real k_pr-NN ball (d <= r, as Kynkäänniemi's code);
    recall: fraction of reals inside some fake k_pr-NN ball;
    density: (1/k_dc) * mean over fakes of how many real k_dc-NN balls contain them (d < r, as Naeem's);
    coverage: fraction of reals whose k_dc-NN ball contains at least one fake."""
    real_t, fake_t = _t(real), _t(fake)
    if real_t.ndim != 2 or fake_t.ndim != 2 or real_t.shape[1] != fake_t.shape[1]:
        raise ValueError(f"expected (N, D) real and fake features with equal D, got "
                         f"{tuple(real_t.shape)} and {tuple(fake_t.shape)}")
    r_pr, r_dc = (torch.as_tensor(r) for r in knn_radii(real_t, (k_pr, k_dc), batch_size))
    f_pr = torch.as_tensor(knn_radii(fake_t, k_pr, batch_size))
    in_real_ball = torch.zeros(len(fake_t), dtype=torch.bool)
    density_count = torch.zeros(len(fake_t), dtype=torch.float64)
    recall_hit, covered = [], []
    for i in range(0, len(real_t), batch_size):
        d = torch.cdist(real_t[i:i + batch_size], fake_t)  # (b, Nf)
        rp, rd = r_pr[i:i + batch_size, None], r_dc[i:i + batch_size, None]
        in_real_ball |= (d <= rp).any(0)
        density_count += (d < rd).sum(0)
        recall_hit.append((d <= f_pr[None, :]).any(1))
        covered.append(d.min(1).values < rd[:, 0])
    return {
        "precision": float(in_real_ball.double().mean()),
        "recall": float(torch.cat(recall_hit).double().mean()),
        "density": float(density_count.mean() / k_dc),
        "coverage": float(torch.cat(covered).double().mean()),
    }


def precision_recall(real, fake, k: int = 3, batch_size: int = 1000) -> tuple[float, float]:
    r = prdc(real, fake, k_pr=k, k_dc=k, batch_size=batch_size)
    return r["precision"], r["recall"]


def density_coverage(real, fake, k: int = 5, batch_size: int = 1000) -> tuple[float, float]:
    r = prdc(real, fake, k_pr=k, k_dc=k, batch_size=batch_size)
    return r["density"], r["coverage"]
