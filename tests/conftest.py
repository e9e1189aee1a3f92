"""Fixtures shared by several test files (the test modules beside this file are importable by name)."""

import pytest

from serve_support import train_conditional, train_toy


@pytest.fixture(scope="session")
def small_runs(tmp_path_factory):
    """Two briefly trained runs: the vanilla GAN on ring8 and the test conditional recipe on digits."""
    root = tmp_path_factory.mktemp("small-runs")
    return {"toy": train_toy(root / "toy"), "cond": train_conditional(root / "cond")}
