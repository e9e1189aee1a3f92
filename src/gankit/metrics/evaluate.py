"""One call that evaluates samples with every metric that applies to their dataset."""
from __future__ import annotations

import math
import sys
import time

import numpy as np

from .features import MAX_PRDC

DEFAULT_METRICS = ("fid", "kid", "pr", "dc", "score", "parzen", "modes", "nn")
# Asked for by name only: "cas" trains two classifiers (minutes on a CPU).
OPTIONAL_METRICS = ("cas",)
KEY_ORDER = ("fid", "kid", "kid_std", "precision", "recall", "density", "coverage", "classifier_score",
             "classifier_score_std", "class_kl", "cond_accuracy", "cas", "cas_real", "parzen_ll", "parzen_se",
             "parzen_sigma", "modes", "hq_fraction", "mode_kl", "nn_ratio")
MAX_PARZEN = 10_000  # kernel centres, as Goodfellow et al.
MAX_NN = 2_000       # samples and test images whose nearest training image is searched
# The metrics read whole splits as arrays, so even a folder too large for training memory
# (data.store=mapped) is loaded into memory here.
# Which metrics apply to which data is the `metrics` of the dataset's gankit.data.catalog entry.


# The Inception Score reads the network's 1008-way ImageNet output; the weights gankit fetches (the
# TorchScript FID graph) stop at the 2048-d pool features, so no honest Inception Score exists here.
INCEPTION_SCORE_NAMES = ("is", "inception_score")


def parse_metrics(metrics) -> tuple[str, ...]:
    names = [m.strip() for m in metrics.split(",")] if isinstance(metrics, str) else list(metrics)
    if any(m in INCEPTION_SCORE_NAMES for m in names):
        raise ValueError("the Inception Score is not available: the FID Inception weights gankit uses have no "
                         "1008-way ImageNet output layer, only the 2048-d features FID/KID read. Use "
                         "classifier_score (the same formula with the dataset's own classifier), or compute the "
                         "Inception Score with a tool that has the full network")
    unknown = [m for m in names if m and m not in DEFAULT_METRICS + OPTIONAL_METRICS]
    if unknown:
        raise ValueError(f"unknown metric(s) {unknown}; choose from {','.join(DEFAULT_METRICS + OPTIONAL_METRICS)}")
    return tuple(m for m in names if m)


def progress_log(progress: bool):
    """A function that prints messages with the seconds since it was made (or nothing)."""
    t0 = time.time()

    def log(msg):
        if progress:
            print(f"[eval {time.time() - t0:6.1f}s] {msg}", file=sys.stderr, flush=True)
    return log


