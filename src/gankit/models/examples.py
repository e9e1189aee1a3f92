"""Examples of a run's data, for the generator inputs that the data give (``Input(distribution="given")``).

A pix2pix generator translates an image; a text-to-image generator reads a caption's embedding.
Wherever nobody passes such an input (sample grids, ``gankit sample``, ``eval``, ``report``,
``serve``), it is taken from examples of the run's main stream: the held-out split by default, so
that what a user sees was not trained on, or the training split on request.
"""

from __future__ import annotations

import warnings

from gankit.config import RunConfig
from gankit.data import DataError, load_dataset
from gankit.models.registry import recipe_class, recipe_options

SPLITS = ("test", "train")


def examples_of(cfg: RunConfig, split: str = "test"):
    """The :class:`~gankit.data.imageset.ImageSet` of the run's main stream in ``split``.

    Data without a held-out split (``folder:`` data hold one out themselves; some derived views
    do not) fall back to the training split, with a warning that says so.
    """
    if split not in SPLITS:
        raise ValueError(f"split must be one of {', '.join(SPLITS)}, got {split!r}")
    stream = next(iter(recipe_class(cfg.model).streams(cfg, recipe_options(cfg)).values()))
    d = cfg.data

    def load(s: str):
        if callable(stream.data):
            return stream.data(s)
        return load_dataset(stream.data, s, d.root, d.size, d.channels, store="memory")

    try:
        return load(split)
    except DataError as problem:
        if split == "train":
            raise
        warnings.warn(f"the data have no held-out examples ({problem}); the generator's given inputs come "
                      "from the training split", stacklevel=2)
        return load("train")
