"""Multi-process training on PyTorch's own engine: torch.distributed + DistributedDataParallel.

``torchrun`` sets RANK, WORLD_SIZE, LOCAL_RANK and the rendezvous variables; when they are there
the Trainer joins the process group (gloo on CPU, NCCL on CUDA) and wraps each network in DDP.
Collectives get a timeout so that a dead rank ends the job with an error instead of a hang.
"""

from __future__ import annotations

import datetime
import os
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


def any_rank(flag: bool, world: World, device: torch.device) -> bool:
    """True on every rank when ``flag`` is true on at least one (stop requests, time budgets)."""
    if not world.distributed:
        return flag
    t = torch.tensor([1.0 if flag else 0.0], device=device)
    dist.all_reduce(t, op=dist.ReduceOp.MAX)
    return bool(t.item() > 0)


def leave() -> None:
    if dist.is_initialized():
        dist.destroy_process_group()
