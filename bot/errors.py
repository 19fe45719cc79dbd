"""The one error handler: log without personal data, tell the user, report to the operator."""

from __future__ import annotations

import html
import logging
import traceback

from telegram import Update
from telegram.error import TelegramError

from bot.context import AsambleaContext
from bot.fast_updates import ChatPress, FastUpdate
from handlers.common import translator

log = logging.getLogger(__name__)


def describe_update(update: object) -> str:
    """What kind of update failed, without anything it says or who sent it."""
    if isinstance(update, FastUpdate):
        return f"update {update.update_id} ({'callback_query' if isinstance(update, ChatPress) else 'message'})"
    if isinstance(update, Update):
        kinds = [
            name
            for name in ("message", "edited_message", "channel_post", "callback_query", "my_chat_member", "chat_member")
            if getattr(update, name, None)
        ]
        return f"update {update.update_id} ({', '.join(kinds) or 'other'})"
    return type(update).__name__


async def on_error(update: object, context: AsambleaContext) -> None:
    error = context.error
    # The stack holds code lines, not values; an exception's message may quote user text or
    # ids, so only its type is logged or reported.
    trace = "".join(traceback.format_tb(error.__traceback__, limit=-6)) + type(error).__name__
    log.error("error handling %s: %s", describe_update(update), type(error).__name__)
    log.debug("traceback:\n%s", trace)
    if isinstance(update, FastUpdate):
        try:
            update = update.full(context.bot)
        except Exception as exc:
            log.warning("could not read the update to answer it: %s", type(exc).__name__)
    if isinstance(update, Update):
        try:
            _ = await translator(update, context)
            text = _("Something went wrong on my side; nothing was changed. Please try again later.")
            if update.callback_query:
                await update.callback_query.answer(text, show_alert=True)
            elif update.effective_message:
                await update.effective_message.reply_text(text)
        except Exception as exc:  # the report must never raise
            log.warning("could not tell the user about the error: %s", type(exc).__name__)
    operator = context.bot_data.get("operator_chat_id")
    if operator:
        try:
            await context.bot.send_message(
                operator,
                f"<b>Asamblea error</b> in {html.escape(describe_update(update))}: "
                f"<code>{html.escape(type(error).__name__)}</code>\n<pre>{html.escape(trace[-3000:])}</pre>",
                parse_mode="HTML",
            )
        except TelegramError as exc:
            log.warning("could not report to the operator chat: %s", type(exc).__name__)
