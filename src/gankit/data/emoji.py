"""Colour emoji from Debian packages: Google's Noto Color Emoji and EmojiOne, rendered once and cached.

* ``emoji``: every emoji of the font in ``fonts-noto-color-emoji`` (``NotoColorEmoji.ttf``, about
  3,700 glyphs including ZWJ, skin-tone, keycap and flag sequences). The sequences come from the
  font itself: its character map gives the single code points and its GSUB ligatures the
  sequences, one per distinct glyph. Pillow draws the colour bitmaps (CBDT) at their native size
  109 with ``embedded_color=True``; each glyph (136x128) is centred on a white 136x136 square and
  resized to 128x128.
* ``emojione``: the 64x64 PNGs of ``ruby-gemojione`` (EmojiOne 3, about 1,790), named by their
  code points, composited on white.

Each emoji has a caption (its Unicode name: from the PyPI package ``emoji`` when installed, else
Python's ``unicodedata``) and a class, its category (people, nature, food, ...) as EmojiOne's index
lists it; emoji EmojiOne does not know fall back to the category of their first code point, flags
to "flags", and the rest to "other".

The train/test split is fixed by a hash of each emoji's code points (and :data:`SPLIT_SEED`), so an
emoji is held out in every dataset that contains it: ``emoji``, ``emojione``, ``edges2emoji`` and
``emojione2noto`` agree on which code points are test ones.
"""

from __future__ import annotations

import functools
import hashlib
import json
import os
import unicodedata
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from PIL import Image

from .catalog import EMOJI_CATEGORIES
from .errors import DataError
from .sources import cache_root

NOTO_PACKAGE = "fonts-noto-color-emoji"
NOTO_FONT = Path("/usr/share/fonts/truetype/noto/NotoColorEmoji.ttf")
EMOJIONE_PACKAGE = "ruby-gemojione"
# Where ruby-gemojione installs its assets; the version directory is globbed.
EMOJIONE_GEMS = Path("/usr/share/rubygems-integration/all/gems")
NATIVE_SIZE = 128  # the stored resolution; data.size serves others (32, 64) by resizing once
DEFAULT_SIZE = 64
CATEGORIES = EMOJI_CATEGORIES
SPLIT_SEED = 0
TEST_PERCENT = 10
_CACHE_VERSION = 3
# Code points that only join or modify others: never an emoji of their own here.
_JOINERS = {0x200D, 0xFE0E, 0xFE0F, 0x20E3}
_SKIN_TONES = range(0x1F3FB, 0x1F400)
_REGIONAL = range(0x1F1E6, 0x1F200)
_TAGS = range(0xE0020, 0xE0080)


@dataclass
class EmojiSet:
    """Rendered emoji: uint8 images (N, 3, S, S), their code-point keys, captions and categories."""

    images: np.ndarray
    keys: list[str]  # "1F468-200D-1F4BB": upper-case hex code points without FE0F
    names: list[str]
    categories: np.ndarray  # int64 indices into CATEGORIES
    source: str

    def select(self, rows) -> "EmojiSet":
        rows = np.asarray(rows, dtype=np.int64)
        return EmojiSet(self.images[rows], [self.keys[i] for i in rows], [self.names[i] for i in rows],
                        self.categories[rows], self.source)

    def resized(self, size: int) -> "EmojiSet":
        if size == self.images.shape[-1]:
            return self
        out = np.stack([np.asarray(Image.fromarray(img.transpose(1, 2, 0)).resize((size, size), Image.LANCZOS))
                        .transpose(2, 0, 1) for img in self.images])
        return EmojiSet(np.ascontiguousarray(out), self.keys, self.names, self.categories, self.source)


def key_of(codepoints) -> str:
    """The matching key of an emoji: its code points in hex, variation selectors dropped."""
    return "-".join(f"{cp:04X}" for cp in codepoints if cp not in (0xFE0E, 0xFE0F))


def is_test(key: str) -> bool:
    """Whether the emoji ``key`` belongs to the test split (a fixed hash, the same in every dataset)."""
    digest = hashlib.sha256(f"{SPLIT_SEED}:{key}".encode()).digest()
    return int.from_bytes(digest[:4], "big") % 100 < TEST_PERCENT


def split_rows(keys: list[str], split: str) -> np.ndarray:
    test = np.array([is_test(k) for k in keys], dtype=bool)
    return np.flatnonzero(test if split == "test" else ~test)


