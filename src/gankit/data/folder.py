"""``folder:PATH``: a user's image folder, decoded once with Pillow into a cached uint8 array.

Layout: images directly in PATH (no labels), or in immediate subfolders whose sorted names are
the classes. A folder has no test split of its own, so one is carved out deterministically:
files are ordered by relative path and, within each class, the last 10% (rounded down) are
"test" and the rest "train"; the two never overlap.

Cache: ``<cache root>/folders/<content hash>.npz``, an uncompressed archive (``np.load`` reads
it) holding ``x``, uint8 (N, C, H, W), and ``y``, int64 labels, when there are classes. It is
written one image at a time, so decoding a folder never needs the whole dataset in memory,
and it is then either read into memory (``store="memory"``) or memory-mapped and read a batch
at a time (``store="mapped"``, see :class:`~gankit.data.mapped.MappedImages`).
"""

from __future__ import annotations

import hashlib
import math
import os
import warnings
import zipfile
from pathlib import Path

import numpy as np
from PIL import Image

from .decoding import GRAY_MODES, chw, eight_bit, square
from .errors import DataError
from .imageset import ImageSet, check_split
from .mapped import MappedImages, npy_layout, write_npy_member
from .sources import cache_root
from .splits import TEST_FRACTION, test_mask

_CACHE_VERSION = 3  # bump when decoding or the cache format changes, so stale caches are not reused
STORES = ("auto", "memory", "mapped")
#: store="auto" maps folders whose decoded size N*C*H*W exceeds this many bytes.
AUTO_MAP_BYTES = 1 << 30


def _list_files(folder: Path) -> tuple[list[Path], list[str] | None]:
    """(files in sorted relative-path order, class names or None)."""
    visible = sorted(p for p in folder.iterdir() if not p.name.startswith("."))
    subdirs = [p for p in visible if p.is_dir()]
    if subdirs:
        files = [f for d in subdirs for f in sorted(d.rglob("*"))
                 if f.is_file() and not any(part.startswith(".") for part in f.relative_to(folder).parts)]
        return files, [d.name for d in subdirs]
    return [p for p in visible if p.is_file()], None


def _content_key(folder: Path, files: list[Path], size, channels) -> str:
    h = hashlib.sha256(f"v{_CACHE_VERSION} size={size} channels={channels}\n".encode())
    for f in files:
        h.update(f.relative_to(folder).as_posix().encode() + b"\0")
        h.update(f.read_bytes())
        h.update(b"\0")
    return h.hexdigest()


def _relative(folder: Path, f: Path) -> str:
    return f.relative_to(folder).as_posix()


def _warn_skipped(folder: Path, files: list[Path], bad: dict[int, str]) -> None:
    if bad and len(bad) < len(files):  # all of them bad: the DataError that follows says it
        names = [bad[i] for i in sorted(bad)]  # in file order, whichever pass found them
        shown = ", ".join(names[:5]) + (", ..." if len(names) > 5 else "")
        # stacklevel 4: _warn_skipped < _build_cache < load_folder < its caller.
        warnings.warn(f"folder {folder}: skipped {len(bad)} of {len(files)} files that Pillow "
                      f"could not read as images: {shown}", stacklevel=4)


def _plan(folder: Path, files: list[Path], bad: dict[int, str], found: list[tuple[int, str, tuple]],
          size, channels) -> tuple[int, int]:
    """(channels, size) for the readable files ``found`` (index, mode, (w, h)), or a DataError."""
    if not found:
        raise DataError(f"folder {folder} holds no readable images ({len(files)} files, "
                        f"{len(bad)} unreadable): expected PNG/JPEG/... files directly in it or "
                        "in one subfolder per class.")
    if channels is None:
        channels = 1 if all(mode in GRAY_MODES for _, mode, _ in found) else 3
    if channels not in (1, 3):
        raise DataError(f"channels={channels} is not supported: expected 1 (gray) or 3 (RGB).")
    if size is None:
        sizes = {wh for _, _, wh in found}
        if len(sizes) > 1 or next(iter(sizes))[0] != next(iter(sizes))[1]:
            few = ", ".join(f"{w}x{h}" for w, h in sorted(sizes)[:4])
            raise DataError(f"folder {folder} holds images of sizes {few}: expected one square "
                            "size. Choose one with `--set data.size=64` (centre-crop + resize).")
        size = next(iter(sizes))[0]
    return channels, size


