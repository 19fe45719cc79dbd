"""The sandbox's Telegram: users, chats, members, messages and the bot's update queue.

This is pure state with no HTTP and no asyncio, so it can be read in one go and
tested directly. The control API (people acting) and the Bot API (the bot acting)
both change the world only through these methods; every change calls
``on_change`` so the server can wake long polls and waits.

Two logs are kept for tests. ``sent`` holds every message the bot sent, with
its edit history and deletion, and ``seq`` numbers that grow with every send,
edit or deletion, so "what did the bot do since I pressed that button" is a
single question. ``calls`` holds every Bot API request and how it ended.
"""

from __future__ import annotations

import copy
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from .formatting import command_entities
from .media import StoredPhoto
from .wire import (
    ADMINISTRATOR,
    CHANNEL,
    CREATOR,
    GROUP,
    KICKED,
    LEFT,
    MEMBER,
    PRESENT,
    PRIVATE,
    STATUSES,
    SUPERGROUP,
    Chat,
    Member,
    User,
    chat_json,
    member_json,
)

# Update types a bot gets when it never asked for others (Telegram's default).
DEFAULT_ALLOWED_UPDATES = frozenset(
    {
        "message", "edited_message", "channel_post", "edited_channel_post",
        "business_connection", "business_message", "edited_business_message",
        "deleted_business_messages", "inline_query", "chosen_inline_result",
        "callback_query", "shipping_query", "pre_checkout_query", "purchased_paid_media",
        "poll", "poll_answer", "my_chat_member", "chat_join_request", "chat_boost",
        "removed_chat_boost",
    }
)  # fmt: skip

# Types Telegram only sends when asked for; anything else unknown is delivered as injected.
OPT_IN_UPDATES = frozenset({"chat_member", "message_reaction", "message_reaction_count"})
KNOWN_UPDATE_TYPES = DEFAULT_ALLOWED_UPDATES | OPT_IN_UPDATES
# Update types that carry a message in a chat.
MESSAGE_KINDS = ("message", "edited_message", "channel_post", "edited_channel_post")

FIRST_USER_ID = 1_000_001
FIRST_GROUP_ID = -4_000_000_001
FIRST_SUPERGROUP_ID = -1_002_000_000_001


class WorldError(ValueError):
    """A control-API request that makes no sense in this world (unknown user, ...)."""

    def __init__(self, message: str, status: int = 400) -> None:
        super().__init__(message)
        self.status = status


@dataclass
class SentRecord:
    """A message the bot sent, and everything it later did to it."""

    sent_seq: int
    seq: int
    chat_id: int
    message_id: int
    method: str
    date: int
    sent_at: float  # Unix seconds with a fraction, for benchmarks timing deliveries
    original: dict[str, Any] = field(default_factory=dict)
    edits: list[dict[str, Any]] = field(default_factory=list)
    deleted: bool = False


@dataclass
class CallbackRecord:
    """A button press, and the bot's answer to it once given."""

    id: str
    chat_id: int
    message_id: int
    from_user_id: int
    data: str | None
    answer: dict[str, Any] | None = None


