"""Delegates: `/elect`, `/alternate`, `/recall` put to the assembly; `/delegates`; term notices.

    /elect [DAYS] | MANDATE     (as a reply to the candidate's message; without DAYS, no term)
    /alternate N                (as a reply to the message of the member who takes over at half term)
    /recall N                   (or /recall as a reply to the delegate's message)
    /delegates                  (in a committee: its delegates; in a council: its area's elected ones)

A group's Telegram admins are its delegates by default: nothing is stored about them, and the
assembly cannot recall them (that is the group's own admin setting). The assembly elects further
delegates, each an office #N with the imperative mandate it gave, and recalls them; with a term,
an alternate serves from half term (SPEC §1). Each of these is a decision (handlers/decisions.py)
whose effect, when it passes, is below. Nobody is named: the group sees whose message a proposal
answers, the database only pseudonyms, and /delegates shows roles and mandates.

The notices of a term (the rotation at half term, a reminder before its end, its end) are
JobQueue alarms named after the office and the notice, planned from the database and restored at
start; each is marked posted in the transaction that queues it to the outbox, so it is posted once.
"""

from __future__ import annotations

import logging

import aiosqlite
from telegram import Message, Update, User
from telegram.error import TelegramError
from telegram.ext import Application, CommandHandler, filters

from bot.call_messages import when_text, zone_of
from bot.context import AsambleaContext
from bot.i18n import N_, Gettext, gettext_for, ngettext_for
from bot.jobs import run_at
from domain.audit import Kind as AuditKind
from domain.audit import Role as AuditRole
from domain.committees import Committee
from domain.committees import Status as CommitteeStatus
from domain.decisions import Kind
from domain.delegates import (
    DAY_S,
    MANDATE_MAX,
    TERM_DAYS_MAX,
    DelegateRefused,
    Notice,
    Source,
    check_alternate,
    check_recall,
    parse_election,
    term_notices,
)
from handlers import decisions
from handlers.audit import record_decided
from handlers.common import (
    ADMIN_STATUSES,
    GONE_STATUSES,
    chat_language,
    language_of_chat,
    reply,
    row_number,
    translator,
)
from storage.decisions import Decision
from storage.delegates import Delegate

log = logging.getLogger(__name__)

ELECT_USAGE = N_(
    "Reply to the candidate's message with: /elect DAYS | MANDATE\n"
    "for example: /elect 90 | Negotiate the 100% wage rise; agree to nothing without the assembly\n"
    "Without DAYS and “|” the delegate serves until recalled."
)
ALTERNATE_USAGE = N_(
    "Reply to the message of the member who is to take over at half term with: /alternate N "
    "(the number of the delegate; /delegates lists them)."
)
RECALL_USAGE = N_(
    "Send /recall N (the number of the delegate; /delegates lists them), or /recall as a reply to the delegate's "
    "message."
)
REFUSALS = {
    "no-mandate": N_("An election needs a mandate: what the delegate is to say and do for the assembly."),
    "bad-term": N_("The term is a whole number of days, from 1 to {max}."),
    "mandate-too-long": N_("The mandate is too long: at most {max} characters."),
    "no-term": N_(
        "Delegate #{number} has no term, and only a delegate with a term has an alternate, who takes over at half term."
    ),
    "past-half-term": N_("Half of the term of delegate #{number} has passed; it is too late for an alternate."),
    "has-alternate": N_("Delegate #{number} already has an alternate."),
    "own-alternate": N_("A delegate cannot be their own alternate."),
    "admin-not-recallable": N_(
        "The author of that message is an admin of this group and so a delegate by default. That is the group's "
        "admin setting, not the assembly's to recall."
    ),
}
NO_SUCH_DELEGATE = N_("There is no elected delegate #{number} in this committee; /delegates lists them.")
NOT_A_DELEGATE = N_("The author of that message is not an elected delegate of this committee; /delegates lists them.")
ALREADY_DELEGATE = N_("The author of that message is already delegate #{number} of this committee.")
NOT_ACTIVE = N_("Decisions are for the assembly of an active committee.")
NO_REPLY = N_("Send this as a reply to a message of the member it is about.")


def refusal_text(_: Gettext, reason: str) -> str:
    """A refusal's message in the chat's language (`reason` is a key of REFUSALS)."""
    return _(REFUSALS[reason])


