"""StyleGAN2 (Karras et al. 2020; the lectures' seed 000 ends with it), trained as NVlabs'
stylegan2-ada-pytorch trains it, in plain PyTorch (networks: :mod:`gankit.nn.stylegan2`).

An iteration has up to four phases, each with its own optimiser step:

* ``D``: the logistic loss on real and generated images (``train.loss``, non-saturating by default);
* ``R1`` (every ``r1_every`` = 16 iterations, its loss times 16): ``gamma / 2 * ||grad_x D(x)||^2``
  on the same real batch, "lazy" R1 regularisation;
* ``G``: the generator's loss, through the images the D phase made (one G forward per iteration);
* ``PL`` (every ``pl_every`` = 4, times 4): path-length regularisation, ``pl_weight * (||J_w^T y|| -
  a)^2`` on half a batch, ``a`` a running mean of the lengths (decay ``pl_decay``) kept in the
  buffer ``pl_mean``.

With lazy regularisation the official code corrects Adam for the extra steps: an optimiser that also
steps every ``k`` iterations for a regulariser runs at ``lr * k / (k + 1)`` with betas raised to
``k / (k + 1)`` (:meth:`StyleGAN2.optimizers`). Style-mixing regularisation: with probability
``style_mixing`` a generated image takes a second latent's w from a random layer on. ``w_avg``
(truncation's centre, in G's mapping network) follows the G phase's latents. Training noise maps
come from the run's seeded stream; samples use the fixed maps (the official ``noise_mode='const'``),
so a sample is a function of its inputs and the generator exports.

Defaults fit 2 CPU cores at 32-64 px (widths as :mod:`gankit.models.progan`'s, 2 mapping layers,
R1 gamma from the official ``auto`` heuristic); the ``stylegan2-paper`` preset is the paper's
configuration.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import torch
from torch import nn

from gankit.config import ConfigError
from gankit.models.inputs import Input
from gankit.models.recipe import OptimizerSpec, Phase, Step
from gankit.models.train_loss import TrainLossRecipe
from gankit.nn.stylegan2 import ResidualDiscriminator, StyleGenerator
from gankit.tricks import path_lengths, r1_penalty


@dataclass
class StyleGAN2Options:
    latent_dim: int = 128  # z (the paper: 512)
    w_dim: int = 128  # w (the paper: 512)
    mapping_layers: int = 2  # the official 'auto' and 'cifar' configurations: 2; the paper: 8
    # Feature maps at resolution r: min(channel_base / r, channel_max) in G and D; the paper's 32768
    # and 512 cost ~250x more per image than these (64 maps up to 16x16, 32 at 32x32, 16 at 64x64).
    channel_base: int = 1024
    channel_max: int = 64
    conditional: bool = False  # labelled data: the class enters the mapping network and D's projection
    # R1's gamma; None: the official 'auto' heuristic 0.0002 * size^2 / batch (0.0064 at 32x32, batch 32).
    r1_gamma: float | None = None
    r1_every: int = 16
    pl_weight: float = 2.0  # 0 disables path-length regularisation
    pl_every: int = 4
    pl_decay: float = 0.01
    pl_batch_shrink: int = 2  # the PL phase runs on batch / this many samples
    style_mixing: float = 0.9  # probability that a generated image mixes two latents
    group_size: int = 4  # minibatch standard deviation over groups of this many samples


def lazy_correction(every: int) -> float:
    """The exponent ``every / (every + 1)`` for Adam's rate and betas when a regulariser adds a step
    every ``every`` iterations (Karras et al. 2020, appendix B; the official ``mb_ratio``)."""
    return every / (every + 1)


class StyleGAN2(TrainLossRecipe):
    name = "stylegan2"
    description = ("StyleGAN2: mapping network, modulated/demodulated convolutions, noise, skip G, residual D, "
                   "lazy R1, path-length and style-mixing regularisation, truncation in W")
    Options = StyleGAN2Options
    train_defaults = {"lr_g": 0.0025, "lr_d": 0.0025, "betas": (0.0, 0.99), "batch_size": 32,
                      "ema_kimg": 10.0, "ema_rampup": 0.05}
    augmentations = ("diffaugment", "ada")

    def __init__(self, options: StyleGAN2Options, data, train):
        super().__init__(options, data, train)
        channels, size = self.square_images()
        if options.conditional and not self.num_classes:
            raise ConfigError("model.conditional=true needs labelled data (e.g. --data fashion-mnist); this dataset "
                              "has no labels")
        for key in ("r1_every", "pl_every", "pl_batch_shrink"):
            if getattr(options, key) < 1:
                raise ConfigError(f"model.{key} must be at least 1, got {getattr(options, key)}")
        if not 0 <= options.style_mixing <= 1:
            raise ConfigError(f"model.style_mixing is a probability in [0, 1], got {options.style_mixing}")
        classes = self.num_classes if options.conditional else 0
        self.nets["G"] = StyleGenerator(options.latent_dim, options.w_dim, channels, size, options.mapping_layers,
                                        options.channel_base, options.channel_max, classes)
        self.nets["D"] = ResidualDiscriminator(channels, size, options.channel_base, options.channel_max,
                                               options.group_size, classes)
        self.r1_gamma = (0.0002 * size ** 2 / train.batch_size if options.r1_gamma is None
                         else float(options.r1_gamma))
        self.register_buffer("pl_mean", torch.zeros(()))
        # Layers from this index on are not truncated (gankit sample --truncation-cutoff); None: all.
        self.truncation_cutoff: int | None = None

    @property
    def num_ws(self) -> int:
        return self.nets["G"].num_ws

    def inputs(self) -> tuple[Input, ...]:
        z = Input("z", (self.latent_dim,))
        if self.options.conditional:
            return z, Input("y", (), "categorical", classes=self.num_classes)
        return (z,)

    # --- the seam -----------------------------------------------------------------------------
    def phases(self) -> list[Phase]:
        o = self.options
        phases = [Phase("D", trains="D", keeps_graph_of=("G",))]
        if self.r1_gamma > 0:
            phases.append(Phase("R1", trains="D", draws=(), every=o.r1_every, gain=o.r1_every))
        phases.append(Phase("G", trains="G", draws=()))
        if o.pl_weight > 0:
            phases.append(Phase("PL", trains="G", draws=(), every=o.pl_every, gain=o.pl_every))
        return phases

    def optimizers(self) -> dict[str, OptimizerSpec]:
        """Adam for G and for D, each corrected for its lazy regulariser's extra steps."""
        t, o = self.train_config, self.options
        specs = {}
        for name, lr, every, lazy in (("G", t.lr_g, o.pl_every, o.pl_weight > 0),
                                      ("D", t.lr_d, o.r1_every, self.r1_gamma > 0)):
            c = lazy_correction(every) if lazy else 1.0
            specs[name] = OptimizerSpec((name,), lr=lr * c, betas=(t.betas[0] ** c, t.betas[1] ** c))
        return specs

    def synthesize(self, inputs: dict[str, torch.Tensor], step: Step) -> tuple[torch.Tensor, torch.Tensor]:
        """Training images and their per-layer latents: random noise maps and style mixing, from the run's stream."""
        G = self.net("G")
        n = len(inputs["z"])
        noise = [step.randn(*shape) for shape in self.nets["G"].synthesis.noise_shapes(n)]
        mix = {}
        if self.options.style_mixing > 0:
            cutoff = 1 + step.randint(self.num_ws - 1, n)  # a layer in 1 .. num_ws - 1
            mixed = step.rand(n) < self.options.style_mixing
            mix = {"mix_z": step.randn(n, self.latent_dim),
                   "mix_cutoff": torch.where(mixed, cutoff, torch.full_like(cutoff, self.num_ws))}
        return G(inputs["z"], inputs.get("y"), noise=noise, return_ws=True, **mix)

    def critic(self, x: torch.Tensor, y: torch.Tensor | None, step: Step) -> torch.Tensor:
        return self.net("D")(self.augmented(x, step.noise), y)

    def loss(self, phase: str, step: Step):
        adversarial = self.adversarial_loss
        if phase == "D":
            real = step.batch["x"]
            y_real = step.batch.get("y") if self.options.conditional else None
            inputs = self.draw_inputs(len(real), step.noise)
            fake, ws = self.synthesize(inputs, step)
            step.shared["fake"] = fake, ws, inputs
            step.shared["real"] = real, y_real
            real_out = self.critic(real, y_real, step)
            fake_out = self.critic(fake.detach(), inputs.get("y"), step)
            loss = adversarial.d_loss(real_out, fake_out, self.train_config.real_label)
            return loss, {"d_loss": loss.detach(), "D(x)": adversarial.score(real_out).mean().detach(),
                          "D(G(z))": adversarial.score(fake_out).mean().detach(),
                          **self.observe_real(real_out, adversarial.boundary)}
        if phase == "R1":
            real, y_real = step.shared["real"]
            penalty = r1_penalty(lambda x: self.critic(x, y_real, step), real)
            return self.r1_gamma / 2 * penalty, {"r1": penalty.detach()}
        if phase == "G":
            fake, ws, inputs = step.shared.pop("fake")
            self.nets["G"].mapping.track(ws[:, 0])  # the first latent of every sample: never a mixed one
            loss = adversarial.g_loss(self.critic(fake, inputs.get("y"), step))
            return loss, {"g_loss": loss.detach()}
        if phase == "PL":
            return self.path_length_loss(step)
        raise ValueError(f"stylegan2 has no phase {phase!r}")

    def path_length_loss(self, step: Step):
        o = self.options
        n = max(1, step.batch_size // o.pl_batch_shrink)
        inputs = self.draw_inputs(n, step.noise)
        images, ws = self.synthesize(inputs, step)
        directions = step.randn(*images.shape) / math.sqrt(images.shape[2] * images.shape[3])
        lengths = path_lengths(images, ws, directions)
        self.pl_mean.copy_(self.pl_mean.lerp(lengths.mean().detach(), o.pl_decay))
        penalty = (lengths - self.pl_mean).square().mean()
        # Zero times an output pixel: every parameter of G takes part in the backward pass (DDP needs it).
        loss = o.pl_weight * penalty + 0.0 * images[:, 0, 0, 0].sum()
        return loss, {"pl_penalty": penalty.detach(), "pl_mean": self.pl_mean.clone()}

    # --- sampling -----------------------------------------------------------------------------
    def truncate(self, inputs, psi, given=frozenset()):
        """Truncation in W (Karras et al. 2019): w moved towards ``w_avg`` by ``psi``, on the layers
        below ``truncation_cutoff`` (all by default); an entry ``psi`` that :meth:`generate` reads."""
        n = len(inputs["z"])
        per_layer = torch.full((n, self.num_ws, 1), float(psi), device=inputs["z"].device)
        if self.truncation_cutoff is not None:
            per_layer[:, self.truncation_cutoff:] = 1.0
        return {**inputs, "psi": per_layer}

    def generate(self, inputs, net: nn.Module | None = None) -> torch.Tensor:
        G = net or self.nets["G"]
        return G(inputs["z"], inputs.get("y"), psi=inputs.get("psi", 1.0), mix_z=inputs.get("mix_z"),
                 mix_cutoff=inputs.get("mix_cutoff")).clamp(-1.0, 1.0)

    def style_layers(self) -> int:
        return self.num_ws

    def mix_styles(self, inputs, other, cutoff: int):
        """Layers from ``cutoff`` on take the styles of ``other``'s z (and label)."""
        if not 1 <= cutoff < self.num_ws:
            raise ValueError(f"style mixing starts at a layer in 1..{self.num_ws - 1}, got {cutoff}")
        z = inputs["z"]
        return {**inputs, "mix_z": other["z"], "mix_cutoff": torch.full((z.shape[0],), cutoff, device=z.device)}

    def styles(self, inputs, net: nn.Module | None = None) -> torch.Tensor:
        """The per-layer latents (N, num_ws, w_dim) of ``inputs``, truncated as they ask."""
        G = net or self.nets["G"]
        ws = G.mapping(inputs["z"], inputs.get("y")).unsqueeze(1).expand(-1, self.num_ws, -1)
        return G.mapping.truncate(ws, inputs.get("psi", 1.0))

    def synthesize_styles(self, ws: torch.Tensor, net: nn.Module | None = None) -> torch.Tensor:
        """Images from per-layer latents (style mixing, projection), with the fixed noise maps."""
        return (net or self.nets["G"]).synthesis(ws).clamp(-1.0, 1.0)

    # --- style mixing -------------------------------------------------------------------------
    def layer_resolutions(self) -> list[int]:
        """The resolution of each per-layer latent: the layer it drives (the last one: the final toRGB)."""
        layers = [layer.resolution for layer in self.nets["G"].synthesis.layers]
        return layers + layers[-1:]

    def style_ranges(self) -> dict[str, tuple[int, int]]:
        """The paper's groups of styles as [start, stop) latent indices: coarse (4x4-8x8), middle
        (16x16-32x32), fine (64x64 and up). Below 64x64 images the top resolution is "fine" (16x16 or
        32x32), so every model has fine styles; a group with no layers is left out."""
        per_layer = self.layer_resolutions()
        top = per_layer[-1]

        def fine(r: int) -> bool:
            return r >= 64 or (r == top and r > 8)

        groups = {"coarse": lambda r: r <= 8, "middle": lambda r: r > 8 and not fine(r), "fine": fine}
        ranges = {}
        for name, member in groups.items():
            indices = [i for i, r in enumerate(per_layer) if member(r)]
            if indices:
                ranges[name] = (indices[0], indices[-1] + 1)
        return ranges

    def parse_style_range(self, text: str) -> tuple[str, tuple[int, int]]:
        """``coarse``/``middle``/``fine`` or latent indices ``START-STOP`` (inclusive) -> (label, [start, stop))."""
        ranges = self.style_ranges()
        if text in ranges:
            start, stop = ranges[text]
            per_layer = self.layer_resolutions()
            low, high = per_layer[start], per_layer[stop - 1]
            return f"{text} ({low}x{low})" if low == high else f"{text} ({low}x{low}-{high}x{high})", (start, stop)
        first, sep, last = text.partition("-")
        if sep and first.isdigit() and last.isdigit() and int(first) <= int(last) < self.num_ws:
            return f"styles {first}-{last}", (int(first), int(last) + 1)
        raise ConfigError(f"a style range is one of {', '.join(ranges)} or latent indices START-STOP within "
                          f"0-{self.num_ws - 1} (this model has {self.num_ws} per-layer latents); got {text!r}")
