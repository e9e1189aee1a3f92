"""Image-to-image translation: U-Net, PatchGAN, the image pool, CycleGAN's losses, paired folders,
Canny, SSIM, tiny pix2pix / CycleGAN runs that resume exactly, and `gankit translate`."""

import warnings

import numpy as np
import pytest
import torch
from PIL import Image
from torch import nn

from gankit.cli import main
from gankit.config import RunConfig, TrainConfig
from gankit.data import DataError, load_dataset
from gankit.data.canny import canny
from gankit.data.catalog import DatasetInfo
from gankit.metrics.ssim import ssim
from gankit.models import Noise, Progress, Step
from gankit.models.cyclegan import CycleGAN, CycleGANOptions
from gankit.models.schedules import linear_decay
from gankit.nn.image_pool import ImagePool
from gankit.nn.patchgan import PATCH_FIELDS, PatchDiscriminator, receptive_field
from gankit.nn.unet import UNetGenerator
from gankit.train.checkpoint import checkpoint_dirs, latest_checkpoint, load_state, load_weights
from gankit.train.trainer import train


@pytest.fixture(autouse=True)
def temp_cache(tmp_path, monkeypatch):
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))


@pytest.fixture(autouse=True)
def one_thread():
    # These networks are tiny: a second OpenMP thread gains nothing, and on a busy machine its
    # spinning made a CycleGAN step 100x slower (1.4 s instead of 15 ms).
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)


# --- networks --------------------------------------------------------------------------------
@pytest.mark.parametrize("depth", [1, 2, 3, 4, 5])
def test_unet_keeps_the_image_shape_at_every_depth(depth):
    g = UNetGenerator(1, 3, 32, base=8, depth=depth).eval()
    out = g(torch.randn(2, 1, 32, 32))
    assert out.shape == (2, 3, 32, 32)
    assert out.abs().max() <= 1  # tanh
    assert len(g.encoder) == depth


def test_unet_pads_sides_its_depth_cannot_halve_and_crops_back():
    g = UNetGenerator(1, 1, 28, base=4).eval()
    assert g.depth == 5  # ceil(log2(28)): a 1x1 bottleneck after padding to 32
    x = torch.randn(2, 1, 28, 30)
    out = g(x)
    assert out.shape == (2, 1, 28, 30)
    padded = torch.nn.functional.pad(x, (1, 1, 2, 2), mode="replicate")  # to 32x32, border repeated
    torch.testing.assert_close(out, g(padded)[..., 2:30, 1:31])
    with pytest.raises(ValueError, match="at least one level"):
        UNetGenerator(3, 3, 48, depth=0)


def test_unet_skips_carry_the_input_across():
    # Cut the bottleneck off: the output still depends on the input through the skip connections.
    g = UNetGenerator(1, 1, 16, base=4, depth=4).eval()
    x = torch.randn(1, 1, 16, 16, requires_grad=True)
    g(x)[0, 0, 8, 8].backward()
    assert x.grad.abs().sum() > 0
    assert g(torch.zeros(1, 1, 16, 16)).shape == (1, 1, 16, 16)


