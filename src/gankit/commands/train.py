"""`gankit train`: the run's configuration from its sources, the training, and what it left where."""

from __future__ import annotations

import textwrap
from pathlib import Path

from gankit.commands.arguments import add_common_data
from gankit.config import ConfigError, RunConfig, apply_overrides, load_preset, parse_set_arguments

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


def add_parsers(subparsers) -> None:
    """Add the ``train`` command to the ``gankit`` sub-parsers."""
    p = subparsers.add_parser("train", help="train a model into a run directory", epilog=EPILOG_TRAIN,
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


def train_config(args) -> tuple[RunConfig, Path]:
    """The run's configuration: recipe defaults < preset < run's saved config (--resume) < options < --set."""
    from gankit.models import recipe_class
    from gankit.models.registry import read_saved_config, recipe_options
    from gankit.train.checkpoint import latest_checkpoint

    preset = load_preset(args.preset) if args.preset else {}
    model = args.model or preset.get("model")
    if args.resume and args.out and (Path(args.out) / "config.yaml").exists():
        cfg, _ = read_saved_config(args.out)
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
