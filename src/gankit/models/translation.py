"""What pix2pix and CycleGAN share: a generator that takes an image, and grids of input | output | target.

The generator's one input is ``Input("a", (C, H, W), distribution="given")``: the image to
translate, so ``gankit.load(run).sample(n, a=images)`` and ``gankit translate`` call it. Sample
grids show fixed held-out pairs (the test split; the training split when there is none) as
triples input | output | target, four triples per row; unpaired data show input | output.
"""

from __future__ import annotations

import functools
import warnings
from typing import Callable

import torch
from torch import nn

from gankit.data import DataError, load_dataset
from gankit.data.imageset import convert_images
from gankit.data.paired import INPUT
from gankit.data.views import load_domain
from gankit.data.pixels import from_uint8
from gankit.models.inputs import Input
from gankit.models.recipe import Stream
from gankit.models.train_loss import TrainLossRecipe

GRID_PAIRS = 16
PAIRS_PER_ROW = 4
DIRECTIONS = ("AtoB", "BtoA")


def view_stream(load: Callable, data, *side: str) -> Stream:
    """A stream of the run's dataset (``cfg.data``) read through a translation view, split by split:
    ``load_pairs`` (pix2pix), or ``load_domain`` and a ``side`` "A" or "B" (CycleGAN)."""
    return Stream(functools.partial(_read_view, load, data.name, side, data.size, data.channels, data.root))


def _read_view(load, name, side, size, channels, root, split):
    return load(name, *side, split, size, channels, root)


class TranslationRecipe(TrainLossRecipe):
    """Base of the image-to-image families (no ``name``: not a family of its own)."""

    def inputs(self):
        return (Input("a", tuple(self.input_shape), distribution="given"),)

    def draw_inputs(self, n, noise, **given):
        if "a" not in given:  # `gankit sample` / `gankit eval` have no images to give
            raise ValueError(f"{self.name} translates images rather than sampling them: use `gankit translate RUN "
                             "INPUT... --out DIR`, `gankit translate RUN --eval`, or run.sample(n, a=images)")
        return super().draw_inputs(n, noise, **given)

    @property
    def input_shape(self) -> tuple[int, ...]:
        """(C, H, W) of the images the generator translates."""
        return tuple(next(iter(self.data.values())).shape)

    def generate(self, inputs, net=None):
        return (net or self.nets["G"])(inputs["a"])

    def translator(self, direction: str) -> nn.Module:
        """The network that translates in ``direction`` ("AtoB" or "BtoA")."""
        if direction == "AtoB":
            return self.nets["G"]
        raise ValueError(f"{self.name} translates A to B only; --direction BtoA needs a model trained both ways "
                         "(cyclegan)")

    def source_shape(self, direction: str) -> tuple[int, ...]:
        """(C, H, W) of the images the ``direction`` translator reads."""
        return self.input_shape

    def size_multiple(self) -> int:
        """Image sides the translators accept are multiples of this (they are fully convolutional)."""
        return 4

    # --- sample grids ---------------------------------------------------------------------------
    def grid_pairs(self, device) -> tuple[torch.Tensor, torch.Tensor | None]:
        """Fixed (inputs, targets or None) for the grids, in [-1, 1] on ``device``."""
        info = next(iter(self.data.values()))
        name = info.name
        size, channels = info.shape[-1], info.shape[0]
        a = b = None
        for split in ("test", "train"):
            try:
                if " (" in name:  # one domain of unpaired data: "emojione2noto (A)"
                    source = name.rsplit(" (", 1)[0]
                    try:
                        with warnings.catch_warnings():  # two unpaired folders: no partners is no news
                            warnings.simplefilter("ignore")
                            paired = load_dataset(source, split, size=size)
                        a, b = paired.extra[INPUT], paired.x
                    except (DataError, KeyError):
                        a = load_domain(source, "A", split, size=size).x
                else:
                    paired = load_dataset(name, split, size=size)
                    a, b = paired.extra[INPUT], paired.x
                break
            except DataError as e:
                problem = e
        if a is None:
            warnings.warn(f"no fixed pairs for the sample grids ({problem}); they show no images", stacklevel=2)
            return torch.zeros(0, *self.input_shape, device=device), None

        def tensor(x, c):
            x = convert_images(x[:GRID_PAIRS], channels=c) if x.shape[1] != c else x[:GRID_PAIRS]
            return from_uint8(x).to(device)

        return tensor(a, self.input_shape[0]), None if b is None else tensor(b, channels)

    def grid_inputs(self, noise):
        a, self.grid_targets = self.grid_pairs(noise.device)
        self.grid_sources = a
        return {"a": a}, (3 if self.grid_targets is not None else 2) * PAIRS_PER_ROW

    def grid_images(self, samples):
        columns = [self.grid_sources, samples]
        if getattr(self, "grid_targets", None) is not None:
            columns.append(self.grid_targets)
        # Gray inputs beside colour outputs: repeat them to three channels for one grid.
        c = max(x.shape[1] for x in columns)
        columns = [x.expand(-1, c, -1, -1) if x.shape[1] != c else x for x in columns]
        return torch.stack([x.to(samples.device) for x in columns], 1).flatten(0, 1)
