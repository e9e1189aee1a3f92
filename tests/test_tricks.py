"""The stability tricks' mechanics on small hand-made cases (gankit.tricks and AdversarialRecipe)."""

import pytest
import torch
from torch import nn

from gankit.config import ConfigError, RunConfig
from gankit.data import load_dataset
from gankit.models import Noise, Progress, Step
from gankit.models.registry import build_recipe
from gankit.train.checkpoint import latest_checkpoint, load_weights
from gankit.train.trainer import train
from gankit.tricks import (MinibatchDiscrimination, VirtualBatchNormGenerator, apply_spectral_norm,
                           feature_matching_loss, gradient_penalty, pack, r1_penalty, unrolled_critic)


def recipe(model, data, batch_size=8, **options):
    cfg = RunConfig(model=model)
    cfg.data.name = data
    cfg.train.batch_size = batch_size
    cfg.options = dict(options)
    ds = load_dataset(data, "train")
    torch.manual_seed(0)
    return build_recipe(cfg, {"real": ds.info.served_as(ds.x.shape[1:])}), ds


def step_for(ds, n, seed=0):
    x = torch.as_tensor(ds.x[:n]).float()
    if x.ndim == 4:
        x = x / 127.5 - 1
    return Step({"real": {"x": x}}, Progress(), Noise.seeded(seed), lambda stream: {"x": x})


def test_minibatch_features_tell_identical_from_varied_batches():
    torch.manual_seed(0)
    layer = MinibatchDiscrimination(in_features=6, kernels=4)
    same = torch.ones(5, 6)
    varied = torch.randn(5, 6) * 3
    o_same, o_varied = layer.closeness(same), layer.closeness(varied)
    assert torch.allclose(o_same, torch.full((5, 4), 4.0))  # exp(0) for each of the 4 others
    assert (o_varied < o_same).all()
    out = layer(varied)
    assert out.shape == (5, 10) and torch.equal(out[:, :6], varied)


def test_minibatch_discrimination_makes_d_see_real_and_fake_apart():
    r, _ = recipe("gan", "ring8", minibatch_discrimination=3)
    assert r.batch_dependent_d
    assert any(isinstance(m, MinibatchDiscrimination) for m in r.nets["D"].modules())


def small_gan():
    torch.manual_seed(0)
    G = nn.Sequential(nn.Linear(2, 16), nn.Tanh(), nn.Linear(16, 2))
    D = nn.Sequential(nn.Linear(2, 16), nn.Tanh(), nn.Linear(16, 1), nn.Flatten(0))
    return G, D


def generator_gradient(G, D, steps, lr=0.5):
    torch.manual_seed(1)
    real_batches = [torch.randn(32, 2) + 2 for _ in range(steps or 0)]
    z_batches = [torch.randn(32, 2) for _ in range(steps or 0)]
    bce = nn.functional.binary_cross_entropy_with_logits

    def d_loss(critic, i):
        real, fake = critic(real_batches[i]), critic(G(z_batches[i]))
        return bce(real, torch.ones_like(real)) + bce(fake, torch.zeros_like(fake))

    critic = unrolled_critic(D, d_loss, steps, lr) if steps is not None else D
    z = torch.randn(64, 2, generator=torch.Generator().manual_seed(5))
    out = critic(G(z))
    G.zero_grad()
    bce(out, torch.ones_like(out)).backward()
    return torch.cat([p.grad.flatten() for p in G.parameters()])


def test_unrolled_gradient_equals_plain_for_k0_and_differs_for_k_positive():
    G, D = small_gan()
    before = [p.detach().clone() for p in D.parameters()]
    plain = generator_gradient(G, D, None)
    assert torch.allclose(generator_gradient(G, D, 0), plain, atol=1e-7)
    unrolled = generator_gradient(G, D, 3)
    assert not torch.allclose(unrolled, plain, atol=1e-4)
    assert all(torch.equal(a, p) for a, p in zip(before, D.parameters()))  # D itself untouched


def test_unrolled_recipe_draws_fresh_real_batches():
    r, ds = recipe("gan", "ring8", unrolled_steps=2)
    drawn = []
    x = torch.as_tensor(ds.x[:8])
    step = Step({"real": {"x": x}}, Progress(), Noise.seeded(0), lambda s: drawn.append(s) or {"x": x})
    loss, _ = r.loss("G", step)
    loss.backward()
    assert drawn == ["real", "real"]


@pytest.mark.parametrize("model, data, m, first", [("gan", "ring8", 2, "in_features"),
                                                   ("dcgan", "digits", 3, "in_channels")])
