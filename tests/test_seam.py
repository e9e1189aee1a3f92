"""The Recipe seam carries families unlike the plain GAN. Each recipe here is defined in this file,
registers itself by its name, and is trained by the unchanged Trainer.

(a) a phase stepping two networks at different learning rates, (b) a paired stream, (c) two
unpaired streams drawn at different rates, (d) batch size and resolution changing mid-run,
(e) recipe state (a pool of past fakes) surviving --resume bit-exactly, (f) a phase every 4
iterations with a gain, (g) a loss drawing an extra real batch, (h) 2 ranks x B = 1 x 2B for (a);
plus labelled sample grids and clear errors for inconsistent declarations.
"""

import os
import socket
from dataclasses import dataclass

import numpy as np
import pytest
import torch
import torch.multiprocessing as mp
import torch.nn.functional as F
from torch import nn

import gankit
from gankit.config import ConfigError, RunConfig
from gankit.data import load_dataset
from gankit.losses import get_loss
from gankit.models import DataSize, Input, OptimizerSpec, Phase, Stream
from gankit.models.gan import AdversarialRecipe
from gankit.train.checkpoint import latest_checkpoint, load_state, load_weights
from gankit.train.trainer import Trainer, train


# --- small recipes ---------------------------------------------------------------------------------
@dataclass
class TinyOptions:
    latent_dim: int = 4
    width: int = 16


def mlp(n_in: int, n_out: int, width: int) -> nn.Module:
    return nn.Sequential(nn.Linear(n_in, width), nn.LeakyReLU(0.2), nn.Linear(width, n_out))


class PointD(nn.Module):
    def __init__(self, dim: int, width: int):
        super().__init__()
        self.body = mlp(dim, 1, width)

    def forward(self, x):
        return self.body(x.flatten(1)).squeeze(1)


class Tiny(AdversarialRecipe):
    """G and D as small MLPs over flattened data; Algorithm 1 from AdversarialRecipe."""

    name = "seam-tiny"
    description = "test: tiny MLP GAN"
    Options = TinyOptions

    def __init__(self, options, data, train):
        super().__init__(options, data, train)
        dim = int(np.prod(self.data_shape))
        self.nets["G"] = nn.Sequential(mlp(options.latent_dim, dim, options.width), nn.Unflatten(1, self.data_shape))
        self.nets["D"] = PointD(dim, options.width)

    def d_loss(self, real, step):
        fake = self.generate(self.draw_inputs(len(real), step.noise), self.net("G")).detach()
        return get_loss("non-saturating").d_loss(self.net("D")(real), self.net("D")(fake))


LR_G, LR_Q = 1e-3, 1e-5


class TwoRates(Tiny):
    """(a) InfoGAN's shape: one phase steps G and a code reader Q together, each at its own rate."""

    name = "seam-two-rates"

    def __init__(self, options, data, train):
        super().__init__(options, data, train)
        self.nets["Q"] = mlp(int(np.prod(self.data_shape)), options.latent_dim, options.width)

    def phases(self):
        return [Phase("D", trains="D"), Phase("GQ", trains=("G", "Q"), draws=())]

    def optimizers(self):
        return {"D": OptimizerSpec(("D",), 1e-3), "G": OptimizerSpec(("G",), LR_G), "Q": OptimizerSpec(("Q",), LR_Q)}

    def loss(self, phase, step):
        if phase == "D":
            loss = self.d_loss(step.batch["x"], step)
            return loss, {"d_loss": loss.detach()}
        inputs = self.draw_inputs(self.train_config.batch_size, step.noise)
        fake = self.generate(inputs, self.net("G"))
        info = F.mse_loss(self.net("Q")(fake.flatten(1)), inputs["z"])
        return get_loss("non-saturating").g_loss(self.net("D")(fake)) + info, {"info": info.detach()}


def inverted_digits(split):
    """(b) a paired view: every digit with its own negative under the key "a"."""
    data = load_dataset("digits", split)
    data.extra["a"] = 255 - data.x
    return data


