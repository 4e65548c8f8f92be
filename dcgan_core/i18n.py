"""Message catalogs for English and Simplified Chinese.

Each page or module owns one namespace: ``locales/<lang>/<namespace>.json``.
A key is addressed as ``"<namespace>.<key>"``, e.g. ``"output_size.title"``.
Long lesson prose (more than PROSE_IN_JSON characters) lives in its own Markdown file,
``locales/<lang>/<namespace>/<key>.md``, and is looked up the same way, ``{placeholders}`` included.
"""

from __future__ import annotations

import json
from functools import cache
from pathlib import Path

LOCALES_DIR = Path(__file__).parent / "locales"
LANGUAGES = {"en": "English", "zh": "简体中文"}
DEFAULT_LANGUAGE = "en"
PROSE_IN_JSON = 500  # a longer message belongs in a Markdown file (tests/test_i18n.py checks)


@cache
def load_catalog(lang: str) -> dict[str, str]:
    if lang not in LANGUAGES:
        raise ValueError(f"Unknown language {lang!r}; choose one of {sorted(LANGUAGES)}.")
    return read_catalog(LOCALES_DIR / lang)


def read_catalog(folder: Path) -> dict[str, str]:
    """One language's messages: ``<namespace>.json`` files, and ``<namespace>/<key>.md`` for long prose."""
    catalog: dict[str, str] = {}
    for path in sorted(folder.glob("*.json")):
        entries = json.loads(path.read_text(encoding="utf-8"))
        catalog.update({f"{path.stem}.{key}": text for key, text in entries.items()})
    for path in sorted(folder.glob("*/*.md")):
        key = f"{path.parent.name}.{path.stem}"
        if key in catalog:
            raise ValueError(f"{key} is written twice: in {path.parent.name}.json and in {path}.")
        catalog[key] = path.read_text(encoding="utf-8").removesuffix("\n")
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


def language_from_accept_language(header: str | None) -> str:
    """The first catalog language in an Accept-Language header, by its q weights
    ('zh-CN,zh;q=0.9,en;q=0.8' -> 'zh'); English when none is offered."""
    ranked = []
    for position, part in enumerate((header or "").split(",")):
        tag, _, params = part.strip().partition(";")
        weight = 1.0
        for param in params.split(";"):
            name, _, value = param.strip().partition("=")
            if name == "q":
                try:
                    weight = float(value)
                except ValueError:
                    weight = 0.0
        if tag and weight > 0:
            ranked.append((-weight, position, tag.strip().lower()))
    for _, _, tag in sorted(ranked):
        if tag.split("-")[0] in LANGUAGES:
            return tag.split("-")[0]
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
