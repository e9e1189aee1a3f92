"""The seam's third edition, each part with a small recipe defined here and the unchanged Trainer:

(i) a generator that grows a block with a linear fade-in at a stage boundary (``Recipe.advance``,
state in checkpointed buffers), its optimisers restarted there, a generator phase that draws no
data seeing the stage's batch size, a resume mid-fade that is bit-exact, and 2 ranks x B = 1 x 2B
across the boundary (parameters unused before it); (ii) a truncation the recipe owns, towards a
tracked mean, used by ``gankit sample``; (iii) an input the data give (pix2pix's image), drawn from
held-out examples by ``gankit sample`` and ``gankit eval``; (iv) an EMA whose half-life is counted in
images; (v) logged statistics averaged over ranks.
"""

import json
import os
import socket

import numpy as np
import pytest
import torch
import torch.multiprocessing as mp
import torch.nn.functional as F
from torch import nn

import gankit
from gankit.cli import main
from gankit.config import ConfigError, RunConfig
from gankit.losses import get_loss
from gankit.report.figures import generated_figures
from gankit.models import DataSize, StageChange
from gankit.train.checkpoint import latest_checkpoint, load_state
from gankit.train.ema import EMA
from gankit.train.trainer import Trainer, train
from gankit.data.pixels import to_uint8
from test_seam import Tiny, assert_same_weights, config, mlp, weights

GROW_AT, FADE = 4, 4  # iterations at 4x4, then a fade-in of the 8x8 block over 4 iterations


# --- (i) a growing generator ----------------------------------------------------------------------
class GrowingG(nn.Module):
    """A 4x4 image from z, doubled to 8x8; from stage 1 on a refining block fades in over it."""

    def __init__(self, latent_dim: int, width: int):
        super().__init__()
        self.base = mlp(latent_dim, 16, width)
        self.block = nn.Conv2d(1, 1, 3, padding=1)

    def forward(self, z, alpha=None):
        low = F.interpolate(self.base(z).view(-1, 1, 4, 4), scale_factor=2.0, mode="nearest")
        return low if alpha is None else torch.lerp(low, self.block(low), alpha)


class Grower(Tiny):
    name = "seam-grower"
    grows = True  # the block is unused in stage 0
    seen: list = []  # (iteration, stage, alpha) from advance; ("G", batch size) from the G phase

    def __init__(self, options, data, train):
        super().__init__(options, data, train)
        self.nets["G"] = GrowingG(options.latent_dim, options.width)
        self.register_buffer("stage", torch.zeros((), dtype=torch.long))
        self.register_buffer("alpha", torch.zeros(()))

    def advance(self, progress):
        i = progress.iteration
        self.alpha.fill_(min(max((i - GROW_AT) / FADE, 0.0), 1.0))
        stage = int(i >= GROW_AT)
        Grower.seen.append((i, stage, self.alpha.item()))
        if stage != int(self.stage):
            self.stage.fill_(stage)
            return StageChange(reset_optimizers=("G", "D"))
        return None

    def data_schedule(self, progress):  # twice the batch in the new stage
        return {"real": DataSize(batch_size=16 if int(self.stage) == 0 else 32)}

    def generate(self, inputs, net=None):
        return (net or self.nets["G"])(inputs["z"], None if int(self.stage) == 0 else self.alpha)

    def loss(self, phase, step):
        adversarial = get_loss("non-saturating")
        if phase == "D":
            real = step.batch["x"]
            fake = self.generate(self.draw_inputs(len(real), step.noise), self.net("G")).detach()
            loss = adversarial.d_loss(self.net("D")(real), self.net("D")(fake))
            return loss, {"d_loss": loss.detach()}
        Grower.seen.append(("G", step.batch_size))
        fake = self.generate(self.draw_inputs(step.batch_size, step.noise), self.net("G"))
        return adversarial.g_loss(self.net("D")(fake)), {}


