"""A run's generator as a standalone program: ``torch.export`` (and ONNX when the optional packages are there).

The exported function is the one ``gankit sample`` calls, ``recipe.generate(inputs, net)`` with the
run's EMA generator: its arguments are the generator's inputs in the order of ``recipe.inputs()``
(``z``, then ``y`` for conditional families, InfoGAN's codes, pix2pix's image, a caption's word
ids ...), each with a dynamic batch dimension, and it returns the images in [-1, 1]. A family that
truncates in W (StyleGAN2) also takes a last argument ``psi`` of shape (N, num_ws, 1).

Load it without gankit: ``torch.export.load(FILE).module()(z)``, or with ONNX Runtime.
"""

from __future__ import annotations

import warnings
from pathlib import Path

import torch
from torch import nn

from gankit.run import Run


class GeneratorFunction(nn.Module):
    """``forward(*tensors)`` = ``recipe.generate(dict(zip(names, tensors)), net)``."""

    def __init__(self, recipe: nn.Module, net: nn.Module, names: list[str]):
        super().__init__()
        self.net, self.names = net, list(names)
        # Not a submodule: the recipe's own state (ProGAN's stage, a text encoder) enters the program
        # as constants, so Python control flow on it is fixed at export; only the generator's
        # parameters and buffers become the program's state.
        self.recipe = [recipe]

    def forward(self, *tensors: torch.Tensor) -> torch.Tensor:
        return self.recipe[0].generate(dict(zip(self.names, tensors)), self.net)


def example_inputs(run: Run, n: int = 2, seed: int = 0, truncation: float | None = None) -> dict[str, torch.Tensor]:
    """Inputs of ``n`` samples as the exported program takes them (names in its argument order)."""
    inputs = run.inputs(n, seed)
    return run.truncate(inputs, truncation) if truncation is not None else inputs


def exported_function(run: Run, truncation: float | None = None) -> tuple[GeneratorFunction, dict[str, torch.Tensor]]:
    inputs = example_inputs(run, truncation=truncation)
    return GeneratorFunction(run.recipe, run.generator, list(inputs)), inputs


def export_generator(run: Run, truncation: float | None = None) -> torch.export.ExportedProgram:
    """The generator as an ExportedProgram with a dynamic batch size.

    ``truncation`` adds the truncation input (``psi``) of families that truncate through an input of
    their own; for the others it is applied to the latents before calling the program.
    """
    function, inputs = exported_function(run, truncation)
    batch = torch.export.Dim.AUTO
    shapes = (tuple({0: batch} for _ in inputs),)  # one entry: the *tensors of forward
    with torch.no_grad(), warnings.catch_warnings():
        # Attributes a family sets while generating (stackgan's last KL term) are not part of the program.
        warnings.filterwarnings("ignore", message=".*assigned during export.*")
        return torch.export.export(function.eval(), tuple(inputs.values()), dynamic_shapes=shapes)


def export_onnx(run: Run, path: Path, truncation: float | None = None) -> Path:
    """The same program as an ONNX file (needs the optional ``onnx`` and ``onnxscript`` packages)."""
    function, inputs = exported_function(run, truncation)
    batch = torch.export.Dim.AUTO
    torch.onnx.export(function.eval(), tuple(inputs.values()), str(path), input_names=list(inputs),
                      output_names=["images"], dynamic_shapes=(tuple({0: batch} for _ in inputs),), dynamo=True)
    return path
