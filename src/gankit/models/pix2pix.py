"""pix2pix (Isola et al. 2017): image-to-image translation with a conditional GAN and an L1 term.

G is a U-Net (``gankit.nn.unet``) that maps an input image a to an output; dropout is its only
noise. D is a PatchGAN (``gankit.nn.patchgan``) that sees the input beside a real or generated
output, concatenated along the channels, and says real or fake for each patch. The objective is

    G* = arg min_G max_D  L_cGAN(G, D) + lambda * E[ ||b - G(a)||_1 ],   lambda = 100,

with D's loss halved (D learns slower than G, as in the paper) and the non-saturating G loss.
``model.adversarial=false`` trains the L1 term alone and ``model.l1_weight=0`` the cGAN alone:
the paper's Table 1 ablation. Data: a paired dataset (``edges2emoji``, ``edges2fashion``,
``emojione2noto`` or ``folder:A|B``) whose batches carry the input as ``"a"`` and the target as ``"x"``.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch

from gankit.data.views import load_pairs
from gankit.models.recipe import MAIN_STREAM, Phase, Step
from gankit.models.translation import TranslationRecipe, view_stream
from gankit.nn.patchgan import PatchDiscriminator
from gankit.nn.unet import UNetGenerator


@dataclass
class Pix2PixOptions:
    g_base: int = 64  # channels of the U-Net's first layer (doubled per level up to 8x)
    depth: int | None = None  # U-Net levels; None: log2(image side), a 1x1 bottleneck
    dropout: float = 0.5  # in the three innermost decoder layers: pix2pix's noise
    d_base: int = 64
    patch: str = "auto"  # pixel, 16, 34, 70, 142, 286, image, or auto (70/256 of the image side)
    l1_weight: float = 100.0  # lambda; 0 trains the cGAN alone
    adversarial: bool = True  # false trains the L1 term alone (no D)


class Pix2Pix(TranslationRecipe):
    name = "pix2pix"
    description = "pix2pix: U-Net G (dropout noise), PatchGAN D on (input, output), cGAN + 100 * L1; paired data"
    Options = Pix2PixOptions
    # The paper keeps the learning rate for the first half of the epochs and decays it linearly to 0.
    train_defaults = {"loss": "non-saturating", "batch_size": 16, "lr_decay": 0.5}

    @classmethod
    def streams(cls, cfg, options):
        return {MAIN_STREAM: view_stream(load_pairs, cfg.data)}

    def __init__(self, options: Pix2PixOptions, data, train):
        super().__init__(options, data, train)
        channels, size = self.square_images()
        self.nets["G"] = UNetGenerator(channels, channels, size, options.g_base, options.depth, options.dropout)
        if options.adversarial:
            self.nets["D"] = PatchDiscriminator(2 * channels, size, str(options.patch), options.d_base)
        elif options.l1_weight <= 0:
            raise ValueError("model.adversarial=false with model.l1_weight=0 leaves no loss to train")

    def size_multiple(self):
        return 1  # the U-Net pads what it cannot halve

    def phases(self):
        if not self.options.adversarial:
            return [Phase("G", trains="G")]
        return [Phase("D", trains="D", keeps_graph_of=("G",)), Phase("G", trains="G", draws=())]

    def loss(self, phase: str, step: Step):
        if phase == "D":
            a, b = step.batch["a"], step.batch["x"]
            fake = self.net("G")(a)
            step.shared["pair"] = (a, b, fake)
            D = self.net("D")
            real_out, fake_out = D(torch.cat([a, b], 1)), D(torch.cat([a, fake.detach()], 1))
            loss = 0.5 * self.adversarial_loss.d_loss(real_out, fake_out, self.train_config.real_label)
            return loss, {"d_loss": loss.detach(), "D(x)": self.adversarial_loss.score(real_out).mean().detach(),
                          "D(G(a))": self.adversarial_loss.score(fake_out).mean().detach()}
        if self.options.adversarial:
            a, b, fake = step.shared.pop("pair")
        else:
            a, b = step.batch["a"], step.batch["x"]
            fake = self.net("G")(a)
        l1 = (fake.float() - b.float()).abs().mean()
        loss = self.options.l1_weight * l1
        stats = {"l1": l1.detach()}
        if self.options.adversarial:
            g_adv = self.adversarial_loss.g_loss(self.net("D")(torch.cat([a, fake], 1)))
            loss = loss + g_adv
            stats["g_adv"] = g_adv.detach()
        stats["g_loss"] = loss.detach()
        return loss, stats
