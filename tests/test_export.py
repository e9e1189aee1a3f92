"""`gankit export`: every family's generator as a torch.export program that equals gankit's samples,
for another batch size than it was exported with."""

import numpy as np
import pytest
import torch
from PIL import Image

import gankit
from gankit.cli import main
from gankit.export import example_inputs, export_generator
from gankit.models import recipes
from gankit.train.trainer import train
from test_seam import config

SMALL = {"g_base": 4, "d_base": 4}
FAMILIES = {  # model -> (data, model options); one training step each
    "gan": ("ring8", {}),
    "gan1d": ("gauss1d", {}),
    "dcgan": ("digits", SMALL),
    "lsgan": ("digits", SMALL),
    "cgan": ("digits", SMALL),
    "acgan": ("digits", SMALL),
    "sgan": ("digits", {}),
    "infogan": ("digits", {}),
    "pix2pix": ("pairs", SMALL),
    "cyclegan": ("pairs", {**SMALL, "blocks": 1}),
    "progan": ("digits", {"width_base": 32, "max_width": 8, "latent_dim": 8}),
    "stylegan2": ("digits", {"latent_dim": 8, "w_dim": 8, "channel_base": 32, "channel_max": 8}),
    "stackgan": ("shapes", {"encoder_steps": 2, "g_base": 8, "d_base": 8, "latent_dim": 8, "condition_dim": 8,
                            "encoder_dim": 16}),
}


def test_every_family_is_covered():
    built_in = {name for name, cls in recipes().items() if cls.__module__.startswith("gankit.")}
    assert set(FAMILIES) == built_in


@pytest.fixture
def pairs(tmp_path):
    rng = np.random.default_rng(0)
    for side in "AB":
        (tmp_path / side).mkdir()
    for i in range(12):  # the last 10 % by name are the held-out split
        a = rng.integers(0, 256, (16, 16, 3)).astype(np.uint8)
        Image.fromarray(a).save(tmp_path / "A" / f"{i}.png")
        Image.fromarray(255 - a).save(tmp_path / "B" / f"{i}.png")
    return f"folder:{tmp_path / 'A'}|{tmp_path / 'B'}"


@pytest.mark.parametrize("model", sorted(FAMILIES))
def test_the_exported_generator_reproduces_gankits_samples(tmp_path, pairs, model, monkeypatch):
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))  # stackgan's caption encoder
    data, options = FAMILIES[model]
    cfg = config(model, data=pairs if data == "pairs" else data, steps=1, batch_size=4)
    cfg.train.loss = "least-squares" if model == "cyclegan" else cfg.train.loss
    cfg.options = dict(options)
    train(cfg, tmp_path / "run", progress=False)
    run = gankit.load(tmp_path / "run")
    truncation = 0.6 if model == "stylegan2" else None
    program = export_generator(run, truncation)
    inputs = example_inputs(run, n=5, seed=3, truncation=truncation)
    assert torch.allclose(program.module()(*inputs.values()), run.generate(inputs), atol=1e-5)


def test_the_command_writes_a_program_that_loads_without_gankit(tmp_path, capsys):
    cfg = config("dcgan", steps=1, batch_size=4)
    cfg.options = dict(SMALL)
    train(cfg, tmp_path / "run", progress=False)
    assert main(["export", str(tmp_path / "run"), "--out", str(tmp_path / "g.pt2")]) == 0
    printed = capsys.readouterr().out
    assert "images (N, 1, 8, 8) in [-1, 1] from z (N, 100) float32; largest difference from gankit's samples 0" in printed
    assert torch.export.load(tmp_path / "g.pt2").module()(torch.randn(7, 100)).shape == (7, 1, 8, 8)
    assert main(["export", str(tmp_path / "run"), "--out", str(tmp_path / "g.zip")]) != 0
    assert "--out must end in .pt2" in capsys.readouterr().err


def test_onnx_export_runs_in_onnx_runtime_when_the_optional_packages_are_installed(tmp_path, capsys):
    pytest.importorskip("onnxscript")
    pytest.importorskip("onnxruntime")
    cfg = config("dcgan", steps=1, batch_size=4)
    cfg.options = dict(SMALL)
    train(cfg, tmp_path / "run", progress=False)
    assert main(["export", str(tmp_path / "run"), "--out", str(tmp_path / "g.onnx")]) == 0
    difference = float(capsys.readouterr().out.rsplit("samples ", 1)[1].split()[0].rstrip(";"))
    assert difference < 1e-4