# --- names and categories --------------------------------------------------------------------
def caption(codepoints, language: str = "en") -> str:
    """The name of an emoji: CLDR's short name in ``language`` with the PyPI ``emoji`` package
    (which has 14 languages, Korean among them); Unicode's English name without it."""
    text = "".join(map(chr, codepoints))
    try:
        import emoji as emoji_package
    except ImportError:
        emoji_package = None
    if language != "en":
        if emoji_package is None:
            raise DataError(f"emoji names in {language!r} come from the PyPI package 'emoji': "
                            "pip install 'gankit[emoji]' (or pip install emoji)")
        emoji_package.config.load_language(language)
    if emoji_package is not None:
        # The font's sequences and the package's keys differ in where they put variation selectors.
        for candidate in (text, text.replace("\uFE0F", ""), text + "\uFE0F", text[:1] + "\uFE0F" + text[1:]):
            entry = emoji_package.EMOJI_DATA.get(candidate)
            if entry and language in entry:
                return entry[language].strip(":").replace("_", " ")
    if language != "en":
        raise DataError(f"the emoji package has no {language!r} name for {key_of(codepoints)}")
    if all(cp in _REGIONAL for cp in codepoints):
        return "flag: " + "".join(chr(ord("A") + cp - _REGIONAL.start) for cp in codepoints)
    parts = [unicodedata.name(chr(cp), f"U+{cp:04X}").lower() for cp in codepoints
             if cp not in _JOINERS and cp not in _TAGS]
    return ", ".join(parts)


def emoji_captions(split: str, language: str = "en") -> np.ndarray:
    """(N, 1) captions of the ``emoji`` split's images, in its row order: each emoji's name in
    ``language`` ("en" or "ko"), e.g. "red apple" / "빨간 사과"."""
    data = emoji_split(load_noto(), split)
    if language == "en":
        names = list(data.names)
    else:
        names = [caption([int(h, 16) for h in key.split("-")], language) for key in data.keys]
    return np.array(names, dtype=object)[:, None].astype(str)


@functools.lru_cache(maxsize=1)
def emojione_index() -> dict[str, dict]:
    """EmojiOne's own index (``config/index.json`` of ruby-gemojione) by key; empty when not installed."""
    root = emojione_root()
    if root is None:
        return {}
    path = root / "config" / "index.json"
    if not path.is_file():
        return {}
    entries = json.loads(path.read_text())
    return {key_of(int(h, 16) for h in e["unicode"].split("-")): e for e in entries.values()}


def category(codepoints) -> int:
    index = emojione_index()
    plain = [cp for cp in codepoints if cp not in _SKIN_TONES]
    # The whole sequence, then without skin tones, then each of its emoji in turn ("man" in
    # "man technologist"): newer emoji than EmojiOne 3 inherit the category of their parts.
    parts = [(cp,) for cp in plain if cp not in _JOINERS and cp not in _TAGS]
    for candidate in (codepoints, plain, *parts):
        entry = index.get(key_of(candidate))
        if entry and entry.get("category") in CATEGORIES:
            return CATEGORIES.index(entry["category"])
    if codepoints and (codepoints[0] in _REGIONAL or 0x1F3F4 == codepoints[0] and any(c in _TAGS for c in codepoints)):
        return CATEGORIES.index("flags")
    return CATEGORIES.index("other")


# --- Noto Color Emoji ------------------------------------------------------------------------
def _missing(what: str, package: str, path) -> DataError:
    return DataError(f"{what} needs the Debian package `{package}` (expected {path}): install it with "
                     f"`sudo apt-get install {package}` (or `make install`).")


