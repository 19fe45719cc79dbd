"""Strike status: `/status` shows a committee's status and its recent history; its delegates report
on strike / back at work / suppressed (by word or button, optionally "since" a past moment).

The report and any solidarity appeal it sets off are one transaction (bot/strike_status.py).
The council's one-tap "send the appeal" button is handled here too: it is the other half of
the same feature, and only the delegates of the council it was put to can press it.

    /status                       the status and its history (anyone); buttons for delegates
    /status strike [| SINCE]      also: work, suppressed; SINCE like "yesterday 09:00"
"""

from __future__ import annotations

from datetime import UTC, datetime

from telegram import Update
from telegram.ext import Application, CallbackQueryHandler, CommandHandler, filters

from bot.call_messages import when_text, zone_of
from bot.context import AsambleaContext
from bot.i18n import N_, Gettext, gettext_for
from bot.strike_status import APPEAL_PREFIX, DISMISS, SEND, record_status, send_appeal, suggestion_message
from domain.audit import Kind as AuditKind
from domain.committees import Committee
from domain.spread import StrikeStatus
from domain.when import WhenRefused, parse_when
from domain.words import fold
from handlers.audit import acting_person, record_council
from handlers.common import answer_query, chat_language, quoted, reply, update_is_from_delegate
from handlers.demands import active_committee
from handlers.programme import council_press

STATUS_PREFIX = "v1:st:"  # v1:st:<committee>:s|w|x
CODES = {"s": StrikeStatus.ON_STRIKE, "w": StrikeStatus.BACK_AT_WORK, "x": StrikeStatus.SUPPRESSED}
LABELS = {
    StrikeStatus.ON_STRIKE: N_("on strike"),
    StrikeStatus.BACK_AT_WORK: N_("back at work"),
    StrikeStatus.SUPPRESSED: N_("suppressed"),
}
BUTTONS = {
    StrikeStatus.ON_STRIKE: N_("✊ On strike"),
    StrikeStatus.BACK_AT_WORK: N_("🏭 Back at work"),
    StrikeStatus.SUPPRESSED: N_("⛓ Suppressed"),
}
# The one-word arguments, in English and in the chat's language.
WORDS = {
    StrikeStatus.ON_STRIKE: ("strike", N_("strike")),
    StrikeStatus.BACK_AT_WORK: ("work", N_("work")),
    StrikeStatus.SUPPRESSED: ("suppressed", N_("suppressed")),
}
HISTORY = 5
NOT_DELEGATE = N_("Only the committee's delegates report its strike status.")
WHEN_REFUSALS = {
    "unparsable": N_("I cannot read the time “{text}”. Write for example: 09:00, yesterday 09:00, 03.01.2022 09:00."),
    "no-time": N_("Add a time to the date, for example: {text} 09:00."),
    "future": N_("“{text}” has not come yet. Report a strike once it has begun."),
    "too-far": N_("“{text}” is more than a year ago."),
    "past": N_("I cannot read the time “{text}”."),
}


def usage(_: Gettext) -> str:
    return _(
        "Report this committee's strike status (delegates):\n"
        "/status strike — on strike from now; /status strike | yesterday 09:00 — since then\n"
        "/status work — back at work; /status suppressed — the strike was suppressed"
    )


def parse_status(_: Gettext, word: str) -> StrikeStatus | None:
    folded = fold(word)
    for status, (english, translated) in WORDS.items():
        if folded in (english, fold(_(translated)), fold(_(LABELS[status]))):
            return status
    return None


async def status_command(update: Update, context: AsambleaContext) -> None:
    language = await chat_language(update, context)
    _ = gettext_for(language)
    committee = await active_committee(update, context)
    if isinstance(committee, str):
        await reply(update, _(committee))
        return
    argument = " ".join(context.args or [])
    if not argument.strip():
        await show_status(update, context, committee, language)
        return
    if not await update_is_from_delegate(update, context):
        await reply(update, _(NOT_DELEGATE))
        return
    word, _bar, since_text = argument.partition("|")
    status = parse_status(_, word)
    if status is None:
        await reply(update, _("Unknown status “{text}”.").format(text=quoted(word)) + "\n\n" + usage(_))
        return
    since = context.now()
    if since_text.strip():
        zone = zone_of(context.config.federation, committee.region)
        now = datetime.fromtimestamp(context.now(), UTC).astimezone(zone)
        try:
            since = int(parse_when(since_text, now=now, language=language, past=True).timestamp())
        except WhenRefused as refused:
            await reply(update, _(WHEN_REFUSALS[refused.reason]).format(text=quoted(since_text)))
            return
    await report(update, context, committee, status, since)
    await reply(update, recorded_text(context, committee, status, since, language))


