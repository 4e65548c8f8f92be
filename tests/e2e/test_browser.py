"""The app in a real browser: Debian's Chromium driven by Playwright against `streamlit run app.py`.

Every scenario asserts on the live DOM and leaves a screenshot in test-artifacts/e2e/.
Expected values come from the catalogs (dcgan_core.i18n) and the core (dcgan_core.arithmetic,
dcgan_core.checkpoint), never from the page itself.
"""

from __future__ import annotations

import io
import re
import time
import zipfile
from pathlib import Path

import numpy as np
import pytest
import torch
from PIL import Image
from playwright.sync_api import TimeoutError as PlaywrightTimeout

import ui
from dcgan_core.arithmetic import conv_output_size
from dcgan_core.checkpoint import load_checkpoint
from dcgan_core.i18n import LANGUAGES, load_catalog, translate
from dcgan_core.viz.gif import MIN_LONG_SIDE

ROOT = Path(__file__).resolve().parents[2]
ARTIFACTS = ROOT / "test-artifacts" / "e2e"

# (url path, page file, nav title key) for every page that exists; the first page is served at "/".
PAGES = [
    (Path(path).stem, path, title_key)
    for entries in ui.PAGES.values()
    for path, title_key, _ in entries
    if (ui.ROOT / path).exists()
]
HAN = re.compile(r"[\u4e00-\u9fff]")
KEY_LIKE = re.compile(r"\b[a-z][a-z0-9_]*\.[a-z0-9_]+\b")
CATALOG_KEYS = set(load_catalog("en"))


# ---------------------------------------------------------------- helpers


def shot(page, name: str, full_page: bool = False) -> None:
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / f"{re.sub(r'[^A-Za-z0-9_.-]+', '_', name)}.png"), full_page=full_page)


def wait_for(condition, timeout_s: float, what: str, interval_s: float = 0.2):
    """Poll `condition()` until it returns something truthy, and return it."""
    deadline = time.monotonic() + timeout_s
    while True:
        value = condition()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout_s} s waiting for {what}")
        time.sleep(interval_s)


# Idle: the script run is over (Streamlit's own run-state attribute), every element is drawn
# (no skeleton placeholder) and nothing is left over from the previous run (no stale element).
IDLE_JS = """() => !!document.querySelector("[data-testid='stApp'][data-test-script-state='notRunning']"
        + "[data-test-connection-state='CONNECTED']")
    && !!document.querySelector("[data-testid='stMain'] h1")
    && !document.querySelector("[data-testid='stSkeleton']")
    && !document.querySelector("[data-stale='true']")"""


def wait_until_idle(page, timeout_s: float = 90, settle_polls: int = 3) -> None:
    calm = 0

    def settled():
        nonlocal calm
        calm = calm + 1 if page.evaluate(IDLE_JS) else 0
        return calm >= settle_polls

    wait_for(settled, timeout_s, f"the page to finish running ({page.url})", interval_s=0.15)


def open_app(page, server, url_path: str = "", lang: str = "en") -> None:
    page.goto(f"{server.url}/{url_path}?lang={lang}")
    wait_until_idle(page)


def visible_text(page) -> str:
    return page.inner_text("[data-testid='stMain']") + "\n" + page.inner_text("[data-testid='stSidebar']")


def active_nav_title(page) -> str | None:
    label = page.locator("[data-testid='stSidebarNavLink'][aria-current='page'] [data-testid='stMarkdownContainer']")
    return label.first.inner_text().strip() if label.count() else None


