"""A translation dataset as a model reads it: as pairs (pix2pix) or as one of its two domains (CycleGAN).

These load through :func:`~gankit.data.registry.load_dataset`, so they sit above the registry;
the loaders the registry calls (:mod:`gankit.data.paired`) never reach back up to it.
"""

from __future__ import annotations

from .errors import DataError
from .folder import load_folder
from .imageset import ImageSet
from .paired import INPUT, PAIRED_DATASETS, is_pair_folder, pair_folders
from .registry import load_dataset


def load_pairs(name: str, split: str = "train", size: int | None = None, channels: int | None = None,
               root=None) -> ImageSet:
    """A paired dataset, or a DataError saying which datasets are paired."""
    data = load_dataset(name, split, root, size, channels)
    if INPUT not in data.extra:
        raise DataError(f"{name} holds single images, not pairs: pix2pix needs a paired dataset "
                        f"({', '.join(PAIRED_DATASETS)} or folder:A_DIR|B_DIR); cyclegan takes unpaired domains.")
    return data


def load_domain(name: str, side: str, split: str = "train", size: int | None = None,
                channels: int | None = None, root=None) -> ImageSet:
    """One domain of a translation dataset for unpaired training: ``side`` "A" (inputs) or "B" (targets).

    ``folder:A|B`` reads each folder on its own (no names need to match); a paired set gives one
    of its two images per example.
    """
    if side not in ("A", "B"):
        raise ValueError(f"side must be 'A' or 'B', got {side!r}")
    if is_pair_folder(name):
        folder = pair_folders(name)[0 if side == "A" else 1]
        data = load_folder(folder, split, size=size, channels=channels, store="memory")
        data.name = f"{name} ({side})"
        return data
    data = load_pairs(name, split, size, channels, root)
    x = data.extra[INPUT] if side == "A" else data.x
    return ImageSet(f"{name} ({side})", x, data.y, data.num_classes, data.source, class_names=data.class_names)
