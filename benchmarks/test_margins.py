"""How far the quality assertions of the test suite sit from their thresholds, across arithmetic.

Some tests train a small model for a fixed number of steps and assert what it learnt (a 1-D GAN
moves onto N(4, 0.5²); a trained D approaches D*; the docs' conditional toy draws the asked
mode). What a model reaches after N steps depends on the CPU's arithmetic: vector width, fused
multiply-adds, bf16 where ``train.precision=auto`` picks it (CPUs with AVX512-BF16 or AMX). This
script measures each such statistic

* under two ATen kernel sets (``ATEN_CPU_CAPABILITY``: this CPU's best, and ``default``, the
  scalar kernels: other reduction orders and no FMA, as another CPU kind would compute),
* in fp32 and in bf16 autocast (what ``auto`` becomes on a bf16 CPU; emulated where the CPU has
  no bf16, same rounding),
* on the test's own seed and two more (a different seed stands for what a few ulps of drift do
  to a chaotic training run after a few hundred steps),

and prints one row per statistic with its threshold, the worst value seen and the margin left.
A test is CPU-independent when every variant passes with room to spare.

    python benchmarks/test_margins.py            # all variants (about 10 minutes on 2 cores)
    python benchmarks/test_margins.py --quick    # the tests' own seeds only
"""

from __future__ import annotations

import argparse
import json
import os
import re
import subprocess
import sys
import types
from pathlib import Path
from tempfile import TemporaryDirectory

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent / "tests"))

# statistic -> (test, threshold description, pass predicate, margin: how far from failing)
CHECKS = {
    "learning.before": ("test_learning::test_gan_moves_toward_the_data", "> 2.0", lambda v: v > 2.0, lambda v: v - 2.0),
    "learning.after": ("test_learning::test_gan_moves_toward_the_data", "< 0.5", lambda v: v < 0.5, lambda v: 0.5 - v),
    "learning.mean_error": ("test_learning::test_trained_samples_have_the_data_spread", "< 0.3",
                            lambda v: v < 0.3, lambda v: 0.3 - v),
    "learning.std": ("test_learning::test_trained_samples_have_the_data_spread", "in (0.25, 1.0)",
                     lambda v: 0.25 < v < 1.0, lambda v: min(v - 0.25, 1.0 - v)),
    "docs.min_hits": ("test_docs_recipe_example", "> 0.9", lambda v: v > 0.9, lambda v: v - 0.9),
    "theory.dstar_error": ("test_theory::test_trained_d_approaches_dstar", "< 0.05", lambda v: v < 0.05,
                           lambda v: 0.05 - v),
    "theory.jsd_first": ("test_theory::test_run_theory_numbers", "> 0.6", lambda v: v > 0.6, lambda v: v - 0.6),
    "theory.jsd_last": ("test_theory::test_run_theory_numbers", "< jsd_first / 2", lambda v: v < 0.5 * 0.6931,
                        lambda v: 0.5 * 0.6931 - v),
    "theory.final_mean_error": ("test_theory::test_run_theory_numbers", "< 0.3", lambda v: v < 0.3,
                                lambda v: 0.3 - v),
    "theory.v_minus_c": ("test_theory::test_run_theory_numbers", "< 5e-3", lambda v: v < 5e-3, lambda v: 5e-3 - v),
    "sgan.supervised_accuracy": ("test_sgan::test_supervised_only_baseline_learns_the_labelled_images", "> 0.5",
                                 lambda v: v > 0.5, lambda v: v - 0.5),
    "toy.distance_ratio": ("test_browser::test_toy_cloud_moves_toward_the_modes", "< 0.5", lambda v: v < 0.5,
                           lambda v: 0.5 - v),
}


