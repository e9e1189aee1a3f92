"""Multi-process training on PyTorch's own engine: torch.distributed + DistributedDataParallel.

``torchrun`` sets RANK, WORLD_SIZE, LOCAL_RANK and the rendezvous variables; when they are there
the Trainer joins the process group (gloo on CPU, NCCL on CUDA) and wraps each network in DDP.
Collectives get a timeout so that a dead rank ends the job with an error instead of a hang.

Leaving the group at the end needs care (issue 12: a finished 2-rank run sometimes died with
``terminate called without an active exception``). Gloo runs each collective on a worker thread,
which keeps its own references to the collective's tensors until a moment *after* it has told the
caller that the collective is done. If that reference is the last one to a tensor made in Python,
the worker frees the tensor, and freeing a tensor that has a Python object needs the GIL. When
the main thread has meanwhile reached the end of the program, the interpreter is finalizing,
CPython ends any thread that asks for the GIL with ``pthread_exit``, and that unwinding through
the worker's C++ frames calls ``std::terminate``: SIGABRT after all the work was done. Rank 1 hit
this because after the last stop-flag all-reduce it has nothing left to do and exits at once,
while rank 0 still writes the final checkpoint, samples and plot. Two things close it here:

* :func:`any_rank` all-reduces one flag tensor per device that this module keeps for the whole
  run, so a worker thread dropping its reference never frees it;
* :func:`leave` waits, after a clean end, until every rank got there (a barrier), then until gloo
  has let go of the flag tensors, frees them from the main thread, and only then destroys the
  group. After an error it destroys the group at once: the job is failing and a barrier would
  only add a second collective timeout before it ends.
"""

from __future__ import annotations

import contextlib
import datetime
import os
import sys
import time
import warnings
from dataclasses import dataclass

import torch
import torch.distributed as dist

from gankit.config import ConfigError


@dataclass(frozen=True)
class World:
    rank: int = 0
    size: int = 1
    local_rank: int = 0

    @property
    def distributed(self) -> bool:
        return self.size > 1

    @property
    def is_main(self) -> bool:
        return self.rank == 0


def launched_by_torchrun() -> bool:
    return "RANK" in os.environ and "WORLD_SIZE" in os.environ


def join(device: str, timeout_s: float) -> World:
    """Join the process group that torchrun describes in the environment; a single process otherwise."""
    if not launched_by_torchrun():
        return World()
    world = World(int(os.environ["RANK"]), int(os.environ["WORLD_SIZE"]), int(os.environ.get("LOCAL_RANK", 0)))
    if world.size == 1:
        return World()
    if not dist.is_initialized():
        backend = "nccl" if device.startswith("cuda") else "gloo"
        if backend == "nccl":
            torch.cuda.set_device(world.local_rank)
            # Without async error handling a dead NCCL peer blocks the others forever.
            os.environ.setdefault("TORCH_NCCL_ASYNC_ERROR_HANDLING", "1")
        dist.init_process_group(backend, timeout=datetime.timedelta(seconds=timeout_s))
    return world


def device_for(device: str, world: World) -> torch.device:
    """Each rank takes its own GPU (LOCAL_RANK) when training on CUDA."""
    if device.startswith("cuda"):
        if not torch.cuda.is_available():
            raise ConfigError("--device cuda was given but PyTorch sees no CUDA device "
                              f"(torch {torch.__version__}); use --device cpu")
        return torch.device("cuda", world.local_rank) if world.distributed else torch.device(device)
    return torch.device(device)


# The stop-flag tensor of each device, reused by every any_rank call until leave() frees it. A
# fresh tensor per call could be freed last by gloo's worker thread (see the module docstring).
_flags: dict[torch.device, torch.Tensor] = {}
# How long leave() waits for gloo's worker threads to drop the flag tensors after the barrier;
# they only need to be scheduled once, so this is reached only on a badly overloaded machine.
RELEASE_WAIT_S = 10.0
# After an error a worker may still be blocked in a collective that holds a flag; don't wait long.
FAILED_RELEASE_WAIT_S = 1.0


def any_rank(flag: bool, world: World, device: torch.device) -> bool:
    """True on every rank when ``flag`` is true on at least one (stop requests, time budgets)."""
    if not world.distributed:
        return flag
    t = _flags.get(device)
    if t is None:
        t = _flags[device] = torch.zeros(1, device=device)
    t.fill_(1.0 if flag else 0.0)
    dist.all_reduce(t, op=dist.ReduceOp.MAX)
    return bool(t.item() > 0)


def mean_over_ranks(values: torch.Tensor) -> torch.Tensor:
    """``values`` averaged over every rank (each rank passes the same number of values in one order)."""
    values = values.detach().clone()
    dist.all_reduce(values, op=dist.ReduceOp.SUM)
    return values / dist.get_world_size()


def leave(failed: bool | None = None) -> None:
    """Leave the process group (if any): all ranks together after a clean end, at once after an error.

    ``failed`` says whether the run is ending with an error; by default it is true when called
    while an exception propagates (from a ``finally`` or ``except`` block).

    After a clean end every rank waits here for the others (up to the collective timeout), so
    that none tears its end of the group down while rank 0 still writes the final checkpoint, and
    no collective is in flight when the group goes. A barrier that fails (a peer died after its
    last step, or rank 0 took longer than the timeout) is only warned about: this rank's work is
    done, and failing it would make torchrun kill ranks that are still writing their results.
    """
    if failed is None:
        failed = sys.exc_info()[0] is not None
    if not dist.is_initialized():
        _flags.clear()
        return
    if failed:
        # No barrier: the job is failing, and waiting for ranks that may be dead would only
        # delay its end. A short wait for the flag tensors still spares the exit a SIGABRT that
        # would hide this rank's real exit status. The original error stays the one reported.
        _release_flags(FAILED_RELEASE_WAIT_S)
        with contextlib.suppress(Exception):
            dist.destroy_process_group()
        return
    try:
        if dist.get_world_size() > 1:
            try:
                if dist.get_backend() == "nccl":
                    dist.barrier(device_ids=[torch.cuda.current_device()])
                else:
                    dist.barrier()
            except Exception as e:  # gloo raises RuntimeError or DistBackendError subclasses
                warnings.warn(f"rank {dist.get_rank()}: the other ranks did not all reach the end of the run "
                              f"({type(e).__name__}: {e}); leaving the process group without them",
                              RuntimeWarning, stacklevel=2)
        _release_flags(RELEASE_WAIT_S)
    finally:
        dist.destroy_process_group()


def _release_flags(wait_s: float) -> None:
    """Free the flag tensors from this (the main) thread once no collective worker still holds one."""
    deadline = time.monotonic() + wait_s
    for device, t in list(_flags.items()):
        use_count = getattr(t, "_use_count", None)  # the C++ reference count; 1 = only _flags
        if use_count is None:  # a PyTorch without it: give the workers a moment instead
            time.sleep(0.05)
        else:
            while use_count() > 1 and time.monotonic() < deadline:
                time.sleep(0.001)
            if use_count() > 1:
                # Freeing it now would hand the last reference to that worker; leave it to the
                # interpreter's own clean-up, later, when the worker has most likely let go.
                continue
        del _flags[device]
