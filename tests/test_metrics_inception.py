import numpy as np
import pytest
import torch

from gankit.metrics.inception import FIDInceptionV3, InceptionFeatures, load_inception

# Shapes the standard pt_inception-2015-12-05-6726825d.pth state dict holds (torchvision Inception3
# names, 1008-way fc, no AuxLogits), a sample from each kind of block.
EXPECTED = {
    "Conv2d_1a_3x3.conv.weight": (32, 3, 3, 3),
    "Conv2d_1a_3x3.bn.running_var": (32,),
    "Conv2d_2a_3x3.conv.weight": (32, 32, 3, 3),
    "Conv2d_2b_3x3.conv.weight": (64, 32, 3, 3),
    "Conv2d_3b_1x1.conv.weight": (80, 64, 1, 1),
    "Conv2d_4a_3x3.conv.weight": (192, 80, 3, 3),
    "Mixed_5b.branch1x1.conv.weight": (64, 192, 1, 1),
    "Mixed_5b.branch5x5_2.conv.weight": (64, 48, 5, 5),
    "Mixed_5b.branch_pool.conv.weight": (32, 192, 1, 1),
    "Mixed_5d.branch_pool.conv.weight": (64, 288, 1, 1),
    "Mixed_6a.branch3x3.conv.weight": (384, 288, 3, 3),
    "Mixed_6b.branch7x7_2.conv.weight": (128, 128, 1, 7),
    "Mixed_6b.branch7x7dbl_5.conv.weight": (192, 128, 1, 7),
    "Mixed_6e.branch7x7_3.conv.weight": (192, 192, 7, 1),
    "Mixed_7a.branch3x3_2.conv.weight": (320, 192, 3, 3),
    "Mixed_7a.branch7x7x3_4.conv.weight": (192, 192, 3, 3),
    "Mixed_7b.branch1x1.conv.weight": (320, 1280, 1, 1),
    "Mixed_7b.branch3x3dbl_3b.conv.weight": (384, 384, 3, 1),
    "Mixed_7c.branch3x3dbl_1.conv.weight": (448, 2048, 1, 1),
    "Mixed_7c.branch_pool.conv.weight": (192, 2048, 1, 1),
    "fc.weight": (1008, 2048),
    "fc.bias": (1008,),
}


def test_state_dict_names_and_shapes_match_the_fid_weights_file():
    sd = FIDInceptionV3().state_dict()
    for k, shape in EXPECTED.items():
        assert tuple(sd[k].shape) == shape, k
    assert not any(k.startswith("AuxLogits") for k in sd)
    # 94 BasicConv2d blocks, each conv.weight + 5 BatchNorm entries; plus fc weight and bias
    assert sum(k.endswith(".conv.weight") for k in sd) == 94
    assert len(sd) == 94 * 6 + 2
    n = sum(v.numel() for k, v in sd.items() if not k.endswith(("running_mean", "running_var", "num_batches_tracked")))
    assert 23_800_000 < n < 23_900_000


def test_forward_gives_2048_features_and_file_roundtrip(tmp_path):
    torch.manual_seed(0)
    net = FIDInceptionV3().eval()
    path = tmp_path / "pt_inception.pth"
    sd = {k: v for k, v in net.state_dict().items() if not k.endswith("num_batches_tracked")}
    torch.save(sd, path)  # like the old-torch file: no num_batches_tracked
    feats = InceptionFeatures(path, batch_size=2).features(
        np.random.default_rng(0).integers(0, 256, size=(2, 1, 28, 28), dtype=np.uint8))
    assert feats.shape == (2, 2048) and np.isfinite(feats).all() and (feats >= 0).all()


def test_missing_or_wrong_file_is_explained(tmp_path):
    with pytest.raises(FileNotFoundError, match="--inception-weights"):
        load_inception(tmp_path / "nope.pth")
    torch.save({"fc.weight": torch.zeros(3)}, tmp_path / "bad.pth")
    with pytest.raises(RuntimeError, match="not the FID Inception"):
        load_inception(tmp_path / "bad.pth")


def test_repeated_images_go_through_the_network_once(tmp_path):
    torch.manual_seed(0)
    path = tmp_path / "w.pth"
    torch.save(FIDInceptionV3().state_dict(), path)
    model = InceptionFeatures(path, batch_size=2)
    seen = []
    hook = model.net.register_forward_hook(lambda m, inp, out: seen.append(len(inp[0])))
    a, b = np.random.default_rng(0).integers(0, 256, size=(2, 1, 8, 8), dtype=np.uint8)
    feats = model.features(np.stack([b, a, b, b]))
    hook.remove()  # the network is shared by every InceptionFeatures of this file
    assert sum(seen) == 2  # two distinct images
    alone = model.features(np.stack([a, b]))
    np.testing.assert_allclose(feats, alone[[1, 0, 1, 1]], rtol=1e-5, atol=1e-6)


def test_channels_last_features_equal_the_plain_networks(tmp_path):
    """gankit runs the network in channels-last memory for speed; the features must be those of the
    plain (NCHW) network on the same inputs. (The TorchScript comparison checks this too, but only
    where PyPI can be reached.)"""
    from gankit.metrics.fid_conventions import inception_input

    torch.manual_seed(0)
    path = tmp_path / "w.pth"
    torch.save(FIDInceptionV3().state_dict(), path)
    images = np.random.default_rng(0).integers(0, 256, size=(2, 3, 16, 16), dtype=np.uint8)
    ours = InceptionFeatures(path, batch_size=2).features(images)
    with torch.no_grad():
        plain = load_inception(path)(inception_input(images, "tf")).double().numpy()
    np.testing.assert_allclose(ours, plain, rtol=1e-4, atol=1e-5 * np.abs(plain).max())
