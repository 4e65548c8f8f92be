"""Figures for checkerboard artifacts (Odena, Dumoulin & Olah, Distill 2016).

A stride-s transposed convolution paints one k-wide stamp per input unit, s
units apart. ``stamp_counts`` adds those stamps up literally (plain numpy, no
PyTorch): the reference that ``dcgan_core.checkerboard.overlap_counts`` (which
runs conv_transpose in PyTorch) is checked against. The rest turns counts and
upsampled images into Plotly figures and GIF bytes; text comes in as arguments.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import plotly.graph_objects as go

from dcgan_core.arithmetic import conv_transpose_output_size
from dcgan_core.viz.gif import gif_bytes, grid_image
from dcgan_core.viz.sliding import ANIMATION_CONTROLS_PX, animation_controls

COUNT_COLORSCALE = [[0, "#eef1f4"], [0.25, "#c7e9b4"], [0.5, "#7fcdbb"], [0.75, "#2c7fb8"], [1, "#253494"]]
STAMP_COLOR = "#d62728"


def stamp_counts(k: int, s: int, input_size: int = 8, layers: int = 1, dims: int = 2) -> np.ndarray:
    """How many stamps cover each output unit, by painting every stamp: an
    all-ones input through ``layers`` transposed convolutions (all-ones k-kernel,
    stride s, no padding). Uncropped: shape ((n − 1)s + k,)·dims per layer."""
    values = np.ones((input_size,) * dims, dtype=np.int64)
    for _ in range(layers):
        values = _paint(values, k, s)
    return values


def _paint(values: np.ndarray, k: int, s: int) -> np.ndarray:
    out = np.zeros(((values.shape[0] - 1) * s + k,) * values.ndim, dtype=values.dtype)
    for unit in np.ndindex(values.shape):
        out[tuple(slice(j * s, j * s + k) for j in unit)] += values[unit]
    return out


def centre_crop(counts: np.ndarray, shape: tuple[int, ...]) -> np.ndarray:
    """The middle ``shape`` part of ``counts`` (equal margins on each side)."""
    margins = [(full - part) // 2 for full, part in zip(counts.shape, shape, strict=False)]
    return counts[tuple(slice(m, m + part) for m, part in zip(margins, shape, strict=False))]


def pattern_period(counts_1d: np.ndarray) -> int:
    """The shortest period with which a 1-D count pattern repeats (its length if none)."""
    counts_1d = np.asarray(counts_1d)
    for period in range(1, len(counts_1d)):
        if np.array_equal(counts_1d[:-period], counts_1d[period:]):
            return period
    return len(counts_1d)


def stamp_buildup(k: int, s: int, input_size: int, dims: int = 2) -> list[tuple[tuple[int, ...], np.ndarray]]:
    """One layer painted one input unit at a time (row-major): for each unit, its
    index and the counts after its stamp was added."""
    out = np.zeros(((input_size - 1) * s + k,) * dims, dtype=np.int64)
    steps = []
    for unit in np.ndindex((input_size,) * dims):
        out[tuple(slice(j * s, j * s + k) for j in unit)] += 1
        steps.append((unit, out.copy()))
    return steps


def synthetic_picture(size: int = 32) -> np.ndarray:
    """A smooth test picture in [0.1, 1]: a soft diagonal gradient with two round
    blobs — nothing in it has the period of a stride, so any grid is an artifact."""
    y, x = np.mgrid[0:size, 0:size] / max(size - 1, 1)
    picture = 0.35 + 0.25 * (x + y) / 2
    picture += 0.5 * np.exp(-(((x - 0.35) ** 2 + (y - 0.4) ** 2) / 0.03))
    picture -= 0.25 * np.exp(-(((x - 0.72) ** 2 + (y - 0.68) ** 2) / 0.02))
    return np.clip(picture, 0.1, 1.0)


def deconv_layer_args(k: int, s: int) -> dict[str, int]:
    """padding / output_padding with which nn.ConvTranspose2d(k, stride=s) maps H to
    s·H (stamps centred on their s × s block, as in checkerboard.deconv_upsample);
    where PyTorch allows no such output_padding (s = 1, even k) the output is H + 1."""
    if k >= s:
        padding = math.ceil((k - s) / 2)
        output_padding = 2 * padding - (k - s)
    else:
        padding, output_padding = 0, s - k
    if output_padding >= s:  # PyTorch: output_padding must be smaller than the stride (dilation is 1)
        output_padding = 0
    return dict(kernel_size=k, stride=s, padding=padding, output_padding=output_padding)


def upsampling_code(k: int, s: int, size: int = 16) -> str:
    """Both upsampling routes as nn layers, with the shapes for a size × size input."""
    args = deconv_layer_args(k, s)
    deconv_out = conv_transpose_output_size(size, k, s, args["padding"], 1, args["output_padding"])
    return "\n".join(
        [
            "import torch",
            "from torch import nn",
            "",
            "C = 64",
            f"x = torch.randn(1, C, {size}, {size})",
            "",
            '# 1. transposed convolution ("deconvolution")',
            f"deconv = nn.ConvTranspose2d(C, C, kernel_size={k}, stride={s}, padding={args['padding']}, "
            f"output_padding={args['output_padding']})",
            f"deconv(x).shape  # torch.Size([1, 64, {deconv_out}, {deconv_out}])",
            "",
            "# 2. resize, then convolve (Odena, Dumoulin & Olah 2016)",
            "resize_conv = nn.Sequential(",
            f'    nn.Upsample(scale_factor={s}, mode="nearest"),',
            f'    nn.Conv2d(C, C, kernel_size={k}, padding="same", padding_mode="replicate"),',
            ")",
            f"resize_conv(x).shape  # torch.Size([1, 64, {size * s}, {size * s}])",
        ]
    )


def pytorch_resize_conv(image: np.ndarray, scale: int, k: int, mode: str = "nearest") -> np.ndarray:
    """Resize-convolution done with nn.Upsample and nn.Conv2d (mean k × k kernel,
    'same' replicate padding): the PyTorch reference for checkerboard.resize_conv_upsample."""
    import torch  # lazily: the figures of this module need no torch, only this reference does
    from torch import nn

    conv = nn.Conv2d(1, 1, kernel_size=k, padding="same", padding_mode="replicate", bias=False).double()
    with torch.no_grad():
        conv.weight.fill_(1.0 / (k * k))
        model = nn.Sequential(nn.Upsample(scale_factor=scale, mode=mode), conv)
        x = torch.as_tensor(np.asarray(image, dtype=np.float64))[None, None]
        return model(x)[0, 0].numpy()


# ---------------------------------------------------------------- Plotly figures


@dataclass(frozen=True)
class OverlapLabels:
    title: str = ""
    position: str = "output unit"
    count: str = "stamps"
    play: str = "▶"
    pause: str = "❚❚"
    step: str = "step"


def overlap_figure(counts: np.ndarray, labels: OverlapLabels = OverlapLabels()) -> go.Figure:
    """Counts per output unit: an annotated heatmap (2-D) or a bar chart (1-D)."""
    counts = np.asarray(counts)
    high = int(counts.max())
    if counts.ndim == 1:
        fig = go.Figure(
            go.Bar(
                x=np.arange(len(counts)),
                y=counts,
                text=counts,
                textposition="outside",
                marker=dict(color=counts, colorscale=COUNT_COLORSCALE, cmin=0, cmax=max(high, 1)),
                hovertemplate=f"{labels.position} %{{x}}<br>{labels.count}: %{{y}}<extra></extra>",
            )
        )
        fig.update_layout(
            height=320,
            yaxis=dict(title=labels.count, range=[0, high * 1.25 + 0.5]),
            xaxis=dict(title=labels.position, dtick=1 if len(counts) <= 40 else None),
        )
    else:
        n = counts.shape[0]
        fig = go.Figure(
            go.Heatmap(
                z=counts,
                zmin=0,
                zmax=max(high, 1),
                colorscale=COUNT_COLORSCALE,
                xgap=1,
                ygap=1,
                texttemplate="%{z}" if n <= 40 else None,
                textfont=dict(size=12 if n <= 20 else 9),
                showscale=False,  # every cell carries its number
                hovertemplate=f"{labels.position} [%{{y}}, %{{x}}]<br>{labels.count}: %{{z}}<extra></extra>",
            )
        )
        fig.update_layout(
            height=int(min(680, max(360, 34 * n + 80))),
            yaxis=dict(autorange="reversed", scaleanchor="x", constrain="domain", visible=False),
            xaxis=dict(constrain="domain", visible=False),
        )
    fig.update_layout(
        title=dict(text=labels.title, x=0.5, xanchor="center") if labels.title else None,
        margin=dict(l=10, r=10, t=40 if labels.title else 10, b=10),
        plot_bgcolor="rgba(0,0,0,0)",
    )
    return fig


def _stamp_outline(unit: tuple[int, ...], k: int, s: int) -> tuple[list, list]:
    if len(unit) == 1:
        left = unit[0] * s - 0.5
        return [left, left + k, left + k, left, left], [0, 0, 1, 1, 0]
    top, left = unit[0] * s - 0.5, unit[1] * s - 0.5
    return [left, left + k, left + k, left, left], [top, top, top + k, top + k, top]


def buildup_figure(
    k: int, s: int, input_size: int, dims: int = 2, labels: OverlapLabels = OverlapLabels(), frame_ms: int = 500
) -> go.Figure:
    """The stamps of one layer added one input unit at a time, as Plotly frames;
    the newest stamp is outlined in red."""
    steps = stamp_buildup(k, s, input_size, dims)
    final = steps[-1][1]
    top = int(final.max())

    def traces(unit, counts):
        xs, ys = _stamp_outline(unit, k, s)
        if dims == 1:
            bar = dict(
                type="bar",
                x=list(range(len(counts))),
                y=counts.tolist(),
                text=[str(c) if c else "" for c in counts.tolist()],
                textposition="outside",
            )
            return [bar, dict(type="scatter", x=xs, y=[v * (top + 0.5) for v in ys])]
        z = np.where(counts > 0, counts, None).tolist()  # no cell (the grey background) until a stamp lands
        return [dict(type="heatmap", z=z), dict(type="scatter", x=xs, y=ys)]

    first = traces(*steps[0])
    if dims == 1:
        base = go.Bar(first[0] | dict(marker=dict(color="#4f8fd1"), hoverinfo="skip"))
    else:
        base = go.Heatmap(
            first[0]
            | dict(
                zmin=0,
                zmax=max(top, 1),
                colorscale=COUNT_COLORSCALE,
                xgap=1,
                ygap=1,
                texttemplate="%{z}",
                showscale=False,
                hoverinfo="skip",
            )
        )
    outline = go.Scatter(first[1] | dict(mode="lines", line=dict(color=STAMP_COLOR, width=3), hoverinfo="skip"))
    fig = go.Figure([base, outline])
    fig.frames = [
        go.Frame(name=str(n), data=traces(unit, counts), traces=[0, 1]) for n, (unit, counts) in enumerate(steps)
    ]
    n_out = final.shape[0]
    if dims == 1:
        fig.update_layout(
            height=440,
            yaxis=dict(range=[0, top + 1], title=labels.count),
            xaxis=dict(range=[-0.7, n_out - 0.3], dtick=1 if n_out <= 40 else None, title=labels.position),
        )
    else:
        fig.update_layout(
            height=int(min(720, max(400, 30 * n_out + 180))),
            yaxis=dict(
                autorange="reversed", scaleanchor="x", visible=False, constrain="domain", range=[n_out - 0.5, -0.5]
            ),
            xaxis=dict(visible=False, range=[-0.5, n_out - 0.5], constrain="domain"),
        )
        fig.add_shape(
            type="rect",
            x0=-0.5,
            y0=-0.5,
            x1=n_out - 0.5,
            y1=n_out - 0.5,
            fillcolor="#eef1f4",
            line=dict(width=0),
            layer="below",
        )
    fig.update_layout(
        showlegend=False,
        margin=dict(l=10, r=10, t=30, b=ANIMATION_CONTROLS_PX),
        plot_bgcolor="rgba(0,0,0,0)",
        **animation_controls(
            [f"{n + 1}/{len(steps)}" for n in range(len(steps))], labels.play, labels.pause, labels.step, frame_ms
        ),
    )
    return fig


def grey_tiles(rows: list[list[np.ndarray]], display_px: int = 288) -> list[list[np.ndarray]]:
    """Images as uint8 grey tiles about display_px wide, enlarged by whole
    pixels (nearest) so a one-pixel grid stays sharp. Each row shares one grey
    scale from its darkest to its brightest value, so a faint pattern in one
    image is not hidden by the others' range; a perfectly flat row is mid-grey."""
    tiles = []
    for images in rows:
        low = min(float(im.min()) for im in images)
        high = max(float(im.max()) for im in images)
        span = high - low
        row = []
        for image in images:
            grey = np.full(image.shape, 128.0) if span < 1e-9 else (image - low) / span * 255
            factor = max(1, display_px // image.shape[0])
            row.append(np.kron(np.round(grey).astype(np.uint8), np.ones((factor, factor), dtype=np.uint8)))
        tiles.append(row)
    return tiles


# ---------------------------------------------------------------- GIF


def _count_colours(counts: np.ndarray, top: int) -> np.ndarray:
    """White (0) to a mid blue (top), as (H, W, 3) uint8."""
    t = np.clip(counts / max(top, 1), 0, 1)[..., None]
    white, blue = np.array([255, 255, 255]), np.array([86, 150, 226])  # light enough for black numbers
    return (white + t * (blue - white)).astype(np.uint8)


def overlap_gif(
    k: int, s: int, input_size: int, dims: int = 2, cell: int | None = None, duration_ms: int = 450
) -> bytes:
    """Stamps accumulating one input unit at a time, numbers in each cell.
    2-D: the count grid, newest stamp outlined. 1-D: one row per stamp (as in
    the Distill article's figure), the counts in the bottom row."""
    steps = stamp_buildup(k, s, input_size, dims)
    top = int(steps[-1][1].max())
    n_out = steps[-1][1].shape[0]
    if cell is None:
        cell = max(16, min(36, 400 // n_out))
    frames = []
    if dims == 2:
        for unit, counts in steps:
            border = np.zeros_like(counts, dtype=bool)
            border[unit[0] * s : unit[0] * s + k, unit[1] * s : unit[1] * s + k] = True
            shown = np.where(counts > 0, counts, np.nan)
            frames.append(
                grid_image(shown, _count_colours(counts, top), cell=cell, number_format="{:.0f}", border=border)
            )
    else:
        rows = len(steps) + 1
        for n, (_, counts) in enumerate(steps):
            fill = np.full((rows, n_out, 3), 255, dtype=np.uint8)
            values = np.full((rows, n_out), np.nan)
            for m, (earlier, _) in enumerate(steps[: n + 1]):
                fill[m, earlier[0] * s : earlier[0] * s + k] = (79, 143, 209) if m < n else (214, 39, 40)
            fill[-1] = _count_colours(counts, top)
            values[-1] = np.where(counts > 0, counts, np.nan)
            frames.append(grid_image(values, fill, cell=cell, number_format="{:.0f}"))
    return gif_bytes(frames, duration_ms=duration_ms)
