"""A kernel sliding over its input, for any convolution, transposed
convolution or pooling — like vdumoulin/conv_arithmetic's animations, but
computed for whatever sizes the reader picks.

A transposed convolution is drawn the way Dumoulin & Visin draw it: as the
equivalent direct convolution (unit stride, same dilation) over the input
with s − 1 zeros inserted between units and d(k − 1) − p zeros of padding on
each side (plus output_padding on the bottom/right). When p > d(k − 1) that
"padding" is negative: the outer rows and columns are cropped away.

Everything here is square (i × i inputs, k × k kernels) and pure: numpy,
Plotly figures and GIF bytes. Text shown in figures is passed in by the caller.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import plotly.graph_objects as go
from PIL import Image, ImageDraw

from dcgan_core.arithmetic import (
    Explanation,
    conv_output_size,
    conv_transpose_output_size,
    explain_conv,
    explain_conv_transpose,
    explain_pool,
)
from dcgan_core.viz.gif import GRID_LINE, gif_bytes, grid_image

# What each cell on the input side of the drawing is.
CELL_INPUT, CELL_PADDING, CELL_INSERTED, CELL_CROPPED = 0, 1, 2, 3

# conv_arithmetic's palette: blue input, cyan output, dark kernel.
INPUT_COLOR = "#4f8fd1"
PADDING_COLOR = "#ffffff"
INSERTED_COLOR = "#dce9f7"
CROPPED_COLOR = "#c9c9c9"
OUTPUT_TODO_COLOR = "#e4f6f7"
OUTPUT_DONE_COLOR = "#3fbfc7"
KERNEL_COLOR = "rgba(17, 37, 84, 0.55)"
CURRENT_COLOR = "#0b5f66"
RECEPTIVE_COLOR = "#f28e2b"

# Beyond this many output cells the page shows a still picture instead of an animation.
ANIMATION_MAX_FRAMES = 324


OPERATIONS = ("conv", "transposed", "pool")


def explain_operation(
    operation: str, i: int, k: int, s: int = 1, p: int = 0, d: int = 1, output_padding: int = 0
) -> Explanation:
    """The arithmetic's Explanation for one of OPERATIONS; raises LabError where PyTorch would refuse."""
    if operation == "conv":
        return explain_conv(i, k, s, p, d)
    if operation == "transposed":
        return explain_conv_transpose(i, k, s, p, d, output_padding)
    if operation == "pool":
        return explain_pool(i, k, s, p)
    raise ValueError(f"unknown operation {operation!r}; choose one of {OPERATIONS}")


def pytorch_output_size(
    operation: str, i: int, k: int, s: int = 1, p: int = 0, d: int = 1, output_padding: int = 0
) -> int:
    """Side of the output PyTorch itself produces from an i x i zero input
    (raises PyTorch's RuntimeError if PyTorch refuses)."""
    # lazily: the figures of this module need no torch, only the PyTorch reference does
    import torch
    import torch.nn.functional as F

    x = torch.zeros(1, 1, i, i)
    weight = torch.zeros(1, 1, k, k)
    if operation == "conv":
        y = F.conv2d(x, weight, stride=s, padding=p, dilation=d)
    elif operation == "transposed":
        y = F.conv_transpose2d(x, weight, stride=s, padding=p, output_padding=output_padding, dilation=d)
    else:
        y = F.max_pool2d(x, k, stride=s, padding=p)
    return int(y.shape[-1])


def pytorch_code(
    operation: str, i: int, k: int, s: int = 1, p: int = 0, d: int = 1, output_padding: int = 0, o: int | None = None
) -> str:
    """The nn layer that does the same, with the shapes as comments."""
    if operation == "conv":
        layer = f"nn.Conv2d(1, 1, kernel_size={k}, stride={s}, padding={p}, dilation={d})"
    elif operation == "transposed":
        layer = (
            f"nn.ConvTranspose2d(1, 1, kernel_size={k}, stride={s}, padding={p}, "
            f"output_padding={output_padding}, dilation={d})"
        )
    else:
        layer = f"nn.MaxPool2d(kernel_size={k}, stride={s}, padding={p})"
    shape = f"torch.Size([1, 1, {o}, {o}])" if o is not None else "..."
    return "\n".join(
        [
            "import torch",
            "from torch import nn",
            "",
            f"layer = {layer}",
            f"x = torch.zeros(1, 1, {i}, {i})  # (N, C, H, W)",
            f"layer(x).shape  # {shape}",
        ]
    )


