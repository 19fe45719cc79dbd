"""Issuing calls: `/strike` and `/rally` in a committee, `/call` in a council; `/calls`; update, cancel.

    /strike [general|solidarity] WHEN | PLACE | TEXT [| SCOPE]
    /rally [blockade] WHEN | PLACE | TEXT [| SCOPE]
    /call KIND WHEN | PLACE | TEXT [| SCOPE]

A call is first a draft the issuer sees as a preview, with how many committees it would reach
and buttons to change the scope, send or discard it. Sending writes the call, one outbox row
per committee and the live tallies in one transaction (bot/call_messages.py renders them), so
a crash either sends all of it or none. Who may reach whom is a rule of the federation
(domain/calls.py); times are read in the issuer's timezone (domain/when.py).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime

import aiosqlite
from telegram import ForceReply, InlineKeyboardButton, InlineKeyboardMarkup, Update
from telegram.ext import Application, CallbackQueryHandler, CommandHandler, MessageHandler, filters

from bot import reminders
from bot.call_messages import (
    KIND_NAMES,
    MANAGE_PREFIX,
    answer_keyboard,
    issuer_label,
    manage_keyboard,
    refresh_tallies,
    render_call,
    render_tally,
    revise_copies,
    when_text,
    zone_of,
)
from bot.context import AsambleaContext
from bot.i18n import N_, Gettext, gettext_for, ngettext_for
from domain.audit import Kind as AuditKind
from domain.calls import (
    CallKind,
    CallRefused,
    Issuer,
    Scope,
    ScopeKind,
    allowed_scopes,
    default_scope,
    parse_scope,
    split_kind,
    tally,
    target_regions,
)
from domain.codes import new_call_code
from domain.committees import Committee, Status
from domain.federation import Federation
from domain.when import WhenRefused, parse_when
from handlers.audit import record_call
from handlers.common import (
    answer_query,
    answered_prompt,
    chat_language,
    edit_pressed,
    quoted,
    reply,
    row_number,
    translator,
    update_is_from_delegate,
)
from storage.calls import Call
from storage.councils import Council

log = logging.getLogger(__name__)

DRAFT_PREFIX = "v1:cs:"
TEXT_MAX = 2000
PLACE_MAX = 200
KEEP = "-"  # in an update, keeps a part as it was

CALL_REFUSALS = {
    "unknown-kind": N_(
        "Unknown kind of call “{detail}”. The kinds are: strike, general strike, solidarity strike, rally, blockade."
    ),
    "kind-not-allowed": N_(
        "“{detail}” does not go with this command: /strike is for strikes, /rally for rallies and blockades."
    ),
    "scope-empty": N_("Name at least one region after the last “|”."),
    "unknown-region": N_("Unknown region “{detail}”."),
    "scope-beyond-rights": N_("This call cannot reach that far from here. You can address: {allowed}."),
}
WHEN_REFUSALS = {
    "unparsable": N_(
        "I cannot read the time “{text}”. Write for example: now, 18:00, tomorrow 18:00, 04.01.2022 18:00."
    ),
    "past": N_("The time “{text}” has already passed. For tomorrow, write: tomorrow {text}."),
    "too-far": N_("“{text}” is more than a year ahead."),
    "no-time": N_("Add a time to the date, for example: {text} 18:00."),
}
SCOPE_NAMES = {
    ScopeKind.COMMITTEE: N_("this committee"),
    ScopeKind.REGION: N_("the region"),
    ScopeKind.NEIGHBOURS: N_("the neighbouring regions"),
    ScopeKind.REGIONS: N_("regions by name"),
    ScopeKind.EVERYONE: N_("everyone"),
}


@dataclass(frozen=True)
class Seat:
    """Who is issuing from this chat: a committee or a council, as the domain sees it."""

    issuer: Issuer
    committee: Committee | None = None
    council: Council | None = None


def usage(_: Gettext, command: str) -> str:
    if command == "call":
        return _(
            "Send: /call KIND WHEN | PLACE | TEXT | SCOPE\nfor example:\n"
            "/call general strike tomorrow 08:00 | every workplace | General strike until our demands are met | all\n"
            "KIND: strike, general strike, solidarity strike, rally, blockade. SCOPE (optional): region, "
            "all, or regions by name separated by commas."
        )
    if command == "rally":
        return _(
            "Send: /rally WHEN | PLACE | TEXT | SCOPE\nfor example:\n"
            "/rally tomorrow 11:00 | Central square | Rally for the 100% wage rise | region\n"
            "Write /rally blockade … for a blockade. SCOPE (optional): here (this committee), region, "
            "neighbours, or regions by name separated by commas."
        )
    return _(
        "Send: /strike WHEN | PLACE | TEXT | SCOPE\nfor example:\n"
        "/strike now | at the gates | We stop work until fuel prices come down | region\n"
        "Write /strike general … or /strike solidarity … for those kinds. SCOPE (optional): here "
        "(this committee), region, neighbours, or regions by name separated by commas."
    )


async def find_seat(update: Update, context: AsambleaContext, command: str, conn: aiosqlite.Connection) -> Seat | str:
    """The issuing committee or council of this chat, or the reason (a message) why there is none."""
    chat_id = update.effective_chat.id
    if command == "call":
        council = await context.store.councils.by_chat(conn, chat_id)
        if council is None:
            return N_("/call works in a council's chat. A committee uses /strike or /rally.")
        return Seat(Issuer(region=council.region), council=council)
    committee = await context.store.committees.by_chat(conn, chat_id)
    if committee is None:
        if await context.store.councils.by_chat(conn, chat_id) is not None:
            return N_("In a council's chat, calls are made with /call.")
        return N_("This group is not a registered committee, so it cannot issue calls. An admin can /register it.")
    if committee.status is Status.PENDING:
        return N_("This committee is still waiting for its council's approval; it can issue calls once approved.")
    if committee.status is not Status.ACTIVE:
        return N_("This committee is not active, so it cannot issue calls.")
    return Seat(Issuer(region=committee.region, committee_id=committee.id), committee=committee)


def split_fields(text: str) -> list[str]:
    """WHEN | PLACE | TEXT [| SCOPE]; lines work as separators too when there is no "|"."""
    separator = "|" if "|" in text else "\n"
    return [part.strip() for part in text.split(separator)]


def command_arguments(update: Update) -> str:
    """Everything after the command, with its line breaks (context.args loses them)."""
    text = update.effective_message.text or ""
    parts = text.split(maxsplit=1)
    return parts[1] if len(parts) > 1 else ""


async def count_targets(conn: aiosqlite.Connection, context: AsambleaContext, seat: Seat, scope: Scope) -> int:
    return len(await targets(conn, context, seat.issuer, scope))


async def targets(
    conn: aiosqlite.Connection, context: AsambleaContext, issuer: Issuer, scope: Scope
) -> list[tuple[Committee, str | None]]:
    """The active committees a call reaches, with their languages."""
    regions = target_regions(context.config.federation, issuer, scope)
    found = await context.store.committees.active_in(conn, regions)
    if scope.kind is ScopeKind.COMMITTEE:
        found = [(c, language) for c, language in found if c.id == issuer.committee_id]
    return found


async def issue_command(update: Update, context: AsambleaContext, command: str) -> None:
    """Parse a call, check who may make it, and show the preview (a draft)."""
    _ = await translator(update, context)
    language = await chat_language(update, context)
    store = context.store
    federation = context.config.federation
    async with store.db.read() as conn:
        seat = await find_seat(update, context, command, conn)
    if isinstance(seat, str):
        await reply(update, _(seat))
        return
    if not await update_is_from_delegate(update, context):
        await reply(update, _("Only delegates (the admins of this chat) can issue calls."))
        return
    arguments = command_arguments(update)
    if not arguments.strip():
        await reply(update, usage(_, command))
        return
    try:
        kind, rest = split_kind(arguments, command)
        fields = split_fields(rest)
        if len(fields) < 3:
            await reply(
                update, _("A call needs a time, a place and a text, separated by “|”.") + "\n\n" + usage(_, command)
            )
            return
        when_raw, place, text = fields[0], fields[1], " | ".join(fields[2:3])
        scope_raw = " | ".join(fields[3:]).strip()
        scope = parse_scope(scope_raw, federation, language) if scope_raw else default_scope(federation, seat.issuer)
        target_regions(federation, seat.issuer, scope)
    except CallRefused as refused:
        await reply(update, refusal(_, refused, federation, seat.issuer, language))
        return
    zone = zone_of(federation, seat.issuer.region)
    try:
        starts = parse_when(when_raw, now=datetime.fromtimestamp(context.now(), zone), language=language)
    except WhenRefused as refused:
        await reply(update, _(WHEN_REFUSALS[refused.reason]).format(text=quoted(when_raw)))
        return
    place = "" if place == KEEP else place
    problem = content_problem(_, place, text)
    if problem:
        await reply(update, problem)
        return
    user = update.effective_user
    async with store.db.transaction() as tx:
        reached = await count_targets(tx, context, seat, scope)
        if reached == 0:
            call = None
        else:
            call = await store.calls.create_draft(
                tx,
                code=new_call_code(),
                kind=kind.value,
                scope=scope.encode(),
                issuer_region=seat.issuer.region,
                issuer_committee_id=seat.committee.id if seat.committee else None,
                issuer_council_id=seat.council.id if seat.council else None,
                starts_at=int(starts.timestamp()),
                place=place,
                text=text,
                created_by=user.id if user else update.effective_chat.id,
                now=context.now(),
            )
            preview, markup = await render_preview(tx, context, seat, call, language)
    if call is None:
        await reply(update, _("No active committee is in that scope yet, so the call would reach nobody."))
        return
    await reply(update, preview, reply_markup=markup)


def content_problem(_: Gettext, place: str, text: str) -> str | None:
    if not text:
        return _("The call needs a text: what is called, and why.")
    if len(text) > TEXT_MAX:
        return _("The text is too long: at most {max} characters.").format(max=TEXT_MAX)
    if len(place) > PLACE_MAX:
        return _("The place is too long: at most {max} characters.").format(max=PLACE_MAX)
    return None


def refusal(_: Gettext, refused: CallRefused, federation: Federation, issuer: Issuer, language: str) -> str:
    text = _(CALL_REFUSALS[refused.reason]).format(
        detail=quoted(refused.detail),
        allowed=", ".join(_(SCOPE_NAMES[kind]) for kind in allowed_scopes(federation, issuer)),
    )
    if refused.reason == "unknown-region":
        text += "\n" + _("The regions are: {regions}").format(
            regions=", ".join(r.display_name(language) for r in federation.committee_regions())
        )
    return text


async def render_preview(
    conn: aiosqlite.Connection, context: AsambleaContext, seat: Seat, call: Call, language: str
) -> tuple[str, InlineKeyboardMarkup]:
    """The draft as committees will see it, how many it reaches, and the buttons to decide."""
    _ = gettext_for(language)
    ngettext = ngettext_for(language)
    federation = context.config.federation
    scope = Scope.decode(call.scope)
    reached = await count_targets(conn, context, seat, scope)
    body = render_call(
        call,
        issuer=await issuer_label(conn, context.store, context.config, call, language),
        federation=federation,
        language=language,
        zone=zone_of(federation, seat.issuer.region),
    )
    text = "\n\n".join(
        [
            _("Preview: nothing has been sent yet."),
            body,
            ngettext(
                "This call will reach {count} committee.", "This call will reach {count} committees.", reached
            ).format(count=reached),
        ]
    )
    data = f"{DRAFT_PREFIX}{call.id}:"
    rows = [
        [
            InlineKeyboardButton(
                ngettext("✅ Send to {count} committee", "✅ Send to {count} committees", reached).format(
                    count=reached
                ),
                callback_data=data + "send",
            ),
            InlineKeyboardButton(_("✖️ Discard"), callback_data=data + "drop"),
        ]
    ]
    choices = []
    for kind in allowed_scopes(federation, seat.issuer):
        if kind is ScopeKind.REGIONS or kind is scope.kind:
            continue
        if kind is ScopeKind.REGION and seat.issuer.region == federation.root.id:
            continue  # at the root, "the region" is everyone
        n = await count_targets(conn, context, seat, Scope(kind))
        choices.append(
            InlineKeyboardButton(
                _("Instead: {scope} ({count})").format(scope=_(SCOPE_NAMES[kind]), count=n),
                callback_data=f"{data}s:{kind.value}",
            )
        )
    rows += [choices[i : i + 2] for i in range(0, len(choices), 2)]
    return text, InlineKeyboardMarkup(rows)


async def strike_command(update: Update, context: AsambleaContext) -> None:
    """/strike in a committee's group."""
    await issue_command(update, context, "strike")


