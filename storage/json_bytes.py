"""JSON as UTF-8 bytes, for what is sealed at rest and what is sent to the Bot API.

Every update is kept (sealed) as JSON and every answer to a press is a JSON body: at a thousand
updates a second the standard library's encoder, 14 µs for an update with Cyrillic text, is a few
percent of the core; orjson does it in 1 µs. orjson refuses what the standard library takes
(integers beyond 64 bits, keys that are not strings), and a hostile update may hold such an
integer: those are encoded by the standard library, so that nothing fails that did before.

Reading stays with the standard library where a value must come back exactly as it went in:
orjson reads an integer beyond 64 bits as a float. `loads_own` is for JSON the bot wrote itself
from its own small values (a decision's settings, an outbox row), where that cannot happen.
"""

from __future__ import annotations

import json
from typing import Any

import orjson


def dumps(value: Any) -> bytes:
    """Compact JSON, non-ASCII characters as themselves (as `json.dumps(ensure_ascii=False)`)."""
    try:
        return orjson.dumps(value)
    except TypeError:  # orjson.JSONEncodeError: a big integer, a key that is not a string
        return json.dumps(value, ensure_ascii=False, separators=(",", ":")).encode()


def loads_own(data: bytes | str) -> Any:
    """JSON the bot wrote itself (no integer beyond 64 bits in it)."""
    return orjson.loads(data)
