"""Upsample(x2) + 3x3 conv fused into one transposed conv: same outputs, gradients and state dict."""

import copy
import sys
from pathlib import Path

import torch
from torch import nn

from gankit.nn.fuse import UpsampledConv2d, fuse_upsample_conv


def net():
    torch.manual_seed(0)
    return nn.Sequential(nn.Upsample(scale_factor=2), nn.Conv2d(6, 5, 3, 1, 1), nn.LeakyReLU(0.2),
                         nn.Upsample(scale_factor=2, mode="bilinear"), nn.Conv2d(5, 4, 3, 1, 1),  # not nearest
                         nn.Upsample(scale_factor=2), nn.Conv2d(4, 3, 3, 2, 1),  # strided: not fused
                         nn.Upsample(scale_factor=2.0), nn.Conv2d(3, 2, 3, padding=1, bias=False))


def test_fused_network_computes_the_same_function_and_gradients():
    plain, fused = net(), net()
    assert fuse_upsample_conv(fused) == 2
    assert isinstance(fused[1], UpsampledConv2d) and isinstance(fused[0], nn.Identity)
    assert type(fused[4]) is nn.Conv2d and type(fused[6]) is nn.Conv2d
    assert list(plain.state_dict()) == list(fused.state_dict())
    x = torch.randn(3, 6, 5, 7)
    for memory_format in (torch.contiguous_format, torch.channels_last):
        a, b = plain(x.to(memory_format=memory_format)), fused(x.to(memory_format=memory_format))
        torch.testing.assert_close(a, b, atol=1e-5, rtol=1e-5)
    plain.zero_grad(), fused.zero_grad()
    plain(x).square().sum().backward()
    fused(x).square().sum().backward()
    for (name, p), q in zip(plain.named_parameters(), fused.parameters()):
        torch.testing.assert_close(p.grad, q.grad, atol=1e-4, rtol=1e-4, msg=name)


def test_classic_generator_is_fused_by_the_trainer_and_loads_back_unfused(tmp_path):
    sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "benchmarks"))
    import classic

    g = classic.ClassicDCGANGenerator(8, 1, 16)
    reference = copy.deepcopy(g)
    assert fuse_upsample_conv(g) == 2
    reference.load_state_dict(g.state_dict())  # a checkpoint of the fused net loads into the plain one
    g.eval(), reference.eval()
    z = torch.randn(4, 8)
    torch.testing.assert_close(g(z), reference(z), atol=1e-5, rtol=1e-5)

    from gankit.config import RunConfig, apply_overrides
    from gankit.train.trainer import Trainer

    cfg = RunConfig(model=classic.ClassicDCGAN.name)
    apply_overrides(cfg, {"data.name": "digits", "data.size": 16, "train.steps": 1, "train.batch_size": 16})
    trainer = Trainer(cfg, tmp_path / "run", progress=False)
    kinds = [type(m).__name__ for m in trainer.recipe.nets["G"].conv_blocks]
    assert kinds.count("UpsampledConv2d") == 2 and "Upsample" not in kinds


def test_classic_conditional_recipes_train_one_iteration(tmp_path):
    """benchmarks/classic_conditional.py's recipes stay in step with the cgan/acgan options they inherit."""
    sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "benchmarks"))
    import classic_conditional

    from gankit.config import RunConfig, apply_overrides
    from gankit.train.trainer import Trainer

    for recipe in (classic_conditional.ClassicCGAN, classic_conditional.ClassicACGAN):
        cfg = RunConfig(model=recipe.name)
        apply_overrides(cfg, {"data.name": "digits", "data.size": 16, "train.steps": 1, "train.batch_size": 8})
        trainer = Trainer(cfg, tmp_path / recipe.name, progress=False)
        totals, counts = {}, {}
        trainer.iteration(totals, counts)
        assert all(torch.isfinite(v).all() for v in totals.values())
