"""A committee's strike status, and the solidarity appeal a region's first striking committee sets off.

Both ways a status changes (a delegate's `/status`, a join of a strike call) go through
`record_status`, inside the transaction of the change, so the report, the appeal and its
messages in the outbox are written together or not at all. When the report makes its region go
from no committee on strike to one (domain `region_joins_with`), the neighbouring regions not on
strike themselves (domain `solidarity_targets`) are appealed to, as the federation's config
says: not at all, suggested to the council responsible for the region (one tap sends it), or at
once. An appeal is made once per region and moment of joining (a unique row), so a report that
is replayed or corrected does not appeal twice.
"""

from __future__ import annotations

import aiosqlite

from bot.call_messages import recipient_language, when_text, zone_of
from bot.config import Config
from bot.i18n import gettext_for, ngettext_for
from domain.spread import StatusReport, StrikeStatus, region_joins_with, solidarity_targets, statuses_at
from storage import Store
from storage.spread import Appeal

APPEAL_PREFIX = "v1:sa:"  # v1:sa:<appeal>:s|d
SEND, DISMISS = "s", "d"


async def record_status(
    tx: aiosqlite.Connection,
    store: Store,
    config: Config,
    committee_id: int,
    region: str,
    status: StrikeStatus,
    *,
    since: int,
    by: int,
    now: int,
    call_id: int | None = None,
) -> Appeal | None:
    """Write a status report; if it brings its region out on strike, make the solidarity appeal.
    Returns the appeal made, if any."""
    reports = await store.spread.reports(tx, [region, *config.federation.regions[region].neighbours])
    order = await store.spread.report(tx, committee_id, status, since=since, by=by, now=now, call_id=call_id)
    report = StatusReport(committee_id, region, status, since, order)
    in_region = [r for r in reports if r.region == region]
    before = statuses_at(in_region, since)
    if not region_joins_with(before, {r.committee_id: r.region for r in in_region}, report):
        return None
    striking = _on_strike(reports, since) - {region}
    targets = solidarity_targets(config.federation.regions[region].neighbours, striking)
    if config.solidarity == "off" or not targets:
        return None
    # Only neighbours with a committee to hear it (a region may have none in the movement yet).
    present = {committee.region for committee, _language in await store.committees.active_in(tx, targets)}
    targets = tuple(t for t in targets if t in present)
    if not targets:
        return None
    return await _appeal(tx, store, config, region, targets, joined_at=since, now=now)


def _on_strike(reports: list[StatusReport], moment: int) -> set[str]:
    """The regions with a committee on strike at `moment`."""
    region_of = {r.committee_id: r.region for r in reports}
    return {region_of[c] for c, s in statuses_at(reports, moment).items() if s is StrikeStatus.ON_STRIKE}


async def _appeal(
    tx: aiosqlite.Connection,
    store: Store,
    config: Config,
    region: str,
    targets: tuple[str, ...],
    *,
    joined_at: int,
    now: int,
) -> Appeal | None:
    federation = config.federation
    council_region = federation.responsible_council(region, await store.councils.linked_regions(tx))
    council = await store.councils.by_region(tx, council_region) if council_region else None
    # With no council to ask, a suggestion would wait for nobody: it is sent as in "auto".
    suggest = config.solidarity == "suggest" and council is not None
    appeal_id = await store.spread.add_appeal(
        tx,
        region=region,
        joined_at=joined_at,
        targets=targets,
        state="suggested" if suggest else "sent",
        council_id=council.id if council else None,
        now=now,
    )
    if appeal_id is None:
        return None
    appeal = await store.spread.appeal(tx, appeal_id)
    if suggest:
        language, _region = await recipient_language(tx, store, config, committee_id=None, council_id=council.id)
        committees = len(await store.committees.active_in(tx, targets))
        text, markup = suggestion_message(config, appeal, language, committees=committees)
        outbox_id = await store.outbox.enqueue(
            tx, purpose="solidarity", council_id=council.id, text=text, reply_markup=markup, now=now
        )
        await store.spread.set_appeal_message(tx, appeal_id, outbox_id)
    else:
        await send_appeal(tx, store, config, appeal, now=now)
    return appeal


async def send_appeal(tx: aiosqlite.Connection, store: Store, config: Config, appeal: Appeal, *, now: int) -> int:
    """The appeal to every active committee of the target regions, each in its language; how many."""
    messages = [
        (committee.id, appeal_text(config, appeal, language or config.default_language, committee.region), None)
        for committee, language in await store.committees.active_in(tx, appeal.targets)
    ]
    if messages:
        await store.outbox.enqueue_many(tx, purpose="solidarity", messages=messages, now=now)
    return len(messages)


def appeal_text(config: Config, appeal: Appeal, language: str, recipient_region: str) -> str:
    _ = gettext_for(language)
    federation = config.federation
    return _(
        "✊ Solidarity appeal: the committees of {region} are on strike since {since}. "
        "{yours} borders it. Will your committee stand with them? Put it to your assembly "
        "(/propose), and when you strike, say so with /status."
    ).format(
        region=federation.regions[appeal.region].display_name(language),
        since=when_text(appeal.joined_at, language, zone_of(federation, recipient_region)),
        yours=federation.regions[recipient_region].display_name(language),
    )


def suggestion_message(config: Config, appeal: Appeal, language: str, *, committees: int) -> tuple[str, dict | None]:
    """The council's one-tap question; once decided, the same text says what was done, no buttons."""
    _ = gettext_for(language)
    ngettext = ngettext_for(language)
    federation = config.federation
    names = ", ".join(federation.regions[t].display_name(language) for t in appeal.targets)
    text = _(
        "✊ {region} has joined the strike (since {since}). Send a solidarity appeal to the "
        "committees of the neighbouring regions that are not on strike: {targets} ({committees})?"
    ).format(
        region=federation.regions[appeal.region].display_name(language),
        since=when_text(appeal.joined_at, language, zone_of(federation, appeal.region)),
        targets=names,
        committees=ngettext("{n} committee", "{n} committees", committees).format(n=committees),
    )
    if appeal.state == "sent":
        return text + "\n\n" + _("📣 Sent."), None
    if appeal.state == "dismissed":
        return text + "\n\n" + _("Not sent."), None
    buttons = [
        {"text": _("📣 Send the appeal"), "callback_data": f"{APPEAL_PREFIX}{appeal.id}:{SEND}"},
        {"text": _("Not now"), "callback_data": f"{APPEAL_PREFIX}{appeal.id}:{DISMISS}"},
    ]
    return text, {"inline_keyboard": [buttons]}
