"""One self-contained HTML page about one or several runs: ``gankit report RUN [RUN ...]``.

Everything is inline (PNG figures as data URIs, a few lines of JavaScript for the frame slider),
so the file opens from disk, offline, and can be mailed or attached to an issue. Per run: the
configuration, the loss and discriminator curves, the sample grids over training (a slider), the
latest grid, a latent interpolation, one row per class (or per code value) for generators with
a label or codes, toy samples over the mixture's mode centres, the evaluation results beside the
reference rows, and the nearest-training-neighbour picture when ``gankit eval`` drew one.
Several runs: their curves overlaid and their metrics side by side first.

The figures come from what the run directory holds; those that need the generator (the
interpolation, the class rows) load the newest checkpoint, and say so on the page if it cannot
be loaded, instead of failing the whole report.
"""

from __future__ import annotations

import base64
import html
import io
import json
import math
from dataclasses import dataclass, field
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import yaml  # noqa: E402
from PIL import Image  # noqa: E402

from gankit.viz.grid import grid_array  # noqa: E402
from gankit.viz.plots import read_metrics  # noqa: E402

MAX_FRAMES = 40  # sample grids kept for the training slider (evenly spaced, the newest always)
COLUMNS = 8  # samples per row of the generated figures
NOT_CURVES = {"step", "epoch", "time", "img_per_s", "eval"}
REFERENCE_FILE = "reference.json"  # `gankit eval --reference --data NAME --json RUN/reference.json`


# --- what a run directory holds ------------------------------------------------------------------
@dataclass
class Figure:
    title: str
    png: bytes
    note: str = ""


@dataclass
class RunPage:
    """Everything the report shows of one run."""

    name: str
    path: Path
    config_text: str
    config: dict
    train_rows: list[dict]
    eval_rows: list[dict]
    frames: list[tuple[int, bytes]]
    reference: dict[str, dict] | None
    figures: list[Figure] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)

    @property
    def latest_eval(self) -> dict:
        """The evaluation of the newest checkpoint evaluated, without its bookkeeping keys ({} when never
        evaluated): the last row logged at the highest step, since ``gankit eval RUN/checkpoints/step_N``
        may score an earlier checkpoint after the final one."""
        if not self.eval_rows:
            return {}
        newest = max(r.get("step", 0) for r in self.eval_rows)
        row = [r for r in self.eval_rows if r.get("step", 0) == newest][-1]
        return {k: v for k, v in row.items() if k not in ("eval",)}


def sample_frames(run_dir: Path, limit: int = MAX_FRAMES) -> list[tuple[int, bytes]]:
    """(step, PNG bytes) of the Trainer's sample grids, at most ``limit``, evenly spaced, newest kept."""
    found = []
    for path in (run_dir / "samples").glob("step_*.png"):
        try:
            found.append((int(path.stem.split("_")[-1]), path))
        except ValueError:
            continue
    found.sort()
    if len(found) > limit:
        keep = sorted({round(i) for i in np.linspace(0, len(found) - 1, limit)})
        found = [found[i] for i in keep]
    return [(step, path.read_bytes()) for step, path in found]


def read_page(run_dir: str | Path, reference: dict[str, dict] | None = None, generate: bool = True) -> RunPage:
    run_dir = Path(run_dir)
    config_path = run_dir / "config.yaml"
    if not config_path.exists():
        raise FileNotFoundError(f"{run_dir} is not a gankit run directory (no config.yaml)")
    text = config_path.read_text()
    config = yaml.safe_load(text) or {}
    rows = read_metrics(run_dir / "metrics.jsonl")
    own_reference = run_dir / REFERENCE_FILE
    if reference is None and own_reference.exists():
        reference = json.loads(own_reference.read_text())
    page = RunPage(run_dir.name or str(run_dir), run_dir, text, config,
                   [r for r in rows if not r.get("eval")], [r for r in rows if r.get("eval")],
                   sample_frames(run_dir), reference)
    if generate:
        page.figures, page.problems = generated_figures(run_dir)
    neighbours = run_dir / "nearest_neighbours.png"
    if neighbours.exists():
        page.figures.append(Figure("nearest training images", neighbours.read_bytes(),
                                   "each row: a sample (framed) and its nearest training images (gankit eval)"))
    return page


# --- figures ---------------------------------------------------------------------------------------
def png_bytes(array: np.ndarray, min_size: int = 256) -> bytes:
    """A uint8 grid as PNG bytes, enlarged (nearest) so that small images stay visible."""
    img = Image.fromarray(array)
    scale = max(1, math.ceil(min_size / max(img.width, img.height)))
    if scale > 1:
        img = img.resize((img.width * scale, img.height * scale), Image.NEAREST)
    buf = io.BytesIO()
    img.save(buf, format="PNG")
    return buf.getvalue()


