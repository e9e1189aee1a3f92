"""Training throughput of gankit's Trainer against the classic PyTorch-GAN training loop.

Run from the repository root::

    PYTHONPATH=src python benchmarks/throughput.py                  # the default table (~3-5 min on 2 cores)
    PYTHONPATH=src python benchmarks/throughput.py --precision fp32,bf16 --json out.json
    PYTHONPATH=src python benchmarks/throughput.py --only dcgan-classic --repeats 3

Configurations (all on fashion-mnist, batch 64, Adam lr 2e-4 betas (0.5, 0.999), k = 1):

* ``gan-classic``: gankit's ``gan`` recipe at 28x28 set to the layer widths of PyTorch-GAN's
  ``gan.py``: G 100-128-256-512-1024-784 with BatchNorm1d on the hidden layers but the first,
  LeakyReLU 0.2, no dropout, Tanh; D 784-512-256-1, LeakyReLU 0.2, no dropout.
  (``gan.py`` builds ``BatchNorm1d(n, 0.8)``, i.e. eps = 0.8, a known quirk; gankit's BatchNorm
  uses the default eps. That changes the numbers, not the cost.)
* ``dcgan-classic``: PyTorch-GAN's ``dcgan.py`` networks at 32x32 (``benchmarks/classic.py``),
  plugged into the Trainer as a recipe that registers itself when classic.py is imported
  (gankit's src is not changed).
* ``dcgan``: gankit's own default ``dcgan`` at 28x28.
* ``cgan-classic``, ``acgan-classic``: PyTorch-GAN's ``cgan.py`` (MLPs with label embeddings,
  least-squares loss) and ``acgan.py`` (label x noise into the dcgan.py generator; a two-headed
  conv D) at 32x32 (``benchmarks/classic_conditional.py``), with their scripts' loops as baselines.
* ``cgan``, ``acgan``: gankit's own default conditional families at 28x28.
* ``infogan-classic``: PyTorch-GAN's ``infogan.py`` networks at 32x32 (``benchmarks/classic_infogan.py``:
  the classic DCGAN G on noise + one-hot code + 2 codes, the classic D with validity, categorical
  and continuous heads) trained by gankit's ``infogan`` recipe; its baseline loop is the script's
  three steps per batch (G, D, then the information step over G and D with a third Adam).
* ``infogan``: gankit's own default ``infogan`` at 28x28 (the paper's MNIST networks).

The Trainer computes ``Upsample(x2) -> Conv2d(3x3)`` pairs (the dcgan.py / acgan.py generators)
as one transposed convolution (``gankit/nn/fuse.py``): the same function and parameters with
2.25x fewer multiply-adds, which the FLOP column shows.

Each gankit configuration is timed with the Trainer itself: a Trainer is built into a temporary
run directory and ``trainer.iteration`` (one D step on a real batch and the fake batch, one G
step) is called repeatedly; images/s = iterations x batch / seconds, the median over ``--repeats``
after ``--warmup`` iterations. Torch's default number of threads is kept.

Baselines (``--skip-baselines`` leaves them out) re-implement, in our own words, how the classic
scripts train: a ``torch.utils.data.DataLoader`` (batch 64, shuffle, num_workers 0) over a
Dataset whose ``__getitem__`` does the per-sample PIL work (``Image.fromarray``, resize, to a
float tensor, ``(x - 0.5) / 0.5``), then per batch a G step (``g_loss = BCE(D(G(z)), valid)``)
followed by a D step (``(BCE(D(real), valid) + BCE(D(G(z).detach()), fake)) / 2``) with
``nn.Sigmoid`` + ``nn.BCELoss``, default (per-tensor loop) Adam, ``np.random.normal`` latents
and the per-batch ``.item()`` of the losses for the log line; same networks as the gankit rows.

FLOPs: one training iteration after warm-up counted with ``torch.utils.flop_counter.FlopCounterMode``
(matmuls and convolutions, forward and backward; elementwise ops, BatchNorm and the optimiser are
not counted). Achieved GFLOP/s = FLOPs x iterations/s, shown as a fraction of a plain
2048x2048 (CPU) or 8192x8192 (GPU, `--device cuda`) matmul's GFLOP/s measured in the same run (bf16 rows against a bf16 matmul).
"""