class Paired(Tiny):
    """(b) pix2pix's shape: G translates the paired image "a" into "x"."""

    name = "seam-paired"
    seen: list = []

    @classmethod
    def streams(cls, cfg, options):
        return {"pairs": Stream(inverted_digits)}

    def inputs(self):
        return (Input("a", self.data_shape, distribution="given"),)

    def __init__(self, options, data, train):
        super().__init__(options, data, train)
        dim = int(np.prod(self.data_shape))
        self.nets["G"] = nn.Sequential(nn.Flatten(), mlp(dim, dim, options.width), nn.Unflatten(1, self.data_shape))

    def phases(self):
        return [Phase("D", trains="D", draws=("pairs",)), Phase("G", trains="G", draws=("pairs",))]

    def generate(self, inputs, net=None):
        return (net or self.nets["G"])(inputs["a"])

    def loss(self, phase, step):
        batch = step.batch
        Paired.seen.append((batch["x"].clone(), batch["a"].clone()))
        fake = self.generate({"a": batch["a"]}, self.net("G"))
        if phase == "D":
            loss = get_loss("least-squares").d_loss(self.net("D")(batch["x"]), self.net("D")(fake.detach()))
        else:
            loss = get_loss("least-squares").g_loss(self.net("D")(fake)) + F.l1_loss(fake, batch["x"])
        return loss, {f"{phase}_loss": loss.detach()}


class TwoDomains(Tiny):
    """(c) CycleGAN's shape: two unpaired streams, B drawn twice per iteration with its own batch size."""

    name = "seam-two-domains"

    @classmethod
    def streams(cls, cfg, options):
        return {"A": Stream("digits"), "B": Stream(inverted_digits, batch_size=8)}

    def phases(self):
        return [Phase("DA", trains="D", draws=("A",)), Phase("DB", trains="D", repeats=2, draws=("B",)),
                Phase("G", trains="G", draws=())]

    def loss(self, phase, step):
        if phase == "G":
            fake = self.generate(self.draw_inputs(8, step.noise), self.net("G"))
            return get_loss("non-saturating").g_loss(self.net("D")(fake)), {}
        loss = self.d_loss(step.batch["x"], step)
        return loss, {}


class Growing(Tiny):
    """(d) Progressive GAN's shape: 4x4 images at batch 16 for 3 iterations, then 8x8 at batch 32."""

    name = "seam-growing"
    shapes: list = []

    def __init__(self, options, data, train):
        super().__init__(options, data, train)
        self.nets["D"] = nn.Sequential(nn.AdaptiveAvgPool2d(4), PointD(16, options.width))

    def data_schedule(self, progress):
        return {"real": DataSize(16, 4) if progress.iteration < 3 else DataSize(32, 8)}

    def loss(self, phase, step):
        real = step.batch["x"]
        Growing.shapes.append(tuple(real.shape))
        fake = self.generate(self.draw_inputs(len(real), step.noise), self.net("G"))
        fake = F.adaptive_avg_pool2d(fake, real.shape[-1])
        if phase == "D":
            return get_loss("non-saturating").d_loss(self.net("D")(real), self.net("D")(fake.detach())), {}
        return get_loss("non-saturating").g_loss(self.net("D")(fake)), {}

    def phases(self):
        return [Phase("D", trains="D"), Phase("G", trains="G")]


class FakePool(nn.Module):
    """CycleGAN's history of generated images (Shrivastava et al.): half the time an old fake."""

    def __init__(self, capacity: int, shape):
        super().__init__()
        self.register_buffer("images", torch.zeros(capacity, *shape))
        self.register_buffer("count", torch.zeros((), dtype=torch.long))

    def query(self, fakes, coins, slots):
        out = []
        for fake, coin, slot in zip(fakes, coins, slots):
            if self.count < len(self.images):
                self.images[self.count] = fake
                self.count += 1
                out.append(fake)
            elif coin < 0.5:
                out.append(self.images[slot].clone())
                self.images[slot] = fake
            else:
                out.append(fake)
        return torch.stack(out)


class Pooled(Tiny):
    """(e) recipe state: D sees fakes through a pool that must survive --resume exactly."""

    name = "seam-pooled"

    def __init__(self, options, data, train):
        super().__init__(options, data, train)
        self.pool = FakePool(20, self.data_shape)

    def loss(self, phase, step):
        if phase == "D":
            real = step.batch["x"]
            fake = self.generate(self.draw_inputs(len(real), step.noise), self.net("G")).detach()
            fake = self.pool.query(fake, step.rand(len(real)), step.randint(len(self.pool.images), len(real)))
            return get_loss("non-saturating").d_loss(self.net("D")(real), self.net("D")(fake)), {}
        return super().loss(phase, step)

    def phases(self):
        return [Phase("D", trains="D"), Phase("G", trains="G", draws=())]


class Scalar(nn.Module):
    def __init__(self):
        super().__init__()
        self.w = nn.Parameter(torch.zeros(()))


