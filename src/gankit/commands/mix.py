"""`gankit mix`: StyleGAN's style-mixing figure (Karras et al. 2019, figure 3)."""

from __future__ import annotations

import argparse
import textwrap
from pathlib import Path

from gankit.commands.arguments import RUN_DIR_HELP
from gankit.config import ConfigError

EPILOG = textwrap.dedent("""\
    The top row holds the sources A; each row below starts with a source B, then shows every A
    with B's styles copied into the chosen layers: coarse ones (4x4-8x8) carry pose and shape,
    middle ones (16x16-32x32) smaller features, fine ones colour and texture.

    examples:
      gankit mix runs/stylegan2                           # coarse, middle and fine, 2 rows each
      gankit mix runs/stylegan2 --layers coarse --rows 5 --cols 6 --truncation 0.7
      gankit mix runs/stylegan2 --layers 0-3,6-9 --out mixing.png""")


def add_parsers(subparsers) -> None:
    """Add the ``mix`` command to the ``gankit`` sub-parsers."""
    p = subparsers.add_parser("mix", help="style-mixing figure of a StyleGAN2 run",
                              description="Samples that take some layers' styles from one latent and the rest from "
                                          "another (style mixing, as in the StyleGAN papers).",
                              epilog=EPILOG, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("run_dir", metavar="RUN_DIR", help=RUN_DIR_HELP)
    p.add_argument("--layers", metavar="RANGE[,RANGE...]",
                   help="the styles taken from B: coarse, middle, fine, or latent indices START-STOP "
                        "(default: all three groups the model has)")
    p.add_argument("--rows", type=int, default=2, help="sources B per range (default 2)")
    p.add_argument("--cols", type=int, default=5, help="sources A (default 5)")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--truncation", type=float, metavar="PSI", help="truncate every source in W (e.g. 0.7)")
    p.add_argument("--no-ema", action="store_true", help="use the raw generator even if the run kept an EMA")
    p.add_argument("--out", help="FILE.png (default RUN_DIR/style_mixing.png)")
    p.set_defaults(func=cmd_mix)


def cmd_mix(args) -> int:
    import torch

    from gankit import load
    from gankit.viz.captioned import save_captioned_grid

    if args.rows < 1 or args.cols < 1:
        raise ConfigError("--rows and --cols must be at least 1")
    run = load(args.run_dir, ema=not args.no_ema)
    recipe = run.recipe
    if not hasattr(recipe, "style_ranges"):
        raise ConfigError(f"style mixing needs a style-based generator (stylegan2); {args.run_dir} is "
                          f"{run.config.model}")
    out = Path(args.out) if args.out else run.run_dir / "style_mixing.png"
    if out.suffix != ".png":
        raise ConfigError(f"--out must end in .png, got {out.name!r}")
    names = [part.strip() for part in (args.layers or ",".join(recipe.style_ranges())).split(",") if part.strip()]
    ranges = [recipe.parse_style_range(name) for name in names]
    if not ranges:
        raise ConfigError(f"--layers names no range; this model has {', '.join(recipe.style_ranges())}")
    with torch.no_grad():
        sources = recipe.styles(run.truncate(run.inputs(args.cols + args.rows * len(ranges), args.seed),
                                             args.truncation))
        a, b = sources[:args.cols], sources[args.cols:]
        blank = torch.ones(1, *run.data_shape)
        rows, captions = [torch.cat([blank, recipe.synthesize_styles(a)])], ["sources A"]
        for k, (label, (start, stop)) in enumerate(ranges):
            for j in range(args.rows):
                source = b[k * args.rows + j]
                mixed = a.clone()
                mixed[:, start:stop] = source[start:stop]
                rows.append(torch.cat([recipe.synthesize_styles(source[None]), recipe.synthesize_styles(mixed)]))
                captions.append(f"B: {label}")
    save_captioned_grid(torch.cat(rows).float(), captions, out)
    print(f"wrote {out}: {args.cols} sources A (top row); {len(rows) - 1} rows, each a source B (left) and every A "
          f"with B's {', '.join(label for label, _ in ranges)} styles")
    return 0
