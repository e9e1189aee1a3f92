"""cGAN and ACGAN: training and resuming, label plumbing end to end, `sample --labels`, npz datasets, CAS."""

import json

import numpy as np
import pytest
import torch
from PIL import Image

import gankit
from gankit.cli import main
from gankit.data import load_dataset
from gankit.labels import spread
from gankit.metrics.cas import classification_accuracy_score
from gankit.models import Noise
from gankit.nn.conditional import LabelledGenerator

TINY = ["--set", "model.g_base=8", "--set", "model.d_base=8", "--set", "model.embed_dim=4",
        "--set", "train.log_every=1", "--batch-size", "16", "--no-progress"]


def train(out, model, *extra, steps=3, data="digits"):
    assert main(["train", model, "--data", data, "--out", str(out), "--steps", str(steps), *TINY, *extra]) == 0
    return [json.loads(line) for line in (out / "metrics.jsonl").read_text().splitlines()]


@pytest.fixture(scope="module")
def cgan_run(tmp_path_factory):
    out = tmp_path_factory.mktemp("cond") / "cgan"
    train(out, "cgan")
    return out


@pytest.mark.parametrize("model,extra", [("cgan", ()), ("cgan", ("--set", "model.projection=true")),
                                         ("acgan", ())])
def test_trains_and_resumes_on_labelled_images(tmp_path, model, extra):
    rows = train(tmp_path / model, model, *extra, steps=2)
    assert [r["step"] for r in rows] == [1, 2] and all(np.isfinite(r["d_loss"]) for r in rows)
    rows = train(tmp_path / model, model, *extra, "--resume", steps=4)
    assert rows[-1]["step"] == 4
    run = gankit.load(tmp_path / model)
    assert run.conditional and run.num_classes == 10 and run.step == 4
    # the sample grid of a labelled run has one class per row: 10 rows of 8
    grid = Image.open(tmp_path / model / "samples" / "step_000004.png")
    assert grid.size[1] > grid.size[0]


@pytest.mark.parametrize("projection", ["false", "true"])
def test_point_data_use_mlps(tmp_path, projection):
    train(tmp_path / "ring", "cgan", "--set", f"model.projection={projection}", data="ring8")
    run = gankit.load(tmp_path / "ring")
    assert run.sample(5, labels=torch.tensor([0, 1, 2, 3, 7])).shape == (5, 2)


def test_unlabelled_data_are_refused(tmp_path, capsys):
    np.savez(tmp_path / "plain.npz", x=load_dataset("digits").x[:200])  # images without labels
    assert main(["train", "cgan", "--data", f"npz:{tmp_path / 'plain.npz'}", "--out", str(tmp_path / "x"),
                 "--steps", "1", "--no-progress"]) == 2
    assert "needs labelled data" in capsys.readouterr().err


def test_acgan_refuses_projection(tmp_path, capsys):
    assert main(["train", "acgan", "--data", "digits", "--out", str(tmp_path / "x"), "--steps", "1",
                 "--set", "model.projection=true", "--no-progress"]) == 2
    assert "projection does not apply" in capsys.readouterr().err


def test_the_asked_class_reaches_the_generator(cgan_run, tmp_path, monkeypatch):
    """`sample --labels 3,5` -> Run.sample -> recipe.generate -> G(z, y): G sees exactly the labels written."""
    seen = []
    forward = LabelledGenerator.forward

    def spy(self, z, y):
        seen.append(y.clone())
        return forward(self, z, y)

    monkeypatch.setattr(LabelledGenerator, "forward", spy)
    assert main(["sample", str(cgan_run), "--labels", "3,5", "-n", "5", "--out", str(tmp_path / "s.npy")]) == 0
    labels = np.load(tmp_path / "s.labels.npy")
    assert labels.dtype == np.int64 and labels.tolist() == [3, 3, 3, 5, 5]
    assert torch.cat(seen).tolist() == labels.tolist()
    assert np.load(tmp_path / "s.npy").shape == (5, 8, 8)
    # the label changes the sample: the same z with another class gives another image
    run = gankit.load(cgan_run)
    z = run.inputs(2, seed=1)["z"][:1].repeat(2, 1)
    a, b = run.generate({"z": z, "y": torch.tensor([0, 9])})
    assert not torch.equal(a, b)