class Lazy(Tiny):
    """(f) a regulariser phase every 4 iterations whose loss (w, gradient 1) is scaled by a gain of 4."""

    name = "seam-lazy"
    calls: list = []

    def __init__(self, options, data, train):
        super().__init__(options, data, train)
        self.nets["R"] = Scalar()

    def phases(self):
        return super().phases() + [Phase("reg", trains="R", every=4, gain=4.0, draws=())]

    def optimizers(self):
        return {**super().optimizers(), "R": OptimizerSpec(("R",), 0.5)}

    def loss(self, phase, step):
        if phase == "reg":
            Lazy.calls.append(step.progress.iteration)
            return self.nets["R"].w * 1.0, {}
        return super().loss(phase, step)


class ExtraBatch(Tiny):
    """(g) an unrolled-GAN-like D loss that draws a second, fresh real batch itself."""

    name = "seam-extra-batch"
    pairs: list = []

    def loss(self, phase, step):
        if phase == "D":
            extra = step.next_batch()
            ExtraBatch.pairs.append((step.batch["y"].clone(), extra["y"].clone()))
            return self.d_loss(step.batch["x"], step) + self.d_loss(extra["x"], step), {}
        return super().loss(phase, step)

    def phases(self):
        return [Phase("D", trains="D"), Phase("G", trains="G", draws=())]


class Labelled(Tiny):
    """A conditional generator whose every pixel is its label / 10: grids and labels can be checked."""

    name = "seam-labelled"

    def inputs(self):
        return super().inputs() + (Input("y", distribution="categorical", classes=self.num_classes),)

    def generate(self, inputs, net=None):
        image = (net or self.nets["G"])(inputs["z"])
        return 0 * image + inputs["y"].float().view(-1, 1, 1, 1) / 10


# --- helpers ---------------------------------------------------------------------------------------
def config(model, data="digits", steps=4, batch_size=16, **train_options) -> RunConfig:
    cfg = RunConfig(model=model)
    cfg.data.name = data
    cfg.train.steps = steps
    cfg.train.batch_size = batch_size
    cfg.train.log_every = 2
    cfg.train.sample_every = 1000
    cfg.train.checkpoint_every = 1000
    for key, value in train_options.items():
        setattr(cfg.train, key, value)
    return cfg


def weights(run_dir):
    return load_weights(latest_checkpoint(run_dir))


def assert_same_weights(a, b):
    assert a.keys() == b.keys()
    for key in a:
        assert torch.equal(a[key], b[key]), key


def straight_and_resumed(tmp_path, model, steps, resume_at, **options):
    train(config(model, steps=steps, **options), tmp_path / "straight", progress=False)
    train(config(model, steps=resume_at, **options), tmp_path / "resumed", progress=False)
    train(config(model, steps=steps, **options), tmp_path / "resumed", resume=True, progress=False)
    return tmp_path / "straight", tmp_path / "resumed"


# --- (a) and (h) -----------------------------------------------------------------------------------
def test_a_phase_steps_two_networks_at_their_own_rates(tmp_path):
    trainer = Trainer(config("seam-two-rates", data="ring8", steps=1), tmp_path / "run", progress=False)
    before = {k: v.clone() for k, v in trainer.recipe.nets.state_dict().items()}
    trainer.fit()
    after = trainer.recipe.nets.state_dict()
    # Adam's first step moves every parameter with a gradient by about lr (sign of the gradient).
    for net, lr in (("G", LR_G), ("Q", LR_Q)):
        change = max((after[k] - before[k]).abs().max().item() for k in before if k.startswith(net + "."))
        assert 0.9 * lr < change < 1.01 * lr, (net, change)  # 1 % for float32 rounding of w + dw
    assert trainer.optimizers["Q"].param_groups[0]["lr"] == LR_Q


def test_train_lr_decay_scales_every_optimiser_that_has_no_schedule_of_its_own(tmp_path):
    trainer = Trainer(config("seam-two-rates", data="ring8", steps=4, lr_decay=0.5), tmp_path / "run", progress=False)
    trainer.fit()
    # The 4th iteration starts at 3/4 of the budget: half-way down a decay from 1/2 to 1.
    assert trainer.optimizers["G"].param_groups[0]["lr"] == pytest.approx(0.5 * LR_G)
    assert trainer.optimizers["Q"].param_groups[0]["lr"] == pytest.approx(0.5 * LR_Q)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def rank_main(rank, world_size, port, run_dir, batch_size):
    os.environ.update(RANK=str(rank), WORLD_SIZE=str(world_size), LOCAL_RANK=str(rank),
                      MASTER_ADDR="127.0.0.1", MASTER_PORT=str(port))
    torch.set_num_threads(1)
    train(config("seam-two-rates", data="ring8", steps=1, batch_size=batch_size, collective_timeout_s=60),
          run_dir, progress=False)


