"""1-D Gaussians in closed form: D*, C(G) by quadrature and the JSD by entropies."""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import torch
from scipy import integrate

from gankit.data import TOY_DISTRIBUTIONS

MINUS_LOG4 = -math.log(4.0)
# p_data is gankit's ``gauss1d`` toy dataset.
DATA_MEAN, DATA_STD = float(TOY_DISTRIBUTIONS["gauss1d"].centers[0, 0]), TOY_DISTRIBUTIONS["gauss1d"].std


@dataclass(frozen=True)
class Normal1D:
    mu: float
    sigma: float

    def logpdf(self, x):
        x = np.asarray(x, dtype=np.float64)
        return -0.5 * ((x - self.mu) / self.sigma) ** 2 - math.log(self.sigma * math.sqrt(2 * math.pi))

    def pdf(self, x):
        return np.exp(self.logpdf(x))

    def entropy(self) -> float:
        return 0.5 * math.log(2 * math.pi * math.e * self.sigma ** 2)

    def sample(self, n: int, gen: torch.Generator) -> torch.Tensor:
        return self.mu + self.sigma * torch.randn(n, 1, generator=gen)

    def __str__(self) -> str:
        return f"N({self.mu:g}, {self.sigma:g}^2)"


P_DATA = Normal1D(DATA_MEAN, DATA_STD)


def optimal_discriminator(x, p_data: Normal1D, p_g: Normal1D):
    """``D*(x) = p_data / (p_data + p_g)``, evaluated in log space so the tails do not give 0/0."""
    return np.exp(p_data.logpdf(x) - np.logaddexp(p_data.logpdf(x), p_g.logpdf(x)))


def _quad(f, p: Normal1D, q: Normal1D) -> float:
    # Both densities are below 1e-30 outside mean +- 12 sigma; listing the means as break points
    # keeps the adaptive rule from stepping over a narrow bump.
    lo = min(p.mu - 12 * p.sigma, q.mu - 12 * q.sigma)
    hi = max(p.mu + 12 * p.sigma, q.mu + 12 * q.sigma)
    pts = sorted({p.mu, q.mu})
    val, _ = integrate.quad(f, lo, hi, points=pts, limit=500, epsabs=1e-13, epsrel=1e-12)
    return val


def c_of_g(p_g: Normal1D, p_data: Normal1D = P_DATA) -> float:
    """``C(G) = E_pdata[log D*] + E_pg[log(1 - D*)]`` by quadrature of that definition."""
    def integrand(x):
        lp, lg = p_data.logpdf(x), p_g.logpdf(x)
        lm = np.logaddexp(lp, lg)
        return math.exp(lp) * (lp - lm) + math.exp(lg) * (lg - lm)
    return _quad(integrand, p_data, p_g)


def jsd(p: Normal1D, q: Normal1D) -> float:
    """``JSD(p || q) = H((p + q)/2) - (H(p) + H(q))/2``: only the mixture entropy needs quadrature."""
    def neg_m_log_m(x):
        lm = np.logaddexp(p.logpdf(x), q.logpdf(x)) - math.log(2.0)
        return -math.exp(lm) * lm
    return _quad(neg_m_log_m, p, q) - 0.5 * (p.entropy() + q.entropy())


def value_of_d(d_of_x, p_g: Normal1D, p_data: Normal1D = P_DATA, lo=-20.0, hi=25.0, n=200_001) -> float:
    """``V(G, D)`` for any D given as a function on numpy arrays (trapezoid on a fine grid)."""
    x = np.linspace(lo, hi, n)
    d = np.clip(d_of_x(x), 1e-12, 1 - 1e-12)
    return float(np.trapezoid(p_data.pdf(x) * np.log(d) + p_g.pdf(x) * np.log1p(-d), x))


QUAD_CASES = (Normal1D(4.0, 0.5), Normal1D(3.0, 1.0), Normal1D(4.0, 2.0), Normal1D(0.0, 1.0),
              Normal1D(5.0, 0.25), Normal1D(-10.0, 0.5))


def quadrature_table(cases=QUAD_CASES, p_data: Normal1D = P_DATA) -> list[dict]:
    rows = []
    for p_g in cases:
        c, j = c_of_g(p_g, p_data), jsd(p_data, p_g)
        rows.append({"p_g": str(p_g), "C": c, "JSD": j, "rhs": MINUS_LOG4 + 2 * j,
                     "error": abs(c - (MINUS_LOG4 + 2 * j))})
    return rows