def test_sample_labels_all_png_puts_one_class_per_row(cgan_run, tmp_path):
    assert main(["sample", str(cgan_run), "--labels", "all", "--out", str(tmp_path / "g.png")]) == 0
    grid = np.asarray(Image.open(tmp_path / "g.png"))
    cell = 8 * 8 + 2 * 8  # 8x8 images enlarged 8x, 2 px padding enlarged too
    assert grid.shape[0] == 10 * cell + 16 and grid.shape[1] == 8 * cell + 16


@pytest.mark.parametrize("argv,message", [
    (["--labels", "10"], "class 10 does not exist; "),
    (["--labels", "a,b"], "comma-separated class numbers"),
    (["--labels", "1", "--out", "x.jpg"], "--out must end in"),
])
def test_bad_labels_fail_clearly(cgan_run, tmp_path, capsys, argv, message):
    assert main(["sample", str(cgan_run), *argv]) == 2
    assert message in capsys.readouterr().err


def test_labels_on_an_unconditional_run_fail_clearly(tmp_path, capsys):
    assert main(["train", "dcgan", "--data", "digits", "--out", str(tmp_path / "d"), "--steps", "1", *TINY[:4],
                 "--no-progress"]) == 0
    assert main(["sample", str(tmp_path / "d"), "--labels", "all"]) == 2
    assert "needs a class-conditional model" in capsys.readouterr().err


def test_npz_dataset_round_trip(cgan_run, tmp_path, capsys):
    """`sample --labels all --out synth.npz` is a labelled dataset that trains a conditional model."""
    synth = tmp_path / "synth.npz"
    assert main(["sample", str(cgan_run), "--labels", "all", "-n", "100", "--out", str(synth)]) == 0
    with np.load(synth) as z:
        x, y = z["x"], z["y"]
        assert x.dtype == np.uint8 and x.shape == (100, 1, 8, 8) and y.dtype == np.int64
        assert np.bincount(y).tolist() == [10] * 10 and list(z["class_names"]) == [str(i) for i in range(10)]
    train_split, test_split = load_dataset(f"npz:{synth}", "train"), load_dataset(f"npz:{synth}", "test")
    assert len(train_split) == 90 and len(test_split) == 10 and train_split.num_classes == 10
    assert np.array_equal(np.sort(np.concatenate([train_split.y, test_split.y])), np.sort(y))
    train(tmp_path / "again", "acgan", data=f"npz:{synth}", steps=2)
    assert gankit.load(tmp_path / "again").num_classes == 10


def test_npz_errors_are_clear(tmp_path):
    from gankit.data import DataError

    np.savez(tmp_path / "bad.npz", images=np.zeros((3, 1, 8, 8), np.uint8))
    with pytest.raises(DataError, match="has no array 'x'"):
        load_dataset(f"npz:{tmp_path / 'bad.npz'}")
    np.savez(tmp_path / "bad2.npz", x=np.zeros((3, 1, 8, 8), np.uint8), y=np.array([0, 1]))
    with pytest.raises(DataError, match="3 integer labels"):
        load_dataset(f"npz:{tmp_path / 'bad2.npz'}")
    with pytest.raises(DataError, match="no such file"):
        load_dataset(f"npz:{tmp_path / 'missing.npz'}")


def test_spread_balances_classes():
    assert spread([0, 1, 2], 7).tolist() == [0, 0, 0, 1, 1, 2, 2]
    assert np.bincount(spread(list(range(10)), 60000)).tolist() == [6000] * 10


