"""The one training loop. It owns the generic work; each Recipe owns its phases and losses.

Per iteration the recipe's phases run in order (Algorithm 1: the discriminator ``k`` times, then
the generator). For each phase the Trainer freezes the networks it does not train, computes the
recipe's loss under autocast, steps that network's optimiser, and updates the generator EMA.
Around the loop it handles the run directory: config, checkpoints, sample grids,
``metrics.jsonl``, the loss plot, the progress bar, stop conditions, Ctrl-C, and DDP.
"""

from __future__ import annotations

import contextlib
import json
import math
import signal
import time
import warnings
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import torch
from torch import nn
from torch.nn.parallel import DistributedDataParallel
from tqdm.auto import tqdm

from gankit import losses
from gankit.config import ConfigError, RunConfig, apply_overrides, save_yaml
from gankit.data import DeviceDataset, load_dataset
from gankit.models import Step, recipe_class
from gankit.train import checkpoint as ckpt
from gankit.train import distributed
from gankit.train.ema import EMA
from gankit.viz.grid import save_grid
from gankit.viz.plots import plot_losses, plot_points

SAMPLE_GRID_SIZE = 64


@dataclass
class TrainResult:
    run_dir: Path
    step: int
    checkpoint: Path | None
    samples: Path | None
    loss_plot: Path | None
    seconds: float
    interrupted: bool


def build_recipe(cfg: RunConfig, data_shape: tuple[int, ...], num_classes: int | None):
    """The recipe of ``cfg.model`` with its ``model.*`` options checked."""
    cls = recipe_class(cfg.model)
    options = cls.Options()
    apply_overrides(cfg, {f"model.{k}": v for k, v in cfg.options.items()}, options)
    return cls(options, data_shape, num_classes, cfg.train)


def check_train_config(cfg: RunConfig) -> None:
    t = cfg.train
    losses.check_loss_name(t.loss)
    problems = []
    if t.precision not in ("fp32", "bf16"):
        problems.append(f"train.precision must be fp32 or bf16, got {t.precision!r}")
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


def cpu_has_bf16() -> bool:
    """Whether the CPU multiplies bf16 natively (AVX512-BF16 or AMX); Linux only, True if unknown."""
    try:
        flags = Path("/proc/cpuinfo").read_text()
    except OSError:
        return True
    return "avx512_bf16" in flags or "amx_bf16" in flags


def make_optimizer(params: list[nn.Parameter], lr: float, cfg: RunConfig, device: torch.device):
    t = cfg.train
    # The fused kernels (one launch for all tensors) exist for Adam and SGD on CPU and CUDA in
    # recent torch; foreach is the fallback. Both give the same arithmetic as the plain loop.
    kwargs: dict[str, Any] = {"fused": True}
    try:
        if t.optimizer == "adam":
            return torch.optim.Adam(params, lr=lr, betas=tuple(t.betas), **kwargs)
        return torch.optim.SGD(params, lr=lr, momentum=t.momentum, **kwargs)
    except (RuntimeError, TypeError):
        if t.optimizer == "adam":
            return torch.optim.Adam(params, lr=lr, betas=tuple(t.betas), foreach=True)
        return torch.optim.SGD(params, lr=lr, momentum=t.momentum, foreach=True)


class StopRequest:
    """First Ctrl-C: finish the iteration, checkpoint, exit. Second Ctrl-C: stop at once."""

    def __init__(self):
        self.requested = False
        self.previous = None

    def __enter__(self):
        with contextlib.suppress(ValueError):  # not the main thread: no handler
            self.previous = signal.signal(signal.SIGINT, self.handle)
        return self

    def handle(self, signum, frame):
        if self.requested:
            raise KeyboardInterrupt
        self.requested = True
        tqdm.write("Stopping after this iteration and writing a checkpoint (Ctrl-C again to abort now)...")

    def __exit__(self, *exc):
        if self.previous is not None:
            signal.signal(signal.SIGINT, self.previous)