async def rally_command(update: Update, context: AsambleaContext) -> None:
    """/rally in a committee's group."""
    await issue_command(update, context, "rally")


async def call_command(update: Update, context: AsambleaContext) -> None:
    """/call in a council's chat."""
    await issue_command(update, context, "call")


# -- the preview's buttons ---------------------------------------------------------------------------


async def seat_of_call(conn: aiosqlite.Connection, context: AsambleaContext, call: Call, chat_id: int) -> Seat | None:
    """The issuer's seat, if this chat is the issuer's chat (buttons elsewhere are forged or stale)."""
    if call.issuer_committee_id is not None:
        committee = await context.store.committees.by_chat(conn, chat_id)
        if committee is None or committee.id != call.issuer_committee_id or committee.status is not Status.ACTIVE:
            return None
        return Seat(Issuer(region=committee.region, committee_id=committee.id), committee=committee)
    council = await context.store.councils.by_chat(conn, chat_id)
    if council is None or council.id != call.issuer_council_id:
        return None
    return Seat(Issuer(region=council.region), council=council)


async def pressed_call(update: Update, context: AsambleaContext, prefix: str) -> tuple[Call, Seat, str] | None:
    """The call a button names, the issuer's seat and the button's action; None unless the button
    was pressed in the issuer's own chat (elsewhere it is forged or stale)."""
    try:
        call_id, action = update.callback_query.data.removeprefix(prefix).split(":", 1)
        call_id_number = row_number(call_id)
    except ValueError:
        return None
    async with context.store.db.read() as conn:
        call = await context.store.calls.get(conn, call_id_number)
        seat = await seat_of_call(conn, context, call, update.effective_chat.id) if call else None
    return (call, seat, action) if call and seat else None


