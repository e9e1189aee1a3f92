"""Auxiliary-classifier GAN (Odena, Olah & Shlens 2017).

G(z|y) as in cGAN (a label embedding joined to z); D sees only the image and has two heads on one
body: P(S | X), real or fake, and P(C | X), the class. With

* L_S = E[log P(S=real | X_real)] + E[log P(S=fake | X_fake)]
* L_C = E[log P(C=c | X_real)] + E[log P(C=c | X_fake)]

D maximises L_S + L_C and G maximises L_C - L_S (the paper's Eq. 2-3). We minimise
``d_loss(S) + lambda * (CE_real + CE_fake)`` for D and ``g_loss(S) + lambda * CE_fake`` for G, where
the adversarial pair comes from ``train.loss``: ``minimax`` is L_S exactly, the default
``non-saturating`` replaces G's ``E[log P(S=fake|X_fake)]`` by ``-E[log P(S=real|X_fake)]``
(Goodfellow et al.'s usual fix, same fixed point). ``model.class_weight`` is lambda (1 in the
paper, 3 by default here).

By default D's class head learns the classes from real images only (``CE_fake`` is left out of
D's loss, ``model.classify_fakes=false``), and G's loss carries the mode-seeking term of ``cgan``
(``model.mode_seeking=1``). ``model.classify_fakes=true model.mode_seeking=0 model.class_weight=1``
is the paper's loss exactly. Why not by default: with ``CE_fake`` in D's loss, D's class head also learns the look of
G's own images and G can satisfy L_C with images that only that head reads as the class; and
without mode seeking G draws one image per class, the within-class collapse ACGAN is known for
(Gong et al. 2019). On Fashion-MNIST, 10 minutes (benchmarks/RESULTS.md): the paper's D loss with
mode seeking gave cond_accuracy 0.51 by gankit's classifier, real-only classes without mode
seeking 0.99 with recall 0.00 (one image per class), both changes 0.91 with FID 6.6, and with
lambda = 3 0.959 / 0.961 / 0.952 with FID 5.8 / 6.1 / 6.0 over 3 seeds (unconditional DCGAN: 10.3).
"""

from __future__ import annotations

from dataclasses import dataclass

import torch.nn.functional as F

from gankit.models.cgan import CGANOptions, conditional_generator, unconditional_discriminator
from gankit.models.conditional import ConditionalRecipe
from gankit.nn.conditional import ClassHeadD, feature_shape


@dataclass
class ACGANOptions(CGANOptions):
    # lambda in front of the class log-likelihood L_C (1 in the paper); 3 keeps 95 % of the samples in
    # their class on Fashion-MNIST at 10 minutes, on each of 3 seeds (benchmarks/RESULTS.md)
    class_weight: float = 3.0
    classify_fakes: bool = False  # D's L_C includes generated images (true: the paper) or real ones only


class ACGAN(ConditionalRecipe):
    name = "acgan"
    description = "ACGAN: G(z|y), D with a real/fake head and a class head (L_S + L_C); DCGAN nets for images"
    Options = ACGANOptions

    def __init__(self, options: ACGANOptions, data, train):
        super().__init__(options, data, train)
        if options.projection:
            raise ValueError("acgan: model.projection does not apply (ACGAN's D classifies instead of taking y)")
        self.nets["G"] = conditional_generator(self, options)
        body = unconditional_discriminator(self, options)
        features = 1
        for s in feature_shape(body, self.data_shape):
            features *= s
        self.nets["D"] = ClassHeadD(body, self.num_classes, features)

    def d_loss(self, real, y_real, fake, y_fake):
        adversarial, lam = self.adversarial_loss, self.options.class_weight
        (real_s, real_c), (fake_s, fake_c) = self.discriminate(self.net("D"), real, fake)
        source = adversarial.d_loss(real_s, fake_s, self.train_config.real_label)
        classes = F.cross_entropy(real_c.float(), y_real)
        if self.options.classify_fakes:
            classes = classes + F.cross_entropy(fake_c.float(), y_fake)
        loss = source + lam * classes
        return loss, {"d_loss": loss.detach(), "d_class": classes.detach(),
                      "D(x)": adversarial.score(real_s).mean().detach(),
                      "D(G(z|y))": adversarial.score(fake_s).mean().detach(),
                      "class_acc_real": (real_c.argmax(1) == y_real).float().mean().detach()}

    def g_loss(self, fake, y_fake):
        fake_s, fake_c = self.net("D")(fake)
        classes = F.cross_entropy(fake_c.float(), y_fake)
        loss = self.adversarial_loss.g_loss(fake_s) + self.options.class_weight * classes
        return loss, {"g_loss": loss.detach(), "g_class": classes.detach()}
