"""The digest coordinators read: what changed since the last one, as text plus the spread chart.

A digest is gathered from the database in one read (`gather`), worded in the council's language
(`render`), cut into Telegram messages at line ends (`domain.messages.message_parts`), and written to the outbox in
one transaction with the row that records it (`send`), so a digest is either sent whole or not
at all, and a scheduled slot has at most one digest per council. The chart is drawn outside any
transaction, in a worker thread: matplotlib takes a few hundred milliseconds of CPU, which the
event loop should spend on updates.

A regional council reads the movement's spread across the whole federation (who is joining next
door matters to it), and calls, demands, committees and delivery problems of its own area.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from datetime import UTC, datetime
from zoneinfo import ZoneInfo

import aiosqlite
from babel import Locale, UnknownLocaleError
from babel.dates import format_skeleton, format_time

from bot.call_messages import KIND_NAMES, zone_of
from bot.chart import render_spread_chart
from bot.config import Config
from bot.i18n import Gettext, gettext_for, ngettext_for
from domain.calls import CallKind
from domain.messages import message_parts
from domain.spread import (
    SpreadChange,
    StatusReport,
    StrikeStatus,
    changes_between,
    first_joins,
    series,
    snapshot,
    statuses_at,
    time_to_join,
)
from storage import Store
from storage.councils import Council
from storage.digests import CallSummary, DemandSummary

CAPTION_LIMIT = 1024  # ... and for a photo's caption
DEMAND_CHARS = 160
TOP_DEMANDS = 5
CHART_POINTS = 96


@dataclass(frozen=True)
class DigestFacts:
    """Everything a digest says, read in one go; plain data, so rendering is tested without a database."""

    council_region: str
    since: int
    until: int
    late_slot: int | None
    reports: list[StatusReport]
    change: SpreadChange
    first_call_at: int | None
    calls_count: int
    calls: list[CallSummary]
    demands: list[DemandSummary]
    new_demands: int
    approved: tuple[int, list[tuple[str, str]]]
    waiting: tuple[int, list[tuple[str, str]]]
    unreachable: tuple[int, list[tuple[str, str]]]
    failed: int


def area_of(config: Config, council_region: str) -> list[str] | None:
    """The committee regions a council speaks for; None for the coordinating council (all)."""
    federation = config.federation
    if council_region == federation.root.id:
        return None
    return [r.id for r in federation.committee_regions() if federation.is_within(r.id, council_region)]


async def gather(
    conn: aiosqlite.Connection,
    store: Store,
    config: Config,
    council_region: str,
    *,
    since: int,
    until: int,
    late_slot: int | None = None,
) -> DigestFacts:
    area = area_of(config, council_region)
    digests = store.digests
    reports = await store.spread.reports(conn)
    calls_count, calls = await digests.calls_since(conn, area, since)
    return DigestFacts(
        council_region=council_region,
        since=since,
        until=until,
        late_slot=late_slot,
        reports=reports,
        change=changes_between(reports, since, until),
        first_call_at=await store.spread.first_call_at(conn),
        calls_count=calls_count,
        calls=calls,
        demands=await digests.top_demands(conn, area, limit=TOP_DEMANDS),
        new_demands=await digests.demands_since(conn, area, since),
        approved=await digests.approved_since(conn, area, since),
        waiting=await digests.waiting(conn, area),
        unreachable=await digests.unreachable(conn, area),
        failed=await digests.failed_deliveries(conn, area, since),
    )


# -- words ----------------------------------------------------------------------------------------


def short_when(moment: int, language: str, zone: ZoneInfo) -> str:
    """ "4 Jan, 09:10": a digest lists many moments, so without year, weekday or offset."""
    try:
        locale = Locale.parse(language)
    except (ValueError, UnknownLocaleError):
        locale = Locale.parse("en")
    local = datetime.fromtimestamp(moment, UTC).astimezone(zone)
    day = format_skeleton("MMMd", local, tzinfo=zone, locale=locale)
    return f"{day}, {format_time(local, 'HH:mm', tzinfo=zone, locale=locale)}"


def duration(_: Gettext, seconds: int) -> str:
    """ "1 d 23 h", "5 h 10 min": how long a region took to join after the first call."""
    minutes = max(0, seconds) // 60
    days, rest = divmod(minutes, 24 * 60)
    hours, minutes = divmod(rest, 60)
    if days:
        return _("{days} d {hours} h").format(days=days, hours=hours)
    if hours:
        return _("{hours} h {minutes} min").format(hours=hours, minutes=minutes)
    return _("{minutes} min").format(minutes=minutes)


def render(facts: DigestFacts, config: Config, language: str, *, council_name: str) -> list[str]:
    """The digest as Telegram messages (each within the limit), in the council's language."""
    _ = gettext_for(language)
    zone = zone_of(config.federation, facts.council_region)
    sections = [
        _header(facts, language, zone, council_name),
        _spread(facts, config, language, zone),
        _calls(facts, config, language, zone),
        _demands(facts, language),
        _committees(facts, config, language),
        _delivery(facts, config, language),
    ]
    lines: list[str] = []
    for section in sections:
        if section:
            if lines:
                lines.append("")
            lines += section
    return message_parts("\n".join(lines))


