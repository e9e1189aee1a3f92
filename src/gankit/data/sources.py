"""Where the IDX file datasets are found: local directories first, then a verified download.

Lookup order for ``fashion-mnist`` and ``mnist`` (first directory holding the split's two
files wins; each file may be gzip-compressed or not):

1. ``root`` (the user's ``--data-root``), as ``root/<name>/`` or ``root/`` itself;
2. ``$GANKIT_DATA``, the same way;
3. the Debian location ``DEBIAN_DIR/<name>/`` (``/usr/share/datasets/<name>/``);
4. the cache ``$XDG_CACHE_HOME/gankit/<name>/`` (default ``~/.cache/gankit/<name>/``);
5. a download from the official URLs into the cache, verified by SHA-256.
"""

from __future__ import annotations

import hashlib
import os
import sys
import tempfile
import time
import urllib.error
import urllib.request
from dataclasses import dataclass
from pathlib import Path

from .errors import DataError

# Module-level so tests (and unusual installs) can point them elsewhere.
DEBIAN_DIR = Path("/usr/share/datasets")
ENV_VAR = "GANKIT_DATA"


@dataclass(frozen=True)
class FileDataset:
    """An IDX dataset distributed as four files."""

    name: str
    base_url: str
    sha256: dict  # "<file>.gz" -> SHA-256 of the official compressed file
    sizes: dict  # "<file>.gz" -> size in bytes of the official compressed file
    debian_package: str | None
    splits: dict  # split -> (images stem, labels stem)

    def url(self, filename: str) -> str:
        return self.base_url + filename


_SPLITS = {"train": ("train-images-idx3-ubyte", "train-labels-idx1-ubyte"),
           "test": ("t10k-images-idx3-ubyte", "t10k-labels-idx1-ubyte")}

# Official files' SHA-256, as published alongside the Fashion-MNIST download links and used by
# several independent loaders. The Debian package re-compressed the same IDX payload (its .gz
# files are 23-24 bytes smaller and hash differently), so these only verify downloads; local
# files are checked structurally by the IDX reader instead.
FILE_DATASETS = {
    "fashion-mnist": FileDataset(
        name="fashion-mnist",
        base_url="http://fashion-mnist.s3-website.eu-central-1.amazonaws.com/",
        sha256={
            "train-images-idx3-ubyte.gz": "3aede38d61863908ad78613f6a32ed271626dd12800ba2636569512369268a84",
            "train-labels-idx1-ubyte.gz": "a04f17134ac03560a47e3764e11b92fc97de4d1bfaf8ba1a3aa29af54cc90845",
            "t10k-images-idx3-ubyte.gz": "346e55b948d973a97e58d2351dde16a484bd415d4595297633bb08f03db6a073",
            "t10k-labels-idx1-ubyte.gz": "67da17c76eaffca5446c3361aaab5c3cd6d1c2608764d35dfb1850b086bf8dd5",
        },
        sizes={"train-images-idx3-ubyte.gz": 26421880, "train-labels-idx1-ubyte.gz": 29515,
               "t10k-images-idx3-ubyte.gz": 4422102, "t10k-labels-idx1-ubyte.gz": 5148},
        debian_package="dataset-fashion-mnist",
        splits=_SPLITS,
    ),
    # MNIST's SHA-256 values are the widely published ones for LeCun's original .gz files
    # (the ossci mirror serves the same bytes; torchvision checks their MD5s f68b3c2d...,
    # d53e105e..., 9fb629c4..., ec29112d...).
    "mnist": FileDataset(
        name="mnist",
        base_url="https://ossci-datasets.s3.amazonaws.com/mnist/",
        sha256={
            "train-images-idx3-ubyte.gz": "440fcabf73cc546fa21475e81ea370265605f56be210a4024d2ca8f203523609",
            "train-labels-idx1-ubyte.gz": "3552534a0a558bbed6aed32b30c495cca23d567ec52cac8be1a0730e8010255c",
            "t10k-images-idx3-ubyte.gz": "8d422c7b0a1c1c79245a5bcf07fe86e33eeafee792b84584aec276f5a2dbc4e6",
            "t10k-labels-idx1-ubyte.gz": "f7ae60f92e00ec6debd23a6088c31dbd2371eca3ffa0defaefb259924204aec6",
        },
        sizes={"train-images-idx3-ubyte.gz": 9912422, "train-labels-idx1-ubyte.gz": 28881,
               "t10k-images-idx3-ubyte.gz": 1648877, "t10k-labels-idx1-ubyte.gz": 4542},
        debian_package=None,  # `apt-cache search mnist` finds only dataset-fashion-mnist
        splits=_SPLITS,
    ),
}


def cache_root() -> Path:
    """gankit's cache directory, ``$XDG_CACHE_HOME/gankit`` or ``~/.cache/gankit``."""
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return Path(base) / "gankit"


def candidate_dirs(name: str, root: str | os.PathLike | None = None) -> list[tuple[str, Path]]:
    """Directories searched for dataset ``name``, in order, each with a label saying why."""
    out = []
    for label, base in (("--data-root", root), ("$" + ENV_VAR, os.environ.get(ENV_VAR))):
        if base:
            # The named subfolder first: a bare root holding other IDX files must not shadow it.
            out += [(label, Path(base) / name), (label, Path(base))]
    out.append(("Debian package", Path(DEBIAN_DIR) / name))
    out.append(("cache", cache_root() / name))
    return out


