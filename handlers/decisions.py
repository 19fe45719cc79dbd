"""Assembly decisions: `/propose TEXT`, one voice per member with buttons, a result at the deadline.

A committee decides by the rule it picked in /settings: `consensus` (passes at the deadline if
nobody blocks; stand-asides and objections are counted and shown; a block sends it back for
negotiation, and a delegate can open a new round) or `majority` (a quorum of the group's
members and more yes than no). The rules are domain/decisions.py. Voices are kept by pseudonym,
changeable until the deadline; the result names no one. Deadlines are JobQueue jobs, re-created
from the database at start; closing is one transaction that a second alarm finds done.
"""

from __future__ import annotations

import logging

from telegram import InlineKeyboardButton, InlineKeyboardMarkup, Update
from telegram.error import TelegramError
from telegram.ext import Application, CallbackQueryHandler, CommandHandler, filters

from bot import escalation
from bot.call_messages import when_text, zone_of
from bot.clock import real_seconds_until
from bot.context import AsambleaContext
from bot.i18n import N_, Gettext, gettext_for
from domain.committees import Status as CommitteeStatus
from domain.decisions import Choice, Rule, RuleSettings, Status, choices_for, outcome
from domain.demands import TEXT_MAX, DemandRefused, clean_demand
from handlers.common import answer_query, chat_language, reply, translator, update_is_from_admin
from storage.decisions import Decision

log = logging.getLogger(__name__)

VOTE_PREFIX = "v1:dv:"
ROUND_PREFIX = "v1:dr:"

CHOICE_LABELS = {
    Choice.AGREE: N_("👍 Agree"),
    Choice.STAND_ASIDE: N_("🤚 Stand aside"),
    Choice.OBJECT: N_("⚠️ Object"),
    Choice.BLOCK: N_("✋ Block"),
    Choice.YES: N_("👍 Yes"),
    Choice.NO: N_("👎 No"),
    Choice.ABSTAIN: N_("🤚 Abstain"),
}
CHOICE_NAMES = {
    Choice.AGREE: N_("agree"),
    Choice.STAND_ASIDE: N_("stand aside"),
    Choice.OBJECT: N_("object"),
    Choice.BLOCK: N_("block"),
    Choice.YES: N_("yes"),
    Choice.NO: N_("no"),
    Choice.ABSTAIN: N_("abstain"),
}
RESULTS = {
    Status.PASSED: N_("✅ Decided: the proposal passes."),
    Status.BLOCKED: N_("✋ Blocked. Talk it through; a delegate can open a new round."),
    Status.REJECTED: N_("❌ The proposal does not pass."),
    Status.NO_QUORUM: N_("⏸ No decision: too few voices for the quorum ({quorum} needed)."),
    Status.NO_VOICES: N_("⏸ No decision: nobody gave a voice."),
}
RULE_NAMES = {Rule.CONSENSUS: N_("consensus"), Rule.MAJORITY: N_("majority")}


def proposal_text(_: Gettext, decision: Decision, language: str, zone) -> str:
    rule = Rule(decision.rule)
    lines = [
        _("🗳 Proposal #{id}, round {round}:").format(id=decision.id, round=decision.round),
        "",
        decision.text,
        "",
        _(
            "Rule: {rule}. Open until {when}. One voice each, changeable until then; the result shows only counts."
        ).format(rule=_(RULE_NAMES[rule]), when=when_text(decision.closes_at, language, zone)),
    ]
    return "\n".join(lines)


def vote_keyboard(_: Gettext, decision: Decision) -> InlineKeyboardMarkup:
    buttons = [
        InlineKeyboardButton(
            _(CHOICE_LABELS[c]), callback_data=f"{VOTE_PREFIX}{decision.id}:{decision.round}:{c.value}"
        )
        for c in choices_for(Rule(decision.rule))
    ]
    return InlineKeyboardMarkup([buttons[i : i + 2] for i in range(0, len(buttons), 2)])


