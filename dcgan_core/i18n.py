"""Message catalogs for English and Simplified Chinese.

Each page or module owns one namespace: ``locales/<lang>/<namespace>.json``.
A key is addressed as ``"<namespace>.<key>"``, e.g. ``"output_size.title"``.
"""
from __future__ import annotations

import json
from functools import lru_cache
from pathlib import Path

LOCALES_DIR = Path(__file__).parent / "locales"
LANGUAGES = {"en": "English", "zh": "简体中文"}
DEFAULT_LANGUAGE = "en"


@lru_cache(maxsize=None)
def load_catalog(lang: str) -> dict[str, str]:
    if lang not in LANGUAGES:
        raise ValueError(f"Unknown language {lang!r}; choose one of {sorted(LANGUAGES)}.")
    catalog: dict[str, str] = {}
    for path in sorted((LOCALES_DIR / lang).glob("*.json")):
        entries = json.loads(path.read_text(encoding="utf-8"))
        catalog.update({f"{path.stem}.{key}": text for key, text in entries.items()})
    return catalog


def translate(key: str, lang: str = DEFAULT_LANGUAGE, **params) -> str:
    """The text for ``key`` in ``lang`` with ``{name}`` placeholders filled.

    A missing key raises KeyError: a raw key must never reach the screen,
    and the catalog tests catch it before a user does.
    """
    text = load_catalog(lang)[key]
    return text.format(**params) if params else text


def language_from_locale(locale: str | None) -> str:
    """Map a browser locale such as 'zh-CN' or 'en-US' to a catalog language."""
    if locale and locale.lower().startswith("zh"):
        return "zh"
    return DEFAULT_LANGUAGE


class LabError(ValueError):
    """A user-facing error: a catalog key plus its parameters.

    ``str(err)`` is the English sentence (for logs, the CLI and tests); the UI
    shows ``err.message(lang)`` in the reader's language.
    """

    def __init__(self, key: str, **params):
        self.key = key
        self.params = params
        super().__init__(self.message(DEFAULT_LANGUAGE))

    def message(self, lang: str) -> str:
        return translate(self.key, lang, **self.params)