def test_a_block_fades_in_linearly_at_a_stage_boundary_and_restarts_the_optimisers(tmp_path):
    Grower.seen.clear()
    steps = GROW_AT + FADE + 2
    trainer = Trainer(config("seam-grower", steps=steps), tmp_path / "run", progress=False)
    trainer.fit()
    stages = [s for s in Grower.seen if s[0] != "G"]
    assert stages == [(i, int(i >= GROW_AT), min(max((i - GROW_AT) / FADE, 0.0), 1.0)) for i in range(steps)]
    # The G phase draws no data and still makes a batch of the stage's size.
    assert [s[1] for s in Grower.seen if s[0] == "G"] == [16] * GROW_AT + [32] * (steps - GROW_AT)
    # Adam restarted at the boundary: the base of G was stepped at every iteration, but its
    # optimiser counts only the iterations since; D's likewise.
    for name, module in (("G", trainer.recipe.nets["G"].base), ("D", trainer.recipe.nets["D"])):
        counts = {int(trainer.optimizers[name].state[p]["step"]) for p in module.parameters()}
        assert counts == {steps - GROW_AT}, name
    # The checkpoint holds the stage and alpha; sampling uses them.
    run = gankit.load(tmp_path / "run")
    assert int(run.recipe.stage) == 1 and float(run.recipe.alpha) == 1.0
    with pytest.raises(ConfigError, match="resets optimiser 'Q'"):
        trainer.enter_stage(StageChange(reset_optimizers=("Q",)))


def test_a_resume_mid_fade_is_bit_exact(tmp_path):
    middle = GROW_AT + FADE // 2  # alpha 0.5 when the first run stops
    train(config("seam-grower", steps=GROW_AT + FADE + 2), tmp_path / "straight", progress=False)
    train(config("seam-grower", steps=middle), tmp_path / "resumed", progress=False)
    assert float(gankit.load(tmp_path / "resumed").recipe.alpha) == pytest.approx((middle - 1 - GROW_AT) / FADE)
    train(config("seam-grower", steps=GROW_AT + FADE + 2), tmp_path / "resumed", resume=True, progress=False)
    assert_same_weights(weights(tmp_path / "straight"), weights(tmp_path / "resumed"))
    a, b = (load_state(latest_checkpoint(tmp_path / n)) for n in ("straight", "resumed"))
    assert a["streams"] == b["streams"] and a["images"] == b["images"]
    for name in ("G", "D"):  # the restarted optimisers' moments too
        for key, value in a["optimizers"][name]["state"].items():
            for field, tensor in value.items():
                assert torch.equal(torch.as_tensor(tensor), torch.as_tensor(b["optimizers"][name]["state"][key][field]))


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def grower_rank(rank, world_size, port, run_dir):
    os.environ.update(RANK=str(rank), WORLD_SIZE=str(world_size), LOCAL_RANK=str(rank),
                      MASTER_ADDR="127.0.0.1", MASTER_PORT=str(port))
    torch.set_num_threads(1)
    Grower.data_schedule = lambda self, progress: {}  # the configured batch: 8 per rank
    train(config("seam-grower", steps=GROW_AT + 2, batch_size=8, collective_timeout_s=60, precision="fp32",
                 log_every=1), run_dir, progress=False)


def test_two_ranks_of_b_equal_one_rank_of_2b_across_a_stage_boundary(tmp_path, monkeypatch):
    mp.start_processes(grower_rank, args=(2, free_port(), str(tmp_path / "ddp")), nprocs=2, join=True,
                       start_method="spawn")
    monkeypatch.setattr(Grower, "data_schedule", lambda self, progress: {})
    train(config("seam-grower", steps=GROW_AT + 2, batch_size=16, precision="fp32", log_every=1),
          tmp_path / "single", progress=False)
    a, b = weights(tmp_path / "ddp"), weights(tmp_path / "single")
    assert a.keys() == b.keys()
    for key in a:
        torch.testing.assert_close(a[key], b[key], rtol=1e-5, atol=1e-6, msg=key)
    # (v) what the ranks log is their average: the same D loss as one process of the whole batch
    rows = [json.loads(line) for line in (tmp_path / "ddp" / "metrics.jsonl").read_text().splitlines()]
    single = [json.loads(line) for line in (tmp_path / "single" / "metrics.jsonl").read_text().splitlines()]
    assert [r["step"] for r in rows] == [r["step"] for r in single]
    for r, s in zip(rows, single):
        assert r["d_loss"] == pytest.approx(s["d_loss"], rel=1e-4)