class Refused(Exception):
    """Why a command is refused: a message key and the values to fill in; nothing has been written."""

    def __init__(self, message: str, **values: object) -> None:
        super().__init__(message)
        self.message = message
        self.values = values

    def text(self, _: Gettext) -> str:
        return _(self.message).format(**self.values)


# -- who the command is about ---------------------------------------------------------------------


def command_arguments(update: Update) -> str:
    """Everything after the command, with its line breaks."""
    parts = (update.effective_message.text or "").split(maxsplit=1)
    return parts[1] if len(parts) > 1 else ""


def number_argument(update: Update) -> int | None:
    """The delegate's number: `/recall 2` or `/recall #2`; None if there is none or it is no number."""
    text = command_arguments(update).strip().removeprefix("#")
    try:
        return row_number(text)
    except ValueError:
        return None


async def committee_here(update: Update, context: AsambleaContext) -> Committee | None:
    """This group's committee if it is active (its assembly decides); None after answering why not."""
    async with context.store.db.read() as conn:
        committee = await context.store.committees.by_chat(conn, update.effective_chat.id)
    if committee is None or committee.status is not CommitteeStatus.ACTIVE:
        _ = await translator(update, context)
        await reply(update, _(NOT_ACTIVE))
        return None
    return committee


def replied_author(update: Update) -> tuple[Message, User]:
    """The message this command answers and its author, a person; Refused if there is none."""
    replied = update.effective_message.reply_to_message
    if replied is None:
        raise Refused(NO_REPLY)
    user = replied.from_user
    if user is None or user.is_bot or replied.sender_chat is not None:
        raise Refused(N_("Reply to a message a member wrote themselves, not one from a bot, a channel or the group."))
    return replied, user


async def standing(context: AsambleaContext, chat_id: int, user_id: int) -> str | None:
    """A person's status in a group (member, administrator, left, …); None if Telegram cannot say."""
    try:
        member = await context.bot.get_chat_member(chat_id, user_id)
    except TelegramError as exc:
        log.warning("member check failed: %s", type(exc).__name__)
        return None
    return member.status


async def candidate(update: Update, context: AsambleaContext, committee: Committee) -> tuple[Message, bytes]:
    """The member a reply names for an office, as a pseudonym; Refused if they left or already serve."""
    replied, user = replied_author(update)
    status = await standing(context, update.effective_chat.id, user.id)
    if status is None or status in GONE_STATUSES:
        raise Refused(N_("The author of that message is not in this group."))
    async with context.store.db.read() as conn:
        offices = await context.store.delegates.offices_of(conn, committee.id, user.id)
    if offices:
        raise Refused(ALREADY_DELEGATE, number=offices[0].number)
    return replied, context.store.delegates.pseudonym(user.id)


def zone_for(context: AsambleaContext, committee: Committee):
    return zone_of(context.config.federation, committee.region)


async def answer_asked(update: Update, context: AsambleaContext, asked: Decision | str) -> None:
    if isinstance(asked, str):
        _ = await translator(update, context)
        await reply(update, _(asked))


# -- /elect, /alternate, /recall ------------------------------------------------------------------


async def elect_command(update: Update, context: AsambleaContext) -> None:
    """/elect [DAYS] | MANDATE as a reply: put the author's election as a delegate to the assembly."""
    _ = await translator(update, context)
    committee = await committee_here(update, context)
    if committee is None:
        return
    try:
        days, mandate = parse_election(command_arguments(update))
        replied, holder = await candidate(update, context, committee)
    except DelegateRefused as refused:
        limit = TERM_DAYS_MAX if refused.reason == "bad-term" else MANDATE_MAX
        await reply(update, _(REFUSALS[refused.reason]).format(max=limit) + "\n\n" + _(ELECT_USAGE))
        return
    except Refused as refused:
        await reply(update, refused.text(_) + ("\n\n" + _(ELECT_USAGE) if refused.message == NO_REPLY else ""))
        return
    ngettext = ngettext_for(await chat_language(update, context))
    term = (
        ngettext(
            "Term: {days} day from when the assembly decides; an alternate can take over at half term.",
            "Term: {days} days from when the assembly decides; an alternate can take over at half term.",
            days,
        ).format(days=days)
        if days
        else _("No term: until the assembly recalls them.")
    )
    text = "\n".join(
        [
            _("Elect a delegate: the author of the message this answers."),
            _("Mandate: {mandate}").format(mandate=mandate),
            term,
        ]
    )
    asked = await decisions.ask_assembly(
        update,
        context,
        committee,
        kind=Kind.ELECT,
        text=text,
        payload={"holder": holder.hex(), "mandate": mandate, "days": days},
        subject=f"elect:{holder.hex()}",
        reply_to=replied,
    )
    await answer_asked(update, context, asked)


