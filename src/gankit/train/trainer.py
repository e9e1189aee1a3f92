"""The one training loop. It owns the generic work; each Recipe owns its phases and losses.

Per iteration the recipe's phases run in order (Algorithm 1: the discriminator ``k`` times, then
the generator). For each phase the Trainer freezes the networks it does not train, computes the
recipe's loss under autocast, steps that network's optimiser, and updates the generator EMA.
Around the loop it handles checkpoints, sample grids, logging, the progress bar, stop conditions,
Ctrl-C, DDP and a recipe's stages; the options are checked in ``settings.py`` and the run
directory's files (config, ``metrics.jsonl``, grids, plots) written by ``run_files.py``.
"""

from __future__ import annotations

import contextlib
import functools
import math
import signal
import time
import warnings
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any, Callable

import numpy as np
import torch
from torch import nn
from torch.nn.parallel import DistributedDataParallel
from tqdm.auto import tqdm

from gankit.config import ConfigError, RunConfig
from gankit.data import TOY_DISTRIBUTIONS, DeviceDataset, load_dataset
from gankit.models import Progress, Step
from gankit.models.examples import examples_of
from gankit.models.recipe import OptimizerSpec, StageChange
from gankit.noise import Noise
from gankit.models.schedules import linear_decay
from gankit.models.registry import build_recipe, read_saved_config, recipe_class, recipe_options
from gankit.nn.fuse import fuse_upsample_conv
from gankit.train import checkpoint as ckpt
from gankit.train import distributed
from gankit.train.ema import EMA
from gankit.train.errors import CheckpointWriteError, DivergenceError
from gankit.train.lock import RunLock
from gankit.train.progress import ProgressLine
from gankit.train.run_files import RunFiles
from gankit.train.settings import changed_options, check_train_config, cpu_has_bf16, make_optimizer, resolve_precision

TOY_PLOT_POINTS = 2000
@dataclass
class TrainResult:
    run_dir: Path
    step: int
    checkpoint: Path | None
    samples: Path | None
    loss_plot: Path | None
    seconds: float
    interrupted: bool
    precision: str  # as trained: "auto" resolved to fp32 or bf16


