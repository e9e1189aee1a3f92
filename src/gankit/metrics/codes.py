"""How well a categorical latent code matches the data's classes (InfoGAN's unsupervised accuracy).

Chen et al. (2016) read MNIST digits off InfoGAN's 10-valued code c1: generate images for each
value, classify them, and match code values to classes one-to-one. The codes carry no class
names, so the matching is the best one: the assignment that maximises the agreeing images,
found with the Hungarian algorithm (``scipy.optimize.linear_sum_assignment``), as for the
unsupervised clustering accuracy.
"""
from __future__ import annotations

import numpy as np


def confusion_matrix(codes: np.ndarray, classes: np.ndarray, num_codes: int, num_classes: int) -> np.ndarray:
    """counts[i, j]: images generated with code value i that the classifier reads as class j."""
    counts = np.zeros((num_codes, num_classes), dtype=np.int64)
    np.add.at(counts, (np.asarray(codes, dtype=np.int64), np.asarray(classes, dtype=np.int64)), 1)
    return counts


def best_matching(counts: np.ndarray) -> tuple[np.ndarray, float]:
    """(class of each code value under the best one-to-one matching, the accuracy it gives).

    With more code values than classes (or fewer), the surplus ones stay unmatched (-1) and their
    images count as wrong.
    """
    from scipy.optimize import linear_sum_assignment

    counts = np.asarray(counts)
    if counts.ndim != 2 or counts.sum() == 0:
        raise ValueError(f"expected a non-empty 2-D confusion matrix, got shape {counts.shape}, total {counts.sum()}")
    rows, cols = linear_sum_assignment(counts, maximize=True)
    mapping = np.full(counts.shape[0], -1, dtype=np.int64)
    mapping[rows] = cols
    return mapping, float(counts[rows, cols].sum() / counts.sum())


def code_accuracy(run, n: int = 10_000, seed: int = 0, code: str | None = None,
                  truncation: float | None = None) -> dict:
    """Generate ``n`` images (equally many per value of the categorical ``code``), classify them with
    gankit's classifier for the run's dataset and match values to classes (Hungarian).

    ``truncation`` scales the normal noise toward 0 (the truncation trick), as
    :meth:`gankit.run.Run.sample` does; the codes (categorical, uniform) are not truncated.

    Returns ``{"code_accuracy": float, "code_matching": "value->class ..."}``.
    """
    import torch

    from .extractor import load_extractor
    from .samples import prepare_for_dataset

    categorical = [s for s in run.input_specs if s.distribution == "categorical" and not s.is_label]
    if code is not None:
        categorical = [s for s in categorical if s.name == code]
    if not categorical:
        raise ValueError(f"{run.run_dir}: the generator has no categorical code"
                         + (f" named {code!r}" if code else "") + " to match with classes")
    spec = categorical[0]
    values = torch.arange(n) % spec.classes
    samples = run.sample_array(n, seed=seed, truncation=truncation, **{spec.name: values})
    classes = load_extractor(run.data_name).predict(prepare_for_dataset(samples, run.data_name))
    counts = confusion_matrix(values.numpy(), classes, spec.classes, run.num_classes or spec.classes)
    mapping, accuracy = best_matching(counts)
    return {"code_accuracy": accuracy,
            "code_matching": " ".join(f"{v}->{c}" for v, c in enumerate(mapping.tolist()))}
