"""What pix2pix and CycleGAN share: a generator that takes an image, and grids of input | output | target.

The generator's one input is ``Input("a", (C, H, W), distribution="given")``: the image to
translate, so ``gankit.load(run).sample(n, a=images)`` and ``gankit translate`` call it; where no
image is passed (``gankit sample``, ``eval``, ``report``, ``serve``) it comes from held-out
examples of the data. Sample grids show the first held-out examples as triples input | output |
target, four triples per row; unpaired data show input | output.
"""

from __future__ import annotations

import functools
from typing import Callable, ClassVar

import torch
from torch import nn

from gankit.data.paired import INPUT
from gankit.models.inputs import Input, example_field
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

    # The field of the main stream's examples that holds the image to translate: a pair's input
    # (its "x" is the target), or the domain's images themselves for unpaired data.
    source_field: ClassVar[str] = INPUT

    def inputs(self):
        return (Input("a", tuple(self.input_shape), distribution="given", field=self.source_field),)

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
    def grid_inputs(self, noise, examples=None):
        n = 0 if examples is None else min(GRID_PAIRS, len(examples))
        a = (example_field(examples, self.inputs()[0], range(n)) if n
             else torch.zeros(0, *self.input_shape)).to(noise.device)
        self.grid_sources = a
        paired = n and self.source_field != "x"
        self.grid_targets = example_field(examples, Input("x"), range(n)).to(noise.device) if paired else None
        return {"a": a}, (3 if self.grid_targets is not None else 2) * PAIRS_PER_ROW

    def grid_images(self, samples):
        columns = [self.grid_sources, samples]
        if getattr(self, "grid_targets", None) is not None:
            columns.append(self.grid_targets)
        # Gray inputs beside colour outputs: repeat them to three channels for one grid.
        c = max(x.shape[1] for x in columns)
        columns = [x.expand(-1, c, -1, -1) if x.shape[1] != c else x for x in columns]
        return torch.stack([x.to(samples.device) for x in columns], 1).flatten(0, 1)
