"""Run configuration: dataclasses, YAML presets and dotted ``--set key=value`` overrides.

A run is described by three sections plus the model's own options:

* ``data.*``  what to train on (``DataConfig``),
* ``train.*`` how to train (``TrainConfig``): budget, batch, optimiser, loss, k, EMA, precision ...
* ``model.*`` the options dataclass of the chosen recipe (widths, latent size, ...).

Unknown keys fail with the valid ones and the closest match, so a typo never trains silently
with a default.
"""

from __future__ import annotations

import dataclasses
import difflib
from dataclasses import dataclass, field, fields
from importlib import resources
from pathlib import Path
from typing import Any

import yaml


class ConfigError(ValueError):
    """A configuration key or value that gankit cannot use."""


def check_choice(key: str, value: Any, choices: tuple) -> None:
    """Refuse ``value`` for the option ``key`` (e.g. "model.d_norm") unless it is one of ``choices``."""
    if value not in choices:
        raise ConfigError(f"{key} must be one of {', '.join(map(str, choices))}, got {value!r}")


@dataclass
class DataConfig:
    name: str = "mnist-5k"
    root: str | None = None  # --data-root: looked up before $GANKIT_DATA and the system locations
    size: int | None = None  # resize images to size x size once at load time
    channels: int | None = None  # 1 or 3; None keeps the dataset's own
    store: str = "auto"  # folders: memory | mapped (a uint8 file read by index) | auto (mapped when large)
    labelled: int | None = None  # semi-supervised families (sgan): labelled training examples, equal per class, by seed


@dataclass
class TrainConfig:
    # Budget: the first of these that is reached stops training. None of them set -> 1 epoch.
    steps: int | None = None  # iterations (k D-steps + 1 G-step each); a total, also on --resume
    epochs: float | None = None  # passes over the training set by the discriminator's real batches
    minutes: float | None = None  # wall-clock of the training loop, start-up excluded
    batch_size: int = 64  # per process
    seed: int = 0
    device: str = "cpu"
    # fp32 | bf16 (autocast) | auto: bf16 on CPUs that multiply bf16 natively (AVX512-BF16 or AMX),
    # where it trained as well or better at equal wall-clock (benchmarks/RESULTS.md), else fp32.
    precision: str = "auto"
    compile: bool = False  # torch.compile the networks
    loss: str = "non-saturating"  # minimax | non-saturating | least-squares
    k: int = 1  # discriminator steps per generator step (Algorithm 1)
    optimizer: str = "adam"  # adam | sgd (SGD with momentum, the GAN paper's choice)
    lr_g: float = 2e-4
    lr_d: float = 2e-4
    betas: tuple[float, float] = (0.5, 0.999)  # Adam; Radford et al.'s beta1 = 0.5
    momentum: float = 0.5  # SGD; the GAN paper's Parzen experiments start at 0.5
    real_label: float = 1.0  # < 1 is one-sided label smoothing
    ema: float = 0.0  # generator EMA decay per step; 0 disables (e.g. 0.999)
    # Generator EMA with a half-life in thousands of real images (NVlabs' ema_kimg, e.g. 10): the
    # same average whatever the batch size, also when a stage changes it. Overrides train.ema.
    ema_kimg: float | None = None
    ema_rampup: float | None = None  # with ema_kimg: the half-life is at most this fraction of the images seen (e.g. 0.05)
    lr_decay: float | None = None  # decay every learning rate linearly to 0 from this fraction of the budget (e.g. 0.5)
    augment: str = "none"  # what D sees: none | diffaugment[:color,translation,cutout] | ada[:TARGET] (gankit.augment)
    log_every: int = 50
    sample_every: int = 500
    checkpoint_every: int = 1000
    keep_checkpoints: int = 3
    sync_batchnorm: bool = False  # under DDP: BatchNorm statistics over all ranks
    collective_timeout_s: float = 120.0  # under DDP: how long a rank waits for a dead peer
    report: bool = True  # gankit train writes RUN/report.html at the end (gankit report)
    tensorboard: bool = False  # also log scalars, sample grids and histograms to RUN/tb/ (needs tensorboard)


@dataclass
class RunConfig:
    model: str
    data: DataConfig = field(default_factory=DataConfig)
    train: TrainConfig = field(default_factory=TrainConfig)
    options: dict[str, Any] = field(default_factory=dict)  # the recipe's model.* options

    def to_dict(self) -> dict[str, Any]:
        """Plain YAML-ready values (tuples become lists)."""
        def plain(d):
            return {k: list(v) if isinstance(v, tuple) else v for k, v in d.items()}

        return {
            "model": self.model,
            "data": dataclasses.asdict(self.data),
            "train": plain(dataclasses.asdict(self.train)),
            "options": plain(self.options),
        }

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> "RunConfig":
        cfg = cls(model=d["model"])
        apply_overrides(cfg, {f"data.{k}": v for k, v in (d.get("data") or {}).items()})
        apply_overrides(cfg, {f"train.{k}": v for k, v in (d.get("train") or {}).items()})
        cfg.options = dict(d.get("options") or {})
        return cfg


