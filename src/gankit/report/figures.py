"""The report's figures: sample grids and figures drawn with the generator, training and evaluation curves."""

from __future__ import annotations

import io
from dataclasses import dataclass
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
from PIL import Image  # noqa: E402

from gankit.viz.grid import enlarge, grid_array  # noqa: E402

COLUMNS = 8  # samples per row of the generated figures
NOT_CURVES = {"step", "epoch", "time", "img_per_s", "eval"}


@dataclass
class Figure:
    title: str
    png: bytes
    note: str = ""


def png_bytes(array: np.ndarray) -> bytes:
    """A uint8 grid as PNG bytes, enlarged (nearest) so that small images stay visible."""
    buf = io.BytesIO()
    Image.fromarray(enlarge(array)).save(buf, format="PNG")
    return buf.getvalue()


def figure_bytes(fig) -> bytes:
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=90)
    plt.close(fig)
    return buf.getvalue()


def generated_figures(run_dir: Path) -> tuple[list[Figure], list[str]]:
    """Figures drawn with the run's generator; a generator that cannot be loaded is a note, not an error."""
    from gankit.run import Run  # loads torch and the recipes: only when figures are drawn

    try:
        run = Run(run_dir)
    except Exception as exc:  # an unregistered family, no checkpoint yet, a foreign version
        return [], [f"the generator could not be loaded, so the figures drawn with it are missing: {exc}"]
    figures = []
    try:
        if run.is_image:
            figures += image_figures(run)
        elif len(run.data_shape) == 1 and run.data_shape[0] == 2:
            figures.append(toy_figure(run))
    except Exception as exc:  # e.g. a generator that needs a given input the report cannot supply
        return figures, [f"drawing with the generator failed: {exc}"]
    return figures, []


def image_figures(run) -> list[Figure]:
    import torch

    from gankit.viz.controls import sweep_inputs

    out = []
    specs = run.input_specs
    base = run.inputs(COLUMNS, seed=1)  # inputs the data give come from held-out examples
    given = [s for s in specs if s.distribution == "given" and len(s.shape) == 3]
    if given:
        with torch.no_grad():
            rows = [base[s.name] for s in given] + [run.generate(base)]
        c = max(r.shape[1] for r in rows)  # gray inputs beside colour outputs
        rows = [r.expand(-1, c, -1, -1) for r in rows]
        out.append(Figure("held-out inputs and outputs", png_bytes(grid_array(torch.cat(rows), nrow=COLUMNS)),
                          f"rows: {', '.join(s.name for s in given)} (held-out examples), the generator's output"))
    if any(s.interpolates for s in specs):
        rows, steps = 3, COLUMNS
        inputs = run.interpolation(rows, steps, spherical=True, seed=0)
        out.append(Figure("latent interpolation", png_bytes(grid_array(run.generate(inputs), nrow=steps)),
                          f"{rows} spherical paths between random inputs, {steps} steps each (seed 0)"))
    stages = run.recipe.stages()
    if len(stages) > 1:
        with torch.no_grad():
            rows = []
            for stage in stages:
                with run.recipe.at_stage(stage):
                    rows.append(run.generate(base))
        out.append(Figure("growth: the same latents at every stage", png_bytes(grid_array(torch.cat(rows), nrow=COLUMNS)),
                          f"rows: {', '.join(stages)} (each through its own output layer, enlarged)"))
    if hasattr(run.recipe, "decode_caption"):
        out.append(caption_figure(run))
    names = run.data[next(iter(run.data))].class_names
    for spec in specs:
        swept = sweep_inputs(spec, base, COLUMNS)
        if swept is None:
            continue
        inputs, labels = swept
        if spec.is_label and names:
            labels = [names[int(c)] for c in labels]
        with torch.no_grad():
            images = run.generate(inputs)
        what = ("one row per class" if spec.is_label else
                "one row per value of the code" if spec.distribution == "categorical" else
                "each row sweeps one dimension of the code from low to high")
        out.append(Figure(f"{spec.name}: {what}", png_bytes(grid_array(images, nrow=COLUMNS)),
                          "rows: " + ", ".join(labels)))
    return out


def caption_figure(run) -> Figure:
    """A text-to-image run: a row of samples for each of 8 held-out captions (on ``shapes`` the last
    four name a colour-shape pair never seen in training)."""
    import torch

    examples = run.examples("test")
    novel = examples.extra.get("novel")
    rows = list(range(4)) + (list(np.flatnonzero(novel)[:4]) if novel is not None else list(range(4, 8)))
    rows = [r for r in rows if r < len(examples)]
    ids = torch.from_numpy(examples.extra["caption"][rows]).repeat_interleave(COLUMNS, 0)
    with torch.no_grad():
        images = run.generate(run.inputs(len(ids), seed=1, caption=ids))
    texts = run.recipe.decode_caption(ids[::COLUMNS])
    held = " (rows 5-8 name a colour-shape pair never seen in training)" if novel is not None else ""
    return Figure("held-out captions", png_bytes(grid_array(images, nrow=COLUMNS)),
                  "rows: " + "; ".join(f"{i + 1}. {t}" for i, t in enumerate(texts)) + held)


