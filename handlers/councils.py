"""Councils: linking a chat with `/council CODE`, and deciding on committees with buttons.

A council is linked by a one-time code that only the operator can make
(`asamblea council-code`), so nobody can declare their own group a council. Its delegates are
the chat's admins; only they can press Approve / Reject, and only for committees in the
council's area. `/approve` lists the committees still waiting.
"""

from __future__ import annotations

import logging
from dataclasses import replace

from telegram import Update
from telegram.ext import Application, CallbackQueryHandler, CommandHandler, filters

from bot.context import AsambleaContext
from bot.i18n import gettext_for
from domain.audit import Kind, Role
from domain.committees import RegistrationRefused, Status, decide
from handlers.audit import acting_person, record_council
from handlers.common import (
    answer_query,
    chat_language,
    drop_buttons,
    language_of_chat,
    reply,
    row_number,
    translator,
    update_is_from_admin,
)
from handlers.registration import council_request, queue_council_request

log = logging.getLogger(__name__)

DECISION_PREFIX = "v1:ap:"


async def council_command(update: Update, context: AsambleaContext) -> None:
    """/council CODE links this group or channel as a council."""
    _ = await translator(update, context)
    chat = update.effective_chat
    if not context.args:
        await reply(update, _("Send /council CODE with the one-time code the operator gave you."))
        return
    if not await update_is_from_admin(update, context):
        await reply(update, _("Only an admin of this chat can link it as a council."))
        return
    store = context.store
    federation = context.config.federation
    user = update.effective_user
    async with store.db.transaction() as tx:
        if await store.committees.by_chat(tx, chat.id) is not None:
            region = None
            committee_chat = True
        else:
            committee_chat = False
            region = await store.councils.redeem_code(tx, context.args[0].strip().upper(), now=context.now())
        if region is not None and region in federation.councils:
            council = await store.councils.link(
                tx,
                region=region,
                chat_id=chat.id,
                chat_type=chat.type,
                linked_by=user.id if user else None,
                now=context.now(),
            )
            await record_council(tx, context, council, Kind.COUNCIL_LINKED, by=acting_person(update))
            # Committees that waited for a council in this area get their request now.
            linked = await store.councils.linked_regions(tx)
            waiting = await store.committees.pending_in(
                tx, [r for r in federation.regions if federation.is_within(r, region)]
            )
            for committee in waiting:
                if federation.responsible_council(committee.region, linked) == region:
                    await queue_council_request(context, tx, committee, council)
    if committee_chat:
        await reply(update, _("This group is a committee; a council needs a chat of its own."))
        return
    if region is None or region not in federation.councils:
        await reply(update, _("This code is wrong, expired or already used. Ask the operator for a new one."))
        return
    context.outbox.wake()
    await reply(
        update,
        _("This chat is now the {council}. Requests from new committees in its area will arrive here.").format(
            council=federation.councils[region].display_name(await chat_language(update, context))
        ),
    )


async def approve_command(update: Update, context: AsambleaContext) -> None:
    """/approve in a council: every committee in its area still waiting, with buttons."""
    _ = await translator(update, context)
    store = context.store
    federation = context.config.federation
    async with store.db.read() as conn:
        council = await store.councils.by_chat(conn, update.effective_chat.id)
        waiting = []
        if council is not None:
            waiting = await store.committees.pending_in(
                conn, [r for r in federation.regions if federation.is_within(r, council.region)]
            )
    if council is None:
        await reply(update, _("This command works in a council's chat."))
        return
    if not waiting:
        await reply(update, _("No committee is waiting for a decision."))
        return
    language = await chat_language(update, context)
    for committee in waiting:
        text, markup = council_request(committee, federation, language)
        await reply(update, text, reply_markup=markup)


async def decision_button(update: Update, context: AsambleaContext) -> None:
    """Approve / Reject pressed in a council chat."""
    query = update.callback_query
    _ = await translator(update, context)
    store = context.store
    federation = context.config.federation
    try:
        committee_id_text, verdict = query.data.removeprefix(DECISION_PREFIX).split(":")
        committee_id = row_number(committee_id_text)
        if verdict not in ("y", "n"):
            raise ValueError(verdict)
    except ValueError:
        await answer_query(update, _("This button is no longer valid."), alert=True)
        return
    async with store.db.read() as conn:
        council = await store.councils.by_chat(conn, update.effective_chat.id)
        committee = await store.committees.get(conn, committee_id)
    if council is None:
        await answer_query(update, _("Only a council can decide on committees."), alert=True)
        return
    if committee is None or not federation.is_within(committee.region, council.region):
        await answer_query(update, _("This committee is not in your council's area."), alert=True)
        return
    if not await update_is_from_admin(update, context):
        await answer_query(update, _("Only the council's delegates (the admins of this chat) can decide."), alert=True)
        return
    approve = verdict == "y"
    council_language = await chat_language(update, context)
    verdict_line = _("✅ Approved by a council delegate.") if approve else _("❌ Rejected by a council delegate.")
    try:
        async with store.db.transaction() as tx:
            current = await store.committees.get(tx, committee_id)
            status = decide(current, approve)
            await store.committees.set_status(
                tx, committee_id, status, decided_by=update.effective_user.id, now=context.now()
            )
            await store.audit.record(
                tx,
                kind=Kind.COMMITTEE_APPROVED if approve else Kind.COMMITTEE_REJECTED,
                role=Role.COUNCIL_DELEGATE,
                region=current.region,
                committee_id=committee_id,
                council_id=council.id,
                by=acting_person(update),
                at=context.now(),
            )
            language = await language_of_chat(context, tx, current.chat_id)
            await store.outbox.enqueue(
                tx,
                purpose="registration_outcome",
                text=outcome_text(status, council.region, context, language),
                committee_id=committee_id,
                now=context.now(),
            )
            # The request shows the verdict. It was sent through the outbox, so its edit waits there
            # for the council chat's limits with the chat's other messages, not in this handler.
            text, _markup = council_request(replace(current, status=status), federation, council_language)
            request_row = await store.outbox.row_of_message(
                tx, council_id=council.id, message_id=query.message.message_id
            )
            if request_row is not None:
                await store.outbox.revise(
                    tx, request_row, text=f"{text}\n\n{verdict_line}", reply_markup=None, now=context.now()
                )
    except RegistrationRefused:
        await answer_query(update, _("Another delegate has already decided on this committee."), alert=True)
        if query.message.reply_markup:
            await drop_buttons(update)
        return
    context.outbox.wake()
    await answer_query(update, _("Approved.") if approve else _("Rejected."))
    if request_row is None:  # a request listed by /approve, sent as a reply
        await query.edit_message_text(f"{text}\n\n{verdict_line}", reply_markup=None)


def outcome_text(status: Status, council_region: str, context: AsambleaContext, language: str) -> str:
    _ = gettext_for(language)
    council = context.config.federation.councils[council_region].display_name(language)
    if status is Status.ACTIVE:
        return _("The {council} has approved this committee. It is now active: calls and demands can reach it.").format(
            council=council
        )
    return _(
        "The {council} has rejected this committee's registration. If something was wrong (the region, "
        "for example), an admin can /register again."
    ).format(council=council)


def register(application: Application) -> None:
    council_chats = (filters.UpdateType.MESSAGE & filters.ChatType.GROUPS) | filters.UpdateType.CHANNEL_POST
    application.add_handler(CommandHandler("council", council_command, council_chats))
    application.add_handler(CommandHandler("approve", approve_command, council_chats))
    application.add_handler(CallbackQueryHandler(decision_button, pattern=f"^{DECISION_PREFIX}"))
