"""What the report shows of one run, read from its run directory."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import yaml

from gankit.report.figures import Figure, generated_figures
from gankit.viz.plots import read_metrics

MAX_FRAMES = 40  # sample grids kept for the training slider (evenly spaced, the newest always)
REFERENCE_FILE = "reference.json"  # `gankit eval --reference --data NAME --json RUN/reference.json`


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