def _open_loaded(f: Path) -> Image.Image:
    im = Image.open(f)
    try:
        im.load()  # decodes the pixels: truncated or corrupt data fails here, not in open()
    except BaseException:
        im.close()
        raise
    return im


def _build_cache(folder: Path, files: list[Path], classes, size, channels, dest: Path) -> None:
    """Decode the folder into ``dest``, an uncompressed .npz with x (N, C, H, W) and maybe y.

    Streams: one image is decoded at a time and its bytes go straight to the archive, so memory
    use does not grow with the folder. A first pass reads only headers (``Image.open`` is
    lazy) to find the readable files, their modes and sizes, which fix the output shape before
    any pixel is decoded.
    """
    bad: dict[int, str] = {}  # file index -> relative path, from either pass
    found = []
    for i, f in enumerate(files):
        try:
            with Image.open(f) as im:
                found.append((i, im.mode, im.size))
        except Exception:  # Pillow raises many types for bad files; all mean "skip it"
            bad[i] = _relative(folder, f)
    dest.parent.mkdir(parents=True, exist_ok=True)
    tmp = dest.with_name(f"{dest.name}.{os.getpid()}.tmp")
    try:
        lost = None  # (plan, labels) of a decode whose pixel data failed for some files
        while True:
            try:
                plan = _plan(folder, files, bad, found, size, channels)
            except DataError:
                _warn_skipped(folder, files, bad)
                raise
            if lost is not None and lost[0] == plan:
                # Some headers were fine but their pixel data was not (truncated downloads,
                # say). Their rows are simply missing from tmp; with the same output shape,
                # copying what was written is cheaper than decoding everything again.
                _compact(tmp, len(found), lost[1])
                break
            labels: list[int] = []
            ok = _write_decoded(folder, files, classes, found, *plan, tmp, bad, labels)
            if len(ok) == len(found):
                break
            # Plan again without the broken files: if, say, the only RGB file was broken, the
            # folder is gray after all and is decoded again as such.
            found = [entry for entry in found if entry[0] in ok]
            lost = (plan, labels if classes is not None else None)
        _warn_skipped(folder, files, bad)
        os.replace(tmp, dest)
    finally:
        tmp.unlink(missing_ok=True)


def _write_decoded(folder: Path, files: list[Path], classes, found, channels: int, size: int,
                   tmp: Path, bad: dict[int, str], labels: list[int]) -> set[int]:
    """Write x (and y) for the files in ``found`` to ``tmp``; returns the indices decoded."""
    mode = "L" if channels == 1 else "RGB"
    ok: set[int] = set()

    def rows():
        for i, _, _ in found:
            f = files[i]
            try:
                im = _open_loaded(f)
            except Exception:  # Pillow raises many types for bad files; all mean "skip it"
                bad[i] = _relative(folder, f)
                continue
            with im:
                a = chw(square(eight_bit(im, mode), size))
            del im  # drop the decoded image before the next one is opened
            ok.add(i)
            if classes is not None:
                labels.append(classes.index(f.relative_to(folder).parts[0]))
            yield np.ascontiguousarray(a)

    with zipfile.ZipFile(tmp, "w", zipfile.ZIP_STORED, allowZip64=True) as zf:
        write_npy_member(zf, "x", (len(found), channels, size, size), np.uint8, rows())
        if classes is not None and len(ok) == len(found):
            write_npy_member(zf, "y", (len(labels),), np.int64, [np.asarray(labels, dtype=np.int64)])
    return ok


