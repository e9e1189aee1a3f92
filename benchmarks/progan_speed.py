"""Progressive GAN training steps per second at each resolution: gankit's Trainer against
facebookresearch/pytorch_GAN_zoo's PGAN, side by side in one run, same widths, batch, loss and CPU.

pytorch_GAN_zoo is not a dependency and none of its code is in this repository: fetch a checkout
somewhere else and point ``--peer`` at it::

    git clone https://github.com/facebookresearch/pytorch_GAN_zoo /work/peers/pytorch_GAN_zoo
    PYTHONPATH=src python benchmarks/progan_speed.py --peer /work/peers/pytorch_GAN_zoo --size 32

What one step is, on both sides: one D update (real and fake scores, WGAN-GP with lambda 10, the
drift term 0.001 * D(x)^2) and one G update, then the EMA of G (pytorch_GAN_zoo: 0.999 per step;
gankit: ``train.ema_kimg``). gankit's step includes its data pipeline (a batch served at the
stage's resolution from the stored images); the peer is handed a ready batch, as its
``optimizeParameters`` expects. Both at the stabilised phase of each resolution (alpha = 1 in
gankit's terms, 0 in the peer's); the widths are gankit's defaults (``min(64, 1024 / r)``), the
batch gankit's per-resolution default, latent 128, minibatch standard deviation on, fp32. The
repeats alternate between the two implementations so that a change of load hits both.
"""

from __future__ import annotations

import argparse
import contextlib
import sys
import time
from pathlib import Path

import torch

sys.path.insert(0, str(Path(__file__).resolve().parent))
from machine import finish, run_header, side_by_side  # noqa: E402

from gankit.config import RunConfig  # noqa: E402
from gankit.models.progan import ProGANOptions, parse_batch_sizes  # noqa: E402
from gankit.nn.progressive import feature_widths, resolutions  # noqa: E402
from gankit.train.trainer import Trainer  # noqa: E402

LATENT = 128


def gankit_step(size: int, data: str, stage: int, run_dir: Path):
    """A function running one gankit training iteration at ``stage`` (stabilised), and its batch."""
    cfg = RunConfig(model="progan")
    cfg.data.name = data
    cfg.data.size = size
    cfg.train.steps = 10 ** 9
    cfg.train.precision = "fp32"
    cfg.train.sample_every = cfg.train.checkpoint_every = cfg.train.log_every = 10 ** 9
    cfg.options = {"latent_dim": LATENT}
    trainer = Trainer(cfg, run_dir, progress=False)
    trainer.recipe.schedule = lambda images: (stage, 1.0)  # hold the stage: no fade, no growth
    totals, counts = {}, {}
    trainer.iteration(totals, counts)  # enters the stage (and its batch size)
    batch = trainer.streams[trainer.main_stream].batch_size

    def step() -> int:
        trainer.iteration(totals, counts)
        totals.clear()
        counts.clear()
        return batch

    return step, batch


@contextlib.contextmanager
def float_betas():
    """The peer (2019) builds ``Adam(betas=[0, 0.99])``, which torch 2.x refuses (``betas must be
    either both floats``): the same values as floats, for the peer's constructors only."""
    adam = torch.optim.Adam

    def patched(params, *args, betas=(0.9, 0.999), **kwargs):
        return adam(params, *args, betas=tuple(float(b) for b in betas), **kwargs)

    torch.optim.Adam = patched
    try:
        yield
    finally:
        torch.optim.Adam = adam