def pytorch_receptive_field(
    operation: str, i: int, k: int, s: int, p: int, d: int, out_row: int, out_col: int, output_padding: int = 0
) -> np.ndarray:
    """(i, i) bool mask of the input units with a non-zero gradient of output
    cell (out_row, out_col) in PyTorch — the reference receptive_field is checked against."""
    # lazily: the figures of this module need no torch, only the PyTorch reference does
    import torch
    import torch.nn.functional as F

    x = torch.rand(1, 1, i, i, dtype=torch.float64, requires_grad=True)
    weight = torch.ones(1, 1, k, k, dtype=torch.float64)
    if operation == "conv":
        y = F.conv2d(x, weight, stride=s, padding=p, dilation=d)
    elif operation == "transposed":
        y = F.conv_transpose2d(x, weight, stride=s, padding=p, output_padding=output_padding, dilation=d)
    else:  # the average pool's gradient reaches every unit in the window, max pool's only the winner
        y = F.avg_pool2d(x, k, stride=s, padding=p)
    y[0, 0, out_row, out_col].backward()
    return (x.grad[0, 0] != 0).numpy()


@dataclass(frozen=True)
class SlidingGeometry:
    """Where the kernel sits on the drawn input grid for each output cell."""

    transposed: bool
    i: int
    k: int
    s: int
    p: int
    d: int
    output_padding: int
    grid_size: int  # cells per side drawn on the input side
    origin: int  # grid index of the first tap of the first window
    step: int  # grid cells the window moves per output cell (1 when transposed)
    output_size: int
    input_index: np.ndarray = field(repr=False)  # (grid_size,) input unit at each grid row/col, −1 if none
    cell_kind: np.ndarray = field(repr=False)  # (grid_size, grid_size) CELL_* codes

    def window(self, out_index: int) -> np.ndarray:
        """Grid rows (or columns) of the k taps for output row (or column) out_index."""
        return self.origin + out_index * self.step + self.d * np.arange(self.k)


def sliding_geometry(
    i: int, k: int, s: int = 1, p: int = 0, d: int = 1, transposed: bool = False, output_padding: int = 0
) -> SlidingGeometry:
    """Raises LabError (from the arithmetic) for a configuration PyTorch refuses."""
    if not transposed:
        o = conv_output_size(i, k, s, p, d)
        grid = i + 2 * p
        index_1d = np.full(grid, -1)
        index_1d[p : p + i] = np.arange(i)
        kind_1d = np.where(index_1d >= 0, CELL_INPUT, CELL_PADDING)
        kind = _combine(kind_1d, kind_1d)
        return SlidingGeometry(False, i, k, s, p, d, 0, grid, 0, s, o, index_1d, kind)

    o = conv_transpose_output_size(i, k, s, p, d, output_padding)
    stretched = (i - 1) * s + 1
    pad_lo = d * (k - 1) - p  # negative: crop instead of pad
    pad_hi = pad_lo + output_padding
    lead, trail = max(pad_lo, 0), max(pad_hi, 0)
    grid = lead + stretched + trail
    origin = max(-pad_lo, 0)
    end = grid - max(-pad_hi, 0)  # first grid index past the region the kernel sees
    index_1d = np.full(grid, -1)
    positions = lead + s * np.arange(i)
    index_1d[positions] = np.arange(i)
    kind_1d = np.full(grid, CELL_PADDING)
    kind_1d[lead : lead + stretched] = CELL_INSERTED
    kind_1d[positions] = CELL_INPUT
    seen = (np.arange(grid) >= origin) & (np.arange(grid) < end)
    kind_1d[~seen] = CELL_CROPPED
    index_1d[~seen] = -1
    kind = _combine(kind_1d, kind_1d)
    return SlidingGeometry(True, i, k, s, p, d, output_padding, grid, origin, 1, o, index_1d, kind)


