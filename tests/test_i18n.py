"""Both catalogs carry the same keys and placeholders, and no page shows a raw key."""

import re
import string
from pathlib import Path

import pytest
from message_keys import ALLOWLIST, app_sources, scan

from dcgan_core.i18n import (
    LANGUAGES,
    LabError,
    language_from_accept_language,
    language_from_locale,
    load_catalog,
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
