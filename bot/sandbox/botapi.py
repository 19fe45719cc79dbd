"""The Bot API methods the sandbox implements, over the :class:`World`.

Each method validates its parameters in roughly the order the real Bot API
server does (local parsing first, then the chat, then limits), answers with
Telegram's objects and error texts, and changes the world. Transport (HTTP,
tokens, failure injection, the call log) is the server's business; this module
only knows "method name + parameters → result or :class:`ApiError`".

Methods of the real Bot API that are not modelled are listed in
:data:`NOT_IMPLEMENTED` (they answer 400 saying so); other simplifications are
listed in README.md.
"""

from __future__ import annotations

import asyncio
import inspect
import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from . import errors as e
from .changes import ChangeSignal
from .content import formatted_text, reply_markup
from .errors import bad_request, forbidden
from .formatting import utf16_len
from .limits import RateLimiter
from .media import MAX_PHOTO_BYTES, StoredPhoto, image_size
from .params import Params
from .wire import (
    ADMINISTRATOR,
    CHANNEL,
    CREATOR,
    KICKED,
    LEFT,
    MEMBER,
    PRESENT,
    PRIVATE,
    Chat,
    Member,
    chat_full_json,
    member_json,
)
from .world import World

MAX_TEXT = 4096
MAX_CAPTION = 1024

# Real Bot API methods the sandbox does not model; they answer 400 saying so, rather
# than 404, so a bot that starts using one fails loudly and clearly in tests.
NOT_IMPLEMENTED = frozenset(
    {
        "sendDocument", "sendAudio", "sendVideo", "sendAnimation", "sendVoice",
        "sendVideoNote", "sendMediaGroup", "sendLocation", "sendVenue", "sendContact",
        "sendPoll", "sendDice", "sendSticker", "sendInvoice", "sendGame", "sendPaidMedia",
        "forwardMessage", "forwardMessages", "copyMessage", "copyMessages",
        "editMessageMedia", "editMessageLiveLocation", "stopMessageLiveLocation", "stopPoll",
        "banChatMember", "unbanChatMember", "restrictChatMember", "promoteChatMember",
        "setChatAdministratorCustomTitle", "banChatSenderChat", "unbanChatSenderChat",
        "setChatPermissions", "exportChatInviteLink", "createChatInviteLink",
        "editChatInviteLink", "revokeChatInviteLink", "approveChatJoinRequest",
        "declineChatJoinRequest", "setChatPhoto", "deleteChatPhoto", "setChatTitle",
        "setChatDescription", "getUserProfilePhotos", "answerInlineQuery",
        "setChatMenuButton", "getChatMenuButton", "setMyDefaultAdministratorRights",
        "getMyDefaultAdministratorRights", "getUserChatBoosts", "getBusinessConnection",
        "createForumTopic", "editForumTopic", "closeForumTopic", "reopenForumTopic",
        "deleteForumTopic", "getForumTopicIconStickers", "getStickerSet",
        "answerWebAppQuery", "answerShippingQuery", "answerPreCheckoutQuery",
        "createInvoiceLink", "setPassportDataErrors", "setGameScore", "getGameHighScores",
    }
)  # fmt: skip

CHAT_ACTIONS = frozenset(
    {
        "typing", "upload_photo", "record_video", "upload_video", "record_voice",
        "upload_voice", "upload_document", "choose_sticker", "find_location",
        "record_video_note", "upload_video_note",
    }
)  # fmt: skip

_COMMAND_NAME = re.compile(r"^[a-z0-9_]{1,32}$")
_SECRET_TOKEN = re.compile(r"^[A-Za-z0-9_-]{1,256}$")
_SCOPES = frozenset(
    {
        "default", "all_private_chats", "all_group_chats", "all_chat_administrators", "chat",
        "chat_administrators", "chat_member",
    }
)  # fmt: skip


@dataclass
class Described:
    """A result that comes with a ``description`` next to it (setWebhook does that)."""

    result: Any
    description: str


Method = Callable[["BotApi", Params], Any]
_REGISTRY: dict[str, str] = {}  # lower-case name -> canonical name


