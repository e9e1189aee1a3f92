"""The vanilla GAN of the lectures (Goodfellow et al. 2014; seed 001's MLP code).

Networks: ``gankit.nn.mlp``. Training is Algorithm 1 of the paper: ``train.k`` discriminator
steps, each on a fresh minibatch of noise and of data, then one generator step. The generator
loss is the minimax ``E[log(1 - D(G(z)))]`` or the non-saturating ``-E[log D(G(z))]``
(``train.loss``); any registered loss works.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass

import torch
from torch import nn

from gankit.losses import get_loss
from gankit.models.recipe import Phase, Recipe, Step
from gankit.nn.mlp import MLPDiscriminator, MLPGenerator


class AdversarialRecipe(Recipe):
    """Algorithm 1 for any unconditional G/D pair: ``nets["G"]`` maps z to samples, ``nets["D"]`` to logits.

    With k = 1 one generator pass serves both phases: the D phase sees it detached, the G phase
    backpropagates through it (against the just-updated D), so G runs forward once per iteration.
    """

    def phases(self) -> list[Phase]:
        k = self.train_config.k
        shared = ("G",) if k == 1 else ()
        return [Phase("D", trains="D", repeats=k, keeps_graph_of=shared),
                Phase("G", trains="G", draws=())]

    @functools.cached_property
    def adversarial_loss(self):
        return get_loss(self.train_config.loss)

    def loss(self, phase: str, step: Step):
        adversarial = self.adversarial_loss
        D = self.net("D")
        if phase == "D":
            real = step.batch["x"]
            fake = self.generate(self.draw_inputs(len(real), step.noise), self.net("G"))
            if self.train_config.k == 1:
                step.shared["fake"] = fake
            real_out, fake_out = self.discriminate(D, self.augmented(real, step.noise),
                                                   self.augmented(fake.detach(), step.noise))
            loss = adversarial.d_loss(real_out, fake_out, self.train_config.real_label)
            return loss, {"d_loss": loss.detach(),
                          "D(x)": adversarial.score(real_out).mean().detach(),
                          "D(G(z))": adversarial.score(fake_out).mean().detach(),
                          **self.observe_real(real_out, adversarial.boundary)}
        fake = step.shared.pop("fake", None)
        if fake is None:
            fake = self.generate(self.draw_inputs(self.train_config.batch_size, step.noise), self.net("G"))
        loss = adversarial.g_loss(D(self.augmented(fake, step.noise)))
        return loss, {"g_loss": loss.detach()}

    def discriminate(self, D, real, fake):
        """D on real and fake batches: one call on both when D has no batch statistics.

        Bigger matrix products run faster; BatchNorm would mix the statistics of the two batches,
        so a discriminator with it sees them separately, as Radford et al. train it.
        """
        if self.batch_dependent_d:
            return D(real), D(fake)
        return D(torch.cat([real, fake])).split([len(real), len(fake)])

    @functools.cached_property
    def batch_dependent_d(self) -> bool:
        return any(isinstance(m, nn.modules.batchnorm._BatchNorm) for m in self.nets["D"].modules())

    def generate(self, inputs, net=None):
        return (net or self.nets["G"])(inputs["z"])


@dataclass
class GANOptions:
    latent_dim: int = 100
    g_widths: tuple[int, ...] = (256, 256, 256)  # the lecture's config: 3 hidden layers of 256
    d_widths: tuple[int, ...] = (256, 256, 256)
    slope: float = 0.01  # nn.LeakyReLU() default, as in the lecture
    dropout: float = 0.1  # in both networks, as in the lecture
    g_batchnorm: bool = False  # BatchNorm1d after G's hidden layers but the first (PyTorch-GAN's gan.py)


class GAN(AdversarialRecipe):
    name = "gan"
    description = "vanilla GAN: the lecture's MLP G/D (LeakyReLU, Dropout 0.1, Tanh), BCE, Algorithm 1"
    Options = GANOptions

    def __init__(self, options: GANOptions, data, train):
        super().__init__(options, data, train)
        is_image = len(self.data_shape) == 3
        self.nets["G"] = MLPGenerator(options.latent_dim, options.g_widths, self.data_shape, options.slope,
                                      options.dropout, options.g_batchnorm, tanh=is_image)
        self.nets["D"] = MLPDiscriminator(self.data_shape, options.d_widths, options.slope, options.dropout)
