"""DCGAN (Radford et al. 2016) and LSGAN (Mao et al. 2017: the same networks, least-squares loss)."""

from __future__ import annotations

from dataclasses import dataclass

from gankit.models.gan import AdversarialRecipe
from gankit.nn.dcgan import DCGANDiscriminator, DCGANGenerator


@dataclass
class DCGANOptions:
    latent_dim: int = 100
    g_base: int = 64  # G channels before the output layer; doubled at each coarser scale
    d_base: int = 64  # D channels after the input layer; doubled at each coarser scale


class DCGAN(AdversarialRecipe):
    name = "dcgan"
    description = "DCGAN: strided-conv D, fractional-strided-conv G, BatchNorm, ReLU/LeakyReLU, Tanh"
    Options = DCGANOptions

    def __init__(self, options: DCGANOptions, data_shape, num_classes, train):
        super().__init__(options, data_shape, num_classes, train)
        if len(data_shape) != 3:
            raise ValueError(f"{self.name} needs image data (C, H, W), got samples of shape {data_shape}; "
                             "use the 'gan' model for toy point data")
        channels, height, width = data_shape
        if height != width:
            raise ValueError(f"{self.name} needs square images, got {height}x{width}; set data.size")
        self.nets["G"] = DCGANGenerator(options.latent_dim, channels, height, options.g_base)
        self.nets["D"] = DCGANDiscriminator(channels, height, options.d_base)


class LSGAN(DCGAN):
    name = "lsgan"
    description = "LSGAN: DCGAN networks with the least-squares loss (a=0, b=1, c=1)"
    train_defaults = {"loss": "least-squares"}
