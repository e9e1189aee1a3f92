"""The report's HTML: one self-contained page (figures as data URIs, a few lines of JavaScript)."""

from __future__ import annotations

import base64
import html
import math
from pathlib import Path

from gankit.report.figures import curves_figure, eval_curves_figure
from gankit.report.run_page import RunPage, read_page


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
