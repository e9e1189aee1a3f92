"""`gankit list`: the models, presets, datasets, losses, tricks and augmentations, one line each."""

from __future__ import annotations

from gankit.config import preset_description, preset_names


def add_parsers(subparsers) -> None:
    """Add the ``list`` command to the ``gankit`` sub-parsers."""
    p = subparsers.add_parser("list", help="models, presets, datasets and losses, one line each")
    p.set_defaults(func=cmd_list)


def cmd_list(args) -> int:
    from gankit.data import DATASET_DESCRIPTIONS
    from gankit.losses import LOSSES
    from gankit.models import recipes

    def section(title, rows):
        print(title)
        width = max(len(k) for k, _ in rows)
        for k, v in rows:
            print(f"  {k:<{width}}  {v}")
        print()

    section("models (gankit train MODEL):", [(k, r.description) for k, r in recipes().items()])
    section("presets (gankit train --preset NAME):", [(n, preset_description(n)) for n in preset_names()])
    section("datasets (--data NAME):", list(DATASET_DESCRIPTIONS.items()))
    section("losses (--set train.loss=NAME):", [(k, loss.description) for k, loss in LOSSES.items()])
    from gankit.tricks import TRICKS
    section("stability tricks (--set KEY=VALUE; gan, dcgan, lsgan):",
            [(key, f"{what} [{paper}]") for key, what, paper in TRICKS])
    from gankit.augment import AUGMENTATIONS
    section("small-data augmentation (--set KEY=VALUE; gan, dcgan, lsgan; diffaugment also cgan, acgan):",
            [(key, f"{what} [{paper}]") for key, what, paper in AUGMENTATIONS])
    return 0
