"""The theory of the vanilla GAN (Goodfellow et al. 2014, lectures 000/001), shown on 1-D Gaussians.

``gankit theory`` checks three results numerically and draws them:

1. Figure 1 of the paper: a small G and D trained with Algorithm 1 (k D-steps, then one G step,
   non-saturating G loss) on ``p_data = N(4, 0.5^2)``; data density black dotted, generator density
   green solid, ``D(x)`` blue dashed, and the ``z -> x = G(z)`` mapping underneath.
2. For a *frozen* G, the D that maximises ``V(G, D)`` is ``D*(x) = p_data / (p_data + p_g)``. The
   frozen G is affine, ``x = a z + b`` with ``z ~ N(0, 1)``, so ``p_g = N(b, a^2)`` is exact and the
   only error left is the trained D's.
3. ``C(G) = max_D V(G, D) = -log 4 + 2 JSD(p_data || p_g)``. C comes from quadrature of the
   definition with ``D*`` plugged in; the JSD comes by a different route, ``H(m) - (H(p) + H(q))/2``
   with closed-form Gaussian entropies, so the two sides share no integrand.

Plus a figure of the two generator losses as functions of D, to show why the non-saturating one learns
when D confidently rejects the fakes (D near 0) and the minimax one does not.
"""

from __future__ import annotations

import argparse
import math
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch
from scipy import integrate
from scipy.stats import gaussian_kde

from gankit.data import TOY_DISTRIBUTIONS
from gankit.losses import discriminator_loss, generator_loss
from gankit.nn.mlp import MLPDiscriminator, MLPGenerator

MINUS_LOG4 = -math.log(4.0)
# p_data is gankit's ``gauss1d`` toy dataset.
DATA_MEAN, DATA_STD = float(TOY_DISTRIBUTIONS["gauss1d"].centers[0, 0]), TOY_DISTRIBUTIONS["gauss1d"].std
GAN_K = 2  # D steps per G step in Algorithm 1 (see train_gan_1d)


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


# ---------------------------------------------------------------- closed forms and quadrature

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


# ---------------------------------------------------------------- D* for a frozen generator

class DataScaled(torch.nn.Module):
    """A discriminator that sees ``(x - mean) / std`` of the data, as gankit normalises every dataset.

    Without it the MLP's first-layer kinks start near x = 0, far from the data at 4, and D needs
    several times more steps to bend its logit where the densities are.
    """

    def __init__(self, net: torch.nn.Module, mean: float = DATA_MEAN, std: float = DATA_STD):
        super().__init__()
        self.net, self.mean, self.std = net, mean, std

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.net((x - self.mean) / self.std)


def make_discriminator(widths) -> DataScaled:
    return DataScaled(MLPDiscriminator((1,), list(widths), dropout=0.0))


class single_thread:
    """Tiny MLPs gain nothing from intra-op threads; on a busy 2-core machine they lose 100x to contention."""

    def __enter__(self):
        self.saved = torch.get_num_threads()
        torch.set_num_threads(1)

    def __exit__(self, *exc):
        torch.set_num_threads(self.saved)

def affine_generator(p_g: Normal1D) -> MLPGenerator:
    """An MLPGenerator with no hidden layer is ``x = a z + b``; with ``z ~ N(0, 1)`` it draws ``p_g``."""
    g = MLPGenerator(1, [], (1,), dropout=0.0, tanh=False)
    with torch.no_grad():
        g.out.weight.fill_(p_g.sigma)
        g.out.bias.fill_(p_g.mu)
    return g.requires_grad_(False).eval()


def discriminator_on(d: torch.nn.Module, x: np.ndarray) -> np.ndarray:
    with torch.no_grad():
        logits = d(torch.as_tensor(x, dtype=torch.float32).reshape(-1, 1))
    return torch.sigmoid(logits).double().numpy()


def dstar_region(p_g: Normal1D, p_data: Normal1D = P_DATA, n: int = 2001, frac: float = 0.01):
    """A grid over both densities and the mask where ``p_data + p_g`` exceeds ``frac`` of its max."""
    lo = min(p_data.mu - 5 * p_data.sigma, p_g.mu - 5 * p_g.sigma)
    hi = max(p_data.mu + 5 * p_data.sigma, p_g.mu + 5 * p_g.sigma)
    x = np.linspace(lo, hi, n)
    s = p_data.pdf(x) + p_g.pdf(x)
    return x, s > frac * s.max()


