"""Bot API request parameters, whichever way they arrive.

The Bot API takes parameters as a JSON body, as a URL-encoded or multipart form,
or in the query string. In the form encodings every value is a string and
objects (``reply_markup``, ``entities``, ``scope`` ...) arrive JSON-serialised,
which is how python-telegram-bot sends them. :class:`Params` hides the
difference: each accessor takes the typed JSON value or parses the string.
"""

from __future__ import annotations

import asyncio
import json
from dataclasses import dataclass
from typing import Any

from .errors import ApiError, bad_request

_OBJECT_ERRORS = {
    "reply_markup": "can't parse reply keyboard markup JSON object",
    "entities": "can't parse entities JSON object",
    "caption_entities": "can't parse entities JSON object",
    "reply_parameters": "can't parse reply parameters JSON object",
    "link_preview_options": "can't parse link preview options JSON object",
    "commands": "can't parse commands JSON object",
    "scope": "can't parse BotCommandScope JSON object",
    "allowed_updates": "can't parse allowed updates JSON object",
    "reaction": "can't parse reaction types JSON object",
}


@dataclass
class Upload:
    """A file sent in a multipart request."""

    filename: str | None
    content_type: str | None
    body: bytes


class Params:
    """The parameters of one Bot API call."""

    def __init__(
        self,
        values: dict[str, Any],
        files: dict[str, Upload] | None = None,
        closed: asyncio.Event | None = None,
    ) -> None:
        self.values = values
        self.files = files or {}
        # Set when the client hangs up, so a long poll stops waiting for nobody.
        self.closed = closed

    def __contains__(self, name: str) -> bool:
        return name in self.values or name in self.files

    def raw(self, name: str) -> Any:
        """The value as received, or None."""
        return self.values.get(name)

    def str(self, name: str, default: str | None = None) -> str | None:
        """A string parameter; numbers sent in JSON become their text."""
        value = self.values.get(name)
        if value is None:
            return default
        if isinstance(value, str):
            return value
        if isinstance(value, bool):
            return "true" if value else "false"
        if isinstance(value, int | float):
            return str(value)
        raise bad_request(f'parameter "{name}" must be a string')

    def int(self, name: str, default: int | None = None) -> int | None:
        """An integer parameter."""
        value = self.values.get(name)
        if value is None or value == "":
            return default
        if isinstance(value, bool):
            return int(value)
        if isinstance(value, int):
            return value
        if isinstance(value, float) and value.is_integer():
            return int(value)
        if isinstance(value, str):
            try:
                return int(value.strip())
            except ValueError:
                pass
        raise bad_request(f"invalid {name} specified")

    def float(self, name: str, default: float | None = None) -> float | None:
        """A number parameter."""
        value = self.values.get(name)
        if value is None or value == "":
            return default
        try:
            return float(value)
        except (TypeError, ValueError):
            raise bad_request(f"invalid {name} specified") from None

    def bool(self, name: str, default: bool = False) -> bool:
        """A boolean parameter: JSON true/false, or "true"/"false"/"1"/"0" in forms."""
        value = self.values.get(name)
        if value is None or value == "":
            return default
        if isinstance(value, bool):
            return value
        if isinstance(value, int):
            return value != 0
        if isinstance(value, str):
            return value.strip().lower() in ("true", "1", "yes")
        return default

    def json(self, name: str) -> Any:
        """An object or array parameter, JSON-decoded if it arrived as a string."""
        value = self.values.get(name)
        if value is None or value == "":
            return None
        if isinstance(value, str):
            try:
                return json.loads(value)
            except ValueError:
                raise bad_request(_OBJECT_ERRORS.get(name, f"can't parse {name} JSON object")) from None
        return value

    def chat_id(self, name: str = "chat_id") -> int | str:
        """A chat id: an integer, or ``@username`` of a public chat."""
        value = self.values.get(name)
        if value is None or value == "":
            raise bad_request("chat_id is empty")
        if isinstance(value, str) and value.strip().startswith("@"):
            return value.strip()
        try:
            return self.int(name) or 0
        except ApiError:
            raise bad_request("chat not found") from None

    def loggable(self) -> dict[str, Any]:
        """The parameters for the call log, with uploaded files as name and size only."""
        logged: dict[str, Any] = dict(self.values)
        for name, upload in self.files.items():
            logged[name] = {"upload": upload.filename, "size": len(upload.body)}
        return logged
