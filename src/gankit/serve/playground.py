"""The generator of a run behind the playground: a request's settings in, a PNG out.

A setting (one sample) is a seed, a truncation, offsets along latent directions and a value for
each other input the recipe declares (a class, a code's category, a code's slider positions, the
index of a data example for a ``given`` input); see :mod:`gankit.viz.controls`. Nothing here
knows a family: the inputs come from ``Recipe.inputs()``.

Latent directions are either random orthonormal directions or PCA directions in the manner of
GANSpace (Härkönen et al. 2020): principal components of many generated samples, carried back
to the latent space by least-squares regression of the latents on the component scores. For a
Gaussian latent the PCA of the latents themselves would be isotropic, so the components are
taken where the generator makes them, in its output.
"""

from __future__ import annotations

import base64
import io
import math
import threading
from typing import Any

import numpy as np
import torch
from PIL import Image

from gankit.models.inputs import example_field
from gankit.run import Run, interpolation_latents
from gankit.viz.controls import controls, main_latent
from gankit.viz.grid import grid_array

MAX_SAMPLES = 64  # samples in one request's grid
MAX_STEPS = 16  # samples along one interpolation
MAX_DIRECTIONS = 16  # latent sliders
MAX_OFFSET = 10.0  # a slider's reach along its direction, in latent standard deviations
MAX_CAPTION = 200  # characters in a caption box
MAX_PIXELS = 1024 * 1024  # a grid larger than this is refused, whatever the run's image size
PCA_SAMPLES = 2000
DIRECTION_KINDS = ("random", "pca")


class BadRequest(ValueError):
    """A request the playground cannot serve; the message says what to change (HTTP 400)."""


def number(value: Any, name: str, low: float, high: float, integer: bool = False) -> float | int:
    """``value`` as a number within [low, high], or a :class:`BadRequest` naming the bound."""
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise BadRequest(f"{name} must be a number, got {str(value)[:40]!r}")
    try:
        finite = math.isfinite(value)
    except OverflowError:  # an integer too large for a float
        finite = False
    if not finite:
        raise BadRequest(f"{name} must be a finite number within {low:g}..{high:g}")
    if integer and int(value) != value:
        raise BadRequest(f"{name} must be an integer, got {value!r}")
    if not low <= value <= high:
        raise BadRequest(f"{name} must lie in {low:g}..{high:g}, got {value!r}")
    return int(value) if integer else float(value)


def png_data_uri(array: np.ndarray) -> str:
    buf = io.BytesIO()
    Image.fromarray(array).save(buf, format="PNG")
    return "data:image/png;base64," + base64.b64encode(buf.getvalue()).decode("ascii")


