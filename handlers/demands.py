"""Putting forward demands: `/demand TEXT` in a committee's group, or privately through the
committee's link, and `/demands` to list them.

A member who does not want to be seen putting a demand forward uses the link a delegate gets
from `/demand link` (`https://t.me/<bot>?start=d_<token>`): the bot asks for the demand in the
private chat and posts it to the group without its author (through the outbox, in the same
transaction as the demand). Only the token's HMAC is stored; a new link revokes the old.
Endorsement by the assembly and escalation to the councils build on these rows.
"""

from __future__ import annotations

import secrets

from telegram import ForceReply, InlineKeyboardButton, InlineKeyboardMarkup, Update
from telegram.ext import Application, CallbackQueryHandler, CommandHandler, MessageHandler, TypeHandler, filters

from bot.context import AsambleaContext
from bot.fast_updates import GroupCommand
from bot.i18n import N_, Gettext, gettext_for
from domain.committees import Committee, Status
from domain.decisions import Rule
from domain.demands import TEXT_MAX, DemandRefused, clean_demand
from handlers.common import (
    answer_query,
    language_in_chat,
    reply,
    row_number,
    translator,
    update_is_from_delegate,
)
from handlers.decisions import not_in_assembly, put_to_assembly
from handlers.start import private_text

FAST_COMMANDS = ("demand",)  # read as fast updates (bot/fast_updates.py), handled by demand_in_group
LINK_PREFIX = "d_"
ENDORSE_PREFIX = "v1:de:"
TOKEN_BYTES = 18  # 24 URL-safe characters, 144 bits: a link cannot be guessed
LIST_MAX = 30
ACK_PURPOSE = "demand-ack"  # the outbox row acknowledging a group's demands
ACK_LISTED = 20  # demand numbers an acknowledgement lists; more are counted

STATUS_LABELS = {
    "proposed": N_("proposed"),
    "endorsed": N_("endorsed by the assembly"),
    "escalated": N_("escalated to a council"),
    "adopted": N_("adopted into the programme"),
    "won": N_("won"),
    "conceded": N_("conceded in part"),
    "rejected": N_("rejected"),
}
REFUSALS = {
    "empty": N_("The demand is empty. Write it after the command: /demand TEXT"),
    "too-long": N_("The demand is too long: at most {max} characters."),
}


def usage(_: Gettext) -> str:
    return _(
        "Put a demand forward with /demand TEXT, for example:\n/demand A 100% wage rise for all oil workers\n"
        "Delegates get a link with /demand link through which members can send demands privately."
    )


async def active_committee(update: Update, context: AsambleaContext) -> Committee | str:
    """This group's committee if it can take demands, else the reason (a message key)."""
    return await active_committee_of(context, update.effective_chat.id)


async def active_committee_of(context: AsambleaContext, chat_id: int) -> Committee | str:
    async with context.store.db.read() as conn:
        committee = await context.store.committees.by_chat(conn, chat_id)
    if committee is None:
        return N_("This group is not a registered committee. An admin can /register it.")
    if committee.status is not Status.ACTIVE:
        return N_("This committee is not active yet, so it cannot take demands.")
    return committee


async def demand_command(update: Update, context: AsambleaContext) -> None:
    """/demand TEXT (any member), /demand link (delegates).

    A recorded demand is acknowledged through the outbox, not by a reply here: in a busy group
    the answers wait for Telegram's limits there (one message every few seconds per group), and
    the acknowledgement still waiting takes the demands that come meanwhile ("Demands #12, #13
    are recorded"). Answers that record nothing are sent without the handler waiting for them."""
    _ = await translator(update, context)
    committee = await active_committee(update, context)
    if isinstance(committee, str):
        answer_later(update, context, _(committee))
        return
    message = update.effective_message
    text = (message.text or "").split(maxsplit=1)
    argument = text[1] if len(text) > 1 else ""
    if not argument.strip():
        answer_later(update, context, usage(_))
        return
    if argument.strip().casefold() == "link":
        await send_link(update, context, committee)
        return
    user = update.effective_user
    by = user.id if user else committee.chat_id
    outcome = await put_forward(context, committee, argument, via="group", by=by, message_id=message.message_id, _=_)
    if isinstance(outcome, str):
        answer_later(update, context, outcome_text(_, outcome))


async def demand_in_group(update: GroupCommand, context: AsambleaContext) -> None:
    """/demand TEXT read as a fast update (bot/fast_updates.py), the way a busy committee sends
    them: a demand of an active committee is recorded here as `demand_command` records it, and
    everything else (no text, `link`, a refusal) goes to `demand_command` as PTB's Update."""
    parts = update.text.split(maxsplit=1)
    argument = parts[1] if len(parts) > 1 else ""
    committee = await active_committee_of(context, update.chat_id) if argument.strip() else None
    if not isinstance(committee, Committee) or argument.strip().casefold() == "link":
        await demand_command(update.full(context.bot), context)
        return
    _ = gettext_for(await language_in_chat(context, update.chat_id))
    outcome = await put_forward(
        context, committee, argument, via="group", by=update.user_id, message_id=update.message_id, _=_
    )
    if isinstance(outcome, str):
        answer_later(update.full(context.bot), context, outcome_text(_, outcome))


