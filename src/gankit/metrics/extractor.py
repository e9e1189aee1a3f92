"""Per-dataset CNN classifiers used as feature extractors and label readers for the metrics.

FID/KID/precision-recall/density-coverage use the penultimate-layer features; the classifier
score, class KL, conditional accuracy and stacked-digit mode reading use its class probabilities.
The weights ship in ``metrics/weights/<name>.safetensors`` beside a JSON file that records their
SHA-256, so a metric number is always tied to exactly one set of weights.
"""
from __future__ import annotations

import hashlib
import json
import math
import os
import time
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F

WEIGHTS_DIR = Path(__file__).resolve().parent / "weights"

# Architecture and training defaults per extractor; which extractor reads which dataset is the
# `extractor` of the dataset's entry in gankit.data.catalog.  Widths are small on purpose: the
# weights ship in the package (< 2 MB each) and training must take minutes on a laptop CPU.
ARCHS: dict[str, dict] = {
    "fashion-mnist": dict(in_channels=1, size=28, widths=[32, 64, 128], feat_dim=128, num_classes=10,
                          epochs=8, batch_size=128, lr=3e-3, shift=0, hflip=True),
    "mnist-5k": dict(in_channels=1, size=28, widths=[32, 64, 128], feat_dim=128, num_classes=10,
                     epochs=30, batch_size=128, lr=3e-3, shift=2, hflip=False),
    "digits": dict(in_channels=1, size=8, widths=[16, 32, 64], feat_dim=64, num_classes=10,
                   epochs=40, batch_size=128, lr=3e-3, shift=1, hflip=False),
    # Colour emoji (Noto, 9 categories): the feature space of FID for the emoji translation sets.
    "emoji": dict(in_channels=3, size=32, widths=[32, 64, 128], feat_dim=128, num_classes=9,
                  epochs=30, batch_size=128, lr=3e-3, shift=2, hflip=True),
}
NET_KEYS = ("in_channels", "size", "widths", "feat_dim", "num_classes")


class ExtractorError(RuntimeError):
    """The extractor weights are missing, corrupt or do not fit the data."""


class ExtractorNet(nn.Module):
    """conv-BN-ReLU stages, each followed by 2x2 max-pooling; then
    a fully connected feature layer (the metrics' feature space) and the class head."""

    def __init__(self, in_channels: int, size: int, widths: list[int], feat_dim: int, num_classes: int):
        super().__init__()
        layers: list[nn.Module] = []
        c, s = in_channels, size
        for w in widths:
            layers += [nn.Conv2d(c, w, 3, padding=1, bias=False), nn.BatchNorm2d(w), nn.ReLU(inplace=True),
                       nn.MaxPool2d(2)]
            c = w
            s //= 2
        self.body = nn.Sequential(*layers)
        self.fc = nn.Linear(c * s * s, feat_dim)
        self.drop = nn.Dropout(0.3)
        self.head = nn.Linear(feat_dim, num_classes)

    def features(self, x: torch.Tensor) -> torch.Tensor:
        return F.relu(self.fc(self.body(x).flatten(1)))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.head(self.drop(self.features(x)))


def canonical_name(data_name: str) -> str:
    """The name of the extractor that reads a dataset's images: the ``extractor`` of its entry in
    :data:`gankit.data.catalog.CATALOG`, or ``data_name`` itself when that names an extractor."""
    from gankit.data.catalog import CATALOG

    info = CATALOG.get(data_name)
    name = info.extractor if info is not None else data_name
    if name not in ARCHS:
        raise ExtractorError(
            f"no feature extractor for dataset {data_name!r}; extractors exist for {sorted(ARCHS)}. "
            "For other image data use the FID Inception network (gankit eval --features inception).")
    return name


