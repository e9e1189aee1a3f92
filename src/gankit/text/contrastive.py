"""Training a caption encoder on (image, caption) pairs with a contrastive objective.

A small convolutional image encoder and the :class:`~gankit.text.encoder.CaptionEncoder` learn
together to give a matching image and caption a higher cosine similarity than any other pairing
in the batch (the symmetric InfoNCE loss of CLIP, Radford et al. 2021, with a learned
temperature). Where the dataset can make them, each image's caption with its two objects swapped
joins the batch as one more wrong caption for every image (NegCLIP, Yuksekgonul et al. 2023): a
batch of random pairs almost never holds two images that differ only in which object is where, so
without them the encoder learns a bag of words and "a red circle above a blue square" and "a red
circle below a blue square" embed alike (cosine 0.99 on shapes). The image side is thrown away
afterwards; the caption side conditions the GAN. This is how StackGAN's char-CNN-RNN was obtained
(Reed et al. 2016, with a ranking loss), on the dataset's own pairs, so it knows any language whose
captions it is trained on.
"""

from __future__ import annotations

import math

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from .encoder import CaptionEncoder


class ImageEncoder(nn.Module):
    """Images (N, C, H, W) in [-1, 1] -> unit-length embeddings (N, dim): four stride-2 convolutions, pooled."""

    def __init__(self, channels: int, dim: int = 128, width: int = 32):
        super().__init__()
        layers, c = [], channels
        for w in (width, 2 * width, 4 * width, 4 * width):
            layers += [nn.Conv2d(c, w, 3, 2, 1), nn.BatchNorm2d(w), nn.ReLU(True)]
            c = w
        self.body = nn.Sequential(*layers)
        self.out = nn.Linear(c, dim)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return F.normalize(self.out(self.body(x).mean((2, 3))), dim=1)


def contrastive_loss(image: torch.Tensor, text: torch.Tensor, scale: torch.Tensor,
                     negatives: torch.Tensor | None = None) -> torch.Tensor:
    """Symmetric cross-entropy of the scaled cosine similarities, the i-th image matching the i-th
    caption; ``negatives`` (M, dim) are further captions that match no image, among each image's choices."""
    logits = scale * image @ text.T
    target = torch.arange(len(image), device=image.device)
    to_text = logits if negatives is None else torch.cat([logits, scale * image @ negatives.T], 1)
    return (F.cross_entropy(to_text, target) + F.cross_entropy(logits.T, target)) / 2


def retrieval_accuracy(image_encoder: ImageEncoder, text_encoder: CaptionEncoder, images: torch.Tensor,
                       captions: list[str], group: int = 100) -> float:
    """How often an image's own caption is the most similar among ``group`` captions (itself and
    ``group - 1`` others of the set): chance is ``1 / group``."""
    image_encoder.eval()
    with torch.no_grad():
        a = torch.cat([image_encoder(images[i:i + 512]) for i in range(0, len(images), 512)])
        b = text_encoder.encode(captions)
    hits = []
    for start in range(0, len(a) - group + 1, group):
        sim = a[start:start + group] @ b[start:start + group].T
        hits.append((sim.argmax(1) == torch.arange(group)).float())
    return float(torch.cat(hits).mean()) if hits else float("nan")


def swap_accuracy(image_encoder: ImageEncoder, text_encoder: CaptionEncoder, images: torch.Tensor,
                  captions: list[str], swapped: list[str]) -> float:
    """How often an image is closer to its own caption than to the same caption with its objects
    swapped (images without a swapped caption, "", are left out): chance is 0.5."""
    keep = [i for i, text in enumerate(swapped) if text]
    if not keep:
        return float("nan")
    image_encoder.eval()
    with torch.no_grad():
        a = image_encoder(images[keep])
        own = (a * text_encoder.encode([captions[i] for i in keep])).sum(1)
        other = (a * text_encoder.encode([swapped[i] for i in keep])).sum(1)
    return float((own > other).float().mean())


def train_caption_encoder(encoder: CaptionEncoder, images: np.ndarray, captions: np.ndarray, steps: int = 600,
                          batch_size: int = 256, lr: float = 2e-3, seed: int = 0, progress=None,
                          swapped: np.ndarray | None = None) -> dict:
    """Fit ``encoder`` in place on pairs of ``images`` (N, C, H, W) uint8 and ``captions`` (N, K) strings.

    Each step draws ``batch_size`` images and one of each image's K captions at random; with
    ``swapped`` (N, K) strings ("" where an image has none), that caption's swapped-object version
    is a wrong caption for every image of the batch. Returns the final loss and the image encoder's
    temperature. ``progress(step, loss)`` is called now and then.
    """
    generator = torch.Generator().manual_seed(seed)
    torch.manual_seed(seed)
    image_encoder = ImageEncoder(images.shape[1], encoder.dim)
    log_scale = nn.Parameter(torch.tensor(math.log(1 / 0.07)))
    params = [*encoder.parameters(), *image_encoder.parameters(), log_scale]
    optimizer = torch.optim.Adam(params, lr=lr)
    schedule = torch.optim.lr_scheduler.CosineAnnealingLR(optimizer, steps)
    x_all = torch.from_numpy(images)
    # Every caption tokenised once, not per step: (N, K, L) ids and (N, K) lengths to index.
    ids_all, lengths_all = encoder.vocabulary.encode(captions.ravel().tolist())
    ids_all, lengths_all = ids_all.view(*captions.shape, -1), lengths_all.view(captions.shape)
    if swapped is not None:
        has_swap = torch.from_numpy((swapped != "").all(1))
        swap_ids, swap_lengths = encoder.vocabulary.encode(swapped.ravel().tolist())
        swap_ids, swap_lengths = swap_ids.view(*swapped.shape, -1), swap_lengths.view(swapped.shape)
    encoder.train()
    loss = torch.zeros(())
    for step in range(steps):
        rows = torch.randint(len(images), (batch_size,), generator=generator)
        which = torch.randint(captions.shape[1], (batch_size,), generator=generator)
        x = x_all[rows].float() / 127.5 - 1.0
        negatives = None
        if swapped is not None and bool(has_swap[rows].any()):
            keep = has_swap[rows]
            negatives = encoder(swap_ids[rows, which][keep], swap_lengths[rows, which][keep])
        loss = contrastive_loss(image_encoder(x), encoder(ids_all[rows, which], lengths_all[rows, which]),
                                log_scale.exp().clamp(max=100), negatives)
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        optimizer.step()
        schedule.step()
        if progress is not None and (step % 100 == 0 or step == steps - 1):
            progress(step, float(loss.detach()))
    encoder.eval()
    return {"loss": float(loss.detach()), "temperature": float(1 / log_scale.detach().exp()), "image_encoder": image_encoder}
