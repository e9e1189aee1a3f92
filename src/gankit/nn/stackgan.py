"""StackGAN's networks (Zhang et al. 2017): stage I on gankit's DCGAN bodies, and stage II.

* :class:`ConditioningAugmentation`: the text embedding e gives a Gaussian N(mu(e), sigma(e)^2)
  and the generator is conditioned on a sample ``c = mu + sigma * eps`` of it, so a few thousand
  captions cover a smooth conditioning manifold rather than isolated points; a KL term keeps the
  Gaussian near N(0, I). Without augmentation (the ablation), ``c = mu(e)``.
* :class:`TextGenerator`: G(z, eps, e) = a DCGAN generator of ``cat(z, c)``, or StackGAN's own
  (:class:`UpsamplingGenerator`: nearest upsampling + 3x3 convolutions), or one that also fuses c
  into every layer (:class:`FusionGenerator`, DF-GAN's affine transformations), whose 8x8 and
  larger maps may also attend to the caption's words (:class:`WordAttention`, AttnGAN's).
* :class:`MatchingDiscriminator`: D(x, e): the DCGAN body's last feature map (4x4) joined with a
  compressed e copied to every position, a 3x3 convolution over both, then the logit over the 4x4
  map, as StackGAN's ``D_GET_LOGITS`` joins image and text, or Miyato & Koyama's projection of
  the text onto the summed features. Stage II's D is the same at its size.
  ``batchnorm=False`` leaves BatchNorm out, for a D normalised spectrally instead (SNGAN).
* :class:`RefinerGenerator`: stage II. Stage I's image is encoded down to a quarter of its size,
  joined with its own conditioning augmentation of the text, passed through residual blocks and
  decoded (nearest upsampling + 3x3 convolutions) to twice stage I's size, as StackGAN's
  ``STAGE2_G`` (which goes from 64 to 256; here 32 to 64, the ratio scaled down with the size).
* :class:`StackGenerator`: both stages as one network, so the EMA, checkpoints, sampling and
  export see one generator.
"""

from __future__ import annotations

import torch
from torch import nn

from .dcgan import DCGANGenerator, discriminator_body, generator_widths, init_weights, layout