def page_problems(page, title_key: str, lang: str) -> list[str]:
    """What is wrong with the page now on screen (empty when it is right)."""
    problems = []
    expected_title = translate(title_key, lang)
    if active_nav_title(page) != expected_title:
        problems.append(f"active navigation entry is {active_nav_title(page)!r}, expected {expected_title!r}")
    heading = page.locator("[data-testid='stMain'] h1").first
    if not heading.is_visible():
        problems.append("no visible page title (h1)")
    else:
        title_text = heading.inner_text().strip()
        if title_text not in set(load_catalog(lang).values()):
            problems.append(f"page title {title_text!r} is not a {lang} catalog text")
        if lang == "zh" and not HAN.search(title_text):
            problems.append(f"page title {title_text!r} has no Chinese characters")
        if lang == "en" and HAN.search(title_text):
            problems.append(f"English page title {title_text!r} contains Chinese characters")
    exceptions = page.locator("[data-testid='stException']")
    if exceptions.count():
        problems.append(f"Streamlit exception box: {exceptions.first.inner_text()[:300]!r}")
    text = visible_text(page)
    if "Traceback (most recent call last)" in text:
        problems.append("a traceback is visible")
    raw_keys = sorted({token for token in KEY_LIKE.findall(text) if token in CATALOG_KEYS})
    if raw_keys:
        problems.append(f"raw catalog keys visible: {raw_keys}")
    if lang == "zh" and len(HAN.findall(page.inner_text("[data-testid='stMain']"))) < 10:
        problems.append("Chinese page has (almost) no Chinese text")
    return problems


def catalog_regex(key: str, lang: str, capture: str) -> re.Pattern:
    """A regex for a catalog sentence with its `{capture}` placeholder captured as a number."""
    parts = re.split(r"(\{\w+\})", translate(key, lang))
    return re.compile(
        "".join(
            r"([0-9][0-9,]*)" if part == "{" + capture + "}" else ".*?" if part.startswith("{") else re.escape(part)
            for part in parts
            if part
        )
    )


def slider_value(page, key: str) -> int:
    return int(page.locator(f".st-key-{key} input[type='range']").input_value())


def nudge_slider(page, key: str, keypress: str = "ArrowRight") -> None:
    """Move a Streamlit slider one step with the keyboard, as a keyboard user would."""
    thumb = page.locator(f".st-key-{key} input[type='range']")
    thumb.focus()
    page.keyboard.press(keypress)


# ---------------------------------------------------------------- scenarios


def test_deep_link_on_fresh_server_runs_the_app(lab_server, page):
    """The first visitor of a fresh server arrives by a shared link to a lesson page.

    The app's own navigation (translated titles, language selector) must be there,
    not Streamlit's automatic pages/ listing that bypasses app.py.
    Runs first so that the server really is fresh.
    """
    stem, _, title_key = next(entry for entry in PAGES if entry[0] != PAGES[0][0])
    open_app(page, lab_server, stem, "zh")
    shot(page, "00_deep_link_fresh_server_zh")
    sidebar = page.inner_text("[data-testid='stSidebar']")
    assert "Language / 语言" in sidebar, (
        "the language selector from app.py is missing: the page ran without app.py "
        f"(Streamlit's pages/ directory mode); sidebar shows {sidebar[:200]!r}"
    )
    assert active_nav_title(page) == translate(title_key, "zh")


@pytest.mark.parametrize("lang", list(LANGUAGES))
def test_every_page_in_both_languages(lab_server, page, lang):
    """Open the app by its ?lang= link and walk every page through the sidebar navigation."""
    open_app(page, lab_server, "", lang)
    failures = {}
    for index, (stem, _, title_key) in enumerate(PAGES):
        if index:
            title = translate(title_key, lang)
            previous_heading = page.locator("[data-testid='stMain'] h1").first.inner_text()
            link = page.locator("[data-testid='stSidebarNavLink']").filter(
                has=page.locator(
                    "[data-testid='stMarkdownContainer']", has_text=re.compile(rf"^\s*{re.escape(title)}\s*$")
                )
            )
            if link.count() and link.first.is_visible():
                link.first.click()
            else:  # a long navigation may fold some entries away: follow the page's own link instead
                page.goto(f"{lab_server.url}/{stem}?lang={lang}")
            wait_for(lambda title=title: active_nav_title(page) == title, 60, f"navigation to {stem}")
            wait_for(
                lambda previous=previous_heading: (
                    page.evaluate(IDLE_JS) and page.locator("[data-testid='stMain'] h1").first.inner_text() != previous
                ),
                90,
                f"{stem} to replace the previous page",
            )
            wait_until_idle(page)
        shot(page, f"01_page_{stem}_{lang}")
        problems = page_problems(page, title_key, lang)
        if problems:
            failures[stem] = problems
    assert not failures, failures
    assert not page.page_errors, f"JavaScript errors in the browser: {page.page_errors[:5]}"


