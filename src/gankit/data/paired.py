"""Datasets for image-to-image translation: pairs (A -> B) as ``x`` = B with the input A in ``extra["a"]``.

Both images of a pair have the same shape (channels included), so the data's one
:class:`~gankit.data.catalog.DatasetInfo` describes both.

Built-in sets (each example: an input image A and its target B):

* ``edges2fashion``: Canny contours of Fashion-MNIST garments (A) and the garments (B), at their
  own 28x28 by default (the U-Net pads what it cannot halve); the class labels are kept, so
  translations of held-out contours can be read by gankit's Fashion-MNIST classifier.
* ``edges2emoji``: Canny contours of Noto Color Emoji (A) and the emoji (B).
* ``emojione2noto``: the same emoji drawn by EmojiOne (A) and by Noto (B), paired by code point.

Users' own pairs: ``folder:A_DIR|B_DIR``, two folders whose files correspond by name (extension
ignored: ``A/cat.jpg`` pairs with ``B/cat.png``); files without a partner are reported and left out.
For an unpaired model (CycleGAN) the two folders are two domains and need not correspond.

A paired set served unpaired (:func:`gankit.data.views.load_domain`) gives one side of it; a stream
shuffles each side with its own seed, so the pairs are broken.
"""

from __future__ import annotations

import functools
import hashlib
import os
import warnings
from pathlib import Path

import numpy as np

from . import emoji
from .canny import contour_images
from .catalog import CATALOG
from .decoding import read_image
from .errors import DataError
from .imageset import ImageSet, check_split, convert_images
from .sources import cache_root
from .splits import TEST_FRACTION

PAIRED_DATASETS = ("edges2fashion", "edges2emoji", "emojione2noto")
EMOJI_DATASETS = ("emoji", "emojione")
DEFAULT_SIZES = {name: CATALOG[name].shape[-1] for name in PAIRED_DATASETS + EMOJI_DATASETS}  # the catalog's
INPUT = "a"  # the ImageSet.extra field holding the input image of a pair
_EDGES_VERSION = 1  # bump when the contour detector changes


def is_pair_folder(name: str) -> bool:
    return name.startswith("folder:") and "|" in name


def handles(name: str) -> bool:
    """Whether :func:`load_translation` loads ``name``."""
    return name in PAIRED_DATASETS or name in EMOJI_DATASETS or is_pair_folder(name)


def _edge_sigma(size: int) -> float:
    # One pixel of smoothing at 64x64: contours as thin and as complete at every resolution.
    return size / 64.0


@functools.lru_cache(maxsize=8)
def _contours(name: str, split: str, size: int) -> tuple[np.ndarray, np.ndarray]:
    """(contours, images) of a built-in edges2* set."""
    if name == "edges2fashion":
        from .builtin import load_idx_dataset

        images = convert_images(load_idx_dataset("fashion-mnist", split).x, size)
    else:
        images = emoji.emoji_split(emoji.load_noto(size), split).images
    return cached_contours(images, _edge_sigma(size)), images


def cached_contours(images: np.ndarray, sigma: float) -> np.ndarray:
    """:func:`~gankit.data.canny.contour_images`, kept in the data cache under a hash of the pixels.

    Canny takes about 1 ms an image here, so Fashion-MNIST's 70,000 would cost a minute per run.
    """
    digest = hashlib.sha256(images.tobytes() + f"{images.shape}|{sigma}|v{_EDGES_VERSION}".encode()).hexdigest()
    path = cache_root() / "contours" / f"{digest[:24]}.npy"
    if path.is_file():
        try:
            edges = np.load(path)
            if edges.shape == (len(images), 1, *images.shape[2:]):
                return edges
        except (OSError, ValueError):
            pass  # damaged: computed again
    edges = contour_images(images, sigma)
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_name(f"{path.stem}.{os.getpid()}.tmp.npy")
        np.save(tmp, edges)
        os.replace(tmp, path)
    except OSError:
        pass  # a read-only cache only costs time
    return edges


def _emoji_set(name: str, data: "emoji.EmojiSet", source: str) -> ImageSet:
    return ImageSet(name, data.images, data.categories, len(emoji.CATEGORIES), source,
                    class_names=list(emoji.CATEGORIES))


def load_translation(name: str, split: str = "train", size: int | None = None,
                     channels: int | None = None) -> ImageSet:
    """Load an emoji set, a paired set or a ``folder:A|B`` pair of folders (see the module docstring).

    ``size`` resizes both images of a pair; ``channels`` converts both (1 gray, 3 RGB).
    """
    check_split(split)
    if is_pair_folder(name):
        return load_folder_pairs(name, split, size, channels)
    size = size or DEFAULT_SIZES[name]
    if name == "emoji":
        data = _emoji_set(name, emoji.emoji_split(emoji.load_noto(size), split), str(emoji.NOTO_FONT))
    elif name == "emojione":
        data = _emoji_set(name, emoji.emoji_split(emoji.load_emojione(size), split), "EmojiOne (ruby-gemojione)")
    elif name == "emojione2noto":
        one, noto = emoji.paired_emoji(split, size)
        data = _emoji_set(name, noto, "EmojiOne -> Noto Color Emoji")
        data.extra[INPUT] = one.images
    elif name == "edges2fashion":
        edges, images = _contours(name, split, size)
        from .builtin import FASHION_CLASSES, load_idx_dataset

        y = load_idx_dataset("fashion-mnist", split).y
        data = ImageSet(name, images, y, 10, "Fashion-MNIST + Canny", class_names=list(FASHION_CLASSES))
        data.extra[INPUT] = edges
    elif name == "edges2emoji":
        edges, images = _contours(name, split, size)
        noto = emoji.emoji_split(emoji.load_noto(size), split)
        data = _emoji_set(name, noto, "Noto Color Emoji + Canny")
        data.x = images
        data.extra[INPUT] = np.repeat(edges, 3, axis=1)  # a pair's two images share a channel count
    else:
        raise DataError(f"unknown translation dataset {name!r}: expected one of "
                        f"{', '.join(EMOJI_DATASETS + PAIRED_DATASETS)} or folder:A|B.")
    if channels is not None:
        data.x = convert_images(data.x, channels=channels)
        if INPUT in data.extra:
            data.extra[INPUT] = convert_images(data.extra[INPUT], channels=channels)
    return data


