"""FID over wall-clock: score every kept checkpoint of one or more runs and show where one overtakes another.

    PYTHONPATH=src python benchmarks/fid_curve.py RUN_A RUN_B [...] -n 1000 --plot curve.png --json curve.json

Each checkpoint (``RUN/checkpoints/step_N``; ``--every K`` keeps every K-th, and always the last) is
sampled (``-n``, seed 0, the EMA generator where the run kept one) and scored like ``gankit eval
CHECKPOINT --metrics fid``: with the dataset's classifier by default (seconds per checkpoint), or
``--features inception`` (minutes per checkpoint on a CPU). Its wall-clock is the run's own, read
from ``metrics.jsonl`` (the ``time`` of the last logged step at or before the checkpoint).

Runs trained with a step budget (so that their figures do not depend on the machine's load) have a
clock that does depend on it: a run that sped up when its neighbours finished bends its own time
axis. ``--budget-minutes M`` puts such runs on one footing: a checkpoint at step s of a run whose last
logged step is S is placed at M * s / S minutes, i.e. the step budget is taken to be what the run
makes in M minutes at a constant cost per step (not true of a growing ProGAN, whose steps get dearer:
use its own clock). Say so wherever such a curve is quoted.

The table lists each checkpoint; below it, for each pair of runs, the time from which the first run's
FID stays below the second's (each curve interpolated linearly between its checkpoints, compared where
both have been scored), or that it never does within the time both span.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from machine import finish, run_header  # noqa: E402


def logged_seconds(run_dir: Path) -> list[tuple[int, float]]:
    """(step, seconds since the run started) for every logged training row of ``metrics.jsonl``."""
    rows = []
    for line in (run_dir / "metrics.jsonl").read_text().splitlines():
        row = json.loads(line)
        if "step" in row and "time" in row and "d_loss" in row:  # training rows, not evaluations
            rows.append((int(row["step"]), float(row["time"])))
    if not rows:
        raise SystemExit(f"{run_dir}/metrics.jsonl has no training rows with a time; is it a gankit run?")
    return sorted(rows)


def seconds_at(step: int, rows: list[tuple[int, float]]) -> float:
    """The logged time of the last row at or before ``step`` (checkpoints fall on logged steps)."""
    before = [seconds for logged, seconds in rows if logged <= step]
    return before[-1] if before else 0.0


def minutes_at(step: int, rows: list[tuple[int, float]], budget_minutes: float | None = None) -> float:
    """A checkpoint's place on the time axis: the run's own clock, or with ``budget_minutes`` its share
    of the run's steps (the last logged step falls at ``budget_minutes``)."""
    if budget_minutes:
        return budget_minutes * step / rows[-1][0]
    return seconds_at(step, rows) / 60


def first_lasting_lead(a: list[tuple[float, float]], b: list[tuple[float, float]]) -> float | None:
    """The earliest time from which a's FID stays below b's, or None. Both curves are (minutes, FID),
    sorted by minutes, interpolated linearly between their checkpoints and compared at every
    checkpoint time of either that both curves span (nothing is extrapolated)."""
    ta, fa = np.array(a, dtype=float).T
    tb, fb = np.array(b, dtype=float).T
    start, end = max(ta[0], tb[0]), min(ta[-1], tb[-1])
    grid = np.unique(np.concatenate([ta, tb]))
    grid = grid[(grid >= start) & (grid <= end)]
    below = np.interp(grid, ta, fa) < np.interp(grid, tb, fb)
    for i in range(len(grid)):
        if below[i:].all():
            return float(grid[i])
    return None


def scored_before(path: Path | None, args) -> dict[tuple[str, int], dict]:
    """Points of an earlier ``--json`` of this script with the same samples and features, by (run, step)."""
    if path is None or not path.exists():
        return {}
    saved = json.loads(path.read_text())
    if (saved.get("n"), saved.get("features"), saved.get("fid_convention")) != (args.n, args.features,
                                                                                 args.fid_convention):
        raise SystemExit(f"{path} was scored with other settings (n, features, convention); give a new --json")
    return {(p["run"], p["step"]): p for points in saved["curves"].values() for p in points}


