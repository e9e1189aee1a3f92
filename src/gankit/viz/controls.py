"""What a person can turn on a generator, read from the recipe's declared inputs.

The report and the playground both show a generator's inputs without knowing its family: a
class label ``y`` becomes a class picker (one report row per class), another categorical input
(InfoGAN's categorical code) a row of buttons, a uniform input (a continuous code) one slider per
dimension, and the normal latents are moved by the seed, the truncation and latent directions.
A ``given`` input (a pix2pix conditioning image) is taken from the data, never invented.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch

from gankit.models.inputs import Input

# A categorical input with more categories than this is shown as a number box, not buttons.
MAX_BUTTONS = 50


@dataclass(frozen=True)
class Control:
    """One input as a person sees it.

    Attributes
    ----------
    name : the generator input's name.
    kind : ``"latent"`` (normal: seed, truncation, directions), ``"label"`` (class picker),
        ``"choice"`` (buttons for a categorical code), ``"slider"`` (a uniform code: one slider
        per dimension), ``"given"`` (supplied from the data) or ``"text"`` (a caption typed in a box;
        the recipe encodes it).
    size : the number of values in one example's input (dimensions, or categorical entries).
    classes, low, high : the categorical count, or the uniform range.
    labels : readable names of the categories (class names for a label), when known.
    """

    name: str
    kind: str
    size: int
    classes: int | None = None
    low: float = -1.0
    high: float = 1.0
    labels: tuple[str, ...] | None = None

    def to_dict(self) -> dict:
        return {"name": self.name, "kind": self.kind, "size": self.size, "classes": self.classes,
                "low": self.low, "high": self.high, "labels": None if self.labels is None else list(self.labels)}


def numel(shape: tuple[int, ...]) -> int:
    n = 1
    for s in shape:
        n *= int(s)
    return n


def controls(specs: tuple[Input, ...], class_names: tuple[str, ...] | None = None,
             text_input: str | None = None) -> list[Control]:
    """The :class:`Control` of each declared input, in declaration order; ``text_input`` names the
    input a caption box fills."""
    out = []
    for spec in specs:
        size = numel(spec.shape)
        if spec.distribution == "normal":
            out.append(Control(spec.name, "latent", size))
        elif spec.distribution == "uniform":
            out.append(Control(spec.name, "slider", size, low=spec.low, high=spec.high))
        elif spec.distribution == "categorical":
            names = tuple(class_names) if spec.is_label and class_names and len(class_names) == spec.classes else None
            labels = names or tuple(str(c) for c in range(spec.classes))
            out.append(Control(spec.name, "label" if spec.is_label else "choice", size, spec.classes, labels=labels))
        else:
            out.append(Control(spec.name, "text" if spec.name == text_input else "given", size))
    return out


def main_latent(specs: tuple[Input, ...]) -> Input | None:
    """The largest normal input: the one latent directions move (``z`` for every family so far)."""
    normal = [s for s in specs if s.distribution == "normal"]
    return max(normal, key=lambda s: numel(s.shape)) if normal else None


def sweep_inputs(spec: Input, base: dict[str, torch.Tensor], columns: int,
                 values: int = 8) -> tuple[dict[str, torch.Tensor], list[str]] | None:
    """Inputs for a grid that varies ``spec`` down the rows and the other inputs across the columns.

    ``base`` holds ``columns`` examples of every input. A label or categorical code gets one row
    per category (at most 20); a uniform code one row per dimension (at most 10) swept over
    ``values`` steps from low to high with the other dimensions at their midpoint, so the
    columns are then the sweep. Returns (inputs, row labels), or None for inputs that are not swept.
    """
    if spec.distribution == "categorical" and spec.shape == ():
        rows = min(spec.classes, 20)
        inputs = {k: v.repeat(rows, *([1] * (v.dim() - 1))) for k, v in base.items()}
        inputs[spec.name] = torch.arange(rows).repeat_interleave(columns)
        return inputs, [str(c) for c in range(rows)]
    if spec.distribution == "uniform" and len(spec.shape) == 1:
        dims = min(spec.shape[0], 10)
        first = {k: v[:1] for k, v in base.items()}
        inputs = {k: v.repeat(dims * values, *([1] * (v.dim() - 1))) for k, v in first.items()}
        code = torch.full((dims, values, spec.shape[0]), (spec.low + spec.high) / 2)
        ramp = torch.linspace(spec.low, spec.high, values)
        for d in range(dims):
            code[d, :, d] = ramp
        inputs[spec.name] = code.reshape(dims * values, spec.shape[0])
        return inputs, [f"{spec.name}[{d}]" for d in range(dims)]
    return None
