"""Wiping: `/wipe` deletes a committee's data; `/panic` destroys the whole database's key.

Both ask first, saying plainly what will be lost, with a button only the right delegates can
press; anyone else, and any button that does not match this chat's committee or council now (an
old one, a forged one), is refused and nothing happens.

    /wipe    in a committee's group, its delegates: its data goes (storage/wipe.wipe_committee), the
             committee stays as `wiped` without name or chat          buttons v1:wp:<committee>:y|n
    /panic   in the coordinating council's chat, its delegates: the database's key is destroyed and
             the bot starts afresh with an empty database (bot/wipe.py)   buttons v1:pn:<council>:y|n
"""

from __future__ import annotations

import asyncio
import logging

from telegram import InlineKeyboardButton, InlineKeyboardMarkup, Update
from telegram.ext import Application, CallbackQueryHandler, CommandHandler, filters

from bot import reminders
from bot.call_messages import refresh_tallies
from bot.context import AsambleaContext
from bot.i18n import N_, Gettext, gettext_for
from bot.wipe import wipe_everything
from domain.audit import Kind as AuditKind
from domain.audit import Role as AuditRole
from domain.committees import Committee
from handlers import delegates
from handlers.common import (
    answer_query,
    chat_language,
    edit_pressed,
    reply,
    translator,
    update_is_from_admin,
    update_is_from_delegate,
)
from storage.councils import Council
from storage.wipe import WipedCommittee

log = logging.getLogger(__name__)

WIPE_PREFIX = "v1:wp:"  # v1:wp:<committee>:y|n
PANIC_PREFIX = "v1:pn:"  # v1:pn:<council>:y|n
YES, NO = "y", "n"

NOT_COMMITTEE = N_("This group is not a registered committee: there is nothing of it to wipe.")
NOT_DELEGATE = N_("Only the committee's delegates can wipe its data.")
NOT_COORDINATING = N_("Only the coordinating council can wipe everything, and only in its own chat.")
NOT_COUNCIL_DELEGATE = N_("Only the coordinating council's delegates (the admins of this chat) can wipe everything.")
STALE = N_("This button is no longer valid.")


# -- a committee's wipe ---------------------------------------------------------------------------


def wipe_question(_: Gettext, committee: Committee) -> tuple[str, InlineKeyboardMarkup]:
    text = "\n\n".join(
        [
            _("⚠️ Wipe the committee “{name}”?").format(name=committee.name),
            _(
                "I will delete for good everything I keep about it: its demands and its support for demands, "
                "its assembly's decisions and votes, its delegates and their mandates, its strike status, the "
                "calls it issued (they are withdrawn: /verify will no longer confirm them), its answers to "
                "calls, its private demand link and its settings."
            ),
            _(
                "Demands in the common programme, or that other committees' demands were merged into, stay "
                "for the movement, with no trace of who put them forward."
            ),
            _(
                "The committee then receives no more calls; to take part again, an admin registers the group "
                "anew. Messages already posted in this group stay: delete them in Telegram if they must go."
            ),
            _("Only a delegate of this committee can confirm."),
        ]
    )
    markup = InlineKeyboardMarkup(
        [
            [
                InlineKeyboardButton(_("🗑 Wipe"), callback_data=f"{WIPE_PREFIX}{committee.id}:{YES}"),
                InlineKeyboardButton(_("Cancel"), callback_data=f"{WIPE_PREFIX}{committee.id}:{NO}"),
            ]
        ]
    )
    return text, markup


async def wipe_command(update: Update, context: AsambleaContext) -> None:
    """/wipe in a committee's group: asks its delegate to confirm."""
    _ = await translator(update, context)
    async with context.store.db.read() as conn:
        committee = await context.store.committees.by_chat(conn, update.effective_chat.id)
    if committee is None:
        await reply(update, _(NOT_COMMITTEE))
        return
    if not await update_is_from_delegate(update, context):
        await reply(update, _(NOT_DELEGATE))
        return
    text, markup = wipe_question(_, committee)
    await reply(update, text, reply_markup=markup)


async def wipe_button(update: Update, context: AsambleaContext) -> None:
    """Wipe / Cancel under the question: a delegate of this committee confirms or calls it off."""
    language = await chat_language(update, context)
    _ = gettext_for(language)
    query = update.callback_query
    committee_part, _colon, action = query.data.removeprefix(WIPE_PREFIX).partition(":")
    store = context.store
    async with store.db.read() as conn:
        committee = await store.committees.by_chat(conn, update.effective_chat.id)
    if committee is None or committee_part != str(committee.id) or action not in (YES, NO):
        await answer_query(update, _(STALE), alert=True)
        return
    if not await update_is_from_delegate(update, context):
        await answer_query(update, _(NOT_DELEGATE), alert=True)
        return
    if action == NO:
        await answer_query(update, _("Cancelled."))
        await edit_pressed(update, _("Wipe called off: nothing was deleted."), reply_markup=None)
        return
    clock = context.clock
    async with store.db.transaction() as tx:
        current = await store.committees.by_chat(tx, update.effective_chat.id)
        wiped = None
        if current is not None and current.id == committee.id:  # not wiped by another press meanwhile
            wiped = await store.wipe_committee(tx, committee.id, now=context.now())
            # Without `by`: the wipe unlinks every person from the committee, its wiper too (storage/wipe.py).
            await store.audit.record(
                tx,
                kind=AuditKind.COMMITTEE_WIPED,
                role=AuditRole.COMMITTEE_DELEGATE,
                region=committee.region,
                committee_id=committee.id,
                at=context.now(),
            )
            for call_id in wiped.answered:  # their live tallies count without this committee
                await refresh_tallies(tx, store, context.config, call_id, now=clock.time(), speed=clock.speed)
    if wiped is None:
        await answer_query(update, _(STALE), alert=True)
        return
    log.info("a committee wiped its data")
    forget(context.application, wiped)
    context.chat_data.clear()
    context.outbox.wake()
    # No copy of the deleted rows stays in the file's free space nor in the write-ahead log.
    context.application.create_task(store.db.scrub(), name="wipe-scrub")
    await answer_query(update, _("Wiped."))
    await query.edit_message_text(
        _(
            "🗑 Done: this committee's data is wiped, and the bot keeps nothing of it but its region and "
            "kind. To take part again, an admin can /register the group anew."
        ),
        reply_markup=None,
    )


