"""``gan1d``: the vanilla GAN at the scale of the GAN paper's Figure 1, for the theory demo.

z ~ U(-1, 1), small MLPs without dropout, a discriminator that sees standardised x, k = 2 and a
linear learning-rate decay. ``gankit train gan1d --data gauss1d`` trains it like any other family;
:mod:`gankit.theory` trains it for Figure 1 and fits its discriminator against D*.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch

from gankit.data import TOY_DISTRIBUTIONS
from gankit.models.gan import AdversarialRecipe
from gankit.models.inputs import Input
from gankit.models.recipe import OptimizerSpec
from gankit.models.schedules import linear_decay
from gankit.nn.mlp import MLPDiscriminator, MLPGenerator

GAUSS1D = TOY_DISTRIBUTIONS["gauss1d"]
GAUSS1D_MEAN = float(GAUSS1D.centers[0, 0])
GAN_K = 2  # D steps per G step in Algorithm 1; with k = 1 this toy problem keeps circling the equilibrium


class DataScaled(torch.nn.Module):
    """A discriminator that sees ``(x - mean) / std`` of the data, as gankit normalises every dataset.

    Without it the MLP's first-layer kinks start near x = 0, far from the data at 4, and D needs
    several times more steps to bend its logit where the densities are.
    """

    def __init__(self, net: torch.nn.Module, mean: float = GAUSS1D_MEAN, std: float = GAUSS1D.std):
        super().__init__()
        self.net, self.mean, self.std = net, mean, std

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.net((x - self.mean) / self.std)


def make_discriminator(widths) -> DataScaled:
    return DataScaled(MLPDiscriminator((1,), list(widths), dropout=0.0))


@dataclass
class Figure1Options:
    widths: tuple[int, ...] = (32, 32)  # hidden layers of both G and D
    latent_dim: int = 1


class Figure1GAN(AdversarialRecipe):
    name = "gan1d"
    description = ("the theory demo's 1-D GAN (GAN paper Figure 1): z ~ U(-1, 1), small MLPs, k = 2, "
                   "linear learning-rate decay; for --data gauss1d")
    Options = Figure1Options
    train_defaults = {"k": GAN_K, "batch_size": 256, "lr_g": 5e-4, "lr_d": 5e-4}

    def __init__(self, options: Figure1Options, data, train):
        super().__init__(options, data, train)
        if self.data_shape != (1,):
            raise ValueError(f"gan1d models 1-D data (e.g. --data gauss1d), got samples of shape {self.data_shape}")
        self.nets["G"] = MLPGenerator(options.latent_dim, list(options.widths), (1,), dropout=0.0, tanh=False)
        self.nets["D"] = make_discriminator(options.widths)

    def inputs(self):
        return (Input("z", (self.latent_dim,), distribution="uniform"),)  # as in the paper's Figure 1

    def optimizers(self):
        # A linear decay to zero lets the last iterates settle instead of circling the equilibrium.
        t = self.train_config
        return {"D": OptimizerSpec(("D",), t.lr_d, schedule=linear_decay),
                "G": OptimizerSpec(("G",), t.lr_g, schedule=linear_decay)}
