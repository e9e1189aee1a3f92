"""Images read from a uint8 array on disk, a batch at a time, for folders larger than memory.

A decoded image folder is an array of shape (N, C, H, W) stored in the ``.npy`` format, either
as a ``.npy`` file or as one member of an uncompressed ``.npz`` archive (``np.savez`` stores its
members uncompressed, so every member is a plain ``.npy`` byte range inside the archive).
:class:`MappedImages` maps that file into memory and copies out only the rows it is asked for.

Examples
--------
>>> x = MappedImages("faces.npy")                  # doctest: +SKIP
>>> x.shape, len(x)                                 # doctest: +SKIP
((200000, 3, 128, 128), 200000)
>>> batch = x.take(np.random.permutation(len(x))[:64])   # doctest: +SKIP
>>> batch.shape, batch.flags.c_contiguous           # doctest: +SKIP
((64, 3, 128, 128), True)

Memory
------
Pages of a mapped file that the process has touched are counted in its resident set size
(RSS), even though the kernel can drop them at any time. Training reads random batches, so
after a few epochs every page would have been touched and the RSS would report the whole
dataset. Worse, Linux maps not just the page a read faults on but the cached pages around it
("fault-around", 64 KiB by default), so a random 12 KiB image can add 64 KiB or more to the RSS.
:class:`MappedImages` therefore hands its pages back with ``madvise(MADV_DONTNEED)`` every
:attr:`~MappedImages.RELEASE_EVERY_TAKES` calls of :meth:`~MappedImages.take`, or once the
pages it may have mapped since the last release, counted as
``rows * (row bytes + FAULT_AROUND_BYTES)``, reach :attr:`~MappedImages.RELEASE_EVERY_BYTES`.
The file is read-only and unmodified, so the pages stay in the kernel's page cache: reading
them again costs a page-table update, not a disk read.
"""

from __future__ import annotations

import io
import math
import mmap
import operator
import os
import struct
import zipfile
from pathlib import Path

import numpy as np

__all__ = ["MappedImages"]

_LOCAL_HEADER = struct.Struct("<4s22xHH")  # signature, 22 bytes we skip, name length, extra length
_LOCAL_SIGNATURE = b"PK\x03\x04"


def npy_layout(path: str | os.PathLike, key: str | None = None) -> tuple[int, tuple, np.dtype, bool]:
    """Where an array's data starts inside a ``.npy`` file or an uncompressed ``.npz`` member.

    Parameters
    ----------
    path : path-like
    key : str or None
        Name of the array inside an ``.npz`` archive (as given to ``np.savez``); None for a
        ``.npy`` file.

    Returns
    -------
    (offset, shape, dtype, fortran_order)
        ``offset`` is the byte position of the first element in ``path``. The file is not
        checked to be long enough to hold the data.

    Raises
    ------
    ValueError
        If the member is missing, compressed or encrypted, or the bytes are not ``.npy``.
    """
    with open(path, "rb") as f:
        start = 0
        if key is not None:
            try:
                with zipfile.ZipFile(f) as zf:
                    info = zf.getinfo(key + ".npy")
            except (zipfile.BadZipFile, KeyError) as e:
                raise ValueError(f"{path}: no array {key!r} in an .npz archive ({e})") from e
            if info.compress_type != zipfile.ZIP_STORED or info.flag_bits & 0x1:
                raise ValueError(f"{path}: array {key!r} is compressed or encrypted and cannot "
                                 "be mapped; write the archive with np.savez, not savez_compressed.")
            # The central directory does not record the length of the member's local header
            # (its "extra" field may differ from the central one), so read it where it is.
            f.seek(info.header_offset)
            signature, name_len, extra_len = _LOCAL_HEADER.unpack(f.read(_LOCAL_HEADER.size))
            if signature != _LOCAL_SIGNATURE:
                raise ValueError(f"{path}: damaged .npz archive (bad local header of {key!r})")
            start = info.header_offset + _LOCAL_HEADER.size + name_len + extra_len
        f.seek(start)
        version = np.lib.format.read_magic(f)
        # Versions 2.0 and 3.0 share the 4-byte header length; 3.0 only allows UTF-8 field names,
        # which a numeric dtype never has.
        read = np.lib.format.read_array_header_1_0 if version == (1, 0) else np.lib.format.read_array_header_2_0
        shape, fortran_order, dtype = read(f)
        return f.tell(), tuple(shape), np.dtype(dtype), bool(fortran_order)


