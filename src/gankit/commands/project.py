"""`gankit project`: find the latent of a StyleGAN2 run that draws a given image (GAN inversion)."""

from __future__ import annotations

import argparse
import textwrap
import time
from pathlib import Path

from gankit.commands.arguments import RUN_DIR_HELP
from gankit.config import ConfigError

EPILOG = textwrap.dedent("""\
    For each image it writes, in --out: NAME.npy (the latent w, (num_ws, w_dim)), NAME.png (the
    target beside G's image of that latent, with L1 and SSIM), and NAME.gif (the optimisation).
    The distance is the dataset classifier's feature maps plus pixels (VGG/LPIPS weights, which the
    official projector uses, cannot be had offline); see gankit/projection.py.

    examples:
      gankit project runs/stylegan2 face.png --out projected/
      gankit project runs/stylegan2 photos/ --out projected/ --w-plus --noise --steps 1000
      gankit sample runs/stylegan2 --latent projected/face.npy --out again.png""")


def add_parsers(subparsers) -> None:
    """Add the ``project`` command to the ``gankit`` sub-parsers."""
    p = subparsers.add_parser("project", help="project real images into a StyleGAN2 run's latent space",
                              description="Optimise a latent w so that the run's generator reproduces each image "
                                          "(the StyleGAN2 projector).", epilog=EPILOG,
                              formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("run_dir", metavar="RUN_DIR", help=RUN_DIR_HELP)
    p.add_argument("images", nargs="+", metavar="IMAGE", help="image files or folders (one level deep); resized "
                   "and converted to the run's size and channels")
    p.add_argument("--out", required=True, metavar="DIR", help="folder for the latents and pictures")
    p.add_argument("--steps", type=int, default=500, help="optimisation steps (default 500; the official 1000)")
    p.add_argument("--w-plus", action="store_true", help="one latent per layer (W+): closer fits, less editable")
    p.add_argument("--noise", action="store_true", help="also optimise the per-pixel noise maps (regularised)")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--no-ema", action="store_true", help="project into the raw generator instead of its EMA")
    p.set_defaults(func=cmd_project)


def cmd_project(args) -> int:
    import numpy as np
    import torch

    from gankit import load
    from gankit.commands.translate import image_files
    from gankit.data.decoding import read_image
    from gankit.data.pixels import from_uint8, to_uint8
    from gankit.metrics.ssim import ssim
    from gankit.projection import FeatureDistance, project
    from gankit.train.progress import ProgressLine
    from gankit.viz.grid import enlarge, grid_array, save_gif, save_grid

    if args.steps < 1:
        raise ConfigError(f"--steps must be at least 1, got {args.steps}")
    run = load(args.run_dir, ema=not args.no_ema)
    if not hasattr(run.recipe, "style_ranges"):
        raise ConfigError(f"projection needs a style-based generator (stylegan2); {args.run_dir} is {run.config.model}")
    if run.conditional:
        raise ConfigError("projection into a class-conditional stylegan2 is not supported yet: train it without "
                          "model.conditional")
    try:
        files = image_files(args.images)
    except ValueError as e:
        raise ConfigError(str(e)) from None
    channels, size = run.data_shape[0], run.data_shape[-1]
    targets = from_uint8(np.stack([read_image(f, size, channels) for f in files]))
    distance = FeatureDistance(feature_extractor(run.data_name))
    bar = ProgressLine(args.steps, desc=f"projecting {len(files)} image(s)", unit="step")

    def progress(step: int, loss: float) -> None:
        bar.update()
        bar.set_postfix({"distance": f"{loss:.4f}"})

    start = time.perf_counter()
    result = project(run.generator, targets, run.recipe.latent_dim, distance, steps=args.steps,
                     w_plus=args.w_plus, optimise_noise=args.noise, seed=args.seed,
                     progress=progress)
    bar.close()
    seconds = time.perf_counter() - start
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    l1 = (result.images - targets).abs().flatten(1).mean(1) * 127.5
    similarity = ssim(to_uint8(result.images), to_uint8(targets))
    for i, f in enumerate(files):
        np.save(out / f"{f.stem}.npy", result.ws[i].numpy() if args.w_plus else result.ws[i, 0].numpy())
        save_grid(torch.stack([targets[i], result.images[i]]), out / f"{f.stem}.png", nrow=2)
        save_gif([enlarge(grid_array(frame[i:i + 1], 1)) for frame in result.frames], out / f"{f.stem}.gif")
        print(f"{f.name}: L1 {l1[i]:.1f}/255, SSIM {similarity[i]:.3f} -> {out / f.stem}.npy, .png, .gif")
    print(f"projected {len(files)} image(s) in {seconds:.1f} s ({seconds / len(files):.2f} s per image, "
          f"{args.steps} steps, {'W+' if args.w_plus else 'W'}{', noise maps' if args.noise else ''}; "
          f"distance: {distance.description})")
    return 0


def feature_extractor(data_name: str):
    """The dataset classifier of the run's data, or None (pixels only) when gankit ships none."""
    from gankit.metrics.extractor import ExtractorError, load_extractor

    try:
        return load_extractor(data_name)
    except ExtractorError:
        return None
