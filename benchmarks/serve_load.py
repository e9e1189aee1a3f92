"""Load test of `gankit serve`: N requests from C concurrent keep-alive clients on 127.0.0.1.

The server runs as its own process (`python -m gankit serve RUNS_DIR --port P`), as a user starts
it. The request mix is what the playground sends: 70 % POST /api/sample (one sample with a random
seed, class and latent-slider offsets), 10 % POST /api/interpolate (8 steps), 20 % GET /api/runs.
It reports requests/s, p50/p99 latency per kind and overall, and the number of errors (any status
other than 200, or a broken connection).

    python benchmarks/serve_load.py                       # trains a small run to serve first
    python benchmarks/serve_load.py --runs-dir runs --run fmnist --requests 2000 --clients 8
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import random
import socket
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from machine import cpu_model  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def gankit(*args: str) -> list[str]:
    return [sys.executable, "-m", "gankit", *args]


def environment() -> dict:
    env = dict(os.environ)
    env["PYTHONPATH"] = str(ROOT / "src") + os.pathsep + env.get("PYTHONPATH", "")
    return env


def make_run(runs_dir: Path) -> str:
    """A DCGAN on MNIST-5k (28x28), trained for a few steps: the speed of serving does not depend on quality."""
    subprocess.run(gankit("train", "dcgan", "--data", "mnist-5k", "--steps", "20", "--no-progress",
                          "--out", str(runs_dir / "dcgan"), "--set", "train.report=false"),
                   check=True, env=environment(), stdout=subprocess.DEVNULL)
    return "dcgan"


def wait_until_up(port: int, timeout: float = 120) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            conn = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
            conn.request("GET", "/api/runs")
            if conn.getresponse().status == 200:
                return
        except OSError:
            time.sleep(0.2)
    raise RuntimeError("gankit serve did not come up")


def requests_for(n: int, run: str, info: dict, seed: int) -> list[tuple[str, str, str, dict | None]]:
    """(kind, method, path, body) for n requests in a seeded random order."""
    rng = random.Random(seed)
    label = next((c for c in info["controls"] if c["kind"] == "label"), None)

    def setting() -> dict:
        s = {"seed": rng.randrange(100_000), "truncation": round(rng.uniform(0.5, 1.0), 2),
             "offsets": [round(rng.uniform(-2, 2), 2) for _ in range(4)], "values": {}}
        if label:
            s["values"][label["name"]] = rng.randrange(label["classes"])
        return s

    out = []
    for _ in range(n):
        r = rng.random()
        if r < 0.7:
            out.append(("sample", "POST", f"/api/sample?run={run}", setting()))
        elif r < 0.8:
            out.append(("interpolate", "POST", f"/api/interpolate?run={run}", {"a": setting(), "b": setting(), "steps": 8}))
        else:
            out.append(("runs", "GET", "/api/runs", None))
    return out


def client(port: int, work: list, results: list, lock: threading.Lock) -> None:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
    while True:
        with lock:
            if not work:
                break
            kind, method, path, body = work.pop()
        data = None if body is None else json.dumps(body).encode()
        start = time.perf_counter()
        try:
            conn.request(method, path, body=data, headers={"Content-Type": "application/json"})
            response = conn.getresponse()
            response.read()
            ok = response.status == 200
        except (OSError, http.client.HTTPException):
            ok = False
            conn.close()
            conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
        results.append((kind, time.perf_counter() - start, ok))
    conn.close()


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--runs-dir", help="serve this folder (default: a temporary one with a freshly trained run)")
    p.add_argument("--run", help="the run to sample (with --runs-dir)")
    p.add_argument("--requests", type=int, default=2000)
    p.add_argument("--clients", type=int, default=8)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--json", help="also write the figures here")
    args = p.parse_args()

    tmp = None
    if args.runs_dir:
        runs_dir, run = Path(args.runs_dir), args.run
        if not run:
            p.error("--runs-dir needs --run NAME")
    else:
        tmp = tempfile.TemporaryDirectory(prefix="gankit-load-")
        runs_dir = Path(tmp.name)
        run = make_run(runs_dir)
    port = free_port()
    server = subprocess.Popen(gankit("serve", str(runs_dir), "--port", str(port)), env=environment(),
                              stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    try:
        wait_until_up(port)
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=120)
        conn.request("GET", f"/api/run?run={run}")
        info = json.loads(conn.getresponse().read())
        conn.request("POST", f"/api/sample?run={run}", body=json.dumps({"offsets": [1.0]}),
                     headers={"Content-Type": "application/json"})  # warm-up: loads the generator
        conn.getresponse().read()
        conn.close()
        work = requests_for(args.requests, run, info, args.seed)
        results: list = []
        lock = threading.Lock()
        threads = [threading.Thread(target=client, args=(port, work, results, lock)) for _ in range(args.clients)]
        start = time.perf_counter()
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        wall = time.perf_counter() - start
    finally:
        server.terminate()
        _, stderr = server.communicate(timeout=30)
    errors = sum(not ok for _, _, ok in results)
    report = {"requests": len(results), "clients": args.clients, "seconds": round(wall, 2),
              "requests_per_s": round(len(results) / wall, 1), "errors": errors, "cpu": cpu_model(),
              "model": info["model"], "data": info["data"], "shape": info["shape"]}
    for kind in ("all", "sample", "interpolate", "runs"):
        ms = np.array([s for k, s, _ in results if kind in ("all", k)]) * 1000
        report[kind] = {"n": int(len(ms)), "p50_ms": round(float(np.percentile(ms, 50)), 1),
                        "p99_ms": round(float(np.percentile(ms, 99)), 1)}
    print(json.dumps(report, indent=2))
    if "Traceback" in stderr:
        print("server stderr:\n" + stderr, file=sys.stderr)
    if args.json:
        Path(args.json).write_text(json.dumps(report, indent=2) + "\n")
    if tmp is not None:
        tmp.cleanup()
    return 1 if errors else 0


if __name__ == "__main__":
    sys.exit(main())
