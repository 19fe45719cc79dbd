"""`/settings`: a chat's language (more settings join it as the product grows)."""

from __future__ import annotations

from telegram import InlineKeyboardButton, InlineKeyboardMarkup, Update
from telegram.constants import ChatType
from telegram.ext import Application, CallbackQueryHandler, CommandHandler, filters

from bot.config import LANGUAGES
from bot.context import AsambleaContext
from bot.i18n import LANGUAGE_NAMES, gettext_for
from handlers.common import answer_query, reply, translator, update_is_from_admin

LANGUAGE_PREFIX = "v1:lang:"


async def settings_command(update: Update, context: AsambleaContext) -> None:
    """/settings: buttons for the chat's language."""
    _ = await translator(update, context)
    if update.effective_chat.type != ChatType.PRIVATE and not await update_is_from_admin(update, context):
        await reply(update, _("Only an admin of this group can change its settings."))
        return
    keyboard = InlineKeyboardMarkup(
        [[InlineKeyboardButton(LANGUAGE_NAMES[code], callback_data=f"{LANGUAGE_PREFIX}{code}") for code in LANGUAGES]]
    )
    await reply(update, _("Which language should I use in this chat?"), reply_markup=keyboard)


async def language_button(update: Update, context: AsambleaContext) -> None:
    """A language button: store the chat's choice."""
    query = update.callback_query
    _ = await translator(update, context)
    language = query.data.removeprefix(LANGUAGE_PREFIX)
    if language not in LANGUAGES:
        await answer_query(update, _("This button is no longer valid."), alert=True)
        return
    if update.effective_chat.type != ChatType.PRIVATE and not await update_is_from_admin(update, context):
        await answer_query(update, _("Only an admin of this group can change its settings."), alert=True)
        return
    async with context.store.db.transaction() as tx:
        await context.store.chat_settings.set_language(tx, update.effective_chat.id, language, now=context.now())
    context.chat_data["language"] = language
    _ = gettext_for(language)
    await answer_query(update)
    await query.edit_message_text(
        _("From now on I speak {language} in this chat.").format(language=LANGUAGE_NAMES[language])
    )


def register(application: Application) -> None:
    application.add_handler(CommandHandler("settings", settings_command, filters.UpdateType.MESSAGE))
    application.add_handler(CallbackQueryHandler(language_button, pattern=f"^{LANGUAGE_PREFIX}"))
