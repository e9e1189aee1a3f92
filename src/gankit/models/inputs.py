"""What a generator takes in, and the seeded random draws that make it.

A recipe lists its generator's inputs as :class:`Input` declarations: a latent ``z`` for every
family, a class label ``y`` for conditional ones, categorical and continuous codes for InfoGAN, a
conditioning image or text embedding for translation and text-to-image models. The same list
serves training (latents drawn from the Trainer's stream), sample grids, ``gankit sample``,
``gankit interpolate`` and ``gankit eval``, so no caller needs to know a family's inputs.

The draws come from a seeded :class:`~gankit.noise.Noise` stream.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch

from gankit.data.pixels import from_uint8
from gankit.noise import Noise

DISTRIBUTIONS = ("normal", "uniform", "categorical", "given")


@dataclass(frozen=True)
class Input:
    """One input of a generator.

    Attributes
    ----------
    name : its key in the inputs mapping (``"z"``, ``"y"``, ``"c_cont"``, ``"condition"``, ...).
    shape : the shape of one example's input (``(latent_dim,)``; ``()`` for a class label).
    distribution : how it is drawn: ``"normal"`` (N(0, 1)), ``"uniform"`` (U(low, high)),
        ``"categorical"`` (an int64 in ``0..classes-1``) or ``"given"`` (not random: the caller
        supplies it, e.g. the image a pix2pix generator translates, or else it is taken from
        examples of the data, the held-out split by default).
    classes : the number of categories, for ``"categorical"``.
    low, high : the range of ``"uniform"``.
    field : for ``"given"``: the field of the data examples it is taken from (a batch key such as
        ``"x"`` or an archive's per-image array); None: the input's own name.
    """

    name: str
    shape: tuple[int, ...] = ()
    distribution: str = "normal"
    classes: int | None = None
    low: float = -1.0
    high: float = 1.0
    field: str | None = None

    def __post_init__(self):
        if self.distribution not in DISTRIBUTIONS:
            raise ValueError(f"Input {self.name!r}: distribution must be one of {DISTRIBUTIONS}, "
                             f"got {self.distribution!r}")
        if self.distribution == "categorical" and not self.classes:
            raise ValueError(f"Input {self.name!r}: a categorical input needs classes >= 1")

    @property
    def is_label(self) -> bool:
        """A class label: sample grids put one of its classes per row."""
        return self.distribution == "categorical" and self.name == "y"

    @property
    def interpolates(self) -> bool:
        """Continuous inputs are walked by ``gankit interpolate``; labels and given inputs are held."""
        return self.distribution in ("normal", "uniform")

    def draw(self, n: int, noise: Noise) -> torch.Tensor:
        if self.distribution == "normal":
            return noise.randn(n, *self.shape)
        if self.distribution == "uniform":
            return noise.rand(n, *self.shape) * (self.high - self.low) + self.low
        if self.distribution == "categorical":
            return noise.randint(self.classes, n, *self.shape)
        raise ValueError(f"the generator's input {self.name!r} is not drawn at random: pass it "
                         f"(e.g. {self.name}=tensor of shape (n, {', '.join(map(str, self.shape))})) or "
                         "give examples of the data to take it from")

    def check(self, value: torch.Tensor, n: int) -> torch.Tensor:
        """A value the caller gave: the right number of rows and per-example shape, or a clear error."""
        value = torch.as_tensor(value)
        if self.distribution == "categorical":
            value = value.long()
            if value.numel() and (value.min() < 0 or value.max() >= self.classes):
                raise ValueError(f"{self.name} must lie in 0..{self.classes - 1}, got values "
                                 f"{value.min().item()}..{value.max().item()}")
        if value.shape != (n, *self.shape):
            raise ValueError(f"{self.name} has shape {tuple(value.shape)}; expected {(n, *self.shape)}")
        return value


def example_field(examples, spec: Input, rows) -> torch.Tensor:
    """The rows ``rows`` of the data field that ``spec`` is given by, as the networks take them:
    uint8 images in [-1, 1], anything else as float (labels as int64)."""
    name = spec.field or spec.name
    fields = {"x": examples.x, **({"y": examples.y} if examples.y is not None else {}), **examples.extra}
    if name not in fields:
        raise ValueError(f"the generator's input {spec.name!r} is given by the data, and the examples "
                         f"({examples.name}) have no field {name!r}; they have {', '.join(sorted(fields))}")
    values = np.asarray(fields[name])[np.asarray(rows)]
    if values.dtype == np.uint8:
        return from_uint8(values)
    if np.issubdtype(values.dtype, np.integer):
        return torch.from_numpy(values.astype(np.int64))
    return torch.from_numpy(np.ascontiguousarray(values, dtype=np.float32))


def draw_inputs(inputs: tuple[Input, ...], n: int, noise: Noise, given: dict[str, torch.Tensor],
                examples=None) -> dict[str, torch.Tensor]:
    """Inputs for ``n`` examples: each given value checked, every other one drawn in declaration order.

    An input ``given`` by the data that the caller does not pass is taken from ``n`` examples
    drawn (with replacement, from ``noise``) out of ``examples``, all such inputs from the same rows.
    """
    names = [i.name for i in inputs]
    if unknown := sorted(set(given) - set(names)):
        raise ValueError(f"this generator takes no input named {', '.join(unknown)}; its inputs are "
                         f"{', '.join(names)}")
    out, rows = {}, None
    for spec in inputs:
        value = given.get(spec.name)
        if value is None and spec.distribution == "given" and examples is not None:
            if rows is None:
                rows = noise.randint(len(examples), n).cpu().numpy()
            value = example_field(examples, spec, rows)
        out[spec.name] = spec.draw(n, noise) if value is None else spec.check(value, n).to(noise.device)
    return out


def slice_inputs(inputs: dict[str, torch.Tensor], start: int, stop: int) -> dict[str, torch.Tensor]:
    return {k: v[start:stop] for k, v in inputs.items()}
