"""Every user-facing string exists in every language; a missing translation fails here.

The messages are extracted from the code itself (not from a template that could be stale),
so a new `_()` string without its Russian, Kazakh, Spanish and German versions fails the suite.
Run `make locales` to add new strings to the catalogues, then translate them.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from babel.messages.extract import extract_from_dir
from babel.messages.pofile import read_po

from bot.config import LANGUAGES
from bot.i18n import LOCALES_DIR, gettext_for

ROOT = Path(__file__).resolve().parent.parent
PLACEHOLDER = re.compile(r"\{(\w*)\}")
KEYWORDS = {"_": None, "N_": None, "gettext": None, "ngettext": (1, 2)}


def code_messages() -> set[str | tuple[str, str]]:
    found: set[str | tuple[str, str]] = set()
    for package in ("bot", "handlers", "domain"):
        for _file, _line, message, _comments, _context in extract_from_dir(
            ROOT / package, method_map=[("**.py", "python")], keywords=KEYWORDS
        ):
            found.add(message if isinstance(message, str) else tuple(message))
    return found


MESSAGES = code_messages()


def test_there_are_messages_to_translate():
    assert len(MESSAGES) > 50


@pytest.mark.parametrize("language", [lang for lang in LANGUAGES if lang != "en"])
def test_catalogue_is_complete(language):
    with (LOCALES_DIR / language / "LC_MESSAGES" / "asamblea.po").open("rb") as po:
        catalogue = read_po(po)
    missing, mismatched = [], []
    for message_id in MESSAGES:
        key = message_id[0] if isinstance(message_id, tuple) else message_id
        entry = catalogue.get(key)
        strings = () if entry is None else (entry.string if isinstance(entry.string, tuple | list) else (entry.string,))
        if entry is None or entry.fuzzy or not strings or not all(strings):
            missing.append(key)
            continue
        wanted = set(PLACEHOLDER.findall(key))
        if any(set(PLACEHOLDER.findall(s)) != wanted for s in strings):
            mismatched.append(key)
    assert not missing, f"{language}: {len(missing)} untranslated, e.g. {missing[:3]}"
    assert not mismatched, f"{language}: placeholders differ in {mismatched[:3]}"


def test_translations_are_used():
    assert gettext_for("de")("Approve") != "Approve"
    assert gettext_for("en")("Approve") == "Approve"