# --- users' folders ---------------------------------------------------------------------------
def pair_folders(name: str) -> tuple[Path, Path]:
    """The two directories of ``folder:A_DIR|B_DIR``, checked."""
    a, _, b = name[len("folder:"):].partition("|")
    if not a or not b or "|" in b:
        raise DataError(f"{name!r}: expected folder:A_DIR|B_DIR, two folders separated by one '|'.")
    paths = Path(a).expanduser(), Path(b).expanduser()
    for p in paths:
        if not p.is_dir():
            raise DataError(f"{name}: {p} is not a directory.")
    return paths


def _images_by_stem(folder: Path) -> dict[str, Path]:
    files = sorted(p for p in folder.iterdir() if p.is_file() and not p.name.startswith("."))
    out: dict[str, Path] = {}
    for f in files:
        if f.stem in out:
            raise DataError(f"{folder}: {out[f.stem].name} and {f.name} have the same name; pairs are "
                            "matched by name without extension, so keep one.")
        out[f.stem] = f
    return out


def match_pairs(a_dir: Path, b_dir: Path) -> tuple[list[tuple[Path, Path]], list[str]]:
    """Files of the two folders paired by name (sorted), and the names found in one folder only."""
    a, b = _images_by_stem(a_dir), _images_by_stem(b_dir)
    pairs = [(a[k], b[k]) for k in sorted(a.keys() & b.keys())]
    unmatched = sorted(f"{a_dir.name}/{a[k].name}" for k in a.keys() - b.keys())
    unmatched += sorted(f"{b_dir.name}/{b[k].name}" for k in b.keys() - a.keys())
    return pairs, unmatched


def _stack(images: list[np.ndarray], what: str) -> np.ndarray:
    shapes = {im.shape for im in images}
    if len(shapes) > 1:
        raise DataError(f"{what} holds images of shapes {sorted(shapes)[:4]}: choose one size and channel count "
                        "with `--set data.size=64 --set data.channels=3`.")
    return np.stack(images)


def load_folder_pairs(name: str, split: str = "train", size: int | None = None,
                      channels: int | None = None) -> ImageSet:
    """``folder:A|B``: pairs matched by file name; the last 10% of the sorted names are the test split."""
    a_dir, b_dir = pair_folders(name)
    pairs, unmatched = match_pairs(a_dir, b_dir)
    if unmatched:
        shown = ", ".join(unmatched[:5]) + (", ..." if len(unmatched) > 5 else "")
        warnings.warn(f"{name}: {len(unmatched)} file(s) have no partner of the same name and are left out: {shown}",
                      stacklevel=3)
    if not pairs:
        raise DataError(f"{name}: no file of {a_dir} has a partner of the same name in {b_dir}; paired folders "
                        "need matching names (A/cat.jpg with B/cat.png).")
    k = int(TEST_FRACTION * len(pairs))
    chosen = pairs[len(pairs) - k:] if split == "test" else pairs[:len(pairs) - k]
    if not chosen:
        raise DataError(f"{name}: the {split} split is empty ({len(pairs)} pairs; the test split is the last "
                        f"{TEST_FRACTION:.0%} by name). Add pairs.")
    try:
        a = _stack([read_image(pa, size, channels) for pa, _ in chosen], str(a_dir))
        b = _stack([read_image(pb, size, channels) for _, pb in chosen], str(b_dir))
    except (OSError, SyntaxError) as e:  # Pillow's errors for unreadable files
        raise DataError(f"{name}: could not read an image ({e}).") from e
    if a.shape[1] != b.shape[1]:  # a pair's two images share a channel count: gray ones become RGB
        a, b = convert_images(a, channels=3), convert_images(b, channels=3)
    if a.shape[2:] != b.shape[2:]:
        raise DataError(f"{name}: A images are {a.shape[2]}x{a.shape[3]} but B images {b.shape[2]}x{b.shape[3]}; "
                        "set data.size to serve both at one size.")
    return ImageSet(name, b, None, None, f"{a_dir} | {b_dir}", extra={INPUT: a})


def translation_availability(name: str) -> dict:
    """``available`` and ``where`` of a built-in emoji or paired set for ``gankit data`` (never loads)."""
    needs = {"emoji": [emoji.NOTO_PACKAGE], "emojione": [emoji.EMOJIONE_PACKAGE],
             "edges2emoji": [emoji.NOTO_PACKAGE], "emojione2noto": [emoji.NOTO_PACKAGE, emoji.EMOJIONE_PACKAGE],
             "edges2fashion": []}[name]
    status = emoji.available()
    missing = [p for p in needs if status[p] is not None]
    if name == "edges2fashion":
        from .sources import find_local

        found = find_local("fashion-mnist", "train") and find_local("fashion-mnist", "test")
        return {"available": bool(found), "where": "Fashion-MNIST + Canny" if found else
                "needs fashion-mnist (Debian dataset-fashion-mnist, --data-root or a download)"}
    if missing:
        return {"available": False, "where": "needs the Debian package(s) " + ", ".join(f"`{p}`" for p in missing)}
    return {"available": True, "where": ", ".join(f"Debian {p}" for p in needs)}
