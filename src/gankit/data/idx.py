"""Strict reader for the IDX format of MNIST-style datasets (raw or gzip-compressed)."""

from __future__ import annotations

import gzip
import os
import zlib

import numpy as np

from .errors import DataError

IMAGES_MAGIC = 0x00000803  # ubyte, 3 dimensions
LABELS_MAGIC = 0x00000801  # ubyte, 1 dimension
_UBYTE = 0x08


def _read_bytes(path: str | os.PathLike) -> bytes:
    with open(path, "rb") as f:
        data = f.read()
    # Sniff the gzip magic rather than trusting the extension: people gunzip and keep names.
    if data[:2] == b"\x1f\x8b":
        try:
            return gzip.decompress(data)
        except (OSError, EOFError, zlib.error) as e:
            raise DataError(f"{path}: the gzip stream is corrupt ({e}); delete the file and "
                            "download it again.") from e
    return data


def read_idx(path: str | os.PathLike, ndim: int) -> np.ndarray:
    """Read one IDX file of unsigned bytes.

    Parameters
    ----------
    path : path-like
        Raw or gzip-compressed IDX file.
    ndim : int
        Expected number of dimensions (3 for images, 1 for labels).

    Returns
    -------
    ndarray of uint8 with the header's shape.
    """
    data = _read_bytes(path)
    kind = "images" if ndim == 3 else "labels" if ndim == 1 else f"{ndim}-d data"
    expected_magic = 0x00000800 | ndim
    if len(data) < 4:
        raise DataError(f"{path}: file is {len(data)} bytes long, too short for an IDX header; "
                        "expected an IDX file (delete it and fetch it again).")
    magic = int.from_bytes(data[:4], "big")
    if magic != expected_magic:
        raise DataError(
            f"{path}: bad IDX magic number 0x{magic:08x}, expected 0x{expected_magic:08x} "
            f"(unsigned bytes, {ndim} dimension(s), i.e. {kind}). Is this the right file?")
    header = 4 + 4 * ndim
    if len(data) < header:
        raise DataError(f"{path}: truncated IDX header: expected {header} bytes, found {len(data)}.")
    shape = tuple(int.from_bytes(data[4 + 4 * i: 8 + 4 * i], "big") for i in range(ndim))
    expected = int(np.prod(shape, dtype=np.int64))
    found = len(data) - header
    if found != expected:
        what = "truncated" if found < expected else "has trailing bytes"
        raise DataError(
            f"{path}: file {what}: expected {expected} bytes of {'pixels' if ndim == 3 else kind} "
            f"after the header (shape {shape}), found {found}. Delete it and fetch it again.")
    return np.frombuffer(data, dtype=np.uint8, offset=header).reshape(shape)


def read_idx_pair(images_path: str | os.PathLike, labels_path: str | os.PathLike
                  ) -> tuple[np.ndarray, np.ndarray]:
    """Read matching image and label IDX files.

    Returns
    -------
    x : ndarray of uint8, shape (N, 1, H, W)
    y : ndarray of int64, shape (N,)
    """
    x = read_idx(images_path, 3)
    y = read_idx(labels_path, 1)
    if x.shape[0] != y.shape[0]:
        raise DataError(f"{images_path} holds {x.shape[0]} images but {labels_path} holds "
                        f"{y.shape[0]} labels: expected equal counts. Are they from the same "
                        "dataset and split?")
    return x[:, None].copy(), y.astype(np.int64)
