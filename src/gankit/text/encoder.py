"""gankit's own sentence encoder: word embeddings and a bidirectional GRU.

StackGAN conditions on a sentence embedding from a char-CNN-RNN trained with images (Reed et al.
2016); this is the same idea at word level and CPU size. The vocabulary travels inside the
module's state (``get_extra_state``), so a run's checkpoint can encode new captions by itself.
"""

from __future__ import annotations

import torch
from torch import nn

from .vocabulary import Vocabulary


class CaptionEncoder(nn.Module):
    """Captions -> unit-length embeddings (N, dim).

    Parameters
    ----------
    vocabulary : the words it knows; unseen words map to one shared "unknown" embedding.
    dim : the embedding's width.
    word_dim, hidden : widths of the word embeddings and of each direction of the GRU.
    """

    def __init__(self, vocabulary: Vocabulary, dim: int = 128, word_dim: int = 64, hidden: int = 128):
        super().__init__()
        self.vocabulary = vocabulary
        self.dim = dim
        self.embed = nn.Embedding(len(vocabulary), word_dim, padding_idx=0)
        self.rnn = nn.GRU(word_dim, hidden, batch_first=True, bidirectional=True)
        self.out = nn.Linear(2 * hidden, dim)

    def word_states(self, ids: torch.Tensor, lengths: torch.Tensor) -> torch.Tensor:
        """Each word's state in both directions (N, T, 2 * hidden), word i at position i (rows past a
        caption's ``lengths`` words hold states of the padding: mask them out).

        Without packing the sequences (which ``torch.export`` cannot trace): the forward direction
        reads the row as it is; the backward direction reads it with the words moved to the end of
        the row, so that it meets the padding before them and the words last, and its states are
        moved back to the words' positions.
        """
        n, t = ids.shape
        lengths = lengths.to(ids.device)
        shift = t - lengths  # where each caption starts when right-aligned
        positions = torch.arange(t, device=ids.device)[None, :]
        source = positions - shift[:, None]
        right_aligned = torch.where(source >= 0, ids.gather(1, source.clamp(min=0)), torch.zeros_like(ids))
        h = self.rnn.hidden_size
        left, _ = self.rnn(self.embed(ids))  # (N, T, 2h)
        right, _ = self.rnn(self.embed(right_aligned))
        back = right[:, :, h:].gather(1, (positions + shift[:, None]).clamp(max=t - 1)[:, :, None].expand(-1, -1, h))
        return torch.cat([left[:, :, :h], back], 2)

    def forward(self, ids: torch.Tensor, lengths: torch.Tensor) -> torch.Tensor:
        """Embeddings of word ids (N, T), padded with 0 after each caption's ``lengths`` words."""
        return self.sentence(self.word_states(ids, lengths), lengths)

    def sentence(self, states: torch.Tensor, lengths: torch.Tensor) -> torch.Tensor:
        """The embeddings from :meth:`word_states`: the forward direction's state after the last word
        and the backward direction's after the first, mapped and normalised."""
        h = self.rnn.hidden_size
        forward = states[:, :, :h].gather(1, (lengths.to(states.device) - 1)[:, None, None].expand(-1, 1, h))
        return nn.functional.normalize(self.out(torch.cat([forward, states[:, :1, h:]], 2).squeeze(1)), dim=1)

    @torch.no_grad()
    def encode(self, captions: list[str], batch_size: int = 1024) -> torch.Tensor:
        """Embeddings (N, dim) of caption strings, on the encoder's device."""
        device = self.out.weight.device
        parts = []
        for start in range(0, len(captions), batch_size):
            ids, lengths = self.vocabulary.encode(list(captions[start:start + batch_size]))
            parts.append(self(ids.to(device), lengths))
        return torch.cat(parts) if parts else torch.zeros(0, self.dim, device=device)

    def get_extra_state(self):
        return {"tokens": self.vocabulary.tokens}

    def set_extra_state(self, state):
        self.vocabulary = Vocabulary(state["tokens"])
