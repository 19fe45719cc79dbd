"""Retention under the demo's fake clock: the daily purge at 04:00 takes what is older than
`[privacy] retention_days` (2 days here) and keeps what is newer, the programme, each committee's
current status and the structure; it runs again each day, and once at a start that missed it;
and a purged demand's bytes are gone from the database file, its -wal and its -shm."""

from __future__ import annotations

import asyncio
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from bot.clock import ReplayClock
from storage.retention import DAY_S, cutoff
from tests.movement import Movement
from tests.test_calls import approved_region
from tests.test_privacy import raw_files, text_forms

ALMATY = ZoneInfo("Asia/Almaty")
OLD_DEMAND = "Canary old demand 4e1b: free the detained drivers"
PROGRAMME_DEMAND = "Programme demand 8c2d: gas at 50 tenge"
NEW_DEMAND = "Fresh demand 2a7f: wages paid on time"
OLD_CALL = "Old call canary 6d3e: we stop at dawn"


def almaty(day: int, hour: int, minute: int = 0) -> float:
    return datetime(2022, 1, day, hour, minute, tzinfo=ALMATY).timestamp()


@pytest.fixture
def clock() -> ReplayClock:
    return ReplayClock(almaty(3, 7, 30), speed=60.0)


@pytest.fixture
def config_changes() -> dict[str, dict]:
    return {"privacy": {"retention_days": 2}}


def test_the_cutoff_is_whole_days_before_now():
    assert cutoff(10 * DAY_S + 5, 3) == 7 * DAY_S + 5


async def purged_since(movement: Movement, moment: float) -> tuple[int, int]:
    """Wait for a purge that ran at `moment` or later (the alarm rings on its own); (ran_at, cutoff)."""

    async def ran() -> tuple[int, int]:
        while True:
            rows = await movement.query("SELECT ran_at, cutoff FROM retention_runs")
            if rows and rows[0][0] >= moment:
                return rows[0]
            await asyncio.sleep(0.05)

    return await asyncio.wait_for(ran(), timeout=30)


async def count(movement: Movement, table: str, where: str = "1", *params: object) -> int:
    return (await movement.query(f"SELECT count(*) FROM {table} WHERE {where}", *params))[0][0]


