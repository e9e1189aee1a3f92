import pickle
import warnings
import weakref

import numpy as np
import pytest
from PIL import Image

from gankit.data import DataError, load_dataset
from gankit.data import folder as folder_module
from gankit.data.mapped import MappedImages
from gankit.data.sources import cache_root


@pytest.fixture(autouse=True)
def temp_cache(tmp_path, monkeypatch):
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))


def noise_folder(root, n_per_class=(12, 9), size=(10, 8), seed=0):
    """Class subfolders of small random RGB PNGs (non-square, so they are cropped)."""
    rng = np.random.default_rng(seed)
    for c, n in enumerate(n_per_class):
        (root / f"class{c}").mkdir(parents=True)
        for i in range(n):
            pixels = rng.integers(0, 256, size=(size[1], size[0], 3), dtype=np.uint8)
            Image.fromarray(pixels).save(root / f"class{c}" / f"{i:02d}.png")
    return root


def load(root, **kw):
    return load_dataset(f"folder:{root}", **{"size": 8, **kw})


def test_mapped_and_memory_stores_agree(tmp_path):
    root = noise_folder(tmp_path / "imgs")
    for split in ("train", "test"):
        mem = load(root, split=split, store="memory")
        mapped = load(root, split=split, store="mapped")
        assert isinstance(mem.x, np.ndarray) and isinstance(mapped.x, MappedImages)
        assert mapped.is_image and len(mapped) == len(mem)
        assert mapped.x.shape == mem.x.shape == ((20 if split == "train" else 1), 3, 8, 8)
        np.testing.assert_array_equal(mapped.y, mem.y)
        assert mapped.class_names == mem.class_names == ["class0", "class1"]
        idx = np.random.default_rng(1).permutation(len(mem))
        np.testing.assert_array_equal(mapped.x.take(idx), mem.x[idx])
        np.testing.assert_array_equal(mapped.x.take(np.r_[idx, idx[:3]]), mem.x[np.r_[idx, idx[:3]]])
        np.testing.assert_array_equal(mapped.x[:5], mem.x[:5])
        np.testing.assert_array_equal(mapped.x[-1], mem.x[-1])
        np.testing.assert_array_equal(mapped.x[0, 2], mem.x[0, 2])
        np.testing.assert_array_equal(mapped.x[::-2], mem.x[::-2])
    # One cache file serves both stores and both splits.
    assert len(list((cache_root() / "folders").glob("*.npz"))) == 1
    # The test split is the last 10% of each class by path order (1 of 12, 0 of 9).
    test = load(root, split="test", store="mapped")
    assert test.y.tolist() == [0]
    with Image.open(root / "class0" / "11.png") as im:
        expected = np.asarray(im.crop((1, 0, 9, 8))).transpose(2, 0, 1)
    np.testing.assert_array_equal(test.x[0], expected)


def test_take_returns_copies_and_never_converts_silently(tmp_path):
    root = noise_folder(tmp_path / "imgs", n_per_class=(6,))
    x = load(root, store="mapped").x
    before = x.take(np.arange(len(x)))
    batch = x.take(np.array([3, 0]))
    assert batch.flags.c_contiguous and batch.flags.writeable and batch.dtype == np.uint8
    batch[:] = 0
    x[:2][:] = 0
    np.testing.assert_array_equal(x.take(np.arange(len(x))), before)
    with np.load(next((cache_root() / "folders").glob("*.npz"))) as z:
        np.testing.assert_array_equal(z["x"][:len(x)], before)  # the file is unchanged
    with pytest.raises(TypeError, match=r"\.load\(\)"):
        np.asarray(x)
    with pytest.raises(IndexError):
        x.take(np.array([len(x)]))
    with pytest.raises(IndexError):
        x.take(np.array([-1]))
    np.testing.assert_array_equal(x.load(), before)
    clone = pickle.loads(pickle.dumps(x))
    np.testing.assert_array_equal(clone.take(np.array([4, 1])), before[[4, 1]])


def test_pages_are_released_periodically(tmp_path, monkeypatch):
    root = noise_folder(tmp_path / "imgs", n_per_class=(20,))
    x = load(root, split="test", store="mapped").x
    released = []
    real_release = MappedImages.release
    monkeypatch.setattr(MappedImages, "release", lambda self: released.append(1) or real_release(self))
    monkeypatch.setattr(MappedImages, "RELEASE_EVERY_TAKES", 3)
    first = x.take(np.array([1, 0]))
    for _ in range(8):
        np.testing.assert_array_equal(x.take(np.array([1, 0])), first)
    assert len(released) == 3  # after takes 3, 6 and 9
    monkeypatch.setattr(MappedImages, "RELEASE_EVERY_BYTES", 1)
    x.take(np.array([0]))
    assert len(released) == 4