async def put_to_assembly(update: Update, context: AsambleaContext, decision: Decision, region: str) -> None:
    """Set the round's deadline and post the proposal with its voting buttons in the group."""
    schedule(context.application, decision)
    language = await chat_language(update, context)
    _ = gettext_for(language)
    zone = zone_of(context.config.federation, region)
    await reply(update, proposal_text(_, decision, language, zone), reply_markup=vote_keyboard(_, decision))


async def propose_command(update: Update, context: AsambleaContext) -> None:
    """/propose TEXT: any member of an active committee puts a proposal to its assembly."""
    _ = await translator(update, context)
    store = context.store
    async with store.db.read() as conn:
        committee = await store.committees.by_chat(conn, update.effective_chat.id)
        rule = await store.decisions.rule_of(conn, committee.id) if committee else None
    if committee is None or committee.status is not CommitteeStatus.ACTIVE:
        await reply(update, _("Proposals are for the assembly of an active committee."))
        return
    parts = (update.effective_message.text or "").split(maxsplit=1)
    try:
        text = clean_demand(parts[1] if len(parts) > 1 else "")
    except DemandRefused as refused:
        if refused.reason == "too-long":
            await reply(update, _("The proposal is too long: at most {max} characters.").format(max=TEXT_MAX))
        else:
            await reply(update, _("Write the proposal after the command: /propose TEXT"))
        return
    user = update.effective_user
    async with store.db.transaction() as tx:
        decision = await store.decisions.open(
            tx,
            committee_id=committee.id,
            text=text,
            rule=rule or Rule.CONSENSUS.value,
            deadline_hours=context.config.decision_hours,
            opened_by=user.id if user else committee.chat_id,
            now=context.now(),
        )
    await put_to_assembly(update, context, decision, committee.region)


async def vote_button(update: Update, context: AsambleaContext) -> None:
    """A member's voice; the latest counts, until the deadline."""
    _ = await translator(update, context)
    store = context.store
    try:
        decision_id, round_text, choice_text = update.callback_query.data.removeprefix(VOTE_PREFIX).split(":")
        decision_id, round_number, choice = int(decision_id), int(round_text), Choice(choice_text)
    except ValueError:
        await answer_query(update, _("This button is no longer valid."), alert=True)
        return
    user = update.effective_user
    async with store.db.transaction() as tx:
        decision = await store.decisions.get(tx, decision_id)
        committee = await store.committees.by_chat(tx, update.effective_chat.id)
        if decision is None or committee is None or committee.id != decision.committee_id:
            problem = N_("This button is no longer valid.")
        elif decision.status != "open" or round_number != decision.round or context.now() >= decision.closes_at:
            problem = N_("This round is closed; voices are no longer taken.")
        elif choice not in choices_for(Rule(decision.rule)):
            problem = N_("This button is no longer valid.")
        else:
            problem = None
            await store.decisions.vote(tx, decision, voter=user.id, choice=choice.value, now=context.now())
    if problem:
        await answer_query(update, _(problem), alert=True)
        return
    await answer_query(
        update,
        _("Your voice: {choice}. You can change it until the round closes.").format(choice=_(CHOICE_NAMES[choice])),
    )


async def round_button(update: Update, context: AsambleaContext) -> None:
    """A delegate opens a new round of a blocked proposal."""
    _ = await translator(update, context)
    store = context.store
    try:
        decision_id = int(update.callback_query.data.removeprefix(ROUND_PREFIX))
    except ValueError:
        await answer_query(update, _("This button is no longer valid."), alert=True)
        return
    async with store.db.read() as conn:
        decision = await store.decisions.get(conn, decision_id)
        committee = await store.committees.by_chat(conn, update.effective_chat.id)
    if decision is None or committee is None or committee.id != decision.committee_id:
        await answer_query(update, _("This button is no longer valid."), alert=True)
        return
    if not await update_is_from_admin(update, context):
        await answer_query(update, _("Only delegates (the admins of this group) can open a new round."), alert=True)
        return
    async with store.db.transaction() as tx:
        reopened = await store.decisions.new_round(tx, decision, now=context.now())
        decision = await store.decisions.get(tx, decision_id)
    if not reopened:
        await answer_query(update, _("Only a blocked proposal gets a new round."), alert=True)
        return
    await answer_query(update, _("New round opened."))
    await put_to_assembly(update, context, decision, committee.region)


