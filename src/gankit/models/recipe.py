"""The Recipe: the seam between one GAN family and the generic Trainer.

A recipe declares what it needs and computes its losses; the Trainer owns everything generic
(optimisers, precision, DDP, EMA, checkpoints, logging, sample grids). A recipe declares

* its data streams (:class:`Stream`): one by default, the dataset of ``--data``; CycleGAN two;
* its networks, in ``self.nets`` (the generator under ``"G"``), and any state that must survive a
  resume (image pools, running averages) as modules or buffers of the recipe itself;
* its optimisers (:class:`OptimizerSpec`): which networks each steps, with which learning rate,
  betas and schedule;
* its phases (:class:`Phase`): Algorithm 1 is ``D`` k times, then ``G``; a phase can step several
  optimisers, run every N iterations with a gain (lazy regularisation), and draw batches;
* its generator's inputs (:class:`~gankit.models.inputs.Input`): latents, labels, codes, a
  conditioning image; sampling everywhere goes through them, and an input ``given`` by the data is
  drawn from the held-out examples wherever nobody passes it;
* optionally, how it changes as training goes (``advance``: a stage, a fade-in weight) and how it
  truncates its samples (``truncate``);

and computes the loss of a phase from a :class:`Step`. A new family is one file in
``gankit/models`` that never touches the Trainer. NVlabs' stylegan2-ada-pytorch splits training
the same way (``loss.accumulate_gradients(phase, ...)`` vs ``training_loop.py``).
"""

from __future__ import annotations

import abc
import contextlib
from dataclasses import dataclass, field
from typing import Any, Callable, ClassVar, Iterator, Mapping

import torch
import torch.nn.functional as F
from torch import nn

from gankit.augment import AdaptiveAugment, make_augment
from gankit.config import ConfigError, RunConfig, TrainConfig
from gankit.data.catalog import DatasetInfo
from gankit.models.inputs import Input, draw_inputs, example_field
from gankit.noise import Noise
from gankit.models.registry import register

Batch = dict[str, torch.Tensor]  # named tensors of one batch: "x", "y", a paired image, a mask, ...
MAIN_STREAM = "real"
GRID_SIZE = 64  # images in the Trainer's sample grids (8 x 8); one row per class for labelled ones
GRID_COLUMNS = 8


@dataclass(frozen=True)
class Stream:
    """A source of batches for a recipe.

    Attributes
    ----------
    data : a dataset name (``fashion-mnist``, ``folder:PATH``, ...) or a function ``split ->
        ImageSet`` for data a recipe derives itself (paired views, masks). ``data.size``,
        ``data.channels``, ``data.root`` and ``data.store`` apply to named datasets.
    batch_size : examples per batch and process; None takes ``train.batch_size``.
    """

    data: str | Callable[[str], Any]
    batch_size: int | None = None


@dataclass(frozen=True)
class DataSize:
    """A stream's batch size and image resolution from some point of training on (None: unchanged).

    The resolution serves the stored images average-pooled to ``resolution`` x ``resolution``
    (Progressive GAN's growing); it must not exceed the stored size.
    """

    batch_size: int | None = None
    resolution: int | None = None


@dataclass(frozen=True)
class OptimizerSpec:
    """One optimiser and what it steps.

    Attributes
    ----------
    nets : the networks whose parameters it owns: names in ``recipe.nets`` or dotted paths to
        sub-modules (``"G.mapping"``). A parameter belongs to at most one optimiser.
    lr : the learning rate (``Recipe.optimizers`` gives ``train.lr_g`` to the generator and
        ``train.lr_d`` to every other network by default).
    betas : Adam's betas; None takes ``train.betas``.
    schedule : a function of :class:`Progress` giving the learning-rate multiplier (e.g. a linear
        decay); None keeps it constant. It is a pure function of the progress, which the
        checkpoint holds, so a resumed run continues the same schedule.
    """

    nets: tuple[str, ...]
    lr: float
    betas: tuple[float, float] | None = None
    schedule: Callable[["Progress"], float] | None = None


