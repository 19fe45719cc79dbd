"""Strike status in SQL: each committee's reports over time, and the solidarity appeals they set off.

The history is kept, not only the latest status, because the spread is a timeline: when each
region's first committee went out, and when the last came back. A report carries its own
`since` (a delegate may say "on strike since yesterday"), so readers order by (since, id).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

import aiosqlite

from domain.spread import StatusReport, StrikeStatus
from storage.crypto import Crypto


@dataclass(frozen=True)
class Appeal:
    """A solidarity appeal: the region that joined the strike and the neighbours it appeals to."""

    id: int
    region: str
    joined_at: int
    targets: tuple[str, ...]
    state: str
    council_id: int | None
    outbox_id: int | None


class SpreadRepository:
    def __init__(self, crypto: Crypto) -> None:
        self.crypto = crypto

    # -- status reports -------------------------------------------------------------------------

    async def current(self, conn: aiosqlite.Connection, committee_id: int, *, at: int) -> tuple[str, int] | None:
        """A committee's status and since when, as of `at` (a strike joined for tomorrow is not yet on)."""
        async with conn.execute(
            """SELECT status, since FROM strike_status WHERE committee_id = ? AND since <= ?
               ORDER BY since DESC, id DESC LIMIT 1""",
            (committee_id, at),
        ) as cursor:
            row = await cursor.fetchone()
        return (row[0], row[1]) if row else None

    async def latest(self, conn: aiosqlite.Connection, committee_id: int) -> str | None:
        """The status of a committee's latest report, including one that begins in the future."""
        async with conn.execute(
            "SELECT status FROM strike_status WHERE committee_id = ? ORDER BY since DESC, id DESC LIMIT 1",
            (committee_id,),
        ) as cursor:
            row = await cursor.fetchone()
        return row[0] if row else None

    async def report(
        self,
        conn: aiosqlite.Connection,
        committee_id: int,
        status: StrikeStatus,
        *,
        since: int,
        by: int,
        now: int,
        call_id: int | None = None,
    ) -> int:
        cursor = await conn.execute(
            """INSERT INTO strike_status (committee_id, status, since, call_id, reported_by, reported_at)
               VALUES (?, ?, ?, ?, ?, ?)""",
            (committee_id, status.value, since, call_id, self.crypto.user(by), now),
        )
        return cursor.lastrowid

    async def reports(self, conn: aiosqlite.Connection, regions: Iterable[str] | None = None) -> list[StatusReport]:
        """Every report of the committees (in some regions), the input of the spread's plain functions."""
        sql = """SELECT s.committee_id, c.region, s.status, s.since, s.id
                 FROM strike_status s JOIN committees c ON c.id = s.committee_id"""
        params: list[str] = []
        if regions is not None:
            params = list(regions)
            sql += f" WHERE c.region IN ({','.join('?' * len(params))})"
        async with conn.execute(sql + " ORDER BY s.since, s.id", params) as cursor:
            return [
                StatusReport(committee_id, region, StrikeStatus(status), since, order)
                for committee_id, region, status, since, order in await cursor.fetchall()
            ]

    async def history(self, conn: aiosqlite.Connection, committee_id: int, *, limit: int = 5) -> list[tuple[str, int]]:
        """A committee's latest reports, newest first: (status, since)."""
        async with conn.execute(
            "SELECT status, since FROM strike_status WHERE committee_id = ? ORDER BY since DESC, id DESC LIMIT ?",
            (committee_id, limit),
        ) as cursor:
            return [(status, since) for status, since in await cursor.fetchall()]

    async def first_call_at(self, conn: aiosqlite.Connection) -> int | None:
        """When the first strike call of the movement began (the spread counts from it)."""
        async with conn.execute(
            """SELECT min(starts_at) FROM calls WHERE status IN ('active', 'cancelled')
               AND kind IN ('strike', 'general_strike', 'solidarity_strike')"""
        ) as cursor:
            row = await cursor.fetchone()
        return row[0] if row else None

    # -- solidarity appeals ---------------------------------------------------------------------

    async def add_appeal(
        self,
        conn: aiosqlite.Connection,
        *,
        region: str,
        joined_at: int,
        targets: tuple[str, ...],
        state: str,
        council_id: int | None,
        now: int,
    ) -> int | None:
        """Record an appeal once per region and moment of joining; None if one already exists."""
        cursor = await conn.execute(
            """INSERT OR IGNORE INTO solidarity_appeals (region, joined_at, targets, state, council_id, created_at)
               VALUES (?, ?, ?, ?, ?, ?)""",
            (region, joined_at, ",".join(targets), state, council_id, now),
        )
        return cursor.lastrowid if cursor.rowcount else None

    async def appeal(self, conn: aiosqlite.Connection, appeal_id: int) -> Appeal | None:
        async with conn.execute(
            """SELECT id, region, joined_at, targets, state, council_id, outbox_id
               FROM solidarity_appeals WHERE id = ?""",
            (appeal_id,),
        ) as cursor:
            row = await cursor.fetchone()
        if row is None:
            return None
        return Appeal(row[0], row[1], row[2], tuple(t for t in row[3].split(",") if t), row[4], row[5], row[6])

    async def set_appeal_message(self, conn: aiosqlite.Connection, appeal_id: int, outbox_id: int) -> None:
        await conn.execute("UPDATE solidarity_appeals SET outbox_id = ? WHERE id = ?", (outbox_id, appeal_id))

    async def decide_appeal(self, conn: aiosqlite.Connection, appeal_id: int, state: str, *, now: int) -> bool:
        """Send or dismiss a suggested appeal, once; False if it was already decided."""
        cursor = await conn.execute(
            "UPDATE solidarity_appeals SET state = ?, decided_at = ? WHERE id = ? AND state = 'suggested'",
            (state, now, appeal_id),
        )
        return bool(cursor.rowcount)
