"""Both catalogs carry the same keys and placeholders, and no page shows a raw key."""

import json
import re
import string
from pathlib import Path

import pytest
from message_keys import ALLOWLIST, app_sources, scan

from dcgan_core.i18n import (
    LANGUAGES,
    LOCALES_DIR,
    PROSE_IN_JSON,
    LabError,
    language_from_accept_language,
    language_from_locale,
    load_catalog,
    read_catalog,
    translate,
)

ROOT = Path(__file__).resolve().parent.parent


def placeholders(text):
    return {name for _, name, _, _ in string.Formatter().parse(text) if name}


def test_catalogs_have_same_keys():
    en, zh = load_catalog("en"), load_catalog("zh")
    assert set(en) == set(zh), f"only in en: {set(en) - set(zh)}; only in zh: {set(zh) - set(en)}"


def test_catalogs_have_same_placeholders():
    en, zh = load_catalog("en"), load_catalog("zh")
    for key in en:
        assert placeholders(en[key]) == placeholders(zh[key]), key


def test_long_prose_lives_in_markdown():
    for lang in LANGUAGES:
        for path in (LOCALES_DIR / lang).glob("*.json"):
            long = [k for k, v in json.loads(path.read_text(encoding="utf-8")).items() if len(v) > PROSE_IN_JSON]
            assert not long, f"{path}: move {long} to {path.with_suffix('')}/<key>.md"


def test_both_languages_keep_the_same_messages_in_markdown():
    def markdown_files(lang):
        return {p.relative_to(LOCALES_DIR / lang).as_posix() for p in (LOCALES_DIR / lang).glob("*/*.md")}

    assert markdown_files("en") == markdown_files("zh")
    assert len(markdown_files("en")) >= 15


def test_markdown_prose_is_looked_up_and_formatted_like_json():
    for lang in LANGUAGES:
        text = translate("latent.why_slerp", lang, nz=100, shell=10.0, half=7.07)
        assert "100" in text and "10.0" in text and "7.07" in text and "{" not in text
        assert "\n\n" in text and not text.endswith("\n")  # paragraphs kept; the file's last newline is not text
    assert translate("train.how", "zh").startswith("每一步")


def test_a_message_in_json_and_markdown_at_once_is_refused(tmp_path):
    (tmp_path / "lesson.json").write_text('{"title": "Title", "intro": "Short"}', encoding="utf-8")
    (tmp_path / "lesson").mkdir()
    (tmp_path / "lesson" / "body.md").write_text("Line one, {name}.\n\nLine two.\n", encoding="utf-8")
    assert read_catalog(tmp_path) == {
        "lesson.title": "Title",
        "lesson.intro": "Short",
        "lesson.body": "Line one, {name}.\n\nLine two.",
    }
    (tmp_path / "lesson" / "intro.md").write_text("Long intro\n", encoding="utf-8")
    with pytest.raises(ValueError, match="lesson.intro is written twice"):
        read_catalog(tmp_path)


def test_chinese_catalog_is_translated():
    zh = load_catalog("zh")
    han = re.compile(r"[\u4e00-\u9fff]")

    def prose_words(text):  # English words left once placeholders are removed
        return re.findall(r"[A-Za-z]{3,}", re.sub(r"\{[^}]*\}", "", text))

    untranslated = [k for k, v in zh.items() if len(prose_words(v)) >= 3 and not han.search(v)]
    assert not untranslated, untranslated


def test_every_key_the_app_uses_exists_and_every_key_is_used():
    """Read statically by tests/message_keys.py: literals, f-string families and open families."""
    report = scan(app_sources(), {lang: load_catalog(lang) for lang in LANGUAGES}, allowlist=ALLOWLIST)
    assert not report.missing, f"used but not in every catalog: {report.missing}"
    assert not report.unused, f"in the catalogs but used nowhere: {sorted(report.unused)}"


def test_locale_detection():
    assert language_from_locale("zh-CN") == "zh"
    assert language_from_locale("zh-Hans") == "zh"
    assert language_from_locale("en-US") == "en"
    assert language_from_locale(None) == "en"
    assert set(LANGUAGES) == {"en", "zh"}


def test_accept_language_detection():
    assert language_from_accept_language("zh-CN,zh;q=0.9,en;q=0.8") == "zh"
    assert language_from_accept_language("en-US,en;q=0.9,zh-CN;q=0.8") == "en"
    assert language_from_accept_language("fr-FR,fr;q=0.9,zh;q=0.8,en;q=0.7") == "zh"  # the first one we have
    assert language_from_accept_language("en;q=0.5, zh-TW") == "zh"  # by weight, not by position
    assert language_from_accept_language("zh;q=0, en") == "en"  # q=0 means "not this one"
    assert language_from_accept_language("fr, de") == "en"
    assert language_from_accept_language(None) == "en"


def test_lab_error_message_in_both_languages():
    err = LabError("errors.stride", s=0)
    assert "0" in str(err) and "stride" in str(err)
    assert "步幅" in err.message("zh")
    with pytest.raises(KeyError):
        translate("errors.no_such_key", "en")