def answer_later(update: Update, context: AsambleaContext, text: str) -> None:
    """Reply without holding the handler while Telegram's limits hold the reply (errors go to the
    error handler, as the handler's own would)."""
    context.application.create_task(reply(update, text), update=update, name="demand-answer")


def outcome_text(_: Gettext, reason: str) -> str:
    if reason.startswith("duplicate:"):
        return _("This committee already has this demand: #{id}.").format(id=reason.split(":", 1)[1])
    return _(REFUSALS[reason]).format(max=TEXT_MAX)


def recorded_text(_: Gettext, entries: list[list[int]]) -> tuple[str, int | None]:
    """The acknowledgement of the demands recorded while it waited, as [demand id, message id]
    entries: one demand quotes its message; several are listed, the first ACK_LISTED by number."""
    if len(entries) == 1:
        demand_id, message_id = entries[0]
        return _("Demand #{id} is recorded. /demands lists this committee's demands.").format(id=demand_id), message_id
    ids = ", ".join(f"#{demand_id}" for demand_id, _message in entries[:ACK_LISTED])
    if len(entries) > ACK_LISTED:
        ids = _("{ids} and {count} more").format(ids=ids, count=len(entries) - ACK_LISTED)
    return _("Demands {ids} are recorded. /demands lists this committee's demands.").format(ids=ids), None


async def put_forward(
    context: AsambleaContext,
    committee: Committee,
    raw: str,
    *,
    via: str,
    by: int,
    message_id: int | None = None,
    _: Gettext | None = None,
) -> int | str:
    """Record a demand; its id, or why not.

    From the group (`message_id`, translated by `_`), its acknowledgement joins the committee's
    waiting one in the outbox; put forward privately, it is posted to the group without its
    author. Either way in the same transaction as the demand."""
    try:
        text = clean_demand(raw)
    except DemandRefused as refused:
        return refused.reason
    store = context.store
    now = context.now()
    async with store.db.transaction() as tx:
        repeated = await store.demands.repeat_of(tx, committee.id, text)
        if repeated is not None:
            return f"duplicate:{repeated}"
        demand = await store.demands.add(tx, committee_id=committee.id, text=text, via=via, submitted_by=by, now=now)
        if via == "private":
            language = await store.chat_settings.language(tx, committee.chat_id) or context.config.default_language
            _ = gettext_for(language)
            await store.outbox.enqueue(
                tx,
                purpose="demand",
                text=_("📝 Demand #{id}, put forward privately by a member:").format(id=demand.id) + "\n\n" + text,
                committee_id=committee.id,
                now=now,
            )
        else:
            translate = _ or gettext_for(context.config.default_language)
            await store.outbox.collect(
                tx,
                purpose=ACK_PURPOSE,
                committee_id=committee.id,
                entry=[demand.id, message_id],
                render=lambda entries: recorded_text(translate, entries),
                now=now,
            )
    context.outbox.wake()
    return demand.id


async def send_link(update: Update, context: AsambleaContext, committee: Committee) -> None:
    _ = await translator(update, context)
    if not await update_is_from_delegate(update, context):
        await reply(update, _("Only delegates (the admins of this group) can make the private link."))
        return
    token = secrets.token_urlsafe(TOKEN_BYTES)
    async with context.store.db.transaction() as tx:
        await context.store.demands.set_link(tx, committee.id, token, by=update.effective_user.id, now=context.now())
    link = f"https://t.me/{context.bot.username}?start={LINK_PREFIX}{token}"
    await reply(
        update,
        _(
            "Members can put demands forward privately through this link; I post them here without their "
            "names:\n{link}\nSending /demand link again makes a new link and the old one stops working."
        ).format(link=link),
    )


async def demands_command(update: Update, context: AsambleaContext) -> None:
    """/demands: this committee's demands with status and support."""
    _ = await translator(update, context)
    committee = await active_committee(update, context)
    if isinstance(committee, str):
        await reply(update, _(committee))
        return
    async with context.store.db.read() as conn:
        demands = await context.store.demands.of_committee(conn, committee.id)
        elsewhere = await context.store.programme.backed_elsewhere(conn, committee.id)
    if not demands and not elsewhere:
        await reply(update, _("No demands yet.") + "\n" + usage(_))
        return
    lines = [_("Demands of this committee:")]
    buttons = [
        [
            InlineKeyboardButton(
                _("🗳 Put #{id} to the assembly").format(id=d.id), callback_data=f"{ENDORSE_PREFIX}{d.id}"
            )
        ]
        for d in demands[-LIST_MAX:]
        if d.status == "proposed"
    ]
    for demand in demands[-LIST_MAX:]:
        lines.append(
            _("#{id} ({status}, endorsed by {support} committees): {text}").format(
                id=demand.id, status=_(STATUS_LABELS[demand.status]), support=demand.support, text=demand.text
            )
        )
    if len(demands) > LIST_MAX:
        lines.append(_("…and {count} earlier ones.").format(count=len(demands) - LIST_MAX))
    if elsewhere:
        lines.append(_("Put forward elsewhere too, and backed by this committee:"))
        lines.extend(
            _("#{id} ({status}, endorsed by {support} committees): {text}").format(
                id=d.id, status=_(STATUS_LABELS[d.status]), support=d.support, text=d.text
            )
            for d in elsewhere[-LIST_MAX:]
        )
    await reply(update, "\n".join(lines), reply_markup=InlineKeyboardMarkup(buttons) if buttons else None)