def test_h_two_ranks_of_b_equal_one_rank_of_2b_for_a_two_network_phase(tmp_path):
    mp.start_processes(rank_main, args=(2, free_port(), str(tmp_path / "ddp"), 16), nprocs=2, join=True,
                       start_method="spawn")
    train(config("seam-two-rates", data="ring8", steps=1, batch_size=32), tmp_path / "single", progress=False)
    train(config("seam-two-rates", data="ring8", steps=1, batch_size=16), tmp_path / "half", progress=False)
    a, b, c = weights(tmp_path / "ddp"), weights(tmp_path / "single"), weights(tmp_path / "half")
    for key in a:
        torch.testing.assert_close(a[key], b[key], rtol=1e-5, atol=1e-6, msg=key)
    assert any(not torch.allclose(a[k], c[k], rtol=1e-5, atol=1e-6) for k in a if k.startswith("nets.Q"))


# --- (b) (c) (d) ---------------------------------------------------------------------------------------
def test_b_a_paired_stream_keeps_its_pairs_and_samples_from_a_given_input(tmp_path):
    Paired.seen.clear()
    train(config("seam-paired", steps=50, batch_size=64), tmp_path / "run", progress=False)
    assert len(Paired.seen) == 100  # D and G each drew a batch of pairs per iteration, over 2+ epochs
    for x, a in Paired.seen:
        torch.testing.assert_close(a, -x, atol=1e-6, rtol=0)
    run = gankit.load(tmp_path / "run")
    a = torch.from_numpy(inverted_digits("test").extra["a"][:5]).float() / 127.5 - 1
    assert run.sample(5, a=a).shape == (5, 1, 8, 8)
    # Not passed, "a" comes from held-out examples of the data: sampling works like any family's.
    drawn = run.inputs(5, seed=3)["a"]
    held_out = torch.from_numpy(inverted_digits("test").extra["a"]).float() / 127.5 - 1
    assert all((held_out == row).flatten(1).all(1).any() for row in drawn)
    torch.testing.assert_close(run.sample(5, seed=3), run.sample(5, a=drawn), rtol=0, atol=0)
    assert (tmp_path / "run" / "samples" / "step_000050.png").exists()


def test_c_two_unpaired_streams_drawn_at_different_rates_resume_exactly(tmp_path):
    trainer = Trainer(config("seam-two-domains", steps=10), tmp_path / "run", progress=False)
    trainer.fit()
    a, b = trainer.streams["A"], trainer.streams["B"]
    assert (a.batch_size, b.batch_size) == (16, 8)
    assert a._offset == 10 * 16 and b._offset == 20 * 8  # one batch of A, two of B per iteration
    assert trainer.images == 10 * 16 + 20 * 8
    assert not torch.equal(a._perm, b._perm)  # each stream shuffles with its own seed
    straight, resumed = straight_and_resumed(tmp_path, "seam-two-domains", 12, 5)
    assert_same_weights(weights(straight), weights(resumed))
    s, r = load_state(latest_checkpoint(straight)), load_state(latest_checkpoint(resumed))
    assert s["streams"] == r["streams"] and s["images"] == r["images"]


def test_d_batch_size_and_resolution_change_mid_run_and_resume_exactly(tmp_path):
    Growing.shapes.clear()
    train(config("seam-growing", steps=6), tmp_path / "run", progress=False)
    assert Growing.shapes == [(16, 1, 4, 4)] * 6 + [(32, 1, 8, 8)] * 6  # a D and a G batch per iteration
    straight, resumed = straight_and_resumed(tmp_path, "seam-growing", 8, 2)
    assert_same_weights(weights(straight), weights(resumed))
    assert load_state(latest_checkpoint(resumed))["streams"]["real"]["batch_size"] == 32


def test_d_lower_resolution_is_the_average_of_the_stored_pixels():
    from gankit.data import DeviceDataset

    data = load_dataset("digits", "train")
    full, low = DeviceDataset(data, batch_size=8, seed=3), DeviceDataset(data, batch_size=8, seed=3)
    low.set_resolution(4)
    x8, x4 = full.next()["x"], low.next()["x"]
    torch.testing.assert_close(x4, F.avg_pool2d(x8, 2))
    # Served from the dataset pooled once: bit for bit what pooling each batch gives.
    assert torch.equal(x4, F.interpolate(x8, size=(4, 4), mode="area"))
    assert low.shape == (1, 4, 4)
    with pytest.raises(Exception, match="stored at 8x8"):
        low.set_resolution(16)
    low.set_resolution(None)
    assert torch.equal(low.next()["x"], full.next()["x"])


