"""`gankit report`: one self-contained HTML page about one or several runs."""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from gankit.config import ConfigError


def add_parsers(subparsers) -> argparse.ArgumentParser:
    """Add the ``report`` command to the ``gankit`` sub-parsers."""
    p = subparsers.add_parser(
        "report", help="an HTML page of one or several runs (curves, samples, metrics), one file",
        description="Write one self-contained HTML file (figures inline; it opens from disk, offline) with, per "
                    "run: the configuration, the loss and D(x)/D(G(z)) curves, the sample grids over training "
                    "(a slider), a latent interpolation, one row per class or code value, toy samples over the "
                    "mode centres, evaluation results beside the reference rows and the nearest-neighbour "
                    "picture. With several runs: their curves overlaid and their metrics side by side. "
                    "`gankit train` writes RUN/report.html at the end of a run (--set train.report=false: not).",
        epilog="examples:\n  gankit report runs/fmnist\n  gankit report runs/a runs/b --out compare.html\n"
               "  gankit eval --reference --data fashion-mnist --json ref.json && "
               "gankit report runs/fmnist --reference ref.json",
        formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("runs", nargs="+", metavar="RUN", help="run directories")
    p.add_argument("--out", help="the HTML file (default RUN/report.html for one run, report.html for several)")
    p.add_argument("--reference", metavar="FILE.json",
                   help="reference rows from `gankit eval --reference --data NAME --json FILE.json` "
                        "(default: a run's own reference.json)")
    p.add_argument("--no-generate", action="store_true",
                   help="leave out the figures drawn with the generator (no checkpoint is loaded)")
    p.set_defaults(func=main)
    return p


def main(args: argparse.Namespace) -> int:
    from gankit.report import write_report

    reference = None
    if args.reference:
        try:
            reference = json.loads(Path(args.reference).read_text())
        except (OSError, json.JSONDecodeError) as exc:
            raise ConfigError(f"--reference {args.reference}: cannot read it as JSON ({exc})") from exc
        if not isinstance(reference, dict) or not all(isinstance(v, dict) for v in reference.values()):
            raise ConfigError(f"--reference {args.reference}: expected {{row: {{metric: value}}}}, "
                              "as `gankit eval --reference --json` writes")
    out = Path(args.out) if args.out else (Path(args.runs[0]) / "report.html" if len(args.runs) == 1
                                           else Path("report.html"))
    path = write_report(args.runs, out, reference=reference, generate=not args.no_generate)
    print(f"wrote {path} ({path.stat().st_size / 1e6:.1f} MB); open it in a browser")
    return 0


def write_after_training(run_dir: Path) -> Path | None:
    """The end-of-run report; a failure is a warning, never an error: the run is already saved."""
    import warnings

    from gankit.report import write_report

    try:
        return write_report([run_dir], Path(run_dir) / "report.html")
    except Exception as exc:  # noqa: BLE001 - any report problem must leave the finished run alone
        warnings.warn(f"the run is saved, but its report could not be written: {exc}; "
                      f"try `gankit report {run_dir}`", stacklevel=2)
        return None