def figure_bytes(fig) -> bytes:
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=90)
    plt.close(fig)
    return buf.getvalue()


def generated_figures(run_dir: Path) -> tuple[list[Figure], list[str]]:
    """Figures drawn with the run's generator; a generator that cannot be loaded is a note, not an error."""
    from gankit.run import Run

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
    if not any(s.distribution == "given" for s in specs):
        rows, steps = 3, COLUMNS
        inputs = run.interpolation(rows, steps, spherical=True, seed=0)
        out.append(Figure("latent interpolation", png_bytes(grid_array(run.generate(inputs), nrow=steps)),
                          f"{rows} spherical paths between random inputs, {steps} steps each (seed 0)"))
    base = run.inputs(COLUMNS, seed=1)
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


# --- HTML --------------------------------------------------------------------------------------------
def data_uri(png: bytes) -> str:
    return "data:image/png;base64," + base64.b64encode(png).decode("ascii")


def img(png: bytes, alt: str, css: str = "") -> str:
    return f'<img class="{css}" alt="{html.escape(alt)}" src="{data_uri(png)}">'


def fmt(value) -> str:
    if isinstance(value, dict):  # a record such as an evaluation's "features": what its metrics were read with
        return html.escape(", ".join(f"{k} {str(v)[:12]}" for k, v in value.items()))
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return html.escape(str(value))
    if isinstance(value, int):
        return str(value)
    if math.isnan(value) or math.isinf(value):
        return str(value)
    if value != 0 and (abs(value) >= 1e5 or abs(value) < 1e-3):
        return f"{value:.3e}"
    return f"{value:.4f}" if abs(value) < 10 else f"{value:.2f}"


def table(columns: dict[str, dict], css: str = "metrics") -> str:
    """Metric names down, one column per run or reference row."""
    keys = []
    for col in columns.values():
        keys += [k for k in col if k not in keys]
    head = "".join(f"<th>{html.escape(name)}</th>" for name in columns)
    body = "".join(f"<tr><th>{html.escape(k)}</th>" + "".join(f"<td>{fmt(c[k]) if k in c else '–'}</td>"
                                                                for c in columns.values()) + "</tr>" for k in keys)
    return f'<table class="{css}"><tr><th></th>{head}</tr>{body}</table>'


def frames_block(page: RunPage, index: int) -> str:
    if not page.frames:
        return "<p>No sample grids yet.</p>"
    steps = [s for s, _ in page.frames]
    images = "".join(f'<img class="frame" data-step="{s}" alt="samples at step {s}" src="{data_uri(b)}"'
                     f'{"" if i == len(page.frames) - 1 else " hidden"}>' for i, (s, b) in enumerate(page.frames))
    last = len(steps) - 1
    return (f'<div class="frames" id="frames-{index}">'
            f'<input type="range" min="0" max="{last}" value="{last}" aria-label="training step"> '
            f'<button type="button" class="play">play</button> <span class="step">step {steps[-1]}</span>'
            f'<div>{images}</div></div>')


def eval_block(page: RunPage) -> str:
    if not page.latest_eval:
        return ("<p>No evaluation yet: <code>gankit eval " + html.escape(str(page.path)) +
                "</code> adds one (and <code>gankit eval --reference --data NAME --json RUN/reference.json</code> "
                "the reference rows).</p>")
    columns = {f"this run (step {page.latest_eval.get('step', '?')})":
               {k: v for k, v in page.latest_eval.items() if k != "step"}}
    if page.reference:
        columns.update(page.reference)
    else:
        columns["reference"] = {}
    return table(columns)


def run_section(page: RunPage, index: int) -> str:
    c = page.config
    title = f"{c.get('model', '?')} on {c.get('data', {}).get('name', '?')}"
    last = page.train_rows[-1] if page.train_rows else {}
    summary = (f"{last.get('step', 0)} steps, {last.get('time', 0) / 60:.1f} min of training"
               if last else "no training log yet")
    parts = [f'<section class="run" id="run-{index}"><h2>{html.escape(page.name)} '
             f'<small>{html.escape(title)} · {summary}</small></h2>']
    for problem in page.problems:
        parts.append(f'<p class="problem">{html.escape(problem)}</p>')
    curves = curves_figure({page.name: page.train_rows})
    parts.append("<h3>Training curves</h3>" + (img(curves, "training curves", "figure") if curves else "<p>No log.</p>"))
    parts.append("<h3>Samples over training</h3>" + frames_block(page, index))
    if page.frames:
        parts.append("<h3>Latest samples</h3>" + img(page.frames[-1][1], "latest samples", "figure"))
    for figure in page.figures:
        parts.append(f"<h3>{html.escape(figure.title[:1].upper() + figure.title[1:])}</h3>"
                     + img(figure.png, figure.title, "figure") + f'<p class="note">{html.escape(figure.note)}</p>')
    parts.append("<h3>Evaluation</h3>" + eval_block(page))
    over_training = eval_curves_figure(page.eval_rows)
    if over_training:
        parts.append("<h3>Evaluation over training</h3>" + img(over_training, "evaluation over training", "figure"))
    parts.append(f"<details><summary>Configuration</summary><pre>{html.escape(page.config_text)}</pre></details>")
    parts.append("</section>")
    return "\n".join(parts)


