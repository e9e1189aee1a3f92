"""Does style mixing split a trained StyleGAN2's images by frequency? Coarse styles from A, the rest from B.

    PYTHONPATH=src python benchmarks/stylegan2_mixing.py RUN [--pairs 100] [--blur 4] [--json FILE]

For ``--pairs`` pairs of latents (A drawn with seed 0, B with seed 1), each split of the per-layer latents into
"A below the cutoff, B from it on" (one row per group boundary of ``gankit mix``: after the coarse
styles, after the coarse and middle ones) gives a mixed image M. Its low-pass part (average pooling
by ``--blur``, upsampled back) and high-pass part (M minus its low-pass part) are compared with
those of A and of B by the mean squared difference. The issue's criterion for the coarse/fine split:
M's low-pass part is closer to A's and its high-pass part closer to B's, on average over the pairs.
The table also counts the pairs where each holds.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from machine import finish, run_header  # noqa: E402


def frequency_distances(mixed, a, b, blur: int) -> dict:
    """Per-image mean squared differences of ``mixed`` to ``a`` and to ``b``, in their low-pass part
    (average pooling by ``blur``, upsampled back bilinearly) and high-pass part (the image minus its
    low-pass part): {"low_a", "low_b", "high_a", "high_b"}, each of shape (N,)."""
    import torch.nn.functional as F

    def low(x):
        return F.interpolate(F.avg_pool2d(x, blur), scale_factor=blur, mode="bilinear")

    def high(x):
        return x - low(x)

    return {f"{part.__name__}_{side}": (part(mixed) - part(ref)).square().flatten(1).mean(1)
            for part in (low, high) for side, ref in (("a", a), ("b", b))}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("run_dir", type=Path, help="a stylegan2 run (its EMA generator is used where it kept one)")
    parser.add_argument("--pairs", type=int, default=100)
    parser.add_argument("--blur", type=int, default=4, help="average-pooling factor of the low-pass part (default 4)")
    parser.add_argument("--json", type=Path, default=None)
    args = parser.parse_args(argv)

    import torch

    import gankit

    header = run_header("stylegan2_mixing.py", sys.argv[1:] if argv is None else argv)
    run = gankit.load(args.run_dir)
    recipe = run.recipe
    if not hasattr(recipe, "style_ranges"):
        raise SystemExit(f"{args.run_dir} is a {run.config.model} run; style mixing needs stylegan2")
    ranges = recipe.style_ranges()
    groups = list(ranges)

    with torch.no_grad():
        wa = recipe.styles(run.inputs(args.pairs, 0))
        wb = recipe.styles(run.inputs(args.pairs, 1))
        a, b = recipe.synthesize_styles(wa), recipe.synthesize_styles(wb)
        rows = []
        for k, name in enumerate(groups[:-1]):
            cutoff = ranges[name][1]
            mixed = wb.clone()
            mixed[:, :cutoff] = wa[:, :cutoff]
            d = frequency_distances(recipe.synthesize_styles(mixed), a, b, args.blur)
            rows.append({"from_a": "+".join(groups[:k + 1]), "from_b": "+".join(groups[k + 1:]), "cutoff": cutoff,
                         **{key: value.mean().item() for key, value in d.items()},
                         "pairs_low_closer_to_a": int((d["low_a"] < d["low_b"]).sum()),
                         "pairs_high_closer_to_b": int((d["high_b"] < d["high_a"]).sum())})

    print(f"run {args.run_dir}: {args.pairs} pairs, low-pass = average pooling by {args.blur}, mean squared "
          f"difference on [-1, 1] pixels")
    print("| A's styles | B's styles | low-pass to A / to B | pairs closer to A | high-pass to A / to B | "
          "pairs closer to B | criterion |")
    print("|---|---|---|--:|---|--:|---|")
    for row in rows:
        holds = row["low_a"] < row["low_b"] and row["high_b"] < row["high_a"]
        print(f"| {row['from_a']} | {row['from_b']} | {row['low_a']:.4f} / {row['low_b']:.4f} | "
              f"{row['pairs_low_closer_to_a']} | {row['high_a']:.4f} / {row['high_b']:.4f} | "
              f"{row['pairs_high_closer_to_b']} | {'holds' if holds else 'fails'} |")
    finish(header, args.json, {"run": str(args.run_dir), "pairs": args.pairs, "blur": args.blur, "rows": rows})
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