def test_language_switch_survives_page_changes(lab_server, page):
    """The sidebar language switch retranslates the page at once, keeps the choice on the next page
    and mirrors it in the address (so a copied link opens in the same language)."""
    (first_stem, _, first_key), (second_stem, _, second_key) = PAGES[1], PAGES[2]
    open_app(page, lab_server, first_stem, "en")
    assert active_nav_title(page) == translate(first_key, "en")
    page.locator("[data-testid='stSidebar'] [data-testid='stRadio'] label").filter(
        has_text=LANGUAGES["zh"]
    ).first.click()
    wait_for(lambda: active_nav_title(page) == translate(first_key, "zh"), 30, "the page to switch to Chinese")
    wait_until_idle(page)
    assert not page_problems(page, first_key, "zh"), page_problems(page, first_key, "zh")
    assert "lang=zh" in page.url
    page.locator("[data-testid='stSidebarNavLink']").filter(
        has=page.locator("[data-testid='stMarkdownContainer']", has_text=translate(second_key, "zh"))
    ).first.click()
    wait_for(lambda: active_nav_title(page) == translate(second_key, "zh"), 60, f"navigation to {second_stem}")
    wait_until_idle(page)
    shot(page, "01_language_switched_then_navigated_zh")
    assert not page_problems(page, second_key, "zh"), page_problems(page, second_key, "zh")


def test_output_size_follows_the_sliders(lab_server, page):
    """Keyboard on a slider thumb changes the output size to what the arithmetic core computes."""
    open_app(page, lab_server, "output_size", "en")
    metric = page.locator("[data-testid='stMetricValue']").first

    def expected() -> str:
        o = conv_output_size(*(slider_value(page, key) for key in ("os_i", "os_k", "os_s", "os_p", "os_d")))
        return f"{o} × {o}"

    assert metric.inner_text().strip() == expected()
    for key, keypress in (("os_s", "ArrowRight"), ("os_i", "ArrowRight"), ("os_p", "ArrowLeft")):
        before_value, before_text = slider_value(page, key), metric.inner_text().strip()
        nudge_slider(page, key, keypress)
        wait_for(lambda key=key, before=before_value: slider_value(page, key) != before, 10, f"slider {key} to move")
        wait_until_idle(page)
        assert metric.inner_text().strip() == expected(), (key, metric.inner_text(), expected())
        if key == "os_s":  # the first move must be a visible change, or this test proves nothing
            assert metric.inner_text().strip() != before_text
    assert page.locator("[data-testid='stAlertContentSuccess']").count() >= 1, "no 'matches PyTorch' badge"
    shot(page, "02_output_size_after_keyboard", full_page=True)


def test_animation_plays(lab_server, page):
    """Plotly's Play control advances the sliding-window animation (the frame label changes)."""
    open_app(page, lab_server, "output_size", "en")
    chart = page.locator(".st-key-os_animation")
    chart.scroll_into_view_if_needed()
    label = chart.locator("g.slider-container text.slider-label")
    wait_for(lambda: label.count() > 0, 30, "the animation's frame slider")
    first = label.first.text_content()
    play = chart.locator("g.updatemenu-button").filter(has_text=translate("common.play", "en"))
    assert play.count() == 1, "no Play button on the animation"
    play.first.click()
    changed = wait_for(
        lambda: label.first.text_content() != first and label.first.text_content(), 15, "the animation to advance"
    )
    shot(page, "03_animation_playing")
    pause = chart.locator("g.updatemenu-button").filter(has_text=translate("common.pause", "en"))
    if pause.count():
        pause.first.click()
    assert changed != first


