"""Reminders before rallies and blockades, as JobQueue jobs planned from the database.

The database is the plan (`call_reminders`); jobs are only alarms. A job is named after its
reminder (PTB's job names double as de-duplication keys), is re-created from the database at
every start, and sends by marking its reminder `sent` in the same transaction that queues the
messages, so a restart loses no reminder and a second alarm for the same one sends nothing.
A reminder whose moment passed while the bot was down is sent late only if the rally has not
begun yet; otherwise it is skipped.
"""

from __future__ import annotations

import logging

from telegram.ext import Application

from bot.call_messages import issuer_label, when_text, zone_of
from bot.config import Config
from bot.context import AsambleaContext
from bot.i18n import gettext_for, ngettext_for
from bot.jobs import run_at
from domain.calls import RALLY_KINDS, Answer
from storage.calls import Call, Reminder

log = logging.getLogger(__name__)

REMINDED_KINDS = RALLY_KINDS


def job_name(call_id: int, lead_s: int) -> str:
    return f"call-reminder:{call_id}:{lead_s}"


def _schedule(application: Application, reminder: Reminder) -> None:
    run_at(
        application,
        send_reminder,
        reminder.due_at,
        name=job_name(reminder.call_id, reminder.lead_s),
        data={"call_id": reminder.call_id, "lead_s": reminder.lead_s},
    )


def unplan(application: Application, call_id: int) -> None:
    """Remove a call's alarms (it was cancelled); the database already says skipped."""
    for job in application.job_queue.jobs():
        if job.name and job.name.startswith(f"call-reminder:{call_id}:"):
            job.schedule_removal()


def plan(application: Application, call_id: int) -> None:
    """(Re)create the alarms of one call from the database, in the background."""
    application.create_task(_plan(application, call_id), name=f"plan-reminders-{call_id}")


async def _plan(application: Application, call_id: int | None) -> None:
    store = application.bot_data["store"]
    async with store.db.read() as conn:
        pending = await store.calls.pending_reminders(conn, call_id)
    if call_id is not None:
        unplan(application, call_id)
    for reminder in pending:
        _schedule(application, reminder)


async def restore(application: Application) -> None:
    """At start: an alarm for every reminder still pending."""
    await _plan(application, None)


async def send_reminder(context: AsambleaContext) -> None:
    """Queue the reminder to every committee that got the call and has not declined it."""
    data = context.job.data
    store = context.store
    config = context.config
    now = context.now()
    async with store.db.transaction() as tx:
        call = await store.calls.get(tx, data["call_id"])
        if call is None or call.status != "active" or call.starts_at <= now:
            await store.calls.finish_reminder(tx, data["call_id"], data["lead_s"], "skipped")
            return
        if not await store.calls.finish_reminder(tx, call.id, data["lead_s"], "sent"):
            return  # an earlier alarm sent it
        # One text per language and region; only copies that arrived, to committees that did not decline.
        texts: dict[tuple[str, str], str] = {}
        sent = 0
        for copy in await store.calls.copies(tx, call.id):
            if copy.state != "sent" or copy.answer == Answer.DECLINE:
                continue
            language = copy.language or config.default_language
            key = (language, copy.region)
            if key not in texts:
                issuer = await issuer_label(tx, store, config, call, language)
                texts[key] = reminder_text(call, issuer, language, copy.region, config, now)
            await store.outbox.enqueue(tx, purpose="reminder", text=texts[key], committee_id=copy.committee_id, now=now)
            sent += 1
    log.info("reminder for a call queued to %d committees", sent)
    context.outbox.wake()


def reminder_text(call: Call, issuer: str, language: str, region: str, config: Config, now: int) -> str:
    _ = gettext_for(language)
    ngettext = ngettext_for(language)
    hours = max(1, round((call.starts_at - now) / 3600))
    lines = [
        ngettext("⏰ Reminder: in about {hours} hour", "⏰ Reminder: in about {hours} hours", hours).format(
            hours=hours
        ),
        _("From: {issuer}").format(issuer=issuer),
        _("When: {when}").format(when=when_text(call.starts_at, language, zone_of(config.federation, region))),
    ]
    if call.place:
        lines.append(_("Where: {place}").format(place=call.place))
    lines += ["", call.text, "", _("Verification code: {code}").format(code=call.code)]
    return "\n".join(lines)
