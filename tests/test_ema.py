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
