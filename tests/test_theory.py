"""The numbers behind ``gankit theory``: D*, C(G) = -log 4 + 2 JSD, and Algorithm 1 on 1-D Gaussians."""

import argparse
import math
from pathlib import Path

import numpy as np
import pytest
import torch

from gankit import theory
from gankit.commands import theory as theory_command
from gankit.theory import MINUS_LOG4, P_DATA, Normal1D


@pytest.fixture(autouse=True)
def one_thread():
    with theory.single_thread():
        yield


# ---------------------------------------------------------------- quadrature (exact, fast)

def test_c_equals_minus_log4_plus_two_jsd():
    rows = theory.quadrature_table()
    assert len(rows) >= 5
    for r in rows:
        assert r["error"] < 1e-6, r
    # The identity is not vacuous: C moves with p_g, and JSD spans [0, log 2].
    cs = [r["C"] for r in rows]
    assert max(cs) - min(cs) > 1.0
    assert min(r["JSD"] for r in rows) == pytest.approx(0.0, abs=1e-9)
    assert max(r["JSD"] for r in rows) == pytest.approx(math.log(2), abs=1e-6)


def test_c_at_equality_is_minus_log4():
    assert abs(theory.c_of_g(P_DATA) - MINUS_LOG4) < 1e-6
    assert theory.c_of_g(Normal1D(4.0, 0.6)) > MINUS_LOG4 + 1e-3  # any other p_g does worse for G


def test_jsd_route_is_independent_of_c():
    # A wrong JSD (KL instead) must break the identity, so the check can fail.
    p_g = Normal1D(3.0, 1.0)
    kl = math.log(p_g.sigma / P_DATA.sigma) + (P_DATA.sigma ** 2 + (P_DATA.mu - p_g.mu) ** 2) / (2 * p_g.sigma ** 2) - 0.5
    assert abs(theory.c_of_g(p_g) - (MINUS_LOG4 + 2 * kl)) > 0.1
    assert abs(theory.c_of_g(p_g) - (MINUS_LOG4 + 2 * theory.jsd(P_DATA, p_g))) < 1e-6


def test_dstar_maximises_v():
    p_g = Normal1D(3.0, 1.0)
    c = theory.c_of_g(p_g)
    dstar = lambda x: theory.optimal_discriminator(x, P_DATA, p_g)
    assert theory.value_of_d(dstar, p_g) == pytest.approx(c, abs=1e-6)
    for other in (lambda x: np.full_like(x, 0.5), lambda x: np.clip(dstar(x) + 0.05, 0, 1)):
        assert theory.value_of_d(other, p_g) < c - 1e-4


def test_affine_generator_draws_its_gaussian():
    g = theory.affine_generator(Normal1D(3.0, 1.0))
    x = g(torch.randn(200_000, 1, generator=torch.Generator().manual_seed(0))).squeeze(1)
    assert x.mean().item() == pytest.approx(3.0, abs=0.01)
    assert x.std().item() == pytest.approx(1.0, abs=0.01)


# ---------------------------------------------------------------- D trained against a frozen G

def test_trained_d_approaches_dstar():
    # 1,500 steps at batch 512 gave 0.017-0.028 over seeds 0-3; the demo's 3,000 at 1,024 gives ~0.007.
    p_g = Normal1D(3.0, 1.0)
    d, untrained, history = theory.fit_discriminator(p_g, steps=1500, batch=512, seed=0, record_every=500)
    err = history[-1][1]
    assert err < 0.05
    assert untrained > 0.3
    assert err < untrained / 5
    # D* of a *different* p_g is not what D learned: the error measure discriminates.
    assert theory.dstar_error(d, Normal1D(3.0, 0.5)) > 0.2


# ---------------------------------------------------------------- the demo end to end

@pytest.fixture(scope="module")
def demo(tmp_path_factory):
    out = tmp_path_factory.mktemp("theory")
    with theory.single_thread():
        return theory.run_theory(out, seed=0, steps=1200, dstar_steps=1500, progress=False)


def test_run_theory_numbers(demo):
    res = demo
    assert res["minus_log4"] == pytest.approx(-math.log(4))
    assert res["c_minus_jsd_max_error"] < 1e-6
    assert abs(res["c_at_equality"] - res["minus_log4"]) < 1e-6
    assert res["dstar_max_abs_error"] < 0.05 < 0.3 < res["dstar_untrained_error"]
    assert res["v_trained_d"] == pytest.approx(res["c_frozen_g"], abs=5e-3)
    # Algorithm 1 moves G from near 0 onto the data: JSD falls from log 2 to a small value.
    jsds = list(res["gan_jsd"].values())
    # JSD(p_data || p_g) at least halves in 1,200 steps: 0.03-0.05 on seeds 0-1 and 0.24 on seed 2, on
    # AVX2 and scalar kernels, fp32 and bf16 alike (benchmarks/test_margins.py); log 2 = 0.69 at the start.
    assert jsds[0] > 0.6
    assert jsds[-1] < 0.5 * jsds[0]
    assert res["gan_final_mean"] == pytest.approx(4.0, abs=0.3)


def test_figures_written(demo):
    for key, name in (("figure1", "theory_figure1.png"), ("dstar", "theory_dstar.png"), ("gloss", "theory_gloss.png")):
        f = Path(demo["figures"][key])
        assert f.name == name
        assert f.exists() and f.stat().st_size > 20_000 and f.read_bytes()[:4] == b"\x89PNG"


def test_cli_prints_table_and_paths(demo, monkeypatch, capsys, tmp_path):
    seen = {}

    def fake_run(out_dir, seed, steps, dstar_steps, progress):
        seen.update(out_dir=out_dir, seed=seed, steps=steps, dstar_steps=dstar_steps, progress=progress)
        return demo

    monkeypatch.setattr(theory, "run_theory", fake_run)
    parser = theory_command.add_arguments(argparse.ArgumentParser())
    args = parser.parse_args(["--out", str(tmp_path), "--seed", "3", "--steps", "50", "--quiet"])
    assert theory_command.main(args) == 0
    assert seen == dict(out_dir=str(tmp_path), seed=3, steps=50, dstar_steps=3000, progress=False)
    out = capsys.readouterr().out
    assert "-1.386294361" in out and "max |D - D*|, trained D" in out
    assert f"{demo['dstar_max_abs_error']:.4f}" in out
    for path in demo["figures"].values():
        assert path in out
