"""PyTorch-GAN's ``cgan.py`` and ``acgan.py`` networks and training steps, in our own code.

Used by ``benchmarks/throughput.py`` the way ``classic.py`` serves ``dcgan.py``: each pair of
networks is plugged into gankit's Trainer as a recipe (``cgan-classic``, ``acgan-classic``,
registered when this file is imported) and trained by a re-implementation of the script's loop
(:func:`cgan_step`, :func:`acgan_step`). 32x32 images, latent 100, 10 classes.

``cgan.py`` (fully connected; least-squares loss, ``nn.MSELoss`` on D's raw output):

* G: a 10-d label embedding joined to z; Linear 110 -> 128 -> 256 -> 512 -> 1024 with BatchNorm1d
  after every hidden layer but the first and LeakyReLU(0.2); Linear 1024 -> 32*32; Tanh.
* D: the flattened image joined to a 10-d label embedding; Linear 1034 -> 512 -> 512 -> 512 -> 1 with
  LeakyReLU(0.2) and Dropout(0.4) after the second and third layers.

``acgan.py`` (convolutional; BCE for real/fake, cross-entropy for the class):

* G: a 100-d label embedding *multiplied* into z, then the ``dcgan.py`` generator
  (:class:`classic.ClassicDCGANGenerator`).
* D: four blocks Conv(3, stride 2) -> LeakyReLU(0.2) -> Dropout2d(0.25) for 1 -> 16 -> 32 -> 64 -> 128
  channels, BatchNorm2d after the second and third only; two heads on the flattened 128*2*2
  features: Linear -> 1 (real/fake, Sigmoid in the script) and Linear -> 10 (Softmax in the script,
  which then feeds ``nn.CrossEntropyLoss`` -- a softmax applied twice; same cost).

As in ``classic.py``, the scripts' ``BatchNorm(n, 0.8)`` (eps = 0.8) becomes the default eps, and
our MLP D puts Dropout after the activation rather than before it (the same function: LeakyReLU is
positively homogeneous and keeps 0 at 0) and also after the first layer (one more mask, same FLOPs).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch
from torch import nn

import classic
from gankit.models.acgan import ACGAN
from gankit.models.cgan import CGAN
from gankit.models.conditional import ConditionalRecipe
from gankit.nn.conditional import ClassHeadD, LabelConcatD, LabelledGenerator
from gankit.nn.mlp import MLPDiscriminator, MLPGenerator

LATENT, CLASSES = 100, 10


def cgan_nets(channels: int, size: int) -> tuple[nn.Module, nn.Module]:
    """``cgan.py``'s G(z, y) and D(x, y) (logits)."""
    shape = (channels, size, size)
    g = LabelledGenerator(MLPGenerator(LATENT + CLASSES, (128, 256, 512, 1024), shape, slope=0.2, dropout=0.0,
                                       batchnorm=True, tanh=True), CLASSES, CLASSES)
    d = LabelConcatD(MLPDiscriminator((channels * size * size + CLASSES,), (512, 512, 512), slope=0.2,
                                      dropout=0.4), CLASSES, CLASSES)
    return g, d


