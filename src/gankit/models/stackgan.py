"""Text-to-image: StackGAN (Zhang et al. 2017; the lectures' seeds 003 and 004).

The generator draws an image from noise and a caption: the caption's embedding from gankit's own
sentence encoder (:mod:`gankit.text`, trained contrastively on the dataset's image-caption pairs
before the GAN, then frozen, as StackGAN's char-CNN-RNN was), through conditioning augmentation
(``model.augmentation``; KL weight ``model.kl_weight``, the official 2), then a DCGAN generator
whose every BatchNorm is scaled and shifted by the caption too (DF-GAN's deep fusion) and whose
8x8 and 16x16 maps also attend to the encoder's per-word states (AttnGAN's word attention, Xu et
al. 2018), so that each region reads the words of the object it draws: one sentence vector for a
two-object scene left the second object wrong (benchmarks/RESULTS.md). ``model.g_text=affine`` is
the fusion alone, ``input`` StackGAN's G (the caption at its input only).
The discriminator (spectrally normalised, ``model.d_norm``; StackGAN's has BatchNorm, ``batch``)
is matching-aware (Reed et al. 2016, as StackGAN's code): a real image with
its caption is real, a generated image with its caption and a real image with a mismatched
caption are fake, weighted 1, 1 - m and m (``model.mismatch``, the official 0.5; 0 is the ablation).
A mismatched caption is the batch's caption most similar to the image's own among those whose
embeddings' cosine is below ``model.hard_mismatch`` (0.9: a hard negative, often one attribute
away; never the image's own caption or a paraphrase of it); 0 takes the previous image's. ``model.ma_gp``
adds DF-GAN's matching-aware gradient penalty (Tao et al. 2022) on real, matching pairs;
``model.mode_seeking=L`` Mao et al.'s mode-seeking term, so that one caption's drawings vary with z.

The generator's inputs are ``z``, the augmentation's noise ``eps`` and ``caption``: a caption as
word ids (``gankit sample --text "a small red circle"`` makes them from text); where no caption
is given it comes from held-out images, so sample grids and ``gankit eval`` show captions the
model never trained on. ``model.language``: ``en``, ``ko`` or ``both`` (the encoder and G then
learn from English and Korean captions of the same images, and either drives the model).

**Stage II**: when the data are larger than ``model.stage1_size`` (e.g. ``data.size=64`` with
stage I at 32), the run trains stage I alone on the reals average-pooled to its size for
``model.stage1_kimg`` thousand real images, then stage II: a refiner that encodes stage I's image,
joins it with the text again (its own conditioning augmentation) and draws the image at the data's
size, judged by a second matching-aware D at that size, with stage I frozen as in StackGAN's
training (``model.joint``: both stages and both D's keep training together, stage II's loss reaching
stage I through its image). Samples come from the newest stage; ``gankit sample --stage 32x32``
shows stage I's images of the same inputs, enlarged.
"""

from __future__ import annotations

import difflib
import functools
from dataclasses import dataclass
from typing import Any, ClassVar

import numpy as np
import torch
import torch.nn.functional as F

from gankit.config import ConfigError, check_choice
from gankit.data.registry import dataset_info, load_dataset
from gankit.models.inputs import Input
from gankit.models.schedules import linear_decay
from gankit.models.recipe import MAIN_STREAM, DataSize, OptimizerSpec, Phase, Progress, StageChange, Step, Stream
from gankit.models.train_loss import TrainLossRecipe
from gankit.nn.stackgan import G_TEXT, TEXT_JOINS, UPSAMPLING, MatchingDiscriminator, StackGenerator
from gankit.text import captions as dataset_captions
from gankit.text.minilm import DIM as MINILM_DIM, sentence_encoder
from gankit.text.contrastive import ImageEncoder, contrastive_loss
from gankit.text.store import fitted_pair, minilm_embeddings, new_encoder
from gankit.text.vocabulary import words
from gankit.tricks import add_instance_noise, apply_spectral_norm, matching_aware_penalty
from gankit.tricks.mode_seeking import paired_conditions