def read_run_config(run_dir: str | Path) -> tuple[RunConfig, dict[str, Any]]:
    """The configuration saved in ``run_dir/config.yaml`` and the raw mapping (with ``resolved``).

    A file that gankit cannot read says so in one line; if another gankit version wrote it, the
    message names both versions.
    """
    from gankit.version import __version__

    path = Path(run_dir) / "config.yaml"
    if not path.exists():
        raise FileNotFoundError(f"{run_dir} is not a gankit run directory (no config.yaml); "
                                "create one with `gankit train MODEL --data NAME --out DIR`")
    raw = None
    try:
        raw = yaml.safe_load(path.read_text())
        if not isinstance(raw, dict) or "model" not in raw:
            raise ConfigError("it is not a mapping with a 'model' key")
        return RunConfig.from_dict(raw), raw
    except (ConfigError, yaml.YAMLError) as exc:
        written = raw.get("gankit_version") if isinstance(raw, dict) else None
        version = (f"; it was written by gankit {written} and this is gankit {__version__}"
                   if written and written != __version__ else "")
        raise ConfigError(f"{path} cannot be read: {str(exc).splitlines()[0]}{version}") from exc


def closest(name: str, valid: list[str]) -> str:
    """' (did you mean X?)' for the closest valid name, or ''."""
    match = difflib.get_close_matches(name, valid, n=1, cutoff=0.5)
    return f" (did you mean {match[0]!r}?)" if match else ""


def parse_value(text: str) -> Any:
    """A ``--set`` value as YAML: numbers, booleans, null and lists work as expected."""
    try:
        value = yaml.safe_load(text)
    except yaml.YAMLError:
        return text
    if isinstance(value, str):  # YAML 1.1 reads "1e-4" as a string
        try:
            return float(value)
        except ValueError:
            pass
    return value


def coerce(value: Any, current: Any, key: str) -> Any:
    """Check ``value`` against the type of the field's current/default value."""
    if value is None or current is None:
        return value
    if isinstance(current, bool):
        if isinstance(value, bool):
            return value
        raise ConfigError(f"{key} expects true or false, got {value!r}")
    if isinstance(current, int) and not isinstance(current, bool):
        if isinstance(value, int) and not isinstance(value, bool):
            return value
        if isinstance(value, float) and value.is_integer():
            return int(value)
        raise ConfigError(f"{key} expects an integer, got {value!r}")
    if isinstance(current, float):
        if isinstance(value, (int, float)) and not isinstance(value, bool):
            return float(value)
        raise ConfigError(f"{key} expects a number, got {value!r}")
    if isinstance(current, (tuple, list)):
        if not isinstance(value, (list, tuple)):
            raise ConfigError(f"{key} expects a list like [1, 2], got {value!r}")
        return type(current)(value)
    if isinstance(current, str) and not isinstance(value, str):
        return str(value)
    return value


def apply_overrides(cfg: RunConfig, overrides: dict[str, Any], model_options: Any = None) -> None:
    """Apply dotted overrides (``train.lr_g``, ``data.size``, ``model.latent_dim``) in place.

    ``model_options`` is the recipe's options dataclass instance; ``model.*`` keys are checked
    against its fields (and stored in ``cfg.options``).
    """
    sections = {"data": cfg.data, "train": cfg.train}
    for key, value in overrides.items():
        section, _, name = key.partition(".")
        if section == "model":
            if model_options is None:
                cfg.options[name] = value
                continue
            valid = [f.name for f in fields(model_options)]
            if name not in valid:
                raise ConfigError(f"unknown key {key!r}{closest(name, valid)}; "
                                  f"model options are: {', '.join('model.' + v for v in valid)}")
            cfg.options[name] = coerce(value, getattr(model_options, name), key)
            setattr(model_options, name, cfg.options[name])
            continue
        if section not in sections or not name:
            valid_sections = ["data", "train", "model"]
            raise ConfigError(f"unknown key {key!r}: keys look like SECTION.NAME with SECTION one of "
                              f"{valid_sections}{closest(section, valid_sections)}")
        target = sections[section]
        valid = [f.name for f in fields(target)]
        if name not in valid:
            raise ConfigError(f"unknown key {key!r}{closest(name, valid)}; "
                              f"valid {section} keys: {', '.join(valid)}")
        default = next(f for f in fields(target) if f.name == name)
        current = getattr(target, name)
        if current is None:  # an optional field: check against its annotation instead
            current = {"int": 0, "float": 0.0, "str": ""}.get(str(default.type).split(" ")[0])
        setattr(target, name, coerce(value, current, key))


def parse_set_arguments(items: list[str]) -> dict[str, Any]:
    """``["train.lr_g=1e-4", ...]`` -> ``{"train.lr_g": 1e-4, ...}``."""
    out = {}
    for item in items:
        key, sep, value = item.partition("=")
        if not sep or not key:
            raise ConfigError(f"--set expects KEY=VALUE (e.g. train.lr_g=1e-4), got {item!r}")
        out[key.strip()] = parse_value(value)
    return out


def preset_names() -> list[str]:
    folder = resources.files("gankit") / "presets"
    return sorted(p.name[:-5] for p in folder.iterdir() if p.name.endswith(".yaml"))


def load_preset(name: str) -> dict[str, Any]:
    """A preset shipped in the package: ``{"model": ..., "data": {...}, "train": {...}, "model_options": {...}}``."""
    names = preset_names()
    if name not in names:
        raise ConfigError(f"unknown preset {name!r}{closest(name, names)}; presets: {', '.join(names)}")
    text = (resources.files("gankit") / "presets" / f"{name}.yaml").read_text()
    return yaml.safe_load(text) or {}


def preset_description(name: str) -> str:
    return str(load_preset(name).get("description", ""))


def save_yaml(obj: Any, path: Path) -> None:
    tmp = path.with_suffix(path.suffix + ".tmp")
    tmp.write_text(yaml.safe_dump(obj, sort_keys=False))
    tmp.replace(path)
