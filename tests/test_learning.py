"""The vanilla GAN learns: its samples move measurably toward the data in a few hundred CPU steps."""

import pytest
from scipy.stats import wasserstein_distance

import gankit
from gankit.config import RunConfig
from gankit.data import load_dataset
from gankit.train.trainer import train


def distance_to_data(run, real):
    """1-D Wasserstein distance between 5,000 generated and 5,000 real points."""
    return wasserstein_distance(run.sample_array(5000, seed=1)[:, 0], real[:5000, 0])


def train_untrained_and_trained(root, seed: int = 0, precision: str = "auto"):
    """The vanilla GAN on gauss1d after 1 step and after 400 (benchmarks/test_margins.py runs it too)."""
    cfg = RunConfig(model="gan")
    cfg.data.name = "gauss1d"
    cfg.train.batch_size = 64
    cfg.train.log_every = 50
    cfg.train.sample_every = 10_000
    cfg.train.seed, cfg.train.precision = seed, precision
    cfg.options = {"g_widths": [32, 32], "d_widths": [32, 32], "latent_dim": 4}
    cfg.train.steps = 1
    train(cfg, root / "untrained", progress=False)
    cfg.train.lr_g = cfg.train.lr_d = 1e-3
    cfg.train.steps = 400
    train(cfg, root / "trained", progress=False)
    return gankit.load(root / "untrained"), gankit.load(root / "trained")


@pytest.fixture(scope="module")
def runs(tmp_path_factory):
    return train_untrained_and_trained(tmp_path_factory.mktemp("learning"))


def test_gan_moves_toward_the_data(runs):
    real = load_dataset("gauss1d", "test").x
    untrained, trained = runs
    before, after = distance_to_data(untrained, real), distance_to_data(trained, real)
    # gauss1d is N(4, 0.5^2); an untrained generator sits near 0, about 4 away.
    assert before > 2.0
    assert after < 0.5, (before, after)


def test_trained_samples_have_the_data_spread(runs):
    samples = runs[1].sample_array(5000, seed=2)[:, 0]
    assert abs(samples.mean() - 4.0) < 0.3
    # Within a factor of 2 of the data's 0.5: 0.67-0.85 over seeds 0-2, kernels and precisions
    # (benchmarks/test_margins.py), so a CPU's rounding cannot tip it.
    assert 0.25 < samples.std() < 1.0