async def endorse_button(update: Update, context: AsambleaContext) -> None:
    """Put a proposed demand to the committee's assembly: a decision whose passing endorses it."""
    _ = await translator(update, context)
    store = context.store
    try:
        demand_id = row_number(update.callback_query.data.removeprefix(ENDORSE_PREFIX))
    except ValueError:
        await answer_query(update, _("This button is no longer valid."), alert=True)
        return
    outside = await not_in_assembly(update, context)
    if outside:
        await answer_query(update, _(outside), alert=True)
        return
    user = update.effective_user
    async with store.db.transaction() as tx:
        demand = await store.demands.get(tx, demand_id)
        committee = await store.committees.by_chat(tx, update.effective_chat.id)
        decision = None
        if demand is None or committee is None or demand.committee_id != committee.id:
            problem = N_("This button is no longer valid.")
        elif committee.status is not Status.ACTIVE:
            problem = N_("This committee is not active yet, so it cannot take demands.")
        elif demand.status != "proposed":
            problem = N_("This demand has already been decided on.")
        elif await store.decisions.pending_for_demand(tx, demand_id) is not None:
            problem = N_("This demand is already before the assembly.")
        else:
            problem = None
            rule = await store.decisions.rule_of(tx, committee.id)
            decision = await store.decisions.open(
                tx,
                committee_id=committee.id,
                text=_("Endorse demand #{id}: {text}").format(id=demand.id, text=demand.text),
                rule=rule or Rule.CONSENSUS.value,
                deadline_hours=context.config.decision_hours,
                opened_by=user.id,
                now=context.now(),
                demand_id=demand.id,
            )
    if problem:
        await answer_query(update, _(problem), alert=True)
        return
    await answer_query(update, _("Put to the assembly."))
    await put_to_assembly(update, context, decision, committee.region)


async def private_link(update: Update, context: AsambleaContext) -> None:
    """/start d_TOKEN: a member opened a committee's private link."""
    _ = await translator(update, context)
    token = (context.args or [""])[0].removeprefix(LINK_PREFIX)
    async with context.store.db.read() as conn:
        committee_id = await context.store.demands.committee_of_link(conn, token) if token else None
        committee = await context.store.committees.get(conn, committee_id) if committee_id else None
    if committee is None or committee.status is not Status.ACTIVE:
        await reply(update, _("This link no longer works. Ask a delegate of your committee for the current one."))
        return
    context.user_data["demand_for"] = committee.id
    await reply(
        update,
        _(
            "You are putting a demand forward to the committee “{name}”. Send it to me as one message: I post it "
            "in the group without your name. I keep no record of who sent it."
        ).format(name=committee.name),
        reply_markup=ForceReply(),
    )


async def private_demand(update: Update, context: AsambleaContext) -> None:
    """The demand itself, in the private chat after a link; other private text gets the usual answer."""
    committee_id = context.user_data.get("demand_for")
    if committee_id is None:
        await private_text(update, context)
        return
    _ = await translator(update, context)
    async with context.store.db.read() as conn:
        committee = await context.store.committees.get(conn, committee_id)
    if committee is None or committee.status is not Status.ACTIVE:
        context.user_data.pop("demand_for", None)
        await reply(update, _("This link no longer works. Ask a delegate of your committee for the current one."))
        return
    outcome = await put_forward(
        context, committee, update.effective_message.text or "", via="private", by=update.effective_user.id
    )
    if isinstance(outcome, str):
        await reply(update, outcome_text(_, outcome))
        return
    context.user_data.pop("demand_for", None)
    await reply(
        update, _("Thank you. Demand #{id} is posted in the committee's group, without your name.").format(id=outcome)
    )


def register(application: Application) -> None:
    groups = filters.UpdateType.MESSAGE & filters.ChatType.GROUPS
    private = filters.UpdateType.MESSAGE & filters.ChatType.PRIVATE
    application.add_handler(TypeHandler(GroupCommand, demand_in_group))  # FAST_COMMANDS
    application.add_handler(CommandHandler("demand", demand_command, groups))
    application.add_handler(CommandHandler("demands", demands_command, groups))
    application.add_handler(CallbackQueryHandler(endorse_button, pattern=f"^{ENDORSE_PREFIX}"))
    # Before start's own /start: a /start with a demand link's payload is handled here.
    application.add_handler(CommandHandler("start", private_link, private & filters.Regex(rf"^/start {LINK_PREFIX}")))
    application.add_handler(MessageHandler(private & filters.TEXT & ~filters.COMMAND, private_demand))
