"""``gankit serve``: the runs of a folder in the browser, a playground per run, and a live toy GAN.

:mod:`~gankit.serve.app` is the HTTP server and its JSON API, :mod:`~gankit.serve.runs` finds runs
and keeps names inside the served folder, :mod:`~gankit.serve.playground` turns a page's settings
into generator inputs and pictures, :mod:`~gankit.serve.toy` trains the live 2-D GAN.
"""

from gankit.serve.app import make_server

__all__ = ["make_server"]
