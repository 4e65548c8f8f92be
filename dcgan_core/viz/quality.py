"""Figures for judging GAN samples (quality page and the Train page's periodic checks),
plus the reference image sets that put a Fréchet classifier distance on a scale.
Pure functions: Plotly figures and tensors, no streamlit."""

from __future__ import annotations

import numpy as np
import plotly.graph_objects as go
import torch
import torch.nn.functional as F

from dcgan_core.viz.latent import mosaic

BAR = "#4c78a8"
WARN = "#e4572e"
REFERENCE_COLOURS = {"real": "#17a34a", "blurred": "#8fbf4a", "model": "#f59f00", "noise": "#888888"}


def class_histogram_figure(
    hist,
    labels=None,
    *,
    x_title: str = "",
    y_title: str = "",
    uniform_label: str = "",
    max_share: float | None = 0.3,
    height: int = 300,
) -> go.Figure:
    """Share of samples the classifier assigns to each class, as a bar chart.

    hist: counts per class; labels: class names (default 0..9). A dashed line
    marks the uniform share (real MNIST is close to it); bars above
    ``max_share`` and missing classes (a red 0 marker) make mode collapse visible.
    """
    counts = np.asarray(hist, dtype=np.float64)
    labels = [str(i) for i in range(len(counts))] if labels is None else [str(label) for label in labels]
    total = counts.sum()
    share = counts / total if total > 0 else counts
    colours = [WARN if (max_share is not None and s > max_share) else BAR for s in share]
    fig = go.Figure(
        go.Bar(
            x=labels,
            y=100 * share,
            marker_color=colours,
            customdata=counts,
            text=[f"{int(c)}" if c else "" for c in counts],
            textposition="outside",
            hovertemplate="%{x}: %{y:.1f}% (%{customdata:.0f})<extra></extra>",
            showlegend=False,
        )
    )
    missing = [label for label, c in zip(labels, counts, strict=False) if c == 0]
    if missing:
        fig.add_trace(
            go.Scatter(
                x=missing,
                y=[0] * len(missing),
                mode="markers",
                hoverinfo="skip",
                marker=dict(symbol="x", size=12, color=WARN),
                showlegend=False,
            )
        )
    reference_line = dict(dash="dash", color="#666666")
    if len(counts):
        # The line is named in a legend above the plot, not by a label on it, where it would sit
        # among the bars' count labels (which stand just above bars near the uniform share).
        fig.add_hline(y=100 / len(counts), line=reference_line)
        if uniform_label:
            fig.add_trace(
                go.Scatter(x=[None], y=[None], mode="lines", line=reference_line, name=uniform_label, hoverinfo="skip")
            )
    top = max(100 * float(share.max()) if len(share) else 0.0, 100 / max(len(counts), 1)) * 1.2 + 2
    fig.update_layout(
        height=height,
        margin=dict(l=10, r=10, t=30 if uniform_label else 20, b=10),
        xaxis_title=x_title,
        yaxis_title=y_title,
        yaxis_range=[0, top],
        xaxis_type="category",
        showlegend=bool(uniform_label and len(counts)),
        legend=dict(orientation="h", x=1.0, xanchor="right", y=1.0, yanchor="bottom"),
    )
    return fig


def format_fcd(value: float) -> str:
    """Three significant digits, without exponent notation for large values (2020, not 2.02e+03)."""
    return f"{value:.0f}" if abs(value) >= 1000 else f"{value:.3g}"


def fcd_scale_figure(entries: list[tuple[str, float, str]], x_title: str = "", height: int | None = None) -> go.Figure:
    """Horizontal bars on a log axis: [(label, FCD, kind)] with kind a key of REFERENCE_COLOURS.

    Places the generator's FCD between real digits (the floor for this sample
    size) and pure noise.
    """
    labels = [label for label, _, _ in entries]
    values = [max(float(v), 1e-3) for _, v, _ in entries]
    colours = [REFERENCE_COLOURS.get(kind, BAR) for _, _, kind in entries]
    fig = go.Figure(
        go.Bar(
            y=labels,
            x=values,
            orientation="h",
            marker_color=colours,
            text=[format_fcd(v) for _, v, _ in entries],
            textposition="outside",
            cliponaxis=False,
            hovertemplate="%{y}: %{x:.4g}<extra></extra>",
        )
    )
    lo, hi = min(values), max(values)
    fig.update_xaxes(type="log", range=[np.log10(lo) - 0.5, np.log10(hi) + 0.6], title=x_title)
    fig.update_yaxes(autorange="reversed")
    fig.update_layout(height=height or 70 + 44 * len(entries), margin=dict(l=10, r=30, t=10, b=10), showlegend=False)
    return fig