async def alternate_command(update: Update, context: AsambleaContext) -> None:
    """/alternate N as a reply: put the author as the alternate of delegate #N to the assembly."""
    _ = await translator(update, context)
    language = await chat_language(update, context)
    committee = await committee_here(update, context)
    if committee is None:
        return
    number = number_argument(update)
    if number is None or update.effective_message.reply_to_message is None:
        await reply(update, _(ALTERNATE_USAGE))
        return
    async with context.store.db.read() as conn:
        delegate = await context.store.delegates.by_number(conn, committee.id, number)
    try:
        if delegate is None:
            raise Refused(NO_SUCH_DELEGATE, number=number)
        _replied, user = replied_author(update)
        own = context.store.delegates.pseudonym(user.id) == delegate.holder
        check_alternate(delegate.term, context.now(), has_alternate=delegate.alternate is not None, own=own)
        replied, alternate = await candidate(update, context, committee)
    except DelegateRefused as refused:
        await reply(update, _(REFUSALS[refused.reason]).format(number=number))
        return
    except Refused as refused:
        await reply(update, refused.text(_))
        return
    text = "\n".join(
        [
            _(
                "Make the author of the message this answers the alternate of delegate #{number}, who takes over at "
                "half term, on {half}."
            ).format(number=number, half=when_text(delegate.term.half, language, zone_for(context, committee))),
            _("Mandate of delegate #{number}: {mandate}").format(number=number, mandate=delegate.mandate),
        ]
    )
    asked = await decisions.ask_assembly(
        update,
        context,
        committee,
        kind=Kind.ALTERNATE,
        text=text,
        payload={"delegate_id": delegate.id, "number": number, "alternate": alternate.hex()},
        subject=f"alternate:{delegate.id}",
        reply_to=replied,
    )
    await answer_asked(update, context, asked)


async def recall_command(update: Update, context: AsambleaContext) -> None:
    """/recall N, or /recall as a reply to the delegate's message: put the recall to the assembly.

    Only an elected delegate is the assembly's to recall: someone who is no delegate, or an admin
    (a delegate by default), is refused with the reason, and nothing is written."""
    _ = await translator(update, context)
    committee = await committee_here(update, context)
    if committee is None:
        return
    number = number_argument(update)
    if number is None and (command_arguments(update).strip() or update.effective_message.reply_to_message is None):
        await reply(update, _(RECALL_USAGE))
        return
    try:
        delegate, replied = await recalled_office(update, context, committee, number)
    except Refused as refused:
        await reply(update, refused.text(_))
        return
    language = await chat_language(update, context)
    lines = [_("Recall delegate #{number}.").format(number=delegate.number)]
    lines.append(_("Their mandate: {mandate}").format(mandate=delegate.mandate))
    if delegate.term is not None:
        lines.append(
            _("Their term ends on {end}.").format(
                end=when_text(delegate.term.ends_at, language, zone_for(context, committee))
            )
        )
    asked = await decisions.ask_assembly(
        update,
        context,
        committee,
        kind=Kind.RECALL,
        text="\n".join(lines),
        payload={"delegate_id": delegate.id, "number": delegate.number},
        subject=f"recall:{delegate.id}",
        reply_to=replied,
    )
    await answer_asked(update, context, asked)


