"""A sample grid with one caption per row, written beside the row (text-to-image samples)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import torch
from PIL import Image, ImageDraw, ImageFont

from .grid import enlarge, grid_array

FONT_FILES = ("/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf",)
TEXT_SIZE = 14


def label_font() -> ImageFont.ImageFont:
    for path in FONT_FILES:
        if Path(path).exists():
            return ImageFont.truetype(path, TEXT_SIZE)
    return ImageFont.load_default()


def drawable(text: str) -> bool:
    """Whether the label font has the caption's letters: DejaVu has Latin, Greek and Cyrillic, no Hangul."""
    return all(ord(ch) < 0x0530 for ch in text)


def save_captioned_grid(images: torch.Tensor | np.ndarray, captions: list[str], path: str | Path) -> Path:
    """``len(captions)`` rows of ``len(images) // len(captions)`` samples, each row's caption at its left.

    A caption the font cannot draw (Korean with no Hangul font installed) is labelled by its number,
    ``[1]``, which the caller prints beside the caption.
    """
    per_row = len(images) // len(captions)
    grid = enlarge(grid_array(images, per_row), max(1, 64 // int(images.shape[-1])))
    if grid.ndim == 2:
        grid = np.repeat(grid[:, :, None], 3, axis=2)
    font = label_font()
    labels = [text if drawable(text) else f"[{i + 1}]" for i, text in enumerate(captions)]
    margin = 8 + max(int(font.getlength(label)) for label in labels)
    canvas = Image.new("RGB", (margin + grid.shape[1], grid.shape[0]), "white")
    canvas.paste(Image.fromarray(grid), (margin, 0))
    draw = ImageDraw.Draw(canvas)
    row_height = grid.shape[0] / len(captions)
    for i, label in enumerate(labels):
        draw.text((4, (i + 0.5) * row_height), label, fill="black", font=font, anchor="lm")
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    canvas.save(path)
    return path