# --- (e) (f) (g) -----------------------------------------------------------------------------------
def test_e_a_pool_of_past_fakes_survives_resume_bit_exactly(tmp_path):
    straight, resumed = straight_and_resumed(tmp_path, "seam-pooled", 12, 6, batch_size=8)
    a, b = weights(straight), weights(resumed)
    assert_same_weights(a, b)
    assert a["pool.count"].item() == 20  # the pool filled up and then swapped images
    assert "pool.images" in a and a["pool.images"].abs().sum() > 0


def test_f_a_phase_every_4_iterations_with_a_gain(tmp_path):
    Lazy.calls.clear()
    cfg = config("seam-lazy", data="ring8", steps=10, optimizer="sgd", momentum=0.0)
    trainer = Trainer(cfg, tmp_path / "run", progress=False)
    trainer.fit()
    assert Lazy.calls == [0, 4, 8]
    # Three SGD steps on w with gradient 1, each scaled by the gain 4, at lr 0.5.
    assert trainer.recipe.nets["R"].w.item() == pytest.approx(-3 * 4 * 0.5)


def test_g_a_loss_draws_an_extra_real_batch(tmp_path):
    ExtraBatch.pairs.clear()
    trainer = Trainer(config("seam-extra-batch", steps=8), tmp_path / "run", progress=False)
    trainer.fit()
    assert trainer.streams["real"]._offset == 16 * 16 and trainer.images == 16 * 16
    for first, extra in ExtraBatch.pairs:  # the extra batch is fresh data, not the phase's batch again
        assert not torch.equal(first, extra)
    straight, resumed = straight_and_resumed(tmp_path, "seam-extra-batch", 8, 3)
    assert_same_weights(weights(straight), weights(resumed))


# --- sampling and declarations ------------------------------------------------------------------------
def test_labelled_grids_put_one_class_per_row_and_labels_are_honoured(tmp_path):
    trainer = Trainer(config("seam-labelled", steps=1), tmp_path / "run", progress=False)
    y = trainer.grid_inputs["y"]
    assert trainer.grid_columns == 8 and torch.equal(y.view(10, 8), torch.arange(10)[:, None].expand(10, 8))
    trainer.fit()
    run = gankit.load(tmp_path / "run")
    assert run.conditional
    images = run.sample(6, labels=torch.tensor([3, 3, 7, 0, 9, 1]))
    assert torch.allclose(images.flatten(1).mean(1), torch.tensor([0.3, 0.3, 0.7, 0.0, 0.9, 0.1]))
    with pytest.raises(ValueError, match="y must lie in 0..9"):
        run.sample(2, labels=torch.tensor([3, 10]))


def test_interpolation_moves_latents_and_holds_labels(tmp_path):
    train(config("seam-labelled", steps=1), tmp_path / "run", progress=False)
    run = gankit.load(tmp_path / "run")
    inputs = run.interpolation(rows=3, steps=5, spherical=True)
    assert inputs["z"].shape == (15, 4) and inputs["y"].shape == (15,)
    assert (inputs["y"].view(3, 5) == inputs["y"].view(3, 5)[:, :1]).all()
    ends = run.inputs(6)
    torch.testing.assert_close(inputs["z"].view(3, 5, 4)[:, -1], ends["z"][3:])


class Broken(Tiny):
    name = "seam-broken"

    def phases(self):
        return [Phase("D", trains="D", draws=("nowhere",)), Phase("G", trains=("G", "Q"), draws=())]


def test_inconsistent_declarations_are_named(tmp_path):
    with pytest.raises(ConfigError) as error:
        Trainer(config("seam-broken", data="ring8"), tmp_path / "run", progress=False)
    message = str(error.value)
    assert "stream 'nowhere'" in message and "optimiser 'Q'" in message


def test_loading_a_run_for_sampling_does_not_import_the_trainer(tmp_path):
    import subprocess
    import sys
    from pathlib import Path

    cfg = config("gan", data="ring8", steps=1)
    cfg.options = {"g_widths": [8], "d_widths": [8], "latent_dim": 2}
    train(cfg, tmp_path / "run", progress=False)
    code = "import sys, gankit; gankit.load(sys.argv[1]).sample(4); print('gankit.train.trainer' in sys.modules)"
    env = {**os.environ, "PYTHONPATH": str(Path(__file__).parents[1] / "src")}
    done = subprocess.run([sys.executable, "-c", code, str(tmp_path / "run")], env=env, capture_output=True,
                          text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "False"