async def recalled_office(
    update: Update, context: AsambleaContext, committee: Committee, number: int | None
) -> tuple[Delegate, Message | None]:
    """The elected office a /recall names (by number, or by replying to its holder's or alternate's
    message) and the message to answer; Refused if it names none, or an admin (domain check_recall)."""
    store = context.store
    replied: Message | None = None
    if number is not None:
        async with store.db.read() as conn:
            delegate = await store.delegates.by_number(conn, committee.id, number)
        source = Source.ELECTED if delegate else None
        missing = Refused(NO_SUCH_DELEGATE, number=number)
    else:
        replied, user = replied_author(update)
        async with store.db.read() as conn:
            offices = await store.delegates.offices_of(conn, committee.id, user.id)
        if len(offices) > 1:
            numbers = ", ".join(f"#{office.number}" for office in offices)
            raise Refused(N_("They serve more than one office ({numbers}); send /recall N."), numbers=numbers)
        delegate = offices[0] if offices else None
        if delegate is not None:
            source = Source.ELECTED
        elif await standing(context, update.effective_chat.id, user.id) in ADMIN_STATUSES:
            source = Source.ADMIN
        else:
            source = None
        missing = Refused(NOT_A_DELEGATE)
    try:
        check_recall(source)
    except DelegateRefused as refused:
        raise (missing if refused.reason == "not-a-delegate" else Refused(REFUSALS[refused.reason])) from None
    return delegate, replied


# -- what passed decisions do ---------------------------------------------------------------------


async def elect_passed(
    tx: aiosqlite.Connection, context: AsambleaContext, decision: Decision, committee: Committee, _: Gettext
) -> str:
    """A new office: its term starts now. Offices whose term is over end with this election."""
    store = context.store
    now = context.now()
    holder = bytes.fromhex(decision.payload["holder"])
    offices = [d for d in await store.delegates.of_committee(tx, committee.id) if holder in (d.holder, d.alternate)]
    if offices:  # elected meanwhile by another decision
        return _("They are already delegate #{number}, so nothing changed.").format(number=offices[0].number)
    replaced = await store.delegates.replace_ended(tx, committee.id, now=now)
    days = decision.payload.get("days")
    delegate = await store.delegates.elect(
        tx,
        committee_id=committee.id,
        holder=holder,
        mandate=decision.payload["mandate"],
        starts_at=now,
        ends_at=now + days * DAY_S if days else None,
        decision_id=decision.id,
    )
    await record_decided(tx, context, decision, committee, AuditKind.DELEGATE_ELECTED)
    plan(context.application, delegate)
    language = await language_of_chat(context, tx, committee.chat_id)
    line = _("Elected: delegate #{number}, with the mandate above.").format(number=delegate.number)
    if delegate.term is not None:
        line += " " + _("The term ends on {end}.").format(
            end=when_text(delegate.term.ends_at, language, zone_for(context, committee))
        )
    if replaced:
        line += "\n" + _("Their term over, these offices end with this election: {numbers}.").format(
            numbers=", ".join(f"#{number}" for number in replaced)
        )
    return line


async def alternate_passed(
    tx: aiosqlite.Connection, context: AsambleaContext, decision: Decision, committee: Committee, _: Gettext
) -> str:
    """The office gets its alternate, who serves from half term (at once if that has passed meanwhile)."""
    store = context.store
    number = decision.payload["number"]
    alternate = bytes.fromhex(decision.payload["alternate"])
    delegate = await store.delegates.get(tx, decision.payload["delegate_id"])
    if delegate is None or delegate.status != "serving" or delegate.term is None:
        return _("Delegate #{number} no longer serves, so nothing changed.").format(number=number)
    if alternate == delegate.holder:
        return refusal_text(_, "own-alternate")
    if not await store.delegates.set_alternate(tx, delegate.id, alternate):
        return refusal_text(_, "has-alternate").format(number=number)
    await record_decided(tx, context, decision, committee, AuditKind.ALTERNATE_ELECTED)
    plan(context.application, await store.delegates.get(tx, delegate.id))
    language = await language_of_chat(context, tx, committee.chat_id)
    return _("Delegate #{number} has an alternate now, who serves from {half}.").format(
        number=number, half=when_text(delegate.term.half, language, zone_for(context, committee))
    )


async def recall_passed(
    tx: aiosqlite.Connection, context: AsambleaContext, decision: Decision, committee: Committee, _: Gettext
) -> str:
    """The office ends, holder and alternate alike; its notices are not posted."""
    number = decision.payload["number"]
    if not await context.store.delegates.recall(tx, decision.payload["delegate_id"], now=context.now()):
        return _("Delegate #{number} no longer served, so nothing changed.").format(number=number)
    await record_decided(tx, context, decision, committee, AuditKind.DELEGATE_RECALLED)
    unplan(context.application, decision.payload["delegate_id"])
    return _("Delegate #{number} is recalled.").format(number=number)