def _header(facts: DigestFacts, language: str, zone: ZoneInfo, council_name: str) -> list[str]:
    _ = gettext_for(language)
    lines = [
        _("📰 Digest for {council}, {when}").format(council=council_name, when=short_when(facts.until, language, zone)),
        _("Changes since {since}.").format(since=short_when(facts.since, language, zone)),
    ]
    if facts.late_slot is not None:
        lines.append(
            _("⏰ Late: this digest was due at {due}; the bot could not send it then.").format(
                due=short_when(facts.late_slot, language, zone)
            )
        )
    return lines


def _region(config: Config, region: str, language: str) -> str:
    found = config.federation.regions.get(region)
    return found.display_name(language) if found else region


def _spread(facts: DigestFacts, config: Config, language: str, zone: ZoneInfo) -> list[str]:
    _ = gettext_for(language)
    ngettext = ngettext_for(language)
    now = snapshot(facts.reports, facts.until)
    change = facts.change
    lines = [_("✊ The strike")]
    if not now.committees_on_strike:
        lines.append(_("No committee is on strike."))
    else:
        committees = ngettext("{n} committee", "{n} committees", now.committees_on_strike).format(
            n=now.committees_on_strike
        )
        regions = ngettext("{n} region", "{n} regions", len(now.regions_on_strike)).format(n=len(now.regions_on_strike))
        lines.append(_("On strike: {committees} in {regions}.").format(committees=committees, regions=regions))
    if change.committees_joined or change.committees_back or change.committees_suppressed:
        lines.append(
            _("Since the last digest: {joined} joined, {back} back at work, {suppressed} suppressed.").format(
                joined=change.committees_joined, back=change.committees_back, suppressed=change.committees_suppressed
            )
        )
    if change.regions_joined:
        lines.append(_("Regions newly on strike:"))
        delays = time_to_join(facts.first_call_at, first_joins(facts.reports)) if facts.first_call_at else {}
        for region, joined_at in change.regions_joined:
            line = _("• {region}, since {since}").format(
                region=_region(config, region, language), since=short_when(joined_at, language, zone)
            )
            if region in delays and delays[region] > 0:
                line += " " + _("({delay} after the first call)").format(delay=duration(_, delays[region]))
            lines.append(line)
    if change.regions_left:
        lines.append(_("Regions no longer on strike:"))
        lines += [
            _("• {region}, since {since}").format(
                region=_region(config, region, language), since=short_when(left_at, language, zone)
            )
            for region, left_at in change.regions_left
        ]
    if now.on_strike:
        counts = " · ".join(
            f"{_region(config, region, language)} {now.on_strike[region]}" for region in now.regions_on_strike
        )
        lines.append(_("By region: {counts}").format(counts=counts))
    if now.suppressed:
        counts = " · ".join(f"{_region(config, r, language)} {n}" for r, n in sorted(now.suppressed.items()))
        lines.append(_("⛓ Suppressed: {counts}").format(counts=counts))
    return lines


