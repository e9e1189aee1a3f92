"""Projection of real images into a StyleGAN2 generator's latent space (GAN inversion; Karras et
al. 2020, section 5, and the official ``projector.py``'s procedure).

For each target image, a latent w (one for every layer, or one per layer with ``w_plus``) starts at
``w_avg`` and is optimised with Adam so that G's image matches the target. As the official
projector: the learning rate ramps up over the first 5 % of the steps and down (cosine) over the
last 25 %; Gaussian noise of ``0.05 * std(w)`` that fades out over the first 75 % of the steps is
added to w, which keeps the search from settling early; optionally the per-pixel noise maps are
optimised too, with a penalty on their autocorrelation at every scale, so they cannot draw the
image themselves.

The distance: the official code uses LPIPS on VGG16 features, weights this machine cannot
download. Here: the mean squared difference of the **dataset classifier's** feature maps (gankit's
own extractor for the run's data, ``gankit/metrics/weights``; each map normalised per pixel over
channels, as LPIPS does), plus the mean squared pixel difference. Without a classifier for the
data, the pixel term alone. Images are projected as a batch, independently (Adam is elementwise
and the loss a sum over images), so 100 images cost little more than a few.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import torch
import torch.nn.functional as F
from torch import nn

W_STATISTICS_SAMPLES = 10_000


@dataclass
class Projection:
    """What :func:`project` returns for N targets."""

    ws: torch.Tensor  # (N, num_ws, w_dim): the latents (all layers equal unless w_plus)
    images: torch.Tensor  # (N, C, H, W) in [-1, 1]: G's images of ``ws``
    frames: list[torch.Tensor]  # snapshots of ``images`` during the optimisation
    distances: list[float]  # the loss per step (mean over the targets)
    noise: list[torch.Tensor] | None  # the optimised noise maps (per layer), or None


class FeatureDistance(nn.Module):
    """``sum_l mean (f_l(a) - f_l(b))^2`` over the classifier's ReLU stages, each feature map scaled to unit
    norm over channels at every pixel, plus the mean squared pixel difference."""

    def __init__(self, extractor=None):
        super().__init__()
        self.extractor = extractor

    @property
    def description(self) -> str:
        if self.extractor is None:
            return "pixels (no dataset classifier for these data)"
        return f"the {self.extractor.name} classifier's feature maps + pixels"

    def features(self, images: torch.Tensor) -> list[torch.Tensor]:
        from gankit.metrics.extractor import to_input

        arch = self.extractor.meta["arch"]
        x = to_input((images.float() + 1) / 2, arch["in_channels"], arch["size"])
        out = []
        for layer in self.extractor.net.body:
            x = layer(x)
            if isinstance(layer, nn.ReLU):
                out.append(F.normalize(x, dim=1))
        return out

    def forward(self, images: torch.Tensor, targets: torch.Tensor, target_features=None) -> torch.Tensor:
        """Per-image distances (N,)."""
        distance = (images.float() - targets.float()).square().flatten(1).mean(1)
        if self.extractor is not None:
            target_features = target_features or self.features(targets)
            for a, b in zip(self.features(images), target_features):
                distance = distance + (a - b).square().sum(1).flatten(1).mean(1)
        return distance


def noise_regularisation(noise: list[torch.Tensor]) -> torch.Tensor:
    """The squared autocorrelation of each noise map at shifts of one pixel, at every scale down to 8x8
    (the official projector's penalty): zero for white noise, large when a map paints structure."""
    total = torch.zeros(())
    for maps in noise:
        x = maps
        while True:
            total = total + (x * torch.roll(x, 1, dims=3)).mean().square() + (x * torch.roll(x, 1, dims=2)).mean().square()
            if x.shape[-1] <= 8:
                break
            x = F.avg_pool2d(x, 2)
    return total


@torch.no_grad()
def w_statistics(G: nn.Module, latent_dim: int, samples: int = W_STATISTICS_SAMPLES, seed: int = 123):
    """Mean w and the root mean squared distance from it, over ``samples`` random latents."""
    g = torch.Generator().manual_seed(seed)
    w = G.mapping(torch.randn(samples, latent_dim, generator=g))
    mean = w.mean(0)
    return mean, (w - mean).square().sum(1).mean().sqrt().item()


def project(G: nn.Module, targets: torch.Tensor, latent_dim: int, distance: FeatureDistance, steps: int = 500,
            lr: float = 0.1, w_plus: bool = False, optimise_noise: bool = False, noise_weight: float = 1e5,
            frames: int = 10, seed: int = 0, progress=None) -> Projection:
    """Project ``targets`` (N, C, H, W) in [-1, 1] into ``G`` (a :class:`~gankit.nn.stylegan2.StyleGenerator`)."""
    G = G.eval().requires_grad_(False)
    synthesis = G.synthesis
    n, num_ws = len(targets), G.num_ws
    w_avg, w_std = w_statistics(G, latent_dim)
    shape = (n, num_ws, w_avg.numel()) if w_plus else (n, 1, w_avg.numel())
    w = w_avg.expand(shape).clone().requires_grad_(True)
    g = torch.Generator().manual_seed(seed)
    noise = None
    params = [w]
    if optimise_noise:
        noise = [torch.randn(n, *s[1:], generator=g).requires_grad_(True) for s in synthesis.noise_shapes(n)]
        params += noise
    optimizer = torch.optim.Adam(params, lr=lr, betas=(0.9, 0.999))
    with torch.no_grad():
        target_features = distance.features(targets) if distance.extractor is not None else None
    snapshots, losses = [], []
    keep = {round(i * (steps - 1) / max(frames - 1, 1)) for i in range(frames)}
    for step in range(steps):
        t = step / steps
        rate = lr * min(1.0, t / 0.05) * (0.5 - 0.5 * math.cos(math.pi * min(1.0, (1.0 - t) / 0.25)))
        for group in optimizer.param_groups:
            group["lr"] = rate
        jitter = w_std * 0.05 * max(0.0, 1.0 - t / 0.75) ** 2
        ws = (w + torch.randn(w.shape, generator=g) * jitter).expand(n, num_ws, -1)
        images = synthesis(ws, noise)
        loss = distance(images, targets, target_features).sum()
        if noise is not None:
            loss = loss + noise_weight * noise_regularisation(noise)
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        optimizer.step()
        if noise is not None:
            with torch.no_grad():  # keep each map at zero mean and unit variance
                for maps in noise:
                    maps.sub_(maps.mean(dim=(2, 3), keepdim=True)).div_(maps.std(dim=(2, 3), keepdim=True))
        losses.append(loss.item() / n)
        if step in keep:
            snapshots.append(images.detach().clamp(-1, 1))
        if progress is not None:
            progress(step + 1, losses[-1])
    with torch.no_grad():
        ws = w.detach().expand(n, num_ws, -1).clone()
        final = synthesis(ws, noise).clamp(-1, 1)
    return Projection(ws, final, snapshots, losses, None if noise is None else [m.detach() for m in noise])
