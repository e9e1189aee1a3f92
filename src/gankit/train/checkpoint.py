"""Checkpoints: ``checkpoints/step_XXXXXXXX/{weights.safetensors, state.pt}``.

The whole recipe is saved: its state dict holds the networks (``nets.<name>.*``) and whatever
else the recipe keeps as modules or buffers (an image pool, a parameter average, a running mean);
its tensors go to safetensors with the generator EMA under ``ema.``, so they load without
unpickling, and the few non-tensor entries (``get_extra_state``) go to ``state.pt`` under
``"recipe"``. Everything else needed to continue exactly (step, progress, optimiser states, RNG
states, the data streams, elapsed time) goes to ``state.pt`` too. This module is the only place
that knows this key layout. A checkpoint is written into a temporary
folder and renamed into place, so a crash mid-write never leaves a half checkpoint behind.
"""

from __future__ import annotations

import os
import random
import shutil
from pathlib import Path
from typing import Any

import numpy as np
import torch
from safetensors.torch import load_file, save_file

PREFIX = "step_"


def checkpoint_dirs(run_dir: Path) -> list[Path]:
    """Complete checkpoints of a run, oldest first."""
    folder = Path(run_dir) / "checkpoints"
    if not folder.is_dir():
        return []
    return sorted(p for p in folder.iterdir() if p.is_dir() and p.name.startswith(PREFIX)
                  and (p / "state.pt").exists() and (p / "weights.safetensors").exists())


def latest_checkpoint(run_dir: Path) -> Path | None:
    found = checkpoint_dirs(run_dir)
    return found[-1] if found else None


def rng_state() -> dict[str, Any]:
    state = {"torch": torch.get_rng_state(), "numpy": np.random.get_state(), "python": random.getstate()}
    if torch.cuda.is_available() and torch.cuda.is_initialized():
        state["cuda"] = torch.cuda.get_rng_state_all()
    return state


def set_rng_state(state: dict[str, Any]) -> None:
    torch.set_rng_state(state["torch"])
    np.random.set_state(state["numpy"])
    random.setstate(state["python"])
    if "cuda" in state and torch.cuda.is_available():
        torch.cuda.set_rng_state_all(state["cuda"])


EMA_PREFIX = "ema."


def pack_recipe(recipe: torch.nn.Module, ema: torch.nn.Module | None = None) -> tuple[dict[str, torch.Tensor], dict[str, Any]]:
    """(tensors for weights.safetensors, non-tensor recipe state for state.pt)."""
    tensors, extra = {}, {}
    for key, value in recipe.state_dict().items():
        (tensors if isinstance(value, torch.Tensor) else extra)[key] = value
    if ema is not None:
        tensors.update({EMA_PREFIX + k: v for k, v in ema.state_dict().items()})
    return tensors, extra


def unpack_recipe(recipe: torch.nn.Module, weights: dict[str, torch.Tensor], extra: dict[str, Any],
                  ema: torch.nn.Module | None = None) -> None:
    """Load what :func:`pack_recipe` saved; a checkpoint without EMA weights starts the EMA at G."""
    own = {k: v for k, v in weights.items() if not k.startswith(EMA_PREFIX)}
    recipe.load_state_dict({**own, **extra})
    if ema is not None:
        saved = ema_weights(weights)
        ema.load_state_dict(saved or recipe.nets[recipe.generator_name].state_dict())


def ema_weights(weights: dict[str, torch.Tensor]) -> dict[str, torch.Tensor]:
    """The generator EMA's weights in a checkpoint's tensors (empty when the run kept none)."""
    return {k[len(EMA_PREFIX):]: v for k, v in weights.items() if k.startswith(EMA_PREFIX)}


def save_checkpoint(run_dir: Path, step: int, weights: dict[str, torch.Tensor], state: dict[str, Any],
                    keep: int) -> Path:
    """Write atomically and keep only the newest ``keep`` checkpoints. Returns the checkpoint folder."""
    folder = Path(run_dir) / "checkpoints"
    folder.mkdir(parents=True, exist_ok=True)
    final = folder / f"{PREFIX}{step:08d}"
    tmp = folder / f".tmp-{final.name}-{os.getpid()}"
    shutil.rmtree(tmp, ignore_errors=True)
    tmp.mkdir()
    # safetensors refuses shared or non-contiguous storage; clone makes each tensor its own.
    save_file({k: v.detach().cpu().contiguous().clone() for k, v in weights.items()},
              str(tmp / "weights.safetensors"))
    torch.save(state, tmp / "state.pt")
    if final.exists():  # re-saving the same step (e.g. Ctrl-C right after a scheduled save)
        shutil.rmtree(final)
    tmp.rename(final)
    for old in checkpoint_dirs(run_dir)[:-keep] if keep > 0 else []:
        shutil.rmtree(old, ignore_errors=True)
    return final


def load_weights(checkpoint: Path) -> dict[str, torch.Tensor]:
    return load_file(str(Path(checkpoint) / "weights.safetensors"))


def load_state(checkpoint: Path) -> dict[str, Any]:
    # Our own file: optimizer states and RNG states need full unpickling (numpy RNG tuples).
    return torch.load(Path(checkpoint) / "state.pt", weights_only=False)
