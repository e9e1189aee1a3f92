"""Progressive GAN (Karras et al. 2018; the lectures' seed 003): G and D grow from 4x4 by doubling.

Training starts at the lowest resolution. Each higher one enters with a **fade-in**: for
``fade_kimg`` thousand real images its weight ``alpha`` rises linearly from 0 to 1 (the new block
blended with the 2x-resized path of the previous resolution, in G and in D: ``gankit.nn.progressive``),
then a **stabilise** phase of ``stable_kimg`` trains it at ``alpha = 1``. The real images are faded
the same way (their 2x-down-then-up version blended with them by ``alpha``), so D never sees
sharper reals than fakes. The data are served average-pooled to the stage's resolution, with a
batch size per resolution.

The official code's other choices: WGAN-GP (lambda 10) plus the drift term ``0.001 * D(x)^2``, Adam
(0, 0.99) at 1e-3 for both networks, the optimisers' moments restarted at each new resolution
(``reset_optimizers``), an EMA of G. Its feature maps (up to 512) are scaled down for a CPU by
default: ``min(max_width, width_base / resolution)``. 28x28 data grow 7 -> 14 -> 28; other sizes
must be a power of two times 4 (set ``data.size``, e.g. 32 or 64).

The stage and alpha are buffers computed from the number of real images seen, so a checkpoint
holds them and a run resumed mid-fade continues bit for bit.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import nn

from gankit.config import ConfigError
from gankit.models.recipe import MAIN_STREAM, DataSize, Phase, Progress, Recipe, StageChange, Step
from gankit.nn.progressive import (ProgressiveDiscriminator, ProgressiveGenerator, downsample, fade, fading,
                                   upsample)
from gankit.tricks import gradient_penalty


@dataclass
class ProGANOptions:
    latent_dim: int = 128  # the paper: 512
    # Feature maps at resolution r: min(max_width, width_base / r); the paper's 8192 and 512 cost
    # 100x more than a 2-core CPU trains in an hour, so 64 maps up to 16x16, 32 at 32x32, 16 at 64x64.
    width_base: int = 1024
    max_width: int = 64
    fade_kimg: float = 20.0  # thousands of real images per fade-in (the paper: 600 at 1024x1024)
    stable_kimg: float = 20.0  # thousands of real images per stabilise phase, and at the first resolution
    # Batch per process at each resolution ("4:64,8:64,..."); a resolution not listed takes train.batch_size.
    batch_sizes: str = "4:64,8:64,16:64,32:32,64:32,128:16,256:8"
    gradient_penalty: float = 10.0  # WGAN-GP's lambda, towards unit gradient norm
    drift: float = 0.001  # epsilon of the drift term E[D(x)^2], which keeps D's scores near 0
    reset_optimizers: bool = True  # restart Adam's moments at each new resolution (the official default)
    grow: bool = True  # False: the final G and D trained at the data's size from the start (the baseline growing must beat)
    group_size: int = 4  # minibatch standard deviation over groups of this many samples


def parse_batch_sizes(text: str) -> dict[int, int]:
    """``"4:64,8:32"`` -> {4: 64, 8: 32}, with an error that shows the format."""
    sizes = {}
    for item in filter(None, (part.strip() for part in text.split(","))):
        resolution, sep, batch = item.partition(":")
        if not sep or not resolution.strip().isdigit() or not batch.strip().isdigit() or int(batch) < 1:
            raise ConfigError(f"model.batch_sizes must list RESOLUTION:BATCH pairs, e.g. '4:64,8:64,16:32'; "
                              f"got {item!r} in {text!r}")
        sizes[int(resolution)] = int(batch)
    return sizes


class ProGAN(Recipe):
    name = "progan"
    description = ("Progressive GAN: G and D grow from 4x4 by doubling, each new resolution faded in (alpha 0 -> 1), "
                   "equalised learning rate, pixel norm, minibatch stddev, WGAN-GP + drift")
    Options = ProGANOptions
    train_defaults = {"lr_g": 1e-3, "lr_d": 1e-3, "betas": (0.0, 0.99), "ema_kimg": 10.0}
    grows = True  # the blocks of the resolutions still to come have no gradient yet

    def __init__(self, options: ProGANOptions, data, train):
        super().__init__(options, data, train)
        channels, size = self.square_images()
        if options.fade_kimg <= 0 or options.stable_kimg < 0:
            raise ConfigError(f"model.fade_kimg must be > 0 and model.stable_kimg >= 0 (thousands of images), "
                              f"got {options.fade_kimg} and {options.stable_kimg}")
        self.nets["G"] = ProgressiveGenerator(options.latent_dim, channels, size, options.width_base,
                                              options.max_width)
        self.nets["D"] = ProgressiveDiscriminator(channels, size, options.width_base, options.max_width,
                                                  options.group_size)
        self.resolutions = self.nets["G"].resolutions
        self.batch_sizes = parse_batch_sizes(options.batch_sizes)
        self.register_buffer("stage", torch.zeros((), dtype=torch.long))
        self.register_buffer("alpha", torch.ones(()))

    # --- the schedule: a pure function of the images seen -------------------------------------
    def schedule(self, images: int) -> tuple[int, float]:
        """(stage, alpha) after ``images`` real images: the first resolution for ``stable_kimg``, then
        each next one a fade of ``fade_kimg`` (alpha from 0 up to 1) and a stabilise phase of ``stable_kimg``."""
        fade_images, stable_images = 1000 * self.options.fade_kimg, 1000 * self.options.stable_kimg
        last = len(self.resolutions) - 1
        if not self.options.grow:
            return last, 1.0
        if images < stable_images or last == 0:
            return 0, 1.0
        stage, into = divmod(images - stable_images, fade_images + stable_images)
        stage = int(stage) + 1
        if stage > last:
            return last, 1.0
        return stage, min(into / fade_images, 1.0)

    def advance(self, progress: Progress) -> StageChange | None:
        stage, alpha = self.schedule(progress.images)
        self.alpha.fill_(alpha)
        if stage == int(self.stage):
            return None
        self.stage.fill_(stage)
        return StageChange(reset_optimizers=("G", "D") if self.options.reset_optimizers else ())

    @property
    def resolution(self) -> int:
        return self.resolutions[int(self.stage)]

    def data_schedule(self, progress: Progress) -> dict[str, DataSize]:
        return {MAIN_STREAM: DataSize(self.batch_sizes.get(self.resolution), self.resolution)}

    # --- training -----------------------------------------------------------------------------
    def phases(self) -> list[Phase]:
        return [Phase("D", trains="D"), Phase("G", trains="G", draws=())]

    def fade_reals(self, x: torch.Tensor) -> torch.Tensor:
        """Real images as G draws them at this alpha: blended with their 2x-down-then-up version."""
        if not fading(int(self.stage), self.alpha):
            return x
        return fade(upsample(downsample(x)), x, self.alpha)

    def synthesize(self, n: int, step: Step) -> torch.Tensor:
        """Fakes at the stage's resolution, from the trained generator (its DDP copy in training)."""
        z = self.draw_inputs(n, step.noise)["z"]
        return self.net("G")(z, int(self.stage), self.alpha)

    def critic(self, x: torch.Tensor) -> torch.Tensor:
        return self.net("D")(x, self.alpha)

    def loss(self, phase: str, step: Step):
        if phase == "G":
            score = self.critic(self.synthesize(step.batch_size, step))
            loss = -score.mean()
            return loss, {"g_loss": loss.detach()}
        real = self.fade_reals(step.batch["x"])
        fake = self.synthesize(len(real), step).detach()
        real_score, fake_score = self.critic(real), self.critic(fake)
        wasserstein = fake_score.mean() - real_score.mean()
        eps = step.rand(len(real), 1, 1, 1)
        penalty = gradient_penalty(self.critic, real, fake, eps)
        drift = real_score.float().square().mean()
        loss = wasserstein + self.options.gradient_penalty * penalty + self.options.drift * drift
        return loss, {"d_loss": loss.detach(), "wasserstein": -wasserstein.detach(), "gp": penalty.detach(),
                      "resolution": torch.tensor(float(self.resolution)), "alpha": self.alpha.clone()}

    # --- sampling -----------------------------------------------------------------------------
    def stages(self) -> tuple[str, ...]:
        return tuple(f"{r}x{r}" for r in self.resolutions[:int(self.stage) + 1])

    def stage_state(self, index: int) -> dict[str, float]:
        """An earlier resolution: its blocks up to there and that resolution's toRGB (trained while it
        was the newest), fully faded in."""
        return {"stage": index, "alpha": 1.0}

    def generate(self, inputs, net: nn.Module | None = None) -> torch.Tensor:
        """Samples at the checkpoint's stage and alpha, enlarged (nearest) to the data's size."""
        return self.enlarged((net or self.nets["G"])(inputs["z"], int(self.stage), self.alpha).clamp(-1.0, 1.0))
