"""The instant lesson chart's data: nearby slider values, Plotly's plain template, one copy per figure."""

import json
import re

import plotly.graph_objects as go
import plotly.io
import plotly.utils
import pytest
import streamlit  # noqa: F401  (as in the app: Streamlit's template becomes Plotly's default)

from dcgan_core.viz.frozen import figure_json, freeze
from dcgan_core.viz.instant_chart import (
    TEMPLATE,
    browser_json,
    chart_id,
    instant_chart_data,
    neighbour_values,
)

PLACEHOLDER = re.compile(r"#0000[0-4][0-9]\b")  # Streamlit's theme colours, replaced only by its own chart


@pytest.mark.parametrize(
    ("value", "low", "high", "radius", "expected"),
    [
        (5, 1, 32, 2, [6, 4, 7, 3]),
        (1, 1, 32, 2, [2, 3]),
        (32, 1, 32, 2, [31, 30]),
        (2, 1, 3, 3, [3, 1]),
        (4, 4, 4, 2, []),
        (5, 1, 32, 0, []),
    ],
)
def test_neighbour_values_are_the_nearby_notches_inside_the_range(value, low, high, radius, expected):
    assert neighbour_values(value, low, high, radius) == expected


def heatmap(z) -> go.Figure:
    return freeze(go.Figure(go.Heatmap(z=z, text=[[str(v) for v in row] for row in z], texttemplate="%{text}")))


def test_browser_json_swaps_streamlits_template_for_plotlys_and_keeps_the_rest():
    figure = heatmap([[1, 2], [3, 4]])
    assert PLACEHOLDER.search(figure_json(figure)), "the app's figures carry Streamlit's placeholder colours"
    ours, streamlits = json.loads(browser_json(figure)), json.loads(figure_json(figure))
    assert not PLACEHOLDER.search(browser_json(figure))
    plain = json.loads(json.dumps(plotly.io.templates[TEMPLATE].to_plotly_json(), cls=plotly.utils.PlotlyJSONEncoder))
    assert ours["layout"].pop("template") == plain
    streamlits["layout"].pop("template")
    assert ours == streamlits
    assert browser_json(figure) is browser_json(figure)  # computed once per frozen figure


def test_instant_chart_data_names_each_figure_once_and_maps_values_to_it():
    now, up, down = heatmap([[1]]), heatmap([[2]]), heatmap([[1]])  # `down` draws the same as `now`
    data = instant_chart_data("key", now, {"k": (3, {4: up, 2: down})}, "/p.js", 300, "no plotly", {"a": 1})
    assert data["current"] == chart_id(browser_json(now))
    assert data["sliders"] == {"k": {"value": 3, "frames": {"4": chart_id(browser_json(up)), "2": data["current"]}}}
    assert set(data["figures"]) == {data["current"], chart_id(browser_json(up))}
    assert json.loads(data["figures"][data["sliders"]["k"]["frames"]["4"]])["data"][0]["z"] == [[2]]
    assert data["config"] == {"a": 1, "responsive": True}
    assert (data["key"], data["plotly"], data["height"], data["load_error"]) == ("key", "/p.js", 300, "no plotly")
    json.dumps(data)  # what Streamlit sends to the browser