async def draft_button(update: Update, context: AsambleaContext) -> None:
    """Send, Discard or change the scope of a previewed call."""
    query = update.callback_query
    _ = await translator(update, context)
    language = await chat_language(update, context)
    store = context.store
    pressed = await pressed_call(update, context, DRAFT_PREFIX)
    if pressed is None or pressed[0].status == "discarded":
        await answer_query(update, _("This button is no longer valid."), alert=True)
        return
    call, seat, action = pressed
    if call.status != "draft":
        await answer_query(update, _("This call has already been sent."), alert=True)
        return
    if not await update_is_from_delegate(update, context):
        await answer_query(update, _("Only delegates (the admins of this chat) can issue calls."), alert=True)
        return
    if action == "drop":
        async with store.db.transaction() as tx:
            await store.calls.discard_draft(tx, call.id)
        await answer_query(update, _("Discarded."))
        await query.edit_message_text(_("Discarded: this call was not sent."), reply_markup=None)
    elif action.startswith("s:"):
        await change_scope(update, context, call, seat, action[2:], language)
    elif action == "send":
        await send_call(update, context, call, seat, language)
    else:
        await answer_query(update, _("This button is no longer valid."), alert=True)


async def change_scope(
    update: Update, context: AsambleaContext, call: Call, seat: Seat, scope_kind: str, language: str
) -> None:
    _ = gettext_for(language)
    try:
        scope = Scope(ScopeKind(scope_kind))
        target_regions(context.config.federation, seat.issuer, scope)
    except (ValueError, CallRefused):
        await answer_query(update, _("This button is no longer valid."), alert=True)
        return
    async with context.store.db.transaction() as tx:
        await context.store.calls.set_draft_scope(tx, call.id, scope.encode())
        changed = await context.store.calls.get(tx, call.id)
        preview, markup = await render_preview(tx, context, seat, changed, language)
    await answer_query(update)
    await edit_pressed(update, preview, reply_markup=markup)


