"""A few labelled examples out of a labelled dataset, for semi-supervised training.

Semi-supervised GANs (Salimans et al. 2016; Odena 2016) are judged with, e.g., 100 labelled
MNIST digits: 10 per class, chosen at random, while every training image serves unlabelled.
:func:`labelled_subset` makes that choice from a seed, so the GAN and its supervised-only
baseline trained with the same seed see the very same labelled images.
"""

from __future__ import annotations

import numpy as np

from .errors import DataError
from .imageset import ImageSet


def labelled_indices(y: np.ndarray, n: int, num_classes: int, seed: int) -> np.ndarray:
    """``n // num_classes`` indices of each class, drawn without replacement with ``seed``, sorted.

    Raises
    ------
    DataError
        When ``n`` is not a positive multiple of the number of classes, or a class has fewer
        examples than asked for.
    """
    if n < num_classes or n % num_classes:
        raise DataError(f"data.labelled={n}: it must be a positive multiple of the {num_classes} classes "
                        f"(the same number of labelled examples per class), e.g. {10 * num_classes}")
    per_class = n // num_classes
    rng = np.random.default_rng(seed)
    picked = []
    for c in range(num_classes):
        members = np.flatnonzero(y == c)
        if len(members) < per_class:
            raise DataError(f"data.labelled={n} asks for {per_class} examples of class {c}, which has only "
                            f"{len(members)}; ask for at most {num_classes * min(np.bincount(y, minlength=num_classes))}")
        picked.append(rng.choice(members, per_class, replace=False))
    return np.sort(np.concatenate(picked))


def labelled_subset(data: ImageSet, n: int, seed: int) -> ImageSet:
    """The ImageSet of ``n`` labelled examples of ``data`` (equal per class, chosen by ``seed``)."""
    if data.y is None or not data.num_classes:
        raise DataError(f"{data.name} has no labels, so it cannot give labelled examples (data.labelled); "
                        "use a labelled dataset (fashion-mnist, mnist-5k, a folder with class subfolders)")
    keep = labelled_indices(np.asarray(data.y), n, data.num_classes, seed)
    return ImageSet(data.name, data.x[keep], np.asarray(data.y)[keep], data.num_classes,
                    f"{data.source} ({n} labelled, seed {seed})", data.class_names,
                    {k: v[keep] for k, v in data.extra.items()})
