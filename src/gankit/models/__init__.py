"""GAN families. Each is a ``Recipe`` subclass in its own module; naming it registers it."""

from __future__ import annotations

from gankit.models.inputs import Input
from gankit.noise import Noise  # re-exported: the recipes' inputs draw from it
from gankit.models.recipe import DataSize, OptimizerSpec, Phase, Progress, Recipe, StageChange, Step, Stream
from gankit.models.registry import build_recipe, recipe_class, recipes
from gankit.models import families  # noqa: F401 - registers the built-in families

__all__ = ["DataSize", "Input", "Noise", "OptimizerSpec", "Phase", "Progress", "Recipe", "StageChange", "Step", "Stream",
           "build_recipe", "recipe_class", "recipes"]
