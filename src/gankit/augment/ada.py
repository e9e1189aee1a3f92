"""Adaptive discriminator augmentation (Karras et al., "Training Generative Adversarial Networks with
Limited Data", 2020).

Every image D sees, real or generated, goes through a pipeline of transformations, each applied to
each image with probability ``p``. While ``p`` stays below about 0.8 the transformations do not leak
into the samples (the paper, Sec. 2.3): D can still tell the un-augmented distribution apart, so G
is pushed toward the real images, not toward augmented-looking ones.

``p`` adapts to how much D overfits. The heuristic r_t = E[sign(D(x_real))] is near 0 when D cannot
separate training images from fakes and near 1 when it has memorised them; every ``interval`` D
steps ``p`` moves up when r_t exceeds ``target`` (0.6) and down otherwise, by at most 1 over
``speed_images`` real images. ``p`` and the running sums are buffers, so they are checkpointed and
a resumed run continues with the same ``p``.

The pipeline is the paper's default set, "bgc" (blit, geometric, colour), in its order:

* blit: x-flip, 90-degree rotations, integer translation (up to 1/8 of the size);
* geometric: isotropic scaling (lognormal, sigma 0.2 ln 2), rotation (uniform, applied with
  probability 1 - sqrt(1 - p) before and after the next step), anisotropic scaling, fractional
  translation (normal, sigma 1/8);
* colour: brightness (normal, sigma 0.2), contrast (lognormal, sigma 0.5 ln 2), luma flip; on RGB
  images also hue rotation and saturation (they are the identity on one-channel images, so one
  channel takes brightness, contrast and inversion only).

All geometric steps compose into one affine matrix per image, sampled once with reflection padding.
Simplification: bilinear sampling at the image's own resolution; the paper samples 2x up-sampled
images with a wavelet filter to suppress aliasing.
"""

from __future__ import annotations

import math

import torch
import torch.distributed as dist
import torch.nn.functional as F
from torch import nn

from gankit.noise import Noise

LN2 = math.log(2)


def _chosen(noise: Noise, n: int, p: torch.Tensor, device) -> torch.Tensor:
    """Per image, 1.0 where a transformation is applied (probability ``p``), else 0.0."""
    return (noise.rand(n).to(device) < p).float()


def _matrix(rows: list[list[torch.Tensor | float]], n: int, device) -> torch.Tensor:
    """A batch of 3x3 matrices from entries that are per-image tensors or constants."""
    entries = [torch.as_tensor(v, dtype=torch.float32, device=device).expand(n) for row in rows for v in row]
    return torch.stack(entries, dim=1).view(n, 3, 3)


def scale_matrix(sx, sy, n, device):
    """Per-image 3x3 scalings by (sx, sy) (tensors of n values or numbers)."""
    return _matrix([[sx, 0, 0], [0, sy, 0], [0, 0, 1]], n, device)


def rotate_matrix(theta, n, device):
    """Per-image 3x3 rotations by ``theta`` radians."""
    c, s = torch.cos(theta), torch.sin(theta)
    return _matrix([[c, -s, 0], [s, c, 0], [0, 0, 1]], n, device)


def translate_matrix(tx, ty, n, device):
    """Per-image 3x3 translations by (tx, ty) in ``F.affine_grid``'s coordinates (the image spans 2)."""
    return _matrix([[1, 0, tx], [0, 1, ty], [0, 0, 1]], n, device)


def geometric_matrix(n: int, size: tuple[int, int], p: torch.Tensor, noise: Noise, device) -> torch.Tensor:
    """Per-image 3x3 affine matrices in the normalised coordinates of ``F.affine_grid`` ([-1, 1]).

    The distributions are symmetric under inversion, so composing the sampling transform (output
    -> input, what ``affine_grid`` takes) draws the same augmentations as composing their inverses.
    """
    h, w = size
    m = torch.eye(3, device=device).expand(n, 3, 3)

    def apply(step):
        nonlocal m
        m = m @ step

    # Blit: x-flip, rotation by k * 90 degrees, integer translation.
    flip = 1 - 2 * _chosen(noise, n, p, device) * (noise.rand(n).to(device) < 0.5).float()
    apply(scale_matrix(flip, torch.ones(n, device=device), n, device))
    quarter = _chosen(noise, n, p, device) * noise.randint(4, n).to(device).float()
    apply(rotate_matrix(quarter * math.pi / 2, n, device))
    chosen = _chosen(noise, n, p, device)
    shift = (noise.rand(n, 2).to(device) * 2 - 1) * 0.125
    pixels = torch.round(shift * torch.tensor([w, h], device=device)) * chosen[:, None]
    apply(translate_matrix(pixels[:, 0] * 2 / w, pixels[:, 1] * 2 / h, n, device))
    # Geometric: isotropic scaling, rotation, anisotropic scaling, rotation, fractional translation.
    iso = torch.exp2(noise.randn(n).to(device) * 0.2 * _chosen(noise, n, p, device))
    apply(scale_matrix(iso, iso, n, device))
    p_rotate = 1 - torch.sqrt((1 - p).clamp(min=0))
    for _ in range(2):
        angle = (noise.rand(n).to(device) * 2 - 1) * math.pi * _chosen(noise, n, p_rotate, device)
        apply(rotate_matrix(angle, n, device))
        if _ == 0:
            aniso = torch.exp2(noise.randn(n).to(device) * 0.2 * _chosen(noise, n, p, device))
            apply(scale_matrix(aniso, 1 / aniso, n, device))
    frac = noise.randn(n, 2).to(device) * 0.125 * _chosen(noise, n, p, device)[:, None]
    apply(translate_matrix(frac[:, 0] * 2, frac[:, 1] * 2, n, device))
    return m


