"""The ``gankit`` commands that are wired here rather than in :mod:`gankit.cli`, one module per group.

``evaluate``: ``gankit eval`` and ``gankit metrics train-extractor``; ``theory``: ``gankit theory``; ``codes``: ``gankit traverse``.
The libraries they call (:mod:`gankit.metrics`, :mod:`gankit.theory`) hold no argparse code.
"""

from __future__ import annotations

from . import codes, evaluate, theory

GROUPS = (evaluate, theory, codes)


def add_commands(subparsers) -> None:
    """Add every group's commands to the ``gankit`` sub-parsers, in the order of ``--help``."""
    for group in GROUPS:
        group.add_parsers(subparsers)
