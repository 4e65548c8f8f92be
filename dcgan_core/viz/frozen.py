"""Figures that are built once and shown to many.

A lesson's figure is cached and shared by every session with the same settings; when a
class follows the teacher, thirty sessions draw the same figure within a second. Each
``st.plotly_chart`` call asks the figure for ``to_dict()``, which deep-copies every trace
and frame and re-encodes the arrays: the largest part of such a page run. A frozen figure
does that once and hands out the same dict afterwards, so it must never be changed
after ``freeze`` (build it completely first; every figure builder here returns a finished one).
"""

from __future__ import annotations

import threading

import plotly.graph_objects as go


class FrozenFigure(go.Figure):
    """A finished figure whose dict form is computed once."""

    def to_dict(self):
        cached = self.__dict__.get("_frozen_dict")
        if cached is None:
            with _LOCK:
                cached = self.__dict__.get("_frozen_dict")
                if cached is None:
                    cached = super().to_dict()
                    self.__dict__["_frozen_dict"] = cached
        return cached


_LOCK = threading.Lock()


def freeze(figure: go.Figure) -> go.Figure:
    """The same figure, from now on read-only: its dict form is made once and reused."""
    figure.__class__ = FrozenFigure
    return figure
