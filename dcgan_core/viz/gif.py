"""Raster frames for downloadable GIFs. Numbers only: no CJK text on the server.

Every GIF is scaled up (nearest neighbour, whole multiples) until its long side is at
least MIN_LONG_SIDE pixels, readable on a projector, and each frame carries its
step as digits below the picture ("3/12", or the training step): a user's machine
need not have any particular font for that.
"""

from __future__ import annotations

import io

import numpy as np
from PIL import Image, ImageDraw, ImageFont

RGB = tuple[int, int, int]
WHITE: RGB = (255, 255, 255)
GRID_LINE: RGB = (120, 120, 120)
MIN_LONG_SIDE = 600  # px: a downloaded animation must read on a classroom projector


def grid_image(
    values: np.ndarray | None,
    fill: np.ndarray,
    cell: int = 36,
    number_format: str = "{:g}",
    border: np.ndarray | None = None,
) -> Image.Image:
    """Draw an (H, W) grid: ``fill`` is (H, W, 3) uint8 cell colours, ``values``
    optional numbers written in each cell (NaN = leave blank), ``border`` an
    optional (H, W) bool mask of cells outlined in thick black."""
    h, w = fill.shape[:2]
    image = Image.new("RGB", (w * cell + 1, h * cell + 1), WHITE)
    draw = ImageDraw.Draw(image)
    font = ImageFont.load_default(size=max(10, cell // 3))
    for r in range(h):
        for c in range(w):
            box = (c * cell, r * cell, (c + 1) * cell, (r + 1) * cell)
            draw.rectangle(box, fill=tuple(int(v) for v in fill[r, c]), outline=GRID_LINE)
            if values is not None and np.isfinite(values[r, c]):
                draw.text(
                    ((c + 0.5) * cell, (r + 0.5) * cell),
                    number_format.format(values[r, c]),
                    fill=(0, 0, 0),
                    font=font,
                    anchor="mm",
                )
    if border is not None:
        for r, c in zip(*np.nonzero(border), strict=False):
            draw.rectangle((c * cell, r * cell, (c + 1) * cell, (r + 1) * cell), outline=(0, 0, 0), width=3)
    return image


def side_by_side(images: list[Image.Image], gap: int = 24) -> Image.Image:
    """Place images left to right, top-aligned, on white."""
    width = sum(im.width for im in images) + gap * (len(images) - 1)
    height = max(im.height for im in images)
    canvas = Image.new("RGB", (width, height), WHITE)
    x = 0
    for im in images:
        canvas.paste(im, (x, 0))
        x += im.width + gap
    return canvas


def readable_size(image: Image.Image, min_long_side: int = MIN_LONG_SIDE) -> Image.Image:
    """``image`` scaled up by the smallest whole factor that makes its long side at least ``min_long_side``."""
    factor = -(-min_long_side // max(image.width, image.height))
    if factor <= 1:
        return image
    return image.resize((image.width * factor, image.height * factor), Image.Resampling.NEAREST)


def with_step_label(image: Image.Image, label: str) -> Image.Image:
    """``image`` above a white band that shows ``label`` (digits and / only) in black."""
    band = max(28, round(max(image.width, image.height) * 0.06))
    canvas = Image.new("RGB", (image.width, image.height + band), WHITE)
    canvas.paste(image, (0, 0))
    draw = ImageDraw.Draw(canvas)
    font = ImageFont.load_default(size=int(band * 0.7))
    draw.text((image.width / 2, image.height + band / 2), label, fill=(0, 0, 0), font=font, anchor="mm")
    return canvas


def gif_bytes(
    frames: list[Image.Image],
    duration_ms: int = 600,
    labels: list[str] | None = None,
    min_long_side: int = MIN_LONG_SIDE,
) -> bytes:
    """An endlessly looping GIF; frames are padded to a common size, scaled up to a readable
    size and labelled with their step (``labels``; by default "n/N"; an empty list for none)."""
    if not frames:
        raise ValueError("A GIF needs at least one frame.")
    width = max(f.width for f in frames)
    height = max(f.height for f in frames)
    pictures, durations = [], []
    for f in frames:
        canvas = Image.new("RGB", (width, height), WHITE)
        canvas.paste(f.convert("RGB"), (0, 0))
        if labels is None and pictures and canvas.tobytes() == pictures[-1].tobytes():
            durations[-1] += duration_ms  # the same picture again: one numbered frame, shown longer
            continue
        pictures.append(canvas)
        durations.append(duration_ms)
    if labels is None:
        labels = [f"{n}/{len(pictures)}" for n in range(1, len(pictures) + 1)]
    quantized = []
    for n, canvas in enumerate(pictures):
        canvas = readable_size(canvas, min_long_side)
        if labels:
            canvas = with_step_label(canvas, labels[n])
        quantized.append(canvas.quantize(colors=256, method=Image.Quantize.FASTOCTREE))
    buffer = io.BytesIO()
    quantized[0].save(buffer, format="GIF", save_all=True, append_images=quantized[1:], duration=durations, loop=0)
    return buffer.getvalue()
