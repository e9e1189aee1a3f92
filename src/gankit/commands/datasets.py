"""`gankit data`: where each dataset was found and its size; a grid of real samples."""

from __future__ import annotations

from pathlib import Path

from gankit.commands.arguments import add_common_data
from gankit.config import ConfigError


def add_parsers(subparsers) -> None:
    """Add the ``data`` command to the ``gankit`` sub-parsers."""
    p = subparsers.add_parser("data", help="where each dataset was found, its size; --grid shows real samples")
    p.add_argument("name", nargs="?", help="a dataset to show (with --grid)")
    p.add_argument("--grid", metavar="OUT.png", help="write a grid of real samples (a scatter for toy data)")
    p.add_argument("-n", type=int, default=64, help="images in the grid (default 64)")
    p.add_argument("--split", default="train", choices=["train", "test"])
    add_common_data(p)
    p.set_defaults(func=cmd_data)


def cmd_data(args) -> int:
    from gankit.data import describe_datasets, load_dataset

    if args.name is None:
        if args.grid:
            raise ConfigError("--grid needs a dataset name: gankit data NAME --grid out.png")
        rows = describe_datasets(args.data_root)
        print(f"{'dataset':<14} {'train':>7} {'test':>7}  {'shape':<12} where")
        for r in rows:
            shape = "x".join(str(s) for s in r.get("shape") or ()) or "-"
            print(f"{r['name']:<14} {r.get('train_size') or '-':>7} {r.get('test_size') or '-':>7}  {shape:<12} "
                  f"{r.get('source') if r.get('available') else 'not found: ' + str(r.get('source'))}")
        print("\nalso: folder:PATH (any image folder; subfolders are classes), npz:FILE (x = images, y = labels)")
        return 0
    data = load_dataset(args.name, args.split, args.data_root)
    print(f"{data.name} ({args.split}): {len(data)} examples of shape {data.x.shape[1:]}, "
          f"{data.num_classes or 'no'} classes, from {data.source}")
    if args.grid:
        out = Path(args.grid)
        out.parent.mkdir(parents=True, exist_ok=True)
        if data.is_image:
            from gankit.viz.grid import save_grid

            save_grid(data.x[:args.n], out)
        else:
            from gankit.viz.plots import plot_points

            plot_points(data.x[:0], data.x[:max(args.n, 2000)], out, data.name)
        print(f"wrote {out}")
    return 0
