"""`gankit translate`: translate image files with a pix2pix or CycleGAN run, or score it on held-out pairs."""
from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import numpy as np

EPILOG = """\
examples:
  gankit translate runs/edges2emoji sketches/ --out translated/
  gankit translate runs/cyclegan-emoji noto/1f600.png --out back/ --direction BtoA
  gankit translate runs/edges2emoji --eval            # L1, SSIM, FID on the held-out pairs
  gankit translate runs/edges2emoji --eval --baseline # the same for the inputs themselves

Each INPUT is an image file or a folder of them (not searched recursively). An image whose channels
differ from what the network reads is converted (gray <-> RGB), and one whose sides the network
cannot take is centre-cropped to a square and resized to the training size; both are reported.
Outputs are PNG files named like their inputs in --out."""

IMAGE_SUFFIXES = {".png", ".jpg", ".jpeg", ".bmp", ".gif", ".webp", ".tif", ".tiff", ".ppm", ".pgm"}


def add_parsers(subparsers) -> None:
    p = subparsers.add_parser(
        "translate", help="translate images with a pix2pix / CycleGAN run, or score it (--eval)",
        description="Translate image files with the generator of an image-to-image run (pix2pix, cyclegan), "
                    "or, with --eval, score it against the true counterparts of its held-out test pairs.",
        epilog=EPILOG, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("run_dir", metavar="RUN", help="run directory of a pix2pix or cyclegan run")
    p.add_argument("inputs", nargs="*", metavar="INPUT", help="image files or folders of images")
    p.add_argument("--out", metavar="DIR", help="folder for the translated PNGs (created if needed)")
    p.add_argument("--direction", choices=["AtoB", "BtoA"], default="AtoB",
                   help="AtoB (default) or BtoA (cyclegan only)")
    p.add_argument("--eval", action="store_true", help="score the run on its held-out pairs instead")
    p.add_argument("--baseline", action="store_true", help="with --eval: score the inputs as their own translation")
    p.add_argument("--json", metavar="OUT.json", help="with --eval: also write the scores as JSON")
    p.add_argument("--no-ema", action="store_true", help="use the raw generator even if the run kept an EMA")
    p.add_argument("--device", default="cpu")
    p.set_defaults(func=run_translate)


def image_files(inputs: list[str]) -> list[Path]:
    """The image files named by ``inputs`` (files, or folders read one level deep), in order."""
    files: list[Path] = []
    for item in inputs:
        path = Path(item).expanduser()
        if path.is_dir():
            found = sorted(p for p in path.iterdir() if p.is_file() and p.suffix.lower() in IMAGE_SUFFIXES)
            if not found:
                raise ValueError(f"{path} holds no image files ({', '.join(sorted(IMAGE_SUFFIXES))})")
            files += found
        elif path.is_file():
            files.append(path)
        else:
            raise ValueError(f"{path}: no such file or folder")
    return files


def prepare(path: Path, channels: int, size: int, multiple: int) -> tuple[np.ndarray, list[str]]:
    """One image as uint8 (C, H, W) the network can read, and notices of what was changed."""
    from PIL import Image, UnidentifiedImageError

    from gankit.data.decoding import GRAY_MODES, chw, eight_bit, square

    try:
        with Image.open(path) as im:
            im.load()
            original = f"{im.width}x{im.height} {im.mode}"
            img = eight_bit(im, "L" if channels == 1 else "RGB")
            was_gray = im.mode in GRAY_MODES and channels == 3
            was_colour = im.mode not in GRAY_MODES and channels == 1
    except (OSError, UnidentifiedImageError) as e:
        raise ValueError(f"{path}: not a readable image ({e})") from e
    notices = []
    if was_gray:
        notices.append("gray converted to RGB")
    if was_colour:
        notices.append("colour converted to gray")
    if img.width % multiple or img.height % multiple:
        img = square(img, size)
        notices.append(f"{original.split()[0]} is not a multiple of {multiple} on each side: centre-cropped and "
                       f"resized to {size}x{size}")
    return chw(img), notices


def run_translate(args) -> int:
    import gankit
    from gankit.models.translation import TranslationRecipe

    try:
        run = gankit.load(args.run_dir, device=args.device, ema=not args.no_ema)
        if not isinstance(run.recipe, TranslationRecipe):
            raise ValueError(f"{args.run_dir} trains {run.config.model!r}, which does not translate images; "
                             "use a pix2pix or cyclegan run")
        if args.eval:
            return _evaluate(run, args)
        if not args.inputs or not args.out:
            raise ValueError("give INPUT files or folders and --out DIR (or --eval to score the run)")
        net = run.recipe.translator(args.direction)  # says at once when the direction does not exist
        channels, size, _ = run.recipe.source_shape(args.direction)
        files = image_files(args.inputs)
        prepared = [prepare(f, channels, size, run.recipe.size_multiple()) for f in files]
    except (ValueError, OSError) as e:
        print(f"gankit translate: {e}", file=sys.stderr)
        return 2
    import torch
    from PIL import Image

    from gankit.data.pixels import from_uint8, to_uint8

    out_dir = Path(args.out)
    out_dir.mkdir(parents=True, exist_ok=True)
    if args.direction == "AtoB":
        net = run.generator  # the EMA copy where the run kept one
    net.eval()
    used: set[str] = set()
    with torch.no_grad():
        for path, (image, notices) in zip(files, prepared):
            x = from_uint8(image[None]).to(run.device)
            y = to_uint8(net(x).float().cpu())[0]
            stem = path.stem
            while stem in used:  # two inputs of one name (from two folders): keep both
                stem += "_"
            used.add(stem)
            target = out_dir / f"{stem}.png"
            Image.fromarray(y[0] if y.shape[0] == 1 else y.transpose(1, 2, 0)).save(target)
            print(f"{path} -> {target}" + (f" ({'; '.join(notices)})" if notices else ""))
    print(f"translated {len(files)} image(s) {args.direction} with {run.config.model} from {run.checkpoint}")
    return 0


def _evaluate(run, args) -> int:
    from gankit.metrics.translation import evaluate_translation

    scores = evaluate_translation(run, args.direction, baseline=args.baseline)
    what = "identity baseline (inputs as outputs)" if args.baseline else f"{run.config.model} step {run.step}"
    print(f"{what}, {args.direction}, {scores['n']} held-out pairs of {run.config.data.name}:")
    for key, value in scores.items():
        if key != "n":
            print(f"  {key:<14} {value:.4f}")
    if args.json:
        Path(args.json).write_text(json.dumps({"what": what, "direction": args.direction, **scores}, indent=2) + "\n")
    return 0
