"""The transposed convolution done by hand, one frame at a time.

From a ``TransposedSteps`` (dcgan_core.transposed): the input y, then s − 1
zeros inserted between its units, then d(k − 1) − p zeros of padding around
(output_padding more on the bottom/right; negative padding crops), then the
kernel turned 180°, then one frame per output unit as the flipped kernel
slides with unit stride and the output fills in. Everything is drawn on one
fixed canvas so the units stay where they are while zeros appear around them.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import plotly.graph_objects as go
from plotly.subplots import make_subplots

from dcgan_core.viz.gif import gif_bytes, grid_image, side_by_side
from dcgan_core.viz.matrix import (
    OUTLINE,
    PADDING_COLOUR,
    VALUE_SCALE,
    _cell_colours,
    _hex,
    _symmetric_range,
    kernel_symbol,
    number,
)

EMPTY, UNIT, INSERTED, PADDING, CROPPED = 0, 1, 2, 3, 4
INSERTED_COLOUR = "#fff1b8"
CROPPED_COLOUR = "#f6d5d8"
ZERO_SCALE = [
    [0.0, INSERTED_COLOUR],
    [0.33, INSERTED_COLOUR],
    [0.34, PADDING_COLOUR],
    [0.66, PADDING_COLOUR],
    [0.67, CROPPED_COLOUR],
    [1.0, CROPPED_COLOUR],
]


@dataclass
class ZeroInsertionLabels:
    """Words on the figure; the page passes translated ones. Stage titles may
    use {row}, {col} and {value} (the output unit a slide frame computes), {n} and {total}
    (its position among the output units, in reading order)."""

    stage_input: str = "y"
    stage_insert: str = "1"
    stage_pad: str = "2"
    stage_flip: str = "3"
    stage_slide: str = "4: ({row}, {col}) = {value} · {n}/{total}"
    canvas: str = ""
    kernel: str = "w"
    flipped_kernel: str = "w ↻ 180°"
    output: str = ""
    input_unit: str = "y"
    inserted_zero: str = "0"
    padding_zero: str = "0"
    cropped: str = "×"
    play: str = ""
    pause: str = ""
    step: str = ""


@dataclass
class Frame:
    """One picture of the animation."""

    stage: str  # "input", "insert", "pad", "flip" or "slide"
    values: np.ndarray  # canvas numbers, NaN where nothing is
    kinds: np.ndarray  # canvas cell kinds: EMPTY, UNIT, INSERTED, PADDING or CROPPED
    kernel: np.ndarray  # the kernel as shown (flipped from the "flip" stage on)
    kernel_names: np.ndarray  # w₀₀-style names, moved with the flip
    output: np.ndarray  # (oH, oW), NaN where not computed yet
    taps: list[tuple[int, int]] = field(default_factory=list)  # canvas cells under the kernel
    cell: tuple[int, int] | None = None  # output unit computed in this frame
    value: float | None = None  # its value: the sum of taps × flipped kernel


@dataclass
class Canvas:
    """Where each array of the steps sits on the common canvas."""

    shape: tuple[int, int]
    inserted_at: tuple[int, int]  # top-left of the zero-inserted grid (and of the compact input)
    padded_at: tuple[int, int]  # top-left of the padded grid


def canvas_for(steps) -> Canvas:
    zero_at = tuple(max(b, 0) for b in steps.pad_before)
    padded_at = tuple(z - b for z, b in zip(zero_at, steps.pad_before, strict=False))
    shape = tuple(
        max(z + n, q + m)
        for z, n, q, m in zip(zero_at, steps.zero_inserted.shape, padded_at, steps.padded.shape, strict=False)
    )
    return Canvas(shape=shape, inserted_at=zero_at, padded_at=padded_at)


def _kernel_names(kH: int, kW: int, flipped: bool) -> np.ndarray:
    names = np.array([[kernel_symbol(r, c) for c in range(kW)] for r in range(kH)], dtype=object)
    return names[::-1, ::-1] if flipped else names


def zero_insertion_frames(steps, max_slide_frames: int = 144) -> list[Frame]:
    """Four set-up frames, then one per output unit (or, past
    ``max_slide_frames`` units, one per run of consecutive units)."""
    canvas = canvas_for(steps)
    zr, zc = canvas.inserted_at
    pr, pc = canvas.padded_at
    sH, sW = steps.stride
    dH, dW = steps.dilation
    oH, oW = steps.output.shape
    kH, kW = steps.kernel.shape
    hidden = np.full((oH, oW), np.nan)

    iH, iW = steps.input.shape
    values = np.full(canvas.shape, np.nan)
    kinds = np.zeros(canvas.shape, int)
    values[zr : zr + iH, zc : zc + iW] = steps.input
    kinds[zr : zr + iH, zc : zc + iW] = UNIT
    names = _kernel_names(kH, kW, False)
    frames = [Frame("input", values, kinds, steps.kernel, names, hidden)]

    zH, zW = steps.zero_inserted.shape
    values = np.full(canvas.shape, np.nan)
    kinds = np.zeros(canvas.shape, int)
    values[zr : zr + zH, zc : zc + zW] = steps.zero_inserted
    unit = np.zeros((zH, zW), bool)
    unit[::sH, ::sW] = True
    kinds[zr : zr + zH, zc : zc + zW] = np.where(unit, UNIT, INSERTED)
    frames.append(Frame("insert", values, kinds, steps.kernel, names, hidden))

    inserted_kinds = kinds.copy()
    PH, PW = steps.padded.shape
    values = np.full(canvas.shape, np.nan)
    kinds = np.zeros(canvas.shape, int)
    values[pr : pr + PH, pc : pc + PW] = steps.padded
    in_padded = np.zeros(canvas.shape, bool)
    in_padded[pr : pr + PH, pc : pc + PW] = True
    kinds[in_padded] = PADDING
    kinds[in_padded & (inserted_kinds == INSERTED)] = INSERTED
    kinds[in_padded & (inserted_kinds == UNIT)] = UNIT
    kinds[~in_padded & (inserted_kinds != EMPTY)] = CROPPED
    frames.append(Frame("pad", values, kinds, steps.kernel, names, hidden))
    flipped_names = _kernel_names(kH, kW, True)
    frames.append(Frame("flip", values, kinds, steps.flipped_kernel, flipped_names, hidden))

    cells = len(steps.windows)
    group = int(np.ceil(cells / max_slide_frames)) if cells > max_slide_frames else 1
    ends = list(range(group - 1, cells, group))
    if ends[-1] != cells - 1:
        ends.append(cells - 1)
    for end in ends:
        out_r, out_c, row_start, col_start = steps.windows[end]
        taps = [(pr + row_start + u * dH, pc + col_start + v * dW) for u in range(kH) for v in range(kW)]
        under = np.array([steps.padded[row_start + u * dH, col_start + v * dW] for u in range(kH) for v in range(kW)])
        value = float(under @ steps.flipped_kernel.reshape(-1))
        shown = np.full(oH * oW, np.nan)
        shown[: end + 1] = steps.output.reshape(-1)[: end + 1]
        frames.append(
            Frame(
                "slide",
                values,
                kinds,
                steps.flipped_kernel,
                flipped_names,
                shown.reshape(oH, oW),
                taps=taps,
                cell=(out_r, out_c),
                value=value,
            )
        )
    return frames


def _title(frame: Frame, labels: ZeroInsertionLabels) -> str:
    if frame.stage == "slide":  # {n} of {total}: the output unit's position in reading order
        o_w = frame.output.shape[1]
        return labels.stage_slide.format(
            row=frame.cell[0],
            col=frame.cell[1],
            value=number(frame.value),
            n=frame.cell[0] * o_w + frame.cell[1] + 1,
            total=frame.output.size,
        )
    return getattr(labels, f"stage_{frame.stage}")


def _hover(frame: Frame, labels: ZeroInsertionLabels) -> np.ndarray:
    names = {
        UNIT: labels.input_unit,
        INSERTED: labels.inserted_zero,
        PADDING: labels.padding_zero,
        CROPPED: labels.cropped,
        EMPTY: "",
    }
    hover = np.empty(frame.kinds.shape, dtype=object)
    for (r, c), kind in np.ndenumerate(frame.kinds):
        hover[r, c] = (
            f"{names[kind]} = {number(frame.values[r, c])}" if kind in (UNIT, INSERTED, PADDING) else names[kind]
        )
    return hover


def _traces(
    frame: Frame,
    labels: ZeroInsertionLabels,
    value_limit: float,
    output_limit: float,
    kernel_limit: float,
    show_text: bool,
) -> list[go.Heatmap]:
    units = np.where(frame.kinds == UNIT, frame.values, np.nan)
    zero_kinds = np.where(np.isin(frame.kinds, (INSERTED, PADDING, CROPPED)), frame.kinds.astype(float), np.nan)
    zero_text = np.where(frame.kinds == CROPPED, "×", np.where(np.isnan(zero_kinds), "", "0"))
    hover = _hover(frame, labels)
    kernel_text = np.array(
        [
            [f"{frame.kernel_names[r, c]}<br>{number(frame.kernel[r, c])}" for c in range(frame.kernel.shape[1])]
            for r in range(frame.kernel.shape[0])
        ]
    )
    output_text = np.vectorize(number, otypes=[object])(frame.output)
    text_mode = "%{text}" if show_text else None
    return [
        go.Heatmap(
            z=zero_kinds,
            zmin=INSERTED,
            zmax=CROPPED,
            colorscale=ZERO_SCALE,
            showscale=False,
            xgap=1,
            ygap=1,
            text=zero_text if show_text else None,
            texttemplate=text_mode,
            textfont=dict(color="#6b7280"),
            hoverinfo="skip",
        ),
        go.Heatmap(
            z=units,
            zmin=-value_limit,
            zmax=value_limit,
            colorscale=VALUE_SCALE,
            showscale=False,
            xgap=1,
            ygap=1,
            text=np.vectorize(number, otypes=[object])(units) if show_text else None,
            texttemplate=text_mode,
            customdata=hover,
            hoverongaps=True,
            hovertemplate="%{customdata}<extra></extra>",
        ),
        go.Heatmap(
            z=frame.kernel,
            zmin=-kernel_limit,
            zmax=kernel_limit,
            colorscale=VALUE_SCALE,
            showscale=False,
            xgap=1,
            ygap=1,
            text=kernel_text,
            texttemplate="%{text}",
            textfont=dict(size=10),
            hovertemplate="%{text}<extra></extra>",
        ),
        go.Heatmap(
            z=frame.output,
            zmin=-output_limit,
            zmax=output_limit,
            colorscale=VALUE_SCALE,
            showscale=False,
            xgap=1,
            ygap=1,
            text=output_text if frame.output.shape[1] <= 16 else None,
            texttemplate="%{text}" if frame.output.shape[1] <= 16 else None,
            hovertemplate=f"{labels.output} (%{{y}}, %{{x}}) = %{{z:.4~g}}<extra></extra>",
        ),
    ]


class AnimatedFigure(go.Figure):
    """A go.Figure whose animation frames stay plain dicts.

    Building a validated go.Frame costs milliseconds each, so a hundred
    frames would make every slider change slow; these frames hold only
    plain numbers and strings (the tests check that each one is a valid
    go.Frame) and are added when the figure is serialised.
    """

    def __init__(self, figure: go.Figure, frames: list[dict]):
        super().__init__(figure)
        self._plain_frames = frames

    def to_dict(self) -> dict:
        out = super().to_dict()
        out["frames"] = self._plain_frames
        return out

    def to_plotly_json(self) -> dict:
        return self.to_dict()


def _shapes(frame: Frame, dilated: bool) -> list[dict]:
    """Outline the cells under the kernel (each tap when dilated, else the
    whole window) and the output unit being computed."""
    shapes = []

    def box(xref, yref, r0, c0, r1, c1, width, dash="solid"):
        return dict(
            type="rect",
            xref=xref,
            yref=yref,
            x0=c0 - 0.5,
            x1=c1 + 0.5,
            y0=r0 - 0.5,
            y1=r1 + 0.5,
            line=dict(color=OUTLINE, width=width, dash=dash),
            fillcolor="rgba(0,0,0,0)",
        )

    if frame.taps:
        (r0, c0), (r1, c1) = frame.taps[0], frame.taps[-1]
        if dilated:
            shapes += [box("x", "y", r, c, r, c, 2.5) for r, c in frame.taps]
            shapes.append(box("x", "y", r0, c0, r1, c1, 1, "dot"))
        else:
            shapes.append(box("x", "y", r0, c0, r1, c1, 3.5))
    if frame.cell is not None:
        shapes.append(box("x3", "y3", *frame.cell, *frame.cell, 3.5))
    return shapes


def _subplot_titles(fig: go.Figure, labels: ZeroInsertionLabels, flipped: bool) -> list[dict]:
    titles = (labels.canvas, labels.flipped_kernel if flipped else labels.kernel, labels.output)
    out = []
    for title, axis in zip(titles, ("", "2", "3"), strict=False):
        domain = fig.layout[f"xaxis{axis}"].domain
        out.append(
            dict(
                text=title,
                x=(domain[0] + domain[1]) / 2,
                y=1.0,
                xref="paper",
                yref="paper",
                xanchor="center",
                yanchor="bottom",
                showarrow=False,
                font=dict(size=13),
            )
        )
    return out


def zero_insertion_figure(
    steps,
    labels: ZeroInsertionLabels | None = None,
    stage: str = "slide",
    max_slide_frames: int = 144,
    frame_ms: int = 600,
) -> go.Figure:
    """One stage of the route as a Plotly figure: canvas, kernel, output.

    ``stage`` is "input", "insert", "pad", "flip" or "slide". "slide" is animated: one Plotly frame per
    output unit (play, pause and a step slider) in which only the output and
    the outlines change, so the figure stays small and jumping is exact.
    Its first picture is the finished output.
    """
    labels = labels or ZeroInsertionLabels()
    frames = zero_insertion_frames(steps, max_slide_frames)
    chosen = [f for f in frames if f.stage == stage]
    shown = chosen[-1]
    canvas = shown.kinds.shape
    kH, kW = steps.kernel.shape
    oH, oW = steps.output.shape
    dilated = max(steps.dilation) > 1
    show_text = max(canvas) <= 24
    limits = (_symmetric_range(steps.input), _symmetric_range(steps.output), _symmetric_range(steps.kernel))

    fig = make_subplots(
        rows=1, cols=3, column_widths=[max(canvas[1], 3), max(kW, 2) + 0.5, max(oW, 3)], horizontal_spacing=0.05
    )
    for trace, col in zip(_traces(shown, labels, *limits, show_text), (1, 1, 2, 3), strict=False):
        fig.add_trace(trace, row=1, col=col)
    flipped = stage in ("flip", "slide")
    for axis, (rows, cols) in zip(("", "2", "3"), (canvas, (kH, kW), (oH, oW)), strict=False):
        fig.layout[f"xaxis{axis}"].update(visible=False, range=[-0.5, cols - 0.5], constrain="domain")
        fig.layout[f"yaxis{axis}"].update(
            visible=False, range=[rows - 0.5, -0.5], scaleanchor=f"x{axis}", constrain="domain", constraintoward="top"
        )
    # Panels are as wide as their columns, so all cells share one size; on a
    # ~700 px wide page that is about 600 px over all columns.
    cell_px = float(np.clip(600 / (max(canvas[1], 3) + max(kW, 2) + 0.5 + max(oW, 3)), 8, 44))
    animated = stage == "slide" and len(chosen) > 1
    fig.update_layout(
        height=int(max(canvas[0], oH, kH) * cell_px) + (200 if animated else 110),
        title=dict(text=_title(shown, labels), x=0.0, xanchor="left", font=dict(size=15)),
        margin=dict(l=10, r=10, t=80, b=10),
        plot_bgcolor="white",
        shapes=_shapes(shown, dilated),
        annotations=_subplot_titles(fig, labels, flipped),
    )
    if not animated:
        return fig

    text_on = oW <= 16
    full_text = np.vectorize(number, otypes=[object])(steps.output).astype(str)
    plotly_frames, slider_steps = [], []
    for frame in chosen:
        name = f"{frame.cell[0]},{frame.cell[1]}"
        filled = np.isfinite(frame.output)
        data = dict(type="heatmap", z=frame.output)
        if text_on:
            data["text"] = np.where(filled, full_text, "")
        plotly_frames.append(
            dict(
                name=name,
                traces=[3],
                data=[data],
                layout=dict(shapes=_shapes(frame, dilated), title=dict(text=_title(frame, labels))),
            )
        )
        slider_steps.append(
            dict(
                method="animate",
                label=str(frame.cell[0]) if frame.cell[1] == 0 else "",
                args=[[name], dict(mode="immediate", frame=dict(duration=0, redraw=True), transition=dict(duration=0))],
            )
        )
    fig = AnimatedFigure(fig, plotly_frames)
    fig.update_layout(
        margin=dict(l=10, r=10, t=80, b=100),
        updatemenus=[
            dict(
                type="buttons",
                direction="left",
                x=0.0,
                xanchor="left",
                y=0,
                yanchor="top",
                pad=dict(t=4, r=10),
                showactive=False,
                buttons=[
                    dict(
                        label=f"▶ {labels.play}".strip(),
                        method="animate",
                        args=[
                            None,
                            dict(
                                frame=dict(duration=frame_ms, redraw=True),
                                transition=dict(duration=0),
                                fromcurrent=True,
                            ),
                        ],
                    ),
                    dict(
                        label=f"❚❚ {labels.pause}".strip(),
                        method="animate",
                        args=[
                            [None],
                            dict(mode="immediate", frame=dict(duration=0, redraw=False), transition=dict(duration=0)),
                        ],
                    ),
                ],
            )
        ],
        sliders=[
            dict(
                active=len(chosen) - 1,
                steps=slider_steps,
                x=0.0,
                len=1.0,
                y=0,
                yanchor="top",
                pad=dict(t=44, b=0),
                currentvalue=dict(visible=False),
                transition=dict(duration=0),
                font=dict(size=9),
                ticklen=3,
            )
        ],
    )
    return fig


def zero_insertion_gif(steps, max_slide_frames: int = 144, duration_ms: int = 700) -> bytes:
    """The same frames as a looping GIF: canvas, kernel, output. Numbers only.
    (Identical consecutive pictures, such as "insert" with stride 1, merge
    into one frame shown for longer.)"""
    frames = zero_insertion_frames(steps, max_slide_frames)
    value_limit = _symmetric_range(steps.input)
    output_limit = _symmetric_range(steps.output)
    kernel_limit = _symmetric_range(steps.kernel)
    canvas = frames[0].kinds.shape
    cell = 34 if max(canvas) <= 16 else max(8, 480 // max(canvas))
    out_cell = 34 if max(steps.output.shape) <= 16 else max(8, 480 // max(steps.output.shape))
    fills = {INSERTED: _hex(INSERTED_COLOUR), PADDING: _hex(PADDING_COLOUR), CROPPED: _hex(CROPPED_COLOUR)}
    images = []
    for frame in frames:
        fill = _cell_colours(np.where(frame.kinds == UNIT, frame.values, np.nan), value_limit)
        for kind, colour in fills.items():
            fill[frame.kinds == kind] = colour
        border = np.zeros(canvas, bool)
        for r, c in frame.taps:
            border[r, c] = True
        numbers = np.where(frame.kinds == CROPPED, np.nan, frame.values)
        panel_canvas = grid_image(numbers if cell >= 24 else None, fill, cell=cell, border=border)
        kernel_fill = _cell_colours(frame.kernel, kernel_limit)
        panel_kernel = grid_image(frame.kernel, kernel_fill, cell=34)
        out_border = np.zeros(frame.output.shape, bool)
        if frame.cell is not None:
            out_border[frame.cell] = True
        panel_out = grid_image(
            frame.output if out_cell >= 24 else None,
            _cell_colours(frame.output, output_limit),
            cell=out_cell,
            border=out_border,
        )
        images.append(side_by_side([panel_canvas, panel_kernel, panel_out]))
    return gif_bytes(images, duration_ms=duration_ms)