async def send_call(update: Update, context: AsambleaContext, call: Call, seat: Seat, language: str) -> None:
    """Write the call, a copy per committee and the live tallies in one transaction."""
    _ = gettext_for(language)
    ngettext = ngettext_for(language)
    store = context.store
    now = context.now()
    async with store.db.transaction() as tx:
        if not await store.calls.activate(tx, call.id, now=now):
            sent = None
        else:
            sent = await store.calls.get(tx, call.id)
            reached = await fan_out(tx, context, sent, seat)
            await record_call(tx, context, update, sent, AuditKind.CALL_ISSUED)
    if sent is None:
        await answer_query(update, _("This call has already been sent."), alert=True)
        return
    context.outbox.wake()
    reminders.plan(context.application, sent.id)
    await answer_query(update, _("Sent."))
    await update.callback_query.edit_message_text(
        ngettext(
            "✅ Sent to {count} committee. Verification code: {code}. The status message below follows the answers.",
            "✅ Sent to {count} committees. Verification code: {code}. The status message below follows the answers.",
            reached,
        ).format(count=reached, code=sent.code),
        reply_markup=None,
    )


async def fan_out(conn: aiosqlite.Connection, context: AsambleaContext, call: Call, seat: Seat) -> int:
    """The tallies first (the issuer sees the status at once), then one copy per committee."""
    store = context.store
    config = context.config
    federation = config.federation
    now = context.now()
    recipients = await targets(conn, context, seat.issuer, Scope.decode(call.scope))
    counts = tally([("pending", None)] * len(recipients), [])
    # (committee id, council id, chat id, region, whether it is the issuer's own chat)
    tally_chats: list[tuple[int | None, int | None, int, str, bool]] = []
    if seat.committee is not None:
        tally_chats.append((seat.committee.id, None, seat.committee.chat_id, seat.committee.region, True))
        above = federation.responsible_council(seat.committee.region, await store.councils.linked_regions(conn))
        council = await store.councils.by_region(conn, above) if above else None
        if council is not None:
            tally_chats.append((None, council.id, council.chat_id, council.region, False))
    else:
        tally_chats.append((None, seat.council.id, seat.council.chat_id, seat.council.region, True))
    for committee_id, council_id, chat_id, region, issuer_chat in tally_chats:
        language = await store.chat_settings.language(conn, chat_id) or config.default_language
        outbox_id = await store.outbox.enqueue(
            conn,
            purpose="tally",
            text=render_tally(call, counts, federation=federation, language=language, zone=zone_of(federation, region)),
            reply_markup=manage_keyboard(call, language) if issuer_chat else None,
            committee_id=committee_id,
            council_id=council_id,
            now=now,
        )
        await store.calls.add_tally(conn, call.id, outbox_id)
    # Committees of one language and region read the same text: render it once.
    rendered: dict[tuple[str, str], tuple[str, dict | None]] = {}
    messages = []
    for committee, chosen in recipients:
        language = chosen or config.default_language
        key = (language, committee.region)
        if key not in rendered:
            text = render_call(
                call,
                issuer=await issuer_label(conn, store, config, call, language),
                federation=federation,
                language=language,
                zone=zone_of(federation, committee.region),
            )
            rendered[key] = (text, answer_keyboard(call, language))
        messages.append((committee.id, *rendered[key]))
    outbox_ids = await store.outbox.enqueue_many(conn, purpose="call", messages=messages, now=now)
    await store.calls.add_deliveries(
        conn,
        call.id,
        [(committee.id, outbox_id) for (committee, _), outbox_id in zip(recipients, outbox_ids, strict=True)],
    )
    if CallKind(call.kind) in reminders.REMINDED_KINDS:
        await store.calls.set_reminders(
            conn, call.id, [int(h * 3600) for h in config.reminder_hours], call.starts_at, now=now
        )
    return len(recipients)


