"""How images reach the FID Inception network: the three conventions papers report FID in.

The network and its weights are the same in all three; only the resize to 299x299 and the scaling
of the pixel values differ, and that alone moves FID by a few percent (issue 30 measured 93.9
against 96.8 on 28x28 images), so a number is comparable only with others of its convention.

- ``tf``: torch-fidelity and the StyleGAN2-ADA metrics, which reproduce the original TensorFlow
  code: TF-1.x ``resize_bilinear`` (output pixel i samples input position i*in/out, no half-pixel
  centres), then (v - 128) / 128 on 0..255 values.
- ``pytorch``: pytorch-fid: ``F.interpolate(bilinear, align_corners=False)`` (half-pixel centres)
  and v/255 scaled to [-1, 1].
- ``clean``: clean-fid's default mode: each channel resized on its own by PIL's bicubic filter in
  32-bit float mode (so nothing is rounded to integers after the resize), clipped to [0, 255], then
  (v - 128) / 128 as its TorchScript wrapper does.
"""
from __future__ import annotations

import numpy as np
import torch
import torch.nn.functional as F

CONVENTIONS = ("tf", "pytorch", "clean")
SIZE = 299


def check_convention(convention: str) -> str:
    if convention not in CONVENTIONS:
        raise ValueError(f"unknown FID convention {convention!r}; choose from {', '.join(CONVENTIONS)} "
                         "(tf: torch-fidelity / StyleGAN2-ADA, pytorch: pytorch-fid, clean: clean-fid)")
    return convention


def _tf1_axis(n_in: int, n_out: int) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """Lower index, upper index and weight of the upper one along one axis, TF-1.x style."""
    # TF 1.x computes the scale and the source position in float32; doing the same keeps the
    # fractions of its own graph rather than float64 ones that differ in the last bits.
    src = torch.arange(n_out, dtype=torch.float32) * torch.tensor(n_in / n_out, dtype=torch.float32)
    lo = src.floor().long().clamp(max=n_in - 1)
    hi = (lo + 1).clamp(max=n_in - 1)
    return lo, hi, src - lo.float()


def tf1_bilinear(x: torch.Tensor, size: int = SIZE) -> torch.Tensor:
    """TF-1.x ``tf.image.resize_bilinear(align_corners=False)`` of float (N,C,H,W)."""
    lo, hi, w = _tf1_axis(x.shape[-1], size)
    x = x[..., lo] + (x[..., hi] - x[..., lo]) * w
    lo, hi, w = _tf1_axis(x.shape[-2], size)
    return x[..., lo, :] + (x[..., hi, :] - x[..., lo, :]) * w[:, None]


def pil_bicubic_float(x: np.ndarray, size: int = SIZE) -> np.ndarray:
    """clean-fid's resize: every channel of uint8 (N,C,H,W) through PIL bicubic in mode 'F'."""
    from PIL import Image

    out = np.empty(x.shape[:2] + (size, size), np.float32)
    for i in range(x.shape[0]):
        for c in range(x.shape[1]):
            img = Image.fromarray(x[i, c].astype(np.float32), mode="F")
            out[i, c] = np.asarray(img.resize((size, size), resample=Image.BICUBIC))
    return out.clip(0, 255)


def inception_input(x, convention: str, size: int = SIZE) -> torch.Tensor:
    """uint8 images (N,1|3,H,W) -> float (N,3,size,size) as the network is fed in ``convention``."""
    check_convention(convention)
    x = np.asarray(x)
    if x.dtype != np.uint8 or x.ndim != 4 or x.shape[1] not in (1, 3):
        raise ValueError(f"expected uint8 images shaped (N, 1 or 3, H, W), got {x.dtype} {x.shape}")
    if x.shape[1] == 1:  # grey is shown to the network as equal R, G and B, as every FID tool does
        x = np.repeat(x, 3, axis=1)
    if convention == "clean":
        return (torch.from_numpy(pil_bicubic_float(x, size)) - 128.0) / 128.0
    t = torch.from_numpy(x).float()
    if convention == "tf":
        return (tf1_bilinear(t, size) - 128.0) / 128.0
    t = F.interpolate(t / 255.0, size=(size, size), mode="bilinear", align_corners=False)
    return 2.0 * t - 1.0