def _combine(rows: np.ndarray, cols: np.ndarray) -> np.ndarray:
    """2-D cell kinds from the 1-D ones: a cell is input only if its row and column both are."""
    r, c = rows[:, None], cols[None, :]
    kind = np.full((len(rows), len(cols)), CELL_INSERTED)
    kind[(r == CELL_INPUT) & (c == CELL_INPUT)] = CELL_INPUT
    kind[(r == CELL_PADDING) | (c == CELL_PADDING)] = CELL_PADDING
    kind[(r == CELL_CROPPED) | (c == CELL_CROPPED)] = CELL_CROPPED
    return kind


@dataclass(frozen=True)
class Frame:
    """One step of the animation: the output cell and the grid cells its k × k taps cover."""

    out_row: int
    out_col: int
    rows: tuple[int, ...]
    cols: tuple[int, ...]

    def cells(self) -> list[tuple[int, int]]:
        return [(r, c) for r in self.rows for c in self.cols]


def frames_for(geometry: SlidingGeometry) -> list[Frame]:
    o = geometry.output_size
    windows = [tuple(int(v) for v in geometry.window(n)) for n in range(o)]
    return [Frame(r, c, windows[r], windows[c]) for r in range(o) for c in range(o)]


def receptive_field(
    i: int,
    k: int,
    s: int,
    p: int,
    d: int,
    out_row: int,
    out_col: int,
    transposed: bool = False,
    output_padding: int = 0,
) -> np.ndarray:
    """(i, i) bool mask of the input units that output cell (out_row, out_col) depends on."""
    geometry = sliding_geometry(i, k, s, p, d, transposed, output_padding)
    o = geometry.output_size
    if not (0 <= out_row < o and 0 <= out_col < o):
        raise IndexError(f"output cell ({out_row}, {out_col}) is outside the {o} x {o} output")
    rows = geometry.input_index[geometry.window(out_row)]
    cols = geometry.input_index[geometry.window(out_col)]
    mask = np.zeros((i, i), dtype=bool)
    mask[np.ix_(rows[rows >= 0], cols[cols >= 0])] = True
    return mask


# ---------------------------------------------------------------- Plotly figures


@dataclass(frozen=True)
class SlidingLabels:
    """Text drawn in the figure; the page passes it translated."""

    input: str = "input"
    output: str = "output"
    input_cell: str = "input"
    padding: str = "padding (0)"
    inserted: str = "inserted zero"
    cropped: str = "cropped away"
    output_cell: str = "output"
    play: str = "▶"
    pause: str = "❚❚"
    step: str = "step"
    padding_value: str = "0"  # written in padding cells ("−∞" for max pooling)


def _rect_path(cells, x0: float, y0: float, inset: float = 0.04) -> tuple[list, list]:
    """x, y of closed unit squares (None-separated) for a scatter trace with fill='toself'."""
    xs, ys = [], []
    for r, c in cells:
        left, right = x0 + c - 0.5 + inset, x0 + c + 0.5 - inset
        top, bottom = y0 + r - 0.5 + inset, y0 + r + 0.5 - inset
        xs += [left, right, right, left, left, None]
        ys += [top, top, bottom, bottom, top, None]
    return xs, ys


def _outline(rows, cols, x0: float, y0: float) -> tuple[list, list]:
    left, right = x0 + min(cols) - 0.5, x0 + max(cols) + 0.5
    top, bottom = y0 + min(rows) - 0.5, y0 + max(rows) + 0.5
    return [left, right, right, left, left], [top, top, bottom, bottom, top]


