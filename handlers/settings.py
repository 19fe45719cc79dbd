"""`/settings`: a chat's language and, in a committee, how its assembly decides.

The language is the group's admins' to set (it is about the chat itself). How the assembly decides
is the assembly's: the rule and the fallback buttons only put the change to it, as a decision under
the committee's current rule, and the change applies when that decision passes.
"""

from __future__ import annotations

import aiosqlite
from telegram import InlineKeyboardButton, InlineKeyboardMarkup, Update
from telegram.constants import ChatType
from telegram.ext import Application, CallbackQueryHandler, CommandHandler, filters

from bot.config import LANGUAGES
from bot.context import AsambleaContext
from bot.i18n import LANGUAGE_NAMES, N_, Gettext, gettext_for, ngettext_for
from domain.committees import Committee
from domain.decisions import FALLBACK_CHOICES, Kind, Rule
from handlers import decisions
from handlers.common import (
    answer_query,
    chat_language,
    edit_pressed,
    reply,
    row_number,
    translator,
    update_is_from_admin,
    update_is_from_delegate,
    update_is_from_elected_delegate,
)
from storage.decisions import Decision

LANGUAGE_PREFIX = "v1:lang:"
RULE_PREFIX = "v1:rule:"
FALLBACK_PREFIX = "v1:fb:"
RULE_NAMES = {Rule.CONSENSUS: N_("consensus"), Rule.MAJORITY: N_("majority")}
ONLY_DELEGATES = N_("Only the committee's delegates can put its way of deciding to the assembly.")


def fallback_name(language: str, after_rounds: int | None) -> str:
    _ = gettext_for(language)
    ngettext = ngettext_for(language)
    if after_rounds is None:
        return _("no fallback to a supermajority")
    return (
        ngettext(
            "a fallback to a two-thirds supermajority after {rounds} blocked round",
            "a fallback to a two-thirds supermajority after {rounds} blocked rounds",
            after_rounds,
        )
    ).format(rounds=after_rounds)


def fallback_label(_: Gettext, after_rounds: int | None) -> str:
    if after_rounds is None:
        return _("No fallback")
    return _("Fallback after {rounds} rounds").format(rounds=after_rounds)


async def settings_command(update: Update, context: AsambleaContext) -> None:
    """/settings: buttons for the chat's language (admins), and in a committee for how it decides (delegates)."""
    _ = await translator(update, context)
    language = await chat_language(update, context)
    keyboard = InlineKeyboardMarkup(
        [[InlineKeyboardButton(LANGUAGE_NAMES[code], callback_data=f"{LANGUAGE_PREFIX}{code}") for code in LANGUAGES]]
    )
    if update.effective_chat.type == ChatType.PRIVATE:
        await reply(update, _("Which language should I use in this chat?"), reply_markup=keyboard)
        return
    admin = await update_is_from_admin(update, context)
    if not admin and not await update_is_from_elected_delegate(update, context):
        await reply(update, _("Only an admin of this group can change its settings."))
        return
    if admin:
        await reply(update, _("Which language should I use in this chat?"), reply_markup=keyboard)
    async with context.store.db.read() as conn:
        committee = await context.store.committees.by_chat(conn, update.effective_chat.id)
        rule = await context.store.decisions.rule_of(conn, committee.id) if committee else None
        fallback = await context.store.decisions.fallback_of(conn, committee.id) if committee else None
    if committee is None:
        return
    buttons = InlineKeyboardMarkup(
        [
            [InlineKeyboardButton(_(RULE_NAMES[r]), callback_data=f"{RULE_PREFIX}{r.value}") for r in Rule],
            [
                InlineKeyboardButton(fallback_label(_, after), callback_data=f"{FALLBACK_PREFIX}{after or 0}")
                for after in FALLBACK_CHOICES
            ],
        ]
    )
    text = _(
        "How does this committee's assembly decide? Now: {rule}.\nConsensus: a proposal passes at its deadline "
        "if nobody blocks. Majority: it needs a quorum and more yes than no."
    ).format(rule=_(RULE_NAMES[Rule(rule or Rule.CONSENSUS.value)]))
    text += "\n" + _(
        "When consensus is blocked round after round, it can fall back to a two-thirds supermajority. Now: {fallback}."
    ).format(fallback=fallback_name(language, fallback))
    text += "\n" + _("A change is put to the assembly and applies once it passes.")
    await reply(update, text, reply_markup=buttons)


async def pressed_committee(update: Update, context: AsambleaContext, _: Gettext) -> Committee | None:
    """The committee whose settings a delegate's button is about; None (and the press answered) otherwise."""
    async with context.store.db.read() as conn:
        committee = await context.store.committees.by_chat(conn, update.effective_chat.id)
    if committee is None:
        await answer_query(update, _("This button is no longer valid."), alert=True)
        return None
    if not await update_is_from_delegate(update, context):
        await answer_query(update, _(ONLY_DELEGATES), alert=True)
        return None
    return committee


