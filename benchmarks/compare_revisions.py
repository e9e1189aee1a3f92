"""Training throughput of two revisions of gankit, measured alternately on the same machine.

A refactoring of the Trainer or the Recipe seam must not slow training down. This script checks
out ``--base`` (a commit, tag or branch) into a temporary git worktree and runs each revision's
own ``benchmarks/throughput.py`` on the gankit configurations only (no classic-loop baselines),
alternating base and head ``--rounds`` times so that drifting machine load hits both alike. It
prints, per configuration, the median images/s of each revision with the spread of all its
repeats, and the head/base ratio::

    python benchmarks/compare_revisions.py --base 05e1381
    python benchmarks/compare_revisions.py --base main~3 --only dcgan --rounds 3 --repeats 5

Run it on a quiet machine (``uptime``): on 2 cores any other process shows up as a slowdown.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "benchmarks"))  # benchmarks/machine.py
from machine import cpu_model  # noqa: E402

CONFIGS = "gan-classic,dcgan-classic,dcgan"


def run_throughput(tree: Path, only: str, repeats: int, out: Path) -> dict[str, list[float]]:
    """Per configuration, the images/s of every repeat of one run of ``tree``'s throughput.py."""
    env = {**os.environ, "PYTHONPATH": str(tree / "src")}
    cmd = [sys.executable, str(tree / "benchmarks" / "throughput.py"), "--only", only, "--skip-baselines",
           "--repeats", str(repeats), "--json", str(out)]
    subprocess.run(cmd, env=env, cwd=tree, check=True, stdout=subprocess.DEVNULL)
    rows = json.loads(out.read_text())["rows"]
    found: dict[str, list[float]] = {}
    for row in rows:
        if row.get("impl", "").startswith("gankit Trainer"):
            # Each row is the median of its repeats; keep min and max too for the spread.
            found.setdefault(row["config"], []).extend([row["img_per_s_min"], row["img_per_s"], row["img_per_s_max"]])
    return found


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--base", required=True, help="the revision to compare against (commit, tag, branch)")
    p.add_argument("--only", default=CONFIGS, help=f"configurations of throughput.py (default {CONFIGS})")
    p.add_argument("--rounds", type=int, default=2, help="alternations base, head (default 2)")
    p.add_argument("--repeats", type=int, default=5, help="timed repeats per run (default 5)")
    args = p.parse_args(argv)

    results: dict[str, dict[str, list[float]]] = {"base": {}, "head": {}}
    with tempfile.TemporaryDirectory(prefix="gankit-base-") as tmp:
        base = Path(tmp) / "tree"
        subprocess.run(["git", "-C", str(ROOT), "worktree", "add", "--detach", "-q", str(base), args.base], check=True)
        try:
            for round_ in range(args.rounds):
                for name, tree in (("base", base), ("head", ROOT)):
                    print(f"# round {round_ + 1}/{args.rounds}: {name} ...", flush=True)
                    for config, rates in run_throughput(tree, args.only, args.repeats, Path(tmp) / f"{name}.json").items():
                        results[name].setdefault(config, []).extend(rates)
        finally:
            subprocess.run(["git", "-C", str(ROOT), "worktree", "remove", "--force", str(base)], check=False)

    head_rev = subprocess.run(["git", "-C", str(ROOT), "rev-parse", "--short", "HEAD"], capture_output=True,
                              text=True).stdout.strip()
    print(f"\n# {cpu_model()}, {os.cpu_count()} cores; load average at the end {os.getloadavg()[0]:.2f}")
    print(f"# base {args.base} vs head {head_rev} (+ uncommitted changes); {args.rounds} alternating rounds x "
          f"{args.repeats} repeats; img/s median of the per-run medians [min-max of all repeats]\n")
    print("| config | base img/s | head img/s | head / base |")
    print("|---|--:|--:|--:|")
    for config in args.only.split(","):
        b, h = results["base"].get(config), results["head"].get(config)
        if not b or not h:
            print(f"| {config} | missing | missing | - |")
            continue
        bm, hm = statistics.median(b[1::3]), statistics.median(h[1::3])
        print(f"| {config} | {bm:,.0f} [{min(b):,.0f}-{max(b):,.0f}] | {hm:,.0f} [{min(h):,.0f}-{max(h):,.0f}] | "
              f"{hm / bm:.3f} |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
