"""ui.py's shared page idioms: session defaults, widgets keyed by language, chart clicks."""

from streamlit.testing.v1 import AppTest


def helpers_script():
    import streamlit as st

    import ui

    ui.defaults({"count": 3, "shape": "round"})
    names = {"round": ui.t("common.play"), "square": ui.t("common.pause")}  # any translated texts
    st.radio("shape", list(names), format_func=names.get, **ui.language_keyed("shape", on_change=lambda: None))
    st.session_state.tile = ui.clicked_tile("tiles")
    st.session_state.cell = ui.clicked_cell("grid")
    st.session_state.nothing = (ui.clicked_points("no_chart"), ui.clicked_tile("no_chart"), ui.clicked_cell("no_chart"))


def app(lang="en", **state):
    at = AppTest.from_function(helpers_script)
    at.session_state["lang"] = lang
    for key, value in state.items():
        at.session_state[key] = value
    return at.run()


def test_defaults_fill_only_what_is_missing():
    at = app(count=7)
    assert at.session_state["count"] == 7 and at.session_state["shape"] == "round"


def test_a_language_keyed_widget_keeps_its_value_under_the_plain_key_across_languages():
    at = app()
    at.radio(key="shape__en").set_value("square").run()
    assert at.session_state["shape"] == "square"
    at.session_state["lang"] = "zh"
    at.run()
    assert at.radio(key="shape__zh").value == "square"
    assert [r.key for r in at.radio] == ["shape__zh"]


def test_clicks_read_a_tile_index_a_grid_cell_and_nothing():
    tiles = {"selection": {"points": [{"customdata": [5], "point_index": 2}]}}
    grid = {"selection": {"points": [{"x": 2.0, "y": 0.9999}]}}
    at = app(tiles=tiles, grid=grid)
    assert at.session_state["tile"] == 5
    assert at.session_state["cell"] == (1, 2)
    assert at.session_state["nothing"] == ([], None, None)
    at = app(tiles={"selection": {"points": [{"point_index": 4}]}}, grid={"selection": {"points": []}})
    assert at.session_state["tile"] == 4 and at.session_state["cell"] is None