# --- (ii) truncation towards a tracked mean -------------------------------------------------------
class MappedG(nn.Module):
    """StyleGAN's split: a mapping z -> w, a synthesis w -> image."""

    def __init__(self, latent_dim: int, width: int, shape):
        super().__init__()
        self.mapping = mlp(latent_dim, width, width)
        self.synthesis = nn.Sequential(nn.Linear(width, int(np.prod(shape))), nn.Unflatten(1, shape))


class Averaged(Tiny):
    """Truncation in W: w moves towards the running mean of the mapped latents (StyleGAN's w_avg)."""

    name = "seam-averaged"

    def __init__(self, options, data, train):
        super().__init__(options, data, train)
        self.nets["G"] = MappedG(options.latent_dim, options.width, self.data_shape)
        self.register_buffer("w_avg", torch.zeros(options.width))

    def truncate(self, inputs, psi, given=frozenset()):
        return {**inputs, "psi": torch.full((len(inputs["z"]),), psi)}

    def generate(self, inputs, net=None):
        g = net or self.nets["G"]
        w = g.mapping(inputs["z"])
        if "psi" in inputs:
            w = torch.lerp(self.w_avg, w, inputs["psi"][:, None])
        return g.synthesis(w)

    def loss(self, phase, step):
        if phase == "G":
            with torch.no_grad():
                w = self.nets["G"].mapping(step.randn(64, self.latent_dim))
                self.w_avg.lerp_(w.float().mean(0), 0.5)  # w is bf16 under autocast on CPUs with AVX512-BF16
        return super().loss(phase, step)


def test_gankit_sample_truncates_as_the_recipe_says(tmp_path):
    train(config("seam-averaged", steps=3), tmp_path / "run", progress=False)
    run = gankit.load(tmp_path / "run")
    assert run.recipe.w_avg.abs().sum() > 0
    average = run.recipe.nets["G"].synthesis(run.recipe.w_avg[None]).detach()
    assert main(["sample", str(tmp_path / "run"), "-n", "4", "--truncation", "0", "--out", str(tmp_path / "a.npy")]) == 0
    at_zero = np.load(tmp_path / "a.npy")
    expected = run.sample_array(1, truncation=0.0)[0, 0]
    assert (at_zero == expected).all()  # every sample is the average w's image ...
    np.testing.assert_array_equal(expected, to_uint8(average)[0, 0])
    scaled_z = run.generate({"z": torch.zeros(1, 4)})  # ... not the image of z = 0 that scaling z gives
    assert not np.array_equal(expected, to_uint8(scaled_z)[0, 0])
    torch.testing.assert_close(run.sample(4, truncation=1.0), run.sample(4), rtol=0, atol=0)


def test_the_default_truncation_scales_normal_inputs_not_given_ones(tmp_path):
    train(config("seam-tiny", steps=1), tmp_path / "run", progress=False)
    run = gankit.load(tmp_path / "run")
    inputs = run.inputs(3, seed=1)
    torch.testing.assert_close(run.truncate(inputs, 0.5)["z"], 0.5 * inputs["z"])
    assert torch.equal(run.truncate(inputs, 0.5, given={"z"})["z"], inputs["z"])
    with pytest.raises(ValueError, match="truncation must lie in"):
        run.sample(2, truncation=3.0)


# --- (iii) inputs the data give ---------------------------------------------------------------------
@pytest.fixture(scope="module")
def pix2pix_run(tmp_path_factory):
    run_dir = tmp_path_factory.mktemp("p2p") / "run"
    cfg = RunConfig(model="pix2pix")
    cfg.data.name = "edges2fashion"
    cfg.options = {"g_base": 4, "d_base": 4, "depth": 2}
    t = cfg.train
    t.steps, t.batch_size, t.log_every, t.sample_every, t.checkpoint_every = 2, 8, 1, 2, 2
    t.report = False
    train(cfg, run_dir, progress=False)
    return run_dir


