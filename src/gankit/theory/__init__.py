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

import sys
import time
from pathlib import Path

from gankit.theory.figures import plot_dstar, plot_figure1, plot_gloss
from gankit.theory.gaussians import (
    DATA_MEAN,
    DATA_STD,
    MINUS_LOG4,
    P_DATA,
    Normal1D,
    c_of_g,
    jsd,
    optimal_discriminator,
    quadrature_table,
    value_of_d,
)
from gankit.theory.optimal_d import (
    affine_generator,
    discriminator_on,
    dstar_error,
    fit_discriminator,
    single_thread,
)
from gankit.theory.toy_gan import GAN_K, generator_density, jsd_on_grid, train_gan_1d

__all__ = ["affine_generator", "c_of_g", "dstar_error", "fit_discriminator", "format_report", "jsd",
           "optimal_discriminator", "quadrature_table", "run_theory", "single_thread", "value_of_d"]


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
