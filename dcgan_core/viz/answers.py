"""The class's answers to a question, as a bar chart the teacher shows on the projector."""

from __future__ import annotations

import plotly.graph_objects as go

BAR_COLOR = "#4f8fd1"
RIGHT_COLOR = "#2e9e5b"


def answers_figure(
    labels: list[str], counts: list[int], right: int | None = None, axis_title: str = "", height: int = 260
) -> go.Figure:
    """One bar per choice, its count written on it; the right choice is green once revealed
    (``right`` is its position), so the chart gives nothing away before."""
    colors = [RIGHT_COLOR if n == right else BAR_COLOR for n in range(len(labels))]
    figure = go.Figure(
        go.Bar(
            x=labels,
            y=counts,
            text=[str(c) for c in counts],
            textposition="outside",
            marker_color=colors,
            cliponaxis=False,
            hoverinfo="skip",
        )
    )
    top = max(counts, default=0)
    figure.update_layout(
        height=height,
        margin={"l": 10, "r": 10, "t": 24, "b": 10},
        showlegend=False,
        yaxis={"title": axis_title, "range": [0, max(top, 1) * 1.25], "dtick": max(1, top // 5 + 1)},
        xaxis={"type": "category"},
        plot_bgcolor="rgba(0,0,0,0)",
    )
    return figure
