"""Figures for the discriminator lesson: the image, activations channel by
channel, the guided-backprop map and the representation-learning chart.
Pure functions returning Plotly figures; all visible words come in as arguments."""

from __future__ import annotations

import math

import numpy as np
import plotly.graph_objects as go
import torch
from plotly.subplots import make_subplots

PROBE_COLOURS = {"d": "#2e86de", "random": "#a0a4a8", "pixel": "#e4572e"}


def _array(x) -> np.ndarray:
    return x.detach().float().cpu().numpy() if isinstance(x, torch.Tensor) else np.asarray(x, dtype=np.float64)


def top_channels(activation, count: int) -> list[int]:
    """Indices of the ``count`` channels with the largest mean activation, strongest first."""
    a = _array(activation)
    means = a.reshape(a.shape[0], -1).mean(1)
    return [int(i) for i in np.argsort(-means, kind="stable")[:count]]


def _square_axes(fig: go.Figure, rows: int, cols: int) -> None:
    for k in range(1, rows * cols + 1):
        suffix = "" if k == 1 else str(k)
        fig.layout[f"xaxis{suffix}"].update(visible=False, constrain="domain")
        fig.layout[f"yaxis{suffix}"].update(visible=False, autorange="reversed", scaleanchor=f"x{suffix}")


def image_figure(image, title: str = "", height: int = 260) -> go.Figure:
    """One [-1, 1] image, (C, H, W) or (H, W), shown as grey (or RGB) pixels with values on hover."""
    a = _array(image)
    if a.ndim == 3 and a.shape[0] == 1:
        a = a[0]
    if a.ndim == 2:
        trace = go.Heatmap(
            z=a,
            colorscale="gray",
            zmin=-1,
            zmax=1,
            showscale=False,
            hovertemplate="(%{y}, %{x}): %{z:.2f}<extra></extra>",
        )
    else:
        rgb = ((np.clip(a.transpose(1, 2, 0), -1, 1) + 1) * 127.5).round().astype(np.uint8)
        trace = go.Image(z=rgb)
    fig = go.Figure(trace)
    fig.update_layout(
        title=dict(text=title, x=0.5, xanchor="center"), height=height, margin=dict(l=4, r=4, t=36 if title else 4, b=4)
    )
    _square_axes(fig, 1, 1)
    return fig


def activation_figure(
    activation, channels: list[int], channel_label: str = "channel {c}", columns: int = 4, height_per_row: int = 180
) -> go.Figure:
    """Heatmaps of some channels of one layer's output (C, H, W), on one shared colour scale
    so their strengths compare; hover shows each value."""
    a = _array(activation)
    channels = [c for c in channels if 0 <= c < a.shape[0]] or [0]
    columns = max(1, min(columns, len(channels)))
    rows = math.ceil(len(channels) / columns)
    chosen = a[channels]
    low, high = float(chosen.min()), float(chosen.max())
    if high <= low:
        high = low + 1e-6
    fig = make_subplots(
        rows=rows,
        cols=columns,
        subplot_titles=[channel_label.format(c=c) for c in channels],
        horizontal_spacing=0.02,
        vertical_spacing=0.12 / rows if rows > 1 else 0.05,
    )
    for k, c in enumerate(channels):
        fig.add_trace(
            go.Heatmap(
                z=a[c],
                coloraxis="coloraxis",
                hovertemplate=f"{channel_label.format(c=c)}<br>(%{{y}}, %{{x}}): %{{z:.3f}}<extra></extra>",
            ),
            row=k // columns + 1,
            col=k % columns + 1,
        )
    fig.update_layout(
        coloraxis=dict(colorscale="Viridis", cmin=low, cmax=high, colorbar=dict(thickness=12, len=0.9)),
        height=max(180, rows * height_per_row + 40),
        margin=dict(l=4, r=4, t=28, b=4),
    )
    fig.update_annotations(font_size=11)
    _square_axes(fig, rows, columns)
    return fig


def saliency_figure(image, saliency, titles: tuple[str, str, str] = ("", "", ""), height: int = 300) -> go.Figure:
    """The image, the guided-backprop map (red: more ink here raises D's score;
    blue: lowers it; symmetric scale), and the map's positive part over the image."""
    a = _array(image)
    a = a[0] if a.ndim == 3 and a.shape[0] == 1 else (a.mean(0) if a.ndim == 3 else a)
    s = _array(saliency)
    limit = float(np.abs(s).max()) or 1.0
    fig = make_subplots(rows=1, cols=3, subplot_titles=list(titles), horizontal_spacing=0.03)
    fig.add_trace(
        go.Heatmap(
            z=a,
            colorscale="gray",
            zmin=-1,
            zmax=1,
            showscale=False,
            hovertemplate="(%{y}, %{x}): %{z:.2f}<extra></extra>",
        ),
        row=1,
        col=1,
    )
    fig.add_trace(
        go.Heatmap(
            z=s,
            colorscale="RdBu",
            reversescale=True,
            zmin=-limit,
            zmax=limit,
            colorbar=dict(thickness=12, len=0.9, x=1.0),
            hovertemplate="(%{y}, %{x}): %{z:.3g}<extra></extra>",
        ),
        row=1,
        col=2,
    )
    grey = 0.6 * (np.clip(a, -1, 1) + 1) / 2
    positive = np.clip(s, 0, None) / limit
    overlay = np.stack([np.clip(grey + positive, 0, 1), grey, grey], -1)
    fig.add_trace(go.Image(z=(overlay * 255).round().astype(np.uint8), hoverinfo="skip"), row=1, col=3)
    fig.update_layout(height=height, margin=dict(l=4, r=4, t=36, b=4))
    fig.update_annotations(font_size=12)
    _square_axes(fig, 1, 3)
    return fig


def probe_figure(
    results: list[dict],
    names: dict[str, str],
    x_title: str = "",
    y_title: str = "",
    label_format: str = "{n:,}",
    height: int = 340,
) -> go.Figure:
    """Grouped bars: linear-probe test accuracy per label count for the trained D,
    an untrained D and raw pixels; error bars are the spread over repeats.
    ``results`` are ProbeResult.to_dict()s; ``names`` maps 'd'/'random'/'pixel' to legend text."""
    xs = [label_format.format(n=r["n_labels"]) for r in results]
    fig = go.Figure()
    for key in ("d", "random", "pixel"):
        acc_key, std_key = ("d_accuracy", "d_std") if key == "d" else (f"{key}_accuracy", f"{key}_std")
        if not all(acc_key in r for r in results):
            continue
        ys = [r[acc_key] for r in results]
        fig.add_trace(
            go.Bar(
                name=names[key],
                x=xs,
                y=ys,
                marker_color=PROBE_COLOURS[key],
                error_y=dict(type="data", array=[r.get(std_key, 0.0) for r in results], visible=True),
                text=[f"{y:.1%}" for y in ys],
                textposition="inside",
                insidetextanchor="middle",
                textfont=dict(color="white"),
                hovertemplate=f"{names[key]}<br>%{{x}}: %{{y:.2%}}<extra></extra>",
            )
        )
    lowest = min((t.y[i] for t in fig.data for i in range(len(t.y))), default=0.0)
    fig.update_layout(
        barmode="group",
        height=height,
        margin=dict(l=4, r=4, t=30, b=4),
        xaxis=dict(title=x_title, type="category"),
        yaxis=dict(title=y_title, tickformat=".0%", range=[max(0.0, lowest - 0.15), 1.02]),
        legend=dict(orientation="h", yanchor="bottom", y=1.02, x=0),
    )
    return fig
