"""Does projection work? For held-out images of a StyleGAN2 run's data: the projected image against
the nearest of many random samples of the same generator, by L1 and by SSIM.

    PYTHONPATH=src python benchmarks/stylegan2_projection.py RUN_DIR --targets 100 --samples 10000

A target counts as reproduced when its projection is closer to it than every random sample by L1
(lower), and than the best of the ``--ssim-candidates`` samples nearest by L1 by SSIM (higher): an
exhaustive SSIM search over 10,000 samples per target costs hours on a CPU. The projections run
as one batch (`gankit project`'s procedure: W, not W+; the dataset classifier's features +
pixels); the time per image is the batch's wall-clock divided by the number of targets.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from machine import finish, run_header  # noqa: E402

import gankit  # noqa: E402
from gankit.commands.project import feature_extractor  # noqa: E402
from gankit.data.pixels import from_uint8, to_uint8  # noqa: E402
from gankit.metrics.ssim import ssim  # noqa: E402
from gankit.projection import FeatureDistance, project  # noqa: E402


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("run_dir", type=Path)
    parser.add_argument("--targets", type=int, default=100, help="held-out images to project (the first N)")
    parser.add_argument("--samples", type=int, default=10_000, help="random samples to search")
    parser.add_argument("--steps", type=int, default=500)
    parser.add_argument("--w-plus", action="store_true")
    parser.add_argument("--ssim-candidates", type=int, default=100,
                        help="the best SSIM is searched among this many samples nearest by L1 (default 100)")
    parser.add_argument("--json", type=Path, default=None)
    args = parser.parse_args(argv)
    header = run_header("stylegan2_projection.py", argv or sys.argv[1:])
    run = gankit.load(args.run_dir)
    real = run.examples("test").x[:args.targets]
    targets = from_uint8(real)
    distance = FeatureDistance(feature_extractor(run.data_name))
    start = time.perf_counter()
    result = project(run.generator, targets, run.recipe.latent_dim, distance, steps=args.steps, w_plus=args.w_plus)
    seconds = time.perf_counter() - start
    projected = to_uint8(result.images).astype(np.float64)
    random = run.sample_array(args.samples, seed=1).astype(np.float64)
    real = np.asarray(real, dtype=np.float64)
    rows = []
    for i in range(len(real)):
        l1_random = np.abs(random - real[i]).mean(axis=(1, 2, 3))
        # SSIM (float64, an 11x11 window) costs ~35 ms per 64x64 RGB pair on one core: against all samples
        # 100 targets would take hours, so the best SSIM is searched among the samples nearest by L1.
        nearest = np.argsort(l1_random)[:args.ssim_candidates]
        ssim_random = ssim(random[nearest], np.broadcast_to(real[i], random[nearest].shape))
        l1 = np.abs(projected[i] - real[i]).mean()
        similarity = float(ssim(projected[i:i + 1], real[i:i + 1])[0])
        rows.append({"l1": l1, "l1_nearest_random": float(l1_random.min()), "ssim": similarity,
                     "ssim_best_random": float(ssim_random.max())})
    rows = [{k: float(v) for k, v in r.items()} for r in rows]  # numpy scalars -> JSON numbers
    wins_l1 = sum(r["l1"] < r["l1_nearest_random"] for r in rows)
    wins_ssim = sum(r["ssim"] > r["ssim_best_random"] for r in rows)
    wins_both = sum(r["l1"] < r["l1_nearest_random"] and r["ssim"] > r["ssim_best_random"] for r in rows)
    summary = {"targets": len(rows), "samples": args.samples, "ssim_candidates": args.ssim_candidates,
               "steps": args.steps, "w_plus": args.w_plus,
               "distance": distance.description, "seconds_per_image": seconds / len(rows),
               "wins_l1": wins_l1, "wins_ssim": wins_ssim, "wins_both": wins_both,
               "median_l1": float(np.median([r["l1"] for r in rows])),
               "median_l1_nearest_random": float(np.median([r["l1_nearest_random"] for r in rows])),
               "median_ssim": float(np.median([r["ssim"] for r in rows])),
               "median_ssim_best_random": float(np.median([r["ssim_best_random"] for r in rows]))}
    print("| targets | projection closer by L1 | by SSIM | by both | median L1 (projection / nearest random) | "
          "median SSIM (projection / best random) | s per image |")
    print("|--:|--:|--:|--:|---|---|--:|")
    print(f"| {len(rows)} | {wins_l1} | {wins_ssim} | {wins_both} | {summary['median_l1']:.1f} / "
          f"{summary['median_l1_nearest_random']:.1f} | {summary['median_ssim']:.3f} / "
          f"{summary['median_ssim_best_random']:.3f} | {summary['seconds_per_image']:.2f} |")
    finish(header, args.json, {"summary": summary, "rows": rows})
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