# -- /calls, update and cancel ------------------------------------------------------------------------


async def calls_command(update: Update, context: AsambleaContext) -> None:
    """/calls: the calls this chat issued (with Update / Cancel) and, in a committee, those it received."""
    _ = await translator(update, context)
    language = await chat_language(update, context)
    store = context.store
    federation = context.config.federation
    chat_id = update.effective_chat.id
    async with store.db.read() as conn:
        committee = await store.committees.by_chat(conn, chat_id)
        council = None if committee else await store.councils.by_chat(conn, chat_id)
        if committee is None and council is None:
            issued, received = [], []
        elif committee is not None:
            issued = await store.calls.issued_by(conn, committee_id=committee.id)
            received = [
                c for c in await store.calls.received_by(conn, committee.id) if c.issuer_committee_id != committee.id
            ]
        else:
            issued = await store.calls.issued_by(conn, council_id=council.id)
            received = []
        answers = {c.id: await store.calls.answer_of(conn, c.id, committee.id) for c in received} if committee else {}
        issued_counts = {
            c.id: tally(await store.calls.delivery_states(conn, c.id), await store.calls.answers(conn, c.id))
            for c in issued
        }
        labels = {c.id: await issuer_label(conn, store, context.config, c, language) for c in received}
    if committee is None and council is None:
        await reply(update, _("/calls works in a committee's or council's chat."))
        return
    region = committee.region if committee else council.region
    zone = zone_of(federation, region)
    if not issued and not received:
        await reply(update, _("No call is active here."))
        return
    lines: list[str] = []
    buttons: list[list[InlineKeyboardButton]] = []
    if issued:
        lines.append(_("Calls issued here:"))
        for call in issued:
            counts = issued_counts[call.id]
            lines.append(
                _("• {code}: {kind}, {when}: delivered {delivered} of {targets}, joining {joined}").format(
                    code=call.code,
                    kind=_(KIND_NAMES[CallKind(call.kind)]),
                    when=when_text(call.starts_at, language, zone),
                    delivered=counts.delivered,
                    targets=counts.targets - counts.dropped,
                    joined=counts.joined,
                )
            )
            buttons.append(
                [
                    InlineKeyboardButton(
                        _("✏️ Update {code}").format(code=call.code), callback_data=f"{MANAGE_PREFIX}{call.id}:edit"
                    ),
                    InlineKeyboardButton(
                        _("✖️ Cancel {code}").format(code=call.code), callback_data=f"{MANAGE_PREFIX}{call.id}:cancel"
                    ),
                ]
            )
    if received:
        lines.append(_("Calls this committee received:"))
        for call in received:
            answer = answers[call.id][0]
            lines.append(
                _("• {code}: {kind} from {issuer}, {when}: {answer}").format(
                    code=call.code,
                    kind=_(KIND_NAMES[CallKind(call.kind)]),
                    issuer=labels[call.id],
                    when=when_text(call.starts_at, language, zone),
                    answer=_(ANSWER_STATES.get(answer, ANSWER_STATES[""])),
                )
            )
    await reply(update, "\n".join(lines), reply_markup=InlineKeyboardMarkup(buttons) if buttons else None)


