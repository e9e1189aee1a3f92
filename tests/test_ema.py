import pytest
import torch
from torch import nn

from gankit.train.ema import EMA


def test_ema_warms_up_then_averages_at_its_decay():
    live = nn.Linear(1, 1, bias=False)
    with torch.no_grad():
        live.weight.fill_(0.0)
    ema = EMA(live, 0.999)
    with torch.no_grad():
        live.weight.fill_(1.0)
    ema.update(live, step=0)  # d = 1/10: the initial weights keep only a tenth
    assert ema.module.weight.item() == pytest.approx(0.9)
    assert ema.decay_at(10_000) == 0.999 and ema.decay_at(100) == pytest.approx(101 / 110)
    # After a few hundred steps at a constant target, almost nothing of the start remains.
    for step in range(1, 500):
        ema.update(live, step)
    assert ema.module.weight.item() > 0.98


def test_ema_rejects_a_decay_outside_0_1():
    with pytest.raises(ValueError, match="train.ema"):
        EMA(nn.Linear(1, 1), 1.0)


def test_a_restarted_ema_warms_up_again_from_the_new_stage():
    ema = EMA(nn.Linear(1, 1), 0.999)
    assert ema.decay_at(100_000) == 0.999
    ema.restart(100_000, 6_400_000)  # a new stage whose networks start from initialisation
    assert ema.decay_at(100_000) == pytest.approx(0.1) and ema.decay_at(100_100) == pytest.approx(101 / 110)
    ramped = EMA(nn.Linear(1, 1), half_life_kimg=10.0, rampup=0.05)
    ramped.restart(0, 100_000)
    # The half-life is capped at 5 % of the images since the restart (1,000 of 120,000), not of all.
    assert ramped.decay_at(0, images=120_000, batch=64) == pytest.approx(0.5 ** (64 / 1000))
