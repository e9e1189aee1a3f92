"""Caption accuracy: does a text-to-image model draw what its caption says? (``shapes`` data)

For held-out images of ``shapes``, one of each image's captions is given to the generator and the
sample is parsed back with :func:`gankit.data.shapes.read_shapes`, exact on real images. A sample
is right when every attribute the caption states is (the number of objects, each object's
colour, shape and size, and their relation); per-attribute rates are reported too. Both halves
of the test split are scored: captions of combinations seen in training, and captions with a
(colour, shape) pair never seen in training (composition).

Each figure comes with its **chance** level (the same samples scored against another image's
caption) and its **ceiling** (the real images read against their own captions: 1.0 on shapes).

Accuracy alone cannot see a conditional mode collapse (every noise drawing the caption the same
way). On ``shapes`` a caption fixes everything but where its objects are, so
:func:`position_spread` measures how far the drawings of one caption move with the noise, beside
the same for real images of those captions' attributes at random places.
"""
from __future__ import annotations

import numpy as np

SPREAD_CAPTIONS, SPREAD_PER_CAPTION = 100, 8

ATTRIBUTE_COLUMNS = {"count": [0], "colour": [1, 4], "shape": [2, 5], "size": [3, 6], "relation": [7]}


def attribute_agreement(read: np.ndarray, truth: np.ndarray) -> dict[str, float]:
    """Rates of rows of :data:`gankit.data.shapes.FIELDS` agreeing in all columns and per attribute."""
    out = {"all": float((read == truth).all(1).mean())}
    out.update({name: float((read[:, cols] == truth[:, cols]).all(1).mean())
                for name, cols in ATTRIBUTE_COLUMNS.items()})
    return out


def breakdown(read: np.ndarray, truth: np.ndarray) -> dict[str, float]:
    """Where the misses are: the share of captions with one object (``caption_accuracy_one``) and
    with two (``caption_accuracy_two``) drawn with every attribute right; of two-object captions,
    the share drawn right but with the objects in each other's places (``caption_two_swapped``:
    the relation's direction missed); for one-object captions the share drawn as the right shape,
    per shape and size (``caption_shape_right_small_star``, ...). NaN where no caption falls in a group."""
    from gankit.data.shapes import SHAPES, SIZES, swapped

    def rate(hits: np.ndarray) -> float:
        return float(hits.mean()) if hits.size else float("nan")

    right = (read == truth).all(1)
    one = truth[:, 0] == 1
    two = truth[:, 0] == 2
    mirrored = (read[two] == swapped(truth[two])).all(1)
    out = {"caption_accuracy_one": rate(right[one]), "caption_accuracy_two": rate(right[two]),
           "caption_two_swapped": rate(mirrored)}
    for s, shape in enumerate(SHAPES):
        for z, size in enumerate(SIZES):
            group = one & (truth[:, 2] == s) & (truth[:, 3] == z)
            out[f"caption_shape_right_{size}_{shape}"] = rate(read[group, 2] == s)
    return out


def caption_accuracy(run, n: int = 10_000, seed: int = 0, truncation: float | None = None) -> dict:
    """Generate one sample for each of up to ``n`` held-out images' captions (half seen
    combinations, half held-out ones), read them, and score them against the captions.

    Returns flat keys ``caption_accuracy`` (seen combinations), ``caption_accuracy_novel``, per
    attribute ``caption_<attribute>[_novel]``, their chance levels ``..._chance`` and the
    ceiling ``caption_accuracy_real``; :func:`breakdown`'s keys for the seen combinations. A run
    trained on English and Korean captions (``model.language=both``) is scored on the English ones,
    then again on the Korean ones of the same images with the same noise (keys ending ``_ko``), and
    ``caption_agreement_en_ko`` is the share of those pairs of samples read as the same
    attributes. ``caption_position_spread*`` are :func:`position_spread`'s, on seen combinations.
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
        if not tag:
            out.update(breakdown(read[~novel[rows]], truth[rows][~novel[rows]]))
    if len(reads) == 2:
        out["caption_agreement_en_ko"] = float((reads[0] == reads[1]).all(1).mean())
    out.update(position_spread(run, examples, np.flatnonzero(~novel), seed, truncation))
    return out


def foreground_centre(image: np.ndarray) -> np.ndarray:
    """(x, y) in pixels of the mean of the pixels not read as background; NaN for an empty image."""
    from gankit.data.shapes import classify_pixels

    ys, xs = np.nonzero(classify_pixels(image) >= 0)
    return np.array([xs.mean(), ys.mean()]) if len(xs) else np.full(2, np.nan)


def spread(centres: np.ndarray) -> float:
    """Root-mean-square distance of (captions, drawings, 2) centres from their caption's mean,
    averaged over captions (empty drawings left out, and captions with fewer than two others)."""
    drawn = ~np.isnan(centres[..., 0])
    kept = drawn.sum(1) >= 2
    if not kept.any():
        return float("nan")
    centres, drawn = centres[kept], drawn[kept]
    mean = np.nansum(centres, axis=1, keepdims=True) / drawn.sum(1)[:, None, None]
    squares = np.where(drawn, ((centres - mean) ** 2).sum(-1), 0.0)
    return float(np.sqrt(squares.sum(1) / drawn.sum(1)).mean())


def position_spread(run, examples, candidates: np.ndarray, seed: int = 0, truncation: float | None = None,
                    captions: int = SPREAD_CAPTIONS, per_caption: int = SPREAD_PER_CAPTION) -> dict[str, float]:
    """How much the noise moves a caption's drawing: ``caption_position_spread`` (pixels) over
    ``per_caption`` samples of each of ``captions`` held-out captions (rows of ``candidates``), and
    ``caption_position_spread_real``, the same for real images of each caption's attributes drawn
    at random places as the dataset draws them. A ratio near 0 is a conditional mode collapse."""
    from gankit.data.shapes import objects_of, render

    rng = np.random.default_rng(seed + 1)
    rows = rng.permutation(candidates)[:captions]
    tokens = np.repeat(examples.extra["captions"][rows, 0], per_caption, axis=0)
    samples = run.sample_array(len(tokens), seed=seed + 1, truncation=truncation, caption=_tensor(tokens))
    drawn = np.stack([foreground_centre(image) for image in samples]).reshape(len(rows), per_caption, 2)
    resolution = examples.x.shape[-1]
    truth = examples.extra["attributes"][rows]
    real = np.stack([[foreground_centre(render(objects_of(row), int(row[7]), rng.random((2, 2)), resolution))
                      for _ in range(per_caption)] for row in truth])
    out = {"caption_position_spread": spread(drawn), "caption_position_spread_real": spread(real)}
    out["caption_position_spread_ratio"] = out["caption_position_spread"] / out["caption_position_spread_real"]
    return out


def _tensor(tokens: np.ndarray):
    import torch

    return torch.from_numpy(np.ascontiguousarray(tokens))


def _read_samples(run, captions: np.ndarray, seed: int, truncation: float | None, read) -> np.ndarray:
    samples = run.sample_array(len(captions), seed=seed, truncation=truncation, caption=_tensor(captions))
    return np.stack([read(image) for image in samples])
