"""The two updates a busy movement sends most, read straight from Telegram's JSON.

Committees in session put demands forward (`/demand …` in their group) and press vote buttons,
hundreds a second across a movement. PTB turns every update into a tree of objects (the `Update`,
its `Message` with a hundred attributes, the `Chat`, the `User`, the entities; for a press the
whole message under the button, keyboard and all): about 300 µs of the bot's core per update on
our machine, a fifth of all it does for one (docs/benchmarks.md, "Ingest"). These two kinds are read
from the JSON into the few fields their handlers use, and PTB's Application dispatches them as it
dispatches any update of a type of the bot's own (`TypeHandler`, PTB's customwebhookbot example).
Their handlers take the common case themselves and hand anything else to the usual handler with
`full()`, the `Update` PTB would have made, so a person gets the same answer either way.

Reading is strict: an update becomes a fast one only in exactly the shape Telegram gives these
updates, when PTB would hand it to the same handler; anything else (an anonymous admin, an edited
message, a reply, a forum topic, a press under an inline message, a field PTB could not read) is
read by PTB as before.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from telegram import Bot, Update

GROUP_TYPES = ("group", "supergroup")
# The keys of a plain text message in a group, as Telegram sends one; any other (a reply, a topic,
# a sender chat, a link preview's options...) and PTB reads the message.
FIRST_DATE, LAST_DATE = -62_135_596_800, 253_402_300_799  # 0001-01-01 and 9999-12-31 23:59:59, UTC
COMMAND_MESSAGE_KEYS = frozenset({"message_id", "from", "chat", "date", "text", "entities"})
PRESS_KEYS = frozenset({"id", "from", "message", "chat_instance", "data"})


@dataclass(slots=True, eq=False)
class FastUpdate:
    """What both kinds share: the update's id, the chat and person it is from, and the JSON."""

    update_id: int
    chat_id: int
    user_id: int
    raw: dict[str, Any] = field(repr=False)
    _full: Update | None = field(default=None, repr=False)

    @property
    def fully_read(self) -> bool:
        """Whether `full()` was needed."""
        return self._full is not None

    def full(self, bot: Bot) -> Update:
        """The `Update` PTB makes of this update, for the handlers of everything but the common case."""
        if self._full is None:
            self._full = Update.de_json(self.raw, bot)
        return self._full


@dataclass(slots=True, eq=False)
class GroupCommand(FastUpdate):
    """A command in a group's message, such as `/demand TEXT`: what `CommandHandler` would take."""

    message_id: int = 0
    command: str = ""  # in lower case, without the slash and the bot's name
    text: str = ""  # the message's whole text


@dataclass(slots=True, eq=False)
class ChatPress(FastUpdate):
    """A press of a button under a message the bot sent in a chat."""

    query_id: str = ""
    message_id: int = 0
    data: str = ""


class UpdateReader:
    """Reads each update of a getUpdates answer (or one kept in the inbox): a fast update for the
    commands and button prefixes that have fast handlers, PTB's `Update` for everything else.
    Raises what PTB raises for an update it cannot read."""

    def __init__(self, bot: Bot, *, commands: Iterable[str] = (), buttons: Iterable[str] = ()) -> None:
        self._bot = bot
        self._commands = frozenset(command.lower() for command in commands)
        self._buttons = tuple(buttons)

    def read(self, raw: dict[str, Any]) -> object:
        fast = self.fast(raw)
        return fast if fast is not None else Update.de_json(raw, self._bot)

    def fast(self, raw: dict[str, Any]) -> FastUpdate | None:
        """The fast update `raw` is, or None."""
        if len(raw) != 2 or not _is_int(raw.get("update_id")):
            return None
        if "message" in raw:
            return self._command(raw)
        if "callback_query" in raw:
            return self._press(raw)
        return None

    def _command(self, raw: dict[str, Any]) -> GroupCommand | None:
        message = raw["message"]
        if not isinstance(message, dict) or not COMMAND_MESSAGE_KEYS.issuperset(message):
            return None
        text, entities = message.get("text"), message.get("entities")
        chat, user = _chat(message), _user(message.get("from"))
        if chat is None or chat[1] not in GROUP_TYPES or user is None or not isinstance(text, str):
            return None
        if not (_is_int(message.get("message_id")) and _is_date(message.get("date"))):
            return None
        if not isinstance(entities, list) or not entities or not all(map(_is_entity, entities)):
            return None
        first = entities[0]
        if first["type"] != "bot_command" or first["offset"] != 0:
            return None
        # As CommandHandler reads a command: "/name" or "/name@bot", this bot's name if any.
        parts = text[1 : first["length"]].split("@")
        username = self._bot.username
        if parts[0].lower() not in self._commands or (len(parts) > 1 and parts[1].lower() != username.lower()):
            return None
        return GroupCommand(
            update_id=raw["update_id"],
            chat_id=chat[0],
            user_id=user,
            raw=raw,
            message_id=message["message_id"],
            command=parts[0].lower(),
            text=text,
        )

    def _press(self, raw: dict[str, Any]) -> ChatPress | None:
        query = raw["callback_query"]
        if not isinstance(query, dict) or not PRESS_KEYS.issuperset(query):
            return None
        data, query_id, message = query.get("data"), query.get("id"), query.get("message")
        if not isinstance(data, str) or not data.startswith(self._buttons) or not isinstance(query_id, str):
            return None
        user = _user(query.get("from"))
        if user is None or not isinstance(message, dict) or not isinstance(query.get("chat_instance"), str):
            return None
        chat = _chat(message)
        # A message's date is 0 when the bot can no longer see it (inaccessible): the guards refuse that.
        if chat is None or not _is_int(message.get("message_id")) or not _is_date(message.get("date")):
            return None
        if message["date"] == 0:
            return None
        return ChatPress(
            update_id=raw["update_id"],
            chat_id=chat[0],
            user_id=user,
            raw=raw,
            query_id=query_id,
            message_id=message["message_id"],
            data=data,
        )


def _is_int(value: object) -> bool:
    return type(value) is int


def _is_date(value: object) -> bool:
    """A date PTB can read: it makes a `datetime` of it, which holds the years 1 to 9999 only, and
    an update whose date is outside them fails in PTB, so it is no fast update either."""
    return type(value) is int and FIRST_DATE <= value <= LAST_DATE


def _chat(message: dict[str, Any]) -> tuple[int, str] | None:
    chat = message.get("chat")
    if not isinstance(chat, dict) or not _is_int(chat.get("id")) or not isinstance(chat.get("type"), str):
        return None
    return chat["id"], chat["type"]


def _user(user: object) -> int | None:
    if not isinstance(user, dict) or not _is_int(user.get("id")) or not isinstance(user.get("first_name"), str):
        return None
    return user["id"] if type(user.get("is_bot")) is bool and not user["is_bot"] else None


def _is_entity(entity: object) -> bool:
    return (
        isinstance(entity, dict)
        and isinstance(entity.get("type"), str)
        and _is_int(entity.get("offset"))
        and _is_int(entity.get("length"))
    )
