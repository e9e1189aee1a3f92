"""Configuration: overrides, type checks and helpful errors."""

import pytest

from gankit.config import ConfigError, RunConfig, apply_overrides, load_preset, parse_set_arguments, preset_names
from gankit.models.gan import GANOptions


def test_overrides_are_typed():
    cfg = RunConfig(model="gan")
    apply_overrides(cfg, parse_set_arguments(["train.lr_g=1e-4", "train.k=3", "data.size=32",
                                              "train.betas=[0.0, 0.99]", "train.steps=100"]))
    assert cfg.train.lr_g == 1e-4 and cfg.train.k == 3 and cfg.data.size == 32
    assert cfg.train.betas == (0.0, 0.99) and cfg.train.steps == 100


@pytest.mark.parametrize("key, hint", [("train.stesp", "steps"), ("trian.k", "train"), ("data.sise", "size")])
def test_unknown_keys_name_the_closest_match(key, hint):
    with pytest.raises(ConfigError, match=f"did you mean '{hint}'"):
        apply_overrides(RunConfig(model="gan"), {key: 1})


def test_model_options_are_checked_against_the_recipe():
    cfg, options = RunConfig(model="gan"), GANOptions()
    apply_overrides(cfg, {"model.latent_dim": 8}, options)
    assert options.latent_dim == 8 and cfg.options == {"latent_dim": 8}
    with pytest.raises(ConfigError, match="did you mean 'g_widths'"):
        apply_overrides(cfg, {"model.g_width": [8]}, options)


@pytest.mark.parametrize("item, message", [("train.k=two", "integer"), ("train.compile=3", "true or false"),
                                           ("train.steps=abc", "integer")])
def test_bad_values(item, message):
    with pytest.raises(ConfigError, match=message):
        apply_overrides(RunConfig(model="gan"), parse_set_arguments([item]))


def test_set_needs_key_value():
    with pytest.raises(ConfigError, match="KEY=VALUE"):
        parse_set_arguments(["train.k"])


def test_presets_load_and_round_trip():
    assert "demo" in preset_names()
    preset = load_preset("demo")
    cfg = RunConfig(model=preset["model"])
    apply_overrides(cfg, {f"train.{k}": v for k, v in preset["train"].items()})
    assert RunConfig.from_dict(cfg.to_dict()).to_dict() == cfg.to_dict()
    with pytest.raises(ConfigError, match="did you mean 'demo'"):
        load_preset("dmeo")


@pytest.mark.parametrize("name", preset_names())
def test_every_preset_names_options_its_model_has(name):
    """A misspelt option in a shipped preset fails here rather than in a user's first run."""
    from gankit.models.registry import recipe_options

    preset = load_preset(name)
    cfg = RunConfig.from_dict({k: preset[k] for k in ("model", "data", "train", "options") if k in preset})
    options = recipe_options(cfg)
    for key, value in preset.get("options", {}).items():
        assert getattr(options, key) == (tuple(value) if isinstance(value, list) else value)


def test_precision_auto_is_bf16_only_on_cpus_that_multiply_bf16_natively(monkeypatch, tmp_path):
    import torch

    from gankit.train import settings, trainer

    assert RunConfig(model="gan").train.precision == "auto"
    cpu, cuda = torch.device("cpu"), torch.device("cuda")
    monkeypatch.setattr(settings, "cpu_has_bf16", lambda: True)
    assert settings.resolve_precision("auto", cpu) == "bf16"
    assert settings.resolve_precision("auto", cuda) == "fp32"  # not measured on GPUs yet
    assert settings.resolve_precision("fp32", cpu) == "fp32"
    monkeypatch.setattr(settings, "cpu_has_bf16", lambda: False)
    assert settings.resolve_precision("auto", cpu) == "fp32"
    monkeypatch.setattr(settings, "cpu_has_bf16", lambda: None)  # no /proc/cpuinfo: not known to be fast
    assert settings.resolve_precision("auto", cpu) == "fp32"
    assert settings.resolve_precision("bf16", cpu) == "bf16"  # asked for: given, with a warning at start
    cfg = RunConfig(model="gan")
    cfg.data.name, cfg.train.steps, cfg.train.precision = "ring8", 1, "fp16"
    with pytest.raises(ConfigError, match="auto, fp32, bf16"):
        settings.check_train_config(cfg)
    cfg.train.precision = "auto"  # the run says what "auto" became
    assert trainer.train(cfg, tmp_path / "run", progress=False).precision == "fp32"