from __future__ import annotations

import argparse
import datetime
import json
import os
import platform
import statistics
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable

import numpy as np
import torch
from PIL import Image
from torch import nn
from torch.utils.data import DataLoader, Dataset
from torch.utils.flop_counter import FlopCounterMode

sys.path.insert(0, str(Path(__file__).resolve().parent))  # benchmarks/classic.py

import classic  # noqa: E402
import classic_conditional  # noqa: E402
import classic_infogan  # noqa: E402
from machine import cpu_model  # noqa: E402

from gankit.config import RunConfig, apply_overrides  # noqa: E402
from gankit.data import load_dataset  # noqa: E402
from gankit.nn.mlp import MLPDiscriminator, MLPGenerator  # noqa: E402
from gankit.train.trainer import Trainer  # noqa: E402

DATASET = "fashion-mnist"
BATCH = 64
LATENT = 100
# The issue's measurements of the original scripts on this machine kind (not measured here).
ISSUE_REFERENCE = {"gan-classic": ("gan.py", 2340.0), "dcgan-classic": ("dcgan.py", 136.0),
                   "cgan-classic": ("cgan.py", 1350.0), "acgan-classic": ("acgan.py", 135.0),
                   "infogan-classic": ("infogan.py", 71.0)}


@dataclass
class Config:
    name: str
    model: str
    size: int
    options: dict[str, Any]
    baseline: Callable[[int, int], tuple[nn.Module, nn.Module]] | None = None  # (channels, size) -> (G, D)
    note: str = ""
    # The classic script's training step (G, D, opt_G, opt_D, images, labels) -> (d_loss, g_loss);
    # None: gan.py / dcgan.py's, with D wrapped in nn.Sigmoid.
    classic_step: Callable[..., tuple[torch.Tensor, torch.Tensor]] | None = None


class InfoganStep:
    """One batch of infogan.py: a G step, a D step (MSE losses), then an information step that runs G
    and D once more and steps a third Adam over all their parameters (made at the first batch)."""

    def __init__(self):
        self.optimizer_info = None

    def __call__(self, generator, d, optimizer_g, optimizer_d, imgs, labels):
        k, codes, latent = classic_infogan.CATEGORIES, classic_infogan.CODES, classic_infogan.LATENT
        mse, cross_entropy = nn.MSELoss(), nn.CrossEntropyLoss()
        if self.optimizer_info is None:
            self.optimizer_info = torch.optim.Adam(list(generator.parameters()) + list(d.parameters()), lr=2e-4,
                                                   betas=(0.5, 0.999))

        def one_hot(classes: np.ndarray) -> torch.Tensor:  # the script's to_categorical: numpy, then a tensor
            out = np.zeros((classes.shape[0], k))
            out[range(classes.shape[0]), classes] = 1.0
            return torch.tensor(out, dtype=torch.float32)

        def generate(n: int, classes: np.ndarray, code: np.ndarray) -> torch.Tensor:
            z = torch.tensor(np.random.normal(0, 1, (n, latent)), dtype=torch.float32)
            return generator(torch.cat([z, one_hot(classes), torch.tensor(code, dtype=torch.float32)], -1))

        n = imgs.shape[0]
        valid, fake = torch.ones(n, 1), torch.zeros(n, 1)
        optimizer_g.zero_grad()
        gen_imgs = generate(n, np.random.randint(0, k, n), np.random.uniform(-1, 1, (n, codes)))
        g_loss = mse(d.heads(gen_imgs)[0], valid)
        g_loss.backward()
        optimizer_g.step()
        optimizer_d.zero_grad()
        d_loss = (mse(d.heads(imgs.float())[0], valid) + mse(d.heads(gen_imgs.detach())[0], fake)) / 2
        d_loss.backward()
        optimizer_d.step()
        self.optimizer_info.zero_grad()
        classes, code = np.random.randint(0, k, n), np.random.uniform(-1, 1, (n, codes))
        _, pred_label, pred_code = d.heads(generate(n, classes, code))
        info_loss = (cross_entropy(torch.softmax(pred_label, 1), torch.as_tensor(classes))
                     + 0.1 * mse(pred_code, torch.tensor(code, dtype=torch.float32)))
        info_loss.backward()
        self.optimizer_info.step()
        info_loss.item()  # the script's log line prints it too
        return d_loss, g_loss


