r"""Sample quality of GAN models (gan, dcgan and lsgan unless told) on Fashion-MNIST for a fixed, stated training budget.

Each model is trained with the public CLI (the commands are printed and written to the results),
then judged by `gankit eval` on 10,000 samples: FID, KID, precision/recall, density/coverage,
classifier score and the Parzen-window log-likelihood. Parzen is also measured on MNIST-5k and
listed beside the rows of Goodfellow et al. (2014), Table 1, which used full MNIST.

    python benchmarks/quality.py                       # 5 minutes per model on this machine
    python benchmarks/quality.py --minutes 10 --write benchmarks/RESULTS.md

A row can also be any `gankit train` configuration, under a label of its own, and every row can be
trained with several seeds (the table then adds the mean and standard deviation over them):

    python benchmarks/quality.py --minutes 10 --models dcgan --seeds 0,1,2 --skip-parzen \
        --run "fc512=dcgan --set model.fc=512 --set train.lr_g=1e-3"   # the run in RESULTS.md
"""

from __future__ import annotations

import argparse
import datetime
import json
import platform
import shlex
import subprocess
import sys
from pathlib import Path

import numpy as np
import torch

sys.path.insert(0, str(Path(__file__).resolve().parent))

from machine import cpu_model  # noqa: E402

# Goodfellow et al. 2014, Table 1 (Parzen window log-likelihood, MNIST test set, nats).
PAPER_ROWS = [("DBN (Bengio et al. 2013)", "138 ± 2"), ("Stacked CAE (Bengio et al. 2013)", "121 ± 1.6"),
              ("Deep GSN (Bengio et al. 2014)", "214 ± 1.1"), ("Adversarial nets (Goodfellow et al. 2014)", "225 ± 2")]
COLUMNS = ["fid", "kid", "precision", "recall", "density", "coverage", "classifier_score", "parzen_ll", "parzen_se"]


def gankit(*args: str) -> str:
    cmd = [sys.executable, "-m", "gankit", *args]
    print("$ gankit " + shlex.join(args), flush=True)
    subprocess.run(cmd, check=True)
    return "gankit " + shlex.join(args)


def train_and_eval(label: str, train_args: list[str], data: str, minutes: float, seed: int, out: Path, n: int,
                   metrics: str) -> dict:
    """Train `gankit train TRAIN_ARGS` (unless its run exists) and evaluate it; the row's results."""
    run = out / f"{label}-{data}-s{seed}"
    commands = []
    if not (run / "checkpoints").exists():
        commands.append(gankit("train", *train_args, "--data", data, "--minutes", f"{minutes:g}", "--seed", str(seed),
                               "--out", str(run), "--no-progress"))
    result_file = run / "eval.json"
    commands.append(gankit("eval", str(run), "-n", str(n), "--metrics", metrics, "--json", str(result_file),
                           "--quiet"))
    result = json.loads(result_file.read_text())
    steps = max((json.loads(line)["step"] for line in (run / "metrics.jsonl").read_text().splitlines()), default=0)
    return {"model": label, "seed": seed, "data": data, "steps": steps, "commands": commands, **result}


def parse_runs(models: str, runs: list[str]) -> list[tuple[str, list[str]]]:
    """(label, `gankit train` arguments) for each --models name and each --run LABEL=ARGS."""
    rows = [(m, [m]) for m in models.split(",") if m]
    for spec in runs:
        label, sep, args = spec.partition("=")
        if not sep or not label or not args.strip() or "/" in label:
            raise SystemExit(f"--run {spec!r}: expected LABEL=ARGS, e.g. 'fc512=dcgan --set model.fc=512'")
        rows.append((label, shlex.split(args)))
    labels = [label for label, _ in rows]
    if len(set(labels)) < len(labels):
        raise SystemExit(f"row labels must differ, got {labels}")
    return rows


def summary(rows: list[dict]) -> list[dict]:
    """Mean and standard deviation (ddof 0) of every column over each label's seeds."""
    out = []
    for label in dict.fromkeys(r["model"] for r in rows):
        group = [r for r in rows if r["model"] == label]
        row = {"model": label, "seeds": ",".join(str(r["seed"]) for r in group),
               "steps": round(sum(r["steps"] for r in group) / len(group))}
        for c in COLUMNS:
            values = [r[c] for r in group if r.get(c) is not None]
            if values:
                row[c] = (float(np.mean(values)), float(np.std(values)))
        out.append(row)
    return out


def fmt(value) -> str:
    if value is None:
        return "-"
    if isinstance(value, tuple):
        return f"{value[0]:.3g} ± {value[1]:.2g}"
    return f"{value:.3g}" if isinstance(value, float) else str(value)


