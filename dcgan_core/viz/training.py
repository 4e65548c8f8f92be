"""Figures and downloads for a training run: pure functions of a job's history.

``history`` is the (n, 6) array of ``JobSnapshot.history``: step, loss_d,
loss_g, d_real, d_fake_before, d_fake_after.
"""

from __future__ import annotations

import io

import numpy as np
import plotly.graph_objects as go
from PIL import Image, ImageDraw, ImageFont

from dcgan_core.i18n import translate
from dcgan_core.viz.gif import gif_bytes

COLUMNS = ("step", "loss_d", "loss_g", "d_real", "d_fake_before", "d_fake_after")
D_COLOUR = "#1f77b4"
G_COLOUR = "#d62728"
REAL_COLOUR = "#2ca02c"
FAKE_COLOUR = "#ff7f0e"
MAX_POINTS = 1500


def downsample(history: np.ndarray, max_points: int = MAX_POINTS) -> np.ndarray:
    """At most ``max_points`` rows: bucket means (keeps the shape of the curves; the
    last bucket ends at the latest step)."""
    history = np.asarray(history, dtype=np.float64)
    n = len(history)
    if n <= max_points:
        return history
    edges = np.linspace(0, n, max_points + 1).astype(int)
    sums = np.add.reduceat(history, edges[:-1], axis=0)
    counts = np.diff(edges)[:, None]
    out = sums / counts
    out[:, 0] = history[edges[1:] - 1, 0]  # label each bucket with its last step
    return out


def smooth(values: np.ndarray, window: int) -> np.ndarray:
    """Trailing moving average (same length; the first points average what exists)."""
    if window <= 1 or len(values) == 0:
        return values
    cumulative = np.cumsum(np.insert(values, 0, 0.0))
    idx = np.arange(1, len(values) + 1)
    start = np.maximum(0, idx - window)
    return (cumulative[idx] - cumulative[start]) / (idx - start)


LIVE_POINTS = 400  # the live charts: enough for a projector, small enough to send every second


def _layout(fig: go.Figure, title: str, y_title: str, lang: str, height: int) -> go.Figure:
    fig.update_layout(
        title=dict(text=title, x=0, xanchor="left"),
        height=height,
        margin=dict(l=10, r=10, t=40, b=10),
        legend=dict(orientation="h", yanchor="top", y=-0.22, xanchor="left", x=0),
        hovermode="x unified",
        uirevision="keep",  # keep zoom while the data updates
    )
    fig.update_xaxes(title_text=translate("trainer.step_axis", lang), rangemode="tozero")
    fig.update_yaxes(title_text=y_title)
    return fig


