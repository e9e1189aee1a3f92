"""How long `gankit eval` takes on 10,000 samples, metric by metric (issue target: every metric
except Parzen in under 60 s on 2 cores).

The samples are Fashion-MNIST test images with a little noise (any uint8 array of the right shape
costs the same). The first pass fills the real-data caches (features of the training set, Parzen
sets) and is reported separately; the timed passes run with warm caches, as every evaluation
after the first does.

    PYTHONPATH=src python benchmarks/eval_speed.py
"""

from __future__ import annotations

import argparse
import os
import sys
import time

import numpy as np
import torch

from gankit.data import load_dataset
from gankit.metrics.evaluate import evaluate


def timed(samples, data, metrics) -> float:
    start = time.perf_counter()
    evaluate(samples, data, metrics=metrics, progress=False)
    return time.perf_counter() - start


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--data", default="fashion-mnist")
    p.add_argument("-n", type=int, default=10_000)
    args = p.parse_args()
    real = load_dataset(args.data, "test").x
    rng = np.random.default_rng(0)
    idx = rng.integers(0, len(real), args.n)
    noise = rng.integers(-20, 21, size=(args.n, *real.shape[1:]))
    samples = np.clip(real[idx].astype(np.int16) + noise, 0, 255).astype(np.uint8)
    print(f"# {time.strftime('%Y-%m-%d %H:%M')}  torch {torch.__version__}  threads {torch.get_num_threads()}  "
          f"load average {os.getloadavg()[0]:.2f}  {args.n} samples of {args.data}")
    cold = timed(samples, args.data, "fid,kid,pr,dc,score,parzen,nn")
    rows = [("first call in this process, all metrics (fills the disk caches if empty)", cold)]
    for metrics in ("fid", "kid", "pr", "dc", "score", "nn", "parzen"):
        rows.append((metrics, timed(samples, args.data, metrics)))
    rows.append(("all but parzen: fid,kid,pr,dc,score,nn", timed(samples, args.data, "fid,kid,pr,dc,score,nn")))
    print("\n| metrics | seconds |\n|---|--:|")
    for name, seconds in rows:
        print(f"| {name} | {seconds:.1f} |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
