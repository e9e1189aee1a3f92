"""What a person can turn on a generator comes from its declared inputs, for any family."""

import torch

from gankit.models import Input, Noise
from gankit.models.inputs import draw_inputs
from gankit.viz.controls import controls, main_latent, sweep_inputs

INFO_LIKE = (Input("z", (62,)), Input("y", distribution="categorical", classes=10),
             Input("c_cat", distribution="categorical", classes=3), Input("c_cont", (2,), distribution="uniform"),
             Input("edges", (1, 8, 8), distribution="given"))


def test_each_distribution_becomes_its_control():
    got = {c.name: c for c in controls(INFO_LIKE, class_names=tuple("abcdefghij"))}
    assert {n: c.kind for n, c in got.items()} == {"z": "latent", "y": "label", "c_cat": "choice",
                                                   "c_cont": "slider", "edges": "given"}
    assert got["y"].labels[2] == "c" and got["c_cat"].labels == ("0", "1", "2")
    assert got["c_cont"].size == 2 and (got["c_cont"].low, got["c_cont"].high) == (-1.0, 1.0)
    assert got["edges"].size == 64
    assert main_latent(INFO_LIKE).name == "z"


def test_class_names_only_when_they_fit():
    label = controls((Input("y", distribution="categorical", classes=3),), class_names=("a", "b"))[0]
    assert label.labels == ("0", "1", "2")


def test_sweeps():
    specs = INFO_LIKE[:4]
    base = draw_inputs(specs, 8, Noise.seeded(0), {})
    inputs, rows = sweep_inputs(specs[1], base, 8)
    assert rows == [str(c) for c in range(10)]
    assert torch.equal(inputs["y"], torch.arange(10).repeat_interleave(8))
    assert torch.equal(inputs["z"][:8], inputs["z"][8:16])  # the same latents in every row
    inputs, rows = sweep_inputs(specs[3], base, 8)
    assert rows == ["c_cont[0]", "c_cont[1]"] and inputs["c_cont"].shape == (16, 2)
    assert torch.allclose(inputs["c_cont"][:8, 0], torch.linspace(-1, 1, 8))
    assert torch.all(inputs["c_cont"][:8, 1] == 0) and torch.all(inputs["z"] == base["z"][:1])
    assert sweep_inputs(specs[0], base, 8) is None