class LabelTimesNoise(nn.Module):
    """``acgan.py``'s conditioning: ``body(embed(y) * z)`` with a latent-sized label embedding."""

    def __init__(self, body: nn.Module, classes: int, latent_dim: int):
        super().__init__()
        self.embed = nn.Embedding(classes, latent_dim)
        self.body = body

    def forward(self, z: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
        return self.body(self.embed(y) * z)


class ClassicACGANBody(nn.Module):
    """``acgan.py``'s discriminator body; ``features(x)`` is (N, 128, s, s), ``out`` the real/fake layer."""

    def __init__(self, channels: int = 1, size: int = 32):
        super().__init__()
        layers: list[nn.Module] = []
        width = channels
        for out, bn in ((16, False), (32, True), (64, True), (128, False)):
            layers += [nn.Conv2d(width, out, 3, 2, 1), nn.LeakyReLU(0.2, inplace=True), nn.Dropout2d(0.25)]
            layers += [nn.BatchNorm2d(out)] if bn else []
            width = out
        self.features = nn.Sequential(*layers)
        self.out = nn.Sequential(nn.Flatten(), nn.Linear(128 * (size // 16) ** 2, 1))
        classic.init_normal(self)


def acgan_nets(channels: int, size: int) -> tuple[nn.Module, nn.Module]:
    """``acgan.py``'s G(z, y) and D(x) -> (real/fake logits, class logits)."""
    g = LabelTimesNoise(classic.ClassicDCGANGenerator(LATENT, channels, size), CLASSES, LATENT)
    return g, ClassHeadD(ClassicACGANBody(channels, size), CLASSES, 128 * (size // 16) ** 2)


@dataclass
class ClassicOptions:
    latent_dim: int = LATENT
    class_weight: float = 1.0  # acgan.py weighs its auxiliary (class) loss as much as the adversarial one
    classify_fakes: bool = True  # acgan.py's D also learns the classes of generated images


class ClassicCGAN(CGAN):
    """gankit recipe for ``cgan.py``'s networks; losses from :class:`~gankit.models.cgan.CGAN`."""

    name = "cgan-classic"
    description = "PyTorch-GAN's cgan.py networks (MLP G/D, label embeddings), least squares, trained by gankit"
    Options = ClassicOptions
    train_defaults = {"loss": "least-squares"}

    def __init__(self, options, data, train):
        ConditionalRecipe.__init__(self, options, data, train)
        self.nets["G"], self.nets["D"] = cgan_nets(*self.square_images())


class ClassicACGAN(ACGAN):
    """gankit recipe for ``acgan.py``'s networks; losses from :class:`~gankit.models.acgan.ACGAN`."""

    name = "acgan-classic"
    description = "PyTorch-GAN's acgan.py networks (label x noise G, two-headed conv D), trained by gankit"
    Options = ClassicOptions

    def __init__(self, options, data, train):
        ConditionalRecipe.__init__(self, options, data, train)
        self.nets["G"], self.nets["D"] = acgan_nets(*self.square_images())


# --- the scripts' training steps (the baseline loops of throughput.py) ----------------------------
def random_labels(n: int) -> torch.Tensor:
    return torch.tensor(np.random.randint(0, CLASSES, n), dtype=torch.long)


def cgan_step(generator, discriminator, optimizer_g, optimizer_d, imgs, labels):
    """One batch of ``cgan.py``: G step, then D step, MSE on D's output; returns (d_loss, g_loss) tensors."""
    mse = nn.MSELoss()
    valid, fake = torch.ones(imgs.size(0), 1), torch.zeros(imgs.size(0), 1)
    optimizer_g.zero_grad()
    z = torch.tensor(np.random.normal(0, 1, (imgs.shape[0], LATENT)), dtype=torch.float32)
    gen_labels = random_labels(imgs.shape[0])
    gen_imgs = generator(z, gen_labels)
    g_loss = mse(discriminator(gen_imgs, gen_labels).unsqueeze(1), valid)
    g_loss.backward()
    optimizer_g.step()
    optimizer_d.zero_grad()
    d_real = mse(discriminator(imgs.float(), labels).unsqueeze(1), valid)
    d_fake = mse(discriminator(gen_imgs.detach(), gen_labels).unsqueeze(1), fake)
    d_loss = (d_real + d_fake) / 2
    d_loss.backward()
    optimizer_d.step()
    return d_loss, g_loss


def acgan_step(generator, discriminator, optimizer_g, optimizer_d, imgs, labels):
    """One batch of ``acgan.py``: Sigmoid + BCE and Softmax + CrossEntropy heads, G step then D step."""
    bce, ce = nn.BCELoss(), nn.CrossEntropyLoss()

    def heads(x):
        validity, classes = discriminator(x)
        return torch.sigmoid(validity).unsqueeze(1), torch.softmax(classes, 1)

    valid, fake = torch.ones(imgs.size(0), 1), torch.zeros(imgs.size(0), 1)
    optimizer_g.zero_grad()
    z = torch.tensor(np.random.normal(0, 1, (imgs.shape[0], LATENT)), dtype=torch.float32)
    gen_labels = random_labels(imgs.shape[0])
    gen_imgs = generator(z, gen_labels)
    validity, pred_label = heads(gen_imgs)
    g_loss = 0.5 * (bce(validity, valid) + ce(pred_label, gen_labels))
    g_loss.backward()
    optimizer_g.step()
    optimizer_d.zero_grad()
    real_pred, real_aux = heads(imgs.float())
    d_real = (bce(real_pred, valid) + ce(real_aux, labels)) / 2
    fake_pred, fake_aux = heads(gen_imgs.detach())
    d_fake = (bce(fake_pred, fake) + ce(fake_aux, gen_labels)) / 2
    d_loss = (d_real + d_fake) / 2
    # the script's per-batch accuracy of the class head, through NumPy
    pred = np.concatenate([real_aux.data.numpy(), fake_aux.data.numpy()], axis=0)
    truth = np.concatenate([labels.numpy(), gen_labels.numpy()], axis=0)
    np.mean(np.argmax(pred, axis=1) == truth)
    d_loss.backward()
    optimizer_d.step()
    return d_loss, g_loss
