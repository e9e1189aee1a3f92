"""Turn user or generator arrays into the layout the metrics use, or say exactly what is wrong."""
from __future__ import annotations

import numpy as np


class SampleError(ValueError):
    """Samples that cannot be evaluated as they are."""


def dataset_shape(data_name: str, root=None) -> tuple[tuple[int, ...], bool]:
    """(shape of one item, is_image) for a dataset name, from its catalog entry
    (``folder:PATH`` data are loaded to find out)."""
    from gankit.data import dataset_info

    info = dataset_info(data_name, root)
    return info.shape, info.is_image


def _float_to_uint8(x: np.ndarray, value_range) -> np.ndarray:
    lo, hi = float(x.min()), float(x.max())
    if value_range is None:
        if lo >= -1e-3 and hi <= 1 + 1e-3:
            value_range = (0.0, 1.0)
        elif lo >= -1 - 1e-3 and hi <= 1 + 1e-3:
            value_range = (-1.0, 1.0)
        else:
            raise SampleError(
                f"float samples range over [{lo:.4g}, {hi:.4g}]; expected [0, 1] or [-1, 1] "
                "(generator output), or uint8 0..255. Rescale them, or pass value_range=(lo, hi).")
    a, b = value_range
    return np.clip(np.rint((x.astype(np.float64) - a) / (b - a) * 255.0), 0, 255).astype(np.uint8)


def prepare_samples(samples, shape: tuple[int, ...], is_image: bool = True, value_range=None) -> np.ndarray:
    """Images -> uint8 (N,C,H,W); toy points -> float64 (N,D).

    Image layouts accepted: (N,C,H,W), (N,H,W) for one channel, (N,H,W,C) channels-last and (N,C*H*W)
    flattened.  uint8 is taken as 0..255; float in [0,1] or [-1,1] is detected from its range
    (force it with value_range).  NaN/inf, wrong sizes and empty arrays are rejected."""
    x = np.asarray(samples)
    what = f"{'images' if is_image else 'points'} shaped (N, {', '.join(map(str, shape))})"
    if x.dtype == object or not (np.issubdtype(x.dtype, np.number) or x.dtype == bool):
        raise SampleError(f"samples have dtype {x.dtype}; expected uint8 or float {what}")
    if x.ndim == 0 or len(x) == 0:
        raise SampleError(f"no samples given (shape {x.shape}); expected {what}")
    if np.issubdtype(x.dtype, np.floating) and not np.isfinite(x).all():
        bad = int((~np.isfinite(x)).reshape(len(x), -1).any(1).sum())
        raise SampleError(f"{bad} of {len(x)} samples contain NaN or inf; the generator has diverged "
                          "or the file is corrupt")
    if not is_image:
        (d,) = shape
        if x.ndim == 1 and d == 1:
            x = x[:, None]
        if x.ndim != 2 or x.shape[1] != d:
            raise SampleError(f"got samples shaped {x.shape}; expected {what}")
        return x.astype(np.float64)
    c, h, w = shape
    if x.ndim == 2 and x.shape[1] == c * h * w:
        x = x.reshape(len(x), c, h, w)
    elif x.ndim == 3 and c == 1 and x.shape[1:] == (h, w):
        x = x[:, None]
    elif x.ndim == 4 and x.shape[1:] != (c, h, w) and x.shape[1:] == (h, w, c):
        x = x.transpose(0, 3, 1, 2)
    if x.shape[1:] != (c, h, w):
        raise SampleError(
            f"got samples shaped {x.shape}; expected {what} (also accepted: (N,{h},{w},{c}), "
            + (f"(N,{h},{w}), " if c == 1 else "") + f"(N,{c * h * w}))")
    if x.dtype == np.uint8:
        return np.ascontiguousarray(x)
    if np.issubdtype(x.dtype, np.integer) or x.dtype == bool:
        if x.min() < 0 or x.max() > 255:
            raise SampleError(f"integer samples range over [{x.min()}, {x.max()}]; expected 0..255")
        return np.ascontiguousarray(x.astype(np.uint8))
    return np.ascontiguousarray(_float_to_uint8(x, value_range))


def at_data_size(samples, shape: tuple[int, int, int], value_range=None) -> tuple[np.ndarray, int | None]:
    """(uint8 images (N, C, H, W) of the data's ``shape``, drawn_at).

    Square images with the data's channels at another side (a run trained with ``data.size=32`` on
    28x28 Fashion-MNIST, as StyleGAN2 needs) are resized to the data's size (bilinear, antialiased
    when shrinking), and ``drawn_at`` is the side they were drawn at, so that the real images they
    are compared with can make the same round trip; anything else goes through
    :func:`prepare_samples` as it is (``drawn_at`` None)."""
    x = np.asarray(samples)
    c, h, w = shape
    if x.ndim == 4 and x.shape[1] != c and x.shape[-1] == c:
        x = x.transpose(0, 3, 1, 2)
    if x.ndim != 4 or x.shape[1] != c or x.shape[2] != x.shape[3] or x.shape[2:] == (h, w):
        return prepare_samples(samples, shape, value_range=value_range), None
    side = x.shape[2]
    return resize_images(prepare_samples(x, (c, side, side), value_range=value_range), (h, w)), side


def prepare_for_dataset(samples, data_name: str, root=None, value_range=None) -> np.ndarray:
    """Samples in the layout :func:`prepare_samples` gives, at the dataset's size (:func:`at_data_size`)."""
    shape, is_image = dataset_shape(data_name, root)
    if is_image:
        return at_data_size(samples, shape, value_range)[0]
    return prepare_samples(samples, shape, is_image, value_range)


def as_images(x, what: str = "images") -> np.ndarray:
    """Any uint8 image array without a dataset to say its shape: (N,H,W), (N,1,H,W), (N,3,H,W) or
    (N,H,W,3) (also (N,H,W,1)) -> uint8 (N,C,H,W).  Floats are read as prepare_samples does."""
    x = np.asarray(x)
    if x.ndim == 4 and x.shape[1] not in (1, 3) and x.shape[-1] in (1, 3):
        x = x.transpose(0, 3, 1, 2)
    if x.ndim not in (3, 4) or (x.ndim == 4 and x.shape[1] not in (1, 3)):
        raise SampleError(f"{what} shaped {x.shape}: expected an image array (N,H,W), (N,1,H,W), (N,3,H,W) "
                          "or (N,H,W,3)")
    shape = (1,) + x.shape[1:] if x.ndim == 3 else x.shape[1:]
    return prepare_samples(x, shape)


def resize_images(x: np.ndarray, size: tuple[int, int]) -> np.ndarray:
    """uint8 images (N, C, H, W) resized to ``size`` (bilinear; antialiased when shrinking), as uint8."""
    import torch
    import torch.nn.functional as F

    t = torch.from_numpy(np.ascontiguousarray(x)).float()
    shrink = size[0] < x.shape[2] or size[1] < x.shape[3]
    t = F.interpolate(t, size=tuple(size), mode="bilinear", align_corners=False, antialias=shrink)
    return t.round().clamp(0, 255).to(torch.uint8).numpy()
