"""``npz:FILE``: a dataset stored as one NumPy archive, e.g. one written by ``gankit sample --out FILE.npz``.

Layout (the same as the decoded cache of ``folder:PATH``):

* ``x``: uint8 images (N, C, H, W) with C = 1 or 3 (also accepted: (N, H, W) for gray), or float
  points (N, D) for toy data;
* ``y`` (optional): int labels (N,) in 0..K-1;
* ``class_names`` (optional): K strings; without it K is ``y.max() + 1``;
* any other array with one row per example (an embedding, a mask, a paired image): a field of
  every batch under its own name (``ImageSet.extra``), split with its rows.

Like a folder, the archive has no test split of its own: within each class the last 10% of the
examples are "test" and the rest "train" (:data:`gankit.data.splits.TEST_FRACTION`). The archive is
read into memory (60,000 28x28 images are 47 MB).
"""

from __future__ import annotations

import os
import zipfile
from pathlib import Path

import numpy as np

from .errors import DataError
from .splits import TEST_FRACTION, test_mask
from .imageset import ImageSet, check_split, convert_images


def read_archive(path: Path) -> tuple[np.ndarray, np.ndarray | None, list[str] | None, dict[str, np.ndarray]]:
    """(x, y or None, class names or None, per-example extras) of an archive, checked; images come
    back uint8 (N, C, H, W)."""
    try:
        with np.load(path, allow_pickle=False) as z:
            if "x" not in z.files:
                raise DataError(f"npz:{path} has no array 'x' (it holds {', '.join(z.files) or 'nothing'}); "
                                "expected x = images (N, C, H, W) uint8 or points (N, D), and optionally "
                                "y = labels (N,)")
            x = z["x"]
            y = z["y"] if "y" in z.files else None
            names = [str(s) for s in z["class_names"]] if "class_names" in z.files else None
            others = {k: z[k] for k in z.files if k not in ("x", "y", "class_names")}
    except (OSError, ValueError, zipfile.BadZipFile) as e:
        raise DataError(f"npz:{path}: cannot read it as a NumPy .npz archive ({e})") from e
    if x.ndim == 3 and x.dtype == np.uint8:
        x = x[:, None]
    if x.ndim == 4:
        if x.dtype != np.uint8 or x.shape[1] not in (1, 3):
            raise DataError(f"npz:{path}: x is {x.dtype} of shape {x.shape}; images must be uint8 "
                            "(N, C, H, W) with C = 1 or 3")
    elif x.ndim == 2 and np.issubdtype(x.dtype, np.floating):
        x = x.astype(np.float32)
    else:
        raise DataError(f"npz:{path}: x is {x.dtype} of shape {x.shape}; expected uint8 images "
                        "(N, C, H, W) or float points (N, D)")
    if y is not None:
        if y.shape != (len(x),) or not np.issubdtype(y.dtype, np.integer):
            raise DataError(f"npz:{path}: y is {y.dtype} of shape {y.shape}; expected {len(x)} integer labels")
        y = y.astype(np.int64)
        k = len(names) if names else int(y.max()) + 1 if len(y) else 0
        if len(y) and (y.min() < 0 or y.max() >= k):
            raise DataError(f"npz:{path}: labels range over {y.min()}..{y.max()} but there are {k} class names")
    extra = {k: v for k, v in others.items() if v.ndim >= 1 and len(v) == len(x)}
    if ignored := sorted(set(others) - set(extra)):
        raise DataError(f"npz:{path}: {', '.join(ignored)} {'has' if len(ignored) == 1 else 'have'} not one row per "
                        f"example ({len(x)}); every array besides class_names must have one")
    return x, y, names, extra


def load_npz(path: str | os.PathLike, split: str = "train", size: int | None = None,
             channels: int | None = None) -> ImageSet:
    """Load one split of an ``npz:FILE`` dataset (see the module docstring for the layout).

    Parameters
    ----------
    path : the archive.
    split : {"train", "test"}
    size, channels : resize / convert images once at load time.
    """
    check_split(split)
    file = Path(path).expanduser()
    if not file.is_file():
        raise DataError(f"npz:{path}: no such file. Write one with `gankit sample RUN --labels all -n 60000 "
                        "--out FILE.npz`, or with np.savez(FILE, x=images, y=labels)")
    x, y, names, extra = read_archive(file)
    keep = test_mask(y, len(x))
    keep = keep if split == "test" else ~keep
    if not keep.any():
        raise DataError(f"npz:{path}: the {split} split is empty ({len(x)} examples; the test split is the last "
                        f"{TEST_FRACTION:.0%} of each class)")
    x = np.ascontiguousarray(x[keep])
    if size is not None or channels is not None:
        if x.ndim != 4:
            raise DataError(f"npz:{path} holds points, not images: data.size / data.channels do not apply")
        x = convert_images(x, size, channels)
    k = len(names) if names else (int(y.max()) + 1 if y is not None and len(y) else None)
    return ImageSet(f"npz:{path}", x, None if y is None else y[keep], k, str(file), class_names=names,
                    extra={name: np.ascontiguousarray(v[keep]) for name, v in extra.items()})
