"""A whole dataset resident on the training device, batched without per-sample Python work."""

from __future__ import annotations

import numpy as np
import torch

from .errors import DataError
from .imageset import ImageSet


class DeviceDataset:
    """Shuffled fixed-size batches from an :class:`ImageSet` held once on ``device``.

    Each epoch is one permutation drawn with a CPU ``torch.Generator`` seeded with ``seed``
    (identical on every rank). A global batch is ``batch_size * world_size`` consecutive
    permutation entries; rank ``r`` takes its contiguous chunk ``[r*B:(r+1)*B]``, so two ranks
    of B see exactly the examples one rank of 2B sees. The last incomplete global batch of an
    epoch is dropped.

    Parameters
    ----------
    data : ImageSet
    device : str or torch.device
    batch_size : int
        Per-rank batch size B.
    seed : int
    rank, world_size : int
        Distributed position; defaults describe a single process.
    """

    def __init__(self, data: ImageSet, device: str | torch.device = "cpu", batch_size: int = 64,
                 seed: int = 0, rank: int = 0, world_size: int = 1):
        if batch_size < 1 or world_size < 1 or not 0 <= rank < world_size:
            raise DataError(f"batch_size={batch_size}, rank={rank}, world_size={world_size}: "
                            "expected batch_size >= 1 and 0 <= rank < world_size.")
        self.device = torch.device(device)
        self.batch_size = int(batch_size)
        self.rank, self.world_size, self.seed = int(rank), int(world_size), int(seed)
        self.is_image = data.is_image
        self.num_classes = data.num_classes
        self.name = data.name
        if not self.is_image and data.x.dtype != np.float32:
            raise DataError(f"{data.name}: x has dtype {data.x.dtype} and {data.x.ndim} dims: "
                            "expected uint8 (N, C, H, W) images or float32 (N, D) points.")
        self._n = len(data)
        self._global = self.batch_size * self.world_size
        if self._n < self._global:
            raise DataError(f"{data.name} has {self._n} examples, fewer than one global batch of "
                            f"{self._global} (batch_size {batch_size} x world_size {world_size}): "
                            "lower the batch size or use a larger dataset.")
        self.batches_per_epoch = self._n // self._global
        self.x = torch.from_numpy(np.ascontiguousarray(data.x)).to(self.device)
        self.y = None if data.y is None else torch.from_numpy(
            np.ascontiguousarray(data.y, dtype=np.int64)).to(self.device)
        self._gen = torch.Generator(device="cpu")
        self._gen.manual_seed(self.seed)
        self._completed = 0
        self._position = 0  # global batches already taken from the current permutation
        self._new_permutation()

    def _new_permutation(self) -> None:
        # Remember the state that produced this permutation: resuming replays it exactly.
        self._epoch_rng = self._gen.get_state()
        self._perm = torch.randperm(self._n, generator=self._gen).to(self.device)

    def next(self) -> tuple[torch.Tensor, torch.Tensor | None]:
        """The next batch: float32 x (images in [-1, 1]) and int64 labels or None."""
        if self._position >= self.batches_per_epoch:
            self._completed += 1
            self._position = 0
            self._new_permutation()
        start = self._position * self._global + self.rank * self.batch_size
        idx = self._perm[start:start + self.batch_size]
        self._position += 1
        x = self.x[idx]
        if self.is_image:
            x = x.to(torch.float32).div_(127.5).sub_(1.0)
        return x, (None if self.y is None else self.y[idx])

    __next__ = next

    def __iter__(self):
        return self

    @property
    def epoch(self) -> float:
        """Completed epochs plus the fraction of the current one."""
        return self._completed + self._position / self.batches_per_epoch

    @property
    def shape(self) -> tuple[int, ...]:
        return tuple(self.x.shape[1:])

    def __len__(self) -> int:
        return self._n

    def state_dict(self) -> dict:
        """JSON-serialisable sampling state; see :meth:`load_state_dict`."""
        return {"seed": self.seed, "num_examples": self._n, "global_batch": self._global,
                "epoch": self._completed, "position": self._position,
                "epoch_rng_state": self._epoch_rng.tolist()}

    def load_state_dict(self, state: dict) -> None:
        """Resume so that further batches are bit-identical to the saved run's.

        A different global batch (a DDP run resumed in one process, or the other way round)
        continues the same epoch's permutation from the first example not yet seen.
        """
        if state["num_examples"] != self._n:
            raise DataError(
                f"cannot resume sampling: saved for {state['num_examples']} examples, this run has {self._n}. "
                "Resume with the same dataset (and data.size/channels).")
        rng = state["epoch_rng_state"]
        rng = rng if isinstance(rng, torch.Tensor) else torch.tensor(rng, dtype=torch.uint8)
        self._gen.set_state(rng.to(torch.uint8).cpu())
        self._new_permutation()
        self._completed = int(state["epoch"])
        self._position = int(state["position"]) * int(state["global_batch"]) // self._global
        if self._position * self._global != int(state["position"]) * int(state["global_batch"]):
            self._position += 1  # never repeat examples of the interrupted epoch
        self.seed = int(state["seed"])
