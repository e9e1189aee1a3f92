"""Caption accuracy: does a text-to-image model draw what its caption says? (``shapes`` data)

For held-out images of ``shapes``, one of each image's captions is given to the generator and the
sample is parsed back with :func:`gankit.data.shapes.read_shapes`, exact on real images. A sample
is right when every attribute the caption states is (the number of objects, each object's
colour, shape and size, and their relation); per-attribute rates are reported too. Both halves
of the test split are scored: captions of combinations seen in training, and captions with a
(colour, shape) pair never seen in training (composition).

Each figure comes with its **chance** level (the same samples scored against another image's
caption) and its **ceiling** (the real images read against their own captions: 1.0 on shapes).
"""
from __future__ import annotations

import numpy as np

ATTRIBUTE_COLUMNS = {"count": [0], "colour": [1, 4], "shape": [2, 5], "size": [3, 6], "relation": [7]}


def attribute_agreement(read: np.ndarray, truth: np.ndarray) -> dict[str, float]:
    """Rates of rows of :data:`gankit.data.shapes.FIELDS` agreeing in all columns and per attribute."""
    out = {"all": float((read == truth).all(1).mean())}
    out.update({name: float((read[:, cols] == truth[:, cols]).all(1).mean())
                for name, cols in ATTRIBUTE_COLUMNS.items()})
    return out


def caption_accuracy(run, n: int = 10_000, seed: int = 0, truncation: float | None = None) -> dict:
    """Generate one sample for each of up to ``n`` held-out images' captions (half seen
    combinations, half held-out ones), read them, and score them against the captions.

    Returns flat keys ``caption_accuracy`` (seen combinations), ``caption_accuracy_novel``, per
    attribute ``caption_<attribute>[_novel]``, their chance levels ``..._chance`` and the
    ceiling ``caption_accuracy_real``. A run trained on English and Korean captions
    (``model.language=both``) is scored on the English ones, then again on the Korean ones of the
    same images with the same noise (keys ending ``_ko``), and ``caption_agreement_en_ko`` is the
    share of those pairs of samples read as the same attributes.
    """
    from gankit.data.shapes import CAPTIONS_PER_IMAGE, read_shapes

    examples = run.examples("test")
    if "attributes" not in examples.extra or "captions" not in examples.extra:
        raise ValueError(f"{run.run_dir}: caption accuracy needs captioned data with readable attributes (shapes); "
                         f"{run.data_name} has none")
    truth, novel = examples.extra["attributes"], examples.extra["novel"].astype(bool)
    rng = np.random.default_rng(seed)
    half = max(1, n // 2)
    rows = np.concatenate([rng.permutation(np.flatnonzero(~novel))[:half], rng.permutation(np.flatnonzero(novel))[:half]])
    paraphrase = rng.integers(0, CAPTIONS_PER_IMAGE, len(rows))
    shuffled = truth[rows][rng.permutation(len(rows))]
    real = np.stack([read_shapes(image) for image in examples.x[rows]])
    out = {"caption_accuracy_real": attribute_agreement(real, truth[rows])["all"], "caption_samples": len(rows)}
    languages = [("", 0)]
    if examples.extra["captions"].shape[1] == 2 * CAPTIONS_PER_IMAGE:  # English, then Korean paraphrases
        languages.append(("_ko", CAPTIONS_PER_IMAGE))
    reads = []
    for tag, offset in languages:
        read = _read_samples(run, examples.extra["captions"][rows, offset + paraphrase], seed, truncation, read_shapes)
        reads.append(read)
        for suffix, subset in (("", ~novel[rows]), ("_novel", novel[rows])):
            score = attribute_agreement(read[subset], truth[rows][subset])
            chance = attribute_agreement(read[subset], shuffled[subset])
            out[f"caption_accuracy{suffix}{tag}"] = score.pop("all")
            out[f"caption_accuracy{suffix}_chance{tag}"] = chance.pop("all")
            out.update({f"caption_{name}{suffix}{tag}": value for name, value in score.items()})
    if len(reads) == 2:
        out["caption_agreement_en_ko"] = float((reads[0] == reads[1]).all(1).mean())
    return out


def _read_samples(run, captions: np.ndarray, seed: int, truncation: float | None, read) -> np.ndarray:
    import torch

    samples = run.sample_array(len(captions), seed=seed, truncation=truncation, caption=torch.from_numpy(captions))
    return np.stack([read(image) for image in samples])
