"""Telegram's limit on a message's text, and text cut to fit it.

Telegram counts a text's length in UTF-16 code units, not characters: an emoji or another
character beyond the Basic Multilingual Plane counts two. One cutting rule serves every long text
the bot sends (a digest, a listing that grew with what people put in it).
"""

from __future__ import annotations

MESSAGE_MAX = 4096  # Telegram's limit on a message's text, in UTF-16 code units


def message_parts(text: str, limit: int = MESSAGE_MAX) -> list[str]:
    """`text` as messages Telegram takes (at most `limit` UTF-16 code units each), cut at line
    breaks and within a line only where the line alone is too long; no part starts or ends with a
    line break, and blank parts are left out (a text that is all blank stays one part)."""
    parts = []
    while len(text.encode("utf-16-le")) > 2 * limit:
        units, cut = 0, len(text)
        for index, character in enumerate(text):
            units += 2 if ord(character) > 0xFFFF else 1
            if units > limit:
                cut = index
                break
        line_end = text.rfind("\n", 0, cut)
        cut = line_end if line_end > 0 else cut
        parts.append(text[:cut].strip("\n"))
        text = text[cut:].lstrip("\n")
    return [part for part in [*parts, text.rstrip("\n")] if part.strip()] or [text]