def _calls(facts: DigestFacts, config: Config, language: str, zone: ZoneInfo) -> list[str]:
    _ = gettext_for(language)
    if not facts.calls_count:
        return []
    lines = [_("📢 Calls ({count})").format(count=facts.calls_count)]
    for call in facts.calls:
        kind = _(KIND_NAMES[CallKind(call.kind)])
        line = _("• #{id} {kind} from {region}, {when}: {join} join, {decline} can't, {undecided} undecided").format(
            id=call.id,
            kind=kind,
            region=_region(config, call.issuer_region, language),
            when=short_when(call.starts_at, language, zone),
            join=call.joining,
            decline=call.declining,
            undecided=call.undecided,
        )
        if call.headcount:
            line += _(", {people} people").format(people=call.headcount)
        silent = call.reached - call.joining - call.declining - call.undecided
        if silent:
            line += _(", {silent} not answered").format(silent=silent)
        if call.status == "cancelled":
            line += " " + _("(cancelled)")
        lines.append(line)
    if facts.calls_count > len(facts.calls):
        lines.append(_("… and {more} more.").format(more=facts.calls_count - len(facts.calls)))
    return lines


def _demands(facts: DigestFacts, language: str) -> list[str]:
    _ = gettext_for(language)
    ngettext = ngettext_for(language)
    if not facts.demands and not facts.new_demands:
        return []
    lines = [_("📋 Demands with the most support")]
    for demand in facts.demands:
        text = demand.text if len(demand.text) <= DEMAND_CHARS else demand.text[: DEMAND_CHARS - 1] + "…"
        committees = ngettext("{n} committee", "{n} committees", demand.committees).format(n=demand.committees)
        regions = ngettext("{n} region", "{n} regions", demand.regions).format(n=demand.regions)
        lines.append(f"• #{demand.id} {text} — {committees}, {regions}")
    if facts.new_demands:
        lines.append(_("New demands since the last digest: {count}").format(count=facts.new_demands))
    return lines


def _names(config: Config, language: str, listed: list[tuple[str, str]], total: int) -> str:
    _ = gettext_for(language)
    names = ", ".join(f"{name} ({_region(config, region, language)})" for name, region in listed)
    if total > len(listed):
        names += " " + _("and {more} more").format(more=total - len(listed))
    return names


def _committees(facts: DigestFacts, config: Config, language: str) -> list[str]:
    _ = gettext_for(language)
    approved_count, approved = facts.approved
    waiting_count, waiting = facts.waiting
    if not approved_count and not waiting_count:
        return []
    lines = [_("🏘 Committees")]
    if approved_count:
        lines.append(
            _("New: {count}: {names}").format(
                count=approved_count, names=_names(config, language, approved, approved_count)
            )
        )
    if waiting_count:
        lines.append(
            _("Waiting for approval: {count}: {names}").format(
                count=waiting_count, names=_names(config, language, waiting, waiting_count)
            )
        )
    return lines


def _delivery(facts: DigestFacts, config: Config, language: str) -> list[str]:
    _ = gettext_for(language)
    unreachable_count, unreachable = facts.unreachable
    if not facts.failed and not unreachable_count:
        return []
    lines = [_("📮 Delivery problems")]
    if facts.failed:
        lines.append(_("Messages that could not be delivered: {count}").format(count=facts.failed))
    if unreachable_count:
        lines.append(
            _("Committees the bot cannot reach: {count}: {names}").format(
                count=unreachable_count, names=_names(config, language, unreachable, unreachable_count)
            )
        )
    return lines


# -- the chart ------------------------------------------------------------------------------------


