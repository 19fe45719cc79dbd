"""Escalation: an endorsed demand merges with its equal and rises to the councils whose threshold it meets.

Everything here runs inside the transaction that changed a demand's support (an endorsement, a
merge) or a council's verdict, so a demand is never half-escalated: the escalation row, its
message in the council's outbox and the demand's status are written together, and a crash before
the commit leaves nothing to undo. The rules are domain/demands.py (similarity, `reached`,
`check_merge`, `check_mark`); this module reads and writes the rows and words the messages.

A council sees a demand with its support (committees and regions, never who), the verdicts of the
councils below, and similar demands already before it; its delegates adopt, merge or reject it.
The message is edited (through the outbox) as support grows, and loses its buttons once decided.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Iterable

import aiosqlite

from bot.call_messages import recipient_language
from bot.config import Config
from bot.i18n import N_, Gettext, gettext_for
from domain.demands import (
    AUTO_MERGE_AT,
    SUGGEST_AT,
    ProgrammeStatus,
    Threshold,
    backing_of,
    check_mark,
    check_merge,
    merge_candidates,
    reached,
    support_within,
)
from domain.federation import Federation
from storage import Store
from storage.councils import Council
from storage.demands import Demand
from storage.programme import Backer, Escalation

COUNCIL_PREFIX = "v1:dx:"  # v1:dx:<demand>:<council>:a|m|r
ADOPT, MERGE, REJECT = "a", "m", "r"
SUGGESTIONS_MAX = 3

VERDICTS = {
    "adopted": N_("✅ adopted"),
    "rejected": N_("❌ rejected"),
    "merged": N_("🔗 merged into another demand"),
}
OUTCOME_NOTICES = {
    ProgrammeStatus.ADOPTED: N_("📣 The coordinating council adopted demand #{id} into the common programme:"),
    ProgrammeStatus.WON: N_("🏆 Demand #{id} of the common programme is won:"),
    ProgrammeStatus.CONCEDED: N_("🤝 Demand #{id} of the common programme is conceded in part:"),
    ProgrammeStatus.REJECTED: N_("⛔ Demand #{id} of the common programme was rejected by the authorities:"),
}


def thresholds(config: Config, linked: set[str]) -> Callable[[str], Threshold | None]:
    """Each node's threshold: the coordinating one at the root, the council one where a council is
    linked, and none (passed over) where no council chat is there to take the demand."""
    root = config.federation.root.id

    def threshold(node: str) -> Threshold | None:
        if node not in linked:
            return None
        return config.coordinating_threshold if node == root else config.council_threshold

    return threshold


async def support_changed(tx: aiosqlite.Connection, store: Store, config: Config, demand_id: int, *, now: int) -> None:
    """A demand's support changed: merge it with its equal if it has just been endorsed, then let it rise."""
    demand = await _standing(tx, store, demand_id)
    if demand is None:
        return
    if demand.status == ProgrammeStatus.ENDORSED and not await store.programme.escalations(tx, demand.id):
        twin = await _equal_of(tx, store, demand)
        if twin is not None:
            await merge(tx, store, config, demand, twin, now=now)
            return
    await rise(tx, store, config, demand, now=now)


async def _standing(tx: aiosqlite.Connection, store: Store, demand_id: int) -> Demand | None:
    """The demand, or the one it was merged into; None unless endorsed and not yet decided against."""
    demand = await store.demands.get(tx, demand_id)
    if demand is not None and demand.status == ProgrammeStatus.MERGED:
        into = await store.programme.merged_into(tx, demand.id)
        demand = await store.demands.get(tx, into) if into else None
    if demand is None or demand.status in (ProgrammeStatus.PROPOSED, ProgrammeStatus.REJECTED):
        return None
    return demand


async def _equal_of(tx: aiosqlite.Connection, store: Store, demand: Demand) -> Demand | None:
    """An older standing demand of another committee with the same words, to merge into without asking."""
    others = [
        d for d in await store.programme.standing(tx) if d.id != demand.id and d.committee_id != demand.committee_id
    ]
    found = merge_candidates(demand.text, [(d.id, d.text) for d in others], at=AUTO_MERGE_AT)
    if not found:
        return None
    return next(d for d in others if d.id == found[0][0])


