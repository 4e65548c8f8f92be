"""Figures for "convolution as a matrix multiplication" (Dumoulin & Visin §4.1).

C is drawn from a ``ConvMatrixIndex`` (where each kernel weight sits) and the
kernel values. ``matrix_figure`` shows the product the way one computes it by
hand: the vector on top, one entry above each column of the matrix, and the
result to the right, one entry beside each row. Past ``HEATMAP_LIMIT`` rows or
columns a heatmap is unreadable, so ``sparsity_figure`` draws only where the
non-zeros are. Every word on a figure comes in through a labels object; this
module never knows the reader's language.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import plotly.graph_objects as go
from PIL import Image
from plotly.subplots import make_subplots

from dcgan_core.viz.gif import gif_bytes, grid_image, side_by_side

HEATMAP_LIMIT = 48  # more columns than this (or 4/3 as many rows) and C is drawn as a sparsity pattern
TEXT_LIMIT = 36  # more columns than this and the cells are too narrow for symbols
SVG_POINT_LIMIT = 5000  # a sparsity pattern with more non-zeros than this is drawn with WebGL

# Kernel weights: blue negative, white zero, orange positive.
VALUE_SCALE = [[0.0, "#2166ac"], [0.25, "#92c5de"], [0.5, "#f7f7f7"], [0.75, "#f4a582"], [1.0, "#b2182b"]]
ZERO_COLOUR = "#eceff4"  # an entry of C that is zero whatever the kernel (structural zero)
PADDING_COLOUR = "#d9dde3"
HIGHLIGHT_COLOUR = "#ffc933"
VECTOR_SCALE = [[0.0, "#f8fafc"], [1.0, HIGHLIGHT_COLOUR]]
OUTLINE = "#111111"

_SUBSCRIPTS = str.maketrans("0123456789-", "₀₁₂₃₄₅₆₇₈₉₋")


@dataclass
class MatrixLabels:
    """Words shown on the matrix figures (the page passes translated ones)."""

    matrix: str = "C"
    vector: str = "x"  # the vector C multiplies
    result: str = "y"  # C·x
    row_cell: str = "y"  # what a row of the matrix stands for (an output unit)
    col_cell: str = "x"  # what a column stands for (an input unit)
    weight: str = "w"
    structural_zero: str = "0"


@dataclass
class GridLabels:
    """Words for a small grid (input, kernel or output)."""

    title: str = ""
    cell: str = ""  # hover prefix for a cell, e.g. "input"
    padding: str = "0"  # hover text of a padding cell


def kernel_symbol(r: int, c: int) -> str:
    """w₀₁ style name of a kernel weight (a comma once indices reach 10)."""
    sep = "," if max(r, c) >= 10 else ""
    return f"w{str(r).translate(_SUBSCRIPTS)}{sep}{str(c).translate(_SUBSCRIPTS)}"


def number(value: float) -> str:
    """Short, readable number: integers without a decimal point."""
    if not np.isfinite(value):
        return ""
    if abs(value - round(value)) < 1e-9:
        return str(int(round(value)))
    return f"{value:.2f}"


def cell_name(index: int, width: int) -> str:
    """Row-major position → "(r, c)"."""
    return f"({index // width}, {index % width})"


def use_sparsity_view(shape: tuple[int, int], limit: int = HEATMAP_LIMIT) -> bool:
    """Too big to read as numbers? Rows stack down the page, so a tall matrix may have more of them."""
    rows, cols = shape
    return cols > limit or rows > limit * 4 // 3


def dense_matrix(index, kernel: np.ndarray) -> np.ndarray:
    """C as a dense numpy array (small configurations only)."""
    kernel = np.asarray(kernel, dtype=float)
    C = np.zeros(index.shape)
    C[index.rows, index.cols] = kernel[index.kernel_rows, index.kernel_cols]
    return C


def row_columns(index, row: int) -> np.ndarray:
    """The columns (input units) that row ``row`` of C touches."""
    return index.cols[index.rows == row]


def window_taps(
    out_row: int, out_col: int, kernel_size: tuple[int, int], stride: int, padding: int, dilation: int
) -> list[tuple[int, int]]:
    """Cells of the padded input that output (out_row, out_col) reads: one per kernel weight."""
    kH, kW = kernel_size
    return [
        (out_row * stride + kr * dilation, out_col * stride + kc * dilation) for kr in range(kH) for kc in range(kW)
    ]


def add_shapes(fig: go.Figure, shapes: list[dict]) -> None:
    """Append shapes in one layout update (one add_shape per cell re-validates the layout each time)."""
    if shapes:
        fig.update_layout(shapes=[*fig.layout.shapes, *shapes])


def _outline(
    xref: str, yref: str, r: int, c: int, colour: str = OUTLINE, width: float = 3, h: int = 1, w: int = 1
) -> dict:
    return dict(
        type="rect",
        xref=xref,
        yref=yref,
        x0=c - 0.5,
        x1=c + w - 0.5,
        y0=r - 0.5,
        y1=r + h - 0.5,
        line=dict(color=colour, width=width),
        fillcolor="rgba(0,0,0,0)",
        layer="above",
    )


def _symmetric_range(values: np.ndarray) -> float:
    finite = np.asarray(values, dtype=float)
    finite = finite[np.isfinite(finite)]
    return float(max(np.abs(finite).max(), 1e-9)) if finite.size else 1.0


def matrix_figure(
    index,
    kernel: np.ndarray,
    vector: np.ndarray | None = None,
    *,
    transpose: bool = False,
    highlight_row: int | None = None,
    labels: MatrixLabels | None = None,
    cell_text: str = "symbol",
) -> go.Figure:
    """C (or Cᵀ with ``transpose``) as a heatmap, every non-zero named by its weight.

    With ``vector`` (flattened x for C, flattened y for Cᵀ) the figure shows
    the whole product: the vector as a row on top, one entry above each
    column, and the result (the matrix times the vector) as a column on the
    right. ``highlight_row`` outlines one row of the shown matrix, the vector
    entries it multiplies and the result entry it produces. ``cell_text`` is
    "symbol" (w₁₂), "value" or "both".
    """
    labels = labels or MatrixLabels()
    kernel = np.asarray(kernel, dtype=float)
    C = dense_matrix(index, kernel)
    weight_r = np.full(index.shape, -1)
    weight_c = np.full(index.shape, -1)
    weight_r[index.rows, index.cols] = index.kernel_rows
    weight_c[index.rows, index.cols] = index.kernel_cols
    row_width, col_width = index.output_size[1], index.input_size[1]
    if transpose:
        C, weight_r, weight_c = C.T, weight_r.T, weight_c.T
        row_width, col_width = col_width, row_width
    structural = weight_r >= 0
    m, n = C.shape

    show_text = n <= TEXT_LIMIT
    values = np.where(structural, C, np.nan)
    zeros = np.where(structural, np.nan, 0.0)
    text = np.full((m, n), "", dtype=object)
    hover = np.empty((m, n), dtype=object)
    for i in range(m):
        for j in range(n):
            where = f"{labels.row_cell} {cell_name(i, row_width)} · {labels.col_cell} {cell_name(j, col_width)}"
            if structural[i, j]:
                symbol = kernel_symbol(weight_r[i, j], weight_c[i, j])
                value = number(C[i, j])
                text[i, j] = {"symbol": symbol, "value": value}.get(cell_text, f"{symbol}<br>{value}")
                hover[i, j] = f"{labels.matrix}[{i}, {j}] = {symbol} = {value}<br>{where}"
            else:
                hover[i, j] = f"{labels.matrix}[{i}, {j}] = 0<br>{where}"
    limit = _symmetric_range(kernel)

    matrix_traces = [
        # the value trace on top answers hovers over every cell, gaps included
        go.Heatmap(
            z=zeros,
            colorscale=[[0, ZERO_COLOUR], [1, ZERO_COLOUR]],
            showscale=False,
            xgap=1,
            ygap=1,
            hoverinfo="skip",
            name=labels.structural_zero,
        ),
        go.Heatmap(
            z=values,
            colorscale=VALUE_SCALE,
            zmin=-limit,
            zmax=limit,
            showscale=False,
            xgap=1,
            ygap=1,
            text=text if show_text else None,
            texttemplate="%{text}" if show_text else None,
            textfont=dict(size=11 if n <= 20 else 9),
            customdata=hover,
            hoverongaps=True,
            hovertemplate="%{customdata}<extra></extra>",
            name=labels.matrix,
        ),
    ]
    if vector is None:
        fig = go.Figure(matrix_traces)
        matrix_axes = ("x", "y")
    else:
        vector = np.asarray(vector, dtype=float).reshape(-1)
        result = C @ vector
        touched = np.zeros(n)
        produced = np.zeros(m)
        if highlight_row is not None:
            touched[structural[highlight_row]] = 1
            produced[highlight_row] = 1
        fig = make_subplots(
            rows=2,
            cols=2,
            shared_xaxes="columns",
            shared_yaxes="rows",
            column_widths=[n, max(1.5, n / 12)],
            row_heights=[1.2, m],
            horizontal_spacing=0.02,
            vertical_spacing=0.02,
        )
        for trace in matrix_traces:
            fig.add_trace(trace, row=2, col=1)
        vector_text = [[number(v) for v in vector]] if show_text else None
        fig.add_trace(
            go.Heatmap(
                z=[touched],
                colorscale=VECTOR_SCALE,
                zmin=0,
                zmax=1,
                showscale=False,
                xgap=1,
                ygap=1,
                text=vector_text,
                texttemplate="%{text}" if show_text else None,
                customdata=[
                    [
                        f"{labels.vector}[{j}] = {number(v)}<br>{labels.col_cell} {cell_name(j, col_width)}"
                        for j, v in enumerate(vector)
                    ]
                ],
                hovertemplate="%{customdata}<extra></extra>",
                name=labels.vector,
            ),
            row=1,
            col=1,
        )
        fig.add_trace(
            go.Heatmap(
                z=produced[:, None],
                colorscale=VECTOR_SCALE,
                zmin=0,
                zmax=1,
                showscale=False,
                xgap=1,
                ygap=1,
                text=[[number(v)] for v in result] if m <= HEATMAP_LIMIT * 4 // 3 else None,
                texttemplate="%{text}",
                customdata=[
                    [f"{labels.result}[{i}] = {number(v)}<br>{labels.row_cell} {cell_name(i, row_width)}"]
                    for i, v in enumerate(result)
                ],
                hovertemplate="%{customdata}<extra></extra>",
                name=labels.result,
            ),
            row=2,
            col=2,
        )
        fig.update_yaxes(visible=False, row=1, col=1)
        fig.update_xaxes(visible=False, row=2, col=2)
        fig.update_xaxes(visible=False, row=1, col=2)
        fig.update_yaxes(visible=False, row=1, col=2)
        fig.update_xaxes(
            side="top",
            row=1,
            col=1,
            tickvals=list(range(n)) if n <= 24 else None,
            ticktext=[cell_name(j, col_width) for j in range(n)] if n <= 24 else None,
            tickangle=-90,
            tickfont=dict(size=9),
            showticklabels=n <= 24,
        )
        fig.add_annotation(
            text=f"<b>{labels.vector}ᵀ</b>",
            xref="x domain",
            yref="y domain",
            x=-0.005,
            y=0.5,
            xanchor="right",
            showarrow=False,
            font=dict(size=15),
        )
        fig.add_annotation(
            text=f"<b>{labels.result} = {labels.matrix}·{labels.vector}</b>",
            xref="x4 domain",
            yref="y3 domain",
            x=0.5,
            y=1.0,
            yanchor="bottom",
            showarrow=False,
            font=dict(size=13),
        )
        fig.update_yaxes(autorange="reversed", row=2, col=2)
        fig.update_xaxes(range=[-0.5, n - 0.5], row=1, col=1)
        matrix_axes = ("x3", "y3")
        if highlight_row is not None:
            taps = [_outline("x", "y", 0, j, width=2) for j in np.flatnonzero(structural[highlight_row])]
            add_shapes(fig, [*taps, _outline("x4", "y4", highlight_row, 0)])

    matrix_x = "xaxis" + matrix_axes[0][1:]
    matrix_y = "yaxis" + matrix_axes[1][1:]
    fig.layout[matrix_y].update(
        autorange="reversed",
        title=dict(text=labels.row_cell, font=dict(size=12)),
        tickvals=list(range(m)) if m <= 24 else None,
        ticktext=[cell_name(i, row_width) for i in range(m)] if m <= 24 else None,
        tickfont=dict(size=9),
    )
    fig.layout[matrix_x].update(
        title=dict(text=labels.col_cell, font=dict(size=12)),
        showticklabels=vector is None and n <= 24,
        range=[-0.5, n - 0.5],
    )
    if highlight_row is not None:
        fig.add_shape(_outline(matrix_axes[0], matrix_axes[1], highlight_row, 0, w=n))
    cell_px = int(np.clip(520 / (m + 1.2), 16, 44))
    fig.update_layout(
        height=int((m + (1.2 if vector is not None else 0)) * cell_px + 150),
        margin=dict(l=70, r=10, t=90 if vector is not None and n <= 24 else 40, b=50),
        plot_bgcolor="white",
        hoverlabel=dict(align="left"),
    )
    return fig


def sparsity_figure(
    C, highlight_row: int | None = None, labels: MatrixLabels | None = None, transpose: bool = False
) -> go.Figure:
    """Where the non-zeros of C are (a "spy" plot), for matrices too big to read as numbers.

    ``C`` is a ``ConvMatrixIndex`` or a torch sparse matrix.
    """
    labels = labels or MatrixLabels()
    if hasattr(C, "kernel_rows"):
        rows, cols, shape = np.asarray(C.rows), np.asarray(C.cols), tuple(C.shape)
    else:
        coalesced = C.coalesce()
        rows, cols = (a.cpu().numpy() for a in coalesced.indices())
        shape = tuple(coalesced.shape)
    if transpose:
        rows, cols, shape = cols, rows, (shape[1], shape[0])
    m, n = shape
    marker = float(np.clip(560 / max(m, n), 1.5, 10))
    chosen = rows == highlight_row if highlight_row is not None else np.zeros(len(rows), bool)
    # WebGL only where SVG would be slow: a browser without a graphics card draws WebGL in software,
    # and a page may hold only so many WebGL contexts.
    scatter = go.Scattergl if len(rows) > SVG_POINT_LIMIT else go.Scatter
    fig = go.Figure()
    fig.add_trace(
        scatter(
            x=cols[~chosen],
            y=rows[~chosen],
            mode="markers",
            name=labels.matrix,
            marker=dict(symbol="square", size=marker, color="#4a6fa5"),
            hovertemplate=f"{labels.matrix}[%{{y}}, %{{x}}] ≠ 0<extra></extra>",
        )
    )
    if chosen.any():
        fig.add_trace(
            scatter(
                x=cols[chosen],
                y=rows[chosen],
                mode="markers",
                name=labels.row_cell,
                marker=dict(symbol="square", size=max(marker, 5), color="#e8590c"),
                hovertemplate=f"{labels.matrix}[%{{y}}, %{{x}}] ≠ 0<extra></extra>",
            )
        )
        fig.add_shape(
            type="rect",
            x0=-0.5,
            x1=n - 0.5,
            y0=highlight_row - 0.5,
            y1=highlight_row + 0.5,
            line=dict(color="#e8590c", width=1),
            fillcolor="rgba(232,89,12,0.12)",
        )
    fig.update_xaxes(
        range=[-0.5, n - 0.5],
        side="top",
        title=dict(text=labels.col_cell, font=dict(size=12)),
        showgrid=False,
        zeroline=False,
        constrain="domain",
    )
    fig.update_yaxes(
        range=[m - 0.5, -0.5],
        title=dict(text=labels.row_cell, font=dict(size=12)),
        showgrid=False,
        zeroline=False,
        scaleanchor="x",
        constrain="domain",
    )
    fig.update_layout(
        height=int(np.clip(700 * m / n, 260, 760)),
        showlegend=False,
        plot_bgcolor="#fbfbfd",
        margin=dict(l=60, r=10, t=50, b=10),
    )
    return fig


def grid_figure(
    values: np.ndarray,
    *,
    text: np.ndarray | None = None,
    padding: int | tuple[int, int] = 0,
    outlined: list[tuple[int, int]] | None = None,
    clickable: bool = False,
    labels: GridLabels | None = None,
    value_range: float | None = None,
    max_cell_px: int = 46,
) -> go.Figure:
    """A small grid of numbers (input, kernel, output), coloured by value.

    ``padding`` draws that many grey zero cells around the values;
    ``outlined`` (cells in padded coordinates) get a thick border; NaN cells
    stay blank. ``clickable`` adds an invisible marker per cell so a click
    selects it (Streamlit's on_select reports the point's x, y).
    """
    labels = labels or GridLabels()
    values = np.asarray(values, dtype=float)
    pH, pW = padding if isinstance(padding, tuple) else (padding, padding)
    H, W = values.shape
    full = np.full((H + 2 * pH, W + 2 * pW), np.nan)
    full[pH : pH + H, pW : pW + W] = values
    pad_mask = np.ones(full.shape, bool)
    pad_mask[pH : pH + H, pW : pW + W] = False
    if text is None:
        text = np.vectorize(number, otypes=[object])(values) if values.size else np.empty((H, W), object)
    full_text = np.full(full.shape, "0", dtype=object)
    full_text[pH : pH + H, pW : pW + W] = text
    hover = np.empty(full.shape, dtype=object)
    for r in range(full.shape[0]):
        for c in range(full.shape[1]):
            if pad_mask[r, c]:
                hover[r, c] = labels.padding
            else:
                hover[r, c] = f"{labels.cell} ({r - pH}, {c - pW}) = {number(full[r, c])}"
    limit = value_range or _symmetric_range(values)
    big = max(full.shape) > 16
    fig = go.Figure()
    fig.add_trace(
        go.Heatmap(
            z=np.where(pad_mask, 0.0, np.nan),
            colorscale=[[0, PADDING_COLOUR], [1, PADDING_COLOUR]],
            showscale=False,
            xgap=1,
            ygap=1,
            text=None if big else np.where(pad_mask, "0", ""),
            texttemplate=None if big else "%{text}",
            textfont=dict(color="#7a808a"),
            hoverinfo="skip",
        )
    )
    fig.add_trace(
        go.Heatmap(
            z=np.where(pad_mask, np.nan, full),
            colorscale=VALUE_SCALE,
            zmin=-limit,
            zmax=limit,
            showscale=False,
            xgap=1,
            ygap=1,
            text=None if big else full_text,
            texttemplate=None if big else "%{text}",
            customdata=hover,
            hoverongaps=True,
            hovertemplate="%{customdata}<extra></extra>",
        )
    )
    if clickable:
        rr, cc = np.mgrid[0:H, 0:W]
        fig.add_trace(
            go.Scatter(
                x=(cc + pW).ravel(),
                y=(rr + pH).ravel(),
                mode="markers",
                marker=dict(symbol="square", size=max(6, 240 // max(H, W)), color="rgba(0,0,0,0)"),
                hovertext=[hover[r + pH, c + pW] for r, c in zip(rr.ravel(), cc.ravel(), strict=False)],
                hoverinfo="text",
                showlegend=False,
            )
        )
    add_shapes(fig, [_outline("x", "y", r, c, width=2.5) for r, c in outlined or []])
    rows, cols = full.shape
    cell_px = int(np.clip(300 / max(rows, cols), 10, max_cell_px))
    fig.update_xaxes(visible=False, range=[-0.5, cols - 0.5], constrain="domain")
    fig.update_yaxes(visible=False, range=[rows - 0.5, -0.5], scaleanchor="x", constrain="domain")
    fig.update_layout(
        height=rows * cell_px + (70 if labels.title else 30),
        plot_bgcolor="white",
        margin=dict(l=5, r=5, t=40 if labels.title else 5, b=5),
        title=dict(text=labels.title, font=dict(size=14), x=0.5, xanchor="center"),
        dragmode=False,
        clickmode="event+select" if clickable else "event",
    )
    return fig


def _cell_colours(values: np.ndarray, limit: float) -> np.ndarray:
    """(H, W, 3) uint8 colours for values on VALUE_SCALE; NaN cells white."""
    stops = np.array([s for s, _ in VALUE_SCALE])
    rgb = np.array([[int(h[i : i + 2], 16) for i in (1, 3, 5)] for _, h in VALUE_SCALE], dtype=float)
    t = np.clip((np.nan_to_num(values) / limit + 1) / 2, 0, 1)
    out = np.stack([np.interp(t, stops, rgb[:, ch]) for ch in range(3)], axis=-1)
    out[~np.isfinite(values)] = 255
    return out.astype(np.uint8)


def _hex(colour: str) -> tuple[int, int, int]:
    return tuple(int(colour[i : i + 2], 16) for i in (1, 3, 5))


def frame_units(m: int, max_frames: int = 64) -> list[int]:
    """The output units a GIF shows, one frame each: all m of them, or an even
    spread of at most ``max_frames`` (the last one always included)."""
    if m <= max_frames:
        return list(range(m))
    return sorted(set(np.linspace(0, m - 1, max_frames).round().astype(int).tolist()))


def _panel(values, fill: np.ndarray, cell: int, border: np.ndarray | None = None, max_side: int = 560):
    """grid_image for grids small enough to outline cell by cell; bigger ones
    become plain pixels (each cell a cell×cell block), shrunk to ``max_side``."""
    if fill.shape[0] * fill.shape[1] <= 900:
        return grid_image(values, fill, cell=cell, border=border)
    fill = fill.copy()
    if border is not None:
        fill[border] = (0, 0, 0)
    image = Image.fromarray(np.ascontiguousarray(fill, dtype=np.uint8))
    width, height = fill.shape[1] * cell, fill.shape[0] * cell
    scale = min(1.0, max_side / max(width, height))
    size = (max(1, round(width * scale)), max(1, round(height * scale)))
    resample = Image.Resampling.NEAREST if scale == 1.0 else Image.Resampling.BOX
    return image.resize(size, resample)


def conv_matrix_gif(
    index,
    kernel: np.ndarray,
    x: np.ndarray,
    stride: int = 1,
    padding: int = 0,
    dilation: int = 1,
    max_frames: int = 64,
    duration_ms: int = 700,
) -> bytes:
    """One frame per output unit: the kernel's window on the padded input,
    C with that row lit, and the output filling in. Numbers only, no words."""
    kernel = np.asarray(kernel, dtype=float)
    x = np.asarray(x, dtype=float)
    C = dense_matrix(index, kernel) if index.shape[1] <= 25 else None
    y = np.zeros(index.shape[0])
    np.add.at(y, index.rows, kernel[index.kernel_rows, index.kernel_cols] * x.reshape(-1)[index.cols])
    (H, W), (oH, oW), (kH, kW) = index.input_size, index.output_size, kernel.shape
    limit_x, limit_y, limit_k = _symmetric_range(x), _symmetric_range(y), _symmetric_range(kernel)
    small = max(H + 2 * padding, W + 2 * padding) <= 16
    in_cell = 36 if small else max(8, 360 // max(H + 2 * padding, W + 2 * padding))
    m, n = index.shape
    c_cell = int(np.clip(560 // max(n, 1), 1, 28))
    show_c_numbers = C is not None and c_cell >= 22
    if show_c_numbers:
        structural = np.zeros(index.shape, bool)
        structural[index.rows, index.cols] = True
    # Otherwise C is painted straight from the index: one pixel per entry, or
    # several entries per pixel for big matrices, never a dense image.
    shrink = min(1.0, 560 / max(m, n))
    pixel_rows = np.floor(index.rows * shrink).astype(int)
    pixel_cols = np.floor(index.cols * shrink).astype(int)
    base = np.full((int(np.ceil(m * shrink)), int(np.ceil(n * shrink)), 3), 255, np.uint8)
    base[pixel_rows, pixel_cols] = (176, 196, 222)
    blow_up = max(1, min(c_cell, 560 // max(m, 1))) if shrink == 1.0 else 1
    frames = []
    for step in frame_units(index.shape[0], max_frames):
        out_r, out_c = divmod(step, oW)
        padded = np.zeros((H + 2 * padding, W + 2 * padding))
        padded[padding : padding + H, padding : padding + W] = x
        fill = _cell_colours(padded, limit_x)
        fill[:padding], fill[padding + H :] = _hex(PADDING_COLOUR), _hex(PADDING_COLOUR)
        fill[:, :padding], fill[:, padding + W :] = _hex(PADDING_COLOUR), _hex(PADDING_COLOUR)
        border = np.zeros(padded.shape, bool)
        for r, c in window_taps(out_r, out_c, (kH, kW), stride, padding, dilation):
            border[r, c] = True
            fill[r, c] = _hex(HIGHLIGHT_COLOUR)
        panel_in = _panel(padded if small else None, fill, in_cell, border)

        if show_c_numbers:
            c_fill = np.where(structural[..., None], np.array((176, 196, 222), np.uint8), np.uint8(255))
            c_fill[step, ~structural[step]] = (255, 243, 205)
            c_fill[step, structural[step]] = _hex(HIGHLIGHT_COLOUR)
            panel_c = grid_image(np.where(structural, C, np.nan), c_fill.astype(np.uint8), cell=c_cell)
        else:
            picture = base.copy()
            band = picture[int(np.floor(step * shrink))]
            band[np.all(band == 255, axis=-1)] = (255, 243, 205)
            in_row = index.rows == step
            picture[pixel_rows[in_row], pixel_cols[in_row]] = _hex(HIGHLIGHT_COLOUR)
            panel_c = Image.fromarray(np.repeat(np.repeat(picture, blow_up, axis=0), blow_up, axis=1))

        shown = np.full(oH * oW, np.nan)
        shown[: step + 1] = y[: step + 1]
        out_fill = _cell_colours(shown.reshape(oH, oW), limit_y)
        out_border = np.zeros((oH, oW), bool)
        out_border[out_r, out_c] = True
        out_cell = 36 if max(oH, oW) <= 16 else max(8, 360 // max(oH, oW))
        panel_out = _panel(shown.reshape(oH, oW) if out_cell >= 30 else None, out_fill, out_cell, out_border)
        panel_k = grid_image(kernel if kH * kW <= 64 else None, _cell_colours(kernel, limit_k), cell=30)
        frames.append(side_by_side([panel_in, panel_k, panel_c, panel_out]))
    return gif_bytes(frames, duration_ms=duration_ms)


def example_values(shape: tuple[int, ...], seed: int, integers: bool = True, kind: str = "input") -> np.ndarray:
    """Readable example numbers for a lesson: small integers (inputs 0…4,
    kernel weights ±1, ±2, 3 — never 0, so every weight shows up in C) or
    one-decimal numbers. ``kind`` ("input" or "kernel") picks an independent
    stream, so changing one shape keeps the other's values."""
    rng = np.random.default_rng([int(seed), 0 if kind == "input" else 1])
    if kind == "kernel":
        if integers:
            return rng.choice([-2.0, -1.0, 1.0, 2.0, 3.0], size=shape)
        magnitude = rng.uniform(0.1, 1.5, size=shape)
        return np.round(magnitude * rng.choice([-1.0, 1.0], size=shape), 1)
    if integers:
        return rng.integers(0, 5, size=shape).astype(float)
    return np.round(rng.uniform(-2, 2, size=shape), 1)


