"""Figures that are built once and shown to many.

A lesson's figure is cached and shared by every session with the same settings; when a
class follows the teacher, thirty sessions draw the same figure within a second. Each
``st.plotly_chart`` call turns the figure into its wire form: ``figure.to_dict()`` (a deep
copy of every trace and frame) and ``plotly.io.to_json`` (up to ~300 KB for an animation,
tens of milliseconds). A frozen figure does both once and hands out the same results
afterwards, so it must never be changed after ``freeze`` (every figure builder in
dcgan_core.viz returns a finished figure). benchmarks/chart_encoding.py measures the gain.
"""

from __future__ import annotations

import threading

import plotly.graph_objects as go
import plotly.io

_LOCK = threading.Lock()
_plotly_to_json = plotly.io.to_json


class FrozenDict(dict):
    """A frozen figure's dict form, which remembers its JSON."""

    json: str | None = None


class FrozenFigure(go.Figure):
    """A finished figure whose dict form (and JSON) is computed once."""

    def to_dict(self):
        cached = self.__dict__.get("_frozen_dict")
        if cached is None:
            with _LOCK:
                cached = self.__dict__.get("_frozen_dict")
                if cached is None:
                    cached = FrozenDict(super().to_dict())
                    self.__dict__["_frozen_dict"] = cached
        return cached


def to_json(fig, *args, **kwargs):
    """plotly.io.to_json, answered from memory for a frozen figure's dict (what Streamlit asks for)."""
    if isinstance(fig, FrozenDict) and not args and set(kwargs) <= {"validate"}:
        if fig.json is None:
            fig.json = _plotly_to_json(dict(fig), validate=False)
        return fig.json
    return _plotly_to_json(fig, *args, **kwargs)


def freeze(figure: go.Figure) -> go.Figure:
    """The same figure, from now on read-only: its dict and JSON forms are made once and reused."""
    if plotly.io.to_json is not to_json:  # installed once; any other figure is encoded as before
        plotly.io.to_json = to_json
    figure.__class__ = FrozenFigure
    return figure


def figure_json(figure: go.Figure) -> str:
    """The figure's JSON (from memory for a frozen figure: the form Streamlit already made)."""
    return to_json(figure.to_dict(), validate=False)
