"""What calls look like, and keeping every copy of a call and its live tallies current.

A call is rendered once per recipient: in the committee's language and timezone, with that
committee's own answer. Whenever something changes (a copy is delivered or fails, a committee
answers, the issuer updates or cancels), the affected messages are revised through the outbox
(`OutboxRepository.revise`), inside the transaction that made the change, so they follow
Telegram's limits like everything else and a crash cannot leave a copy saying something the
database does not.
"""

from __future__ import annotations

from datetime import UTC, datetime
from zoneinfo import ZoneInfo

import aiosqlite
from telegram import InlineKeyboardButton, InlineKeyboardMarkup

from bot.config import Config
from bot.i18n import N_, gettext_for, ngettext_for
from domain.calls import STRIKE_KINDS, Answer, CallKind, Scope, ScopeKind, Tally, tally
from domain.federation import Federation
from domain.when import format_when
from storage import Store
from storage.calls import Call

ANSWER_PREFIX = "v1:ca:"
MANAGE_PREFIX = "v1:cc:"
# A live tally is edited at most this often (seconds): a group takes 20 messages a minute and
# its people still need room for their own commands.
TALLY_EVERY_S = 4.0

KIND_TITLES = {
    CallKind.STRIKE: N_("📣 Strike call"),
    CallKind.GENERAL_STRIKE: N_("📣 General strike call"),
    CallKind.SOLIDARITY_STRIKE: N_("🤝 Solidarity strike call"),
    CallKind.RALLY: N_("🪧 Rally call"),
    CallKind.BLOCKADE: N_("⛔ Blockade call"),
}
KIND_NAMES = {
    CallKind.STRIKE: N_("strike"),
    CallKind.GENERAL_STRIKE: N_("general strike"),
    CallKind.SOLIDARITY_STRIKE: N_("solidarity strike"),
    CallKind.RALLY: N_("rally"),
    CallKind.BLOCKADE: N_("blockade"),
}
ANSWER_BUTTONS = {
    Answer.JOIN: N_("✅ We join"),
    Answer.DECLINE: N_("❌ We can't"),
    Answer.UNDECIDED: N_("🤔 Undecided"),
}
ANSWER_LINES = {
    Answer.JOIN: N_("Your committee's answer: ✅ we join"),
    Answer.DECLINE: N_("Your committee's answer: ❌ we can't"),
    Answer.UNDECIDED: N_("Your committee's answer: 🤔 undecided"),
}
FAILURE_REASONS = {
    "removed": N_("bot removed"),
    "not-found": N_("chat gone"),
    "refused": N_("refused by Telegram"),
    "other": N_("other error"),
}


def zone_of(federation: Federation, region: str) -> ZoneInfo:
    return ZoneInfo(federation.regions[region].timezone)


def when_text(moment: int, language: str, zone: ZoneInfo) -> str:
    return format_when(datetime.fromtimestamp(moment, UTC), language, zone)


def describe_scope(scope: Scope, issuer_region: str, federation: Federation, language: str) -> str:
    """Whom a call reaches, in words."""
    _ = gettext_for(language)
    regions = federation.regions
    if scope.kind is ScopeKind.COMMITTEE:
        return _("the issuing committee")
    if scope.kind is ScopeKind.EVERYONE:
        return _("the whole movement")
    if scope.kind is ScopeKind.REGION:
        return regions[issuer_region].display_name(language)
    names = scope.regions if scope.kind is ScopeKind.REGIONS else regions[issuer_region].neighbours
    listed = ", ".join(regions[r].display_name(language) for r in names)
    if scope.kind is ScopeKind.NEIGHBOURS:
        return _("the neighbours of {region}: {regions}").format(
            region=regions[issuer_region].display_name(language), regions=listed
        )
    return listed


async def issuer_label(conn: aiosqlite.Connection, store: Store, config: Config, call: Call, language: str) -> str:
    """Who issued a call, as /verify and every copy name it."""
    _ = gettext_for(language)
    federation = config.federation
    if call.issuer_council_id is not None:
        return federation.councils[call.issuer_region].display_name(language)
    committee = await store.committees.get(conn, call.issuer_committee_id)
    return _("committee “{name}” ({region})").format(
        name=committee.name if committee else "?", region=federation.regions[call.issuer_region].display_name(language)
    )


