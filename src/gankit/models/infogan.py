"""InfoGAN (Chen et al. 2016): a GAN whose generator input carries codes it must keep readable.

The latent is noise z plus codes c: a categorical code "c1" (10 values) and continuous codes "c2",
"c3" drawn from U(-1, 1), declared as generator inputs so that ``gankit sample --code c1=3`` and
``gankit traverse --code c2`` fix or sweep them. A head Q on the discriminator's body reads the
codes back from a generated image, and both G and Q maximise the variational lower bound on the
mutual information I(c; G(z, c)):

    L_I(G, Q) = E_{c ~ p(c), x ~ G(z, c)} [log Q(c | x)] + H(c)  <=  I(c; G(z, c))

    min_{G, Q} max_D  V(D, G) - lambda L_I(G, Q)

with Q(c1 | x) a softmax over the 10 values (lambda_cat = 1) and Q(c_j | x) a Gaussian with a
predicted mean and, by default, a predicted log standard deviation (the paper's factored
Gaussian; ``model.learn_std=false`` fixes it at 1). As in the authors' code, Q is a head of the
discriminator network: the D phase steps D's body, its real/fake head and Q on
``d_loss + lambda * (-log Q(c | G(z, c)))`` on the detached fakes, and the G phase steps G on
``g_loss + lambda * (-log Q(c | G(z, c)))`` through the frozen D and Q. So Q is trained with D's
body, and G receives the information term's gradient, with one generator pass per iteration.

Nothing in L_I says which partition of the data the ten values of c1 should take: reading c1
back is just as easy when two values draw 4s and 9s and one draws 1s slanted left and another 1s
slanted right, and on MNIST-5k that is what most runs settle into within their first thousand steps
(code accuracy 0.72-0.84). ``model.lambda_invariance`` adds a term that rules such partitions out:
Q must also read c1 from a copy of each generated image rotated by up to 15 degrees, scaled by up to
10 % and shifted by up to 10 % of its size, i.e. c1 may only encode what those transformations keep
-- the digit, not its slant, width or place. Both Q (D phase) and G (G phase) minimise
``lambda_invariance * -log Q(c1 | T(G(z, c)))``; the continuous codes keep reading untransformed
images, so they remain free to take the slant and the width. The idea is Elastic-InfoGAN's (Ojha et
al. 2020: the categorical code made invariant to identity-preserving transformations, there of real
images through a contrastive loss); this simpler form costs one more pass of D per phase. The
``infogan-mnist`` preset sets it to 1.

Networks (the paper's MNIST architecture, Table 1 of its appendix): D conv 64 (4x4, stride 2,
LeakyReLU 0.1), conv 128 (BatchNorm), FC 1024 (BatchNorm) -> FC 1 for D and FC 128 (BatchNorm,
LeakyReLU) -> the code parameters for Q; G FC 1024 -> FC 7x7x128 (BatchNorm, ReLU) -> deconv 64 ->
deconv to the image, Tanh. The learning rates are the paper's (D 2e-4, G 1e-3).

With ``model.categories=0 model.continuous=0`` there are no codes and no Q head: a plain GAN with
these networks and learning rates. In a few CPU minutes it beats gankit's DCGAN by far (MNIST-5k,
4 minutes on 2 cores: FID 3.1-3.7 against 19.4; Fashion-MNIST, 10 minutes: 2.0 against 8.5;
benchmarks/RESULTS.md). ``dcgan`` with ``model.fc=1024`` builds nearly the same networks (LeakyReLU
0.2, its latent size); with ``model.fc=512`` they train faster and better still (the ``demo`` and
``dcgan-fc`` presets).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import torch
import torch.nn.functional as F
from torch import nn

from gankit.augment.ada import rotate_matrix, scale_matrix, translate_matrix, warp
from gankit.models.inputs import Input
from gankit.noise import Noise
from gankit.models.recipe import GRID_COLUMNS, Phase, Step
from gankit.models.train_loss import TrainLossRecipe
from gankit.nn.dcgan import DCGANGenerator, discriminator_body, fully_connected, init_weights

HALF_LOG_2PI = 0.5 * math.log(2 * math.pi)


def categorical_mi_bound(logits: torch.Tensor, codes: torch.Tensor) -> torch.Tensor:
    """E[log Q(c | x)] + H(c) for c uniform over K values: log K minus the cross-entropy (nats).

    0 when Q knows nothing (uniform predictions), log K when it reads every code back.
    """
    return math.log(logits.shape[1]) - F.cross_entropy(logits.float(), codes)


def gaussian_log_likelihood(codes: torch.Tensor, mean: torch.Tensor, log_std: torch.Tensor) -> torch.Tensor:
    """log N(codes; mean, exp(log_std)^2), summed over the code dimensions, averaged over the batch."""
    z = (codes - mean.float()) * torch.exp(-log_std.float())
    return (-0.5 * z.pow(2) - log_std.float() - HALF_LOG_2PI).sum(1).mean()


def uniform_entropy(low: float, high: float, dims: int) -> float:
    """H(c) of c ~ U(low, high)^dims in nats."""
    return dims * math.log(high - low)


def small_transform(x: torch.Tensor, noise: Noise, degrees: float = 15.0, scale: float = 0.1,
                    shift: float = 0.1) -> torch.Tensor:
    """Each image rotated by up to ``degrees``, scaled by 1 +- ``scale``, shifted by up to ``shift`` of its size."""
    n, device = len(x), x.device
    angle = (noise.rand(n).to(device) * 2 - 1) * math.radians(degrees)
    zoom = 1 + (noise.rand(n).to(device) * 2 - 1) * scale
    t = (noise.rand(n, 2).to(device) * 2 - 1) * shift * 2  # affine_grid's coordinates span 2 per side
    # The matrix maps output to input coordinates: the image is magnified by ``zoom``, then shifted by t.
    m = (translate_matrix(t[:, 0], t[:, 1], n, device) @ scale_matrix(1 / zoom, 1 / zoom, n, device)
         @ rotate_matrix(angle, n, device))
    return warp(x, m, padding_mode="border")  # border: the background stays background


class InfoGANDiscriminator(nn.Module):
    """images -> (real/fake logits (N,), Q's outputs (N, K + continuous means [+ log stds])) from one body."""

    def __init__(self, channels: int, size: int, q_outputs: int, fc: int = 1024, base: int = 64):
        super().__init__()
        self.body, _ = discriminator_body(channels, size, base, fc, slope=0.1)
        self.d_head = nn.Linear(fc, 1)
        # Without codes there is nothing for Q to read: no head (the networks alone are a plain GAN).
        self.q_head = nn.Sequential(*fully_connected(fc, 128, nn.LeakyReLU(0.1, True)),
                                    nn.Linear(128, q_outputs)) if q_outputs else None
        init_weights(self)

    def forward(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        h = self.body(x)
        q = self.q_head(h) if self.q_head is not None else h.new_zeros(len(h), 0)
        return self.d_head(h).squeeze(1), q


@dataclass
class InfoGANOptions:
    latent_dim: int = 62  # incompressible noise z (the paper's MNIST setting)
    categories: int = 10  # values of the categorical code c1 (0 for none)
    continuous: int = 2  # continuous codes c2, c3, ... ~ U(-1, 1)
    lambda_cat: float = 1.0
    lambda_cont: float = 0.1
    learn_std: bool = True  # Q predicts each continuous code's standard deviation (else fixed at 1)
    fc: int = 1024  # width of the fully connected layers of D and G
    base: int = 64  # D's first conv channels (G's last), doubled at each coarser scale
    lambda_invariance: float = 0.0  # weight of Q reading c1 from a slightly rotated, scaled, shifted copy of each fake


class InfoGAN(TrainLossRecipe):
    name = "infogan"
    description = ("InfoGAN (Chen et al. 2016): z + categorical code c1 + continuous codes c2, c3; a Q head "
                   "on D's body maximises the mutual-information bound")
    Options = InfoGANOptions
    train_defaults = {"lr_g": 1e-3, "lr_d": 2e-4}

    def __init__(self, options: InfoGANOptions, data, train):
        super().__init__(options, data, train)
        if options.categories < 0 or options.continuous < 0 or options.categories == 1:
            raise ValueError(f"infogan: model.categories must be 0 or at least 2 and model.continuous at least 0, "
                             f"got {options.categories} and {options.continuous}")
        channels, size = self.square_images()
        in_features = options.latent_dim + options.categories + options.continuous
        q_outputs = options.categories + (2 if options.learn_std else 1) * options.continuous
        self.nets["G"] = DCGANGenerator(in_features, channels, size, options.base, options.fc)
        self.nets["D"] = InfoGANDiscriminator(channels, size, q_outputs, options.fc, options.base)

    def inputs(self):
        o = self.options
        specs = [Input("z", (o.latent_dim,))]
        if o.categories:
            specs.append(Input("c1", (), "categorical", classes=o.categories))
        first = 2 if o.categories else 1
        specs += [Input(f"c{first + j}", (), "uniform", low=-1.0, high=1.0) for j in range(o.continuous)]
        return tuple(specs)

    @property
    def continuous_names(self) -> list[str]:
        return [spec.name for spec in self.inputs() if spec.distribution == "uniform"]

    def grid_inputs(self, noise):
        """One row per value of c1 (8 columns of noise, shared by the rows), continuous codes at 0."""
        if not self.options.categories:
            return super().grid_inputs(noise)
        k = self.options.categories
        z = noise.randn(GRID_COLUMNS, self.latent_dim).repeat(k, 1)
        given = {"z": z, "c1": torch.arange(k).repeat_interleave(GRID_COLUMNS)}
        given.update({name: torch.zeros(len(z)) for name in self.continuous_names})
        return self.draw_inputs(len(z), noise, **given), GRID_COLUMNS

    def generator_input(self, inputs: dict[str, torch.Tensor]) -> torch.Tensor:
        parts = [inputs["z"]]
        if self.options.categories:
            parts.append(F.one_hot(inputs["c1"], self.options.categories).to(inputs["z"].dtype))
        parts += [inputs[name][:, None].to(inputs["z"].dtype) for name in self.continuous_names]
        return torch.cat(parts, 1)

    def generate(self, inputs, net=None):
        return (net or self.nets["G"])(self.generator_input(inputs))

    def phases(self):
        return [Phase("D", trains="D", keeps_graph_of=("G",)), Phase("G", trains="G", draws=())]

    def information(self, q: torch.Tensor, inputs: dict[str, torch.Tensor]) -> tuple[torch.Tensor, dict]:
        """(lambda-weighted -log Q(c|x), the lower bounds on I(c_cat; x) and I(c_cont; x) in nats)."""
        o, k = self.options, self.options.categories
        loss = q.new_zeros((), dtype=torch.float32)
        stats = {}
        if k:
            mi_cat = categorical_mi_bound(q[:, :k], inputs["c1"])
            loss = loss - o.lambda_cat * mi_cat
            stats["mi_cat"] = mi_cat.detach()
        if o.continuous:
            codes = torch.stack([inputs[name] for name in self.continuous_names], 1).float()
            mean, log_std = q[:, k:k + o.continuous], q[:, k + o.continuous:]
            if not o.learn_std:
                log_std = torch.zeros_like(mean)
            mi_cont = gaussian_log_likelihood(codes, mean, log_std) + uniform_entropy(-1.0, 1.0, o.continuous)
            loss = loss - o.lambda_cont * mi_cont
            stats["mi_cont"] = mi_cont.detach()
        return loss, stats

    def invariance_loss(self, D, fake: torch.Tensor, inputs: dict[str, torch.Tensor], noise: Noise) -> torch.Tensor:
        """-log Q(c1 | T(G(z, c))) for a small random similarity transform T per image, weighted."""
        o = self.options
        if not (o.lambda_invariance and o.categories):
            return fake.new_zeros((), dtype=torch.float32)
        _, q = D(small_transform(fake, noise))
        return o.lambda_invariance * F.cross_entropy(q[:, :o.categories].float(), inputs["c1"])

    def loss(self, phase: str, step: Step):
        adversarial = self.adversarial_loss
        D = self.net("D")
        if phase == "D":
            real = step.batch["x"]
            inputs = self.draw_inputs(len(real), step.noise)
            fake = self.generate(inputs, self.net("G"))
            step.shared.update(fake=fake, inputs=inputs)
            # BatchNorm in D: real and generated batches go through it separately (Radford et al.).
            real_out, _ = D(real)
            fake_out, q = D(fake.detach())
            d_loss = adversarial.d_loss(real_out, fake_out, self.train_config.real_label)
            info_loss, stats = self.information(q, inputs)
            info_loss = info_loss + self.invariance_loss(D, fake.detach(), inputs, step.noise)
            return d_loss + info_loss, {"d_loss": d_loss.detach(), **stats,
                                        "D(x)": adversarial.score(real_out).mean().detach(),
                                        "D(G(z))": adversarial.score(fake_out).mean().detach()}
        fake, inputs = step.shared.pop("fake"), step.shared.pop("inputs")
        fake_out, q = D(fake)
        g_loss = adversarial.g_loss(fake_out)
        info_loss, _ = self.information(q, inputs)
        info_loss = info_loss + self.invariance_loss(D, fake, inputs, step.noise)
        return g_loss + info_loss, {"g_loss": g_loss.detach()}
