"""Comparing words people type: "Mangystau-Region", "mangystau region" and "MANGYSTAU region"
are one region, "manana" is "mañana". One rule, so commands, regions and keywords agree."""

from __future__ import annotations

import unicodedata


def fold(text: str) -> str:
    """Case, accents, hyphens, underscores and runs of spaces ignored."""
    decomposed = unicodedata.normalize("NFKD", text.casefold())
    plain = "".join(ch for ch in decomposed if not unicodedata.combining(ch))
    return " ".join(plain.replace("_", " ").replace("-", " ").split())
