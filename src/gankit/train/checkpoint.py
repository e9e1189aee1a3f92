"""Checkpoints: ``checkpoints/step_XXXXXXXX/{weights.safetensors, state.pt}``.

The whole recipe is saved: its state dict holds the networks (``nets.<name>.*``) and whatever
else the recipe keeps as modules or buffers (an image pool, a parameter average, a running mean);
its tensors go to safetensors with the generator EMA under ``ema.``, so they load without
unpickling, and the few non-tensor entries (``get_extra_state``) go to ``state.pt`` under
``"recipe"``. Everything else needed to continue exactly (step, progress, optimiser states, RNG
states, the data streams, elapsed time) goes to ``state.pt`` too. This module is the only place
that knows this key layout.

Two promises hold whatever happens to the process (Ctrl-C, SIGKILL, a power cut):

* **No half checkpoint.** A checkpoint is written into a temporary folder ``.tmp-...``, every file
  and the folder are flushed to the disk (``fsync``), and only then is the folder renamed into
  place; the rename is atomic, and the ``checkpoints/`` folder is flushed after it so that the
  new name survives too. A reader only ever sees ``step_*`` folders that hold both files, and a
  ``.tmp-`` folder left by a killed writer is ignored and swept away by the next save.
* **Safe loading.** ``state.pt`` holds only tensors and plain Python values (numbers, strings,
  lists, tuples, dicts), so it loads with ``torch.load(..., weights_only=True)``: opening a run
  directory from someone else cannot run their code. A file that needs anything more is refused
  with :class:`CheckpointError`; gankit never falls back to unrestricted unpickling.
"""

from __future__ import annotations

import os
import pickle
import random
import shutil
from pathlib import Path
from typing import Any

import numpy as np
import torch
from safetensors.torch import load_file, save_file

PREFIX = "step_"


def checkpoint_dirs(run_dir: Path) -> list[Path]:
    """Complete checkpoints of a run, oldest first."""
    folder = Path(run_dir) / "checkpoints"
    if not folder.is_dir():
        return []
    return sorted(p for p in folder.iterdir() if p.is_dir() and p.name.startswith(PREFIX)
                  and (p / "state.pt").exists() and (p / "weights.safetensors").exists())


def latest_checkpoint(run_dir: Path) -> Path | None:
    found = checkpoint_dirs(run_dir)
    return found[-1] if found else None


def rng_state() -> dict[str, Any]:
    """The global RNG states (torch, numpy, Python's ``random``, CUDA) as tensors and plain values.

    numpy's and Python's own state objects (a tuple with a numpy ``uint32`` array; a tuple of 625
    ints) are converted to int64 tensors, so that ``state.pt`` loads with ``weights_only=True``.
    The values are the generators' full internal state, so :func:`set_rng_state` restores them
    bit for bit.
    """
    numpy = np.random.get_state(legacy=False)  # {'bit_generator', 'state': {'key', 'pos'}, 'has_gauss', 'gauss'}
    version, internal, gauss_next = random.getstate()
    state = {"torch": torch.get_rng_state(),
             "numpy": {"bit_generator": numpy["bit_generator"],
                       "key": torch.from_numpy(numpy["state"]["key"].astype(np.int64)),
                       "pos": int(numpy["state"]["pos"]), "has_gauss": int(numpy["has_gauss"]),
                       "gauss": float(numpy["gauss"])},
             "python": {"version": version, "internal": torch.tensor(internal, dtype=torch.int64),
                        "gauss_next": gauss_next}}
    if torch.cuda.is_available() and torch.cuda.is_initialized():
        state["cuda"] = torch.cuda.get_rng_state_all()
    return state


def set_rng_state(state: dict[str, Any]) -> None:
    """Restore what :func:`rng_state` saved; also the older format with numpy's and Python's own tuples."""
    torch.set_rng_state(state["torch"])
    numpy = state["numpy"]
    if isinstance(numpy, dict):
        np.random.set_state({"bit_generator": numpy["bit_generator"],
                             "state": {"key": numpy["key"].numpy().astype(np.uint32), "pos": numpy["pos"]},
                             "has_gauss": numpy["has_gauss"], "gauss": numpy["gauss"]})
    else:  # written by gankit before the safe format: np.random.get_state()'s tuple
        np.random.set_state(numpy)
    python = state["python"]
    if isinstance(python, dict):
        random.setstate((python["version"], tuple(python["internal"].tolist()), python["gauss_next"]))
    else:
        random.setstate(python)
    if "cuda" in state and torch.cuda.is_available():
        torch.cuda.set_rng_state_all(state["cuda"])


