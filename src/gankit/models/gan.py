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

from gankit.config import ConfigError
from gankit.models.inputs import Input
from gankit.noise import Noise
from gankit.models.recipe import Phase, Step
from gankit.models.train_loss import TrainLossRecipe
from gankit.models.schedules import linear_decay
from gankit.nn.mlp import MLPDiscriminator, MLPGenerator
from gankit.tricks import (HistoricalAverage, StabilityOptions, VirtualBatchNormGenerator, add_instance_noise,
                           add_minibatch_discrimination, apply_spectral_norm, feature_matching_loss,
                           gradient_penalty, pack, packed_shape, r1_penalty, unrolled_critic)
from gankit.tricks.mixture_latent import mixture_latent


class AdversarialRecipe(TrainLossRecipe):
    """Algorithm 1 for any unconditional G/D pair: ``nets["G"]`` maps z to samples, ``nets["D"]`` to logits.

    With k = 1 one generator pass serves both phases: the D phase sees it detached, the G phase
    backpropagates through it (against the just-updated D), so G runs forward once per iteration.

    The stability tricks of :mod:`gankit.tricks` apply to every family built on this class whose
    ``Options`` derive from :class:`~gankit.tricks.StabilityOptions`. Such a family builds its
    discriminator for inputs of ``self.discriminator_shape`` (PacGAN packs samples) and calls
    ``self.stabilise()`` once its networks exist; the losses below apply the rest.
    """

    augmentations = ("diffaugment", "ada")

    def __init__(self, options, data, train):
        super().__init__(options, data, train)
        self.tricks = options if isinstance(options, StabilityOptions) else StabilityOptions()
        self.stabilised = False
        check_tricks(self.tricks, train)

    @property
    def discriminator_shape(self) -> tuple[int, ...]:
        """What one input of D looks like: a sample, or ``pack`` samples side by side (PacGAN)."""
        return packed_shape(self.data_shape, self.tricks.pack)

    def stabilise(self) -> None:
        """Apply the tricks that change the networks or keep state; call it after building them."""
        t = self.tricks
        if t.latent_components:  # first: the VBN reference below is drawn through them
            self.register_buffer("latent_centres", torch.randn(t.latent_components, self.latent_dim))
        if t.minibatch_discrimination:
            add_minibatch_discrimination(self.nets["D"], self.discriminator_shape, t.minibatch_discrimination)
        if t.spectral_norm:
            apply_spectral_norm(self.nets["D"])
        if t.virtual_batchnorm:  # a fixed reference batch, drawn from its own seeded stream
            reference = self.draw_inputs(self.train_config.batch_size, Noise.seeded(self.train_config.seed + 2))
            self.nets["G"] = VirtualBatchNormGenerator(self.nets["G"], self.latent(reference))
        if t.historical_averaging:
            self.history = nn.ModuleDict({name: HistoricalAverage(self.nets[name]) for name in ("D", "G")})
        self.stabilised = True

    def phases(self) -> list[Phase]:
        if self.tricks.active() and not self.stabilised:
            raise ConfigError(f"model {self.name!r} does not apply the stability tricks "
                              f"({', '.join(self.tricks.active())}): its __init__ must call self.stabilise()")
        k = self.train_config.k
        shared = ("G",) if k == 1 else ()
        return [Phase("D", trains="D", repeats=k, keeps_graph_of=shared),
                Phase("G", trains="G", draws=())]

    def loss(self, phase: str, step: Step):
        adversarial = self.adversarial_loss
        D = self.net("D")
        if phase == "D":
            real = step.batch["x"]
            inputs = self.draw_inputs(len(real), step.noise)
            fake = self.generate(inputs, self.net("G"))
            if self.train_config.k == 1:
                step.shared["fake"] = fake, inputs
            real_in, fake_in = self.d_input(real, step), self.d_input(fake.detach(), step)
            real_out, fake_out = self.discriminate(D, real_in, fake_in)
            loss = adversarial.d_loss(real_out, fake_out, self.train_config.real_label)
            stats = {"d_loss": loss.detach(),
                     "D(x)": adversarial.score(real_out).mean().detach(),
                     "D(G(z))": adversarial.score(fake_out).mean().detach(),
                     **self.observe_real(real_out, adversarial.boundary)}
            return loss + self.d_penalties(D, real_in, fake_in, step, stats), stats
        shared = step.shared.pop("fake", None)
        if shared is None:
            inputs = self.draw_inputs(step.batch_size, step.noise)
            shared = self.generate(inputs, self.net("G")), inputs
        fake, inputs = shared
        if self.tricks.feature_matching:
            loss = self.feature_matching(fake, step)
        else:
            critic = self.unrolled(step) if self.tricks.unrolled_steps else D
            loss = adversarial.g_loss(critic(self.d_input(fake, step)))
        stats = {"g_loss": loss.detach()}
        loss = self.with_mode_seeking(loss, stats, fake, self.latent(inputs))  # independent z pairs here
        if self.tricks.historical_averaging:
            average = self.history["G"].penalty(self.nets["G"])
            stats["g_history"] = average.detach()
            loss = loss + self.tricks.historical_averaging * average
        return loss, stats

    # --- the tricks' parts of the losses -----------------------------------------------------
    def d_input(self, x: torch.Tensor, step: Step) -> torch.Tensor:
        """A batch as D sees it: augmented (``train.augment``), with instance noise (decaying to 0 by
        ``model.instance_noise_until`` of the budget) and packed (PacGAN)."""
        std = self.tricks.instance_noise * linear_decay(step.progress, end=self.tricks.instance_noise_until)
        return pack(add_instance_noise(self.augmented(x, step.noise), std, step.randn), self.tricks.pack)

    def d_penalties(self, D, real_in, fake_in, step: Step, stats: dict) -> torch.Tensor | float:
        """The weighted penalties added to D's loss (WGAN-GP, R1, historical averaging); logs each."""
        t, total = self.tricks, 0.0
        if t.gradient_penalty:
            eps = step.rand(len(real_in), *(1,) * (real_in.ndim - 1))
            gp = gradient_penalty(D, real_in, fake_in, eps)
            stats["gp"] = gp.detach()
            total = total + t.gradient_penalty * gp
        if t.r1:
            r1 = r1_penalty(D, real_in)
            stats["r1"] = r1.detach()
            total = total + t.r1 / 2 * r1
        if t.historical_averaging:
            average = self.history["D"].penalty(self.nets["D"])
            stats["d_history"] = average.detach()
            total = total + t.historical_averaging * average
        return total

    def feature_matching(self, fake: torch.Tensor, step: Step) -> torch.Tensor:
        """G's feature-matching loss against D's body (``D.features``) on a fresh real batch."""
        features = getattr(self.nets["D"], "features", None)
        if features is None:
            raise ConfigError(f"feature matching reads D's features, and {type(self.nets['D']).__name__} "
                              "has no `features`")
        real = self.d_input(step.next_batch()["x"], step)
        with torch.no_grad():
            real_features = features(real)
        return feature_matching_loss(real_features, features(self.d_input(fake, step)))

    def unrolled(self, step: Step):
        """D after ``unrolled_steps`` differentiable updates on fresh real and generated batches."""
        adversarial, t = self.adversarial_loss, self.train_config

        def d_loss(critic, i):
            real = self.d_input(step.next_batch()["x"], step)
            fake = self.generate(self.draw_inputs(step.batch_size, step.noise), self.net("G"))
            return adversarial.d_loss(critic(real), critic(self.d_input(fake, step)), t.real_label)

        return unrolled_critic(self.nets["D"], d_loss, self.tricks.unrolled_steps, self.tricks.unrolled_lr)

    def discriminate(self, D, real, fake):
        """D on real and fake batches: one call on both when D has no batch statistics.

        Bigger matrix products run faster; BatchNorm (or minibatch discrimination) would mix the
        two batches, so a discriminator with it sees them separately, as Radford et al. train it.
        """
        if self.batch_dependent_d:
            return D(real), D(fake)
        return D(torch.cat([real, fake])).split([len(real), len(fake)])

    @functools.cached_property
    def batch_dependent_d(self) -> bool:
        return any(isinstance(m, nn.modules.batchnorm._BatchNorm) or getattr(m, "batch_dependent", False)
                   for m in self.nets["D"].modules())

    def inputs(self):
        specs = super().inputs()
        if self.tricks.latent_components:
            specs += (Input("component", (), "categorical", classes=self.tricks.latent_components),)
        return specs

    def latent(self, inputs: dict[str, torch.Tensor]) -> torch.Tensor:
        """What G is fed: ``z``, or the mixture latent its component and ``z`` make."""
        if self.tricks.latent_components:
            return mixture_latent(self.latent_centres, inputs["component"], inputs["z"])
        return inputs["z"]

    def generate(self, inputs, net=None):
        return (net or self.nets["G"])(self.latent(inputs))


