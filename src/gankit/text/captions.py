"""The captions of a dataset, by split and language, and the vocabulary they make."""

from __future__ import annotations

import functools

import numpy as np

from gankit.data.errors import DataError
from gankit.data.imageset import check_split
from gankit.data.emoji import emoji_captions
from gankit.data.shapes import LANGUAGES as SHAPES_LANGUAGES, shapes_captions, shapes_swapped_captions

from .vocabulary import Vocabulary

# Each captioned dataset: its languages and its captions (split, language) -> (N, K) strings.
CAPTIONED = {"shapes": (SHAPES_LANGUAGES, shapes_captions), "emoji": (("en", "ko"), emoji_captions)}
# Datasets that can say which captions share a true caption's words and describe another image
# (split, language) -> (N, K) strings, "" where an image has none; hard negatives for the encoder.
SWAPPED = {"shapes": shapes_swapped_captions}
LANGUAGE_CHOICES = ("en", "ko", "both")


def check_captioned(name: str, language: str) -> None:
    if name not in CAPTIONED:
        raise DataError(f"{name!r} has no captions; text-to-image models train on {', '.join(CAPTIONED)}")
    if language not in LANGUAGE_CHOICES:
        raise DataError(f"the caption language must be one of {', '.join(LANGUAGE_CHOICES)}, got {language!r}")


@functools.lru_cache(maxsize=8)
def captions(name: str, split: str, language: str = "en") -> np.ndarray:
    """(N, K) captions of the split's images: K paraphrases in ``language``, or 2K with "both"
    (English then Korean)."""
    check_captioned(name, language)
    split = check_split(split)
    languages, of_split = CAPTIONED[name]
    if language == "both":
        return np.concatenate([of_split(split, lang) for lang in languages], 1)
    return of_split(split, language)


def swapped_captions(name: str, split: str, language: str = "en") -> np.ndarray | None:
    """(N, K or 2K) captions aligned with :func:`captions` that describe another image with the same
    words ("" where there is none), or None for datasets that cannot make them."""
    check_captioned(name, language)
    if name not in SWAPPED:
        return None
    languages = CAPTIONED[name][0] if language == "both" else (language,)
    return np.concatenate([SWAPPED[name](check_split(split), lang) for lang in languages], 1)


@functools.lru_cache(maxsize=None)
def vocabulary(name: str) -> Vocabulary:
    """Every word of the dataset's training captions in all its languages, sorted: the same on every machine."""
    return Vocabulary.from_captions(captions(name, "train", "both").ravel().tolist())


@functools.lru_cache(maxsize=8)
def split_token_ids(name: str, split: str, language: str) -> np.ndarray:
    """(N, K, L) word ids of the split's captions, L the dataset's longest caption (cached: copy before changing)."""
    return token_ids(name, captions(name, split, language), max_words(name))


def token_ids(name: str, texts: np.ndarray, length: int) -> np.ndarray:
    """Captions (any shape) as word ids padded to ``length`` (shape + (length,)), int64."""
    flat = texts.ravel().tolist()
    ids, lengths = vocabulary(name).encode(flat)
    if int(lengths.max()) > length:
        longest = flat[int(lengths.argmax())]
        raise DataError(f"captions of {name} have at most {length} words; {longest!r} has {int(lengths.max())}")
    out = np.zeros((len(flat), length), dtype=np.int64)
    out[:, :ids.shape[1]] = ids.numpy()
    return out.reshape(*texts.shape, length)


@functools.lru_cache(maxsize=None)
def max_words(name: str) -> int:
    """The longest caption of the dataset (both splits, all languages), in words."""
    from .vocabulary import words
    return max(len(words(c)) for split in ("train", "test") for c in captions(name, split, "both").ravel())
