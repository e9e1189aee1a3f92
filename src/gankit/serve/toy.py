"""A small GAN training on 2-D toy data in front of the user, in the manner of GAN Lab.

The vanilla ``gan`` recipe (small MLPs) trains through the one Trainer in a background thread,
on ``ring8`` or ``grid25``. Every few iterations an ``on_iteration`` callback takes a snapshot for
the page: generated points, the discriminator's output over the plane (its decision surface), and
arrows showing where the generator's loss pushes each sample (the negative gradient of the
generator loss with respect to the sample, i.e. the direction G's update moves it). The snapshot
is taken with the networks in eval mode, with its own random generator and with gradients only
for the sample positions, so it leaves the training state as it was.
"""

from __future__ import annotations

import math
import shutil
import tempfile
import threading
import time

import numpy as np
import torch

from gankit.config import RunConfig
from gankit.data import TOY_DISTRIBUTIONS

TOY_DATA = ("ring8", "grid25")
POINTS = 500  # generated points per snapshot
ARROWS = 80  # of them with a gradient arrow
SURFACE = 32  # the decision surface on SURFACE x SURFACE points
MAX_STEPS = 20_000  # a session stops by itself after this many iterations
SNAPSHOT_EVERY = 10  # iterations
PACE_S = 0.002  # a pause per iteration, so page requests keep their share of the CPU


class Stopped(Exception):
    """Raised from the iteration callback to end a session the user stopped."""


def toy_config(data: str, steps: int, seed: int) -> RunConfig:
    cfg = RunConfig(model="gan")
    cfg.data.name = data
    cfg.options = {"latent_dim": 8, "g_widths": [128, 128], "d_widths": [128, 128], "dropout": 0.0}
    t = cfg.train
    t.steps, t.seed, t.batch_size, t.lr_g, t.lr_d = steps, seed, 256, 1e-3, 1e-3
    t.log_every, t.sample_every, t.checkpoint_every = 100, steps, steps
    t.report = False
    return cfg


def nearest_centre_distance(points: np.ndarray, centres: np.ndarray) -> float:
    """Mean distance from each point to its nearest mode centre: falls as the cloud reaches the modes."""
    d = np.linalg.norm(points[:, None, :] - centres[None, :, :], axis=2)
    return float(d.min(axis=1).mean())


class LiveToy:
    """At most one toy training session at a time; ``start``, ``stop`` and ``state`` are thread-safe."""

    def __init__(self):
        self.lock = threading.Lock()
        self.thread: threading.Thread | None = None
        self.stop_event = threading.Event()
        self.snapshot: dict = {"running": False, "step": 0, "data": None}
        self.history: list[tuple[int, float]] = []
        self.error: str | None = None

    def start(self, data: str = "ring8", seed: int = 0, steps: int = MAX_STEPS) -> dict:
        if data not in TOY_DATA:
            raise ValueError(f"data must be one of {', '.join(TOY_DATA)}, got {data!r}")
        with self.lock:
            if self.thread is not None and self.thread.is_alive():
                self.stop_event.set()
                self.thread.join(timeout=30)
            self.stop_event = threading.Event()
            self.history, self.error = [], None
            dist = TOY_DISTRIBUTIONS[data]
            self.snapshot = {"running": True, "step": 0, "data": data, "centres": dist.centers.tolist(),
                             "points": [], "arrows": [], "surface": None, "history": []}
            self.thread = threading.Thread(target=self.train, args=(data, seed, steps, self.stop_event),
                                           name="gankit-toy", daemon=True)
            self.thread.start()
        return self.state()

    def stop(self) -> dict:
        self.stop_event.set()
        thread = self.thread
        if thread is not None:
            thread.join(timeout=30)
        return self.state()

    def state(self) -> dict:
        with self.lock:
            state = dict(self.snapshot)
        state["running"] = bool(self.thread is not None and self.thread.is_alive())
        state["error"] = self.error
        return state

    # --- the training thread ------------------------------------------------------------------
    def train(self, data: str, seed: int, steps: int, stop: threading.Event) -> None:
        from gankit.train.trainer import Trainer

        run_dir = tempfile.mkdtemp(prefix="gankit-toy-")
        dist = TOY_DISTRIBUTIONS[data]
        view = float(np.abs(dist.centers).max()) + 1.5
        probe = torch.Generator().manual_seed(seed + 7)
        z = None
        trainer = None

        def on_iteration(t) -> None:
            nonlocal z
            if stop.is_set():
                raise Stopped
            if t.step % SNAPSHOT_EVERY == 0 or t.step == 1:
                if z is None:
                    z = torch.randn(POINTS, t.recipe.latent_dim, generator=probe)
                self.publish(take_snapshot(t.recipe, z, view, dist.centers), t.step)
            time.sleep(PACE_S)

        try:
            trainer = Trainer(toy_config(data, steps, seed), run_dir, progress=False, on_iteration=on_iteration)
            trainer.fit()
        except Stopped:
            pass
        except Exception as exc:  # noqa: BLE001 - shown on the page instead of killing the server
            self.error = f"training stopped: {exc}"
        finally:
            if trainer is not None:
                trainer.close()
            shutil.rmtree(run_dir, ignore_errors=True)

    def publish(self, snap: dict, step: int) -> None:
        self.history.append((step, snap["mean_distance"]))
        with self.lock:
            self.snapshot.update(snap, step=step, history=self.history[-400:])


def take_snapshot(recipe, z: torch.Tensor, view: float, centres: np.ndarray) -> dict:
    """Points, decision surface and generator-gradient arrows of the recipe's current networks."""
    G, D = recipe.nets["G"], recipe.nets["D"]
    loss = recipe.adversarial_loss
    modes = {net: net.training for net in (G, D)}
    G.eval()
    D.eval()
    try:
        with torch.no_grad():
            points = G(z).float()
            axis = torch.linspace(-view, view, SURFACE)
            gy, gx = torch.meshgrid(axis, axis, indexing="ij")
            surface = loss.score(D(torch.stack([gx.reshape(-1), gy.reshape(-1)], 1))).reshape(SURFACE, SURFACE)
        x = points[:ARROWS].clone().requires_grad_(True)
        with torch.enable_grad():
            (grad,) = torch.autograd.grad(loss.g_loss(D(x)), x)
        push = -grad * len(x)  # per-sample gradient of the mean loss, pointing where G moves the sample
    finally:
        for net, training in modes.items():
            net.train(training)
    lengths = push.norm(dim=1, keepdim=True)
    scale = 0.15 * view / float(lengths.max().clamp_min(1e-12))
    arrows = torch.cat([points[:ARROWS], push * scale], 1)
    p = points.numpy()
    finite = np.isfinite(p).all(axis=1)
    return {"points": np.round(p[finite], 4).tolist(), "arrows": np.round(arrows.numpy(), 4).tolist(),
            "surface": {"n": SURFACE, "extent": [-view, view], "min": float(surface.min()),
                        "max": float(surface.max()), "values": np.round(surface.numpy().ravel(), 4).tolist()},
            "mean_distance": nearest_centre_distance(p[finite], centres) if finite.any() else math.inf}
