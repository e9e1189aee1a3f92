"""The Recipe: the seam between one GAN family and the generic Trainer.

A recipe builds its networks, lists its training phases, returns the loss of a phase for a batch,
and generates samples. The Trainer owns everything else (optimisers, precision, DDP, EMA,
checkpoints, logging, sample grids), so a new family is one file in ``gankit/models`` that
subclasses ``Recipe`` and never touches the Trainer. NVlabs' stylegan2-ada-pytorch splits its
training the same way (``loss.accumulate_gradients(phase, ...)`` vs ``training_loop.py``).
"""

from __future__ import annotations

import abc
from dataclasses import dataclass, field
from typing import Any, Callable, ClassVar

import torch
from torch import nn

from gankit.config import TrainConfig


@dataclass(frozen=True)
class Phase:
    """One optimisation phase of an iteration.

    Attributes
    ----------
    name : the phase's name, passed back to ``Recipe.loss`` ("D", "G", ...).
    trains : the network whose optimiser steps; every other network is frozen during the phase.
    repeats : how many times the phase runs per iteration (Algorithm 1's k for "D").
    uses_real : whether the phase needs a batch of real data (the generator phase of a plain GAN
        does not, and drawing one would advance the data epoch for nothing).
    keeps_graph_of : networks left differentiable although not trained here, because a later
        phase of the same iteration backpropagates through an output computed now (with k = 1
        the generator pass of the D phase is reused by the G phase).
    """

    name: str
    trains: str
    repeats: int = 1
    uses_real: bool = True
    keeps_graph_of: tuple[str, ...] = ()


@dataclass
class Step:
    """What a phase's loss may read: the real batch and the random draws of this iteration.

    ``shared`` lives for one iteration, so one phase can hand a forward pass to the next.
    ``randn``/``randint`` draw from the Trainer's seeded latent stream; under DDP they draw the
    global batch and return this rank's rows, so 2 ranks x B see exactly the latents of 1 x 2B.
    """

    real: torch.Tensor | None
    labels: torch.Tensor | None
    randn: Callable[..., torch.Tensor]
    randint: Callable[..., torch.Tensor]
    shared: dict[str, Any] = field(default_factory=dict)


class Recipe(nn.Module, abc.ABC):
    """Base class of a GAN family.

    Subclasses set ``name``, ``description``, ``Options`` (a dataclass of ``model.*`` options) and
    ``train_defaults`` (``train.*`` values this family prefers, e.g. its loss), put their
    networks in ``self.nets`` (the generator under ``"G"``) and implement ``phases``, ``loss``
    and ``generate``.
    """

    name: ClassVar[str]
    description: ClassVar[str]
    Options: ClassVar[type]
    train_defaults: ClassVar[dict[str, Any]] = {}
    generator_name: ClassVar[str] = "G"
    conditional: ClassVar[bool] = False  # True when generate() uses class labels

    def __init__(self, options: Any, data_shape: tuple[int, ...], num_classes: int | None, train: TrainConfig):
        super().__init__()
        self.options = options
        self.data_shape = tuple(data_shape)
        self.num_classes = num_classes
        self.train_config = train
        self.nets = nn.ModuleDict()
        # Under DDP the Trainer puts the wrapped copy of the network a phase trains here.
        self.active: dict[str, nn.Module] = {}

    def net(self, name: str) -> nn.Module:
        """The network to call in the current phase (its DDP wrapper while it is being trained)."""
        return self.active.get(name) or self.nets[name]

    def square_images(self) -> tuple[int, int]:
        """(channels, size) of the data, for convolutional families that need square images."""
        if len(self.data_shape) != 3:
            raise ValueError(f"{self.name} needs image data (C, H, W), got samples of shape {self.data_shape}; "
                             "use the 'gan' model for toy point data")
        channels, height, width = self.data_shape
        if height != width:
            raise ValueError(f"{self.name} needs square images, got {height}x{width}; set data.size")
        return channels, height

    @property
    def latent_dim(self) -> int:
        return self.options.latent_dim

    # --- the seam -------------------------------------------------------------------------
    @abc.abstractmethod
    def phases(self) -> list[Phase]:
        """The phases of one iteration, in order."""

    @abc.abstractmethod
    def loss(self, phase: str, step: Step) -> tuple[torch.Tensor, dict[str, torch.Tensor]]:
        """The scalar loss of ``phase`` and detached statistics to log (name -> 0-d tensor)."""

    @abc.abstractmethod
    def generate(self, z: torch.Tensor, labels: torch.Tensor | None = None,
                 generator: nn.Module | None = None) -> torch.Tensor:
        """Samples in the data's range from latents ``z`` (with ``generator``, e.g. the EMA copy)."""

    # --- sampling helpers shared by all families ------------------------------------------
    def sample_latents(self, n: int, generator: torch.Generator | None = None,
                       device: torch.device | str = "cpu") -> torch.Tensor:
        return torch.randn(n, self.latent_dim, generator=generator).to(device)
