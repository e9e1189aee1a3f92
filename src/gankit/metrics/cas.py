"""Classification Accuracy Score (Ravuri & Vinyals 2019): how well generated labelled data teach a classifier.

A classifier is trained *only* on generated (image, label) pairs and tested on the real test set.
Beside it, the same classifier (the architecture of gankit's metric extractor for the dataset,
:data:`gankit.metrics.extractor.ARCHS`) is trained by the same recipe, for the same number of
epochs, on as many *real* training images, and tested the same way: CAS reads against that. A
generator that ignores the labels, drops modes or makes off-manifold images scores below it.
The real-data accuracy depends only on the dataset, the example count, the recipe and the seed,
so it is cached (``~/.cache/gankit/stats``).
"""
from __future__ import annotations

import numpy as np
import torch

from .cache import cached, fixed_subset
from .extractor import ARCHS, accuracy, canonical_name, fit_classifier, to_input


def _test_accuracy(net, test, cfg) -> float:
    return accuracy(net, to_input(test.x, cfg["in_channels"], cfg["size"]),
                    torch.as_tensor(np.asarray(test.y), dtype=torch.long))


def classification_accuracy_score(samples: np.ndarray, labels, data_name: str, root=None, epochs: int | None = None,
                                  seed: int = 0, log=None) -> dict[str, float]:
    """``{"cas": accuracy on the real test set of a classifier trained on (samples, labels),
    "cas_real": the same for as many real training images}``.

    Parameters
    ----------
    samples : uint8 images (N, C, H, W) as the metrics use them.
    labels : the class each sample was generated for (N,).
    data_name : the dataset they imitate; its test split is the test set.
    epochs : training passes (default: the extractor recipe's, e.g. 8 for Fashion-MNIST).
    """
    from gankit.data import load_dataset

    labels = np.asarray(labels).reshape(-1)
    if labels.shape != (len(samples),):
        raise ValueError(f"cas needs one label per sample: {len(samples)} samples, {labels.shape[0]} labels")
    name = canonical_name(data_name)
    cfg = dict(ARCHS[name], **({} if epochs is None else {"epochs": int(epochs)}))
    if labels.min() < 0 or labels.max() >= cfg["num_classes"]:
        raise ValueError(f"cas: labels must lie in 0..{cfg['num_classes'] - 1}, got {labels.min()}..{labels.max()}")
    test = load_dataset(data_name, split="test", root=root, store="memory")
    say = log or (lambda message: None)
    say(f"CAS: training a classifier on {len(samples)} generated images ({cfg['epochs']} epochs)")
    synthetic = _test_accuracy(fit_classifier(samples, labels, cfg, seed), test, cfg)

    def real_accuracy() -> dict[str, np.ndarray]:
        train = load_dataset(data_name, split="train", root=root, store="memory")
        pick = fixed_subset(len(train.x), len(samples), seed)
        say(f"CAS: training the same classifier on {len(pick)} real images (cached afterwards)")
        net = fit_classifier(train.x[pick], np.asarray(train.y)[pick], cfg, seed)
        return {"accuracy": np.asarray(_test_accuracy(net, test, cfg))}

    real = cached({"data": data_name, "split": "test", "kind": "cas-real", "n": len(samples), "seed": seed,
                   "recipe": {k: cfg[k] for k in sorted(cfg)}}, real_accuracy)
    return {"cas": synthetic, "cas_real": float(real["accuracy"])}
