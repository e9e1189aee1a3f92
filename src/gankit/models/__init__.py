"""GAN families. Each is a ``Recipe`` subclass registered here by its name."""

from __future__ import annotations

from gankit.config import ConfigError, closest
from gankit.models.dcgan import DCGAN, LSGAN
from gankit.models.gan import GAN
from gankit.models.recipe import Phase, Recipe, Step

RECIPES: dict[str, type[Recipe]] = {cls.name: cls for cls in (GAN, DCGAN, LSGAN)}


def recipe_class(name: str) -> type[Recipe]:
    if name not in RECIPES:
        raise ConfigError(f"unknown model {name!r}{closest(name, list(RECIPES))}; models: {', '.join(RECIPES)}")
    return RECIPES[name]


__all__ = ["RECIPES", "Phase", "Recipe", "Step", "recipe_class"]
