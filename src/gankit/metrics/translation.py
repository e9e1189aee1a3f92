"""Scores of an image-to-image model on held-out pairs: L1, SSIM, FID and class agreement.

Every held-out input is translated once and compared with its true counterpart:

* ``l1``: mean absolute difference of pixels in [0, 1] (lower is better);
* ``ssim``: mean structural similarity (:mod:`gankit.metrics.ssim`; higher is better);
* ``fid``: the Fréchet distance between the features of the translations and of the true
  targets, in the feature space of the dataset's classifier (:mod:`gankit.metrics.extractor`);
* ``accuracy``: how often that classifier gives a translation the class of its source example
  (for ``edges2fashion``, the garment class), beside ``accuracy_real``, the same on the targets.

``baseline=True`` scores the inputs themselves as the translations: the identity baseline that a
translation must beat.
"""

from __future__ import annotations

import hashlib

import numpy as np
import torch

from gankit.data import load_dataset
from gankit.data.imageset import convert_images
from gankit.data.paired import INPUT
from gankit.data.pixels import from_uint8, to_uint8

from .cache import cached
from .fid import fid_from_features
from .ssim import ssim


def held_out_pairs(run, direction: str = "AtoB"):
    """(inputs, targets, labels or None) uint8 of the run's test pairs, in ``direction``."""
    name = run.config.data.name
    shape = run.recipe.source_shape(direction)
    data = load_dataset(name, "test", run.config.data.root, shape[-1], run.config.data.channels)
    if INPUT not in data.extra:
        raise ValueError(f"{name} has no pairs to score translations against; scores need a paired dataset "
                         "(edges2emoji, edges2fashion, emojione2noto, folder:A|B with matching names)")
    a, b = data.extra[INPUT], data.x
    return (a, b, data.y) if direction == "AtoB" else (b, a, data.y)


@torch.no_grad()
def translate(run, images: np.ndarray, direction: str = "AtoB", batch_size: int = 256) -> np.ndarray:
    """uint8 (N, C, H, W) images translated by the run's network for ``direction``, as uint8."""
    net = run.generator if direction == "AtoB" else run.recipe.translator(direction)
    net.eval()
    out = []
    for i in range(0, len(images), batch_size):
        x = from_uint8(images[i:i + batch_size])
        out.append(to_uint8(net(x.to(run.device)).float().cpu()))
    return np.concatenate(out)


def score_pairs(predicted: np.ndarray, target: np.ndarray, data_name: str, labels=None) -> dict:
    """L1, SSIM, FID (and class agreement where the data have labels) of ``predicted`` against ``target``."""
    from .extractor import ExtractorError, load_extractor

    if predicted.shape[1] != target.shape[1]:
        predicted = convert_images(predicted, channels=target.shape[1])
    out = {"n": int(len(target)),
           "l1": float(np.abs(predicted.astype(np.float64) - target.astype(np.float64)).mean() / 255.0),
           "ssim": float(ssim(predicted, target).mean())}
    try:
        extractor = load_extractor(data_name)
    except ExtractorError:
        return out  # no classifier reads these images: FID is left out rather than guessed
    f_pred, p_pred = extractor.run(predicted)
    f_true, p_true = target_features(extractor, target, data_name)
    out["fid"] = fid_from_features(f_true, f_pred)
    if labels is not None:
        labels = np.asarray(labels)
        out["accuracy"] = float((p_pred.argmax(1) == labels).mean())
        out["accuracy_real"] = float((p_true.argmax(1) == labels).mean())
    return out


def target_features(extractor, target: np.ndarray, data_name: str) -> tuple[np.ndarray, np.ndarray]:
    """The extractor's (features, class probabilities) of the real targets, cached like other real-data
    statistics: keyed by the extractor and the targets' pixels, so every evaluation of a run (and every
    run on the same held-out pairs) reads them instead of recomputing them."""
    key = {"data": data_name, "split": "test", "kind": "translation-targets", "model": extractor.sha256,
           "pixels": hashlib.sha256(np.ascontiguousarray(target).tobytes()).hexdigest(), "shape": list(target.shape)}
    arrays = cached(key, lambda: dict(zip(("features", "probs"), extractor.run(target))))
    return arrays["features"], arrays["probs"]


def evaluate_translation(run, direction: str = "AtoB", baseline: bool = False) -> dict:
    """Scores of ``run`` (a :class:`gankit.run.Run`) on its held-out pairs; see the module docstring."""
    inputs, targets, labels = held_out_pairs(run, direction)
    predicted = inputs if baseline else translate(run, inputs, direction)
    return score_pairs(predicted, targets, run.config.data.name, labels)
