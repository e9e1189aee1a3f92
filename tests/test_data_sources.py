import dataclasses
import gzip
import hashlib
import struct

import numpy as np
import pytest

from gankit.data import DataError, describe_datasets, load_dataset
from gankit.data import sources
from gankit.data.sources import FILE_DATASETS, cache_root, download

NAME = "fashion-mnist"


@pytest.fixture
def isolated(tmp_path, monkeypatch):
    """No real Debian dir, cache or $GANKIT_DATA: every location is a temp dir."""
    monkeypatch.setattr(sources, "DEBIAN_DIR", tmp_path / "debian")
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    monkeypatch.delenv("GANKIT_DATA", raising=False)
    return tmp_path


def idx_bytes(marker, n=3):
    """A tiny 28x28 split whose labels all equal ``marker``, to tell locations apart."""
    images = struct.pack(">IIII", 0x803, n, 28, 28) + np.full((n, 28, 28), marker, np.uint8).tobytes()
    labels = struct.pack(">II", 0x801, n) + bytes([marker]) * n
    return images, labels


def write_split_files(directory, marker, compress=True):
    directory.mkdir(parents=True, exist_ok=True)
    for split, (img, lab) in FILE_DATASETS[NAME].splits.items():
        images, labels = idx_bytes(marker)
        for stem, data in ((img, images), (lab, labels)):
            if compress:
                (directory / (stem + ".gz")).write_bytes(gzip.compress(data))
            else:
                (directory / stem).write_bytes(data)
    return directory


def marker_of(data):
    return int(data.y[0])


def test_lookup_order(isolated, monkeypatch):
    root, env = isolated / "root", isolated / "env"
    write_split_files(root / NAME, 1)
    write_split_files(env, 2, compress=False)  # files directly in the root, uncompressed
    write_split_files(sources.DEBIAN_DIR / NAME, 3)
    write_split_files(cache_root() / NAME, 4)
    monkeypatch.setenv("GANKIT_DATA", str(env))
    assert marker_of(load_dataset(NAME, root=str(root), download=False)) == 1
    assert marker_of(load_dataset(NAME, download=False)) == 2
    monkeypatch.delenv("GANKIT_DATA")
    data = load_dataset(NAME, split="test", download=False)
    assert marker_of(data) == 3 and data.x.shape == (3, 1, 28, 28)
    for f in (sources.DEBIAN_DIR / NAME).iterdir():
        f.unlink()
    assert marker_of(load_dataset(NAME, download=False)) == 4


def serve(tmp_path, monkeypatch, marker=5, corrupt_sha=False):
    """Official-looking .gz files under a file:// URL, with their real (or a wrong) SHA-256."""
    server = tmp_path / "server"
    write_split_files(server, marker)
    sha = {f.name: hashlib.sha256(f.read_bytes()).hexdigest() for f in server.iterdir()}
    if corrupt_sha:
        sha = {k: "0" * 64 for k in sha}
    fake = dataclasses.replace(FILE_DATASETS[NAME], base_url=server.as_uri() + "/", sha256=sha)
    monkeypatch.setitem(FILE_DATASETS, NAME, fake)


def test_download_into_cache_when_nothing_local(isolated, monkeypatch, capsys):
    serve(isolated, monkeypatch)
    assert describe_datasets()[0]["available"] is False  # describing never downloads
    assert not (cache_root() / NAME).exists()
    data = load_dataset(NAME)
    assert marker_of(data) == 5 and data.source == str(cache_root() / NAME)
    cached = sorted(p.name for p in (cache_root() / NAME).iterdir())
    assert cached == ["train-images-idx3-ubyte.gz", "train-labels-idx1-ubyte.gz"]
    assert "downloading train-images-idx3-ubyte.gz" in capsys.readouterr().err
    # Second time it is found in the cache, no download needed.
    assert marker_of(load_dataset(NAME, download=False)) == 5


def test_download_checksum_mismatch_deletes_file(isolated, monkeypatch):
    serve(isolated, monkeypatch, corrupt_sha=True)
    with pytest.raises(DataError, match="failed verification: SHA-256") as e:
        load_dataset(NAME)
    assert "dataset-fashion-mnist" in str(e.value)
    leftovers = list((cache_root() / NAME).iterdir())
    assert leftovers == []


def test_download_function_file_url(tmp_path):
    src = tmp_path / "blob.bin"
    src.write_bytes(b"gankit" * 1000)
    digest = hashlib.sha256(src.read_bytes()).hexdigest()
    out = download(src.as_uri(), tmp_path / "dl" / "blob.bin", sha256=digest, quiet=True)
    assert out.read_bytes() == src.read_bytes()
    with pytest.raises(DataError, match="could not download"):
        download((tmp_path / "missing").as_uri(), tmp_path / "dl" / "x", quiet=True)
    assert sorted(p.name for p in (tmp_path / "dl").iterdir()) == ["blob.bin"]


def test_missing_offline_error_says_what_to_do(isolated):
    with pytest.raises(DataError) as e:
        load_dataset(NAME, download=False)
    msg = str(e.value)
    for needle in ("dataset-fashion-mnist", "http://fashion-mnist.s3-website.eu-central-1.amazonaws.com/",
                   "--data-root", "$GANKIT_DATA", str(sources.DEBIAN_DIR / NAME)):
        assert needle in msg
    with pytest.raises(DataError, match="no Debian package.*ossci-datasets"):
        load_dataset("mnist", download=False)


def test_partial_directory_is_skipped(isolated):
    root = isolated / "root"
    write_split_files(root, 1)
    (root / "train-labels-idx1-ubyte.gz").unlink()
    write_split_files(cache_root() / NAME, 4)
    assert marker_of(load_dataset(NAME, root=str(root), download=False)) == 4
    assert marker_of(load_dataset(NAME, split="test", root=str(root), download=False)) == 1


def test_cache_respects_xdg(monkeypatch, tmp_path):
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))
    assert cache_root() == tmp_path / "gankit"
