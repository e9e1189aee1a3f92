"""Resident memory of a folder dataset held in memory versus memory-mapped (`data.store`).

1. Writes a folder of generated 64x64 RGB PNGs (coloured gradients and shapes with a little
   noise, reproducible from --seed; skipped when the folder exists) and a tiny one of 80.
2. Decodes the big folder once into a private cache (a child process; its peak RSS shows that
   decoding streams).
3. Reads --batches random batches of 64 through `load_dataset(folder:DIR, store=...)` in a
   child process per store, and measures each child's peak RSS, against a child that only
   imports gankit.
4. Trains `gankit train dcgan --data folder:DIR --set data.store=S --steps N` in a child
   process per store, and the same command on the tiny folder as the baseline of torch and
   the networks, so the data's own share of resident memory can be read off.

Peak RSS is the child's ru_maxrss (os.wait4). Pages of a mapped file that a process touched count
in its RSS, so the mapped store's number includes whatever it has not released yet.

    PYTHONPATH=src python benchmarks/mapped_store.py                   # ~20k PNGs, 100 steps
    PYTHONPATH=src python benchmarks/mapped_store.py --steps 20 --skip-train
    PYTHONPATH=src python benchmarks/mapped_store.py --cleanup         # delete what it wrote
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))  # benchmarks/machine.py
from machine import cpu_model  # noqa: E402

import numpy as np

DEFAULT_ROOT = Path(tempfile.gettempdir()) / "gankit-mapped-bench"
SRC = Path(__file__).resolve().parents[1] / "src"


# --- the image folders -----------------------------------------------------------------------
def draw_image(rng: np.random.Generator, size: int):
    """A random gradient with 1-4 coloured shapes and mild noise, as a PIL RGB image."""
    from PIL import Image, ImageDraw

    t = np.linspace(0.0, 1.0, size)
    angle = rng.uniform(0, 2 * np.pi)
    ramp = np.cos(angle) * t[None, :] + np.sin(angle) * t[:, None]
    ramp = (ramp - ramp.min()) / max(ramp.max() - ramp.min(), 1e-6)
    a, b = rng.integers(0, 256, 3), rng.integers(0, 256, 3)
    pixels = a + ramp[..., None] * (b - a)
    img = Image.fromarray(pixels.astype(np.uint8), "RGB")
    draw = ImageDraw.Draw(img)
    for _ in range(rng.integers(1, 5)):
        x0, y0 = rng.integers(-size // 4, size, 2)
        w, h = rng.integers(size // 8, size // 2, 2)
        colour = tuple(int(c) for c in rng.integers(0, 256, 3))
        kind = rng.integers(3)
        if kind == 0:
            draw.ellipse((x0, y0, x0 + w, y0 + h), fill=colour)
        elif kind == 1:
            draw.rectangle((x0, y0, x0 + w, y0 + h), fill=colour)
        else:
            draw.polygon([tuple(int(v) for v in rng.integers(0, size, 2)) for _ in range(3)], fill=colour)
    noisy = np.asarray(img, dtype=np.int16) + rng.integers(-6, 7, (size, size, 3))
    return Image.fromarray(np.clip(noisy, 0, 255).astype(np.uint8), "RGB")


def make_folder(folder: Path, n: int, size: int, seed: int) -> None:
    """Write n PNGs into folder, unless it exists (written under a temporary name first)."""
    if folder.is_dir():
        print(f"using existing {folder} ({sum(1 for _ in folder.iterdir())} files)", flush=True)
        return
    tmp = folder.with_name(folder.name + ".partial")
    shutil.rmtree(tmp, ignore_errors=True)
    tmp.mkdir(parents=True)
    start = time.perf_counter()
    for i in range(n):
        draw_image(np.random.default_rng([seed, i]), size).save(tmp / f"{i:06d}.png")
        if (i + 1) % 2000 == 0 or i + 1 == n:
            print(f"  wrote {i + 1}/{n} PNGs to {folder} ({time.perf_counter() - start:.0f} s)", flush=True)
    tmp.rename(folder)


# --- child processes -------------------------------------------------------------------------
def run_child(cmd: list[str], env: dict, log: Path) -> tuple[int, float, float]:
    """(exit code, peak RSS in MiB, seconds) of one child; its output goes to log."""
    with open(log, "w") as out:
        start = time.perf_counter()
        proc = subprocess.Popen(cmd, stdout=out, stderr=subprocess.STDOUT, env=env)
        # wait4 gives this child's own rusage; RUSAGE_CHILDREN would be the max over all of them.
        _, status, usage = os.wait4(proc.pid, 0)
        proc.returncode = os.waitstatus_to_exitcode(status)
        seconds = time.perf_counter() - start
    return proc.returncode, usage.ru_maxrss / 1024, seconds  # Linux reports KiB


def child_data(store: str, folder: str, batches: int, batch: int) -> None:
    """Child: load the folder with `store`, read random batches, print one JSON line."""
    from gankit.data import load_dataset  # imported even for "none": part of the baseline

    out = {"store": store}
    if store != "none":
        start = time.perf_counter()
        data = load_dataset(f"folder:{folder}", store=store)
        out["load_s"] = time.perf_counter() - start
        x, rng = data.x, np.random.default_rng(0)
        read = x.__getitem__ if isinstance(x, np.ndarray) else x.take  # ndarray.take flattens
        start = time.perf_counter()
        total = 0
        for _ in range(batches):
            total += int(read(rng.integers(0, len(data), batch)).sum(dtype=np.int64) & 1)
        out.update(read_s=time.perf_counter() - start, images=len(data), type=type(x).__name__)
    print(json.dumps(out))


def child_decode(folder: str) -> None:
    from gankit.data import load_dataset

    start = time.perf_counter()
    data = load_dataset(f"folder:{folder}", store="mapped")
    print(json.dumps({"decode_s": time.perf_counter() - start, "images": len(data)}))


def last_json(log: Path) -> dict:
    for line in reversed(log.read_text().splitlines()):
        if line.startswith("{"):
            return json.loads(line)
    return {}


def img_per_s(run_dir: Path) -> float | None:
    path = run_dir / "metrics.jsonl"
    if not path.is_file():
        return None
    values = []
    for line in path.read_text().splitlines():
        try:
            row = json.loads(line)
        except ValueError:
            continue
        if isinstance(row, dict) and isinstance(row.get("img_per_s"), (int, float)):
            values.append(float(row["img_per_s"]))
    return statistics.median(values) if values else None


def tail(log: Path, lines: int = 8) -> str:
    return "\n".join("    " + s for s in log.read_text().splitlines()[-lines:])


# --- the benchmark ---------------------------------------------------------------------------
def main() -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--folder", type=Path, default=DEFAULT_ROOT / "shapes-20000",
                   help="image folder to write (if missing) and train from (default %(default)s)")
    p.add_argument("--images", type=int, default=20_000, help="PNGs to write (default %(default)s)")
    p.add_argument("--tiny", type=int, default=80,
                   help="images in the baseline folder; 72 or more so the train split (90%%) "
                        "holds one batch of 64 (default %(default)s)")
    p.add_argument("--size", type=int, default=64, help="image side (default %(default)s)")
    p.add_argument("--steps", type=int, default=100, help="training iterations per run (default %(default)s)")
    p.add_argument("--batches", type=int, default=200,
                   help="random batches of 64 read in the data-only children (default %(default)s)")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--skip-train", action="store_true", help="only decode and the data-only children")
    p.add_argument("--cleanup", action="store_true",
                   help="delete the folders, cache and runs afterwards (default: keep them, so a "
                        "second run skips writing the PNGs)")
    p.add_argument("--child-data", nargs=2, metavar=("STORE", "DIR"), help=argparse.SUPPRESS)
    p.add_argument("--child-decode", metavar="DIR", help=argparse.SUPPRESS)
    args = p.parse_args()
    if args.child_data:
        child_data(args.child_data[0], args.child_data[1], args.batches, 64)
        return 0
    if args.child_decode:
        child_decode(args.child_decode)
        return 0

    folder = args.folder.expanduser().resolve()
    tiny = folder.with_name(folder.name + f"-tiny{args.tiny}")
    work = folder.with_name(folder.name + "-bench")  # cache, runs and logs of this benchmark
    shutil.rmtree(work, ignore_errors=True)
    (work / "logs").mkdir(parents=True)
    env = dict(os.environ, XDG_CACHE_HOME=str(work / "cache"), PYTHONUNBUFFERED="1")
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(SRC), env.get("PYTHONPATH")]))
    me = [sys.executable, str(Path(__file__).resolve())]

    print(f"# {time.strftime('%Y-%m-%d %H:%M')}  {cpu_model()}  nproc {os.cpu_count()}  "
          f"load average {os.getloadavg()[0]:.2f}  Python {platform.python_version()}", flush=True)
    make_folder(folder, args.images, args.size, args.seed)
    make_folder(tiny, args.tiny, args.size, args.seed + 1)
    n_files = sum(1 for _ in folder.iterdir())
    decoded_mib = n_files * 3 * args.size * args.size / 2**20

    print(f"decoding {n_files} PNGs into the cache (first load, streamed) ...", flush=True)
    rc, peak, secs = run_child(me + ["--child-decode", str(folder)], env, work / "logs" / "decode.log")
    if rc:
        print(f"decode failed (exit {rc}):\n{tail(work / 'logs' / 'decode.log')}")
        return 1
    decode = last_json(work / "logs" / "decode.log")
    print(f"  {decode['decode_s']:.1f} s, peak RSS {peak:.0f} MiB", flush=True)

    rows = [("decode (first load, store=mapped)", "-", n_files, decoded_mib, peak, None, None, secs)]
    base = None
    for store in ("none", "mapped", "memory"):
        log = work / "logs" / f"data-{store}.log"
        rc, peak, secs = run_child(me + ["--child-data", store, str(folder), "--batches", str(args.batches)],
                                   env, log)
        if rc:
            print(f"data-only child with store={store} failed (exit {rc}):\n{tail(log)}")
            continue
        got = last_json(log)
        if store == "none":
            base = peak
            rows.append(("data only: import gankit, no data (baseline)", "-", 0, 0.0, peak, None, None, secs))
        else:
            n = got["images"]
            rows.append((f"data only: load + {args.batches} batches of 64 via {got['type']}", store, n,
                         n * 3 * args.size * args.size / 2**20, peak, base, None, secs))
        print(f"  data-only {store}: peak RSS {peak:.0f} MiB ({secs:.1f} s)", flush=True)

    failures = []
    if not args.skip_train:
        base = None
        for name, data_dir, store in (("baseline: tiny folder", tiny, "memory"),
                                      ("baseline: tiny folder", tiny, "mapped"),
                                      ("train", folder, "mapped"), ("train", folder, "memory")):
            run_dir = work / "runs" / f"{data_dir.name}-{store}"
            log = work / "logs" / f"train-{data_dir.name}-{store}.log"
            cmd = [sys.executable, "-m", "gankit", "train", "dcgan", "--data", f"folder:{data_dir}",
                   "--set", f"data.store={store}", "--steps", str(args.steps), "--no-progress",
                   "--out", str(run_dir)]
            print(f"training: {' '.join(cmd[1:])}", flush=True)
            rc, peak, secs = run_child(cmd, env, log)
            if rc:
                failures.append((" ".join(cmd[1:]), rc, tail(log, 12)))
                print(f"  failed (exit {rc}), see {log}", flush=True)
                continue
            n_train = n_files - n_files // 10 if data_dir == folder else args.tiny - args.tiny // 10
            if data_dir == tiny:
                base = peak if base is None else max(base, peak)
            rows.append((f"{name}: gankit train dcgan, {args.steps} steps", store, n_train,
                         n_train * 3 * args.size * args.size / 2**20, peak,
                         base if data_dir == folder else None, img_per_s(run_dir), secs))
            print(f"  peak RSS {peak:.0f} MiB, {secs:.0f} s", flush=True)

    print(f"\nCPU: {cpu_model()} ({os.cpu_count()} cores); dataset: {n_files} PNGs of "
          f"{args.size}x{args.size} RGB = {decoded_mib:.1f} MiB decoded\n")
    print("| run | store | images | decoded MiB | peak RSS MiB | minus baseline MiB | img/s | seconds |")
    print("|---|---|--:|--:|--:|--:|--:|--:|")
    for name, store, n, mib, peak, base, speed, secs in rows:
        share = f"{peak - base:.0f}" if base is not None else "-"
        print(f"| {name} | {store} | {n} | {mib:.1f} | {peak:.0f} | {share} | "
              f"{f'{speed:.0f}' if speed else '-'} | {secs:.1f} |")
    for cmd, rc, text in failures:
        print(f"\nFAILED (exit {rc}): {cmd}\n{text}")
    if args.cleanup:
        for path in (folder, tiny, work):
            shutil.rmtree(path, ignore_errors=True)
        print(f"\nremoved {folder}, {tiny} and {work}")
    else:
        print(f"\nkept {folder}, {tiny} and {work} (logs, runs, cache); --cleanup deletes them")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
