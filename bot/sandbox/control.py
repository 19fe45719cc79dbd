"""The control API under ``/sandbox/``: people act, tests look, nobody sleeps.

Tests and the demo create users and chats, make people write and tap buttons,
inject raw (even hostile) updates, and read back what the bot sent, which
calls it made and which commands it registered. Two long polls replace sleeps:
``/sandbox/wait`` returns as soon as the bot sent or edited something in a chat
after a given ``seq``, and ``/sandbox/wait_idle`` returns once every update is
confirmed and the bot has gone quiet. Every answer carries the current ``seq``
in the ``X-Sandbox-Seq`` header. Bodies are JSON; errors are
``{"ok": false, "error": "..."}`` with 400, 404 or 408.
"""

from __future__ import annotations

import functools
import json
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, Any

import tornado.web

from .errors import ApiError
from .faults import FaultRule
from .wire import PRIVATE, Chat, chat_json
from .world import WorldError

if TYPE_CHECKING:
    from .server import SandboxServer

Handler = Callable[..., Awaitable[None] | None]


def _guarded(method: Handler) -> Handler:
    """Turn world and validation errors into JSON error answers."""

    @functools.wraps(method)
    async def wrapper(self: ControlHandler, *args: str) -> None:
        try:
            result = method(self, *args)
            if result is not None:
                await result
        except WorldError as error:
            self.reply({"ok": False, "error": str(error)}, error.status)
        except ApiError as error:
            self.reply({"ok": False, "error": error.description}, 400)
        except (ValueError, TypeError, KeyError) as error:
            self.reply({"ok": False, "error": f"bad request: {error}"}, 400)

    return wrapper


class ControlHandler(tornado.web.RequestHandler):
    """Shared plumbing: JSON in, JSON out, the seq header."""

    def initialize(self) -> None:
        self.sandbox: SandboxServer = self.settings["sandbox"]
        self.world = self.sandbox.world

    def body(self) -> dict[str, Any]:
        """The JSON object sent, or {}."""
        if not self.request.body:
            return {}
        data = json.loads(self.request.body)
        if not isinstance(data, dict):
            raise ValueError("the body must be a JSON object")
        return data

    def number(self, name: str, default: float) -> float:
        """A numeric query argument."""
        value = self.get_query_argument(name, None)
        return default if value in (None, "") else float(value)

    def integer(self, name: str, default: int | None) -> int | None:
        """An integer query argument."""
        value = self.get_query_argument(name, None)
        return default if value in (None, "") else int(value)

    def reply(self, data: Any, status: int = 200) -> None:
        """Send ``data`` as JSON."""
        self.set_status(status)
        self.set_header("Content-Type", "application/json")
        self.set_header("X-Sandbox-Seq", str(self.world.seq))
        self.finish(json.dumps(data, ensure_ascii=False))


def chat_info(sandbox: SandboxServer, chat: Chat) -> dict[str, Any]:
    """A chat as the control API shows it: Telegram's Chat plus membership and migration."""
    world = sandbox.world
    data = chat_json(chat, world.users)
    data["bot_status"] = "member" if chat.type == PRIVATE else chat.status_of(world.bot.id)
    data["members"] = [
        {"user_id": user_id, "status": member.status}
        for user_id, member in chat.members.items()
        if user_id != world.bot.id
    ]
    if chat.migrated_to is not None:
        data["migrated_to_chat_id"] = chat.migrated_to
    if chat.migrated_from is not None:
        data["migrated_from_chat_id"] = chat.migrated_from
    data["pinned_message_ids"] = list(chat.pinned)
    return data


class UsersHandler(ControlHandler):
    """POST /sandbox/users {first_name, last_name?, username?, language_code?, id?}."""

    @_guarded
    def post(self) -> None:
        body = self.body()
        user_id = body.get("id")
        user = self.world.create_user(
            str(body.get("first_name") or ""),
            last_name=body.get("last_name"),
            username=body.get("username"),
            language_code=body.get("language_code"),
            user_id=int(user_id) if user_id is not None else None,
        )
        self.reply(user.to_json())


class UserHandler(ControlHandler):
    """GET /sandbox/users/{id}: the user, and whether they started or blocked the bot."""

    @_guarded
    def get(self, user_id: str) -> None:
        user = self.world.user(int(user_id))
        self.reply({**user.to_json(), "started": user.started, "blocked": user.blocked})


class BlockHandler(ControlHandler):
    """POST /sandbox/users/{id}/block (or /unblock)."""

    @_guarded
    def post(self, user_id: str, action: str) -> None:
        user = self.world.set_blocked(int(user_id), action == "block")
        self.reply({**user.to_json(), "started": user.started, "blocked": user.blocked})


class ChatsHandler(ControlHandler):
    """POST /sandbox/chats {type, title, creator_id, bot_member?, bot_admin?, announce?}."""

    @_guarded
    def post(self) -> None:
        body = self.body()
        chat = self.world.create_chat(
            str(body.get("type", "")),
            str(body.get("title") or ""),
            int(body["creator_id"]),
            bot_member=bool(body.get("bot_member", False)),
            bot_admin=bool(body.get("bot_admin", False)),
            username=body.get("username"),
            announce=bool(body.get("announce", True)),
        )
        self.reply(chat_info(self.sandbox, chat))


