"""Each FID convention's resize against its reference definition, worked out by hand on 2x2 images."""
import numpy as np
import pytest
import torch

from gankit.metrics.fid_conventions import inception_input

IMAGE = np.array([[0, 30], [60, 90]], np.uint8)


def _one(convention, size, image=IMAGE):
    out = inception_input(image[None, None], convention, size=size)
    assert out.shape == (1, 3, size, size)
    # grey reaches the network as three equal channels
    assert torch.equal(out[0, 0], out[0, 1]) and torch.equal(out[0, 0], out[0, 2])
    return out[0, 0].double().numpy()


def test_tf_samples_at_i_times_in_over_out_and_scales_by_128():
    # TF-1.x resize_bilinear, 2 -> 3: output i reads input position i*2/3 = 0, 2/3, 4/3 (clamped to the
    # last pixel), i.e. weights (1, 0), (1/3, 2/3), (0, 1) on each axis; no half-pixel shift.
    by_hand = np.array([[0, 20, 30], [40, 60, 70], [60, 80, 90]], np.float64)
    np.testing.assert_allclose(_one("tf", 3), (by_hand - 128) / 128, rtol=0, atol=1e-6)


def test_pytorch_uses_half_pixel_centres_and_minus_one_to_one():
    # pytorch-fid (align_corners=False), 2 -> 3: position (i + 0.5) * 2/3 - 0.5 = -1/6, 1/2, 7/6, clamped to
    # the image: weights (1, 0), (1/2, 1/2), (0, 1).  Differs from tf in the middle row and column.
    by_hand = np.array([[0, 15, 30], [30, 45, 60], [60, 75, 90]], np.float64)
    np.testing.assert_allclose(_one("pytorch", 3), by_hand / 255 * 2 - 1, rtol=0, atol=1e-6)


def test_clean_is_pil_bicubic_in_float_without_rounding_then_clipped():
    # PIL's bicubic kernel (a = -0.5), 2 -> 4 upsampling: output i is centred at (i + 0.5) / 2, taps
    # are the pixels within 2 of it clipped to the image, weights renormalised to sum 1:
    # i=0 at 0.25: kernel(0.25) = 0.8671875, kernel(1.25) = -0.0703125 -> (37/34, -3/34)
    # i=1 at 0.75: kernel(0.25) = 0.8671875, kernel(0.75) = 0.2265625 -> (111/140, 29/140); 2, 3 mirror.
    w = np.array([[37 / 34, -3 / 34], [111 / 140, 29 / 140], [29 / 140, 111 / 140], [-3 / 34, 37 / 34]])
    by_hand = w @ IMAGE.astype(np.float64) @ w.T
    assert by_hand.min() < 0 and not np.allclose(by_hand, np.round(by_hand))  # clipping and no rounding both show
    np.testing.assert_allclose(_one("clean", 4), (by_hand.clip(0, 255) - 128) / 128, rtol=0, atol=1e-5)


def test_colour_channels_stay_apart_and_bad_input_is_explained():
    x = np.stack([IMAGE, 255 - IMAGE, np.full_like(IMAGE, 7)])[None]
    for convention in ("tf", "pytorch", "clean"):
        out = inception_input(x, convention, size=5)
        assert out.shape == (1, 3, 5, 5) and not torch.equal(out[0, 0], out[0, 1])
        assert torch.allclose(out[0, 2], out[0, 2, 0, 0])  # a flat channel stays flat
    with pytest.raises(ValueError, match="choose from tf, pytorch, clean"):
        inception_input(x, "tensorflow")
    with pytest.raises(ValueError, match="uint8 images"):
        inception_input(x.astype(np.float32), "tf")
