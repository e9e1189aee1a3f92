"""StyleGAN2: demodulation, equalised learning rates, path lengths, lazy regularisation, style mixing,
truncation in W, and a bit-exact resume through the Trainer (on scikit-learn's 8x8 digits)."""

import json
import math
import sys
from pathlib import Path

import numpy as np
import pytest
import torch

import gankit
from gankit.cli import main
from gankit.config import ConfigError, TrainConfig
from gankit.data.catalog import DatasetInfo
from gankit.models.stylegan2 import StyleGAN2, StyleGAN2Options, lazy_correction
from gankit.nn.equalized import EqualizedLinear
from gankit.nn.fir import downsample2d, upsample2d
from gankit.nn.modulated import ModulatedConv2d, demodulation
from gankit.nn.stylegan2 import ResidualDiscriminator, StyleGenerator, resolutions
from gankit.noise import Noise
from gankit.train.checkpoint import latest_checkpoint, load_state
from gankit.train.trainer import train
from gankit.tricks import path_lengths

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "benchmarks"))
from stylegan2_mixing import frequency_distances  # noqa: E402
from stylegan2_mixing import main as mixing  # noqa: E402
from test_seam import assert_same_weights, config, weights

TINY = {"latent_dim": 8, "w_dim": 8, "channel_base": 64, "channel_max": 8}


def recipe(size=8, channels=1, train=None, **options) -> StyleGAN2:
    info = DatasetInfo(name="toy", description="", shape=(channels, size, size), num_classes=10)
    return StyleGAN2(StyleGAN2Options(**{**TINY, **options}), {"real": info}, train or TrainConfig(batch_size=8))


@pytest.mark.parametrize("seed", range(3))
def test_demodulated_convolutions_give_unit_variance_for_unit_variance_inputs_whatever_the_style(seed):
    torch.manual_seed(seed)
    conv = ModulatedConv2d(16, 32, 24, 3)
    with torch.no_grad():  # far from the initial styles of 1: some channels x10, some x0.1
        conv.affine.bias.copy_(torch.exp(torch.randn(32) * 2))
    x = torch.randn(64, 32, 16, 16)
    out = conv(x, torch.randn(64, 16) * 3)[:, :, 1:-1, 1:-1]  # interior pixels: no zero padding
    assert out.var(dim=(0, 2, 3)).mean().item() == pytest.approx(1.0, abs=0.05)
    plain = ModulatedConv2d(16, 32, 24, 3, demodulate=False)
    plain.load_state_dict(conv.state_dict())
    assert plain(x, torch.randn(64, 16) * 3).var().item() > 2.0  # the styles do reach the output without it


def test_demodulation_equals_the_norm_of_the_modulated_weights():
    weight, styles = torch.randn(6, 5, 3, 3), torch.randn(4, 5)
    modulated = weight[None] * styles[:, None, :, None, None]
    expected = modulated.square().sum(dim=(2, 3, 4)).add(1e-8).rsqrt()
    assert torch.allclose(demodulation(weight, styles), expected, rtol=1e-5)


def test_equalised_learning_rate_scales_and_the_mapping_networks_slower_rate():
    conv = ModulatedConv2d(8, 32, 4, 3)
    assert conv.scale == pytest.approx(1 / math.sqrt(32 * 9))
    fast, slow = EqualizedLinear(256, 64, gain=1.0), EqualizedLinear(256, 64, gain=1.0, lr_multiplier=0.01)
    for layer in (fast, slow):  # the same function at initialisation: effective weights of std 1/sqrt(fan_in)
        assert (layer.weight * layer.scale).std().item() == pytest.approx(1 / 16, rel=0.05)
    moved = []
    for layer in (fast, slow):  # one Adam step moves each stored weight by ~lr, the effective ones by lr * scale
        before = (layer.weight * layer.scale).detach().clone()
        optimizer = torch.optim.Adam(layer.parameters(), lr=1e-3)
        layer(torch.randn(32, 256)).square().mean().backward()
        optimizer.step()
        moved.append(((layer.weight * layer.scale).detach() - before).abs().mean().item())
    assert moved[1] / moved[0] == pytest.approx(0.01, rel=0.05)


