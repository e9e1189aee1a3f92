"""Semi-supervised GAN (Salimans et al. 2016, "Improved Techniques for Training GANs"; Odena 2016).

The discriminator is a classifier over K real classes plus a "generated" class. Following
Salimans et al., the K+1-th logit is fixed at 0, so the network outputs only K logits ``l`` and

    D(x) = Z(x) / (Z(x) + 1),   Z(x) = sum_k exp(l_k(x)),

i.e. D(x) = sigmoid(logsumexp(l)). Its loss has two parts:

* supervised: the cross-entropy of softmax(l) on the few labelled images (``data.labelled``,
  e.g. 100 = 10 per class chosen by the seed; the stream "labelled");
* unsupervised: the GAN loss of D(x) on every training image (the stream "real", labels unused)
  and on generated images: -E log D(x) - E log(1 - D(G(z))). With ``lse = logsumexp(l)`` these
  are softplus(-lse) and softplus(lse), the BCE-with-logits losses of ``gankit.losses``.

The generator minimises feature matching by default (Salimans et al.'s choice for semi-supervised
learning): the squared distance between the mean features of a real and a generated batch on D's
last hidden layer; ``model.feature_matching=false`` uses ``train.loss``'s generator loss on
lse instead.

Networks: Salimans et al.'s permutation-invariant MNIST model. D is an MLP 1000-500-250-250-250
with weight normalisation, ReLU and Gaussian noise added to its input (std 0.3) and to every hidden layer (std 0.5) while
training; G is an MLP 500-500 with softplus and BatchNorm and a weight-normalised Tanh output (their sigmoid on
[0, 1] data). ``model.supervised_only=true`` trains the same discriminator body on the same
labelled images with the cross-entropy alone and no GAN: the baseline a semi-supervised GAN has to
beat, one command away.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
import torch.nn.functional as F
from torch import nn

from gankit.config import ConfigError
from gankit.data import load_dataset
from gankit.data.labelled import labelled_subset
from gankit.models.recipe import MAIN_STREAM, Phase, Step, Stream
from gankit.models.train_loss import TrainLossRecipe
from gankit.tricks.feature_matching import feature_matching_loss

LABELLED = "labelled"
DEFAULT_LABELLED = 100  # Salimans et al.'s MNIST setting: 10 per class


def gan_logit(class_logits: torch.Tensor) -> torch.Tensor:
    """The real/fake logit of a K-logit classifier whose fake class has logit 0: log Z = logsumexp(l).

    ``sigmoid(gan_logit(l)) = Z / (Z + 1)`` is D(x), the probability of "one of the K real classes".
    """
    return torch.logsumexp(class_logits.float(), dim=1)


def unsupervised_loss(real_logits: torch.Tensor, fake_logits: torch.Tensor) -> torch.Tensor:
    """-E log D(x) - E log(1 - D(G(z))) with D(x) = Z/(Z+1), from the K class logits of both batches."""
    return F.softplus(-gan_logit(real_logits)).mean() + F.softplus(gan_logit(fake_logits)).mean()


def supervised_loss(logits: torch.Tensor, labels: torch.Tensor) -> torch.Tensor:
    """-E log p(y | x, y <= K): the cross-entropy of softmax over the K real classes."""
    return F.cross_entropy(logits.float(), labels)


class GaussianNoise(nn.Module):
    """Adds N(0, std^2) noise while training; the identity in eval mode."""

    def __init__(self, std: float):
        super().__init__()
        self.std = std

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if not self.training or self.std == 0:
            return x
        return x + torch.randn_like(x) * self.std

    def extra_repr(self) -> str:
        return f"std={self.std}"


def normalized_linear(n_in: int, n_out: int) -> nn.Module:
    """A Linear layer with weight normalisation (Salimans & Kingma 2016), as in Salimans et al.'s networks:
    w = g v / ||v|| per output unit keeps the scale of D's features, which feature matching compares,
    from drifting."""
    return nn.utils.parametrizations.weight_norm(nn.Linear(n_in, n_out))


class ClassifierD(nn.Module):
    """images -> (K class logits, last hidden features): Salimans et al.'s noisy MLP."""

    def __init__(self, in_features: int, widths: tuple[int, ...], num_classes: int, input_noise: float,
                 hidden_noise: float):
        super().__init__()
        layers: list[nn.Module] = [GaussianNoise(input_noise)]
        width = in_features
        for i, out in enumerate(widths):
            if i:
                layers.append(GaussianNoise(hidden_noise))
            layers += [normalized_linear(width, out), nn.ReLU()]
            width = out
        self.body = nn.Sequential(*layers)
        self.noise = GaussianNoise(hidden_noise)
        self.head = normalized_linear(width, num_classes)

    def forward(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        features = self.body(x.flatten(1))
        return self.head(self.noise(features)), features


class SoftplusG(nn.Module):
    """z -> images in [-1, 1]: Linear-BatchNorm-Softplus blocks, then a weight-normalised Linear and Tanh."""

    def __init__(self, latent_dim: int, widths: tuple[int, ...], shape: tuple[int, ...]):
        super().__init__()
        layers: list[nn.Module] = []
        width = latent_dim
        for out in widths:
            layers += [nn.Linear(width, out), nn.BatchNorm1d(out), nn.Softplus()]
            width = out
        self.shape = tuple(shape)
        layers += [normalized_linear(width, int(torch.tensor(self.shape).prod())), nn.Tanh()]
        self.net = nn.Sequential(*layers)

    def forward(self, z: torch.Tensor) -> torch.Tensor:
        return self.net(z).view(z.shape[0], *self.shape)


@dataclass
class SGANOptions:
    latent_dim: int = 100
    g_widths: tuple[int, ...] = (500, 500)
    d_widths: tuple[int, ...] = (1000, 500, 250, 250, 250)
    input_noise: float = 0.3  # std of the Gaussian noise on D's input (Salimans et al.)
    hidden_noise: float = 0.5  # ... and on its hidden layers
    feature_matching: bool = True  # G's loss: feature matching; false: train.loss on logsumexp(l)
    unsupervised_weight: float = 0.5  # the unsupervised term's weight in D's loss (0.5 in Salimans et al.'s code)
    supervised_only: bool = False  # the baseline: D's body on the labelled images only, no GAN


class SGAN(TrainLossRecipe):
    name = "sgan"
    description = ("semi-supervised GAN (Salimans et al. 2016): K-logit D, fake logit 0, a few labels "
                   "(data.labelled), feature matching; model.supervised_only=true is the baseline")
    Options = SGANOptions
    # Salimans et al.: batch 100, Adam lr 0.003, beta1 0.5.
    train_defaults = {"batch_size": 100, "lr_d": 3e-3, "lr_g": 3e-3}

    def __init__(self, options: SGANOptions, data, train):
        super().__init__(options, data, train)
        if not self.num_classes:
            raise ConfigError(f"sgan needs a labelled dataset (classes); {next(iter(data))} has none")
        features = int(torch.tensor(self.data_shape).prod())
        self.nets["D"] = ClassifierD(features, tuple(options.d_widths), self.num_classes, options.input_noise,
                                     options.hidden_noise)
        self.nets["G"] = SoftplusG(options.latent_dim, tuple(options.g_widths), self.data_shape)

    @classmethod
    def streams(cls, cfg, options):
        """Every training image unlabelled ("real") and the labelled few ("labelled")."""
        d, n, seed = cfg.data, cfg.data.labelled or DEFAULT_LABELLED, cfg.train.seed

        def labelled(split: str):
            data = load_dataset(d.name, split, d.root, d.size, d.channels, store=d.store)
            return labelled_subset(data, n, seed)

        return {MAIN_STREAM: Stream(d.name), LABELLED: Stream(labelled, batch_size=min(cfg.train.batch_size, n))}

    def phases(self):
        if self.options.supervised_only:
            return [Phase("D", trains="D", draws=(LABELLED,))]
        return [Phase("D", trains="D", draws=(LABELLED, MAIN_STREAM), keeps_graph_of=("G",)),
                Phase("G", trains="G", draws=())]

    def classify(self, x: torch.Tensor) -> torch.Tensor:
        """The K class logits of the discriminator (the semi-supervised classifier)."""
        return self.nets["D"](x)[0]

    def loss(self, phase: str, step: Step):
        D = self.net("D")
        if phase == "D":
            labelled = step.batches[LABELLED]
            logits_lab, _ = D(labelled["x"])
            lab_loss = supervised_loss(logits_lab, labelled["y"])
            stats = {"loss_lab": lab_loss.detach(),
                     "acc_lab": (logits_lab.argmax(1) == labelled["y"]).float().mean().detach()}
            if self.options.supervised_only:
                return lab_loss, stats
            real = step.batches[MAIN_STREAM]["x"]
            fake = self.generate(self.draw_inputs(len(real), step.noise), self.net("G"))
            step.shared["fake"] = fake
            logits_real, real_features = D(real)
            logits_fake, _ = D(fake.detach())
            step.shared["real_features"] = real_features.detach()
            unl_loss = unsupervised_loss(logits_real, logits_fake)
            stats.update(loss_unl=unl_loss.detach(),
                         **{"D(x)": torch.sigmoid(gan_logit(logits_real)).mean().detach(),
                            "D(G(z))": torch.sigmoid(gan_logit(logits_fake)).mean().detach()})
            return lab_loss + self.options.unsupervised_weight * unl_loss, stats
        fake = step.shared.pop("fake")
        logits_fake, fake_features = D(fake)
        if self.options.feature_matching:
            # Salimans et al.'s code averages over the features.
            loss = feature_matching_loss(step.shared.pop("real_features"), fake_features, reduction="mean")
        else:
            loss = self.adversarial_loss.g_loss(gan_logit(logits_fake))
        return loss, {"g_loss": loss.detach()}

    def generate(self, inputs, net=None):
        return (net or self.nets["G"])(inputs["z"])
