"""Fixing and sweeping a generator's named inputs: InfoGAN's codes, a conditional model's label.

``gankit sample RUN --code c1=3 --code c2=-1.5`` fixes inputs for every sample;
``gankit traverse RUN --code c2 --range -2 2`` sweeps one of them, as in the figures of Chen et al.
(2016): one row per value of a categorical input, one column per value of the swept one, the noise
and every other input held fixed. Both work for any recipe, through its declared inputs
(:class:`~gankit.models.inputs.Input`).
"""

from __future__ import annotations

import torch

from gankit.config import ConfigError
from gankit.models.inputs import Input
from gankit.noise import Noise


def describe(spec: Input) -> str:
    """``c1 (categorical, 0..9)``, ``c2 (uniform in [-1, 1])``, ``z (normal, 62 values)``."""
    if spec.distribution == "categorical":
        kind = f"categorical, 0..{spec.classes - 1}"
    elif spec.distribution == "uniform":
        kind = f"uniform in [{spec.low:g}, {spec.high:g}]"
    else:
        kind = spec.distribution
    size = int(torch.tensor(spec.shape).prod()) if spec.shape else 1
    return f"{spec.name} ({kind}{f', {size} values' if size > 1 else ''})"


def find_input(specs: tuple[Input, ...], name: str) -> Input:
    """The input called ``name``, or a ConfigError that lists the generator's inputs."""
    for spec in specs:
        if spec.name == name:
            return spec
    raise ConfigError(f"this generator has no input named {name!r}; its inputs are "
                      f"{', '.join(describe(s) for s in specs)}")


def parse_codes(items: list[str], specs: tuple[Input, ...]) -> dict[str, float]:
    """``["c1=3", "c2=-1.5"]`` -> ``{"c1": 3, "c2": -1.5}``, checked against the generator's inputs.

    A categorical input takes an integer in its range; a continuous one any number (values
    outside the prior's range extrapolate, as the InfoGAN paper does from -2 to 2).
    """
    out: dict[str, float] = {}
    for item in items:
        name, sep, text = item.partition("=")
        name = name.strip()
        if not sep or not name:
            raise ConfigError(f"--code expects NAME=VALUE (e.g. c1=3 or c2=-1.5), got {item!r}")
        spec = find_input(specs, name)
        try:
            value = float(text)
        except ValueError:
            raise ConfigError(f"--code {name}: {text!r} is not a number") from None
        out[name] = check_value(spec, value)
    return out


def check_value(spec: Input, value: float) -> float:
    """A value that ``spec`` can take, or a ConfigError saying why not."""
    if spec.distribution == "given":
        raise ConfigError(f"{spec.name} is a conditioning input given per sample (e.g. an image); "
                          "it cannot be set to one number")
    if spec.distribution == "categorical":
        if value != int(value) or not 0 <= value < spec.classes:
            raise ConfigError(f"{spec.name} is categorical: it takes an integer in 0..{spec.classes - 1}, "
                              f"got {value:g}")
        return int(value)
    return value


def fixed(spec: Input, value: float, n: int) -> torch.Tensor:
    """``n`` copies of one value of ``spec``, with its dtype and shape."""
    dtype = torch.long if spec.distribution == "categorical" else torch.float32
    return torch.full((n, *spec.shape), value, dtype=dtype)


def fixed_inputs(codes: dict[str, float], specs: tuple[Input, ...], n: int) -> dict[str, torch.Tensor]:
    """The generator inputs that ``codes`` fixes, for ``n`` samples (pass them as ``run.sample(**...)``)."""
    return {name: fixed(find_input(specs, name), value, n) for name, value in codes.items()}


def traversal_inputs(specs: tuple[Input, ...], code: str, low: float | None, high: float | None, steps: int,
                     noise: Noise, rows: int = 10, given: dict[str, float] | None = None):
    """Inputs of a traversal grid, row-major, and its (row labels, column values).

    Columns sweep ``code``: ``steps`` values from ``low`` to ``high`` for a continuous input, every
    value for a categorical one (``low``/``high`` then pick a sub-range). Rows are the values of the
    first other categorical input (its classes), or ``rows`` draws of the noise when there is none.
    One draw of every other input is shared by the whole grid (per row when rows are noise draws);
    other continuous codes sit at the middle of their range unless ``given`` fixes them.
    """
    given = dict(given or {})
    swept = find_input(specs, code)
    if swept.shape != ():
        raise ConfigError(f"traverse sweeps a scalar code; {describe(swept)} has shape {swept.shape}. "
                          f"Scalar inputs: {', '.join(describe(s) for s in specs if s.shape == ()) or 'none'}")
    if swept.distribution == "categorical":
        first = 0 if low is None else int(check_value(swept, low))
        last = swept.classes - 1 if high is None else int(check_value(swept, high))
        columns = torch.arange(first, last + 1, dtype=torch.float32)
    elif swept.distribution == "given":
        raise ConfigError(f"{swept.name} is given per sample and cannot be swept")
    else:
        low = swept.low if low is None else low
        high = swept.high if high is None else high
        if steps < 2:
            raise ConfigError(f"--steps must be at least 2, got {steps}")
        columns = torch.linspace(low, high, steps)
    row_spec = next((s for s in specs if s.distribution == "categorical" and s.name != code and s.shape == ()
                     and s.name not in given), None)
    n_rows = row_spec.classes if row_spec is not None else rows
    row_labels = list(range(n_rows))
    cols = len(columns)
    n = n_rows * cols
    inputs = {swept.name: columns.repeat(n_rows).to(torch.long if swept.distribution == "categorical"
                                                     else torch.float32)}
    if row_spec is not None:
        inputs[row_spec.name] = torch.arange(n_rows).repeat_interleave(cols)
    for spec in specs:
        if spec.name in inputs:
            continue
        if spec.name in given:
            inputs[spec.name] = fixed(spec, check_value(spec, given[spec.name]), n)
        elif spec.shape == () and spec.distribution == "uniform":
            inputs[spec.name] = fixed(spec, (spec.low + spec.high) / 2, n)
        else:
            one = spec.draw(1 if row_spec is not None else n_rows, noise).cpu()
            inputs[spec.name] = one.repeat_interleave(n // len(one), dim=0)
    return inputs, row_labels, columns.tolist()
