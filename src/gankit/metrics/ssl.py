"""Test accuracy of a semi-supervised GAN's discriminator used as a classifier (Salimans et al. 2016)."""
from __future__ import annotations

import numpy as np
import torch

from gankit.data.pixels import from_uint8


@torch.no_grad()
def classifier_accuracy(classify, x: np.ndarray, y: np.ndarray, batch_size: int = 1000) -> float:
    """Accuracy of ``classify`` (float images in [-1, 1] -> class logits) on uint8 images ``x``."""
    correct = 0
    for i in range(0, len(x), batch_size):
        batch = from_uint8(x[i:i + batch_size])
        correct += int((classify(batch).argmax(1).numpy() == y[i:i + batch_size]).sum())
    return correct / len(x)


def ssl_accuracy(run, root=None) -> dict:
    """The run's classifier on the real test split of its dataset (at the size it was trained at).

    The key says which classifier it was: ``ssl_accuracy`` for the semi-supervised GAN,
    ``supervised_accuracy`` for its supervised-only baseline.
    """
    from gankit.data import load_dataset

    classify = getattr(run.recipe, "classify", None)
    if classify is None:
        raise ValueError(f"{run.config.model} has no classifier (ssl_accuracy applies to sgan runs)")
    d = run.config.data
    test = load_dataset(d.name, "test", root or d.root, d.size, d.channels, store="memory")
    run.recipe.eval()
    accuracy = classifier_accuracy(classify, test.x, np.asarray(test.y))
    baseline = bool(getattr(run.recipe.options, "supervised_only", False))
    return {"supervised_accuracy" if baseline else "ssl_accuracy": accuracy}
