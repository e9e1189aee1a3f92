"""Progressive GAN: the fade-in in G, D and the real images, equalised learning rate, minibatch
standard deviation, the WGAN-GP + drift loss, and the stage schedule through the Trainer (linear alpha,
resume mid-fade, 2 ranks across a stage boundary). On scikit-learn's 8x8 digits: 4x4, then 8x8."""

import json
import math

import numpy as np

import pytest
import torch
import torch.multiprocessing as mp
import torch.nn.functional as F
from torch import nn

import gankit
from gankit.cli import main
from gankit.report.figures import generated_figures
from gankit.config import ConfigError
from gankit.data.catalog import DatasetInfo
from gankit.config import TrainConfig
from gankit.models.progan import ProGAN, ProGANOptions, parse_batch_sizes
from gankit.models.recipe import Progress, Step
from gankit.nn.equalized import EqualizedConv2d, EqualizedLinear, MinibatchStddev
from gankit.nn.progressive import ProgressiveDiscriminator, ProgressiveGenerator, resolutions
from gankit.noise import Noise
from gankit.train.checkpoint import latest_checkpoint, load_state
from gankit.train.trainer import Trainer, train
from test_seam import assert_same_weights, config, weights
from test_seam_stages import free_port

BATCH = 16
STABLE = FADE = 4  # iterations of BATCH images
TINY = {"stable_kimg": STABLE * BATCH / 1000, "fade_kimg": FADE * BATCH / 1000, "batch_sizes": f"4:{BATCH},8:{BATCH}",
        "width_base": 64, "max_width": 8, "latent_dim": 8}


def progan_config(steps, **train_options):
    cfg = config("progan", data="digits", steps=steps, batch_size=BATCH, **train_options)
    cfg.options = dict(TINY)
    return cfg


def recipe(size=8, channels=1, **options) -> ProGAN:
    info = DatasetInfo(name="test", description="", shape=(channels, size, size), num_classes=None)
    return ProGAN(ProGANOptions(**{**TINY, **options}), {"real": info}, TrainConfig())


# --- the networks ----------------------------------------------------------------------------------
def test_resolutions_double_from_4_or_from_7():
    assert resolutions(64) == [4, 8, 16, 32, 64]
    assert resolutions(28) == [7, 14, 28]
    with pytest.raises(ValueError, match="data.size"):
        resolutions(48)


@pytest.mark.parametrize("size", [16, 28])
def test_the_generator_at_alpha_0_draws_exactly_the_previous_stage_enlarged(size):
    torch.manual_seed(0)
    G = ProgressiveGenerator(8, 3, size, width_base=128, max_width=16)
    z = torch.randn(5, 8)
    for stage in range(1, len(G.resolutions)):
        previous = G(z, stage - 1)
        assert torch.equal(G(z, stage, alpha=0.0), F.interpolate(previous, scale_factor=2.0, mode="nearest"))
        assert G(z, stage, alpha=1.0).shape[-1] == G.resolutions[stage]
        # In between, the blend is linear in alpha.
        a, b, half = G(z, stage, 0.0), G(z, stage, 1.0), G(z, stage, 0.5)
        torch.testing.assert_close(half, (a + b) / 2, rtol=1e-5, atol=1e-6)


def test_the_discriminator_at_alpha_0_judges_exactly_the_image_halved_at_the_previous_stage():
    torch.manual_seed(0)
    D = ProgressiveDiscriminator(3, 16, width_base=128, max_width=16)
    x = torch.randn(8, 3, 16, 16)
    assert torch.equal(D(x, alpha=0.0), D(F.avg_pool2d(x, 2)))
    # At alpha = 1 the previous resolution's input layer is out of the path altogether.
    assert torch.equal(D(x, alpha=1.0), D.last(D.blocks[0](D.blocks[1](D.from_rgb[2](x)))).flatten())
    assert not torch.equal(D(x, alpha=0.5), D(x, alpha=1.0))
    with pytest.raises(ValueError, match="4, 8, 16"):
        D(torch.randn(2, 3, 12, 12))


def test_real_images_are_faded_like_the_generators_output():
    r = recipe()
    x = torch.randn(4, 1, 8, 8)
    r.stage.fill_(1)
    r.alpha.fill_(0.0)
    down_up = F.interpolate(F.avg_pool2d(x, 2), scale_factor=2.0, mode="nearest")
    assert torch.equal(r.fade_reals(x), down_up)
    r.alpha.fill_(0.25)
    torch.testing.assert_close(r.fade_reals(x), 0.75 * down_up + 0.25 * x)
    r.alpha.fill_(1.0)
    assert torch.equal(r.fade_reals(x), x)


