"""R-precision: is a generated image closer to its own caption than to 99 others? (text-to-image)

For each held-out caption one sample is drawn; a retrieval model ranks the sample's own caption
among ``group - 1`` other held-out captions (AttnGAN's protocol, Xu et al. 2018: R = 1, 100
candidates), and R-precision is the share ranked first. Candidates with the same text as the true
caption are left out, so a tie cannot count as a hit or a miss.

The judge is an image encoder and a caption encoder trained contrastively on the dataset's **real**
training pairs with a seed of its own (:data:`JUDGE_SEED`), cached like gankit's caption encoders.
The generator never sees it: its caption encoder is trained with another seed, and its image
encoder is thrown away (training and judging with one model inflates the score; this is the
failure in the literature this metric avoids). The result names the judge by the SHA-256 of its
weights, so two figures can be compared only when they name the same judge.

Each figure comes with its **ceiling** (the real held-out images with their captions) and
**chance** (1 / group).
"""
from __future__ import annotations

import hashlib

import numpy as np
import torch
import torch.nn.functional as F

JUDGE_SEED = 1  # the generator's caption encoder is trained with seed 0
JUDGE_STEPS = 600  # contrastive steps of the judge (as many as the generator's encoder)
GROUP = 100


def judge_hash(*modules: torch.nn.Module) -> str:
    """SHA-256 (first 16 hex digits) of the modules' weights, in state-dict order."""
    digest = hashlib.sha256()
    for module in modules:
        for name, tensor in module.state_dict().items():
            digest.update(name.encode())
            if isinstance(tensor, torch.Tensor):
                digest.update(tensor.detach().cpu().contiguous().numpy().tobytes())
            else:  # the caption encoder's vocabulary
                digest.update(repr(tensor).encode())
    return digest.hexdigest()[:16]


def ranked_first(image_embeddings: torch.Tensor, text_embeddings: torch.Tensor, texts: list[str],
                 group: int = GROUP, seed: int = 0) -> float:
    """Share of images whose own caption (row i) is the most similar of itself and ``group - 1``
    random other captions whose text differs from it."""
    rng = np.random.default_rng(seed)
    _, text_ids = np.unique(np.asarray(texts), return_inverse=True)
    distinct = int(text_ids.max()) + 1 if len(texts) else 0
    if distinct < group:
        raise ValueError(f"R-precision among {group} needs at least {group} distinct captions; "
                         f"the held-out set has {distinct}")
    hits = []
    for i in range(len(texts)):
        candidates = [i]
        while len(candidates) < group:  # others whose text differs, without repeats
            draw = rng.integers(0, len(texts), 2 * group)
            fresh = [j for j in dict.fromkeys(draw.tolist()) if text_ids[j] != text_ids[i] and j not in candidates]
            candidates += fresh[:group - len(candidates)]
        similarity = text_embeddings[candidates] @ image_embeddings[i]
        hits.append(bool(similarity.argmax() == 0))
    return float(np.mean(hits))


def r_precision(run, n: int | None = None, group: int = GROUP, seed: int = 0, truncation: float | None = None) -> dict:
    """R-precision of ``run``'s samples for (up to ``n``) held-out captions, beside its ceiling and chance.

    Returns ``r_precision``, ``r_precision_real`` (the ceiling), ``r_precision_chance``,
    ``r_precision_samples`` and ``r_precision_judge`` (the judge's weights' hash).
    """
    from gankit.text import captions as dataset_captions
    from gankit.text.store import fitted_pair

    recipe = run.recipe
    language = "en" if recipe.options.language == "both" else recipe.options.language
    text_judge, image_judge, _ = fitted_pair(run.data_name, language, steps=JUDGE_STEPS, seed=JUDGE_SEED)
    examples = run.examples("test")
    texts = dataset_captions.captions(run.data_name, "test", language)[:, 0]
    rows = np.arange(len(texts)) if n is None or n >= len(texts) else \
        np.sort(np.random.default_rng(seed).permutation(len(texts))[:n])
    texts = texts[rows].tolist()
    ids = torch.from_numpy(dataset_captions.token_ids(run.data_name, np.array(texts), recipe.caption_length))
    samples = torch.from_numpy(run.sample_array(len(rows), seed=seed, truncation=truncation, caption=ids))
    reals = torch.from_numpy(examples.x[rows])
    with torch.no_grad():
        text_embeddings = text_judge.encode(texts)
        embed = lambda images: torch.cat([image_judge(as_judge_input(images[i:i + 256], reals.shape[-1]))  # noqa: E731
                                          for i in range(0, len(images), 256)])
        sample_score = ranked_first(embed(samples), text_embeddings, texts, group, seed)
        real_score = ranked_first(embed(reals), text_embeddings, texts, group, seed)
    return {"r_precision": sample_score, "r_precision_real": real_score, "r_precision_chance": 1.0 / group,
            "r_precision_samples": len(rows), "r_precision_judge": judge_hash(text_judge, image_judge)}


def as_judge_input(images: torch.Tensor, size: int) -> torch.Tensor:
    """uint8 images (N, C, H, W) as floats in [-1, 1] at the judge's (the dataset's) size."""
    x = images.float() / 127.5 - 1.0
    return x if x.shape[-1] == size else F.interpolate(x, size=(size, size), mode="area")
