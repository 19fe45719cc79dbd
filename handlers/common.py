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
from bot.press_answers import TOO_OLD
from domain.messages import message_parts

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
# The largest row number SQLite stores; a query with a larger one raises OverflowError.
SQLITE_INTEGER_MAX = 2**63 - 1
# How much of someone's words an answer repeats ("Unknown region “…”"): answers must fit Telegram's
# 4,096 characters whatever was sent, and reading a wall of text back helps nobody.
QUOTED_MAX = 64


def row_number(text: str) -> int:
    """A row's number as the bot writes it into a button, or a person after a command (`12`, `012`);
    ValueError, as int() gives, for anything else. int() alone also takes " 12", "+12", "1_2" and "١٢",
    and numbers beyond SQLite's integers, for which a query raises OverflowError: a forged button or a
    wild argument must be refused like a wrong one, never crash the handler."""
    if not (text.isascii() and text.isdigit()) or int(text) > SQLITE_INTEGER_MAX:
        raise ValueError(f"not a row number: {text[:24]!r}")
    return int(text)


def quoted(text: str) -> str:
    """Someone's words as an answer repeats them: stripped, and cut short after QUOTED_MAX characters."""
    text = text.strip()
    return text if len(text) <= QUOTED_MAX else text[: QUOTED_MAX - 1] + "…"


async def chat_language(update: Update, context: AsambleaContext) -> str:
    """The chat's chosen language; in a private chat without one, the user's Telegram language."""
    chat = update.effective_chat
    if chat is None:
        return context.config.default_language
    user = update.effective_user
    hint = user.language_code if (user and chat.type == ChatType.PRIVATE) else None
    return await language_in_chat(context, chat.id, hint)


async def language_in_chat(context: AsambleaContext, chat_id: int, hint: str | None = None) -> str:
    """The language of the chat the context is for (`chat_language`), kept in its chat_data."""
    cached = context.chat_data.get("language") if context.chat_data is not None else None
    if cached:
        return cached
    async with context.store.db.read() as conn:
        stored = await context.store.chat_settings.language(conn, chat_id)
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
        if TOO_OLD not in exc.message.lower():
            raise
        log.info("a button press was too old to answer")


async def reply(update: Update, text: str, **kwargs: object) -> Message | None:
    """Answer in the chat the update came from (a message, or a button's message); an answer longer than
    a message goes as several (`message_parts`), buttons and options with the last. In a group the answer
    quotes what it answers, if that is still there: someone who sends a command and deletes it at once
    gets an answer, not an error (Telegram refuses a reply to a deleted message otherwise)."""
    message = update.effective_message
    if message is None:
        return None
    quote = update.effective_chat.type != ChatType.PRIVATE
    *before, last = message_parts(text)
    for part in before:
        await message.reply_text(part, do_quote=quote, allow_sending_without_reply=True)
    return await message.reply_text(last, do_quote=quote, allow_sending_without_reply=True, **kwargs)


async def edit_pressed(update: Update, text: str, **kwargs: object) -> None:
    """Change the message a button is under. A second press of the same button (a double tap, a replay)
    asks for the same change again, which Telegram refuses as "not modified": that is no error."""
    try:
        await update.callback_query.edit_message_text(text, **kwargs)
    except BadRequest as exc:
        if "message is not modified" not in exc.message.lower():
            raise


async def drop_buttons(update: Update) -> None:
    """Take the buttons off the message a button is under; already gone (a second press) is no error."""
    try:
        await update.callback_query.edit_message_reply_markup(reply_markup=None)
    except BadRequest as exc:
        if "message is not modified" not in exc.message.lower():
            raise


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
        serves = committee is not None and await store.delegates.serves(conn, committee.id, user.id, now=context.now())
    # Only while they are in the group: removing an infiltrator is the admins' quickest answer, before
    # the assembly can recall them (and in a public group anyone can press the buttons).
    return serves and await update_is_from_member(update, context) is True


async def update_is_from_delegate(update: Update, context: AsambleaContext) -> bool:
    """Whether the person behind an update is a delegate of the chat: one of its Telegram admins
    (delegates by default), or an elected delegate of its committee who serves now."""
    return await update_is_from_elected_delegate(update, context) or await update_is_from_admin(update, context)


def member_seen(update: Update, context: AsambleaContext) -> bool:
    """Whether `update_is_from_member` would say yes without asking Telegram: the person was found
    in the chat less than MEMBER_SEEN_S ago."""
    chat, user = update.effective_chat, update.effective_user
    return chat is not None and user is not None and seen_lately(context, user.id)


def seen_lately(context: AsambleaContext, user_id: int) -> bool:
    """`member_seen` for the chat the context is for."""
    if context.chat_data is None:
        return False
    return context.chat_data.get("members_seen", {}).get(user_id, 0.0) > time.monotonic()


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
