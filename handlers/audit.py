"""The audit log for councils: `/audit [DAYS]` in a council's chat, by its delegates.

    /audit        the privileged actions of the last 7 days in the council's area
    /audit 30     of the last 30 days (at most the retention period: nothing older is kept)

A council's delegates see how its area's offices were used (approvals, calls, elections and
recalls, merges and verdicts on demands, wipes, the operator's codes) as counts per kind, per role
and per committee or council, with how many different people acted: enough to notice an abused
office, never who holds it. The coordinating council sees the whole federation, a regional council
its own region. What is recorded, and where: storage/audit.py and docs/security.md.

`acting_person` is what the other handlers pass to `store.audit.record` as `by`.
"""

from __future__ import annotations

import aiosqlite
from telegram import Update
from telegram.ext import Application, CommandHandler, filters

from bot.call_messages import KIND_NAMES as CALL_KIND_NAMES
from bot.context import AsambleaContext
from bot.i18n import N_, gettext_for, ngettext_for
from domain.audit import PUT_TO_ASSEMBLY, AuditRefused, Kind, PlaceCount, Role, Summary, parse_days, since
from domain.calls import CallKind
from domain.committees import Committee
from domain.federation import Federation
from handlers.common import ANONYMOUS_ADMIN_ID, chat_language, reply, update_is_from_admin
from storage.calls import Call
from storage.councils import Council
from storage.decisions import Decision

NOT_A_COUNCIL = N_(
    "/audit works in a council's chat: this chat is not linked as a council. "
    "The operator gives each council a one-time code for /council."
)
NOT_DELEGATE = N_("Only the council's delegates (the admins of this chat) can read the audit log.")
BAD_DAYS = N_("Write the number of days to look back, from 1 to {max}, for example: /audit 30")
PLACES_MAX = 10
# A call's kind is the one code word kept as a detail (with the calls issued, changed, cancelled).
CALL_KINDS = frozenset(kind.value for kind in CallKind)

KIND_LABELS = {
    Kind.COMMITTEE_APPROVED: N_("committees approved"),
    Kind.COMMITTEE_REJECTED: N_("committees rejected"),
    Kind.COMMITTEE_WIPED: N_("committees wiped by their delegates"),
    Kind.COUNCIL_CODE: N_("council link codes made by the operator"),
    Kind.COUNCIL_LINKED: N_("council chats linked"),
    Kind.CALL_ISSUED: N_("calls issued"),
    Kind.CALL_CHANGED: N_("calls changed"),
    Kind.CALL_CANCELLED: N_("calls cancelled"),
    Kind.DELEGATE_ELECTED: N_("delegates elected"),
    Kind.ALTERNATE_ELECTED: N_("alternates elected"),
    Kind.DELEGATE_RECALLED: N_("delegates recalled"),
    Kind.DELEGATE_ROTATED: N_("alternates who took over at half term"),
    Kind.DEMAND_MERGED: N_("demands merged"),
    Kind.DEMAND_ADOPTED: N_("demands adopted"),
    Kind.DEMAND_REJECTED: N_("demands rejected by a council"),
    Kind.DEMAND_WON: N_("programme demands marked won"),
    Kind.DEMAND_CONCEDED: N_("programme demands marked conceded in part"),
    Kind.DEMAND_LOST: N_("programme demands marked rejected"),
    Kind.APPEAL_SENT: N_("solidarity appeals sent"),
    Kind.APPEAL_DISMISSED: N_("solidarity appeals set aside"),
}
ROLE_LABELS = {
    Role.COMMITTEE_DELEGATE: N_("committee delegates"),
    Role.COUNCIL_DELEGATE: N_("council delegates"),
    Role.ASSEMBLY: N_("committee assemblies"),
    Role.OPERATOR: N_("the operator"),
}


def acting_person(update: Update) -> int | None:
    """The Telegram id of whoever is behind an update, for the audit log (which keeps only its
    pseudonym); None when no one in particular acts: a channel's post, or an anonymous admin writing
    as the group, whose shared stand-in account would count every anonymous admin as one person."""
    user = update.effective_user  # a channel's post has none; an anonymous admin, Telegram's stand-in
    if user is None or user.id == ANONYMOUS_ADMIN_ID:
        return None
    return user.id


async def record_call(
    tx: aiosqlite.Connection, context: AsambleaContext, update: Update, call: Call, kind: Kind
) -> None:
    """A call issued, changed or cancelled, in the transaction that does it: by a delegate of the
    committee or council that issued it, with the call's kind as the one detail kept."""
    await context.store.audit.record(
        tx,
        kind=kind,
        role=Role.COUNCIL_DELEGATE if call.issued_by_council else Role.COMMITTEE_DELEGATE,
        region=call.issuer_region,
        committee_id=call.issuer_committee_id,
        council_id=call.issuer_council_id,
        by=acting_person(update),
        detail=call.kind,
        at=context.now(),
    )


async def record_council(
    tx: aiosqlite.Connection, context: AsambleaContext, council: Council, kind: Kind, *, by: int | None
) -> None:
    """A council's delegate decided for the council (a demand's verdict, merge or mark; an appeal), in
    the transaction that carries it out. `by`: `acting_person` of the update."""
    await context.store.audit.record(
        tx,
        kind=kind,
        role=Role.COUNCIL_DELEGATE,
        region=council.region,
        council_id=council.id,
        by=by,
        at=context.now(),
    )