@dataclass(frozen=True)
class Phase:
    """One optimisation phase of an iteration.

    Attributes
    ----------
    name : passed back to ``Recipe.loss`` ("D", "G", ...).
    trains : the optimisers (by name, see ``Recipe.optimizers``) stepped after this phase's loss;
        every network they do not own is frozen during the phase.
    repeats : how many times the phase runs per iteration (Algorithm 1's k for "D").
    draws : the streams a batch is drawn from before each repeat (``step.batch``); the generator
        phase of a plain GAN draws none, so it does not advance the data epoch for nothing.
    every : run only on iterations that are a multiple of this (lazy regularisation).
    gain : the loss is multiplied by this before the backward pass (``every`` for lazy
        regularisation, so the penalty keeps its weight on average).
    keeps_graph_of : networks left differentiable although not trained here, because a later
        phase of the same iteration backpropagates through an output computed now (with k = 1
        the generator pass of the D phase is reused by the G phase).
    """

    name: str
    trains: str | tuple[str, ...]
    repeats: int = 1
    draws: tuple[str, ...] = (MAIN_STREAM,)
    every: int = 1
    gain: float = 1.0
    keeps_graph_of: tuple[str, ...] = ()

    @property
    def optimizers(self) -> tuple[str, ...]:
        return (self.trains,) if isinstance(self.trains, str) else tuple(self.trains)


@dataclass(frozen=True)
class StageChange:
    """What ``Recipe.advance`` returns when training enters a new stage.

    The Trainer then asks ``phases()`` again (the phases, the networks they train and keep
    differentiable, the DDP wrappers all follow the new stage) and starts the named optimisers
    afresh: their moments and step counts are dropped, as the official Progressive GAN does at
    each new resolution (``reset_opt_for_new_lod``).

    Attributes
    ----------
    reset_optimizers : names of ``Recipe.optimizers()`` whose state starts anew.
    restart_ema : the EMA of G starts its warm-up anew, for a stage whose networks start from their
        initialisation (StackGAN's stage II): otherwise the average keeps them for hundreds of steps.
    """

    reset_optimizers: tuple[str, ...] = ()
    restart_ema: bool = False


@dataclass(frozen=True)
class Progress:
    """Where training stands, for schedules.

    Attributes
    ----------
    iteration : iterations completed before the current one.
    images : real examples drawn so far, over all streams and ranks.
    fraction : the fraction of the training budget used (by the limit nearest to stopping);
        0 when the run has no budget to measure against.
    """

    iteration: int = 0
    images: int = 0
    fraction: float = 0.0


@dataclass
class Step:
    """What a phase's loss may read: its batches, the progress and the seeded random draws.

    ``shared`` lives for one iteration, so one phase can hand a forward pass to the next.
    """

    batches: dict[str, Batch]
    progress: Progress
    noise: Noise
    reader: Callable[[str], Batch]
    batch_sizes: dict[str, int] = field(default_factory=dict)
    shared: dict[str, Any] = field(default_factory=dict)

    @property
    def batch_size(self) -> int:
        """This process's batch size of the main stream now (it may change with a stage), also in
        phases that draw no data: a generator phase makes as many fakes as D saw reals. A Step
        built by hand without ``batch_sizes`` (a test of one loss) gives its batch's size."""
        if self.batch_sizes:
            return next(iter(self.batch_sizes.values()))
        if self.batches:
            return len(next(iter(self.batch.values())))
        raise RuntimeError("this Step knows no batch size: build it with batch_sizes={stream: size}")

    @property
    def batch(self) -> Batch:
        """The batch drawn for this phase (from its first stream)."""
        if not self.batches:
            raise RuntimeError("this phase draws no data: declare Phase(..., draws=('real',))")
        return next(iter(self.batches.values()))

    def next_batch(self, stream: str = MAIN_STREAM) -> Batch:
        """Draw one more batch from ``stream`` (e.g. fresh real data for an unrolled discriminator)."""
        return self.reader(stream)

    def randn(self, n: int, *shape: int) -> torch.Tensor:
        return self.noise.randn(n, *shape)

    def rand(self, n: int, *shape: int) -> torch.Tensor:
        return self.noise.rand(n, *shape)

    def randint(self, high: int, n: int, *shape: int) -> torch.Tensor:
        return self.noise.randint(high, n, *shape)