class Trainer:
    """Train ``cfg.model`` on ``cfg.data`` into ``run_dir``; ``fit()`` runs until a stop condition.

    Parameters
    ----------
    cfg : the run's configuration (``gankit.config.RunConfig``).
    run_dir : the run directory; created if needed. A directory that already holds checkpoints
        is only continued with ``resume=True``, so a finished run is never overwritten.
    resume : continue from the newest checkpoint in ``run_dir``, exactly where it stopped.
    progress : show a tqdm progress bar.
    """

    def __init__(self, cfg: RunConfig, run_dir: str | Path, resume: bool = False, progress: bool = True):
        check_train_config(cfg)
        self.cfg, t = cfg, cfg.train
        self.run_dir = Path(run_dir)
        self.progress = progress
        existing = ckpt.latest_checkpoint(self.run_dir)
        if resume and existing is None:
            raise FileNotFoundError(f"--resume: no checkpoint in {self.run_dir}/checkpoints; "
                                    "start the run without --resume")
        if not resume and existing is not None:
            raise FileExistsError(f"{self.run_dir} already holds a run (newest checkpoint {existing.name}); "
                                  "continue it with --resume or choose another --out")

        self.world = distributed.join(t.device, t.collective_timeout_s)
        self.device = distributed.device_for(t.device, self.world)
        torch.manual_seed(t.seed)  # the same initial weights on every rank

        data = load_dataset(cfg.data.name, "train", cfg.data.root, cfg.data.size, cfg.data.channels)
        self.real_points = None if data.is_image else data.x[:2000]
        self.data = DeviceDataset(data, self.device, t.batch_size, t.seed, self.world.rank, self.world.size)
        self.recipe = build_recipe(cfg, self.data.shape, data.num_classes).to(self.device)
        self.phases = self.recipe.phases()
        self.prepare_networks()
        if self.world.distributed:  # but each rank its own dropout masks
            torch.manual_seed(t.seed + self.world.rank)

        trained = {p.trains for p in self.phases}
        gen = self.recipe.generator_name
        self.optimizers = {name: make_optimizer(list(self.recipe.nets[name].parameters()),
                                                t.lr_g if name == gen else t.lr_d, cfg, self.device)
                           for name in sorted(trained)}
        self.ema = EMA(self.recipe.nets[gen], t.ema) if t.ema > 0 else None
        # The latent stream is its own seeded generator (not the global RNG that dropout uses), so
        # every rank draws the same global batch and a resumed run continues the same stream.
        self.noise = torch.Generator().manual_seed(t.seed)
        self.fixed_z = self.recipe.sample_latents(SAMPLE_GRID_SIZE, torch.Generator().manual_seed(t.seed + 1),
                                                  self.device)
        self.autocast = torch.autocast(self.device.type, dtype=torch.bfloat16, enabled=t.precision == "bf16")
        if t.precision == "bf16" and self.device.type == "cpu" and not cpu_has_bf16():
            warnings.warn("--precision bf16 on a CPU without AVX512-BF16 or AMX is emulated and slower than "
                          "fp32 (0.5-0.9x in benchmarks/RESULTS.md); use fp32 here", stacklevel=2)
        self.step, self.elapsed = 0, 0.0
        self.last_saved: tuple[int, Path] | None = None
        if resume:
            self.load(existing)
        if self.world.is_main:
            self.run_dir.mkdir(parents=True, exist_ok=True)
            (self.run_dir / "samples").mkdir(exist_ok=True)
            saved = cfg.to_dict()
            saved["resolved"] = {"data_shape": list(self.data.shape), "num_classes": data.num_classes,
                                 "world_size": self.world.size, "data_source": data.source}
            save_yaml(saved, self.run_dir / "config.yaml")

    # --- set-up ------------------------------------------------------------------------------
    def prepare_networks(self) -> None:
        t, nets = self.cfg.train, self.recipe.nets
        if self.world.distributed and t.sync_batchnorm and self.device.type != "cuda":
            raise ConfigError("train.sync_batchnorm needs CUDA: PyTorch's SyncBatchNorm has no CPU kernel. "
                              "On CPU, leave it off (each rank normalises with its own batch statistics)")
        if self.world.distributed and t.sync_batchnorm:
            for name in list(nets):
                nets[name] = nn.SyncBatchNorm.convert_sync_batchnorm(nets[name])
        # channels_last (NHWC) lets oneDNN on the CPU and cuDNN on the GPU pick their fastest conv
        # kernels: 1.5-3x faster DCGAN steps on this 2-core CPU. It touches only 4-D weights.
        self.recipe.to(memory_format=torch.channels_last)
        if t.compile:
            for net in nets.values():
                net.compile()
        self.wrapped: dict[str, nn.Module] = {}
        if self.world.distributed:
            ids = [self.device.index] if self.device.type == "cuda" else None
            names = {p.trains for p in self.phases} | {n for p in self.phases for n in p.keeps_graph_of}
            # Sorted: every rank must build its DDP wrappers (and their collectives) in one order.
            self.wrapped = {name: DistributedDataParallel(nets[name], device_ids=ids) for name in sorted(names)}

    def randn(self, n: int, *shape: int) -> torch.Tensor:
        full = torch.randn((n * self.world.size, *shape), generator=self.noise)
        return full[self.world.rank * n:(self.world.rank + 1) * n].to(self.device, non_blocking=True)

    def randint(self, high: int, n: int, *shape: int) -> torch.Tensor:
        full = torch.randint(high, (n * self.world.size, *shape), generator=self.noise)
        return full[self.world.rank * n:(self.world.rank + 1) * n].to(self.device, non_blocking=True)

    # --- one iteration -----------------------------------------------------------------------
    def enter_phase(self, phase) -> None:
        live = {phase.trains, *phase.keeps_graph_of}
        for name, net in self.recipe.nets.items():
            net.requires_grad_(name in live)
        self.recipe.active = {name: self.wrapped[name] for name in live if name in self.wrapped}

    def iteration(self, totals: dict[str, torch.Tensor], counts: dict[str, int]) -> None:
        step = Step(real=None, labels=None, randn=self.randn, randint=self.randint)
        for phase in self.phases:
            for _ in range(phase.repeats):
                if phase.uses_real:
                    step.real, step.labels = self.data.next()
                self.enter_phase(phase)
                with self.autocast:
                    loss, stats = self.recipe.loss(phase.name, step)
                optimizer = self.optimizers[phase.trains]
                optimizer.zero_grad(set_to_none=True)
                loss.backward()
                optimizer.step()
                for key, value in stats.items():
                    totals[key] = totals[key] + value if key in totals else value.clone()
                    counts[key] = counts.get(key, 0) + 1
            if self.ema is not None and phase.trains == self.recipe.generator_name:
                self.ema.update(self.recipe.nets[phase.trains])
        self.step += 1

    # --- the loop ----------------------------------------------------------------------------
    def fit(self) -> TrainResult:
        t = self.cfg.train
        # No budget given at all: one epoch. Otherwise the first limit reached stops the run.
        limits = [t.steps] if t.steps else []
        if t.epochs or not any(v is not None for v in (t.steps, t.epochs, t.minutes)):
            real_per_iteration = sum(p.repeats for p in self.phases if p.uses_real) or 1
            limits.append(math.ceil((t.epochs or 1.0) * self.data.batches_per_epoch / real_per_iteration))
        target = min(limits) if limits else None
        deadline = time.monotonic() + 60 * t.minutes if t.minutes else None
        main = self.world.is_main
        bar = tqdm(total=target, initial=self.step, disable=not (self.progress and main), unit="it",
                   dynamic_ncols=True, desc=f"{self.cfg.model} on {self.cfg.data.name}")
        totals: dict[str, torch.Tensor] = {}
        counts: dict[str, int] = {}
        interrupted = False
        last_sample = None
        start = window_start = time.monotonic()
        window_steps = 0
        elapsed_before = self.elapsed
        with StopRequest() as stop:
            while target is None or self.step < target:
                self.iteration(totals, counts)
                window_steps += 1
                bar.update(1)
                now = time.monotonic()
                self.elapsed = elapsed_before + now - start
                if self.step % t.log_every == 0 or self.step == target:
                    row = self.log_row(totals, counts, window_steps / max(now - window_start, 1e-9))
                    totals, counts, window_steps, window_start = {}, {}, 0, now
                    if main:
                        self.append_metrics(row)
                        bar.set_postfix({k: f"{v:.3g}" for k, v in row.items() if k not in ("step", "epoch", "time")},
                                        refresh=False)
                if main and self.step % t.sample_every == 0:
                    last_sample = self.save_samples()
                if self.step % t.checkpoint_every == 0:
                    self.save()
                timed_out = deadline is not None and now >= deadline
                if distributed.any_rank(stop.requested or timed_out, self.world, self.device):
                    interrupted = stop.requested
                    break
        bar.close()
        if totals:
            self.append_metrics(self.log_row(totals, counts, window_steps / max(time.monotonic() - window_start, 1e-9)))
        checkpoint = self.save()
        if main and (last_sample is None or self.step % t.sample_every):
            last_sample = self.save_samples()
        plot = plot_losses(self.run_dir / "metrics.jsonl", self.run_dir / "losses.png") if main else None
        return TrainResult(self.run_dir, self.step, checkpoint, last_sample, plot, self.elapsed, interrupted)

    def log_row(self, totals, counts, iterations_per_s: float) -> dict[str, float]:
        row: dict[str, float] = {"step": self.step, "epoch": round(self.data.epoch, 4), "time": round(self.elapsed, 2)}
        row.update({k: float(v) / counts[k] for k, v in totals.items()})
        row["img_per_s"] = iterations_per_s * self.cfg.train.batch_size * self.world.size
        return row

    def append_metrics(self, row: dict[str, Any]) -> None:
        if not self.world.is_main:
            return
        with open(self.run_dir / "metrics.jsonl", "a") as f:
            f.write(json.dumps(row) + "\n")

    # --- outputs -----------------------------------------------------------------------------
    def generator(self) -> nn.Module:
        return self.ema.module if self.ema is not None else self.recipe.nets[self.recipe.generator_name]

    @torch.no_grad()
    def save_samples(self) -> Path:
        g = self.generator()
        was_training = g.training
        g.eval()
        samples = self.recipe.generate(self.fixed_z, generator=g).float()
        g.train(was_training)
        path = self.run_dir / "samples" / f"step_{self.step:06d}.png"
        if self.real_points is not None:
            more = self.recipe.generate(self.recipe.sample_latents(2000, torch.Generator().manual_seed(0),
                                                                   self.device), generator=g)
            return plot_points(more.float().cpu().numpy(), self.real_points, path, f"step {self.step}")
        return save_grid(samples, path, nrow=8)

    def weights(self) -> dict[str, torch.Tensor]:
        weights = {f"nets.{k}": v for k, v in self.recipe.nets.state_dict().items()}
        if self.ema is not None:
            weights.update({f"ema.{k}": v for k, v in self.ema.module.state_dict().items()})
        return weights

    def save(self) -> Path | None:
        if not self.world.is_main:
            return None
        if self.last_saved is not None and self.last_saved[0] == self.step:
            return self.last_saved[1]
        state = {"step": self.step, "elapsed": self.elapsed, "rng": ckpt.rng_state(),
                 "noise": self.noise.get_state(), "data": self.data.state_dict(),
                 "optimizers": {k: o.state_dict() for k, o in self.optimizers.items()},
                 "world_size": self.world.size}
        path = ckpt.save_checkpoint(self.run_dir, self.step, self.weights(), state, self.cfg.train.keep_checkpoints)
        self.last_saved = (self.step, path)
        return path

    def load(self, checkpoint: Path) -> None:
        weights = ckpt.load_weights(checkpoint)
        state = ckpt.load_state(checkpoint)
        self.recipe.nets.load_state_dict({k[5:]: v for k, v in weights.items() if k.startswith("nets.")})
        if self.ema is not None:
            ema = {k[4:]: v for k, v in weights.items() if k.startswith("ema.")}
            self.ema.module.load_state_dict(ema or self.recipe.nets[self.recipe.generator_name].state_dict())
        for name, opt in self.optimizers.items():
            opt.load_state_dict(state["optimizers"][name])
        self.data.load_state_dict(state["data"])
        self.noise.set_state(state["noise"])
        ckpt.set_rng_state(state["rng"])
        if self.world.distributed:  # rank 0's RNG was saved; give each rank its own dropout stream again
            torch.manual_seed(self.cfg.train.seed + self.world.rank + 1_000_003 * state["step"])
        self.step, self.elapsed = state["step"], state["elapsed"]


def train(cfg: RunConfig, run_dir: str | Path, resume: bool = False, progress: bool = True) -> TrainResult:
    """Build a Trainer and run it; the process group (if any) is left cleanly afterwards."""
    try:
        return Trainer(cfg, run_dir, resume=resume, progress=progress).fit()
    finally:
        distributed.leave()
