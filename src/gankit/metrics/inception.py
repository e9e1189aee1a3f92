"""The FID Inception-v3 network (pytorch-fid's FIDInceptionA/C/E variant), written here so no
torchvision is needed.  Module names match torchvision's Inception3, so the standard weights file
pt_inception-2015-12-05-6726825d.pth (the TF 2015-12-05 graph ported by pytorch-fid) loads as is,
and so does the conversion of NVIDIA's TorchScript of the same graph (:mod:`.inception_fetch`).
Features: 2048-d global-average-pooled output of Mixed_7c.  How images are resized to 299x299 and
scaled is the FID convention (:mod:`.fid_conventions`)."""
from __future__ import annotations

import functools
import time
from pathlib import Path

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F

WEIGHTS_FILE_NAME = "pt_inception-2015-12-05-6726825d.pth"
WEIGHTS_URL = ("https://github.com/mseitzer/pytorch-fid/releases/download/fid_weights/" + WEIGHTS_FILE_NAME)


class BasicConv2d(nn.Module):
    def __init__(self, cin, cout, **kw):
        super().__init__()
        self.conv = nn.Conv2d(cin, cout, bias=False, **kw)
        self.bn = nn.BatchNorm2d(cout, eps=0.001)

    def forward(self, x):
        return F.relu(self.bn(self.conv(x)), inplace=True)


def _avg(x):
    # The TF graph's average pooling ignores padding, unlike torchvision's default.
    return F.avg_pool2d(x, kernel_size=3, stride=1, padding=1, count_include_pad=False)


class FIDInceptionA(nn.Module):
    def __init__(self, cin, pool_features):
        super().__init__()
        self.branch1x1 = BasicConv2d(cin, 64, kernel_size=1)
        self.branch5x5_1 = BasicConv2d(cin, 48, kernel_size=1)
        self.branch5x5_2 = BasicConv2d(48, 64, kernel_size=5, padding=2)
        self.branch3x3dbl_1 = BasicConv2d(cin, 64, kernel_size=1)
        self.branch3x3dbl_2 = BasicConv2d(64, 96, kernel_size=3, padding=1)
        self.branch3x3dbl_3 = BasicConv2d(96, 96, kernel_size=3, padding=1)
        self.branch_pool = BasicConv2d(cin, pool_features, kernel_size=1)

    def forward(self, x):
        return torch.cat([self.branch1x1(x), self.branch5x5_2(self.branch5x5_1(x)),
                          self.branch3x3dbl_3(self.branch3x3dbl_2(self.branch3x3dbl_1(x))),
                          self.branch_pool(_avg(x))], 1)


class InceptionB(nn.Module):
    def __init__(self, cin):
        super().__init__()
        self.branch3x3 = BasicConv2d(cin, 384, kernel_size=3, stride=2)
        self.branch3x3dbl_1 = BasicConv2d(cin, 64, kernel_size=1)
        self.branch3x3dbl_2 = BasicConv2d(64, 96, kernel_size=3, padding=1)
        self.branch3x3dbl_3 = BasicConv2d(96, 96, kernel_size=3, stride=2)

    def forward(self, x):
        return torch.cat([self.branch3x3(x), self.branch3x3dbl_3(self.branch3x3dbl_2(self.branch3x3dbl_1(x))),
                          F.max_pool2d(x, kernel_size=3, stride=2)], 1)


class FIDInceptionC(nn.Module):
    def __init__(self, cin, channels_7x7):
        super().__init__()
        c7 = channels_7x7
        self.branch1x1 = BasicConv2d(cin, 192, kernel_size=1)
        self.branch7x7_1 = BasicConv2d(cin, c7, kernel_size=1)
        self.branch7x7_2 = BasicConv2d(c7, c7, kernel_size=(1, 7), padding=(0, 3))
        self.branch7x7_3 = BasicConv2d(c7, 192, kernel_size=(7, 1), padding=(3, 0))
        self.branch7x7dbl_1 = BasicConv2d(cin, c7, kernel_size=1)
        self.branch7x7dbl_2 = BasicConv2d(c7, c7, kernel_size=(7, 1), padding=(3, 0))
        self.branch7x7dbl_3 = BasicConv2d(c7, c7, kernel_size=(1, 7), padding=(0, 3))
        self.branch7x7dbl_4 = BasicConv2d(c7, c7, kernel_size=(7, 1), padding=(3, 0))
        self.branch7x7dbl_5 = BasicConv2d(c7, 192, kernel_size=(1, 7), padding=(0, 3))
        self.branch_pool = BasicConv2d(cin, 192, kernel_size=1)

    def forward(self, x):
        b7 = self.branch7x7_3(self.branch7x7_2(self.branch7x7_1(x)))
        d = self.branch7x7dbl_1(x)
        for m in (self.branch7x7dbl_2, self.branch7x7dbl_3, self.branch7x7dbl_4, self.branch7x7dbl_5):
            d = m(d)
        return torch.cat([self.branch1x1(x), b7, d, self.branch_pool(_avg(x))], 1)