def sha256_file(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def to_input(x, in_channels: int, size: int) -> torch.Tensor:
    """uint8 (N,C,H,W) in 0..255 (or float already in [0,1]) -> float in [-1,1] at the net's
    resolution and channel count.  Colour becomes grey by the channel mean; other sizes are resized
    bilinearly (antialiased when shrinking)."""
    t = torch.as_tensor(np.asarray(x)) if not isinstance(x, torch.Tensor) else x
    if t.ndim == 3:
        t = t[:, None]
    if t.ndim != 4:
        raise ExtractorError(f"expected images shaped (N,C,H,W), got {tuple(t.shape)}")
    t = t.float() / 255.0 if t.dtype == torch.uint8 else t.float()
    if t.shape[1] != in_channels:
        if in_channels == 1:
            t = t.mean(1, keepdim=True)
        elif t.shape[1] == 1:
            t = t.expand(-1, in_channels, -1, -1)
        else:
            raise ExtractorError(f"extractor expects {in_channels} channels, got {t.shape[1]}")
    if t.shape[-2:] != (size, size):
        t = F.interpolate(t, size=(size, size), mode="bilinear", align_corners=False,
                          antialias=t.shape[-1] > size)
    return t * 2.0 - 1.0


@dataclass
class Extractor:
    name: str
    net: ExtractorNet
    meta: dict = field(default_factory=dict)

    @property
    def sha256(self) -> str:
        return self.meta["sha256"]

    @property
    def feature_dim(self) -> int:
        return self.net.fc.out_features

    @torch.no_grad()
    def run(self, x, batch_size: int = 1000) -> tuple[np.ndarray, np.ndarray]:
        """Features (N, F) float64 and class probabilities (N, K) float64 in one pass."""
        self.net.eval()
        a = self.meta["arch"]
        feats, probs = [], []
        for i in range(0, len(x), batch_size):
            t = to_input(x[i:i + batch_size], a["in_channels"], a["size"])
            f = self.net.features(t)
            feats.append(f.double().numpy())
            probs.append(F.softmax(self.net.head(f), dim=1).double().numpy())
        if not feats:
            return np.zeros((0, self.feature_dim)), np.zeros((0, a["num_classes"]))
        return np.concatenate(feats), np.concatenate(probs)

    def features(self, x, batch_size: int = 1000) -> np.ndarray:
        return self.run(x, batch_size)[0]

    def probs(self, x, batch_size: int = 1000) -> np.ndarray:
        return self.run(x, batch_size)[1]

    def predict(self, x, batch_size: int = 1000) -> np.ndarray:
        return self.probs(x, batch_size).argmax(1)


def _missing(name: str, why: str) -> ExtractorError:
    return ExtractorError(
        f"feature extractor {name!r}: {why}. Recreate it with "
        f"`gankit metrics train-extractor --data {name}` (writes {WEIGHTS_DIR}/{name}.safetensors and .json).")


def load_extractor(name: str, weights_dir: str | Path | None = None) -> Extractor:
    """Load the shipped extractor for a dataset, verifying the weights' SHA-256 against its JSON."""
    from safetensors.torch import load_file

    name = canonical_name(name)
    d = Path(weights_dir) if weights_dir is not None else WEIGHTS_DIR
    wpath, jpath = d / f"{name}.safetensors", d / f"{name}.json"
    if not wpath.exists() or not jpath.exists():
        raise _missing(name, f"weights not found ({wpath} / {jpath})")
    meta = json.loads(jpath.read_text())
    digest = sha256_file(wpath)
    if digest != meta.get("sha256"):
        raise _missing(name, f"SHA-256 mismatch for {wpath}: file has {digest}, "
                             f"{jpath.name} records {meta.get('sha256')} (corrupt or replaced file)")
    net = ExtractorNet(**{k: meta["arch"][k] for k in NET_KEYS})
    net.load_state_dict(load_file(str(wpath)))
    net.eval()
    return Extractor(name, net, meta)


# ---------------------------------------------------------------------------------------- training

def _shift_flip(x: torch.Tensor, shift: int, hflip: bool, g: torch.Generator) -> torch.Tensor:
    """Random per-image translations by up to `shift` pixels (zero padding) and optional flips,
    done with one gather so the batch never goes through Python per image."""
    n, c, h, w = x.shape
    if shift:
        xp = F.pad(x, (shift,) * 4, value=-1.0)
        dy = torch.randint(0, 2 * shift + 1, (n,), generator=g)
        dx = torch.randint(0, 2 * shift + 1, (n,), generator=g)
        rows = (dy[:, None] + torch.arange(h))[:, :, None]
        cols = (dx[:, None] + torch.arange(w))[:, None, :]
        x = xp[torch.arange(n)[:, None, None], :, rows, cols].permute(0, 3, 1, 2)
    if hflip:
        flip = torch.rand(n, generator=g) < 0.5
        x = torch.where(flip[:, None, None, None], x.flip(-1), x)
    return x.contiguous()


@torch.no_grad()
def accuracy(net: nn.Module, x: torch.Tensor, y: torch.Tensor, batch_size: int = 1000) -> float:
    net.eval()
    correct = 0
    for i in range(0, len(x), batch_size):
        correct += (net(x[i:i + batch_size]).argmax(1) == y[i:i + batch_size]).sum().item()
    return correct / max(len(x), 1)


def fit_classifier(x, y, cfg: dict, seed: int = 0, report=None) -> ExtractorNet:
    """A fresh :class:`ExtractorNet` trained on uint8 images ``x`` with labels ``y`` by the recipe in ``cfg``.

    The recipe of the shipped extractors (an :data:`ARCHS` entry): AdamW (weight decay 5e-4) with a
    one-cycle learning rate, label smoothing 0.05, random shifts/flips, ``cfg["epochs"]`` passes.
    ``report`` = (test images as network input, test labels, name) prints progress per epoch.
    """
    torch.manual_seed(seed)
    g = torch.Generator().manual_seed(seed)
    xtr = to_input(x, cfg["in_channels"], cfg["size"])
    ytr = torch.as_tensor(np.asarray(y), dtype=torch.long)
    net = ExtractorNet(**{k: cfg[k] for k in NET_KEYS})
    bs = cfg["batch_size"]
    steps_per_epoch = math.ceil(len(xtr) / bs)
    opt = torch.optim.AdamW(net.parameters(), lr=cfg["lr"], weight_decay=5e-4)
    sched = torch.optim.lr_scheduler.OneCycleLR(opt, max_lr=cfg["lr"], epochs=cfg["epochs"],
                                                steps_per_epoch=steps_per_epoch)
    t0 = time.time()
    for ep in range(cfg["epochs"]):
        net.train()
        perm = torch.randperm(len(xtr), generator=g)
        total = 0.0
        for i in range(0, len(xtr), bs):
            idx = perm[i:i + bs]
            xb = _shift_flip(xtr[idx], cfg["shift"], cfg["hflip"], g)
            loss = F.cross_entropy(net(xb), ytr[idx], label_smoothing=0.05)
            opt.zero_grad(set_to_none=True)
            loss.backward()
            opt.step()
            sched.step()
            total += loss.item() * len(idx)
        if report is not None and (ep + 1 == cfg["epochs"] or len(xtr) > 10_000 or (ep + 1) % 10 == 0):
            xte, yte, name = report
            print(f"[{name}] epoch {ep + 1}/{cfg['epochs']} loss {total / len(xtr):.4f} "
                  f"test acc {accuracy(net, xte, yte):.4f} ({time.time() - t0:.0f}s)", flush=True)
    return net


def train_extractor(data_name: str, seed: int = 0, epochs: int | None = None,
                    out_dir: str | Path | None = None, root=None, train=None, test=None,
                    progress: bool = True, threads: int | None = None) -> dict:
    """Train the dataset's classifier with a fixed seed and write <name>.safetensors + <name>.json.

    `train`/`test` may be given as objects with `.x` (uint8 N,C,H,W) and `.y`; otherwise they come
    from `gankit.data.load_dataset`.  Returns the JSON metadata."""
    from safetensors.torch import save_file

    name = canonical_name(data_name)
    cfg = dict(ARCHS[name])
    if epochs is not None:
        cfg["epochs"] = int(epochs)
    if train is None or test is None:
        from gankit.data import load_dataset
        train = train if train is not None else load_dataset(name, split="train", root=root)
        test = test if test is not None else load_dataset(name, split="test", root=root)
    if threads:
        # On a shared machine more threads than free cores make every step wait on the slowest.
        torch.set_num_threads(int(threads))
    t0 = time.time()
    xte = to_input(test.x, cfg["in_channels"], cfg["size"])
    yte = torch.as_tensor(np.asarray(test.y), dtype=torch.long)
    net = fit_classifier(train.x, train.y, cfg, seed, (xte, yte, name) if progress else None)
    acc = accuracy(net, xte, yte)
    d = Path(out_dir) if out_dir is not None else WEIGHTS_DIR
    d.mkdir(parents=True, exist_ok=True)
    wpath = d / f"{name}.safetensors"
    save_file({k: v.detach().contiguous() for k, v in net.state_dict().items()}, str(wpath))
    os.chmod(wpath, 0o644)  # safetensors writes 0600; the file ships as package data
    meta = {
        "name": name,
        "sha256": sha256_file(wpath),
        "test_accuracy": round(acc, 6),
        "test_size": int(len(xte)),
        "train_size": int(len(train.x)),
        "epochs": cfg["epochs"],
        "seed": seed,
        "train_seconds": round(time.time() - t0, 1),
        "torch": torch.__version__,
        "arch": {k: cfg[k] for k in NET_KEYS},
        "train": {k: cfg[k] for k in ("batch_size", "lr", "shift", "hflip")}
        | {"optimizer": "AdamW(wd=5e-4) + OneCycleLR", "label_smoothing": 0.05},
        "command": f"gankit metrics train-extractor --data {name} --seed {seed} --epochs {cfg['epochs']}",
    }
    (d / f"{name}.json").write_text(json.dumps(meta, indent=2) + "\n")
    return meta