EMA_PREFIX = "ema."


def pack_recipe(recipe: torch.nn.Module, ema: torch.nn.Module | None = None) -> tuple[dict[str, torch.Tensor], dict[str, Any]]:
    """(tensors for weights.safetensors, non-tensor recipe state for state.pt)."""
    tensors, extra = {}, {}
    for key, value in recipe.state_dict().items():
        (tensors if isinstance(value, torch.Tensor) else extra)[key] = value
    if ema is not None:
        tensors.update({EMA_PREFIX + k: v for k, v in ema.state_dict().items()})
    return tensors, extra


def unpack_recipe(recipe: torch.nn.Module, weights: dict[str, torch.Tensor], extra: dict[str, Any],
                  ema: torch.nn.Module | None = None) -> None:
    """Load what :func:`pack_recipe` saved; a checkpoint without EMA weights starts the EMA at G."""
    own = {k: v for k, v in weights.items() if not k.startswith(EMA_PREFIX)}
    recipe.load_state_dict({**own, **extra})
    if ema is not None:
        saved = ema_weights(weights)
        ema.load_state_dict(saved or recipe.nets[recipe.generator_name].state_dict())


def ema_weights(weights: dict[str, torch.Tensor]) -> dict[str, torch.Tensor]:
    """The generator EMA's weights in a checkpoint's tensors (empty when the run kept none)."""
    return {k[len(EMA_PREFIX):]: v for k, v in weights.items() if k.startswith(EMA_PREFIX)}


def fsync_path(path: Path, directory: bool = False) -> None:
    """Flush a file's (or a directory's) data and metadata from the OS cache to the disk.

    Without it a rename can reach the disk before the renamed files' contents do, and a power
    cut then leaves a complete-looking checkpoint full of zeros. A directory is flushed to make
    the names in it (a rename, a deletion) durable. Windows cannot open a directory this way
    and some file systems cannot flush one; there the directory flush is skipped.
    """
    if directory and os.name == "nt":
        return
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    except OSError:
        if not directory:
            raise
    finally:
        os.close(fd)


TMP = ".tmp-"


def _process_alive(pid: int) -> bool:
    if os.name != "posix":  # no cheap, harmless liveness probe: assume alive, keep its folder
        return True
    try:
        os.kill(pid, 0)  # signal 0: only asks whether the process exists
    except ProcessLookupError:
        return False
    except PermissionError:  # exists, owned by someone else
        return True
    return True


def _remove_stale(folder: Path) -> None:
    """Delete ``.tmp-*-<pid>`` folders whose writer is gone (a save killed half-way).

    They are never read (only ``step_*`` folders are), but each may be as large as a checkpoint.
    One trainer writes a run's checkpoints at a time and its saves do not overlap, so a folder of
    a dead process, or one of this process (a save that failed, e.g. on a full disk), is garbage.
    """
    for path in folder.glob(TMP + "*"):
        pid = path.name.rsplit("-", 1)[-1]
        if pid.isdigit() and (int(pid) == os.getpid() or not _process_alive(int(pid))):
            shutil.rmtree(path, ignore_errors=True)


def _remove(path: Path) -> None:
    """Delete a checkpoint folder without ever leaving a half-deleted ``step_*`` behind.

    The folder is first renamed out of sight (atomic); a crash during the deletion then leaves
    only a ``.tmp-`` folder, which :func:`_remove_stale` sweeps away later.
    """
    aside = path.with_name(f"{TMP}old-{path.name}-{os.getpid()}")
    shutil.rmtree(aside, ignore_errors=True)
    path.rename(aside)
    shutil.rmtree(aside, ignore_errors=True)


