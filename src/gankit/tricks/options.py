"""The stability tricks as ``model.*`` options, and the catalogue ``gankit list`` prints.

A family opts in by deriving its ``Options`` dataclass from :class:`StabilityOptions` and building
on :class:`~gankit.models.gan.AdversarialRecipe` (``gan``, ``dcgan``, ``lsgan`` do). Every option
is off by default, so a family's behaviour only changes when a trick is asked for.
"""

from __future__ import annotations

from dataclasses import dataclass, fields


# Options that tune another trick and do nothing alone (not counted by ``StabilityOptions.active``).
SETTINGS_OF_TRICKS = ("unrolled_lr", "instance_noise_until")


@dataclass
class StabilityOptions:
    feature_matching: bool = False  # G matches D's mean features on real data instead of fooling D
    minibatch_discrimination: int = 0  # kernels B of the minibatch-discrimination layer; 0 = off
    historical_averaging: float = 0.0  # weight of ||theta - mean of past theta||^2 on D and G
    instance_noise: float = 0.0  # std of Gaussian noise on D's inputs at the start, decayed to 0
    instance_noise_until: float = 1.0  # the fraction of the budget at which that noise reaches 0
    virtual_batchnorm: bool = False  # G's BatchNorm layers use a fixed reference batch
    unrolled_steps: int = 0  # k: G's loss sees D after k differentiable updates
    unrolled_lr: float = 0.01  # step size of those (plain gradient) updates
    pack: int = 1  # PacGAN's m: D judges m samples at once
    gradient_penalty: float = 0.0  # WGAN-GP's lambda: (||grad D(x_hat)|| - 1)^2 on interpolates
    r1: float = 0.0  # gamma of the R1 penalty gamma/2 ||grad D(x)||^2 on real data
    spectral_norm: bool = False  # every linear and conv layer of D spectrally normalised
    mode_seeking: float = 0.0  # lambda of 1 / (|G(z1) - G(z2)| / |z1 - z2|) in G's loss; 0 = off
    latent_components: int = 0  # K > 0: z from a mixture of K narrow Gaussians at fixed random centres

    def active(self) -> list[str]:
        """The names of the options that differ from their defaults (the tricks that are on)."""
        default = StabilityOptions()
        return [f.name for f in fields(StabilityOptions)
                if f.name not in SETTINGS_OF_TRICKS and getattr(self, f.name) != getattr(default, f.name)]



# (how to switch it on, what it does, where it comes from) for `gankit list`.
TRICKS: list[tuple[str, str, str]] = [
    ("model.feature_matching=true", "G matches the mean of D's last hidden features on real data",
     "Salimans et al. 2016"),
    ("model.minibatch_discrimination=B", "D sees how close each sample is to the rest of its batch (B kernels)",
     "Salimans et al. 2016"),
    ("model.historical_averaging=W", "penalty W*||theta - average of past theta||^2 on D and G",
     "Salimans et al. 2016"),
    ("train.real_label=0.9", "one-sided label smoothing: D's target for real data below 1",
     "Salimans et al. 2016"),
    ("model.virtual_batchnorm=true", "G's BatchNorm normalises with a fixed reference batch (+ the example)",
     "Salimans et al. 2016"),
    ("model.instance_noise=S", "Gaussian noise of std S on everything D sees, decayed linearly to 0 by the "
     "fraction model.instance_noise_until of the budget (default 1: its end)",
     "Sonderby et al. 2017; Arjovsky & Bottou 2017"),
    ("model.unrolled_steps=K", "G's gradient through K differentiable D updates on fresh batches",
     "Metz et al. 2017"),
    ("model.pack=M", "PacGAN: D judges M samples packed together (M x the channels)", "Lin et al. 2018"),
    ("model.gradient_penalty=L", "WGAN-GP: L*(||grad_x D|| - 1)^2 on real/fake interpolates (fp32)",
     "Gulrajani et al. 2017"),
    ("model.r1=G", "R1: G/2*||grad_x D(x)||^2 on real data (fp32, also under bf16)", "Mescheder et al. 2018"),
    ("model.spectral_norm=true", "every linear/conv weight of D divided by its largest singular value",
     "Miyato et al. 2018"),
    ("model.mode_seeking=L", "two samples (of one class, for cgan/acgan) must differ as their noises do "
     "(L x 1/ratio in G's loss)", "Mao et al. 2019"),
    ("model.latent_components=K", "z from a mixture of K narrow Gaussians (fixed random centres): G can "
     "draw modes apart without samples strung between them", "Gurumurthy et al. 2017; Ben-Yosef & Weinshall 2018"),
    ("train.loss=hinge", "hinge loss for D and G (a registered loss)", "Lim & Ye 2017; Miyato et al. 2018"),
    ("train.lr_d=4e-4", "TTUR: D and G on their own learning rates (train.lr_g, train.lr_d)",
     "Heusel et al. 2017"),
    ("train.lr_decay=0.5", "learning rates decay linearly to 0 over the budget's last half: the last iterates "
     "settle", "as in CycleGAN (Zhu et al. 2017)"),
]