def _output_offset(geometry: SlidingGeometry) -> tuple[float, float]:
    """Where the output grid's cell (0, 0) sits: right of the input, centred vertically."""
    gap = max(2, geometry.grid_size // 5)
    return geometry.grid_size + gap, (geometry.grid_size - geometry.output_size) / 2


def _base_figure(geometry: SlidingGeometry, labels: SlidingLabels) -> go.Figure:
    g, o = geometry.grid_size, geometry.output_size
    ox, oy = _output_offset(geometry)
    kind = geometry.cell_kind
    names = {
        CELL_INPUT: labels.input_cell,
        CELL_PADDING: labels.padding,
        CELL_INSERTED: labels.inserted,
        CELL_CROPPED: labels.cropped,
    }
    rows_index, cols_index = geometry.input_index[:, None], geometry.input_index[None, :]
    hover = [
        [
            f"{names[kind[r, c]]} [{rows_index[r, 0]}, {cols_index[0, c]}]"
            if kind[r, c] == CELL_INPUT
            else names[kind[r, c]]
            for c in range(g)
        ]
        for r in range(g)
    ]
    zeros = np.where(kind == CELL_PADDING, labels.padding_value, np.where(kind == CELL_INSERTED, "0", ""))
    colorscale = [[0, INPUT_COLOR], [1 / 3, PADDING_COLOR], [2 / 3, INSERTED_COLOR], [1, CROPPED_COLOR]]
    fig = go.Figure()
    fig.add_trace(
        go.Heatmap(  # 0: input side
            z=kind,
            x=np.arange(g),
            y=np.arange(g),
            zmin=0,
            zmax=3,
            colorscale=colorscale,
            showscale=False,
            xgap=2,
            ygap=2,
            text=zeros,
            texttemplate="%{text}",
            textfont=dict(color="#9aa7b4", size=11),
            hovertext=hover,
            hoverinfo="text",
        )
    )
    out_hover = [[f"{labels.output_cell} [{r}, {c}]" for c in range(o)] for r in range(o)]
    fig.add_trace(
        go.Heatmap(  # 1: output side (1 = computed)
            z=np.zeros((o, o)),
            x=ox + np.arange(o),
            y=oy + np.arange(o),
            zmin=0,
            zmax=1,
            colorscale=[[0, OUTPUT_TODO_COLOR], [1, OUTPUT_DONE_COLOR]],
            showscale=False,
            xgap=2,
            ygap=2,
            hovertext=out_hover,
            hoverinfo="text",
        )
    )
    # Backdrops that show the grid edges even where cells are white padding.
    fig.add_shape(
        type="rect",
        x0=-0.5,
        y0=-0.5,
        x1=g - 0.5,
        y1=g - 0.5,
        line=dict(color="#8a96a3", width=1),
        fillcolor="#eef1f4",
        layer="below",
    )
    fig.add_shape(
        type="rect",
        x0=ox - 0.5,
        y0=oy - 0.5,
        x1=ox + o - 0.5,
        y1=oy + o - 0.5,
        line=dict(color="#8a96a3", width=1),
        fillcolor="#eef1f4",
        layer="below",
    )
    fig.add_annotation(
        x=(g - 1) / 2, y=-0.6, text=f"<b>{labels.input}</b>", showarrow=False, yanchor="bottom", font=dict(size=14)
    )
    fig.add_annotation(
        x=ox + (o - 1) / 2,
        y=oy - 0.6,
        text=f"<b>{labels.output}</b>",
        showarrow=False,
        yanchor="bottom",
        font=dict(size=14),
    )
    pixels_per_cell = max(12, min(56, 600 // g, 900 // (ox + o)))  # sized for a ~900 px wide chart
    fig.update_layout(
        height=int(g * pixels_per_cell + 140),
        margin=dict(l=10, r=10, t=40, b=10),
        showlegend=False,
        plot_bgcolor="rgba(0,0,0,0)",
        xaxis=dict(visible=False, range=[-0.7, ox + o - 0.3], constrain="domain"),
        yaxis=dict(visible=False, autorange="reversed", scaleanchor="x", scaleratio=1, constrain="domain"),
        dragmode=False,
    )
    return fig


def _frame_traces(geometry: SlidingGeometry, frame: Frame) -> list[dict]:
    """The two traces that move, as plain dicts (100s of frames stay cheap):
    filled squares for the kernel taps and the current output cell; the
    window's dotted span plus, after a gap, the output cell's label."""
    ox, oy = _output_offset(geometry)
    tap_x, tap_y = _rect_path(frame.cells(), 0, 0)
    cur_x, cur_y = _rect_path([(frame.out_row, frame.out_col)], ox, oy, inset=0.0)
    span_x, span_y = _outline(frame.rows, frame.cols, 0, 0)
    label = f"{frame.out_row},{frame.out_col}"
    return [
        dict(type="scatter", x=tap_x + cur_x, y=tap_y + cur_y),
        dict(
            type="scatter",
            x=span_x + [None, ox + frame.out_col],
            y=span_y + [None, oy + frame.out_row],
            text=[""] * (len(span_x) + 1) + [label],
        ),
    ]


_MOVING_STYLE = [
    dict(fill="toself", mode="lines", fillcolor=KERNEL_COLOR, line=dict(color="#112554", width=1.5), hoverinfo="skip"),
    dict(
        mode="lines+text",
        line=dict(color="#112554", width=2, dash="dot"),
        textfont=dict(color="white", size=12),
        textposition="middle center",
        hoverinfo="skip",
    ),
]


ANIMATION_CONTROLS_PX = 130  # bottom margin that holds the play/pause buttons and the step slider


def animation_controls(step_labels: list[str], play: str, pause: str, step: str, frame_ms: int) -> dict:
    """Layout entries for Plotly play/pause buttons and a full-width step slider
    under the plot (one step per frame, frames named "0", "1", …). Buttons and
    slider sit on separate rows so they never overlap on a narrow screen."""
    playing = dict(frame=dict(duration=frame_ms, redraw=True), fromcurrent=True, transition=dict(duration=0))
    paused = dict(frame=dict(duration=0, redraw=False), mode="immediate", transition=dict(duration=0))
    jump = dict(frame=dict(duration=0, redraw=True), mode="immediate", transition=dict(duration=0))
    return dict(
        updatemenus=[
            dict(
                type="buttons",
                direction="left",
                x=0,
                y=0,
                xanchor="left",
                yanchor="top",
                pad=dict(t=12, r=10),
                showactive=False,
                buttons=[
                    dict(label=f"▶ {play}", method="animate", args=[None, playing]),
                    dict(label=f"❚❚ {pause}", method="animate", args=[[None], paused]),
                ],
            )
        ],
        sliders=[
            dict(
                active=0,
                x=0,
                len=1,
                y=0,
                yanchor="top",
                pad=dict(t=52, l=10, r=10),
                currentvalue=dict(prefix=f"{step} ", font=dict(size=13, color="#31333f")),
                font=dict(color="rgba(0,0,0,0)"),
                ticklen=0,
                minorticklen=0,
                steps=[
                    dict(method="animate", label=label, args=[[str(n)], jump]) for n, label in enumerate(step_labels)
                ],
            )
        ],
    )


def sliding_window_figure(
    i: int,
    k: int,
    s: int = 1,
    p: int = 0,
    d: int = 1,
    transposed: bool = False,
    output_padding: int = 0,
    labels: SlidingLabels = SlidingLabels(),
    animate: bool = True,
    frame_ms: int = 700,
) -> go.Figure:
    """The kernel over the (padded / zero-inserted) input on the left, the output on
    the right, one Plotly frame per output cell with play/pause buttons and a step
    slider. With animate=False (or more than ANIMATION_MAX_FRAMES cells) only the
    first window is drawn."""
    geometry = sliding_geometry(i, k, s, p, d, transposed, output_padding)
    frames = frames_for(geometry)
    fig = _base_figure(geometry, labels)
    fig.add_traces(
        [trace | style for trace, style in zip(_frame_traces(geometry, frames[0]), _MOVING_STYLE, strict=False)]
    )
    if not animate or len(frames) > ANIMATION_MAX_FRAMES:
        return fig

    moving = list(range(2, 2 + len(_MOVING_STYLE)))
    # Frames repeat the first frame's traces, which add_traces above validated: checking each of
    # up to ANIMATION_MAX_FRAMES again was most of a teacher's slider step (the JSON is the same).
    fig.frames = [
        go.Frame(name=str(n), data=_frame_traces(geometry, frame), traces=moving, _validate=False)
        for n, frame in enumerate(frames)
    ]
    step_labels = [f"{n + 1}/{len(frames)} → [{f.out_row}, {f.out_col}]" for n, f in enumerate(frames)]
    fig.update_layout(
        margin=dict(l=10, r=10, t=40, b=ANIMATION_CONTROLS_PX),
        height=fig.layout.height + 110,
        **animation_controls(step_labels, labels.play, labels.pause, labels.step, frame_ms),
    )
    return fig


def receptive_field_figure(
    i: int,
    k: int,
    s: int,
    p: int,
    d: int,
    out_row: int,
    out_col: int,
    transposed: bool = False,
    output_padding: int = 0,
    labels: SlidingLabels = SlidingLabels(),
) -> go.Figure:
    """The chosen output cell, its kernel footprint on the grid and — outlined in
    orange — the input units it depends on. Output cells are clickable markers whose
    customdata is (row, col)."""
    geometry = sliding_geometry(i, k, s, p, d, transposed, output_padding)
    o = geometry.output_size
    if not (0 <= out_row < o and 0 <= out_col < o):
        raise IndexError(f"output cell ({out_row}, {out_col}) is outside the {o} x {o} output")
    rows, cols = geometry.window(out_row), geometry.window(out_col)
    fig = _base_figure(geometry, labels)
    fig.data[1].hoverinfo = "skip"  # the click targets below answer instead
    ox, oy = _output_offset(geometry)
    taps = [(r, c) for r in rows for c in cols]
    tap_x, tap_y = _rect_path(taps, 0, 0)
    fig.add_trace(
        go.Scatter(
            x=tap_x,
            y=tap_y,
            fill="toself",
            mode="lines",
            fillcolor="rgba(17, 37, 84, 0.25)",
            line=dict(color="#112554", width=1),
            hoverinfo="skip",
        )
    )
    seen = [(r, c) for r, c in taps if geometry.input_index[r] >= 0 and geometry.input_index[c] >= 0]
    if seen:
        rf_x, rf_y = _rect_path(seen, 0, 0, inset=0.0)
        fig.add_trace(
            go.Scatter(x=rf_x, y=rf_y, mode="lines", line=dict(color=RECEPTIVE_COLOR, width=4), hoverinfo="skip")
        )
    cur_x, cur_y = _rect_path([(out_row, out_col)], ox, oy, inset=0.0)
    fig.add_trace(
        go.Scatter(
            x=cur_x,
            y=cur_y,
            fill="toself",
            mode="lines",
            fillcolor=CURRENT_COLOR,
            line=dict(color=RECEPTIVE_COLOR, width=4),
            hoverinfo="skip",
        )
    )
    r_grid, c_grid = np.divmod(np.arange(o * o), o)
    fig.add_trace(
        go.Scatter(  # click targets over the output cells
            x=ox + c_grid,
            y=oy + r_grid,
            mode="markers",
            customdata=np.stack([r_grid, c_grid], axis=1).tolist(),
            marker=dict(symbol="square", size=12, color="rgba(0,0,0,0)"),  # invisible; a click within ~20 px picks it
            selected=dict(marker=dict(opacity=1)),
            unselected=dict(marker=dict(opacity=1)),
            hovertemplate=f"{labels.output_cell} [%{{customdata[0]}}, %{{customdata[1]}}]<extra></extra>",
        )
    )
    fig.update_layout(clickmode="event+select")
    return fig


def output_cell_from_selection(points: list[dict], output_size: int) -> tuple[int, int] | None:
    """The (row, col) of a clicked output cell from Streamlit's selection points, if any."""
    for point in points:
        data = point.get("customdata")
        if isinstance(data, dict):  # a typed array arrives as {"0": row, "1": col}
            data = [data.get("0"), data.get("1")]
        if isinstance(data, (list, tuple)) and len(data) == 2 and all(isinstance(v, (int, float)) for v in data):
            r, c = int(data[0]), int(data[1])
            if 0 <= r < output_size and 0 <= c < output_size:
                return r, c
    return None


# ---------------------------------------------------------------- GIF


def _rgb(hex_color: str) -> tuple[int, int, int]:
    return tuple(int(hex_color[n : n + 2], 16) for n in (1, 3, 5))


def _box(r: int, c: int, cell: int) -> tuple[int, int, int, int]:
    return c * cell, r * cell, (c + 1) * cell, (r + 1) * cell


def sliding_window_gif(
    i: int,
    k: int,
    s: int = 1,
    p: int = 0,
    d: int = 1,
    transposed: bool = False,
    output_padding: int = 0,
    cell: int | None = None,
    duration_ms: int = 500,
) -> bytes:
    """The same animation as a looping GIF (numbers only: zeros in padding cells).
    ``cell`` is the side of one grid cell in pixels; by default the picture is
    kept about 640 px wide."""
    geometry = sliding_geometry(i, k, s, p, d, transposed, output_padding)
    o = geometry.output_size
    if cell is None:
        cell = max(12, min(32, 640 // (geometry.grid_size + o + 2)))
    palette = {
        CELL_INPUT: INPUT_COLOR,
        CELL_PADDING: PADDING_COLOR,
        CELL_INSERTED: INSERTED_COLOR,
        CELL_CROPPED: CROPPED_COLOR,
    }
    fill = np.array([_rgb(palette[kind]) for kind in geometry.cell_kind.ravel()], dtype=np.uint8)
    fill = fill.reshape(geometry.grid_size, geometry.grid_size, 3)
    zeros = np.where((geometry.cell_kind == CELL_PADDING) | (geometry.cell_kind == CELL_INSERTED), 0.0, np.nan)
    input_base = grid_image(zeros, fill, cell=cell)
    output_image = grid_image(None, np.full((o, o, 3), _rgb(OUTPUT_TODO_COLOR), dtype=np.uint8), cell=cell)
    kernel_rgb, done_rgb, current_rgb = (17, 37, 84), _rgb(OUTPUT_DONE_COLOR), _rgb(CURRENT_COLOR)
    images = []
    previous = None
    for frame in frames_for(geometry):
        picture = input_base.copy()
        overlay = Image.new("RGBA", picture.size, (0, 0, 0, 0))
        draw = ImageDraw.Draw(overlay)
        for r, c in frame.cells():
            draw.rectangle(_box(r, c, cell), fill=(*kernel_rgb, 140), outline=(0, 0, 0, 255), width=2)
        picture = Image.alpha_composite(picture.convert("RGBA"), overlay).convert("RGB")
        out_draw = ImageDraw.Draw(output_image)
        if previous is not None:
            out_draw.rectangle(_box(*previous, cell), fill=done_rgb, outline=GRID_LINE)
        previous = (frame.out_row, frame.out_col)
        out_draw.rectangle(_box(*previous, cell), fill=current_rgb, outline=(0, 0, 0), width=3)
        images.append(_side_by_side_centred(picture, output_image.copy(), gap=cell * 2))
    return gif_bytes(images, duration_ms=duration_ms)


def _side_by_side_centred(left: Image.Image, right: Image.Image, gap: int) -> Image.Image:
    height = max(left.height, right.height)
    canvas = Image.new("RGB", (left.width + gap + right.width, height), (255, 255, 255))
    canvas.paste(left, (0, (height - left.height) // 2))
    canvas.paste(right, (left.width + gap, (height - right.height) // 2))
    return canvas