ANSWER_STATES = {
    "": N_("not answered yet"),
    "join": N_("joining"),
    "decline": N_("not joining"),
    "undecided": N_("undecided"),
}


async def manage_button(update: Update, context: AsambleaContext) -> None:
    """Update / Cancel a call, from its tally or from /calls; only the issuer's delegates."""
    _ = await translator(update, context)
    pressed = await pressed_call(update, context, MANAGE_PREFIX)
    if pressed is None or pressed[2] not in ("edit", "cancel", "cancel-yes", "keep"):
        await answer_query(update, _("This button is no longer valid."), alert=True)
        return
    call, _seat, action = pressed
    if call.status != "active":
        await answer_query(update, _("This call was cancelled; it can no longer be changed."), alert=True)
        return
    if not await update_is_from_delegate(update, context):
        await answer_query(update, _("Only delegates (the admins of this chat) can change a call."), alert=True)
        return
    if action == "edit":
        await answer_query(update)
        prompt = await reply(
            update,
            _(
                "Reply to this message with the new WHEN | PLACE | TEXT of call {code}. Write - for a part "
                "that stays as it is, e.g.: tomorrow 10:00 | - | -"
            ).format(code=call.code),
            reply_markup=ForceReply(selective=True),
        )
        if prompt is not None:
            context.chat_data["call_update_prompt"] = {"message_id": prompt.message_id, "call_id": call.id}
    elif action == "cancel":
        await answer_query(update)
        data = f"{MANAGE_PREFIX}{call.id}:"
        await reply(
            update,
            _("Cancel call {code} for every committee it reached?").format(code=call.code),
            reply_markup=InlineKeyboardMarkup(
                [
                    [
                        InlineKeyboardButton(_("Yes, cancel it"), callback_data=data + "cancel-yes"),
                        InlineKeyboardButton(_("No, keep it"), callback_data=data + "keep"),
                    ]
                ]
            ),
        )
    elif action == "keep":
        await answer_query(update, _("The call stands."))
        await edit_pressed(update, _("The call stands."), reply_markup=None)
    else:
        await cancel_call(update, context, call)


