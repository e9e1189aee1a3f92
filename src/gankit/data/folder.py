"""``folder:PATH``: a user's image folder, decoded once with Pillow into a cached uint8 array.

Layout: images directly in PATH (no labels), or in immediate subfolders whose sorted names are
the classes. A folder has no test split of its own, so one is carved out deterministically:
files are ordered by relative path and, within each class, the last 10% (rounded down) are
"test" and the rest "train"; the two never overlap.
"""

from __future__ import annotations

import hashlib
import os
import warnings
from pathlib import Path

import numpy as np
from PIL import Image

from .errors import DataError
from .imageset import ImageSet, check_split
from .sources import cache_root

_CACHE_VERSION = 1  # bump when decoding changes, so stale caches are not reused
_GRAY_MODES = {"1", "L", "LA", "I", "I;16", "I;16B", "I;16L", "F"}
TEST_FRACTION = 0.1


def _list_files(folder: Path) -> tuple[list[Path], list[str] | None]:
    """(files in sorted relative-path order, class names or None)."""
    visible = sorted(p for p in folder.iterdir() if not p.name.startswith("."))
    subdirs = [p for p in visible if p.is_dir()]
    if subdirs:
        files = [f for d in subdirs for f in sorted(d.rglob("*"))
                 if f.is_file() and not any(part.startswith(".") for part in f.relative_to(folder).parts)]
        return files, [d.name for d in subdirs]
    return [p for p in visible if p.is_file()], None


def _content_key(folder: Path, files: list[Path], size, channels) -> str:
    h = hashlib.sha256(f"v{_CACHE_VERSION} size={size} channels={channels}\n".encode())
    for f in files:
        h.update(f.relative_to(folder).as_posix().encode() + b"\0")
        h.update(f.read_bytes())
        h.update(b"\0")
    return h.hexdigest()


def _square(img: Image.Image, size: int) -> Image.Image:
    # Centre-crop to a square first so resizing never distorts the aspect ratio.
    w, h = img.size
    if w != h:
        s = min(w, h)
        left, top = (w - s) // 2, (h - s) // 2
        img = img.crop((left, top, left + s, top + s))
    if img.size != (size, size):
        img = img.resize((size, size), Image.BILINEAR)
    return img


def _decode(folder: Path, files: list[Path], classes, size, channels):
    images, labels, bad = [], [], []
    for f in files:
        try:
            with Image.open(f) as im:
                im.load()
                images.append(im.copy())
        except Exception:  # Pillow raises many types for bad files; all mean "skip it"
            bad.append(f.relative_to(folder).as_posix())
            continue
        if classes is not None:
            labels.append(classes.index(f.relative_to(folder).parts[0]))
    if bad:
        shown = ", ".join(bad[:5]) + (", ..." if len(bad) > 5 else "")
        warnings.warn(f"folder {folder}: skipped {len(bad)} of {len(files)} files that Pillow "
                      f"could not read as images: {shown}", stacklevel=3)
    if not images:
        raise DataError(f"folder {folder} holds no readable images ({len(files)} files, "
                        f"{len(bad)} unreadable): expected PNG/JPEG/... files directly in it or "
                        "in one subfolder per class.")
    if channels is None:
        channels = 1 if all(im.mode in _GRAY_MODES for im in images) else 3
    if channels not in (1, 3):
        raise DataError(f"channels={channels} is not supported: expected 1 (gray) or 3 (RGB).")
    if size is None:
        sizes = {im.size for im in images}
        if len(sizes) > 1 or next(iter(sizes))[0] != next(iter(sizes))[1]:
            few = ", ".join(f"{w}x{h}" for w, h in sorted(sizes)[:4])
            raise DataError(f"folder {folder} holds images of sizes {few}: expected one square "
                            "size. Choose one with `--set data.size=64` (centre-crop + resize).")
        size = next(iter(sizes))[0]
    mode = "L" if channels == 1 else "RGB"
    arrays = []
    for im in images:
        a = np.asarray(_square(im.convert(mode), size), dtype=np.uint8)
        arrays.append(a[None] if a.ndim == 2 else a.transpose(2, 0, 1))
    x = np.stack(arrays)
    y = np.asarray(labels, dtype=np.int64) if classes is not None else None
    return x, y


def _test_mask(y: np.ndarray | None, n: int) -> np.ndarray:
    mask = np.zeros(n, dtype=bool)
    groups = [np.arange(n)] if y is None else [np.flatnonzero(y == c) for c in np.unique(y)]
    for idx in groups:
        k = int(TEST_FRACTION * len(idx))
        if k:
            mask[idx[len(idx) - k:]] = True
    return mask


def load_folder(path: str | os.PathLike, split: str = "train", size: int | None = None,
                channels: int | None = None, store: str = "auto") -> ImageSet:
    """Load an image folder (see the module docstring for layout and the test split).

    Parameters
    ----------
    path : path-like
    split : {"train", "test"}
    size : int or None
        Square side; required when the images differ in size.
    channels : {1, 3} or None
        Default: 1 if every image is grayscale, else 3.
    """
    check_split(split)
    folder = Path(path).expanduser()
    if not folder.is_dir():
        raise DataError(f"folder:{path}: no such directory. Expected `folder:PATH` to name a "
                        "folder of images (or of class subfolders of images).")
    files, classes = _list_files(folder)
    if not files:
        raise DataError(f"folder {folder} is empty: expected image files directly in it or in "
                        "one subfolder per class.")
    key = _content_key(folder, files, size, channels)
    cache = cache_root() / "folders" / f"{key}.npz"
    if cache.is_file():
        with np.load(cache) as z:
            x, y = z["x"], (z["y"] if "y" in z.files else None)
    else:
        x, y = _decode(folder, files, classes, size, channels)
        cache.parent.mkdir(parents=True, exist_ok=True)
        tmp = cache.with_name(cache.name + f".{os.getpid()}.tmp.npz")
        np.savez(tmp, x=x, **({"y": y} if y is not None else {}))
        os.replace(tmp, cache)
    test = _test_mask(y, len(x))
    keep = test if split == "test" else ~test
    if not keep.any():
        raise DataError(f"folder {folder}: the {split} split is empty ({len(x)} images; the test "
                        f"split is the last {TEST_FRACTION:.0%} of each class). Add images or use "
                        "split='train'.")
    return ImageSet(f"folder:{path}", x[keep], None if y is None else y[keep],
                    None if classes is None else len(classes), str(folder), class_names=classes)