# Armed before a key press: resolves with what the chart showed when it first showed the chart for
# the new value, and which page run the browser had then (the data-values of the page's last run).
INSTANT_ARM_JS = """([key, target]) => {
  const chart = window.__labInstantCharts[key];
  const host = chart.root.parentElement;
  window.__instant = new Promise(resolve => {
    const look = () => {
      if (chart.drawn === target) resolve({ values: JSON.parse(host.dataset.values), draws: chart.root.dataset.draws });
      else requestAnimationFrame(look);
    };
    requestAnimationFrame(look);
  });
}"""


def instant_chart(page, key: str) -> dict:
    return page.evaluate(
        """key => { const c = window.__labInstantCharts[key];
                    return { drawn: c.drawn, current: c.data.current, frames: c.data.sliders,
                             draws: Number(c.root.dataset.draws), traces: c.root.data.length }; }""",
        key,
    )


@pytest.mark.parametrize(
    ("lang", "url_path", "slider", "charts"),
    [
        ("en", "output_size", "os_i", ["os_animation"]),
        ("en", "output_size", "os_k", ["os_animation"]),
        ("zh", "checkerboard", "cb_k", ["cb_map", "cb_buildup"]),
        ("zh", "transposed_conv", "tc_s", ["tc_stage_fig"]),
    ],
)
def test_a_lesson_chart_follows_its_slider_before_the_page_run(lab_server, page, lang, url_path, slider, charts):
    """The lesson's charts show the new value's chart before the page has run for it, from the charts
    the page sent ahead, and the page run that follows draws nothing again. A slider other than the
    lesson's main one does so from its second notch on (its first move puts it in play)."""
    open_app(page, lab_server, url_path, lang)
    wait_for(lambda: page.evaluate(f"() => !!(window.__labInstantCharts || {{}})['{charts[-1]}']"), 60, "the charts")
    wait_until_idle(page)
    if slider not in instant_chart(page, charts[-1])["frames"]:
        nudge_slider(page, slider, "ArrowRight")
        wait_until_idle(page)
        assert set(instant_chart(page, charts[-1])["frames"]) == {slider}
    page.locator(f".st-key-{charts[-1]}").scroll_into_view_if_needed()
    for keypress, step in (("ArrowRight", 1), ("ArrowLeft", -1)):
        value = slider_value(page, slider)
        before = {key: instant_chart(page, key) for key in charts}
        target = {key: before[key]["frames"][slider]["frames"][str(value + step)] for key in charts}
        page.evaluate(INSTANT_ARM_JS, [charts[-1], target[charts[-1]]])
        nudge_slider(page, slider, keypress)
        seen = page.evaluate("() => window.__instant")
        assert seen["values"][slider] == value, "the chart waited for the page run"
        wait_until_idle(page)
        assert slider_value(page, slider) == value + step
        for key in charts:
            after = instant_chart(page, key)
            assert after["current"] == target[key] == after["drawn"], key  # the page's chart is the one shown
            assert after["draws"] == before[key]["draws"] + 1, key  # drawn once, for the move only
    shot(page, f"04_instant_chart_{lang}_{url_path}")
    assert not page.page_errors, page.page_errors


def test_a_preset_moves_the_chart_with_the_page(lab_server, page):
    """A slider the page sets itself (a classic case picked from the list) is not a student's move:
    the chart shows the page's own for the new settings."""
    open_app(page, lab_server, "output_size", "en")
    wait_for(lambda: page.evaluate("() => !!(window.__labInstantCharts || {}).os_animation"), 60, "the chart")
    wait_until_idle(page)
    before = instant_chart(page, "os_animation")
    choose_option(page, "os_preset__en", translate("presets.dcgan_d_downsample", "en"))
    wait_until_idle(page)
    after = instant_chart(page, "os_animation")
    assert after["current"] != before["current"] and after["drawn"] == after["current"]
    assert after["frames"]["os_i"]["value"] == slider_value(page, "os_i")