def evaluate(samples, data_name: str, metrics=DEFAULT_METRICS, labels=None, root=None, progress=True,
             inception_weights=None, value_range=None, features=None, convention="tf", real_n=None,
             _parzen_samples=None) -> dict:
    """Flat dict of metric values for `samples` of dataset `data_name`; metrics that do not apply
    to the data (e.g. FID on a toy, modes on Fashion-MNIST) are skipped.

    ``features``: "dataset" (the dataset's classifier, default where one exists) or "inception"
    (the FID Inception network, default otherwise), in FID ``convention`` tf, pytorch or clean;
    ``real_n``: training images the feature metrics compare against (see :mod:`.features`).
    Square samples at another size than the data's (a run trained with ``data.size``) are resized
    to the data's, and the training images they are compared with are loaded at the samples' size
    and resized back alike, so that the resizes cost neither side (on Fashion-MNIST, 28 -> 32 -> 28
    alone is classifier FID 5.2 from the data). When feature metrics run, ``out["features"]``
    records the feature set, convention, weights hash, both N and the samples' size if resized."""
    from gankit.data import dataset_info

    from .samples import at_data_size, prepare_samples

    log = progress_log(progress)
    asked = parse_metrics(metrics)
    info = dataset_info(data_name, root)
    wanted = [m for m in asked if m in info.metrics]
    out: dict = {}
    if info.kind == "toy":
        from gankit.data import TOY_DISTRIBUTIONS

        dist = TOY_DISTRIBUTIONS[data_name]
        x = prepare_samples(samples, info.shape, is_image=False)
        if "modes" in wanted:
            from .modes import toy_modes
            r = toy_modes(x, dist.centers, dist.std)
            out.update(modes=r["modes"], hq_fraction=r["hq_fraction"], mode_kl=r["mode_kl"])
        if "pr" in wanted or "dc" in wanted:
            from gankit.data import load_dataset
            from .prdc import prdc
            real = load_dataset(data_name, split="train", root=root, store="memory").x[:MAX_PRDC]
            r = prdc(real, x[:MAX_PRDC])
            out.update({k: r[k] for k in (("precision", "recall") if "pr" in wanted else ())
                        + (("density", "coverage") if "dc" in wanted else ())})
        return out
    if info.kind == "stacked":
        from .extractor import load_extractor
        from .modes import stacked_modes
        x = prepare_samples(samples, info.shape, value_range=value_range)
        if "modes" in wanted:
            log(f"reading {len(x)} x {info.shape[0]} digits")
            r = stacked_modes(x, load_extractor(info.extractor))
            out.update(modes=r["modes"], mode_kl=r["mode_kl"])
        return out

    x, drawn_at = at_data_size(samples, info.shape, value_range)
    if drawn_at:
        log(f"samples drawn at {drawn_at}x{drawn_at}, {data_name} is {info.shape[1]}x{info.shape[2]}: resized to it, "
            f"and compared with training images enlarged to {drawn_at}x{drawn_at} and resized back alike")
    probs = None
    if {"fid", "kid", "pr", "dc"} & set(wanted):
        from .cache import real_feature_stats
        from .features import choose_features, feature_metrics, feature_model, feature_record, run_features
        chosen = choose_features(features, inception_weights, info.extractor)
        model = feature_model(chosen, data_name, convention, inception_weights, log)
        log(f"features of {len(x)} samples")
        feats, probs = run_features(model, x, log)
        log("real features (cached after the first time)")
        real = real_feature_stats(data_name, "train", model, root, n=real_n, log=log, through_size=drawn_at)
        out.update(feature_metrics(feats, real, wanted, log))
        out["features"] = feature_record(model, chosen, len(x), int(real["n"]), drawn_at)
    if "score" in asked and "score" not in wanted:
        log(f"no classifier for {data_name}: classifier score skipped")
    if "score" in wanted:
        from .classifier_score import class_kl, classifier_score, cond_accuracy
        from .extractor import load_extractor
        if probs is None:
            probs = load_extractor(data_name).probs(x)
        out["classifier_score"], out["classifier_score_std"] = classifier_score(probs)
        out["class_kl"] = class_kl(probs)
        if labels is not None:
            out["cond_accuracy"] = cond_accuracy(probs, labels)
    if "cas" in asked:
        if labels is None or not info.extractor:
            log("cas skipped: it needs labelled samples (a conditional run or --labels) of a dataset with a "
                "classifier")
        else:
            from .cas import classification_accuracy_score
            out.update(classification_accuracy_score(x, labels, data_name, root=root, log=log))
    if "parzen" in wanted:
        from .cache import parzen_sets
        from .parzen import parzen_evaluate
        log("Parzen window")
        sets = parzen_sets(data_name, root)
        centres = x if _parzen_samples is None else _parzen_samples
        out.update(parzen_evaluate(centres[:MAX_PARZEN], sets["valid"], sets["test"]))
    if "nn" in wanted:
        from gankit.data import load_dataset
        from .memorisation import nn_ratio
        log("nearest training images")
        train = load_dataset(data_name, split="train", root=root, store="memory").x
        test = load_dataset(data_name, split="test", root=root, store="memory").x
        rng = np.random.default_rng(0)
        pick = lambda a: a[np.sort(rng.permutation(len(a))[:MAX_NN])]
        out["nn_ratio"] = nn_ratio(pick(x), train, pick(test))["nn_ratio"]
    log("done")
    return out


