"""Pictures for the latent-space lessons: tile mosaics, a clickable sample grid,
norm plots and walk GIFs. Pure functions: arrays, Plotly figures, bytes."""

from __future__ import annotations

import math

import numpy as np
import plotly.graph_objects as go
import torch
from PIL import Image

from dcgan_core.viz.gif import gif_bytes

BACKGROUND = 128  # grey gaps between tiles, visible against black and white digits
GROUP_COLOURS = {
    "A": "#e4572e",
    "B": "#2e86de",
    "C": "#17a34a",
    "path": "#f59f00",
    "corner": "#9b5de5",
    "sweep": "#e83e8c",
}


def to_uint8(images) -> np.ndarray:
    """(N, C, H, W) images in [-1, 1] → (N, H, W, 3) uint8 (grey repeated to RGB)."""
    x = torch.as_tensor(images).detach().float().cpu()
    if x.dim() == 3:
        x = x[:, None]
    x = ((x.clamp(-1, 1) + 1) * 127.5).round().to(torch.uint8)
    if x.shape[1] == 1:
        x = x.expand(-1, 3, -1, -1)
    return x.permute(0, 2, 3, 1).contiguous().numpy()


def mosaic(images, ncols: int, padding: int = 2, scale: int = 1, frames: dict[int, str] | None = None) -> np.ndarray:
    """Tiles in a grid, row-major, with ``padding`` grey pixels around each; every
    pixel repeated ``scale`` times (nearest neighbour) so small digits stay sharp.
    ``frames`` colours the padding around some tiles: {tile index: '#rrggbb'}."""
    tiles = to_uint8(images)
    n, h, w, _ = tiles.shape
    ncols = max(1, min(ncols, n))
    nrows = math.ceil(n / ncols)
    out = np.full((nrows * (h + padding) + padding, ncols * (w + padding) + padding, 3), BACKGROUND, np.uint8)
    for i, tile in enumerate(tiles):
        r, c = divmod(i, ncols)
        top, left = padding + r * (h + padding), padding + c * (w + padding)
        if frames and i in frames:
            colour = [int(frames[i][k : k + 2], 16) for k in (1, 3, 5)]
            out[top - padding : top + h + padding, left - padding : left + w + padding] = colour
        out[top : top + h, left : left + w] = tile
    if scale > 1:
        out = out.repeat(scale, axis=0).repeat(scale, axis=1)
    return out


def tile_centres(n: int, ncols: int, tile: int, padding: int = 2) -> tuple[np.ndarray, np.ndarray]:
    """x and y pixel coordinates of each tile's centre in a ``mosaic``."""
    index = np.arange(n)
    rows, cols = index // ncols, index % ncols
    return padding + cols * (tile + padding) + tile / 2, padding + rows * (tile + padding) + tile / 2


