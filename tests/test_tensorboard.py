"""`--set train.tensorboard=true`: scalars, sample grids and histograms in RUN/tb/; a clear error without
the package."""

import sys

import pytest

from gankit.config import ConfigError, RunConfig
from gankit.train.trainer import train


def toy_config(steps=6) -> RunConfig:
    cfg = RunConfig(model="gan")
    cfg.data.name = "ring8"
    cfg.options = {"latent_dim": 4, "g_widths": [8], "d_widths": [8]}
    t = cfg.train
    t.steps, t.log_every, t.sample_every, t.checkpoint_every, t.tensorboard = steps, 2, 3, steps, True
    return cfg


def test_logs_scalars_images_and_histograms(tmp_path):
    pytest.importorskip("tensorboard")
    from tensorboard.backend.event_processing.event_accumulator import EventAccumulator

    train(toy_config(), tmp_path / "run", progress=False)
    events = EventAccumulator(str(tmp_path / "run" / "tb"), size_guidance={"scalars": 0, "images": 0,
                                                                           "histograms": 0}).Reload()
    tags = events.Tags()
    assert {"d_loss", "g_loss", "D(x)", "D(G(z))"} <= set(tags["scalars"])
    assert [e.step for e in events.Scalars("g_loss")] == [2, 4, 6]
    assert [e.step for e in events.Images("samples")] == [3, 6]
    assert any(tag.startswith("G/") for tag in tags["histograms"])


def test_missing_package_is_a_clear_error(tmp_path, monkeypatch):
    monkeypatch.setitem(sys.modules, "torch.utils.tensorboard", None)  # import fails as if not installed
    with pytest.raises(ConfigError, match=r"pip install 'gankit\[tensorboard\]'"):
        train(toy_config(), tmp_path / "run", progress=False)
    assert not (tmp_path / "run").exists()  # refused before anything was written