async def record_decided(
    tx: aiosqlite.Connection, context: AsambleaContext, decision: Decision, committee: Committee, kind: Kind
) -> None:
    """What a committee's assembly decided about its delegates, in the transaction that carries it out:
    the person counted is whoever put the question to the assembly (the decision's opener)."""
    await context.store.audit.record(
        tx,
        kind=kind,
        role=Role.ASSEMBLY,
        region=committee.region,
        committee_id=committee.id,
        by_decision=decision.id,
        at=context.now(),
    )


def place_name(federation: Federation, place: PlaceCount, committees: dict[int, str], language: str) -> str:
    """A committee by its name (a wiped one has none), or a council's seat by its name."""
    _ = gettext_for(language)
    if place.committee_id is not None:
        name = committees.get(place.committee_id)
        if name is None:
            return _("a committee no longer registered")
        return name or _("a wiped committee")
    region = place.region or ""
    seat = federation.councils.get(region)
    if seat is not None:
        return seat.display_name(language)
    known = federation.regions.get(region)
    return known.display_name(language) if known else _("a council no longer linked")


def people(language: str, count: int, kind: Kind | None = None) -> str:
    """How many different people acted, as counts never name them."""
    ngettext = ngettext_for(language)
    if kind in PUT_TO_ASSEMBLY:
        return ngettext(
            "put to the assembly by {count} person", "put to the assembly by {count} different people", count
        ).format(count=count)
    return ngettext("by {count} person", "by {count} different people", count).format(count=count)


def render(
    summary: Summary,
    *,
    federation: Federation,
    council_name: str,
    committees: dict[int, str],
    days: int,
    language: str,
) -> str:
    """The council's view: counts per kind, role and place; who acted only as a number of people."""
    _ = gettext_for(language)
    ngettext = ngettext_for(language)
    period = ngettext("the last {count} day", "the last {count} days", days).format(count=days)
    if summary.total == 0:
        return _("📋 No privileged action in the area of {council} in {period}.").format(
            council=council_name, period=period
        )
    lines = [
        _("📋 Audit log of the area of {council}, {period}").format(council=council_name, period=period),
        ngettext("{count} privileged action", "{count} privileged actions", summary.total).format(count=summary.total)
        + (", " + people(language, summary.actors) if summary.actors else "")
        + ". "
        + _("Counts only: the log never shows who acted."),
        "",
        _("By kind:"),
    ]
    for counted in summary.kinds:
        line = f"• {_(KIND_LABELS[counted.kind])}: {counted.count}"
        if counted.actors:
            line += ", " + people(language, counted.actors, counted.kind)
        shown = [
            f"{_(CALL_KIND_NAMES[CallKind(detail)])} {count}"
            for detail, count in counted.details
            if detail in CALL_KINDS
        ]
        if shown:
            line += " (" + ", ".join(shown) + ")"
        lines.append(line)
    lines += ["", _("By role:")]
    for role, count, actors in summary.roles:
        line = f"• {_(ROLE_LABELS[role])}: {count}"
        if actors:
            line += ", " + people(language, actors)
        lines.append(line)
    lines += ["", _("Where:")]
    for place in summary.places[:PLACES_MAX]:
        lines.append(f"• {place_name(federation, place, committees, language)}: {place.count}")
    if len(summary.places) > PLACES_MAX:
        lines.append(_("…and {count} more.").format(count=len(summary.places) - PLACES_MAX))
    return "\n".join(lines)


async def audit_command(update: Update, context: AsambleaContext) -> None:
    """/audit [DAYS]: the council's delegates read the log of their area, as counts."""
    language = await chat_language(update, context)
    _ = gettext_for(language)
    store = context.store
    federation = context.config.federation
    async with store.db.read() as conn:
        council = await store.councils.by_chat(conn, update.effective_chat.id)
    if council is None:
        await reply(update, _(NOT_A_COUNCIL))
        return
    if not await update_is_from_admin(update, context):
        await reply(update, _(NOT_DELEGATE))
        return
    maximum = context.config.retention_days
    try:
        days = parse_days(" ".join(context.args or []), maximum)
    except AuditRefused:
        await reply(update, _(BAD_DAYS).format(max=maximum))
        return
    area = [region for region in federation.regions if federation.is_within(region, council.region)]
    now = context.now()
    async with store.db.read() as conn:
        summary = await store.audit.summary(conn, regions=area, since=since(now, days), until=now)
        committees = {}
        for place in summary.places[:PLACES_MAX]:
            if place.committee_id is not None:
                committee = await store.committees.get(conn, place.committee_id)
                if committee is not None:
                    committees[committee.id] = committee.name
    seat = federation.councils.get(council.region)
    council_name = seat.display_name(language) if seat else federation.regions[council.region].display_name(language)
    await reply(
        update,
        render(
            summary,
            federation=federation,
            council_name=council_name,
            committees=committees,
            days=days,
            language=language,
        ),
    )


def register(application: Application) -> None:
    council_chats = (filters.UpdateType.MESSAGE & filters.ChatType.GROUPS) | filters.UpdateType.CHANNEL_POST
    application.add_handler(CommandHandler("audit", audit_command, council_chats))
