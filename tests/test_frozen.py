"""A frozen figure reaches Streamlit exactly as the plain figure would, and is encoded once."""

import json

import plotly.io
import plotly.tools

from dcgan_core.viz import sliding
from dcgan_core.viz.frozen import FrozenDict, freeze


def wire_form(figure) -> str:
    """What st.plotly_chart sends: Streamlit's own two calls."""
    return plotly.io.to_json(
        plotly.tools.return_figure_from_figure_or_data(figure, validate_figure=True), validate=False
    )


def test_a_frozen_figure_sends_the_same_spec_as_the_plain_one():
    plain = wire_form(sliding.sliding_window_figure(7, 3, 2, 1, 1))
    frozen = freeze(sliding.sliding_window_figure(7, 3, 2, 1, 1))
    assert wire_form(frozen) == plain
    assert json.loads(wire_form(frozen))["frames"]  # the animation is all there


def test_the_json_is_made_once_and_then_reused():
    frozen = freeze(sliding.receptive_field_figure(6, 3, 1, 1, 1, 2, 2))
    first, second = wire_form(frozen), wire_form(frozen)
    assert first is second  # the same string object: not encoded again
    assert isinstance(frozen.to_dict(), FrozenDict) and frozen.to_dict() is frozen.to_dict()


def test_other_figures_and_other_options_are_encoded_as_before():
    freeze(sliding.sliding_window_figure(4, 2, 1, 0, 1))  # installs the frozen path
    plain = sliding.sliding_window_figure(4, 2, 1, 0, 1)
    assert not isinstance(plain.to_dict(), FrozenDict)
    assert wire_form(plain) == wire_form(plain) and wire_form(plain) is not wire_form(plain)
    frozen = freeze(sliding.sliding_window_figure(4, 2, 1, 0, 1))
    pretty = plotly.io.to_json(frozen.to_dict(), validate=False, pretty=True)
    assert "\n" in pretty and json.loads(pretty) == json.loads(wire_form(frozen))
