"""The bad-input catalogue (README, "When something is wrong"): each case as a user meets it on the
command line. An error is one line on stderr saying what, where and what to do, with exit code 2,
and it leaves every checkpoint of an existing run as it was. Inputs gankit can still use (odd
image modes, a few broken files) are converted or skipped, and the test checks how."""

import errno
import gzip
import hashlib
import shutil
import struct
import warnings
import zlib
from pathlib import Path

import numpy as np
import pytest
import yaml
from PIL import Image

from gankit.cli import main
from gankit.data import load_dataset
from gankit.train.lock import RunLock

SMALL_GAN = ["--set", "model.g_widths=[16]", "--set", "model.d_widths=[16]", "--set", "model.latent_dim=4"]


def fails(argv, *fragments, capsys):
    """Run the CLI; it must exit 2 with one line that contains every fragment."""
    code = main([str(a) for a in argv])
    lines = [line for line in capsys.readouterr().err.splitlines() if line.strip()]
    assert code == 2, lines
    assert len(lines) == 1 and lines[0].startswith("gankit"), lines
    for fragment in fragments:
        assert fragment in lines[0], lines[0]
    return lines[0]


def fingerprint(run: Path) -> dict[str, str]:
    return {str(p.relative_to(run)): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted((run / "checkpoints").rglob("*")) if p.is_file()}


@pytest.fixture(scope="module")
def trained(tmp_path_factory):
    run = tmp_path_factory.mktemp("bad-inputs") / "run"
    assert main(["train", "gan", "--data", "ring8", "--steps", "4", "--out", str(run), "--no-progress",
                 "--set", "train.checkpoint_every=2", *SMALL_GAN]) == 0
    return run


@pytest.fixture
def run(trained, tmp_path):
    copy = tmp_path / "run"
    shutil.copytree(trained, copy)
    before = fingerprint(copy)
    yield copy
    assert fingerprint(copy) == before, "an existing checkpoint was changed"


# --- IDX files (--data-root) --------------------------------------------------------------------
def idx(kind: int, dims: tuple[int, ...], payload: bytes) -> bytes:
    return struct.pack(">BBBB", 0, 0, kind, len(dims)) + struct.pack(f">{len(dims)}I", *dims) + payload


def write_mnist(root: Path, images: bytes | None = None, gz_damage: bool = False) -> Path:
    root.mkdir(parents=True, exist_ok=True)
    n = 100
    good = idx(0x08, (n, 28, 28), bytes(n * 28 * 28))
    labels = idx(0x08, (n,), bytes(range(10)) * 10)
    for split, (img_name, lab_name) in {"train": ("train-images-idx3-ubyte", "train-labels-idx1-ubyte"),
                                        "t10k": ("t10k-images-idx3-ubyte", "t10k-labels-idx1-ubyte")}.items():
        data = gzip.compress(images if images is not None and split == "train" else good)
        if gz_damage and split == "train":
            data = data[:len(data) // 2] + bytes(64) + data[len(data) // 2:]
        (root / f"{img_name}.gz").write_bytes(data)
        (root / f"{lab_name}.gz").write_bytes(gzip.compress(labels))
    return root


def train_mnist(root):
    return ["train", "gan", "--data", "mnist", "--data-root", root, "--steps", "1", "--batch-size", "8", *SMALL_GAN]


def test_truncated_idx_file(tmp_path, capsys):
    root = write_mnist(tmp_path / "mnist", images=idx(0x08, (100, 28, 28), bytes(1000)))
    fails(train_mnist(root), "train-images-idx3-ubyte", capsys=capsys)


def test_corrupt_gzip(tmp_path, capsys):
    fails(train_mnist(write_mnist(tmp_path / "mnist", gz_damage=True)), "train-images-idx3-ubyte", capsys=capsys)


def test_wrong_magic_number(tmp_path, capsys):
    root = write_mnist(tmp_path / "mnist", images=b"\x12\x34" + idx(0x08, (100, 28, 28), bytes(100 * 784))[2:])
    fails(train_mnist(root), "magic", capsys=capsys)


# --- image folders --------------------------------------------------------------------------------
def png_folder(folder: Path, n: int = 12, mode: str = "RGB") -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(0)
    for i in range(n):
        Image.fromarray((rng.random((16, 16, 3)) * 255).astype(np.uint8)).convert(mode).save(folder / f"img{i:02d}.png")
    return folder


@pytest.fixture(autouse=True)
def own_cache(tmp_path, monkeypatch):
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))


