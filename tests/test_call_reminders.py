"""Rally reminders are JobQueue jobs planned from the database: a restart loses none and
sends none twice. The bot's clock runs 1,800 times faster here: half an hour per second."""

from __future__ import annotations

import time
from datetime import datetime
from zoneinfo import ZoneInfo

import pytest

from bot.clock import ScaledClock
from tests.movement import Movement

SPEED = 1800.0
RALLY = "Rally in Shymkent"


@pytest.fixture
def clock() -> ScaledClock:
    return ScaledClock(time.time(), speed=SPEED)


@pytest.fixture
def config_changes() -> dict[str, dict]:
    return {"calls": {"reminder_hours": [3, 1]}}


def hours_from_now(clock: ScaledClock, hours: float, zone: str) -> str:
    moment = datetime.fromtimestamp(clock.time() + hours * 3600, ZoneInfo(zone))
    return moment.strftime("%Y-%m-%d %H:%M")


async def reminders_in(movement: Movement, chat: int) -> list[dict]:
    return [m for m in await movement.client.messages(chat) if "Reminder" in m["text"]]


async def test_reminders_survive_a_restart_and_are_sent_once(movement: Movement, clock: ScaledClock):
    council, admin = await movement.council("kz")
    [(chat, _)] = await movement.seed_committees("shymkent", 1)
    zone = movement.config.federation.regions["shymkent"].timezone
    # The preview and sending take some real seconds, each half an hour on this clock.
    when = hours_from_now(clock, 6, zone)
    await movement.call(council, admin, f"/call rally {when} | Al-Farabi square | {RALLY} | shymkent")
    await movement.client.wait_for_text(chat, RALLY, since=0)

    # Restart before any reminder is due: the alarms come back from the database.
    restarted = await movement.restart(clock)
    jobs = [job.name for job in restarted.job_queue.jobs()]
    assert sum(name.startswith("call-reminder:") for name in jobs) == 2, jobs

    first = await movement.client.wait_for_text(chat, "Reminder", since=0, timeout=30)
    assert RALLY in first["text"] and "Al-Farabi square" in first["text"]
    await movement.client.wait_for(chat, first["seq"], timeout=30)
    # Past the rally's start: no more alarms, and each reminder arrived once.
    while clock.time() < datetime.strptime(when, "%Y-%m-%d %H:%M").replace(tzinfo=ZoneInfo(zone)).timestamp():
        await movement.client.wait_idle(timeout=20, quiet=0.5)
    await movement.settle()
    assert len(await reminders_in(movement, chat)) == 2
    assert not [job for job in restarted.job_queue.jobs() if job.name.startswith("call-reminder:")]
    async with (
        movement.store.db.read() as conn,
        conn.execute("SELECT state, count(*) FROM call_reminders GROUP BY state") as cursor,
    ):
        assert dict(await cursor.fetchall()) == {"sent": 2}