def test_path_lengths_of_a_linear_generator_equal_the_closed_form():
    torch.manual_seed(0)
    jacobian = torch.randn(3, 2 * 6 * 6, 5)  # (layers, pixels, w_dim): images = sum_l J_l w_l
    ws = torch.randn(4, 3, 5, requires_grad=True)
    images = torch.einsum("lpd,nld->np", jacobian, ws).reshape(4, 2, 6, 6)
    y = torch.randn(4, 2, 6, 6)
    expected = torch.einsum("lpd,np->nld", jacobian, y.flatten(1)).square().sum(2).mean(1).sqrt()
    assert torch.allclose(path_lengths(images, ws, y), expected, rtol=1e-5)


def test_lazy_regularisers_run_every_k_iterations_with_gain_k_and_adam_corrected():
    model = recipe(train=TrainConfig(batch_size=8, lr_g=0.0025, lr_d=0.002, betas=(0.0, 0.99)),
                   r1_every=16, pl_every=4, r1_gamma=1.0)
    phases = {p.name: p for p in model.phases()}
    assert [p.name for p in model.phases()] == ["D", "R1", "G", "PL"]
    assert (phases["R1"].every, phases["R1"].gain) == (16, 16) and (phases["PL"].every, phases["PL"].gain) == (4, 4)
    specs = model.optimizers()
    assert specs["G"].lr == pytest.approx(0.0025 * 4 / 5) and specs["D"].lr == pytest.approx(0.002 * 16 / 17)
    assert specs["G"].betas == pytest.approx((0.0, 0.99 ** 0.8)) and specs["D"].betas[1] == pytest.approx(0.99 ** (16 / 17))
    off = recipe(r1_gamma=0.0, pl_weight=0.0)
    assert [p.name for p in off.phases()] == ["D", "G"] and off.optimizers()["G"].betas == (0.5, 0.999)
    assert lazy_correction(16) == 16 / 17


def test_a_mixing_index_takes_the_first_latent_below_it_and_the_second_from_it_on():
    G = StyleGenerator(8, 8, 1, 16, channel_base=64, channel_max=8)
    assert G.num_ws == 6
    z, z2 = torch.randn(5, 8), torch.randn(5, 8)
    cutoff = torch.tensor([1, 2, 3, 5, 6])
    _, ws = G(z, mix_z=z2, mix_cutoff=cutoff, return_ws=True)
    w, w2 = G.mapping(z), G.mapping(z2)
    for i, m in enumerate(cutoff.tolist()):
        assert torch.equal(ws[i, :m], w[i].expand(m, -1)) and torch.equal(ws[i, m:], w2[i].expand(6 - m, -1))


def test_truncation_psi_0_gives_the_average_latents_image_and_psi_1_the_plain_sample():
    model = recipe(size=16)
    G = model.nets["G"]
    with torch.no_grad():
        G.mapping.w_avg.copy_(torch.randn(8))
    inputs = model.draw_inputs(4, Noise.seeded(0))
    plain = model.generate(inputs)
    assert torch.equal(model.generate(model.truncate(inputs, 1.0)), plain)
    average = G.synthesis(G.mapping.w_avg.expand(1, G.num_ws, -1)).clamp(-1, 1)
    assert torch.allclose(model.generate(model.truncate(inputs, 0.0)), average.expand(4, -1, -1, -1), atol=1e-6)
    model.truncation_cutoff = 2  # layers from 2 on keep their own w
    ws = model.styles(model.truncate(inputs, 0.0))
    assert torch.allclose(ws[:, :2], G.mapping.w_avg.expand(4, 2, -1)) and torch.equal(ws[:, 2:], model.styles(inputs)[:, 2:])


def test_blurred_resampling_keeps_a_constant_and_halves_or_doubles_the_size():
    x = torch.ones(2, 3, 8, 8)
    assert torch.allclose(upsample2d(x)[:, :, 1:-1, 1:-1], torch.ones(2, 3, 14, 14))
    assert torch.allclose(downsample2d(x)[:, :, 1:-1, 1:-1], torch.ones(2, 3, 2, 2))
    assert upsample2d(x).shape[-1] == 16 and downsample2d(x).shape[-1] == 4


