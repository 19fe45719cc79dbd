"""What a message carries: text after parse_mode, entities, and the reply markup.

sendMessage, sendPhoto and the edit methods all take text (or a caption) with
``parse_mode`` or explicit ``entities``, and a ``reply_markup``. Parsing and
validating them is the same everywhere, and happens before the chat is even
looked at, as on the real Bot API server, so it lives here.
"""

from __future__ import annotations

import re
from typing import Any

from . import errors as e
from .errors import bad_request
from .formatting import EntityParseError, parse, strip_text
from .params import Params

MAX_CALLBACK_DATA = 64

_BUTTON_ACTIONS = frozenset(
    {
        "url", "callback_data", "web_app", "login_url", "switch_inline_query",
        "switch_inline_query_current_chat", "switch_inline_query_chosen_chat", "copy_text",
        "callback_game", "pay",
    }
)  # fmt: skip


def formatted_text(p: Params, text_key: str, entities_key: str) -> tuple[str | None, list[dict[str, Any]]]:
    """Text (or caption) after parse_mode, with its entities, trimmed like Telegram."""
    text = p.str(text_key)
    if text is None:
        return None, []
    explicit = p.json(entities_key)
    parse_mode = p.str("parse_mode")
    if explicit is not None:
        if not isinstance(explicit, list) or not all(
            isinstance(x, dict) and "type" in x and "offset" in x and "length" in x for x in explicit
        ):
            raise bad_request("can't parse entities JSON object")
        entities = [dict(x) for x in explicit]
    elif parse_mode:
        try:
            text, entities = parse(text, parse_mode)
        except LookupError:
            raise bad_request(e.UNSUPPORTED_PARSE_MODE) from None
        except EntityParseError as error:
            raise bad_request(f"can't parse entities: {error}") from None
    else:
        entities = []
    return strip_text(text, entities)


def reply_markup(p: Params) -> dict[str, Any] | None:
    """Validate ``reply_markup``; return it if it is an inline keyboard (kept on the message)."""
    markup = p.json("reply_markup")
    if markup is None:
        return None
    unparsable = bad_request("can't parse reply keyboard markup JSON object")
    if not isinstance(markup, dict):
        raise unparsable
    if "inline_keyboard" in markup:
        rows = markup["inline_keyboard"]
        if not isinstance(rows, list) or not all(isinstance(row, list) for row in rows):
            raise bad_request('field "inline_keyboard" of the InlineKeyboardMarkup should be an Array of Arrays')
        keyboard = [[inline_button(button) for button in row] for row in rows]
        keyboard = [row for row in keyboard if row]
        return {"inline_keyboard": keyboard} if keyboard else None
    if "keyboard" in markup:
        if not isinstance(markup["keyboard"], list):
            raise unparsable
        return None
    if "remove_keyboard" in markup or "force_reply" in markup:
        return None
    raise unparsable


def inline_button(button: Any) -> dict[str, Any]:
    """One inline button: it needs text and an action; callback_data is 1-64 bytes."""
    if not isinstance(button, dict) or not isinstance(button.get("text"), str):
        raise bad_request('can\'t parse inline keyboard button: Field "text" must be of type String')
    actions = _BUTTON_ACTIONS & {k for k, v in button.items() if v is not None}
    if not actions:
        raise bad_request(e.TEXT_BUTTONS_UNALLOWED)
    if "callback_data" in actions:
        data = button["callback_data"]
        if not isinstance(data, str) or not 1 <= len(data.encode("utf-8")) <= MAX_CALLBACK_DATA:
            raise bad_request(e.BUTTON_DATA_INVALID)
    if "url" in actions:
        url = str(button["url"])
        if not re.match(r"^(https?|tg)://[^\s]+$", url):
            raise bad_request(e.BUTTON_URL_INVALID)
    return {key: value for key, value in button.items() if value is not None}
