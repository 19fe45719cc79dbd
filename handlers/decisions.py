"""Assembly decisions: `/propose TEXT`, one voice per member with buttons, a result at the deadline.

A committee decides by the rule it picked in /settings: `consensus` (passes at the deadline if
nobody blocks; stand-asides and objections are counted and shown; a block sends it back for
negotiation, and a delegate can open a new round; optionally a supermajority decides after some
blocked rounds) or `majority` (a quorum of the group's members and more yes than no). The rules
are domain/decisions.py. Voices are kept by pseudonym, changeable until the deadline; the result
names no one. Deadlines are JobQueue jobs, re-created from the database at start; closing is one
transaction that a second alarm finds done.

Besides proposals, the bot puts questions to the assembly itself (`ask_assembly`): endorsing a
demand, joining a call, electing, giving an alternate to or recalling a delegate, changing the rule
or its fallback. What a passed one does is its kind's effect, applied in the transaction that
closes it; each capability says what its kinds do with `on_pass` when it registers.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from typing import Any

import aiosqlite
from telegram import InlineKeyboardButton, InlineKeyboardMarkup, Message, Update
from telegram.error import TelegramError
from telegram.ext import Application, CallbackQueryHandler, CommandHandler, TypeHandler, filters

from bot import escalation
from bot.call_messages import when_text, zone_of
from bot.context import AsambleaContext
from bot.fast_updates import ChatPress
from bot.i18n import N_, Gettext, gettext_for, ngettext_for
from bot.jobs import run_at
from bot.press_answers import PressAnswers
from domain.committees import Committee
from domain.committees import Status as CommitteeStatus
from domain.decisions import (
    Choice,
    DecisionRefused,
    Kind,
    Rule,
    RuleSettings,
    Status,
    check_vote,
    choices_for,
    outcome,
)
from domain.demands import TEXT_MAX, DemandRefused, clean_demand
from handlers.common import (
    answer_query,
    chat_language,
    language_in_chat,
    member_seen,
    reply,
    row_number,
    seen_lately,
    translator,
    update_is_from_delegate,
    update_is_from_member,
)
from storage.decisions import Decision

log = logging.getLogger(__name__)

VOTE_PREFIX = "v1:dv:"
FAST_BUTTONS = (VOTE_PREFIX,)  # read as fast updates (bot/fast_updates.py), handled by vote_pressed
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
VOTE_REFUSALS = {
    "closed": N_("This round is closed; voices are no longer taken."),
    "choice-not-in-rule": N_("This button is no longer valid."),
    "same-choice": N_("That is already your voice. You can change it to another until the round closes."),
}
NOT_A_MEMBER = N_("Only the members of the committee deciding this can vote on it.")
NOT_IN_COMMITTEE = N_("Only the members of this committee can put something to its assembly.")
UNCHECKED_MEMBER = N_("I could not check that you are in this group; try again in a moment.")

# What a passed decision of a kind does, inside the transaction that closes it; it returns a line
# for the result (what was done, or why nothing could be). Filled by `on_pass`.
Effect = Callable[[aiosqlite.Connection, AsambleaContext, Decision, Committee, Gettext], Awaitable[str | None]]
EFFECTS: dict[Kind, Effect] = {}


def on_pass(kind: Kind, effect: Effect) -> None:
    """Say what a passed decision of this kind does (each capability, for its kinds, in its register())."""
    EFFECTS[kind] = effect


def settings_of(decision: Decision, quorum: float) -> RuleSettings:
    """The rule a decision was opened under, with its fallback."""
    rule = Rule(decision.rule)
    return RuleSettings(
        rule=rule,
        deadline_hours=decision.deadline_hours,
        quorum=quorum,
        fallback_after_rounds=decision.fallback_after_rounds if rule is Rule.CONSENSUS else None,
    )


def fallback_line(language: str, settings: RuleSettings, round_number: int) -> str | None:
    """How a consensus round with a fallback passes despite blocks; None without a fallback."""
    if settings.fallback_after_rounds is None:
        return None
    _ = gettext_for(language)
    if settings.is_fallback_round(round_number):
        return _(
            "This round passes despite blocks with a two-thirds supermajority of agree among agree, object and block."
        )
    ngettext = ngettext_for(language)
    return (
        ngettext(
            "After {rounds} blocked round, a later round passes with a two-thirds supermajority.",
            "After {rounds} blocked rounds, a later round passes with a two-thirds supermajority.",
            settings.fallback_after_rounds,
        )
    ).format(rounds=settings.fallback_after_rounds)


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
    fallback = fallback_line(language, settings_of(decision, 0.5), decision.round)
    if fallback:
        lines.append(fallback)
    return "\n".join(lines)


def vote_keyboard(_: Gettext, decision: Decision) -> InlineKeyboardMarkup:
    buttons = [
        InlineKeyboardButton(
            _(CHOICE_LABELS[c]), callback_data=f"{VOTE_PREFIX}{decision.id}:{decision.round}:{c.value}"
        )
        for c in choices_for(Rule(decision.rule))
    ]
    return InlineKeyboardMarkup([buttons[i : i + 2] for i in range(0, len(buttons), 2)])


async def put_to_assembly(
    update: Update, context: AsambleaContext, decision: Decision, region: str, *, reply_to: Message | None = None
) -> None:
    """Set the round's deadline and post the proposal with its voting buttons in the group
    (in answer to `reply_to` when the question is about that message, e.g. its author's election)."""
    schedule(context.application, decision)
    language = await chat_language(update, context)
    _ = gettext_for(language)
    zone = zone_of(context.config.federation, region)
    text, markup = proposal_text(_, decision, language, zone), vote_keyboard(_, decision)
    if reply_to is not None:
        await reply_to.reply_text(text, do_quote=True, reply_markup=markup)
    else:
        await reply(update, text, reply_markup=markup)


async def not_in_assembly(update: Update, context: AsambleaContext) -> str | None:
    """Why the person pressing a button may not put a question to this group's assembly (a message),
    or None: they are in the group. Anyone who can open a public group can press its buttons."""
    member = await update_is_from_member(update, context)
    if member is None:
        return UNCHECKED_MEMBER
    return None if member else NOT_IN_COMMITTEE


async def ask_assembly(
    update: Update,
    context: AsambleaContext,
    committee: Committee,
    *,
    kind: Kind,
    text: str,
    payload: Mapping[str, Any],
    subject: str,
    reply_to: Message | None = None,
) -> Decision | str:
    """Put a question the bot opens (a call, an election, a setting) to the committee's assembly under
    its current rule, and post it; or the reason (a message) why not: the committee is not active, or
    the same question (`subject`) is already before the assembly."""
    if committee.status is not CommitteeStatus.ACTIVE:
        return N_("Decisions are for the assembly of an active committee.")
    store = context.store
    user = update.effective_user
    async with store.db.transaction() as tx:
        if await store.decisions.pending_on(tx, committee.id, subject) is not None:
            return N_("This is already before the assembly; a second decision on it waits until the first is over.")
        decision = await store.decisions.open(
            tx,
            committee_id=committee.id,
            text=text,
            rule=await store.decisions.rule_of(tx, committee.id) or Rule.CONSENSUS.value,
            deadline_hours=context.config.decision_hours,
            opened_by=user.id if user else committee.chat_id,
            now=context.now(),
            kind=kind.value,
            payload=payload,
            subject=subject,
        )
    await put_to_assembly(update, context, decision, committee.region, reply_to=reply_to)
    return decision


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


def vote_problem(
    decision: Decision | None, round_number: int, choice: Choice, previous: str | None, now: int
) -> str | None:
    """Why a voice cannot be taken (a message), or None: see domain.decisions.check_vote."""
    if decision is None:
        return N_("This button is no longer valid.")
    closes_at = decision.closes_at if decision.status == "open" and round_number == decision.round else now
    try:
        check_vote(
            Rule(decision.rule), choice, previous=Choice(previous) if previous else None, now=now, closes_at=closes_at
        )
    except DecisionRefused as refused:
        return VOTE_REFUSALS[refused.reason]
    return None


async def vote_button(update: Update, context: AsambleaContext) -> None:
    """A member's voice; the latest counts, until the deadline. The same voice twice, a voice from
    outside the committee or after the deadline is refused and writes nothing."""
    _ = await translator(update, context)
    query = update.callback_query
    press = Press(context.answers, query.id, update.effective_chat.id, update.effective_user.id)
    ask = None if member_seen(update, context) else lambda: update_is_from_member(update, context)
    await take_voice(context, _, press, query.data, ask)


async def vote_pressed(update: ChatPress, context: AsambleaContext) -> None:
    """A vote press read as a fast update (bot/fast_updates.py): taken as `vote_button` takes it, by a
    member seen lately (the usual press); anyone else's goes to `vote_button` as PTB's Update, which
    asks Telegram whether they are in the group."""
    if not seen_lately(context, update.user_id):
        await vote_button(update.full(context.bot), context)
        return
    _ = gettext_for(await language_in_chat(context, update.chat_id))
    press = Press(context.answers, update.query_id, update.chat_id, update.user_id)
    await take_voice(context, _, press, update.data, None)


@dataclass(frozen=True, slots=True)
class Press:
    """Whose press, in which chat, and how to answer it."""

    answers: PressAnswers
    query_id: str
    chat_id: int
    user_id: int

    def answer(self, text: str, *, alert: bool = False) -> None:
        """Answered soon, by the press answers' lane (bot/press_answers.py): the handler need not wait
        for Telegram, and a failure only leaves the button's spinner turning (it is logged there)."""
        self.answers.answer(self.query_id, text, alert=alert)


async def take_voice(
    context: AsambleaContext,
    _: Gettext,
    press: Press,
    data: str | None,
    ask_member: Callable[[], Awaitable[bool | None]] | None,
) -> None:
    """The voice of a press, if it may be taken; the press answered either way. `ask_member` asks
    Telegram whether the person is in the group; None: they were found there lately (`member_seen`)."""
    store = context.store
    try:
        decision_id, round_text, choice_text = (data or "").removeprefix(VOTE_PREFIX).split(":")
        decision_id, round_number, choice = row_number(decision_id), row_number(round_text), Choice(choice_text)
    except ValueError:
        press.answer(_("This button is no longer valid."), alert=True)
        return

    async def checked(conn: aiosqlite.Connection) -> tuple[Decision | None, str | None, str | None]:
        """The decision, the member's voice in it, and why a voice cannot be taken (or None)."""
        decision = await store.decisions.get(conn, decision_id)
        committee = await store.committees.by_chat(conn, press.chat_id)
        previous = await store.decisions.voice_of(conn, decision, press.user_id) if decision else None
        problem = vote_problem(decision, round_number, choice, previous, context.now())
        if problem is None and (committee is None or committee.id != decision.committee_id):
            problem = NOT_A_MEMBER  # a button copied into another chat
        return decision, previous, problem

    if ask_member is None:
        # The usual press, by a member seen lately (no request to Telegram to wait for): the same
        # checks, and the voice recorded, in one transaction.
        async with store.db.transaction() as tx:
            decision, previous, problem = await checked(tx)
            if problem is None:
                await store.decisions.vote(
                    tx, decision, voter=press.user_id, choice=choice.value, now=context.now(), previous=previous
                )
        # Answered once the voice is committed; the committee's next update does not wait for
        # Telegram's answer to this one (docs/benchmarks.md, "Ingest").
        answer_vote(press, _, choice, problem)
        return
    async with store.db.read() as conn:
        decision, previous, problem = await checked(conn)
    if problem is None:
        member = await ask_member()
        if member is None:
            problem = N_("I could not check that you are in this group; try again in a moment.")
        elif not member:
            problem = NOT_A_MEMBER
    if problem is None:
        async with store.db.transaction() as tx:  # the deadline or another press may have come meanwhile
            decision = await store.decisions.get(tx, decision_id)
            problem = vote_problem(
                decision,
                round_number,
                choice,
                await store.decisions.voice_of(tx, decision, press.user_id),
                context.now(),
            )
            if problem is None:
                await store.decisions.vote(tx, decision, voter=press.user_id, choice=choice.value, now=context.now())
    answer_vote(press, _, choice, problem)


def answer_vote(press: Press, _: Gettext, choice: Choice, problem: str | None) -> None:
    if problem:
        press.answer(_(problem), alert=True)
        return
    press.answer(
        _("Your voice: {choice}. You can change it until the round closes.").format(choice=_(CHOICE_NAMES[choice]))
    )


async def round_button(update: Update, context: AsambleaContext) -> None:
    """A delegate opens a new round of a blocked proposal."""
    _ = await translator(update, context)
    store = context.store
    try:
        decision_id = row_number(update.callback_query.data.removeprefix(ROUND_PREFIX))
    except ValueError:
        await answer_query(update, _("This button is no longer valid."), alert=True)
        return
    async with store.db.read() as conn:
        decision = await store.decisions.get(conn, decision_id)
        committee = await store.committees.by_chat(conn, update.effective_chat.id)
    if decision is None or committee is None or committee.id != decision.committee_id:
        await answer_query(update, _("This button is no longer valid."), alert=True)
        return
    if not await update_is_from_delegate(update, context):
        await answer_query(update, _("Only the committee's delegates can open a new round."), alert=True)
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
    run_at(
        application,
        close_decision,
        decision.closes_at,
        name=job_name(decision),
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
    settings = settings_of(decision, context.config.decision_quorum)
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
        effect = EFFECTS.get(Kind(decision.kind)) if result.passed else None
        done = await effect(tx, context, decision, committee, _) if effect else None
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
        if result.by_supermajority:
            text += "\n" + _("It passed despite blocks, by the two-thirds supermajority of a fallback round.")
        if endorsed:
            text += "\n" + _("Demand #{id} is now endorsed by this committee.").format(id=decision.demand_id)
        if done:
            text += "\n" + done
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
    application.add_handler(TypeHandler(ChatPress, vote_pressed))  # FAST_BUTTONS
    application.add_handler(CallbackQueryHandler(vote_button, pattern=f"^{VOTE_PREFIX}"))
    application.add_handler(CallbackQueryHandler(round_button, pattern=f"^{ROUND_PREFIX}"))