def save_checkpoint(run_dir: Path, step: int, weights: dict[str, torch.Tensor], state: dict[str, Any],
                    keep: int) -> Path:
    """Write atomically and durably; keep only the newest ``keep`` checkpoints. Returns the checkpoint folder.

    ``state`` must hold only tensors and plain Python values (see :func:`load_state`).
    """
    run_dir = Path(run_dir)
    folder = run_dir / "checkpoints"
    created = not folder.is_dir()
    folder.mkdir(parents=True, exist_ok=True)
    if created:  # make the new folder's name durable in the run directory
        fsync_path(run_dir, directory=True)
    _remove_stale(folder)
    final = folder / f"{PREFIX}{step:08d}"
    tmp = folder / f"{TMP}{final.name}-{os.getpid()}"
    tmp.mkdir()
    try:
        # safetensors refuses shared or non-contiguous storage; clone makes each tensor its own.
        save_file({k: v.detach().cpu().contiguous().clone() for k, v in weights.items()},
                  str(tmp / "weights.safetensors"))
        torch.save(state, tmp / "state.pt")
        # Contents first, then the names in the temporary folder, then the rename: in this order a
        # crash at any moment leaves either the old set of checkpoints or the new one complete.
        fsync_path(tmp / "weights.safetensors")
        fsync_path(tmp / "state.pt")
        fsync_path(tmp, directory=True)
    except BaseException:  # e.g. a full disk or Ctrl-C: leave no temporary folder behind
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    if final.exists():  # re-saving the same step (e.g. resuming a finished run)
        _remove(final)
    tmp.rename(final)
    fsync_path(folder, directory=True)
    old = checkpoint_dirs(run_dir)[:-keep] if keep > 0 else []
    for path in old:
        _remove(path)
    if old:
        fsync_path(folder, directory=True)
    return final


def load_weights(checkpoint: Path) -> dict[str, torch.Tensor]:
    return load_file(str(Path(checkpoint) / "weights.safetensors"))


class CheckpointError(ValueError):
    """A checkpoint file gankit will not load (it would need unrestricted unpickling)."""


# numpy's RNG state as gankit wrote it before the safe format: np.random.get_state() is a tuple
# holding one uint32 ndarray, which pickles as calls to these. They only rebuild an array from a
# shape, a dtype and raw bytes; none of them can call anything else (an array of Python objects
# would unpickle its items through the same restricted unpickler), so allowing exactly these and
# nothing more keeps old checkpoints resumable without opening the door to code. The array
# pickle names numpy's reconstruct function by its numpy 1 or numpy 2 module path.
_reconstruct = np.ndarray(0).__reduce__()[0]
_NUMPY_ARRAY_GLOBALS = [(_reconstruct, "numpy.core.multiarray._reconstruct"),
                        (_reconstruct, "numpy._core.multiarray._reconstruct"),
                        (np.ndarray, "numpy.ndarray"), (np.dtype, "numpy.dtype")]
_uint32_dtype = type(np.dtype(np.uint32))
if _uint32_dtype is not np.dtype:  # numpy >= 1.25 has one class per dtype
    _NUMPY_ARRAY_GLOBALS.append((_uint32_dtype, f"numpy.dtypes.{_uint32_dtype.__name__}"))
_NUMPY_ARRAY_NAMES = {name for _, name in _NUMPY_ARRAY_GLOBALS}


def _globals_in(path: Path) -> list[str] | None:
    """The Python objects a torch.save file would import, read without unpickling (None: unreadable)."""
    try:
        return list(torch.serialization.get_unsafe_globals_in_checkpoint(path))
    except Exception:  # not a zip checkpoint at all, or damaged
        return None


def load_state(checkpoint: Path) -> dict[str, Any]:
    """Load ``state.pt`` with ``torch.load(..., weights_only=True)``; refuse anything else.

    ``weights_only`` unpickles only tensors, plain Python values and a short list of torch types
    (optimizer state dicts and generator states are made of these). A file that needs more,
    e.g. a class whose unpickling would call ``os.system``, raises :class:`CheckpointError`
    before any of it runs. The one exception is the numpy array in checkpoints of older gankit
    versions, whose reconstruction is allowed explicitly (see ``_NUMPY_ARRAY_GLOBALS``).
    """
    path = Path(checkpoint) / "state.pt"
    try:
        return torch.load(path, weights_only=True)
    except pickle.UnpicklingError as exc:
        found = _globals_in(path)
        if found and set(found) <= _NUMPY_ARRAY_NAMES:
            with torch.serialization.safe_globals(_NUMPY_ARRAY_GLOBALS):
                return torch.load(path, weights_only=True)
        if found:
            what = ", ".join(sorted(set(found) - _NUMPY_ARRAY_NAMES))
        else:  # the scan could not say; quote torch's own reason
            reason = str(exc).split("WeightsUnpickler error:")[-1].strip().splitlines()
            what = reason[0] if reason else "objects outside tensors and plain values"
        raise CheckpointError(
            f"{path} is not a gankit checkpoint state that loads safely (it contains {what}); gankit refuses "
            "to unpickle it because that could run code. Re-create the run, or resume from a checkpoint "
            "written by gankit that you trust") from None
