"""A class in real browsers: the language sticks, students follow a presenting teacher, and the
class's answers reach the teacher's chart. Each student or teacher is its own browser context
(its own Streamlit session, like its own laptop). Expected texts come from the catalogs and
the core, never from the page."""

from __future__ import annotations

import os
import re
import time
from pathlib import Path

from test_browser import nudge_slider, open_app, shot, slider_value, wait_for, wait_until_idle

from dcgan_core import questions
from dcgan_core.classroom import ADMIN_CODE_ENV, EAGER_FOLLOWERS_ENV
from dcgan_core.i18n import translate

VIEWPORT = {"width": 1400, "height": 900}
CATCH_UP_S = 15  # generous on a loaded 2-core CI box; benchmarks/follow_load.py measures the 2 s goal
# Two followers make a big class here: their pages wait for the teacher to pause, their charts do not.
SERVER_ENV = {EAGER_FOLLOWERS_ENV: "1"}


def new_page(chromium, locale: str = "en-US"):
    context = chromium.new_context(viewport=VIEWPORT, locale=locale)
    context.set_default_timeout(60_000)
    return context, context.new_page()


def teacher_code(server) -> str:
    """The code the server printed in its terminal (its log), as a teacher would read it there."""
    if os.environ.get(ADMIN_CODE_ENV):
        return os.environ[ADMIN_CODE_ENV]
    pattern = re.compile(r"teacher code for presenting is ([A-Z0-9]+)")
    return wait_for(
        lambda: (m := pattern.search(Path(server.log_path).read_text(errors="replace"))) and m.group(1),
        60,
        "the teacher code in the server's log",
    )


def address(page) -> str:
    """The address bar as the page itself reads it (Playwright's page.url can miss a history.pushState)."""
    return page.evaluate("location.href")


def sidebar_text(page) -> str:
    return page.inner_text("[data-testid='stSidebar']")


def start_presenting(page, server, lang: str = "en") -> None:
    page.get_by_text(translate("classroom.teach", lang), exact=True).click()
    box = page.locator(".st-key-teacher_code input")
    box.fill(teacher_code(server).lower())  # typed as it comes: case does not matter
    box.press("Enter")
    wait_until_idle(page)
    page.locator(".st-key-presenting_start button").click()
    wait_for(lambda: translate("classroom.stop_presenting", lang) in sidebar_text(page), 30, "presenting to start")


def stop_presenting(page) -> None:
    page.locator(".st-key-presenting_stop button").click()
    wait_until_idle(page)


def click_nav(page, stem: str, lang: str) -> None:
    page.locator("[data-testid='stSidebarNavLink']").filter(
        has=page.locator("[data-testid='stMarkdownContainer']", has_text=translate(f"nav.{stem}", lang))
    ).first.click()
    wait_for(lambda: f"/{stem}" in address(page), 30, f"the address to show /{stem}")
    wait_until_idle(page)


def chart_traces(page, key: str) -> str:
    """The traces a lesson chart shows, as Plotly holds them in the browser: Streamlit's chart
    element, or a follower's own chart frame (classroom_ui.lesson_chart)."""
    script = "gd => JSON.stringify((gd.data || []).map(t => [t.type, t.x, t.y, t.z]))"
    own = page.locator(f".st-key-{key} .js-plotly-plot")
    if own.count():
        return own.first.evaluate(script)
    frame = page.frame_locator(f".st-key-{key}_follow iframe").locator("#chart.js-plotly-plot")
    return frame.evaluate(script) if frame.count() else ""


def h1(page) -> str:
    return page.inner_text("[data-testid='stMain'] h1").strip()


def test_language_sticks_through_a_sidebar_click_and_a_reload(lab_server, page):
    open_app(page, lab_server, "", "zh")
    click_nav(page, "checkerboard", "zh")
    assert "lang=zh" in address(page) and "/checkerboard" in address(page), address(page)
    assert h1(page) == translate("checkerboard.title", "zh")
    page.reload()
    wait_until_idle(page)
    assert "lang=zh" in address(page), address(page)
    assert h1(page) == translate("checkerboard.title", "zh")
    shot(page, "10_language_after_click_and_reload_zh")


