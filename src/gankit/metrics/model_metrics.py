"""Metrics that read a trained run's own networks rather than only its samples.

``ssl``: a semi-supervised GAN's classifier on the real test set (:mod:`gankit.metrics.ssl`);
``codes``: how well a categorical code matches the classes (:mod:`gankit.metrics.codes`);
``captions``: whether a text-to-image model draws what its captions say (:mod:`gankit.metrics.captions`);
``rprecision``: whether its samples retrieve their own captions among 100 (:mod:`gankit.metrics.rprecision`).
Each applies only to runs that have what it needs and is skipped otherwise, like the sample
metrics that do not apply to a dataset.
"""
from __future__ import annotations

MODEL_METRICS = ("ssl", "codes", "captions", "rprecision")


def split_metrics(metrics) -> tuple[list[str], list[str]]:
    """(sample metrics for :func:`gankit.metrics.evaluate.evaluate`, model metrics of this module)."""
    names = [m.strip() for m in metrics.split(",")] if isinstance(metrics, str) else list(metrics)
    return [m for m in names if m and m not in MODEL_METRICS], [m for m in names if m in MODEL_METRICS]


def applicable(run) -> list[str]:
    """The model metrics that apply to ``run``."""
    out = []
    if hasattr(run.recipe, "classify"):
        out.append("ssl")
    if run.num_classes and any(s.distribution == "categorical" and not s.is_label for s in run.input_specs):
        out.append("codes")
    if any(s.name == "caption" for s in run.input_specs):
        out += ["captions", "rprecision"] if run.data_name == "shapes" else ["rprecision"]
    return out


def evaluate_model(run, metrics, n: int = 10_000, root=None, truncation: float | None = None) -> dict:
    """The asked-for model metrics that apply to ``run``, as one flat dict.

    ``truncation`` scales the normal latents of the samples a metric draws (``codes``), as
    ``gankit eval --truncation`` does for the sample metrics; ``ssl`` reads real images only.
    """
    out: dict = {}
    wanted = [m for m in metrics if m in applicable(run)]
    if "ssl" in wanted:
        from .ssl import ssl_accuracy
        out.update(ssl_accuracy(run, root))
    if "codes" in wanted:
        from .codes import code_accuracy
        out.update(code_accuracy(run, n, truncation=truncation))
    if "captions" in wanted:
        from .captions import caption_accuracy
        out.update(caption_accuracy(run, n, truncation=truncation))
    if "rprecision" in wanted:
        from .rprecision import r_precision
        out.update(r_precision(run, n, truncation=truncation))
    return out
