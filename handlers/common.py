"""What every handler needs: the chat's language, a translator, replies, and who is an admin,
a delegate or a member."""

from __future__ import annotations

import logging
import time

import aiosqlite
from telegram import ChatMember, Message, Update
from telegram.constants import ChatType
from telegram.error import BadRequest, TelegramError

from bot.context import AsambleaContext
from bot.i18n import Gettext, gettext_for, pick_language

log = logging.getLogger(__name__)

# Telegram's stand-in user for messages an anonymous group admin sends "as the group".
ANONYMOUS_ADMIN_ID = 1087968824
GROUP_TYPES = (ChatType.GROUP, ChatType.SUPERGROUP)
ADMIN_STATUSES = (ChatMember.ADMINISTRATOR, ChatMember.OWNER)
GONE_STATUSES = (ChatMember.LEFT, ChatMember.BANNED)
# A member seen in a group is believed to be one for this long (real seconds) before Telegram is
# asked again: voting is the busiest thing a committee does, and a vote should not wait for two
# round trips to Telegram. Someone who left is never remembered, so they are asked about each time.
MEMBER_SEEN_S = 60.0


async def chat_language(update: Update, context: AsambleaContext) -> str:
    """The chat's chosen language; in a private chat without one, the user's Telegram language."""
    chat = update.effective_chat
    if chat is None:
        return context.config.default_language
    cached = context.chat_data.get("language") if context.chat_data is not None else None
    if cached:
        return cached
    async with context.store.db.read() as conn:
        stored = await context.store.chat_settings.language(conn, chat.id)
    user = update.effective_user
    hint = user.language_code if (user and chat.type == ChatType.PRIVATE) else None
    language = pick_language(stored, hint, default=context.config.default_language)
    if context.chat_data is not None:
        # /settings replaces this when the chat chooses; until then the fallback holds too.
        context.chat_data["language"] = language
    return language


async def translator(update: Update, context: AsambleaContext) -> Gettext:
    return gettext_for(await chat_language(update, context))


async def language_of_chat(context: AsambleaContext, conn: aiosqlite.Connection, chat_id: int) -> str:
    """The language of a chat the bot writes to outside an update (a council, a committee)."""
    return await context.store.chat_settings.language(conn, chat_id) or context.config.default_language


async def answer_query(update: Update, text: str | None = None, *, alert: bool = False) -> None:
    """Answer a button press; a press too old to answer (after downtime) is not an error."""
    try:
        await update.callback_query.answer(text, show_alert=alert)
    except BadRequest as exc:
        if "query is too old" not in exc.message.lower():
            raise
        log.info("a button press was too old to answer")


async def reply(update: Update, text: str, **kwargs: object) -> Message | None:
    """Answer in the chat the update came from (a message, or a button's message)."""
    message = update.effective_message
    if message is None:
        return None
    return await message.reply_text(text, do_quote=update.effective_chat.type != ChatType.PRIVATE, **kwargs)


def answered_prompt(update: Update, context: AsambleaContext, key: str) -> dict | None:
    """The prompt kept under `key` in chat_data, if this message replies to it (else None)."""
    prompt = context.chat_data.get(key) if context.chat_data is not None else None
    replied = update.effective_message.reply_to_message if update.effective_message else None
    if not prompt or replied is None or replied.message_id != prompt["message_id"]:
        return None
    return prompt


def sent_as_group(update: Update) -> bool:
    """An anonymous admin writing as the group itself; only admins can do that."""
    message = update.effective_message
    chat = update.effective_chat
    return bool(message and chat and message.sender_chat and message.sender_chat.id == chat.id)


async def is_chat_admin(context: AsambleaContext, chat_id: int, user_id: int) -> bool:
    """Whether a user is an admin of a chat, asked of Telegram each time (admins change)."""
    try:
        member = await context.bot.get_chat_member(chat_id, user_id)
    except TelegramError as exc:
        log.warning("admin check failed: %s", type(exc).__name__)
        return False
    return member.status in ADMIN_STATUSES


async def update_is_from_admin(update: Update, context: AsambleaContext) -> bool:
    """Whether the person behind an update is an admin of the chat it came from."""
    chat = update.effective_chat
    if chat is None:
        return False
    if update.callback_query is None and (chat.type == ChatType.CHANNEL or sent_as_group(update)):
        return True  # only a channel's admins can post in it, only a group's can post as it
    user = update.effective_user
    if user is None:
        return False
    return await is_chat_admin(context, chat.id, user.id)


async def update_is_from_elected_delegate(update: Update, context: AsambleaContext) -> bool:
    """Whether the person behind an update serves one of the elected offices of the chat's committee
    now: the holder before half term, the alternate from then on (domain/delegates.py)."""
    chat, user = update.effective_chat, update.effective_user
    if chat is None or user is None or chat.type not in GROUP_TYPES:
        return False
    store = context.store
    async with store.db.read() as conn:
        committee = await store.committees.by_chat(conn, chat.id)
        return committee is not None and await store.delegates.serves(conn, committee.id, user.id, now=context.now())


async def update_is_from_delegate(update: Update, context: AsambleaContext) -> bool:
    """Whether the person behind an update is a delegate of the chat: one of its Telegram admins
    (delegates by default), or an elected delegate of its committee who serves now."""
    return await update_is_from_elected_delegate(update, context) or await update_is_from_admin(update, context)


async def update_is_from_member(update: Update, context: AsambleaContext) -> bool | None:
    """Whether the person behind an update is in the chat (None: Telegram could not be asked)."""
    chat, user = update.effective_chat, update.effective_user
    if chat is None or user is None:
        return False
    seen: dict[int, float] = context.chat_data.setdefault("members_seen", {}) if context.chat_data is not None else {}
    if seen.get(user.id, 0.0) > time.monotonic():
        return True
    try:
        member = await context.bot.get_chat_member(chat.id, user.id)
    except TelegramError as exc:
        log.warning("membership check failed: %s", type(exc).__name__)
        return None
    if member.status in GONE_STATUSES or (member.status == ChatMember.RESTRICTED and not member.is_member):
        seen.pop(user.id, None)
        return False
    seen[user.id] = time.monotonic() + MEMBER_SEEN_S
    return True
