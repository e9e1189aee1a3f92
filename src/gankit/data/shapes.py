"""``shapes``: captioned images whose every attribute can be read back exactly.

Each image shows one or two flat shapes on black: a circle, square, triangle, star or cross, in
one of six colours, small or large; two shapes sit side by side or one above the other. Every
image has several captions from templates with paraphrases, in English and Korean
("a small red circle above a large blue square", "큰 파란 사각형 위에 있는 작은 빨간 원").

Because the images are drawn without antialiasing from a fixed palette, :func:`read_shapes`
parses any image back into its attributes (count, colour, shape and size of each object, and
their relation): exactly on real images, and as a judge of generated ones (caption accuracy,
:mod:`gankit.metrics.captions`).

To test composition, five (colour, shape) pairs never occur in the training split ("green
star", ...: :data:`HELD_OUT_PAIRS`). The test split has 5,000 images of seen combinations and
5,000 that contain a held-out pair (``extra["novel"] == 1``).

Attributes are stored canonically: with two objects, object 0 is the left one (``axis`` 0) or
the upper one (``axis`` 1); a caption may name either first ("... left of ..." or "... right of ...").
"""

from __future__ import annotations

import functools
import random
from dataclasses import dataclass

import numpy as np
from PIL import Image, ImageDraw

from .errors import DataError
from .imageset import ImageSet, check_split

COLOURS = ("red", "green", "blue", "yellow", "purple", "white")
PALETTE = np.array([(255, 0, 0), (0, 200, 0), (40, 90, 255), (255, 225, 0), (170, 0, 255), (255, 255, 255)],
                   dtype=np.uint8)
SHAPES = ("circle", "square", "triangle", "star", "cross")
SIZES = ("small", "large")
AXES = ("horizontal", "vertical")  # object 0 left of object 1; object 0 above object 1
HELD_OUT_PAIRS = (("green", "star"), ("red", "triangle"), ("blue", "cross"), ("yellow", "circle"),
                  ("purple", "square"))
SHAPES_SIZES = {"train": 40_000, "test": 10_000}
SHAPES_SEEDS = {"train": 0, "test": 1}
CAPTIONS_PER_IMAGE = 4
LANGUAGES = ("en", "ko")
RESOLUTIONS = (32, 64)
# Object sides in pixels at 32x32 (scaled with the resolution), and the reader's boundary between them.
SIDE = {"small": 9, "large": 15}
# Attribute columns of ``extra["attributes"]``; -1 where a second object is absent.
FIELDS = ("count", "colour0", "shape0", "size0", "colour1", "shape1", "size1", "axis")

KOREAN = {
    "red": "빨간", "green": "초록", "blue": "파란", "yellow": "노란", "purple": "보라", "white": "흰",
    "circle": "원", "square": "사각형", "triangle": "삼각형", "star": "별", "cross": "십자가",
    "small": "작은", "large": "큰",
}
SYNONYMS = {"small": ("small", "little"), "large": ("large", "big")}
# How to say "first ... second" for each axis, naming object 0 first or object 1 first.
RELATIONS_EN = {(0, False): ("left of", "to the left of"), (0, True): ("right of", "to the right of"),
                (1, False): ("above", "over"), (1, True): ("below", "under")}
RELATIONS_KO = {(0, False): "왼쪽에 있는", (0, True): "오른쪽에 있는", (1, False): "위에 있는", (1, True): "아래에 있는"}


@dataclass(frozen=True)
class ShapeObject:
    colour: int
    shape: int
    size: int


def _polygon(shape: str, x0: float, y0: float, side: float) -> list[tuple[float, float]] | None:
    """The outline of a shape in the box (x0, y0, side); None for the circle (an ellipse)."""
    if shape == "square":
        return [(x0, y0), (x0 + side - 1, y0), (x0 + side - 1, y0 + side - 1), (x0, y0 + side - 1)]
    if shape == "triangle":
        return [(x0 + (side - 1) / 2, y0), (x0 + side - 1, y0 + side - 1), (x0, y0 + side - 1)]
    cx, cy, r = x0 + (side - 1) / 2, y0 + (side - 1) / 2, (side - 1) / 2
    if shape == "star":  # five points, inner radius 0.45 of the outer
        angles = np.pi / 2 + np.arange(10) * np.pi / 5
        radii = np.where(np.arange(10) % 2 == 0, r, 0.45 * r)
        return [(cx + q * np.cos(a), cy - q * np.sin(a)) for a, q in zip(angles, radii)]
    if shape == "cross":  # a plus sign with arms one third of the side wide
        t = side / 6
        return [(cx - t, y0), (cx + t, y0), (cx + t, cy - t), (x0 + side - 1, cy - t), (x0 + side - 1, cy + t),
                (cx + t, cy + t), (cx + t, y0 + side - 1), (cx - t, y0 + side - 1), (cx - t, cy + t),
                (x0, cy + t), (x0, cy - t), (cx - t, cy - t)]
    return None