def test_store_names_and_auto(tmp_path, monkeypatch):
    root = noise_folder(tmp_path / "imgs", n_per_class=(5,))
    with pytest.raises(DataError, match=r"unknown store 'disk'.*auto, memory, mapped"):
        load(root, store="disk")
    assert isinstance(load(root).x, np.ndarray)  # 5 x 192 bytes: far below the threshold
    monkeypatch.setattr(folder_module, "AUTO_MAP_BYTES", 5 * 3 * 8 * 8 - 1)
    assert isinstance(load(root).x, MappedImages)


def test_decode_streams_one_image_at_a_time(tmp_path, monkeypatch):
    root = noise_folder(tmp_path / "imgs", n_per_class=(30,))
    alive, peak = [0], [0]
    real_init = Image.Image.__init__

    def died():
        alive[0] -= 1

    def counting_init(self, *args, **kwargs):  # PIL images are unhashable: count, don't collect
        real_init(self, *args, **kwargs)
        alive[0] += 1
        peak[0] = max(peak[0], alive[0])
        weakref.finalize(self, died)

    monkeypatch.setattr(Image.Image, "__init__", counting_init)
    data = load(root, store="memory")
    assert len(data) == 27
    # Decoding one file makes a few images (open, convert, crop); holding the folder would
    # keep all 30 alive.
    assert 1 <= peak[0] <= 4, peak[0]


def test_broken_pixel_data_is_skipped_in_the_same_warning(tmp_path):
    root = tmp_path / "imgs"
    root.mkdir()
    rng = np.random.default_rng(0)
    for i in range(12):
        Image.fromarray(rng.integers(0, 256, (8, 8), dtype=np.uint8)).save(root / f"{i:02d}.png")
    # The only RGB file has a readable header but truncated pixel data, so the folder is gray.
    Image.fromarray(rng.integers(0, 256, (8, 8, 3), dtype=np.uint8)).save(root / "05b.png")
    full = (root / "05b.png").read_bytes()
    (root / "05b.png").write_bytes(full[:len(full) // 2])
    (root / "07b.png").write_bytes(b"no header at all")
    with pytest.warns(UserWarning, match=r"skipped 2 of 14 files.*: 05b.png, 07b.png$"):
        mapped = load(root, store="mapped")
    assert mapped.x.shape == (11, 1, 8, 8)
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # cached now: no second warning
        mem = load(root, store="memory")
    np.testing.assert_array_equal(mapped.x.load(), mem.x)
    with Image.open(root / "06.png") as im:  # 00..05 then 06: no hole where 05b was
        np.testing.assert_array_equal(mem.x[6, 0], np.asarray(im))


def test_broken_pixel_data_with_classes_keeps_labels_aligned(tmp_path):
    root = noise_folder(tmp_path / "imgs", n_per_class=(6, 6))
    full = (root / "class0" / "02.png").read_bytes()
    (root / "class0" / "02.png").write_bytes(full[:len(full) // 2])
    with pytest.warns(UserWarning, match="skipped 1 of 12 files.*class0/02.png"):
        data = load(root, store="mapped")
    assert np.bincount(data.y).tolist() == [5, 6]  # 5 + 6 readable, test split of 0 per class
    with Image.open(root / "class1" / "00.png") as im:
        np.testing.assert_array_equal(data.x[5], np.asarray(im.crop((1, 0, 9, 8))).transpose(2, 0, 1))


def test_mapped_images_on_a_plain_npy_file_with_rows(tmp_path):
    x = np.random.default_rng(0).integers(0, 256, (10, 1, 3, 2), dtype=np.uint8)
    np.save(tmp_path / "x.npy", x)
    view = MappedImages(tmp_path / "x.npy", rows=[7, 2, 5])
    assert view.shape == (3, 1, 3, 2) and len(view) == 3 and view.ndim == 4 and view.nbytes == 18
    np.testing.assert_array_equal(view.take(np.array([2, 0, 0])), x[[5, 7, 7]])
    np.testing.assert_array_equal(view[[True, False, True]], x[[7, 5]])
    np.testing.assert_array_equal(pickle.loads(pickle.dumps(view)).load(), x[[7, 2, 5]])
    with pytest.raises(IndexError):
        MappedImages(tmp_path / "x.npy", rows=[10])
    np.save(tmp_path / "f.npy", x.astype(np.float32))
    with pytest.raises(ValueError, match="expected C-order uint8"):
        MappedImages(tmp_path / "f.npy")