async def answer_asked(update: Update, _: Gettext, asked: Decision | str) -> None:
    if isinstance(asked, str):
        await answer_query(update, _(asked), alert=True)
    else:
        await answer_query(update, _("Put to the assembly."))


async def rule_button(update: Update, context: AsambleaContext) -> None:
    """A decision rule button: a delegate puts consensus or majority to the assembly."""
    query = update.callback_query
    _ = await translator(update, context)
    try:
        rule = Rule(query.data.removeprefix(RULE_PREFIX))
    except ValueError:
        await answer_query(update, _("This button is no longer valid."), alert=True)
        return
    committee = await pressed_committee(update, context, _)
    if committee is None:
        return
    async with context.store.db.read() as conn:
        current = Rule(await context.store.decisions.rule_of(conn, committee.id) or Rule.CONSENSUS.value)
    if rule is current:
        await answer_query(update, _("This committee already decides by {rule}.").format(rule=_(RULE_NAMES[rule])))
        return
    asked = await decisions.ask_assembly(
        update,
        context,
        committee,
        kind=Kind.RULE,
        text=_("This committee decides by {rule} from now on, instead of {current}.").format(
            rule=_(RULE_NAMES[rule]), current=_(RULE_NAMES[current])
        ),
        payload={"rule": rule.value},
        subject="rule",
    )
    await answer_asked(update, _, asked)


async def fallback_button(update: Update, context: AsambleaContext) -> None:
    """A fallback button: a delegate puts "no fallback" or "after N blocked rounds" to the assembly."""
    query = update.callback_query
    _ = await translator(update, context)
    language = await chat_language(update, context)
    try:
        after_rounds = row_number(query.data.removeprefix(FALLBACK_PREFIX)) or None
        if after_rounds not in FALLBACK_CHOICES:
            raise ValueError(after_rounds)
    except ValueError:
        await answer_query(update, _("This button is no longer valid."), alert=True)
        return
    committee = await pressed_committee(update, context, _)
    if committee is None:
        return
    async with context.store.db.read() as conn:
        current = await context.store.decisions.fallback_of(conn, committee.id)
    if after_rounds == current:
        await answer_query(
            update,
            _("This is already the committee's setting: {fallback}.").format(fallback=fallback_name(language, current)),
        )
        return
    asked = await decisions.ask_assembly(
        update,
        context,
        committee,
        kind=Kind.FALLBACK,
        text=_("Consensus here gets {fallback} from now on, instead of {current}.").format(
            fallback=fallback_name(language, after_rounds), current=fallback_name(language, current)
        ),
        payload={"after_rounds": after_rounds},
        subject="fallback",
    )
    await answer_asked(update, _, asked)


async def rule_passed(
    tx: aiosqlite.Connection, context: AsambleaContext, decision: Decision, committee: Committee, _: Gettext
) -> str:
    """The assembly changed its rule: new proposals are decided by it (open ones keep theirs)."""
    rule = Rule(decision.payload["rule"])
    await context.store.decisions.set_rule(tx, committee.id, rule.value, now=context.now())
    return _("From now on this committee's new proposals are decided by {rule}.").format(rule=_(RULE_NAMES[rule]))


async def fallback_passed(
    tx: aiosqlite.Connection, context: AsambleaContext, decision: Decision, committee: Committee, _: Gettext
) -> str:
    """The assembly changed its fallback: new consensus proposals keep it."""
    after_rounds = decision.payload["after_rounds"]
    await context.store.decisions.set_fallback(tx, committee.id, after_rounds, now=context.now())
    language = await context.store.chat_settings.language(tx, committee.chat_id) or context.config.default_language
    return _("From now on consensus here has {fallback}.").format(fallback=fallback_name(language, after_rounds))


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
    await edit_pressed(
        update, _("From now on I speak {language} in this chat.").format(language=LANGUAGE_NAMES[language])
    )


def register(application: Application) -> None:
    application.add_handler(CommandHandler("settings", settings_command, filters.UpdateType.MESSAGE))
    application.add_handler(CallbackQueryHandler(language_button, pattern=f"^{LANGUAGE_PREFIX}"))
    application.add_handler(CallbackQueryHandler(rule_button, pattern=f"^{RULE_PREFIX}"))
    application.add_handler(CallbackQueryHandler(fallback_button, pattern=f"^{FALLBACK_PREFIX}"))
    decisions.on_pass(Kind.RULE, rule_passed)
    decisions.on_pass(Kind.FALLBACK, fallback_passed)
