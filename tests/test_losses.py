"""The adversarial losses against values computed by hand from their formulas."""

import math

import pytest
import torch

from gankit import losses


def logit(p):
    return math.log(p / (1 - p))


def test_discriminator_bce_matches_the_paper_formula():
    # D(x) = 0.8 and 0.6 on real data, D(G(z)) = 0.3 and 0.1 on fakes.
    real = torch.tensor([logit(0.8), logit(0.6)])
    fake = torch.tensor([logit(0.3), logit(0.1)])
    expected = -((math.log(0.8) + math.log(0.6)) / 2 + (math.log(0.7) + math.log(0.9)) / 2)
    assert losses.discriminator_loss("non-saturating", real, fake).item() == pytest.approx(expected, rel=1e-6)


def test_generator_losses():
    fake = torch.tensor([logit(0.3), logit(0.1)])
    assert losses.generator_loss("minimax", fake).item() == pytest.approx(
        (math.log(0.7) + math.log(0.9)) / 2, rel=1e-6)
    assert losses.generator_loss("non-saturating", fake).item() == pytest.approx(
        -(math.log(0.3) + math.log(0.1)) / 2, rel=1e-6)


def test_one_sided_label_smoothing_targets_real_only():
    real = torch.tensor([logit(0.8)])
    fake = torch.tensor([logit(0.3)])
    expected = -(0.9 * math.log(0.8) + 0.1 * math.log(0.2)) - math.log(0.7)
    assert losses.discriminator_loss("minimax", real, fake, real_target=0.9).item() == pytest.approx(expected, rel=1e-6)


def test_least_squares():
    real, fake = torch.tensor([0.5, 1.5]), torch.tensor([0.2, -0.4])
    d = 0.5 * (((0.5 - 1) ** 2 + (1.5 - 1) ** 2) / 2 + (0.2 ** 2 + 0.4 ** 2) / 2)
    g = 0.5 * ((0.2 - 1) ** 2 + (-0.4 - 1) ** 2) / 2
    assert losses.discriminator_loss("least-squares", real, fake).item() == pytest.approx(d, rel=1e-6)
    assert losses.generator_loss("least-squares", fake).item() == pytest.approx(g, rel=1e-6)


def test_minimax_gradient_vanishes_where_d_rejects_fakes_but_non_saturating_does_not():
    # The lecture's argument for the non-saturating loss: early on D(G(z)) ~ 0.
    l = torch.tensor([logit(1e-4)], requires_grad=True)
    (g_mm,) = torch.autograd.grad(losses.generator_loss("minimax", l), l)
    (g_ns,) = torch.autograd.grad(losses.generator_loss("non-saturating", l), l)
    assert abs(g_mm.item()) < 1e-3 < 0.5 < abs(g_ns.item())


def test_unknown_loss_name():
    with pytest.raises(ValueError, match="did you mean 'hinge'.*non-saturating"):
        losses.generator_loss("hinje", torch.zeros(1))


def test_hinge_and_wasserstein():
    real, fake = torch.tensor([0.5, 2.0]), torch.tensor([-2.0, 0.25])
    assert losses.discriminator_loss("hinge", real, fake).item() == pytest.approx((0.5 + 0) / 2 + (0 + 1.25) / 2)
    assert losses.generator_loss("hinge", fake).item() == pytest.approx(0.875)
    assert losses.discriminator_loss("wasserstein", real, fake).item() == pytest.approx(-0.875 - 1.25)
    assert losses.generator_loss("wasserstein", fake).item() == pytest.approx(0.875)


def test_losses_register_themselves():
    class Halved(losses.AdversarialLoss):
        name = "test-halved"
        description = "half the least-squares loss"

        def d_loss(self, real_out, fake_out, real_target=1.0):
            return 0.5 * losses.get_loss("least-squares").d_loss(real_out, fake_out)

        def g_loss(self, fake_out):
            return 0.5 * losses.get_loss("least-squares").g_loss(fake_out)

    try:
        fake = torch.tensor([0.2, -0.4])
        assert losses.generator_loss("test-halved", fake) == 0.5 * losses.generator_loss("least-squares", fake)
    finally:
        del losses.LOSSES["test-halved"]
