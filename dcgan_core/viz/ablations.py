"""Figures for the guidelines lab: the recipe and a broken variant side by side.
Pure functions returning Plotly figures; all visible words come in as arguments."""

from __future__ import annotations

import numpy as np
import plotly.graph_objects as go
from plotly.subplots import make_subplots

from dcgan_core.ablations import HISTORY_KEYS, AblationResult

RECIPE_COLOUR = "#2e86de"
VARIANT_COLOUR = "#e4572e"
OTHER_COLOUR = "#b8bcc2"


def colour_of(name: str, index: int) -> str:
    return RECIPE_COLOUR if name == "paper" else (VARIANT_COLOUR if index else RECIPE_COLOUR)


def smooth(values: np.ndarray, window: int) -> np.ndarray:
    """Trailing moving average over ``window`` steps (shorter at the start); NaNs are skipped."""
    v = np.asarray(values, dtype=np.float64)
    if window <= 1 or len(v) == 0:
        return v
    finite = np.isfinite(v)
    sums = np.concatenate([[0.0], np.cumsum(np.where(finite, v, 0.0))])
    counts = np.concatenate([[0], np.cumsum(finite)])
    ends = np.arange(1, len(v) + 1)
    starts = np.maximum(0, ends - window)
    n = counts[ends] - counts[starts]
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(n > 0, (sums[ends] - sums[starts]) / np.maximum(n, 1), np.nan)


def _loss_top(values: np.ndarray, window: int) -> float:
    finite = np.asarray(values, dtype=np.float64)
    finite = finite[np.isfinite(finite)]
    if len(finite) == 0:
        return float("nan")
    return 1.1 * max(float(np.percentile(finite, 99)), float(np.nanmax(smooth(finite, window))))


