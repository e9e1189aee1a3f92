import numpy as np
import pytest
from scipy.spatial.distance import cdist

from gankit.metrics.prdc import density_coverage, knn_radii, prdc, precision_recall


def _line_sets():
    real = np.stack([np.arange(20.0), np.zeros(20)], 1)
    near = np.stack([np.arange(10.0) + 0.1, np.zeros(10)], 1)
    far = np.stack([100.0 + 10 * np.arange(10.0), np.zeros(10)], 1)
    return real, np.concatenate([near, far])


def test_prdc_on_constructed_line():
    real, fake = _line_sets()
    r = prdc(real, fake, batch_size=7)
    assert r["precision"] == pytest.approx(0.5)    # the 10 near fakes, not the 10 far ones
    assert r["recall"] == pytest.approx(13 / 20)   # reals 0..12 lie in a near fake's 3-NN ball
    assert r["coverage"] == pytest.approx(13 / 20)  # reals 0..12 have a fake inside their 5-NN ball
    assert 0 < r["density"] < 1


def test_identical_and_disjoint_sets():
    rng = np.random.default_rng(0)
    x = rng.normal(size=(300, 5))
    r = prdc(x, x.copy())
    assert r["precision"] == 1 and r["recall"] == 1 and r["coverage"] == 1
    r = prdc(x, x + 100)
    assert r == {"precision": 0, "recall": 0, "density": 0, "coverage": 0}


def _naive(real, fake, k_pr=3, k_dc=5):
    drr, dff, drf = cdist(real, real), cdist(fake, fake), cdist(real, fake)
    rr = np.sort(drr, 1)
    rf = np.sort(dff, 1)
    r3, r5, f3 = rr[:, k_pr], rr[:, k_dc], rf[:, k_pr]
    return {
        "precision": (drf <= r3[:, None]).any(0).mean(),
        "recall": (drf <= f3[None, :]).any(1).mean(),
        "density": (drf < r5[:, None]).sum(0).mean() / k_dc,
        "coverage": (drf.min(1) < r5).mean(),
    }


def test_batched_matches_naive_reference():
    rng = np.random.default_rng(1)
    real, fake = rng.normal(size=(257, 8)), rng.normal(size=(311, 8)) * 1.3 + 0.2
    got, want = prdc(real, fake, batch_size=50), _naive(real, fake)
    for k in want:
        assert got[k] == pytest.approx(want[k]), k
    p, r = precision_recall(real, fake)
    assert (p, r) == pytest.approx((want["precision"], want["recall"]))
    d, c = density_coverage(real, fake)
    assert (d, c) == pytest.approx((want["density"], want["coverage"]))


def test_knn_radii_excludes_self_and_handles_several_k():
    x = np.array([[0.0], [1.0], [3.0], [7.0]])
    r1, r2 = knn_radii(x, (1, 2))
    assert r1.tolist() == [1, 1, 2, 4] and r2.tolist() == [3, 2, 3, 6]
    with pytest.raises(ValueError):
        knn_radii(x, 4)
