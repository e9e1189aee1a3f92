"""FID, KID, precision/recall and density/coverage between two arrays of images, with no dataset
needed: to check gankit's numbers against another tool's on the very same images."""
from __future__ import annotations

from .evaluate import parse_metrics, progress_log

FEATURE_METRICS = ("fid", "kid", "pr", "dc")


def compare(samples, against, metrics=FEATURE_METRICS, features=None, convention="tf",
            inception_weights=None, data_name=None, progress=True) -> dict:
    """Metrics of ``samples`` with ``against`` in the place of the real data.  ``against`` is the
    reference side (FID is symmetric; KID nearly so; precision/recall and density/coverage are not).
    ``features``: "inception" (the default without ``data_name``) or "dataset" (``data_name``'s
    classifier reads both; the default when that dataset has one)."""
    from .cache import MAX_REAL_FEATURES, subset
    from .features import choose_features, feature_metrics, feature_model, feature_record, run_features
    from .fid import gaussian_stats
    from .samples import as_images

    log = progress_log(progress)
    wanted = [m for m in parse_metrics(metrics) if m in FEATURE_METRICS]
    if not wanted:
        raise ValueError(f"--against compares two sets of images by {', '.join(FEATURE_METRICS)}; "
                         f"none of them was asked for in {metrics!r}")
    a, b = as_images(samples, "samples"), as_images(against, "--against images")
    extractor = None
    if data_name is not None:
        from gankit.data import dataset_info
        extractor = dataset_info(data_name).extractor
    chosen = choose_features(features, inception_weights, extractor)
    model = feature_model(chosen, data_name, convention, inception_weights, log)
    log(f"features of {len(b)} reference images")
    fb = run_features(model, b, log)[0]
    log(f"features of {len(a)} samples")
    fa = run_features(model, a, log)[0]
    mu, sigma = gaussian_stats(fb)
    out = feature_metrics(fa, {"mu": mu, "sigma": sigma, "features": fb[subset(len(fb), MAX_REAL_FEATURES)]},
                          wanted, log)
    out["features"] = feature_record(model, chosen, len(a), len(b))
    return out
