"""What machine a benchmark figure comes from: every figure is recorded with the CPU it ran on."""

from __future__ import annotations

import platform
from pathlib import Path


def cpu_model() -> str:
    """The CPU's model name, with "AVX512-BF16" and "AMX" appended where the CPU has them.

    Machines of one kind differ in these (an EPYC with AVX512-BF16, a Xeon with both, a Xeon with
    neither), and they change bf16 speed several times over; the model name alone may not say.
    """
    try:
        text = Path("/proc/cpuinfo").read_text()
    except OSError:
        return platform.processor() or "unknown CPU"
    model = next((line.split(":", 1)[1].strip() for line in text.splitlines() if line.startswith("model name")),
                 platform.processor() or "unknown CPU")
    flags = set(next((line.split(":", 1)[1].split() for line in text.splitlines() if line.startswith("flags")), []))
    found = [name for flag, name in (("avx512_bf16", "AVX512-BF16"), ("amx_bf16", "AMX")) if flag in flags]
    return f"{model} ({', '.join(found)})" if found else model


def run_header(script: str, argv: list[str]) -> dict:
    """The facts a figure is recorded with (date, CPU, torch, threads, load, command), printed as
    comment lines above a benchmark's table."""
    import datetime
    import os

    import torch

    header = {"date": datetime.datetime.now().astimezone().isoformat(timespec="seconds"), "cpu": cpu_model(),
              "torch": torch.__version__, "threads": torch.get_num_threads(), "loadavg_start": os.getloadavg(),
              "command": f"PYTHONPATH=src python benchmarks/{script} " + " ".join(argv)}
    print(f"# {header['date']}  {header['cpu']}  torch {header['torch']}  threads {header['threads']}  "
          f"load {' '.join(f'{v:.2f}' for v in header['loadavg_start'])}")
    print(f"# {header['command']}")
    return header


def side_by_side(ours, theirs, repeats: int, measure) -> dict:
    """``measure(ours)`` and ``measure(theirs)`` in alternation, ``repeats`` times each (a change of load
    hits both): medians and ranges."""
    import statistics

    a, b = [], []
    for _ in range(repeats):
        a.append(measure(ours))
        b.append(measure(theirs))
    return {"gankit": statistics.median(a), "gankit_range": [min(a), max(a)],
            "peer": statistics.median(b), "peer_range": [min(b), max(b)]}


def finish(header: dict, json_path, payload: dict) -> None:
    """The load at the end, printed; the header and ``payload`` written to ``json_path`` when given."""
    import json
    import os

    header["loadavg_end"] = os.getloadavg()
    print(f"# load at end {' '.join(f'{v:.2f}' for v in header['loadavg_end'])}")
    if json_path:
        Path(json_path).write_text(json.dumps({"header": header, **payload}, indent=2))