# -- the notices of a term ------------------------------------------------------------------------


def job_name(delegate_id: int, notice: Notice) -> str:
    return f"delegate:{delegate_id}:{notice.value}"


def unplan(application: Application, delegate_id: int) -> None:
    for notice in Notice:
        for job in application.job_queue.get_jobs_by_name(job_name(delegate_id, notice)):
            job.schedule_removal()


def plan(application: Application, delegate: Delegate | None) -> None:
    """(Re)create the alarms of an office's notices not posted yet (none without a term)."""
    if delegate is None:
        return
    unplan(application, delegate.id)
    if delegate.term is None or delegate.status != "serving":
        return
    warn_s = round(application.bot_data["config"].delegate_reminder_hours * 3600)
    due = term_notices(delegate.term, has_alternate=delegate.alternate is not None, warn_s=warn_s)
    for notice, moment in due.items():
        if notice in delegate.posted:
            continue
        run_at(
            application,
            post_notice,
            moment,
            name=job_name(delegate.id, notice),
            data={"delegate_id": delegate.id, "notice": notice.value},
        )


async def restore(application: Application) -> None:
    """At start: alarms for every notice still to post (those whose moment passed go at once)."""
    store = application.bot_data["store"]
    async with store.db.read() as conn:
        for delegate in await store.delegates.with_terms(conn):
            plan(application, delegate)


async def post_notice(context: AsambleaContext) -> None:
    """Queue a term's notice to the committee, once (marked in the same transaction)."""
    store = context.store
    notice = Notice(context.job.data["notice"])
    now = context.now()
    async with store.db.transaction() as tx:
        delegate = await store.delegates.get(tx, context.job.data["delegate_id"])
        if delegate is None or delegate.status != "serving" or delegate.term is None:
            return
        if notice is Notice.ROTATION and delegate.alternate is None:
            return
        if not await store.delegates.mark_posted(tx, delegate.id, notice, now=now):
            return  # an earlier alarm posted it
        if notice is Notice.REMINDER and delegate.term.is_over(now):
            return  # the bot was down past the end: the end's notice says it all
        committee = await store.committees.get(tx, delegate.committee_id)
        if notice is Notice.ROTATION:  # by the term the assembly set: no one acts, so no one is counted
            await store.audit.record(
                tx,
                kind=AuditKind.DELEGATE_ROTATED,
                role=AuditRole.ASSEMBLY,
                region=committee.region,
                committee_id=committee.id,
                at=now,
            )
        language = await language_of_chat(context, tx, committee.chat_id)
        text = notice_text(gettext_for(language), notice, delegate, language, zone_for(context, committee))
        await store.outbox.enqueue(tx, purpose="delegate", text=text, committee_id=committee.id, now=now)
    log.info("a delegate's %s notice queued", notice.value)
    context.outbox.wake()


def notice_text(_: Gettext, notice: Notice, delegate: Delegate, language: str, zone) -> str:
    term = delegate.term
    end = when_text(term.ends_at, language, zone)
    if notice is Notice.ROTATION:
        text = _(
            "🔁 Half of the term of delegate #{number} has passed: the alternate of delegate #{number} now serves, "
            "until {end}."
        )
        return (
            text.format(number=delegate.number, end=end)
            + "\n"
            + _("Mandate: {mandate}").format(mandate=delegate.mandate)
        )
    if notice is Notice.REMINDER:
        return _(
            "⏳ The term of delegate #{number} ends on {end}. The assembly can elect anew: reply to the candidate's "
            "message with /elect DAYS | MANDATE."
        ).format(number=delegate.number, end=end)
    return _(
        "⌛ The term of delegate #{number} has ended. Whoever served last stays a delegate until the assembly "
        "elects anew with /elect."
    ).format(number=delegate.number)


# -- /delegates ----------------------------------------------------------------------------------