class ChatHandler(ControlHandler):
    """GET /sandbox/chats/{id}."""

    @_guarded
    def get(self, chat_id: str) -> None:
        self.reply(chat_info(self.sandbox, self.world.chat(int(chat_id))))


class MembersHandler(ControlHandler):
    """POST /sandbox/chats/{id}/members {user_id, status}."""

    @_guarded
    def post(self, chat_id: str) -> None:
        body = self.body()
        chat = self.world.set_member(int(chat_id), int(body["user_id"]), str(body["status"]))
        self.reply(chat_info(self.sandbox, chat))


class BotMembershipHandler(ControlHandler):
    """POST /sandbox/chats/{id}/bot {action: add|remove|promote|demote, by_user_id?}."""

    @_guarded
    def post(self, chat_id: str) -> None:
        body = self.body()
        by = body.get("by_user_id")
        chat = self.world.bot_action(int(chat_id), str(body.get("action", "")), int(by) if by is not None else None)
        self.reply(chat_info(self.sandbox, chat))


class MigrateHandler(ControlHandler):
    """POST /sandbox/chats/{id}/migrate → {new_chat_id, chat}."""

    @_guarded
    def post(self, chat_id: str) -> None:
        chat = self.world.migrate(int(chat_id))
        self.reply({"new_chat_id": chat.id, "chat": chat_info(self.sandbox, chat)})


class ChatMessagesHandler(ControlHandler):
    """GET /sandbox/chats/{id}/messages?since=SEQ: what the bot sent there."""

    @_guarded
    def get(self, chat_id: str) -> None:
        since = self.integer("since", 0) or 0
        self.reply(self.world.sent_since(since, int(chat_id)))


class HistoryHandler(ControlHandler):
    """GET /sandbox/chats/{id}/history: every message in the chat, people's too."""

    @_guarded
    def get(self, chat_id: str) -> None:
        chat = self.world.chat(int(chat_id))
        self.reply([message for message_id, message in chat.messages.items() if message_id not in chat.deleted])


class MessagesHandler(ControlHandler):
    """POST /sandbox/messages {chat_id, from_user_id?, text, reply_to_message_id?}."""

    @_guarded
    def post(self) -> None:
        body = self.body()
        sender = body.get("from_user_id")
        reply_to = body.get("reply_to_message_id")
        message = self.world.user_message(
            int(body["chat_id"]),
            int(sender) if sender is not None else None,
            str(body.get("text") or ""),
            int(reply_to) if reply_to is not None else None,
        )
        self.reply(message)


class CallbacksHandler(ControlHandler):
    """POST /sandbox/callbacks {chat_id, message_id, from_user_id, data}."""

    @_guarded
    def post(self) -> None:
        body = self.body()
        data = body.get("data")
        record = self.world.press(
            int(body["chat_id"]),
            int(body["message_id"]),
            int(body["from_user_id"]),
            str(data) if data is not None else None,
        )
        self.reply({"callback_query_id": record.id})


class CallbackHandler(ControlHandler):
    """GET /sandbox/callbacks/{id}: the bot's answer, or null while it has none."""

    @_guarded
    def get(self, query_id: str) -> None:
        record = self.world.callbacks.get(query_id)
        if record is None:
            raise WorldError(f"no callback query {query_id}", 404)
        self.reply(record.answer)


class UpdatesHandler(ControlHandler):
    """POST /sandbox/updates {update, post?}: queue a raw update verbatim; with ``post`` its message
    is also posted in its chat (numbered there if it has none), so the bot can reply to it. A
    callback query in it is answerable like a press (GET /sandbox/callbacks/{id})."""

    @_guarded
    def post(self) -> None:
        body = self.body()
        update = body.get("update")
        if not isinstance(update, dict):
            raise ValueError('"update" must be a JSON object')
        self.reply(self.world.inject(update, post=bool(body.get("post", False))))


class SentHandler(ControlHandler):
    """GET /sandbox/sent?since=SEQ: what the bot sent anywhere."""

    @_guarded
    def get(self) -> None:
        self.reply(self.world.sent_since(self.integer("since", 0) or 0))


class CallsHandler(ControlHandler):
    """GET /sandbox/calls?method=&since=: the Bot API call log."""

    @_guarded
    def get(self) -> None:
        method = (self.get_query_argument("method", "") or "").lower()
        since = self.integer("since", 0) or 0
        self.reply([call for call in self.world.calls[since:] if not method or call["method"].lower() == method])


class CommandsHandler(ControlHandler):
    """GET /sandbox/commands: every registered list with its scope and language."""

    @_guarded
    def get(self) -> None:
        self.reply(list(self.world.commands.values()))


