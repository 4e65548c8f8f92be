"""The app in a real browser: Debian's Chromium driven by Playwright against `streamlit run app.py`.

Every scenario asserts on the live DOM and leaves a screenshot in test-artifacts/e2e/.
Expected values come from the catalogs (dcgan_core.i18n) and the core (dcgan_core.arithmetic,
dcgan_core.checkpoint), never from the page itself.
"""
from __future__ import annotations

import io
import re
import time
from pathlib import Path

import pytest
from PIL import Image

import ui
from dcgan_core.arithmetic import conv_output_size
from dcgan_core.i18n import LANGUAGES, load_catalog, translate

ROOT = Path(__file__).resolve().parents[2]
ARTIFACTS = ROOT / "test-artifacts" / "e2e"

# (url path, page file, nav title key) for every page that exists; the first page is served at "/".
PAGES = [(Path(path).stem, path, title_key)
         for entries in ui.PAGES.values() for path, title_key, _ in entries if (ui.ROOT / path).exists()]
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
        f"(Streamlit's pages/ directory mode); sidebar shows {sidebar[:200]!r}")
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
                has=page.locator("[data-testid='stMarkdownContainer']", has_text=re.compile(rf"^\s*{re.escape(title)}\s*$")))
            if link.count() and link.first.is_visible():
                link.first.click()
            else:  # a long navigation may fold some entries away: follow the page's own link instead
                page.goto(f"{lab_server.url}/{stem}?lang={lang}")
            wait_for(lambda: active_nav_title(page) == title, 60, f"navigation to {stem}")
            wait_for(lambda: page.evaluate(IDLE_JS)
                     and page.locator("[data-testid='stMain'] h1").first.inner_text() != previous_heading,
                     90, f"{stem} to replace the previous page")
            wait_until_idle(page)
        shot(page, f"01_page_{stem}_{lang}")
        problems = page_problems(page, title_key, lang)
        if problems:
            failures[stem] = problems
    assert not failures, failures
    assert not page.page_errors, f"JavaScript errors in the browser: {page.page_errors[:5]}"


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
        wait_for(lambda: slider_value(page, key) != before_value, 10, f"slider {key} to move")
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
    changed = wait_for(lambda: label.first.text_content() != first and label.first.text_content(), 15,
                       "the animation to advance")
    shot(page, "03_animation_playing")
    pause = chart.locator("g.updatemenu-button").filter(has_text=translate("common.pause", "en"))
    if pause.count():
        pause.first.click()
    assert changed != first


def test_gif_download(lab_server, page):
    """The GIF button delivers a real animated GIF."""
    open_app(page, lab_server, "output_size", "en")
    button = page.locator("[data-testid='stDownloadButton'] button:visible").filter(
        has_text=translate("common.download_gif", "en"))
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
    assert download.suggested_filename.endswith(".gif")
    shot(page, "04_gif_downloaded")
