"""Councils and the common programme: Adopt / Merge / Reject on escalated demands, `/merge A B`,
`/programme`, and marking adopted demands won, conceded or rejected.

Only a council's delegates (the admins of its chat) decide, and only on demands before their
council; every button's ids are checked against the database. The work itself (verdicts, merges,
notices to the backing committees) is bot/escalation.py, one transaction per press.
"""

from __future__ import annotations

from collections.abc import Iterable

import aiosqlite
from telegram import InlineKeyboardButton, InlineKeyboardMarkup, Update
from telegram.ext import Application, CallbackQueryHandler, CommandHandler, filters

from bot import escalation
from bot.context import AsambleaContext
from bot.i18n import N_, Gettext
from domain.audit import MARKED
from domain.audit import Kind as AuditKind
from domain.demands import SUGGEST_AT, DemandRefused, ProgrammeStatus, backing_of, merge_candidates
from handlers.audit import acting_person, record_council
from handlers.common import answer_query, reply, row_number, translator, update_is_from_admin
from handlers.demands import STATUS_LABELS
from storage.councils import Council
from storage.demands import Demand

MERGE_PREFIX = "v1:dm:"  # v1:dm:<demand>:<into>
MARK_PREFIX = "v1:dp:"  # v1:dp:<demand>:w|c|r
MARKS = {"w": ProgrammeStatus.WON, "c": ProgrammeStatus.CONCEDED, "r": ProgrammeStatus.REJECTED}
MARK_LABELS = {"w": N_("🏆 #{id} won"), "c": N_("🤝 #{id} conceded"), "r": N_("⛔ #{id} rejected")}
PROGRAMME_MAX = 30
MARKABLE_MAX = 10

REFUSALS = {
    "merge-into-itself": N_("A demand cannot be merged into itself."),
    "already-merged": N_("That demand was already merged into another one."),
    "status-not-allowed": N_("Demand #{id} is {status}: it cannot be marked like that now."),
}
NOT_DELEGATE = N_("Only the council's delegates (the admins of this chat) decide on demands.")
STALE = N_("This button is no longer valid.")


def refusal(_: Gettext, refused: DemandRefused, demand: Demand) -> str:
    return _(REFUSALS[refused.reason]).format(id=demand.id, status=_(STATUS_LABELS.get(demand.status, demand.status)))


async def delegate_council(update: Update, context: AsambleaContext) -> Council | str:
    """The council of this chat if the person acting is one of its delegates, else why not."""
    async with context.store.db.read() as conn:
        council = await context.store.councils.by_chat(conn, update.effective_chat.id)
    if council is None:
        return N_("This works in a council's chat.")
    if not await update_is_from_admin(update, context):
        return NOT_DELEGATE
    return council


async def council_press(
    update: Update, context: AsambleaContext, prefix: str, ids: int, actions: Iterable[str]
) -> tuple[Council, list[int], str] | None:
    """A council button's numbers and action, pressed by one of this council's delegates; None
    once the press is refused (a garbled or foreign button, or someone who is no delegate)."""
    _ = await translator(update, context)
    parts = update.callback_query.data.removeprefix(prefix).split(":")
    action = ":".join(parts[ids:])
    try:
        numbers = [row_number(part) for part in parts[:ids]]
        if len(numbers) != ids or action not in actions:
            raise ValueError(action)
    except ValueError:
        await answer_query(update, _(STALE), alert=True)
        return None
    council = await delegate_council(update, context)
    if isinstance(council, str):
        await answer_query(update, _(council), alert=True)
        return None
    return council, numbers, action


async def council_button(update: Update, context: AsambleaContext) -> None:
    """Adopt, Merge or Reject under a demand that rose to this council."""
    _ = await translator(update, context)
    pressed = await council_press(
        update, context, escalation.COUNCIL_PREFIX, 2, (escalation.ADOPT, escalation.MERGE, escalation.REJECT)
    )
    if pressed is None:
        return
    council, (demand_id, council_id), action = pressed
    if council.id != council_id:
        await answer_query(update, _(STALE), alert=True)
        return
    if action == escalation.MERGE:
        await offer_merges(update, context, council, demand_id)
        return
    verdict = "adopted" if action == escalation.ADOPT else "rejected"
    store = context.store
    async with store.db.transaction() as tx:
        demand = await store.demands.get(tx, demand_id)
        if demand is None or await store.programme.escalation(tx, demand_id, council.id) is None:
            problem = _(STALE)
        else:
            try:
                by = await voter_line(context, tx, update.effective_user.id, _)
                done = await escalation.decide(
                    tx, store, context.config, demand, council, verdict, by=by, now=context.now()
                )
                problem = None if done else _("This council has already decided on demand #{id}.").format(id=demand.id)
                if done:
                    kind = AuditKind.DEMAND_ADOPTED if verdict == "adopted" else AuditKind.DEMAND_REJECTED
                    await record_council(tx, context, council, kind, by=acting_person(update))
            except DemandRefused as refused:
                problem = refusal(_, refused, demand)
    if problem:
        await answer_query(update, problem, alert=True)
        return
    context.outbox.wake()
    await answer_query(update, _("Adopted.") if verdict == "adopted" else _("Rejected."))