def row_expression(
    index, kernel: np.ndarray, vector: np.ndarray, row: int, max_lines: int = 4, vector_name: str = "x"
) -> tuple[list[str], list[str], float]:
    """Row ``row`` of C times the vector as LaTeX lines, one per kernel row:
    (terms with symbols, the same terms with numbers, value). Past
    ``max_lines`` kernel rows the lines end in ⋯; the value is always the full sum."""
    kernel = np.asarray(kernel, dtype=float)
    vector = np.asarray(vector, dtype=float).reshape(-1)
    chosen = np.flatnonzero(index.rows == row)
    width = index.input_size[1]
    symbols: dict[int, list[str]] = {}
    numbers: dict[int, list[str]] = {}
    total = 0.0
    for j in chosen:
        kr, kc, col = int(index.kernel_rows[j]), int(index.kernel_cols[j]), int(index.cols[j])
        weight, value = kernel[kr, kc], vector[col]
        total += weight * value
        symbols.setdefault(kr, []).append(rf"w_{{{kr}{kc}}}\,{vector_name}_{{({col // width},{col % width})}}")
        numbers.setdefault(kr, []).append(rf"{_latex_number(weight)}\cdot{_latex_number(value)}")
    if not symbols:
        return ["0"], ["0"], 0.0
    symbol_lines = [" + ".join(symbols[kr]) for kr in sorted(symbols)]
    number_lines = [" + ".join(numbers[kr]) for kr in sorted(numbers)]
    if len(symbol_lines) > max_lines:
        symbol_lines = symbol_lines[: max_lines - 1] + [r"\cdots"]
        number_lines = number_lines[: max_lines - 1] + [r"\cdots"]
    return symbol_lines, number_lines, total


def _latex_number(value: float) -> str:
    text = number(value)
    return f"({text})" if value < 0 else text
