"""DiffAugment and ADA: shapes, gradients, the exact effect of each operation, p's adaptation and its checkpoint."""

import json

import pytest
import torch

from gankit.augment import AdaptiveAugment, DiffAugment, make_augment
from gankit.config import RunConfig
from gankit.train.checkpoint import latest_checkpoint, load_weights
from gankit.train.trainer import train
from gankit.augment.diffaugment import cutout, saturation, translation
from gankit.noise import Noise


def images(n=8, c=1, size=16, seed=0):
    return torch.rand(n, c, size, size, generator=torch.Generator().manual_seed(seed)) * 2 - 1


def shifted(x, dy, dx):
    """``x`` moved by (dy, dx) whole pixels with zero fill."""
    out = torch.zeros_like(x)
    h, w = x.shape[-2:]
    out[..., max(dy, 0):h + min(dy, 0), max(dx, 0):w + min(dx, 0)] = x[..., max(-dy, 0):h + min(-dy, 0),
                                                                     max(-dx, 0):w + min(-dx, 0)]
    return out


def test_translation_is_a_zero_filled_whole_pixel_shift_within_an_eighth():
    x = images(n=16, size=16)
    out = translation(x, Noise.seeded(1))
    for original, moved in zip(x, out):
        matches = [(dy, dx) for dy in range(-2, 3) for dx in range(-2, 3) if torch.equal(shifted(original, dy, dx), moved)]
        assert matches, "every image must be its input shifted by at most 16/8 = 2 pixels"
    assert not torch.equal(out, x)


def test_cutout_zeroes_one_square_of_at_most_half_the_size_and_keeps_the_rest():
    x = images(n=16, size=16) + 3  # no pixel is zero before the cutout
    out = cutout(x, Noise.seeded(2))
    for original, cut in zip(x, out):
        hole = cut == 0
        assert 0 < hole.sum() <= 8 * 8
        rows, cols = hole[0].nonzero(as_tuple=True)
        assert hole[0, rows.min():rows.max() + 1, cols.min():cols.max() + 1].all(), "the hole is one rectangle"
        assert torch.equal(cut[~hole], original[~hole])


def test_saturation_leaves_one_channel_images_alone_but_not_rgb():
    grey, rgb = images(c=1), images(c=3)
    assert torch.allclose(saturation(grey, Noise.seeded(0)), grey, atol=1e-6)
    assert not torch.allclose(saturation(rgb, Noise.seeded(0)), rgb)


@pytest.mark.parametrize("augment", [DiffAugment(), AdaptiveAugment(target=None, p=0.8)])
def test_augmentations_keep_the_shape_pass_gradients_and_follow_the_seed(augment):
    x = images(c=3).requires_grad_()
    out = augment(x, Noise.seeded(3))
    assert out.shape == x.shape
    out.square().sum().backward()
    assert x.grad is not None and x.grad.abs().sum() > 0
    assert torch.equal(augment(x, Noise.seeded(3)), out), "the same seed gives the same augmentation"
    assert not torch.equal(augment(x, Noise.seeded(4)), out)


@pytest.mark.parametrize("channels", [1, 3])
def test_ada_with_p_zero_is_the_identity(channels):
    x = images(c=channels)
    assert torch.allclose(AdaptiveAugment(p=0.0)(x, Noise.seeded(0)), x, atol=1e-5)


def test_ada_raises_p_while_d_is_sure_of_the_real_images_and_lowers_it_when_not():
    ada = AdaptiveAugment(target=0.6, interval=4, speed_images=10_000)
    for _ in range(10):  # every real output positive: r_t = 1 > 0.6
        ada.observe(torch.full((64,), 3.0))
    assert ada.p.item() == pytest.approx(2 * 4 * 64 / 10_000)  # 2 adjustments of 256 images each (calls 4, 8)
    for _ in range(6):  # calls 11..16: r_t over calls 9..12 = 0.5 (< 0.6, down), over 13..16 = -1 (down)
        ada.observe(torch.full((64,), -1.0))
    assert ada.p.item() == pytest.approx(0.0)
    for _ in range(4000):
        ada.observe(torch.full((64,), 3.0))
    assert ada.p.item() == 1.0, "p is clamped to [0, 1]"


