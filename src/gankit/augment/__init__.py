"""Augmentations of what the discriminator sees, for training on small datasets.

``train.augment`` picks one:

* ``none`` (default);
* ``diffaugment`` or ``diffaugment:POLICY,...`` -- DiffAugment (Zhao et al. 2020), policies
  ``color``, ``translation``, ``cutout`` (all three by default);
* ``ada`` or ``ada:TARGET`` -- adaptive discriminator augmentation (Karras et al. 2020) with the
  overfitting target r_t (0.6 by default); ``p`` is logged as ``aug_p`` and checkpointed.

Both apply to real and generated images alike, in the D and the G step, and are differentiable.
"""

from __future__ import annotations

from torch import nn

from gankit.augment.ada import AdaptiveAugment
from gankit.augment.diffaugment import POLICIES, DiffAugment

KINDS = ("none", "diffaugment", "ada")
# What `gankit list` shows: (option, what it does, paper).
AUGMENTATIONS = (
    ("train.augment=diffaugment", "colour, translation and cutout on real and fake alike, differentiable "
     "(diffaugment:translation,cutout picks policies)", "Zhao et al. 2020"),
    ("train.augment=ada", "blit/geometric/colour pipeline with probability p steered by r_t = E[sign D(x)] "
     "toward 0.6 (ada:TARGET); p logged as aug_p", "Karras et al. 2020"),
)


def make_augment(spec: str) -> nn.Module | None:
    """The augmentation module that ``train.augment`` names, or None for ``none``."""
    kind, _, argument = spec.partition(":")
    if kind == "none" and not argument:
        return None
    if kind == "diffaugment":
        policy = tuple(p.strip() for p in argument.split(",") if p.strip()) or POLICIES
        return DiffAugment(policy)
    if kind == "ada":
        try:
            target = float(argument) if argument else 0.6
        except ValueError:
            raise ValueError(f"train.augment={spec!r}: the ADA target must be a number, e.g. ada:0.6") from None
        if not 0 < target < 1:
            raise ValueError(f"train.augment={spec!r}: the ADA target r_t must lie in (0, 1); the paper uses 0.6")
        return AdaptiveAugment(target=target)
    raise ValueError(f"train.augment={spec!r} is not known; use none, diffaugment[:{','.join(POLICIES)}] "
                     "or ada[:TARGET]")


__all__ = ["AUGMENTATIONS", "AdaptiveAugment", "DiffAugment", "KINDS", "make_augment"]