class InceptionD(nn.Module):
    def __init__(self, cin):
        super().__init__()
        self.branch3x3_1 = BasicConv2d(cin, 192, kernel_size=1)
        self.branch3x3_2 = BasicConv2d(192, 320, kernel_size=3, stride=2)
        self.branch7x7x3_1 = BasicConv2d(cin, 192, kernel_size=1)
        self.branch7x7x3_2 = BasicConv2d(192, 192, kernel_size=(1, 7), padding=(0, 3))
        self.branch7x7x3_3 = BasicConv2d(192, 192, kernel_size=(7, 1), padding=(3, 0))
        self.branch7x7x3_4 = BasicConv2d(192, 192, kernel_size=3, stride=2)

    def forward(self, x):
        b7 = self.branch7x7x3_4(self.branch7x7x3_3(self.branch7x7x3_2(self.branch7x7x3_1(x))))
        return torch.cat([self.branch3x3_2(self.branch3x3_1(x)), b7,
                          F.max_pool2d(x, kernel_size=3, stride=2)], 1)


class FIDInceptionE(nn.Module):
    """pool='avg' is pytorch-fid's FIDInceptionE_1 (Mixed_7b), pool='max' its FIDInceptionE_2
    (Mixed_7c: the TF graph used max pooling in the last block's pool branch)."""

    def __init__(self, cin, pool: str = "avg"):
        super().__init__()
        self.pool = pool
        self.branch1x1 = BasicConv2d(cin, 320, kernel_size=1)
        self.branch3x3_1 = BasicConv2d(cin, 384, kernel_size=1)
        self.branch3x3_2a = BasicConv2d(384, 384, kernel_size=(1, 3), padding=(0, 1))
        self.branch3x3_2b = BasicConv2d(384, 384, kernel_size=(3, 1), padding=(1, 0))
        self.branch3x3dbl_1 = BasicConv2d(cin, 448, kernel_size=1)
        self.branch3x3dbl_2 = BasicConv2d(448, 384, kernel_size=3, padding=1)
        self.branch3x3dbl_3a = BasicConv2d(384, 384, kernel_size=(1, 3), padding=(0, 1))
        self.branch3x3dbl_3b = BasicConv2d(384, 384, kernel_size=(3, 1), padding=(1, 0))
        self.branch_pool = BasicConv2d(cin, 192, kernel_size=1)

    def forward(self, x):
        b3 = self.branch3x3_1(x)
        b3 = torch.cat([self.branch3x3_2a(b3), self.branch3x3_2b(b3)], 1)
        d = self.branch3x3dbl_2(self.branch3x3dbl_1(x))
        d = torch.cat([self.branch3x3dbl_3a(d), self.branch3x3dbl_3b(d)], 1)
        p = _avg(x) if self.pool == "avg" else F.max_pool2d(x, kernel_size=3, stride=1, padding=1)
        return torch.cat([self.branch1x1(x), b3, d, self.branch_pool(p)], 1)


class FIDInceptionV3(nn.Module):
    """Inception-v3 as in pytorch-fid's fid_inception_v3(): 1008 logits (unused), no aux head."""

    def __init__(self):
        super().__init__()
        self.Conv2d_1a_3x3 = BasicConv2d(3, 32, kernel_size=3, stride=2)
        self.Conv2d_2a_3x3 = BasicConv2d(32, 32, kernel_size=3)
        self.Conv2d_2b_3x3 = BasicConv2d(32, 64, kernel_size=3, padding=1)
        self.Conv2d_3b_1x1 = BasicConv2d(64, 80, kernel_size=1)
        self.Conv2d_4a_3x3 = BasicConv2d(80, 192, kernel_size=3)
        self.Mixed_5b = FIDInceptionA(192, pool_features=32)
        self.Mixed_5c = FIDInceptionA(256, pool_features=64)
        self.Mixed_5d = FIDInceptionA(288, pool_features=64)
        self.Mixed_6a = InceptionB(288)
        self.Mixed_6b = FIDInceptionC(768, channels_7x7=128)
        self.Mixed_6c = FIDInceptionC(768, channels_7x7=160)
        self.Mixed_6d = FIDInceptionC(768, channels_7x7=160)
        self.Mixed_6e = FIDInceptionC(768, channels_7x7=192)
        self.Mixed_7a = InceptionD(768)
        self.Mixed_7b = FIDInceptionE(1280, pool="avg")
        self.Mixed_7c = FIDInceptionE(2048, pool="max")
        self.fc = nn.Linear(2048, 1008)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """x: (N,3,299,299) as a convention prepares it (fid_conventions.inception_input) -> (N,2048)."""
        x = self.Conv2d_2b_3x3(self.Conv2d_2a_3x3(self.Conv2d_1a_3x3(x)))
        x = F.max_pool2d(x, kernel_size=3, stride=2)
        x = self.Conv2d_4a_3x3(self.Conv2d_3b_1x1(x))
        x = F.max_pool2d(x, kernel_size=3, stride=2)
        for name in ("Mixed_5b", "Mixed_5c", "Mixed_5d", "Mixed_6a", "Mixed_6b", "Mixed_6c", "Mixed_6d",
                     "Mixed_6e", "Mixed_7a", "Mixed_7b", "Mixed_7c"):
            x = getattr(self, name)(x)
        return F.adaptive_avg_pool2d(x, 1).flatten(1)