def test_equalised_layers_store_unit_variance_weights_and_scale_them_at_run_time():
    torch.manual_seed(0)
    conv, linear = EqualizedConv2d(64, 128, 3), EqualizedLinear(512, 256, gain=1.0)
    for layer, fan_in, gain in ((conv, 64 * 9, math.sqrt(2)), (linear, 512, 1.0)):
        assert layer.weight.std().item() == pytest.approx(1.0, abs=0.02)
        assert layer.scale == pytest.approx(gain / math.sqrt(fan_in))
    # He's constant keeps a unit-variance input's output at variance gain^2.
    x = torch.randn(64, 512)
    assert linear(x).var().item() == pytest.approx(1.0, rel=0.05)
    x = torch.randn(16, 64, 16, 16)
    assert conv(x)[:, :, 1:-1, 1:-1].var().item() == pytest.approx(2.0, rel=0.05)
    # A learning-rate multiplier (StyleGAN's mapping) stores larger weights, the same function at init.
    slow = EqualizedLinear(512, 256, lr_multiplier=0.01)
    assert slow.weight.std().item() == pytest.approx(100.0, rel=0.02)
    assert slow(torch.randn(64, 512)).var().item() == pytest.approx(2.0, rel=0.05)


def test_fused_up_and_down_convolutions_equal_resize_then_convolve():
    torch.manual_seed(0)
    x = torch.randn(2, 4, 6, 6, dtype=torch.float64)
    up, down = EqualizedConv2d(4, 5, 3, up=True).double(), EqualizedConv2d(4, 5, 3, down=True).double()
    torch.testing.assert_close(up(x), F.conv2d(F.interpolate(x, scale_factor=2.0), up.weight * up.scale, up.bias,
                                               padding=1))
    torch.testing.assert_close(down(x), F.avg_pool2d(F.conv2d(x, down.weight * down.scale, down.bias, padding=1), 2))


def test_minibatch_stddev_is_zero_for_identical_samples_and_the_group_spread_otherwise():
    layer = MinibatchStddev(group_size=4)
    same = torch.randn(1, 3, 4, 4).expand(8, -1, -1, -1)
    out = layer(same)
    assert out.shape == (8, 4, 4, 4) and torch.equal(out[:, :3], same)
    assert out[:, 3].max().item() == pytest.approx(1e-4)  # sqrt(eps): the only thing left
    # Samples i and i + N/G form a group (the official code's layout): here {0, 2, 4, 6} and {1, 3, 5, 7}.
    x = torch.zeros(8, 1, 1, 1)
    x[[0, 2, 4, 6], 0, 0, 0] = torch.tensor([1.0, -1.0, 1.0, -1.0])  # std 1 in the first group, 0 in the second
    spread = layer(x)[:, 1, 0, 0]
    torch.testing.assert_close(spread, torch.tensor([1.0, 1e-4] * 4), rtol=1e-4, atol=1e-6)


# --- the loss ---------------------------------------------------------------------------------------
class LinearCritic(nn.Module):
    """D(x) = <w, x>: its input gradient is w everywhere."""

    def __init__(self, w):
        super().__init__()
        self.w = nn.Parameter(w)

    def forward(self, x, alpha=1.0):
        return (x.flatten(1) * self.w).sum(1)


def test_the_discriminator_loss_is_wgan_gp_plus_drift_on_a_hand_made_critic():
    r = recipe(size=4, drift=0.001, gradient_penalty=10.0)
    w = torch.full((16,), 0.5)  # ||w|| = 2: the penalty is (2 - 1)^2 = 1 at every interpolate
    r.nets["D"] = LinearCritic(w)
    real = torch.ones(4, 1, 4, 4)  # D(real) = 8
    fake = torch.zeros(4, 1, 4, 4)
    r.nets["G"] = nn.Module()
    r.nets["G"].forward = lambda z, stage, alpha=1.0: fake
    step = Step({"real": {"x": real}}, Progress(), Noise.seeded(0), reader=None)
    loss, stats = r.loss("D", step)
    # E[D(fake)] - E[D(real)] + 10 * 1 + 0.001 * 8^2
    assert loss.item() == pytest.approx(0.0 - 8.0 + 10.0 + 0.064, rel=1e-6)
    assert stats["gp"].item() == pytest.approx(1.0, rel=1e-6) and stats["wasserstein"].item() == pytest.approx(8.0)
    loss, _ = r.loss("G", Step({}, Progress(), Noise.seeded(0), reader=None, batch_sizes={"real": 4}))
    assert loss.item() == pytest.approx(0.0)  # -E[D(G(z))] with G(z) = 0


# --- the schedule through the Trainer -----------------------------------------------------------------
def test_alpha_rises_linearly_through_the_fade_and_the_optimisers_restart():
    r = recipe()
    seen = [r.schedule(i * BATCH) for i in range(STABLE + FADE + 3)]
    assert seen == [(0, 1.0)] * STABLE + [(1, i / FADE) for i in range(FADE)] + [(1, 1.0)] * 3
    assert recipe(size=4).schedule(10 ** 9) == (0, 1.0)  # a single resolution never grows
    still = recipe(grow=False)  # the baseline: the final networks from the first image on
    assert [still.schedule(i * BATCH) for i in (0, STABLE + 1, 10 ** 6)] == [(1, 1.0)] * 3
    assert still.advance(Progress(0, 0)) is not None and int(still.stage) == 1 and still.resolution == 8


