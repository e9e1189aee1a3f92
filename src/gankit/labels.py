"""Which classes a conditional sample asks for: ``--labels 0,1,2`` or ``--labels all``.

The labels of ``n`` samples are the asked-for classes in the order given, each repeated about
``n / len(classes)`` times (the first ``n % len(classes)`` classes get one more), so a file of
samples is sorted by class and a grid with one class per row is the same array cut into rows.
"""

from __future__ import annotations

import numpy as np


def parse_classes(text: str, num_classes: int | None, what: str = "this run") -> list[int]:
    """The classes named by ``text`` ("all" or comma-separated integers), checked against ``num_classes``.

    Raises ValueError with a one-line message for an unconditional run, a non-integer, an empty list,
    or a class outside ``0..num_classes-1``.
    """
    if not num_classes:
        raise ValueError(f"--labels needs a class-conditional model (cgan, acgan, ...); {what} was trained "
                         "without labels")
    if text.strip().lower() == "all":
        return list(range(num_classes))
    try:
        classes = [int(part) for part in text.split(",") if part.strip()]
    except ValueError:
        raise ValueError(f"--labels takes 'all' or comma-separated class numbers such as 0,1,2; got {text!r}") from None
    if not classes:
        raise ValueError(f"--labels names no class: give 'all' or class numbers such as 0,1,2 (got {text!r})")
    if bad := [c for c in classes if not 0 <= c < num_classes]:
        raise ValueError(f"--labels: class {bad[0]} does not exist; {what} has classes 0..{num_classes - 1}")
    return classes


def spread(classes: list[int], n: int) -> np.ndarray:
    """int64 labels for ``n`` samples: each class in turn, ``n // len(classes)`` (+1 for the first few) times."""
    if n < 1:
        raise ValueError(f"-n must be at least 1, got {n}")
    counts = np.full(len(classes), n // len(classes))
    counts[:n % len(classes)] += 1
    return np.repeat(np.asarray(classes, dtype=np.int64), counts)
