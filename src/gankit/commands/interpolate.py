"""`gankit interpolate`: rows of samples along straight and great-circle paths between latents."""

from __future__ import annotations

from pathlib import Path

from gankit.commands.arguments import RUN_DIR_HELP
from gankit.config import ConfigError


def add_parsers(subparsers) -> None:
    """Add the ``interpolate`` command to the ``gankit`` sub-parsers."""
    p = subparsers.add_parser("interpolate", help="walk the latent space between random points",
                              description="Rows of samples along straight (linear) and great-circle (spherical) paths "
                                          "between random latents: the lectures' '1 -> 5' figure. A .gif animates them. "
                                          "With --text A --text B (text-to-image runs), each row keeps its noise and "
                                          "walks from caption A's embedding to caption B's.")
    p.add_argument("run_dir", metavar="RUN_DIR", help=RUN_DIR_HELP)
    p.add_argument("--rows", type=int, default=4, help="pairs of endpoints (default 4)")
    p.add_argument("--steps", type=int, default=10, help="samples along each path (default 10)")
    p.add_argument("--out", help="FILE.png or FILE.gif (default RUN_DIR/interpolation.png)")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--truncation", type=float, metavar="PSI",
                   help="the truncation trick along every path, as the family defines it (< 1: fidelity over diversity)")
    p.add_argument("--text", action="append", default=[], metavar="CAPTION",
                   help="text-to-image runs (stackgan): give it twice, --text A --text B, to walk from one caption to "
                        "the other (linearly between their embeddings) with the noise of each row fixed")
    p.add_argument("--no-ema", action="store_true")
    p.set_defaults(func=cmd_interpolate)


def cmd_interpolate(args) -> int:
    import torch

    from gankit import load
    from gankit.viz.grid import enlarge, grid_array, save_gif, save_grid

    if args.rows < 1 or args.steps < 2:
        raise ConfigError("--rows must be at least 1 and --steps at least 2")
    run = load(args.run_dir, ema=not args.no_ema)
    if not run.is_image:
        raise ConfigError(f"interpolate draws images; {run.data_name} is point data (use `gankit sample`)")
    out = Path(args.out) if args.out else run.run_dir / "interpolation.png"
    if args.text:
        images = caption_walk(run, args).reshape(args.rows, args.steps, *run.data_shape)
        layout = f"each row from {args.text[0]!r} to {args.text[1]!r}, {args.steps} steps, its own noise"
    else:
        images = torch.cat([run.generate(run.truncate(run.interpolation(args.rows, args.steps, spherical, args.seed),
                                                      args.truncation))
                            for spherical in (False, True)]).reshape(2 * args.rows, args.steps, *run.data_shape)
        layout = (f"rows 1-{args.rows} linear, rows {args.rows + 1}-{2 * args.rows} spherical paths, "
                  f"{args.steps} steps each")
    if out.suffix == ".gif":
        frames = [grid_array(images[:, i]) for i in range(args.steps)]
        save_gif([enlarge(f) for f in frames], out)
    elif out.suffix == ".png":
        save_grid(images.reshape(-1, *run.data_shape), out, nrow=args.steps)
    else:
        raise ConfigError(f"--out must end in .png or .gif, got {out.name!r}")
    print(f"wrote {out}: {layout}")
    return 0


def caption_walk(run, args):
    """Samples (rows * steps) along the straight path between two captions' embeddings; each row
    keeps its own noise (z, and the conditioning augmentation's eps) all the way."""
    import torch

    if not hasattr(run.recipe, "caption_path"):
        raise ConfigError(f"--text needs a text-to-image run (stackgan); {args.run_dir} is {run.config.model}")
    if len(args.text) != 2:
        raise ConfigError(f"--text walks between two captions: give it exactly twice, got {len(args.text)}")
    ids = run.recipe.encode_text(args.text).to(run.recipe.stage.device)
    path = run.recipe.caption_path(ids, torch.linspace(0, 1, args.steps, device=ids.device))
    inputs = {name: value.repeat_interleave(args.steps, dim=0)
              for name, value in run.truncate(run.inputs(args.rows, args.seed), args.truncation).items()}
    inputs.update({name: value.repeat(args.rows, *[1] * (value.dim() - 1)) for name, value in path.items()})
    return run.generate(inputs)
