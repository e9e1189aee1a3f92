import numpy as np
import pytest
from PIL import Image

from gankit.metrics.memorisation import nearest_neighbours, nn_ratio, render_neighbours
from gankit.metrics.samples import SampleError, prepare_samples

SHAPE = (1, 6, 5)


@pytest.mark.parametrize("layout", ["nchw", "nhw", "nhwc", "flat"])
def test_layouts_become_nchw_uint8(layout):
    rng = np.random.default_rng(0)
    x = rng.integers(0, 256, size=(4, *SHAPE), dtype=np.uint8)
    given = {"nchw": x, "nhw": x[:, 0], "nhwc": x.transpose(0, 2, 3, 1), "flat": x.reshape(4, -1)}[layout]
    out = prepare_samples(given, SHAPE)
    assert out.dtype == np.uint8 and np.array_equal(out, x)


def test_float_ranges_detected():
    x = np.linspace(0, 1, 30).reshape(1, *SHAPE)
    assert prepare_samples(x, SHAPE).ravel()[[0, -1]].tolist() == [0, 255]
    assert prepare_samples(x * 2 - 1, SHAPE).ravel()[[0, -1]].tolist() == [0, 255]
    assert prepare_samples(np.full((1, *SHAPE), -1.0), SHAPE).max() == 0
    rgb = np.zeros((2, 6, 5, 3), np.float32)
    assert prepare_samples(rgb, (3, 6, 5)).shape == (2, 3, 6, 5)


@pytest.mark.parametrize("bad, words", [
    (np.full((2, *SHAPE), np.nan), "NaN"),
    (np.full((2, *SHAPE), np.inf), "NaN or inf"),
    (np.zeros((2, 7, 5), np.uint8), "expected images shaped (N, 1, 6, 5)"),
    (np.zeros((2, 3, 6, 5), np.uint8), "expected images shaped (N, 1, 6, 5)"),
    (np.full((2, *SHAPE), 3.0), "expected [0, 1] or [-1, 1]"),
    (np.zeros((0, *SHAPE)), "no samples"),
    (np.array(["a", "b"]), "dtype"),
])
def test_rejections_say_what_was_expected(bad, words):
    with pytest.raises(SampleError) as e:
        prepare_samples(bad, SHAPE)
    assert words in str(e.value)


def test_toy_points():
    assert prepare_samples(np.zeros(5, np.float32), (1,), is_image=False).shape == (5, 1)
    assert prepare_samples(np.zeros((5, 2)), (2,), is_image=False).dtype == np.float64
    with pytest.raises(SampleError, match=r"\(N, 2\)"):
        prepare_samples(np.zeros((5, 3)), (2,), is_image=False)


def test_nearest_neighbours_and_ratio():
    rng = np.random.default_rng(0)
    train = rng.integers(0, 256, size=(200, 1, 8, 8), dtype=np.uint8)
    test = rng.integers(0, 256, size=(50, 1, 8, 8), dtype=np.uint8)
    d, i = nearest_neighbours(train[[5, 17, 3]], train, batch_size=2, k=2)
    assert i[:, 0].tolist() == [5, 17, 3] and np.allclose(d[:, 0], 0, atol=1e-3)
    assert (d[:, 1] > 1.0).all()  # the second neighbour is another (random) image
    copies = nn_ratio(train[:50], train, test)
    assert copies["nn_ratio"] < 0.01
    fresh = nn_ratio(rng.integers(0, 256, size=(50, 1, 8, 8), dtype=np.uint8), train, test)
    assert 0.8 < fresh["nn_ratio"] < 1.25


def test_render_neighbours_png(tmp_path):
    rng = np.random.default_rng(1)
    train = rng.integers(0, 256, size=(30, 1, 8, 8), dtype=np.uint8)
    p = render_neighbours(train[:4], train, tmp_path / "nn.png", n=4, k=3, scale=2, gap=1)
    img = Image.open(p)
    assert img.size == (((1 + 3) * 10 + 1) * 2, 4 * 10 * 2)
    a = np.asarray(img.convert("RGB"))
    # first neighbour of a training image is itself: same pixels beside the sample
    assert np.array_equal(a[2:18:2, 2:18:2], a[2:18:2, 24:40:2])
