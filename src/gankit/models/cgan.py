"""Conditional GAN (Mirza & Osindero 2014): min_G max_D V(D, G) with D(x|y) and G(z|y).

The lectures' conditional objective is the GAN value function with both networks told the class:
``E_x,y[log D(x|y)] + E_z,y[log(1 - D(G(z|y)|y))]``. G joins a learned label embedding to z; D
joins the label to its input (a learned per-class map as an extra image channel, an
embedding for points), or, with
``model.projection=true``, is Miyato & Koyama's (2018) projection discriminator
``psi(phi(x)) + <embed(y), phi(x)>``. Images use the DCGAN networks of ``gankit.nn.dcgan`` (with
``model.fc=WIDTH`` their fully connected layer, as ``dcgan``; the ``cgan-fc`` preset),
point data the MLPs of ``gankit.nn.mlp``. Any registered loss works (``train.loss``).

G's loss also has Mao et al.'s (2019) mode-seeking term by default (``model.mode_seeking=1``,
:mod:`gankit.tricks.mode_seeking`): without it the generator learns to all but ignore z and draws
few images per class (Fashion-MNIST, 10 minutes, seed 0: recall 0.07 and FID 9.5 without it,
recall 0.50 and FID 6.2 with it; benchmarks/RESULTS.md). ``model.mode_seeking=0`` is the lectures'
objective alone.
"""

from __future__ import annotations

from dataclasses import dataclass

from gankit.models.conditional import ConditionalRecipe
from gankit.nn.conditional import (LabelMapD, LabelConcatD, LabelledGenerator, ProjectionD, feature_shape)
from gankit.nn.dcgan import DCGANDiscriminator, DCGANGenerator
from gankit.nn.mlp import MLPDiscriminator, MLPGenerator


@dataclass
class CGANOptions:
    latent_dim: int = 100
    embed_dim: int = 50  # G's label embedding, joined to z
    projection: bool = False  # D: Miyato & Koyama's projection instead of the label joined to the input
    g_base: int = 64  # image data: DCGAN widths (see dcgan)
    d_base: int = 64
    fc: int = 0  # image data: a fully connected hidden layer of this width in G and in D (see dcgan)
    mlp_widths: tuple[int, ...] = (256, 256, 256)  # point data: hidden widths of both MLPs
    # lambda of Mao et al.'s mode-seeking term in G's loss; 0 = the lectures' objective alone, which
    # collapses within each class on Fashion-MNIST (benchmarks/RESULTS.md)
    mode_seeking: float = 1.0


def conditional_generator(recipe, options) -> LabelledGenerator:
    """G(z|y) for the recipe's data: a DCGAN generator for images, an MLP for points."""
    n_in = options.latent_dim + options.embed_dim
    if len(recipe.data_shape) == 3:
        channels, size = recipe.square_images()
        body = DCGANGenerator(n_in, channels, size, options.g_base, options.fc)
    else:
        body = MLPGenerator(n_in, options.mlp_widths, recipe.data_shape, slope=0.2, dropout=0.0, tanh=False)
    return LabelledGenerator(body, recipe.num_classes, options.embed_dim)


def unconditional_discriminator(recipe, options, extra_channels: int = 0):
    """The unconditional D body for the recipe's data (images get ``extra_channels`` more inputs)."""
    if len(recipe.data_shape) == 3:
        channels, size = recipe.square_images()
        return DCGANDiscriminator(channels + extra_channels, size, options.d_base, options.fc)
    return MLPDiscriminator(recipe.data_shape, options.mlp_widths, slope=0.2, dropout=0.0)


class CGAN(ConditionalRecipe):
    name = "cgan"
    description = ("conditional GAN: G(z|y), D(x|y) (label joined to D's input, or a projection D with "
                   "model.projection=true); DCGAN nets for images, MLPs for points")
    Options = CGANOptions

    def __init__(self, options: CGANOptions, data, train):
        super().__init__(options, data, train)
        k = self.num_classes
        self.nets["G"] = conditional_generator(self, options)
        if options.projection:
            body = unconditional_discriminator(self, options)
            self.nets["D"] = ProjectionD(body, k, feature_shape(body, self.data_shape)[0])
        elif len(self.data_shape) == 3:
            self.nets["D"] = LabelMapD(unconditional_discriminator(self, options, extra_channels=1), k,
                                       *self.data_shape[1:])
        else:
            body = MLPDiscriminator((self.data_shape[0] + options.embed_dim,), options.mlp_widths, slope=0.2,
                                    dropout=0.0)
            self.nets["D"] = LabelConcatD(body, k, options.embed_dim)

    def d_loss(self, real, y_real, fake, y_fake):
        adversarial = self.adversarial_loss
        real_out, fake_out = self.discriminate(self.net("D"), real, fake, y_real, y_fake)
        loss = adversarial.d_loss(real_out, fake_out, self.train_config.real_label)
        return loss, {"d_loss": loss.detach(), "D(x|y)": adversarial.score(real_out).mean().detach(),
                      "D(G(z|y)|y)": adversarial.score(fake_out).mean().detach()}

    def g_loss(self, fake, y_fake):
        loss = self.adversarial_loss.g_loss(self.net("D")(fake, y_fake))
        return loss, {"g_loss": loss.detach()}
