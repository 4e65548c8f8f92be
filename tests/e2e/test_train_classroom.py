"""The Train page in a classroom, in a real browser: the teacher keeps control across a reload
while a copied URL gives none; the projector view fits a 1920x1080 and a 1280x720 screen."""

from __future__ import annotations

import time

import pytest
from test_browser import (
    IDLE_JS,
    choose_tiny_settings,
    live_frame,
    open_train_page,
    press,
    shot,
    stop_run,
    train_step,
    wait_for,
)

from dcgan_core.i18n import translate


def stop_enabled(page) -> bool:
    button = page.locator(".st-key-train_stop_btn button:visible")
    return bool(button.count()) and button.first.is_enabled()


def start_tiny_run(page, server) -> None:
    open_train_page(page, server)
    choose_tiny_settings(page)
    press(page, "train_start_btn")
    wait_for(lambda: (train_step(page) or 0) > 0, 120, "the run to train")


def test_teacher_keeps_control_after_reload_and_a_copied_url_gives_none(lab_server, page, chromium):
    start_tiny_run(page, lab_server)
    try:
        wait_for(lambda: stop_enabled(page), 30, "the teacher's Stop button")
        code_line = (
            page.locator("[data-testid='stCaptionContainer']")
            .filter(has_text=translate("train.your_code", "en", code="")[:20])
            .first.inner_text()
        )
        code = code_line.split(":")[0].split()[-1]
        assert code == code.upper() and len(code) == 6, code_line

        page.reload()  # F5
        wait_for(lambda: page.evaluate(IDLE_JS) and stop_enabled(page), 60, "control to come back after F5")
        assert "?" not in page.url or code not in page.url  # nothing of the code in the address bar
        shot(page, "10_teacher_after_reload")

        page.goto(f"{lab_server.url}/?lang=en")  # away, then back, without typing anything
        wait_for(lambda: page.evaluate(IDLE_JS), 60, "the home page")
        page.goto(f"{lab_server.url}/train?lang=en")
        wait_for(lambda: page.evaluate(IDLE_JS) and stop_enabled(page), 60, "control after navigating back")

        student_context = chromium.new_context(viewport={"width": 1400, "height": 900}, locale="en-US")
        try:
            student = student_context.new_page()
            student.goto(page.url)  # the teacher's exact URL, copied
            note = translate("train.viewer_note", "en")
            wait_for(
                lambda: student.evaluate(IDLE_JS) and note in student.inner_text("[data-testid='stMain']"),
                90,
                "the student's page",
            )
            time.sleep(2)
            assert not stop_enabled(student)
            assert translate("train.viewer_note", "en") in student.inner_text("[data-testid='stMain']")
            shot(student, "10_student_with_the_teachers_url")
        finally:
            student_context.close()
        assert stop_enabled(page)  # the teacher still holds it
    finally:
        stop_run(page)


def inside_viewport(box: dict, width: int, height: int) -> bool:
    return (
        box["x"] >= 0
        and box["y"] >= 0
        and box["x"] + box["width"] <= width + 1
        and box["y"] + box["height"] <= height + 1
    )


PROJECTOR_BOXES_JS = """() => {
    const box = el => { const r = el.getBoundingClientRect();
                        return {x: r.x, y: r.y, width: r.width, height: r.height}; };
    const plotted = id => { const el = document.getElementById(id); return !!(el && el.querySelector('.main-svg')); };
    return {grid: box(document.querySelector('figure.fake img')), loss: box(document.getElementById('loss')),
            prob: box(document.getElementById('prob')), plotted: plotted('loss') && plotted('prob'),
            grid_loaded: document.querySelector('figure.fake img').naturalWidth > 0,
            numbers: [...document.querySelectorAll('.number')].map(box),
            value_px: document.querySelector('.number .value')
                ? parseFloat(getComputedStyle(document.querySelector('.number .value')).fontSize) : 0};
}"""


@pytest.mark.parametrize("lang", ["en", "zh"])
def test_projector_view_fits_the_screen(lab_server, page, chromium, lang):
    start_tiny_run(page, lab_server)
    try:
        for width, height in ((1920, 1080), (1280, 720)):
            context = chromium.new_context(viewport={"width": width, "height": height}, locale="en-US")
            try:
                screen = context.new_page()
                screen.goto(f"{lab_server.url}/train?lang={lang}&view=projector")

                def drawn(screen=screen):
                    frame = live_frame(screen)
                    if frame is None:
                        return None
                    boxes = frame.evaluate(PROJECTOR_BOXES_JS)
                    return boxes if boxes["plotted"] and boxes["grid_loaded"] and len(boxes["numbers"]) == 6 else None

                boxes = wait_for(drawn, 90, f"the projector view at {width}x{height}")
                time.sleep(1.5)  # the frame settles at the window's height
                frame = live_frame(screen)
                boxes = frame.evaluate(PROJECTOR_BOXES_JS)
                offset = screen.locator("iframe").evaluate_all(
                    "frames => frames.map(f => { const r = f.getBoundingClientRect(); "
                    "return {x: r.x, y: r.y, h: r.height}; })"
                )
                outer = max(offset, key=lambda r: r["h"])  # the live view's frame (the other is the 1-px cookie frame)
                for name in ("grid", "loss", "prob"):
                    box = dict(boxes[name], x=boxes[name]["x"] + outer["x"], y=boxes[name]["y"] + outer["y"])
                    assert box["width"] > 150 and box["height"] > 150, (name, box)
                    assert inside_viewport(box, width, height), (width, height, name, box)
                tops = {round(n["y"]) for n in boxes["numbers"]}
                assert len(boxes["numbers"]) == 6 and len(tops) == 1, boxes["numbers"]  # one row
                assert boxes["value_px"] >= 26  # large type
                shot(screen, f"11_projector_{width}x{height}_{lang}")
            finally:
                context.close()
    finally:
        stop_run(page)