async def rise(tx: aiosqlite.Connection, store: Store, config: Config, demand: Demand, *, now: int) -> None:
    """Post the demand to every council it newly reached; bring the waiting council messages up to date."""
    federation = config.federation
    backers = await store.programme.backers(tx, demand.id)
    origin = await store.committees.get(tx, demand.committee_id)
    if origin is None:
        return
    linked = await store.councils.linked_regions(tx)
    nodes = reached(
        federation, origin.region, backing_of((b.committee_id, b.region) for b in backers), thresholds(config, linked)
    )
    known = {e.council_id: e for e in await store.programme.escalations(tx, demand.id)}
    risen = False
    for node in nodes:
        council = await store.councils.by_region(tx, node)
        if council is None or council.id in known:
            continue
        text, markup = await council_message(tx, store, config, demand, council, backers, known.values(), new=True)
        outbox_id = await store.outbox.enqueue(
            tx, purpose="escalation", text=text, reply_markup=markup, council_id=council.id, now=now
        )
        await store.programme.escalate(tx, demand.id, council.id, outbox_id, now=now)
        risen = True
    for escalation in known.values():
        if escalation.verdict == "pending":
            await refresh_message(tx, store, config, demand, escalation, now=now)
    if risen and demand.status == ProgrammeStatus.ENDORSED:
        await store.programme.set_status(tx, demand.id, ProgrammeStatus.ESCALATED.value, now=now)


async def refresh_message(
    tx: aiosqlite.Connection,
    store: Store,
    config: Config,
    demand: Demand,
    escalation: Escalation,
    *,
    now: int,
    verdict_line: str | None = None,
) -> None:
    """Re-render a council's message about a demand (new support, a verdict below, its own verdict)."""
    if escalation.outbox_id is None:
        return
    council = await store.councils.get(tx, escalation.council_id)
    if council is None:
        return
    backers = await store.programme.backers(tx, demand.id)
    others = [e for e in await store.programme.escalations(tx, demand.id) if e.council_id != council.id]
    text, markup = await council_message(tx, store, config, demand, council, backers, others, new=False)
    if verdict_line is not None:
        text, markup = f"{text}\n\n{verdict_line}", None
    await store.outbox.revise(tx, escalation.outbox_id, text=text, reply_markup=markup, now=now)


async def council_message(
    tx: aiosqlite.Connection,
    store: Store,
    config: Config,
    demand: Demand,
    council: Council,
    backers: list[Backer],
    others: Iterable[Escalation],
    *,
    new: bool,
) -> tuple[str, dict | None]:
    """What a council reads about a demand before it, with Adopt / Merge / Reject."""
    language = await store.chat_settings.language(tx, council.chat_id) or config.default_language
    _ = gettext_for(language)
    federation = config.federation
    lines = [
        _("⬆️ Demand #{id} rises to this council:").format(id=demand.id),
        "",
        demand.text,
        "",
        support_line(_, federation, language, council.region, backers),
    ]
    for escalation in others:  # the verdicts of the other councils it reached
        if escalation.verdict != "pending":
            seat = await store.councils.get(tx, escalation.council_id)
            if seat is not None:
                lines.append(
                    f"{federation.councils[seat.region].display_name(language)}: {_(VERDICTS[escalation.verdict])}"
                    if seat.region in federation.councils
                    else _(VERDICTS[escalation.verdict])
                )
    similar = await similar_before(tx, store, demand, council)
    if similar:
        lines.append(
            _("Similar demands before this council: {list}").format(
                list=", ".join(f"#{other.id} ({score:.0f}%)" for other, score in similar)
            )
        )
    base = f"{COUNCIL_PREFIX}{demand.id}:{council.id}:"
    markup = {
        "inline_keyboard": [
            [
                {"text": _("✅ Adopt"), "callback_data": base + ADOPT},
                {"text": _("🔗 Merge"), "callback_data": base + MERGE},
                {"text": _("❌ Reject"), "callback_data": base + REJECT},
            ]
        ]
    }
    return "\n".join(lines), markup


def support_line(_: Gettext, federation: Federation, language: str, node: str, backers: list[Backer]) -> str:
    """ "Support: committees 4, regions 2 (Mangystau 3, Atyrau 1)" — counted within the council's area."""
    backing = backing_of((b.committee_id, b.region) for b in backers)
    committees, regions = support_within(federation, node, backing)
    within = Counter({r: n for r, n in backing.items() if r in federation.regions and federation.is_within(r, node)})
    detail = ", ".join(f"{federation.regions[r].display_name(language)} {n}" for r, n in within.most_common())
    return _("Support: committees {committees}, regions {regions} ({detail})").format(
        committees=committees, regions=regions, detail=detail
    )


async def similar_before(
    tx: aiosqlite.Connection, store: Store, demand: Demand, council: Council
) -> list[tuple[Demand, float]]:
    """Demands already before this council that read like this one: merges to suggest to its delegates."""
    before = []
    for demand_id in await store.programme.pending_at(tx, council.id):
        if demand_id != demand.id and (other := await store.demands.get(tx, demand_id)) is not None:
            before.append(other)
    found = merge_candidates(demand.text, [(d.id, d.text) for d in before], at=SUGGEST_AT)
    by_id = {d.id: d for d in before}
    return [(by_id[demand_id], score) for demand_id, score in found[:SUGGESTIONS_MAX]]


