"""Which feature space FID, KID, precision/recall and density/coverage read, and those four metrics
computed from features.

Two feature sets:
- ``dataset``: the compact classifier gankit trained on the dataset (``metrics/weights``).  Fast and
  sensitive within one dataset, but its numbers compare with nothing published.
- ``inception``: the FID Inception network, in one of the conventions of :mod:`.fid_conventions`.
  Its numbers compare with papers of the same convention; it costs 0.075-0.3 s per image on 2 CPU
  cores (depending on the CPU), which is why the real side is cached and its size (``real_n``) is a choice.
"""
from __future__ import annotations

import numpy as np

FEATURE_SETS = ("dataset", "inception")
# 10,000 real images: the usual sample count too (FID's bias shrinks as 1/N on each side, so the
# real side should not be the smaller one), computed once (about 50 min on 2 cores) then cached.
DEFAULT_REAL_N_INCEPTION = 10_000
MAX_PRDC = 10_000  # fake points for precision/recall/density/coverage (real side is capped in cache)


def choose_features(features, inception_weights, extractor) -> str:
    """The feature set asked for, or the default: a given weights file means Inception (as before
    --features existed), else the dataset classifier where the dataset has one."""
    if features is None:
        return "inception" if inception_weights or not extractor else "dataset"
    if features not in FEATURE_SETS:
        raise ValueError(f"unknown feature set {features!r}; choose from {', '.join(FEATURE_SETS)}")
    if features == "dataset" and not extractor:
        raise ValueError("--features dataset needs a dataset with its own classifier (fashion-mnist, mnist-5k, "
                         "digits, emoji and the sets built from them); use --features inception")
    if features == "dataset" and inception_weights:
        raise ValueError("--inception-weights was given with --features dataset; drop one of them")
    return features


def feature_model(features: str, data_name: str | None, convention: str, inception_weights, log):
    if features == "inception":
        from .inception_fetch import inception_features
        return inception_features(inception_weights, convention, log)
    from .extractor import load_extractor
    return load_extractor(data_name)


def run_features(model, x, log=None) -> tuple[np.ndarray, np.ndarray | None]:
    """(features, class probabilities or None): the dataset classifier gives both in one pass."""
    if hasattr(model, "run"):
        return model.run(x)
    return model.features(x, log=log), None


def feature_metrics(feats, real: dict, wanted, log=None) -> dict:
    """fid / kid / pr / dc of ``feats`` against real {'mu', 'sigma', 'features'}, those in ``wanted``."""
    out: dict = {}
    if "fid" in wanted:
        from .fid import frechet_distance, gaussian_stats
        out["fid"] = frechet_distance(*gaussian_stats(feats), real["mu"], real["sigma"])
    if "kid" in wanted:
        from .kid import kid
        out["kid"], out["kid_std"] = kid(feats, real["features"])
    if "pr" in wanted or "dc" in wanted:
        from .prdc import prdc
        if log is not None:
            log("precision/recall, density/coverage")
        r = prdc(real["features"], feats[:MAX_PRDC])
        if "pr" in wanted:
            out.update(precision=r["precision"], recall=r["recall"])
        if "dc" in wanted:
            out.update(density=r["density"], coverage=r["coverage"])
    return out


def feature_record(model, features: str, n: int, n_real: int, drawn_at: int | None = None) -> dict:
    """What a feature metric was computed on, kept beside it in the JSON and metrics.jsonl;
    ``drawn_at``: the side the samples were drawn at and both sides resized from (else absent)."""
    rec = {"set": features, "weights_sha256": model.sha256, "n": int(n), "n_real": int(n_real)}
    if drawn_at:
        rec["drawn_at"] = int(drawn_at)
    if features == "inception":
        rec["fid_convention"] = model.convention
    else:
        rec["extractor"] = model.name
    return rec


def describe_features(rec: dict) -> str:
    how = (f"FID Inception, {rec['fid_convention']} convention" if rec["set"] == "inception"
           else f"dataset classifier {rec['extractor']}")
    return (f"features: {how} (weights SHA-256 {rec['weights_sha256'][:12]}...); "
            f"{rec['n']} samples against {rec['n_real']} real images"
            + (f", both resized from {rec['drawn_at']}x{rec['drawn_at']}" if rec.get("drawn_at") else ""))