def reference(data_name: str, n: int = 10_000, metrics=DEFAULT_METRICS, root=None, progress=True,
              inception_weights=None, features=None, convention="tf", real_n=None) -> dict[str, dict]:
    """Floor and ceilings to read a model's numbers against: real held-out data, uniform noise and
    one real item repeated n times."""
    from gankit.data import TOY_DISTRIBUTIONS, dataset_info, load_dataset

    kind = dataset_info(data_name, root).kind
    rng = np.random.default_rng(0)
    kw = dict(metrics=metrics, root=root, progress=progress, inception_weights=inception_weights,
              features=features, convention=convention, real_n=real_n)
    if kind == "stacked":
        from .modes import load_stacked_mnist
        real, _ = load_stacked_mnist("test", n=n, root=root)
        noise = rng.integers(0, 256, size=real.shape, dtype=np.uint8)
        one = np.repeat(real[:1], n, axis=0)
    elif kind == "toy":
        real = load_dataset(data_name, split="test", root=root, store="memory").x[:n]
        c = np.asarray(TOY_DISTRIBUTIONS[data_name].centers, np.float64)
        lo, hi = c.min(0) - 1.0, c.max(0) + 1.0
        noise = rng.uniform(lo, hi, size=(n, c.shape[1]))
        one = np.repeat(c[:1], n, axis=0)
    else:
        train = load_dataset(data_name, split="train", root=root, store="memory").x
        real = load_dataset(data_name, split="test", root=root, store="memory").x[:n]
        noise = rng.integers(0, 256, size=(n,) + real.shape[1:], dtype=np.uint8)
        one = np.repeat(train[:1], n, axis=0)
    rows = {}
    # The real row's Parzen centres are training images: the test images are the evaluation set.
    extra = {"_parzen_samples": train[rng.permutation(len(train))[:n]]} if kind == "image" else {}
    rows["real test vs train"] = evaluate(real, data_name, **kw, **extra)
    rows["uniform noise"] = evaluate(noise, data_name, **kw)
    rows["one image repeated"] = evaluate(one, data_name, **kw)
    return rows


def _fmt(v) -> str:
    if isinstance(v, (bool, np.bool_)):
        return str(v)
    if isinstance(v, (int, np.integer)):
        return str(int(v))
    if isinstance(v, (float, np.floating)):
        v = float(v)
        if math.isnan(v) or math.isinf(v):
            return str(v)
        if v != 0 and (abs(v) >= 1e5 or abs(v) < 1e-3):
            return f"{v:.3e}"
        return f"{v:.4f}" if abs(v) < 10 else f"{v:.2f}"
    return str(v)


def format_table(rows) -> str:
    """rows: {row name: {metric: value}} (or one flat dict) -> aligned text table, one column per metric.
    Nested records (the ``features`` of a result) are not metrics: describe_features prints them."""
    if rows and not all(isinstance(v, dict) for v in rows.values()):
        rows = {"samples": rows}
    rows = {name: {k: v for k, v in r.items() if not isinstance(v, dict)} for name, r in rows.items()}
    keys = [k for k in KEY_ORDER if any(k in r for r in rows.values())]
    keys += sorted({k for r in rows.values() for k in r} - set(keys))
    header = ["", *keys]
    body = [[name, *(_fmt(r[k]) if k in r else "-" for k in keys)] for name, r in rows.items()]
    widths = [max(len(line[i]) for line in [header, *body]) for i in range(len(header))]
    fmt = lambda line: "  ".join(c.ljust(w) if i == 0 else c.rjust(w) for i, (c, w) in enumerate(zip(line, widths)))
    return "\n".join([fmt(header), fmt(["-" * w for w in widths]), *map(fmt, body)])
