import warnings

import numpy as np
import pytest
from PIL import Image

from gankit.data import DataError, load_dataset
from gankit.data.sources import cache_root


@pytest.fixture(autouse=True)
def temp_cache(tmp_path, monkeypatch):
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))


def save(path, value, size=(6, 6), mode="L"):
    path.parent.mkdir(parents=True, exist_ok=True)
    color = value if mode == "L" else (value, 0, 255 - value)
    Image.new(mode, size, color).save(path)


def test_class_folders_with_one_corrupt_file(tmp_path):
    root = tmp_path / "imgs"
    for i in range(10):
        save(root / "cat" / f"{i:02d}.png", 10 * i)
    for i in range(5):
        save(root / "dog" / f"{i:02d}.png", 200)
    (root / "dog" / "broken.png").write_bytes(b"not a png at all")
    with pytest.warns(UserWarning, match=r"skipped 1 of 16 files.*dog/broken.png"):
        data = load_dataset(f"folder:{root}")
    # cat: 10 images -> 9 train + 1 test; dog: 5 -> 5 train + 0 test
    assert data.x.shape == (14, 1, 6, 6) and data.x.dtype == np.uint8
    assert data.num_classes == 2 and data.class_names == ["cat", "dog"]
    assert np.bincount(data.y).tolist() == [9, 5]
    assert data.x[0, 0, 0, 0] == 0 and data.x[-1].max() == 200
    test = load_dataset(f"folder:{root}", split="test")
    assert test.y.tolist() == [0] and test.x[0, 0, 0, 0] == 90  # the last cat, by path order


def test_flat_folder_rgb_resize_and_cache_reuse(tmp_path):
    root = tmp_path / "flat"
    save(root / "a.png", 50, size=(8, 8), mode="RGB")
    save(root / "b.png", 100, size=(12, 12), mode="L")
    with pytest.raises(DataError, match=r"--set data.size=64"):
        load_dataset(f"folder:{root}")
    data = load_dataset(f"folder:{root}", size=4)
    assert data.x.shape == (2, 3, 4, 4) and data.y is None and data.num_classes is None
    np.testing.assert_array_equal(data.x[0, :, 0, 0], [50, 0, 205])
    caches = list((cache_root() / "folders").glob("*.npz"))
    assert len(caches) == 1
    # Reuse: poison the cached array; a reload must return the poisoned (cached) values.
    with np.load(caches[0]) as z:
        x = z["x"].copy()
    x[:] = 7
    np.savez(caches[0], x=x)
    assert (load_dataset(f"folder:{root}", size=4).x == 7).all()
    # Different options or changed content are different cache entries.
    assert load_dataset(f"folder:{root}", size=4, channels=1).x.shape == (2, 1, 4, 4)
    save(root / "a.png", 60, size=(8, 8), mode="RGB")
    assert load_dataset(f"folder:{root}", size=4).x[0, 0, 0, 0] == 60
    assert len(list((cache_root() / "folders").glob("*.npz"))) == 3


def test_all_bad_and_empty_folders(tmp_path):
    bad = tmp_path / "bad"
    bad.mkdir()
    (bad / "x.jpg").write_bytes(b"\xff\xd8garbage")
    (bad / "y.png").write_text("hello")
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # the error alone says it: no warning line before it
        with pytest.raises(DataError, match=r"no readable images \(2 files, 2 unreadable\)"):
            load_dataset(f"folder:{bad}")
    empty = tmp_path / "empty"
    empty.mkdir()
    with pytest.raises(DataError, match="is empty"):
        load_dataset(f"folder:{empty}")
    with pytest.raises(DataError, match="no such directory"):
        load_dataset(f"folder:{tmp_path / 'nope'}")


def test_gray_default_and_no_warning_when_clean(tmp_path):
    root = tmp_path / "g"
    for i in range(20):
        save(root / f"{i:02d}.png", i)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        train = load_dataset(f"folder:{root}")
    test = load_dataset(f"folder:{root}", split="test")
    assert train.x.shape == (18, 1, 6, 6) and test.x.shape == (2, 1, 6, 6)
    assert test.x[:, 0, 0, 0].tolist() == [18, 19]