async def cancel_call(update: Update, context: AsambleaContext, call: Call) -> None:
    """Cancel: copies not yet sent are withdrawn, sent ones edited to say so, reminders dropped."""
    _ = await translator(update, context)
    store = context.store
    now = context.now()
    async with store.db.transaction() as tx:
        if not await store.calls.cancel(tx, call.id, now=now):
            cancelled = None
        else:
            cancelled = await store.calls.get(tx, call.id)
            await record_call(tx, context, update, cancelled, AuditKind.CALL_CANCELLED)
            await revise_copies(tx, store, context.config, cancelled, now=now, drop_unsent=True)
            await store.calls.drop_reminders(tx, call.id)
            await refresh_tallies(
                tx, store, context.config, call.id, now=context.clock.time(), speed=context.clock.speed
            )
    if cancelled is None:
        await answer_query(update, _("This call was cancelled; it can no longer be changed."), alert=True)
        return
    context.outbox.wake()
    reminders.unplan(context.application, call.id)
    await answer_query(update, _("Cancelled."))
    await update.callback_query.edit_message_text(
        _("❌ Call {code} is cancelled. Every committee that received it sees that now.").format(code=call.code),
        reply_markup=None,
    )


async def update_reply(update: Update, context: AsambleaContext) -> None:
    """The reply to an Update prompt: new time, place and text for a call."""
    prompt = answered_prompt(update, context, "call_update_prompt")
    if prompt is None:
        return
    message = update.effective_message
    _ = await translator(update, context)
    language = await chat_language(update, context)
    store = context.store
    federation = context.config.federation
    async with store.db.read() as conn:
        call = await store.calls.get(conn, prompt["call_id"])
        seat = await seat_of_call(conn, context, call, update.effective_chat.id) if call else None
    if call is None or seat is None or call.status != "active":
        context.chat_data.pop("call_update_prompt", None)
        await reply(update, _("This call was cancelled; it can no longer be changed."))
        return
    if not await update_is_from_delegate(update, context):
        await reply(update, _("Only delegates (the admins of this chat) can change a call."))
        return
    fields = split_fields(message.text or "")
    if len(fields) != 3:
        await reply(update, _("Reply with three parts, WHEN | PLACE | TEXT, and - for a part that stays."))
        return
    when_raw, place, text = fields
    starts_at = call.starts_at
    if when_raw != KEEP:
        zone = zone_of(federation, seat.issuer.region)
        try:
            starts_at = int(
                parse_when(when_raw, now=datetime.fromtimestamp(context.now(), zone), language=language).timestamp()
            )
        except WhenRefused as refused:
            await reply(update, _(WHEN_REFUSALS[refused.reason]).format(text=quoted(when_raw)))
            return
    place = call.place if place == KEEP else place
    text = call.text if text == KEEP else text
    problem = content_problem(_, place, text)
    if problem:
        await reply(update, problem)
        return
    now = context.now()
    async with store.db.transaction() as tx:
        await store.calls.revise(tx, call.id, starts_at=starts_at, place=place, text=text, now=now)
        revised = await store.calls.get(tx, call.id)
        await record_call(tx, context, update, revised, AuditKind.CALL_CHANGED)
        copies = await revise_copies(tx, store, context.config, revised, now=now)
        if CallKind(call.kind) in reminders.REMINDED_KINDS:
            await store.calls.set_reminders(
                tx, call.id, [int(h * 3600) for h in context.config.reminder_hours], starts_at, now=now
            )
        await refresh_tallies(tx, store, context.config, call.id, now=context.clock.time(), speed=context.clock.speed)
    context.chat_data.pop("call_update_prompt", None)
    context.outbox.wake()
    reminders.plan(context.application, call.id)
    ngettext = ngettext_for(language)
    await reply(
        update,
        ngettext(
            "✏️ Call {code} updated; its {count} copy is being edited.",
            "✏️ Call {code} updated; its {count} copies are being edited.",
            copies,
        ).format(code=call.code, count=copies),
    )


def register(application: Application) -> None:
    groups = filters.UpdateType.MESSAGE & filters.ChatType.GROUPS
    councils = groups | filters.UpdateType.CHANNEL_POST
    application.add_handler(CommandHandler("strike", strike_command, groups))
    application.add_handler(CommandHandler("rally", rally_command, groups))
    application.add_handler(CommandHandler("call", call_command, councils))
    application.add_handler(CommandHandler("calls", calls_command, councils))
    application.add_handler(CallbackQueryHandler(draft_button, pattern=f"^{DRAFT_PREFIX}"))
    application.add_handler(CallbackQueryHandler(manage_button, pattern=f"^{MANAGE_PREFIX}"))
    # Replies to prompts share group 0 with registration's name reply; a reply to our prompt is
    # told apart by its message id, so this runs in its own group and returns on anything else.
    application.add_handler(
        MessageHandler(filters.ChatType.GROUPS & filters.REPLY & filters.TEXT & ~filters.COMMAND, update_reply), group=1
    )
