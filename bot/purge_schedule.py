"""The daily purge of old data (storage/retention.py), at 04:00 in the federation's timezone.

One alarm waits for the next 04:00 (a quiet hour: the purge's batches then hold up nobody); when
it rings, everything older than `[privacy] retention_days` goes, and the alarm is set for the next
day. The run is recorded in the database, so a start after downtime that missed a purge runs it
once, at once, and a start that did not miss one only sets the alarm.
"""

from __future__ import annotations

import logging
from datetime import time

from telegram.ext import Application, ContextTypes

from bot.config import Config
from bot.jobs import run_at
from domain.schedule import DigestSchedule, last_slot, next_slot
from storage import retention

log = logging.getLogger(__name__)

ALARM = "retention-purge"
PURGE_AT = time(4, 0)


def schedule_of(config: Config) -> DigestSchedule:
    """Once a day at PURGE_AT, local time (the digest schedule's rules for wall times apply)."""
    return DigestSchedule(every_hours=None, daily_at=(PURGE_AT,), timezone=config.federation.root.timezone)


async def restore(application: Application) -> None:
    """At start: ring at once if a purge was missed (or never ran), else at the next slot."""
    store = application.bot_data["store"]
    now = int(application.bot_data["clock"].time())
    async with store.db.read() as conn:
        last = await retention.last_run(conn)
    missed = last_slot(schedule_of(application.bot_data["config"]), now)
    if missed is not None and (last is None or last.ran_at < missed):
        run_at(application, _ring, missed, name=ALARM, data={})
    else:
        plan(application, after=now)


def plan(application: Application, *, after: int) -> None:
    slot = next_slot(schedule_of(application.bot_data["config"]), after)
    if slot is not None:
        run_at(application, _ring, slot, name=ALARM, data={})


async def _ring(context: ContextTypes.DEFAULT_TYPE) -> None:
    store = context.bot_data["store"]
    config: Config = context.bot_data["config"]
    now = int(context.bot_data["clock"].time())
    try:
        counts = await retention.purge(store.db, now=now, retention_days=config.retention_days)
        log.info("retention: purged %d rows older than %d days %s", sum(counts.values()), config.retention_days, counts)
    except Exception:
        # A failed purge (a full disk) must not stop tomorrow's: the alarm is set again below.
        log.exception("retention: the purge failed")
    finally:
        plan(context.application, after=now)
