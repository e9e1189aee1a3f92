import json

import numpy as np
import pytest
import torch

from gankit.data import DataError, DeviceDataset, ImageSet, load_dataset


def images(n=100):
    x = np.arange(n * 4, dtype=np.int64).reshape(n, 1, 2, 2) % 256
    x[0] = 0
    x[1] = 255
    return ImageSet("tiny", x.astype(np.uint8), np.arange(n, dtype=np.int64), n, "generated")


def test_normalisation_range_and_types():
    ds = DeviceDataset(images(), batch_size=100)
    batch = ds.next()
    x, y = batch["x"], batch["y"]
    assert x.dtype == torch.float32 and y.dtype == torch.int64 and x.shape == (100, 1, 2, 2)
    assert x.min().item() == -1.0 and x.max().item() == 1.0
    # each row of x matches its label's uint8 source
    src = torch.from_numpy(images().x)[y].float() / 127.5 - 1
    assert torch.equal(x, src)
    assert ds.shape == (1, 2, 2) and ds.is_image and len(ds) == 100 and ds.num_classes == 100


def test_toys_returned_as_is():
    data = load_dataset("ring8", split="test")
    ds = DeviceDataset(data, batch_size=256, seed=3)
    batch = ds.next()
    x, y = batch["x"], batch["y"]
    assert x.dtype == torch.float32 and not ds.is_image and ds.shape == (2,)
    idx = ds._perm[:256]
    assert torch.equal(x, torch.from_numpy(data.x)[idx])
    assert torch.equal(y, torch.from_numpy(data.y)[idx])


def test_epochs_drop_last_and_cover_each_example_once():
    ds = DeviceDataset(images(100), batch_size=30)
    assert ds.batches_per_epoch == 3
    seen = torch.cat([ds.next()["y"] for _ in range(3)])
    assert len(set(seen.tolist())) == 90 and ds.epoch == 1.0
    ds.next()
    assert ds.epoch == pytest.approx(1 + 1 / 3)


def test_deterministic_and_seed_dependent():
    a = [DeviceDataset(images(), batch_size=10, seed=1).next()["y"] for _ in range(2)]
    b = DeviceDataset(images(), batch_size=10, seed=2).next()["y"]
    assert torch.equal(a[0], a[1]) and not torch.equal(a[0], b)


def test_state_dict_resume_is_bit_exact():
    ref = DeviceDataset(images(50), batch_size=8, seed=5)
    run = DeviceDataset(images(50), batch_size=8, seed=5)
    for _ in range(9):  # into the second epoch (6 batches per epoch)
        run.next()
        ref.next()
    state = json.loads(json.dumps(run.state_dict()))  # must survive a JSON checkpoint
    resumed = DeviceDataset(images(50), batch_size=8, seed=0)
    resumed.load_state_dict(state)
    assert resumed.epoch == ref.epoch == 1.5
    for _ in range(10):  # across the next epoch boundary
        a, b = ref.next(), resumed.next()
        assert torch.equal(a["x"], b["x"]) and torch.equal(a["y"], b["y"])
    with pytest.raises(DataError, match="same dataset"):
        DeviceDataset(images(40), batch_size=8).load_state_dict(state)


def test_resume_with_another_global_batch_continues_the_epoch():
    run = DeviceDataset(images(48), batch_size=8, seed=5)  # 6 batches of 8 per epoch
    seen = torch.cat([run.next()["y"] for _ in range(3)])  # 24 examples of epoch 0
    half = DeviceDataset(images(48), batch_size=16, world_size=1)  # e.g. a 2-rank run resumed alone
    half.load_state_dict(run.state_dict())
    # 24 seen = 1.5 batches of 16: the half batch is skipped rather than repeated.
    rest = half.next()["y"]
    assert half.epoch == 1.0
    assert not set(seen.tolist()) & set(rest.tolist())
    assert len(set(torch.cat([seen, rest]).tolist())) == 40


def test_two_ranks_see_the_single_rank_double_batch():
    single = DeviceDataset(images(), batch_size=20, seed=7)
    ranks = [DeviceDataset(images(), batch_size=10, seed=7, rank=r, world_size=2) for r in (0, 1)]
    for _ in range(12):  # more than one epoch (5 global batches each)
        whole = single.next()
        parts = [r.next() for r in ranks]
        assert torch.equal(torch.cat([p["y"] for p in parts]), whole["y"])
        assert torch.equal(torch.cat([p["x"] for p in parts]), whole["x"])


def test_too_small_and_bad_rank():
    with pytest.raises(DataError, match="fewer than one global batch of 120"):
        DeviceDataset(images(100), batch_size=60, world_size=2)
    with pytest.raises(DataError, match="rank"):
        DeviceDataset(images(), rank=2, world_size=2)


def test_unlabelled():
    data = images()
    data.y = None
    assert "y" not in DeviceDataset(data, batch_size=10).next()


@pytest.mark.skipif(not torch.cuda.is_available(), reason="no CUDA device")
def test_on_cuda_matches_cpu():
    cpu = DeviceDataset(images(), batch_size=10, seed=4)
    gpu = DeviceDataset(images(), device="cuda", batch_size=10, seed=4, rank=1, world_size=2)
    g = gpu.next()
    assert g["x"].is_cuda and g["y"].is_cuda
    cpu.next()  # rank 1 of 2 takes the second half of the first global batch of 20
    c = cpu.next()
    assert torch.equal(g["y"].cpu(), c["y"]) and torch.equal(g["x"].cpu(), c["x"])