def stream_seed(seed: int, position: int) -> int:
    """The main stream keeps the run's seed (the sampling of single-stream runs never changes)."""
    return seed if position == 0 else seed + 1_000_003 * position


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
    on_iteration : called with the Trainer after every iteration of ``fit()`` (e.g. to take
        snapshots for a figure); it must not change the training state.
    force : with ``resume``, accept options that differ from the saved run's (see
        ``RESUMABLE_CHANGES`` for those that may always change); without it they are refused.
    """

    def __init__(self, cfg: RunConfig, run_dir: str | Path, resume: bool = False, progress: bool = True,
                 on_iteration: Callable[["Trainer"], None] | None = None, force: bool = False):
        check_train_config(cfg)
        self.cfg, t = cfg, cfg.train
        self.run_dir = Path(run_dir)
        self.progress_bar = progress
        self.on_iteration = on_iteration
        existing = ckpt.latest_checkpoint(self.run_dir)
        if resume and existing is None:
            raise FileNotFoundError(f"--resume: no checkpoint in {self.run_dir}/checkpoints; "
                                    "start the run without --resume")
        if not resume and existing is not None:
            raise FileExistsError(f"{self.run_dir} already holds a run (newest checkpoint {existing.name}); "
                                  "continue it with --resume or choose another --out")
        if resume and not force:
            self.check_resume_options(cfg)

        self.world = distributed.join(t.device, t.collective_timeout_s)
        self.device = distributed.device_for(t.device, self.world)
        self.lock = None
        torch.manual_seed(t.seed)  # the same initial weights on every rank

        infos, sources = self.open_streams(cfg)
        self.recipe = build_recipe(cfg, infos).to(self.device)
        self.optimizer_specs = self.recipe.optimizers()
        self.prepare_networks()
        self.enter_stage()
        if self.world.distributed:  # but each rank its own dropout masks
            torch.manual_seed(t.seed + self.world.rank)

        self.optimizers = {name: make_optimizer(self.parameters_of(spec), spec, cfg)
                           for name, spec in self.optimizer_specs.items()}
        if t.lr_decay is not None:  # a schedule a recipe sets itself stays its own
            decay = functools.partial(linear_decay, start=t.lr_decay)
            self.optimizer_specs = {name: spec if spec.schedule else replace(spec, schedule=decay)
                                    for name, spec in self.optimizer_specs.items()}
        self.scheduled = {name: spec for name, spec in self.optimizer_specs.items() if spec.schedule is not None}
        gen = self.recipe.generator_name
        self.ema = (EMA(self.recipe.nets[gen], t.ema, t.ema_kimg, t.ema_rampup)
                    if t.ema > 0 or t.ema_kimg else None)
        # The latent stream is its own seeded generator (not the global RNG that dropout uses), so
        # every rank draws the same global batch and a resumed run continues the same stream.
        self.noise = Noise(torch.Generator().manual_seed(t.seed), self.device, self.world.rank, self.world.size)
        # Inputs the data give (pix2pix's image to translate) come from held-out examples in grids.
        self.examples = examples_of(cfg) if self.recipe.needs_examples else None
        grid_noise = Noise.seeded(t.seed + 1, self.device)
        self.grid_inputs, self.grid_columns = (self.recipe.grid_inputs(grid_noise) if self.examples is None
                                               else self.recipe.grid_inputs(grid_noise, self.examples))
        self.precision = resolve_precision(t.precision, self.device)
        self.autocast = torch.autocast(self.device.type, dtype=torch.bfloat16, enabled=self.precision == "bf16")
        if t.precision == "bf16" and self.device.type == "cpu" and cpu_has_bf16() is False:
            warnings.warn("--precision bf16 on a CPU without AVX512-BF16 or AMX is emulated and slower than "
                          "fp32 (0.5-0.9x in benchmarks/RESULTS.md); use fp32 here", stacklevel=2)
        self.step, self.images, self.elapsed = 0, 0, 0.0
        # The first (iteration, phase) whose loss was not finite, as a device tensor: checking it
        # costs a host sync, so it is read only when logging and before each checkpoint.
        self.first_nonfinite = torch.full((2,), -1, dtype=torch.long, device=self.device)
        self.target: int | None = None
        self.budget_s: float | None = None
        self.last_saved: tuple[int, Path] | None = None
        if self.world.is_main:  # taken only now: a run that fails to set up leaves no folder behind
            self.lock = RunLock(self.run_dir)
        # Only the main rank writes into the run directory.
        self.files = RunFiles(self.run_dir, t.tensorboard) if self.world.is_main else None
        if resume:
            self.load(existing)
            if self.files:
                self.files.forget_metrics_after(self.step)
        if self.files:
            main = next(iter(infos.values()))
            self.files.write_config(cfg, {"data_shape": list(main.shape), "num_classes": main.num_classes,
                                          "world_size": self.world.size, "data_source": sources[0],
                                          "streams": {name: info.to_dict() for name, info in infos.items()}})

    # --- set-up ------------------------------------------------------------------------------
    def check_resume_options(self, cfg: RunConfig) -> None:
        if not (self.run_dir / "config.yaml").exists():
            return
        saved, _ = read_saved_config(self.run_dir)
        if changes := changed_options(saved, cfg):
            raise ConfigError(f"--resume would change {', '.join(changes)} of the run in {self.run_dir}; "
                              "resume with the saved options, or pass --force to continue with the new ones")

    def open_streams(self, cfg: RunConfig):
        """Load every stream the recipe declares onto the device; (infos by stream, data sources)."""
        t, d = cfg.train, cfg.data
        specs = recipe_class(cfg.model).streams(cfg, recipe_options(cfg))
        self.streams: dict[str, DeviceDataset] = {}
        self.stream_batch_sizes: dict[str, int] = {}
        infos, sources = {}, []
        for position, (name, spec) in enumerate(specs.items()):
            if callable(spec.data):
                data = spec.data("train")
            else:
                data = load_dataset(spec.data, "train", d.root, d.size, d.channels, store=d.store)
            batch_size = spec.batch_size or t.batch_size
            self.streams[name] = DeviceDataset(data, self.device, batch_size, stream_seed(t.seed, position),
                                               self.world.rank, self.world.size)
            self.stream_batch_sizes[name] = batch_size
            infos[name] = data.info
            sources.append(data.source)
            if position == 0:
                self.real_points = None if data.is_image else np.asarray(data.x[:TOY_PLOT_POINTS])
        self.main_stream = next(iter(specs))
        return infos, sources

    def check_recipe(self) -> None:
        """Say which declaration of the recipe is inconsistent, before anything trains."""
        r, problems = self.recipe, []
        for phase in self.phases:
            for name in phase.optimizers:
                if name not in self.optimizer_specs:
                    problems.append(f"phase {phase.name!r} trains optimiser {name!r}, which optimizers() does not "
                                    f"declare (it declares {', '.join(self.optimizer_specs) or 'none'})")
            for name in phase.draws:
                if name not in self.streams:
                    problems.append(f"phase {phase.name!r} draws from stream {name!r}; the streams are "
                                    f"{', '.join(self.streams)}")
            for name in phase.keeps_graph_of:
                if name not in r.nets:
                    problems.append(f"phase {phase.name!r} keeps the graph of {name!r}, which is not in nets")
            if phase.repeats < 1 or phase.every < 1:
                problems.append(f"phase {phase.name!r}: repeats and every must be at least 1")
        for name, spec in self.optimizer_specs.items():
            for path in spec.nets:
                try:
                    r.nets.get_submodule(path)
                except AttributeError:
                    problems.append(f"optimiser {name!r} steps {path!r}, which is not a network of the recipe "
                                    f"(nets: {', '.join(r.nets)})")
        if problems:
            raise ConfigError(f"recipe {r.name!r}: " + "; ".join(problems))

    def parameters_of(self, spec: OptimizerSpec) -> list[nn.Parameter]:
        params = [p for path in spec.nets for p in self.recipe.nets.get_submodule(path).parameters()]
        owned = getattr(self, "_owned", set())
        if any(id(p) in owned for p in params):
            raise ConfigError(f"recipe {self.recipe.name!r}: a parameter of {spec.nets} belongs to two optimisers; "
                              "name disjoint sub-modules (e.g. 'G.mapping' and 'G.synthesis')")
        self._owned = owned | {id(p) for p in params}
        return params

    def enter_stage(self, change: StageChange | None = None) -> None:
        """Take the recipe's phases as they are now (at start-up, after a resume, at a stage boundary):
        what each phase trains and keeps differentiable, and the DDP wrappers that follow from it;
        start the optimisers the change names afresh."""
        self.phases = self.recipe.phases()
        self.check_recipe()
        self.stepped = {phase.name: self.stepped_networks(phase) for phase in self.phases}
        # The networks a phase differentiates: those it steps, and those whose graph it keeps.
        self.live = {phase.name: self.stepped[phase.name] | set(phase.keeps_graph_of) for phase in self.phases}
        self.wrapped: dict[str, nn.Module] = {}
        if self.world.distributed:
            ids = [self.device.index] if self.device.type == "cuda" else None
            names = set().union(*self.live.values())
            for name in names:  # DDP registers the parameters that require gradients; phases set them anew
                self.recipe.nets[name].requires_grad_(True)
            # Sorted: every rank must build its DDP wrappers (and their collectives) in one order.
            self.wrapped = {name: DistributedDataParallel(self.recipe.nets[name], device_ids=ids,
                                                          find_unused_parameters=self.recipe.grows)
                            for name in sorted(names)}
        for name in change.reset_optimizers if change else ():
            if name not in self.optimizers:
                raise ConfigError(f"recipe {self.recipe.name!r} resets optimiser {name!r}; its optimisers are "
                                  f"{', '.join(self.optimizers)}")
            self.optimizers[name].state.clear()  # Adam's moments and step counts; lr and betas stay
        if change is not None and change.restart_ema and self.ema is not None:
            self.ema.restart(self.step, self.images)

    def stepped_networks(self, phase) -> set[str]:
        """The top-level networks whose parameters a phase's optimisers step."""
        return {path.split(".")[0] for name in phase.optimizers for path in self.optimizer_specs[name].nets}

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
        # Upsample(x2) + 3x3 conv pairs become one transposed conv: the same function and
        # parameters with 2.25x fewer multiply-adds (gankit/nn/fuse.py).
        for net in nets.values():
            fuse_upsample_conv(net)
        if t.compile:
            for net in nets.values():
                net.compile()

    # --- one iteration -----------------------------------------------------------------------
    def draw(self, stream: str):
        """The next batch of ``stream``, counted in the progress."""
        data = self.streams[stream]
        self.images += data.global_batch
        return data.next()

    def current_progress(self) -> Progress:
        fractions = []
        if self.target:
            fractions.append(self.step / self.target)
        if self.budget_s:
            fractions.append(self.elapsed / self.budget_s)
        return Progress(self.step, self.images, min(1.0, max(fractions, default=0.0)))

    def apply_schedules(self, progress: Progress) -> None:
        for name, size in self.recipe.data_schedule(progress).items():
            stream = self.streams[name]
            if size.batch_size is not None and size.batch_size != stream.batch_size:
                stream.batch_size = size.batch_size
            if size.resolution is not None and size.resolution != stream.resolution:
                stream.set_resolution(size.resolution)
        for name, spec in self.scheduled.items():
            lr = spec.lr * spec.schedule(progress)
            for group in self.optimizers[name].param_groups:
                group["lr"] = lr

    def enter_phase(self, phase) -> None:
        live = self.live[phase.name]
        for name, net in self.recipe.nets.items():
            net.requires_grad_(name in live)
        self.recipe.active = {name: self.wrapped[name] for name in live if name in self.wrapped}

    def iteration(self, totals: dict[str, torch.Tensor], counts: dict[str, int]) -> None:
        progress = self.current_progress()
        change = self.recipe.advance(progress)
        if change is not None:
            self.enter_stage(change)
        self.apply_schedules(progress)
        step = Step({}, progress, self.noise, self.draw,
                    batch_sizes={name: data.batch_size for name, data in self.streams.items()})
        generator = self.recipe.generator_name
        stepped_generator = False
        for index, phase in enumerate(self.phases):
            if self.step % phase.every:
                continue
            optimizers = [self.optimizers[name] for name in phase.optimizers]
            where = torch.tensor([self.step, index], device=self.device)
            for _ in range(phase.repeats):
                step.batches = {name: self.draw(name) for name in phase.draws}
                self.enter_phase(phase)
                with self.autocast:
                    loss, stats = self.recipe.loss(phase.name, step)
                if phase.gain != 1.0:
                    loss = loss * phase.gain
                fresh = (self.first_nonfinite[0] < 0) & ~torch.isfinite(loss.detach())
                self.first_nonfinite.copy_(torch.where(fresh, where, self.first_nonfinite))
                for optimizer in optimizers:
                    optimizer.zero_grad(set_to_none=True)
                loss.backward()
                for optimizer in optimizers:
                    optimizer.step()
                for key, value in stats.items():
                    totals[key] = totals[key] + value if key in totals else value.clone()
                    counts[key] = counts.get(key, 0) + 1
            stepped_generator |= generator in self.stepped[phase.name]
        # Once per iteration, also when several phases step G (StyleGAN2's path-length phase).
        if self.ema is not None and stepped_generator:
            self.ema.update(self.recipe.nets[generator], self.step, self.images,
                            self.streams[self.main_stream].global_batch)
        self.step += 1

    # --- the loop ----------------------------------------------------------------------------
    def fit(self) -> TrainResult:
        t = self.cfg.train
        # No budget given at all: one epoch. Otherwise the first limit reached stops the run.
        limits = [t.steps] if t.steps else []
        if t.epochs or not any(v is not None for v in (t.steps, t.epochs, t.minutes)):
            main = self.streams[self.main_stream]
            real_per_iteration = sum(p.repeats for p in self.phases if self.main_stream in p.draws) or 1
            limits.append(math.ceil((t.epochs or 1.0) * main.batches_per_epoch / real_per_iteration))
        self.target = target = min(limits) if limits else None
        self.budget_s = 60 * t.minutes if t.minutes else None
        deadline = time.monotonic() + self.budget_s if self.budget_s else None
        is_main = self.world.is_main
        bar = ProgressLine(total=target, initial=self.step, enabled=self.progress_bar and is_main, deadline=deadline,
                           desc=f"{self.cfg.model} on {self.cfg.data.name}")
        totals: dict[str, torch.Tensor] = {}
        counts: dict[str, int] = {}
        interrupted = False
        last_sample = None
        start = window_start = time.monotonic()
        window_images = self.images
        elapsed_before = self.elapsed
        with StopRequest() as stop:
            while target is None or self.step < target:
                self.iteration(totals, counts)
                bar.update(1)
                now = time.monotonic()
                self.elapsed = elapsed_before + now - start
                if self.on_iteration is not None:
                    self.on_iteration(self)
                if self.step % t.log_every == 0 or self.step == target:
                    self.check_finite()
                    row = self.log_row(totals, counts, (self.images - window_images) / max(now - window_start, 1e-9))
                    totals, counts, window_images, window_start = {}, {}, self.images, now
                    if is_main:
                        self.append_metrics(row)
                        bar.set_postfix({k: f"{v:.3g}" for k, v in row.items() if k not in ("step", "epoch", "time")},
                                        refresh=False)
                if is_main and self.step % t.sample_every == 0:
                    last_sample = self.save_samples()
                if self.step % t.checkpoint_every == 0:
                    self.save()
                timed_out = deadline is not None and now >= deadline
                if distributed.any_rank(stop.requested or timed_out, self.world, self.device):
                    interrupted = stop.requested
                    break
        bar.close()
        if totals:
            now = time.monotonic()
            self.append_metrics(self.log_row(totals, counts, (self.images - window_images) / max(now - window_start, 1e-9)))
        checkpoint = self.save()
        if is_main and (last_sample is None or self.step % t.sample_every):
            last_sample = self.save_samples()
        plot = None
        if self.files:
            toy = TOY_DISTRIBUTIONS.get(self.cfg.data.name)
            plot = self.files.finish(self.real_points is not None, None if toy is None else toy.centers)
        return TrainResult(self.run_dir, self.step, checkpoint, last_sample, plot, self.elapsed, interrupted,
                           self.precision)

    def log_row(self, totals, counts, images_per_s: float) -> dict[str, float]:
        """One row of ``metrics.jsonl``: the statistics averaged over the iterations since the last
        row and, under DDP, over the ranks (every rank calls this at the same steps)."""
        main = self.streams[self.main_stream]
        row: dict[str, float] = {"step": self.step, "epoch": round(main.epoch, 4), "time": round(self.elapsed, 2)}
        means = {k: float(v) / counts[k] for k, v in totals.items()}
        if means and self.world.distributed:
            names = sorted(means)  # one order on every rank
            averaged = distributed.mean_over_ranks(torch.tensor([means[k] for k in names], dtype=torch.float64,
                                                                device=self.device))
            means.update(zip(names, averaged.tolist()))
        row.update(means)
        row["img_per_s"] = images_per_s  # real images drawn per second, all ranks
        return row

    def append_metrics(self, row: dict[str, Any]) -> None:
        if self.files:
            self.files.append_metrics(row)

    # --- outputs -----------------------------------------------------------------------------
    def generator(self) -> nn.Module:
        return self.ema.module if self.ema is not None else self.recipe.nets[self.recipe.generator_name]

    @torch.no_grad()
    def save_samples(self) -> Path:
        """The sample grid of this step (the toy data's scatter plot), drawn with the EMA generator."""
        g = self.generator()
        was_training = g.training
        g.eval()
        try:
            if self.real_points is not None:
                inputs = self.recipe.draw_inputs(TOY_PLOT_POINTS, Noise.seeded(0, self.device))
                points = self.recipe.generate(inputs, net=g).float().cpu().numpy()
                return self.files.write_points(self.step, points, self.real_points, self.recipe.nets)
            samples = self.recipe.grid_images(self.recipe.generate(self.grid_inputs, net=g).float())
            return self.files.write_grid(self.step, samples, self.grid_columns, self.recipe.nets)
        finally:
            g.train(was_training)

    def close(self) -> None:
        """Release the run directory for other processes (also done when the process ends)."""
        if getattr(self, "files", None) is not None:
            self.files.close()
        if self.lock is not None:
            self.lock.release()

    def check_finite(self) -> None:
        """Raise :class:`DivergenceError` if a loss or a weight is NaN or infinite."""
        step, phase = self.first_nonfinite.tolist()
        if step < 0:
            finite = [torch.isfinite(p.detach()).all() for p in self.recipe.parameters()]
            if not finite or bool(torch.stack(finite).all()):
                return
            what = f"a weight became NaN or infinite by step {self.step}"
        else:
            what = f"the loss of phase {self.phases[phase].name!r} was NaN or infinite at step {step + 1}"
        good = ckpt.latest_checkpoint(self.run_dir)
        where = (f"the last good checkpoint is {good} (step {int(good.name.split('_')[-1])}); "
                 "continue from it with --resume, e.g. with a lower learning rate (--set train.lr_d=... --force)"
                 if good else "no checkpoint was written before it; start again with a lower learning rate")
        raise DivergenceError(f"training diverged: {what}. Nothing after it is saved; {where}")

    def save(self) -> Path | None:
        if not self.world.is_main:
            return None
        if self.last_saved is not None and self.last_saved[0] == self.step:
            return self.last_saved[1]
        self.check_finite()
        weights, recipe_extra = ckpt.pack_recipe(self.recipe, self.ema.module if self.ema is not None else None)
        state = {"step": self.step, "images": self.images, "elapsed": self.elapsed, "rng": ckpt.rng_state(),
                 "noise": self.noise.generator.get_state(),
                 "streams": {name: data.state_dict() for name, data in self.streams.items()},
                 "optimizers": {k: o.state_dict() for k, o in self.optimizers.items()},
                 "recipe": recipe_extra, "world_size": self.world.size,
                 "ema_origin": list(self.ema.origin) if self.ema is not None else None}
        try:
            path = ckpt.save_checkpoint(self.run_dir, self.step, weights, state, self.cfg.train.keep_checkpoints)
        except OSError as exc:
            raise CheckpointWriteError(f"could not write the checkpoint of step {self.step} into "
                                       f"{self.run_dir / 'checkpoints'}: {exc}. The earlier checkpoints are intact; "
                                       "free space (or fix the folder) and continue with --resume") from exc
        self.last_saved = (self.step, path)
        return path

    def load(self, checkpoint: Path) -> None:
        weights = ckpt.load_weights(checkpoint)
        state = ckpt.load_state(checkpoint)
        try:
            ckpt.unpack_recipe(self.recipe, weights, state.get("recipe", {}), self.ema.module if self.ema else None)
        except RuntimeError as exc:  # torch lists every mismatching tensor; its first line says enough
            raise ConfigError(f"{checkpoint} does not fit this run's networks ({str(exc).splitlines()[-1].strip()}); "
                              "it was trained with other model options or data (e.g. data.size or "
                              "data.channels)") from exc
        for name, opt in self.optimizers.items():
            opt.load_state_dict(state["optimizers"][name])
        streams = state.get("streams") or {self.main_stream: state["data"]}  # older checkpoints: one stream
        for name, data in self.streams.items():
            saved = streams[name]
            if saved.get("batch_size") and saved["global_batch"] == saved["batch_size"] * self.world.size:
                data.batch_size = saved["batch_size"]  # continue exactly at the next unseen example
            data.load_state_dict(saved)
            data.batch_size = self.stream_batch_sizes[name]  # the recipe's data_schedule re-applies its own
        if self.ema is not None and state.get("ema_origin"):
            self.ema.restart(*state["ema_origin"])
        self.noise.generator.set_state(state["noise"])
        ckpt.set_rng_state(state["rng"])
        if self.world.distributed:  # rank 0's RNG was saved; give each rank its own dropout stream again
            torch.manual_seed(self.cfg.train.seed + self.world.rank + 1_000_003 * state["step"])
        self.step, self.elapsed = state["step"], state["elapsed"]
        self.images = state.get("images", 0)
        self.enter_stage()  # the phases of the stage the recipe's buffers were saved in


def train(cfg: RunConfig, run_dir: str | Path, resume: bool = False, progress: bool = True,
          force: bool = False) -> TrainResult:
    """Build a Trainer and run it; the process group (if any) and the run's lock are left afterwards."""
    trainer = None
    finished = False
    try:
        trainer = Trainer(cfg, run_dir, resume=resume, progress=progress, force=force)
        result = trainer.fit()
        finished = True
        return result
    finally:
        if trainer is not None:
            trainer.close()
        # A clean end waits for every rank before the group goes; after an error, it goes at once.
        distributed.leave(failed=not finished)