def noto_sequences(font_path: Path = NOTO_FONT) -> list[tuple[int, ...]]:
    """One code-point sequence per emoji glyph of the font: single code points and GSUB ligatures."""
    from fontTools.ttLib import TTFont

    font = TTFont(str(font_path), lazy=True)
    cmap = font.getBestCmap()
    glyph_of = {}
    for cp, glyph in cmap.items():
        glyph_of.setdefault(glyph, cp)
    by_glyph: dict[str, set[tuple[int, ...]]] = {}
    for cp, glyph in cmap.items():
        by_glyph.setdefault(glyph, set()).add((cp,))
    for lookup in font["GSUB"].table.LookupList.Lookup:
        for table in lookup.SubTable:
            table = table.ExtSubTable if lookup.LookupType == 7 else table
            for first, ligatures in getattr(table, "ligatures", {}).items():
                for lig in ligatures:
                    parts = [first, *lig.Component]
                    if all(p in glyph_of for p in parts):
                        by_glyph.setdefault(lig.LigGlyph, set()).add(tuple(glyph_of[p] for p in parts))
    known = _known_sequences()
    out = []
    for sequences in by_glyph.values():
        # Private-use code points name glyphs for internal use; a sequence of real ones names the emoji.
        real = sorted(s for s in sequences if not any(cp >= 0xF0000 for cp in s))
        real = [s for s in real if not (len(s) == 1 and (s[0] < 0xA0 or s[0] in _JOINERS or s[0] in _REGIONAL
                                                        or s[0] in _TAGS))]
        # The font also ligates ZWJ sequences with their parts in reverse order (for right-to-left
        # text); the emoji package knows which order is the emoji's.
        real += [_reverse_parts(s) for s in real if 0x200D in s]
        if not real:
            continue
        listed = [s for s in real if key_of(s) in known]
        if listed:
            out.append(known[key_of(listed[0])])
        elif not known:
            # The fully qualified form (with FE0F) when there are several spellings of one glyph.
            out.append(max(real[:len(real) // 2 or 1], key=lambda s: (0xFE0F in s, -len(s))))
    return sorted(set(out))


def _reverse_parts(seq: tuple[int, ...]) -> tuple[int, ...]:
    parts, part = [], []
    for cp in seq:
        if cp == 0x200D:
            parts.append(part)
            part = []
        else:
            part.append(cp)
    parts.append(part)
    return tuple(cp for i, p in enumerate(reversed(parts)) for cp in ([0x200D] if i else []) + p)


@functools.lru_cache(maxsize=1)
def _known_sequences() -> dict[str, tuple[int, ...]]:
    """Key -> fully qualified code points of every emoji the PyPI ``emoji`` package lists (empty without it)."""
    try:
        import emoji as emoji_package
    except ImportError:
        return {}
    out = {}
    for text, entry in emoji_package.EMOJI_DATA.items():
        seq = tuple(map(ord, text))
        key = key_of(seq)
        if entry.get("status", 2) <= 2 and (key not in out or len(seq) > len(out[key])):
            out[key] = seq
    return out


def _render_noto(font_path: Path) -> EmojiSet:
    from PIL import ImageDraw, ImageFont

    from tqdm.auto import tqdm

    font = ImageFont.truetype(str(font_path), 109)  # CBDT strikes exist at this size only
    images, keys, names, cats = [], [], [], []
    seen = set()
    for seq in tqdm(noto_sequences(font_path), desc="rendering Noto Color Emoji (once)", unit="emoji"):
        key = key_of(seq)
        text = "".join(map(chr, seq))
        left, top, right, bottom = font.getbbox(text)
        if key in seen or right - left > 140 or right - left <= 0:  # not one glyph: no ligature for it
            continue
        seen.add(key)
        glyph = Image.new("RGBA", (136, 128), (0, 0, 0, 0))
        ImageDraw.Draw(glyph).text((-left, 0), text, font=font, embedded_color=True)
        square = Image.new("RGBA", (136, 136), (255, 255, 255, 255))
        square.alpha_composite(glyph, (0, 4))
        rgb = square.convert("RGB").resize((NATIVE_SIZE, NATIVE_SIZE), Image.LANCZOS)
        images.append(np.asarray(rgb).transpose(2, 0, 1))
        keys.append(key)
        names.append(caption(seq))
        cats.append(category(seq))
    return EmojiSet(np.stack(images), keys, names, np.asarray(cats, dtype=np.int64), str(font_path))


def _cached(name: str, stamp: str, build) -> EmojiSet:
    """``build()`` once per ``stamp`` (the source files' identity), kept in the data cache."""
    path = cache_root() / "emoji" / f"{name}-v{_CACHE_VERSION}-{hashlib.sha256(stamp.encode()).hexdigest()[:16]}.npz"
    if path.is_file():
        try:
            with np.load(path) as z:
                return EmojiSet(z["images"], list(z["keys"]), list(z["names"]), z["categories"], str(z["source"]))
        except (OSError, ValueError, KeyError):
            pass  # a damaged cache is rebuilt
    data = build()
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_name(f"{path.stem}.{os.getpid()}.tmp.npz")
        np.savez(tmp, images=data.images, keys=np.array(data.keys), names=np.array(data.names),
                 categories=data.categories, source=np.array(data.source))
        os.replace(tmp, path)
    except OSError:
        pass  # a read-only cache only costs time
    return data


def _stamp(*paths: Path) -> str:
    parts = []
    for p in paths:
        st = p.stat()
        parts.append(f"{p}:{st.st_size}:{int(st.st_mtime)}")
    try:
        import emoji as emoji_package
        parts.append(f"emoji={emoji_package.__version__}")
    except ImportError:
        parts.append("emoji=none")
    return "|".join(parts)


@functools.lru_cache(maxsize=4)
def load_noto(size: int = NATIVE_SIZE) -> EmojiSet:
    """Every Noto Color Emoji at ``size`` x ``size`` (rendered at 128 the first time, then cached)."""
    if not NOTO_FONT.is_file():
        raise _missing("the emoji dataset", NOTO_PACKAGE, NOTO_FONT)
    index = emojione_root()
    stamp = _stamp(NOTO_FONT, *([index / "config" / "index.json"] if index else []))
    return _cached("noto", stamp, lambda: _render_noto(NOTO_FONT)).resized(size)


# --- EmojiOne --------------------------------------------------------------------------------
def emojione_root() -> Path | None:
    """The installed gemojione gem directory (``.../gems/gemojione-X.Y.Z``), or None."""
    found = sorted(EMOJIONE_GEMS.glob("gemojione-*")) if EMOJIONE_GEMS.is_dir() else []
    return found[-1] if found else None


def _read_emojione(png_dir: Path) -> EmojiSet:
    images, keys, names, cats = [], [], [], []
    for png in sorted(png_dir.glob("*.png")):
        try:
            seq = tuple(int(h, 16) for h in png.stem.split("-"))
        except ValueError:
            continue  # not named by code points
        with Image.open(png) as im:
            rgba = im.convert("RGBA")
        if rgba.size != (64, 64):
            rgba = rgba.resize((64, 64), Image.LANCZOS)
        white = Image.alpha_composite(Image.new("RGBA", rgba.size, (255, 255, 255, 255)), rgba)
        images.append(np.asarray(white.convert("RGB")).transpose(2, 0, 1))
        keys.append(key_of(seq))
        names.append(caption(seq))
        cats.append(category(seq))
    if not images:
        raise DataError(f"{png_dir} holds no EmojiOne PNGs named by code point; reinstall `{EMOJIONE_PACKAGE}`.")
    return EmojiSet(np.stack(images), keys, names, np.asarray(cats, dtype=np.int64), str(png_dir))


@functools.lru_cache(maxsize=4)
def load_emojione(size: int = 64) -> EmojiSet:
    """Every EmojiOne PNG at ``size`` x ``size`` (stored at 64; other sizes are resized)."""
    root = emojione_root()
    png_dir = root / "assets" / "png" if root else EMOJIONE_GEMS / "gemojione-*" / "assets" / "png"
    if root is None or not png_dir.is_dir():
        raise _missing("the emojione dataset", EMOJIONE_PACKAGE, png_dir)
    return _cached("emojione", _stamp(root / "config" / "index.json"), lambda: _read_emojione(png_dir)).resized(size)


def emoji_split(data: EmojiSet, split: str) -> EmojiSet:
    return data.select(split_rows(data.keys, split))


def paired_emoji(split: str, size: int) -> tuple[EmojiSet, EmojiSet]:
    """(EmojiOne, Noto) of the code points both sets have, row by row, in ``split``."""
    one, noto = load_emojione(size), load_noto(size)
    where = {k: i for i, k in enumerate(noto.keys)}
    rows = [(i, where[k]) for i, k in enumerate(one.keys) if k in where and is_test(k) == (split == "test")]
    a, b = zip(*rows)
    return one.select(a), noto.select(b)


def available() -> dict[str, str | None]:
    """Package name -> None when installed, else what is missing (for ``gankit data``)."""
    return {NOTO_PACKAGE: None if NOTO_FONT.is_file() else str(NOTO_FONT),
            EMOJIONE_PACKAGE: None if emojione_root() else str(EMOJIONE_GEMS / "gemojione-*")}