class PhotoHandler(ControlHandler):
    """GET /sandbox/photos/{file_id}: the bytes the bot uploaded."""

    @_guarded
    def get(self, file_id: str) -> None:
        photo = self.world.photos.get(file_id)
        if photo is None:
            raise WorldError(f"no photo {file_id}", 404)
        self.set_header("Content-Type", photo.mime_type or "application/octet-stream")
        self.set_header("X-Sandbox-Seq", str(self.world.seq))
        if photo.url:
            self.set_header("X-Sandbox-Photo-Url", photo.url)
        self.finish(photo.data)


class FaultsHandler(ControlHandler):
    """POST /sandbox/faults {rule}, DELETE /sandbox/faults, GET the queue."""

    @_guarded
    def get(self) -> None:
        self.reply(self.sandbox.faults.to_json())

    @_guarded
    def post(self) -> None:
        body = self.body()
        rule = FaultRule.from_json(body.get("rule", body))
        self.sandbox.faults.add(rule)
        self.reply(self.sandbox.faults.to_json())

    @_guarded
    def delete(self) -> None:
        self.sandbox.faults.clear()
        self.reply([])


class LimitsHandler(ControlHandler):
    """PUT /sandbox/limits {enabled?, global_per_second?, ...}; GET the current limits."""

    @_guarded
    def get(self) -> None:
        self.reply(self.sandbox.limits.to_json())

    @_guarded
    def put(self) -> None:
        limits = self.sandbox.limits.updated(self.body())
        self.sandbox.limiter.configure(limits)
        self.reply(limits.to_json())


class StatsHandler(ControlHandler):
    """GET /sandbox/stats."""

    @_guarded
    def get(self) -> None:
        self.reply(self.sandbox.stats())


class PendingHandler(ControlHandler):
    """GET /sandbox/pending_updates: updates the bot has not confirmed yet."""

    @_guarded
    def get(self) -> None:
        self.reply({"pending_updates": len(self.world.updates)})


class SeqHandler(ControlHandler):
    """GET /sandbox/seq: the current sequence number of the bot's sends and edits."""

    @_guarded
    def get(self) -> None:
        self.reply({"seq": self.world.seq})


class ResetHandler(ControlHandler):
    """POST /sandbox/reset: an empty world again."""

    @_guarded
    def post(self) -> None:
        self.sandbox.reset()
        self.reply({"ok": True})


class WaitHandler(ControlHandler):
    """GET /sandbox/wait?chat_id=&since=&timeout=&count=: long poll for the bot's output."""

    @_guarded
    async def get(self) -> None:
        chat_id = self.integer("chat_id", None)
        found = await self.sandbox.wait_sent(
            chat_id,
            self.integer("since", 0) or 0,
            self.number("timeout", 10.0),
            int(self.integer("count", 1) or 1),
        )
        if found is None:
            self.reply({"ok": False, "error": "timeout"}, 408)
        else:
            self.reply(found)


class WaitIdleHandler(ControlHandler):
    """GET /sandbox/wait_idle?timeout=&quiet=: until the bot has processed everything."""

    @_guarded
    async def get(self) -> None:
        idle = await self.sandbox.wait_idle(self.number("timeout", 10.0), self.number("quiet", 0.2))
        if idle:
            self.reply({"idle": True, "pending_updates": 0})
        else:
            self.reply({"ok": False, "error": "timeout", "pending_updates": len(self.world.updates)}, 408)


def control_routes() -> list[tuple[str, type[ControlHandler]]]:
    """The URL patterns of the control API."""
    chat = r"/sandbox/chats/(-?\d+)"
    return [
        (r"/sandbox/users", UsersHandler),
        (r"/sandbox/users/(-?\d+)", UserHandler),
        (r"/sandbox/users/(-?\d+)/(block|unblock)", BlockHandler),
        (r"/sandbox/chats", ChatsHandler),
        (chat, ChatHandler),
        (chat + "/members", MembersHandler),
        (chat + "/bot", BotMembershipHandler),
        (chat + "/migrate", MigrateHandler),
        (chat + "/messages", ChatMessagesHandler),
        (chat + "/history", HistoryHandler),
        (r"/sandbox/messages", MessagesHandler),
        (r"/sandbox/callbacks", CallbacksHandler),
        (r"/sandbox/callbacks/([^/]+)", CallbackHandler),
        (r"/sandbox/updates", UpdatesHandler),
        (r"/sandbox/sent", SentHandler),
        (r"/sandbox/calls", CallsHandler),
        (r"/sandbox/commands", CommandsHandler),
        (r"/sandbox/photos/([^/]+)", PhotoHandler),
        (r"/sandbox/faults", FaultsHandler),
        (r"/sandbox/limits", LimitsHandler),
        (r"/sandbox/stats", StatsHandler),
        (r"/sandbox/pending_updates", PendingHandler),
        (r"/sandbox/seq", SeqHandler),
        (r"/sandbox/reset", ResetHandler),
        (r"/sandbox/wait", WaitHandler),
        (r"/sandbox/wait_idle", WaitIdleHandler),
    ]