def picker_figure(
    images,
    ncols: int,
    labels: list[str],
    marks: dict[int, list[tuple[str, str]]] | None = None,
    hover: str = "{label}",
    height: int | None = None,
) -> go.Figure:
    """A sample grid to click on: one image trace plus an invisible marker on each tile.

    ``marks`` maps a tile index to [(group, badge text)]: each group (a key of
    GROUP_COLOURS) is drawn as a coloured frame, and the badge texts in the
    tile's corner. Each marker's customdata is its tile index, which is what a
    selection event returns.
    """
    padding = 2
    images = torch.as_tensor(images)
    n, tile = images.shape[0], images.shape[-1]
    picture = mosaic(images, ncols, padding)
    xs, ys = tile_centres(n, ncols, tile, padding)
    fig = go.Figure(go.Image(z=picture, hoverinfo="skip"))
    fig.add_trace(
        go.Scatter(  # the tile numbers, in each tile's top-left corner
            x=xs - tile / 2 + 0.5,
            y=ys - tile / 2 + 0.5,
            mode="text",
            text=labels,
            textposition="bottom right",
            textfont=dict(size=10, color="#ffd43b"),
            hoverinfo="skip",
            showlegend=False,
        )
    )
    fig.add_trace(
        go.Scatter(  # invisible click targets; selection events report their customdata
            x=xs,
            y=ys,
            mode="markers",
            customdata=list(range(n)),
            marker=dict(size=max(8, tile // 2), symbol="square", opacity=0.0),
            selected=dict(marker=dict(opacity=0.0)),
            unselected=dict(marker=dict(opacity=0.0)),
            hovertext=[hover.format(label=label) for label in labels],
            hoverinfo="text",
            showlegend=False,
        )
    )
    for index, entries in (marks or {}).items():
        if not 0 <= index < n:
            continue
        x, y = xs[index], ys[index]
        groups = list(dict.fromkeys(group for group, _ in entries))
        for j, group in enumerate(groups):
            inset = 0.5 + 1.5 * j
            fig.add_shape(
                type="rect",
                x0=x - tile / 2 - 1 + inset,
                x1=x + tile / 2 + 1 - inset,
                y0=y - tile / 2 - 1 + inset,
                y1=y + tile / 2 + 1 - inset,
                line=dict(color=GROUP_COLOURS.get(group, "#ffffff"), width=3),
            )
        badge = " ".join(text for _, text in entries if text)
        if badge:
            fig.add_annotation(
                x=x + tile / 2,
                y=y + tile / 2,
                text=f"<b>{badge}</b>",
                showarrow=False,
                xanchor="right",
                yanchor="bottom",
                font=dict(size=11, color="#ffffff"),
                bgcolor=GROUP_COLOURS.get(entries[0][0], "#000000"),
                borderpad=1,
            )
    nrows = math.ceil(n / ncols)
    # Square pixels; spare height or width (narrow phones, wide projectors) goes below and to the right.
    fig.update_xaxes(
        visible=False, range=[0, picture.shape[1]], fixedrange=True, constrain="domain", constraintoward="left"
    )
    fig.update_yaxes(
        visible=False,
        range=[picture.shape[0], 0],
        fixedrange=True,
        scaleanchor="x",
        constrain="domain",
        constraintoward="top",
    )
    fig.update_layout(
        margin=dict(l=0, r=0, t=0, b=0),
        height=height or int(40 + 560 * nrows / ncols),
        dragmode=False,
        clickmode="event+select",
        hovermode="closest",
    )
    return fig


def norms_figure(linear_norms, spherical_norms, nz: int, names: dict[str, str], height: int = 300) -> go.Figure:
    """|z| along the path for both interpolations, with the shell radius √nz.

    names: 'linear', 'spherical', 'shell', 'x', 'y' → translated labels.
    """
    steps = np.arange(len(linear_norms))
    fig = go.Figure()
    fig.add_trace(
        go.Scatter(
            x=steps, y=np.asarray(linear_norms), mode="lines+markers", name=names["linear"], line=dict(color="#e4572e")
        )
    )
    fig.add_trace(
        go.Scatter(
            x=steps,
            y=np.asarray(spherical_norms),
            mode="lines+markers",
            name=names["spherical"],
            line=dict(color="#2e86de"),
        )
    )
    fig.add_hline(
        y=math.sqrt(nz),
        line=dict(dash="dash", color="#666666"),
        annotation_text=names["shell"],
        annotation_position="bottom right",
    )
    top = max(float(np.max(linear_norms)), float(np.max(spherical_norms)), math.sqrt(nz)) * 1.08
    fig.update_layout(
        height=height,
        margin=dict(l=10, r=10, t=10, b=10),
        xaxis_title=names["x"],
        yaxis_title=names["y"],
        yaxis_range=[0, top],
        legend=dict(orientation="h", yanchor="bottom", y=1.0, x=0),
    )
    return fig


def step_change_figure(linear_changes, spherical_changes, names: dict[str, str], height: int = 300) -> go.Figure:
    """Mean |Δpixel| between consecutive images of each path: a spike is a sudden jump."""
    steps = np.arange(1, len(linear_changes) + 1)
    fig = go.Figure()
    fig.add_trace(go.Bar(x=steps, y=np.asarray(linear_changes), name=names["linear"], marker_color="#e4572e"))
    fig.add_trace(go.Bar(x=steps, y=np.asarray(spherical_changes), name=names["spherical"], marker_color="#2e86de"))
    fig.update_layout(
        height=height,
        barmode="group",
        margin=dict(l=10, r=10, t=10, b=10),
        xaxis_title=names["x"],
        yaxis_title=names["y"],
        legend=dict(orientation="h", yanchor="bottom", y=1.0, x=0),
    )
    return fig


def walk_gif(rows: list, scale: int = 4, duration_ms: int = 120, gap: int = 8) -> bytes:
    """A looping GIF that walks along one or more paths at once (side by side),
    forward then back. ``rows``: list of (N, C, H, W) image batches of equal N. Each frame shows
    its position along the path ("3/9") below the pictures; no words."""
    strips = [to_uint8(r) for r in rows]
    n = len(strips[0])
    order = list(range(n)) + list(range(n - 2, 0, -1))  # ping-pong so the loop has no jump
    frames = []
    for i in order:
        tiles = [s[i].repeat(scale, 0).repeat(scale, 1) for s in strips]
        h = tiles[0].shape[0]
        canvas = np.full((h, sum(t.shape[1] for t in tiles) + gap * (len(tiles) - 1), 3), 255, np.uint8)
        x = 0
        for t in tiles:
            canvas[:, x : x + t.shape[1]] = t
            x += t.shape[1] + gap
        frames.append(Image.fromarray(canvas))
    return gif_bytes(frames, duration_ms=duration_ms, labels=[f"{i + 1}/{n}" for i in order])


def sensitivity_figure(sensitivity, chosen: int, x_title: str, y_title: str, height: int = 260) -> go.Figure:
    """One bar per z coordinate: how much the picture changes when only that coordinate moves."""
    values = np.asarray(sensitivity)
    colours = ["#e83e8c" if d == chosen else "#8aa4c8" for d in range(len(values))]
    fig = go.Figure(
        go.Bar(
            x=np.arange(len(values)), y=values, marker_color=colours, hovertemplate="z[%{x}]: %{y:.3f}<extra></extra>"
        )
    )
    fig.update_layout(
        height=height,
        margin=dict(l=10, r=10, t=10, b=10),
        xaxis_title=x_title,
        yaxis_title=y_title,
        bargap=0.1,
        showlegend=False,
    )
    return fig
