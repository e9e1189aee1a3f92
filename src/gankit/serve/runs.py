"""The runs under RUNS_DIR, found and named so that no name from a browser can leave RUNS_DIR.

A run's name is its path relative to RUNS_DIR with ``/`` separators (``fmnist``, ``sweep/lr-1e-3``).
:meth:`RunsDirectory.resolve` accepts only names made of plain components (no ``..``, no absolute
path, no backslash, no NUL) whose resolved path, symlinks followed, is still inside RUNS_DIR and
holds a ``config.yaml``; anything else is "no such run", whatever it points at.
"""

from __future__ import annotations

import json
from pathlib import Path

from gankit.viz.plots import read_metrics

MAX_DEPTH = 2  # runs/NAME and runs/GROUP/NAME
MAX_NAME = 255


class RunNotFound(LookupError):
    """No run of that name under RUNS_DIR (HTTP 404)."""


class RunsDirectory:
    def __init__(self, root: str | Path):
        self.root = Path(root).resolve()
        if not self.root.is_dir():
            raise FileNotFoundError(f"{root} is not a directory; give the folder that holds your runs (e.g. runs)")

    def inside(self, path: Path) -> bool:
        try:
            path.resolve().relative_to(self.root)
        except (ValueError, OSError, RuntimeError):  # outside, unreadable, or a symlink loop
            return False
        return True

    def names(self) -> list[str]:
        """Every run directory up to MAX_DEPTH below the root, as names, sorted."""
        found = []

        def walk(folder: Path, depth: int) -> None:
            try:
                children = sorted(folder.iterdir())
            except OSError:
                return
            for child in children:
                if child.name.startswith(".") or not child.is_dir() or not self.inside(child):
                    continue
                if (child / "config.yaml").is_file():
                    found.append(child.relative_to(self.root).as_posix())
                elif depth < MAX_DEPTH:
                    walk(child, depth + 1)

        walk(self.root, 1)
        return found

    def resolve(self, name) -> Path:
        """The directory of run ``name``, or :class:`RunNotFound`."""
        if not isinstance(name, str) or not name or len(name) > MAX_NAME:
            raise RunNotFound("give a run name, as listed by /api/runs")
        parts = name.split("/")
        if ("\\" in name or "\0" in name or name.startswith("/") or
                any(p in ("", ".", "..") for p in parts) or len(parts) > MAX_DEPTH):
            raise RunNotFound(f"no run named {name!r} under the served folder")
        path = self.root.joinpath(*parts)
        if not self.inside(path) or not (path / "config.yaml").is_file():
            raise RunNotFound(f"no run named {name!r} under the served folder")
        return path.resolve()

    def summary(self, name: str) -> dict:
        """A run's list entry: model, data, training progress and its newest evaluation."""
        import yaml

        path = self.resolve(name)
        entry = {"name": name}
        try:
            config = yaml.safe_load((path / "config.yaml").read_text()) or {}
            entry.update(model=config.get("model"), data=(config.get("data") or {}).get("name"))
        except (OSError, yaml.YAMLError):
            entry["problem"] = "config.yaml cannot be read"
        try:
            rows = read_metrics(path / "metrics.jsonl")
        except (OSError, json.JSONDecodeError):
            rows, entry["problem"] = [], "metrics.jsonl cannot be read"
        train = [r for r in rows if not r.get("eval")]
        evals = [r for r in rows if r.get("eval")]
        if train:
            entry.update(step=train[-1].get("step"), minutes=round(train[-1].get("time", 0) / 60, 2))
        # Only the numbers: records such as the evaluation's "features" do not fit one table cell.
        entry["metrics"] = ({k: v for k, v in evals[-1].items() if k != "eval" and not isinstance(v, dict)}
                            if evals else {})
        entry["report"] = (path / "report.html").is_file()
        return entry
