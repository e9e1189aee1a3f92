"""Inception feature extraction per image: the memory layout gankit uses (channels-last) beside the
plain one (NCHW), side by side in one run, on the same images and weights.

    PYTHONPATH=src python benchmarks/inception_speed.py [--weights PATH] [--images 100] [--repeats 5]

Without ``--weights`` the fetched FID weights are used (``gankit metrics fetch-inception``); any
state dict of the network gives the same timings, so ``--random`` times a randomly initialised one
where the weights cannot be had. Prints seconds per image (median and range over the repeats, the
two layouts alternating so that a change of load hits both), the speedup, and the largest feature
difference between the two layouts.
"""

from __future__ import annotations

import argparse
import copy
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from machine import finish, run_header, side_by_side  # noqa: E402


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--weights", type=Path, default=None, help="FID Inception state dict (default: the fetched one)")
    parser.add_argument("--random", action="store_true", help="time a randomly initialised network instead")
    parser.add_argument("--images", type=int, default=100, help="64x64 colour images per timed pass (default 100)")
    parser.add_argument("--batch", type=int, default=25, help="images per forward pass, as gankit eval's (default 25)")
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--json", type=Path, default=None)
    args = parser.parse_args(argv)

    import torch

    from gankit.metrics.fid_conventions import inception_input
    from gankit.metrics.inception import FIDInceptionV3, load_inception

    header = run_header("inception_speed.py", sys.argv[1:] if argv is None else argv)
    if args.random:
        torch.manual_seed(0)
        plain = FIDInceptionV3().eval()
    else:
        if args.weights is None:
            from gankit.metrics.inception_fetch import fetch_inception

            args.weights = fetch_inception(print)
        plain = load_inception(args.weights)

    channels_last = copy.deepcopy(plain).to(memory_format=torch.channels_last)
    images = np.random.default_rng(0).integers(0, 256, size=(args.images, 3, 64, 64), dtype=np.uint8)
    batches = [inception_input(images[i:i + args.batch], "tf") for i in range(0, args.images, args.batch)]

    def features(net):
        layout = torch.channels_last if net is channels_last else torch.contiguous_format
        with torch.no_grad():
            return torch.cat([net(b.contiguous(memory_format=layout)) for b in batches])

    def seconds_per_image(net) -> float:
        start = time.perf_counter()
        features(net)
        return (time.perf_counter() - start) / args.images

    features(plain), features(channels_last)  # warm-up: oneDNN picks its kernels on the first call
    timing = side_by_side(channels_last, plain, args.repeats, seconds_per_image)
    difference = (features(channels_last) - features(plain)).abs().max().item()

    print("| layout | s/image (median) | range | speedup |")
    print("|---|--:|---|--:|")
    print(f"| NCHW | {timing['peer']:.4f} | {timing['peer_range'][0]:.4f}-{timing['peer_range'][1]:.4f} | 1.00x |")
    print(f"| channels-last (gankit) | {timing['gankit']:.4f} | "
          f"{timing['gankit_range'][0]:.4f}-{timing['gankit_range'][1]:.4f} | {timing['peer'] / timing['gankit']:.2f}x |")
    print(f"largest feature difference between the layouts: {difference:.2e}")
    finish(header, args.json, {"timing": timing, "max_feature_difference": difference, "images": args.images,
                               "batch": args.batch, "random_weights": args.random})
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