def curve(run_dir: Path, args, known: dict[tuple[str, int], dict]) -> list[dict]:
    import gankit
    from gankit.metrics.evaluate import evaluate
    from gankit.train.checkpoint import checkpoint_dirs

    checkpoints = checkpoint_dirs(run_dir)
    if not checkpoints:
        raise SystemExit(f"{run_dir} has no checkpoints to score")
    kept = checkpoints[::args.every]
    if kept[-1] != checkpoints[-1]:
        kept.append(checkpoints[-1])
    rows = logged_seconds(run_dir)
    points = []
    for checkpoint in kept:
        step = int(checkpoint.name.split("_")[-1])
        minutes = minutes_at(step, rows, args.budget_minutes)
        point = known.get((str(run_dir), step))  # scored by an earlier call with this --json
        if point is None:
            run = gankit.load(checkpoint)
            result = evaluate(run.sample_array(args.n, seed=0), run.data_name, metrics=["fid"], progress=False,
                              features=args.features, convention=args.fid_convention, real_n=args.real_n)
            point = {"run": str(run_dir), "step": step, "fid": result["fid"],
                     "stage": ",".join(run.recipe.stages()[-1:]) or "-"}
        points.append({**point, "minutes": round(minutes, 2)})
        print(f"| {run_dir.name} | {step:,} | {minutes:.1f} | {point['stage']} | {point['fid']:.2f} |", flush=True)
    return points


def plot(curves: dict[str, list[dict]], path: Path, title: str) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(6, 4))
    for name, points in curves.items():
        ax.plot([p["minutes"] for p in points], [p["fid"] for p in points], marker="o", label=name)
    ax.set_xlabel("wall-clock (minutes)")
    ax.set_ylabel("FID (lower is better)")
    ax.set_title(title)
    ax.grid(alpha=0.3)
    ax.legend()
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("runs", nargs="+", type=Path, help="run directories (their checkpoints are scored)")
    parser.add_argument("-n", type=int, default=1000, help="samples per checkpoint (default 1000)")
    parser.add_argument("--every", type=int, default=1, help="score every K-th checkpoint (and the last)")
    parser.add_argument("--features", choices=("dataset", "inception"), default=None,
                        help="FID's feature space, as gankit eval's (default: the dataset's classifier where one exists)")
    parser.add_argument("--fid-convention", choices=("tf", "pytorch", "clean"), default="tf")
    parser.add_argument("--real-n", type=int, default=None, help="training images to compare against (as gankit eval's)")
    parser.add_argument("--budget-minutes", type=float, default=None,
                        help="place each checkpoint at its share of the run's steps, the last logged step at "
                             "this many minutes (for step-budgeted runs sized to that wall-clock; default: "
                             "each run's own clock)")
    parser.add_argument("--plot", type=Path, default=None, help="write the curves as a PNG")
    parser.add_argument("--json", type=Path, default=None,
                        help="write the points; checkpoints it already holds (same -n and features) are not scored again")
    args = parser.parse_args(argv)
    if args.every < 1 or args.n < 2:
        parser.error("--every must be >= 1 and -n >= 2")
    header = run_header("fid_curve.py", argv if argv is not None else sys.argv[1:])
    print("\n| run | step | minutes | stage | FID |\n|---|--:|--:|---|--:|")
    known = scored_before(args.json, args)
    curves = {run_dir.name: curve(run_dir, args, known) for run_dir in args.runs}
    leads = []
    names = list(curves)
    for a in names:
        for b in names:
            if a != b:
                when = first_lasting_lead([(p["minutes"], p["fid"]) for p in curves[a]],
                                          [(p["minutes"], p["fid"]) for p in curves[b]])
                leads.append({"run": a, "beats": b, "from_minutes": when})
                print(f"# {a} below {b}: " + (f"from {when:.1f} min on" if when is not None else "not for good"))
    if args.plot:
        plot(curves, args.plot, f"FID ({args.features or 'dataset'} features, {args.n} samples)")
        print(f"# wrote {args.plot}")
    finish(header, args.json, {"curves": curves, "leads": leads, "n": args.n, "features": args.features,
                               "fid_convention": args.fid_convention, "budget_minutes": args.budget_minutes})
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
