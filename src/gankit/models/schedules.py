"""Learning-rate schedules: pure functions of :class:`~gankit.models.recipe.Progress` (nothing to checkpoint).

An :class:`~gankit.models.recipe.OptimizerSpec` multiplies its learning rate by ``schedule(progress)``
before every step.
"""

from __future__ import annotations


def linear_decay(progress, start: float = 0.0) -> float:
    """1 until the fraction ``start`` of the budget, then linearly down to 0 at its end.

    Letting the last iterates settle instead of circling the equilibrium: the theory demo decays
    from the start, CycleGAN (Zhu et al.) over the second half.
    """
    if progress.fraction <= start:
        return 1.0
    return max(0.0, (1.0 - progress.fraction) / max(1.0 - start, 1e-12))