def classic_gan_nets(channels: int, size: int) -> tuple[nn.Module, nn.Module]:
    shape = (channels, size, size)
    g = MLPGenerator(LATENT, (128, 256, 512, 1024), shape, slope=0.2, dropout=0.0, batchnorm=True, tanh=True)
    d = MLPDiscriminator(shape, (512, 256), slope=0.2, dropout=0.0)
    return g, d


def classic_dcgan_nets(channels: int, size: int) -> tuple[nn.Module, nn.Module]:
    return classic.ClassicDCGANGenerator(LATENT, channels, size), classic.ClassicDCGANDiscriminator(channels, size)


CONFIGS = [
    Config("gan-classic", "gan", 28,
           {"latent_dim": LATENT, "g_widths": (128, 256, 512, 1024), "d_widths": (512, 256), "slope": 0.2,
            "dropout": 0.0, "g_batchnorm": True},  # BN eps: gankit default, gan.py 0.8 (same cost)
           classic_gan_nets, "PyTorch-GAN gan.py widths"),
    Config("dcgan-classic", classic.ClassicDCGAN.name, 32, {"latent_dim": LATENT}, classic_dcgan_nets,
           "PyTorch-GAN dcgan.py nets as a recipe"),
    Config("dcgan", "dcgan", 28, {}, None, "gankit's default dcgan"),
    Config("cgan-classic", classic_conditional.ClassicCGAN.name, 32, {}, classic_conditional.cgan_nets,
           "PyTorch-GAN cgan.py nets as a recipe", classic_conditional.cgan_step),
    Config("acgan-classic", classic_conditional.ClassicACGAN.name, 32, {}, classic_conditional.acgan_nets,
           "PyTorch-GAN acgan.py nets as a recipe", classic_conditional.acgan_step),
    Config("cgan", "cgan", 28, {}, None, "gankit's default cgan"),
    Config("acgan", "acgan", 28, {}, None, "gankit's default acgan"),
    Config("infogan-classic", classic_infogan.ClassicInfoGAN.name, 32, {}, classic_infogan.classic_infogan_nets,
           "PyTorch-GAN infogan.py nets as a recipe", InfoganStep()),
    Config("infogan", "infogan", 28, {}, None, "gankit's infogan (the paper's MNIST networks)"),
]


# --- measurement helpers ------------------------------------------------------------------------
def synchronize(device: str) -> None:
    """Wait for queued GPU work, so that wall-clock time covers it (a no-op on the CPU)."""
    if device.startswith("cuda"):
        torch.cuda.synchronize()


def matmul_gflops(dtype: torch.dtype, device: str = "cpu", n: int | None = None, repeats: int = 5,
                  seconds: float = 0.5) -> float:
    """Median GFLOP/s of an n x n matmul (2 n^3 FLOPs) in ``dtype`` (n = 2048 on CPU, 8192 on GPU)."""
    n = n or (8192 if device.startswith("cuda") else 2048)
    a, b = torch.randn(n, n, device=device).to(dtype), torch.randn(n, n, device=device).to(dtype)
    out = torch.empty(n, n, dtype=dtype, device=device)
    torch.mm(a, b, out=out)
    synchronize(device)
    start = time.perf_counter()
    torch.mm(a, b, out=out)
    synchronize(device)
    reps = max(1, int(seconds / max(time.perf_counter() - start, 1e-6)))
    rates = []
    for _ in range(repeats):
        start = time.perf_counter()
        for _ in range(reps):
            torch.mm(a, b, out=out)
        synchronize(device)
        rates.append(2 * n ** 3 * reps / (time.perf_counter() - start) / 1e9)
    return statistics.median(rates)