def test_networks_shapes_conditioning_and_sizes():
    assert resolutions(32) == [4, 8, 16, 32]
    with pytest.raises(ValueError, match="4 \\* 2\\^k pixels"):
        resolutions(28)
    G = StyleGenerator(8, 8, 3, 32, channel_base=64, channel_max=8, num_classes=10)
    D = ResidualDiscriminator(3, 32, channel_base=64, channel_max=8, num_classes=10)
    y = torch.arange(4)
    x = G(torch.randn(4, 8), y)
    assert x.shape == (4, 3, 32, 32) and D(x, y).shape == (4,)
    with pytest.raises(ValueError, match="class-conditional"):
        G(torch.randn(4, 8))
    with pytest.raises(ConfigError, match="labelled data"):
        StyleGAN2(StyleGAN2Options(**TINY, conditional=True), {"real": DatasetInfo(name="x", description="", shape=(1, 8, 8), num_classes=None)},
                  TrainConfig())
    with pytest.raises(ConfigError, match="style_mixing"):
        recipe(style_mixing=1.5)


def stylegan2_config(steps, **options):
    cfg = config("stylegan2", data="digits", steps=steps, batch_size=8, ema_kimg=0.05, ema_rampup=0.05,
                 lr_g=0.0025, lr_d=0.0025, betas=(0.0, 0.99), augment="ada")
    cfg.options = {**TINY, "r1_every": 4, "pl_every": 2, "r1_gamma": 0.1, **options}
    return cfg


def test_training_then_a_resume_is_bit_exact_with_w_avg_the_path_length_mean_and_adas_p(tmp_path):
    steps, middle = 9, 5  # the resume lands between lazy steps of both regularisers
    train(stylegan2_config(steps), tmp_path / "straight", progress=False)
    train(stylegan2_config(middle), tmp_path / "resumed", progress=False)
    train(stylegan2_config(steps), tmp_path / "resumed", resume=True, progress=False)
    a, b = weights(tmp_path / "straight"), weights(tmp_path / "resumed")
    assert_same_weights(a, b)
    for key in ("nets.G.mapping.w_avg", "pl_mean", "augment.p", "ema.mapping.w_avg"):
        assert key in a, sorted(a)[:20]
    assert a["pl_mean"].item() > 0 and a["nets.G.mapping.w_avg"].abs().sum() > 0
    sa, sb = (load_state(latest_checkpoint(tmp_path / n)) for n in ("straight", "resumed"))
    assert sa["images"] == sb["images"]
    run = gankit.load(tmp_path / "straight")
    assert run.sample(4, truncation=0.5).shape == (4, 1, 8, 8)


@pytest.fixture(scope="module")
def tiny_run(tmp_path_factory):
    run_dir = tmp_path_factory.mktemp("stylegan2") / "run"
    cfg = stylegan2_config(2)
    cfg.data.size = 16  # three resolutions: coarse, middle and fine styles
    train(cfg, run_dir, progress=False)
    return run_dir


def test_the_mixing_figure_names_its_rows_and_refuses_unknown_ranges(tiny_run, tmp_path, capsys):
    out = tmp_path / "mix.png"
    assert main(["mix", str(tiny_run), "--rows", "1", "--cols", "3", "--out", str(out)]) == 0
    assert "3 sources A (top row); 2 rows" in capsys.readouterr().out and out.exists()
    assert main(["mix", str(tiny_run), "--layers", "0-9", "--out", str(out)]) != 0
    assert "latent indices START-STOP within 0-5" in capsys.readouterr().err
    run = gankit.load(tiny_run)
    assert run.recipe.style_ranges() == {"coarse": (0, 3), "fine": (3, 6)}


def test_the_mixing_benchmark_splits_images_by_frequency_and_scores_every_group_boundary(tiny_run, tmp_path, capsys):
    a, b = torch.rand(2, 3, 3, 16, 16) * 2 - 1
    d = frequency_distances(b + 0.5, a, b, 4)  # a constant offset is all low frequency
    assert torch.allclose(d["high_b"], torch.zeros(3), atol=1e-12) and torch.allclose(d["low_b"], torch.full((3,), 0.25))
    assert (d["high_a"] > 0).all() and (d["low_a"] > 0).all()
    same = frequency_distances(a, a, b, 4)
    assert (same["low_a"] == 0).all() and (same["high_a"] == 0).all() and (same["high_b"] > 0).all()

    assert mixing([str(tiny_run), "--pairs", "6", "--json", str(tmp_path / "mixing.json")]) == 0
    rows = json.loads((tmp_path / "mixing.json").read_text())["rows"]
    assert [(row["from_a"], row["from_b"], row["cutoff"]) for row in rows] == [("coarse", "fine", 3)]
    assert "| coarse | fine |" in capsys.readouterr().out


