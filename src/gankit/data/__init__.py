"""Datasets: location, download and verification, decoding, and on-device batching.

Public API: :func:`load_dataset`, :func:`dataset_names`, :func:`describe_datasets`,
:data:`DATASET_DESCRIPTIONS`, :class:`ImageSet`, :class:`DeviceDataset`,
:data:`TOY_DISTRIBUTIONS`, :class:`DataError`.
"""

from .device_dataset import DeviceDataset
from .errors import DataError
from .imageset import ImageSet
from .registry import DATASET_DESCRIPTIONS, dataset_names, describe_datasets, load_dataset
from .toys import TOY_DISTRIBUTIONS, ToyDistribution

__all__ = ["DataError", "ImageSet", "load_dataset", "dataset_names", "describe_datasets",
           "DATASET_DESCRIPTIONS", "DeviceDataset", "TOY_DISTRIBUTIONS", "ToyDistribution"]
