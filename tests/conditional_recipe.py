"""A small conditional image GAN for the report, serve and browser tests (no conditional family is
needed in the package for them): an MLP generator with a label embedding and an MLP discriminator
with an auxiliary class head (as ACGAN), on scikit-learn's 8x8 digits. The class head makes the
label visible in a few thousand steps, so a test can check that class c looks like c."""

from __future__ import annotations

from dataclasses import dataclass

import torch
import torch.nn.functional as F
from torch import nn

from gankit.config import RunConfig
from gankit.losses import get_loss
from gankit.models import Input, Phase, Recipe


@dataclass
class TinyConditionalOptions:
    latent_dim: int = 16
    width: int = 128


class TinyConditional(Recipe):
    name = "test-tiny-cgan"
    description = "test: conditional MLP GAN on small images (label embedding in G, class head on D)"
    Options = TinyConditionalOptions

    def __init__(self, options, data, train):
        super().__init__(options, data, train)
        size, k, w = int(torch.tensor(self.data_shape).prod()), self.num_classes, options.width
        self.nets["G"] = nn.ModuleDict({
            "embed": nn.Embedding(k, 16),
            "template": nn.Embedding(k, size),  # a per-class image the body adds detail to
            "body": nn.Sequential(nn.Linear(options.latent_dim + 16, w), nn.ReLU(), nn.Linear(w, w), nn.ReLU(),
                                  nn.Linear(w, size))})
        self.nets["D"] = nn.Sequential(nn.Linear(size, w), nn.LeakyReLU(0.2), nn.Linear(w, w), nn.LeakyReLU(0.2),
                                       nn.Linear(w, 1 + k))

    def inputs(self):
        return (Input("z", (self.latent_dim,)), Input("y", distribution="categorical", classes=self.num_classes))

    def generate(self, inputs, net=None):
        g = net or self.nets["G"]
        x = torch.tanh(g["template"](inputs["y"]) + g["body"](torch.cat([inputs["z"], g["embed"](inputs["y"])], 1)))
        return x.reshape(len(x), *self.data_shape)

    def discriminate(self, x, y):
        """D's real/fake logit and the cross-entropy of its class head against ``y``."""
        out = self.net("D")(x.flatten(1))
        return out[:, 0], F.cross_entropy(out[:, 1:], y)

    def phases(self):
        return [Phase("D", trains="D"), Phase("G", trains="G", draws=())]

    def loss(self, phase, step):
        adversarial = get_loss(self.train_config.loss)
        if phase == "D":
            real, y = step.batch["x"], step.batch["y"]
            fake = self.generate(self.draw_inputs(len(real), step.noise, y=y), self.net("G")).detach()
            (real_out, real_ce), (fake_out, _) = self.discriminate(real, y), self.discriminate(fake, y)
            loss = adversarial.d_loss(real_out, fake_out) + real_ce
            return loss, {"d_loss": loss.detach(), "D(x)": adversarial.score(real_out).mean().detach(),
                          "D(G(z))": adversarial.score(fake_out).mean().detach()}
        inputs = self.draw_inputs(self.train_config.batch_size, step.noise)
        fake_out, fake_ce = self.discriminate(self.generate(inputs, self.net("G")), inputs["y"])
        loss = adversarial.g_loss(fake_out) + fake_ce
        return loss, {"g_loss": loss.detach()}


def config(steps: int, data: str = "digits") -> RunConfig:
    cfg = RunConfig(model=TinyConditional.name)
    cfg.data.name = data
    t = cfg.train
    t.steps, t.batch_size, t.lr_g, t.lr_d = steps, 64, 5e-4, 5e-4
    t.log_every, t.sample_every, t.checkpoint_every = max(1, steps // 10), max(1, steps // 4), steps
    # The browser test reads this model's classes on fixed seeds: the same arithmetic on every CPU
    # (precision "auto" would train in bf16 on some machines and in fp32 on others).
    t.precision = "fp32"
    return cfg
