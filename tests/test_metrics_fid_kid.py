import numpy as np
import pytest
from scipy import linalg

from gankit.metrics.fid import fid_from_features, frechet_distance, gaussian_stats
from gankit.metrics.kid import kid, mmd2_unbiased, polynomial_kernel


def _random_cov(rng, d):
    a = rng.normal(size=(d, d))
    return a @ a.T / d + 0.1 * np.eye(d)


def test_fid_identical_gaussians_is_zero():
    rng = np.random.default_rng(0)
    mu, s = rng.normal(size=8), _random_cov(rng, 8)
    assert abs(frechet_distance(mu, s, mu, s)) < 1e-8


def test_fid_matches_closed_form_for_non_commuting_covariances():
    rng = np.random.default_rng(1)
    d = 6
    mu1, mu2 = rng.normal(size=d), rng.normal(size=d)
    s1, s2 = _random_cov(rng, d), _random_cov(rng, d)
    # Tr((S1 S2)^1/2) = Tr((S1^1/2 S2 S1^1/2)^1/2), the latter symmetric PSD -> eigenvalues.
    r1 = linalg.sqrtm(s1).real
    tr = np.sqrt(np.clip(np.linalg.eigvalsh(r1 @ s2 @ r1), 0, None)).sum()
    expected = ((mu1 - mu2) ** 2).sum() + np.trace(s1) + np.trace(s2) - 2 * tr
    assert frechet_distance(mu1, s1, mu2, s2) == pytest.approx(expected, rel=1e-8)


def test_fid_diagonal_gaussians_elementwise_formula():
    v1, v2 = np.array([1.0, 4.0, 9.0]), np.array([4.0, 1.0, 9.0])
    mu1, mu2 = np.zeros(3), np.array([1.0, 2.0, 0.0])
    expected = 5.0 + (v1 + v2 - 2 * np.sqrt(v1 * v2)).sum()  # = 5 + 1 + 1 + 0
    assert frechet_distance(mu1, np.diag(v1), mu2, np.diag(v2)) == pytest.approx(expected)
    assert expected == pytest.approx(7.0)


def test_fid_singular_covariance_gives_finite_number():
    mu = np.zeros(4)
    # one repeated image: zero covariance, the eps fallback path of pytorch-fid
    val = frechet_distance(mu, np.zeros((4, 4)), mu + 1, np.eye(4))
    assert np.isfinite(val) and val == pytest.approx(4.0 + 4.0, abs=1e-3)


def test_gaussian_stats_and_fid_from_features():
    rng = np.random.default_rng(2)
    f = rng.normal(size=(20000, 3)) * [1.0, 2.0, 3.0] + [1.0, 0.0, -1.0]
    mu, s = gaussian_stats(f)
    assert mu == pytest.approx([1, 0, -1], abs=0.05)
    assert np.diag(s) == pytest.approx([1, 4, 9], rel=0.05)
    g = rng.normal(size=(20000, 3)) * [1.0, 2.0, 3.0] + [1.0, 0.0, -1.0]
    assert fid_from_features(f, g) < 0.02
    with pytest.raises(ValueError):
        gaussian_stats(np.zeros((1, 3)))


def test_mmd2_unbiased_matches_double_loop():
    rng = np.random.default_rng(3)
    x, y = rng.normal(size=(7, 4)), rng.normal(size=(5, 4)) + 0.5
    k = lambda a, b: (a @ b / 4 + 1) ** 3
    sxx = sum(k(x[i], x[j]) for i in range(7) for j in range(7) if i != j) / (7 * 6)
    syy = sum(k(y[i], y[j]) for i in range(5) for j in range(5) if i != j) / (5 * 4)
    sxy = sum(k(a, b) for a in x for b in y) / 35
    assert mmd2_unbiased(x, y) == pytest.approx(sxx + syy - 2 * sxy)
    assert polynomial_kernel(x, y).shape == (7, 5)


def test_kid_same_distribution_near_zero_and_different_clearly_positive():
    rng = np.random.default_rng(4)
    a, b = rng.normal(size=(2000, 16)), rng.normal(size=(2000, 16))
    c = rng.normal(size=(2000, 16)) * 1.5 + 0.5
    same, same_std = kid(a, b, num_subsets=20, subset_size=500)
    diff, _ = kid(a, c, num_subsets=20, subset_size=500)
    assert abs(same) < 0.01 and same_std < 0.01
    assert diff > 0.3
    assert diff > 20 * max(abs(same), same_std)


def test_kid_subset_capped_to_sample_count():
    rng = np.random.default_rng(5)
    m, s = kid(rng.normal(size=(50, 4)), rng.normal(size=(80, 4)), num_subsets=3)
    assert np.isfinite(m) and np.isfinite(s)
