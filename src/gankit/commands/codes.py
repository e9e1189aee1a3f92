"""`gankit traverse`: sweep one generator input (an InfoGAN code) and draw the grid."""
from __future__ import annotations

import textwrap
from pathlib import Path

from gankit.commands.arguments import RUN_DIR_HELP
from gankit.config import ConfigError

EPILOG = textwrap.dedent("""\
    examples:
      gankit traverse runs/infogan --code c2 --range -2 2 --out c2.png    # rows: c1 = 0..9, columns: c2
      gankit traverse runs/infogan --code c1 --out c1.png                 # rows: noise draws, columns: c1
      gankit traverse runs/infogan --code c3 --range -2 2 --steps 20 --out c3.gif

    `gankit sample RUN --code c1=3 --code c2=-1.5` fixes codes instead of sweeping one.""")


def add_parsers(subparsers) -> None:
    p = subparsers.add_parser(
        "traverse", help="sweep one code of the generator's input (InfoGAN's figures)", epilog=EPILOG,
        description="Columns sweep --code over --range (a categorical code: its values); rows are the values "
                    "of the generator's categorical code (or --rows noise draws when it has none). The noise "
                    "and the other codes are held fixed, so each row shows what the swept code alone changes.")
    p.add_argument("run_dir", metavar="RUN_DIR", help=RUN_DIR_HELP)
    p.add_argument("--code", required=True, help="the input to sweep, e.g. c2 (see the error for a list)")
    p.add_argument("--range", nargs=2, type=float, metavar=("LOW", "HIGH"), dest="value_range",
                   help="sweep from LOW to HIGH (default: the code's prior range, e.g. -1 1)")
    p.add_argument("--steps", type=int, default=10, help="columns for a continuous code (default 10)")
    p.add_argument("--rows", type=int, default=10, help="noise draws as rows when there is no categorical code")
    p.add_argument("--set-code", action="append", default=[], metavar="NAME=VALUE", dest="codes",
                   help="fix another input, e.g. --set-code c3=1 (repeatable)")
    p.add_argument("--out", help="FILE.png or FILE.gif (one frame per column; default RUN_DIR/traverse_CODE.png)")
    p.add_argument("--seed", type=int, default=0, help="seed of the fixed noise")
    p.add_argument("--no-ema", action="store_true", help="the raw generator even if the run kept an EMA")
    p.set_defaults(func=run_traverse)


def traverse(run, code: str, value_range=None, steps: int = 10, rows: int = 10, codes=(), seed: int = 0):
    """(images (rows, columns, C, H, W) in [-1, 1], row labels, column values) of ``run``'s generator."""
    from gankit.noise import Noise
    from gankit.models.codes import parse_codes, traversal_inputs

    low, high = value_range if value_range else (None, None)
    given = parse_codes(list(codes), run.input_specs)
    inputs, row_labels, columns = traversal_inputs(run.input_specs, code, low, high, steps, Noise.seeded(seed),
                                                   rows, given)
    images = run.generate({k: v.to(run.device) for k, v in inputs.items()})
    return images.reshape(len(row_labels), len(columns), *images.shape[1:]), row_labels, columns


def run_traverse(args) -> int:
    from gankit import load
    from gankit.viz.grid import enlarge, grid_array, save_gif, save_grid

    if args.rows < 1:
        raise ConfigError("--rows must be at least 1")
    out = Path(args.out) if args.out else None
    if out is not None and out.suffix not in (".png", ".gif"):
        raise ConfigError(f"--out must end in .png or .gif, got {out.name!r}")
    run = load(args.run_dir, ema=not args.no_ema)
    if not run.is_image:
        raise ConfigError(f"traverse draws images; {run.data_name} is point data")
    images, row_labels, columns = traverse(run, args.code, args.value_range, args.steps, args.rows, args.codes,
                                           args.seed)
    out = out or run.run_dir / f"traverse_{args.code}.png"
    out.parent.mkdir(parents=True, exist_ok=True)
    if out.suffix == ".gif":
        save_gif([enlarge(grid_array(images[:, i], nrow=1)) for i in range(len(columns))], out)
    else:
        save_grid(images.reshape(-1, *images.shape[2:]), out, nrow=len(columns))
    print(f"wrote {out}: {len(row_labels)} rows x {len(columns)} columns, {args.code} from {columns[0]:g} "
          f"to {columns[-1]:g}")
    return 0
