"""Real-data statistics cached on disk, keyed by dataset, split and the feature network's SHA-256.

Location: $XDG_CACHE_HOME/gankit/stats (default ~/.cache/gankit/stats).  Files are .npz, written
atomically, so concurrent evaluations at worst compute the same thing twice."""
from __future__ import annotations

import hashlib
import json
import os
from pathlib import Path
from typing import Callable

import numpy as np

from gankit.data.sources import cache_root

from .fid import gaussian_stats

MAX_REAL_FEATURES = 10_000  # real features kept for KID / precision-recall / density-coverage


def cache_dir() -> Path:
    return cache_root() / "stats"


def cached(key: dict, compute: Callable[[], dict[str, np.ndarray]]) -> dict[str, np.ndarray]:
    """Load the arrays stored under `key`, or compute, store and return them."""
    digest = hashlib.sha256(json.dumps(key, sort_keys=True).encode()).hexdigest()[:20]
    label = "-".join(str(key.get(k, "")) for k in ("data", "split", "kind")).replace("/", "_").replace(":", "_")
    path = cache_dir() / f"{label}-{digest}.npz"
    if path.exists():
        try:
            with np.load(path) as f:
                return {k: f[k] for k in f.files}
        except Exception:  # a truncated or foreign file: recompute below
            pass
    arrays = compute()
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(f".tmp{os.getpid()}.npz")
    np.savez(tmp, **arrays)
    os.replace(tmp, path)
    return arrays


def subset(n: int, k: int, seed: int = 0) -> np.ndarray:
    """Sorted indices of a fixed random choice of ``k`` of ``n`` examples (all of them when n <= k)."""
    return np.sort(np.random.default_rng(seed).permutation(n)[:k]) if n > k else np.arange(n)


def real_feature_stats(data_name: str, split: str, model, root=None, n: int | None = None,
                       log=None, through_size: int | None = None) -> dict[str, np.ndarray]:
    """{'mu', 'sigma'} over the split's images, 'features' of up to 10k of them and 'n', the image
    count.  `model` has .sha256 and .features(uint8 N,C,H,W); an Inception model also has
    .convention.  ``n`` images (a fixed random subset) instead of the whole split; Inception
    features use DEFAULT_REAL_N_INCEPTION when ``n`` is None.  ``through_size``: the images as a
    run at ``data.size`` = that size saw them, resized back to the data's size (as its samples are)."""
    from .features import DEFAULT_REAL_N_INCEPTION

    convention = getattr(model, "convention", None)
    if n is None and convention is not None:
        n = DEFAULT_REAL_N_INCEPTION

    def compute():
        from gankit.data import load_dataset

        x = load_dataset(data_name, split=split, root=root, store="memory", size=through_size).x
        x = x[subset(len(x), n)] if n else x
        if through_size:
            from gankit.data import dataset_info
            from .samples import resize_images
            x = resize_images(x, tuple(dataset_info(data_name, root).shape[1:]))
        f = model.features(x, log=log) if convention is not None else model.features(x)
        mu, sigma = gaussian_stats(f)
        return {"mu": mu, "sigma": sigma, "features": f[subset(len(f), MAX_REAL_FEATURES)], "n": np.array(len(f))}

    key = {"data": data_name, "split": split, "kind": "features", "model": model.sha256, "max": MAX_REAL_FEATURES}
    if convention is not None:  # the dataset classifiers' key stays as it was, so their caches stay valid
        from gankit.data import dataset_info
        key.update(convention=convention, shape=list(dataset_info(data_name, root).shape))
    if n:
        key["n"] = int(n)
    if through_size:
        key["through_size"] = int(through_size)
    stats = cached(key, compute)
    if "n" not in stats:  # written before the count was stored: it was the whole split
        from gankit.data import load_dataset
        stats["n"] = np.array(len(load_dataset(data_name, split=split, root=root, store="memory").x))
    return stats


def parzen_sets(data_name: str, root=None, n_valid: int = 1000) -> dict[str, np.ndarray]:
    """Held-out real images for the Parzen window: a fixed random part of the test split (at most
    n_valid, at most half) chooses σ, the rest is the reported test set.  Both are unseen in training."""
    def compute():
        from gankit.data import load_dataset

        x = load_dataset(data_name, split="test", root=root, store="memory").x
        perm = np.random.default_rng(0).permutation(len(x))
        k = min(n_valid, len(x) // 2)
        return {"valid": x[np.sort(perm[:k])], "test": x[np.sort(perm[k:])]}

    return cached({"data": data_name, "split": "test", "kind": "parzen", "n_valid": n_valid}, compute)