def _window(history_rows: int, shown_rows: int, smoothing: int) -> int:
    return max(1, smoothing * shown_rows // max(1, history_rows))


def loss_series(history: np.ndarray, smoothing: int = 10, max_points: int = MAX_POINTS):
    """(steps, [D raw, D smoothed, G raw, G smoothed]): the loss chart's traces, in its order."""
    h = downsample(history, max_points)
    window = _window(len(history), len(h), smoothing)
    return h[:, 0], [h[:, 1], smooth(h[:, 1], window), h[:, 2], smooth(h[:, 2], window)]


def probability_series(history: np.ndarray, smoothing: int = 10, max_points: int = MAX_POINTS):
    """(steps, [D(x), D(G(z)) before, D(G(z)) after], each smoothed): the probability chart's traces."""
    h = downsample(history, max_points)
    window = _window(len(history), len(h), smoothing)
    return h[:, 0], [smooth(h[:, column], window) for column in (3, 4, 5)]


def loss_template(lang: str = "en", height: int = 320) -> go.Figure:
    """The loss chart with empty traces (faint raw curves, bold moving averages): ``loss_series`` fills them."""
    fig = go.Figure()
    for name, colour in ((translate("trainer.loss_d", lang), D_COLOUR), (translate("trainer.loss_g", lang), G_COLOUR)):
        fig.add_trace(
            go.Scatter(
                x=[],
                y=[],
                mode="lines",
                line=dict(color=colour, width=1),
                opacity=0.25,
                showlegend=False,
                hoverinfo="skip",
            )
        )
        fig.add_trace(go.Scatter(x=[], y=[], mode="lines", name=name, line=dict(color=colour, width=2)))
    return _layout(fig, translate("trainer.loss_title", lang), translate("trainer.loss_axis", lang), lang, height)


def probability_template(lang: str = "en", height: int = 320) -> go.Figure:
    """D(x), D(G(z)) before and after D's step, with the 0.5 equilibrium line; ``probability_series`` fills it."""
    fig = go.Figure()
    fig.add_hline(
        y=0.5,
        line=dict(color="grey", dash="dot", width=1),
        annotation_text=translate("trainer.equilibrium", lang),
        annotation_position="bottom right",
    )
    for key, dash, colour in (
        ("trainer.d_real", None, REAL_COLOUR),
        ("trainer.d_fake_before", None, FAKE_COLOUR),
        ("trainer.d_fake_after", "dash", FAKE_COLOUR),
    ):
        fig.add_trace(
            go.Scatter(x=[], y=[], mode="lines", name=translate(key, lang), line=dict(color=colour, width=2, dash=dash))
        )
    fig = _layout(fig, translate("trainer.prob_title", lang), translate("trainer.prob_axis", lang), lang, height)
    fig.update_yaxes(range=[0, 1])
    return fig


def _filled(fig: go.Figure, x, ys) -> go.Figure:
    for trace, y in zip(fig.data, ys, strict=False):
        trace.x, trace.y = x, y
    return fig


def loss_figure(history: np.ndarray, lang: str = "en", smoothing: int = 10, height: int = 320) -> go.Figure:
    """D and G losses against step: faint raw curves, bold moving averages."""
    return _filled(loss_template(lang, height), *loss_series(history, smoothing))


def probability_figure(history: np.ndarray, lang: str = "en", smoothing: int = 10, height: int = 320) -> go.Figure:
    """D(x), D(G(z)) before and after D's step, with the 0.5 equilibrium line."""
    return _filled(probability_template(lang, height), *probability_series(history, smoothing))


def live_series(history: np.ndarray, max_points: int = LIVE_POINTS, digits: int = 4) -> dict:
    """Both charts' trace data as plain lists (JSON), for a browser that fills the templates itself."""

    def rounded(values):
        return [round(float(v), digits) for v in values]

    out = {}
    for name, series in (("loss", loss_series), ("prob", probability_series)):
        x, ys = series(history, max_points=max_points)
        out[name] = {"x": [int(v) for v in x], "y": [rounded(y) for y in ys]}
    return out


def history_csv(history: np.ndarray) -> str:
    """Every recorded step as CSV (header: step,loss_d,loss_g,d_real,d_fake_before,d_fake_after)."""
    buffer = io.StringIO()
    buffer.write(",".join(COLUMNS) + "\n")
    for row in np.asarray(history):
        buffer.write(f"{int(row[0])}," + ",".join(f"{v:.6g}" for v in row[1:]) + "\n")
    return buffer.getvalue()


def upscale(grid: np.ndarray, factor: int) -> np.ndarray:
    """Nearest-neighbour enlargement: crisp pixels instead of the browser's blur."""
    if factor <= 1:
        return grid
    return np.repeat(np.repeat(grid, factor, axis=0), factor, axis=1)


def display_factor(grid: np.ndarray, target_width: int = 560) -> int:
    return max(1, target_width // max(1, grid.shape[1]))


def frame_with_step(grid: np.ndarray, step: int, factor: int = 2) -> Image.Image:
    """A grid with its step number in a strip above it (digits only: no CJK on the server)."""
    image = Image.fromarray(upscale(grid, factor))
    strip = 22
    canvas = Image.new("RGB", (image.width, image.height + strip), (255, 255, 255))
    canvas.paste(image, (0, strip))
    draw = ImageDraw.Draw(canvas)
    font = ImageFont.load_default(size=16)
    draw.text((4, strip // 2), f"{step}", fill=(0, 0, 0), font=font, anchor="lm")
    return canvas


def progress_gif(frames, duration_ms: int = 300, factor: int = 2) -> bytes:
    """The fixed-noise grids over the run as a looping GIF; the last frame lingers."""
    frames = list(frames)
    if not frames:
        raise ValueError("no frames yet")
    images = [frame_with_step(grid, step, factor) for step, grid in frames]
    images += [images[-1]] * 4
    return gif_bytes(images, duration_ms=duration_ms, labels=[])  # each frame shows its training step already


def nearest_frame(frames, step: int) -> int:
    """Index of the frame whose step is closest to ``step``."""
    steps = np.array([s for s, _ in frames])
    return int(np.argmin(np.abs(steps - step)))