class ConditioningAugmentation(nn.Module):
    """Text embedding (N, embed_dim) -> (c, mu, logvar), each (N, condition_dim)."""

    def __init__(self, embed_dim: int, condition_dim: int, sample: bool = True):
        super().__init__()
        self.sample = sample
        self.fc = nn.Linear(embed_dim, 2 * condition_dim)
        self.act = nn.ReLU(True)

    def forward(self, embedding: torch.Tensor, eps: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        mu, logvar = self.act(self.fc(embedding)).chunk(2, dim=1)
        if not self.sample:
            return mu, mu, torch.zeros_like(mu)
        return mu + eps * (0.5 * logvar).exp(), mu, logvar


def kl_to_standard_normal(mu: torch.Tensor, logvar: torch.Tensor) -> torch.Tensor:
    """KL(N(mu, exp(logvar)) || N(0, I)) per element, averaged (StackGAN's code averages over the
    elements rather than summing over dimensions; its weight of 2 is set for that)."""
    return 0.5 * (mu.float().square() + logvar.float().exp() - 1.0 - logvar.float()).mean()


class UpsamplingGenerator(nn.Module):
    """StackGAN's own stage-I generator: (N, latent_dim) -> images in [-1, 1]. A fully connected
    layer to the first 4x4 map, then blocks of nearest x2 upsampling + 3x3 convolution (BatchNorm,
    ReLU) halving the channels, then a 3x3 convolution to the image with Tanh (the official code's
    ``upBlock``s); the widths are DCGAN's at the same ``base``."""

    def __init__(self, latent_dim: int, channels: int, resolution: int, base: int = 64):
        super().__init__()
        start, widths = generator_widths(resolution, base)
        widths.append(base // 2)  # one block more than DCGAN's: the image comes from a 3x3 convolution
        self.first_map = (widths[0], start, start)
        self.fc = nn.Sequential(nn.Linear(latent_dim, widths[0] * start * start, bias=False),
                                nn.BatchNorm1d(widths[0] * start * start), nn.ReLU(True))
        layers: list[nn.Module] = []
        for width, half in zip(widths, widths[1:]):
            layers += [nn.Upsample(scale_factor=2, mode="nearest"), *conv_bn_relu(width, half)]
        self.conv = nn.Sequential(*layers, nn.Conv2d(widths[-1], channels, 3, 1, 1), nn.Tanh())
        init_weights(self)

    def forward(self, z: torch.Tensor) -> torch.Tensor:
        return self.conv(self.fc(z).view(z.shape[0], *self.first_map))


class TextAffine(nn.Module):
    """DF-GAN's affine transformation (Tao et al. 2022): features normalised by a BatchNorm without
    scale and shift of its own, then scaled and shifted per channel by two small MLPs of the
    condition c. The MLPs' last layers start at zero weight (scale 1, shift 0), so at initialisation
    this is plain BatchNorm and the text's influence grows only as training finds it useful."""

    def __init__(self, width: int, condition_dim: int):
        super().__init__()
        self.norm = nn.BatchNorm2d(width, affine=False)
        self.scale = nn.Sequential(nn.Linear(condition_dim, width), nn.ReLU(True), nn.Linear(width, width))
        self.shift = nn.Sequential(nn.Linear(condition_dim, width), nn.ReLU(True), nn.Linear(width, width))
        init_weights(self)
        for mlp, start in ((self.scale, 1.0), (self.shift, 0.0)):
            nn.init.zeros_(mlp[-1].weight)
            nn.init.constant_(mlp[-1].bias, start)

    def forward(self, h: torch.Tensor, c: torch.Tensor) -> torch.Tensor:
        return self.norm(h) * self.scale(c)[:, :, None, None] + self.shift(c)[:, :, None, None]


class WordAttention(nn.Module):
    """Each position of a feature map reads the caption's words (AttnGAN, Xu et al. 2018): its
    features ask a query, every word answers with a key, and the position receives the words'
    values weighted by the softmax of query . key over the caption's words (padding masked out).

    (h (N, C, H, W), words (N, T, word_dim), bias (N, T)) -> h + gamma * context. ``bias`` is added to
    the scores: 0 at a caption's words and -inf at its padding; a log-weight per word (log(1 - t) on
    one caption's words, log(t) on another's) mixes two captions' words. gamma starts at 0 (SAGAN's
    choice, Zhang et al. 2019), so at initialisation this is the identity and the words' influence
    grows as training finds it useful. A sentence vector tells every position the same thing; with
    the words, the upper half can take "red circle" and the lower half "blue square".
    """

    def __init__(self, width: int, word_dim: int, dim: int = 32):
        super().__init__()
        self.query = nn.Conv2d(width, dim, 1, bias=False)
        self.key = nn.Linear(word_dim, dim, bias=False)
        self.value = nn.Linear(word_dim, width, bias=False)
        self.gamma = nn.Parameter(torch.zeros(()))
        self.scale = dim ** -0.5

    def forward(self, h: torch.Tensor, words: torch.Tensor, bias: torch.Tensor) -> torch.Tensor:
        n, c, height, width = h.shape
        words = words.to(h.dtype)
        query = self.query(h).flatten(2).transpose(1, 2)  # (N, HW, dim)
        scores = self.scale * query @ self.key(words).transpose(1, 2)  # (N, HW, T)
        weights = (scores + bias[:, None, :].to(scores.dtype)).softmax(2)
        context = (weights @ self.value(words)).transpose(1, 2).reshape(n, c, height, width)
        return h + self.gamma * context


def full_resolution_head(width: int, channels: int, layers: int) -> nn.Sequential:
    """G's last doubling as nearest x2 upsampling, ``layers`` 3x3 convolutions of ``width`` channels at
    the image's size (BatchNorm, ReLU) and a 3x3 convolution to the image (Tanh), instead of one
    fractional-strided convolution.

    Why: a stride-2 transposed convolution draws even and odd pixels with different parts of its
    kernel, so a small sprite (shapes' 9-pixel star is one fixed 31-pixel pattern wherever it sits)
    must be learnt once per pixel phase; convolutions at the image's size draw it with one kernel
    everywhere (the aliasing StyleGAN3 removes, Karras et al. 2021). On shapes two layers drew large stars
    right 0.78 of the time instead of 0.26-0.42, at equal training time (benchmarks/RESULTS.md).
    """
    if layers < 0:
        raise ValueError(f"layers is a number of 3x3 convolutions at the image's size, >= 0; got {layers}")
    body: list[nn.Module] = [nn.Upsample(scale_factor=2, mode="nearest")]
    for _ in range(layers):
        body += conv_bn_relu(width, width)
    return nn.Sequential(*body, nn.Conv2d(width, channels, 3, 1, 1), nn.Tanh())


class FusionGenerator(nn.Module):
    """(z, c) -> images in [-1, 1]: DCGAN's generator (``cat(z, c)`` to the first 4x4 map, then
    fractional-strided convolutions) with every BatchNorm replaced by a :class:`TextAffine` of c, so
    the caption acts on each scale's features rather than only on the input, as in DF-GAN's deep
    text-image fusion blocks (which also keep the text away from the input; here it is kept there)."""

    def __init__(self, latent_dim: int, condition_dim: int, channels: int, resolution: int, base: int = 64,
                 word_dim: int = 0, full_resolution: int = 0):
        super().__init__()
        start, widths = generator_widths(resolution, base)
        # Each convolution, then its affine: the order in which a seed has always drawn their weights.
        convs = [nn.ConvTranspose2d(latent_dim + condition_dim, widths[0], start, 1, 0, bias=False)]
        affines = [TextAffine(widths[0], condition_dim)]
        for width, half in zip(widths, widths[1:]):
            convs.append(nn.ConvTranspose2d(width, half, 4, 2, 1, bias=False))
            affines.append(TextAffine(half, condition_dim))
        self.convs, self.affines = nn.ModuleList(convs), nn.ModuleList(affines)
        self.out = (full_resolution_head(widths[-1], channels, full_resolution) if full_resolution else
                    nn.Sequential(nn.ConvTranspose2d(widths[-1], channels, 4, 2, 1), nn.Tanh()))
        init_weights(self.convs)
        init_weights(self.out)
        # With word_dim, the maps after the first (8x8 and larger) attend to the caption's words.
        self.attention = nn.ModuleList(WordAttention(width, word_dim) for width in widths[1:]) if word_dim else None

    def forward(self, z: torch.Tensor, c: torch.Tensor, words: tuple[torch.Tensor, torch.Tensor] | None = None
                ) -> torch.Tensor:
        h = torch.cat([z, c], 1)[:, :, None, None]
        for i, (conv, affine) in enumerate(zip(self.convs, self.affines)):
            h = torch.relu(affine(conv(h), c))
            if self.attention is not None and i > 0:
                h = self.attention[i - 1](h, *words)
        return self.out(h)


UPSAMPLING = ("transposed", "nearest")
G_TEXT = ("input", "affine", "words")


class TextGenerator(nn.Module):
    """(z, eps, embedding) -> images; ``last_kl`` holds the KL term of the latest forward pass.

    ``upsampling``: "transposed" (a DCGAN generator: fractional-strided 4x4 convolutions) or
    "nearest" (:class:`UpsamplingGenerator`, StackGAN's code). ``g_text``: "input" (c joins z at the
    input only, as StackGAN), "affine" (:class:`FusionGenerator`: c also scales and shifts every
    layer's features; transposed upsampling) or "words" (the same, and its 8x8 and larger maps attend
    to the caption's words, each ``word_dim`` wide: :class:`WordAttention`). ``full_resolution``: with
    "affine" or "words", that many 3x3 convolutions at the image's size draw it
    (:func:`full_resolution_head`); 0, one fractional-strided convolution."""

    def __init__(self, latent_dim: int, embed_dim: int, condition_dim: int, channels: int, resolution: int,
                 base: int = 64, augmentation: bool = True, upsampling: str = "transposed", g_text: str = "input",
                 word_dim: int = 0, full_resolution: int = 0):
        super().__init__()
        if upsampling not in UPSAMPLING:
            raise ValueError(f"upsampling must be one of {', '.join(UPSAMPLING)}, got {upsampling!r}")
        if g_text not in G_TEXT:
            raise ValueError(f"g_text must be one of {', '.join(G_TEXT)}, got {g_text!r}")
        self.augmentation = ConditioningAugmentation(embed_dim, condition_dim, augmentation)
        if (g_text == "words") != bool(word_dim):
            raise ValueError(f"g_text='words' needs the width of the caption's word states (word_dim), and only it "
                             f"does; got g_text={g_text!r}, word_dim={word_dim}")
        if full_resolution and g_text == "input":
            raise ValueError(f"full_resolution replaces the fused generator's last layer (g_text='affine' or "
                             f"'words'); g_text='input' has none to replace (got full_resolution={full_resolution})")
        if g_text != "input":
            self.body = FusionGenerator(latent_dim, condition_dim, channels, resolution, base, word_dim,
                                        full_resolution)
        else:
            body = DCGANGenerator if upsampling == "transposed" else UpsamplingGenerator
            self.body = body(latent_dim + condition_dim, channels, resolution, base)

    def forward(self, z: torch.Tensor, eps: torch.Tensor, embedding: torch.Tensor,
                words: tuple[torch.Tensor, torch.Tensor] | None = None) -> torch.Tensor:
        c, mu, logvar = self.augmentation(embedding.to(z.dtype), eps)
        self.last_kl = kl_to_standard_normal(mu, logvar)
        return self.body(z, c, words) if isinstance(self.body, FusionGenerator) else self.body(torch.cat([z, c], 1))


TEXT_JOINS = ("joint", "projection")


class MatchingDiscriminator(nn.Module):
    """(images, embedding) -> logits (N,): is this a real image of this caption?

    ``text_join``: "joint" (StackGAN's: the compressed text copied to every position of the 4x4
    feature map, a 3x3 convolution over both, then the logit) or "projection" (Miyato & Koyama
    2018: an unconditional logit plus the inner product of the spatially summed features with a
    linear map of the text, so the caption's whole conditional signal is one matching score)."""

    def __init__(self, channels: int, resolution: int, embed_dim: int, base: int = 64, text_dim: int = 128,
                 slope: float = 0.2, batchnorm: bool = True, text_join: str = "joint"):
        super().__init__()
        if text_join not in TEXT_JOINS:
            raise ValueError(f"text_join must be one of {', '.join(TEXT_JOINS)}, got {text_join!r}")
        self.features, width = discriminator_body(channels, resolution, base, batchnorm=batchnorm)
        self.start, _ = layout(resolution)
        self.projection = text_join == "projection"
        if self.projection:
            self.text = nn.Linear(embed_dim, width, bias=False)
            # The unconditional logit; named like the joint head so that both keep one checkpoint key.
            self.joint = nn.Conv2d(width, 1, self.start, 1, 0)
        else:
            self.text = nn.Sequential(nn.Linear(embed_dim, text_dim), nn.LeakyReLU(slope, True))
            self.joint = nn.Sequential(nn.Conv2d(width + text_dim, width, 3, 1, 1, bias=not batchnorm),
                                       nn.BatchNorm2d(width) if batchnorm else nn.Identity(),
                                       nn.LeakyReLU(slope, True), nn.Conv2d(width, 1, self.start, 1, 0))
        init_weights(self)

    def forward(self, x: torch.Tensor, embedding: torch.Tensor) -> torch.Tensor:
        h = self.features(x)
        t = self.text(embedding.to(h.dtype))
        if self.projection:
            return self.joint(h).flatten() + (t * h.sum((2, 3))).sum(1)
        t = t[:, :, None, None].expand(-1, -1, self.start, self.start)
        return self.joint(torch.cat([h, t], 1)).flatten()


def conv_bn_relu(c_in: int, c_out: int, kernel: int = 3, stride: int = 1) -> list[nn.Module]:
    return [nn.Conv2d(c_in, c_out, kernel, stride, (kernel - 1) // 2 if stride == 1 else 1, bias=False),
            nn.BatchNorm2d(c_out), nn.ReLU(True)]


class ResidualBlock(nn.Module):
    """StackGAN's residual block: x + BN(conv(ReLU(BN(conv(x))))), then ReLU."""

    def __init__(self, channels: int):
        super().__init__()
        self.body = nn.Sequential(*conv_bn_relu(channels, channels),
                                  nn.Conv2d(channels, channels, 3, 1, 1, bias=False), nn.BatchNorm2d(channels))
        self.act = nn.ReLU(True)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.act(x + self.body(x))


class RefinerGenerator(nn.Module):
    """Stage II: (stage-I image (N, C, S, S), eps, embedding) -> image (N, C, 2S, 2S); ``last_kl``
    holds its own conditioning augmentation's KL term."""

    def __init__(self, channels: int, embed_dim: int, condition_dim: int, base: int = 32, blocks: int = 2,
                 augmentation: bool = True):
        super().__init__()
        self.augmentation = ConditioningAugmentation(embed_dim, condition_dim, augmentation)
        width = 4 * base
        self.encode = nn.Sequential(nn.Conv2d(channels, base, 3, 1, 1), nn.ReLU(True),
                                    *conv_bn_relu(base, 2 * base, 4, 2), *conv_bn_relu(2 * base, width, 4, 2))
        self.joint = nn.Sequential(*conv_bn_relu(width + condition_dim, width),
                                   *(ResidualBlock(width) for _ in range(blocks)))
        layers: list[nn.Module] = []
        for _ in range(3):  # a quarter of stage I's size up to twice it
            layers += [nn.Upsample(scale_factor=2, mode="nearest"), *conv_bn_relu(width, width // 2)]
            width //= 2
        self.decode = nn.Sequential(*layers, nn.Conv2d(width, channels, 3, 1, 1), nn.Tanh())
        init_weights(self)

    def forward(self, image: torch.Tensor, eps: torch.Tensor, embedding: torch.Tensor) -> torch.Tensor:
        c, mu, logvar = self.augmentation(embedding.to(image.dtype), eps)
        self.last_kl = kl_to_standard_normal(mu, logvar)
        h = self.encode(image)
        c = c[:, :, None, None].expand(-1, -1, *h.shape[-2:])
        return self.decode(self.joint(torch.cat([h, c], 1)))


class StackGenerator(nn.Module):
    """Stage I, and stage II when the data are larger than stage I's size.

    ``forward(z, eps, embedding, stages)`` returns the images of the first ``stages`` stages (a
    list); ``freeze_first`` computes stage I without gradients (StackGAN trains stage II with stage I
    fixed). ``last_kl`` is the KL term of the stages that get gradients.
    """

    def __init__(self, latent_dim: int, embed_dim: int, condition_dim: int, channels: int, first_size: int,
                 two_stages: bool, base: int = 32, blocks: int = 2, augmentation: bool = True,
                 upsampling: str = "transposed", g_text: str = "input", word_dim: int = 0,
                 full_resolution: int = 0):
        super().__init__()
        self.stage1 = TextGenerator(latent_dim, embed_dim, condition_dim, channels, first_size, base, augmentation,
                                    upsampling, g_text, word_dim, full_resolution)
        self.stage2 = (RefinerGenerator(channels, embed_dim, condition_dim, base, blocks, augmentation)
                       if two_stages else None)
        self._register_load_state_dict_pre_hook(self._stage_one_keys)

    @staticmethod
    def _stage_one_keys(state_dict, prefix, *args) -> None:
        """Checkpoints from before stage II held stage I's weights at the top level: move them."""
        for key in [k for k in state_dict if k.startswith(prefix) and not k.startswith((prefix + "stage1.",
                                                                                          prefix + "stage2."))]:
            state_dict[prefix + "stage1." + key[len(prefix):]] = state_dict.pop(key)

    def forward(self, z: torch.Tensor, eps: torch.Tensor, embedding: torch.Tensor, stages: int = 1,
                freeze_first: bool = False, words: tuple[torch.Tensor, torch.Tensor] | None = None
                ) -> list[torch.Tensor]:
        with torch.set_grad_enabled(torch.is_grad_enabled() and not freeze_first):
            images = [self.stage1(z, eps, embedding, words)]
        kls = [] if freeze_first else [self.stage1.last_kl]
        if stages > 1:
            images.append(self.stage2(images[0], eps, embedding))
            kls.append(self.stage2.last_kl)
        self.last_kl = sum(kls)
        return images
