"""Guards that run before every capability (PTB handler group -1) and stop what none should see.

A button press whose message is gone (too old, or from an inline message the bot never sent
to a chat) cannot be checked against a chat, so no capability may act on it.
"""

from __future__ import annotations

from telegram import Update
from telegram.ext import Application, ApplicationHandlerStop, CallbackQueryHandler

from bot.context import AsambleaContext
from handlers.common import answer_query, translator

GUARD_GROUP = -1


async def button_without_chat(update: Update, context: AsambleaContext) -> None:
    """Refuse presses that do not come from a message in a chat the bot can see."""
    query = update.callback_query
    message = query.message
    if message is not None and message.is_accessible and update.effective_chat is not None and query.data:
        return
    _ = await translator(update, context)
    await answer_query(update, _("This button is no longer valid."), alert=True)
    raise ApplicationHandlerStop


def register(application: Application) -> None:
    application.add_handler(CallbackQueryHandler(button_without_chat), group=GUARD_GROUP)
