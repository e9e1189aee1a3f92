"""Learning-rate schedules: pure functions of :class:`~gankit.models.recipe.Progress` (nothing to checkpoint).

An :class:`~gankit.models.recipe.OptimizerSpec` multiplies its learning rate by ``schedule(progress)``
before every step.
"""

from __future__ import annotations


def linear_decay(progress, start: float = 0.0, end: float = 1.0) -> float:
    """1 until the fraction ``start`` of the budget, then linearly down to 0 at the fraction ``end``.

    Letting the last iterates settle instead of circling the equilibrium: the theory demo decays
    from the start, CycleGAN (Zhu et al.) over the second half. Instance noise may end before the
    budget does (``model.instance_noise_until``), so that D sees the clean data for a while.
    """
    if progress.fraction <= start:
        return 1.0
    return max(0.0, (end - progress.fraction) / max(end - start, 1e-12))