def _find_file(directory: Path, stem: str) -> Path | None:
    for candidate in (directory / stem, directory / (stem + ".gz")):
        if candidate.is_file():
            return candidate
    return None


def find_local(name: str, split: str, root: str | os.PathLike | None = None
               ) -> tuple[Path, Path, str] | None:
    """First local (images, labels, where) for a split, or None. Never downloads."""
    stems = FILE_DATASETS[name].splits[split]
    for label, directory in candidate_dirs(name, root):
        paths = [_find_file(directory, s) for s in stems]
        if all(paths):
            return paths[0], paths[1], f"{label}: {directory}"
    return None


def _progress(label: str, got: int, total: int | None, out) -> None:
    if total:
        out.write(f"\rdownloading {label}: {got / 1e6:.1f}/{total / 1e6:.1f} MB ({100 * got // total}%)")
    else:
        out.write(f"\rdownloading {label}: {got / 1e6:.1f} MB")
    out.flush()


def download(url: str, dest: str | os.PathLike, sha256: str | None = None,
             quiet: bool = False, timeout: float = 60.0) -> Path:
    """Download ``url`` to ``dest`` via a temporary file, verifying its SHA-256.

    The file only appears at ``dest`` once complete and verified; on any failure the
    partial file is deleted and a :class:`DataError` is raised.

    Parameters
    ----------
    url : str
        Any URL urllib opens (http, https, file).
    dest : path-like
    sha256 : str or None
        Expected hex digest; None skips the check.
    quiet : bool
        If False, a progress line is written to stderr.

    Returns
    -------
    Path of the downloaded file.
    """
    dest = Path(dest)
    dest.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=dest.name + ".", suffix=".part", dir=dest.parent)
    h = hashlib.sha256()
    got = 0
    out = sys.stderr
    try:
        with os.fdopen(fd, "wb") as f, urllib.request.urlopen(url, timeout=timeout) as r:
            length = r.headers.get("Content-Length")
            total = int(length) if length and length.isdigit() else None
            last = 0.0
            while chunk := r.read(1 << 16):
                f.write(chunk)
                h.update(chunk)
                got += len(chunk)
                if not quiet and time.monotonic() - last > 0.2:
                    _progress(dest.name, got, total, out)
                    last = time.monotonic()
        if not quiet:
            _progress(dest.name, got, total, out)
            out.write("\n")
        if sha256 is not None and h.hexdigest() != sha256.lower():
            raise DataError(
                f"download of {url} failed verification: SHA-256 {h.hexdigest()} ({got} bytes), "
                f"expected {sha256}. The partial file was deleted; retry later or fetch the file "
                "yourself and pass its folder with --data-root.")
        os.replace(tmp, dest)
    except DataError:
        _remove(tmp)
        raise
    except (urllib.error.URLError, OSError, ValueError) as e:
        _remove(tmp)
        raise DataError(f"could not download {url} ({e}).") from e
    except BaseException:
        _remove(tmp)
        raise
    return dest


def _remove(path: str) -> None:
    try:
        os.remove(path)
    except FileNotFoundError:
        pass


def how_to_get(ds: FileDataset) -> str:
    """The ways to get a file dataset (Debian package, --data-root, download), for error messages."""
    if ds.debian_package:
        deb = f"install the Debian package `{ds.debian_package}` (files under {Path(DEBIAN_DIR) / ds.name}/)"
    else:
        deb = f"there is no Debian package with the {ds.name} files"
    return (f"To fix: {deb}; or download the four files from {ds.base_url} "
            f"(e.g. {ds.url('train-images-idx3-ubyte.gz')}) into a folder and pass it with "
            f"--data-root DIR or set ${ENV_VAR}=DIR; or run online with downloading allowed.")


def locate(name: str, split: str, root: str | os.PathLike | None = None, download_ok: bool = True,
           quiet: bool = False) -> tuple[Path, Path, str]:
    """Find (or download into the cache) the image and label files for a split.

    Returns
    -------
    images_path, labels_path, where : (Path, Path, str)
        ``where`` names the lookup step and directory that supplied the files.
    """
    ds = FILE_DATASETS[name]
    found = find_local(name, split, root)
    if found is not None:
        return found
    stems = ds.splits[split]
    searched = "; ".join(f"{label}: {d}" for label, d in candidate_dirs(name, root))
    missing = (f"{name} ({split} split) not found: expected {stems[0]}[.gz] and {stems[1]}[.gz] "
               f"in one of [{searched}].")
    if not download_ok:
        raise DataError(f"{missing} Downloading is switched off. {how_to_get(ds)}")
    target = cache_root() / name
    paths = []
    for stem in stems:
        filename = stem + ".gz"
        dest = target / filename
        if not dest.is_file():
            try:
                download(ds.url(filename), dest, ds.sha256[filename], quiet=quiet)
            except DataError as e:
                raise DataError(f"{missing} Download failed: {e} {how_to_get(ds)}") from e
        paths.append(dest)
    return paths[0], paths[1], f"downloaded: {target}"
