"""Datasets: location, download and verification, decoding, and on-device batching.

Public API: :func:`load_dataset`, :func:`dataset_names`, :func:`dataset_info`,
:func:`describe_datasets`, :data:`DATASET_DESCRIPTIONS`, :class:`DatasetInfo`, :data:`CATALOG`,
:class:`ImageSet`, :class:`DeviceDataset`, :data:`TOY_DISTRIBUTIONS`, :class:`DataError`.
"""

from .catalog import CATALOG, DatasetInfo
from .device_dataset import DeviceDataset
from .errors import DataError
from .imageset import ImageSet
from .registry import DATASET_DESCRIPTIONS, dataset_info, dataset_names, describe_datasets, load_dataset
from .toys import TOY_DISTRIBUTIONS, ToyDistribution

__all__ = ["DataError", "ImageSet", "load_dataset", "dataset_names", "dataset_info", "describe_datasets",
           "DATASET_DESCRIPTIONS", "DatasetInfo", "CATALOG", "DeviceDataset", "TOY_DISTRIBUTIONS",
           "ToyDistribution"]