def render_call(
    call: Call,
    *,
    issuer: str,
    federation: Federation,
    language: str,
    zone: ZoneInfo,
    answer: str = "",
    headcount: int | None = None,
) -> str:
    """One committee's copy of a call."""
    _ = gettext_for(language)
    kind = CallKind(call.kind)
    lines = []
    if call.status == "cancelled":
        lines.append(_("❌ CANCELLED: this call no longer stands."))
    elif call.updated_at:
        lines.append(_("✏️ Updated"))
    lines += [
        _(KIND_TITLES[kind]),
        _("From: {issuer}").format(issuer=issuer),
        _("When: {when}").format(when=when_text(call.starts_at, language, zone)),
    ]
    if call.place:
        lines.append(_("Where: {place}").format(place=call.place))
    lines += ["", call.text, ""]
    lines.append(
        _("Sent to: {scope}").format(
            scope=describe_scope(Scope.decode(call.scope), call.issuer_region, federation, language)
        )
    )
    lines.append(_("Verification code: {code}").format(code=call.code))
    lines.append(_("Check it in a private chat with this bot: /verify {code}").format(code=call.code))
    if answer:
        lines.append("")
        lines.append(_(ANSWER_LINES[Answer(answer)]))
        if headcount is not None:
            lines.append(_("Head count: {count}").format(count=headcount))
    return "\n".join(lines)


def answer_keyboard(call: Call, language: str) -> dict | None:
    """The buttons a committee answers with; none once the call is cancelled."""
    if call.status != "active":
        return None
    _ = gettext_for(language)
    data = f"{ANSWER_PREFIX}{call.id}:"
    buttons = [InlineKeyboardButton(_(ANSWER_BUTTONS[a]), callback_data=data + a.value[0]) for a in Answer]
    headcount = InlineKeyboardButton(_("👥 Report head count"), callback_data=data + "h")
    # Any member may put joining to the committee's assembly (handlers/call_answers.py).
    assembly = InlineKeyboardButton(_("🗳 Put to the assembly"), callback_data=data + "a")
    return InlineKeyboardMarkup([buttons, [headcount, assembly]]).to_dict()


def render_tally(call: Call, counts: Tally, *, federation: Federation, language: str, zone: ZoneInfo) -> str:
    """The live status message of a call, for its issuer and the council above it."""
    _ = gettext_for(language)
    ngettext = ngettext_for(language)
    kind = CallKind(call.kind)
    lines = [
        _("📊 Status of the {kind} call {code}").format(kind=_(KIND_NAMES[kind]), code=call.code),
        _("When: {when}").format(when=when_text(call.starts_at, language, zone)),
    ]
    if call.status == "cancelled":
        lines.append(_("❌ Cancelled."))
    lines.append(
        _("Delivered: {delivered} of {targets}").format(
            delivered=counts.delivered, targets=counts.targets - counts.dropped
        )
    )
    if counts.waiting:
        lines.append(_("Still being sent: {count}").format(count=counts.waiting))
    if counts.failed:
        reasons = ", ".join(f"{_(FAILURE_REASONS[r])}: {n}" for r, n in sorted(counts.failed.items()))
        lines.append(_("Not delivered: {count} ({reasons})").format(count=counts.failed_total, reasons=reasons))
    if counts.dropped:
        lines.append(_("Not sent because cancelled: {count}").format(count=counts.dropped))
    lines.append(
        _("Joining: {joined} · can't: {declined} · undecided: {undecided}").format(
            joined=counts.joined, declined=counts.declined, undecided=counts.undecided
        )
    )
    if counts.headcount:
        lines.append(
            ngettext("Head count: {count} person", "Head count: {count} people", counts.headcount).format(
                count=counts.headcount
            )
        )
    if kind in STRIKE_KINDS and counts.joined:
        lines.append(
            ngettext(
                "{count} committee is now on strike.", "{count} committees are now on strike.", counts.joined
            ).format(count=counts.joined)
        )
    return "\n".join(lines)


