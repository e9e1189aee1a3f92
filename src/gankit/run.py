"""A finished (or running) run directory as an object: ``gankit.load(run_dir).sample(16)``."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np
import torch

from gankit.config import RunConfig
from gankit.data.catalog import DatasetInfo, info_for
from gankit.models.examples import examples_of
from gankit.noise import Noise
from gankit.models.inputs import slice_inputs
from gankit.models.recipe import MAIN_STREAM
from gankit.models.registry import build_recipe, read_saved_config
from gankit.train import checkpoint as ckpt
from gankit.data.pixels import to_uint8


def stream_infos(config: RunConfig, resolved: dict[str, Any]) -> dict[str, DatasetInfo]:
    """The data descriptions a run was trained with (runs before streams saved only the main one)."""
    if "streams" in resolved:
        return {name: DatasetInfo.from_dict(d) for name, d in resolved["streams"].items()}
    shape = tuple(resolved["data_shape"])
    return {MAIN_STREAM: info_for(config.data.name, shape, resolved.get("num_classes"), is_image=len(shape) == 3)}


class Run:
    """The generator of a run directory, ready to sample.

    Parameters
    ----------
    run_dir : a directory written by ``gankit train``, or one of its ``checkpoints/step_XXXXXXXX``
        folders to open that checkpoint (to score a run as it was at an earlier step).
    device : where to run the generator.
    ema : use the generator's exponential moving average when the run kept one.
    checkpoint : a specific ``checkpoints/step_XXXXXXXX`` folder; the newest by default.
    """

    def __init__(self, run_dir: str | Path, device: str = "cpu", ema: bool = True, checkpoint: str | Path | None = None):
        run_dir = Path(run_dir)
        if checkpoint is None and run_dir.parent.name == "checkpoints" and not (run_dir / "config.yaml").exists():
            run_dir, checkpoint = run_dir.parent.parent, run_dir
        self.run_dir = run_dir
        self.config, raw = read_saved_config(self.run_dir)
        self.data = stream_infos(self.config, raw["resolved"])
        main = next(iter(self.data.values()))
        self.data_shape = main.shape
        self.num_classes = main.num_classes
        self.device = torch.device(device)
        self.checkpoint = Path(checkpoint) if checkpoint else ckpt.latest_checkpoint(self.run_dir)
        if self.checkpoint is None:
            raise FileNotFoundError(f"{self.run_dir} has no checkpoint yet; train it first")
        if not self.checkpoint.is_dir():
            kept = ", ".join(c.name for c in ckpt.checkpoint_dirs(self.run_dir)) or "none"
            raise FileNotFoundError(f"{self.run_dir} has no checkpoint {self.checkpoint.name}; it keeps: {kept}")
        self.recipe = build_recipe(self.config, self.data)
        weights = ckpt.load_weights(self.checkpoint)
        ckpt.unpack_recipe(self.recipe, weights, ckpt.load_state(self.checkpoint).get("recipe", {}))
        self.recipe.to(self.device).eval()
        self._examples = {}
        self.generator = self.recipe.nets[self.recipe.generator_name]
        ema_weights = ckpt.ema_weights(weights)
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

    @property
    def input_specs(self):
        """The generator's inputs (:class:`gankit.models.Input`): names, shapes, distributions."""
        return self.recipe.inputs()

    def examples(self, split: str = "test"):
        """Examples of the run's data in ``split`` ("test": held out; "train"), from which the inputs
        the data give (pix2pix's image to translate) are drawn when nobody passes them; loaded once."""
        if split not in self._examples:
            self._examples[split] = examples_of(self.config, split)
        return self._examples[split]

    def inputs(self, n: int, seed: int = 0, split: str = "test", **given: torch.Tensor) -> dict[str, torch.Tensor]:
        """Generator inputs for ``n`` samples from seed ``seed``; ``given`` fixes some (``y=labels``).

        Inputs the data give and ``given`` leaves out are drawn from the examples of ``split``.
        """
        noise = Noise.seeded(seed, self.device)
        if any(s.distribution == "given" and s.name not in given for s in self.input_specs):
            return self.recipe.draw_inputs(n, noise, examples=self.examples(split), **given)
        return self.recipe.draw_inputs(n, noise, **given)

    def truncate(self, inputs: dict[str, torch.Tensor], truncation: float | None,
                 given=frozenset()) -> dict[str, torch.Tensor]:
        """``inputs`` with the truncation trick at ``truncation`` applied as the family defines it
        (``Recipe.truncate``); ``None`` leaves them as drawn."""
        if truncation is None:
            return inputs
        return self.recipe.truncate(inputs, check_truncation(truncation), frozenset(given))

    @torch.no_grad()
    def generate(self, inputs: dict[str, torch.Tensor], batch_size: int = 500) -> torch.Tensor:
        """Samples for ``inputs`` in the data's range ([-1, 1] for images), batched, on the CPU."""
        n = len(next(iter(inputs.values())))
        out = [self.recipe.generate(slice_inputs(inputs, i, i + batch_size), net=self.generator).float().cpu()
               for i in range(0, n, batch_size)]
        return torch.cat(out)

    def sample(self, n: int, labels: torch.Tensor | None = None, truncation: float | None = None,
               seed: int = 0, split: str = "test", **given: torch.Tensor) -> torch.Tensor:
        """``n`` samples (images in [-1, 1]) from seed ``seed``.

        ``labels`` picks the classes of a conditional model; other keyword arguments fix other
        inputs by name. ``truncation`` moves the samples towards the average one as the family
        defines it (the truncation trick: fidelity for diversity; by default the normal latents
        are scaled by it); ``None`` samples the full prior. Inputs the data give (an image to
        translate) that are not passed come from random examples of ``split``.
        """
        if n < 1:
            raise ValueError(f"n must be at least 1, got {n}")
        if labels is not None:
            given["y"] = torch.as_tensor(labels)
        if truncation is not None:
            check_truncation(truncation)  # before any examples load
        inputs = self.inputs(n, seed, split, **given)
        return self.generate(self.truncate(inputs, truncation, given))

    def sample_array(self, n: int, seed: int = 0, labels: np.ndarray | None = None, truncation: float | None = None,
                     split: str = "test", **given) -> np.ndarray:
        """Samples laid out like the dataset: uint8 (N, C, H, W) for images, float32 (N, D) for points."""
        samples = self.sample(n, None if labels is None else torch.as_tensor(labels), truncation, seed, split, **given)
        if not self.is_image:
            return samples.numpy().astype(np.float32)
        return to_uint8(samples)

    def interpolation(self, rows: int, steps: int, spherical: bool, seed: int = 0) -> dict[str, torch.Tensor]:
        """Inputs for ``rows`` paths of ``steps`` samples each between random endpoints, row-major.

        Continuous inputs (latents, continuous codes) move from one endpoint to the other;
        labels and other discrete inputs stay those of the path's start.
        """
        ends = self.inputs(2 * rows, seed)
        out = {}
        for spec in self.input_specs:
            start, end = ends[spec.name][:rows], ends[spec.name][rows:]
            if spec.interpolates:
                flat = interpolation_latents(start.reshape(rows, -1), end.reshape(rows, -1), steps,
                                             spherical and spec.distribution == "normal")
                out[spec.name] = flat.reshape(rows * steps, *spec.shape)
            else:
                out[spec.name] = start.repeat_interleave(steps, dim=0)
        return out

    def append_metrics(self, row: dict[str, Any]) -> None:
        """Append an evaluation row (tagged with this checkpoint's step) to ``metrics.jsonl``."""
        with open(self.run_dir / "metrics.jsonl", "a") as f:
            f.write(json.dumps({"step": self.step, "eval": True, **row}) + "\n")


def check_truncation(truncation: float) -> float:
    """``truncation`` as a float in [0, 2] (1 is the full prior), or a ValueError saying so."""
    if not 0 <= truncation <= 2:
        raise ValueError(f"truncation must lie in [0, 2] (1 is the full prior), got {truncation}")
    return float(truncation)


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
