"""The worked example of docs/recipes.md runs as printed: a newcomer's family trains and samples."""

import re
from pathlib import Path

import pytest
import torch

import gankit
from gankit.config import RunConfig
from gankit.train.trainer import train

DOC = Path(__file__).parents[1] / "docs" / "recipes.md"


def test_the_worked_example_family_trains_and_samples_by_class(tmp_path):
    code = re.findall(r"```python\n(.*?)```", DOC.read_text(), re.S)[0]
    exec(compile(code, str(DOC), "exec"), {"__name__": "docs_recipes_example"})
    cfg = RunConfig(model="toy-cgan")
    cfg.data.name = "ring8"
    cfg.train.steps, cfg.train.log_every, cfg.train.sample_every = 1000, 100, 1000
    cfg.train.lr_g = cfg.train.lr_d = 1e-3
    train(cfg, tmp_path / "run", progress=False)
    run = gankit.load(tmp_path / "run")
    assert run.conditional and (tmp_path / "run" / "samples" / "step_001000.png").exists()
    # Asked for one mixture component, the samples lie nearer that centre than any other.
    centres = torch.tensor([[2 * torch.cos(torch.tensor(t)), 2 * torch.sin(torch.tensor(t))]
                            for t in (2 * torch.pi * torch.arange(8) / 8).tolist()])
    hits = []
    for label in range(8):
        points = run.sample(200, labels=torch.full((200,), label), seed=label)
        nearest = torch.cdist(points, centres).argmin(1)
        hits.append((nearest == label).float().mean().item())
    assert min(hits) > 0.9, hits  # chance is 1/8


def test_the_growing_example_fades_its_block_in_over_images(tmp_path):
    import json

    blocks = re.findall(r"```python\n(.*?)```", DOC.read_text(), re.S)
    namespace = {"__name__": "docs_recipes_example"}
    for code in (blocks[0], next(b for b in blocks if "class Grow(Recipe)" in b)):
        exec(compile(code, str(DOC), "exec"), namespace)
    cfg = RunConfig(model="toy-grow")
    cfg.data.name = "digits"
    cfg.train.steps, cfg.train.batch_size, cfg.train.log_every, cfg.train.sample_every = 80, 64, 1, 80
    train(cfg, tmp_path / "run", progress=False)
    rows = [json.loads(line) for line in (tmp_path / "run" / "metrics.jsonl").read_text().splitlines()]
    # alpha as the D phase of iteration i saw it: i * 64 images drawn before it, less the 2,000 at 4x4
    want = [min(max((r["step"] - 1) * 64 - 2000, 0) / 2000, 1.0) for r in rows]
    assert [r["alpha"] for r in rows] == pytest.approx(want)
    run = gankit.load(tmp_path / "run")
    assert int(run.recipe.stage) == 1 and run.sample(4).shape == (4, 1, 8, 8)