def empirical_field(D: nn.Module, size: int) -> int:
    """The width of the input region that one central output logit depends on (by its gradient)."""
    D.eval()
    with torch.no_grad():
        for m in D.modules():
            if isinstance(m, nn.Conv2d):
                m.weight.fill_(0.01)  # positive weights: no cancellation hides a dependency
    x = torch.ones(1, D.net[0].in_channels, size, size, requires_grad=True)
    out = D(x)
    out[0, 0, out.shape[2] // 2, out.shape[3] // 2].backward()
    cols = torch.nonzero(x.grad.abs().sum((0, 1, 2)) > 0)
    return int(cols.max() - cols.min() + 1)


@pytest.mark.parametrize("patch, field", [("pixel", 1)] + [(str(f), f) for f in PATCH_FIELDS.values() if f <= 142])
def test_patchgan_receptive_field_matches_its_name(patch, field):
    size = 256 if field > 34 else 64
    D = PatchDiscriminator(2, size, patch, base=4)
    assert D.receptive_field == receptive_field(D.net) == field
    assert empirical_field(D, size) == field  # the layers really look at that much of the image


def test_patchgan_auto_is_70_over_256_of_the_side_and_image_covers_it():
    assert PatchDiscriminator(3, 256, "auto", base=4).receptive_field == 70
    assert PatchDiscriminator(3, 64, "auto", base=4).receptive_field == 16
    for size in (32, 64, 256):
        assert PatchDiscriminator(3, size, "image", base=4).receptive_field >= size
    with pytest.raises(ValueError, match="at least 96"):
        PatchDiscriminator(3, 64, "286")
    with pytest.raises(ValueError, match="model.patch"):
        PatchDiscriminator(3, 64, "64")


def test_instance_norm_is_per_example_and_channel():
    from gankit.nn.patchgan import norm_layer

    x = torch.randn(2, 3, 8, 8) * 5 + 2
    assert torch.allclose(norm_layer("instance", 3)(x), nn.InstanceNorm2d(3)(x), atol=1e-5)


# --- the image pool --------------------------------------------------------------------------
def test_pool_returns_new_images_until_full_then_past_ones_half_the_time():
    pool = ImagePool(50, (1, 1, 1))
    noise = Noise.seeded(0)
    first = torch.arange(50.0).reshape(50, 1, 1, 1)
    assert torch.equal(pool.query(first, noise.rand(50), noise.randint(50, 50)), first)
    assert int(pool.count) == 50
    new = torch.arange(1000.0, 5000.0).reshape(-1, 1, 1, 1)
    out = pool.query(new, noise.rand(len(new)), noise.randint(50, len(new)))
    past = out != new
    assert abs(past.float().mean().item() - 0.5) < 0.03  # 4000 draws: 3 sigma is 0.024
    # A returned past image is one the pool held: an earlier input, never an invented one.
    seen = set(first.flatten().tolist()) | set(new.flatten().tolist())
    assert set(out[past].tolist()) <= seen
    assert all(v < n for v, n in zip(out[past].tolist(), new[past].tolist()))


# --- CycleGAN's losses -----------------------------------------------------------------------
def tiny_cyclegan(**options):
    info = DatasetInfo("pairs (A)", "test", (3, 16, 16), None)
    opts = CycleGANOptions(g_base=4, blocks=1, d_base=4, **options)
    return CycleGAN(opts, {"A": info, "B": info}, TrainConfig(loss="least-squares"))


def test_cycle_and_identity_losses_are_zero_for_identity_generators():
    recipe = tiny_cyclegan()
    recipe.nets["G"], recipe.nets["F"] = nn.Identity(), nn.Identity()
    a, b = torch.rand(4, 3, 16, 16) * 2 - 1, torch.rand(4, 3, 16, 16) * 2 - 1
    step = Step({"A": {"x": a}, "B": {"x": b}}, Progress(), Noise.seeded(0), reader=None)
    loss, stats = recipe.loss("G", step)
    assert stats["cycle"] == 0 and stats["identity"] == 0
    assert torch.isclose(loss, stats["g_adv"])  # only the adversarial term is left
    # A generator that is not the identity pays a cycle loss.
    recipe.nets["F"] = nn.Tanh()
    _, stats = recipe.loss("G", Step({"A": {"x": a}, "B": {"x": b}}, Progress(), Noise.seeded(0), reader=None))
    assert stats["cycle"] > 0


def test_identity_weight_is_half_the_cycle_weight_and_the_decay_is_linear_in_the_second_half():
    assert tiny_cyclegan().identity_weight == 5.0
    assert tiny_cyclegan(identity=0.0).identity_weight == 0.0
    assert [linear_decay(Progress(fraction=f), 0.5) for f in (0.0, 0.5, 0.75, 1.0)] == [1.0, 1.0, 0.5, 0.0]
    assert [linear_decay(Progress(fraction=f), end=0.5) for f in (0.0, 0.25, 0.5, 0.75)] == [1.0, 0.5, 0.0, 0.0]


# --- data ------------------------------------------------------------------------------------
def write_pairs(root, names_a, names_b, size=16, gray_b=False):
    (root / "A").mkdir(parents=True)
    (root / "B").mkdir()
    for i, name in enumerate(sorted(set(names_a) | set(names_b))):
        value = 10 + 20 * i
        if name in names_a:
            Image.fromarray(np.full((size, size, 3), value, np.uint8)).save(root / "A" / f"{name}.png")
        if name in names_b:
            b = np.full((size, size), 255 - value, np.uint8)
            Image.fromarray(b if gray_b else np.stack([b] * 3, -1)).save(root / "B" / f"{name}.jpg" if gray_b
                                                                         else root / "B" / f"{name}.png")
    return f"folder:{root / 'A'}|{root / 'B'}"


def test_paired_folders_match_by_name_and_report_the_unmatched(tmp_path):
    names = [f"im{i:02d}" for i in range(10)]
    name = write_pairs(tmp_path, names + ["only_a"], names + ["only_b"])
    with pytest.warns(UserWarning, match=r"2 file\(s\) have no partner.*A/only_a.png.*B/only_b.png"):
        train_set = load_dataset(name, "train")
    test_set = load_dataset(name, "test")
    assert len(train_set) == 9 and len(test_set) == 1  # the last 10% of the names
    for data in (train_set, test_set):
        a, b = data.extra["a"].astype(int), data.x.astype(int)
        assert a.shape == b.shape
        assert np.all(np.abs(a + b - 255) <= 2)  # every target is its own input's partner


def test_paired_folders_with_no_common_name_or_mixed_channels(tmp_path):
    with pytest.raises(DataError, match="no file of"):
        load_dataset(write_pairs(tmp_path / "x", ["a1"], ["b1"]), "train")
    data = load_dataset(write_pairs(tmp_path / "y", ["p", "q"], ["p", "q"], gray_b=True), "train")
    assert data.x.shape[1] == data.extra["a"].shape[1] == 3  # gray targets served as RGB beside RGB inputs


def test_canny_finds_the_outline_of_a_square():
    img = np.zeros((32, 32))
    img[8:24, 8:24] = 255
    edges = canny(img, sigma=1.0)
    assert edges[16, 7:9].any() and edges[16, 23:25].any()  # left and right sides
    assert not edges[12:20, 12:20].any() and not edges[:4].any()  # nothing inside or far away
    assert edges[16].sum() <= 4  # thin: non-maximum suppression leaves about one pixel per side
    assert not canny(np.full((16, 16), 7.0)).any()


def test_ssim_is_one_for_equal_images_and_matches_the_formula_for_flat_ones():
    x = np.random.default_rng(0).integers(0, 256, (3, 3, 16, 16)).astype(np.uint8)
    assert np.allclose(ssim(x, x), 1.0)
    noisy = np.clip(x + np.random.default_rng(1).normal(0, 40, x.shape), 0, 255)
    assert (ssim(x, noisy) < 0.9).all()
    a, b = np.full((1, 1, 16, 16), 100.0), np.full((1, 1, 16, 16), 150.0)
    c1 = (0.01 * 255) ** 2
    assert np.isclose(ssim(a, b)[0], (2 * 100 * 150 + c1) / (100 ** 2 + 150 ** 2 + c1))


# --- tiny runs ---------------------------------------------------------------------------------
def tiny_config(model, data, steps, **options):
    cfg = RunConfig(model=model)
    cfg.data.name = data
    cfg.train.steps = steps
    cfg.train.batch_size = 4
    cfg.train.sample_every = 3
    cfg.train.checkpoint_every = 1000
    cfg.train.log_every = 2
    cfg.train.loss = "least-squares" if model == "cyclegan" else "non-saturating"
    cfg.options.update({"g_base": 4, "d_base": 4, **options})
    return cfg


@pytest.fixture
def pairs(tmp_path):
    rng = np.random.default_rng(0)
    (tmp_path / "A").mkdir()
    (tmp_path / "B").mkdir()
    for i in range(30):
        a = rng.integers(0, 256, (16, 16, 3)).astype(np.uint8)
        Image.fromarray(a).save(tmp_path / "A" / f"{i}.png")
        Image.fromarray(255 - a).save(tmp_path / "B" / f"{i}.png")
    return f"folder:{tmp_path / 'A'}|{tmp_path / 'B'}"


# tiny_config leaves train.lr_decay unset: the decay is a function of the fraction of the budget, so a
# 3-step run and a 6-step run would decay differently.
@pytest.mark.parametrize("model, options", [("pix2pix", {}), ("cyclegan", {"blocks": 1, "pool_size": 5})])
def test_tiny_runs_train_and_resume_bit_exactly(tmp_path, pairs, model, options):
    train(tiny_config(model, pairs, 6, **options), tmp_path / "straight", progress=False)
    train(tiny_config(model, pairs, 3, **options), tmp_path / "resumed", progress=False)
    train(tiny_config(model, pairs, 6, **options), tmp_path / "resumed", resume=True, progress=False)
    a, b = load_weights(latest_checkpoint(tmp_path / "straight")), load_weights(latest_checkpoint(tmp_path / "resumed"))
    assert a.keys() == b.keys()
    for key in a:
        assert torch.equal(a[key], b[key]), key
    first = load_weights(checkpoint_dirs(tmp_path / "resumed")[0])
    assert any(not torch.equal(first[k], a[k]) for k in a if k.startswith("nets.G"))  # G did learn
    if model == "cyclegan":
        assert int(a["pool_A.count"]) == 5  # the pool was filled and travels with the checkpoint
        assert load_state(latest_checkpoint(tmp_path / "resumed"))["step"] == 6
    grid = Image.open(tmp_path / "straight" / "samples" / "step_000006.png")
    # input | output | target, four triples a row, of the 3 held-out pairs: one row of 9 images.
    assert grid.width > 2 * grid.height


@pytest.mark.parametrize("model, extra", [("pix2pix", []), ("cyclegan", ["--set", "model.blocks=1"])])
def test_the_cli_decays_both_families_learning_rates_over_the_second_half(tmp_path, pairs, model, extra):
    # As both papers: constant for the first half of the budget, then linearly to 0. The 4th of 4
    # iterations starts at 3/4 of the budget, half-way down the decay.
    from gankit.run import Run

    assert main(["train", model, "--data", pairs, "--steps", "4", "--batch-size", "4", "--no-progress",
                 "--set", "model.g_base=4", "--set", "model.d_base=4", *extra, "--out", str(tmp_path / "run")]) == 0
    lrs = {name: o["param_groups"][0]["lr"] for name, o in load_state(latest_checkpoint(tmp_path / "run"))["optimizers"].items()}
    train_cfg = Run(tmp_path / "run").config.train
    assert lrs == {"G": pytest.approx(0.5 * train_cfg.lr_g), "D": pytest.approx(0.5 * train_cfg.lr_d)}


def test_pix2pix_ablations_train_l1_alone_or_the_cgan_alone(tmp_path, pairs):
    from gankit.run import Run

    train(tiny_config("pix2pix", pairs, 2, adversarial=False), tmp_path / "l1", progress=False)
    assert "D" not in Run(tmp_path / "l1").recipe.nets
    train(tiny_config("pix2pix", pairs, 2, l1_weight=0.0, patch="pixel"), tmp_path / "cgan", progress=False)
    assert Run(tmp_path / "cgan").recipe.nets["D"].receptive_field == 1


def test_translate_resizes_what_the_network_cannot_read(tmp_path):
    from gankit.commands.translate import prepare

    Image.fromarray(np.zeros((18, 22, 3), np.uint8)).save(tmp_path / "odd.png")
    image, notices = prepare(tmp_path / "odd.png", 3, 16, multiple=4)  # CycleGAN's ResNet: sides of 4k
    assert image.shape == (3, 16, 16)
    assert notices == ["22x18 is not a multiple of 4 on each side: centre-cropped and resized to 16x16"]


def test_translate_cli(tmp_path, pairs, capsys):
    train(tiny_config("pix2pix", pairs, 2), tmp_path / "run", progress=False)
    inputs = tmp_path / "in"
    inputs.mkdir()
    Image.fromarray(np.zeros((16, 16), np.uint8)).save(inputs / "gray.png")
    Image.fromarray(np.zeros((20, 24, 3), np.uint8)).save(inputs / "odd.png")
    assert main(["translate", str(tmp_path / "run"), str(inputs), "--out", str(tmp_path / "out")]) == 0
    printed = capsys.readouterr().out
    assert "gray converted to RGB" in printed and "resized" not in printed
    for name, size in (("gray", (16, 16)), ("odd", (24, 20))):  # the U-Net reads any size: no resize
        with Image.open(tmp_path / "out" / f"{name}.png") as im:
            assert im.size == size and im.mode == "RGB"
    assert main(["translate", str(tmp_path / "run"), str(inputs), "--out", str(tmp_path / "o2"),
                 "--direction", "BtoA"]) == 2
    assert "A to B only" in capsys.readouterr().err
    assert main(["translate", str(tmp_path / "run"), str(tmp_path / "missing.png"), "--out", "x"]) == 2
    assert main(["translate", str(tmp_path / "run"), "--eval"]) == 0
    scores = capsys.readouterr().out
    assert "l1" in scores and "ssim" in scores


# --- the emoji datasets (where the Debian packages are installed) ------------------------------
@pytest.mark.slow  # renders all 3,789 Noto emoji into the (temporary) cache: ~10 s alone, more when busy
def test_emoji_sets_share_one_split_by_code_point():
    from gankit.data import emoji

    if emoji.available()[emoji.NOTO_PACKAGE] or emoji.available()[emoji.EMOJIONE_PACKAGE]:
        pytest.skip("needs fonts-noto-color-emoji and ruby-gemojione")
    one, noto = emoji.paired_emoji("test", 32)
    assert one.keys == noto.keys and len(one.keys) > 100
    assert not set(emoji.paired_emoji("train", 32)[0].keys) & set(one.keys)
    assert all(emoji.is_test(k) for k in noto.keys)
    assert noto.images.shape[1:] == (3, 32, 32) and one.images.dtype == np.uint8
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        edges = load_dataset("edges2emoji", "test", size=32)
    assert edges.extra["a"].shape == edges.x.shape and len(edges) > 300


def test_missing_emoji_packages_are_named(monkeypatch, tmp_path):
    from gankit.data import emoji

    monkeypatch.setattr(emoji, "NOTO_FONT", tmp_path / "NotoColorEmoji.ttf")
    monkeypatch.setattr(emoji, "EMOJIONE_GEMS", tmp_path / "gems")
    emoji.load_noto.cache_clear()
    emoji.load_emojione.cache_clear()
    emoji.emojione_index.cache_clear()
    try:
        with pytest.raises(DataError, match="apt-get install fonts-noto-color-emoji"):
            load_dataset("emoji", "train")
        with pytest.raises(DataError, match="apt-get install ruby-gemojione"):
            load_dataset("emojione2noto", "train")
    finally:
        emoji.load_noto.cache_clear()
        emoji.load_emojione.cache_clear()
        emoji.emojione_index.cache_clear()


def test_cyclegan_takes_two_unpaired_folders_and_translates_both_ways(tmp_path):
    rng = np.random.default_rng(0)
    for side, count in (("A", 12), ("B", 15)):  # no common names, not even the same number of files
        (tmp_path / side).mkdir()
        for i in range(count):
            Image.fromarray(rng.integers(0, 256, (16, 16, 3)).astype(np.uint8)).save(tmp_path / side / f"{side}{i}.png")
    data = f"folder:{tmp_path / 'A'}|{tmp_path / 'B'}"
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # nothing to report: unpaired domains need no partners
        train(tiny_config("cyclegan", data, 2, blocks=1), tmp_path / "run", progress=False)
    for direction in ("AtoB", "BtoA"):
        out = tmp_path / direction
        assert main(["translate", str(tmp_path / "run"), str(tmp_path / "A" / "A0.png"), "--out", str(out),
                     "--direction", direction]) == 0
        assert (out / "A0.png").is_file()



def test_the_targets_features_are_computed_once_and_then_read_from_the_cache(tmp_path, monkeypatch):
    from gankit.metrics import translation

    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))
    rng = np.random.default_rng(0)
    target = rng.integers(0, 256, (40, 1, 28, 28), dtype=np.uint8)
    predicted = rng.integers(0, 256, (40, 1, 28, 28), dtype=np.uint8)
    computed = []
    real_cached = translation.cached

    def counting_cached(key, compute):
        return real_cached(key, lambda: computed.append(key["kind"]) or compute())

    monkeypatch.setattr(translation, "cached", counting_cached)
    first = translation.score_pairs(predicted, target, "fashion-mnist")
    again = translation.score_pairs(predicted[::-1].copy(), target, "fashion-mnist")
    assert computed == ["translation-targets"], "the second evaluation reads the targets' features"
    assert np.isfinite(first["fid"]) and again["fid"] == pytest.approx(first["fid"], rel=1e-6)