def manage_keyboard(call: Call, language: str) -> dict | None:
    """Update / Cancel under the issuer's own tally; nothing once the call is cancelled."""
    if call.status != "active":
        return None
    _ = gettext_for(language)
    data = f"{MANAGE_PREFIX}{call.id}:"
    return InlineKeyboardMarkup(
        [
            [
                InlineKeyboardButton(_("✏️ Update"), callback_data=data + "edit"),
                InlineKeyboardButton(_("✖️ Cancel the call"), callback_data=data + "cancel"),
            ]
        ]
    ).to_dict()


# -- keeping messages current ---------------------------------------------------------------------


async def recipient_language(
    conn: aiosqlite.Connection, store: Store, config: Config, *, committee_id: int | None, council_id: int | None
) -> tuple[str, str]:
    """The language and region of the chat an outbox row goes to."""
    if committee_id is not None:
        committee = await store.committees.get(conn, committee_id)
        chat_id, region = committee.chat_id, committee.region
    else:
        council = await store.councils.get(conn, council_id)
        chat_id, region = council.chat_id, council.region
    language = await store.chat_settings.language(conn, chat_id) or config.default_language
    return language, region


async def refresh_tallies(
    conn: aiosqlite.Connection, store: Store, config: Config, call_id: int, *, now: float, speed: float = 1.0
) -> None:
    """Bring every live tally of a call up to date (coalesced: one edit per chat per TALLY_EVERY_S)."""
    call = await store.calls.get(conn, call_id)
    if call is None:
        return
    counts = tally(await store.calls.delivery_states(conn, call_id), await store.calls.answers(conn, call_id))
    for outbox_id in await store.calls.tallies(conn, call_id):
        target = await store.outbox.recipient(conn, outbox_id)
        if target is None:
            continue
        committee_id, council_id = target
        language, region = await recipient_language(
            conn, store, config, committee_id=committee_id, council_id=council_id
        )
        issuer_chat = (committee_id is not None and committee_id == call.issuer_committee_id) or (
            council_id is not None and council_id == call.issuer_council_id
        )
        await store.outbox.revise(
            conn,
            outbox_id,
            text=render_tally(
                call, counts, federation=config.federation, language=language, zone=zone_of(config.federation, region)
            ),
            reply_markup=manage_keyboard(call, language) if issuer_chat else None,
            now=int(now),
            not_before=now + TALLY_EVERY_S * speed,
        )


async def revise_copy(
    conn: aiosqlite.Connection, store: Store, config: Config, call: Call, committee_id: int, outbox_id: int, *, now: int
) -> None:
    """Re-render one committee's copy (after an answer, an update or a cancellation)."""
    language, region = await recipient_language(conn, store, config, committee_id=committee_id, council_id=None)
    answer, headcount = await store.calls.answer_of(conn, call.id, committee_id)
    text = render_call(
        call,
        issuer=await issuer_label(conn, store, config, call, language),
        federation=config.federation,
        language=language,
        zone=zone_of(config.federation, region),
        answer=answer,
        headcount=headcount,
    )
    await store.outbox.revise(conn, outbox_id, text=text, reply_markup=answer_keyboard(call, language), now=now)


async def revise_copies(
    conn: aiosqlite.Connection, store: Store, config: Config, call: Call, *, now: int, drop_unsent: bool = False
) -> int:
    """Re-render every copy of a call (after an update or a cancellation); with `drop_unsent`,
    copies that have not left are withdrawn instead. Returns how many copies there are."""
    copies = await store.calls.copies(conn, call.id)
    labels: dict[str, str] = {}
    for copy in copies:
        if drop_unsent and await store.outbox.drop(conn, copy.outbox_id):
            continue
        language = copy.language or config.default_language
        if language not in labels:
            labels[language] = await issuer_label(conn, store, config, call, language)
        text = render_call(
            call,
            issuer=labels[language],
            federation=config.federation,
            language=language,
            zone=zone_of(config.federation, copy.region),
            answer=copy.answer or "",
            headcount=copy.headcount,
        )
        await store.outbox.revise(
            conn, copy.outbox_id, text=text, reply_markup=answer_keyboard(call, language), now=now
        )
    return len(copies)
