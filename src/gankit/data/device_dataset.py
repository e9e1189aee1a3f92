"""A whole dataset resident on the training device, batched without per-sample Python work."""

from __future__ import annotations

import numpy as np
import torch
import torch.nn.functional as F

from .errors import DataError
from .pixels import from_uint8
from .imageset import ImageSet


class DeviceDataset:
    """Shuffled batches of named tensors from an :class:`ImageSet` held once on ``device``.

    A batch is a dict: ``"x"`` (images as float32 in [-1, 1], or float32 points), ``"y"`` (int64
    labels, when the data have them) and every extra field of the data (``ImageSet.extra``: a
    paired image, a mask, a text embedding); uint8 image fields are normalised like ``x``.

    Each epoch is one permutation drawn with a CPU ``torch.Generator`` seeded with ``seed``
    (identical on every rank). A global batch is ``batch_size * world_size`` consecutive
    permutation entries; rank ``r`` takes its contiguous chunk ``[r*B:(r+1)*B]``, so two ranks
    of B see exactly the examples one rank of 2B sees. A global batch that would run past the end
    of the permutation starts the next epoch instead (the last incomplete batch is dropped).

    The batch size and the resolution may change between batches (Progressive GAN): the position
    in the epoch is kept in examples, so nothing is repeated or skipped. A lower resolution
    serves the stored images average-pooled to that size; for data held in memory, at half the
    stored size or less the whole dataset is pooled once when the resolution is set (as float32
    it then takes no more memory than the stored uint8 images), so a batch is an index, not a
    resize. Images on disk are pooled batch by batch.

    Images too large for memory stay on disk (``ImageSet.x`` a
    :class:`~gankit.data.mapped.MappedImages`): each batch is read by index and moved to the device.

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
        if world_size < 1 or not 0 <= rank < world_size:
            raise DataError(f"rank={rank}, world_size={world_size}: expected 0 <= rank < world_size.")
        self.device = torch.device(device)
        self.rank, self.world_size, self.seed = int(rank), int(world_size), int(seed)
        self.is_image = data.is_image
        self.num_classes = data.num_classes
        self.name = data.name
        if not self.is_image and data.x.dtype != np.float32:
            raise DataError(f"{data.name}: x has dtype {data.x.dtype} and {data.x.ndim} dims: "
                            "expected uint8 (N, C, H, W) images or float32 (N, D) points.")
        self._n = len(data)
        self.mapped = hasattr(data.x, "take") and not isinstance(data.x, np.ndarray)
        self.fields: dict[str, torch.Tensor] = {} if self.mapped else {"x": self._resident(data.x)}
        self._mapped_x = data.x if self.mapped else None
        if data.y is not None:
            self.fields["y"] = self._resident(np.asarray(data.y, dtype=np.int64))
        for key, values in data.extra.items():
            if len(values) != self._n:
                raise DataError(f"{data.name}: field {key!r} has {len(values)} rows, x has {self._n}")
            self.fields[key] = self._resident(values)
        self.native_size = data.x.shape[-1] if self.is_image else None
        self.resolution = self.native_size
        self._pooled: dict[str, torch.Tensor] = {}  # image fields pooled to ``resolution``, when cached
        self.batch_size = batch_size
        self._gen = torch.Generator(device="cpu")
        self._gen.manual_seed(self.seed)
        self._completed = 0
        self._offset = 0  # examples of the current permutation already taken (all ranks)
        self._new_permutation()

    def _resident(self, array: np.ndarray) -> torch.Tensor:
        return torch.from_numpy(np.ascontiguousarray(array)).to(self.device)

    # --- batch size and resolution ----------------------------------------------------------
    @property
    def batch_size(self) -> int:
        return self._batch_size

    @batch_size.setter
    def batch_size(self, value: int) -> None:
        value = int(value)
        if value < 1:
            raise DataError(f"batch_size={value}: expected at least 1.")
        if self._n < value * self.world_size:
            raise DataError(f"{self.name} has {self._n} examples, fewer than one global batch of "
                            f"{value * self.world_size} (batch_size {value} x world_size {self.world_size}): "
                            "lower the batch size or use a larger dataset.")
        self._batch_size = value

    @property
    def global_batch(self) -> int:
        return self._batch_size * self.world_size

    @property
    def batches_per_epoch(self) -> int:
        return self._n // self.global_batch

    def set_resolution(self, size: int | None) -> None:
        """Serve images at ``size`` x ``size`` (average-pooled); None restores the stored size."""
        if size is None:
            self.resolution, self._pooled = self.native_size, {}
            return
        if not self.is_image or not 1 <= int(size) <= self.native_size:
            raise DataError(f"{self.name}: resolution {size} is not possible: "
                            + (f"the images are stored at {self.native_size}x{self.native_size}"
                               if self.is_image else "toy points have no resolution"))
        if int(size) == self.resolution:
            return
        self.resolution = int(size)
        # A small stage would spend most of its time converting and pooling full-size batches.
        self._pooled = {} if 2 * self.resolution > self.native_size else {
            key: self._pool_all(values) for key, values in self.fields.items()
            if values.dtype == torch.uint8 and values.ndim == 4}

    def _pool_all(self, images: torch.Tensor, chunk: int = 1024) -> torch.Tensor:
        # Per image the same operations as a batch's, so the values served do not change.
        return torch.cat([self._as_float_images(images[i:i + chunk]) for i in range(0, len(images), chunk)])

    # --- batches ----------------------------------------------------------------------------
    def _new_permutation(self) -> None:
        # Remember the state that produced this permutation: resuming replays it exactly.
        self._epoch_rng = self._gen.get_state()
        self._perm = torch.randperm(self._n, generator=self._gen)
        self._perm_device = self._perm.to(self.device)

    def next(self) -> dict[str, torch.Tensor]:
        """The next batch of this rank (see the class docstring for its fields)."""
        if self._offset + self.global_batch > self._n:
            self._completed += 1
            self._offset = 0
            self._new_permutation()
        start = self._offset + self.rank * self.batch_size
        self._offset += self.global_batch
        idx = self._perm_device[start:start + self.batch_size]
        batch = {key: self._pooled.get(key, values)[idx] for key, values in self.fields.items()}
        if self.mapped:
            rows = self._perm[start:start + self.batch_size].numpy()
            batch["x"] = torch.from_numpy(self._mapped_x.take(rows)).to(self.device, non_blocking=True)
        for key, values in batch.items():
            if values.dtype == torch.uint8 and values.ndim == 4:
                batch[key] = self._as_float_images(values)
        return batch

    __next__ = next

    def __iter__(self):
        return self

    def _as_float_images(self, images: torch.Tensor) -> torch.Tensor:
        images = from_uint8(images)
        if self.resolution != images.shape[-1]:
            images = F.interpolate(images, size=(self.resolution, self.resolution), mode="area")
        return images

    # --- bookkeeping ------------------------------------------------------------------------
    @property
    def epoch(self) -> float:
        """Completed epochs plus the fraction of the current one."""
        return self._completed + self._offset / (self.batches_per_epoch * self.global_batch)

    @property
    def shape(self) -> tuple[int, ...]:
        """One example of ``x`` as served (at the current resolution)."""
        if self.mapped:
            stored = tuple(self._mapped_x.shape[1:])
        else:
            stored = tuple(self.fields["x"].shape[1:])
        return stored if not self.is_image else (stored[0], self.resolution, self.resolution)

    def __len__(self) -> int:
        return self._n

    def state_dict(self) -> dict:
        """JSON-serialisable sampling state; see :meth:`load_state_dict`."""
        return {"seed": self.seed, "num_examples": self._n, "global_batch": self.global_batch,
                "batch_size": self.batch_size, "resolution": self.resolution, "epoch": self._completed,
                "offset": self._offset, "epoch_rng_state": self._epoch_rng.tolist()}

    def load_state_dict(self, state: dict) -> None:
        """Resume so that further batches are bit-identical to the saved run's.

        Set the batch size the saved run had first (the Trainer does). A different global batch
        (a DDP run resumed in one process, or the other way round) continues the same epoch's
        permutation at the next whole global batch, so no example of it is seen twice.
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
        # Checkpoints before the batch-size schedule counted whole global batches ("position").
        offset = int(state["offset"]) if "offset" in state else int(state["position"]) * int(state["global_batch"])
        if int(state["global_batch"]) != self.global_batch:
            offset = -(-offset // self.global_batch) * self.global_batch  # round up: never repeat
        self._offset = offset
        self.seed = int(state["seed"])