def api(name: str) -> Callable[[Method], Method]:
    """Register a :class:`BotApi` method under its Bot API name."""

    def register(function: Method) -> Method:
        function.api_name = name  # type: ignore[attr-defined]
        _REGISTRY[name.lower()] = name
        return function

    return register


class BotApi:
    """Bot API method implementations; one instance per sandbox server."""

    def __init__(self, world: World, limiter: RateLimiter, signal: ChangeSignal) -> None:
        self.world = world
        self.limiter = limiter
        self.signal = signal
        self.on_webhook_change: Callable[[], None] = lambda: None
        self.on_confirm: Callable[[], None] = lambda: None  # the bot confirmed updates
        self._poller: asyncio.Event | None = None  # set to terminate the running getUpdates
        self._methods: dict[str, Callable[[Params], Any]] = {}
        for attribute in dir(type(self)):
            function = getattr(type(self), attribute)
            name = getattr(function, "api_name", None)
            if name:
                self._methods[name] = getattr(self, attribute)

    @property
    def polling(self) -> bool:
        """Whether a getUpdates long poll is waiting right now."""
        return self._poller is not None

    @staticmethod
    def canonical(method: str) -> str | None:
        """The Bot API spelling of ``method`` (names are case-insensitive), if implemented."""
        return _REGISTRY.get(method.lower())

    @staticmethod
    def known_but_missing(method: str) -> str | None:
        """The spelling of a real Bot API method the sandbox does not implement."""
        for name in NOT_IMPLEMENTED:
            if name.lower() == method.lower():
                return name
        return None

    async def call(self, method: str, params: Params) -> Any:
        """Run ``method`` (canonical name); returns its result or raises :class:`ApiError`."""
        result = self._methods[method](params)
        if inspect.isawaitable(result):
            result = await result
        return result

    # --- shared checks -------------------------------------------------------------------

    def _find_chat(self, raw: int | str) -> Chat:
        world = self.world
        chat: Chat | None = None
        if isinstance(raw, str):
            name = raw[1:].lower()
            chat = next(
                (c for c in world.chats.values() if c.username and c.username.lower() == name),
                None,
            )
        else:
            chat = world.chats.get(raw)
        if chat is None:
            raise bad_request(e.CHAT_NOT_FOUND)
        if chat.migrated_to is not None:
            raise e.chat_migrated(chat.migrated_to)
        return chat

    def _chat(self, p: Params, *, send: bool, name: str = "chat_id") -> Chat:
        """The chat the bot addresses, if it may: Telegram's 400/403 otherwise."""
        raw = p.chat_id(name)
        world = self.world
        if isinstance(raw, int) and raw > 0 and raw not in world.chats:
            user = world.users.get(raw)
            if send and user is not None and not user.is_bot:
                raise forbidden(e.CANT_INITIATE)
            raise bad_request(e.CHAT_NOT_FOUND)
        chat = self._find_chat(raw)
        if chat.type == PRIVATE:
            user = world.users[chat.id]
            if send and user.blocked:
                raise forbidden(e.BOT_BLOCKED)
            if not user.started:
                if send:
                    raise forbidden(e.CANT_INITIATE)
                raise bad_request(e.CHAT_NOT_FOUND)
            return chat
        status = chat.status_of(world.bot.id)
        if status == KICKED:
            raise e.kicked_from(chat.type)
        if status == LEFT:
            raise e.not_a_member_of(chat.type)
        if chat.type == CHANNEL and send and status != ADMINISTRATOR:
            raise bad_request(e.NEED_ADMIN_IN_CHANNEL)
        return chat

    def _bot_member(self, chat: Chat) -> Member:
        if chat.type == PRIVATE:
            return Member(MEMBER)
        return chat.members.get(self.world.bot.id) or Member(LEFT)

    def _reply_to(self, p: Params, chat: Chat) -> dict[str, Any] | None:
        parameters = p.json("reply_parameters")
        if isinstance(parameters, dict):
            message_id = parameters.get("message_id")
            allow = bool(parameters.get("allow_sending_without_reply", False))
            if parameters.get("chat_id") is not None:
                target = Params({"chat_id": parameters["chat_id"]}).chat_id()
                if target != chat.id:
                    chat = self._find_chat(target)
        else:
            message_id = p.int("reply_to_message_id")
            allow = p.bool("allow_sending_without_reply")
        if message_id is None:
            return None
        try:
            message = chat.live_message(int(message_id))
        except (TypeError, ValueError):
            message = None
        if message is None:
            if allow:
                return None
            raise bad_request(e.MESSAGE_TO_REPLY_NOT_FOUND)
        return message

    def _throttle(self, chat: Chat) -> None:
        retry_after = self.limiter.acquire(chat.id, chat.type != PRIVATE)
        if retry_after is not None:
            raise e.too_many_requests(retry_after)

    def _editable(self, chat: Chat, message_id: int | None) -> dict[str, Any]:
        if message_id is None:
            raise bad_request("message identifier is not specified")
        message = chat.live_message(message_id)
        if message is None:
            raise bad_request(e.MESSAGE_TO_EDIT_NOT_FOUND)
        if not self.world.is_bot_message(chat, message_id):
            raise bad_request(e.MESSAGE_CANT_BE_EDITED)
        return message

    def _scope(self, p: Params) -> tuple[str, dict[str, Any]]:
        """The command scope key and its canonical JSON."""
        scope = p.json("scope") or {"type": "default"}
        if not isinstance(scope, dict) or scope.get("type") not in _SCOPES:
            raise bad_request("can't parse BotCommandScope JSON object")
        kind = scope["type"]
        if kind not in ("chat", "chat_administrators", "chat_member"):
            return kind, {"type": kind}
        chat = self._chat(Params({"chat_id": scope.get("chat_id")}), send=False)
        if kind != "chat_member":
            return f"{kind}:{chat.id}", {"type": kind, "chat_id": chat.id}
        user_id = Params({"user_id": scope.get("user_id")}).int("user_id")
        if user_id is None or user_id not in self.world.users:
            raise bad_request(e.USER_NOT_FOUND)
        return f"{kind}:{chat.id}:{user_id}", {"type": kind, "chat_id": chat.id, "user_id": user_id}

    @staticmethod
    def _language(p: Params) -> str:
        language = p.str("language_code") or ""
        if language and not re.match(r"^[a-z]{2}$", language):
            raise bad_request("invalid language code specified")
        return language

    # --- getting updates -----------------------------------------------------------------

    @api("getMe")
    def get_me(self, p: Params) -> dict[str, Any]:
        """The bot's own User, with the capabilities getMe reports."""
        return {
            **self.world.bot.to_json(),
            "can_join_groups": True,
            "can_read_all_group_messages": not self.world.privacy_mode,
            "supports_inline_queries": False,
            "can_connect_to_business": False,
            "has_main_web_app": False,
        }

    @api("getUpdates")
    async def get_updates(self, p: Params) -> list[dict[str, Any]]:
        """Long polling: returns as soon as an update is there, or [] after ``timeout``."""
        world = self.world
        if world.webhook is not None:
            raise e.conflict(e.GET_UPDATES_WHILE_WEBHOOK)
        offset = p.int("offset")
        limit = min(max(p.int("limit", 100) or 100, 1), 100)
        timeout = max(p.float("timeout", 0.0) or 0.0, 0.0)
        allowed = p.json("allowed_updates")
        if allowed is not None:
            if not isinstance(allowed, list):
                raise bad_request("can't parse allowed updates JSON object")
            world.set_allowed_updates([str(kind) for kind in allowed])
        if offset is not None:
            pending = len(world.updates)
            world.confirm(offset)
            if len(world.updates) != pending:
                self.on_confirm()
        if self._poller is not None:
            # Telegram ends the older request: "terminated by other getUpdates request".
            self._poller.set()
        mine = asyncio.Event()
        self._poller = mine
        self.signal.notify()  # lets tests see that a long poll is now waiting
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        waits_on = [mine] + ([p.closed] if p.closed is not None else [])
        try:
            while True:
                if mine.is_set():
                    raise e.conflict(e.GET_UPDATES_CONFLICT)
                if world.webhook is not None:
                    raise e.conflict(e.GET_UPDATES_WHILE_WEBHOOK)
                updates = world.take_updates(limit)
                remaining = deadline - loop.time()
                if updates or remaining <= 0 or self.signal.closed:
                    return updates
                if p.closed is not None and p.closed.is_set():
                    return []
                await self.signal.wait(remaining, *waits_on)
        finally:
            if self._poller is mine:
                self._poller = None

    @api("setWebhook")
    def set_webhook(self, p: Params) -> Described:
        """Deliver updates by POSTing them to ``url`` (plain http is fine in the sandbox)."""
        url = p.str("url") or ""
        world = self.world
        if not url:
            return self.delete_webhook(p)
        if not re.match(r"^https?://[^\s/]+", url):
            raise bad_request("bad webhook: An HTTPS URL must be provided for webhook")
        secret = p.str("secret_token")
        if secret is not None and not _SECRET_TOKEN.match(secret):
            raise bad_request("secret token contains unallowed characters")
        allowed = p.json("allowed_updates")
        if allowed is not None:
            world.set_allowed_updates([str(kind) for kind in allowed])
        if p.bool("drop_pending_updates"):
            world.drop_pending_updates()
        already = world.webhook is not None and world.webhook["url"] == url
        world.webhook = {
            "url": url,
            "secret_token": secret,
            "max_connections": p.int("max_connections", 40),
            "ip_address": "127.0.0.1",
        }
        if self._poller is not None:
            self._poller.set()
        self.on_webhook_change()
        self.signal.notify()
        return Described(True, "Webhook is already set" if already else "Webhook was set")

    @api("deleteWebhook")
    def delete_webhook(self, p: Params) -> Described:
        """Back to getUpdates; optionally forget pending updates."""
        world = self.world
        was_set = world.webhook is not None
        if p.bool("drop_pending_updates"):
            world.drop_pending_updates()
        world.webhook = None
        self.on_webhook_change()
        self.signal.notify()
        return Described(True, "Webhook was deleted" if was_set else "Webhook is already deleted")

    @api("getWebhookInfo")
    def get_webhook_info(self, p: Params) -> dict[str, Any]:
        """The webhook, its backlog and its last delivery error."""
        hook = self.world.webhook or {}
        info: dict[str, Any] = {
            "url": hook.get("url", ""),
            "has_custom_certificate": False,
            "pending_update_count": len(self.world.updates),
        }
        for key in ("ip_address", "last_error_date", "last_error_message", "max_connections"):
            if hook.get(key) is not None:
                info[key] = hook[key]
        if hook and self.world.allowed_updates:
            info["allowed_updates"] = sorted(self.world.allowed_updates)
        return info

    @api("close")
    def close(self, p: Params) -> bool:
        """Nothing to close locally."""
        return True

    @api("logOut")
    def log_out(self, p: Params) -> bool:
        """Nothing to log out of locally."""
        return True

    # --- sending and editing ---------------------------------------------------------------

    @api("sendMessage")
    def send_message(self, p: Params) -> dict[str, Any]:
        """A text message, with parse_mode/entities, a keyboard and a reply target."""
        text, entities = formatted_text(p, "text", "entities")
        if not text:
            raise bad_request(e.MESSAGE_TEXT_EMPTY)
        markup = reply_markup(p)
        chat = self._chat(p, send=True)
        if utf16_len(text) > MAX_TEXT:
            raise bad_request(e.MESSAGE_TOO_LONG)
        reply_to = self._reply_to(p, chat)
        self._throttle(chat)
        content: dict[str, Any] = {"text": text}
        if entities:
            content["entities"] = entities
        if markup:
            content["reply_markup"] = markup
        return self.world.bot_message(chat, content, "sendMessage", reply_to)

    @api("sendPhoto")
    def send_photo(self, p: Params) -> dict[str, Any]:
        """A photo: a multipart upload, a known file_id, or a URL (not fetched: offline)."""
        caption, entities = formatted_text(p, "caption", "caption_entities")
        markup = reply_markup(p)
        raw = p.str("photo") if isinstance(p.raw("photo"), str) else None
        upload = p.files.get("photo")
        if raw and raw.startswith("attach://"):
            upload = p.files.get(raw[len("attach://") :])
            raw = None
        if upload is None and not raw:
            raise bad_request(e.NO_PHOTO)
        chat = self._chat(p, send=True)
        if caption and utf16_len(caption) > MAX_CAPTION:
            raise bad_request(e.CAPTION_TOO_LONG)
        known: StoredPhoto | None = None
        size: tuple[int, int] | None = None
        if upload is not None:
            if len(upload.body) > MAX_PHOTO_BYTES:
                raise bad_request(e.PHOTO_TOO_BIG)
            size = image_size(upload.body)
            if size is None or min(size) < 1:
                raise bad_request(e.IMAGE_PROCESS_FAILED)
        elif raw in self.world.photos:
            known = self.world.photos[raw]
        elif not re.match(r"^https?://", raw or ""):
            raise bad_request(e.WRONG_FILE_ID)
        reply_to = self._reply_to(p, chat)
        self._throttle(chat)
        if known is None:
            if upload is not None and size is not None:
                known = self.world.store_photo(
                    upload.body, size[0], size[1],
                    filename=upload.filename, mime_type=upload.content_type,
                )  # fmt: skip
            else:
                known = self.world.store_photo(b"", 800, 600, url=raw)
        content: dict[str, Any] = {"photo": [dict(s) for s in known.sizes]}
        if caption:
            content["caption"] = caption
            if entities:
                content["caption_entities"] = entities
        if p.bool("show_caption_above_media"):
            content["show_caption_above_media"] = True
        if markup:
            content["reply_markup"] = markup
        return self.world.bot_message(chat, content, "sendPhoto", reply_to)

    @api("editMessageText")
    def edit_message_text(self, p: Params) -> dict[str, Any]:
        """New text for one of the bot's messages; a keyboard not resent is removed."""
        if p.str("inline_message_id"):
            raise bad_request(e.MESSAGE_TO_EDIT_NOT_FOUND)
        text, entities = formatted_text(p, "text", "entities")
        if not text:
            raise bad_request(e.MESSAGE_TEXT_EMPTY)
        markup = reply_markup(p)
        chat = self._chat(p, send=True)
        message_id = p.int("message_id")
        message = self._editable(chat, message_id)
        if "text" not in message:
            raise bad_request(e.NO_TEXT_TO_EDIT)
        if utf16_len(text) > MAX_TEXT:
            raise bad_request(e.MESSAGE_TOO_LONG)
        if (
            message["text"] == text
            and message.get("entities", []) == entities
            and message.get("reply_markup") == markup
        ):
            raise bad_request(e.MESSAGE_NOT_MODIFIED)
        self._throttle(chat)
        changes: dict[str, Any] = {"text": text}
        removed: list[str] = []
        for key, value in (("entities", entities), ("reply_markup", markup)):
            if value:
                changes[key] = value
            else:
                removed.append(key)
        assert message_id is not None
        return self.world.bot_edit(chat, message_id, changes, tuple(removed), "editMessageText")

    @api("editMessageCaption")
    def edit_message_caption(self, p: Params) -> dict[str, Any]:
        """New caption for one of the bot's photos."""
        if p.str("inline_message_id"):
            raise bad_request(e.MESSAGE_TO_EDIT_NOT_FOUND)
        caption, entities = formatted_text(p, "caption", "caption_entities")
        markup = reply_markup(p)
        chat = self._chat(p, send=True)
        message_id = p.int("message_id")
        message = self._editable(chat, message_id)
        if "photo" not in message:
            raise bad_request(e.NO_CAPTION_TO_EDIT)
        if caption and utf16_len(caption) > MAX_CAPTION:
            raise bad_request(e.CAPTION_TOO_LONG)
        if (
            message.get("caption") == (caption or None)
            and message.get("caption_entities", []) == entities
            and message.get("reply_markup") == markup
        ):
            raise bad_request(e.MESSAGE_NOT_MODIFIED)
        self._throttle(chat)
        changes: dict[str, Any] = {}
        removed: list[str] = []
        for key, value in (
            ("caption", caption),
            ("caption_entities", entities),
            ("reply_markup", markup),
        ):
            if value:
                changes[key] = value
            else:
                removed.append(key)
        assert message_id is not None
        return self.world.bot_edit(chat, message_id, changes, tuple(removed), "editMessageCaption")

    @api("editMessageReplyMarkup")
    def edit_message_reply_markup(self, p: Params) -> dict[str, Any]:
        """Replace (or, without ``reply_markup``, remove) a message's inline keyboard."""
        if p.str("inline_message_id"):
            raise bad_request(e.MESSAGE_TO_EDIT_NOT_FOUND)
        markup = reply_markup(p)
        chat = self._chat(p, send=True)
        message_id = p.int("message_id")
        message = self._editable(chat, message_id)
        if message.get("reply_markup") == markup:
            raise bad_request(e.MESSAGE_NOT_MODIFIED)
        self._throttle(chat)
        assert message_id is not None
        if markup:
            return self.world.bot_edit(chat, message_id, {"reply_markup": markup}, (), "editMessageReplyMarkup")
        return self.world.bot_edit(chat, message_id, {}, ("reply_markup",), "editMessageReplyMarkup")

    @api("deleteMessage")
    def delete_message(self, p: Params) -> bool:
        """Delete a message: the bot's own anywhere, others' only as an admin or in private."""
        chat = self._chat(p, send=False)
        message_id = p.int("message_id")
        self._delete(chat, message_id)
        return True

    @api("deleteMessages")
    def delete_messages(self, p: Params) -> bool:
        """Delete several messages; ones already gone are skipped."""
        chat = self._chat(p, send=False)
        ids = p.json("message_ids")
        if not isinstance(ids, list) or not ids:
            raise bad_request("message identifiers are not specified")
        for message_id in ids:
            if chat.live_message(int(message_id)) is not None:
                self._delete(chat, int(message_id))
        return True

    def _delete(self, chat: Chat, message_id: int | None) -> None:
        if message_id is None or chat.live_message(message_id) is None:
            raise bad_request(e.MESSAGE_TO_DELETE_NOT_FOUND)
        own = self.world.is_bot_message(chat, message_id)
        bot = self._bot_member(chat)
        may_delete = bot.status == ADMINISTRATOR and bot.rights.get("can_delete_messages", True)
        if not own and chat.type != PRIVATE and not may_delete:
            raise bad_request(e.MESSAGE_CANT_BE_DELETED)
        self.world.delete_message(chat, message_id)

    @api("answerCallbackQuery")
    def answer_callback_query(self, p: Params) -> bool:
        """Answer a button press once; later or unknown ids are "too old"."""
        query_id = p.str("callback_query_id") or ""
        record = self.world.callbacks.get(query_id)
        if record is None or record.answer is not None:
            raise bad_request(e.QUERY_TOO_OLD)
        answer: dict[str, Any] = {"text": p.str("text"), "show_alert": p.bool("show_alert")}
        if p.str("url"):
            answer["url"] = p.str("url")
        if p.int("cache_time") is not None:
            answer["cache_time"] = p.int("cache_time")
        record.answer = answer
        self.world.on_change()
        return True

    @api("setMessageReaction")
    def set_message_reaction(self, p: Params) -> bool:
        """React to a message (kept for tests; not echoed into updates)."""
        chat = self._chat(p, send=True)
        message_id = p.int("message_id")
        if message_id is None or chat.live_message(message_id) is None:
            raise bad_request(e.MESSAGE_TO_REACT_NOT_FOUND)
        reaction = p.json("reaction") or []
        if not isinstance(reaction, list) or not all(
            isinstance(r, dict)
            and (
                (r.get("type") == "emoji" and r.get("emoji"))
                or (r.get("type") == "custom_emoji" and r.get("custom_emoji_id"))
                or r.get("type") == "paid"
            )
            for r in reaction
        ):
            raise bad_request(e.REACTION_INVALID)
        self.world.reactions[(chat.id, message_id)] = reaction
        self.world.on_change()
        return True

    @api("sendChatAction")
    def send_chat_action(self, p: Params) -> bool:
        """ "typing…" and friends; checked, then forgotten."""
        action = p.str("action")
        if action not in CHAT_ACTIONS:
            raise bad_request(e.WRONG_ACTION)
        self._chat(p, send=True)
        return True

    @api("pinChatMessage")
    def pin_chat_message(self, p: Params) -> bool:
        """Pin a message; in groups and channels the bot needs the right to."""
        chat = self._chat(p, send=False)
        self._check_pin_rights(chat)
        message_id = p.int("message_id")
        if message_id is None or chat.live_message(message_id) is None:
            raise bad_request(e.MESSAGE_TO_PIN_NOT_FOUND)
        if message_id in chat.pinned:
            chat.pinned.remove(message_id)
        chat.pinned.append(message_id)
        self.world.on_change()
        return True

    @api("unpinChatMessage")
    def unpin_chat_message(self, p: Params) -> bool:
        """Unpin one message, or the most recently pinned one."""
        chat = self._chat(p, send=False)
        self._check_pin_rights(chat)
        message_id = p.int("message_id")
        if message_id is None and chat.pinned:
            chat.pinned.pop()
        elif message_id in chat.pinned:
            chat.pinned.remove(message_id)
        self.world.on_change()
        return True

    @api("unpinAllChatMessages")
    def unpin_all_chat_messages(self, p: Params) -> bool:
        """Unpin everything."""
        chat = self._chat(p, send=False)
        self._check_pin_rights(chat)
        chat.pinned.clear()
        self.world.on_change()
        return True

    def _check_pin_rights(self, chat: Chat) -> None:
        if chat.type == PRIVATE:
            return
        bot = self._bot_member(chat)
        right = "can_edit_messages" if chat.type == CHANNEL else "can_pin_messages"
        if bot.status != ADMINISTRATOR or not bot.rights.get(right, True):
            raise bad_request(e.NOT_ENOUGH_RIGHTS_TO_PIN)

    # --- chats and members ---------------------------------------------------------------

    @api("getChat")
    def get_chat(self, p: Params) -> dict[str, Any]:
        """ChatFullInfo of a chat the bot can see."""
        chat = self._chat(p, send=False)
        pinned = chat.live_message(chat.pinned[-1]) if chat.pinned else None
        return chat_full_json(chat, self.world.users, pinned)

    @api("getChatMember")
    def get_chat_member(self, p: Params) -> dict[str, Any]:
        """Someone's standing in a chat; ``left`` for known users who never joined."""
        chat = self._chat(p, send=False)
        user_id = p.int("user_id")
        user = self.world.users.get(user_id) if user_id is not None else None
        if user is None:
            raise bad_request(e.USER_NOT_FOUND)
        if chat.type == PRIVATE:
            member = Member(MEMBER) if user.id in (chat.id, self.world.bot.id) else None
        else:
            member = chat.members.get(user.id)
        return member_json(user, member, chat.type)

    @api("getChatAdministrators")
    def get_chat_administrators(self, p: Params) -> list[dict[str, Any]]:
        """The creator and the administrators (the bot included if it is one)."""
        chat = self._chat(p, send=False)
        if chat.type == PRIVATE:
            raise bad_request(e.NO_ADMINS_IN_PRIVATE)
        users = self.world.users
        return [
            member_json(users[user_id], member, chat.type)
            for user_id, member in chat.members.items()
            if member.status in (CREATOR, ADMINISTRATOR)
        ]

    @api("getChatMemberCount")
    def get_chat_member_count(self, p: Params) -> int:
        """How many are in the chat, the bot included."""
        chat = self._chat(p, send=False)
        if chat.type == PRIVATE:
            return 2
        return sum(1 for member in chat.members.values() if member.status in PRESENT)

    @api("getChatMembersCount")
    def get_chat_members_count(self, p: Params) -> int:
        """The old name of getChatMemberCount."""
        return self.get_chat_member_count(p)

    @api("leaveChat")
    def leave_chat(self, p: Params) -> bool:
        """The bot leaves a group or channel (and hears of it via my_chat_member)."""
        chat = self._chat(p, send=False)
        if chat.type == PRIVATE:
            raise bad_request(e.CANT_LEAVE_PRIVATE)
        self.world.bot_leaves(chat)
        return True

    @api("getFile")
    def get_file(self, p: Params) -> dict[str, Any]:
        """A photo the bot sent, downloadable from ``/file/bot<token>/<file_path>``."""
        file_id = p.str("file_id") or ""
        photo = self.world.photos.get(file_id)
        if photo is None:
            raise bad_request("invalid file_id")
        size = next(s for s in photo.sizes if s["file_id"] == file_id)
        return {
            "file_id": file_id,
            "file_unique_id": size["file_unique_id"],
            "file_size": len(photo.data),
            "file_path": f"photos/{file_id}.jpg",
        }

    # --- commands and the bot's profile ---------------------------------------------------

    @api("setMyCommands")
    def set_my_commands(self, p: Params) -> bool:
        """Store the command list for one (scope, language); an empty list deletes it."""
        commands = p.json("commands")
        if not isinstance(commands, list):
            raise bad_request("can't parse commands JSON object")
        if len(commands) > 100:
            raise bad_request("too many commands specified")
        clean: list[dict[str, str]] = []
        for command in commands:
            if not isinstance(command, dict):
                raise bad_request("can't parse commands JSON object")
            name = str(command.get("command", ""))
            description = str(command.get("description", ""))
            if not _COMMAND_NAME.match(name):
                raise bad_request(e.BOT_COMMAND_INVALID)
            if not 1 <= len(description.strip()) <= 256:
                raise bad_request(e.COMMAND_DESCRIPTION_INVALID)
            clean.append({"command": name, "description": description})
        key, scope = self._scope(p)
        language = self._language(p)
        if clean:
            self.world.commands[(key, language)] = {
                "scope": scope,
                "language_code": language,
                "commands": clean,
            }
        else:
            self.world.commands.pop((key, language), None)
        self.world.on_change()
        return True

    @api("getMyCommands")
    def get_my_commands(self, p: Params) -> list[dict[str, str]]:
        """The list for exactly this (scope, language); [] if none was set."""
        key, _ = self._scope(p)
        entry = self.world.commands.get((key, self._language(p)))
        return list(entry["commands"]) if entry else []

    @api("deleteMyCommands")
    def delete_my_commands(self, p: Params) -> bool:
        """Forget the list for this (scope, language)."""
        key, _ = self._scope(p)
        self.world.commands.pop((key, self._language(p)), None)
        self.world.on_change()
        return True

    def _set_text(self, p: Params, field: str, limit: int) -> bool:
        value = p.str(field) or ""
        if len(value) > limit:
            raise bad_request(f"{field.replace('_', ' ')} is too long")
        language = self._language(p)
        if value:
            self.world.bot_texts[(field, language)] = value
        else:
            self.world.bot_texts.pop((field, language), None)
        self.world.on_change()
        return True

    def _get_text(self, p: Params, field: str) -> dict[str, str]:
        language = self._language(p)
        value = self.world.bot_texts.get((field, language)) or self.world.bot_texts.get((field, ""))
        if field == "name" and not value:
            value = self.world.bot.first_name
        return {field: value or ""}

    @api("setMyDescription")
    def set_my_description(self, p: Params) -> bool:
        """The text shown in an empty private chat."""
        return self._set_text(p, "description", 512)

    @api("getMyDescription")
    def get_my_description(self, p: Params) -> dict[str, str]:
        """The stored description."""
        return self._get_text(p, "description")

    @api("setMyShortDescription")
    def set_my_short_description(self, p: Params) -> bool:
        """The text on the bot's profile page."""
        return self._set_text(p, "short_description", 120)

    @api("getMyShortDescription")
    def get_my_short_description(self, p: Params) -> dict[str, str]:
        """The stored short description."""
        return self._get_text(p, "short_description")

    @api("setMyName")
    def set_my_name(self, p: Params) -> bool:
        """The bot's display name per language."""
        return self._set_text(p, "name", 64)

    @api("getMyName")
    def get_my_name(self, p: Params) -> dict[str, str]:
        """The stored name."""
        return self._get_text(p, "name")