TEXT_ENCODERS = ("gankit", "minilm")
D_NORMS = ("batch", "spectral")


@dataclass
class StackGANOptions:
    latent_dim: int = 100
    condition_dim: int = 128  # the dimension of c, StackGAN's N_g
    augmentation: bool = True  # conditioning augmentation; False: c = mu(e), no KL (the ablation)
    kl_weight: float = 2.0  # weight of KL(N(mu, sigma^2) || N(0, I)), averaged over elements
    # Weight of (real image, wrong caption) among D's fakes; 0: not matching-aware. On shapes, with today's G
    # and projection D, 0 is behind early and level at the 30 minutes (three seeds; benchmarks/RESULTS.md).
    mismatch: float = 0.5
    # The wrong caption: 0 takes the previous image's; T in (0, 1) the most similar caption in the batch
    # whose embedding's cosine with the image's own is below T, so that paraphrases and captions of the
    # same attributes (on shapes: cosine 0.94-1.0 with gankit's encoder) are never counted as wrong.
    # Hard wrong captions and the fused G lifted caption accuracy on shapes (benchmarks/RESULTS.md).
    hard_mismatch: float = 0.9
    # Weight of DF-GAN's matching-aware gradient penalty (Tao et al. 2022: 2, power 6); 0: off. The
    # sixth power is tame only for gradient norms below 1 (DF-GAN's hinge D): with this BatchNorm D it
    # exploded within 100 steps on shapes, and froze a spectrally normalised one (benchmarks/RESULTS.md).
    ma_gp: float = 0.0
    # Instance noise (Sonderby et al. 2017): this std of Gaussian noise on every image D sees, real or
    # generated, decaying linearly to 0 over the budget, so that flat shapes on exact black (a support
    # a tanh output only approaches) and G's images overlap. 0: off (0.2 did not help on shapes: RESULTS.md).
    instance_noise: float = 0.0
    language: str = "en"  # captions the encoder and G learn from: en, ko or both
    # The caption encoder: "gankit" (its own, trained contrastively on the dataset's pairs; any
    # language) or "minilm" (all-MiniLM-L6-v2, frozen, 384-d, English; the gankit[text] extra).
    text_encoder: str = "gankit"
    encoder_dim: int = 128  # width of gankit's caption embedding (MiniLM's is 384)
    encoder_steps: int = 600  # contrastive training steps of the caption encoder (cached per dataset)
    g_base: int = 32  # DCGAN widths, halved for a CPU (StackGAN's are 4x these); stage II's too
    d_base: int = 32
    stage1_size: int = 32  # stage I's resolution; larger data add stage II at the data's size (twice this)
    stage1_kimg: float = 100.0  # thousands of real images of stage I before stage II starts
    joint: bool = False  # stage II: keep training stage I with it (StackGAN: stage I frozen)
    residual_blocks: int = 2  # stage II's residual blocks (StackGAN's R_NUM)
    # The discriminators' normalisation: "spectral" (every layer divided by its largest singular value,
    # no BatchNorm: Miyato et al. 2018) or "batch" (StackGAN's BatchNorm). On shapes at 20,000 steps the
    # spectral D matched BatchNorm's caption accuracy with a fifth of its spread over seeds, drew each
    # caption with 2.5 times the variety and the object count right more often (three seeds); on emoji
    # it lifted R-precision with D at 2e-4, but not beside the stackgan-emoji preset's faster D, so that
    # preset keeps BatchNorm (benchmarks/RESULTS.md).
    d_norm: str = "spectral"
    # Stage I's upsampling: "transposed" (DCGAN's fractional-strided convolutions) or "nearest"
    # (StackGAN's code: nearest x2 upsampling + 3x3 convolution, no checkerboard).
    upsampling: str = "transposed"
    # How stage I's G takes the caption: "input" (StackGAN: c joins z at the input), "affine" (also
    # DF-GAN's affine transformations of c after every layer's BatchNorm, Tao et al. 2022) or "words"
    # (also AttnGAN's word attention, Xu et al. 2018: G's 8x8 and 16x16 maps attend to the per-word
    # states of gankit's encoder, or MiniLM's per-token states, so each region can read the words of
    # the object it draws; with gankit's encoder it lifted
    # caption accuracy on shapes from 0.37 to 0.59 at 10,000 steps, held-out pairs from 0.17 to 0.53,
    # three seeds: benchmarks/RESULTS.md).
    g_text: str = "words"
    # How the discriminators join the caption: "projection" (Miyato & Koyama 2018: an unconditional
    # logit plus <W e, summed features>; it doubled caption accuracy on shapes, benchmarks/RESULTS.md)
    # or "joint" (StackGAN's: the text tiled over the 4x4 feature map and convolved with it).
    d_text: str = "projection"
    # Weight of a text-matching loss on G (AttnGAN's sentence-level DAMSM term, Xu et al. 2018): the
    # contrastive loss, at AttnGAN's scale 10, between the caption embeddings and the embeddings of
    # G's images by the image encoder trained with gankit's caption encoder (frozen). Only that
    # encoder pair's seed-0 models are used: the judges (the shapes reader, the R-precision judge
    # trained with seed 1) stay separate. 0: off (StackGAN has no such term).
    text_matching: float = 0.0
    # lambda of Mao et al.'s (2019) mode-seeking term in G's loss (gankit.tricks.mode_seeking): half
    # the batch's generated images repeat the other half's captions (and CA noise) with their own z,
    # and each pair must differ as their z do. On shapes the drawings of one caption hardly move with
    # z (caption_position_spread_ratio 0.13-0.25; benchmarks/RESULTS.md). 0: off.
    mode_seeking: float = 0.0
    # How many 3x3 convolutions at the image's size draw stage I's image (after a nearest x2, in place of
    # G's last fractional-strided convolution; gankit.nn.stackgan.full_resolution_head); with g_text
    # affine or words (0 with input). A stride-2 layer draws even and odd pixels with different kernel taps,
    # so each small sprite was learnt once per pixel phase. On shapes, at the 30 minutes its 1.56 times
    # slower steps buy (12,000 steps against 20,000), 2 lifted held-out pairs from 0.595 to 0.663 and
    # large stars from 0.26-0.42 to 0.78, three seeds; in their own 30 minutes one layer reached 0.579 and three
    # 0.619 on held-out pairs against two's 0.696 (seed 0; benchmarks/RESULTS.md). 0: DCGAN's last layer.
    g_full_resolution: int = 2

    # Runs saved before these options existed trained StackGAN's joint BatchNorm D, its input-only G
    # and the previous image's caption as the wrong one (registry.read_saved_config).
    BEFORE_ADDED: ClassVar[dict[str, Any]] = {"d_text": "joint", "g_text": "input", "hard_mismatch": 0.0,
                                              "d_norm": "batch", "g_full_resolution": 0}