async def merge(
    tx: aiosqlite.Connection, store: Store, config: Config, demand: Demand, into: Demand, *, now: int
) -> None:
    """Fold a demand into its equal: the union of their support, one message per council from then on.

    Raises DemandRefused (into itself, or a merged demand) before anything is written."""
    check_merge(demand.id, into.id, ProgrammeStatus(demand.status), ProgrammeStatus(into.status))
    for escalation in await store.programme.escalations(tx, demand.id):
        if await store.programme.decide(tx, demand.id, escalation.council_id, "merged", now=now):
            language, _region = await recipient_language(
                tx, store, config, committee_id=None, council_id=escalation.council_id
            )
            _ = gettext_for(language)
            line = _("🔗 Merged into demand #{id}, which carries its support from now on.").format(id=into.id)
            await refresh_message(tx, store, config, demand, escalation, now=now, verdict_line=line)
    await store.programme.merge(tx, demand.id, into.id, now=now)
    for backer in await store.programme.backers(tx, demand.id):
        language, _region = await recipient_language(
            tx, store, config, committee_id=backer.committee_id, council_id=None
        )
        _ = gettext_for(language)
        await store.outbox.enqueue(
            tx,
            purpose="demand",
            text=_(
                "🔗 Demand #{id} is the same as demand #{into}, put forward elsewhere; they are one demand now, "
                "and this committee's endorsement counts for #{into}:"
            ).format(id=demand.id, into=into.id)
            + "\n\n"
            + into.text,
            committee_id=backer.committee_id,
            now=now,
        )
    merged = await store.demands.get(tx, into.id)
    if merged is not None:
        await rise(tx, store, config, merged, now=now)


async def decide(
    tx: aiosqlite.Connection,
    store: Store,
    config: Config,
    demand: Demand,
    council: Council,
    verdict: str,
    *,
    by: str,
    now: int,
) -> bool:
    """A council's delegates adopt or reject a demand before it; the coordinating council's verdict
    is the programme's. False when the demand was already decided here (a second press)."""
    root = council.region == config.federation.root.id
    status = ProgrammeStatus.ADOPTED if verdict == "adopted" else ProgrammeStatus.REJECTED
    escalation = await store.programme.escalation(tx, demand.id, council.id)
    if escalation is None or escalation.verdict != "pending":
        return False
    if root:
        check_mark(ProgrammeStatus(demand.status), status)
    await store.programme.decide(tx, demand.id, council.id, verdict, now=now)
    _ = gettext_for(await store.chat_settings.language(tx, council.chat_id) or config.default_language)
    await refresh_message(tx, store, config, demand, escalation, now=now, verdict_line=f"{_(VERDICTS[verdict])} {by}")
    if root:
        await store.programme.set_status(
            tx, demand.id, status.value, now=now, adopted=status is ProgrammeStatus.ADOPTED
        )
        if status is ProgrammeStatus.ADOPTED:
            await tell_backers(tx, store, config, demand, status, now=now)
    for other in await store.programme.escalations(tx, demand.id):
        if other.council_id != council.id and other.verdict == "pending":
            await refresh_message(tx, store, config, demand, other, now=now)
    return True


async def mark(
    tx: aiosqlite.Connection, store: Store, config: Config, demand: Demand, status: ProgrammeStatus, *, now: int
) -> int:
    """The coordinating council marks how the struggle for an adopted demand went; every committee
    that backed it hears it. Returns how many committees are told. Raises DemandRefused."""
    check_mark(ProgrammeStatus(demand.status), status)
    await store.programme.set_status(tx, demand.id, status.value, now=now, adopted=status is ProgrammeStatus.ADOPTED)
    return await tell_backers(tx, store, config, demand, status, now=now)


async def tell_backers(
    tx: aiosqlite.Connection, store: Store, config: Config, demand: Demand, status: ProgrammeStatus, *, now: int
) -> int:
    """One message to every active committee that backed the demand, each in its own language."""
    messages: list[tuple[int, str, dict | None]] = []
    for backer in await store.programme.backers(tx, demand.id):
        committee = await store.committees.get(tx, backer.committee_id)
        if committee is None or committee.status.value != "active":
            continue
        _ = gettext_for(await store.chat_settings.language(tx, committee.chat_id) or config.default_language)
        messages.append((committee.id, _(OUTCOME_NOTICES[status]).format(id=demand.id) + "\n\n" + demand.text, None))
    if messages:
        await store.outbox.enqueue_many(tx, purpose="programme", messages=messages, now=now)
    return len(messages)
