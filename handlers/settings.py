"""`/settings`: a chat's language and, in a committee, how its assembly decides."""

from __future__ import annotations

from telegram import InlineKeyboardButton, InlineKeyboardMarkup, Update
from telegram.constants import ChatType
from telegram.ext import Application, CallbackQueryHandler, CommandHandler, filters

from bot.config import LANGUAGES
from bot.context import AsambleaContext
from bot.i18n import LANGUAGE_NAMES, N_, gettext_for
from domain.decisions import Rule
from handlers.common import answer_query, reply, translator, update_is_from_admin

LANGUAGE_PREFIX = "v1:lang:"
RULE_PREFIX = "v1:rule:"
RULE_NAMES = {Rule.CONSENSUS: N_("consensus"), Rule.MAJORITY: N_("majority")}


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
    if update.effective_chat.type == ChatType.PRIVATE:
        return
    async with context.store.db.read() as conn:
        committee = await context.store.committees.by_chat(conn, update.effective_chat.id)
        rule = await context.store.decisions.rule_of(conn, committee.id) if committee else None
    if committee is None:
        return
    rules = InlineKeyboardMarkup(
        [[InlineKeyboardButton(_(RULE_NAMES[r]), callback_data=f"{RULE_PREFIX}{r.value}") for r in Rule]]
    )
    await reply(
        update,
        _(
            "How does this committee's assembly decide? Now: {rule}.\nConsensus: a proposal passes at its deadline "
            "if nobody blocks. Majority: it needs a quorum and more yes than no."
        ).format(rule=_(RULE_NAMES[Rule(rule or Rule.CONSENSUS.value)])),
        reply_markup=rules,
    )


async def rule_button(update: Update, context: AsambleaContext) -> None:
    """A decision rule button: the committee's delegates choose consensus or majority."""
    query = update.callback_query
    _ = await translator(update, context)
    try:
        rule = Rule(query.data.removeprefix(RULE_PREFIX))
    except ValueError:
        await answer_query(update, _("This button is no longer valid."), alert=True)
        return
    async with context.store.db.read() as conn:
        committee = await context.store.committees.by_chat(conn, update.effective_chat.id)
    if committee is None:
        await answer_query(update, _("This button is no longer valid."), alert=True)
        return
    if not await update_is_from_admin(update, context):
        await answer_query(update, _("Only an admin of this group can change its settings."), alert=True)
        return
    async with context.store.db.transaction() as tx:
        await context.store.decisions.set_rule(tx, committee.id, rule.value, now=context.now())
    await answer_query(update)
    await query.edit_message_text(
        _("From now on this committee's new proposals are decided by {rule}.").format(rule=_(RULE_NAMES[rule]))
    )


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
    application.add_handler(CallbackQueryHandler(rule_button, pattern=f"^{RULE_PREFIX}"))
