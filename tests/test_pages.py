"""Every page renders under AppTest in both languages, with no exception and no raw catalog key."""

import re

import pytest
from streamlit.testing.v1 import AppTest

import ui

PAGE_FILES = [path for entries in ui.PAGES.values() for path, _, _ in entries if (ui.ROOT / path).exists()]
RAW_KEY = re.compile(r"^[a-z_]+\.[a-z0-9_]+$")


def visible_texts(at):
    for kind in ("markdown", "title", "header", "subheader", "caption", "info", "warning", "error", "success", "text"):
        for element in getattr(at, kind):
            yield str(element.value)
    for kind in (
        "slider",
        "selectbox",
        "radio",
        "checkbox",
        "button",
        "number_input",
        "toggle",
        "select_slider",
        "multiselect",
    ):
        for element in getattr(at, kind):
            yield str(element.label)


@pytest.mark.parametrize("lang", ["en", "zh"])
@pytest.mark.parametrize("page", PAGE_FILES)
def test_page_renders_without_raw_keys(page, lang):
    at = AppTest.from_file(str(ui.ROOT / "app.py"), default_timeout=120)
    at.session_state["lang"] = lang
    at.switch_page(page).run()
    assert not at.exception, [e.value for e in at.exception]
    texts = list(visible_texts(at))
    assert texts, "page showed no text"
    raw = [t for t in texts if RAW_KEY.match(t.strip())]
    assert not raw, raw
    if lang == "zh":
        assert any(re.search(r"[\u4e00-\u9fff]", t) for t in texts)
