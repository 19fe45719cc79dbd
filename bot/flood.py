"""Flood control as the bot applies it: each update is judged as it arrives, before it queues.

The rules (how much one person and one chat may send, and why those numbers) are
domain/flood.py; this module applies them to Telegram updates. `ChatOrderedUpdates`
(bot/updates.py) asks `FloodControl.check` about every update before the update takes its place
behind its chat's earlier ones: an update over a limit never waits there and never reaches a
handler, so flood control costs a dictionary look-up per message, and the people in the same
group are not queued behind the flood.

- Never dropped, never counted: what changes who is in a chat or where it lives (the bot added or
  removed, members joining and leaving, a group migrated to a supergroup): losing one would
  leave a committee marked reachable that is not, or one that moved behind.
- The person counted is who sent it; for a message sent as a chat (an anonymous admin, a
  channel) it is that chat, because Telegram gives all of those one shared stand-in user.
- The sender of a dropped update hears of it at most once a minute (and a chat at most once),
  only if they asked something of the bot: a message is answered with a short "slow down" in the
  chat, through the normal reply path, which is paced (bot/pacing.py); a button press with a
  short answer to that press. Later presses in the same minute are dropped unanswered: Telegram
  does not limit answerCallbackQuery (its developers say so: tdlib/telegram-bot-api#636, #648),
  but answering every press of a flood would be a request of ours for every one of theirs,
  while an unanswered press only spins on the flooder's own screen until Telegram gives up on it.
- Telegram ids are held in memory only, while they are counted; the log says how many updates
  were dropped, once a minute at most, and nothing about whose.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Coroutine
from typing import Any

from telegram import Update
from telegram.constants import ChatType
from telegram.ext import Application, filters

from bot.fast_updates import ChatPress, FastUpdate
from bot.i18n import N_
from domain.flood import InputLimits, Limits, Verdict
from handlers.common import answer_query, reply, translator

log = logging.getLogger(__name__)

# Service messages about who is in a chat, or that the chat moved or was created with the bot in it.
MEMBERSHIP_MESSAGES = (
    filters.StatusUpdate.MIGRATE
    | filters.StatusUpdate.NEW_CHAT_MEMBERS
    | filters.StatusUpdate.LEFT_CHAT_MEMBER
    | filters.StatusUpdate.CHAT_CREATED
)
REPORT_EVERY_S = 60.0  # at most one log line a minute about what was dropped

NOTICES = {
    Verdict.PERSON_OVER: N_(
        "🐢 Slow down: you are sending me more than I can answer, so I am skipping some of your messages. "
        "Wait a few seconds before the next one."
    ),
    Verdict.CHAT_OVER: N_(
        "🐢 This chat is sending me more than I can answer, so I am skipping some messages. Try again in a minute."
    ),
    Verdict.BUSY: N_("🐢 I am very busy right now and skipped what you sent. Try again in a minute."),
}


def always_handled(update: Update) -> bool:
    """Updates about membership and migration: handled whatever the limits say, and not counted."""
    if update.my_chat_member or update.chat_member or update.chat_join_request:
        return True
    return update.effective_message is not None and MEMBERSHIP_MESSAGES.check_update(update)


def sender_of(update: Update) -> int | None:
    """Whom the person limit counts: who pressed or wrote; for a message sent as a chat, that chat."""
    if update.callback_query is not None:
        return update.callback_query.from_user.id
    message = update.effective_message
    if message is not None and message.sender_chat is not None:
        return message.sender_chat.id
    return update.effective_user.id if update.effective_user else None


def asks_the_bot(update: Update) -> bool:
    """Whether the sender expects an answer: a press, anything in a private chat, a command, a reply
    to the bot. Other talk in a group (which the bot sees only as an admin) is dropped silently."""
    if update.callback_query is not None:
        return True
    message, chat = update.effective_message, update.effective_chat
    if message is None or chat is None:
        return False
    if chat.type == ChatType.PRIVATE:
        return True
    replied = message.reply_to_message
    to_bot = replied is not None and replied.from_user is not None and replied.from_user.is_bot
    return (message.text or message.caption or "").startswith("/") or to_bot


class FloodControl:
    """The input limits applied to updates: a verdict per update, the notice, the counts.

    `clock` gives seconds of the bot's clock (bot/clock.py): people's pace is measured in movement
    time like every other rule about people, the same as real time in production; in the demo's
    replay, whose minutes pass in a second, the replayed people are as slow as people are."""

    def __init__(self, limits: Limits, clock: Callable[[], float], application: Application) -> None:
        self.rules = InputLimits(limits)
        self.clock = clock
        self.application = application  # whose context and reply path the notices use
        self.dropped = 0
        self.noticed = 0
        self._reported = (0, 0)  # (dropped, noticed) as of the last log line
        self._reported_at: float | None = None

    def check(self, update: object, *, waits: bool, waiting: int) -> Coroutine[Any, Any, None] | None:
        """None if the update is to be handled; otherwise what to do instead (a notice, or nothing).

        `waits`: an earlier update of its chat is still in hand; `waiting`: how many updates wait so."""
        if isinstance(update, FastUpdate):  # a command or a press by a person in a chat (bot/fast_updates.py)
            who, chat, in_chat, asks = update.user_id, update.chat_id, not isinstance(update, ChatPress), True
        elif isinstance(update, Update) and not always_handled(update):
            who = sender_of(update)
            chat = update.effective_chat.id if update.effective_chat else None
            in_chat, asks = update.callback_query is None, asks_the_bot(update)
        else:
            return None
        now = self.clock()
        verdict = self.rules.check(who, chat, now, waits=waits, waiting=waiting)
        if verdict is Verdict.HANDLE:
            return None
        self.dropped += 1
        told = asks and self.rules.notice_due(who, chat, now, in_chat=in_chat)
        if told:
            self.noticed += 1
        self._report(now)
        return self._notice(update, verdict) if told else _nothing()

    async def _notice(self, update: Update | FastUpdate, verdict: Verdict) -> None:
        """Say once why nothing comes: an answer to a press, else a reply in the chat (paced)."""
        application = self.application
        try:
            if isinstance(update, FastUpdate):
                update = update.full(application.bot)
            context = application.context_types.context.from_update(update, application)
            _ = await translator(update, context)
            if update.callback_query is not None:
                await answer_query(update, _(NOTICES[verdict]))
            else:
                await reply(update, _(NOTICES[verdict]))
        except Exception as exc:  # a courtesy to a flooder must never fail the update processor
            log.warning("flood control: the notice was not sent: %s", type(exc).__name__)

    def _report(self, now: float) -> None:
        """A log line for the operator, at most once a minute while a flood lasts: counts only."""
        if self._reported_at is not None and 0 <= now - self._reported_at < REPORT_EVERY_S:
            return
        dropped, noticed = self.dropped - self._reported[0], self.noticed - self._reported[1]
        log.warning("flood control: updates dropped: %d, senders told: %d, since the last report", dropped, noticed)
        self._reported, self._reported_at = (self.dropped, self.noticed), now


async def _nothing() -> None:
    """What a silently dropped update does instead of being handled."""