def _compact(tmp: Path, n: int, labels: list[int] | None) -> None:
    """Rewrite ``tmp`` keeping the first ``n`` rows of its (too long) x, and add y."""
    offset, shape, _, _ = npy_layout(tmp, "x")
    remaining = n * math.prod(shape[1:])

    def chunks(f):
        nonlocal remaining
        f.seek(offset)
        while remaining:
            block = f.read(min(remaining, 64 << 20))
            if not block:
                raise OSError(f"{tmp} ended early while compacting the folder cache")
            remaining -= len(block)
            yield block

    fixed = tmp.with_name(tmp.name + ".fixed")
    try:
        with open(tmp, "rb") as f, zipfile.ZipFile(fixed, "w", zipfile.ZIP_STORED, allowZip64=True) as zf:
            write_npy_member(zf, "x", (n,) + shape[1:], np.uint8, chunks(f))
            if labels is not None:
                write_npy_member(zf, "y", (len(labels),), np.int64, [np.asarray(labels, dtype=np.int64)])
        os.replace(fixed, tmp)
    finally:
        fixed.unlink(missing_ok=True)


def _open_cache(cache: Path):
    """(x, the whole file as MappedImages, and y or None); ValueError if the file is unusable."""
    with np.load(cache) as z:
        y = z["y"] if "y" in z.files else None
    x = MappedImages(cache, key="x")
    if y is not None and len(y) != len(x):
        raise ValueError(f"{cache}: {len(x)} images but {len(y)} labels")
    return x, y


def load_folder(path: str | os.PathLike, split: str = "train", size: int | None = None,
                channels: int | None = None, store: str = "auto") -> ImageSet:
    """Load an image folder (see the module docstring for layout and the test split).

    The first load decodes the folder into a cache file, one image at a time; later loads with
    the same files, ``size`` and ``channels`` reuse it whatever the ``store``.

    Parameters
    ----------
    path : path-like
    split : {"train", "test"}
    size : int or None
        Square side; required when the images differ in size.
    channels : {1, 3} or None
        Default: 1 if every image is grayscale, else 3.
    store : {"auto", "memory", "mapped"}
        "memory": ``x`` is an ndarray in RAM. "mapped": ``x`` is a
        :class:`~gankit.data.mapped.MappedImages` over the cache file, read by index with
        ``x.take(idx)``, for folders larger than memory. "auto": "mapped" when the decoded
        folder is larger than :data:`AUTO_MAP_BYTES` (1 GiB), else "memory".

    Returns
    -------
    ImageSet

    Examples
    --------
    >>> data = load_folder("~/faces", size=64, store="mapped")   # doctest: +SKIP
    >>> batch = data.x.take(np.random.permutation(len(data))[:64])   # doctest: +SKIP
    """
    check_split(split)
    if store not in STORES:
        raise DataError(f"unknown store {store!r}: expected one of {', '.join(STORES)} "
                        "(set it with `--set data.store=mapped`).")
    folder = Path(path).expanduser()
    if not folder.is_dir():
        raise DataError(f"folder:{path}: no such directory. Expected `folder:PATH` to name a "
                        "folder of images (or of class subfolders of images).")
    files, classes = _list_files(folder)
    if not files:
        raise DataError(f"folder {folder} is empty: expected image files directly in it or in "
                        "one subfolder per class.")
    key = _content_key(folder, files, size, channels)
    cache = cache_root() / "folders" / f"{key}.npz"
    opened = None
    if cache.is_file():
        try:
            opened = _open_cache(cache)
        except (OSError, ValueError, zipfile.BadZipFile):
            opened = None  # damaged or foreign (e.g. compressed): decode again
    if opened is None:
        _build_cache(folder, files, classes, size, channels, cache)
        opened = _open_cache(cache)
    x, y = opened
    n = len(x)
    test = test_mask(y, n)
    keep = test if split == "test" else ~test
    if not keep.any():
        raise DataError(f"folder {folder}: the {split} split is empty ({n} images; the test "
                        f"split is the last {TEST_FRACTION:.0%} of each class). Add images or use "
                        "split='train'.")
    if store == "auto":
        store = "mapped" if x.nbytes > AUTO_MAP_BYTES else "memory"
    rows = None if keep.all() else np.flatnonzero(keep)
    x = MappedImages(cache, rows, key="x") if rows is not None else x
    if store == "memory":
        x = x.load()  # block by block: resident memory peaks near one copy, not two
    return ImageSet(f"folder:{path}", x, None if y is None else y[keep],
                    None if classes is None else len(classes), str(folder), class_names=classes)