async def test_the_daily_purge_takes_old_data_and_keeps_the_rest(
    movement: Movement, clock: ReplayClock, database: Path
):
    council, _c_admin, [(zhanaozen, z_admin), (aktau, a_admin)] = await approved_region(
        movement, "mangystau", ["Zhanaozen oil workers", "Aktau port workers"]
    )
    # 3 January: a demand, one that enters the programme, a strike, a call and its answer, a proposal,
    # a wrong /verify code.
    await movement.client.send(zhanaozen, z_admin["id"], f"/demand {OLD_DEMAND}")
    await movement.client.send(zhanaozen, z_admin["id"], f"/demand {PROGRAMME_DEMAND}")
    await movement.say(zhanaozen, z_admin, "/status strike")
    await movement.drained()
    since = await movement.client.seq()
    await movement.call(zhanaozen, z_admin, f"/strike now | at the gates | {OLD_CALL} | region")
    copy = await movement.client.wait_for_text(aktau, OLD_CALL, since=since)
    await movement.press(aktau, a_admin, copy, "✅ We join")
    await movement.say(zhanaozen, z_admin, "/propose Canary proposal: a strike fund")
    checker = await movement.person("Checking member")
    await movement.say(checker["id"], checker, "/verify ABCDE-FGHJK")
    await movement.drained()
    [(old_id, old_ct), (programme_id, _ct)] = await movement.query("SELECT id, text_ct FROM demands ORDER BY id")
    async with movement.store.db.transaction() as tx:
        await movement.store.programme.set_status(tx, programme_id, "adopted", now=int(clock.time()), adopted=True)
        z_id = (await movement.store.committees.by_chat(tx, zhanaozen)).id
        a_id = (await movement.store.committees.by_chat(tx, aktau)).id
    committees, councils = await count(movement, "committees"), await count(movement, "councils")

    # 4 January, noon: the 04:00 purge rang on the way (nothing was two days old yet); the proposal closed.
    clock.jump_to(almaty(4, 12))
    await purged_since(movement, almaty(4, 12))
    assert await count(movement, "demands") == 2 and await count(movement, "calls") == 1
    await movement.drained()
    await movement.client.send(zhanaozen, z_admin["id"], f"/demand {NEW_DEMAND}")
    await movement.say(zhanaozen, z_admin, "/status work")
    await movement.drained()
    assert await count(movement, "decisions", "status != 'open'") == 1
    assert any(bytes(old_ct) in content for content in raw_files(database).values()), "the scan sees the demand"

    # The bot is down across the 5 January purge: its start runs it once, at once.
    await movement.restart(clock, before_start=lambda: clock.jump_to(almaty(5, 12)))
    ran_at, first_cutoff = await purged_since(movement, almaty(5, 12))
    # At the start, whatever moment of the fake clock that came to: two days' data are kept.
    assert first_cutoff == ran_at - 2 * DAY_S
    await movement.settle()

    # Gone: the old demand, the call with its copies and answer, the strike report history, the
    # wrong code, and every message that left before the cutoff.
    assert [row[0] for row in await movement.query("SELECT id FROM demands ORDER BY id")] == [
        programme_id,
        old_id + 2,
    ]
    for table in ("calls", "call_deliveries", "call_answers", "call_tallies", "verify_misses"):
        assert await count(movement, table) == 0, table
    # Zhanaozen's strike is history now it is back at work; Aktau, which joined the call, still strikes.
    assert await movement.query("SELECT committee_id, status FROM strike_status ORDER BY committee_id") == [
        (z_id, "back_at_work"),
        (a_id, "on_strike"),
    ]
    assert await count(movement, "outbox", "created_at < ? AND state = 'sent'", first_cutoff) == 0
    # Kept: the structure, the programme, the newer demand and the proposal that closed since.
    assert await count(movement, "committees") == committees and await count(movement, "councils") == councils
    assert await count(movement, "decisions") == 1
    assert await count(movement, "outbox", "created_at >= ?", first_cutoff) > 0
    assert await movement.query("PRAGMA foreign_key_check") == []

    # Nothing of the purged demand is left on disk: not its ciphertext, not in the log.
    files = raw_files(database)
    assert files[database.name]
    for name, content in files.items():
        assert bytes(old_ct) not in content, name
        for form in text_forms(OLD_DEMAND) + text_forms(OLD_CALL):
            assert form not in content, (name, form)

    # An old message still waiting to be sent is never purged, however old.
    async with movement.store.db.transaction() as tx:
        waiting = await movement.store.outbox.enqueue(
            tx,
            purpose="notice",
            text="waiting",
            council_id=(await movement.store.councils.by_chat(tx, council)).id,
            now=int(almaty(3, 8)),
            not_before=almaty(30, 0),
        )

    # The alarm was set again: on 7 January, the 4 January data is old too.
    clock.jump_to(almaty(7, 4, 1))
    await purged_since(movement, almaty(7, 4))
    assert [row[0] for row in await movement.query("SELECT id FROM demands")] == [programme_id]
    assert await count(movement, "decisions") == 0
    # Each committee's current status stays, however old.
    assert await movement.query("SELECT committee_id, status FROM strike_status ORDER BY committee_id") == [
        (z_id, "back_at_work"),
        (a_id, "on_strike"),
    ]
    assert await movement.query("SELECT state FROM outbox WHERE id = ?", waiting) == [("pending",)]
    assert await count(movement, "committees") == committees and await count(movement, "councils") == councils
    assert await movement.query("PRAGMA foreign_key_check") == []
