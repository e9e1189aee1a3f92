"""The held-out split of data that comes without one (image folders, ``npz:`` archives, paired folders).

The last ``TEST_FRACTION`` of the examples (of each class, where there are classes), in their
stored order, are "test" and the rest "train": deterministic, and the two never overlap.
"""

from __future__ import annotations

import numpy as np

TEST_FRACTION = 0.1


def test_mask(y: np.ndarray | None, n: int) -> np.ndarray:
    """True for the test examples among ``n`` with labels ``y`` (None: unlabelled)."""
    mask = np.zeros(n, dtype=bool)
    groups = [np.arange(n)] if y is None else [np.flatnonzero(y == c) for c in np.unique(y)]
    for idx in groups:
        k = int(TEST_FRACTION * len(idx))
        if k:
            mask[idx[len(idx) - k:]] = True
    return mask