class World:
    """All the sandbox's state. Not thread-safe: it lives in the server's event loop."""

    def __init__(
        self,
        bot_token: str,
        bot_username: str,
        *,
        privacy_mode: bool = False,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self._clock = clock
        self.privacy_mode = privacy_mode
        bot_id = int(bot_token.split(":", 1)[0]) if bot_token.split(":", 1)[0].isdigit() else 1
        self.bot = User(
            id=bot_id,
            first_name=bot_username.removesuffix("_bot").replace("_", " ").title() or "Bot",
            username=bot_username,
            is_bot=True,
        )
        self.on_change: Callable[[], None] = lambda: None
        self.reset()

    def reset(self) -> None:
        """Forget everything but the bot itself."""
        self.users: dict[int, User] = {self.bot.id: self.bot}
        self.chats: dict[int, Chat] = {}
        self._next_user_id = FIRST_USER_ID
        self._next_group_id = FIRST_GROUP_ID
        self._next_supergroup_id = FIRST_SUPERGROUP_ID
        self.updates: list[dict[str, Any]] = []  # delivered-or-not, not yet confirmed
        self.next_update_id = 1
        self.allowed_updates: frozenset[str] = DEFAULT_ALLOWED_UPDATES
        self.webhook: dict[str, Any] | None = None
        self.seq = 0
        self.sent: list[SentRecord] = []
        self._sent_by_key: dict[tuple[int, int], SentRecord] = {}
        self.callbacks: dict[str, CallbackRecord] = {}
        self._next_callback = 1
        self.photos: dict[str, StoredPhoto] = {}
        self._next_photo = 1
        # (scope key, language) -> {"scope": ..., "language_code": ..., "commands": [...]}
        self.commands: dict[tuple[str, str], dict[str, Any]] = {}
        self.reactions: dict[tuple[int, int], list[dict[str, Any]]] = {}
        self.bot_texts: dict[tuple[str, str], str] = {}  # (name|description|short, lang)
        self.calls: list[dict[str, Any]] = []
        self.requests: Counter[str] = Counter()
        self.errors: Counter[int] = Counter()
        self.too_many_requests = 0
        self.on_change()

    def now(self) -> int:
        """Unix seconds, as in every ``date`` field."""
        return int(self._clock())

    # --- people and chats (the control API) ---------------------------------------------

    def create_user(
        self,
        first_name: str,
        last_name: str | None = None,
        username: str | None = None,
        language_code: str | None = None,
        user_id: int | None = None,
    ) -> User:
        """A new person who can write to the bot and join chats.

        Ids count up from FIRST_USER_ID; ``user_id`` picks one instead, as Telegram's own go up to
        52 bits (a test can then look for a distinctive id where it must not be)."""
        if not first_name:
            raise WorldError("first_name is required")
        if username and any(u.username == username for u in self.users.values()):
            raise WorldError(f"username {username!r} is taken")
        if user_id is not None and not 0 < user_id < 2**52:
            raise WorldError("a user id is positive and has at most 52 bits")
        if user_id is not None and user_id in self.users:
            raise WorldError(f"user id {user_id} is taken")
        while user_id is None and self._next_user_id in self.users:  # picked earlier
            self._next_user_id += 1
        user = User(
            id=self._next_user_id if user_id is None else user_id,
            first_name=first_name,
            last_name=last_name,
            username=username,
            language_code=language_code,
        )
        if user_id is None:
            self._next_user_id += 1
        self.users[user.id] = user
        self.on_change()
        return user

    def user(self, user_id: int) -> User:
        """A known user, or a 404 for the control API."""
        user = self.users.get(int(user_id))
        if user is None:
            raise WorldError(f"no user {user_id}", 404)
        return user

    def chat(self, chat_id: int) -> Chat:
        """A known chat, or a 404 for the control API."""
        chat = self.chats.get(int(chat_id))
        if chat is None:
            raise WorldError(f"no chat {chat_id}", 404)
        return chat

    def live_chat(self, chat_id: int) -> Chat:
        """A known chat that was not upgraded to a supergroup (people act in the new one)."""
        chat = self.chat(chat_id)
        if chat.migrated_to is not None:
            raise WorldError(f"chat {chat.id} was upgraded to {chat.migrated_to}")
        return chat

    def create_chat(
        self,
        chat_type: str,
        title: str,
        creator_id: int,
        *,
        bot_member: bool = False,
        bot_admin: bool = False,
        username: str | None = None,
        announce: bool = True,
    ) -> Chat:
        """A group, supergroup or channel created by ``creator_id``, optionally with the bot.

        With ``announce`` the bot hears of being added (``my_chat_member`` and, in
        groups, the service message); without it the bot has simply been there.
        """
        if chat_type not in (GROUP, SUPERGROUP, CHANNEL):
            raise WorldError("type must be group, supergroup or channel")
        if not title:
            raise WorldError("title is required")
        creator = self.user(creator_id)
        if chat_type == GROUP:
            chat_id = self._next_group_id
            self._next_group_id -= 1
        else:
            chat_id = self._next_supergroup_id
            self._next_supergroup_id -= 1
        chat = Chat(id=chat_id, type=chat_type, title=title, username=username)
        chat.members[creator.id] = Member(CREATOR)
        self.chats[chat.id] = chat
        if bot_member:
            status = ADMINISTRATOR if bot_admin or chat_type == CHANNEL else MEMBER
            if announce:
                self._bot_status_change(chat, creator, status, created=True)
            else:
                chat.members[self.bot.id] = Member(status)
        self.on_change()
        return chat

    def set_member(self, chat_id: int, user_id: int, status: str) -> Chat:
        """Change a person's standing in a group or channel, with Telegram's service messages."""
        chat = self.live_chat(chat_id)
        user = self.user(user_id)
        if chat.type == PRIVATE:
            raise WorldError("private chats have no members to change")
        if user.is_bot:
            raise WorldError("use the bot endpoint to change the bot's membership")
        if status not in STATUSES:
            raise WorldError(f"status must be one of {STATUSES}")
        old = chat.members.get(user.id)
        old_status = old.status if old else LEFT
        if status == old_status:
            return chat
        old_json = member_json(user, old, chat.type)
        if status == CREATOR:
            for other_id, other in chat.members.items():
                if other.status == CREATOR:
                    chat.members[other_id] = Member(ADMINISTRATOR)
        chat.members[user.id] = Member(status)
        new_json = member_json(user, chat.members[user.id], chat.type)
        # People join and leave by themselves; a kick is the creator's doing.
        actor = self._creator(chat) if status == KICKED and self._has_creator(chat) else user
        if chat.type != CHANNEL:
            if old_status not in PRESENT and status in PRESENT:
                self._service_message(chat, user, {"new_chat_members": [user.to_json()]})
            elif old_status in PRESENT and status not in PRESENT:
                self._service_message(chat, actor, {"left_chat_member": user.to_json()})
        if chat.status_of(self.bot.id) == ADMINISTRATOR:
            self.enqueue(
                "chat_member",
                {
                    "chat": chat_json(chat, self.users),
                    "from": actor.to_json(),
                    "date": self.now(),
                    "old_chat_member": old_json,
                    "new_chat_member": new_json,
                },
            )
        self.on_change()
        return chat

    def bot_action(self, chat_id: int, action: str, by_user_id: int | None) -> Chat:
        """Someone adds, removes, promotes or demotes the bot."""
        chat = self.live_chat(chat_id)
        if chat.type == PRIVATE:
            raise WorldError("in private chats, block the bot instead")
        actor = self.user(by_user_id) if by_user_id is not None else self._creator(chat)
        current = chat.status_of(self.bot.id)
        if action == "add":
            if current in PRESENT:
                raise WorldError("the bot is already in this chat")
            if not chat.is_present(actor.id):
                raise WorldError(f"user {actor.id} is not in this chat")
            self._bot_status_change(chat, actor, ADMINISTRATOR if chat.type == CHANNEL else MEMBER)
        elif action == "remove":
            if current not in PRESENT:
                raise WorldError("the bot is not in this chat")
            self._bot_status_change(chat, actor, KICKED)
        elif action == "promote":
            if current != MEMBER:
                raise WorldError("only a member bot can be promoted")
            self._bot_status_change(chat, actor, ADMINISTRATOR)
        elif action == "demote":
            if current != ADMINISTRATOR:
                raise WorldError("only an administrator bot can be demoted")
            if chat.type == CHANNEL:
                raise WorldError("a bot in a channel is always an administrator")
            self._bot_status_change(chat, actor, MEMBER)
        else:
            raise WorldError("action must be add, remove, promote or demote")
        self.on_change()
        return chat

    def bot_leaves(self, chat: Chat) -> None:
        """The bot calls leaveChat."""
        self._bot_status_change(chat, self.bot, LEFT)
        self.on_change()

    def _bot_status_change(self, chat: Chat, actor: User, status: str, *, created: bool = False) -> None:
        old = member_json(self.bot, chat.members.get(self.bot.id), chat.type)
        chat.members[self.bot.id] = Member(status)
        new = member_json(self.bot, chat.members[self.bot.id], chat.type)
        self.enqueue(
            "my_chat_member",
            {
                "chat": chat_json(chat, self.users),
                "from": actor.to_json(),
                "date": self.now(),
                "old_chat_member": old,
                "new_chat_member": new,
            },
        )
        if chat.type == CHANNEL:
            return
        was_present, is_present = old["status"] in PRESENT, status in PRESENT
        if created and chat.type == GROUP:
            self._service_message(chat, actor, {"group_chat_created": True})
        elif not was_present and is_present:
            self._service_message(chat, actor, {"new_chat_members": [self.bot.to_json()]})
        elif was_present and not is_present:
            # The bot is told it was removed, but not that it left on its own.
            self._service_message(
                chat,
                actor,
                {"left_chat_member": self.bot.to_json()},
                deliver=actor.id != self.bot.id,
            )

    @staticmethod
    def _has_creator(chat: Chat) -> bool:
        return any(member.status == CREATOR for member in chat.members.values())

    def _creator(self, chat: Chat) -> User:
        for user_id, member in chat.members.items():
            if member.status == CREATOR:
                return self.users[user_id]
        raise WorldError("the chat has no creator")

    def migrate(self, chat_id: int) -> Chat:
        """Upgrade a group to a supergroup; the old id then answers with a migrate error."""
        old = self.chat(chat_id)
        if old.type != GROUP:
            raise WorldError("only a group can be upgraded to a supergroup")
        if old.migrated_to is not None:
            raise WorldError("this group was already upgraded")
        actor = self._creator(old)
        new = Chat(
            id=self._next_supergroup_id,
            type=SUPERGROUP,
            title=old.title,
            description=old.description,
            members=copy.deepcopy(old.members),
            migrated_from=old.id,
        )
        self._next_supergroup_id -= 1
        self.chats[new.id] = new
        self._service_message(old, actor, {"migrate_to_chat_id": new.id})
        old.migrated_to = new.id
        self._service_message(new, actor, {"migrate_from_chat_id": old.id})
        self.on_change()
        return new

    def set_blocked(self, user_id: int, blocked: bool) -> User:
        """A person blocks or unblocks the bot; the bot hears of it via my_chat_member."""
        user = self.user(user_id)
        if user.is_bot:
            raise WorldError("the bot cannot block itself")
        if user.blocked == blocked:
            return user
        user.blocked = blocked
        chat = self._private_chat(user)
        old, new = (MEMBER, KICKED) if blocked else (KICKED, MEMBER)
        self.enqueue(
            "my_chat_member",
            {
                "chat": chat_json(chat, self.users),
                "from": user.to_json(),
                "date": self.now(),
                "old_chat_member": {"status": old, "user": self.bot.to_json()}
                | ({"until_date": 0} if old == KICKED else {}),
                "new_chat_member": {"status": new, "user": self.bot.to_json()}
                | ({"until_date": 0} if new == KICKED else {}),
            },
        )
        self.on_change()
        return user

    def _private_chat(self, user: User) -> Chat:
        chat = self.chats.get(user.id)
        if chat is None:
            chat = Chat(id=user.id, type=PRIVATE)
            chat.members = {user.id: Member(MEMBER), self.bot.id: Member(MEMBER)}
            self.chats[user.id] = chat
        return chat

    # --- people writing and tapping ------------------------------------------------------

    def user_message(
        self,
        chat_id: int,
        from_user_id: int | None,
        text: str,
        reply_to_message_id: int | None = None,
    ) -> dict[str, Any]:
        """Someone writes ``text`` in a chat (or a channel posts it); the bot gets an update."""
        if not text:
            raise WorldError("text is required")
        chat = self.chats.get(int(chat_id))
        if chat is None and from_user_id is not None and int(chat_id) == int(from_user_id):
            chat = self._private_chat(self.user(from_user_id))
        if chat is None:
            raise WorldError(f"no chat {chat_id}", 404)
        if chat.migrated_to is not None:
            raise WorldError(f"chat {chat.id} was upgraded to {chat.migrated_to}")
        sender: User | None = None
        if chat.type == CHANNEL:
            if from_user_id is not None:
                raise WorldError("channel posts have no sender; omit from_user_id")
        else:
            if from_user_id is None:
                raise WorldError("from_user_id is required outside channels")
            sender = self.user(from_user_id)
            if chat.type == PRIVATE:
                if chat.id != sender.id:
                    raise WorldError("in a private chat, chat_id is the user's id")
                if sender.blocked:
                    self.set_blocked(sender.id, False)
                sender.started = True
            elif not chat.is_present(sender.id):
                raise WorldError(f"user {sender.id} is not a member of chat {chat.id}")
        message = self._new_message(chat, sender)
        message["text"] = text
        entities = command_entities(text)
        if entities:
            message["entities"] = entities
        if reply_to_message_id is not None:
            replied = chat.live_message(int(reply_to_message_id))
            if replied is None:
                raise WorldError(f"no message {reply_to_message_id} in chat {chat.id}")
            message["reply_to_message"] = _without_reply(replied)
        chat.messages[message["message_id"]] = message
        if self._bot_hears(chat, message):
            self.enqueue("channel_post" if chat.type == CHANNEL else "message", message)
        self.on_change()
        return message

    def _new_message(self, chat: Chat, sender: User | None) -> dict[str, Any]:
        message: dict[str, Any] = {"message_id": chat.take_message_id()}
        if sender is not None:
            message["from"] = sender.to_json()
        if chat.type == CHANNEL:
            message["sender_chat"] = chat_json(chat, self.users)
        message["chat"] = chat_json(chat, self.users)
        message["date"] = self.now()
        return message

    def _bot_hears(self, chat: Chat, message: dict[str, Any]) -> bool:
        """Whether the bot receives ``message`` (membership and privacy mode)."""
        if chat.type == PRIVATE:
            return True
        status = chat.status_of(self.bot.id)
        if status not in PRESENT:
            return False
        if chat.type == CHANNEL or not self.privacy_mode or status == ADMINISTRATOR:
            return True
        text = message.get("text", "")
        replied = message.get("reply_to_message", {})
        return (
            text.startswith("/")
            or replied.get("from", {}).get("id") == self.bot.id
            or f"@{self.bot.username}" in text
            or "text" not in message
        )

    def _service_message(
        self, chat: Chat, actor: User, fields: dict[str, Any], *, deliver: bool = False
    ) -> dict[str, Any]:
        message = self._new_message(chat, actor)
        message.update(fields)
        chat.messages[message["message_id"]] = message
        if deliver or self._bot_hears(chat, message):
            self.enqueue("message", message)
        return message

    def press(self, chat_id: int, message_id: int, from_user_id: int, data: str | None) -> CallbackRecord:
        """Someone taps an inline button; the bot gets a callback_query update."""
        chat = self.live_chat(chat_id)
        user = self.user(from_user_id)
        message = chat.live_message(int(message_id))
        if message is None:
            raise WorldError(f"no message {message_id} in chat {chat.id}")
        if chat.type == PRIVATE and chat.id != user.id:
            raise WorldError("only the chat's user can tap buttons in a private chat")
        if chat.type != PRIVATE and not chat.is_present(user.id):
            raise WorldError(f"user {user.id} is not a member of chat {chat.id}")
        record = CallbackRecord(
            id=str(4_000_000_000_000_000_000 + self._next_callback),
            chat_id=chat.id,
            message_id=int(message_id),
            from_user_id=user.id,
            data=data,
        )
        self._next_callback += 1
        self.callbacks[record.id] = record
        query: dict[str, Any] = {
            "id": record.id,
            "from": user.to_json(),
            "message": message,
            "chat_instance": str(5_000_000_000_000_000_000 + abs(chat.id)),
        }
        if data is not None:
            query["data"] = data
        self.enqueue("callback_query", query)
        self.on_change()
        return record

    # --- the update queue ----------------------------------------------------------------

    def enqueue(self, kind: str, payload: dict[str, Any]) -> dict[str, Any]:
        """Queue an update of ``kind`` for the bot."""
        return self.inject({kind: payload})

    def inject(self, update: dict[str, Any], *, post: bool = False) -> dict[str, Any]:
        """Queue ``update`` verbatim, giving it the next ``update_id`` if it has none.

        The update is copied, so later changes to a message do not leak into an update
        that is still waiting to be delivered. A callback query in it can be answered like a
        press (a forged press from a modified client is still one Telegram lets the bot answer).
        With ``post``, the message it carries is also posted in its chat, numbered there if it
        has no ``message_id``: Telegram keeps every message it delivers, so the bot can reply
        to it, and a reply to a message that is not there fails as it would on Telegram.
        """
        update = copy.deepcopy(update)
        update_id = update.get("update_id")
        if "update_id" not in update:
            update = {"update_id": self.next_update_id, **update}
            self.next_update_id += 1
        elif isinstance(update_id, int) and not isinstance(update_id, bool):
            self.next_update_id = max(self.next_update_id, update_id + 1)
        # Any other update_id (a string, null ...) is hostile on purpose and stays as it came.
        if post:
            self._post_injected(update)
        self._remember_press(update)
        self.updates.append(update)
        self.on_change()
        return update

    def _post_injected(self, update: dict[str, Any]) -> None:
        """Keep the message an injected update carries in its chat (see ``inject``)."""
        message = next((update[kind] for kind in MESSAGE_KINDS if isinstance(update.get(kind), dict)), None)
        if message is None:
            raise WorldError("only an update that carries a message can be posted")
        chat_id = message["chat"].get("id") if isinstance(message.get("chat"), dict) else None
        chat = self.chats.get(chat_id) if isinstance(chat_id, int) else None
        if chat is None and chat_id in self.users:  # someone's first message opens their private chat
            chat = self._private_chat(self.users[chat_id])
            self.users[chat_id].started = True
        if chat is None:
            raise WorldError(f"no chat {chat_id} to post in", 404)
        if "message_id" not in message:
            message["message_id"] = chat.take_message_id()
        if not isinstance(message["message_id"], int) or isinstance(message["message_id"], bool):
            raise WorldError("a posted message needs a whole-number message_id")
        chat.messages[message["message_id"]] = copy.deepcopy(message)

    def _remember_press(self, update: dict[str, Any]) -> None:
        """Make an injected callback query answerable, with whatever it names (0 where it names nothing)."""
        query = update.get("callback_query")
        if not isinstance(query, dict) or not isinstance(query.get("id"), str) or query["id"] in self.callbacks:
            return
        message = query.get("message") if isinstance(query.get("message"), dict) else {}
        chat = message.get("chat") if isinstance(message.get("chat"), dict) else {}
        sender = query.get("from") if isinstance(query.get("from"), dict) else {}
        data = query.get("data")
        self.callbacks[query["id"]] = CallbackRecord(
            id=query["id"],
            chat_id=_whole(chat.get("id")),
            message_id=_whole(message.get("message_id")),
            from_user_id=_whole(sender.get("id")),
            data=data if isinstance(data, str) else None,
        )

    def confirm(self, offset: int) -> None:
        """getUpdates with ``offset``: forget updates below it (negative: keep the last -n)."""
        before = len(self.updates)
        if offset < 0:
            self.updates = self.updates[offset:]
        elif offset > 0:
            self.updates = [u for u in self.updates if _update_id(u) >= offset]
        if len(self.updates) != before:
            self.on_change()

    def take_updates(self, limit: int) -> list[dict[str, Any]]:
        """Up to ``limit`` pending updates the bot wants; unwanted types are dropped."""
        wanted: list[dict[str, Any]] = []
        kept: list[dict[str, Any]] = []
        dropped = False
        for update in self.updates:
            kind = update_kind(update)
            if kind in KNOWN_UPDATE_TYPES and kind not in self.allowed_updates:
                dropped = True
                continue
            kept.append(update)
            if len(wanted) < limit:
                wanted.append(update)
        if dropped:
            self.updates = kept
            self.on_change()
        return wanted

    def set_allowed_updates(self, allowed: list[str] | None) -> None:
        """Remember which update types the bot wants; an empty list means the default."""
        if allowed is None:
            return
        self.allowed_updates = frozenset(allowed) if allowed else DEFAULT_ALLOWED_UPDATES

    def drop_pending_updates(self) -> None:
        """deleteWebhook/setWebhook with drop_pending_updates."""
        self.updates.clear()
        self.on_change()

    # --- what the bot sends ---------------------------------------------------------------

    def bot_message(
        self,
        chat: Chat,
        content: dict[str, Any],
        method: str,
        reply_to: dict[str, Any] | None = None,
    ) -> dict[str, Any]:
        """Store a message the bot sent and log it; returns the Message object."""
        message = self._new_message(chat, None if chat.type == CHANNEL else self.bot)
        if reply_to is not None:
            message["reply_to_message"] = _without_reply(reply_to)
        message.update(content)
        chat.messages[message["message_id"]] = message
        self.seq += 1
        record = SentRecord(
            sent_seq=self.seq,
            seq=self.seq,
            chat_id=chat.id,
            message_id=message["message_id"],
            method=method,
            date=message["date"],
            sent_at=self._clock(),
            original=_content(message),
        )
        self.sent.append(record)
        self._sent_by_key[(chat.id, record.message_id)] = record
        self.on_change()
        return message

    def bot_edit(
        self, chat: Chat, message_id: int, changes: dict[str, Any], removed: tuple[str, ...], method: str
    ) -> dict[str, Any]:
        """Apply an edit by the bot to one of its messages and log it."""
        message = chat.messages[message_id]
        for key in removed:
            message.pop(key, None)
        message.update(changes)
        message["edit_date"] = self.now()
        self.seq += 1
        record = self._sent_by_key.get((chat.id, message_id))
        if record is not None:
            record.seq = self.seq
            record.edits.append({"seq": self.seq, "date": message["edit_date"], "method": method, **_content(message)})
        self.on_change()
        return message

    def delete_message(self, chat: Chat, message_id: int) -> None:
        """Mark a message deleted; log it if the bot had sent it."""
        chat.deleted.add(message_id)
        if message_id in chat.pinned:
            chat.pinned.remove(message_id)
        record = self._sent_by_key.get((chat.id, message_id))
        if record is not None:
            self.seq += 1
            record.seq = self.seq
            record.deleted = True
        self.on_change()

    def is_bot_message(self, chat: Chat, message_id: int) -> bool:
        """Whether the bot sent that message."""
        return (chat.id, message_id) in self._sent_by_key

    def sent_json(self, record: SentRecord) -> dict[str, Any]:
        """A sent message as the control API lists it."""
        message = self.chats[record.chat_id].messages[record.message_id]
        data: dict[str, Any] = {
            "seq": record.seq,
            "sent_seq": record.sent_seq,
            "chat_id": record.chat_id,
            "message_id": record.message_id,
            "method": record.method,
            "date": record.date,
            "sent_at": record.sent_at,
            **_content(message),
            "original": record.original,
            "edits": list(record.edits),
            "deleted": record.deleted,
        }
        if "reply_to_message" in message:
            data["reply_to_message_id"] = message["reply_to_message"]["message_id"]
        return data

    def sent_since(self, since: int, chat_id: int | None = None) -> list[dict[str, Any]]:
        """Messages sent, edited or deleted after ``since``, in the order they were sent."""
        return [
            self.sent_json(record)
            for record in self.sent
            if record.seq > since and (chat_id is None or record.chat_id == chat_id)
        ]

    def store_photo(
        self,
        data: bytes,
        width: int,
        height: int,
        *,
        filename: str | None = None,
        mime_type: str | None = None,
        url: str | None = None,
    ) -> StoredPhoto:
        """Keep an uploaded (or linked) photo; every one of its sizes maps back to it."""
        photo = StoredPhoto(
            number=self._next_photo,
            data=data,
            width=width,
            height=height,
            filename=filename,
            mime_type=mime_type,
            url=url,
        )
        self._next_photo += 1
        for size in photo.build_sizes():
            self.photos[size["file_id"]] = photo
        return photo

    # --- the call log ---------------------------------------------------------------------

    def record_call(
        self,
        method: str,
        params: dict[str, Any],
        *,
        ok: bool,
        error_code: int | None = None,
        description: str | None = None,
    ) -> None:
        """Log one Bot API request and how it ended."""
        self.requests[method] += 1
        entry: dict[str, Any] = {
            "seq": len(self.calls) + 1,
            "time": self._clock(),
            "method": method,
            "params": params,
            "ok": ok,
        }
        if not ok:
            entry["error_code"] = error_code
            entry["description"] = description
            if error_code is not None:
                self.errors[error_code] += 1
                if error_code == 429:
                    self.too_many_requests += 1
        self.calls.append(entry)

    def stats(self) -> dict[str, Any]:
        """Counts for benchmarks and assertions."""
        per_chat: Counter[int] = Counter(record.chat_id for record in self.sent)
        return {
            "requests": dict(self.requests),
            "requests_total": sum(self.requests.values()),
            "errors": {str(code): count for code, count in self.errors.items()},
            "too_many_requests": self.too_many_requests,
            "messages_sent": len(self.sent),
            "messages_per_chat": {str(chat_id): n for chat_id, n in per_chat.items()},
            "edits": sum(len(record.edits) for record in self.sent),
            "deleted": sum(record.deleted for record in self.sent),
            "pending_updates": len(self.updates),
            "updates_total": self.next_update_id - 1,
            "users": len(self.users) - 1,
            "chats": len(self.chats),
        }


def update_kind(update: dict[str, Any]) -> str | None:
    """The type of an update: its first key besides ``update_id``."""
    for key in update:
        if key != "update_id":
            return key
    return None


def _whole(value: object) -> int:
    """A JSON value as an id if it is a whole number, else 0."""
    return value if isinstance(value, int) and not isinstance(value, bool) else 0


def _update_id(update: dict[str, Any]) -> int:
    update_id = update.get("update_id")
    return update_id if isinstance(update_id, int) else 0


def _without_reply(message: dict[str, Any]) -> dict[str, Any]:
    """Telegram nests ``reply_to_message`` one level deep only."""
    return {key: value for key, value in message.items() if key != "reply_to_message"}


def _content(message: dict[str, Any]) -> dict[str, Any]:
    """The parts of a message tests look at: text or caption, photo, entities, markup."""
    return {
        "text": message.get("text"),
        "caption": message.get("caption"),
        "entities": message.get("entities") or message.get("caption_entities") or [],
        "photo": message.get("photo"),
        "reply_markup": message.get("reply_markup"),
    }