def test_coarse_styles_set_the_low_frequencies_and_fine_styles_the_high_ones():
    """Over 100 pairs, at initialisation (the architecture's own bias, before any training): images
    with A's coarse styles and B's others are closer to A in their blurred (low-pass) content, and
    what the blur removes is relatively closer to B than the blurred part is. (On the 2,000-step
    emoji model of benchmarks/RESULTS.md the high-pass part follows A's layout: not asserted here.)"""
    torch.manual_seed(0)
    model = recipe(size=32, channels=3, latent_dim=32, w_dim=32, channel_base=512, channel_max=32)
    G = model.nets["G"]
    coarse_stop, fine_start = model.style_ranges()["coarse"][1], model.style_ranges()["fine"][0]

    with torch.no_grad():
        wa, wb = (model.styles({"z": torch.randn(100, 32)}) for _ in range(2))
        mixed = wb.clone()
        mixed[:, :coarse_stop] = wa[:, :coarse_stop]  # coarse from A, the rest (fine included) from B
        a, b, m = (G.synthesis(w) for w in (wa, wb, mixed))
    d = frequency_distances(m, a, b, 4)
    assert d["low_a"].mean() < d["low_b"].mean()
    assert (d["high_b"] / d["high_a"]).mean() < (d["low_b"] / d["low_a"]).mean()
    assert fine_start > coarse_stop


def test_projection_recovers_an_image_the_generator_drew_and_sample_redraws_the_latent(tiny_run, tmp_path, capsys):
    run = gankit.load(tiny_run)
    target = run.sample(1, seed=5)
    from gankit.data.pixels import to_uint8
    from PIL import Image
    Image.fromarray(to_uint8(target)[0, 0]).save(tmp_path / "target.png")
    out = tmp_path / "projected"
    assert main(["project", str(tiny_run), str(tmp_path / "target.png"), "--out", str(out), "--steps", "500",
                 "--w-plus"]) == 0
    printed = capsys.readouterr().out
    assert "target.png: L1" in printed and "s per image" in printed
    for suffix in (".npy", ".png", ".gif"):
        assert (out / f"target{suffix}").exists()
    w = np.load(out / "target.npy")
    assert w.shape == (run.recipe.num_ws, 8)
    assert main(["sample", str(tiny_run), "--latent", str(out / "target.npy"), "--out", str(tmp_path / "again.npy")]) == 0
    again = np.load(tmp_path / "again.npy").astype(float)
    random = run.sample_array(50, seed=9).astype(float)
    error = np.abs(again - to_uint8(target).astype(float)).mean()
    assert error < np.abs(random - to_uint8(target).astype(float)).mean(axis=(1, 2, 3)).min()
    assert main(["project", str(tiny_run), str(tmp_path / "missing.png"), "--out", str(out)]) != 0
    assert "no such file" in capsys.readouterr().err


def test_serve_mixes_styles_from_a_second_seed(tiny_run, tmp_path):
    import shutil

    from serve_support import Server

    shutil.copytree(tiny_run, tmp_path / "runs" / "sg2")
    server = Server(tmp_path / "runs")
    try:
        status, info = server.request("GET", "/api/run?run=sg2")
        assert status == 200 and info["style_layers"] == gankit.load(tiny_run).recipe.num_ws == 6

        def image(setting):
            status, body = server.request("POST", "/api/sample?run=sg2", {"seed": 1, **setting})
            assert status == 200, body
            return body["image"]

        plain = image({})
        assert image({"mix": {"seed": 1, "from": 3}}) == plain  # the same latent on both sides
        assert image({"mix": {"seed": 2, "from": 3}}) != plain
        assert image({"mix": {"seed": 2, "from": 1}}) != image({"mix": {"seed": 2, "from": 5}})
        for mix, words in (({"seed": 2, "from": 6}, "mix.from must lie in 1..5"), ([2], "mix must be an object")):
            status, body = server.request("POST", "/api/sample?run=sg2", {"mix": mix})
            assert status == 400 and words in body["error"], body
    finally:
        server.close()
    run = gankit.load(tiny_run)
    inputs, other = run.inputs(2, 1), run.inputs(2, 2)
    mixed = run.generate(run.recipe.mix_styles(inputs, other, 3))
    G = run.generator
    direct = G(inputs["z"], None, mix_z=other["z"], mix_cutoff=torch.full((2,), 3)).clamp(-1, 1)
    torch.testing.assert_close(mixed, direct)
