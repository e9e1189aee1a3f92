"""DCGAN (Radford et al. 2016) and LSGAN (Mao et al. 2017: the same networks, least-squares loss)."""

from __future__ import annotations

from dataclasses import dataclass

from gankit.models.gan import AdversarialRecipe
from gankit.nn.dcgan import DCGANDiscriminator, DCGANGenerator
from gankit.tricks import StabilityOptions


@dataclass
class DCGANOptions(StabilityOptions):
    latent_dim: int = 100
    g_base: int = 64  # G channels before the output layer; doubled at each coarser scale
    d_base: int = 64  # D channels after the input layer; doubled at each coarser scale
    fc: int = 0  # width of a fully connected hidden layer in G and in D (InfoGAN's MNIST networks: 1024); 0 = none


class DCGAN(AdversarialRecipe):
    name = "dcgan"
    description = "DCGAN: strided-conv D, fractional-strided-conv G, BatchNorm, ReLU/LeakyReLU, Tanh"
    Options = DCGANOptions

    def __init__(self, options: DCGANOptions, data, train):
        super().__init__(options, data, train)
        channels, size = self.square_images()
        self.nets["G"] = DCGANGenerator(options.latent_dim, channels, size, options.g_base, options.fc)
        self.nets["D"] = DCGANDiscriminator(self.discriminator_shape[0], size, options.d_base, options.fc)
        self.stabilise()


class LSGAN(DCGAN):
    name = "lsgan"
    description = "LSGAN: DCGAN networks with the least-squares loss (a=0, b=1, c=1)"
    train_defaults = {"loss": "least-squares"}
