"""Small trained runs and a live `gankit serve` for the serve, report and browser tests."""

from __future__ import annotations

import json
import threading
import urllib.error
import urllib.request
from pathlib import Path

import conditional_recipe
from gankit.config import RunConfig
from gankit.serve import make_server
from gankit.train.trainer import train


def train_toy(run_dir: Path, steps: int = 40) -> Path:
    cfg = RunConfig(model="gan")
    cfg.data.name = "ring8"
    cfg.options = {"latent_dim": 4, "g_widths": [16], "d_widths": [16]}
    t = cfg.train
    t.steps, t.batch_size, t.log_every, t.sample_every, t.checkpoint_every = steps, 64, 10, 20, steps
    train(cfg, run_dir, progress=False)
    return run_dir


def train_conditional(run_dir: Path, steps: int = 40) -> Path:
    train(conditional_recipe.config(steps), run_dir, progress=False)
    return run_dir


class Server:
    """`gankit serve RUNS_DIR` on a free port of 127.0.0.1, in a thread, for one test module."""

    def __init__(self, runs_dir: Path):
        self.server = make_server(runs_dir, "127.0.0.1", 0)
        self.url = f"http://127.0.0.1:{self.server.server_port}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def request(self, method: str, path: str, body=None, raw: bytes | None = None) -> tuple[int, dict | bytes]:
        data = raw if raw is not None else (None if body is None else json.dumps(body).encode())
        req = urllib.request.Request(self.url + path, data=data, method=method,
                                     headers={"Content-Type": "application/json"})
        try:
            with urllib.request.urlopen(req, timeout=120) as r:
                status, payload, kind = r.status, r.read(), r.headers.get("Content-Type", "")
        except urllib.error.HTTPError as e:
            status, payload, kind = e.code, e.read(), e.headers.get("Content-Type", "")
        return status, json.loads(payload) if kind.startswith("application/json") else payload

    def close(self) -> None:
        self.server.app.toy.stop()
        self.server.shutdown()
        self.server.server_close()