def forget(application: Application, wiped: WipedCommittee) -> None:
    """The alarms of what a wipe deleted (each would find nothing, but need not ring)."""
    for call_id in wiped.calls:
        reminders.unplan(application, call_id)
    for delegate_id in wiped.delegates:
        delegates.unplan(application, delegate_id)
    prefixes = tuple(f"decision:{decision_id}:" for decision_id in wiped.decisions)
    if prefixes:
        for job in application.job_queue.jobs():
            if job.name and job.name.startswith(prefixes):
                job.schedule_removal()


# -- the coordinating council's panic ----------------------------------------------------------------


def panic_question(_: Gettext, council: Council) -> tuple[str, InlineKeyboardMarkup]:
    text = "\n\n".join(
        [
            _("⚠️ Wipe everything?"),
            _(
                "This destroys the key of the bot's database. Every committee, council, call, demand, decision, "
                "delegate and setting of the whole movement is lost for good, for everyone: nobody can restore "
                "it, not even the operator with the secret key."
            ),
            _(
                "The bot then starts again with an empty database: the councils must be linked again with new "
                "codes from the operator, and every committee must register again. Messages already posted in "
                "Telegram chats stay there."
            ),
            _("Only a delegate of the coordinating council can confirm."),
        ]
    )
    markup = InlineKeyboardMarkup(
        [
            [
                InlineKeyboardButton(_("🧨 Destroy everything"), callback_data=f"{PANIC_PREFIX}{council.id}:{YES}"),
                InlineKeyboardButton(_("Cancel"), callback_data=f"{PANIC_PREFIX}{council.id}:{NO}"),
            ]
        ]
    )
    return text, markup


async def coordinating_council(update: Update, context: AsambleaContext) -> Council | None:
    """This chat's council if it is the coordinating council, else None."""
    async with context.store.db.read() as conn:
        council = await context.store.councils.by_chat(conn, update.effective_chat.id)
    if council is None or council.region != context.config.federation.root.id:
        return None
    return council


async def panic_command(update: Update, context: AsambleaContext) -> None:
    """/panic in the coordinating council's chat: asks its delegate to confirm."""
    _ = await translator(update, context)
    council = await coordinating_council(update, context)
    if council is None:
        await reply(update, _(NOT_COORDINATING))
        return
    if not await update_is_from_admin(update, context):
        await reply(update, _(NOT_COUNCIL_DELEGATE))
        return
    text, markup = panic_question(_, council)
    await reply(update, text, reply_markup=markup)


async def panic_button(update: Update, context: AsambleaContext) -> None:
    """Destroy everything / Cancel: a delegate of the coordinating council confirms or calls it off."""
    # One panic at a time: a second press waits, then finds the council gone with everything else.
    async with context.bot_data.setdefault("wipe_lock", asyncio.Lock()):
        language = await chat_language(update, context)
        _ = gettext_for(language)
        query = update.callback_query
        council_part, _colon, action = query.data.removeprefix(PANIC_PREFIX).partition(":")
        council = await coordinating_council(update, context)
        if council is None or council_part != str(council.id) or action not in (YES, NO):
            await answer_query(update, _(STALE), alert=True)
            return
        if not await update_is_from_admin(update, context):
            await answer_query(update, _(NOT_COUNCIL_DELEGATE), alert=True)
            return
        if action == NO:
            await answer_query(update, _("Cancelled."))
            await edit_pressed(update, _("Wipe called off: nothing was deleted."), reply_markup=None)
            return
        await answer_query(update, _("Wiping everything…"))
        await query.edit_message_reply_markup(reply_markup=None)
        await wipe_everything(context.application)
        await reply(
            update,
            _(
                "🧨 Done: the database's key is destroyed and nothing in it can be read any more. I have started "
                "again with an empty database: the operator gives new codes to link the councils, and the "
                "committees register again."
            ),
        )


def register(application: Application) -> None:
    groups = filters.UpdateType.MESSAGE & filters.ChatType.GROUPS
    council_chats = groups | filters.UpdateType.CHANNEL_POST
    application.add_handler(CommandHandler("wipe", wipe_command, groups))
    application.add_handler(CommandHandler("panic", panic_command, council_chats))
    application.add_handler(CallbackQueryHandler(wipe_button, pattern=f"^{WIPE_PREFIX}"))
    application.add_handler(CallbackQueryHandler(panic_button, pattern=f"^{PANIC_PREFIX}"))
