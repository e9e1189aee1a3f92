import math

import numpy as np
import pytest
from scipy.special import logsumexp

from gankit.metrics.classifier_score import class_kl, classifier_score, cond_accuracy, histogram_kl_to_uniform
from gankit.metrics.modes import build_stacked_mnist, stacked_mode_labels, stacked_modes, toy_modes
from gankit.metrics.parzen import parzen_evaluate, parzen_log_likelihood, select_sigma


# ---- classifier score

def test_classifier_score_extremes():
    confident_balanced = np.eye(10)[np.arange(1000) % 10]
    m, s = classifier_score(confident_balanced)
    # Parts of a shuffled balanced set are balanced only up to sampling noise (100 per part: ~9.5).
    assert 9.3 < m <= 10 and s < 0.3
    assert classifier_score(np.eye(10)[np.zeros(1000, int)])[0] == pytest.approx(1, rel=1e-6)
    assert classifier_score(np.full((1000, 10), 0.1))[0] == pytest.approx(1, rel=1e-6)


def test_classifier_score_ignores_the_order_of_samples():
    # Sorted by class, as MNIST-5k's test split and `--labels all` samples are: each of the 10 parts
    # would hold one class (score 1) if the parts were taken in order.
    sorted_by_class = np.eye(10)[np.repeat(np.arange(10), 100)]
    assert classifier_score(sorted_by_class)[0] > 9.3


def test_class_kl_and_cond_accuracy():
    p = np.eye(10)[np.arange(100) % 10]
    assert class_kl(p) == pytest.approx(0, abs=1e-12)
    assert class_kl(np.eye(10)[np.zeros(50, int)]) == pytest.approx(math.log(10))
    assert histogram_kl_to_uniform([2, 2, 0, 0]) == pytest.approx(math.log(2))
    labels = np.arange(100) % 10
    assert cond_accuracy(p, labels) == 1.0
    assert cond_accuracy(p, (labels + 1) % 10) == 0.0
    with pytest.raises(ValueError):
        cond_accuracy(p, labels[:5])


# ---- Parzen window

def test_parzen_matches_bruteforce():
    rng = np.random.default_rng(0)
    s, x = rng.random((40, 6)), rng.random((9, 6))
    sig = [0.2, 0.5]
    got = parzen_log_likelihood(x, s, sig, batch_size=4)
    d2 = ((x[:, None] - s[None]) ** 2).sum(-1)
    for i, sg in enumerate(sig):
        want = logsumexp(-d2 / (2 * sg ** 2), axis=1) - math.log(40) - 3 * math.log(2 * math.pi * sg ** 2)
        assert got[i] == pytest.approx(want, rel=1e-9)


def test_parzen_of_gaussian_sample_is_the_convolved_density():
    # KDE with kernel σ of samples from N(0, s²I) estimates the density of N(0, (s²+σ²)I).
    rng = np.random.default_rng(1)
    d, s, sigma = 2, 1.0, 0.3
    samples = rng.normal(size=(40000, d)) * s
    x = rng.normal(size=(400, d)) * 0.8
    est = parzen_log_likelihood(x, samples, [sigma])[0]
    v = s ** 2 + sigma ** 2
    exact = -(x ** 2).sum(1) / (2 * v) - d / 2 * math.log(2 * math.pi * v)
    assert np.abs(est - exact).mean() < 0.03


def test_sigma_selection_and_report():
    rng = np.random.default_rng(2)
    samples = rng.normal(size=(3000, 3)) * 0.5
    valid, test = rng.normal(size=(300, 3)) * 0.5, rng.normal(size=(300, 3)) * 0.5
    grid = np.logspace(-2, 0.5, 12)
    sigma, means = select_sigma(valid, samples, grid)
    assert sigma == grid[np.argmax(means)] and 0.05 < sigma < 0.5
    r = parzen_evaluate(samples, valid, test, grid)
    assert r["parzen_sigma"] == sigma and r["parzen_se"] > 0
    exact = -(test ** 2).sum(1) / (2 * 0.25) - 1.5 * math.log(2 * math.pi * 0.25)
    assert abs(r["parzen_ll"] - exact.mean()) < 0.2


def test_parzen_uint8_is_scaled_to_unit_range():
    rng = np.random.default_rng(3)
    u = rng.integers(0, 256, size=(20, 1, 4, 4), dtype=np.uint8)
    a = parzen_log_likelihood(u[:5], u[5:], [0.3])
    b = parzen_log_likelihood(u[:5].reshape(5, -1) / 255.0, u[5:].reshape(15, -1) / 255.0, [0.3])
    assert a == pytest.approx(b)


# ---- modes

def _ring8():
    ang = np.arange(8) * 2 * np.pi / 8
    return np.stack([2 * np.cos(ang), 2 * np.sin(ang)], 1)


def test_toy_modes_counts_hq_and_kl():
    c, std = _ring8(), 0.02
    rng = np.random.default_rng(0)
    hit = np.repeat(c[:5], 100, axis=0) + rng.normal(size=(500, 2)) * std * 0.5
    junk = np.zeros((500, 2))  # the ring's centre: far from every mode
    r = toy_modes(np.concatenate([hit, junk]), c, std)
    assert r["modes"] == 5 and r["num_modes"] == 8
    assert r["hq_fraction"] == pytest.approx(0.5)
    assert r["mode_kl"] == pytest.approx(math.log(8 / 5))
    # just outside 3σ is not high quality
    r = toy_modes(c + [3.05 * std, 0], c, std)
    assert r["modes"] == 0 and r["hq_fraction"] == 0 and math.isnan(r["mode_kl"])
    assert toy_modes(c + [2.9 * std, 0], c, std)["modes"] == 8


def test_stacked_mnist_build_and_mode_reading():
    digits = np.zeros((10, 1, 28, 28), np.uint8)
    for d in range(10):
        digits[d, 0, 0, 0] = d  # a "classifier" that reads pixel (0,0)
    x, y = build_stacked_mnist(digits, np.arange(10), n=3000, seed=5)
    x2, y2 = build_stacked_mnist(digits, np.arange(10), n=3000, seed=5)
    assert x.shape == (3000, 3, 28, 28) and np.array_equal(x, x2) and np.array_equal(y, y2)
    reader = lambda imgs: imgs[:, 0, 0, 0].astype(int)
    assert np.array_equal(stacked_mode_labels(x, reader), y)
    r = stacked_modes(x, reader)
    assert r["num_modes"] == 1000 and 900 < r["modes"] <= 1000 and r["mode_kl"] < 0.5
    r = stacked_modes(np.repeat(x[:1], 100, 0), reader)
    assert r["modes"] == 1 and r["mode_kl"] == pytest.approx(math.log(1000))
