"""What machine a benchmark figure comes from: every figure is recorded with the CPU it ran on."""

from __future__ import annotations

import platform
from pathlib import Path


def cpu_model() -> str:
    """The CPU's model name, with "AVX512-BF16" appended where the CPU multiplies bf16 natively.

    Machines of one kind differ in this flag, and it changes bf16 speed several times over.
    """
    try:
        text = Path("/proc/cpuinfo").read_text()
    except OSError:
        return platform.processor() or "unknown CPU"
    model = next((line.split(":", 1)[1].strip() for line in text.splitlines() if line.startswith("model name")),
                 platform.processor() or "unknown CPU")
    return f"{model} (AVX512-BF16)" if "avx512_bf16" in text else model
