"""CycleGAN (Zhu et al. 2017): unpaired translation between two domains A and B.

Two ResNet generators, G: A -> B (``nets["G"]``) and F: B -> A (``nets["F"]``), and two PatchGAN
discriminators, D_B on B images and D_A on A images. The objective is

    L_GAN(G, D_B) + L_GAN(F, D_A) + lambda_cyc * (E||F(G(a)) - a||_1 + E||G(F(b)) - b||_1)
        + lambda_id * (E||G(b) - b||_1 + E||F(a) - a||_1),

with the least-squares GAN loss, lambda_cyc = 10 and lambda_id = 0.5 * lambda_cyc (the identity
term keeps colours when a and b share them; it needs the two domains to have the same channels).
The discriminators see generated images through a 50-image history pool each (a module of the
recipe, so it is checkpointed), and both learning rates stay constant for the first half of the
budget and then decay linearly to zero (``train.lr_decay=0.5``, this family's default).

Data: two streams drawn independently, "A" and "B": the two sides of a paired set
(``emojione2noto``: each side shuffled on its own, so the pairs are never seen) or of
``folder:A_DIR|B_DIR`` (any two folders, no names need to match).
"""

from __future__ import annotations

from dataclasses import dataclass

from gankit.data.views import load_domain
from gankit.models.recipe import OptimizerSpec, Phase, Step
from gankit.models.translation import TranslationRecipe, view_stream
from gankit.nn.image_pool import ImagePool
from gankit.nn.patchgan import PatchDiscriminator
from gankit.nn.resnet import ResnetGenerator


@dataclass
class CycleGANOptions:
    g_base: int = 64
    blocks: int = 6  # residual blocks (6 for 128x128 images in the paper, 9 for 256x256)
    d_base: int = 64
    patch: str = "auto"  # the discriminators' receptive field (see gankit.nn.patchgan)
    cycle_weight: float = 10.0  # lambda_cyc
    identity: float = 0.5  # lambda_id as a fraction of lambda_cyc; 0 switches the identity term off
    pool_size: int = 50  # generated images remembered per discriminator; 0: none


class CycleGAN(TranslationRecipe):
    name = "cyclegan"
    description = "CycleGAN: two ResNet G (A->B, B->A), two PatchGAN D, least squares, cycle 10, identity 5, pools"
    Options = CycleGANOptions
    train_defaults = {"loss": "least-squares", "batch_size": 4, "lr_decay": 0.5}
    source_field = "x"  # the A domain's own images: unpaired data have no targets

    @classmethod
    def streams(cls, cfg, options):
        return {side: view_stream(load_domain, cfg.data, side) for side in "AB"}

    def __init__(self, options: CycleGANOptions, data, train):
        super().__init__(options, data, train)
        shape_a, shape_b = self.data["A"].shape, self.data["B"].shape
        if len(shape_a) != 3 or shape_a[1:] != shape_b[1:] or shape_a[1] != shape_a[2]:
            raise ValueError(f"cyclegan needs square images of one size in both domains, got {shape_a} and "
                             f"{shape_b}; set data.size")
        size = shape_a[-1]
        self.nets["G"] = ResnetGenerator(shape_a[0], shape_b[0], options.g_base, options.blocks)
        self.nets["F"] = ResnetGenerator(shape_b[0], shape_a[0], options.g_base, options.blocks)
        self.nets["D_A"] = PatchDiscriminator(shape_a[0], size, str(options.patch), options.d_base, norm="instance")
        self.nets["D_B"] = PatchDiscriminator(shape_b[0], size, str(options.patch), options.d_base, norm="instance")
        self.pool_A = ImagePool(options.pool_size, shape_a)
        self.pool_B = ImagePool(options.pool_size, shape_b)
        self.identity_weight = options.identity * options.cycle_weight if shape_a[0] == shape_b[0] else 0.0

    def translator(self, direction):
        if direction == "BtoA":
            return self.nets["F"]
        return super().translator(direction)

    def source_shape(self, direction):
        return tuple(self.data["B" if direction == "BtoA" else "A"].shape)

    def phases(self):
        return [Phase("G", trains="G", draws=("A", "B")), Phase("D", trains="D", draws=())]

    def optimizers(self):
        t = self.train_config
        return {"G": OptimizerSpec(("G", "F"), lr=t.lr_g), "D": OptimizerSpec(("D_A", "D_B"), lr=t.lr_d)}

    def loss(self, phase: str, step: Step):
        adversarial = self.adversarial_loss
        if phase == "G":
            a, b = step.batches["A"]["x"], step.batches["B"]["x"]
            G, F = self.net("G"), self.net("F")
            fake_b, fake_a = G(a), F(b)
            adv = adversarial.g_loss(self.net("D_B")(fake_b)) + adversarial.g_loss(self.net("D_A")(fake_a))
            cycle = (F(fake_b) - a).abs().mean() + (G(fake_a) - b).abs().mean()
            loss = adv + self.options.cycle_weight * cycle
            stats = {"g_adv": adv.detach(), "cycle": cycle.detach()}
            if self.identity_weight:
                identity = (G(b) - b).abs().mean() + (F(a) - a).abs().mean()
                loss = loss + self.identity_weight * identity
                stats["identity"] = identity.detach()
            step.shared.update(a=a, b=b, fake_a=fake_a.detach(), fake_b=fake_b.detach())
            stats["g_loss"] = loss.detach()
            return loss, stats
        shared = step.shared
        n = len(shared["fake_b"])
        losses = {}
        for side, pool, real, fake in (("A", self.pool_A, shared["a"], shared["fake_a"]),
                                       ("B", self.pool_B, shared["b"], shared["fake_b"])):
            shown = pool.query(fake, step.rand(n), step.randint(max(pool.size, 1), n))
            D = self.net(f"D_{side}")
            losses[side] = adversarial.d_loss(D(real), D(shown), self.train_config.real_label)
        loss = losses["A"] + losses["B"]
        return loss, {"d_loss": loss.detach(), "d_A": losses["A"].detach(), "d_B": losses["B"].detach()}
