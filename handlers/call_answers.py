"""Committees answer calls: join / can't / undecided buttons on every copy, and a head count.

Only the delegates of a committee the call was delivered to can answer for it (its Telegram
admins, and elected delegates while they serve); any member can instead put joining the call to
the committee's assembly, whose decision, when it passes, records the join exactly as a delegate's
press would. The button's data names the call, and everything else (which committee, whether it
got the call, whether the call still stands) is looked up, never trusted from the button. The
answer, the strike status it implies and the revised copy and tallies are one transaction.
"""

from __future__ import annotations

import aiosqlite
from telegram import ForceReply, Update
from telegram.ext import Application, CallbackQueryHandler, MessageHandler, filters

from bot.call_messages import ANSWER_PREFIX, KIND_NAMES, refresh_tallies, revise_copy
from bot.context import AsambleaContext
from bot.i18n import N_, Gettext
from bot.strike_status import record_status
from domain.calls import RALLY_KINDS, STRIKE_KINDS, Answer, CallKind
from domain.committees import Committee, Status
from domain.decisions import Kind
from domain.spread import StrikeStatus
from handlers import decisions
from handlers.common import answer_query, answered_prompt, reply, row_number, translator, update_is_from_delegate
from storage.calls import Call
from storage.decisions import Decision

ANSWERS = {a.value[0]: a for a in Answer}
ASSEMBLY = "a"  # the button that puts joining the call to the assembly
ONLY_DELEGATES = N_("Only the committee's delegates can answer for it; any member can put the call to the assembly.")
HEADCOUNT_MAX = 1_000_000
CONFIRMATIONS = {
    Answer.JOIN: N_("Recorded: your committee joins."),
    Answer.DECLINE: N_("Recorded: your committee cannot join."),
    Answer.UNDECIDED: N_("Recorded: your committee is undecided."),
}


async def answer_button(update: Update, context: AsambleaContext) -> None:
    """A delegate pressed join / can't / undecided / head count under a call, or a member "put to the assembly"."""
    query = update.callback_query
    _ = await translator(update, context)
    store = context.store
    try:
        call_id_text, choice = query.data.removeprefix(ANSWER_PREFIX).split(":")
        call_id = row_number(call_id_text)
        if choice not in ("h", ASSEMBLY) and choice not in ANSWERS:
            raise ValueError(choice)
    except ValueError:
        await answer_query(update, _("This button is no longer valid."), alert=True)
        return
    async with store.db.read() as conn:
        call = await store.calls.get(conn, call_id)
        committee = await store.committees.by_chat(conn, update.effective_chat.id)
        delivered = (
            await store.calls.delivery_of(conn, call_id, committee.id) if call and committee is not None else None
        )
    if call is None or committee is None or delivered is None:
        await answer_query(update, _("This button is no longer valid."), alert=True)
        return
    if call.status != "active":
        await answer_query(update, _("This call was cancelled; there is nothing to answer."), alert=True)
        return
    if committee.status is not Status.ACTIVE:
        await answer_query(update, _("This committee is not active, so it cannot answer calls."), alert=True)
        return
    if choice == ASSEMBLY:
        await put_call_to_assembly(update, context, call, committee)
        return
    if not await update_is_from_delegate(update, context):
        await answer_query(update, _(ONLY_DELEGATES), alert=True)
        return
    if choice == "h":
        await answer_query(update)
        prompt = await reply(
            update,
            _(
                "How many people take part for this committee in call {code}? Reply to this message with a number."
            ).format(code=call.code),
            reply_markup=ForceReply(selective=True),
        )
        if prompt is not None:
            context.chat_data["headcount_prompt"] = {"message_id": prompt.message_id, "call_id": call.id}
        return
    answer = ANSWERS[choice]
    await record(update, context, call_id, committee.id, delivered, answer=answer)
    await answer_query(update, _(CONFIRMATIONS[answer]))


async def record(
    update: Update,
    context: AsambleaContext,
    call_id: int,
    committee_id: int,
    outbox_id: int,
    *,
    answer: Answer | None = None,
    headcount: int | None = None,
) -> bool:
    """Store an answer or head count with what follows from it; False if the call was cancelled meanwhile."""
    user_id = update.effective_user.id if update.effective_user else update.effective_chat.id
    async with context.store.db.transaction() as tx:
        answered = await answer_in(
            tx, context, call_id, committee_id, outbox_id, by=user_id, answer=answer, headcount=headcount
        )
    if answered:
        context.outbox.wake()
    return answered


