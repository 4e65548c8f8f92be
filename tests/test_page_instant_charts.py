"""Each convolution lesson sends its charts for nearby slider values ahead, so the browser can draw
them the moment the slider moves (classroom_ui.SliderFrames). A chart sent ahead must be exactly
the chart the page draws once it has run with that value; otherwise a student would see one
picture, then another."""

from pathlib import Path

import pytest
from page_helpers import instant_charts, open_app_page

from classroom_ui import SHARED_SETTINGS

# page, the slider, the charts that follow it, settings to start from
LESSONS = [
    ("pages/output_size.py", "os_i", ["os_animation"], {}),
    (
        "pages/output_size.py",
        "os_i",
        ["os_animation"],
        {"os_preset": "custom", "os_mode": "transposed", "os_s": 2, "os_a": 1},
    ),
    ("pages/conv_matrix.py", "cm_h", ["cm_matrix_fig"], {}),
    ("pages/conv_matrix.py", "cm_h", ["cm_matrix_fig"], {"cm_h": 9, "cm_row": 20}),  # the view changes at 10
    ("pages/transposed_conv.py", "tc_i", ["tc_matrix_fig", "tc_stage_fig"], {}),
    ("pages/checkerboard.py", "cb_k", ["cb_map", "cb_buildup"], {}),
]


@pytest.mark.slow
@pytest.mark.parametrize(("page", "slider", "charts", "state"), LESSONS)
@pytest.mark.parametrize("lang", ["en", "zh"])
def test_a_chart_sent_ahead_is_the_one_the_page_draws_at_that_value(page, slider, charts, state, lang):
    at = open_app_page(page, lang, state=state)
    start = at.slider(key=slider).value
    sent = instant_charts(at)
    assert set(charts) <= set(sent)
    for key in charts:
        assert sent[key]["sliders"][slider]["value"] == start
    nearby = sorted(int(v) for v in sent[charts[0]]["sliders"][slider]["frames"])
    assert {start - 1, start + 1} & set(nearby), nearby
    for value in nearby:  # each a move from the same page (a lesson may adjust other settings on the way)
        if lang == "en":
            moved = open_app_page(page, lang, state=state)
            moved.slider(key=slider).set_value(value).run()
            assert not moved.exception, [e.value for e in moved.exception]
        else:  # AppTest cannot send a move beside radios labelled in Chinese: the page opened as it was, moved
            settings = {
                key: at.session_state[key] for key in SHARED_SETTINGS[Path(page).stem] if key in at.session_state
            }
            moved = open_app_page(page, lang, state={**settings, slider: value})
        drawn = instant_charts(moved)
        for key in charts:
            ahead = sent[key]["sliders"][slider]["frames"][str(value)]
            assert drawn[key]["current"] == ahead, (key, value)
            assert drawn[key]["figures"][ahead] == sent[key]["figures"][ahead]


@pytest.mark.slow
def test_a_value_the_lesson_refuses_sends_no_chart_ahead():
    # i = 1 with k = 3 and no padding has no output: the lesson shows a sentence, not a chart
    at = open_app_page("pages/output_size.py", state={"os_i": 3, "os_k": 3, "os_p": 0, "os_s": 1, "os_d": 1})
    frames = instant_charts(at)["os_animation"]["sliders"]["os_i"]["frames"]
    assert "2" not in frames and "1" not in frames and {"4", "5"} <= set(frames)
