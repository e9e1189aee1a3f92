"""Start the same 2-process torchrun job many times in a row and count the runs that fail.

Issue 12 reported two-process runs that did all their steps and then died: rank 1 printed
``terminate called without an active exception`` and got SIGABRT, torchrun SIGTERMed rank 0,
and the job exited non-zero. The failure is rare (a few in 30 starts), so it only shows up when
the job is started many times; this script does that and sorts the failures by cause.

Every second run (``--empty-cache-every``) gets a fresh, empty gankit cache directory: a first
run on a new machine does more work on rank 0 after the loop (matplotlib and friends build their
caches under the same root), which changes how far apart the two ranks reach the teardown.

The failure is a race at exit (a gloo worker thread freeing a tensor after the interpreter began
to shut down; see src/gankit/train/distributed.py), so it depends on how busy the machine is.
``--starve`` makes it likely: it lowers the priority of gloo's worker threads (``nice 19``, which
needs no privileges) so that, with ``--load`` busy processes beside them, they run late.

Usage, from the repository root::

    python benchmarks/torchrun_stress.py                    # 50 runs of 3 steps
    python benchmarks/torchrun_stress.py --runs 30 --steps 40
    python benchmarks/torchrun_stress.py --load 2          # with 2 busy processes competing for the CPUs
    python benchmarks/torchrun_stress.py --load 2 --starve --runs 20   # the worst case for the exit race

Exits 0 when every run succeeded, 1 otherwise.
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from machine import cpu_model  # noqa: E402

REPO = Path(__file__).resolve().parents[1]
TAIL_LINES = 25


def command(out: Path, steps: int, batch_size: int) -> list[str]:
    return [sys.executable, "-m", "torch.distributed.run", "--standalone", "--nproc_per_node=2",
            "-m", "gankit", "train", "dcgan", "--data", "fashion-mnist", "--steps", str(steps),
            "--batch-size", str(batch_size), "--no-progress", "--out", str(out),
            "--set", "model.g_base=8", "--set", "model.d_base=8"]


def cause(rc: int | None, output: str) -> str:
    """A short label for why a run failed ('ok' when it did not)."""
    if rc is None:
        return "timeout (hang)"
    if rc == 0:
        return "ok"
    if "terminate called" in output:
        return "abort: terminate called"
    if "SIGABRT" in output or "Signal 6" in output:
        return "abort: SIGABRT"
    if "SIGSEGV" in output or "Signal 11" in output:
        return "crash: SIGSEGV"
    if "Traceback" in output:
        last = [line for line in output.splitlines() if line and not line.startswith(" ")]
        error = next((line for line in reversed(last) if "Error" in line or "Exception" in line), "")
        return f"exception: {error[:80]}" if error else "exception"
    return f"exit {rc}"


def busy(seconds_cap: float) -> subprocess.Popen:
    """A process that spins one CPU, to make the ranks' timing less regular."""
    code = f"import time\nend = time.monotonic() + {seconds_cap}\nwhile time.monotonic() < end: pass\n"
    return subprocess.Popen([sys.executable, "-c", code], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


GLOO_WORKER = "pt_gloo_runloop"  # the name PyTorch gives gloo's collective worker threads


class Starver:
    """While active, renice to 19 every gloo worker thread of processes whose command line has ``marker``."""

    def __init__(self):
        self.marker: str | None = None
        self.done: set[int] = set()
        self.stopped = threading.Event()
        self.thread = threading.Thread(target=self.run, daemon=True)
        self.thread.start()

    def run(self) -> None:
        while not self.stopped.wait(0.02):
            marker = self.marker
            if marker is not None:
                self.renice(marker.encode())

    def renice(self, marker: bytes) -> None:
        for pid in filter(str.isdigit, os.listdir("/proc")):
            try:
                if marker not in Path(f"/proc/{pid}/cmdline").read_bytes():
                    continue
                for tid in map(int, os.listdir(f"/proc/{pid}/task")):
                    if tid not in self.done and Path(f"/proc/{pid}/task/{tid}/comm").read_text().strip() == GLOO_WORKER:
                        os.setpriority(os.PRIO_PROCESS, tid, 19)
                        self.done.add(tid)
            except OSError:  # the process or thread ended meanwhile
                continue

    def stop(self) -> None:
        self.stopped.set()
        self.thread.join()


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                formatter_class=argparse.RawDescriptionHelpFormatter,
                                epilog="Each run: " + " ".join(command(Path("TMPDIR/run-i"), 3, 16)[1:]))
    p.add_argument("--runs", type=int, default=50, help="how many jobs to start, one after the other (default 50)")
    p.add_argument("--steps", type=int, default=3, help="training steps per job (default 3)")
    p.add_argument("--batch-size", type=int, default=16, help="per-rank batch size (default 16)")
    p.add_argument("--empty-cache-every", type=int, default=2, metavar="K",
                   help="every K-th run gets a fresh, empty gankit cache (XDG_CACHE_HOME); 0: never (default 2)")
    p.add_argument("--load", type=int, default=0, metavar="P",
                   help="keep P busy-looping processes running during the jobs (default 0)")
    p.add_argument("--starve", action="store_true",
                   help=f"renice the ranks' gloo worker threads ({GLOO_WORKER}) to 19, so that with --load they "
                        "run late; Linux only")
    p.add_argument("--timeout", type=float, default=600, help="seconds before a job counts as hung (default 600)")
    p.add_argument("--keep", action="store_true", help="keep the run directories and print where they are")
    p.add_argument("--quiet", action="store_true", help="no line per run, only the summary")
    args = p.parse_args(argv)
    if args.runs < 1:
        p.error("--runs must be at least 1")

    tmp = Path(tempfile.mkdtemp(prefix="torchrun-stress-"))
    base_env = {**os.environ, "OMP_NUM_THREADS": "1",
                "PYTHONPATH": os.pathsep.join(filter(None, [str(REPO / "src"), os.environ.get("PYTHONPATH")]))}
    load = [busy(args.timeout * args.runs) for _ in range(args.load)]
    starver = Starver() if args.starve else None
    results: list[tuple[int, int | None, float, str, bool]] = []  # run, rc, seconds, cause, empty cache
    failures: list[tuple[int, str, str]] = []
    try:
        for i in range(args.runs):
            env = dict(base_env)
            empty = args.empty_cache_every > 0 and i % args.empty_cache_every == 0
            if empty:
                env["XDG_CACHE_HOME"] = tempfile.mkdtemp(prefix=f"cache-{i}-", dir=tmp)
            out = tmp / f"run-{i}"
            if starver is not None:
                starver.marker = str(out)  # only this run's ranks have this path on their command line
            start = time.monotonic()
            try:
                proc = subprocess.run(command(out, args.steps, args.batch_size), env=env, cwd=REPO,
                                      stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                                      timeout=args.timeout)
                rc, output = proc.returncode, proc.stdout
            except subprocess.TimeoutExpired as e:
                rc, output = None, (e.stdout.decode(errors="replace") if isinstance(e.stdout, bytes)
                                    else e.stdout or "")
            seconds = time.monotonic() - start
            why = cause(rc, output)
            results.append((i, rc, seconds, why, empty))
            if why != "ok":
                failures.append((i, why, "\n".join(output.splitlines()[-TAIL_LINES:])))
            if not args.quiet:
                print(f"run {i + 1:3d}/{args.runs}  rc={rc!s:>4}  {seconds:6.1f}s  "
                      f"{'empty cache' if empty else 'warm cache ':11s}  {why}", flush=True)
            if not args.keep:
                shutil.rmtree(out, ignore_errors=True)
    finally:
        if starver is not None:
            starver.stop()
        for proc in load:
            proc.kill()
            proc.wait()
        if not args.keep:
            shutil.rmtree(tmp, ignore_errors=True)

    for i, why, tail in failures:
        print(f"\n--- run {i + 1} failed: {why}; last {TAIL_LINES} lines ---\n{tail}")
    by_cause = Counter(why for _, _, _, why, _ in results if why != "ok")
    seconds = [s for _, _, s, _, _ in results]
    print(f"\ntorchrun stress: 2 ranks, dcgan on fashion-mnist, {args.steps} steps, batch {args.batch_size}, "
          f"load {args.load}{', gloo workers starved' if args.starve else ''}")
    print(f"CPU: {cpu_model()} ({os.cpu_count()} logical CPUs)")
    print(f"python {sys.version.split()[0]}")
    rows = [("runs", str(len(results))),
            ("  with an empty cache", str(sum(1 for r in results if r[4]))),
            ("failures", str(len(failures))),
            *((f"  {why}", str(n)) for why, n in by_cause.most_common()),
            ("median seconds", f"{statistics.median(seconds):.1f}"),
            ("max seconds", f"{max(seconds):.1f}")]
    width = max(len(k) for k, _ in rows)
    print("| " + "what".ljust(width) + " | value |")
    print("|" + "-" * (width + 2) + "|-------|")
    for k, v in rows:
        print(f"| {k.ljust(width)} | {v:>5} |")
    if args.keep:
        print(f"run directories kept in {tmp}")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
