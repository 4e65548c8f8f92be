"""The DCGAN architecture as blocks, in the style of the paper's Figure 1.

Each block is a feature map: its height grows with the spatial size (√H, so
each doubling is visible without 128×128 dwarfing 4×4), its thickness with the
channels (log₂ C), and it recedes in perspective for the width. Arrows carry
the layers between two maps ("ConvT 4×4 s2 p1", "BN · ReLU").
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import plotly.graph_objects as go

from dcgan_core.i18n import translate
from dcgan_core.layers import LayerRow, format_shape

GAP = 3.8  # horizontal room for an arrow and its label, in block units
TYPICAL_WIDTH = 1200  # px: the figure height is chosen so blocks keep their proportions at this width
VERTICAL_GAP = 2.4  # vertical layout: room between blocks
TYPICAL_NARROW_WIDTH = 380
COLORS = {  # (front, top, side)
    "G": ("#9ecae9", "#c6dbef", "#6baed6"),
    "D": ("#fdbe85", "#fdd0a2", "#fd8d3c"),
    "noise": ("#d9d9d9", "#ececec", "#bdbdbd"),
    "image": ("#a1d99b", "#c7e9c0", "#74c476"),
    "logit": ("#bcbddc", "#dadaeb", "#9e9ac8"),
}
_SHORT = {
    "BatchNorm2d": "BN",
    "BatchNorm1d": "BN",
    "ReLU": "ReLU",
    "Tanh": "Tanh",
    "Sigmoid": "Sigmoid",
    "Flatten": "",
    "Dropout": "dropout",
    "Identity": "",
}


@dataclass
class Stage:
    shape: tuple[int, ...]
    rows: list[LayerRow] = field(default_factory=list)  # the layers that produced this map from the previous one
    role: str = "G"  # colour key
    name_key: str | None = None  # catalog key of a caption above the block


def block_size(shape: tuple[int, ...]) -> tuple[float, float, float]:
    """(thickness, height, depth) of the block drawn for a feature map or vector."""
    channels = shape[0]
    size = shape[1] if len(shape) == 3 else 1
    height = 0.9 * math.sqrt(size)
    return 0.3 + 0.28 * math.log2(max(channels, 1)), height, 0.45 * height


def op_label(row: LayerRow) -> str:
    """Short name of one layer, e.g. 'ConvT 4×4 s2 p1', 'LReLU 0.2'."""
    if row.type in ("ConvTranspose2d", "Conv2d"):
        name = "ConvT" if row.type == "ConvTranspose2d" else "Conv"
        extra = f" a{row.output_padding}" if row.output_padding else ""
        return f"{name} {row.kernel}×{row.kernel}<br>s{row.stride} p{row.padding}{extra}"
    if row.type == "MaxPool2d":
        return f"MaxPool {row.kernel}×{row.kernel}<br>s{row.stride}"
    if row.type == "Upsample":
        return f"Upsample ×{row.detail.split()[0].lstrip('×')}"
    if row.type == "Linear":
        return f"FC<br>{row.detail}"
    if row.type == "Unflatten":
        return "reshape"
    if row.type == "LeakyReLU":
        return f"LReLU {row.detail.split()[-1]}"
    return _SHORT.get(row.type, row.type)


_JOINS_NEXT = ("Flatten", "Upsample")  # reshapes/resamples drawn on the same arrow as the layer after them
_JOINS_PREVIOUS = ("MaxPool2d",)  # pooling drawn on the same arrow as the convolution before it


def stages_from_rows(rows: list[LayerRow], net: str) -> list[Stage]:
    """Group layers into the maps they produce: one block per layer that changes the shape, with
    Flatten/Upsample joined to the layer after them and MaxPool to the convolution before it."""
    if not rows:
        return []
    stages = [
        Stage(
            shape=rows[0].in_shape,
            role="noise" if net == "G" else "image",
            name_key="architecture.fig_noise" if net == "G" else "architecture.fig_image_in",
        )
    ]
    carried: list[LayerRow] = []
    for row in rows:
        changes = row.out_shape != row.in_shape
        if row.type in _JOINS_NEXT:
            carried.append(row)
        elif changes and row.type in _JOINS_PREVIOUS and len(stages) > 1 and not carried:
            stages[-1].rows.append(row)
            stages[-1].shape = row.out_shape
        elif changes or carried:
            stages.append(Stage(shape=row.out_shape, rows=[*carried, row], role=net))
            carried = []
        else:
            stages[-1].rows.append(row)
    if carried:  # a trailing reshape: its own block
        stages.append(Stage(shape=carried[-1].out_shape, rows=carried, role=net))
    last = stages[-1]
    if net == "G":
        last.role, last.name_key = "image", "architecture.fig_image_out"
    else:
        last.role, last.name_key = "logit", "architecture.fig_logit"
    return stages


def _face(points: list[tuple[float, float]], color: str) -> dict:
    path = "M " + " L ".join(f"{x:.3f},{y:.3f}" for x, y in points) + " Z"
    return dict(type="path", path=path, fillcolor=color, line=dict(color="#444", width=1), layer="below")


def _op_text(rows: list[LayerRow]) -> tuple[str, str]:
    """(the resampling layer(s), the layers that keep the shape), each as short text."""

    def resamples(r: LayerRow) -> bool:
        return r.type != "Flatten" and (r.out_shape != r.in_shape or r.type in ("Conv2d", "ConvTranspose2d", "Linear"))

    main = [op_label(r) for r in rows if resamples(r)]
    rest = [op_label(r) for r in rows if not resamples(r)]
    return "<br>".join(main), "<br>".join(t for t in rest if t)


def _cuboid(x: float, y: float, w: float, h: float, d: float, role: str) -> list[dict]:
    """Front face (x..x+w, y..y+h) and the top and right faces receding by d."""
    front, top, side = COLORS[role]
    dx, dy = d * 0.8, d * 0.6
    return [
        _face([(x, y), (x + w, y), (x + w, y + h), (x, y + h)], front),
        _face([(x, y + h), (x + w, y + h), (x + w + dx, y + h + dy), (x + dx, y + h + dy)], top),
        _face([(x + w, y), (x + w + dx, y + dy), (x + w + dx, y + h + dy), (x + w, y + h)], side),
    ]


def _hover(stage: Stage, lang: str) -> str:
    lines = [translate("architecture.fig_hover_shape", lang, shape=format_shape(stage.shape))]
    lines += [f"{r.type} {r.detail}".strip() + (f": {r.formula_text}" if r.formula_text else "") for r in stage.rows]
    return "<br>".join(lines)


def architecture_figure(
    rows: list[LayerRow], net: str, lang: str = "en", height: int | None = None, orientation: str = "horizontal"
) -> go.Figure:
    """Blocks and arrows for a generator ('G') or discriminator ('D') layer table.

    "horizontal" reads left to right like the paper's Figure 1; "vertical" reads top to
    bottom, for narrow screens (block width then shows the spatial size).
    """
    stages = stages_from_rows(rows, net)
    sizes = [block_size(stage.shape) for stage in stages]
    shapes, annotations, hover = [], [], ([], [], [])
    op_font = 13 if len(stages) <= 7 else 11  # many blocks (fully connected variants): smaller arrow labels
    if orientation == "horizontal":
        top = max(h / 2 + d * 0.6 for _, h, d in sizes)
        bottom = -max(h / 2 for _, h, _ in sizes)
        x = 0.0
        for j, (stage, (w, h, d)) in enumerate(zip(stages, sizes, strict=False)):
            shapes += _cuboid(x, -h / 2, w, h, d, stage.role)
            centre = x + (w + d * 0.8) / 2
            annotations.append(
                dict(
                    x=centre,
                    y=bottom - 0.35,
                    text=f"<b>{format_shape(stage.shape)}</b>",
                    showarrow=False,
                    yanchor="top",
                    font=dict(size=14),
                )
            )
            if stage.name_key:
                anchor = "left" if j == 0 else "right" if j + 1 == len(stages) else "center"
                label_x = x if j == 0 else x + w + d * 0.8 if j + 1 == len(stages) else centre
                annotations.append(
                    dict(
                        x=label_x,
                        y=top + 0.4,
                        text=translate(stage.name_key, lang),
                        showarrow=False,
                        xanchor=anchor,
                        yanchor="bottom",
                        font=dict(size=13, color="#555"),
                    )
                )
            for values, value in zip(hover, (centre, d * 0.3, _hover(stage, lang)), strict=False):
                values.append(value)
            if j + 1 < len(stages):
                start, end = x + w + d * 0.8 + 0.15, x + w + d * 0.8 + GAP - 0.15
                annotations.append(
                    dict(
                        x=end,
                        y=0,
                        ax=start,
                        ay=0,
                        xref="x",
                        yref="y",
                        axref="x",
                        ayref="y",
                        text="",
                        showarrow=True,
                        arrowhead=2,
                        arrowsize=1.2,
                        arrowwidth=1.6,
                        arrowcolor="#333",
                    )
                )
                main, rest = _op_text(stages[j + 1].rows)
                annotations.append(
                    dict(
                        x=(start + end) / 2,
                        y=0.2,
                        text=main,
                        showarrow=False,
                        yanchor="bottom",
                        font=dict(size=op_font),
                    )
                )
                if rest:
                    annotations.append(
                        dict(
                            x=(start + end) / 2,
                            y=-0.25,
                            text=rest,
                            showarrow=False,
                            yanchor="top",
                            font=dict(size=op_font - 1, color="#555"),
                        )
                    )
            x += w + d * 0.8 + GAP
        x_range, y_range = (-1.2, x - GAP + 1.2), (bottom - 1.6, top + 1.4)
        typical_width = TYPICAL_WIDTH
    else:
        # Front face: spatial size across, channels down; stacked from the top.
        half = max(h / 2 for _, h, _ in sizes)
        depth = max(d * 0.8 for _, _, d in sizes)
        y = 0.0
        for j, (stage, (w, h, d)) in enumerate(zip(stages, sizes, strict=False)):
            y_low = y - w
            shapes += _cuboid(-h / 2, y_low, h, w, d, stage.role)
            middle = y_low + w / 2
            annotations.append(
                dict(
                    x=half + depth + 0.4,
                    y=middle + d * 0.3,
                    text=f"<b>{format_shape(stage.shape)}</b>",
                    showarrow=False,
                    xanchor="left",
                    font=dict(size=14),
                )
            )
            if stage.name_key:
                annotations.append(
                    dict(
                        x=-half - 0.4,
                        y=middle,
                        text=translate(stage.name_key, lang),
                        showarrow=False,
                        xanchor="right",
                        font=dict(size=12, color="#555"),
                    )
                )
            for values, value in zip(hover, (0.0, middle, _hover(stage, lang)), strict=False):
                values.append(value)
            if j + 1 < len(stages):
                start, end = y_low - 0.15, y_low - VERTICAL_GAP + 0.15  # to the top face of the next block
                annotations.append(
                    dict(
                        x=0,
                        y=end,
                        ax=0,
                        ay=start,
                        xref="x",
                        yref="y",
                        axref="x",
                        ayref="y",
                        text="",
                        showarrow=True,
                        arrowhead=2,
                        arrowsize=1.2,
                        arrowwidth=1.6,
                        arrowcolor="#333",
                    )
                )
                main, rest = _op_text(stages[j + 1].rows)
                text = main.replace("<br>", " ") + (
                    f"<br><span style='color:#555'>{rest.replace('<br>', ' · ')}</span>" if rest else ""
                )
                annotations.append(
                    dict(
                        x=0.5,
                        y=(start + end) / 2,
                        text=text,
                        showarrow=False,
                        xanchor="left",
                        align="left",
                        font=dict(size=12),
                    )
                )
                y = y_low - VERTICAL_GAP - sizes[j + 1][2] * 0.6
        x_range, y_range = (-half - 4.5, half + depth + 5.5), (y_low - 0.8, sizes[0][2] * 0.6 + 0.6)
        typical_width = TYPICAL_NARROW_WIDTH
    x_span, y_span = x_range[1] - x_range[0], y_range[1] - y_range[0]
    if height is None:
        height = int(min(max(typical_width * y_span / x_span + 20, 240), 1400))
    figure = go.Figure(
        go.Scatter(
            x=hover[0],
            y=hover[1],
            mode="markers",
            marker=dict(size=28, opacity=0),
            hovertext=hover[2],
            hoverinfo="text",
            showlegend=False,
        )
    )
    figure.update_layout(
        shapes=shapes,
        annotations=annotations,
        height=height,
        margin=dict(l=10, r=10, t=10, b=10),
        plot_bgcolor="white",
        paper_bgcolor="white",
        dragmode=False,
        hoverlabel=dict(align="left"),
    )
    figure.update_xaxes(visible=False, range=list(x_range), fixedrange=True)
    # Horizontal: keep the blocks' proportions. Vertical (phones, all about the same width): fill the box instead,
    # which also survives being drawn inside a hidden tab.
    anchor = dict(scaleanchor="x", scaleratio=1) if orientation == "horizontal" else {}
    figure.update_yaxes(visible=False, range=list(y_range), fixedrange=True, **anchor)
    return figure
