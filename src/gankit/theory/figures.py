"""The theory figures: Figure 1 of the paper, D vs D*, and the two generator losses."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import torch

from gankit.theory.gaussians import P_DATA, Normal1D, optimal_discriminator
from gankit.theory.optimal_d import discriminator_on, dstar_region
from gankit.theory.toy_gan import GAN_K, Snapshot, generator_density, jsd_on_grid


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