# -- deadlines ----------------------------------------------------------------------------------


def job_name(decision: Decision) -> str:
    return f"decision:{decision.id}:{decision.round}"


def schedule(application: Application, decision: Decision) -> None:
    name = job_name(decision)
    for job in application.job_queue.get_jobs_by_name(name):
        job.schedule_removal()
    application.job_queue.run_once(
        close_decision,
        when=real_seconds_until(application.bot_data["clock"], decision.closes_at),
        name=name,
        data={"decision_id": decision.id, "round": decision.round},
    )


async def restore(application: Application) -> None:
    """At start: an alarm for every open decision (those past their deadline close at once)."""
    store = application.bot_data["store"]
    async with store.db.read() as conn:
        for decision in await store.decisions.open_ones(conn):
            schedule(application, decision)


async def close_decision(context: AsambleaContext) -> None:
    """The deadline: count the voices, record and post the result (counts only)."""
    store = context.store
    data = context.job.data
    async with store.db.read() as conn:
        decision = await store.decisions.get(conn, data["decision_id"])
        committee = await store.committees.get(conn, decision.committee_id) if decision else None
    if decision is None or committee is None or decision.status != "open" or decision.round != data["round"]:
        return
    try:  # the group's size, for a majority's quorum; the bot itself is no member of the assembly
        members = max(0, await context.bot.get_chat_member_count(committee.chat_id) - 1)
    except TelegramError:
        members = None
    settings = RuleSettings(
        rule=Rule(decision.rule), deadline_hours=decision.deadline_hours, quorum=context.config.decision_quorum
    )
    async with store.db.transaction() as tx:
        voices = {voter: Choice(choice) for voter, choice in (await store.decisions.voices(tx, decision)).items()}
        result = outcome(settings, voices, members=members, round_number=decision.round)
        if not await store.decisions.close(tx, decision.id, result.status.value, now=context.now()):
            return
        language = await store.chat_settings.language(tx, committee.chat_id) or context.config.default_language
        _ = gettext_for(language)
        endorsed = result.status is Status.PASSED and decision.demand_id is not None
        if endorsed:
            await store.demands.endorse(tx, decision.demand_id, committee.id, now=context.now())
            await escalation.support_changed(tx, store, context.config, decision.demand_id, now=context.now())
        counts = " · ".join(f"{_(CHOICE_NAMES[c])}: {result.counts.get(c, 0)}" for c in choices_for(settings.rule))
        text = "\n".join(
            [
                _("🗳 Proposal #{id}, round {round}: {text}").format(
                    id=decision.id, round=decision.round, text=decision.text
                ),
                _(RESULTS[result.status]).format(quorum=result.quorum),
                counts,
            ]
        )
        if endorsed:
            text += "\n" + _("Demand #{id} is now endorsed by this committee.").format(id=decision.demand_id)
        markup = None
        if result.status is Status.BLOCKED:
            markup = InlineKeyboardMarkup(
                [[InlineKeyboardButton(_("🔁 New round"), callback_data=f"{ROUND_PREFIX}{decision.id}")]]
            ).to_dict()
        await store.outbox.enqueue(
            tx, purpose="decision", text=text, reply_markup=markup, committee_id=committee.id, now=context.now()
        )
    log.info("a decision closed: %s", result.status.value)
    context.outbox.wake()


def register(application: Application) -> None:
    groups = filters.UpdateType.MESSAGE & filters.ChatType.GROUPS
    application.add_handler(CommandHandler("propose", propose_command, groups))
    application.add_handler(CallbackQueryHandler(vote_button, pattern=f"^{VOTE_PREFIX}"))
    application.add_handler(CallbackQueryHandler(round_button, pattern=f"^{ROUND_PREFIX}"))