def _match_size(images: torch.Tensor, size: tuple[int, int]) -> torch.Tensor:
    images = torch.as_tensor(images).float()
    if images.dim() == 3:
        images = images[:, None]
    if images.shape[-2:] != size:
        images = F.interpolate(images, size=size, mode="bilinear", align_corners=False, antialias=True)
    return images.clamp(-1, 1)


def neighbours_grid(
    fake_images,
    real_images,
    distances,
    *,
    fake_label: str = "",
    real_label: str = "",
    distance_format: str = "{:.2f}",
    scale: int = 3,
    height: int | None = None,
) -> go.Figure:
    """Generated samples (top row) above their nearest real images (next rows), one column per sample.

    fake_images: (n, C, H, W) in [-1, 1]; real_images: (n, C, h, w) or (n, k, C, h, w),
    resized to the fakes' size for display; distances: (n,) or (n, k), written under each column.
    """
    fake = _match_size(fake_images, tuple(torch.as_tensor(fake_images).shape[-2:]))
    real = torch.as_tensor(real_images).float()
    if real.dim() == 4 and real.shape[0] == fake.shape[0] and real.shape[1] in (1, 3):
        real = real[:, None]
    if real.dim() == 3:  # (n, h, w) grey
        real = real[:, None, None]
    n, k = real.shape[:2]
    real = _match_size(real.flatten(0, 1), tuple(fake.shape[-2:])).reshape(n, k, *fake.shape[1:])
    if real.shape[2] != fake.shape[1]:
        real = real.expand(-1, -1, fake.shape[1], -1, -1)
    rows = torch.cat([fake[None], real.transpose(0, 1)])  # (1 + k, n, C, H, W)
    picture = mosaic(rows.flatten(0, 1), ncols=n, padding=2, scale=scale)
    tile = fake.shape[-1] * scale
    pad = 2 * scale
    centres_x = [pad + c * (tile + pad) + tile / 2 for c in range(n)]
    centres_y = [pad + r * (tile + pad) + tile / 2 for r in range(1 + k)]
    d = np.asarray(distances, dtype=np.float64).reshape(n, -1)
    fig = go.Figure(go.Image(z=picture, hoverinfo="skip"))
    fig.update_xaxes(
        tickvals=centres_x,
        ticktext=[" / ".join(distance_format.format(v) for v in row) for row in d],
        showgrid=False,
        zeroline=False,
        fixedrange=True,
        tickfont=dict(size=11),
    )
    row_labels = [fake_label] + [real_label if k == 1 else f"{real_label} {j + 1}" for j in range(k)]
    fig.update_yaxes(
        tickvals=centres_y, ticktext=row_labels, showgrid=False, zeroline=False, fixedrange=True, scaleanchor="x"
    )
    fig.update_layout(
        height=height or int(60 + 560 * (1 + k) / max(n, 4)), margin=dict(l=10, r=10, t=10, b=10), dragmode=False
    )
    return fig


# ---- reference sets that put an FCD on a scale ---------------------------------------------------


def blur(images: torch.Tensor, passes: int = 2) -> torch.Tensor:
    """A 3×3 box blur applied ``passes`` times: recognisable digits that look wrong in detail."""
    x = torch.as_tensor(images).float()
    for _ in range(passes):
        x = F.avg_pool2d(F.pad(x, (1, 1, 1, 1), mode="replicate"), 3, stride=1)
    return x


def reference_images(train_images_uint8, count: int, seed: int = 0) -> dict[str, torch.Tensor]:
    """Image sets of ``count`` images each, (count, 1, 28, 28) in [-1, 1]:

    real: training digits (independent of the test set the FCD compares with);
    blurred: the same digits blurred; noise: uniform noise in [-1, 1].
    """
    train = np.asarray(train_images_uint8)
    generator = torch.Generator().manual_seed(int(seed))
    pick = torch.randperm(len(train), generator=generator)[:count].numpy()
    real = torch.from_numpy(train[pick]).float()[:, None] / 127.5 - 1  # fancy indexing copies: writable
    noise = torch.rand(count, 1, *real.shape[-2:], generator=generator) * 2 - 1
    return {"real": real, "blurred": blur(real), "noise": noise}