def test_a_browser_without_lang_gets_its_own_language(lab_server, chromium):
    for locale, lang in (("zh-CN", "zh"), ("en-GB", "en")):
        context, page = new_page(chromium, locale)
        try:
            page.goto(f"{lab_server.url}/output_size")
            wait_until_idle(page)
            assert h1(page) == translate("output_size.title", lang), locale
            assert f"lang={lang}" in address(page), address(page)  # and from then on it is in the address
        finally:
            context.close()


def test_a_student_follows_the_teacher_and_steps_away(lab_server, chromium):
    teacher_context, teacher = new_page(chromium, "en-US")
    student_context, student = new_page(chromium, "zh-CN")
    reader_context, reader = new_page(chromium, "en-US")  # a student reading the teacher's language
    try:
        open_app(teacher, lab_server, "", "en")
        start_presenting(teacher, lab_server)
        student.goto(f"{lab_server.url}/?follow=1")  # no code, no lesson: the link alone
        reader.goto(f"{lab_server.url}/?follow=1")
        wait_until_idle(student)

        click_nav(teacher, "output_size", "en")
        started = time.monotonic()
        wait_for(
            lambda: "/output_size" in address(student) and h1(student) == translate("output_size.title", "zh"),
            CATCH_UP_S,
            "the student to open the teacher's lesson",
        )
        lesson_s = time.monotonic() - started
        assert "follow=1" in address(student) and "lang=zh" in address(student)  # their own language, still following
        wait_for(lambda: h1(reader) == translate("output_size.title", "en"), CATCH_UP_S, "the reader to follow")
        wait_until_idle(student)
        wait_until_idle(reader)

        before = slider_value(teacher, "os_i")
        assert chart_traces(reader, "os_animation") == chart_traces(teacher, "os_animation")
        nudge_slider(teacher, "os_i")
        started = time.monotonic()
        wait_for(lambda: slider_value(teacher, "os_i") == before + 1, 10, "the teacher's slider")
        wait_until_idle(teacher)
        # The reader's browser redraws the teacher's new chart by itself, before any page run of its own.
        wait_for(
            lambda: chart_traces(reader, "os_animation") == chart_traces(teacher, "os_animation"),
            CATCH_UP_S,
            "the reader's chart to follow",
        )
        chart_s = time.monotonic() - started
        assert slider_value(reader, "os_i") == before, "the chart came by itself, not with a page run"
        # The student reads Chinese: the teacher's English chart is not for it, its own page run follows.
        wait_for(lambda: slider_value(student, "os_i") == before + 1, CATCH_UP_S, "the student's slider to follow")
        slider_s = time.monotonic() - started
        wait_for(lambda: slider_value(reader, "os_i") == before + 1, CATCH_UP_S, "the reader's slider to follow")
        reader_s = time.monotonic() - started
        wait_for(lambda: chart_traces(student, "os_animation") == chart_traces(teacher, "os_animation"), 10, "charts")
        wait_for(lambda: "2 following" in sidebar_text(teacher), 10, "the teacher to see two followers")
        print(
            f"students caught up: lesson {lesson_s:.2f} s; after the teacher's change the same-language "
            f"chart in {chart_s:.2f} s and its slider in {reader_s:.2f} s, the other language in {slider_s:.2f} s"
        )
        shot(teacher, "11_presenting_teacher_en")
        shot(student, "11_following_student_zh")
        for who, name, box in (
            (teacher, "teacher_en", ".st-key-os_animation"),
            (reader, "student_en", ".st-key-os_animation_follow"),
            (student, "student_zh", ".st-key-os_animation_follow"),
        ):
            who.locator(box).scroll_into_view_if_needed()
            shot(who, f"11_lesson_chart_{name}")
        reader_context.close()

        student.locator(".st-key-follow_step_away button").click()
        wait_for(lambda: student.locator(".st-key-follow_back button").count() == 1, 10, "the 'back' button")
        wait_for(lambda: "0 following · 1 stepped away" in sidebar_text(teacher), 40, "the teacher to see it")
        nudge_slider(teacher, "os_i")
        wait_for(lambda: slider_value(teacher, "os_i") == before + 2, 10, "the teacher's slider")
        time.sleep(4)  # two heartbeats and four checks later, the student has still not moved
        assert slider_value(student, "os_i") == before + 1

        student.locator(".st-key-follow_back button").click()  # one click to come back
        wait_for(lambda: slider_value(student, "os_i") == before + 2, CATCH_UP_S, "the student to catch up")
        stop_presenting(teacher)
        wait_for(lambda: translate("classroom.waiting", "zh") in sidebar_text(student), 10, "the end to show")
    finally:
        teacher_context.close()
        student_context.close()
        reader_context.close()