def comparison_section(pages: list[RunPage]) -> str:
    curves = curves_figure({p.name: p.train_rows for p in pages})
    metrics = {p.name: {k: v for k, v in p.latest_eval.items() if k != "step"} for p in pages}
    for p in pages:
        last = p.train_rows[-1] if p.train_rows else {}
        metrics[p.name] = {"model": p.config.get("model"), "data": p.config.get("data", {}).get("name"),
                           "steps": last.get("step"), "minutes": round(last.get("time", 0) / 60, 2),
                           **metrics[p.name]}
    return ('<section id="comparison"><h2>Comparison</h2>'
            + (img(curves, "training curves of all runs", "figure") if curves else "")
            + table(metrics) + "</section>")


STYLE = """
body{font-family:system-ui,sans-serif;margin:1.5em auto;max-width:1100px;color:#222;padding:0 1em}
h2 small{font-weight:normal;color:#666;font-size:0.6em}
img.figure,img.frame{max-width:100%;image-rendering:pixelated;border:1px solid #ddd}
table.metrics{border-collapse:collapse;margin:0.5em 0}
table.metrics td,table.metrics th{border:1px solid #ccc;padding:3px 8px;text-align:right}
.note{color:#555;font-size:0.9em}.problem{color:#a40}
section.run{border-top:2px solid #444;margin-top:2em}
pre{background:#f6f6f6;padding:0.6em;overflow:auto}
"""

SCRIPT = """
document.querySelectorAll('.frames').forEach(function (box) {
  var slider = box.querySelector('input'), frames = box.querySelectorAll('img.frame');
  var label = box.querySelector('.step'), button = box.querySelector('.play'), timer = null;
  function show(i) {
    frames.forEach(function (f, j) { f.hidden = j !== i; });
    label.textContent = 'step ' + frames[i].dataset.step;
  }
  slider.addEventListener('input', function () { show(Number(slider.value)); });
  button.addEventListener('click', function () {
    if (timer) { clearInterval(timer); timer = null; button.textContent = 'play'; return; }
    button.textContent = 'pause';
    timer = setInterval(function () {
      slider.value = (Number(slider.value) + 1) % frames.length; show(Number(slider.value));
    }, 400);
  });
});
"""


def render(pages: list[RunPage]) -> str:
    names = ", ".join(p.name for p in pages)
    body = [comparison_section(pages)] if len(pages) > 1 else []
    body += [run_section(p, i) for i, p in enumerate(pages)]
    return (f'<!DOCTYPE html><html lang="en"><head><meta charset="utf-8"><link rel="icon" href="data:,">'
            f"<title>gankit report: {html.escape(names)}</title><style>{STYLE}</style></head><body>"
            f"<h1>gankit report</h1><p>{len(pages)} run{'s' if len(pages) > 1 else ''}: {html.escape(names)}</p>"
            + "\n".join(body) + f"<script>{SCRIPT}</script></body></html>")


def write_report(run_dirs, out: str | Path, reference: dict[str, dict] | None = None,
                 generate: bool = True) -> Path:
    """Write the report on ``run_dirs`` to ``out`` (written whole to a temporary file, then renamed).

    ``reference`` : rows of ``gankit eval --reference`` ({row: {metric: value}}) to show beside
    each run's evaluation; by default a run's own ``reference.json`` when it has one.
    ``generate`` : draw the figures that need the generator (interpolation, class rows).
    """
    pages = [read_page(d, reference, generate) for d in run_dirs]
    if not pages:
        raise ValueError("name at least one run directory")
    if len({p.name for p in pages}) < len(pages):  # runs/a/x and runs/b/x: tell them apart by path
        for p in pages:
            p.name = str(p.path)
    out = Path(out)
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = out.with_name(out.name + ".tmp")
    tmp.write_text(render(pages), encoding="utf-8")
    tmp.replace(out)
    return out
