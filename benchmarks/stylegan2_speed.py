"""StyleGAN2 networks' forward + backward speed: gankit's against NVlabs' stylegan2-ada-pytorch
(``training/networks.py`` with its reference ops, the path it takes on a CPU), side by side in one run.

stylegan2-ada-pytorch is not a dependency and none of its code is in this repository: fetch a
checkout somewhere else and point ``--peer`` at it::

    git clone https://github.com/NVlabs/stylegan2-ada-pytorch /work/peers/stylegan2-ada-pytorch
    PYTHONPATH=src python benchmarks/stylegan2_speed.py --peer /work/peers/stylegan2-ada-pytorch

What one step is, on both sides: G maps a batch of z (fresh per-pixel noise, the training mode) to
images, D scores them, and ``D(G(z)).sum()`` is backpropagated into both networks' parameters. The
configuration is the same on both sides (gankit's defaults): z and w of 128, 2 mapping layers,
``channel_base`` 1024 and ``channel_max`` 64 (64 maps up to 16x16, 32 at 32x32, 16 at 64x64), a skip
G and a residual D with minibatch standard deviation over groups of 4, fp32, RGB; the parameter
counts are printed and must agree. Repeats alternate between the two so that a change of load hits both.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import torch

sys.path.insert(0, str(Path(__file__).resolve().parent))
from machine import finish, run_header, side_by_side  # noqa: E402

from gankit.models.stylegan2 import StyleGAN2Options  # noqa: E402
from gankit.nn.stylegan2 import ResidualDiscriminator, StyleGenerator  # noqa: E402

OPTIONS = StyleGAN2Options()


def count(module: torch.nn.Module) -> int:
    return sum(p.numel() for p in module.parameters())


def gankit_step(size: int, batch: int):
    o = OPTIONS
    G = StyleGenerator(o.latent_dim, o.w_dim, 3, size, o.mapping_layers, o.channel_base, o.channel_max)
    D = ResidualDiscriminator(3, size, o.channel_base, o.channel_max, o.group_size)
    z = torch.randn(batch, o.latent_dim)
    shapes = G.synthesis.noise_shapes(batch)

    def step() -> None:
        D(G(z, noise=[torch.randn(s) for s in shapes])).sum().backward()

    return step, count(G), count(D)


def peer_step(peer: Path, size: int, batch: int):
    sys.path.insert(0, str(peer))
    from training.networks import Discriminator, Generator  # the peer's own module, from its checkout

    o = OPTIONS
    G = Generator(z_dim=o.latent_dim, c_dim=0, w_dim=o.w_dim, img_resolution=size, img_channels=3,
                  mapping_kwargs={"num_layers": o.mapping_layers},
                  synthesis_kwargs={"channel_base": o.channel_base, "channel_max": o.channel_max})
    D = Discriminator(c_dim=0, img_resolution=size, img_channels=3, channel_base=o.channel_base,
                      channel_max=o.channel_max, epilogue_kwargs={"mbstd_group_size": o.group_size})
    z, c = torch.randn(batch, o.latent_dim), torch.zeros(batch, 0)

    def step() -> None:
        D(G(z, c), c).sum().backward()  # noise_mode='random' by default, as in training

    return step, count(G), count(D)


def same_operations(peer: Path) -> dict[str, float]:
    """The largest difference between gankit's resampling and modulated-convolution building blocks
    and the peer's reference ops on the same inputs and weights (0 up to rounding: the same function)."""
    import torch.nn.functional as F

    sys.path.insert(0, str(peer))
    from torch_utils.ops import conv2d_resample, upfirdn2d
    from training.networks import modulated_conv2d

    from gankit.nn.fir import blur, downsample2d, upsample2d
    from gankit.nn.modulated import ModulatedConv2d

    torch.manual_seed(0)
    f = upfirdn2d.setup_filter([1, 3, 3, 1])
    x, w3, w1 = torch.randn(2, 6, 8, 8), torch.randn(4, 6, 3, 3), torch.randn(4, 6, 1, 1)
    out = {"upsample x2 (bilinear [1,3,3,1])": (upfirdn2d.upsample2d(x, f) - upsample2d(x)),
           "downsample x2": (upfirdn2d.downsample2d(x, f) - downsample2d(x)),
           "blurred strided 3x3 (D)": (conv2d_resample.conv2d_resample(x, w3, f=f, down=2, padding=1)
                                       - F.conv2d(blur(x, (2, 2)), w3, stride=2)),
           "blurred strided 1x1 (D skip)": (conv2d_resample.conv2d_resample(x, w1, f=f, down=2)
                                            - F.conv2d(downsample2d(x), w1))}
    for up in (False, True):
        conv = ModulatedConv2d(8, 6, 5, 3, up=up)
        w = torch.randn(2, 8)
        theirs = modulated_conv2d(x, conv.weight, conv.affine(w) * conv.scale, up=2 if up else 1, padding=1,
                                  resample_filter=f, flip_weight=not up, fused_modconv=False)
        out[f"modulated 3x3{' up x2' if up else ''}, demodulated"] = theirs - conv(x, w)
    return {name: diff.abs().max().item() for name, diff in out.items()}


def seconds(step, iters: int) -> float:
    start = time.perf_counter()
    for _ in range(iters):
        step()
    return (time.perf_counter() - start) / iters


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--peer", type=Path, required=True, help="a checkout of NVlabs/stylegan2-ada-pytorch")
    parser.add_argument("--sizes", default="32,64")
    parser.add_argument("--batch", type=int, default=32)
    parser.add_argument("--iters", type=int, default=3, help="steps per timed repeat")
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--json", type=Path, default=None)
    args = parser.parse_args(argv)
    header = run_header("stylegan2_speed.py", argv or sys.argv[1:])
    checks = same_operations(args.peer)
    header["same_operations_max_difference"] = checks
    print("# the same functions: largest difference from the peer's reference ops: "
          + "; ".join(f"{name} {value:.1e}" for name, value in checks.items()))
    print("| size | batch | parameters G / D | gankit s/step (min-max) | NVlabs s/step (min-max) | speedup |")
    print("|---:|---:|---|---:|---:|---:|")
    rows = []
    for size in (int(s) for s in args.sizes.split(",")):
        torch.manual_seed(0)
        ours, g_params, d_params = gankit_step(size, args.batch)
        theirs, *peer_params = peer_step(args.peer, size, args.batch)
        if [g_params, d_params] != peer_params:
            raise SystemExit(f"the two configurations differ: gankit G/D {g_params}/{d_params} parameters, "
                             f"NVlabs {peer_params[0]}/{peer_params[1]}")
        ours(), theirs()  # warm-up
        row = {"size": size, "batch": args.batch, "parameters": [g_params, d_params],
               **side_by_side(ours, theirs, args.repeats, lambda step: seconds(step, args.iters))}
        row["speedup"] = row["peer"] / row["gankit"]
        rows.append(row)
        (a0, a1), (b0, b1) = row["gankit_range"], row["peer_range"]
        print(f"| {size} | {args.batch} | {g_params:,} / {d_params:,} | {row['gankit']:.3f} ({a0:.3f}-{a1:.3f}) | "
              f"{row['peer']:.3f} ({b0:.3f}-{b1:.3f}) | {row['speedup']:.2f}x |", flush=True)
    finish(header, args.json, {"rows": rows})
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