def check_tricks(t: StabilityOptions, train) -> None:
    """Refuse trick settings that cannot work, in one message."""
    problems = []
    if t.pack < 1:
        problems.append(f"model.pack must be at least 1, got {t.pack}")
    elif train.batch_size % t.pack:
        problems.append(f"model.pack={t.pack} packs samples into groups of {t.pack}: train.batch_size "
                        f"({train.batch_size}) must be divisible by it")
    for name in ("minibatch_discrimination", "unrolled_steps", "latent_components"):
        if getattr(t, name) < 0:
            problems.append(f"model.{name} must be 0 (off) or positive, got {getattr(t, name)}")
    for name in ("historical_averaging", "instance_noise", "gradient_penalty", "r1", "unrolled_lr"):
        if getattr(t, name) < 0:
            problems.append(f"model.{name} must not be negative, got {getattr(t, name)}")
    if not 0 < t.instance_noise_until <= 1:
        problems.append(f"model.instance_noise_until is the fraction of the budget at which the instance noise "
                        f"has decayed to 0: it must lie in (0, 1], got {t.instance_noise_until}")
    if t.feature_matching and t.unrolled_steps:
        problems.append("model.feature_matching replaces G's adversarial loss, which model.unrolled_steps "
                        "unrolls: choose one")
    if problems:
        raise ConfigError("; ".join(problems))


@dataclass
class GANOptions(StabilityOptions):
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
        self.nets["D"] = MLPDiscriminator(self.discriminator_shape, options.d_widths, options.slope, options.dropout)
        self.stabilise()
