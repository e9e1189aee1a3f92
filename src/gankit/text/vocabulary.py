"""Words to ids: the tokeniser and vocabulary of gankit's caption encoder."""

from __future__ import annotations

import re
from typing import Iterable

import numpy as np
import torch

PAD, UNKNOWN = "<pad>", "<unk>"
_WORD = re.compile(r"[^\s,.;:!?\"']+")


def words(caption: str) -> list[str]:
    """Lower-cased words of a caption, punctuation dropped: "A red circle, above." -> [a, red, circle, above]."""
    return _WORD.findall(caption.lower())


class Vocabulary:
    """The words of a set of captions, each with an id; 0 pads and 1 stands for an unseen word."""

    def __init__(self, tokens: Iterable[str]):
        self.tokens = [PAD, UNKNOWN, *(t for t in tokens if t not in (PAD, UNKNOWN))]
        self.ids = {t: i for i, t in enumerate(self.tokens)}

    @classmethod
    def from_captions(cls, captions: Iterable[str]) -> "Vocabulary":
        return cls(sorted({w for caption in captions for w in words(caption)}))

    def __len__(self) -> int:
        return len(self.tokens)

    def unknown_words(self, caption: str) -> list[str]:
        return [w for w in words(caption) if w not in self.ids]

    def encode(self, captions: list[str]) -> tuple[torch.Tensor, torch.Tensor]:
        """(ids (N, L) padded with 0, lengths (N,)); an empty caption counts as one unknown word."""
        rows = [[self.ids.get(w, 1) for w in words(c)] or [1] for c in captions]
        lengths = np.fromiter(map(len, rows), dtype=np.int64, count=len(rows))
        ids = np.zeros((len(rows), int(lengths.max()) if len(rows) else 0), dtype=np.int64)
        for i, r in enumerate(rows):
            ids[i, :len(r)] = r
        return torch.from_numpy(ids), torch.from_numpy(lengths)

    def decode(self, ids) -> list[str]:
        """Word ids (N, L), 0-padded (a tensor, array or nested list), back to captions: their words
        joined by single spaces, as a sentence encoder that reads text (MiniLM) is given them."""
        rows = ids.tolist() if hasattr(ids, "tolist") else ids
        return [" ".join(self.tokens[i] for i in row if i > 0) for row in rows]