def test_ada_threshold_moves_the_decision_boundary():
    ada = AdaptiveAugment(target=0.6, interval=1, speed_images=100)
    ada.observe(torch.full((10,), 0.4), threshold=0.5)  # least squares: 0.4 is on the fake side
    assert ada.p.item() == 0.0
    ada.observe(torch.full((10,), 0.9), threshold=0.5)
    assert ada.p.item() == pytest.approx(0.1)


def test_ada_state_survives_a_checkpoint_and_keeps_the_interval():
    a = AdaptiveAugment(interval=4, speed_images=1_000)
    for _ in range(6):
        a.observe(torch.full((8,), 1.0))
    b = AdaptiveAugment(interval=4, speed_images=1_000)
    b.load_state_dict(a.state_dict())
    for module in (a, b):
        for _ in range(2):  # the 8th call is the next adjustment for both
            module.observe(torch.full((8,), 1.0))
    assert a.p.item() == b.p.item() == pytest.approx(2 * 32 / 1_000)


def test_make_augment_reads_the_option_and_explains_bad_values():
    assert make_augment("none") is None
    assert make_augment("diffaugment").policy == ("color", "translation", "cutout")
    assert make_augment("diffaugment:translation,cutout").policy == ("translation", "cutout")
    assert make_augment("ada:0.5").target == 0.5
    for bad, words in [("diffaugment:flip", "unknown DiffAugment policy"), ("ada:1.5", "(0, 1)"),
                       ("ada:high", "must be a number"), ("mixup", "not known")]:
        with pytest.raises(ValueError, match=words.replace("(", r"\(").replace(")", r"\)")):
            make_augment(bad)



def augmented_config(augment, steps):
    cfg = RunConfig(model="gan")
    cfg.data.name = "digits"
    cfg.options = {"g_widths": [32], "d_widths": [32], "latent_dim": 8}
    for key, value in dict(steps=steps, batch_size=16, log_every=1, sample_every=1000, checkpoint_every=1000,
                           augment=augment).items():
        setattr(cfg.train, key, value)
    return cfg


@pytest.mark.parametrize("augment", ["diffaugment", "ada:0.01"])
def test_a_gan_trains_with_augmentation_and_resumes_bit_exactly(tmp_path, augment):
    train(augmented_config(augment, 8), tmp_path / "straight", progress=False)
    train(augmented_config(augment, 5), tmp_path / "resumed", progress=False)
    train(augmented_config(augment, 8), tmp_path / "resumed", resume=True, progress=False)
    a, b = (load_weights(latest_checkpoint(tmp_path / run)) for run in ("straight", "resumed"))
    assert a.keys() == b.keys()
    assert all(torch.equal(a[key], b[key]) for key in a)
    if augment.startswith("ada"):
        assert any(key.endswith("augment.p") for key in a), "ADA's p is part of the checkpoint"
        rows = [json.loads(line) for line in (tmp_path / "straight" / "metrics.jsonl").read_text().splitlines()]
        logged = [row["aug_p"] for row in rows if "aug_p" in row]
        assert logged and logged[-1] > 0, "with a target of 0.01 D is over it at once, so p rises and is logged"


def test_a_family_that_does_not_route_d_inputs_through_the_augmentation_refuses_it(tmp_path):
    from gankit.config import ConfigError

    cfg = augmented_config("ada", 2)
    cfg.model, cfg.options = "cgan", {"latent_dim": 8, "g_base": 8, "d_base": 8}
    with pytest.raises(ConfigError, match="supports diffaugment"):
        train(cfg, tmp_path / "cgan-ada", progress=False)
    cfg.model, cfg.options = "sgan", {}
    with pytest.raises(ConfigError, match="supports none"):
        train(cfg, tmp_path / "sgan-ada", progress=False)
    cfg.model, cfg.options = "cgan", {"latent_dim": 8, "g_base": 8, "d_base": 8}
    cfg.train.augment = "diffaugment"
    train(cfg, tmp_path / "cgan-diffaugment", progress=False)  # the conditional losses augment D's inputs


def test_gankit_list_shows_the_augmentations_with_their_papers(capsys):
    from gankit.cli import main

    assert main(["list"]) == 0
    out = capsys.readouterr().out
    assert "train.augment=diffaugment" in out and "Zhao et al. 2020" in out
    assert "train.augment=ada" in out and "Karras et al. 2020" in out