def markdown(rows: list[dict], reference: dict, parzen: dict | None, args) -> str:
    lines = [f"## Quality (Fashion-MNIST, {args.minutes:g} minutes of training per model)", "",
             f"Measured {datetime.date.today()} on {platform.node() or 'this machine'}: "
             f"{cpu_model()}, {torch.get_num_threads()} CPU threads, torch {torch.__version__}, "
             f"seeds {args.seeds}, "
             f"{args.n} samples per evaluation. Features: gankit's Fashion-MNIST classifier "
             "(`src/gankit/metrics/weights/fashion-mnist.json`), so FID here is not comparable with Inception FIDs.",
             "", "| model | seed | steps | " + " | ".join(COLUMNS) + " |", "|---" * (len(COLUMNS) + 3) + "|"]
    for r in rows:
        lines.append(f"| {r['model']} | {r['seed']} | {r['steps']} | " + " | ".join(fmt(r.get(c)) for c in COLUMNS)
                     + " |")
    for name, r in reference.items():
        lines.append(f"| *{name}* | - | - | " + " | ".join(fmt(r.get(c)) for c in COLUMNS) + " |")
    if len(args.seeds.split(",")) > 1:
        lines += ["", "Mean ± standard deviation over the seeds:", "",
                  "| model | seeds | mean steps | " + " | ".join(COLUMNS) + " |", "|---" * (len(COLUMNS) + 3) + "|"]
        lines += [f"| {r['model']} | {r['seeds']} | {r['steps']} | " + " | ".join(fmt(r.get(c)) for c in COLUMNS)
                  + " |" for r in summary(rows)]
    lines += ["", "Commands:", "", "```"] + [c for r in rows for c in r["commands"]]
    lines += [f"gankit eval --reference --data fashion-mnist -n {args.n}", "```", ""]
    if parzen:
        lines += ["### Parzen-window log-likelihood on MNIST digits", "",
                  "| model | nats |", "|---|---|"]
        lines += [f"| {name} (paper, full MNIST) | {value} |" for name, value in PAPER_ROWS]
        lines.append(f"| gankit dcgan, {args.minutes:g} min on CPU (MNIST-5k) | "
                     f"{parzen['parzen_ll']:.0f} ± {parzen['parzen_se']:.1f} (σ = {parzen.get('parzen_sigma', 0):.3g}) |")
        lines += ["", "The data differ: the paper fits σ on a validation split of full MNIST and reports on its "
                  "10,000 test images; gankit's MNIST-5k row uses the 1,000 held-out MNIST-5k digits (σ chosen on "
                  "part of them, reported on the rest). Parzen estimates are known to be a poor likelihood proxy "
                  "(Theis et al. 2016); they are here to connect with the lecture.", "", "```"]
        lines += parzen["commands"] + ["```", ""]
    return "\n".join(lines)


def write_section(path: Path, text: str) -> None:
    """Replace the section of RESULTS.md with this text's heading (its budget), leaving the others alone."""
    old = path.read_text() if path.exists() else "# Benchmark results\n\n"
    start = old.find(text.splitlines()[0] + "\n")
    if start >= 0:
        end = old.find("\n## ", start + 1)
        old = old[:start] + (old[end + 1:] if end >= 0 else "")
    path.write_text(old.rstrip() + "\n\n" + text)


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--minutes", type=float, default=5.0, help="training budget per model (default 5)")
    p.add_argument("--models", default="gan,dcgan,lsgan", help="comma-separated models trained with their defaults")
    p.add_argument("--run", action="append", default=[], metavar="LABEL=ARGS",
                   help="one more row: `gankit train ARGS` under LABEL (repeatable); ARGS name the model and options, "
                        "e.g. 'fc512=dcgan --set model.fc=512 --set train.lr_g=1e-3'")
    p.add_argument("--seeds", default="0", help="comma-separated seeds; every row is trained with each (default 0)")
    p.add_argument("-n", type=int, default=10_000, dest="n")
    p.add_argument("--out", type=Path, default=Path("runs/quality"))
    p.add_argument("--skip-parzen", action="store_true", help="skip the MNIST-5k Parzen row")
    p.add_argument("--write", type=Path, help="replace the Quality section of this markdown file")
    args = p.parse_args()
    runs = parse_runs(args.models, args.run)
    seeds = [int(s) for s in args.seeds.split(",")]
    args.out.mkdir(parents=True, exist_ok=True)
    # Seed by seed, so that an interrupted benchmark leaves every row with its first seeds.
    rows = [train_and_eval(label, train_args, "fashion-mnist", args.minutes, seed, args.out, args.n,
                           "fid,kid,pr,dc,score,parzen") for seed in seeds for label, train_args in runs]
    rows.sort(key=lambda r: [label for label, _ in runs].index(r["model"]))
    ref_file = args.out / "reference.json"
    gankit("eval", "--reference", "--data", "fashion-mnist", "-n", str(args.n), "--metrics", "fid,kid,pr,dc,score,parzen",
           "--json", str(ref_file), "--quiet")
    reference = json.loads(ref_file.read_text())
    parzen = None if args.skip_parzen else train_and_eval("dcgan", ["dcgan"], "mnist-5k", args.minutes, seeds[0],
                                                           args.out, args.n, "parzen")
    text = markdown(rows, reference, parzen, args)
    print(text)
    if args.write:
        write_section(args.write, text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
