"""A run's training options checked and turned into the objects the Trainer uses: the options a
resume may change, the precision "auto" resolves to on this machine, the optimisers."""

from __future__ import annotations

from dataclasses import asdict
from pathlib import Path

import torch
from torch import nn

from gankit import losses
from gankit.config import ConfigError, RunConfig
from gankit.models.recipe import OptimizerSpec
from gankit.models.registry import recipe_options
from gankit.train import tensorboard

# Options a resumed run may change freely: the budget, the bookkeeping, where things run and
# where the data live. Any other change would make the resumed run a different run.
RESUMABLE_CHANGES = {"train.steps", "train.epochs", "train.minutes", "train.log_every", "train.sample_every",
                     "train.checkpoint_every", "train.keep_checkpoints", "train.collective_timeout_s",
                     "train.report", "train.tensorboard",
                     "train.device", "train.compile", "data.root", "data.store"}


def changed_options(saved: RunConfig, now: RunConfig) -> list[str]:
    """``key (old -> new)`` for every option that differs and that a resume may not change."""
    def flat(cfg: RunConfig) -> dict:
        d = cfg.to_dict()
        out = {"model": d["model"]}
        for section in ("data", "train"):
            out.update({f"{section}.{k}": v for k, v in d[section].items()})
        out.update({f"model.{k}": v for k, v in asdict(recipe_options(cfg)).items()})  # defaults included
        return out

    def same(a, b) -> bool:  # YAML gives lists where the options dataclasses hold tuples
        return (list(a) if isinstance(a, tuple) else a) == (list(b) if isinstance(b, tuple) else b)

    old, new = flat(saved), flat(now)
    return [f"{key} ({old.get(key)!r} -> {new.get(key)!r})" for key in sorted(old.keys() | new.keys())
            if key not in RESUMABLE_CHANGES and not same(old.get(key), new.get(key))]


def check_train_config(cfg: RunConfig) -> None:
    t = cfg.train
    losses.get_loss(t.loss)
    problems = []
    if t.precision not in PRECISIONS:
        problems.append(f"train.precision must be one of {', '.join(PRECISIONS)}, got {t.precision!r}")
    if t.optimizer not in ("adam", "sgd"):
        problems.append(f"train.optimizer must be adam or sgd, got {t.optimizer!r}")
    for name in ("k", "batch_size", "log_every", "sample_every", "checkpoint_every"):
        if getattr(t, name) < 1:
            problems.append(f"train.{name} must be at least 1, got {getattr(t, name)}")
    for name in ("steps", "epochs", "minutes"):
        value = getattr(t, name)
        if value is not None and value <= 0:
            problems.append(f"train.{name} must be positive, got {value}")
    if problems:
        raise ConfigError("; ".join(problems))
    if t.tensorboard:
        tensorboard.require()


PRECISIONS = ("auto", "fp32", "bf16")


def resolve_precision(precision: str, device: torch.device) -> str:
    """``train.precision`` as the run uses it: "auto" is bf16 autocast on a CPU with native bf16
    (measured faster and at least as good at equal wall-clock there) and fp32 elsewhere, GPUs
    included until bf16 has been measured on them."""
    if precision != "auto":
        return precision
    return "bf16" if device.type == "cpu" and cpu_has_bf16() is True else "fp32"  # unknown: fp32


def cpu_has_bf16() -> bool | None:
    """Whether the CPU multiplies bf16 natively (AVX512-BF16 or AMX); Linux only, None if unknown."""
    try:
        flags = Path("/proc/cpuinfo").read_text()
    except OSError:
        return None
    return "avx512_bf16" in flags or "amx_bf16" in flags


def make_optimizer(params: list[nn.Parameter], spec: OptimizerSpec, cfg: RunConfig):
    """The optimiser of ``train.optimizer`` with the spec's learning rate and betas (or the run's)."""
    t = cfg.train
    betas = tuple(spec.betas or t.betas)
    # The fused kernels (one launch for all tensors) exist for Adam and SGD on CPU and CUDA in
    # recent torch; foreach is the fallback. Both give the same arithmetic as the plain loop.
    for kwargs in ({"fused": True}, {"foreach": True}):
        try:
            if t.optimizer == "adam":
                return torch.optim.Adam(params, lr=spec.lr, betas=betas, **kwargs)
            return torch.optim.SGD(params, lr=spec.lr, momentum=t.momentum, **kwargs)
        except (RuntimeError, TypeError):
            continue
    raise RuntimeError(f"could not build a {t.optimizer} optimiser")