def curves_figure(
    results: list[AblationResult],
    names: dict[str, str],
    panel_titles: dict[str, str],
    x_title: str = "",
    window: int = 25,
    columns: int = 2,
    diverged_label: str = "NaN",
    height: int | None = None,
) -> go.Figure:
    """One panel per curve in HISTORY_KEYS (loss_D, loss_G, D(x), D(G(z))), each
    variant in its colour: faint per-step values and a bold moving average."""
    rows = -(-len(HISTORY_KEYS) // columns)
    fig = make_subplots(
        rows=rows,
        cols=columns,
        subplot_titles=[panel_titles[k] for k in HISTORY_KEYS],
        horizontal_spacing=0.08,
        vertical_spacing=0.16 if rows > 1 else 0.1,
    )
    for index, result in enumerate(results):
        colour = colour_of(result.name, index)
        label = names.get(result.name, result.name)
        steps = result.history["step"]
        for k, key in enumerate(HISTORY_KEYS):
            row, col = k // columns + 1, k % columns + 1
            values = result.history[key]
            fig.add_trace(
                go.Scatter(
                    x=steps,
                    y=values,
                    mode="lines",
                    line=dict(color=colour, width=1),
                    opacity=0.25,
                    hoverinfo="skip",
                    showlegend=False,
                    legendgroup=result.name,
                ),
                row=row,
                col=col,
            )
            fig.add_trace(
                go.Scatter(
                    x=steps,
                    y=smooth(values, window),
                    mode="lines",
                    line=dict(color=colour, width=2.5),
                    name=label,
                    legendgroup=result.name,
                    showlegend=k == 0,
                    hovertemplate=f"{label}<br>%{{x}}: %{{y:.3f}}<extra></extra>",
                ),
                row=row,
                col=col,
            )
            if result.diverged_at is not None:
                fig.add_vline(
                    x=result.diverged_at,
                    line=dict(color=colour, dash="dot"),
                    row=row,
                    col=col,
                    annotation_text=diverged_label,
                    annotation_font_color=colour,
                )
    for k, key in enumerate(HISTORY_KEYS):
        row, col = k // columns + 1, k % columns + 1
        if key in ("d_real", "d_fake"):
            fig.update_yaxes(range=[0, 1], row=row, col=col)
        else:  # losses: rare single-step spikes would flatten everything else, so the top is the 99th percentile
            tops = [_loss_top(r.history[key], window) for r in results if len(r.history[key])]
            if tops and np.isfinite(max(tops)):
                fig.update_yaxes(range=[0, max(tops)], row=row, col=col)
    for col in range(1, columns + 1):
        fig.update_xaxes(title_text=x_title, row=rows, col=col)
    fig.update_layout(
        height=height or 260 * rows + 60,
        margin=dict(l=4, r=4, t=50, b=4),
        legend=dict(orientation="h", yanchor="bottom", y=1.06, x=0),
        hovermode="x unified",
    )
    fig.update_annotations(font_size=12)
    return fig


def fcd_figure(
    results: list[AblationResult],
    names: dict[str, str],
    x_title: str = "",
    y_title: str = "",
    baseline_label: str = "",
    height: int = 300,
) -> go.Figure:
    """Fréchet classifier distance of each variant's samples at the recorded steps (log scale; lower is better)."""
    fig = go.Figure()
    baseline = None
    for index, result in enumerate(results):
        points = [(m["step"], m["fcd"]) for m in result.metrics_history if m.get("fcd") is not None and m["fcd"] > 0]
        if not points:
            continue
        colour = colour_of(result.name, index)
        label = names.get(result.name, result.name)
        fig.add_trace(
            go.Scatter(
                x=[p[0] for p in points],
                y=[p[1] for p in points],
                mode="lines+markers",
                name=label,
                line=dict(color=colour, width=2.5),
                hovertemplate=f"{label}<br>%{{x}}: %{{y:.1f}}<extra></extra>",
            )
        )
        if result.metrics and result.metrics.get("fcd_real_baseline"):
            baseline = result.metrics["fcd_real_baseline"]
    values = [y for trace in fig.data for y in trace.y] + ([baseline] if baseline else [])
    if baseline:
        fig.add_hline(y=baseline, line=dict(color="#17a34a", dash="dash"))
        # on a log axis an annotation's y is log10 of the value (add_hline's own annotation misplaces it)
        fig.add_annotation(
            x=1,
            xref="paper",
            y=np.log10(baseline),
            yref="y",
            text=baseline_label,
            showarrow=False,
            xanchor="right",
            yanchor="bottom",
            font=dict(color="#17a34a"),
        )
    y_range = [np.log10(min(values) / 1.5), np.log10(max(values) * 1.5)] if values else None
    fig.update_layout(
        height=height,
        margin=dict(l=4, r=4, t=30, b=4),
        yaxis=dict(title=y_title, type="log", range=y_range),
        xaxis=dict(title=x_title),
        legend=dict(orientation="h", yanchor="bottom", y=1.02, x=0),
    )
    return fig


def histogram_figure(
    results: list[AblationResult], names: dict[str, str], x_title: str = "", y_title: str = "", height: int = 260
) -> go.Figure:
    """Which digit the classifier sees in each variant's final samples (share of samples per class)."""
    fig = go.Figure()
    for index, result in enumerate(results):
        if not result.metrics:
            continue
        counts = np.asarray(result.metrics["class_histogram"], dtype=np.float64)
        share = counts / max(1.0, counts.sum())
        label = names.get(result.name, result.name)
        fig.add_trace(
            go.Bar(
                x=[str(d) for d in range(len(share))],
                y=share,
                name=label,
                marker_color=colour_of(result.name, index),
                hovertemplate=f"{label}<br>%{{x}}: %{{y:.1%}}<extra></extra>",
            )
        )
    fig.add_hline(y=0.1, line=dict(color="#666", dash="dot"))
    fig.update_layout(
        barmode="group",
        height=height,
        margin=dict(l=4, r=4, t=30, b=4),
        xaxis=dict(title=x_title, type="category"),
        yaxis=dict(title=y_title, tickformat=".0%"),
        legend=dict(orientation="h", yanchor="bottom", y=1.02, x=0),
    )
    return fig


def summary_figure(
    results: dict[str, AblationResult],
    names: dict[str, str],
    selected: str,
    x_title: str = "",
    diverged_label: str = "NaN",
    height: int | None = None,
) -> go.Figure:
    """Final FCD of every variant, one bar each (log scale), the recipe and the selected one in colour."""
    order = [n for n in results if results[n].metrics]
    ys = [names.get(n, n) for n in order]
    xs = [results[n].metrics["fcd"] for n in order]
    colours = [RECIPE_COLOUR if n == "paper" else VARIANT_COLOUR if n == selected else OTHER_COLOUR for n in order]
    text = [
        f"{x:.1f}" + (f" ({diverged_label})" if results[n].diverged_at is not None else "")
        for n, x in zip(order, xs, strict=False)
    ]
    fig = go.Figure(
        go.Bar(
            x=xs,
            y=ys,
            orientation="h",
            marker_color=colours,
            text=text,
            textposition="auto",
            hovertemplate="%{y}: %{x:.1f}<extra></extra>",
        )
    )
    fig.update_layout(
        height=height or 40 * len(order) + 70,
        margin=dict(l=4, r=4, t=10, b=4),
        xaxis=dict(title=x_title, type="log"),
        yaxis=dict(autorange="reversed"),
    )
    return fig


def top_rows(grid: np.ndarray, rows: int, image_size: int, padding: int = 2) -> np.ndarray:
    """The first ``rows`` rows of tiles of a sample grid (data.sample_grid layout), for a thumbnail."""
    return grid[: padding + rows * (image_size + padding)]
