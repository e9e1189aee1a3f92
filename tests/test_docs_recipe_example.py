"""The worked example of docs/recipes.md runs as printed: a newcomer's family trains and samples."""

import re
from pathlib import Path

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
