"""R-precision: is a generated image closer to its own caption than to 99 others? (text-to-image)

For each held-out caption one sample is drawn; a retrieval model ranks the sample's own caption
among ``group - 1`` other held-out captions (AttnGAN's protocol, Xu et al. 2018: R = 1, 100
candidates), and R-precision is the share ranked first. Candidates with the same text as the true
caption are left out, so a tie cannot count as a hit or a miss.

The judge is an image encoder and a caption encoder trained contrastively on the dataset's **real**
training pairs with a seed of its own (:data:`JUDGE_SEED`). The generator never sees it: its
caption encoder is trained with another seed, and its image encoder is thrown away (training and
judging with one model inflates the score; this is the failure in the literature this metric
avoids). The result names the judge by the SHA-256 of its weights, so two figures can be compared
only when they name the same judge.

Where gankit ships a judge (``metrics/weights/<dataset>-<language>-judge.safetensors``, written by
``gankit metrics train-judge``; today ``emoji`` in English) every machine uses that one: a judge
trained on another CPU differs from it (one emoji recipe and seed, trained and judged on two CPUs
with their own judges, scored 0.14 and 0.08). Elsewhere the judge is trained on first use and
cached like gankit's caption encoders.

Each figure comes with its **ceiling** (the real held-out images with their captions) and
**chance** (1 / group).
"""
from __future__ import annotations

import hashlib
import json
import os
import platform
import warnings
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F

from gankit.metrics.extractor import WEIGHTS_DIR, sha256_file

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


def judge_path(name: str, language: str, weights_dir: str | Path | None = None) -> Path:
    """Where the shipped judge of ``name`` in ``language`` lives (its JSON beside it)."""
    return Path(weights_dir or WEIGHTS_DIR) / f"{name}-{language}-judge.safetensors"


def shipped_judge(name: str, language: str, weights_dir: str | Path | None = None):
    """The judge gankit ships for ``name`` in ``language`` as (caption encoder, image encoder, its
    JSON record), or None where none ships or it does not fit this machine's data.

    The file's SHA-256 must match its record (a corrupt file is an error, not a silent retrain);
    the loaded judge's hash, which covers the vocabulary built from this machine's captions, must
    match too, else the judge is trained here instead, with a warning."""
    from safetensors.torch import load_file

    from gankit.text.contrastive import ImageEncoder
    from gankit.text.store import new_encoder

    path = judge_path(name, language, weights_dir)
    record_path = path.with_suffix(".json")
    if not path.exists() or not record_path.exists():
        return None
    record = json.loads(record_path.read_text())
    if (digest := sha256_file(path)) != record["sha256"]:
        raise RuntimeError(f"the shipped R-precision judge {path} has SHA-256 {digest}, its record {record_path.name} "
                           f"says {record['sha256']}: a corrupt or replaced file. Write it again with "
                           f"`{record['command']}`, or delete both files to train a judge on this machine")
    state = load_file(str(path))
    text_judge, image_judge = new_encoder(name, record["dim"]), ImageEncoder(record["channels"], record["dim"])
    for prefix, module in (("text.", text_judge), ("image.", image_judge)):
        missing, unexpected = module.load_state_dict(
            {k[len(prefix):]: v for k, v in state.items() if k.startswith(prefix)}, strict=False)
        if unexpected or set(missing) - {"_extra_state"}:  # the vocabulary is rebuilt from the captions
            raise RuntimeError(f"{path} does not hold gankit's judge networks (missing {missing}, unexpected {unexpected})")
    if judge_hash(text_judge, image_judge) != record["judge"]:
        warnings.warn(f"the shipped R-precision judge of {name} ({record['judge']}) does not fit this machine's "
                      f"{name} captions (another vocabulary); training a judge here instead", stacklevel=2)
        return None
    return text_judge.eval(), image_judge.eval(), record


def judge(name: str, language: str):
    """The R-precision judge of ``name`` in ``language``: (caption encoder, image encoder, where it
    came from: "shipped" or "trained here")."""
    if shipped := shipped_judge(name, language):
        return shipped[0], shipped[1], "shipped"
    from gankit.text.store import fitted_pair

    text_judge, image_judge, _ = fitted_pair(name, language, steps=JUDGE_STEPS, seed=JUDGE_SEED)
    return text_judge, image_judge, "trained here"


def save_judge(name: str, language: str = "en", out_dir: str | Path | None = None) -> dict:
    """Train (or take from this machine's cache) the judge of ``name`` in ``language`` and write it
    with its JSON record where :func:`shipped_judge` finds it; returns the record."""
    from safetensors.torch import save_file

    from gankit.text.store import fitted_pair

    text_judge, image_judge, report = fitted_pair(name, language, steps=JUDGE_STEPS, seed=JUDGE_SEED)
    path = judge_path(name, language, out_dir)
    path.parent.mkdir(parents=True, exist_ok=True)
    tensors = {f"{prefix}{k}": v.detach().contiguous() for prefix, module in (("text.", text_judge), ("image.", image_judge))
               for k, v in module.state_dict().items() if isinstance(v, torch.Tensor)}
    save_file(tensors, str(path))
    os.chmod(path, 0o644)  # safetensors writes 0600; the file ships as package data
    record = {"name": name, "language": language, "sha256": sha256_file(path),
              "judge": judge_hash(text_judge, image_judge), "dim": text_judge.out.out_features,
              "channels": image_judge.body[0].in_channels, "steps": JUDGE_STEPS, "seed": JUDGE_SEED,
              "retrieval_r1_of_100": report["retrieval_r1_of_100"], "torch": torch.__version__,
              "cpu": cpu_model(), "command": f"gankit metrics train-judge --data {name} --language {language}"}
    path.with_suffix(".json").write_text(json.dumps(record, indent=2) + "\n")
    return record


def cpu_model() -> str:
    """The CPU's model name (Linux), else the architecture: judges trained on different CPUs differ."""
    try:
        lines = Path("/proc/cpuinfo").read_text().splitlines()
    except OSError:
        lines = []
    return next((line.split(":", 1)[1].strip() for line in lines if line.startswith("model name")), platform.machine())


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
    ``r_precision_samples``, ``r_precision_judge`` (the judge's weights' hash) and
    ``r_precision_judge_source`` ("shipped" or "trained here").
    """
    from gankit.text import captions as dataset_captions

    recipe = run.recipe
    language = "en" if recipe.options.language == "both" else recipe.options.language
    text_judge, image_judge, source = judge(run.data_name, language)
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
            "r_precision_samples": len(rows), "r_precision_judge": judge_hash(text_judge, image_judge),
            "r_precision_judge_source": source}


def as_judge_input(images: torch.Tensor, size: int) -> torch.Tensor:
    """uint8 images (N, C, H, W) as floats in [-1, 1] at the judge's (the dataset's) size."""
    x = images.float() / 127.5 - 1.0
    return x if x.shape[-1] == size else F.interpolate(x, size=(size, size), mode="area")
