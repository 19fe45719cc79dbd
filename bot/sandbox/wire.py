"""The sandbox's people and chats, and how they look on the wire.

Telegram objects carry exact field names, ``date`` in unix seconds, and omit
absent fields instead of sending nulls; python-telegram-bot refuses objects
that lack a required field (``ChatFullInfo.accepted_gift_types``,
``ChatMemberAdministrator.can_post_stories`` ...). The dataclasses here hold
the world's users, chats and memberships; their ``*_json`` functions render them
as the Bot API does, in one place, so every method answers consistently.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

PRIVATE, GROUP, SUPERGROUP, CHANNEL = "private", "group", "supergroup", "channel"
CHAT_TYPES = (PRIVATE, GROUP, SUPERGROUP, CHANNEL)

CREATOR, ADMINISTRATOR, MEMBER, LEFT, KICKED = (
    "creator", "administrator", "member", "left", "kicked",
)  # fmt: skip
STATUSES = (CREATOR, ADMINISTRATOR, MEMBER, LEFT, KICKED)
PRESENT = frozenset({CREATOR, ADMINISTRATOR, MEMBER})


@dataclass
class User:
    """A Telegram account: a person, or the bot itself (``is_bot``)."""

    id: int
    first_name: str
    last_name: str | None = None
    username: str | None = None
    language_code: str | None = None
    is_bot: bool = False
    started: bool = False  # has written to the bot in private, so the bot may write back
    blocked: bool = False  # has blocked the bot

    def to_json(self) -> dict[str, Any]:
        """The ``User`` object as it appears in ``from`` and in chat members."""
        data: dict[str, Any] = {"id": self.id, "is_bot": self.is_bot, "first_name": self.first_name}
        if self.last_name:
            data["last_name"] = self.last_name
        if self.username:
            data["username"] = self.username
        if self.language_code and not self.is_bot:
            data["language_code"] = self.language_code
        return data


def admin_rights(chat_type: str) -> dict[str, bool]:
    """The rights an administrator gets by default in a chat of ``chat_type``."""
    rights = {
        "can_manage_chat": True,
        "can_delete_messages": True,
        "can_manage_video_chats": True,
        "can_restrict_members": True,
        "can_promote_members": False,
        "can_change_info": True,
        "can_invite_users": True,
        "can_post_stories": True,
        "can_edit_stories": True,
        "can_delete_stories": True,
    }
    if chat_type == CHANNEL:
        rights.update(can_post_messages=True, can_edit_messages=True)
    else:
        rights["can_pin_messages"] = True
    if chat_type == SUPERGROUP:
        rights["can_manage_topics"] = False
    return rights


@dataclass
class Member:
    """Someone's standing in a chat."""

    status: str
    rights: dict[str, bool] = field(default_factory=dict)


@dataclass
class Chat:
    """A private chat, group, supergroup or channel, with its members and messages."""

    id: int
    type: str
    title: str | None = None
    username: str | None = None
    description: str | None = None
    members: dict[int, Member] = field(default_factory=dict)
    messages: dict[int, dict[str, Any]] = field(default_factory=dict)
    deleted: set[int] = field(default_factory=set)
    next_message_id: int = 1
    migrated_to: int | None = None
    migrated_from: int | None = None
    pinned: list[int] = field(default_factory=list)

    def take_message_id(self) -> int:
        """Message ids count up per chat, as on Telegram."""
        message_id = self.next_message_id
        self.next_message_id += 1
        return message_id

    def status_of(self, user_id: int) -> str:
        """``left`` for anyone who never joined."""
        member = self.members.get(user_id)
        return member.status if member else LEFT

    def is_present(self, user_id: int) -> bool:
        """Whether ``user_id`` is creator, administrator or member."""
        return self.status_of(user_id) in PRESENT

    def live_message(self, message_id: int) -> dict[str, Any] | None:
        """The message, unless it does not exist or was deleted."""
        if message_id in self.deleted:
            return None
        return self.messages.get(message_id)


def chat_json(chat: Chat, users: dict[int, User]) -> dict[str, Any]:
    """The short ``Chat`` object of messages and updates."""
    data: dict[str, Any] = {"id": chat.id, "type": chat.type}
    if chat.type == PRIVATE:
        user = users[chat.id]
        data["first_name"] = user.first_name
        if user.last_name:
            data["last_name"] = user.last_name
        if user.username:
            data["username"] = user.username
        return data
    data["title"] = chat.title or ""
    if chat.username:
        data["username"] = chat.username
    return data


def chat_full_json(chat: Chat, users: dict[int, User], pinned: dict[str, Any] | None) -> dict[str, Any]:
    """The ``ChatFullInfo`` answer of getChat."""
    data = chat_json(chat, users)
    data.update(
        accent_color_id=abs(chat.id) % 7,
        max_reaction_count=11,
        accepted_gift_types={
            "unlimited_gifts": chat.type == PRIVATE,
            "limited_gifts": chat.type == PRIVATE,
            "unique_gifts": chat.type == PRIVATE,
            "premium_subscription": chat.type == PRIVATE,
            "gifts_from_channels": chat.type == PRIVATE,
        },
    )
    if chat.description:
        data["bio" if chat.type == PRIVATE else "description"] = chat.description
    if chat.type in (GROUP, SUPERGROUP):
        data["permissions"] = {
            name: True
            for name in (
                "can_send_messages", "can_send_audios", "can_send_documents",
                "can_send_photos", "can_send_videos", "can_send_video_notes",
                "can_send_voice_notes", "can_send_polls", "can_send_other_messages",
                "can_add_web_page_previews", "can_invite_users",
            )
        }  # fmt: skip
    if chat.migrated_from is not None:
        data["has_visible_history"] = True
    if pinned is not None:
        data["pinned_message"] = pinned
    return data


def member_json(user: User, member: Member | None, chat_type: str) -> dict[str, Any]:
    """A ``ChatMember`` object of the right subtype for ``member.status``."""
    status = member.status if member else LEFT
    data: dict[str, Any] = {"status": status, "user": user.to_json()}
    if status == CREATOR:
        data["is_anonymous"] = False
    elif status == ADMINISTRATOR:
        rights = {**admin_rights(chat_type), **(member.rights if member else {})}
        data.update(can_be_edited=False, is_anonymous=False, **rights)
    elif status == KICKED:
        if chat_type == GROUP:
            # A basic group has no ban list: a removed bot or user just shows as left.
            data["status"] = LEFT
        else:
            data["until_date"] = 0
    return data