async def voter_line(context: AsambleaContext, conn: aiosqlite.Connection, user_id: int, _: Gettext) -> str:
    """Who gave a council's verdict, as a role: an elected committee delegate's vote shows their mandate."""
    store = context.store
    parts = []
    for committee_id, mandate in await store.delegates.serving_mandates(conn, user_id, now=context.now()):
        committee = await store.committees.get(conn, committee_id)
        if committee is not None:
            parts.append(
                _("by the delegate of “{committee}”, mandate: {mandate}").format(
                    committee=committee.name, mandate=mandate or _("none written")
                )
            )
    return "; ".join(parts) or _("by a council delegate")


async def offer_merges(update: Update, context: AsambleaContext, council: Council, demand_id: int) -> None:
    """The demands before this council that read like this one, as buttons; /merge for any other."""
    _ = await translator(update, context)
    store = context.store
    async with store.db.read() as conn:
        demand = await store.demands.get(conn, demand_id)
        escalated = await store.programme.escalation(conn, demand_id, council.id)
        before = [
            other
            for other_id in await store.programme.pending_at(conn, council.id)
            if other_id != demand_id and (other := await store.demands.get(conn, other_id)) is not None
        ]
    if demand is None or escalated is None or escalated.verdict != "pending":
        await answer_query(update, _(STALE), alert=True)
        return
    found = merge_candidates(demand.text, [(d.id, d.text) for d in before], at=SUGGEST_AT)
    await answer_query(update)
    hint = _("To merge it with any other demand (the same demand in another language, say): /merge {id} OTHER").format(
        id=demand.id
    )
    if not found:
        await reply(update, _("No demand before this council reads like #{id}.").format(id=demand.id) + "\n" + hint)
        return
    buttons = [
        [
            InlineKeyboardButton(
                _("🔗 #{id} into #{into} ({score}%)").format(id=demand.id, into=other_id, score=round(score)),
                callback_data=f"{MERGE_PREFIX}{demand.id}:{other_id}",
            )
        ]
        for other_id, score in found[: escalation.SUGGESTIONS_MAX]
    ]
    await reply(
        update,
        _("Merge demand #{id} into one that says the same? Its support joins the other's.").format(id=demand.id)
        + "\n"
        + hint,
        reply_markup=InlineKeyboardMarkup(buttons),
    )


async def merge_button(update: Update, context: AsambleaContext) -> None:
    _ = await translator(update, context)
    pressed = await council_press(update, context, MERGE_PREFIX, 2, ("",))
    if pressed is None:
        return
    council, (demand_id, into_id), _action = pressed
    problem = await merge_before(context, council, demand_id, into_id, _, by=acting_person(update))
    if problem:
        await answer_query(update, problem, alert=True)
        return
    await answer_query(update, _("Merged."))
    await reply(update, _("Demand #{id} is merged into #{into}.").format(id=demand_id, into=into_id))


async def merge_command(update: Update, context: AsambleaContext) -> None:
    """/merge A B: a council's delegates fold demand A into B (across languages, where no score sees it)."""
    _ = await translator(update, context)
    council = await delegate_council(update, context)
    if isinstance(council, str):
        await reply(update, _(council))
        return
    try:
        demand_id, into_id = (row_number(word.lstrip("#")) for word in (context.args or []))
    except ValueError:
        await reply(update, _("Write the two demands' numbers: /merge 12 7 merges #12 into #7."))
        return
    problem = await merge_before(context, council, demand_id, into_id, _, by=acting_person(update))
    await reply(update, problem or _("Demand #{id} is merged into #{into}.").format(id=demand_id, into=into_id))