def test_training_grows_through_the_fade_and_samples_at_the_checkpoints_stage(tmp_path, capsys):
    steps = STABLE + FADE + 2
    trainer = Trainer(progan_config(steps, log_every=1), tmp_path / "run", progress=False)
    trainer.fit()
    rows = [r for r in map(json.loads, (tmp_path / "run" / "metrics.jsonl").read_text().splitlines()) if "alpha" in r]
    # Logged after each iteration (its stats are those of the iteration at index step - 1).
    assert [(r["resolution"], r["alpha"]) for r in rows] == [(4.0, 1.0)] * STABLE + \
        [(8.0, i / FADE) for i in range(FADE)] + [(8.0, 1.0)] * 2
    # Adam restarted when 8x8 began: the generator's first block was stepped since then only.
    counts = {int(trainer.optimizers["G"].state[p]["step"]) for p in trainer.recipe.nets["G"].dense.parameters()}
    assert counts == {steps - STABLE}
    run = gankit.load(tmp_path / "run")
    assert int(run.recipe.stage) == 1 and run.sample_array(3, seed=0).shape == (3, 1, 8, 8)
    # An earlier stage of the final model: 4x4 images enlarged to 8x8, each pixel a 2x2 block.
    assert main(["sample", str(tmp_path / "run"), "--stage", "4x4", "-n", "3", "--out", str(tmp_path / "s.npy")]) == 0
    early = np.load(tmp_path / "s.npy")
    assert early.shape == (3, 8, 8) and (early == early[:, ::2, ::2].repeat(2, 1).repeat(2, 2)).all()
    assert int(run.recipe.stage) == 1  # restored after the block
    assert main(["sample", str(tmp_path / "run"), "--stage", "16x16", "--out", str(tmp_path / "t.png")]) != 0
    assert "stages 4x4, 8x8; got '16x16'" in capsys.readouterr().err
    # The report draws the same latents at every stage.
    figures, problems = generated_figures(tmp_path / "run")
    assert not problems and any(f.title.startswith("growth") for f in figures)


def test_a_resume_mid_fade_is_bit_exact(tmp_path):
    steps, middle = STABLE + FADE + 2, STABLE + FADE // 2
    train(progan_config(steps), tmp_path / "straight", progress=False)
    train(progan_config(middle), tmp_path / "resumed", progress=False)
    halfway = gankit.load(tmp_path / "resumed").recipe
    assert int(halfway.stage) == 1 and 0.0 < float(halfway.alpha) < 1.0
    train(progan_config(steps), tmp_path / "resumed", resume=True, progress=False)
    assert_same_weights(weights(tmp_path / "straight"), weights(tmp_path / "resumed"))
    a, b = (load_state(latest_checkpoint(tmp_path / n)) for n in ("straight", "resumed"))
    assert a["streams"] == b["streams"] and a["images"] == b["images"]
    for name in ("G", "D"):
        for key, value in a["optimizers"][name]["state"].items():
            for field, tensor in value.items():
                assert torch.equal(torch.as_tensor(tensor), torch.as_tensor(b["optimizers"][name]["state"][key][field]))


def progan_rank(rank, world_size, port, run_dir):
    import os
    os.environ.update(RANK=str(rank), WORLD_SIZE=str(world_size), LOCAL_RANK=str(rank),
                      MASTER_ADDR="127.0.0.1", MASTER_PORT=str(port))
    torch.set_num_threads(1)
    cfg = progan_config(STABLE + 2, collective_timeout_s=60, precision="fp32")
    cfg.train.batch_size = BATCH // 2
    cfg.options.update(batch_sizes="", group_size=1)  # the configured batch; stddev groups never span ranks
    train(cfg, run_dir, progress=False)


def test_two_ranks_of_b_equal_one_rank_of_2b_across_a_stage_boundary(tmp_path):
    mp.start_processes(progan_rank, args=(2, free_port(), str(tmp_path / "ddp")), nprocs=2, join=True,
                       start_method="spawn")
    cfg = progan_config(STABLE + 2, precision="fp32")
    cfg.options.update(batch_sizes="", group_size=1)
    train(cfg, tmp_path / "single", progress=False)
    a, b = weights(tmp_path / "ddp"), weights(tmp_path / "single")
    assert a.keys() == b.keys()
    for key in a:
        torch.testing.assert_close(a[key], b[key], rtol=1e-4, atol=1e-5, msg=key)
    assert int(gankit.load(tmp_path / "ddp").recipe.stage) == 1


def test_bad_options_are_refused_with_the_format():
    assert parse_batch_sizes("4:64, 8:32") == {4: 64, 8: 32}
    with pytest.raises(ConfigError, match="RESOLUTION:BATCH"):
        parse_batch_sizes("4=64")
    with pytest.raises(ConfigError, match="fade_kimg"):
        recipe(fade_kimg=0)


def test_a_model_without_stages_refuses_to_sample_at_one():
    from gankit.models.dcgan import DCGAN, DCGANOptions

    info = DatasetInfo(name="test", description="", shape=(1, 8, 8), num_classes=None)
    dcgan = DCGAN(DCGANOptions(), {"real": info}, TrainConfig())
    assert dcgan.stages() == ()
    with pytest.raises(ConfigError, match="'dcgan' has no stages"):
        with dcgan.at_stage("4x4"):
            pass
