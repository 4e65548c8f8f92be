"""The classroom in AppTest sessions: a follower takes the teacher's lesson and settings, a
question is answered before its answer shows, and a follower's answer joins the class's pool.
AppTest runs the app in this process, so the sessions share the real process-wide classroom."""

import pytest
from page_helpers import open_app_page
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