def test_gankit_sample_and_eval_work_on_a_pix2pix_run(pix2pix_run, tmp_path, capsys):
    assert main(["sample", str(pix2pix_run), "-n", "16", "--out", str(tmp_path / "x.png")]) == 0
    assert (tmp_path / "x.png").exists()
    run = gankit.load(pix2pix_run)
    held_out = run.examples("test")
    drawn = run.inputs(16, seed=0)["a"]  # from held-out examples: each row is one of them
    images = torch.from_numpy(held_out.extra["a"]).float() / 127.5 - 1
    assert all((images == row).flatten(1).all(1).any() for row in drawn)
    train_rows = run.inputs(16, seed=0, split="train")["a"]
    assert not torch.equal(drawn, train_rows)
    assert main(["eval", str(pix2pix_run), "-n", "64", "--metrics", "fid", "--quiet",
                 "--json", str(tmp_path / "e.json")]) == 0
    assert np.isfinite(json.loads((tmp_path / "e.json").read_text())["fid"])
    # the report draws held-out inputs beside their outputs, with no note of a failure
    figures, notes = generated_figures(pix2pix_run)
    assert notes == [] and [f.title for f in figures] == ["held-out inputs and outputs"]


def test_npz_archives_carry_every_per_image_array(tmp_path):
    from gankit.data import load_dataset

    rng = np.random.default_rng(0)
    x = rng.integers(0, 255, (40, 1, 8, 8), dtype=np.uint8)
    y = np.repeat(np.arange(4), 10)
    embedding = rng.normal(size=(40, 5)).astype(np.float32)
    np.savez(tmp_path / "d.npz", x=x, y=y, embedding=embedding, class_names=np.array(list("abcd")))
    train_split, test_split = (load_dataset(f"npz:{tmp_path / 'd.npz'}", s) for s in ("train", "test"))
    assert set(train_split.extra) == {"embedding"} and len(train_split) + len(test_split) == 40
    for part in (train_split, test_split):  # each row keeps its own embedding
        for image, vector in zip(part.x, part.extra["embedding"]):
            row = int(np.flatnonzero((x == image).all(axis=(1, 2, 3)))[0])
            np.testing.assert_array_equal(vector, embedding[row])


# --- (iv) EMA half-life in images ---------------------------------------------------------------------
def ema_after(images: int, batch: int, half_life_kimg: float, rampup=None) -> float:
    ema = EMA(nn.Linear(1, 1, bias=False).requires_grad_(False).apply(lambda m: nn.init.zeros_(m.weight)),
              half_life_kimg=half_life_kimg, rampup=rampup)
    live = nn.Linear(1, 1, bias=False)
    nn.init.ones_(live.weight)
    seen = 0
    for step in range(images // batch):
        seen += batch
        ema.update(live, step, seen, batch)
    return ema.module.weight.item()


def test_an_ema_half_life_in_images_is_the_same_at_any_batch_size():
    # After one half-life of images the initial weights weigh 1/2, at batch 16 and at batch 64.
    assert ema_after(1024, 16, 1.024) == pytest.approx(0.5, abs=1e-6)
    assert ema_after(1024, 64, 1.024) == pytest.approx(0.5, abs=1e-6)
    assert ema_after(4096, 16, 1.024) == pytest.approx(ema_after(4096, 64, 1.024), abs=1e-6)
    # The ramp caps the half-life at a fraction of the images seen: early on the average follows faster.
    assert ema_after(1024, 16, 1.024, rampup=0.05) > 0.99
    with pytest.raises(ValueError, match="ema_rampup"):
        EMA(nn.Linear(1, 1), decay=0.999, rampup=0.05)


def test_train_ema_kimg_replaces_the_per_step_decay(tmp_path):
    trainer = Trainer(config("seam-tiny", data="ring8", steps=2, ema_kimg=0.032), tmp_path / "run", progress=False)
    trainer.fit()
    assert trainer.ema.decay_at(1, 32, 16) == pytest.approx(0.5 ** (16 / 32))
    assert any(k.startswith("ema.") for k in weights(tmp_path / "run"))