def test_empty_folder(tmp_path, capsys):
    (tmp_path / "empty").mkdir()
    fails(["train", "dcgan", "--data", f"folder:{tmp_path / 'empty'}"], "is empty", capsys=capsys)


def test_folder_without_images(tmp_path, capsys):
    (tmp_path / "texts").mkdir()
    for i in range(3):
        (tmp_path / "texts" / f"note{i}.txt").write_text("not an image")
    fails(["train", "dcgan", "--data", f"folder:{tmp_path / 'texts'}"], "no readable images", capsys=capsys)


def test_missing_folder(tmp_path, capsys):
    fails(["train", "dcgan", "--data", f"folder:{tmp_path / 'nowhere'}"], "no such directory", capsys=capsys)


def bomb_png(path: Path, side: int = 20_000) -> None:
    """A valid PNG header for a side x side image: Pillow refuses it before decoding anything."""
    def chunk(kind, data):
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))
    path.write_bytes(b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", side, side, 8, 0, 0, 0, 0))
                     + chunk(b"IDAT", zlib.compress(b"\0" * 64)) + chunk(b"IEND", b""))


def test_zero_byte_png_and_decompression_bomb_are_skipped_with_one_warning(tmp_path):
    folder = png_folder(tmp_path / "imgs")
    (folder / "zero.png").write_bytes(b"")
    bomb_png(folder / "huge.png")
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        data = load_dataset(f"folder:{folder}")
    messages = [str(w.message) for w in caught]
    assert len(messages) == 1 and "skipped 2 of 14" in messages[0] and "huge.png" in messages[0]
    assert len(data) + len(load_dataset(f"folder:{folder}", "test")) == 12


def test_16_bit_png_is_scaled_not_clipped(tmp_path):
    folder = tmp_path / "deep"
    folder.mkdir()
    ramp = np.linspace(0, 65535, 16 * 16).reshape(16, 16).astype(np.uint16)
    for i in range(10):
        Image.fromarray(ramp).save(folder / f"d{i}.png")
    x = load_dataset(f"folder:{folder}").x
    assert x.shape[1] == 1 and x[0, 0, 0, 0] == 0 and x[0, 0, -1, -1] == 255
    assert 120 <= x[0, 0, 8, 0] <= 135  # the middle of the ramp stays mid-gray


def test_rgba_palette_and_cmyk_images_become_rgb_on_white(tmp_path):
    folder = png_folder(tmp_path / "modes", n=9)
    Image.new("RGBA", (16, 16), (0, 0, 0, 0)).save(folder / "transparent.png")
    Image.fromarray(np.full((16, 16, 3), 200, np.uint8)).convert("P").save(folder / "palette.png")
    Image.new("CMYK", (16, 16), (0, 0, 0, 0)).save(folder / "cmyk.jpg")
    data = load_dataset(f"folder:{folder}")
    test = load_dataset(f"folder:{folder}", "test")
    x = np.concatenate([data.x, test.x])
    assert x.shape == (12, 3, 16, 16)
    names = sorted(p.name for p in folder.iterdir())
    assert (x[names.index("transparent.png")] == 255).all()  # fully transparent: white, not black
    assert (x[names.index("cmyk.jpg")] >= 250).all()  # no ink: white