def dstar_error(d: torch.nn.Module, p_g: Normal1D, p_data: Normal1D = P_DATA) -> float:
    """``max |D(x) - D*(x)|`` where ``p_data + p_g`` is at least 1% of its maximum."""
    x, mask = dstar_region(p_g, p_data)
    return float(np.abs(discriminator_on(d, x) - optimal_discriminator(x, p_data, p_g))[mask].max())


def fit_discriminator(p_g: Normal1D, steps: int = 3000, seed: int = 0, batch: int = 1024, lr: float = 3e-3,
                      widths=(64, 64), p_data: Normal1D = P_DATA, record_every: int = 100):
    """Train a fresh D against the frozen affine G with the BCE loss on fresh samples every step.

    The learning rate decays to zero (cosine) so the last iterates average out the minibatch noise,
    which otherwise sets the floor of ``|D - D*|``. Returns ``(D, untrained error, [(step, error)])``.
    """
    torch.manual_seed(seed)
    gen = torch.Generator().manual_seed(seed)
    g = affine_generator(p_g)
    d = make_discriminator(widths)
    history = [(0, dstar_error(d, p_g, p_data))]
    opt = torch.optim.Adam(d.parameters(), lr=lr, betas=(0.9, 0.999))
    sched = torch.optim.lr_scheduler.CosineAnnealingLR(opt, T_max=steps)
    for step in range(1, steps + 1):
        real = p_data.sample(batch, gen)
        fake = g(torch.randn(batch, 1, generator=gen))
        loss = discriminator_loss("minimax", d(real), d(fake))
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()
        sched.step()
        if step % record_every == 0 or step == steps:
            history.append((step, dstar_error(d, p_g, p_data)))
    return d.eval(), history[0][1], history


# ---------------------------------------------------------------- Algorithm 1 on the toy problem

@dataclass
class Snapshot:
    step: int
    z_grid: np.ndarray      # z values drawn as the bottom line of Figure 1
    x_of_z: np.ndarray      # G(z) for them
    samples: np.ndarray     # many G samples for the density estimate
    d_x: np.ndarray         # x grid where D is evaluated
    d_of_x: np.ndarray


