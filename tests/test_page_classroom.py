"""The classroom in AppTest sessions: a follower takes the teacher's lesson and settings, a
question is answered before its answer shows, and a follower's answer joins the class's pool.
AppTest runs the app in this process, so the sessions share the real process-wide classroom."""

import gzip
import json
import re

import pytest
from page_helpers import lesson_charts, open_app_page
from streamlit.testing.v1 import AppTest

import ui
from dcgan_core import classroom, questions


@pytest.fixture
def room(monkeypatch):
    """The app's classroom, with a known teacher code, and nobody presenting afterwards."""
    monkeypatch.setenv(classroom.ADMIN_CODE_ENV, "TEACH7")
    fresh = classroom.Classroom()
    monkeypatch.setattr(classroom, "_CLASSROOM", fresh)
    return fresh


def teacher_question(lesson: str, seed: int = 0) -> questions.Question:
    config = questions.random_config(lesson, seed)
    return questions.make_question(lesson, questions.kind_for(lesson, seed), config, seed)


def test_a_follower_opens_the_teachers_lesson_with_its_settings(room, monkeypatch):
    monkeypatch.setattr(classroom, "FOLLOWER_TIMEOUT_S", 600)  # the first run imports torch: it takes a while
    token = room.start_presenting("teach7")
    room.publish(token, "transposed_conv", {"tc_i": 6, "tc_k": 3, "tc_s": 3, "tc_preset": "custom"})
    at = AppTest.from_file(str(ui.ROOT / "app.py"), default_timeout=120)
    at.query_params["follow"] = "1"
    at.run()  # opens the Welcome page, which sends it on
    assert not at.exception, [e.value for e in at.exception]
    assert at.title[0].value == ui.t("transposed.title")
    assert (at.slider(key="tc_i").value, at.slider(key="tc_k").value, at.slider(key="tc_s").value) == (6, 3, 3)
    assert room.follower_counts() == (1, 0)


def test_without_follow_nothing_moves(room):
    token = room.start_presenting("teach7")
    room.publish(token, "transposed_conv", {"tc_i": 6})
    at = open_app_page("pages/output_size.py")
    assert at.title[0].value == ui.t("output_size.title")
    assert room.follower_counts() == (0, 0)


@pytest.mark.parametrize("lang", ["en", "zh"])
def test_alone_the_answer_shows_after_answering(room, lang):
    at = open_app_page("pages/checkerboard.py", lang)
    question = teacher_question("checkerboard")
    prompts = [m.value for m in at.markdown]
    assert ui.translate(question.prompt_key, lang, **question.prompt_params) in prompts
    explanation = ui.translate(question.explanation_key, lang, **question.explanation_params)
    assert explanation not in prompts  # not before an answer
    at.button(key="pq_check_checkerboard").click().run()
    assert ui.translate("classroom.pick_first", lang) in [w.value for w in at.warning]
    wrong = next(c.value for c in question.choices if c.value != question.answer)
    at.radio(key=f"pq_choice_{question.id}_{lang}").set_value(wrong).run()
    at.button(key="pq_check_checkerboard").click().run()
    assert not at.exception
    assert explanation in [m.value for m in at.markdown]
    answer = ui.translate(question.choice(question.answer).label_key, lang, **question.choice(question.answer).params)
    chosen = ui.translate(question.choice(wrong).label_key, lang, **question.choice(wrong).params)
    assert ui.translate("classroom.wrong", lang, chosen=chosen, answer=answer) in [e.value for e in at.error]


@pytest.mark.slow
def test_a_followers_answer_joins_the_pool_and_waits_for_the_reveal(room):
    question = teacher_question("output_size")
    token = room.start_presenting("teach7")
    room.publish(
        token, "output_size", {"pq_output_size_source": "random", "pq_output_size_seed": 0}, question_id=question.id
    )
    at = open_app_page("pages/output_size.py", state={"follow_on": True})
    at.radio(key=f"pq_choice_{question.id}_en").set_value(question.answer).run()
    at.button(key="pq_check_output_size").click().run()
    assert not at.exception, [e.value for e in at.exception]
    assert room.answer_counts(question.id) == {question.answer: 1}
    right = ui.translate("classroom.right", "en", answer=question.answer)
    assert ui.translate("classroom.answer_in", "en") in [i.value for i in at.info]
    assert right not in [s.value for s in at.success]  # the answer waits for the teacher
    room.reveal(token, question.id)
    at.run()
    assert right in [s.value for s in at.success]


@pytest.fixture
def room_with_files(monkeypatch, tmp_path):
    """The app's classroom writing its state file and charts under tmp_path."""
    monkeypatch.setenv(classroom.ADMIN_CODE_ENV, "TEACH7")
    monkeypatch.setattr(classroom, "FOLLOWER_TIMEOUT_S", 600)
    fresh = classroom.Classroom(beacon=classroom.VersionBeacon(tmp_path / "classroom"))
    monkeypatch.setattr(classroom, "_CLASSROOM", fresh)
    return fresh


def chart_specs(at) -> dict:
    """Charts the page run draws (Streamlit's, or the instant lesson charts): key -> figure dict."""
    return lesson_charts(at)


def follow_frames(at) -> dict:
    """Follower chart frames on the page: key -> their HTML."""
    found = {}

    def walk(node):
        if getattr(node, "type", None) == "iframe" and 'id="chart"' in node.proto.srcdoc:
            found[re.search(r'data-key="([^"]+)"', node.proto.srcdoc).group(1)] = node.proto.srcdoc
        for child in (getattr(node, "children", None) or {}).values():
            walk(child)

    walk(at._tree)
    return found


@pytest.mark.slow
def test_a_presenting_teacher_shares_each_lesson_chart_it_draws(room_with_files):
    token = room_with_files.start_presenting("teach7")
    at = open_app_page("pages/output_size.py", state={"presenter_token": token, "os_i": 7})
    shared = dict(at.session_state["classroom_charts"])
    drawn = chart_specs(at)
    assert set(shared) == {"os_animation", "os_rf_chart"} <= set(drawn)
    folder = room_with_files.beacon.folder
    for key, path in shared.items():
        assert json.loads(gzip.decompress((folder / path).read_bytes()))["data"] == drawn[key]["data"]
    at.slider(key="os_i").set_value(8).run()
    assert at.slider(key="os_i").value == 8, at.slider(key="os_i").value
    assert at.session_state["classroom_charts"]["os_animation"] != shared["os_animation"]  # a new file per chart


@pytest.mark.slow
def test_a_follower_draws_the_lesson_charts_in_its_browser_until_it_steps_away(room_with_files):
    token = room_with_files.start_presenting("teach7")
    room_with_files.publish(token, "checkerboard", {"cb_k": 4, "cb_s": 2})
    at = open_app_page("pages/checkerboard.py", state={"follow_on": True, "cb_k": 4, "cb_s": 2})
    frames = follow_frames(at)
    assert set(frames) == {"cb_map", "cb_buildup"}
    assert not {"cb_map", "cb_buildup"} & set(chart_specs(at))  # not Streamlit's chart: no rerun redraws it
    for key, html in frames.items():
        assert 'data-page="checkerboard"' in html or 'data-page=""' in html
        assert ui.static_url(room_with_files.beacon.plotly_path) in html
        initial = json.loads(re.search(r'<script type="application/json" id="initial">(.*?)</script>', html, re.S)[1])
        assert initial["data"], key
    at.session_state["follow_away"] = True
    at.run()
    assert not follow_frames(at) and {"cb_map", "cb_buildup"} <= set(chart_specs(at))