def load_inception(path) -> FIDInceptionV3:
    """The network with the weights in ``path``: pytorch-fid's .pth file, or gankit's conversion of
    the TorchScript (which has no ``fc``: ``net.has_logits`` is then False)."""
    path = Path(path)
    if not path.exists():
        raise FileNotFoundError(
            f"FID Inception weights not found at {path}; pass --inception-weights PATH to a copy of "
            f"{WEIGHTS_URL} (SHA-256 prefix 6726825d in the name), or let gankit fetch them: "
            "`gankit metrics fetch-inception`")
    state = torch.load(path, map_location="cpu", weights_only=True)
    net = FIDInceptionV3()
    own = net.state_dict()
    # Files saved before torch 0.4.1 lack BatchNorm's num_batches_tracked; it is unused in eval.
    # The 1008-way fc is not part of the features, and the TorchScript conversion has none.
    missing = [k for k in own if k not in state and not k.endswith("num_batches_tracked") and not k.startswith("fc.")]
    unexpected = [k for k in state if k not in own]
    wrong = [k for k in state if k in own and tuple(state[k].shape) != tuple(own[k].shape)]
    if missing or unexpected or wrong:
        raise RuntimeError(f"{path} is not the FID Inception state dict ({WEIGHTS_FILE_NAME}): "
                           f"missing {missing[:3]}, unexpected {unexpected[:3]}, wrong shape {wrong[:3]}")
    net.load_state_dict(state, strict=False)
    net.has_logits = "fc.weight" in state
    return net.eval()


@functools.lru_cache(maxsize=2)
def _load_once(path: str, mtime_ns: int) -> tuple[FIDInceptionV3, str]:
    """The network and its file's SHA-256, loaded once per process: `--reference` evaluates three
    rows, and reading and hashing 90 MB each time cost seconds.  (The network is only ever run in
    eval mode under no_grad, so sharing it is safe.)"""
    from .extractor import sha256_file

    # Channels-last lets oneDNN run the convolutions without reordering every activation: 1.44x
    # faster on a 2-core EPYC with AVX-512 (benchmarks/inception_speed.py), features equal to 6e-6.
    return load_inception(path).to(memory_format=torch.channels_last), sha256_file(Path(path))


class InceptionFeatures:
    """Feature model for the metrics: .sha256 (of the weights), .convention and .features(uint8 images).

    ``sha256`` may be given when the weights were converted from a file whose hash is the one to
    record (the TorchScript's); otherwise it is the hash of ``path``."""

    def __init__(self, path, convention: str = "tf", batch_size: int = 25, sha256: str | None = None):
        from .fid_conventions import check_convention

        self.convention = check_convention(convention)
        path = Path(path)
        if not path.exists():
            load_inception(path)  # raises, saying where the weights come from
        self.net, file_sha256 = _load_once(str(path.resolve()), path.stat().st_mtime_ns)
        self.sha256 = sha256 or file_sha256
        self.batch_size = batch_size

    def features(self, x, log=None) -> np.ndarray:
        """uint8 (N,1|3,H,W) -> (N,2048) float64; ``log`` gets progress and the expected time left.
        Repeated images go through the network once (the "one image repeated" reference row is
        then one image, not hours)."""
        x = np.asarray(x)
        flat = x.reshape(len(x), -1)
        uniq, first, inverse = np.unique(flat, axis=0, return_index=True, return_inverse=True)
        if len(uniq) == len(x):
            return self._features(x, log)
        return self._features(x[first], log)[inverse.reshape(-1)]

    @torch.no_grad()
    def _features(self, x, log) -> np.ndarray:
        from .fid_conventions import inception_input

        out = []
        t0 = last = time.time()
        for i in range(0, len(x), self.batch_size):
            batch = inception_input(x[i:i + self.batch_size], self.convention)
            out.append(self.net(batch.contiguous(memory_format=torch.channels_last)).double().numpy())
            done = min(i + self.batch_size, len(x))
            # One line every half minute: 10,000 images take 13 minutes to most of an hour on 2 cores.
            if log is not None and done < len(x) and (i == 0 or time.time() - last > 30):
                last = time.time()
                per = (time.time() - t0) / done
                log(f"Inception features {done}/{len(x)} ({per:.2f} s/image, about "
                    f"{per * (len(x) - done) / 60:.1f} min left)")
        return np.concatenate(out) if out else np.zeros((0, 2048))