def train_gan_1d(steps: int = 2000, seed: int = 0, k: int = GAN_K, batch: int = 256, lr: float = 5e-4,
                 widths=(32, 32), g_loss: str = "non-saturating", snapshot_fractions=(0.0, 0.05, 0.15, 1.0),
                 x_range=(-2.0, 7.0), decay: bool = True, progress: bool = False) -> list[Snapshot]:
    """Algorithm 1: for each iteration, k D-steps on fresh minibatches, then one G step.

    z ~ U(-1, 1) as in the paper's Figure 1. Snapshots are taken at the given fractions of ``steps``
    (the interesting motion is early). With k=1 this toy problem keeps circling the equilibrium;
    k=2 and a decaying learning rate settle it (JSD about 0.02-0.06 over seeds 0-2).
    """
    torch.manual_seed(seed)
    gen = torch.Generator().manual_seed(seed)
    g = MLPGenerator(1, list(widths), (1,), dropout=0.0, tanh=False)
    d = make_discriminator(widths)
    opt_g = torch.optim.Adam(g.parameters(), lr=lr, betas=(0.5, 0.999))
    opt_d = torch.optim.Adam(d.parameters(), lr=lr, betas=(0.5, 0.999))
    # A linear decay to zero lets the last iterates settle instead of circling the equilibrium.
    scheds = [torch.optim.lr_scheduler.LambdaLR(o, lambda i: 1 - i / steps) for o in (opt_g, opt_d)] if decay else []

    def z(n):
        return torch.rand(n, 1, generator=gen) * 2 - 1

    snap_at = sorted({int(round(f * steps)) for f in snapshot_fractions})
    z_grid = torch.linspace(-1, 1, 17).reshape(-1, 1)
    d_x = np.linspace(x_range[0], x_range[1], 600)
    eval_gen = torch.Generator().manual_seed(seed + 1)

    def snapshot(step):
        with torch.no_grad():
            samples = g(torch.rand(20_000, 1, generator=eval_gen) * 2 - 1).squeeze(1).numpy()
            x_of_z = g(z_grid).squeeze(1).numpy()
        return Snapshot(step, z_grid.squeeze(1).numpy(), x_of_z, samples.astype(np.float64), d_x,
                        discriminator_on(d, d_x))

    snaps = [snapshot(0)] if 0 in snap_at else []
    t0 = time.perf_counter()
    for step in range(1, steps + 1):
        for _ in range(k):
            real = P_DATA.sample(batch, gen)
            with torch.no_grad():
                fake = g(z(batch))
            loss_d = discriminator_loss("minimax", d(real), d(fake))
            opt_d.zero_grad(set_to_none=True)
            loss_d.backward()
            opt_d.step()
        loss_g = generator_loss(g_loss, d(g(z(batch))))
        opt_g.zero_grad(set_to_none=True)
        loss_g.backward()
        opt_g.step()
        for sch in scheds:
            sch.step()
        if step in snap_at:
            snaps.append(snapshot(step))
        if progress and (step % max(1, steps // 5) == 0):
            print(f"  [theory] GAN step {step}/{steps}  loss_D={loss_d.item():.3f} loss_G={loss_g.item():.3f}"
                  f"  ({time.perf_counter() - t0:.1f}s)", file=sys.stderr)
    return snaps


def generator_density(samples: np.ndarray, x: np.ndarray) -> np.ndarray:
    """Gaussian KDE of G's samples (Scott's bandwidth); a collapsed G gets a tiny floor on its spread."""
    if samples.std() < 1e-4:
        samples = samples + np.random.default_rng(0).normal(0, 1e-4, samples.shape)
    return gaussian_kde(samples)(x)


def jsd_on_grid(p: np.ndarray, q: np.ndarray, x: np.ndarray) -> float:
    """JSD of two densities tabulated on a grid (each renormalised on it), in nats."""
    p, q = p / np.trapezoid(p, x), q / np.trapezoid(q, x)
    m = 0.5 * (p + q)
    def kl(a):
        with np.errstate(divide="ignore", invalid="ignore"):
            return np.trapezoid(np.where(a > 0, a * np.log(a / m), 0.0), x)
    return float(0.5 * kl(p) + 0.5 * kl(q))


# ---------------------------------------------------------------- figures

def _pyplot():
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    return plt


def plot_figure1(snaps: list[Snapshot], path: Path, g_loss: str = "non-saturating") -> Path:
    plt = _pyplot()
    fig, axes = plt.subplots(1, len(snaps), figsize=(4.2 * len(snaps), 4.2), sharey=True)
    x = snaps[0].d_x
    lo, hi = x[0], x[-1]
    p_data = P_DATA.pdf(x)
    top = 1.6
    z_level, x_level = -0.55, -0.12
    for ax, s, letter in zip(np.atleast_1d(axes), snaps, "abcdefgh"):
        p_g = generator_density(s.samples, x)
        ax.plot(x, p_data, "k:", lw=2, label=r"$p_{data}$ = N(4, 0.5$^2$)")
        ax.plot(x, np.minimum(p_g, top + 1), "g-", lw=2, label=r"$p_g$ (KDE of G samples)")
        ax.plot(x, s.d_of_x, "b--", lw=2, label=r"$D(x)$")
        if p_g.max() > top:
            ax.annotate(f"$p_g$ peak {p_g.max():.1f} (clipped)", xy=(x[p_g.argmax()], top), xytext=(6, -12),
                        textcoords="offset points", ha="left", color="g", fontsize=8)
        # The z line and the arrows x = G(z), drawn like the bottom of the paper's figure: z in
        # [-1, 1] is laid out over the middle of the x axis.
        zx = lo + (hi - lo) * (0.3 + 0.4 * (s.z_grid + 1) / 2)
        ax.hlines([z_level, x_level], lo, hi, colors="0.3", lw=1)
        for a, b in zip(zx, np.clip(s.x_of_z, lo, hi)):
            ax.annotate("", xy=(b, x_level), xytext=(a, z_level),
                        arrowprops=dict(arrowstyle="->", color="0.35", lw=0.8, shrinkA=0, shrinkB=0))
        ax.text(lo + 0.05 * (hi - lo), z_level + 0.04, "z ~ U(-1,1)", fontsize=8, color="0.3")
        ax.text(lo + 0.05 * (hi - lo), x_level + 0.04, "x", fontsize=8, color="0.3")
        jsd_est = jsd_on_grid(p_data, p_g, x)
        ax.set_title(f"({letter}) step {s.step}   JSD≈{jsd_est:.3f}", fontsize=10)
        ax.set_xlim(lo, hi)
        ax.set_ylim(z_level - 0.1, top)
        ax.set_xlabel("x")
        ax.axhline(0.5, color="b", lw=0.5, alpha=0.3)
        ax.set_yticks([0, 0.5, 1.0, 1.5])
    handles, labels = np.atleast_1d(axes)[0].get_legend_handles_labels()
    fig.legend(handles, labels, loc="lower center", ncol=3, fontsize=9, frameon=False)
    fig.suptitle(f"Goodfellow et al. 2014, Figure 1 on 1-D data: Algorithm 1 (k={GAN_K}, {g_loss} G loss, Adam); "
                 "at equilibrium p_g = p_data and D = 1/2", fontsize=10)
    fig.tight_layout(rect=(0, 0.06, 1, 1))
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return path


def plot_dstar(d: torch.nn.Module, d0_error: float, history, p_g: Normal1D, path: Path) -> Path:
    plt = _pyplot()
    x, mask = dstar_region(p_g)
    fig, (ax, ax2) = plt.subplots(1, 2, figsize=(11, 4.2), gridspec_kw={"width_ratios": [1.5, 1]})
    dstar = optimal_discriminator(x, P_DATA, p_g)
    d_x = discriminator_on(d, x)
    ax.plot(x, P_DATA.pdf(x), "k:", lw=2, label=r"$p_{data}$ = " + str(P_DATA))
    ax.plot(x, p_g.pdf(x), "g-", lw=2, label=r"$p_g$ = " + str(p_g) + "  (frozen affine G)")
    ax.plot(x, dstar, color="orange", lw=4, alpha=0.6, label=r"$D^*(x)=p_{data}/(p_{data}+p_g)$")
    ax.plot(x, d_x, "b--", lw=1.8, label="trained D(x)")
    ax.fill_between(x, -0.05, 1.05, where=~mask, color="0.9", label="excluded: $p_{data}+p_g$ < 1% of max")
    err = np.abs(d_x - dstar)[mask].max()
    ax.set_title(f"D trained to convergence vs D*: max |D - D*| = {err:.4f}", fontsize=10)
    ax.set_xlabel("x")
    ax.set_ylim(-0.05, 1.05)
    ax.set_xlim(x[0], x[-1])
    ax.legend(fontsize=8, loc="upper left")
    steps, errs = zip(*history)
    ax2.plot(steps, errs, "b.-")
    ax2.axhline(d0_error, color="r", ls=":", label=f"untrained D: {d0_error:.3f}")
    ax2.set_yscale("log")
    ax2.set_xlabel("D training step (G frozen)")
    ax2.set_ylabel("max |D - D*| over the support")
    ax2.set_title("convergence of D toward D*", fontsize=10)
    ax2.legend(fontsize=8)
    ax2.grid(alpha=0.3, which="both")
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return path


def plot_gloss(path: Path) -> Path:
    """The two generator losses against D, and the gradients G actually receives."""
    plt = _pyplot()
    d = np.linspace(1e-3, 1 - 1e-3, 2000)
    fig, (ax, ax2) = plt.subplots(1, 2, figsize=(11, 4.3))
    ax.plot(d, np.log1p(-d), "r-", lw=2, label=r"minimax: G minimises $\log(1-D)$")
    ax.plot(d, -np.log(d), "b-", lw=2, label=r"non-saturating: G minimises $-\log D$")
    ax.axvspan(0, 0.1, color="0.92")
    ax.annotate("early training: D(G(z)) ≈ 0\n"
                r"$\log(1-D)$ ≈ 0 and nearly flat" "\n"
                r"$-\log D$ large and steep",
                xy=(0.03, -np.log(0.03)), xytext=(0.25, 3.4), fontsize=9,
                arrowprops=dict(arrowstyle="->", color="0.3"))
    ax.annotate("", xy=(0.03, np.log1p(-0.03)), xytext=(0.25, 3.2),
                arrowprops=dict(arrowstyle="->", color="0.3"))
    ax.set_xlabel("D(G(z))")
    ax.set_ylabel("generator loss")
    ax.set_ylim(-5, 5.5)
    ax.set_xlim(0, 1)
    ax.axhline(0, color="k", lw=0.5)
    ax.legend(fontsize=9, loc="lower left")
    ax.set_title("the two generator losses (both are minimised at D = 1)", fontsize=10)

    # What G receives flows through D = sigmoid(logit): d/dlogit log(1 - D) = -D, d/dlogit (-log D) = -(1 - D).
    ax2.semilogy(d, 1 / (1 - d), "r--", lw=1.2, label=r"$|d\,\log(1-D)/dD| = 1/(1-D)$")
    ax2.semilogy(d, 1 / d, "b--", lw=1.2, label=r"$|d(-\log D)/dD| = 1/D$")
    ax2.semilogy(d, d, "r-", lw=2, label=r"minimax, w.r.t. D's logit: $D$")
    ax2.semilogy(d, 1 - d, "b-", lw=2, label=r"non-saturating, w.r.t. D's logit: $1-D$")
    ax2.axvspan(0, 0.1, color="0.92")
    ax2.annotate("D ≈ 0: the minimax gradient\nvanishes (∝ D), the non-saturating\none stays ≈ 1",
                 xy=(0.01, 0.01), xytext=(0.3, 0.004), fontsize=9, arrowprops=dict(arrowstyle="->", color="0.3"))
    ax2.set_xlabel("D(G(z))")
    ax2.set_ylabel("gradient magnitude (log scale)")
    ax2.set_xlim(0, 1)
    ax2.set_ylim(1e-3, 1e3)
    ax2.legend(fontsize=8, loc="upper center")
    ax2.grid(alpha=0.3, which="both")
    ax2.set_title("slopes: same fixed point, very different signal early on", fontsize=10)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return path


# ---------------------------------------------------------------- the demo

FROZEN_PG = Normal1D(3.0, 1.0)


def run_theory(out_dir, seed: int = 0, steps: int = 2000, dstar_steps: int = 3000, progress: bool = True,
               figures: bool = True) -> dict:
    """Run the three checks, draw the figures into ``out_dir``, and return the numbers and paths."""
    with single_thread():
        return _run_theory(out_dir, seed, steps, dstar_steps, progress, figures)


def _run_theory(out_dir, seed, steps, dstar_steps, progress, figures) -> dict:
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    say = (lambda m: print(f"[theory] {m}", file=sys.stderr)) if progress else (lambda m: None)
    res: dict = {"seed": seed, "steps": steps, "dstar_steps": dstar_steps, "minus_log4": MINUS_LOG4}

    say("C(G) vs -log 4 + 2 JSD by quadrature")
    table = quadrature_table()
    res["quadrature_table"] = table
    res["c_minus_jsd_max_error"] = max(r["error"] for r in table)
    res["c_at_equality"] = c_of_g(P_DATA)
    res["c_at_equality_error"] = abs(res["c_at_equality"] - MINUS_LOG4)

    say(f"training D against a frozen G with p_g = {FROZEN_PG} ({dstar_steps} steps)")
    d, d0_err, history = fit_discriminator(FROZEN_PG, steps=dstar_steps, seed=seed)
    res["dstar_p_g"] = str(FROZEN_PG)
    res["dstar_max_abs_error"] = history[-1][1]
    res["dstar_untrained_error"] = d0_err
    res["c_frozen_g"] = c_of_g(FROZEN_PG)
    res["v_trained_d"] = value_of_d(lambda x: discriminator_on(d, x), FROZEN_PG)

    say(f"Algorithm 1 on p_data = {P_DATA} ({steps} steps)")
    t0 = time.perf_counter()
    snaps = train_gan_1d(steps=steps, seed=seed, progress=progress)
    res["gan_seconds"] = time.perf_counter() - t0
    x = snaps[0].d_x
    res["gan_jsd"] = {s.step: jsd_on_grid(P_DATA.pdf(x), generator_density(s.samples, x), x) for s in snaps}
    res["gan_final_mean"] = float(snaps[-1].samples.mean())
    res["gan_final_std"] = float(snaps[-1].samples.std())
    mask = P_DATA.pdf(x) > 0.01 * P_DATA.pdf(x).max()
    res["gan_final_d_on_data"] = float(snaps[-1].d_of_x[mask].mean())

    if figures:
        res["figures"] = {
            "figure1": str(plot_figure1(snaps, out / "theory_figure1.png")),
            "dstar": str(plot_dstar(d, d0_err, history, FROZEN_PG, out / "theory_dstar.png")),
            "gloss": str(plot_gloss(out / "theory_gloss.png")),
        }
    return res


def format_report(res: dict) -> str:
    lines = ["C(G) = max_D V(G, D) by quadrature, p_data = " + str(P_DATA),
             f"  {'p_g':<16}{'C(G)':>14}{'JSD':>12}{'-log4 + 2 JSD':>16}{'|difference|':>14}"]
    for r in res["quadrature_table"]:
        lines.append(f"  {r['p_g']:<16}{r['C']:>14.9f}{abs(r['JSD']) if abs(r['JSD']) < 1e-12 else r['JSD']:>12.8f}{r['rhs']:>16.9f}{r['error']:>14.2e}")
    lines += [
        f"  -log 4                          = {res['minus_log4']:.9f}",
        f"  C at p_g = p_data               = {res['c_at_equality']:.9f}   (|C + log 4| = {res['c_at_equality_error']:.1e})",
        f"  max |C - (-log 4 + 2 JSD)|      = {res['c_minus_jsd_max_error']:.1e}",
        "",
        f"Optimal discriminator, frozen G with p_g = {res['dstar_p_g']} (seed {res['seed']}, {res['dstar_steps']} D steps)",
        f"  max |D - D*|, trained D         = {res['dstar_max_abs_error']:.4f}",
        f"  max |D - D*|, untrained D       = {res['dstar_untrained_error']:.4f}",
        f"  V(G, trained D) vs C(G)         = {res['v_trained_d']:.5f} vs {res['c_frozen_g']:.5f}",
        "",
        f"Algorithm 1 (k={GAN_K}, non-saturating, Adam), {res['steps']} steps in {res['gan_seconds']:.1f}s",
        "  JSD(p_data || p_g) at steps      " + ", ".join(f"{k}: {v:.3f}" for k, v in res["gan_jsd"].items()),
        f"  final G mean / std              = {res['gan_final_mean']:.3f} / {res['gan_final_std']:.3f}"
        f"   (data {DATA_MEAN} / {DATA_STD})",
        f"  final mean D(x) where p_data > 1% of max = {res['gan_final_d_on_data']:.3f}   (1/2 at equilibrium)",
    ]
    if "figures" in res:
        lines += ["", "Figures:"] + [f"  {k:<8} {v}" for k, v in res["figures"].items()]
    return "\n".join(lines)


def add_arguments(parser: argparse.ArgumentParser) -> argparse.ArgumentParser:
    parser.add_argument("--out", default="theory", help="directory for the figures (default: ./theory)")
    parser.add_argument("--seed", type=int, default=0, help="random seed (default: 0)")
    parser.add_argument("--steps", type=int, default=2000, help="Algorithm 1 iterations for Figure 1 (default: 2000)")
    parser.add_argument("--dstar-steps", type=int, default=3000,
                        help="D training steps against the frozen G (default: 3000)")
    parser.add_argument("--quiet", action="store_true", help="no progress messages")
    return parser


def main(args: argparse.Namespace) -> int:
    res = run_theory(args.out, seed=args.seed, steps=args.steps, dstar_steps=getattr(args, "dstar_steps", 3000),
                     progress=not getattr(args, "quiet", False))
    print(format_report(res))
    return 0


if __name__ == "__main__":
    raise SystemExit(main(add_arguments(argparse.ArgumentParser(prog="gankit theory")).parse_args()))