async def merge_before(
    context: AsambleaContext, council: Council, demand_id: int, into_id: int, _: Gettext, *, by: int | None
) -> str | None:
    """Merge two demands that are before this council (or endorsed within its area); why not, if not.
    `by`: who merges (handlers.audit.acting_person), for the audit log."""
    store = context.store
    federation = context.config.federation
    async with store.db.transaction() as tx:
        pair = []
        for wanted in (demand_id, into_id):
            demand = await store.demands.get(tx, wanted)
            origin = await store.committees.get(tx, demand.committee_id) if demand else None
            visible = (
                demand is not None
                and origin is not None
                and federation.is_within(origin.region, council.region)
                and demand.status not in ("proposed", "rejected")
            )
            if not visible:
                return _("Demand #{id} is not before this council.").format(id=wanted)
            pair.append(demand)
        try:
            await escalation.merge(tx, store, context.config, pair[0], pair[1], now=context.now())
            await record_council(tx, context, council, AuditKind.DEMAND_MERGED, by=by)
        except DemandRefused as refused:
            return refusal(_, refused, pair[0])
    context.outbox.wake()
    return None


async def programme_command(update: Update, context: AsambleaContext) -> None:
    """/programme: the adopted demands with their support; in the coordinating council, buttons to mark them."""
    _ = await translator(update, context)
    store = context.store
    federation = context.config.federation
    async with store.db.read() as conn:
        council = await store.councils.by_chat(conn, update.effective_chat.id)
        committee = None if council else await store.committees.by_chat(conn, update.effective_chat.id)
        if council is None and committee is None:
            await reply(update, _("The programme is shown in committee groups and council chats."))
            return
        demands = await store.programme.programme(conn)
        supports = {}
        for demand in demands:
            backers = await store.programme.backers(conn, demand.id)
            supports[demand.id] = backing_of((b.committee_id, b.region) for b in backers)
    if not demands:
        await reply(
            update, _("The common programme is empty: no demand has been adopted by the coordinating council yet.")
        )
        return
    lines = [_("📜 The common programme:")]
    for demand in demands[-PROGRAMME_MAX:]:
        backing = supports[demand.id]
        lines.append(
            _("#{id} ({status}; committees {committees}, regions {regions}): {text}").format(
                id=demand.id,
                status=_(STATUS_LABELS[demand.status]),
                committees=sum(backing.values()),
                regions=len(backing),
                text=demand.text,
            )
        )
    markup = None
    if council is not None and council.region == federation.root.id:
        rows = [
            [
                InlineKeyboardButton(
                    _(MARK_LABELS[key]).format(id=demand.id), callback_data=f"{MARK_PREFIX}{demand.id}:{key}"
                )
                for key in MARKS
            ]
            for demand in demands[-MARKABLE_MAX:]
        ]
        markup = InlineKeyboardMarkup(rows)
    await reply(update, "\n".join(lines), reply_markup=markup)


async def mark_button(update: Update, context: AsambleaContext) -> None:
    """The coordinating council's delegates mark an adopted demand won, conceded or rejected."""
    _ = await translator(update, context)
    pressed = await council_press(update, context, MARK_PREFIX, 1, MARKS)
    if pressed is None:
        return
    council, (demand_id,), key = pressed
    status = MARKS[key]
    if council.region != context.config.federation.root.id:
        await answer_query(update, _(STALE), alert=True)
        return
    store = context.store
    async with store.db.transaction() as tx:
        demand = await store.demands.get(tx, demand_id)
        told = None
        if demand is None or await store.programme.escalation(tx, demand_id, council.id) is None:
            problem = _(STALE)
        else:
            try:
                told = await escalation.mark(tx, store, context.config, demand, status, now=context.now())
                await record_council(tx, context, council, MARKED[status.value], by=acting_person(update))
                problem = None
            except DemandRefused as refused:
                problem = refusal(_, refused, demand)
    if problem:
        await answer_query(update, problem, alert=True)
        return
    context.outbox.wake()
    await answer_query(update, _("Marked."))
    await reply(
        update,
        _("Demand #{id} is marked {status}; {count} committees that backed it are told.").format(
            id=demand_id, status=_(STATUS_LABELS[status.value]), count=told
        ),
    )


def register(application: Application) -> None:
    chats = (filters.UpdateType.MESSAGE & filters.ChatType.GROUPS) | filters.UpdateType.CHANNEL_POST
    application.add_handler(CommandHandler("merge", merge_command, chats))
    application.add_handler(CommandHandler("programme", programme_command, chats))
    application.add_handler(CallbackQueryHandler(council_button, pattern=f"^{escalation.COUNCIL_PREFIX}"))
    application.add_handler(CallbackQueryHandler(merge_button, pattern=f"^{MERGE_PREFIX}"))
    application.add_handler(CallbackQueryHandler(mark_button, pattern=f"^{MARK_PREFIX}"))