def time_repeats(step: Callable[[], int], warmup: int, iters: int | None, repeats: int,
                 target_s: float, device: str = "cpu") -> dict[str, Any]:
    """Call ``step`` (returns images processed) ``warmup`` times, then ``repeats`` x ``iters`` times.

    With ``iters`` None it is chosen so that one repeat takes about ``target_s`` seconds.
    """
    for _ in range(warmup):
        step()
    synchronize(device)
    if iters is None:
        start = time.perf_counter()
        for _ in range(3):
            step()
        synchronize(device)
        per_iter = (time.perf_counter() - start) / 3
        iters = max(3, round(target_s / per_iter))
    rates, it_rates = [], []
    for _ in range(repeats):
        images = 0
        start = time.perf_counter()
        for _ in range(iters):
            images += step()
        synchronize(device)
        seconds = time.perf_counter() - start
        rates.append(images / seconds)
        it_rates.append(iters / seconds)
    return {"img_per_s": statistics.median(rates), "img_per_s_min": min(rates), "img_per_s_max": max(rates),
            "it_per_s": statistics.median(it_rates), "iters": iters, "repeats": repeats}


def count_flops(step: Callable[[], Any]) -> int:
    with FlopCounterMode(display=False) as counter:
        step()
    return int(counter.get_total_flops())


# --- gankit -----------------------------------------------------------------------------------
def make_run_config(c: Config, precision: str, compile: bool = False, device: str = "cpu") -> RunConfig:
    cfg = RunConfig(model=c.model)
    cfg.data.name, cfg.data.size = DATASET, c.size
    apply_overrides(cfg, {"train.batch_size": BATCH, "train.lr_g": 2e-4, "train.lr_d": 2e-4,
                          "train.betas": [0.5, 0.999], "train.optimizer": "adam", "train.k": 1,
                          "train.loss": "non-saturating", "train.precision": precision,
                          "train.steps": 10 ** 9, "train.ema": 0.0, "train.compile": compile,
                          "train.device": device})
    cfg.options = dict(c.options)
    return cfg


def bench_gankit(c: Config, precision: str, args, compile: bool = False) -> dict[str, Any]:
    with tempfile.TemporaryDirectory(prefix="gankit-bench-") as tmp:
        trainer = Trainer(make_run_config(c, precision, compile, args.device), Path(tmp) / "run", progress=False)
        totals: dict[str, torch.Tensor] = {}
        counts: dict[str, int] = {}

        def step() -> int:
            trainer.iteration(totals, counts)
            if len(counts) and next(iter(counts.values())) >= 1000:  # like fit(): the window is reset
                totals.clear()
                counts.clear()
            return BATCH

        result = time_repeats(step, args.warmup, args.iters, args.repeats, args.target_seconds, args.device)
        # FlopCounterMode does not see inside compiled graphs; the caller reuses the eager count.
        result["flops"] = None if compile else count_flops(step)
    return result


