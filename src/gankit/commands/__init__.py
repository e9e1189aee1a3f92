"""The ``gankit`` commands that are wired here rather than in :mod:`gankit.cli`, one module per group.

``evaluate``: ``gankit eval`` and ``gankit metrics train-extractor``; ``theory``: ``gankit theory``;
``codes``: ``gankit traverse``; ``translate``: ``gankit translate`` (image-to-image runs); ``report``:
``gankit report``; ``serve``: ``gankit serve``.
The libraries they call (:mod:`gankit.metrics`, :mod:`gankit.theory`) hold no argparse code.
"""

from __future__ import annotations

from . import codes, evaluate, report, serve, theory, translate

GROUPS = (evaluate, theory, codes, translate, report, serve)


def add_commands(subparsers) -> None:
    """Add every group's commands to the ``gankit`` sub-parsers, in the order of ``--help``."""
    for group in GROUPS:
        group.add_parsers(subparsers)
