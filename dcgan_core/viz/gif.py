"""Raster frames for downloadable GIFs. Numbers only: no CJK text on the server."""
from __future__ import annotations

import io

import numpy as np
from PIL import Image, ImageDraw, ImageFont

RGB = tuple[int, int, int]
WHITE: RGB = (255, 255, 255)
GRID_LINE: RGB = (120, 120, 120)


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
                draw.text(((c + 0.5) * cell, (r + 0.5) * cell), number_format.format(values[r, c]),
                          fill=(0, 0, 0), font=font, anchor="mm")
    if border is not None:
        for r, c in zip(*np.nonzero(border)):
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


def gif_bytes(frames: list[Image.Image], duration_ms: int = 600) -> bytes:
    """An endlessly looping GIF; frames are padded to a common size."""
    if not frames:
        raise ValueError("A GIF needs at least one frame.")
    width = max(f.width for f in frames)
    height = max(f.height for f in frames)
    padded = []
    for f in frames:
        canvas = Image.new("RGB", (width, height), WHITE)
        canvas.paste(f, (0, 0))
        padded.append(canvas.quantize(colors=256, method=Image.Quantize.FASTOCTREE))
    buffer = io.BytesIO()
    padded[0].save(buffer, format="GIF", save_all=True, append_images=padded[1:], duration=duration_ms, loop=0)
    return buffer.getvalue()
