"""InfoGAN: the mutual-information bound on cases with known answers, the Hungarian matching of
codes to classes, --code reaching the generator, traversal grids, training and resume."""

import math

import numpy as np
import pytest
import torch

import gankit
from gankit.cli import main
from gankit.commands.codes import traverse
from gankit.config import ConfigError, RunConfig
from gankit.metrics.codes import best_matching, confusion_matrix
from gankit.models.codes import fixed_inputs, parse_codes
from gankit.models.infogan import categorical_mi_bound, gaussian_log_likelihood, small_transform, uniform_entropy
from gankit.noise import Noise
from gankit.train.checkpoint import latest_checkpoint, load_weights
from gankit.train.trainer import train


def test_categorical_bound_is_zero_for_a_blind_q_and_log_k_for_a_perfect_one():
    codes = torch.arange(10)
    assert categorical_mi_bound(torch.zeros(10, 10), codes).item() == pytest.approx(0.0, abs=1e-6)
    perfect = 100.0 * torch.nn.functional.one_hot(codes, 10).float()
    assert categorical_mi_bound(perfect, codes).item() == pytest.approx(math.log(10), abs=1e-6)
    # Q puts probability 1/2 on the right value: the bound is log 10 - log 2 = log 5 nats.
    half = torch.full((10, 10), -1e9)
    half[codes, codes] = 0.0
    half[codes, (codes + 1) % 10] = 0.0
    assert categorical_mi_bound(half, codes).item() == pytest.approx(math.log(5), abs=1e-6)


def test_gaussian_bound_has_the_closed_form_values():
    c = torch.tensor([[0.5, -0.5], [1.0, 0.0]])
    # Q's mean right and std 1: log q = -log(2 pi)/2 per code; plus H(U(-1, 1)) = log 2 per code.
    ll = gaussian_log_likelihood(c, c, torch.zeros_like(c)).item()
    assert ll == pytest.approx(-math.log(2 * math.pi))
    assert ll + uniform_entropy(-1, 1, 2) == pytest.approx(2 * (math.log(2) - 0.5 * math.log(2 * math.pi)))
    # Off by 1 with std e^-1 (log std -1): z = e, log q = -e^2/2 + 1 - log(2 pi)/2 per code.
    off = gaussian_log_likelihood(c, c + 1, -torch.ones_like(c)).item()
    assert off == pytest.approx(2 * (-math.e ** 2 / 2 + 1 - 0.5 * math.log(2 * math.pi)), rel=1e-5)
    # A Q that knows the code well enough beats the prior: the bound on I(c; x) turns positive.
    sharp = gaussian_log_likelihood(c, c, torch.full_like(c, -3.0)).item() + uniform_entropy(-1, 1, 2)
    assert sharp > 0


def test_hungarian_matching_undoes_a_permutation():
    rng = np.random.default_rng(0)
    counts = np.diag([90, 80, 95, 70, 99, 85, 60, 88, 91, 77]) + rng.integers(0, 5, (10, 10))
    perm = rng.permutation(10)
    mapping, accuracy = best_matching(counts[:, perm])  # code i's class is now perm^-1
    assert np.array_equal(perm[mapping], np.arange(10))
    assert accuracy == pytest.approx(np.trace(counts) / counts.sum())
    # From raw (code, class) pairs: code 2 is mostly read as class 1, code 0 as class 2.
    codes = np.array([0, 0, 0, 1, 1, 2, 2, 2])
    classes = np.array([2, 2, 1, 0, 0, 1, 1, 2])
    m, acc = best_matching(confusion_matrix(codes, classes, 3, 3))
    assert m.tolist() == [2, 0, 1] and acc == pytest.approx(6 / 8)


def config(steps):
    cfg = RunConfig(model="infogan")
    cfg.data.name = "digits"
    cfg.train.steps, cfg.train.batch_size, cfg.train.log_every = steps, 16, 2
    cfg.train.sample_every = cfg.train.checkpoint_every = 1000
    cfg.options = {"latent_dim": 4, "fc": 16, "base": 8}
    return cfg


@pytest.fixture(scope="module")
def run_dir(tmp_path_factory):
    path = tmp_path_factory.mktemp("infogan") / "run"
    train(config(6), path, progress=False)
    return path


def test_infogan_resumes_exactly(tmp_path, run_dir):
    train(config(3), tmp_path / "resumed", progress=False)
    train(config(6), tmp_path / "resumed", resume=True, progress=False)
    a, b = (load_weights(latest_checkpoint(p)) for p in (run_dir, tmp_path / "resumed"))
    assert a.keys() == b.keys() and all(torch.equal(a[k], b[k]) for k in a)