# --- the classic loop (baseline) --------------------------------------------------------------
class PILImageDataset(Dataset):
    """Per-sample PIL work in ``__getitem__``, as torchvision's MNIST + Resize/ToTensor/Normalize does."""

    def __init__(self, x: np.ndarray, y: np.ndarray | None, size: int):
        self.x, self.y, self.size = x, y, size  # x: uint8 (N, 1, H, W)

    def __len__(self) -> int:
        return len(self.x)

    def __getitem__(self, i: int):
        img = Image.fromarray(self.x[i, 0], mode="L")
        if img.size != (self.size, self.size):  # torchvision's Resize(int) returns an image of that size as is
            img = img.resize((self.size, self.size), Image.BILINEAR)
        t = torch.from_numpy(np.array(img, dtype=np.uint8)).unsqueeze(0).float().div(255)  # "ToTensor"
        t = (t - 0.5) / 0.5  # "Normalize([0.5], [0.5])"
        return t, int(self.y[i]) if self.y is not None else 0


class SigmoidD(nn.Module):
    """The classic D ends in nn.Sigmoid and returns (N, 1) probabilities."""

    def __init__(self, d: nn.Module):
        super().__init__()
        self.d = d

    def forward(self, x):
        return torch.sigmoid(self.d(x)).unsqueeze(1)


def gan_step(generator, discriminator, optimizer_g, optimizer_d, imgs, labels):
    """One batch of gan.py / dcgan.py: a G step, then a D step, Sigmoid + BCELoss."""
    adversarial_loss = nn.BCELoss()
    valid = torch.ones(imgs.size(0), 1)
    fake = torch.zeros(imgs.size(0), 1)
    real_imgs = imgs.float()
    # generator step (D is not frozen: its weight gradients are computed too, then discarded)
    optimizer_g.zero_grad()
    z = torch.tensor(np.random.normal(0, 1, (imgs.shape[0], LATENT)), dtype=torch.float32)
    gen_imgs = generator(z)
    g_loss = adversarial_loss(discriminator(gen_imgs), valid)
    g_loss.backward()
    optimizer_g.step()
    # discriminator step
    optimizer_d.zero_grad()
    real_loss = adversarial_loss(discriminator(real_imgs), valid)
    fake_loss = adversarial_loss(discriminator(gen_imgs.detach()), fake)
    d_loss = (real_loss + fake_loss) / 2
    d_loss.backward()
    optimizer_d.step()
    return d_loss, g_loss


def bench_baseline(c: Config, args) -> dict[str, Any]:
    torch.manual_seed(0)
    np.random.seed(0)
    data = load_dataset(DATASET, "train")  # raw 28x28 uint8: the resize happens per sample
    loader = DataLoader(PILImageDataset(data.x, data.y, c.size), batch_size=BATCH, shuffle=True, num_workers=0)
    generator, d = c.baseline(data.x.shape[1], c.size)
    discriminator = SigmoidD(d) if c.classic_step is None else d
    train_step = c.classic_step or gan_step
    optimizer_g = torch.optim.Adam(generator.parameters(), lr=2e-4, betas=(0.5, 0.999))
    optimizer_d = torch.optim.Adam(discriminator.parameters(), lr=2e-4, betas=(0.5, 0.999))
    log: list[str] = []

    def batches():
        epoch = 0
        while True:
            for i, batch in enumerate(loader):
                yield epoch, i, batch
            epoch += 1

    stream = batches()

    def step() -> int:
        epoch, i, (imgs, labels) = next(stream)
        d_loss, g_loss = train_step(generator, discriminator, optimizer_g, optimizer_d, imgs, labels)
        # the per-batch log line (kept in memory, not printed); sample grids every 400 batches are left out
        log.append("[Epoch %d] [Batch %d/%d] [D loss: %f] [G loss: %f]"
                   % (epoch, i, len(loader), d_loss.item(), g_loss.item()))
        if len(log) > 1000:
            log.clear()
        return imgs.size(0)

    result = time_repeats(step, args.warmup, args.iters, args.repeats, args.target_seconds)
    result["flops"] = count_flops(step)
    return result


# --- the run ------------------------------------------------------------------------------------
def machine_header() -> dict[str, Any]:
    cpu = cpu_model()
    return {"date": datetime.datetime.now().astimezone().isoformat(timespec="seconds"),
            "torch": torch.__version__, "nproc": os.cpu_count(), "threads": torch.get_num_threads(),
            "cpu": cpu, "python": platform.python_version(), "loadavg": os.getloadavg(),
            "command": "PYTHONPATH=src python " + " ".join(["benchmarks/throughput.py", *sys.argv[1:]])}


