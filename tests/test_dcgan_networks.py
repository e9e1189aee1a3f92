"""DCGAN's networks with and without the fully connected hidden layer (model.fc), and the parameter
names that saved runs depend on."""

import pytest
import torch
from torch import nn

from test_tricks import recipe, step_for

from gankit.nn.dcgan import DCGANDiscriminator, DCGANGenerator


@pytest.mark.parametrize("size,channels", [(28, 1), (32, 3)])
def test_fc_adds_one_hidden_linear_layer_of_that_width_to_each_network(size, channels):
    g, d = DCGANGenerator(16, channels, size, base=8, fc=24), DCGANDiscriminator(channels, size, base=8, fc=24)
    x = g(torch.randn(5, 16))
    assert x.shape == (5, channels, size, size) and d(x).shape == (5,)
    g_widths = [m.out_features for m in g.modules() if isinstance(m, nn.Linear)]
    d_widths = [m.out_features for m in d.modules() if isinstance(m, nn.Linear)]
    assert g_widths[0] == 24 and len(g_widths) == 2  # z -> 24 -> the first feature map
    assert d_widths == [24, 1]  # the last feature map -> 24 -> the logit


def test_parameter_names_of_saved_runs_are_kept():
    """Runs trained before model.fc existed (dcgan) or before InfoGAN shared these layers still load."""
    g, d = DCGANGenerator(16, 1, 28, base=8), DCGANDiscriminator(1, 28, base=8)
    assert {k.split(".")[0] for k in g.state_dict()} == {"net"}
    assert {k.split(".")[0] for k in d.state_dict()} == {"features", "out"}
    info, _ = recipe("infogan", "digits", latent_dim=4, fc=16, base=8)
    assert {k.split(".")[0] for k in info.nets["G"].state_dict()} == {"fc", "conv"}
    assert {k.split(".")[0] for k in info.nets["D"].state_dict()} == {"body", "d_head", "q_head"}


def test_fc_networks_take_the_stability_tricks():
    """The fc discriminator keeps `features` and `out`, so minibatch discrimination and PacGAN apply."""
    r, ds = recipe("dcgan", "digits", fc=16, d_base=8, g_base=8, latent_dim=4, pack=2, minibatch_discrimination=3)
    step = step_for(ds, 8)
    x = step.batch["x"]
    assert r.nets["D"](r.d_input(x, step)).shape == (4,)  # 8 samples in packs of 2


@pytest.mark.parametrize("model,options", [("cgan", {}), ("cgan", {"projection": True}), ("acgan", {})])
def test_conditional_families_take_the_fc_layer(model, options):
    """model.fc reaches G and D of cgan (label-map and projection D) and acgan (both heads)."""
    r, _ = recipe(model, "digits", fc=16, g_base=8, d_base=8, latent_dim=4, **options)
    g_widths = [m.out_features for m in r.nets["G"].modules() if isinstance(m, nn.Linear)]
    d_widths = [m.out_features for m in r.nets["D"].modules() if isinstance(m, nn.Linear)]
    assert g_widths[0] == 16 and 16 in d_widths
    y = torch.arange(6) % 10
    x = r.nets["G"](torch.randn(6, 4), y)
    assert x.shape == (6, 1, 8, 8)
    if model == "acgan":
        logits, classes = r.nets["D"](x)
        assert classes.shape == (6, 10)
    else:
        logits = r.nets["D"](x, y)
    assert logits.shape == (6,)