def warp(x: torch.Tensor, m: torch.Tensor, padding_mode: str = "reflection") -> torch.Tensor:
    """Images ``x`` resampled (bilinear) through per-image 3x3 matrices ``m`` that map output to input coordinates."""
    grid = F.affine_grid(m[:, :2].to(x.dtype), list(x.shape), align_corners=False)
    return F.grid_sample(x, grid, mode="bilinear", padding_mode=padding_mode, align_corners=False)


def colour(x: torch.Tensor, p: torch.Tensor, noise: Noise) -> torch.Tensor:
    """Brightness, contrast, luma flip (and hue, saturation on RGB) around mid-grey 0."""
    n, c = x.shape[:2]
    device = x.device
    view = (n, 1, 1, 1)
    x = x + (noise.randn(n).to(device) * 0.2 * _chosen(noise, n, p, device)).view(view).to(x.dtype)
    x = x * torch.exp2(noise.randn(n).to(device) * 0.5 * _chosen(noise, n, p, device)).view(view).to(x.dtype)
    flip = _chosen(noise, n, p, device) * (noise.rand(n).to(device) < 0.5).float()
    if c != 3:  # one channel (or any non-RGB): luma flip is inversion around mid-grey
        return x * (1 - 2 * flip).view(view).to(x.dtype)
    luma = torch.full((3,), 1 / math.sqrt(3), device=device, dtype=x.dtype)
    along = torch.einsum("nchw,c->nhw", x, luma)[:, None] * luma.view(1, 3, 1, 1)  # the grey component
    across = x - along
    # Luma flip reflects the grey component; hue rotates the chroma component around the grey axis
    # (Rodrigues' formula, as the grey axis is orthogonal to it); saturation scales it.
    along = along * (1 - 2 * flip).view(view).to(x.dtype)
    theta = (noise.rand(n).to(device) * 2 - 1) * math.pi * _chosen(noise, n, p, device)
    cos, sin = torch.cos(theta).view(view).to(x.dtype), torch.sin(theta).view(view).to(x.dtype)
    cross = torch.cross(luma.view(1, 3, 1, 1).expand_as(across), across, dim=1)
    across = across * cos + cross * sin
    saturation = torch.exp2(noise.randn(n).to(device) * 1.0 * _chosen(noise, n, p, device))
    return along + across * saturation.view(view).to(x.dtype)


class AdaptiveAugment(nn.Module):
    """ADA: the "bgc" pipeline with an adaptive probability ``p``.

    Parameters
    ----------
    target : the value of r_t = E[sign(D(x_real) - threshold)] that ``p`` steers toward (0.6).
    interval : D steps between two adjustments of ``p`` (4, as in the paper).
    speed_images : real images over which ``p`` can move from 0 to 1 (the paper: 500k; smaller
        datasets trained for minutes need faster reaction).
    p : the starting probability; with ``target=None`` it stays fixed (plain augmentation).
    """

    def __init__(self, target: float | None = 0.6, interval: int = 4, speed_images: int = 100_000, p: float = 0.0):
        super().__init__()
        self.target, self.interval, self.speed_images = target, interval, speed_images
        self.register_buffer("p", torch.tensor(float(p)))
        self.register_buffer("signs", torch.zeros(()))  # sum of sign(D(x_real)) since the last adjustment
        self.register_buffer("seen", torch.zeros(()))  # real outputs observed since then
        self.register_buffer("steps", torch.zeros((), dtype=torch.long))  # observe() calls, for the interval
        self._calls: int | None = None  # host copy of ``steps``

    def forward(self, x: torch.Tensor, noise: Noise) -> torch.Tensor:
        if x.dim() != 4:
            raise ValueError(f"ADA needs image batches (N, C, H, W), got shape {tuple(x.shape)}")
        n, _, h, w = x.shape
        p = self.p.to(x.device)
        x = warp(x, geometric_matrix(n, (h, w), p, noise, x.device))
        return colour(x, p, noise)

    @torch.no_grad()
    def observe(self, real_out: torch.Tensor, threshold: float = 0.0) -> None:
        """Record D's outputs on real images; every ``interval`` calls, adjust ``p``.

        ``threshold`` is where the loss puts the boundary between real and fake (0 for logits,
        0.5 for least squares). Under DDP the sums are added over ranks so every rank keeps the
        same ``p``. Nothing leaves the device (no synchronisation with the host).
        """
        if self.target is None:
            return
        if self._calls is None:  # one device read, at the first call after construction or a resume
            self._calls = int(self.steps)
        self._calls += 1
        self.steps += 1
        self.signs += torch.sign(real_out.detach().float() - threshold).sum().to(self.signs.device)
        self.seen += real_out.numel()
        if self._calls % self.interval:
            return
        signs, seen = self.signs.clone(), self.seen.clone()
        if dist.is_available() and dist.is_initialized():
            dist.all_reduce(signs)
            dist.all_reduce(seen)
        r_t = signs / seen.clamp(min=1)
        self.p.copy_((self.p + torch.sign(r_t - self.target) * seen / self.speed_images).clamp(0, 1))
        self.signs.zero_()
        self.seen.zero_()

    def _load_from_state_dict(self, *args, **kwargs):
        super()._load_from_state_dict(*args, **kwargs)
        self._calls = None  # re-read the step count from the loaded buffer

    def extra_repr(self) -> str:
        return f"target={self.target}, interval={self.interval}, speed_images={self.speed_images}"