async def delegates_command(update: Update, context: AsambleaContext) -> None:
    """/delegates: in a committee its delegates as roles and mandates; in a council, its area's elected ones."""
    _ = await translator(update, context)
    chat = update.effective_chat
    store = context.store
    async with store.db.read() as conn:
        committee = await store.committees.by_chat(conn, chat.id)
        council = None if committee else await store.councils.by_chat(conn, chat.id)
    if committee is not None:
        await reply(update, await committee_delegates(update, context, committee))
    elif council is not None:
        await reply(update, await council_delegates(update, context, council.region))
    else:
        await reply(update, _("/delegates works in a committee's or a council's chat."))


async def committee_delegates(update: Update, context: AsambleaContext, committee: Committee) -> str:
    _ = await translator(update, context)
    language = await chat_language(update, context)
    ngettext = ngettext_for(language)
    zone = zone_for(context, committee)
    now = context.now()
    try:
        admins = [m for m in await context.bot.get_chat_administrators(committee.chat_id) if not m.user.is_bot]
    except TelegramError:
        admins = None
    async with context.store.db.read() as conn:
        offices = await context.store.delegates.of_committee(conn, committee.id)
    lines = [_("👥 Delegates of this committee")]
    if admins is None:
        lines.append(_("The group's admins are its delegates by default."))
    else:
        lines.append(
            ngettext(
                "Group admins: {count}, delegates by default.",
                "Group admins: {count}, delegates by default.",
                len(admins),
            ).format(count=len(admins))
        )
    for office in offices:
        lines += [
            "",
            office_line(_, office, language, zone, now),
            _("Mandate: {mandate}").format(mandate=office.mandate),
        ]
    if not offices:
        lines += [
            "",
            _("No elected delegates yet. To put an election to the assembly, reply to the member's message with:"),
        ]
        lines.append("/elect DAYS | MANDATE")
    return "\n".join(lines)


def office_line(_: Gettext, office: Delegate, language: str, zone, now: int) -> str:
    """#N, who serves (holder or alternate: roles, never names), the term."""
    term = office.term
    if term is None:
        return _("#{number}: elected on {start}, serves until recalled.").format(
            number=office.number, start=when_text(office.starts_at, language, zone)
        )
    dates = {
        "number": office.number,
        "start": when_text(term.starts_at, language, zone),
        "end": when_text(term.ends_at, language, zone),
        "half": when_text(term.half, language, zone),
    }
    if office.alternate is None:
        line = _("#{number}: term {start} – {end}; the holder serves, no alternate.")
    elif office.alternate_serves(now):
        line = _("#{number}: term {start} – {end}; the alternate serves since {half}.")
    else:
        line = _("#{number}: term {start} – {end}; the holder serves, the alternate from {half}.")
    line = line.format(**dates)
    if term.is_over(now):
        line += " " + _("The term is over: they serve until the assembly elects anew.")
    return line


async def council_delegates(update: Update, context: AsambleaContext, region: str) -> str:
    _ = await translator(update, context)
    language = await chat_language(update, context)
    federation = context.config.federation
    area = [r for r in federation.regions if federation.is_within(r, region)]
    async with context.store.db.read() as conn:
        committees = {c.id: c for c, _language in await context.store.committees.active_in(conn, area)}
        offices = await context.store.delegates.of_committees(conn, committees)
    seat = federation.councils.get(region)
    name = seat.display_name(language) if seat else federation.regions[region].display_name(language)
    if not offices:
        return _("No committee in the area of {council} has elected delegates yet.").format(council=name)
    lines = [_("Elected delegates of the committees in the area of {council}:").format(council=name)]
    for office in offices:
        lines.append(
            _("• {committee}, #{number}: {mandate}").format(
                committee=committees[office.committee_id].name, number=office.number, mandate=office.mandate
            )
        )
    return "\n".join(lines)


def register(application: Application) -> None:
    groups = filters.UpdateType.MESSAGE & filters.ChatType.GROUPS
    council_chats = groups | filters.UpdateType.CHANNEL_POST  # a council's chat may be a channel
    application.add_handler(CommandHandler("elect", elect_command, groups))
    application.add_handler(CommandHandler("alternate", alternate_command, groups))
    application.add_handler(CommandHandler("recall", recall_command, groups))
    application.add_handler(CommandHandler("delegates", delegates_command, council_chats))
    decisions.on_pass(Kind.ELECT, elect_passed)
    decisions.on_pass(Kind.ALTERNATE, alternate_passed)
    decisions.on_pass(Kind.RECALL, recall_passed)