def test_without_codes_it_is_a_plain_gan_with_no_q_head(tmp_path):
    """No codes: nothing for Q to read and no information term, a plain GAN with InfoGAN's networks."""
    cfg = config(2)
    cfg.options.update(categories=0, continuous=0)
    train(cfg, tmp_path / "plain", progress=False)
    weights = load_weights(latest_checkpoint(tmp_path / "plain"))
    assert not any("q_head" in k for k in weights) and any("d_head" in k for k in weights)
    run = gankit.load(tmp_path / "plain")
    assert [spec.name for spec in run.input_specs] == ["z"]
    assert run.sample_array(3).shape == (3, 1, 8, 8)


def test_small_transform_moves_each_image_and_keeps_its_background():
    x = -torch.ones(8, 1, 12, 12)
    x[:, :, 3:9, 5:7] = 1.0  # a vertical stroke in the middle
    same = small_transform(x, Noise.seeded(0), degrees=0.0, scale=0.0, shift=0.0)
    assert torch.allclose(same, x, atol=1e-5)
    moved = small_transform(x, Noise.seeded(0))
    per_image_change = (moved - x).abs().flatten(1).amax(1)
    assert (per_image_change > 0.5).all()  # every image is transformed, each differently
    assert not torch.allclose(moved[0], moved[1])
    # Border padding: the corners stay background, and the stroke's ink is kept within a scaling's worth.
    assert torch.allclose(moved[:, :, 0, 0], -torch.ones(8, 1), atol=1e-5)
    ink = ((moved + 1) / 2).flatten(1).sum(1) / ((x + 1) / 2).flatten(1).sum(1)
    assert ((ink > 0.7) & (ink < 1.3)).all()


def test_invariance_term_is_q_reading_c1_from_the_transformed_fakes(tmp_path):
    cfg = config(2)
    cfg.options["lambda_invariance"] = 2.0
    train(cfg, tmp_path / "inv", progress=False)
    recipe = gankit.load(tmp_path / "inv").recipe
    fake = torch.rand(6, 1, 8, 8) * 2 - 1
    inputs = {"c1": torch.tensor([0, 1, 2, 3, 4, 5])}
    logits = torch.randn(6, 10 + 4)
    seen = []

    def D(x):
        seen.append(x)
        return torch.zeros(len(x)), logits

    loss = recipe.invariance_loss(D, fake, inputs, Noise.seeded(1))
    expected = 2.0 * torch.nn.functional.cross_entropy(logits[:, :10], inputs["c1"])
    assert loss.item() == pytest.approx(expected.item())
    assert torch.equal(seen[0], small_transform(fake, Noise.seeded(1)))  # D saw the transformed copy
    recipe.options.lambda_invariance = 0.0
    assert recipe.invariance_loss(D, fake, inputs, Noise.seeded(1)).item() == 0.0 and len(seen) == 1


def test_infogan_with_the_invariance_term_resumes_exactly(tmp_path):
    """The transformations are drawn from the run's noise, so a resumed run repeats them."""
    cfg = config(4)
    cfg.options["lambda_invariance"] = 1.0
    train(cfg, tmp_path / "whole", progress=False)
    half = config(2)
    half.options["lambda_invariance"] = 1.0
    train(half, tmp_path / "resumed", progress=False)
    train(cfg, tmp_path / "resumed", resume=True, progress=False)
    a, b = (load_weights(latest_checkpoint(p)) for p in (tmp_path / "whole", tmp_path / "resumed"))
    assert a.keys() == b.keys() and all(torch.equal(a[k], b[k]) for k in a)
    train(config(4), tmp_path / "plain", progress=False)  # the same steps without the term train G differently
    plain = load_weights(latest_checkpoint(tmp_path / "plain"))
    assert any(not torch.equal(a[k], plain[k]) for k in a if k.startswith("nets.G."))