async def answer_in(
    tx: aiosqlite.Connection,
    context: AsambleaContext,
    call_id: int,
    committee_id: int,
    outbox_id: int,
    *,
    by: int,
    answer: Answer | None = None,
    headcount: int | None = None,
) -> bool:
    """Within a transaction: the answer or head count, the strike status a join of a strike implies,
    the committee's revised copy and every live tally; False if the call no longer stands."""
    store = context.store
    now = context.now()
    call = await store.calls.get(tx, call_id)
    if call is None or call.status != "active":
        return False
    if headcount is not None:
        await store.calls.set_headcount(tx, call_id, committee_id, headcount=headcount, by=by, now=now)
        answer = Answer.JOIN
    else:
        await store.calls.set_answer(tx, call_id, committee_id, answer=answer.value, by=by, now=now)
    joins_strike = answer is Answer.JOIN and CallKind(call.kind) in STRIKE_KINDS
    if joins_strike and await store.spread.latest(tx, committee_id) != StrikeStatus.ON_STRIKE:
        committee = await store.committees.get(tx, committee_id)
        await record_status(
            tx,
            store,
            context.config,
            committee_id,
            committee.region,
            StrikeStatus.ON_STRIKE,
            since=max(now, call.starts_at),
            by=by,
            now=now,
            call_id=call_id,
        )
    await revise_copy(tx, store, context.config, call, committee_id, outbox_id, now=now)
    await refresh_tallies(tx, store, context.config, call_id, now=context.clock.time(), speed=context.clock.speed)
    return True


# -- joining by the assembly's decision ---------------------------------------------------------


async def put_call_to_assembly(update: Update, context: AsambleaContext, call: Call, committee: Committee) -> None:
    """Any member: open a decision on joining the call (not once a rally has begun, or it is joined)."""
    _ = await translator(update, context)
    outside = await decisions.not_in_assembly(update, context)
    if outside:
        await answer_query(update, _(outside), alert=True)
        return
    async with context.store.db.read() as conn:
        answer, _headcount = await context.store.calls.answer_of(conn, call.id, committee.id)
    if CallKind(call.kind) in RALLY_KINDS and call.starts_at <= context.now():
        await answer_query(update, _("This call has already begun; there is nothing left to decide."), alert=True)
        return
    if answer == Answer.JOIN:
        await answer_query(update, _("Your committee already joins this call."), alert=True)
        return
    asked = await decisions.ask_assembly(
        update,
        context,
        committee,
        kind=Kind.JOIN_CALL,
        text=_("Join the {kind} call {code}: {text}").format(
            kind=_(KIND_NAMES[CallKind(call.kind)]), code=call.code, text=call.text
        ),
        payload={"call_id": call.id},
        subject=f"call:{call.id}",
    )
    if isinstance(asked, str):
        await answer_query(update, _(asked), alert=True)
    else:
        await answer_query(update, _("Put to the assembly."))


async def join_passed(
    tx: aiosqlite.Connection, context: AsambleaContext, decision: Decision, committee: Committee, _: Gettext
) -> str:
    """The assembly decided to join: record it as a delegate's Join would be, answered by the group itself."""
    call_id = decision.payload["call_id"]
    outbox_id = await context.store.calls.delivery_of(tx, call_id, committee.id)
    if outbox_id is None or not await answer_in(
        tx, context, call_id, committee.id, outbox_id, by=committee.chat_id, answer=Answer.JOIN
    ):
        return _("The call was cancelled meanwhile, so there is nothing to join.")
    return _(CONFIRMATIONS[Answer.JOIN])


async def headcount_reply(update: Update, context: AsambleaContext) -> None:
    """The reply to a head count prompt."""
    prompt = answered_prompt(update, context, "headcount_prompt")
    if prompt is None:
        return
    message = update.effective_message
    _ = await translator(update, context)
    text = (message.text or "").strip().replace(" ", "").replace("\u202f", "").replace("\u00a0", "")
    if not (text.isascii() and text.isdigit()) or int(text) > HEADCOUNT_MAX:
        await reply(update, _("Reply with a whole number of people, for example 120."))
        return
    if not await update_is_from_delegate(update, context):
        await reply(update, _(ONLY_DELEGATES))
        return
    store = context.store
    async with store.db.read() as conn:
        committee = await store.committees.by_chat(conn, update.effective_chat.id)
        delivered = await store.calls.delivery_of(conn, prompt["call_id"], committee.id) if committee else None
    if committee is None or delivered is None:
        context.chat_data.pop("headcount_prompt", None)
        await reply(update, _("This group is not a committee this call reached."))
        return
    if not await record(update, context, prompt["call_id"], committee.id, delivered, headcount=int(text)):
        context.chat_data.pop("headcount_prompt", None)
        await reply(update, _("This call was cancelled; there is nothing to answer."))
        return
    context.chat_data.pop("headcount_prompt", None)
    await reply(update, _("Recorded: {count} people take part.").format(count=int(text)))


def register(application: Application) -> None:
    application.add_handler(CallbackQueryHandler(answer_button, pattern=f"^{ANSWER_PREFIX}"))
    decisions.on_pass(Kind.JOIN_CALL, join_passed)
    # Group 2: replies to prompts are told apart by message id (see handlers/calls.py).
    application.add_handler(
        MessageHandler(filters.ChatType.GROUPS & filters.REPLY & filters.TEXT & ~filters.COMMAND, headcount_reply),
        group=2,
    )
