"""Every ``gankit`` command, one module per command or group; :mod:`gankit.cli` only wires them up.

The order of ``GROUPS`` is the order of ``gankit --help``. A module adds its sub-parsers in
``add_parsers`` and sets ``func`` to what runs; the libraries the commands call
(:mod:`gankit.train`, :mod:`gankit.metrics`, :mod:`gankit.theory`, ...) hold no argparse code.
"""

from __future__ import annotations

from . import (codes, datasets, demo, evaluate, export, interpolate, listing, mix, project, report, sample, serve, theory, train,
               translate)

GROUPS = (train, sample, interpolate, mix, project, listing, datasets, demo, evaluate, theory, codes, translate, report, serve, export)


def add_commands(subparsers) -> None:
    """Add every group's commands to the ``gankit`` sub-parsers, in the order of ``--help``."""
    for group in GROUPS:
        group.add_parsers(subparsers)