def measure(seed_offset: int, precision: str, root: Path) -> dict[str, float]:
    """Every statistic once, with the tests' seeds shifted by ``seed_offset``."""
    import torch
    from scipy.stats import wasserstein_distance

    import gankit
    from gankit import theory
    from gankit.config import RunConfig
    from gankit.data import TOY_DISTRIBUTIONS, load_dataset
    from gankit.metrics.model_metrics import evaluate_model
    from gankit.serve.toy import nearest_centre_distance, toy_config
    from gankit.theory.gaussians import Normal1D
    from gankit.train.trainer import Trainer, train

    out: dict[str, float] = {}
    # test_learning: the vanilla GAN on gauss1d, 400 steps
    import test_learning

    before, after = test_learning.train_untrained_and_trained(root, seed_offset, precision)
    real = load_dataset("gauss1d", "test").x
    out["learning.before"] = wasserstein_distance(before.sample_array(5000, seed=1)[:, 0], real[:5000, 0])
    out["learning.after"] = wasserstein_distance(after.sample_array(5000, seed=1)[:, 0], real[:5000, 0])
    samples = after.sample_array(5000, seed=2)[:, 0]
    out["learning.mean_error"], out["learning.std"] = abs(float(samples.mean()) - 4.0), float(samples.std())

    # test_docs_recipe_example: the docs' conditional toy on ring8, 1,000 steps
    import test_docs_recipe_example as docs
    code = re.findall(r"```python\n(.*?)```", docs.DOC.read_text(), re.S)[0]
    module = sys.modules.setdefault("docs_recipes_example", types.ModuleType("docs_recipes_example"))
    if not hasattr(module, "ToyCGAN"):  # registered once per process
        exec(compile(code, str(docs.DOC), "exec"), module.__dict__)
    cfg = RunConfig(model="toy-cgan")
    cfg.data.name = "ring8"
    cfg.train.steps, cfg.train.log_every, cfg.train.sample_every = 1000, 100, 1000
    cfg.train.lr_g = cfg.train.lr_d = 1e-3
    cfg.train.seed, cfg.train.precision = seed_offset, precision
    train(cfg, root / "docs", progress=False)
    run = gankit.load(root / "docs")
    angles = 2 * torch.pi * torch.arange(8) / 8
    centres = torch.stack([2 * torch.cos(angles), 2 * torch.sin(angles)], 1)
    hits = [(torch.cdist(run.sample(200, labels=torch.full((200,), c), seed=c), centres).argmin(1) == c)
            .float().mean().item() for c in range(8)]
    out["docs.min_hits"] = min(hits)

    # test_theory: a D against a frozen G, and the demo (its own fp32 loop; precision does not apply)
    _, _, history = theory.fit_discriminator(Normal1D(3.0, 1.0), steps=1500, batch=512, seed=seed_offset,
                                             record_every=500)
    out["theory.dstar_error"] = history[-1][1]
    with theory.single_thread():
        res = theory.run_theory(root / "theory", seed=seed_offset, steps=1200, dstar_steps=1500, progress=False)
    jsds = list(res["gan_jsd"].values())
    out["theory.jsd_first"], out["theory.jsd_last"] = jsds[0], jsds[-1]
    out["theory.final_mean_error"] = abs(res["gan_final_mean"] - 4.0)
    out["theory.v_minus_c"] = abs(res["v_trained_d"] - res["c_frozen_g"])

    # test_sgan: the supervised-only baseline, 60 steps on 50 labelled digits
    import test_sgan

    cfg = test_sgan.config(60, supervised_only=True)
    cfg.train.lr_d = 3e-3
    cfg.train.seed, cfg.train.precision = seed_offset, precision
    train(cfg, root / "sgan", progress=False)
    out["sgan.supervised_accuracy"] = evaluate_model(gankit.load(root / "sgan"), ["ssl"])["supervised_accuracy"]

    # test_browser's toy page: the live toy GAN on ring8 (its config, seed 0 from the page), 1,000 steps
    cfg = toy_config("ring8", 1000, seed_offset)
    cfg.train.precision = precision
    centres8 = TOY_DISTRIBUTIONS["ring8"].centers
    z = torch.randn(500, cfg.options["latent_dim"], generator=torch.Generator().manual_seed(seed_offset + 7))
    seen = {}

    def snapshot(t):
        if t.step in (1, 1000):
            with torch.no_grad():
                seen[t.step] = t.recipe.generate({"z": z}).float().numpy()

    trainer = Trainer(cfg, root / "toy", progress=False, on_iteration=snapshot)
    trainer.fit()
    trainer.close()
    out["toy.distance_ratio"] = (nearest_centre_distance(seen[1000], centres8)
                                 / nearest_centre_distance(seen[1], centres8))
    return {k: float(v) for k, v in out.items()}


def child(args) -> None:
    import torch

    torch.set_num_threads(1)  # one process per core; threads do not change these numbers' order here
    rows = {}
    for offset in args.seeds:
        with TemporaryDirectory() as tmp:
            rows[str(offset)] = measure(offset, args.precision, Path(tmp))
    print(json.dumps({"capability": torch.backends.cpu.get_cpu_capability(), "precision": args.precision,
                      "rows": rows}))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true", help="only the tests' own seeds (offset 0)")
    parser.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--precision", default="fp32", help=argparse.SUPPRESS)
    parser.add_argument("--seeds", type=int, nargs="+", default=[0], help=argparse.SUPPRESS)
    parser.add_argument("--json", type=Path, help="also write every value to this file")
    args = parser.parse_args()
    if args.child:
        return child(args)
    seeds = ["0"] if args.quick else ["0", "1", "2"]
    jobs = []
    for capability in (None, "default"):
        for precision in ("fp32", "bf16"):
            env = dict(os.environ)
            env.pop("ATEN_CPU_CAPABILITY", None)
            if capability:
                env["ATEN_CPU_CAPABILITY"] = capability
            cmd = [sys.executable, __file__, "--child", "--precision", precision, "--seeds", *seeds]
            jobs.append(subprocess.Popen(cmd, env=env, stdout=subprocess.PIPE, text=True))
            if len(jobs) % 2 == 0:  # two at a time: one per core
                jobs[-2].wait(), jobs[-1].wait()
    results = [json.loads(job.communicate()[0].strip().splitlines()[-1]) for job in jobs]
    from machine import cpu_model

    print(f"# test margins on {cpu_model()}, torch {__import__('torch').__version__}")
    print(f"{'statistic':<26} {'threshold':<14} {'worst':>9} {'margin':>9}  {'all pass':<8} values (capability/precision/seed)")
    for stat, (test, threshold, ok, margin) in CHECKS.items():
        values = [(f"{r['capability']}/{r['precision']}/{s}", row[stat]) for r in results for s, row in r["rows"].items()]
        worst = min(values, key=lambda kv: margin(kv[1]))
        print(f"{stat:<26} {threshold:<14} {worst[1]:>9.4f} {margin(worst[1]):>9.4f}  "
              f"{str(all(ok(v) for _, v in values)):<8} " + ", ".join(f"{k}={v:.3g}" for k, v in values))
    if args.json:
        args.json.write_text(json.dumps(results, indent=1))


if __name__ == "__main__":
    main()