def test_code_reaches_the_generator(run_dir):
    run = gankit.load(run_dir)
    assert [s.name for s in run.input_specs] == ["z", "c1", "c2", "c3"]
    seen = {}
    original = run.recipe.generate
    run.recipe.generate = lambda inputs, net=None: seen.setdefault("inputs", inputs) and original(inputs, net)
    given = fixed_inputs(parse_codes(["c1=3", "c2=-1.5"], run.input_specs), run.input_specs, 5)
    run.sample(5, **given)
    assert seen["inputs"]["c1"].tolist() == [3] * 5 and seen["inputs"]["c2"].tolist() == [-1.5] * 5
    # ...and the generator's input vector carries them: one-hot c1 and the value of c2.
    vector = run.recipe.generator_input(seen["inputs"])
    assert vector[:, 4 + 3].tolist() == [1.0] * 5 and vector[:, 4 + 10].tolist() == [-1.5] * 5
    # The same codes with a different seed change only z.
    a, b = run.sample(5, seed=1, **given), run.sample(5, seed=1, **given)
    assert torch.equal(a, b)


@pytest.mark.parametrize("items, message", [
    (["c9=1"], "no input named 'c9'; its inputs are z .*c1 \\(categorical, 0..9\\)"),
    (["c1=10"], "integer in 0..9, got 10"),
    (["c1=2.5"], "integer in 0..9, got 2.5"),
    (["c2"], "expects NAME=VALUE"),
    (["c2=abc"], "not a number"),
])
def test_bad_codes_are_explained(run_dir, items, message):
    with pytest.raises(ConfigError, match=message):
        parse_codes(items, gankit.load(run_dir).input_specs)


def test_traverse_shapes_and_files(run_dir, tmp_path, capsys):
    run = gankit.load(run_dir)
    images, rows, columns = traverse(run, "c2", (-2, 2), steps=7)
    assert images.shape == (10, 7, 1, 8, 8) and rows == list(range(10))
    assert columns[0] == -2 and columns[-1] == 2
    # Within a row only c2 changes; c1 changes between rows.
    images, rows, columns = traverse(run, "c1", None, rows=3)
    assert images.shape == (3, 10, 1, 8, 8)
    assert main([ "traverse", str(run_dir), "--code", "c3", "--range", "-2", "2", "--steps", "5",
                  "--out", str(tmp_path / "t.png")]) == 0
    from PIL import Image
    width, height = Image.open(tmp_path / "t.png").size
    assert (width, height) == (8 * (5 * 10 + 2), 8 * (10 * 10 + 2))  # 5 columns, 10 rows of 8x8 tiles, x8
    assert main(["traverse", str(run_dir), "--code", "c2", "--out", str(tmp_path / "t.gif")]) == 0
    gif = Image.open(tmp_path / "t.gif")
    assert gif.size[1] > gif.size[0]  # each frame one column: the 10 values of c1 stacked
    assert main(["traverse", str(run_dir), "--code", "z", "--out", str(tmp_path / "z.png")]) == 2
    assert "scalar code" in capsys.readouterr().err
    assert main(["sample", str(run_dir), "-n", "4", "--code", "c1=11", "--out", str(tmp_path / "s.png")]) == 2
    assert main(["sample", str(run_dir), "-n", "4", "--code", "c1=1", "--code", "c3=0.5",
                 "--out", str(tmp_path / "s.npy")]) == 0
    assert np.load(tmp_path / "s.npy").shape == (4, 8, 8)


def test_code_accuracy_on_a_run(run_dir):
    from gankit.metrics.model_metrics import evaluate_model

    result = evaluate_model(gankit.load(run_dir), ["ssl", "codes"], n=200)
    assert set(result) == {"code_accuracy", "code_matching"}
    assert 0.0 <= result["code_accuracy"] <= 1.0
    assert sorted(int(p.split("->")[1]) for p in result["code_matching"].split()) == list(range(10))


def test_code_accuracy_draws_at_the_truncation_asked(run_dir, monkeypatch):
    """`gankit eval --truncation` reaches the samples the codes metric draws itself."""
    from gankit.metrics.codes import code_accuracy

    run = gankit.load(run_dir)
    asked = []
    sample_array = run.sample_array
    run.sample_array = lambda *a, **kw: asked.append(kw.get("truncation")) or sample_array(*a, **kw)
    code_accuracy(run, n=50)
    code_accuracy(run, n=50, truncation=0.0)
    assert asked == [None, 0.0]
    # ...and the command passes its --truncation down to the metric.
    import gankit.metrics.codes as codes

    passed = []
    monkeypatch.setattr(codes, "code_accuracy", lambda run, n, truncation=None: passed.append(truncation) or
                        {"code_accuracy": 0.0, "code_matching": ""})
    assert main(["eval", str(run_dir), "--metrics", "codes", "-n", "20", "--truncation", "0.5", "--quiet"]) == 0
    assert passed == [0.5]