def test_gif_download(lab_server, page):
    """The GIF button delivers a real animated GIF."""
    open_app(page, lab_server, "output_size", "en")
    button = page.locator("[data-testid='stDownloadButton'] button:visible").filter(
        has_text=translate("common.download_gif", "en")
    )
    assert button.count() == 1
    button.scroll_into_view_if_needed()
    with page.expect_download(timeout=60_000) as download_info:
        button.click()
    download = download_info.value
    path = ARTIFACTS / f"04_{download.suggested_filename}"
    download.save_as(path)
    data = path.read_bytes()
    assert data[:4] == b"GIF8", data[:16]
    with Image.open(io.BytesIO(data)) as gif:
        assert gif.format == "GIF"
        assert getattr(gif, "n_frames", 1) > 1
        assert max(gif.size) >= MIN_LONG_SIDE, gif.size  # readable on a projector
    assert download.suggested_filename.endswith(".gif")
    shot(page, "04_gif_downloaded")


def test_architecture_table_fits_1280_px_without_sideways_scrolling(lab_server, page):
    page.set_viewport_size({"width": 1280, "height": 900})
    for lang in LANGUAGES:
        open_app(page, lab_server, "architecture", lang)
        table = page.locator("[data-testid='stDataFrame']").first
        table.scroll_into_view_if_needed()
        widths = wait_for(
            lambda table=table: table.locator(".dvn-scroller").first.evaluate("e => [e.scrollWidth, e.clientWidth]"),
            30,
            "the layer table",
        )
        assert widths[0] <= widths[1], f"{lang}: the table scrolls sideways ({widths[0]} px in {widths[1]} px)"
        assert table.evaluate("e => e.getBoundingClientRect().right") <= 1280
        shot(page, f"05_architecture_table_1280_{lang}")


def _boxes_overlap(a, b) -> bool:
    return (
        a["x"] < b["x"] + b["width"]
        and b["x"] < a["x"] + a["width"]
        and a["y"] < b["y"] + b["height"]
        and b["y"] < a["y"] + a["height"]
    )


def test_quality_reference_line_label_clear_of_the_bar_labels(lab_server, page):
    page.set_viewport_size({"width": 1280, "height": 900})
    for lang in LANGUAGES:
        open_app(page, lab_server, "quality", lang)
        label = translate("quality.hist_uniform", lang)
        chart = wait_for(
            lambda label=label: next(
                (c for c in page.locator("[data-testid='stPlotlyChart']").all() if label in c.inner_text()), None
            ),
            60,
            "the class histogram",
        )
        chart.scroll_into_view_if_needed()
        legend = chart.locator(".legendtext").filter(has_text=label).first.bounding_box()
        bar_labels = [t.bounding_box() for t in chart.locator(".bartext, .textpoint text").all()]
        assert bar_labels, "the bars carry their counts"
        clashes = [b for b in bar_labels if b and _boxes_overlap(legend, b)]
        assert not clashes, f"{lang}: the reference line's label overlaps {len(clashes)} bar label(s)"
        shot(page, f"06_quality_histogram_{lang}")


# ---------------------------------------------------------------- the Train page

STEP_TEXT = catalog_regex("train.progress", "en", "step")
TINY_STEPS = 100_000  # the run is stopped by the test; big enough that it never finishes first


def live_frame(page):
    """The frame of the live view (numbers, samples, charts: drawn by its own script), or None."""
    for frame in page.frames:
        try:
            if frame.evaluate("() => !!document.getElementById('live')"):
                return frame
        except Exception:  # a frame that is going away
            continue
    return None


def live_text(page, selector: str) -> str:
    frame = live_frame(page)
    if frame is None:
        return ""
    try:
        return frame.evaluate("s => { const e = document.querySelector(s); return e ? e.innerText : ''; }", selector)
    except Exception:
        return ""