def test_pacgan_d_input_has_m_times_the_channels(model, data, m, first):
    r, ds = recipe(model, data, batch_size=6, pack=m)
    plain, _ = recipe(model, data, batch_size=6)
    layer = next(mod for mod in r.nets["D"].modules() if isinstance(mod, (nn.Linear, nn.Conv2d)))
    plain_layer = next(mod for mod in plain.nets["D"].modules() if isinstance(mod, (nn.Linear, nn.Conv2d)))
    assert getattr(layer, first) == m * getattr(plain_layer, first)
    seen = []
    r.nets["D"].register_forward_pre_hook(lambda mod, args: seen.append(tuple(args[0].shape)))
    r.loss("D", step_for(ds, 6))
    sample = tuple(ds.x.shape[1:])
    assert all(shape[0] in (6 // m, 12 // m) and shape[1:] == (m * sample[0], *sample[1:]) for shape in seen), seen


def test_pack_groups_consecutive_samples_and_refuses_a_ragged_batch():
    x = torch.arange(12.0).view(6, 2)
    assert torch.equal(pack(x, 3)[1], torch.tensor([6.0, 7, 8, 9, 10, 11]))
    with pytest.raises(ValueError, match="divisible by 4"):
        pack(x, 4)
    with pytest.raises(ConfigError, match="divisible"):
        recipe("gan", "ring8", batch_size=10, pack=4)


def linear_critic(norm):
    w = torch.tensor([3.0, 4.0]) / 5 * norm
    return lambda x: x.flatten(1) @ w


def test_gradient_penalty_is_zero_for_unit_gradient_norm():
    real, fake, eps = torch.randn(16, 2), torch.randn(16, 2), torch.rand(16, 1)
    assert gradient_penalty(linear_critic(1.0), real, fake, eps).abs() < 1e-10
    assert torch.allclose(gradient_penalty(linear_critic(3.0), real, fake, eps), torch.tensor(4.0))
    assert torch.allclose(r1_penalty(linear_critic(3.0), real), torch.tensor(9.0))


def test_penalties_run_in_fp32_under_bf16_autocast():
    torch.manual_seed(0)
    D = nn.Sequential(nn.Linear(2, 32), nn.Tanh(), nn.Linear(32, 1), nn.Flatten(0))
    real = torch.randn(16, 2)
    fp32 = r1_penalty(D, real)
    with torch.autocast("cpu", dtype=torch.bfloat16):
        mixed = r1_penalty(D, real)
    assert mixed.dtype == torch.float32
    assert torch.allclose(mixed, fp32)


def test_historical_averaging_survives_resume_bit_exactly(tmp_path):
    def cfg(steps):
        c = RunConfig(model="gan")
        c.data.name = "ring8"
        c.train.steps, c.train.batch_size, c.train.log_every = steps, 32, 5
        c.train.checkpoint_every = c.train.sample_every = 1000
        c.options = {"historical_averaging": 0.5, "g_widths": [32], "d_widths": [32]}
        return c

    train(cfg(10), tmp_path / "straight", progress=False)
    train(cfg(5), tmp_path / "resumed", progress=False)
    train(cfg(10), tmp_path / "resumed", resume=True, progress=False)
    a, b = (load_weights(latest_checkpoint(tmp_path / run)) for run in ("straight", "resumed"))
    averages = [k for k in a if k.startswith("history.")]
    assert "history.D.count" in averages and "history.G.mean_0" in averages
    assert int(a["history.D.count"]) == 10  # k = 1: one D step per iteration
    for key in a:
        assert torch.equal(a[key], b[key]), key
    assert not torch.equal(a["history.G.mean_0"], a["nets.G.hidden.0.weight"])  # an average, not a copy


def test_virtual_batchnorm_makes_a_sample_independent_of_its_batch():
    r, _ = recipe("gan", "ring8", virtual_batchnorm=True, g_batchnorm=True, dropout=0.0)
    G = r.nets["G"]
    assert isinstance(G, VirtualBatchNormGenerator)
    z = torch.randn(3, r.latent_dim)
    with torch.no_grad():
        a = G(z[[0, 1]])[0]
        b = G(z[[0, 2]])[0]
    assert torch.allclose(a, b, atol=1e-6)
    plain, _ = recipe("gan", "ring8", g_batchnorm=True, dropout=0.0)  # BatchNorm mixes the batch
    with torch.no_grad():
        assert not torch.allclose(plain.nets["G"](z[[0, 1]])[0], plain.nets["G"](z[[0, 2]])[0], atol=1e-4)
    with pytest.raises(ValueError, match="g_batchnorm"):
        recipe("gan", "ring8", virtual_batchnorm=True)


def test_feature_matching_and_instance_noise_and_spectral_norm():
    f = torch.randn(8, 5)
    assert feature_matching_loss(f, f.clone().requires_grad_()) == 0
    assert feature_matching_loss(f, f + 1) == pytest.approx(5.0)
    torch.manual_seed(0)
    D = nn.Sequential(nn.Linear(4, 8), nn.ReLU(), nn.Linear(8, 1))
    with torch.no_grad():
        D[0].weight.mul_(10)
    assert apply_spectral_norm(D) == 2
    for _ in range(30):  # power iterations run in training-mode forward passes
        D(torch.randn(4, 4))
    assert float(torch.linalg.matrix_norm(D[0].weight.detach(), ord=2)) == pytest.approx(1.0, abs=1e-3)


def test_instance_noise_decays_to_zero_by_its_end_and_refuses_an_end_outside_the_budget():
    r, ds = recipe("gan", "ring8", instance_noise=0.5, instance_noise_until=0.4)
    x = torch.as_tensor(ds.x[:8]).float()

    def noise_std(fraction):
        step = step_for(ds, 8)
        step.progress = Progress(fraction=fraction)
        return float((r.d_input(x, step) - x).std())

    assert noise_std(0.0) == pytest.approx(0.5, rel=0.3)
    assert noise_std(0.2) == pytest.approx(0.25, rel=0.3)
    assert noise_std(0.4) == 0 and noise_std(0.9) == 0  # clean data for the rest of the budget
    assert recipe("gan", "ring8", instance_noise_until=0.4)[0].tricks.active() == []  # a setting, not a trick
    for bad in (0.0, 1.5):
        with pytest.raises(ConfigError, match="instance_noise_until"):
            recipe("gan", "ring8", instance_noise=0.5, instance_noise_until=bad)


def test_feature_matching_recipe_loss_is_zero_only_for_matching_features():
    r, ds = recipe("gan", "ring8", feature_matching=True, dropout=0.0)
    loss, stats = r.loss("G", step_for(ds, 8))
    assert loss > 0 and "g_loss" in stats
    loss.backward()
    assert any(p.grad is not None and p.grad.abs().sum() > 0 for p in r.nets["G"].parameters())


def test_toy_runs_draw_their_samples_over_the_centres_as_png_and_gif(tmp_path):
    from PIL import Image

    c = RunConfig(model="gan")
    c.data.name = "ring8"
    c.train.steps, c.train.sample_every, c.train.batch_size = 6, 2, 16
    c.options = {"g_widths": [16], "d_widths": [16], "pack": 2}
    train(c, tmp_path / "run", progress=False)
    assert sorted(p.name for p in (tmp_path / "run" / "samples").glob("*.npy")) == [
        "step_000002.npy", "step_000004.npy", "step_000006.npy"]
    with Image.open(tmp_path / "run" / "modes.gif") as gif:
        assert gif.n_frames == 3
    assert Image.open(tmp_path / "run" / "modes.png").size[0] > Image.open(tmp_path / "run" / "modes.png").size[1]


def test_stacked_mnist_trains_with_1000_mode_labels(tmp_path):
    ds = load_dataset("stacked-mnist", "test")
    assert ds.x.shape == (26_000, 3, 28, 28) and ds.num_classes == 1000
    assert ds.y.min() >= 0 and ds.y.max() < 1000 and len(set(ds.y.tolist())) > 990
    c = RunConfig(model="dcgan")
    c.data.name = "stacked-mnist"
    c.train.steps, c.train.batch_size = 2, 8
    c.options = {"g_base": 8, "d_base": 8, "pack": 2}
    result = train(c, tmp_path / "run", progress=False)
    assert result.step == 2


@pytest.mark.parametrize("name", ["ring8-best", "grid25-best", "stacked-mnist-best"])
def test_best_presets_are_valid_runs_with_a_budget(name):
    from gankit.config import load_preset
    from gankit.models.registry import recipe_options

    preset = load_preset(name)
    c = RunConfig.from_dict({"model": preset["model"], "data": preset["data"], "train": preset["train"],
                             "options": preset["options"]})
    options = recipe_options(c)
    assert c.train.minutes is not None and c.train.minutes < 15
    assert options.active()  # at least one trick is on


def test_bad_trick_settings_are_one_line_errors_from_the_cli(tmp_path, capsys):
    from gankit.cli import main

    base = ["train", "gan", "--data", "ring8", "--steps", "1", "--no-progress", "--out", str(tmp_path / "run")]
    assert main(base + ["--batch-size", "10", "--set", "model.pack=4"]) == 2
    assert "divisible" in capsys.readouterr().err
    assert main(base + ["--set", "model.unrolled_steps=-1"]) == 2
    assert "unrolled_steps must be 0 (off) or positive" in capsys.readouterr().err
    assert main(base + ["--set", "model.virtual_batchnorm=true"]) == 2
    assert "g_batchnorm=true" in capsys.readouterr().err
    assert not (tmp_path / "run").exists()


# --- mode seeking (Mao et al. 2019) ---------------------------------------------------------------
def test_paired_conditions_repeat_the_first_half():
    from gankit.tricks.mode_seeking import paired_conditions

    y = torch.tensor([3, 1, 4, 1, 5, 9, 2])
    paired = paired_conditions(y)
    assert paired.tolist() == [3, 1, 4, 3, 1, 4, 2] and y.tolist() == [3, 1, 4, 1, 5, 9, 2]


def test_mode_seeking_punishes_ignored_noise():
    from gankit.tricks.mode_seeking import EPS, mode_seeking_loss

    z = torch.zeros(4, 3)
    z[2:] = 2.0  # |z1 - z2| = 2 everywhere
    varied = torch.zeros(4, 1, 2, 2)
    varied[2:] = 1.0  # |G(z1) - G(z2)| = 1 everywhere: ratio 1/2
    assert mode_seeking_loss(varied, z).item() == pytest.approx(1 / (0.5 + EPS))
    collapsed = torch.ones(4, 1, 2, 2)  # the noise is ignored: the loss is 1/eps
    assert mode_seeking_loss(collapsed, z).item() == pytest.approx(1 / EPS)
    # G's gradient pushes the pair apart
    fake = varied.clone().requires_grad_()
    mode_seeking_loss(fake, z).backward()
    assert (fake.grad[:2] > 0).all() and (fake.grad[2:] < 0).all()


def test_unconditional_mode_seeking_adds_the_diversity_term_to_g_loss():
    from gankit.tricks.mode_seeking import mode_seeking_loss

    plain, ds = recipe("gan", "ring8", dropout=0.0)
    seeking, _ = recipe("gan", "ring8", dropout=0.0, mode_seeking=2.0)  # same seed: the same networks
    l0, s0 = plain.loss("G", step_for(ds, 8))
    l1, s1 = seeking.loss("G", step_for(ds, 8))
    assert "g_mode_seeking" not in s0
    inputs = seeking.draw_inputs(8, Noise.seeded(0))  # the draw the G phase made
    with torch.no_grad():
        expected = mode_seeking_loss(seeking.generate(inputs), inputs["z"])
    assert s1["g_mode_seeking"].item() == pytest.approx(expected.item(), rel=1e-5)
    assert l1.item() == pytest.approx(l0.item() + 2.0 * expected.item(), rel=1e-5)


# --- a mixture-of-Gaussians latent (disconnected latent support) ----------------------------------
def test_mixture_latent_feeds_g_a_narrow_gaussian_around_the_drawn_components_centre(tmp_path):
    import gankit
    from gankit.tricks.mixture_latent import SPREAD

    cfg = RunConfig(model="gan")
    cfg.data.name = "ring8"
    cfg.train.steps, cfg.train.batch_size, cfg.train.checkpoint_every = 2, 16, 1000
    cfg.options = {"latent_components": 5, "latent_dim": 3, "dropout": 0.0}
    train(cfg, tmp_path / "run", progress=False)
    run = gankit.load(tmp_path / "run")
    recipe = run.recipe
    assert [s.name for s in run.input_specs] == ["z", "component"]
    centres = recipe.latent_centres
    assert centres.shape == (5, 3)
    seen = []
    G = lambda z: seen.append(z) or z  # noqa: E731 -- records what G is given
    z = torch.randn(4, 3)
    component = torch.tensor([0, 4, 4, 2])
    recipe.generate({"z": z, "component": component}, G)
    assert torch.allclose(seen[0], centres[component] + SPREAD * z)
    # The centres are part of the run: saved in its checkpoint, loaded from it.
    assert torch.equal(load_weights(latest_checkpoint(tmp_path / "run"))["latent_centres"], centres)
    drawn = recipe.draw_inputs(1000, Noise.seeded(0))["component"]
    assert set(drawn.tolist()) == set(range(5))
