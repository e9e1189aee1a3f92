"""Decoding one image file the way every gankit loader does: 8-bit, on white, square, (C, H, W).

Image folders, paired folders and ``gankit translate`` all read users' files; they share these
steps so that a 16-bit PNG or a transparent emoji means the same thing to all of them.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
from PIL import Image

GRAY_MODES = {"1", "L", "LA", "I", "I;16", "I;16B", "I;16L", "F"}  # Pillow modes that hold gray images


def eight_bit(img: Image.Image, mode: str) -> Image.Image:
    """``img`` as 8-bit ``mode`` ("L" or "RGB"), keeping what its pixels mean.

    Pillow's own conversion clips deeper images instead of scaling them, so a 16-bit PNG would
    come out almost white: 16-bit integers are scaled by 255/65535 and float images in [0, 1] by
    255. Transparent images are composited onto white (dropping the alpha channel would show
    whatever colour the transparent pixels happen to store, often black).
    """
    if img.mode.startswith("I"):  # "I;16", "I;16B", "I;16L", and "I" as some PNG decoders give 16-bit gray
        a = np.asarray(img, dtype=np.float64) * (255.0 / 65535.0)
        img = Image.fromarray(np.clip(np.rint(a), 0, 255).astype(np.uint8), "L")
    elif img.mode == "F":
        a = np.asarray(img, dtype=np.float64)
        a = a * 255.0 if a.size and a.max() <= 1.0 else a
        img = Image.fromarray(np.clip(np.rint(a), 0, 255).astype(np.uint8), "L")
    if img.mode in ("RGBA", "LA", "PA", "La", "RGBa") or (img.mode == "P" and "transparency" in img.info):
        rgba = img.convert("RGBA")
        img = Image.alpha_composite(Image.new("RGBA", rgba.size, (255, 255, 255, 255)), rgba)
    return img.convert(mode)


def square(img: Image.Image, size: int) -> Image.Image:
    """``img`` centre-cropped to a square, then resized (bilinear) to ``size`` x ``size``."""
    # Cropping first means resizing never distorts the aspect ratio.
    w, h = img.size
    if w != h:
        s = min(w, h)
        left, top = (w - s) // 2, (h - s) // 2
        img = img.crop((left, top, left + s, top + s))
    if img.size != (size, size):
        img = img.resize((size, size), Image.BILINEAR)
    return img


def chw(img: Image.Image) -> np.ndarray:
    """A gray or RGB Pillow image as a writable uint8 (C, H, W) array (gray: C = 1)."""
    a = np.array(img, dtype=np.uint8)
    return a[None] if a.ndim == 2 else a.transpose(2, 0, 1)


def read_image(path: Path, size: int | None, channels: int | None) -> np.ndarray:
    """One image file as uint8 (C, H, W): transparency on white, centre-cropped square, resized."""
    with Image.open(path) as im:
        im.load()
        mode = "L" if (channels == 1 or (channels is None and im.mode in GRAY_MODES)) else "RGB"
        img = eight_bit(im, mode)
    if size is not None or img.size[0] != img.size[1]:
        img = square(img, size or min(img.size))
    return chw(img)
