"""Caption encoders' work done once per dataset and kept in the cache.

``~/.cache/gankit/text/<dataset>-<language>-<digest>.pt`` holds the weights of a
:class:`~gankit.text.encoder.CaptionEncoder` trained on the dataset's training pairs
(:func:`~gankit.text.contrastive.train_caption_encoder`) and its retrieval accuracy on the test
split. A run copies the weights into its own checkpoint, so sampling it never needs the cache.

``<dataset>-<language>-minilm-<digest>.pt`` holds MiniLM's embedding of every distinct caption of
the dataset (both splits; :func:`minilm_embeddings`): computed once, as a frozen encoder's output
needs to be, instead of once per process; ``...-minilm-tokens-<digest>.pt`` also its tokens' states.
"""

from __future__ import annotations

import hashlib
import json
import os
import sys

import torch

from gankit.data.registry import load_dataset
from gankit.data.sources import cache_root

from . import captions as dataset_captions
from .contrastive import ImageEncoder, retrieval_accuracy, swap_accuracy, train_caption_encoder
from .encoder import CaptionEncoder
from .minilm import DIM as MINILM_DIM

ENCODER_VERSION = 2  # bump when the encoder or its training changes, so old cache files are not reused
MINILM_TABLE_VERSION = 1  # bump when MiniLM's reading of a caption changes
CHUNK = 2048  # captions per progress line


def minilm_embeddings(name: str, language: str, encoder, verbose: bool = True,
                      tokens: bool = False) -> dict[str, torch.Tensor | tuple[torch.Tensor, torch.Tensor]]:
    """Caption -> MiniLM embedding (384,) for every distinct caption of ``name`` in ``language``, both
    splits, each caption as the model reads it (its words joined by spaces, as decoded from word ids);
    with ``tokens``, caption -> (embedding, its tokens' last hidden states (T, 384), float16), for a
    generator that attends to the caption's words. From the cache, or computed now with ``encoder``
    (a :class:`~gankit.text.minilm.SentenceEncoder`; 13 ms a caption on one core) and cached."""
    vocabulary, length = dataset_captions.vocabulary(name), dataset_captions.max_words(name)
    ids = [dataset_captions.split_token_ids(name, split, language).reshape(-1, length) for split in ("train", "test")]
    texts = sorted({text for rows in ids for text in vocabulary.decode(rows)})
    digest = hashlib.sha256(json.dumps({"texts": texts, "version": MINILM_TABLE_VERSION}).encode()).hexdigest()[:16]
    path = cache_root() / "text" / f"{name}-{language}-minilm{'-tokens' if tokens else ''}-{digest}.pt"

    def table(saved):
        return dict(zip(texts, zip(saved["vectors"], saved["tokens"]) if tokens else saved["vectors"]))

    if path.exists():
        try:
            saved = torch.load(path, map_location="cpu", weights_only=True)
            if saved["texts"] == texts:
                return table(saved)
        except Exception:  # a truncated or foreign file: compute it again
            pass
    if verbose:
        print(f"MiniLM: reading the {len(texts):,} distinct captions of {name} ({language}) once"
              f"{', token by token' if tokens else ''}; cached in {path.parent}", file=sys.stderr)
    chunks, states = [], []
    for start in range(0, len(texts), CHUNK):
        chunk = texts[start:start + CHUNK]
        if tokens:
            encoder.read(chunk, tokens=True)
            states += [encoder.tokens[t] for t in chunk]
        chunks.append(encoder.encode(chunk))
        if verbose:
            print(f"  MiniLM: {min(start + CHUNK, len(texts)):,}/{len(texts):,} captions", file=sys.stderr)
    saved = {"texts": texts, "vectors": torch.cat(chunks) if chunks else torch.zeros(0, MINILM_DIM)}
    if tokens:
        saved["tokens"] = states
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(f".tmp{os.getpid()}")
    torch.save(saved, tmp)
    os.replace(tmp, path)
    return table(saved)


def new_encoder(name: str, dim: int) -> CaptionEncoder:
    """An untrained encoder with the dataset's vocabulary."""
    return CaptionEncoder(dataset_captions.vocabulary(name), dim)


def fitted_pair(name: str, language: str, dim: int = 128, steps: int = 600, seed: int = 0,
                verbose: bool = True, need_image: bool = True) -> tuple[CaptionEncoder, ImageEncoder | None, dict]:
    """The caption encoder trained on ``name``'s training images and captions in ``language`` and
    the image encoder trained with it, from the cache or trained now (a few CPU minutes), and the
    report with its retrieval accuracy on 2,000 test images (R@1 among 100).

    Cache files written before the image encoder was kept serve the caption encoder alone
    (``need_image=False``; the image encoder is then None) rather than training it again."""
    key = {"data": name, "language": language, "dim": dim, "steps": steps, "seed": seed,
           "version": ENCODER_VERSION}
    digest = hashlib.sha256(json.dumps(key, sort_keys=True).encode()).hexdigest()[:16]
    path = cache_root() / "text" / f"{name}-{language}-{digest}.pt"
    encoder = new_encoder(name, dim)
    train = load_dataset(name, "train")
    image_encoder = ImageEncoder(train.x.shape[1], dim)
    if path.exists():
        try:
            saved = torch.load(path, map_location="cpu", weights_only=True)
            encoder.load_state_dict(saved["state"])
            if "image_state" not in saved and not need_image:
                return encoder.eval(), None, saved["report"]
            image_encoder.load_state_dict(saved["image_state"])
            return encoder.eval(), image_encoder.eval(), saved["report"]
        except Exception:  # a truncated or foreign file, or one from before the image encoder was kept
            pass

    def progress(step, loss):
        if verbose:
            print(f"  caption encoder: step {step + 1}/{steps}, contrastive loss {loss:.3f}", file=sys.stderr)

    if verbose:
        print(f"training gankit's caption encoder on {name} ({language}, seed {seed}) once; cached in {path.parent}",
              file=sys.stderr)
    texts = dataset_captions.captions(name, "train", language)
    fit = train_caption_encoder(encoder, train.x, texts, steps=steps, seed=seed, progress=progress,
                                swapped=dataset_captions.swapped_captions(name, "train", language))
    image_encoder = fit["image_encoder"].eval()
    test = load_dataset(name, "test")
    rows = slice(0, min(len(test), 2000))
    images = torch.from_numpy(test.x[rows]).float() / 127.5 - 1.0
    test_texts = dataset_captions.captions(name, "test", language)[rows, 0].tolist()
    report = {"loss": fit["loss"], "retrieval_r1_of_100": retrieval_accuracy(image_encoder, encoder, images,
                                                                            test_texts)}
    swapped = dataset_captions.swapped_captions(name, "test", language)
    if swapped is not None:  # two-object images: own caption over the objects swapped (chance 0.5)
        report["swap_accuracy"] = swap_accuracy(image_encoder, encoder, images, test_texts, swapped[rows, 0].tolist())
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(f".tmp{os.getpid()}")
    torch.save({"state": encoder.state_dict(), "image_state": image_encoder.state_dict(), "report": report,
                "key": key}, tmp)
    os.replace(tmp, path)
    return encoder.eval(), image_encoder, report