def toy_figure(run) -> Figure:
    from gankit.data import TOY_DISTRIBUTIONS

    points = run.sample(2000, seed=0).numpy()
    fig, ax = plt.subplots(figsize=(4.5, 4.5))
    ax.scatter(points[:, 0], points[:, 1], s=3, c="tab:green", alpha=0.5, label="G(z)")
    note = "2,000 samples of the final generator"
    dist = TOY_DISTRIBUTIONS.get(run.data_name)
    if dist is not None:
        from gankit.metrics.modes import toy_modes

        c = dist.centers
        ax.scatter(c[:, 0], c[:, 1], marker="x", s=60, c="k", label="mode centres")
        r = toy_modes(points, c, dist.std)
        note += f"; {r['modes']} of {len(c)} modes covered, {100 * r['hq_fraction']:.0f} % within 3σ of a centre"
    ax.set_aspect("equal")
    ax.legend(loc="upper right", markerscale=2)
    fig.tight_layout()
    return Figure("samples over the mode centres", figure_bytes(fig), note)


def curve_groups(rows_by_run: dict[str, list[dict]]) -> dict[str, list[str]]:
    """The logged statistics in panels: losses, discriminator outputs, and anything else."""
    keys = []
    for rows in rows_by_run.values():
        for r in rows:
            keys += [k for k, v in r.items() if k not in NOT_CURVES and isinstance(v, (int, float)) and k not in keys]
    groups = {"losses": [k for k in keys if k.endswith("loss")],
              "mean discriminator output": [k for k in keys if k.startswith("D(")]}
    groups["other statistics"] = [k for k in keys if k not in groups["losses"] + groups["mean discriminator output"]]
    return {title: ks for title, ks in groups.items() if ks}


def curves_figure(rows_by_run: dict[str, list[dict]]) -> bytes | None:
    """The training curves; with several runs, overlaid (one colour per run, one line style per key)."""
    groups = curve_groups(rows_by_run)
    if not groups:
        return None
    fig, axes = plt.subplots(1, len(groups), figsize=(5 * len(groups), 3.6), squeeze=False)
    styles = ["-", "--", ":", "-."]
    several = len(rows_by_run) > 1
    for ax, (title, keys) in zip(axes[0], groups.items()):
        for colour, (name, rows) in enumerate(rows_by_run.items()):
            for i, key in enumerate(keys):
                points = [(r["step"], r[key]) for r in rows if key in r]
                if not points:
                    continue
                steps, values = zip(*points)
                label = f"{name}: {key}" if several else key
                ax.plot(steps, values, styles[i % len(styles)], color=f"C{colour if several else i}", label=label)
        ax.set_title(title)
        ax.set_xlabel("step")
        ax.legend(fontsize=7)
    fig.tight_layout()
    return figure_bytes(fig)


def eval_curves_figure(eval_rows: list[dict], max_panels: int = 8) -> bytes | None:
    """Each evaluated metric against the step of the checkpoint scored, when checkpoints of two or more
    steps were evaluated (``for c in RUN/checkpoints/step_*; do gankit eval $c; done``). Rows drawn
    at a truncation are a series of their own; a step evaluated twice shows its last value."""
    if len({r.get("step", 0) for r in eval_rows}) < 2:
        return None
    series: dict[tuple[str, object], dict[int, float]] = {}
    not_metrics = NOT_CURVES | {"truncation"}
    for r in eval_rows:
        for key, value in r.items():
            if key not in not_metrics and isinstance(value, (int, float)) \
                    and not isinstance(value, bool) and not key.endswith("_std"):
                series.setdefault((key, r.get("truncation")), {})[r.get("step", 0)] = value
    metrics = list(dict.fromkeys(key for key, _ in series))[:max_panels]
    if not metrics:
        return None
    columns = min(4, len(metrics))
    rows = -(-len(metrics) // columns)
    fig, axes = plt.subplots(rows, columns, figsize=(3.6 * columns, 2.8 * rows), squeeze=False)
    for ax, metric in zip(axes.flat, metrics):
        for (key, psi), points in series.items():
            if key == metric:
                steps = sorted(points)
                ax.plot(steps, [points[s] for s in steps], "o-", ms=3,
                        label="full prior" if psi is None else f"truncation {psi}")
        ax.set_title(metric, fontsize=9)
        ax.set_xlabel("step", fontsize=8)
        if len([k for k, _ in series if k == metric]) > 1:
            ax.legend(fontsize=7)
    for ax in list(axes.flat)[len(metrics):]:
        ax.set_visible(False)
    fig.tight_layout()
    return figure_bytes(fig)