@pytest.mark.slow  # three classifier trainings: ~20 s on a quiet 2-core machine, minutes on a busy one
def test_cas_of_real_data_matches_the_real_classifier(tmp_path, monkeypatch):
    """Real training images passed as "generated" ones (shuffled: another training trajectory) score
    within a few points of the real-data classifier; the same images with wrong labels score near chance."""
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))
    real = load_dataset("digits", "train")
    order = np.random.default_rng(1).permutation(len(real.x))
    x, y = real.x[order], real.y[order]
    result = classification_accuracy_score(x, y, "digits", epochs=15, seed=1)
    assert result["cas_real"] > 0.85
    assert abs(result["cas"] - result["cas_real"]) < 0.04
    wrong = classification_accuracy_score(x, (y + 1 + order % 9) % 10, "digits", epochs=15, seed=1)
    assert wrong["cas"] < 0.3 and wrong["cas_real"] == result["cas_real"]  # the real side is cached


def test_cas_needs_labels(tmp_path, capsys):
    from gankit.metrics.evaluate import evaluate, parse_metrics

    assert parse_metrics("fid,cas") == ("fid", "cas")
    x = load_dataset("digits", "test").x[:20]
    assert evaluate(x, "digits", metrics="cas") == {}  # unlabelled samples: skipped, said so
    assert "cas skipped" in capsys.readouterr().err
    with pytest.raises(ValueError, match="one label per sample"):
        classification_accuracy_score(x, np.zeros(3, np.int64), "digits")


def test_acgan_losses_are_the_papers_on_hand_made_logits():
    """D minimises -(L_S + L_C); G minimises L_C's fake term with the adversarial G loss (minimax: -L_S's)."""
    import math

    from gankit.config import TrainConfig
    from gankit.data.catalog import CATALOG
    from gankit.models.acgan import ACGAN, ACGANOptions

    class Fixed(torch.nn.Module):  # D(x) = (s, class logits) read off the first pixel
        def forward(self, x):
            s = x[:, 0, 0, 0]
            return s, torch.stack([s, -s], 1)

    def recipe(**options):
        r = ACGAN(ACGANOptions(g_base=8, d_base=8, embed_dim=2, **options), {"real": CATALOG["digits"]},
                  TrainConfig(loss="minimax"))
        r.nets["D"] = Fixed()
        return r

    real, fake = torch.full((1, 1, 8, 8), 2.0), torch.full((1, 1, 8, 8), -1.0)
    y_real, y_fake = torch.tensor([0]), torch.tensor([1])
    sig = lambda t: 1 / (1 + math.exp(-t))
    log_softmax = lambda a, b: a - math.log(math.exp(a) + math.exp(b))
    l_s = math.log(sig(2.0)) + math.log(1 - sig(-1.0))
    l_c_real, l_c_fake = log_softmax(2.0, -2.0), log_softmax(1.0, -1.0)  # class 0 of (2, -2), class 1 of (-1, 1)
    loss, _ = recipe(classify_fakes=True, class_weight=1.0).d_loss(real, y_real, fake, y_fake)  # the paper's
    assert loss.item() == pytest.approx(-(l_s + l_c_real + l_c_fake), rel=1e-5)
    loss, _ = recipe().d_loss(real, y_real, fake, y_fake)  # gankit's default: real images' classes, weight 3
    assert loss.item() == pytest.approx(-(l_s + 3 * l_c_real), rel=1e-5)
    loss, _ = recipe(class_weight=0.5).g_loss(fake, y_fake)
    assert loss.item() == pytest.approx(math.log(1 - sig(-1.0)) - 0.5 * l_c_fake, rel=1e-5)


@pytest.mark.parametrize("model", ["cgan", "acgan"])
def test_mode_seeking_is_logged_and_pairs_the_classes(tmp_path, model):
    rows = train(tmp_path / model, model, "--set", "model.mode_seeking=1", steps=2)
    assert all(np.isfinite(r["g_mode_seeking"]) and r["g_mode_seeking"] > 0 for r in rows)
    recipe = gankit.load(tmp_path / model).recipe
    inputs = recipe.training_inputs(9, Noise.seeded(0))
    assert inputs["y"][:4].tolist() == inputs["y"][4:8].tolist()
