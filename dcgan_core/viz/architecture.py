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
TYPICAL_WIDTH = 1150  # px: the figure height is chosen so blocks keep their proportions at this width
COLORS = {  # (front, top, side)
    "G": ("#9ecae9", "#c6dbef", "#6baed6"),
    "D": ("#fdbe85", "#fdd0a2", "#fd8d3c"),
    "noise": ("#d9d9d9", "#ececec", "#bdbdbd"),
    "image": ("#a1d99b", "#c7e9c0", "#74c476"),
    "logit": ("#bcbddc", "#dadaeb", "#9e9ac8"),
}
_SHORT = {"BatchNorm2d": "BN", "BatchNorm1d": "BN", "ReLU": "ReLU", "Tanh": "Tanh", "Sigmoid": "Sigmoid",
          "Flatten": "flatten", "Dropout": "dropout", "Identity": ""}


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
        return f"Upsample<br>{row.detail}"
    if row.type == "Linear":
        return f"FC<br>{row.detail}"
    if row.type == "Unflatten":
        return "reshape"
    if row.type == "LeakyReLU":
        return f"LReLU {row.detail.split()[-1]}"
    return _SHORT.get(row.type, row.type)


def stages_from_rows(rows: list[LayerRow], net: str) -> list[Stage]:
    """Group layers into the maps they produce: a new map wherever a layer changes the shape."""
    if not rows:
        return []
    stages = [Stage(shape=rows[0].in_shape, role="noise" if net == "G" else "image",
                    name_key="architecture.fig_noise" if net == "G" else "architecture.fig_image_in")]
    carried: list[LayerRow] = []
    for row in rows:
        if row.type == "Flatten":  # a pure reshape: shown with the next layer, not as its own map
            carried.append(row)
            continue
        if row.out_shape != row.in_shape or carried:
            stages.append(Stage(shape=row.out_shape, rows=[*carried, row], role=net))
            carried = []
        else:
            stages[-1].rows.append(row)
    last = stages[-1]
    if net == "G":
        last.role, last.name_key = "image", "architecture.fig_image_out"
    else:
        last.role, last.name_key = "logit", "architecture.fig_logit"
    return stages


def _face(points: list[tuple[float, float]], color: str) -> dict:
    path = "M " + " L ".join(f"{x:.3f},{y:.3f}" for x, y in points) + " Z"
    return dict(type="path", path=path, fillcolor=color, line=dict(color="#444", width=1), layer="below")


def architecture_figure(rows: list[LayerRow], net: str, lang: str = "en", height: int | None = None) -> go.Figure:
    """Blocks and arrows for a generator ('G') or discriminator ('D') layer table."""
    stages = stages_from_rows(rows, net)
    sizes = [block_size(stage.shape) for stage in stages]
    top = max(h / 2 + d * 0.6 for _, h, d in sizes)
    bottom = -max(h / 2 for _, h, _ in sizes)
    shapes, annotations = [], []
    hover_x, hover_y, hover_text = [], [], []
    x = 0.0
    for j, (stage, (w, h, d)) in enumerate(zip(stages, sizes)):
        front, top_color, side = COLORS[stage.role]
        dx, dy = d * 0.8, d * 0.6
        y0, y1 = -h / 2, h / 2
        shapes.append(_face([(x, y0), (x + w, y0), (x + w, y1), (x, y1)], front))
        shapes.append(_face([(x, y1), (x + w, y1), (x + w + dx, y1 + dy), (x + dx, y1 + dy)], top_color))
        shapes.append(_face([(x + w, y0), (x + w + dx, y0 + dy), (x + w + dx, y1 + dy), (x + w, y1)], side))
        centre = x + (w + dx) / 2
        annotations.append(dict(x=centre, y=bottom - 0.35, text=f"<b>{format_shape(stage.shape)}</b>", showarrow=False,
                                yanchor="top", font=dict(size=13)))
        if stage.name_key:
            annotations.append(dict(x=centre, y=top + 0.4, text=translate(stage.name_key, lang), showarrow=False,
                                    yanchor="bottom", font=dict(size=12, color="#555")))
        hover_x.append(centre)
        hover_y.append(dy / 2)
        detail = [translate("architecture.fig_hover_shape", lang, shape=format_shape(stage.shape))]
        detail += [f"{r.type} {r.detail}".strip() + (f": {r.formula_text}" if r.formula_text else "") for r in stage.rows]
        hover_text.append("<br>".join(detail))
        if j + 1 < len(stages):
            start, end = x + w + dx + 0.15, x + w + dx + GAP - 0.15
            annotations.append(dict(x=end, y=0, ax=start, ay=0, xref="x", yref="y", axref="x", ayref="y", text="",
                                    showarrow=True, arrowhead=2, arrowsize=1.2, arrowwidth=1.6, arrowcolor="#333"))
            ops = stages[j + 1].rows
            main = [op_label(r) for r in ops if r.type not in _SHORT]
            rest = [op_label(r) for r in ops if r.type in _SHORT and op_label(r)]
            annotations.append(dict(x=(start + end) / 2, y=0.2, text="<br>".join(main), showarrow=False, yanchor="bottom",
                                    font=dict(size=12)))
            if rest:
                annotations.append(dict(x=(start + end) / 2, y=-0.25, text="<br>".join(rest), showarrow=False,
                                        yanchor="top", font=dict(size=11, color="#555")))
        x += w + dx + GAP
    x_span, y_span = x - GAP + 1.0, top - bottom + 3.0
    if height is None:
        height = int(min(max(TYPICAL_WIDTH * y_span / x_span + 20, 240), 560))
    figure = go.Figure(go.Scatter(x=hover_x, y=hover_y, mode="markers", marker=dict(size=28, opacity=0),
                                  hovertext=hover_text, hoverinfo="text", showlegend=False))
    figure.update_layout(
        shapes=shapes, annotations=annotations, height=height, margin=dict(l=10, r=10, t=10, b=10),
        plot_bgcolor="white", paper_bgcolor="white", dragmode=False, hoverlabel=dict(align="left"),
    )
    figure.update_xaxes(visible=False, range=[-0.5, x - GAP + 0.5], fixedrange=True)
    figure.update_yaxes(visible=False, range=[bottom - 1.6, top + 1.4], fixedrange=True, scaleanchor="x", scaleratio=1)
    return figure
