"""Translations: gettext catalogues in locales/<lang>/LC_MESSAGES/asamblea.po, via Babel.

English is the source language: the msgids in the code are the English texts. The .po files
are compiled in memory at start, so there is no build step and no binary in the repository.
Mark a string for translation with `_()` where it is used, or with `N_()` where it is defined
as a constant and translated later; `pybabel extract` (see docs/translating.md) finds both.
"""

from __future__ import annotations

import io
from collections.abc import Callable, Iterable
from functools import cache
from pathlib import Path

from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po
from babel.support import NullTranslations, Translations

from bot.config import LANGUAGES

DOMAIN = "asamblea"
LOCALES_DIR = Path(__file__).resolve().parent.parent / "locales"
LANGUAGE_NAMES = {"en": "English", "ru": "Русский", "kk": "Қазақша", "es": "Español", "de": "Deutsch"}

Gettext = Callable[[str], str]


def N_(message: str) -> str:
    """Mark a constant for extraction; it is translated where it is shown."""
    return message


def load_catalogue(path: Path) -> Translations:
    """Compile one .po file in memory."""
    with path.open("rb") as po:
        catalog = read_po(po)
    buffer = io.BytesIO()
    write_mo(buffer, catalog)
    buffer.seek(0)
    return Translations(fp=buffer, domain=DOMAIN)


@cache
def translations(language: str) -> NullTranslations:
    """The catalogue of a language; English (and anything unknown) passes text through."""
    path = LOCALES_DIR / language / "LC_MESSAGES" / f"{DOMAIN}.po"
    if language == "en" or language not in LANGUAGES or not path.exists():
        return NullTranslations()
    return load_catalogue(path)


def gettext_for(language: str) -> Gettext:
    return translations(language).gettext


def ngettext_for(language: str) -> Callable[[str, str, int], str]:
    return translations(language).ngettext


def pick_language(*candidates: str | None, default: str) -> str:
    """The first supported language among a chat's setting and the user's Telegram language."""
    for candidate in candidates:
        if candidate:
            short = candidate.split("-")[0].lower()
            if short in LANGUAGES:
                return short
    return default


def preload(languages: Iterable[str] = LANGUAGES) -> None:
    """Compile every catalogue at start so a broken .po fails the start, not a user's request."""
    for language in languages:
        translations(language)