def train_step(page) -> int | None:
    match = STEP_TEXT.search(live_text(page, "#live .progress .text"))
    return int(match.group(1).replace(",", "")) if match else None


def main_text(page) -> str:
    return page.inner_text("[data-testid='stMain']")


def open_train_page(page, server) -> None:
    page.goto(f"{server.url}/train?lang=en")
    page.locator(".st-key-train_start_btn button").wait_for(timeout=90_000)
    # The live panel reruns every second while a run exists: wait for a quiet moment, not for idleness.
    wait_for(lambda: page.evaluate(IDLE_JS), 90, "the Train page to render")


def choose_tiny_settings(page, steps_wanted: int = TINY_STEPS) -> None:
    """The smallest networks and batch the page offers, and a run of ``steps_wanted`` steps
    (by default longer than the test)."""
    for key in ("train_ngf", "train_ndf", "train_batch"):
        thumb = page.locator(f".st-key-{key} input[type='range']")
        thumb.focus()
        page.keyboard.press("Home")
        wait_for(lambda thumb=thumb: thumb.input_value() == "0", 10, f"{key} at its smallest option")
        wait_for(lambda: page.evaluate(IDLE_JS), 60, f"the rerun after {key}")
    steps = page.locator(".st-key-train_steps input")
    steps.fill(str(steps_wanted))
    steps.press("Enter")
    wait_for(lambda: steps.input_value().replace(",", "") == str(steps_wanted), 20, "the steps box to take the value")
    wait_for(lambda: page.evaluate(IDLE_JS), 60, "the rerun after the steps box")


def press(page, key: str) -> None:
    button = page.locator(f".st-key-{key} button:visible")
    wait_for(lambda: button.count() and button.first.is_enabled(), 60, f"button {key} to be enabled")
    button.first.click()


def stop_run(page) -> None:
    """Stop the run if this session still controls an active one (cleanup, also after a failure)."""
    stop = page.locator(".st-key-train_stop_btn button:visible")
    if stop.count() and stop.first.is_enabled():
        stop.first.click()
        wait_for(
            lambda: any(
                translate(f"train.status_{status}", "en") in page.locator("h3").first.inner_text()
                for status in ("stopped", "finished", "failed")
            ),
            60,
            "the run to stop",
        )


def live_reading(page) -> dict:
    frame = live_frame(page)
    reading = (
        frame.evaluate("""() => {
        const plot = document.getElementById("loss");
        const images = [...document.querySelectorAll("#live img")].map(img => img.getAttribute("src")).filter(Boolean);
        // calcdata: Plotly's computed points per trace
        return {points: plot && plot.calcdata ? plot.calcdata.reduce((n, trace) => n + trace.length, 0) : 0,
                images: images};
    }""")
        if frame is not None
        else {"points": 0, "images": []}
    )
    return reading | {"step": train_step(page)}


DOWNLOAD_WAIT_S = 30


def download_checkpoint(page, path: Path) -> Path | None:
    """Click the checkpoint download button; the saved file, or None if no download started."""
    button = page.locator(".st-key-train_dl_ckpt button:visible")
    button.first.wait_for(timeout=60_000)
    try:
        with page.expect_download(timeout=DOWNLOAD_WAIT_S * 1000) as download_info:
            button.first.click()
        download_info.value.save_as(path)
    except PlaywrightTimeout:
        return None
    return path