def test_three_students_answers_reach_the_teachers_chart(lab_server, chromium):
    contexts = []
    try:
        teacher_context, teacher = new_page(chromium, "en-US")
        contexts.append(teacher_context)
        open_app(teacher, lab_server, "output_size", "en")
        start_presenting(teacher, lab_server)
        wait_until_idle(teacher)
        students = []
        for lang in ("en", "zh", "en"):
            context, student = new_page(chromium)
            contexts.append(context)
            student.goto(f"{lab_server.url}/?follow=1&lang={lang}")
            students.append(student)
        # the question on the teacher's screen, as the core builds it (random configuration, seed 0)
        question = questions.make_question(
            "output_size", questions.kind_for("output_size", 0), questions.random_config("output_size", 0), 0
        )
        prompt = translate(question.prompt_key, "en", **question.prompt_params)
        assert prompt in teacher.inner_text(".st-key-pq_output_size")
        picks = [0, 1, 0]  # two students choose the first choice, one the second
        for student, pick in zip(students, picks, strict=False):
            wait_for(lambda s=student: "/output_size" in address(s), CATCH_UP_S, "each student to follow")
            wait_until_idle(student)
            student.locator("[class*='st-key-pq_choice_'] [role='radiogroup'] label").nth(pick).click()
            wait_until_idle(student)
            student.locator(".st-key-pq_check_output_size button").click()
            wait_until_idle(student)

        def bar_counts():
            texts = teacher.locator(".st-key-pq_output_size .bartext").evaluate_all(
                "bars => bars.map(bar => bar.textContent)"
            )
            return texts if len(texts) == questions.CHOICES else None

        expected = ["2", "1", "0", "0"]
        wait_for(lambda: bar_counts() == expected, 10, f"the teacher's chart to show {expected} (shows {bar_counts()})")
        assert translate("classroom.class_answers", "en", count=3) in teacher.inner_text(".st-key-pq_output_size")
        shot(teacher, "12_class_answers_teacher_en")
        for student in students:  # nobody sees the answer before the teacher shows it
            assert (
                student.locator("[class*='st-key-pq_output_size'] [data-testid='stAlertContentSuccess']").count() == 0
            )

        teacher.locator(".st-key-pq_reveal_output_size button").click()
        answer = question.choice(question.answer).params["value"]
        for student, pick, lang in zip(students, picks, ("en", "zh", "en"), strict=False):
            right = question.choices[pick].value == question.answer
            key = "classroom.right" if right else "classroom.wrong"
            wait_for(
                lambda s=student, k=key, lg=lang, chosen=question.choices[pick].params["value"]: re.search(
                    re.escape(translate(k, lg, answer=answer, chosen=chosen)),
                    s.inner_text(".st-key-pq_output_size"),
                ),
                CATCH_UP_S,
                "the answer on each student's screen",
            )
        shot(students[1], "12_answer_revealed_student_zh")
        stop_presenting(teacher)
    finally:
        for context in contexts:
            context.close()


def test_presenting_survives_the_teachers_reload_and_a_copied_url_gives_none(lab_server, chromium):
    teacher_context, teacher = new_page(chromium, "en-US")
    other_context, other = new_page(chromium, "en-US")
    try:
        open_app(teacher, lab_server, "", "en")
        start_presenting(teacher, lab_server)
        click_nav(teacher, "checkerboard", "en")
        teacher.reload()
        wait_until_idle(teacher)
        wait_for(
            lambda: translate("classroom.stop_presenting", "en") in sidebar_text(teacher),
            30,
            "the teacher to still present after F5",
        )
        other.goto(address(teacher))  # the teacher's exact address, in another browser
        wait_until_idle(other)
        time.sleep(2)
        assert translate("classroom.stop_presenting", "en") not in sidebar_text(other)
        assert translate("classroom.teach", "en") in sidebar_text(other)
        stop_presenting(teacher)
    finally:
        teacher_context.close()
        other_context.close()
