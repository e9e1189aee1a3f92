"""The run report, an application beside ``gankit serve``: one self-contained HTML page about one or several runs: ``gankit report RUN [RUN ...]``.

Everything is inline (PNG figures as data URIs, a few lines of JavaScript for the frame slider),
so the file opens from disk, offline, and can be mailed or attached to an issue. Per run: the
configuration, the loss and discriminator curves, the sample grids over training (a slider), the
latest grid, a latent interpolation, one row per class (or per code value) for generators with
a label or codes, toy samples over the mixture's mode centres, the evaluation results beside the
reference rows, and the nearest-training-neighbour picture when ``gankit eval`` drew one.
Several runs: their curves overlaid and their metrics side by side first.

The figures come from what the run directory holds; those that need the generator (the
interpolation, the class rows) load the newest checkpoint, and say so on the page if it cannot
be loaded, instead of failing the whole report.

``run_page`` reads what a run directory holds, ``figures`` draws, ``page`` writes the HTML.
"""

from gankit.report.page import write_report

__all__ = ["write_report"]