class Playground:
    """One run's generator, its controls and its latent directions, shared by all requests."""

    def __init__(self, run_dir):
        self.run = Run(run_dir)
        self.specs = self.run.input_specs
        names = self.run.data[next(iter(self.run.data))].class_names
        self.controls = controls(self.specs, tuple(names) if names else None, self.text_input)
        self.latent = main_latent(self.specs)
        self.directions: dict[str, torch.Tensor] = {}
        self.lock = threading.Lock()  # directions are computed once, by the first request that needs them

    @property
    def text_input(self) -> str | None:
        """The input a caption box fills (text-to-image recipes name it ``text_input``), if any."""
        return getattr(self.run.recipe, "text_input", None)

    def describe(self) -> dict:
        run = self.run
        return {"model": run.config.model, "data": run.data_name, "step": run.step, "shape": list(run.data_shape),
                "image": run.is_image, "ema": run.uses_ema, "conditional": run.conditional,
                "controls": [c.to_dict() for c in self.controls],
                "latent": None if self.latent is None else {"name": self.latent.name,
                                                            "size": int(np.prod(self.latent.shape))},
                "style_layers": run.recipe.style_layers(),
                "max_directions": MAX_DIRECTIONS, "max_samples": MAX_SAMPLES, "max_steps": MAX_STEPS}

    # --- latent directions ----------------------------------------------------------------------
    def direction_basis(self, kind: str) -> torch.Tensor:
        """(k, latent size) unit directions, k <= MAX_DIRECTIONS, computed once per kind."""
        if kind not in DIRECTION_KINDS:
            raise BadRequest(f"directions must be one of {', '.join(DIRECTION_KINDS)}, got {kind!r}")
        with self.lock:
            if kind not in self.directions:
                self.directions[kind] = self.random_directions() if kind == "random" else self.pca_directions()
            return self.directions[kind]

    def random_directions(self) -> torch.Tensor:
        size = int(np.prod(self.latent.shape))
        k = min(MAX_DIRECTIONS, size)
        q, _ = torch.linalg.qr(torch.randn(size, k, generator=torch.Generator().manual_seed(0)))
        return q.T.contiguous()

    @torch.no_grad()
    def pca_directions(self) -> torch.Tensor:
        inputs = self.run.inputs(PCA_SAMPLES, seed=12345)
        z = inputs[self.latent.name].reshape(PCA_SAMPLES, -1).cpu()
        out = self.run.generate(inputs).reshape(PCA_SAMPLES, -1).double()
        out = out - out.mean(0)
        k = min(MAX_DIRECTIONS, z.shape[1], out.shape[1])
        u, s, _ = torch.linalg.svd(out, full_matrices=False)
        scores = u[:, :k] * s[:k]  # the samples' coordinates on the first k components
        # z ~ scores @ w: each row of w is the latent direction that moves one component
        w = torch.linalg.lstsq(scores, z.double()).solution
        return (w / w.norm(dim=1, keepdim=True).clamp_min(1e-12)).float()

    # --- one setting to generator inputs ----------------------------------------------------------
    def inputs_for(self, setting: dict, n: int = 1) -> dict[str, torch.Tensor]:
        """Generator inputs for ``n`` samples of one setting (n > 1: seeds seed .. seed+n-1)."""
        if not isinstance(setting, dict):
            raise BadRequest("a setting must be a JSON object")
        seed = number(setting.get("seed", 0), "seed", 0, 2**31 - 1, integer=True)
        values = setting.get("values") or {}
        if not isinstance(values, dict):
            raise BadRequest("values must be an object: input name -> value")
        known = {c.name for c in self.controls}
        if unknown := sorted(set(values) - known):
            raise BadRequest(f"this generator has no input {', '.join(map(repr, unknown))}; "
                             f"its inputs are {', '.join(sorted(known))}")
        given = {}
        for control in self.controls:
            if control.name in values:
                given[control.name] = self.value_of(control, values[control.name], n)
            elif control.kind in ("given", "text"):  # a text box left empty: the first held-out caption
                given[control.name] = self.given_examples(control.name, [0] * n)
        rows = [self.run.inputs(1, seed + i, **{k: v[i:i + 1] for k, v in given.items()}) for i in range(n)]
        inputs = {k: torch.cat([r[k] for r in rows]) for k in rows[0]}
        truncation = setting.get("truncation")
        if truncation is not None:
            inputs = self.run.truncate(inputs, number(truncation, "truncation", 0.0, 2.0), given)
        if self.latent is not None:
            z = inputs[self.latent.name].reshape(n, -1) + self.offset(setting)
            inputs[self.latent.name] = z.reshape(n, *self.latent.shape)
        if setting.get("mix") is not None:
            inputs = self.mixed(inputs, setting["mix"], given, n)
        return inputs

    def mixed(self, inputs: dict[str, torch.Tensor], mix: Any, given: dict, n: int) -> dict[str, torch.Tensor]:
        """Style mixing: the styles from layer ``mix["from"]`` on come from the sample of ``mix["seed"]``."""
        layers = self.run.recipe.style_layers()
        if not layers:
            raise BadRequest(f"{self.run.config.model} has no styles to mix (stylegan2 has)")
        if not isinstance(mix, dict):
            raise BadRequest('mix must be an object: {"seed": S, "from": LAYER}')
        seed = number(mix.get("seed", 0), "mix.seed", 0, 2**31 - 1, integer=True)
        cutoff = number(mix.get("from", layers // 2), "mix.from", 1, layers - 1, integer=True)
        return self.run.recipe.mix_styles(inputs, self.run.inputs(n, seed, **given), cutoff)

    def offset(self, setting: dict) -> torch.Tensor:
        offsets = setting.get("offsets") or []
        if not isinstance(offsets, list) or len(offsets) > MAX_DIRECTIONS:
            raise BadRequest(f"offsets must be a list of at most {MAX_DIRECTIONS} numbers")
        if not offsets:
            return torch.zeros(())
        basis = self.direction_basis(setting.get("directions", "random"))
        a = torch.tensor([number(v, f"offsets[{i}]", -MAX_OFFSET, MAX_OFFSET) for i, v in enumerate(offsets)])
        if len(a) > len(basis):
            raise BadRequest(f"this latent has {len(basis)} directions; got {len(a)} offsets")
        return a @ basis[:len(a)]

    def value_of(self, control, value, n: int) -> torch.Tensor:
        if control.kind in ("label", "choice"):
            if control.size != 1:
                values = value if isinstance(value, list) else [value]
                if len(values) != control.size:
                    raise BadRequest(f"{control.name} takes {control.size} categories, got {value!r}")
                cats = [number(v, control.name, 0, control.classes - 1, integer=True) for v in values]
                spec = next(s for s in self.specs if s.name == control.name)
                return torch.tensor(cats).reshape(1, *spec.shape).repeat(n, *([1] * len(spec.shape)))
            return torch.full((n,), number(value, control.name, 0, control.classes - 1, integer=True))
        if control.kind == "slider":
            values = value if isinstance(value, list) else [value]
            if len(values) != control.size:
                raise BadRequest(f"{control.name} takes {control.size} values, got {len(values)}")
            spec = next(s for s in self.specs if s.name == control.name)
            code = torch.tensor([number(v, f"{control.name}[{i}]", control.low, control.high)
                                 for i, v in enumerate(values)])
            return code.reshape(1, *spec.shape).repeat(n, *([1] * len(spec.shape)))
        if control.kind == "given":
            return self.given_examples(control.name, [value] * n)
        if control.kind == "text":
            if not isinstance(value, str) or len(value) > MAX_CAPTION:
                raise BadRequest(f"{control.name} must be a caption (text of at most {MAX_CAPTION} characters)")
            try:
                return self.run.recipe.encode_text([value] * n).to(self.run.device)
            except ValueError as e:  # no words, or words the model never saw: the message lists its words
                raise BadRequest(str(e)) from e
        raise BadRequest(f"{control.name} is a latent: move it with the seed, the truncation and the directions")

    def given_examples(self, name: str, indices: list) -> torch.Tensor:
        """A ``given`` input taken from the run's held-out examples, by example index."""
        with self.lock:  # loaded once, by the first request that needs them
            examples = self.run.examples()
        idx = [number(i, name, 0, len(examples) - 1, integer=True) for i in indices]
        spec = next(s for s in self.specs if s.name == name)
        try:
            return example_field(examples, spec, idx)
        except ValueError as e:
            raise BadRequest(str(e)) from e

    # --- what the API returns ---------------------------------------------------------------------
    def picture(self, samples: torch.Tensor, nrow: int) -> dict:
        if not self.run.is_image:
            return {"points": samples.reshape(len(samples), -1).tolist()}
        grid = grid_array(samples, nrow=nrow, padding=0 if len(samples) == 1 else 2)
        if grid.shape[0] * grid.shape[1] > MAX_PIXELS:
            raise BadRequest(f"the picture would have {grid.shape[0]} x {grid.shape[1]} pixels; ask for fewer samples")
        return {"image": png_data_uri(grid), "width": int(grid.shape[1]), "height": int(grid.shape[0])}

    def sample(self, request: dict) -> dict:
        n = number(request.get("n", 1), "n", 1, MAX_SAMPLES, integer=True)
        samples = self.run.generate(self.inputs_for(request, n))
        return {"n": n, **self.picture(samples, nrow=min(n, 8))}

    def interpolate(self, request: dict) -> dict:
        steps = number(request.get("steps", 8), "steps", 2, MAX_STEPS, integer=True)
        a, b = self.inputs_for(request.get("a")), self.inputs_for(request.get("b"))
        spherical = bool(request.get("spherical", True))
        path = {}
        for spec in self.specs:
            if spec.interpolates:
                flat = interpolation_latents(a[spec.name].reshape(1, -1), b[spec.name].reshape(1, -1), steps,
                                             spherical and spec.distribution == "normal")
                path[spec.name] = flat.reshape(steps, *spec.shape)
            else:  # labels, codes and given inputs switch half-way
                half = steps // 2
                path[spec.name] = torch.cat([a[spec.name].repeat_interleave(half, 0),
                                             b[spec.name].repeat_interleave(steps - half, 0)])
        if self.text_input:  # captions move continuously, between their embeddings (and words)
            ids = torch.cat([a[self.text_input], b[self.text_input]])
            path.update(self.run.recipe.caption_path(ids, torch.linspace(0, 1, steps, device=ids.device)))
        return {"steps": steps, **self.picture(self.run.generate(path), nrow=steps)}