class Recipe(nn.Module, abc.ABC):
    """Base class of a GAN family.

    Subclasses set ``name`` (which registers them), ``description``, ``Options`` (a dataclass of
    ``model.*`` options) and ``train_defaults`` (``train.*`` values the family prefers, e.g. its
    loss); put their networks in ``self.nets`` (the generator under ``"G"``); and implement
    ``phases``, ``loss`` and ``generate``. Everything else has a default to override.

    Parameters
    ----------
    options : the ``Options`` dataclass with the run's ``model.*`` values.
    data : stream name -> the :class:`~gankit.data.catalog.DatasetInfo` of its data as served
        (``data_shape`` and ``num_classes`` are the first stream's).
    train : the run's ``train.*`` configuration.
    """

    name: ClassVar[str]
    description: ClassVar[str]
    Options: ClassVar[type]
    train_defaults: ClassVar[dict[str, Any]] = {}
    generator_name: ClassVar[str] = "G"
    # The train.augment kinds whose hooks the family's losses call (``augmented``; ADA also ``observe_real``).
    augmentations: ClassVar[tuple[str, ...]] = ()
    # True when a stage leaves some parameters of a trained network unused (a growing network's
    # later blocks): DDP then looks for them after each forward pass, which costs a little time.
    grows: ClassVar[bool] = False

    def __init_subclass__(cls, **kwargs):
        super().__init_subclass__(**kwargs)
        if "name" in cls.__dict__:  # a concrete family; shared bases leave the name out
            register(cls)

    def __init__(self, options: Any, data: Mapping[str, DatasetInfo], train: TrainConfig):
        super().__init__()
        if not data:
            raise ValueError("a recipe needs at least one data stream")
        self.options = options
        self.data = dict(data)
        main = next(iter(self.data.values()))
        self.data_shape = main.shape
        self.num_classes = main.num_classes
        self.train_config = train
        self.nets = nn.ModuleDict()
        # Under DDP the Trainer puts the wrapped copies of the networks a phase trains here.
        self.active: dict[str, nn.Module] = {}
        # What D sees of every image (train.augment); a module of the recipe, so ADA's p is checkpointed.
        self.augment = make_augment(train.augment)
        kind = train.augment.partition(":")[0]
        if self.augment is not None and kind not in self.augmentations:
            supported = f"it supports {', '.join(self.augmentations)}" if self.augmentations else "it supports none"
            raise ConfigError(f"model {self.name!r} does not apply train.augment={train.augment!r} ({supported}); "
                              "its losses must route D's inputs through Recipe.augmented")

    # --- the seam: what every family defines --------------------------------------------------
    @abc.abstractmethod
    def phases(self) -> list[Phase]:
        """The phases of one iteration, in order."""

    @abc.abstractmethod
    def loss(self, phase: str, step: Step) -> tuple[torch.Tensor, dict[str, torch.Tensor]]:
        """The scalar loss of ``phase`` and detached statistics to log (name -> 0-d tensor)."""

    @abc.abstractmethod
    def generate(self, inputs: dict[str, torch.Tensor], net: nn.Module | None = None) -> torch.Tensor:
        """Samples in the data's range from the generator's ``inputs`` (with ``net``, e.g. the EMA copy)."""

    # --- declarations with defaults -----------------------------------------------------------
    @classmethod
    def streams(cls, cfg: RunConfig, options: Any) -> dict[str, Stream]:
        """The data streams, by name; the first is the main one. Default: ``--data`` as "real"."""
        return {MAIN_STREAM: Stream(cfg.data.name)}

    def optimizers(self) -> dict[str, OptimizerSpec]:
        """One optimiser per network that a phase trains: the generator's at ``train.lr_g``, the others at ``train.lr_d``."""
        t = self.train_config
        names = dict.fromkeys(name for phase in self.phases() for name in phase.optimizers)
        return {name: OptimizerSpec((name,), lr=t.lr_g if name == self.generator_name else t.lr_d)
                for name in names}

    def inputs(self) -> tuple[Input, ...]:
        """The generator's inputs. Default: a standard normal latent ``z`` of ``latent_dim``."""
        return (Input("z", (self.latent_dim,)),)

    def data_schedule(self, progress: Progress) -> dict[str, DataSize]:
        """Batch size and resolution of each stream from now on; default: as configured, always."""
        return {}

    def advance(self, progress: Progress) -> StageChange | None:
        """Called before every iteration with where training stands; default: nothing changes.

        A recipe whose shape changes as training goes (a stage, a fade-in weight α) updates that
        state here. Keep it in buffers of the recipe (``register_buffer``): checkpoints hold them,
        so a resumed run continues mid-stage, mid-fade. Return a :class:`StageChange` when the
        phases or the networks they train change, or optimisers must start afresh; else None.
        Use ``progress.images`` or ``progress.iteration``, not ``fraction`` (a time budget makes
        it depend on the clock).
        """
        return None

    def truncate(self, inputs: dict[str, torch.Tensor], psi: float,
                 given: frozenset[str] = frozenset()) -> dict[str, torch.Tensor]:
        """The truncation trick: ``inputs`` moved towards the mean sample by ``psi`` (1: unchanged).

        Default: every normal input not ``given`` by the caller is scaled by ``psi`` towards its
        mean 0. A family that truncates elsewhere (StyleGAN in W, towards a tracked average)
        overrides it, e.g. by adding a per-sample ``psi`` entry that ``generate`` reads. Every
        sampler (grids, ``gankit sample/eval/interpolate``, ``serve``, the report) goes through it.
        """
        out = dict(inputs)
        for spec in self.inputs():
            if spec.distribution == "normal" and spec.name not in given:
                out[spec.name] = inputs[spec.name] * psi
        return out

    def style_layers(self) -> int:
        """How many per-layer styles a sample has that may come from two latents (StyleGAN2's
        ``num_ws``); 0: the family has no styles to mix."""
        return 0

    def mix_styles(self, inputs: dict[str, torch.Tensor], other: dict[str, torch.Tensor],
                   cutoff: int) -> dict[str, torch.Tensor]:
        """``inputs`` whose styles from layer ``cutoff`` on come from ``other``'s latents (style
        mixing; ``gankit serve``'s mixing control). Families with :meth:`style_layers` override it."""
        raise ConfigError(f"model {self.name!r} has no styles to mix")

    def stages(self) -> tuple[str, ...]:
        """The stages a sample can be drawn at, up to the current one (Progressive GAN: ``"4x4"``,
        ``"8x8"``, ...); default: none, the model has one shape."""
        return ()

    def stage_state(self, index: int) -> dict[str, float]:
        """The buffers that put the model at stage ``index`` of :meth:`stages` (fully faded in):
        by default its ``stage`` buffer; Progressive GAN adds ``alpha``."""
        return {"stage": index}

    @contextlib.contextmanager
    def at_stage(self, name: str) -> Iterator[None]:
        """Within the block, samples are drawn at stage ``name`` (one of :meth:`stages`), fully faded in.

        The report's growth figure and ``gankit sample --stage`` use it. A family with stages
        defines :meth:`stages` and, if a stage is more than its ``stage`` buffer, :meth:`stage_state`;
        the buffers are restored on leaving.
        """
        names = self.stages()
        if not names:
            raise ConfigError(f"model {self.name!r} has no stages to sample at")
        if name not in names:
            raise ConfigError(f"this {self.name} run has reached the stages {', '.join(names)}; got {name!r}")
        state = self.stage_state(names.index(name))
        saved = {key: getattr(self, key).clone() for key in state}
        for key, value in state.items():
            getattr(self, key).fill_(value)
        try:
            yield
        finally:
            for key, value in saved.items():
                getattr(self, key).copy_(value)

    def enlarged(self, image: torch.Tensor) -> torch.Tensor:
        """Images of an earlier, smaller stage enlarged (nearest) to the data's size, so every sample
        of a run has one shape."""
        size = self.data_shape[-1]
        return image if image.shape[-1] == size else F.interpolate(image, size=(size, size), mode="nearest")

    # --- helpers shared by all families -------------------------------------------------------
    def net(self, name: str) -> nn.Module:
        """The network to call in the current phase (its DDP wrapper while it is being trained)."""
        return self.active.get(name) or self.nets[name]

    @property
    def latent_dim(self) -> int:
        return self.options.latent_dim

    @property
    def conditional(self) -> bool:
        """Whether the generator takes a class label ``y``."""
        return any(spec.is_label for spec in self.inputs())

    def augmented(self, x: torch.Tensor, noise: Noise) -> torch.Tensor:
        """``x`` as the discriminator sees it: augmented when ``train.augment`` asks for it.

        Call it on real and generated images alike, in the D and the G phase (DiffAugment and ADA
        only avoid leaking into the samples when D never sees an un-augmented image).
        """
        return x if self.augment is None else self.augment(x, noise)

    def observe_real(self, real_out: torch.Tensor, boundary: float = 0.0) -> dict[str, torch.Tensor]:
        """Report D's outputs on real images to an adaptive augmentation; returns what to log.

        ``boundary`` is where the loss separates real from fake outputs (the loss's ``boundary``).
        """
        if not isinstance(self.augment, AdaptiveAugment):
            return {}
        self.augment.observe(real_out, boundary)
        return {"aug_p": self.augment.p.detach().clone()}

    def draw_inputs(self, n: int, noise: Noise, examples: Any = None, **given: torch.Tensor) -> dict[str, torch.Tensor]:
        """Generator inputs for ``n`` samples: given ones checked, the rest drawn from ``noise``.

        ``examples`` (an :class:`~gankit.data.imageset.ImageSet`, the held-out split by default)
        supplies the inputs the data give (a conditioning image, a caption's embedding) that the
        caller does not pass: ``n`` random examples of it, drawn from ``noise``.
        """
        return draw_inputs(self.inputs(), n, noise, given, examples)

    @property
    def needs_examples(self) -> bool:
        """Whether some input of the generator comes from the data (``distribution="given"``)."""
        return any(spec.distribution == "given" for spec in self.inputs())

    def grid_inputs(self, noise: Noise, examples: Any = None) -> tuple[dict[str, torch.Tensor], int]:
        """Inputs of a sample grid and its row length: 8 x 8, or one row of 8 per class.

        Inputs given by the data come from the first examples of ``examples``, so every grid of a
        run shows the same ones.
        """
        label = next((spec for spec in self.inputs() if spec.is_label), None)
        n = GRID_SIZE if label is None else label.classes * GRID_COLUMNS
        given = {}
        if label is not None:
            given["y"] = torch.arange(label.classes).repeat_interleave(GRID_COLUMNS)
        if examples is not None:
            n = min(n, len(examples))
            given = {k: v[:n] for k, v in given.items()}
            given.update({spec.name: example_field(examples, spec, range(n)) for spec in self.inputs()
                          if spec.distribution == "given"})
        return self.draw_inputs(n, noise, **given), GRID_COLUMNS

    def grid_images(self, samples: torch.Tensor) -> torch.Tensor:
        """The images of a sample grid, given the generator's outputs for ``grid_inputs``: the samples.

        A translation family returns its inputs, outputs and targets side by side instead.
        """
        return samples

    def square_images(self) -> tuple[int, int]:
        """(channels, size) of the data, for convolutional families that need square images."""
        if len(self.data_shape) != 3:
            raise ValueError(f"{self.name} needs image data (C, H, W), got samples of shape {self.data_shape}; "
                             "use the 'gan' model for toy point data")
        channels, height, width = self.data_shape
        if height != width:
            raise ValueError(f"{self.name} needs square images, got {height}x{width}; set data.size")
        return channels, height
