"""Text-to-image: StackGAN's stage I (Zhang et al. 2017; the lectures' seeds 003 and 004).

The generator draws an image from noise and a caption: the caption's embedding from gankit's own
sentence encoder (:mod:`gankit.text`, trained contrastively on the dataset's image-caption pairs
before the GAN, then frozen, as StackGAN's char-CNN-RNN was), through conditioning augmentation
(``model.augmentation``; KL weight ``model.kl_weight``, the official 2), then a DCGAN generator.
The discriminator is matching-aware (Reed et al. 2016, as StackGAN's code): a real image with
its caption is real, a generated image with its caption and a real image with a mismatched
caption are fake, weighted 1, 1 - m and m (``model.mismatch``, the official 0.5; 0 is the ablation).
A mismatched caption is the next image's in the batch, never the image's own. ``model.ma_gp``
adds DF-GAN's matching-aware gradient penalty (Tao et al. 2022) on real, matching pairs.

The generator's inputs are ``z``, the augmentation's noise ``eps`` and ``caption``: a caption as
word ids (``gankit sample --text "a small red circle"`` makes them from text); where no caption
is given it comes from held-out images, so sample grids and ``gankit eval`` show captions the
model never trained on. ``model.language``: ``en``, ``ko`` or ``both`` (the encoder and G then
learn from English and Korean captions of the same images, and either drives the model).

Stage II (64x64 refinement) is not built yet.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass

import numpy as np
import torch

from gankit.config import ConfigError
from gankit.data.registry import load_dataset
from gankit.models.inputs import Input
from gankit.models.recipe import Phase, Step, Stream
from gankit.models.train_loss import TrainLossRecipe
from gankit.nn.stackgan import MatchingDiscriminator, TextGenerator
from gankit.text import captions as dataset_captions
from gankit.text.store import fitted_encoder, new_encoder
from gankit.text.vocabulary import words
from gankit.tricks import matching_aware_penalty


@dataclass
class StackGANOptions:
    latent_dim: int = 100
    condition_dim: int = 128  # the dimension of c, StackGAN's N_g
    augmentation: bool = True  # conditioning augmentation; False: c = mu(e), no KL (the ablation)
    kl_weight: float = 2.0  # weight of KL(N(mu, sigma^2) || N(0, I)), averaged over elements
    mismatch: float = 0.5  # weight of (real image, wrong caption) among D's fakes; 0: not matching-aware
    ma_gp: float = 0.0  # weight of DF-GAN's matching-aware gradient penalty (Tao et al. 2022: 2, power 6); 0: off
    language: str = "en"  # captions the encoder and G learn from: en, ko or both
    encoder_dim: int = 128  # width of the caption embedding
    encoder_steps: int = 600  # contrastive training steps of the caption encoder (cached per dataset)
    g_base: int = 32  # DCGAN widths, halved for a CPU (StackGAN's are 4x these)
    d_base: int = 32


def captioned_split(name: str, language: str, size: int | None, split: str):
    """The dataset split with its captions as word ids: ``caption`` (N, L), the first paraphrase,
    and ``captions`` (N, K, L), all of them, for training."""
    data = load_dataset(name, split, size=size)
    data.extra["captions"] = dataset_captions.split_token_ids(name, split, language).copy()
    data.extra["caption"] = data.extra["captions"][:, 0].copy()
    return data


class StackGAN(TrainLossRecipe):
    name = "stackgan"
    description = ("StackGAN stage I: a caption's embedding (gankit's own contrastive encoder) through conditioning "
                   "augmentation into a DCGAN G; a matching-aware D (real image + wrong caption = fake)")
    Options = StackGANOptions
    # StackGAN's 2e-4 for both networks left G far behind D on shapes (caption accuracy 0.002 after
    # 2,000 steps); G at 1e-3 with an EMA (the dcgan-fc preset's choices) drew clean colours on black by step 500.
    train_defaults = {"lr_g": 1e-3, "lr_d": 2e-4, "betas": (0.5, 0.999), "ema": 0.999}

    @classmethod
    def streams(cls, cfg, options):
        dataset_captions.check_captioned(cfg.data.name, options.language)
        return {"real": Stream(functools.partial(captioned_split, cfg.data.name, options.language, cfg.data.size))}

    def __init__(self, options: StackGANOptions, data, train):
        super().__init__(options, data, train)
        if not 0.0 <= options.mismatch < 1.0:
            raise ConfigError(f"model.mismatch is the weight of mismatched pairs among D's fakes, in [0, 1); "
                              f"got {options.mismatch}")
        channels, size = self.square_images()
        if train.k != 1:
            raise ConfigError(f"stackgan trains D once per iteration (its G step reuses D's fakes); got train.k={train.k}")
        self.dataset = next(iter(self.data.values())).name
        self.encoder = new_encoder(self.dataset, options.encoder_dim).requires_grad_(False)
        self.register_buffer("encoder_ready", torch.zeros((), dtype=torch.bool))
        self.caption_length = dataset_captions.max_words(self.dataset)
        self.nets["G"] = TextGenerator(options.latent_dim, options.encoder_dim, options.condition_dim, channels, size,
                                       options.g_base, options.augmentation)
        self.nets["D"] = MatchingDiscriminator(channels, size, options.encoder_dim, options.d_base)

    # --- the caption encoder -------------------------------------------------------------------
    def advance(self, progress):
        """Before the first iteration of a new run: the encoder, trained on this dataset's pairs
        (or from the cache), copied into the run; a checkpoint already holds it."""
        if not bool(self.encoder_ready):
            encoder, _ = fitted_encoder(self.dataset, self.options.language, self.options.encoder_dim,
                                        self.options.encoder_steps, seed=0)
            self.encoder.load_state_dict(encoder.state_dict())
            self.encoder_ready.fill_(True)
        return None

    def embed(self, ids: torch.Tensor) -> torch.Tensor:
        """Word ids (N, L), 0-padded -> caption embeddings (N, encoder_dim), without gradients."""
        lengths = (ids != 0).sum(1).clamp(min=1)
        with torch.no_grad():
            return self.encoder(ids, lengths)

    def encode_text(self, texts: list[str]) -> torch.Tensor:
        """Caption strings as the ``caption`` input (N, L), with a clear error for words the model never saw."""
        vocabulary = self.encoder.vocabulary
        for text in texts:
            if not words(text):
                raise ValueError(f"a caption needs at least one word, got {text!r}")
            if unknown := vocabulary.unknown_words(text):
                raise ValueError(f"the caption {text!r} has words this model never saw in training: "
                                 f"{', '.join(unknown)}. Its words are: {', '.join(vocabulary.tokens[2:])}")
        return torch.from_numpy(dataset_captions.token_ids(self.dataset, np.array(texts), self.caption_length))

    def decode_caption(self, ids: torch.Tensor) -> list[str]:
        """Word ids (N, L) back to caption strings (the words as the tokeniser wrote them)."""
        tokens = self.encoder.vocabulary.tokens
        return [" ".join(tokens[i] for i in row if i > 0) for row in ids.tolist()]

    # --- the seam ------------------------------------------------------------------------------
    def inputs(self):
        return (Input("z", (self.latent_dim,)), Input("eps", (self.options.condition_dim,)),
                Input("caption", (self.caption_length,), distribution="given"))

    def phases(self):
        return [Phase("D", trains="D", keeps_graph_of=("G",)), Phase("G", trains="G", draws=())]

    def generate(self, inputs, net=None):
        return (net or self.nets["G"])(inputs["z"], inputs["eps"], self.embed(inputs["caption"]))

    def loss(self, phase: str, step: Step):
        adversarial = self.adversarial_loss
        if phase == "D":
            batch = step.batch
            n = len(batch["x"])
            paraphrase = step.randint(batch["captions"].shape[1], n)
            text = self.embed(batch["captions"][torch.arange(n, device=paraphrase.device), paraphrase])
            inputs = self.draw_inputs(n, step.noise, caption=batch["caption"])  # z and eps; the caption is `text`
            fake = self.net("G")(inputs["z"], inputs["eps"], text)
            step.shared["fake"] = fake, text, self.nets["G"].last_kl  # DDP's wrapper runs this very module
            D = self.net("D")
            real_out, fake_out = D(batch["x"], text), D(fake.detach(), text)
            loss = adversarial.d_loss(real_out, fake_out, self.train_config.real_label)
            stats = {"D(x|t)": adversarial.score(real_out).mean().detach()}
            if self.options.mismatch:
                wrong_out = D(batch["x"], text.roll(1, 0))
                loss = (1 - self.options.mismatch) * loss + self.options.mismatch * adversarial.d_loss(
                    real_out, wrong_out, self.train_config.real_label)
                stats["D(x|wrong t)"] = adversarial.score(wrong_out).mean().detach()
            if self.options.ma_gp:
                penalty = matching_aware_penalty(D, batch["x"], text)
                loss = loss + self.options.ma_gp * penalty
                stats["ma_gp"] = penalty.detach()
            return loss, {"d_loss": loss.detach(), **stats}
        fake, text, kl = step.shared.pop("fake")
        loss = adversarial.g_loss(self.net("D")(fake, text))
        if not self.options.augmentation:  # c = mu(e): no distribution to regularise
            return loss, {"g_loss": loss.detach()}
        return loss + self.options.kl_weight * kl, {"g_loss": loss.detach(), "kl": kl.detach()}