# --- samples for gankit eval ----------------------------------------------------------------------
@pytest.mark.parametrize("array, fragment", [
    (np.array([["a"] * 64] * 3), "dtype"),
    (np.zeros((5, 7, 7), np.uint8), "shaped (5, 7, 7)"),
    (np.full((5, 1, 8, 8), np.nan, np.float32), "NaN"),
])
def test_eval_samples_of_the_wrong_kind(tmp_path, capsys, array, fragment):
    np.save(tmp_path / "s.npy", array)
    fails(["eval", "--samples", tmp_path / "s.npy", "--data", "digits", "--quiet"], fragment, capsys=capsys)


# --- configuration ------------------------------------------------------------------------------------
def test_unknown_preset(capsys):
    fails(["train", "--preset", "dem"], "unknown preset 'dem'", "did you mean 'demo'", capsys=capsys)


def test_option_of_the_wrong_type(capsys):
    fails(["train", "gan", "--data", "ring8", "--set", "train.lr_d=fast"], "train.lr_d expects a number",
          capsys=capsys)


def test_config_yaml_with_an_unknown_key(run, capsys):
    path = run / "config.yaml"
    saved = yaml.safe_load(path.read_text())
    saved["train"]["lerning_rate"] = 0.1
    path.write_text(yaml.safe_dump(saved))
    fails(["sample", run, "-n", "4"], "config.yaml cannot be read", "lerning_rate", capsys=capsys)


def test_run_directory_from_another_gankit_version(run, capsys):
    path = run / "config.yaml"
    saved = yaml.safe_load(path.read_text())
    saved["gankit_version"] = "9.0.0"
    saved["train"]["warmup_schedule"] = "cosine"  # an option this version does not know
    path.write_text(yaml.safe_dump(saved))
    fails(["train", "gan", "--data", "ring8", "--out", run, "--steps", "6", "--resume"],
          "written by gankit 9.0.0", capsys=capsys)


# --- an existing run ------------------------------------------------------------------------------
def test_resume_as_another_model(run, capsys):
    fails(["train", "dcgan", "--out", run, "--steps", "6", "--resume"], "trains 'gan', not 'dcgan'", capsys=capsys)


def test_resume_with_changed_options(run, capsys):
    fails(["train", "gan", "--out", run, "--steps", "6", "--resume", "--set", "train.lr_g=0.01"],
          "train.lr_g (0.0002 -> 0.01)", "--force", capsys=capsys)


def test_checkpoint_from_another_data_shape(run, capsys):
    fails(["train", "gan", "--out", run, "--steps", "6", "--resume", "--force", "--set", "model.g_widths=[8]"],
          "does not fit this run's networks", capsys=capsys)


def test_another_trainer_holds_the_run(run, capsys):
    lock = RunLock(run)
    try:
        fails(["train", "gan", "--data", "ring8", "--out", run, "--steps", "6", "--resume"],
              "is being trained by process", capsys=capsys)
    finally:
        lock.release()


def test_disk_full_while_writing_a_checkpoint(run, capsys, monkeypatch):
    import gankit.train.checkpoint as checkpoint

    def no_space(*args, **kwargs):
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(checkpoint, "save_file", no_space)
    fails(["train", "gan", "--data", "ring8", "--out", run, "--steps", "6", "--resume", "--no-progress"],
          "could not write the checkpoint of step 6", "No space left on device", "earlier checkpoints are intact",
          capsys=capsys)
    assert not [p for p in (run / "checkpoints").iterdir() if p.name.startswith(".tmp")]


def test_sample_from_a_folder_that_is_no_run(tmp_path, capsys):
    fails(["sample", tmp_path], "not a gankit run directory", capsys=capsys)


def test_dataset_smaller_than_a_batch(tmp_path, capsys):
    fails(["train", "dcgan", "--data", f"folder:{png_folder(tmp_path / 'few')}", "--batch-size", "64"],
          "fewer than one global batch", capsys=capsys)