def captioned_split(name: str, language: str, size: int | None, split: str):
    """The dataset split with its captions as word ids: ``caption`` (N, L), the first paraphrase,
    and ``captions`` (N, K, L), all of them, for training."""
    data = load_dataset(name, split, size=size)
    data.extra["captions"] = dataset_captions.split_token_ids(name, split, language).copy()
    data.extra["caption"] = data.extra["captions"][:, 0].copy()
    return data


def known_words_hint(known: list[str], unknown: list[str], listed: int = 60) -> str:
    """A short vocabulary (shapes' few dozen words) in full; a long one (emoji's thousands) by the
    known words nearest in spelling to each unknown one."""
    if len(known) <= listed:
        return f"Its words are: {', '.join(known)}"
    near = {word: difflib.get_close_matches(word, known, n=5) for word in unknown}
    hints = "; ".join(f"for {word!r}: {', '.join(matches)}" for word, matches in near.items() if matches)
    return f"It knows {len(known):,} words" + (f"; near ones {hints}" if hints else "")


class StackGAN(TrainLossRecipe):
    name = "stackgan"
    description = ("StackGAN: a caption's embedding (gankit's own contrastive encoder) through conditioning "
                   "augmentation into a DCGAN G that also attends to the caption's words; a matching-aware D "
                   "(real image + wrong caption = fake); stage II refines it to twice the size when data.size is "
                   "twice model.stage1_size")
    Options = StackGANOptions
    # StackGAN's 2e-4 for both networks left G far behind D on shapes (caption accuracy 0.002 after
    # 2,000 steps); G at 1e-3 with an EMA (the dcgan-fc preset's choices) drew clean colours on black by step 500.
    # D at 1e-3 with both rates decaying over the budget's second half won at 10,000 steps on shapes
    # (0.65 against 0.59) and on emoji (three seeds) but lost at 20,000 (0.60 against 0.64), with less
    # variety per caption: not the default; the `stackgan-emoji` preset uses it (benchmarks/RESULTS.md).
    # D at 4e-4 beside the spectral norm (constant rates) won at 20,000 steps on shapes on every seed
    # (0.688 against 0.654 at 2e-4, three seeds) and in Korean (seed 0), keeping the variety per caption;
    # on emoji it is level with 2e-4 at 2,495 iterations (two seeds) and reaches 0.414 at 9,500 (three seeds).
    text_input = "caption"  # the input `gankit serve`'s caption box fills (through encode_text)
    train_defaults = {"lr_g": 1e-3, "lr_d": 4e-4, "betas": (0.5, 0.999), "ema": 0.999}

    @classmethod
    def streams(cls, cfg, options):
        dataset_captions.check_captioned(cfg.data.name, options.language)
        return {"real": Stream(functools.partial(captioned_split, cfg.data.name, options.language, cfg.data.size))}

    def __init__(self, options: StackGANOptions, data, train):
        super().__init__(options, data, train)
        if not 0.0 <= options.mismatch < 1.0:
            raise ConfigError(f"model.mismatch is the weight of mismatched pairs among D's fakes, in [0, 1); "
                              f"got {options.mismatch}")
        if not 0.0 <= options.hard_mismatch < 1.0:
            raise ConfigError(f"model.hard_mismatch is a cosine similarity ceiling in (0, 1), or 0 for the previous "
                              f"image's caption; got {options.hard_mismatch}")
        channels, size = self.square_images()
        if train.k != 1:
            raise ConfigError(f"stackgan trains D once per iteration (its G step reuses D's fakes); got train.k={train.k}")
        if size not in (options.stage1_size, 2 * options.stage1_size):
            raise ConfigError(f"stackgan draws stage I at model.stage1_size={options.stage1_size} and stage II at "
                              f"twice that; the data are {size}x{size}: set data.size to {options.stage1_size} "
                              f"or {2 * options.stage1_size}, or model.stage1_size")
        self.two_stages = size == 2 * options.stage1_size
        self.grows = self.two_stages  # stage II's networks get no gradient during stage I
        self.register_buffer("stage", torch.zeros((), dtype=torch.long))
        # Checkpoints from before stage II have no stage: they are stage I's.
        self._register_load_state_dict_pre_hook(
            lambda state, prefix, *args: state.setdefault(prefix + "stage", torch.zeros((), dtype=torch.long)))
        self.dataset = next(iter(self.data.values())).name
        check_choice("model.text_encoder", options.text_encoder, TEXT_ENCODERS)
        self.minilm = sentence_encoder() if options.text_encoder == "minilm" else None
        self.minilm_table_loaded = False  # training loads every caption's embedding once per process
        if self.minilm is not None and options.language != "en":
            raise ConfigError(f"MiniLM reads English only; model.language={options.language!r} needs "
                              "model.text_encoder=gankit (gankit's own encoder learns any language)")
        check_choice("model.upsampling", options.upsampling, UPSAMPLING)
        check_choice("model.d_norm", options.d_norm, D_NORMS)
        check_choice("model.d_text", options.d_text, TEXT_JOINS)
        check_choice("model.g_text", options.g_text, G_TEXT)
        if options.g_text != "input" and options.upsampling != "transposed":
            raise ConfigError("model.upsampling=nearest is StackGAN's own generator, which takes the caption at "
                              "its input only: add --set model.g_text=input --set model.g_full_resolution=0 "
                              f"(model.g_text={options.g_text} "
                              "fuses the caption into DCGAN's fractional-strided generator)")
        if options.g_full_resolution < 0:
            raise ConfigError(f"model.g_full_resolution is a number of layers, >= 0; got {options.g_full_resolution}")
        if options.g_full_resolution and options.g_text == "input":
            raise ConfigError(f"model.g_full_resolution={options.g_full_resolution} replaces the last layer of the "
                              "fused generator (model.g_text=affine or words); StackGAN's own generator "
                              "(model.g_text=input) keeps DCGAN's: add --set model.g_full_resolution=0")
        embed_dim = MINILM_DIM if self.minilm is not None else options.encoder_dim
        # The vocabulary (word ids are the caption input) lives in gankit's encoder, used or not.
        self.encoder = new_encoder(self.dataset, options.encoder_dim).requires_grad_(False)
        self.register_buffer("encoder_ready", torch.zeros((), dtype=torch.bool))
        self.caption_length = dataset_captions.max_words(self.dataset)
        # With word attention G reads the encoder's per-word states: gankit's bidirectional GRU's, or
        # MiniLM's last hidden state of every WordPiece token.
        word_dim = MINILM_DIM if self.minilm is not None else 2 * self.encoder.rnn.hidden_size
        self.word_dim = word_dim if options.g_text == "words" else 0
        for name in ("text_matching", "mode_seeking"):
            if getattr(options, name) < 0:
                raise ConfigError(f"model.{name} is a loss weight, >= 0; got {getattr(options, name)}")
        if options.text_matching and self.minilm is not None:
            raise ConfigError("model.text_matching scores G's images with the image encoder trained beside gankit's "
                              "caption encoder; it needs model.text_encoder=gankit")
        if options.text_matching:  # the encoder pair's image side, at the resolution it was trained on
            self.matching_size = dataset_info(self.dataset).shape[-1]
            self.image_encoder = ImageEncoder(channels, options.encoder_dim).requires_grad_(False)
        self.nets["G"] = StackGenerator(options.latent_dim, embed_dim, options.condition_dim, channels,
                                        options.stage1_size, self.two_stages, options.g_base,
                                        options.residual_blocks, options.augmentation, options.upsampling,
                                        options.g_text, self.word_dim, options.g_full_resolution)
        batchnorm = options.d_norm == "batch"
        for name, d_size in [("D", options.stage1_size), ("D2", size)][:1 + self.two_stages]:
            self.nets[name] = MatchingDiscriminator(channels, d_size, embed_dim, options.d_base, batchnorm=batchnorm,
                                                    text_join=options.d_text)
            if not batchnorm:
                apply_spectral_norm(self.nets[name])

    # --- the caption encoder -------------------------------------------------------------------
    def advance(self, progress: Progress) -> StageChange | None:
        """Before the first iteration of a new run: the encoder, trained on this dataset's pairs
        (or from the cache), copied into the run; a checkpoint already holds it. Then stage II
        once stage I has seen ``stage1_kimg`` thousand real images."""
        if self.minilm is not None and not self.minilm_table_loaded:  # frozen: its embeddings, once per dataset
            self.minilm.remember(minilm_embeddings(self.dataset, self.options.language, self.minilm,
                                                   tokens=bool(self.word_dim)))
            self.minilm_table_loaded = True
            self.encoder_ready.fill_(True)
        if not bool(self.encoder_ready):
            matching = bool(self.options.text_matching)
            encoder, image_encoder, _ = fitted_pair(self.dataset, self.options.language, self.options.encoder_dim,
                                                    self.options.encoder_steps, seed=0, need_image=matching)
            self.encoder.load_state_dict(encoder.state_dict())
            if matching:
                self.image_encoder.load_state_dict(image_encoder.state_dict())
            self.encoder_ready.fill_(True)
        if self.two_stages and int(self.stage) == 0 and progress.images >= 1000 * self.options.stage1_kimg:
            self.stage.fill_(1)
            return StageChange(restart_ema=True)  # stage II starts from initialisation
        return None

    # --- stages --------------------------------------------------------------------------------
    def data_schedule(self, progress: Progress) -> dict[str, DataSize]:
        return {MAIN_STREAM: DataSize(resolution=self.options.stage1_size if int(self.stage) == 0
                                      else self.data_shape[-1])}

    def optimizers(self) -> dict[str, OptimizerSpec]:
        """Stage I's G and D; with two stages also stage II's (its own Adam states from the start)."""
        t = self.train_config
        specs = {"G": OptimizerSpec(("G.stage1",), lr=t.lr_g), "D": OptimizerSpec(("D",), lr=t.lr_d)}
        if self.two_stages:
            specs.update(G2=OptimizerSpec(("G.stage2",), lr=t.lr_g), D2=OptimizerSpec(("D2",), lr=t.lr_d))
        return specs

    def stages(self) -> tuple[str, ...]:
        size = self.options.stage1_size
        return (f"{size}x{size}", f"{2 * size}x{2 * size}")[:int(self.stage) + 1] if self.two_stages else ()

    def embed(self, ids: torch.Tensor) -> torch.Tensor:
        """Word ids (N, L), 0-padded -> caption embeddings (N, encoder_dim), without gradients."""
        return self.read_caption(ids)[0]

    def read_caption(self, ids: torch.Tensor) -> tuple[torch.Tensor, tuple[torch.Tensor, torch.Tensor] | None]:
        """Word ids (N, L), 0-padded -> the caption embeddings (N, encoder_dim) and, with
        ``model.g_text=words``, the per-word states (N, T, word_dim) with their attention bias (N, T):
        0 at the words, -inf at the padding (otherwise None). One pass of the encoder, without gradients.
        MiniLM's states are those of its WordPiece tokens, so T need not be L."""
        # MiniLM reads the caption's text. Training looks its readings up in the dataset's table
        # (computed once and cached on disk: 13 ms a caption on one core, about 9 minutes for shapes'
        # 42,000 distinct captions, under a minute for emoji's); other captions are read when met.
        if self.minilm is not None:
            texts = self.decode_caption(ids)
            embedding = self.minilm.encode(texts).to(ids.device)
            if not self.word_dim:
                return embedding, None
            return embedding, tuple(t.to(ids.device) for t in self.minilm.token_states(texts))
        lengths = (ids != 0).sum(1).clamp(min=1)
        with torch.no_grad():
            states = self.encoder.word_states(ids, lengths)
            embedding = self.encoder.sentence(states, lengths)
        if not self.word_dim:
            return embedding, None
        padding = torch.arange(ids.shape[1], device=ids.device)[None, :] >= lengths[:, None]
        return embedding, (states, torch.zeros(padding.shape, device=ids.device).masked_fill(padding, float("-inf")))

    def caption_path(self, ids: torch.Tensor, t: torch.Tensor) -> dict[str, torch.Tensor]:
        """Inputs that walk from caption ``ids[0]`` to ``ids[1]`` (word ids, (2, L)) at the points
        ``t`` (steps,) in [0, 1]: the straight path between their embeddings and, with word attention,
        both captions' words, weighted 1 - t and t (``word_states``, ``word_bias``)."""
        ends, words = self.read_caption(ids)
        path = {"embedding": torch.lerp(ends[:1], ends[1:], t[:, None])}
        if words is not None:
            states, bias = words
            length = states.shape[1]
            weight = torch.cat([(1 - t)[:, None].expand(-1, length), t[:, None].expand(-1, length)], 1)
            path["word_states"] = states.reshape(1, 2 * length, -1).expand(len(t), -1, -1)
            path["word_bias"] = bias.reshape(1, -1) + weight.log()
        return path

    def encode_text(self, texts: list[str]) -> torch.Tensor:
        """Caption strings as the ``caption`` input (N, L), with a clear error for words the model never saw."""
        vocabulary = self.encoder.vocabulary
        for text in texts:
            if not words(text):
                raise ValueError(f"a caption needs at least one word, got {text!r}")
            if unknown := vocabulary.unknown_words(text):
                raise ValueError(f"the caption {text!r} has words this model never saw in training: "
                                 f"{', '.join(unknown)}. {known_words_hint(vocabulary.tokens[2:], unknown)}")
        return torch.from_numpy(dataset_captions.token_ids(self.dataset, np.array(texts), self.caption_length))

    def decode_caption(self, ids: torch.Tensor) -> list[str]:
        """Word ids (N, L) back to caption strings (the words as the tokeniser wrote them)."""
        return self.encoder.vocabulary.decode(ids)

    # --- the seam ------------------------------------------------------------------------------
    def inputs(self):
        return (Input("z", (self.latent_dim,)), Input("eps", (self.options.condition_dim,)),
                Input("caption", (self.caption_length,), distribution="given"))

    def phases(self):
        if int(self.stage) == 0:
            return [Phase("D", trains="D", keeps_graph_of=("G",)), Phase("G", trains="G", draws=())]
        if self.options.joint:
            return [Phase("D", trains=("D", "D2"), keeps_graph_of=("G",)), Phase("G", trains=("G", "G2"), draws=())]
        return [Phase("D", trains="D2", keeps_graph_of=("G",)), Phase("G", trains="G2", draws=())]

    def generate(self, inputs, net=None):
        """Images of the current stage; stage I's enlarged (nearest) to the data's size.

        An ``embedding`` entry (N, encoder_dim), e.g. a point between two captions' embeddings
        (``gankit interpolate --text A --text B``), replaces the ``caption``'s; with word attention
        it comes with ``word_states`` and ``word_bias`` (:meth:`caption_path`)."""
        if "embedding" not in inputs:
            embedding, words = self.read_caption(inputs["caption"])
        elif "word_states" in inputs:
            embedding, words = inputs["embedding"], (inputs["word_states"], inputs["word_bias"])
        elif self.word_dim:
            raise ValueError("this run's generator reads the caption's words (model.g_text=words), so it cannot "
                             "draw from an embedding alone; caption_path gives the words of a walk between captions")
        else:
            embedding, words = inputs["embedding"], None
        return self.enlarged((net or self.nets["G"])(inputs["z"], inputs["eps"], embedding, int(self.stage) + 1,
                                                     words=words)[-1])

    def trained_discriminators(self) -> list[tuple[str, int]]:
        """(D's name, index of the stage it judges) for the discriminators this stage trains."""
        if int(self.stage) == 0:
            return [("D", 0)]
        return [("D", 0), ("D2", 1)] if self.options.joint else [("D2", 1)]

    def text_mismatch(self, images: torch.Tensor, text: torch.Tensor) -> torch.Tensor:
        """The contrastive loss between G's images (through the frozen image encoder, at its training
        resolution) and their captions' embeddings: low when each image is closest to its own caption."""
        self.image_encoder.eval()  # BatchNorm at its trained statistics, whatever mode the recipe is in
        size = images.shape[-1]  # stage I's are half, stage II's twice, or the data's size
        if size > self.matching_size:
            images = F.avg_pool2d(images, size // self.matching_size)
        elif size < self.matching_size:
            images = F.interpolate(images, scale_factor=self.matching_size // size, mode="nearest")
        return contrastive_loss(self.image_encoder(images), text.to(images.dtype), torch.tensor(10.0))

    def mismatched(self, text: torch.Tensor) -> torch.Tensor:
        """A wrong caption's embedding for each row of ``text``: the previous row's, or with
        ``model.hard_mismatch`` the most similar row below that cosine (the previous row's where none is)."""
        n = len(text)
        previous = torch.arange(n, device=text.device).roll(1)  # as text.roll(1, 0)
        if not self.options.hard_mismatch or n < 2:
            return text[previous]
        unit = F.normalize(text.float(), dim=1)
        similarity = (unit @ unit.T).masked_fill(torch.eye(n, dtype=torch.bool, device=text.device), 2.0)
        similarity = similarity.masked_fill(similarity >= self.options.hard_mismatch, -2.0)  # itself, paraphrases
        best, index = similarity.max(1)
        return text[torch.where(best > -2.0, index, previous)]

    def seen_by_d(self, x: torch.Tensor, step: Step) -> torch.Tensor:
        """Images as the discriminators see them: with the decaying instance noise."""
        return add_instance_noise(x, self.options.instance_noise * linear_decay(step.progress), step.randn)

    def loss(self, phase: str, step: Step):
        adversarial, mismatch, real_label = self.adversarial_loss, self.options.mismatch, self.train_config.real_label
        judged = self.trained_discriminators()
        if phase == "G":
            fakes, text, kl, z = step.shared.pop("fake")
            loss = sum(adversarial.g_loss(self.net(name)(self.seen_by_d(fakes[index], step), text))
                       for name, index in judged)
            stats = {"g_loss": loss.detach()}
            if self.options.text_matching:
                matching = sum(self.text_mismatch(fakes[index], text) for _, index in judged)
                loss = loss + self.options.text_matching * matching
                stats["text_match"] = matching.detach()
            loss = self.with_mode_seeking(loss, stats, fakes[judged[-1][1]], z)  # the newest stage's images
            if not self.options.augmentation:  # c = mu(e): no distribution to regularise
                return loss, stats
            return loss + self.options.kl_weight * kl, {**stats, "kl": kl.detach()}
        batch = step.batch
        n = len(batch["x"])
        paraphrase = step.randint(batch["captions"].shape[1], n)
        ids = batch["captions"][torch.arange(n, device=paraphrase.device), paraphrase]
        text, words = self.read_caption(ids)
        inputs = self.draw_inputs(n, step.noise, caption=batch["caption"])  # z and eps; the caption is `text`
        fake_text, eps = text, inputs["eps"]
        if self.mode_seeking:  # pairs (i, i + n//2) of one caption and CA noise, with their own z
            fake_text, eps = paired_conditions(text), paired_conditions(eps)
            if words is not None:
                words = tuple(paired_conditions(w) for w in words)
        stage = int(self.stage)
        fakes = self.net("G")(inputs["z"], eps, fake_text, stage + 1, freeze_first=stage == 1 and not self.options.joint,
                              words=words)
        # DDP's wrapper runs this very module, so the KL term is read from it.
        step.shared["fake"] = fakes, fake_text, self.nets["G"].last_kl, inputs["z"]
        reals = [batch["x"]] if stage == 0 else [F.avg_pool2d(batch["x"], 2), batch["x"]]
        loss, stats = 0.0, {}
        for name, index in judged:
            D = self.net(name)
            real, suffix = self.seen_by_d(reals[index], step), "" if name == "D" else "2"
            real_out, fake_out = D(real, text), D(self.seen_by_d(fakes[index].detach(), step), fake_text)
            part = adversarial.d_loss(real_out, fake_out, real_label)
            stats[f"D{suffix}(x|t)"] = adversarial.score(real_out).mean().detach()
            if mismatch:
                wrong_out = D(real, self.mismatched(text))
                part = (1 - mismatch) * part + mismatch * adversarial.d_loss(real_out, wrong_out, real_label)
                stats[f"D{suffix}(x|wrong t)"] = adversarial.score(wrong_out).mean().detach()
            if self.options.ma_gp:
                penalty = matching_aware_penalty(D, real, text)
                part = part + self.options.ma_gp * penalty
                stats[f"ma_gp{suffix}"] = penalty.detach()
            loss = loss + part
        return loss, {"d_loss": loss.detach(), **stats}