def test_train_live_run(lab_server, page):
    """Start a tiny run, watch the step counter, loss chart and samples update, download a checkpoint, stop."""
    open_train_page(page, lab_server)
    choose_tiny_settings(page)
    press(page, "train_start_btn")
    try:
        wait_for(lambda: (train_step(page) or 0) > 0, 120, "the step counter to rise above 0")
        wait_for(
            lambda: live_reading(page)["points"] > 0 and len(live_reading(page)["images"]) >= 2,
            60,
            "the loss chart and the sample grids",
        )
        first = live_reading(page)
        shot(page, "05_train_first_reading", full_page=True)
        time.sleep(3)
        readings = []

        def updated():
            readings.append(live_reading(page))
            r = readings[-1]
            return (r["step"] or 0) > first["step"] and r["points"] > first["points"] and r["images"] != first["images"]

        try:
            wait_for(updated, 60, "a later reading with more steps, more chart points and a new sample grid")
        except AssertionError as err:
            raise AssertionError(f"{err}; first reading {first}, last {readings[-1]}") from None
        shot(page, "05_train_second_reading", full_page=True)

        press(page, "train_save_btn")  # a checkpoint now (the regular ones are far apart in a long run)
        live_download = download_checkpoint(page, ARTIFACTS / "05_checkpoint_live.pt")
    finally:
        stop_run(page)
    assert translate("train.status_stopped", "en") in page.locator("h3").first.inner_text()
    # Whatever happened during the run, the saved checkpoint must be downloadable and sound once it stopped.
    stopped_download = download_checkpoint(page, ARTIFACTS / "05_checkpoint_stopped.pt")
    shot(page, "05_train_stopped")
    assert stopped_download is not None, "the checkpoint download did not start even after the run stopped"
    for path in (live_download, stopped_download):
        if path is None:
            continue
        payload = torch.load(path, weights_only=True, map_location="cpu")
        assert isinstance(payload, dict)
        checkpoint = load_checkpoint(path)
        assert checkpoint.step > 0
        assert (checkpoint.model_config.ngf, checkpoint.model_config.ndf) == (8, 8)  # the settings we chose
        assert all(torch.isfinite(t).all() for t in checkpoint.generator.values() if t.is_floating_point())
    assert live_download is not None, (
        "clicking the checkpoint download button while the run is live started no download within "
        f"{DOWNLOAD_WAIT_S} s (it works once the run has stopped); the server log says whether the click "
        "reached a revoked deferred download ('Deferred file ... not found')"
    )


def choose_option(page, key: str, text: str, attempts: int = 5) -> None:
    """Pick `text` in a selectbox. A rerun of the live panel can close an open list: retry."""
    option = page.get_by_role("option", name=text, exact=True)
    for _ in range(attempts):
        page.locator(f".st-key-{key}:not([data-stale='true']) [role='combobox']").first.click()
        try:
            option.wait_for(timeout=5_000)
            option.click(timeout=5_000)
        except PlaywrightTimeout:
            page.keyboard.press("Escape")
            continue
        shown = page.locator(f".st-key-{key}:not([data-stale='true']) [role='combobox']").first
        if wait_for(
            lambda shown=shown: text in shown.evaluate("e => e.value || e.innerText || ''"),
            10,
            f"{key} to show {text!r}",
        ):
            return
    raise AssertionError(f"could not choose {text!r} in {key}")


def png_zip(count: int, extra: dict[str, bytes] | None = None) -> bytes:
    rng = np.random.default_rng(0)
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for n in range(count):
            image = Image.fromarray(rng.integers(0, 256, (32, 32), dtype=np.uint8), mode="L")
            png = io.BytesIO()
            image.save(png, format="PNG")
            archive.writestr(f"digits/{n:03d}.png", png.getvalue())
        for name, data in (extra or {}).items():
            archive.writestr(name, data)
    return buffer.getvalue()


def upload_zip(page, name: str, data: bytes, attempts: int = 3) -> None:
    """Upload through the zip file uploader's own <input type=file>.

    The live panel reruns every second; an upload that lands in the middle of a rerun is
    sometimes not shown. Each attempt records whether the browser sent the file to the server.
    """
    uploader = page.locator(".st-key-train_zip:not([data-stale='true'])")
    sent = []
    page.on(
        "response", lambda r: sent.append(r.status) if r.request.method == "PUT" and "upload_file" in r.url else None
    )
    for attempt in range(attempts):
        field = uploader.locator("input[type='file']").first
        wait_for(lambda field=field: field.count() and field.is_enabled(), 60, "the zip uploader to be enabled")
        field.set_input_files(files=[{"name": name, "mimeType": "application/zip", "buffer": data}])
        try:
            wait_for(lambda: name in " ".join(uploader.all_inner_texts()), 20, f"{name} to be uploaded")
            break
        except AssertionError:
            print(f"upload attempt {attempt + 1} of {name} not shown; upload responses so far: {sent}")
    else:
        raise AssertionError(
            f"{name} never appeared in the uploader after {attempts} attempts (upload responses: {sent})"
        )
    wait_for(lambda: page.evaluate(IDLE_JS), 60, "the rerun after the upload")