def peer_step(peer: Path, channels: int, size: int, stage: int, batch: int):
    """One pytorch_GAN_zoo ``optimizeParameters`` call on a fixed real batch at ``stage``."""
    sys.path.insert(0, str(peer))
    from models.progressive_gan import ProgressiveGAN  # the peer's own module, from its checkout

    widths = feature_widths(size, ProGANOptions.width_base, ProGANOptions.max_width)
    with float_betas():
        model = ProgressiveGAN(dimLatentVector=LATENT, depthScale0=widths[0], useGPU=False, dimOutput=channels,
                           baseLearningRate=1e-3, lossMode="WGANGP", lambdaGP=10.0, epsilonD=0.001,
                           miniBatchStdDev=True, equalizedlR=True, initBiasToZero=True, leakyness=0.2,
                               )
        for width in widths[1:stage + 1]:
            model.addScale(width)
    resolution = resolutions(size)[stage]
    real = torch.rand(batch, channels, resolution, resolution) * 2 - 1

    def step() -> int:
        model.optimizeParameters(real)
        return batch

    return step


def rate(step, iters: int, seconds: float = 0.0) -> float:
    """Images per second over at least ``iters`` steps and at least ``seconds`` (a 4x4 step takes
    milliseconds: a fixed few steps would time mostly the switch from the other implementation)."""
    start = time.perf_counter()
    images, done = 0, 0
    while done < iters or time.perf_counter() - start < seconds:
        images += step()
        done += 1
    return images / (time.perf_counter() - start)


def counted_flops(step) -> float:
    """Floating-point operations of one step as the torch profiler counts them (the convolutions and
    matrix products it dispatches): where two implementations do the same arithmetic, their speed
    ratio can only come from the rest of the step."""
    with torch.profiler.profile(with_flops=True) as prof:
        step()
    return float(sum(event.flops for event in prof.key_averages()))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--peer", type=Path, required=True, help="a checkout of facebookresearch/pytorch_GAN_zoo")
    parser.add_argument("--size", type=int, default=32, help="final resolution (32: fashion-mnist, 64: emoji)")
    parser.add_argument("--data", default=None, help="gankit dataset (default fashion-mnist at 32, emoji at 64)")
    parser.add_argument("--iters", type=int, default=5, help="steps per timed repeat, at least")
    parser.add_argument("--seconds", type=float, default=2.0, help="seconds per timed repeat, at least")
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--json", type=Path, default=None)
    parser.add_argument("--run-dir", type=Path, default=Path("/tmp/gankit-progan-speed"))
    args = parser.parse_args(argv)
    data = args.data or ("fashion-mnist" if args.size <= 32 else "emoji")
    channels = 1 if data in ("fashion-mnist", "mnist", "mnist-5k") else 3
    header = run_header("progan_speed.py", argv or sys.argv[1:])
    rows = []
    print("| resolution | feature maps at it | batch | gankit img/s (min-max) | pytorch_GAN_zoo img/s (min-max) | speedup "
          "| peer/gankit counted FLOPs |")
    print("|---:|---|---:|---:|---:|---:|---:|")
    widths = feature_widths(args.size, ProGANOptions.width_base, ProGANOptions.max_width)
    for stage, resolution in enumerate(resolutions(args.size)):
        ours, batch = gankit_step(args.size, data, stage, args.run_dir / f"r{resolution}")
        assert batch == parse_batch_sizes(ProGANOptions.batch_sizes).get(resolution, batch)
        theirs = peer_step(args.peer, channels, args.size, stage, batch)
        ours(), theirs()  # warm-up
        row = {"resolution": resolution, "width": widths[stage], "batch": batch,
               **side_by_side(ours, theirs, args.repeats, lambda step: rate(step, args.iters, args.seconds))}
        row["speedup"] = row["gankit"] / row["peer"]
        row["gankit_flops"], row["peer_flops"] = counted_flops(ours), counted_flops(theirs)
        row["flop_ratio"] = row["peer_flops"] / row["gankit_flops"]
        rows.append(row)
        (a0, a1), (b0, b1) = row["gankit_range"], row["peer_range"]
        print(f"| {resolution} | {widths[stage]} | {batch} | {row['gankit']:.1f} ({a0:.1f}-{a1:.1f}) | "
              f"{row['peer']:.1f} ({b0:.1f}-{b1:.1f}) | {row['speedup']:.2f}x | {row['flop_ratio']:.2f} |", flush=True)
    finish(header, args.json, {"rows": rows})
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
