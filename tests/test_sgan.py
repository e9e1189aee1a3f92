"""Semi-supervised GAN: the K+1-class loss on hand-made logits, the labelled subset, training,
resume, the supervised-only baseline and the ssl_accuracy metric."""

import json
import math

import numpy as np
import pytest
import torch

import gankit
from gankit.cli import main
from gankit.config import RunConfig
from gankit.data import DataError, ImageSet
from gankit.data.labelled import labelled_indices, labelled_subset
from gankit.metrics.model_metrics import evaluate_model
from gankit.models.sgan import gan_logit, supervised_loss, unsupervised_loss
from gankit.tricks import feature_matching_loss
from gankit.train.checkpoint import latest_checkpoint, load_weights
from gankit.train.trainer import train


def test_k_plus_one_loss_on_hand_made_logits():
    # K = 2 logits both 0: Z = 2, D(x) = Z / (Z + 1) = 2/3.
    zeros = torch.zeros(1, 2)
    assert gan_logit(zeros).item() == pytest.approx(math.log(2))
    assert torch.sigmoid(gan_logit(zeros)).item() == pytest.approx(2 / 3)
    # -log D(x) on the real one, -log(1 - D(G(z))) = log(Z + 1) on the fake one.
    assert unsupervised_loss(zeros, zeros).item() == pytest.approx(-math.log(2 / 3) - math.log(1 / 3))
    # Logits (log 3, log 1) for a real batch: Z = 4, D = 4/5; fake logits (log 1, log 1): Z = 2, 1 - D = 1/3.
    real = torch.tensor([[math.log(3.0), 0.0]])
    assert unsupervised_loss(real, zeros).item() == pytest.approx(-math.log(4 / 5) + math.log(3))
    # The supervised part is the softmax over the K real classes only: p(class 0) = 3/4.
    assert supervised_loss(real, torch.tensor([0])).item() == pytest.approx(-math.log(3 / 4))
    # Very negative logits mean "generated": D -> 0, the fake term -> 0, the real term -> large.
    fake_for_sure = torch.full((1, 3), -30.0)
    assert unsupervised_loss(torch.zeros(1, 3), fake_for_sure).item() == pytest.approx(-math.log(3 / 4), abs=1e-6)


def test_feature_matching_compares_batch_means():
    real = torch.tensor([[1.0, 2.0], [3.0, 4.0]])  # mean (2, 3)
    fake = torch.tensor([[0.0, 3.0], [0.0, 3.0]])  # mean (0, 3)
    assert feature_matching_loss(real, fake, reduction="mean").item() == pytest.approx((4 + 0) / 2)


def test_labelled_subset_is_per_class_and_seeded():
    y = np.repeat(np.arange(10), 30)
    a, b, c = (labelled_indices(y, 100, 10, s) for s in (0, 0, 1))
    assert np.array_equal(a, b) and not np.array_equal(a, c)
    assert np.array_equal(np.bincount(y[a], minlength=10), np.full(10, 10))
    data = ImageSet("t", np.zeros((300, 1, 2, 2), np.uint8), y, 10, "test")
    assert len(labelled_subset(data, 20, 0)) == 20
    with pytest.raises(DataError, match="multiple of the 10 classes"):
        labelled_indices(y, 95, 10, 0)
    with pytest.raises(DataError, match="has only 30"):
        labelled_indices(y, 400, 10, 0)
    with pytest.raises(DataError, match="no labels"):
        labelled_subset(ImageSet("t", data.x, None, None, "test"), 20, 0)


def config(steps, supervised_only=False):
    cfg = RunConfig(model="sgan")
    cfg.data.name, cfg.data.labelled = "digits", 50
    cfg.train.steps, cfg.train.batch_size, cfg.train.log_every = steps, 32, 2
    cfg.train.sample_every = cfg.train.checkpoint_every = 1000
    cfg.options = {"d_widths": [32, 16], "g_widths": [32], "latent_dim": 8,
                   "supervised_only": supervised_only}
    return cfg


def test_sgan_trains_resumes_exactly_and_reports_ssl_accuracy(tmp_path):
    train(config(8), tmp_path / "straight", progress=False)
    train(config(4), tmp_path / "resumed", progress=False)
    train(config(8), tmp_path / "resumed", resume=True, progress=False)
    a, b = (load_weights(latest_checkpoint(tmp_path / name)) for name in ("straight", "resumed"))
    assert a.keys() == b.keys() and all(torch.equal(a[k], b[k]) for k in a)
    run = gankit.load(tmp_path / "straight")
    assert run.sample(4).shape == (4, 1, 8, 8)
    result = evaluate_model(run, ["ssl", "codes"])
    assert set(result) == {"ssl_accuracy"} and 0.0 <= result["ssl_accuracy"] <= 1.0
    # Through the command: the model metric alone, recorded in the run's log with the checkpoint's step.
    assert main(["eval", str(tmp_path / "straight"), "--metrics", "ssl", "--quiet"]) == 0
    row = json.loads((tmp_path / "straight" / "metrics.jsonl").read_text().splitlines()[-1])
    assert row["eval"] and row["step"] == 8 and row["ssl_accuracy"] == result["ssl_accuracy"]


def test_supervised_only_baseline_learns_the_labelled_images(tmp_path):
    cfg = config(60, supervised_only=True)
    cfg.train.lr_d = 3e-3
    train(cfg, tmp_path / "base", progress=False)
    run = gankit.load(tmp_path / "base")
    assert any(k.startswith("nets.G.") for k in load_weights(latest_checkpoint(tmp_path / "base")))
    result = evaluate_model(run, ["ssl"])
    # digits' test set, a 16-unit MLP trained on 50 labels: far above chance (0.1).
    assert result["supervised_accuracy"] > 0.5, result
