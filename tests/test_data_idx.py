import gzip
import struct

import numpy as np
import pytest

from gankit.data import DataError
from gankit.data.idx import read_idx, read_idx_pair


def write_images(path, x, magic=0x00000803, extra=b"", cut=0, compress=False):
    n, h, w = x.shape
    data = struct.pack(">IIII", magic, n, h, w) + x.astype(np.uint8).tobytes() + extra
    data = data[:len(data) - cut]
    path.write_bytes(gzip.compress(data) if compress else data)
    return path


def write_labels(path, y, compress=False):
    data = struct.pack(">II", 0x00000801, len(y)) + np.asarray(y, np.uint8).tobytes()
    path.write_bytes(gzip.compress(data) if compress else data)
    return path


@pytest.fixture
def pixels():
    return np.random.default_rng(0).integers(0, 256, size=(5, 4, 3)).astype(np.uint8)


@pytest.mark.parametrize("compress", [False, True])
def test_good_pair_roundtrip(tmp_path, pixels, compress):
    xi = write_images(tmp_path / "img", pixels, compress=compress)
    yi = write_labels(tmp_path / "lab", [0, 1, 2, 3, 9], compress=compress)
    x, y = read_idx_pair(xi, yi)
    assert x.shape == (5, 1, 4, 3) and x.dtype == np.uint8
    np.testing.assert_array_equal(x[:, 0], pixels)
    assert y.dtype == np.int64 and y.tolist() == [0, 1, 2, 3, 9]


def test_bad_magic(tmp_path, pixels):
    p = write_images(tmp_path / "img", pixels, magic=0x00000801)
    with pytest.raises(DataError, match=r"bad IDX magic number 0x00000801, expected 0x00000803"):
        read_idx(p, 3)


def test_wrong_dtype_byte(tmp_path, pixels):
    p = write_images(tmp_path / "img", pixels, magic=0x00000D03)  # float32 IDX
    with pytest.raises(DataError, match="magic"):
        read_idx(p, 3)


def test_truncated(tmp_path, pixels):
    p = write_images(tmp_path / "img", pixels, cut=7, compress=True)
    with pytest.raises(DataError) as e:
        read_idx(p, 3)
    msg = str(e.value)
    assert str(p) in msg and "truncated" in msg
    assert "expected 60 bytes of pixels after the header" in msg and "found 53" in msg


def test_trailing_bytes(tmp_path, pixels):
    p = write_images(tmp_path / "img", pixels, extra=b"\0\0\0")
    with pytest.raises(DataError, match="trailing bytes: expected 60 bytes of pixels after the header.*found 63"):
        read_idx(p, 3)


def test_truncated_header(tmp_path):
    p = tmp_path / "img"
    p.write_bytes(struct.pack(">II", 0x00000803, 5))
    with pytest.raises(DataError, match="truncated IDX header"):
        read_idx(p, 3)


def test_corrupt_gzip(tmp_path, pixels):
    p = write_images(tmp_path / "img.gz", pixels, compress=True)
    p.write_bytes(p.read_bytes()[:30])
    with pytest.raises(DataError, match="gzip stream is corrupt"):
        read_idx(p, 3)


def test_count_mismatch(tmp_path, pixels):
    xi = write_images(tmp_path / "img", pixels)
    yi = write_labels(tmp_path / "lab", [0, 1, 2])
    with pytest.raises(DataError, match="holds 5 images but .* holds 3 labels"):
        read_idx_pair(xi, yi)