class MappedImages:
    """A read-only view of uint8 images (N, C, H, W) stored on disk, read by index.

    The array is memory-mapped, never loaded whole: :meth:`take` copies the requested rows
    into a new array, so a training loop holds one batch at a time while the kernel's page
    cache, not the process, keeps the file's pages. A view may be restricted to a subset of
    the file's rows (a train or test split) without copying anything.

    Converting the whole view to an ndarray is deliberate, never implicit: ``np.asarray(x)``
    raises :class:`TypeError` (it would read everything into memory); call :meth:`load`.

    Parameters
    ----------
    path : path-like
        A ``.npy`` file, or an ``.npz`` archive written uncompressed (``np.savez``) when
        ``key`` is given.
    rows : array-like of int or None
        Rows of the file that make up this view, in view order; None for all rows.
    key : str or None
        Name of the array inside an ``.npz`` archive; None for a ``.npy`` file.

    Attributes
    ----------
    shape : tuple of int
        ``(len(self), C, H, W)``.
    dtype : numpy.dtype
        Always ``uint8``.
    ndim : int
        Always 4.
    nbytes : int
        Size of the view once decoded, ``len(self) * C * H * W``.
    path : Path
    key : str or None

    Examples
    --------
    >>> train = MappedImages("cache.npz", rows=np.arange(0, 900), key="x")   # doctest: +SKIP
    >>> train.take(np.array([5, 2, 7])).shape   # rows 5, 2, 7 of the view, in order  # doctest: +SKIP
    (3, 3, 64, 64)
    >>> first = train[:16]                      # a slice is a copy too  # doctest: +SKIP
    """

    #: Release the mapped pages after this many :meth:`take` calls ...
    RELEASE_EVERY_TAKES = 256
    #: ... or once the pages mapped since the last release may reach this many bytes.
    RELEASE_EVERY_BYTES = 64 << 20
    #: What one random row may map beyond its own bytes: Linux's default fault-around window.
    FAULT_AROUND_BYTES = 64 << 10
    #: load() copies blocks of this size, releasing the mapped pages after each.
    LOAD_BLOCK_BYTES = 16 << 20

    dtype = np.dtype(np.uint8)
    ndim = 4

    def __init__(self, path: str | os.PathLike, rows=None, *, key: str | None = None):
        self.path = Path(path)
        self.key = key
        offset, shape, dtype, fortran = npy_layout(self.path, key)
        where = f"{self.path}" + (f" [{key}]" if key else "")
        if dtype != np.uint8 or len(shape) != 4 or fortran:
            raise ValueError(f"{where} holds a {'Fortran-order ' if fortran else ''}{dtype} array "
                             f"of shape {shape}: expected C-order uint8 images (N, C, H, W).")
        count = math.prod(shape)
        with open(self.path, "rb") as f:
            size = os.fstat(f.fileno()).st_size
            if size < offset + count:
                raise ValueError(f"{where} is truncated: {size} bytes, the array needs "
                                 f"{offset + count}.")
            # Map it ourselves rather than through np.load(mmap_mode="r"): owning the mmap object
            # gives the public madvise() needed to release pages (numpy keeps its own private).
            # The mapping outlives the file object; closing the descriptor does not unmap.
            self._mmap = mmap.mmap(f.fileno(), 0, access=mmap.ACCESS_READ)
        self._file = np.frombuffer(self._mmap, dtype=np.uint8, count=count, offset=offset).reshape(shape)
        self._row_bytes = math.prod(shape[1:])
        if rows is None:
            self._rows = None
        else:
            rows = np.array(rows, dtype=np.int64).reshape(-1)  # a private copy: the view is fixed
            if rows.size and (rows.min() < 0 or rows.max() >= shape[0]):
                raise IndexError(f"rows must lie in [0, {shape[0]}): got {rows.min()}..{rows.max()}")
            rows.flags.writeable = False
            self._rows = rows
        self._takes = 0
        self._bytes = 0
        self._can_release = hasattr(self._mmap, "madvise") and hasattr(mmap, "MADV_DONTNEED")

    # --- the array-like surface ------------------------------------------------------------
    @property
    def shape(self) -> tuple[int, int, int, int]:
        n = self._file.shape[0] if self._rows is None else len(self._rows)
        return (n,) + self._file.shape[1:]

    @property
    def nbytes(self) -> int:
        return math.prod(self.shape)

    def __len__(self) -> int:
        return self.shape[0]

    def __repr__(self) -> str:
        n, c, h, w = self.shape
        return f"MappedImages({n} images of {c}x{h}x{w} uint8 from {str(self.path)!r})"

    @property
    def __array_interface__(self):
        # Without this, numpy would treat the object as a sequence (it has __len__ and
        # __getitem__) and silently read every image into memory, one at a time.
        raise TypeError(f"{self!r} is not converted implicitly: that would read all "
                        f"{self.nbytes / 2**20:.0f} MiB into memory. Use .take(idx) or a slice "
                        "for a batch, or .load() to read everything on purpose.")

    # --- reading ---------------------------------------------------------------------------
    def take(self, idx) -> np.ndarray:
        """Copy the images at positions ``idx`` of this view, in the order given.

        Parameters
        ----------
        idx : array-like of int, shape (B,)
            Positions in ``0 .. len(self) - 1``; repeats are allowed.

        Returns
        -------
        ndarray of uint8, shape (B, C, H, W)
            A new C-contiguous array; writing to it never changes the file.
        """
        idx = np.asarray(idx)
        if idx.size == 0:
            idx = idx.astype(np.intp)  # np.asarray([]) is float64
        if idx.ndim != 1 or not np.issubdtype(idx.dtype, np.integer):
            raise TypeError(f"take() expects a 1-D array of integer positions, got {idx.dtype} "
                            f"of shape {idx.shape}.")
        n = len(self)
        if idx.size and (idx.min() < 0 or idx.max() >= n):
            bad = idx[(idx < 0) | (idx >= n)][0]
            raise IndexError(f"position {bad} is out of range for {n} images.")
        rows = idx.astype(np.intp, copy=False) if self._rows is None else self._rows[idx]
        out = self._file[rows]  # fancy indexing: a fresh, C-contiguous, writeable copy
        self._count_read(len(rows) * (self._row_bytes + self.FAULT_AROUND_BYTES))
        return out

    def __getitem__(self, key) -> np.ndarray:
        """``x[i]``, ``x[a:b:s]``, ``x[[i, j]]`` or ``x[mask]``, then any further axes.

        Always a copy, like :meth:`take`; ``x[i]`` is one (C, H, W) image.
        """
        rest = ()
        if isinstance(key, tuple):
            key, rest = (key[0], key[1:]) if key else (slice(None), ())
        n = len(self)
        if isinstance(key, slice):
            out = self.take(np.arange(*key.indices(n)))
        elif isinstance(key, (int, np.integer)):
            i = operator.index(key)
            if not -n <= i < n:
                raise IndexError(f"index {i} is out of range for {n} images.")
            out = self.take(np.array([i % n]))[0]
        elif key is None or key is Ellipsis:
            raise TypeError("MappedImages supports an index, a slice, an index array or a mask "
                            f"on the first axis, not {key!r}.")
        else:
            key = np.asarray(key)
            if key.dtype == bool:
                if key.shape != (n,):
                    raise IndexError(f"boolean mask of shape {key.shape} for {n} images.")
                key = np.flatnonzero(key)
            out = self.take(np.where(key < 0, key + n, key) if key.size else key)
        return out[rest] if rest else out

    def load(self) -> np.ndarray:
        """Read the whole view into a new in-memory array, on purpose.

        Copies blocks of :attr:`LOAD_BLOCK_BYTES` and releases the mapped pages after each, so
        resident memory peaks near one copy of the data rather than two.

        Returns
        -------
        ndarray of uint8, shape ``self.shape``
        """
        out = np.empty(self.shape, dtype=np.uint8)
        step = max(1, self.LOAD_BLOCK_BYTES // max(1, self._row_bytes))
        for start in range(0, len(out), step):
            stop = min(start + step, len(out))
            if self._rows is None:
                out[start:stop] = self._file[start:stop]  # contiguous rows: one block copy
            else:  # straight into out, without a temporary block
                np.take(self._file, self._rows[start:stop], axis=0, out=out[start:stop])
            self.release()
        return out

    # --- resident memory -------------------------------------------------------------------
    def _count_read(self, mapped_bytes: int) -> None:
        self._takes += 1
        self._bytes += mapped_bytes
        if self._takes >= self.RELEASE_EVERY_TAKES or self._bytes >= self.RELEASE_EVERY_BYTES:
            self.release()

    def release(self) -> None:
        """Drop the pages this process has mapped, so they stop counting in its RSS.

        The data is unchanged and stays in the kernel's page cache; later reads map it again.
        Safe while other threads read: a page they need is simply faulted back in. Does
        nothing where ``madvise`` is unavailable (non-Linux platforms, old Pythons).
        """
        self._takes = 0
        self._bytes = 0
        if self._can_release:
            try:
                self._mmap.madvise(mmap.MADV_DONTNEED)
            except OSError:
                self._can_release = False  # e.g. a kernel that refuses it: stop trying

    # --- pickling (DataLoader workers, multiprocessing) ------------------------------------
    def __getstate__(self) -> dict:
        # An mmap cannot be pickled; the receiver maps the same file again.
        return {"path": str(self.path), "key": self.key, "rows": self._rows}

    def __setstate__(self, state: dict) -> None:
        self.__init__(state["path"], state["rows"], key=state["key"])


def write_npy_member(zf: zipfile.ZipFile, name: str, shape: tuple, dtype, chunks) -> int:
    """Stream an array into an open archive as the uncompressed member ``name + ".npy"``.

    ``np.load`` reads the result like a member written by ``np.savez``, and
    :class:`MappedImages` can map it, but the array never has to exist in memory: its bytes
    (C order) come from ``chunks``, an iterable of bytes-like objects.

    Parameters
    ----------
    zf : zipfile.ZipFile
        Open for writing, on a seekable file.
    name : str
    shape : tuple of int
        The shape written in the ``.npy`` header.
    dtype : dtype-like
    chunks : iterable of bytes-like

    Returns
    -------
    int
        Data bytes written (after the header). Fewer than ``shape`` needs leaves a truncated
        member that :func:`npy_layout` still locates, so the caller can copy out what it got.
    """
    dtype = np.dtype(dtype)
    header = io.BytesIO()
    np.lib.format.write_array_header_1_0(header, {"descr": np.lib.format.dtype_to_descr(dtype),
                                                  "fortran_order": False, "shape": tuple(shape)})
    info = zipfile.ZipInfo(name + ".npy", date_time=(1980, 1, 1, 0, 0, 0))  # reproducible bytes
    info.compress_type = zipfile.ZIP_STORED
    # Announcing the size lets zipfile choose ZIP64 headers up front for members over 2 GiB.
    info.file_size = header.tell() + math.prod(shape) * dtype.itemsize
    written = 0
    with zf.open(info, "w") as out:
        out.write(header.getvalue())
        for chunk in chunks:
            chunk = memoryview(chunk).cast("B")
            out.write(chunk)
            written += chunk.nbytes
    return written
