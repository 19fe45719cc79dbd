"""Demands beyond their committee in SQL: support, merges, escalations to councils, the programme.

A demand's support is its rows in demand_support; a merge copies the merged demand's rows into
the demand it joins (so the union is kept without a recursive query) and points every demand
that was merged into it there too, so `merged_into` is never a chain.
"""

from __future__ import annotations

from dataclasses import dataclass

import aiosqlite

from storage.demands import Demand, DemandRepository

# A demand the councils can see: endorsed by its committee's assembly, and not folded into another.
_STANDING = "('endorsed', 'escalated', 'adopted', 'won', 'conceded')"


@dataclass(frozen=True)
class Escalation:
    demand_id: int
    council_id: int
    verdict: str
    outbox_id: int | None


@dataclass(frozen=True)
class Backer:
    """A committee that endorsed a demand (or one merged into it), with what a notice to it needs."""

    committee_id: int
    region: str


class ProgrammeRepository:
    def __init__(self, demands: DemandRepository) -> None:
        self.demands = demands

    async def backers(self, conn: aiosqlite.Connection, demand_id: int) -> list[Backer]:
        async with conn.execute(
            """SELECT c.id, c.region FROM demand_support s JOIN committees c ON c.id = s.committee_id
               WHERE s.demand_id = ? ORDER BY c.id""",
            (demand_id,),
        ) as cursor:
            return [Backer(committee_id, region) async for committee_id, region in cursor]

    async def merged_into(self, conn: aiosqlite.Connection, demand_id: int) -> int | None:
        async with conn.execute("SELECT merged_into FROM demands WHERE id = ?", (demand_id,)) as cursor:
            row = await cursor.fetchone()
        return row[0] if row else None

    async def standing(self, conn: aiosqlite.Connection, *, regions: set[str] | None = None) -> list[Demand]:
        """Endorsed demands not merged away, of committees in `regions` (all when None), oldest first."""
        async with conn.execute(
            f"""SELECT d.id, d.committee_id, d.text_ct, d.status, d.via, d.created_at,
                       (SELECT count(*) FROM demand_support s WHERE s.demand_id = d.id), c.region
                FROM demands d JOIN committees c ON c.id = d.committee_id
                WHERE d.status IN {_STANDING} ORDER BY d.id"""
        ) as cursor:
            return [self.demands._from_row(row) async for row in cursor if regions is None or row[7] in regions]

    async def set_status(
        self, conn: aiosqlite.Connection, demand_id: int, status: str, *, now: int, adopted: bool = False
    ) -> None:
        await conn.execute(
            """UPDATE demands SET status = ?, updated_at = ?,
                   adopted_at = CASE WHEN ? THEN coalesce(adopted_at, ?) ELSE adopted_at END
               WHERE id = ?""",
            (status, now, adopted, now, demand_id),
        )

    async def merge(self, conn: aiosqlite.Connection, demand_id: int, into_id: int, *, now: int) -> None:
        """Fold `demand_id` into `into_id`: its support (and anything merged into it) goes along."""
        await conn.execute(
            """INSERT OR IGNORE INTO demand_support (demand_id, committee_id, endorsed_at)
               SELECT ?, committee_id, endorsed_at FROM demand_support WHERE demand_id = ?""",
            (into_id, demand_id),
        )
        await conn.execute(
            "UPDATE demands SET status = 'merged', merged_into = ?, updated_at = ? WHERE id = ?",
            (into_id, now, demand_id),
        )
        await conn.execute("UPDATE demands SET merged_into = ? WHERE merged_into = ?", (into_id, demand_id))

    async def backed_elsewhere(self, conn: aiosqlite.Connection, committee_id: int) -> list[Demand]:
        """Demands of other committees that this committee backs (its own were merged into them)."""
        async with conn.execute(
            """SELECT d.id, d.committee_id, d.text_ct, d.status, d.via, d.created_at,
                      (SELECT count(*) FROM demand_support s2 WHERE s2.demand_id = d.id)
               FROM demand_support s JOIN demands d ON d.id = s.demand_id
               WHERE s.committee_id = ? AND d.committee_id != ? AND d.status != 'merged' ORDER BY d.id""",
            (committee_id, committee_id),
        ) as cursor:
            return [self.demands._from_row(row) async for row in cursor]

    async def programme(self, conn: aiosqlite.Connection) -> list[Demand]:
        """Demands the coordinating council adopted, whatever became of them since, in adoption order."""
        async with conn.execute(
            """SELECT d.id, d.committee_id, d.text_ct, d.status, d.via, d.created_at,
                      (SELECT count(*) FROM demand_support s WHERE s.demand_id = d.id)
               FROM demands d WHERE d.adopted_at IS NOT NULL AND d.status != 'merged'
               ORDER BY d.adopted_at, d.id"""
        ) as cursor:
            return [self.demands._from_row(row) async for row in cursor]

    # -- escalations ---------------------------------------------------------------------------

    async def escalations(self, conn: aiosqlite.Connection, demand_id: int) -> list[Escalation]:
        async with conn.execute(
            "SELECT demand_id, council_id, verdict, outbox_id FROM demand_escalations WHERE demand_id = ?",
            (demand_id,),
        ) as cursor:
            return [Escalation(*row) async for row in cursor]

    async def escalation(self, conn: aiosqlite.Connection, demand_id: int, council_id: int) -> Escalation | None:
        async with conn.execute(
            """SELECT demand_id, council_id, verdict, outbox_id FROM demand_escalations
               WHERE demand_id = ? AND council_id = ?""",
            (demand_id, council_id),
        ) as cursor:
            row = await cursor.fetchone()
        return Escalation(*row) if row else None

    async def escalate(
        self, conn: aiosqlite.Connection, demand_id: int, council_id: int, outbox_id: int, *, now: int
    ) -> None:
        await conn.execute(
            """INSERT INTO demand_escalations (demand_id, council_id, outbox_id, escalated_at)
               VALUES (?, ?, ?, ?)""",
            (demand_id, council_id, outbox_id, now),
        )

    async def decide(
        self, conn: aiosqlite.Connection, demand_id: int, council_id: int, verdict: str, *, now: int
    ) -> bool:
        """Record a council's verdict once: a second press, or a verdict on a merged demand, finds it taken."""
        cursor = await conn.execute(
            """UPDATE demand_escalations SET verdict = ?, decided_at = ?
               WHERE demand_id = ? AND council_id = ? AND verdict = 'pending'""",
            (verdict, now, demand_id, council_id),
        )
        return bool(cursor.rowcount)

    async def pending_at(self, conn: aiosqlite.Connection, council_id: int) -> list[int]:
        """The demands waiting for this council's verdict, oldest first."""
        async with conn.execute(
            """SELECT demand_id FROM demand_escalations WHERE council_id = ? AND verdict = 'pending'
               ORDER BY escalated_at, demand_id""",
            (council_id,),
        ) as cursor:
            return [demand_id async for (demand_id,) in cursor]
