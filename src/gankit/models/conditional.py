"""What every class-conditional family shares: a label input ``y``, labelled data, Algorithm 1 with labels.

A conditional generator declares the categorical input ``y`` beside ``z`` (so sample grids put
one class per row and ``gankit sample --labels`` can ask for classes); the real batch brings the
data's labels in ``batch["y"]``. Subclasses build ``nets["G"]`` (called ``G(z, y)``) and
``nets["D"]``, and define the two losses from the real batch, its labels, the fake batch and the
labels it was generated for. With k = 1 one generator pass serves both phases, as in
:class:`~gankit.models.gan.AdversarialRecipe`. ``model.mode_seeking=L`` (a field of the families'
options) adds Mao et al.'s mode-seeking term to G's loss: the generated batch then comes in pairs
of one class (:mod:`gankit.tricks.mode_seeking`).
"""

from __future__ import annotations

import abc

import torch

from gankit.models.gan import AdversarialRecipe
from gankit.models.inputs import Input
from gankit.models.recipe import Step
from gankit.tricks.mode_seeking import paired_conditions


class ConditionalRecipe(AdversarialRecipe):
    """Base class of families whose G takes ``(z, y)`` and whose losses see the labels."""

    augmentations = ("diffaugment",)  # ADA would need D's real outputs, which d_loss keeps to itself

    def __init__(self, options, data, train):
        super().__init__(options, data, train)
        if not self.num_classes:
            raise ValueError(f"{self.name} is class-conditional and needs labelled data; "
                             f"{next(iter(self.data))!r} stream has no classes (use a labelled dataset such as "
                             "fashion-mnist, a folder with one subfolder per class, or an npz:FILE with labels)")

    def inputs(self) -> tuple[Input, ...]:
        return (Input("z", (self.latent_dim,)), Input("y", (), "categorical", classes=self.num_classes))

    def generate(self, inputs, net=None):
        return (net or self.nets["G"])(inputs["z"], inputs["y"])

    def training_inputs(self, n: int, noise) -> dict[str, torch.Tensor]:
        """G's inputs for a training batch: random, in pairs of one class when mode seeking is on."""
        inputs = self.draw_inputs(n, noise)
        if self.mode_seeking:
            inputs["y"] = paired_conditions(inputs["y"])
        return inputs

    @abc.abstractmethod
    def d_loss(self, real, y_real, fake, y_fake) -> tuple[torch.Tensor, dict[str, torch.Tensor]]:
        """D's loss and statistics; ``fake`` is already detached."""

    @abc.abstractmethod
    def g_loss(self, fake, y_fake) -> tuple[torch.Tensor, dict[str, torch.Tensor]]:
        """G's loss and statistics."""

    def loss(self, phase: str, step: Step):
        if phase == "D":
            batch = step.batch
            if "y" not in batch:
                raise ValueError(f"{self.name} needs labels in the batch (batch['y']); the data have none")
            inputs = self.training_inputs(len(batch["x"]), step.noise)
            fake = self.generate(inputs, self.net("G"))
            if self.train_config.k == 1:
                step.shared["fake"] = fake, inputs
            return self.d_loss(self.augmented(batch["x"], step.noise), batch["y"],
                               self.augmented(fake.detach(), step.noise), inputs["y"])
        shared = step.shared.pop("fake", None)
        if shared is None:
            inputs = self.training_inputs(step.batch_size, step.noise)
            shared = self.generate(inputs, self.net("G")), inputs
        fake, inputs = shared
        loss, stats = self.g_loss(self.augmented(fake, step.noise), inputs["y"])
        return self.with_mode_seeking(loss, stats, fake, inputs["z"]), stats

    def discriminate(self, D, real, fake, y_real=None, y_fake=None):
        """D on (real, y_real) and (fake, y_fake): one call on both unless D has batch statistics."""
        labelled = y_real is not None
        if self.batch_dependent_d:
            return (D(real, y_real), D(fake, y_fake)) if labelled else (D(real), D(fake))
        n = len(real)
        both = D(torch.cat([real, fake]), torch.cat([y_real, y_fake])) if labelled else D(torch.cat([real, fake]))
        if isinstance(both, tuple):  # several heads: split each
            return tuple(zip(*(out.split([n, len(fake)]) for out in both)))
        return both.split([n, len(fake)])