def draw_object(draw: ImageDraw.ImageDraw, obj: ShapeObject, x0: int, y0: int, side: int) -> None:
    colour = tuple(int(v) for v in PALETTE[obj.colour])
    outline = _polygon(SHAPES[obj.shape], x0, y0, side)
    if outline is None:
        draw.ellipse([x0, y0, x0 + side - 1, y0 + side - 1], fill=colour)
    else:
        draw.polygon(outline, fill=colour)


def side_of(size: int, resolution: int) -> int:
    return SIDE[SIZES[size]] * resolution // 32


def render(objects: list[ShapeObject], axis: int, offsets: np.ndarray, resolution: int) -> np.ndarray:
    """One image (3, R, R) uint8: one object in the centre region, or two in the two halves along
    ``axis``, each shifted by its ``offsets`` row (fractions in [0, 1) of the free room)."""
    image = Image.new("RGB", (resolution, resolution))
    draw = ImageDraw.Draw(image)
    half = resolution // 2
    for i, obj in enumerate(objects):
        side = side_of(obj.size, resolution)
        if len(objects) == 1:
            box = (0, 0, resolution, resolution)
        elif axis == 0:  # object 0 in the left half, object 1 in the right; both near the middle row
            box = (i * half, resolution // 4, half, half)
        else:
            box = (resolution // 4, i * half, half, half)
        bx, by, bw, bh = box
        x0 = bx + int(offsets[i, 0] * (bw - side + 1))
        y0 = by + int(offsets[i, 1] * (bh - side + 1))
        draw_object(draw, obj, x0, y0, side)
    return np.asarray(image).transpose(2, 0, 1)


def draw_attributes(rng: random.Random, novel: bool) -> np.ndarray:
    """One row of :data:`FIELDS`: without any held-out pair (``novel`` False), or with at least one."""
    while True:
        count = rng.randint(1, 2)
        colours = rng.sample(range(len(COLOURS)), count)  # two objects never share a colour
        shapes = [rng.randrange(len(SHAPES)) for _ in range(count)]
        sizes = [rng.randrange(len(SIZES)) for _ in range(count)]
        held = [(COLOURS[c], SHAPES[s]) in HELD_OUT_PAIRS for c, s in zip(colours, shapes)]
        if any(held) == novel:
            break
    row = np.full(len(FIELDS), -1, dtype=np.int64)
    row[0] = count
    for i in range(count):
        row[1 + 3 * i:4 + 3 * i] = colours[i], shapes[i], sizes[i]
    if count == 2:
        row[7] = rng.randrange(2)
    return row


def objects_of(row: np.ndarray) -> list[ShapeObject]:
    return [ShapeObject(int(row[1 + 3 * i]), int(row[2 + 3 * i]), int(row[3 + 3 * i])) for i in range(int(row[0]))]


def _phrase_en(obj: ShapeObject, rng: random.Random, article: bool = True) -> str:
    size = rng.choice(SYNONYMS[SIZES[obj.size]])
    words = f"{size} {COLOURS[obj.colour]} {SHAPES[obj.shape]}"
    return f"a {words}" if article else words


def _phrase_ko(obj: ShapeObject, rng: random.Random) -> str:
    words = [KOREAN[SIZES[obj.size]], KOREAN[COLOURS[obj.colour]]]
    if rng.random() < 0.5:
        words.reverse()
    return f"{words[0]} {words[1]} {KOREAN[SHAPES[obj.shape]]}"


def caption(row: np.ndarray, language: str, rng: random.Random) -> str:
    """One caption of an attribute row, a paraphrase chosen by ``rng``."""
    objects = objects_of(row)
    if language == "en":
        if len(objects) == 1:
            return _phrase_en(objects[0], rng, article=rng.random() < 0.5)
        flip = rng.random() < 0.5  # name object 1 first, with the inverse relation
        first, second = (objects[1], objects[0]) if flip else (objects[0], objects[1])
        relation = rng.choice(RELATIONS_EN[(int(row[7]), flip)])
        return f"{_phrase_en(first, rng)} {relation} {_phrase_en(second, rng)}"
    if language == "ko":
        if len(objects) == 1:
            return _phrase_ko(objects[0], rng)
        flip = rng.random() < 0.5
        first, second = (objects[1], objects[0]) if flip else (objects[0], objects[1])
        # Korean puts the landmark first: "[second] [relation] [first]" = "the first, which is <relation> the second".
        return f"{_phrase_ko(second, rng)} {RELATIONS_KO[(int(row[7]), flip)]} {_phrase_ko(first, rng)}"
    raise DataError(f"shapes captions exist in {', '.join(LANGUAGES)}, not {language!r}")


@functools.lru_cache(maxsize=4)
def _build(split: str, resolution: int) -> tuple[np.ndarray, np.ndarray, np.ndarray, dict[str, np.ndarray]]:
    # Python's generator for the many small draws (fast, and the same on every platform), NumPy's for the offsets.
    rng = random.Random(SHAPES_SEEDS[split])
    n = SHAPES_SIZES[split]
    novel = np.zeros(n, dtype=np.uint8) if split == "train" else (np.arange(n) >= n // 2).astype(np.uint8)
    rows = np.stack([draw_attributes(rng, bool(flag)) for flag in novel])
    offsets = np.random.default_rng(SHAPES_SEEDS[split]).random((n, 2, 2))
    x = np.stack([render(objects_of(row), int(row[7]), off, resolution) for row, off in zip(rows, offsets)])
    captions = {}
    for language in LANGUAGES:
        text_rng = random.Random(100 * SHAPES_SEEDS[split] + LANGUAGES.index(language) + 1)
        captions[language] = np.array([[caption(row, language, text_rng) for _ in range(CAPTIONS_PER_IMAGE)]
                                       for row in rows])
    return x, rows, novel, captions


def load_shapes(split: str, size: int | None = None) -> ImageSet:
    """The ``shapes`` split at 32x32 (default) or 64x64, drawn deterministically.

    ``y`` is the shape of object 0; ``extra["attributes"]`` the rows of :data:`FIELDS`,
    ``extra["novel"]`` whether an image has a held-out pair. The captions (not served in batches:
    they are text) are :func:`shapes_captions`.
    """
    check_split(split)
    size = size or RESOLUTIONS[0]
    if size not in RESOLUTIONS:
        raise DataError(f"shapes are drawn at {' or '.join(map(str, RESOLUTIONS))} pixels, not {size} "
                        f"(set data.size to one of them)")
    x, rows, novel, _ = _build(split, size)
    return ImageSet("shapes", x, rows[:, 2].copy(), len(SHAPES), "generated", list(SHAPES),
                    extra={"attributes": rows, "novel": novel})


def shapes_captions(split: str, language: str = "en") -> np.ndarray:
    """(N, CAPTIONS_PER_IMAGE) captions of the split's images, in ``language`` ("en" or "ko")."""
    check_split(split)
    if language not in LANGUAGES:
        raise DataError(f"shapes captions exist in {', '.join(LANGUAGES)}, not {language!r}")
    return _build(split, RESOLUTIONS[0])[3][language]


def swapped(rows: np.ndarray) -> np.ndarray:
    """Attribute rows (..., 8) of the same two objects in each other's places (one object: unchanged)."""
    two = rows[..., :1] == 2
    return np.where(two, rows[..., [0, 4, 5, 6, 1, 2, 3, 7]], rows)


@functools.lru_cache(maxsize=4)
def shapes_swapped_captions(split: str, language: str = "en") -> np.ndarray:
    """(N, CAPTIONS_PER_IMAGE) captions of the split's two-object images with the objects in each
    other's places ("a blue square above a red circle" for "a red circle above a blue square"), ""
    for one-object images: captions that share every word with a true one and describe another
    image. A caption encoder trained to tell them apart must read the relation's direction
    (NegCLIP's swapped-phrase negatives, Yuksekgonul et al. 2023)."""
    check_split(split)
    if language not in LANGUAGES:
        raise DataError(f"shapes captions exist in {', '.join(LANGUAGES)}, not {language!r}")
    rows = _build(split, RESOLUTIONS[0])[1]
    rng = random.Random(1000 + 100 * SHAPES_SEEDS[split] + LANGUAGES.index(language))
    return np.array([[caption(swapped(row), language, rng) if row[0] == 2 else "" for _ in range(CAPTIONS_PER_IMAGE)]
                     for row in rows])


# --- the reader -------------------------------------------------------------------------------
TEMPLATE_SIDE = 12


@functools.lru_cache(maxsize=1)
def _templates() -> np.ndarray:
    """Each shape's mask drawn large, cropped to its extent and resized to TEMPLATE_SIDE square."""
    out = []
    for shape in range(len(SHAPES)):
        image = Image.new("L", (64, 64))
        outline = _polygon(SHAPES[shape], 2, 2, 60)
        draw = ImageDraw.Draw(image)
        if outline is None:
            draw.ellipse([2, 2, 61, 61], fill=255)
        else:
            draw.polygon(outline, fill=255)
        out.append(_normalised(np.asarray(image) > 0))
    return np.stack(out)


def _normalised(mask: np.ndarray) -> np.ndarray:
    ys, xs = np.nonzero(mask)
    crop = mask[ys.min():ys.max() + 1, xs.min():xs.max() + 1].astype(np.uint8) * 255
    resized = Image.fromarray(crop).resize((TEMPLATE_SIDE, TEMPLATE_SIDE), Image.BILINEAR)
    return np.asarray(resized, dtype=np.float32) / 255.0


def classify_pixels(image: np.ndarray) -> np.ndarray:
    """(H, W) index of the nearest palette colour per pixel, -1 for the background (nearest to black)."""
    pixels = image.transpose(1, 2, 0).astype(np.float32)
    palette = np.concatenate([np.zeros((1, 3), np.float32), PALETTE.astype(np.float32)])
    distance = ((pixels[:, :, None, :] - palette[None, None]) ** 2).sum(-1)
    return distance.argmin(-1) - 1


def _largest_component(mask: np.ndarray) -> np.ndarray:
    from scipy import ndimage
    labels, count = ndimage.label(mask)
    if count <= 1:
        return mask
    areas = ndimage.sum(mask, labels, range(1, count + 1))
    return labels == (1 + int(np.argmax(areas)))


def read_shapes(image: np.ndarray, min_area: float | None = None) -> np.ndarray:
    """Parse one image (3, R, R) uint8 into a row of :data:`FIELDS`.

    Pixels are assigned to the nearest palette colour; each colour with at least ``min_area``
    pixels (default: a quarter of a small star's) is an object (its largest connected part). At
    most the two largest objects are read. An object's shape is the template with the highest
    overlap after cropping and resizing; its size is large when its bounding box is longer than
    the midpoint of the two sides; two objects' axis is the one along which their centres differ most.
    """
    resolution = image.shape[-1]
    classes = classify_pixels(image)
    if min_area is None:
        min_area = 0.25 * 0.3 * side_of(0, resolution) ** 2
    found = []
    for colour in range(len(COLOURS)):
        mask = classes == colour
        if mask.sum() < min_area:
            continue
        mask = _largest_component(mask)
        found.append((int(mask.sum()), colour, mask))
    found = sorted(found, key=lambda item: -item[0])[:2]
    row = np.full(len(FIELDS), -1, dtype=np.int64)
    row[0] = len(found)
    if not found:
        return row
    boundary = (side_of(0, resolution) + side_of(1, resolution)) / 2
    objects = []
    for _, colour, mask in found:
        ys, xs = np.nonzero(mask)
        extent = max(ys.max() - ys.min(), xs.max() - xs.min()) + 1
        normal = _normalised(mask)
        templates = _templates()
        overlap = np.minimum(templates, normal).sum((1, 2)) / np.maximum(templates, normal).sum((1, 2))
        objects.append(((xs.mean(), ys.mean()), colour, int(np.argmax(overlap)), int(extent > boundary)))
    if len(objects) == 2:
        (xa, ya), (xb, yb) = objects[0][0], objects[1][0]
        axis = 0 if abs(xa - xb) >= abs(ya - yb) else 1
        if (xa, ya)[axis] > (xb, yb)[axis]:
            objects.reverse()
        row[7] = axis
    for i, (_, colour, shape, size) in enumerate(objects):
        row[1 + 3 * i:4 + 3 * i] = colour, shape, size
    return row