async def report(
    update: Update, context: AsambleaContext, committee: Committee, status: StrikeStatus, since: int
) -> None:
    store = context.store
    user = update.effective_user
    async with store.db.transaction() as tx:
        await record_status(
            tx,
            store,
            context.config,
            committee.id,
            committee.region,
            status,
            since=since,
            by=user.id if user else committee.chat_id,
            now=context.now(),
        )
    context.outbox.wake()


def recorded_text(
    context: AsambleaContext, committee: Committee, status: StrikeStatus, since: int, language: str
) -> str:
    _ = gettext_for(language)
    zone = zone_of(context.config.federation, committee.region)
    return _("Recorded: this committee is {status} since {since}.").format(
        status=_(LABELS[status]), since=when_text(since, language, zone)
    )


async def show_status(update: Update, context: AsambleaContext, committee: Committee, language: str) -> None:
    _ = gettext_for(language)
    store = context.store
    async with store.db.read() as conn:
        history = await store.spread.history(conn, committee.id, limit=HISTORY + 1)
    zone = zone_of(context.config.federation, committee.region)
    now = context.now()
    current = next(((s, t) for s, t in history if t <= now), None)
    if current is None:
        lines = [_("This committee has not reported a strike status yet.")]
    else:
        lines = [
            _("This committee is {status} since {since}.").format(
                status=_(LABELS[StrikeStatus(current[0])]), since=when_text(current[1], language, zone)
            )
        ]
    earlier = [(s, t) for s, t in history if (s, t) != current][:HISTORY]
    if earlier:
        lines.append("")
        lines.append(_("Earlier and planned:"))
        lines += [f"• {when_text(t, language, zone)}: {_(LABELS[StrikeStatus(s)])}" for s, t in earlier]
    lines.append("")
    lines.append(_("Delegates can report a change with the buttons or with /status strike | work | suppressed."))
    buttons = [
        [{"text": _(BUTTONS[s]), "callback_data": f"{STATUS_PREFIX}{committee.id}:{code}"} for code, s in CODES.items()]
    ]
    await reply(update, "\n".join(lines), reply_markup={"inline_keyboard": buttons})


async def status_button(update: Update, context: AsambleaContext) -> None:
    """A delegate taps on strike / back at work / suppressed under /status."""
    language = await chat_language(update, context)
    _ = gettext_for(language)
    committee_part, _colon, code = update.callback_query.data.removeprefix(STATUS_PREFIX).partition(":")
    committee = await active_committee(update, context)
    if isinstance(committee, str) or committee_part != str(committee.id) or code not in CODES:
        await answer_query(update, _("This button is no longer valid."), alert=True)
        return
    if not await update_is_from_delegate(update, context):
        await answer_query(update, _(NOT_DELEGATE), alert=True)
        return
    status, since = CODES[code], context.now()
    await report(update, context, committee, status, since)
    await answer_query(update, _("Recorded."))
    await reply(update, recorded_text(context, committee, status, since, language))


async def appeal_button(update: Update, context: AsambleaContext) -> None:
    """A council delegate sends (or sets aside) the solidarity appeal suggested to the council."""
    language = await chat_language(update, context)
    _ = gettext_for(language)
    pressed = await council_press(update, context, APPEAL_PREFIX, 1, (SEND, DISMISS))
    if pressed is None:
        return
    council, (appeal_id,), action = pressed
    store = context.store
    config = context.config
    async with store.db.transaction() as tx:
        appeal = await store.spread.appeal(tx, appeal_id)
        if appeal is None or appeal.council_id != council.id:
            problem = _("This button is no longer valid.")
        elif not await store.spread.decide_appeal(
            tx, appeal_id, "sent" if action == SEND else "dismissed", now=context.now()
        ):
            problem = _("This appeal was already decided.")
        else:
            problem = None
            appeal = await store.spread.appeal(tx, appeal_id)
            sent = await send_appeal(tx, store, config, appeal, now=context.now()) if action == SEND else 0
            kind = AuditKind.APPEAL_SENT if action == SEND else AuditKind.APPEAL_DISMISSED
            await record_council(tx, context, council, kind, by=acting_person(update))
            committees = len(await store.committees.active_in(tx, appeal.targets))
            text, markup = suggestion_message(config, appeal, language, committees=committees)
            if appeal.outbox_id is not None:
                await store.outbox.revise(tx, appeal.outbox_id, text=text, reply_markup=markup, now=context.now())
    if problem:
        await answer_query(update, problem, alert=True)
        return
    context.outbox.wake()
    if action == SEND:
        await answer_query(update, _("The appeal goes to {count} committees.").format(count=sent))
    else:
        await answer_query(update, _("Not sent."))


def register(application: Application) -> None:
    groups = filters.ChatType.GROUPS
    application.add_handler(CommandHandler("status", status_command, groups))
    application.add_handler(CallbackQueryHandler(status_button, pattern=f"^{STATUS_PREFIX}"))
    application.add_handler(CallbackQueryHandler(appeal_button, pattern=f"^{APPEAL_PREFIX}"))
