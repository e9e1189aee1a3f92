"""A finished (or running) run directory as an object: ``gankit.load(run_dir).sample(16)``."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np
import torch
import yaml

from gankit.config import RunConfig
from gankit.train import checkpoint as ckpt
from gankit.train.trainer import build_recipe
from gankit.viz.grid import to_uint8


class Run:
    """The generator of a run directory, ready to sample.

    Parameters
    ----------
    run_dir : a directory written by ``gankit train``.
    device : where to run the generator.
    ema : use the generator's exponential moving average when the run kept one.
    checkpoint : a specific ``checkpoints/step_XXXXXXXX`` folder; the newest by default.
    """

    def __init__(self, run_dir: str | Path, device: str = "cpu", ema: bool = True, checkpoint: str | Path | None = None):
        self.run_dir = Path(run_dir)
        config_path = self.run_dir / "config.yaml"
        if not config_path.exists():
            raise FileNotFoundError(f"{self.run_dir} is not a gankit run directory (no config.yaml); "
                                    "create one with `gankit train MODEL --data NAME --out DIR`")
        raw = yaml.safe_load(config_path.read_text())
        self.config = RunConfig.from_dict(raw)
        resolved = raw["resolved"]
        self.data_shape = tuple(resolved["data_shape"])
        self.num_classes = resolved.get("num_classes")
        self.device = torch.device(device)
        self.checkpoint = Path(checkpoint) if checkpoint else ckpt.latest_checkpoint(self.run_dir)
        if self.checkpoint is None:
            raise FileNotFoundError(f"{self.run_dir} has no checkpoint yet; train it first")
        self.recipe = build_recipe(self.config, self.data_shape, self.num_classes)
        weights = ckpt.load_weights(self.checkpoint)
        self.recipe.nets.load_state_dict({k[5:]: v for k, v in weights.items() if k.startswith("nets.")})
        self.recipe.to(self.device).eval()
        self.generator = self.recipe.nets[self.recipe.generator_name]
        ema_weights = {k[4:]: v for k, v in weights.items() if k.startswith("ema.")}
        self.uses_ema = bool(ema and ema_weights)
        if self.uses_ema:
            self.generator.load_state_dict(ema_weights)

    @property
    def data_name(self) -> str:
        return self.config.data.name

    @property
    def step(self) -> int:
        return int(self.checkpoint.name.split("_")[-1])

    @property
    def conditional(self) -> bool:
        """Whether the generator takes class labels (cGAN, ACGAN, ...)."""
        return self.recipe.conditional

    @property
    def is_image(self) -> bool:
        return len(self.data_shape) == 3

    def latents(self, n: int, seed: int = 0) -> torch.Tensor:
        return self.recipe.sample_latents(n, torch.Generator().manual_seed(seed), self.device)

    @torch.no_grad()
    def generate(self, z: torch.Tensor, labels: torch.Tensor | None = None, batch_size: int = 500) -> torch.Tensor:
        """Samples for latents ``z`` in the data's range ([-1, 1] for images), batched, on the CPU."""
        out = [self.recipe.generate(z[i:i + batch_size].to(self.device),
                                    None if labels is None else labels[i:i + batch_size].to(self.device),
                                    generator=self.generator).float().cpu()
               for i in range(0, len(z), batch_size)]
        return torch.cat(out)

    def sample(self, n: int, labels: torch.Tensor | None = None, truncation: float | None = None,
               seed: int = 0) -> torch.Tensor:
        """``n`` samples (images in [-1, 1]) from seed ``seed``.

        ``truncation`` scales the latents towards their mean (the truncation trick: fidelity for
        diversity); ``None`` samples the full prior.
        """
        if n < 1:
            raise ValueError(f"n must be at least 1, got {n}")
        z = self.latents(n, seed)
        if truncation is not None:
            z = z * truncation
        return self.generate(z, labels)

    def sample_array(self, n: int, seed: int = 0, labels: np.ndarray | None = None) -> np.ndarray:
        """Samples laid out like the dataset: uint8 (N, C, H, W) for images, float32 (N, D) for points."""
        samples = self.sample(n, None if labels is None else torch.as_tensor(labels), seed=seed)
        if not self.is_image:
            return samples.numpy().astype(np.float32)
        return to_uint8(samples)

    def append_metrics(self, row: dict[str, Any]) -> None:
        """Append an evaluation row (tagged with this checkpoint's step) to ``metrics.jsonl``."""
        with open(self.run_dir / "metrics.jsonl", "a") as f:
            f.write(json.dumps({"step": self.step, "eval": True, **row}) + "\n")


def slerp(a: torch.Tensor, b: torch.Tensor, t: torch.Tensor) -> torch.Tensor:
    """Spherical interpolation (Shoemake; White 2016 for GAN latents) row-wise between a and b."""
    a_n, b_n = a / a.norm(dim=-1, keepdim=True), b / b.norm(dim=-1, keepdim=True)
    omega = torch.acos((a_n * b_n).sum(-1, keepdim=True).clamp(-1 + 1e-7, 1 - 1e-7))
    so = torch.sin(omega)
    return torch.sin((1.0 - t) * omega) / so * a + torch.sin(t * omega) / so * b


def interpolation_latents(start: torch.Tensor, end: torch.Tensor, steps: int, spherical: bool) -> torch.Tensor:
    """(rows, steps, latent_dim) latents from each start row to each end row."""
    t = torch.linspace(0, 1, steps)[None, :, None]
    a, b = start[:, None, :], end[:, None, :]
    return slerp(a, b, t) if spherical else torch.lerp(a, b, t)


__all__ = ["Run", "interpolation_latents", "slerp"]