def wait_for_load(limit: float, minutes: float) -> None:
    deadline = time.monotonic() + 60 * minutes
    while os.getloadavg()[0] >= limit and time.monotonic() < deadline:
        print(f"# load average {os.getloadavg()[0]:.2f} >= {limit}: waiting 60 s", flush=True)
        time.sleep(60)


def fmt(value: float | None, spec: str) -> str:
    return "-" if value is None else format(value, spec)


def render(header: dict[str, Any], peaks: dict[str, float], rows: list[dict[str, Any]]) -> str:
    load = header["loadavg"]
    lines = [f"# {header['date']}  torch {header['torch']}  nproc {header['nproc']}  threads {header['threads']}"
             f"  {header['cpu']}",
             f"# load average at start {load[0]:.2f} {load[1]:.2f} {load[2]:.2f}"
             + (f", at end {header['loadavg_end'][0]:.2f}" if "loadavg_end" in header else ""),
             f"# {header['command']}",
             "# matmul (n=2048 on CPU, 8192 on GPU): " + ", ".join(f"{k} {v:.1f} GFLOP/s" for k, v in peaks.items()),
             ""]
    cols = ["config", "implementation", "prec", "size", "img/s", "min-max", "it/s", "GFLOP/it", "GFLOP/s",
            "% matmul", "speedup"]
    table = []
    for r in rows:
        table.append([r["config"], r["impl"], r.get("precision") or "-", str(r.get("size") or "-"),
                      fmt(r.get("img_per_s"), ",.0f"),
                      "-" if r.get("img_per_s_min") is None else f"{r['img_per_s_min']:,.0f}-{r['img_per_s_max']:,.0f}",
                      fmt(r.get("it_per_s"), ".1f"),
                      fmt(None if r.get("flops") is None else r["flops"] / 1e9, ".3f"),
                      fmt(r.get("gflops"), ".1f"),
                      fmt(None if r.get("peak_fraction") is None else 100 * r["peak_fraction"], ".1f"),
                      "-" if r.get("speedup") is None else f"{r['speedup']:.2f}x"])
    widths = [max(len(c), *(len(t[i]) for t in table)) if table else len(c) for i, c in enumerate(cols)]
    left = {0, 1, 2}
    def line(cells):
        return "| " + " | ".join(c.ljust(w) if i in left else c.rjust(w)
                                 for i, (c, w) in enumerate(zip(cells, widths))) + " |"
    lines.append(line(cols))
    lines.append("|" + "|".join(("-" * (w + 2)) if i in left else ("-" * (w + 1) + ":")
                                for i, w in enumerate(widths)) + "|")
    lines += [line(t) for t in table]
    lines += ["",
              "img/s: median over repeats after warm-up (min-max of the repeats next to it); "
              "GFLOP/it: matmul+conv FLOPs of one training iteration (FlopCounterMode); "
              "% matmul: GFLOP/s over the same-precision large matmul on the same device; "
              "speedup: gankit over the classic-loop baseline measured in this run."]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--repeats", type=int, default=5, help="timed repeats per row (median reported)")
    p.add_argument("--warmup", type=int, default=10, help="untimed iterations before timing")
    p.add_argument("--iters", type=int, default=None,
                   help="iterations per repeat (default: about --target-seconds per repeat)")
    p.add_argument("--target-seconds", type=float, default=2.0, help="repeat length when --iters is not given")
    p.add_argument("--only", default=None, help=f"comma-separated configs: {', '.join(c.name for c in CONFIGS)}")
    p.add_argument("--precision", default="fp32", help="comma-separated: fp32,bf16")
    p.add_argument("--device", default="cpu", help="cpu (default) or cuda; the classic-loop baselines run on CPU only")
    p.add_argument("--compile", action="store_true", help="add rows with torch.compile (train.compile=true)")
    p.add_argument("--skip-baselines", action="store_true", help="leave out the classic-loop baselines")
    p.add_argument("--json", default=None, help="also write the results to this JSON file")
    p.add_argument("--wait-load", type=float, default=None,
                   help="before measuring, wait (up to --wait-minutes) until the 1-min load average is below this")
    p.add_argument("--wait-minutes", type=float, default=20.0)
    args = p.parse_args(argv)

    precisions = [s.strip() for s in args.precision.split(",") if s.strip()]
    if bad := [s for s in precisions if s not in ("fp32", "bf16")]:
        p.error(f"--precision: unknown {bad}; use fp32 and/or bf16")
    configs = CONFIGS
    if args.only:
        names = [s.strip() for s in args.only.split(",")]
        if unknown := [n for n in names if n not in {c.name for c in CONFIGS}]:
            p.error(f"--only: unknown {unknown}; configs: {', '.join(c.name for c in CONFIGS)}")
        configs = [c for c in CONFIGS if c.name in names]

    if args.wait_load is not None:
        wait_for_load(args.wait_load, args.wait_minutes)
    header = machine_header()
    print(f"# load average {header['loadavg'][0]:.2f} {header['loadavg'][1]:.2f} {header['loadavg'][2]:.2f}; "
          f"torch {header['torch']}, {header['threads']} threads", flush=True)

    if args.device != "cpu":
        args.skip_baselines = True  # the classic loops are CPU programs; compare GPU rows with the matmul
    peaks = {"fp32": matmul_gflops(torch.float32, args.device)}
    if "bf16" in precisions:
        peaks["bf16"] = matmul_gflops(torch.bfloat16, args.device)
    print(f"# matmul on {args.device}: " + ", ".join(f"{k} {v:.1f} GFLOP/s" for k, v in peaks.items()), flush=True)

    rows: list[dict[str, Any]] = []
    for c in configs:
        baseline = None
        if c.baseline is not None and not args.skip_baselines:
            print(f"# {c.name}: classic loop baseline ...", flush=True)
            r = bench_baseline(c, args)
            r.update(config=c.name, impl="classic loop (DataLoader+PIL)", precision="fp32", size=c.size)
            r["gflops"] = r["flops"] * r["it_per_s"] / 1e9
            r["peak_fraction"] = r["gflops"] / peaks["fp32"]
            baseline = r["img_per_s"]
            rows.append(r)
        eager_flops = {}
        for prec, compiled in [(p, False) for p in precisions] + ([(p, True) for p in precisions] if args.compile else []):
            print(f"# {c.name}: gankit Trainer {prec}{' compiled' if compiled else ''} ...", flush=True)
            r = bench_gankit(c, prec, args, compiled)
            r["flops"] = eager_flops.setdefault(prec, r["flops"]) if r["flops"] is not None else eager_flops[prec]
            r.update(config=c.name, impl=f"gankit Trainer ({c.note}){', --compile' if compiled else ''}",
                     precision=prec, size=c.size)
            r["gflops"] = r["flops"] * r["it_per_s"] / 1e9
            r["peak_fraction"] = r["gflops"] / peaks[prec]
            if baseline:
                r["speedup"] = r["img_per_s"] / baseline
            rows.append(r)
        if c.name in ISSUE_REFERENCE:
            script, value = ISSUE_REFERENCE[c.name]
            rows.append({"config": c.name, "impl": f"{script} as measured in the issue (reference)",
                         "img_per_s": value, "size": c.size, "precision": "fp32"})
    header["loadavg_end"] = os.getloadavg()
    text = render(header, peaks, rows)
    print()
    print(text)
    if args.json:
        Path(args.json).write_text(json.dumps({"header": header, "matmul_gflops": peaks, "rows": rows,
                                               "table": text}, indent=2) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
