"""`gankit sample`: draw from a trained run into a grid, an array or a dataset."""

from __future__ import annotations

import textwrap
from pathlib import Path

from gankit.commands.arguments import RUN_DIR_HELP
from gankit.config import ConfigError

EPILOG_SAMPLE = textwrap.dedent("""\
    examples:
      gankit sample runs/cgan --labels all --out grid.png          # one row per class
      gankit sample runs/cgan --labels 3,5 -n 1000 --out dresses_sandals.npy
      gankit sample runs/cgan --labels all -n 60000 --out synth.npz
      gankit train dcgan --data npz:synth.npz                         # train on the generated dataset
      gankit sample runs/stackgan --text "a small red circle" --text "큰 파란 별" --out captions.png
      gankit sample runs/stylegan2 --truncation 0.5 --truncation-cutoff 4  # truncate the coarse styles only""")


def add_parsers(subparsers) -> None:
    """Add the ``sample`` command to the ``gankit`` sub-parsers."""
    p = subparsers.add_parser("sample", help="draw samples from a trained run",
                              description="FILE.png writes a grid; FILE.npy writes uint8 (N, H, W) for one-channel images, "
                                          "(N, H, W, 3) for RGB, float32 (N, D) for toy data; FILE.npz writes a dataset "
                                          "(x = uint8 (N, C, H, W), y = labels) that --data npz:FILE trains on.",
                              epilog=EPILOG_SAMPLE)
    p.add_argument("run_dir", metavar="RUN_DIR", help=RUN_DIR_HELP)
    p.add_argument("-n", type=int, default=None, help="number of samples (default 64; with --labels and a .png, "
                   "8 per class)")
    p.add_argument("--out", help="FILE.png, FILE.npy or FILE.npz (default RUN_DIR/samples/sample.png)")
    p.add_argument("--labels", metavar="all|C1,C2,...", help="conditional runs: the classes to draw, N/K samples "
                   "each, sorted by class (a .png puts one class per row; a .npy also writes FILE.labels.npy)")
    p.add_argument("--seed", type=int, default=0, help="latent seed (default 0)")
    p.add_argument("--truncation", type=float, metavar="PSI",
                   help="the truncation trick as the family defines it: by default the normal latents are scaled by "
                        "PSI; StyleGAN-like families move w towards its average (< 1: fidelity over diversity)")
    p.add_argument("--truncation-cutoff", type=int, metavar="LAYER",
                   help="stylegan2: truncate only the per-layer latents below LAYER (e.g. 4: the coarse styles "
                        "4x4-8x8), leaving the finer ones as drawn; `gankit mix --help` names the groups")
    p.add_argument("--split", choices=("test", "train"), default="test",
                   help="where inputs the data give (pix2pix's image to translate) come from when not passed: "
                        "held-out examples (default) or training examples")
    p.add_argument("--stage", metavar="NAME", help="a model with stages (progan's resolutions, stackgan's stage I) at an earlier "
                   "stage it went through, e.g. --stage 8x8 (its samples enlarged to the data's size); default: the "
                   "checkpoint's stage")
    p.add_argument("--no-ema", action="store_true", help="use the raw generator even if the run kept an EMA")
    p.add_argument("--code", action="append", default=[], metavar="NAME=VALUE",
                   help="fix a named generator input for every sample, e.g. InfoGAN's --code c1=3 --code c2=-1.5 "
                        "(repeatable; `gankit traverse` sweeps one)")
    p.add_argument("--text", action="append", default=[], metavar="CAPTION",
                   help="text-to-image runs (stackgan): draw from this caption; repeatable, N/captions samples each "
                        "(a .png puts one caption per row; default 8 each). Without it, captions of held-out images")
    p.add_argument("--text-file", metavar="FILE", help="captions to draw from, one per line (as --text)")
    p.add_argument("--latent", action="append", default=[], metavar="FILE.npy",
                   help="stylegan2: draw the image of a latent w that `gankit project` wrote, (w_dim,) or "
                        "(num_ws, w_dim); repeatable, one image each")
    p.add_argument("--device", default="cpu")
    p.set_defaults(func=cmd_sample)


def cmd_sample(args) -> int:
    from gankit import load

    run = load(args.run_dir, device=args.device, ema=not args.no_ema)
    if args.truncation_cutoff is not None:
        if not hasattr(run.recipe, "truncation_cutoff"):
            raise ConfigError(f"--truncation-cutoff needs a model that truncates per layer (stylegan2); "
                              f"{args.run_dir} is {run.config.model}")
        if args.truncation is None or not 0 < args.truncation_cutoff < run.recipe.num_ws:
            raise ConfigError(f"--truncation-cutoff LAYER goes with --truncation PSI and lies in 1..{run.recipe.num_ws - 1}"
                              f" (the model has {run.recipe.num_ws} per-layer latents); got {args.truncation_cutoff}")
        run.recipe.truncation_cutoff = args.truncation_cutoff
    if args.latent:
        return draw_latents(run, args)
    if args.stage is None:
        return write_samples(run, args)
    with run.recipe.at_stage(args.stage):
        return write_samples(run, args)


