"""The recipes gankit knows by name. A ``Recipe`` subclass with a ``name`` registers itself.

The built-in families register when the package :mod:`gankit.models` is imported (it imports
:mod:`gankit.models.families`), which every import of this module does first; a family outside the
package (a benchmark, a user's file, a test) registers by being imported.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any, Mapping

from gankit.config import ConfigError, RunConfig, apply_overrides, closest, read_run_config

if TYPE_CHECKING:
    from gankit.data.catalog import DatasetInfo

# A Recipe subclass. The registry sits below recipe.py (a subclass registers itself on creation), so
# it names the type without importing it.
RecipeClass = type

_RECIPES: dict[str, RecipeClass] = {}


def register(cls: RecipeClass) -> None:
    """Called by ``Recipe.__init_subclass__``; two different classes may not share a name."""
    known = _RECIPES.get(cls.name)
    if known is not None and known.__qualname__ != cls.__qualname__:
        raise ValueError(f"two recipes are named {cls.name!r}: {known.__module__}.{known.__qualname__} and "
                         f"{cls.__module__}.{cls.__qualname__}")
    _RECIPES[cls.name] = cls


def recipes() -> dict[str, RecipeClass]:
    """Every registered recipe by name (the built-in ones first)."""
    return dict(_RECIPES)


def recipe_class(name: str) -> RecipeClass:
    known = recipes()
    if name not in known:
        raise ConfigError(f"unknown model {name!r}{closest(name, list(known))}; models: {', '.join(known)}")
    return known[name]


def recipe_options(cfg: RunConfig) -> Any:
    """The ``Options`` dataclass of ``cfg.model`` with the run's ``model.*`` values, checked."""
    options = recipe_class(cfg.model).Options()
    apply_overrides(cfg, {f"model.{k}": v for k, v in cfg.options.items()}, options)
    return options


def read_saved_config(run_dir: str | Path) -> tuple[RunConfig, dict[str, Any]]:
    """A run directory's saved configuration (``read_run_config``), as the run was trained.

    A saved config lists every ``model.*`` option its recipe had when the run was written, so an
    option it lacks was added later. Where such an option's default is not what the code did before
    it existed, the recipe's ``Options.BEFORE_ADDED`` names the old behaviour, and the run gets that:
    a changed default never changes (or breaks the checkpoint of) an earlier run.
    """
    cfg, raw = read_run_config(run_dir)
    before_added = getattr(recipe_class(cfg.model).Options, "BEFORE_ADDED", {})
    for name, value in before_added.items():
        cfg.options.setdefault(name, value)
    return cfg, raw


def build_recipe(cfg: RunConfig, data: Mapping[str, "DatasetInfo"]) -> Any:
    """The recipe of ``cfg.model`` for data streams described by ``data`` (stream name -> info)."""
    return recipe_class(cfg.model)(recipe_options(cfg), data, cfg.train)