def files_named(folder: Path, name: str) -> list[Path]:
    return [path for path in folder.rglob(name)]


def test_train_zip_upload(lab_server, page):
    """A zip of PNGs trains on exactly its images; a zip with '../evil.png' is refused with a clear sentence."""
    open_train_page(page, lab_server)
    choose_option(page, "train_source", translate("data.source_zip", "en"))
    page.locator(".st-key-train_zip input[type='file']").wait_for(state="attached", timeout=60_000)
    wait_for(lambda: page.evaluate(IDLE_JS), 60, "the rerun after choosing the zip source")
    choose_tiny_settings(page)

    count = 16
    upload_zip(page, "digits.zip", png_zip(count))
    press(page, "train_start_btn")
    # 16 images fill a batch of 8 but are far too few for a GAN: the page asks first
    warning = translate("data.few_images", "en", count=count, advised=500)
    wait_for(lambda: warning in main_text(page), 60, "the few-images warning")
    press(page, "train_few_confirm_btn")
    facts = catalog_regex("train.run_facts", "en", "n")
    try:

        def reported() -> list[int]:
            return [int(m.group(1).replace(",", "")) for m in facts.finditer(live_text(page, "#live .facts"))]

        try:  # the previous run's facts stay on screen until the new run has loaded its images
            wait_for(lambda: count in reported(), 120, f"the run to report {count} images")
        finally:
            found = reported()
        assert found == [count], f"the page reports {found} images, the zip holds {count}"
        shot(page, "06_zip_run", full_page=True)
    finally:
        stop_run(page)

    sandbox_before = sorted(p.relative_to(lab_server.sandbox) for p in lab_server.sandbox.rglob("*"))
    upload_zip(page, "evil.zip", png_zip(4, {"../evil.png": b"\x89PNG not really"}))
    press(page, "train_start_btn")
    refusal = translate("data.zip_path_traversal", "en", entry="../evil.png")
    wait_for(lambda: refusal in main_text(page), 120, "the refusal of the malicious zip")
    shot(page, "06_zip_refused", full_page=True)
    # A failed start keeps the last good run on screen: its status, its downloads
    assert translate("train.status_stopped", "en") in page.locator("h3").first.inner_text()
    assert page.locator(".st-key-train_dl_ckpt button").count() == 1
    start_box = page.locator(".st-key-train_start_btn").bounding_box()
    error_box = page.locator("[data-testid='stAlertContentError']").filter(has_text=refusal).first.bounding_box()
    assert 0 <= error_box["y"] - (start_box["y"] + start_box["height"]) < 150, (start_box, error_box)  # beside Start
    assert not page.locator("[data-testid='stException']").count()
    # Nothing escaped: no evil.png anywhere near the data folder or in the repository, and the
    # sandbox holds nothing but the data folder.
    assert not files_named(lab_server.sandbox.parent, "evil.png")
    assert not (ROOT / "evil.png").exists() and not files_named(ROOT / "data", "evil.png")
    assert [p.name for p in lab_server.sandbox.iterdir()] == ["data"]
    new_files = sorted(
        set(p.relative_to(lab_server.sandbox) for p in lab_server.sandbox.rglob("*")) - set(sandbox_before)
    )
    assert not [p for p in new_files if p.suffix.lower() in (".png", ".jpg")], new_files
    stop_run(page)