def write_samples(run, args) -> int:
    import numpy as np

    from gankit.labels import parse_classes, spread
    from gankit.viz.grid import save_grid

    out = Path(args.out) if args.out else run.run_dir / "samples" / "sample.png"
    if out.suffix not in (".png", ".npy", ".npz"):
        raise ConfigError(f"--out must end in .png (a grid), .npy (an array) or .npz (a dataset), got {out.name!r}")
    classes = None
    if args.labels is not None:
        classes = parse_classes(args.labels, run.num_classes if run.conditional else None, str(args.run_dir))
    texts = read_captions(args.text, args.text_file)
    rows = classes or texts
    n = args.n if args.n is not None else (8 * len(rows) if rows and out.suffix == ".png" else 64)
    labels = None if classes is None else spread(classes, n)
    out.parent.mkdir(parents=True, exist_ok=True)
    from gankit.models.codes import fixed_inputs, parse_codes

    given = fixed_inputs(parse_codes(args.code, run.input_specs), run.input_specs, n)
    if labels is not None and "y" in given:
        raise ConfigError("the class is given twice: use --labels for it, not --code y=...")
    if texts:
        if not hasattr(run.recipe, "encode_text"):
            raise ConfigError(f"--text needs a text-to-image run (stackgan); {args.run_dir} is {run.config.model}")
        given["caption"] = run.recipe.encode_text([texts[i] for i in spread(list(range(len(texts))), n)])
    if out.suffix in (".npy", ".npz"):
        if labels is None and run.conditional:  # a labelled dataset either way: the classes in turn
            labels = spread(list(range(run.num_classes)), n)
        arr = run.sample_array(n, seed=args.seed, labels=labels, truncation=args.truncation, split=args.split,
                               **given)
        if out.suffix == ".npz":  # the layout of npz:FILE (and of a decoded folder): x (N, C, H, W), y
            fields = {"x": arr} if labels is None else {"x": arr, "y": labels}
            names = next(iter(run.data.values())).class_names
            if labels is not None and names:
                fields["class_names"] = np.asarray(names)
            np.savez(out, **fields)
            print(f"wrote {out}: x {arr.dtype} {arr.shape}" + ("" if labels is None else f", y int64 ({n},)")
                  + f"; train on it with --data npz:{out}")
            return 0
        if arr.ndim == 4:  # (N, C, H, W) -> (N, H, W) or (N, H, W, 3)
            arr = arr[:, 0] if arr.shape[1] == 1 else arr.transpose(0, 2, 3, 1)
        np.save(out, arr)
        print(f"wrote {out}: {arr.dtype} array of shape {arr.shape}")
        if labels is not None:
            label_file = out.with_suffix(".labels.npy")
            np.save(label_file, labels)
            print(f"wrote {label_file}: int64 labels of shape {labels.shape}")
    else:
        samples = run.sample(n, labels=labels, truncation=args.truncation, seed=args.seed, split=args.split, **given)
        if texts and n % len(texts) == 0:
            from gankit.viz.captioned import save_captioned_grid
            save_captioned_grid(samples, texts, out)
        elif run.is_image:
            save_grid(samples, out, nrow=-(-n // len(rows)) if rows else None)
        else:
            from gankit.data import load_dataset
            from gankit.viz.plots import plot_points

            real = load_dataset(run.data_name, "test").x[:2000]
            plot_points(samples.numpy(), real, out, f"{run.config.model} on {run.data_name}")
        layout = ""
        if classes and run.is_image:
            layout = f", one row per class ({', '.join(map(str, classes))})"
        elif texts:
            layout = "; rows: " + "; ".join(f"{i + 1}. {t}" for i, t in enumerate(texts))
        stage = f" at stage {args.stage}" if args.stage else ""
        print(f"wrote {out}: {n} samples from {run.checkpoint}{' (EMA)' if run.uses_ema else ''}{stage}{layout}")
    return 0


def read_captions(texts: list[str], text_file: str | None) -> list[str]:
    """The captions of --text and --text-file (one per line, blank lines skipped), in order."""
    out = list(texts)
    if text_file:
        path = Path(text_file)
        if not path.is_file():
            raise ConfigError(f"--text-file {text_file}: no such file")
        out += [line.strip() for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]
        if not out:
            raise ConfigError(f"--text-file {text_file} has no captions (one per line)")
    return out


def draw_latents(run, args) -> int:
    """The images of latents saved by `gankit project` (--latent), in a grid or an array."""
    import numpy as np
    import torch

    from gankit.viz.grid import save_grid

    recipe = run.recipe
    if not hasattr(recipe, "synthesize_styles"):
        raise ConfigError(f"--latent needs a style-based run (stylegan2); {args.run_dir} is {run.config.model}")
    ws = []
    for name in args.latent:
        path = Path(name)
        if not path.is_file():
            raise ConfigError(f"--latent {name}: no such file")
        w = torch.as_tensor(np.load(path), dtype=torch.float32)
        w_dim = recipe.options.w_dim
        if w.shape == (w_dim,):
            w = w.expand(recipe.num_ws, -1)
        if w.shape != (recipe.num_ws, w_dim):
            raise ConfigError(f"--latent {name} has shape {tuple(w.shape)}; this run's latents are ({w_dim},) or "
                              f"({recipe.num_ws}, {w_dim})")
        ws.append(w)
    with torch.no_grad():
        images = recipe.synthesize_styles(torch.stack(ws).to(run.device), run.generator).float().cpu()
    out = Path(args.out) if args.out else run.run_dir / "samples" / "latents.png"
    if out.suffix == ".npy":
        from gankit.data.pixels import to_uint8
        np.save(out, to_uint8(images))
    else:
        save_grid(images, out)
    print(f"wrote {out}: the images of {len(ws)} latent(s)")
    return 0