def chart_caption(reports: list[StatusReport], language: str, *, until: int) -> str:
    _ = gettext_for(language)
    ngettext = ngettext_for(language)
    now = snapshot(reports, until)
    committees = ngettext("{n} committee", "{n} committees", now.committees_on_strike).format(
        n=now.committees_on_strike
    )
    regions = ngettext("{n} region", "{n} regions", len(now.regions_on_strike)).format(n=len(now.regions_on_strike))
    return _("The spread: {committees} on strike in {regions}.").format(committees=committees, regions=regions)


async def draw_chart(reports: list[StatusReport], config: Config, language: str, *, until: int) -> bytes:
    """The spread chart from the first report to `until`, drawn in a worker thread."""
    federation = config.federation
    start = min((r.since for r in reports if r.since <= until), default=until - 24 * 3600)
    start = min(start, until - 3600)
    spread = series(reports, start, until, points=CHART_POINTS)
    states = region_states(reports, until)
    _ = gettext_for(language)
    return await asyncio.to_thread(
        render_spread_chart,
        times=spread.times,
        counts=spread.counts,
        region_states=states,
        federation=federation,
        language=language,
        timezone=federation.root.timezone,
        title=_("Committees on strike, {federation}").format(
            federation=federation.regions[federation.root.id].display_name(language)
        ),
    )


# A region shows its most pressing status: any committee on strike, else any suppressed, else back.
_PRIORITY = {StrikeStatus.ON_STRIKE: 3, StrikeStatus.SUPPRESSED: 2, StrikeStatus.BACK_AT_WORK: 1}


def region_states(reports: list[StatusReport], moment: int) -> dict[str, str]:
    region_of = {r.committee_id: r.region for r in reports}
    best: dict[str, StrikeStatus] = {}
    for committee_id, status in statuses_at(reports, moment).items():
        region = region_of[committee_id]
        if region not in best or _PRIORITY[status] > _PRIORITY[best[region]]:
            best[region] = status
    return {region: status.value for region, status in best.items()}


# -- sending --------------------------------------------------------------------------------------


async def send(
    store: Store,
    config: Config,
    council: Council,
    *,
    now: int,
    slot: int | None = None,
    late: bool = False,
    covers_from: int | None = None,
    charts: dict[str, bytes] | None = None,
) -> bool:
    """Gather, word and draw a council's digest, then record it and queue it in one transaction.
    False if this slot's digest was already made (a second run of the same alarm). `charts` keeps
    the chart drawn for each language, so the councils of one slot share one drawing."""
    async with store.db.read() as conn:
        language = await store.chat_settings.language(conn, council.chat_id) or config.default_language
        if covers_from is None:
            last = await store.digests.last(conn, council.id)
            covers_from = last.built_at if last else _linked_at(await store.councils.all(conn), council.id)
        facts = await gather(
            conn, store, config, council.region, since=covers_from, until=now, late_slot=slot if late else None
        )
    seat = config.federation.councils.get(council.region)
    name = seat.display_name(language) if seat else council.region
    texts = render(facts, config, language, council_name=name)
    chart = charts.get(language) if charts is not None else None
    if chart is None:
        chart = await draw_chart(facts.reports, config, language, until=now)
        if charts is not None:
            charts[language] = chart
    async with store.db.transaction() as tx:
        if not await store.digests.record(tx, council.id, slot=slot, covers_from=covers_from, built_at=now, late=late):
            return False
        # A short digest rides on the chart as its caption: one message where the council chat's
        # budget (20 a minute) would otherwise pay two.
        if len(texts) == 1 and len(texts[0]) <= CAPTION_LIMIT:
            caption, texts = texts[0], []
        else:
            caption = chart_caption(facts.reports, language, until=now)
        await store.outbox.enqueue(tx, purpose="digest", council_id=council.id, text=caption, photo=chart, now=now)
        for text in texts:
            await store.outbox.enqueue(tx, purpose="digest", council_id=council.id, text=text, now=now)
    return True


def _linked_at(councils: list[tuple[Council, int]], council_id: int) -> int:
    return next(linked_at for council, linked_at in councils if council.id == council_id)
