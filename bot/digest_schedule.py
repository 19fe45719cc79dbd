"""Digests on a schedule: every few hours and at fixed local times, to every linked council.

One alarm waits for the next slot (domain/schedule.py, in the federation's timezone); when it
rings, each council gets the slot's digest and the alarm is set for the slot after. A digest row
is unique per council and slot, so an alarm that rings twice (a restart in between) sends once.

If the bot was down when a slot passed, the start sends that council's latest missed slot once,
marked as late, and none of the slots before it: coordinators want the state of things now, not
a pile of stale digests.
"""

from __future__ import annotations

import logging

from telegram.ext import Application, ContextTypes

from bot import digest
from bot.config import Config
from bot.jobs import run_at
from domain.schedule import DigestSchedule, last_slot, next_slot

log = logging.getLogger(__name__)

ALARM = "digest"
# A digest that leaves within this long of its slot is on time (the alarm itself takes a moment).
LATE_AFTER_S = 15 * 60


def schedule_of(config: Config) -> DigestSchedule:
    return DigestSchedule(
        every_hours=config.digest_every_hours,
        daily_at=config.digest_daily_at,
        timezone=config.federation.root.timezone,
    )


async def restore(application: Application) -> None:
    """At start: the latest missed slot, once and late; then the alarm for the next one."""
    clock = application.bot_data["clock"]
    config: Config = application.bot_data["config"]
    now = int(clock.time())
    missed = last_slot(schedule_of(config), now)
    if missed is not None:
        await send_slot(application, missed, now=now, catching_up=True)
    plan(application, after=now)


def plan(application: Application, *, after: int) -> None:
    slot = next_slot(schedule_of(application.bot_data["config"]), after)
    if slot is not None:
        run_at(application, _ring, slot, name=ALARM, data={"slot": slot})


async def _ring(context: ContextTypes.DEFAULT_TYPE) -> None:
    now = int(context.bot_data["clock"].time())
    # Rung late past further slots (the machine slept, the clock jumped): only the latest one is news.
    slot = max(context.job.data["slot"], last_slot(schedule_of(context.bot_data["config"]), now) or 0)
    try:
        await send_slot(context.application, slot, now=now)
    finally:
        plan(context.application, after=max(slot, now))


async def send_slot(application: Application, slot: int, *, now: int, catching_up: bool = False) -> int:
    """The slot's digest to every council linked before it that has not had it; how many were sent.

    When catching up, a council that already had a digest after the slot (asked with /digest, or
    a later slot) is not sent a stale one."""
    store = application.bot_data["store"]
    config: Config = application.bot_data["config"]
    sent = 0
    charts: dict[str, bytes] = {}
    async with store.db.read() as conn:
        councils = await store.councils.all(conn)
        latest = {council.id: await store.digests.last(conn, council.id) for council, _linked in councils}
    for council, linked_at in councils:
        last = latest[council.id]
        if linked_at > slot or not council.reachable:
            continue
        if catching_up and last is not None and (last.slot == slot or last.built_at >= slot):
            continue
        try:
            if await digest.send(
                store, config, council, now=now, slot=slot, late=now - slot > LATE_AFTER_S, charts=charts
            ):
                sent += 1
        except Exception:
            # One council's digest failing (a bug, a full disk) must not keep the others from theirs.
            log.exception("digest for council %d at slot %d failed", council.id, slot)
    if sent:
        application.bot_data["outbox"].wake()
    return sent
