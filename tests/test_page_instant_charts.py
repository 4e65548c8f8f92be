"""Each convolution lesson sends its charts ahead for nearby values of the slider in play (the one the
student moved last; the lesson's main one until then), so the browser can draw them the moment that
slider moves (classroom_ui.SliderFrames). A chart sent ahead must be exactly the chart the page draws
once it has run with that value; otherwise a student would see one picture, then another."""

from pathlib import Path

import pytest
from page_helpers import instant_charts, open_app_page

from classroom_ui import SHARED_SETTINGS

OUTPUT_SIZE_TRANSPOSED = {"os_preset": "custom", "os_mode": "transposed", "os_s": 2, "os_a": 1}
# page, the charts that follow its sliders, settings to start from, its sliders
LESSONS = [
    ("pages/output_size.py", ["os_animation"], {}, ["os_i", "os_k", "os_s", "os_p", "os_d"]),
    ("pages/output_size.py", ["os_animation"], OUTPUT_SIZE_TRANSPOSED, ["os_i", "os_s", "os_a"]),
    ("pages/conv_matrix.py", ["cm_matrix_fig"], {}, ["cm_h", "cm_w", "cm_k", "cm_s", "cm_p", "cm_row"]),
    ("pages/conv_matrix.py", ["cm_matrix_fig"], {"cm_h": 9, "cm_row": 20}, ["cm_h"]),  # the view changes at 10
    ("pages/conv_matrix.py", ["cm_matrix_fig"], {"cm_h": 8, "cm_w": 8}, ["cm_d"]),  # a 3-tap kernel dilated fits
    ("pages/transposed_conv.py", ["tc_matrix_fig", "tc_stage_fig"], {}, ["tc_i", "tc_k", "tc_s", "tc_p", "tc_d"]),
    ("pages/checkerboard.py", ["cb_map", "cb_buildup"], {}, ["cb_k", "cb_s", "cb_layers", "cb_n"]),
]
MAIN = {  # each lesson's main slider: in play until the student moves another
    "pages/output_size.py": "os_i",
    "pages/conv_matrix.py": "cm_h",
    "pages/transposed_conv.py": "tc_i",
    "pages/checkerboard.py": "cb_k",
}
CASES = [
    pytest.param(page, charts, state, slider, lang, id=f"{lang}-{Path(page).stem}-{slider}-{n}")
    for n, (page, charts, state, sliders) in enumerate(LESSONS)
    for slider in sliders
    for lang in (["en", "zh"] if slider == MAIN[page] else ["en"])
]


def widget(at, key):
    return at.select_slider(key=key) if key == "cm_row" else at.slider(key=key)


def moved_once(page, lang, state, slider, charts):
    """The page after the student moved ``slider`` one notch (so that it is the slider in play),
    down if the lesson draws its charts there, else up."""
    for step in (-1, 1):
        at = open_app_page(page, lang, state=state)
        start = widget(at, slider).value
        if start + step < widget_min(at, slider):
            continue
        widget(at, slider).set_value(start + step).run()
        assert not at.exception, [e.value for e in at.exception]
        if set(charts) <= set(instant_charts(at)):
            return at
    raise AssertionError(f"no move of {slider} keeps the charts")


def widget_min(at, key):
    return 0 if key == "cm_row" else widget(at, key).proto.min


@pytest.mark.slow
@pytest.mark.parametrize(("page", "charts", "state", "slider", "lang"), CASES)
def test_a_chart_sent_ahead_is_the_one_the_page_draws_at_that_value(page, charts, state, slider, lang):
    at = moved_once(page, "en", state, slider, charts) if lang == "en" else open_app_page(page, lang, state=state)
    value_now = widget(at, slider).value
    sent = instant_charts(at)
    assert set(charts) <= set(sent)
    for key in charts:
        assert sent[key]["sliders"] == {slider: sent[key]["sliders"][slider]}, "the moved slider is the one in play"
        assert sent[key]["sliders"][slider]["value"] == value_now
    nearby = sorted(int(v) for v in sent[charts[0]]["sliders"][slider]["frames"])
    assert {value_now - 1, value_now + 1} & set(nearby), nearby
    if slider != MAIN[page]:
        nearby = [v for v in nearby if abs(v - value_now) == 1]
    for value in nearby:
        if lang == "en":
            moved = moved_once(page, lang, state, slider, charts)
            widget(moved, slider).set_value(value).run()
            assert not moved.exception, [e.value for e in moved.exception]
        else:  # AppTest cannot send a move beside radios labelled in Chinese: the page opened as it was, moved
            settings = {k: at.session_state[k] for k in SHARED_SETTINGS[Path(page).stem] if k in at.session_state}
            moved = open_app_page(page, lang, state={**settings, slider: value})
        drawn = instant_charts(moved)
        for key in charts:
            ahead = sent[key]["sliders"][slider]["frames"][str(value)]
            assert drawn[key]["current"] == ahead, (key, value)
            assert drawn[key]["figures"][ahead] == sent[key]["figures"][ahead]


@pytest.mark.slow
def test_a_value_the_lesson_refuses_sends_no_chart_ahead():
    # i = 1 or 2 with k = 3 and no padding has no output: the lesson shows a sentence, not a chart
    at = open_app_page("pages/output_size.py", state={"os_i": 3, "os_k": 3, "os_p": 0, "os_s": 1, "os_d": 1})
    frames = instant_charts(at)["os_animation"]["sliders"]["os_i"]["frames"]
    assert "2" not in frames and "1" not in frames and {"4", "5"} <= set(frames)


@pytest.mark.slow
def test_the_slider_in_play_stays_when_a_preset_moves_several():
    at = open_app_page("pages/output_size.py")
    at.slider(key="os_k").set_value(2).run()
    assert set(instant_charts(at)["os_animation"]["sliders"]) == {"os_k"}
    at.session_state["os_i"], at.session_state["os_s"] = 9, 1  # as a preset would: two at once
    at.run()
    assert set(instant_charts(at)["os_animation"]["sliders"]) == {"os_k"}
