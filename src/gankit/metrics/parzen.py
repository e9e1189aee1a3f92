"""Gaussian Parzen-window log-likelihood (Goodfellow et al. 2014, Table 1).

A Gaussian kernel density is fitted to generated samples (flattened, in [0,1]); its bandwidth σ is
the one that maximises the mean log-likelihood of a validation set of held-out real images, and
the reported number is the mean ± standard error of the log-likelihood of the test images."""
from __future__ import annotations

import math

import numpy as np
import torch

DEFAULT_SIGMAS = np.logspace(-1, 0, 10)


def _flat01(x) -> torch.Tensor:
    """uint8 images -> float64 in [0,1]; float input is taken as already in [0,1] (or toy coords)."""
    a = np.asarray(x)
    t = torch.as_tensor(a.reshape(len(a), -1))
    return t.double() / 255.0 if a.dtype == np.uint8 else t.double()


def parzen_log_likelihood(test, samples, sigmas, batch_size: int = 500) -> np.ndarray:
    """log p(x) = logsumexp_i(-||x - s_i||^2 / (2σ^2)) - log n - (d/2) log(2πσ^2) for every test
    point and every σ: returns (len(sigmas), N_test) float64.  Squared distances are computed once
    per test batch (||x||^2 + ||s||^2 - 2 x·s in float64) and shared across all σ."""
    x, s = _flat01(test), _flat01(samples)
    if x.shape[1] != s.shape[1]:
        raise ValueError(f"test points have dimension {x.shape[1]}, samples {s.shape[1]}")
    sig = torch.as_tensor(np.atleast_1d(np.asarray(sigmas, np.float64)))
    n, d = s.shape
    s_sq = (s * s).sum(1)
    out = []
    for i in range(0, len(x), batch_size):
        xb = x[i:i + batch_size]
        d2 = ((xb * xb).sum(1, keepdim=True) + s_sq[None, :] - 2.0 * xb @ s.T).clamp_min_(0.0)
        rows = [torch.logsumexp(d2 / (-2.0 * float(sg) ** 2), dim=1) for sg in sig]
        out.append(torch.stack(rows))
    lse = torch.cat(out, dim=1)
    const = math.log(n) + 0.5 * d * torch.log(2.0 * math.pi * sig ** 2)
    return (lse - const[:, None]).numpy()


def select_sigma(valid, samples, sigmas=DEFAULT_SIGMAS, batch_size: int = 500) -> tuple[float, np.ndarray]:
    """The σ from the grid with the highest mean validation log-likelihood, and all the means."""
    means = parzen_log_likelihood(valid, samples, sigmas, batch_size).mean(1)
    return float(np.asarray(sigmas)[int(np.argmax(means))]), means


def parzen_evaluate(samples, valid, test, sigmas=DEFAULT_SIGMAS, batch_size: int = 500) -> dict[str, float]:
    """{'parzen_ll', 'parzen_se', 'parzen_sigma'}: σ chosen on `valid`, reported on `test`."""
    sigma, _ = select_sigma(valid, samples, sigmas, batch_size)
    ll = parzen_log_likelihood(test, samples, [sigma], batch_size)[0]
    return {"parzen_ll": float(ll.mean()), "parzen_se": float(ll.std(ddof=1) / math.sqrt(len(ll))),
            "parzen_sigma": sigma}
