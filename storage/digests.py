"""What a digest reads, in SQL: the digests a council already got, and the movement in aggregate.

Every query here counts or lists committees, calls and demands of a council's area; none reads
who did anything. They are built to answer for 10,000 committees and 100,000 demands within the
digest's time budget (see `asamblea bench digest`), so they group in SQL, not in Python.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import aiosqlite

from storage.crypto import Crypto

# Demands that stand on their own before the councils (not proposed only, not folded into another).
_STANDING = "('endorsed', 'escalated', 'adopted', 'won', 'conceded')"


@dataclass(frozen=True)
class DigestRecord:
    council_id: int
    slot: int | None
    covers_from: int
    built_at: int


@dataclass(frozen=True)
class CallSummary:
    id: int
    kind: str
    issuer_region: str
    starts_at: int
    status: str
    reached: int
    joining: int
    declining: int
    undecided: int
    headcount: int


@dataclass(frozen=True)
class DemandSummary:
    id: int
    text: str
    status: str
    committees: int
    regions: int


def _in(column: str, regions: Sequence[str] | None) -> tuple[str, list[str]]:
    """A `column IN (...)` condition for a council's area; none for the whole federation."""
    if regions is None:
        return "1", []
    return f"{column} IN ({','.join('?' * len(regions))})", list(regions)


def _in_numbered(column: str, regions: Sequence[str] | None, first: int) -> tuple[str, list[str]]:
    """`_in` with numbered parameters from ?`first` on, for statements that number theirs and may
    use the condition more than once (the same numbers each time, the values given once)."""
    if regions is None:
        return "1", []
    return f"{column} IN ({', '.join(f'?{first + k}' for k in range(len(regions)))})", list(regions)


class DigestRepository:
    def __init__(self, crypto: Crypto) -> None:
        self.crypto = crypto

    # -- the digests themselves -----------------------------------------------------------------

    async def record(
        self,
        conn: aiosqlite.Connection,
        council_id: int,
        *,
        slot: int | None,
        covers_from: int,
        built_at: int,
        late: bool = False,
    ) -> bool:
        """Note a digest for a council; False if the slot's digest was already made (once per slot)."""
        cursor = await conn.execute(
            """INSERT OR IGNORE INTO digests (council_id, slot, covers_from, built_at, late)
               VALUES (?, ?, ?, ?, ?)""",
            (council_id, slot, covers_from, built_at, int(late)),
        )
        return bool(cursor.rowcount)

    async def last(self, conn: aiosqlite.Connection, council_id: int) -> DigestRecord | None:
        async with conn.execute(
            """SELECT council_id, slot, covers_from, built_at FROM digests WHERE council_id = ?
               ORDER BY built_at DESC, id DESC LIMIT 1""",
            (council_id,),
        ) as cursor:
            row = await cursor.fetchone()
        return DigestRecord(*row) if row else None

    async def last_slot(self, conn: aiosqlite.Connection, council_id: int) -> int | None:
        async with conn.execute("SELECT max(slot) FROM digests WHERE council_id = ?", (council_id,)) as cursor:
            row = await cursor.fetchone()
        return row[0] if row else None

    # -- committees -----------------------------------------------------------------------------

    async def committees_by_status(
        self, conn: aiosqlite.Connection, regions: Sequence[str] | None
    ) -> dict[str, dict[str, int]]:
        """status -> region -> number of committees."""
        where, params = _in("region", regions)
        counts: dict[str, dict[str, int]] = {}
        async with conn.execute(
            f"SELECT status, region, count(*) FROM committees WHERE {where} GROUP BY status, region", params
        ) as cursor:
            for status, region, count in await cursor.fetchall():
                counts.setdefault(status, {})[region] = count
        return counts

    async def approved_since(
        self, conn: aiosqlite.Connection, regions: Sequence[str] | None, since: int, *, limit: int = 10
    ) -> tuple[int, list[tuple[str, str]]]:
        """Committees approved after `since`: how many, and the first few (name, region)."""
        return await self._committees(
            conn, regions, "status = 'active' AND decided_at > ?", [since], "decided_at, id", limit
        )

    async def waiting(
        self, conn: aiosqlite.Connection, regions: Sequence[str] | None, *, limit: int = 10
    ) -> tuple[int, list[tuple[str, str]]]:
        """Committees waiting for a council's approval, oldest first."""
        return await self._committees(conn, regions, "status = 'pending'", [], "registered_at, id", limit)

    async def unreachable(
        self, conn: aiosqlite.Connection, regions: Sequence[str] | None, *, limit: int = 10
    ) -> tuple[int, list[tuple[str, str]]]:
        """Active committees whose group the bot can no longer post to (removed, chat gone)."""
        return await self._committees(conn, regions, "status = 'active' AND reachable = 0", [], "id", limit)

    async def _committees(
        self,
        conn: aiosqlite.Connection,
        regions: Sequence[str] | None,
        condition: str,
        params: list,
        order: str,
        limit: int,
    ) -> tuple[int, list[tuple[str, str]]]:
        where, area = _in("region", regions)
        async with conn.execute(
            f"SELECT count(*) FROM committees WHERE {condition} AND {where}", [*params, *area]
        ) as cursor:
            (count,) = await cursor.fetchone()
        async with conn.execute(
            f"SELECT id, name_ct, region FROM committees WHERE {condition} AND {where} ORDER BY {order} LIMIT ?",
            [*params, *area, limit],
        ) as cursor:
            rows = await cursor.fetchall()
        named = [
            (self.crypto.open_text(name_ct, table="committees", column="name_ct", row=committee_id), region)
            for committee_id, name_ct, region in rows
        ]
        return count, named

    async def failed_deliveries(self, conn: aiosqlite.Connection, regions: Sequence[str] | None, since: int) -> int:
        """Messages to committees of the area that could not be delivered, written after `since`."""
        where, area = _in("c.region", regions)
        async with conn.execute(
            f"""SELECT count(*) FROM outbox o JOIN committees c ON c.id = o.committee_id
                WHERE o.state = 'failed' AND o.created_at > ? AND {where}""",
            [since, *area],
        ) as cursor:
            (count,) = await cursor.fetchone()
        return count

    # -- calls ----------------------------------------------------------------------------------

    async def calls_since(
        self, conn: aiosqlite.Connection, regions: Sequence[str] | None, since: int, *, limit: int = 8
    ) -> tuple[int, list[CallSummary]]:
        """Calls issued, begun or answered after `since` that reached the area, with the answers of
        the area's committees; how many there were, and the latest few."""
        # Which calls, first (each found by an index: issued, begun or answered after `since`, and
        # reaching the area if one of its copies went there); then the answers of the latest
        # `limit` only. Grouping every copy of every recent call took most of a digest's time.
        where, area = _in_numbered("m.region", regions, 3)
        join = "" if regions is None else "JOIN committees m ON m.id = d.committee_id"
        async with conn.execute(
            f"""WITH recent AS (
                    SELECT id FROM calls WHERE status IN ('active', 'cancelled') AND issued_at > ?1
                    UNION SELECT id FROM calls WHERE status IN ('active', 'cancelled') AND starts_at > ?1
                    UNION SELECT call_id FROM call_answers WHERE answered_at > ?1),
                reached AS MATERIALIZED (
                    SELECT c.id, c.kind, c.issuer_region, c.starts_at, c.status FROM calls c
                    WHERE c.id IN recent AND c.status IN ('active', 'cancelled')
                    AND EXISTS (SELECT 1 FROM call_deliveries d {join} WHERE d.call_id = c.id AND {where})),
                shown AS MATERIALIZED (SELECT * FROM reached ORDER BY starts_at DESC, id DESC LIMIT ?2)
                SELECT (SELECT count(*) FROM reached), s.id, s.kind, s.issuer_region, s.starts_at, s.status,
                       count(*),
                       count(*) FILTER (WHERE a.answer = 'join'),
                       count(*) FILTER (WHERE a.answer = 'decline'),
                       count(*) FILTER (WHERE a.answer = 'undecided'),
                       coalesce(sum(a.headcount), 0)
                FROM shown s JOIN call_deliveries d ON d.call_id = s.id {join}
                LEFT JOIN call_answers a ON a.call_id = d.call_id AND a.committee_id = d.committee_id
                WHERE {where}
                GROUP BY s.id ORDER BY s.starts_at DESC, s.id DESC""",
            [since, limit, *area],
        ) as cursor:
            rows = await cursor.fetchall()
        return (rows[0][0] if rows else 0), [CallSummary(*row[1:]) for row in rows]

    # -- demands --------------------------------------------------------------------------------

    async def top_demands(
        self, conn: aiosqlite.Connection, regions: Sequence[str] | None, *, limit: int = 5
    ) -> list[DemandSummary]:
        """The standing demands with the most support among the area's committees."""
        if limit <= 0:
            return []
        # Most demands have one backer; when enough have two or more, those are the top and the
        # single ones need not be looked at (the fewer rows the faster at 100,000 demands).
        rows = await self._top_demands(conn, regions, limit, at_least=2)
        if len(rows) < limit:
            rows = await self._top_demands(conn, regions, limit, at_least=1)
        return [
            DemandSummary(
                id=demand_id,
                text=self.crypto.open_text(text_ct, table="demands", column="text_ct", row=demand_id),
                status=status,
                committees=backers,
                regions=region_count,
            )
            for demand_id, text_ct, status, backers, region_count in rows
        ]

    async def _top_demands(
        self, conn: aiosqlite.Connection, regions: Sequence[str] | None, limit: int, *, at_least: int
    ) -> list[tuple]:
        """The top `limit` standing demands among those with `at_least` backers in the area, by
        backers, then regions, then age. Backers are counted from the support rows alone; regions
        (a join per supporting committee) only for the demands that can make the top: those with
        at least as many backers as the limit-th one (a single backer is a single region)."""
        where, area = _in_numbered("m.region", regions, 3)
        join = "" if regions is None else "JOIN committees m ON m.id = s.committee_id"
        async with conn.execute(
            f"""WITH backing AS MATERIALIZED (
                    SELECT s.demand_id AS id, count(*) AS backers FROM demand_support s {join}
                    WHERE {where} GROUP BY s.demand_id HAVING count(*) >= ?1),
                standing AS MATERIALIZED (
                    SELECT b.id, b.backers FROM backing b JOIN demands d ON d.id = b.id
                    WHERE d.status IN {_STANDING}),
                top AS MATERIALIZED (
                    SELECT t.id, t.backers,
                           CASE WHEN t.backers = 1 THEN 1 ELSE (
                               SELECT count(DISTINCT m.region) FROM demand_support s
                               JOIN committees m ON m.id = s.committee_id
                               WHERE s.demand_id = t.id AND {where}) END AS regions
                    FROM standing t
                    WHERE t.backers >= coalesce(
                        (SELECT backers FROM standing ORDER BY backers DESC LIMIT 1 OFFSET ?2 - 1), 0)
                    ORDER BY t.backers DESC, regions DESC, t.id LIMIT ?2)
                SELECT d.id, d.text_ct, d.status, top.backers, top.regions FROM top JOIN demands d ON d.id = top.id
                ORDER BY top.backers DESC, top.regions DESC, d.id""",
            [at_least, limit, *area],
        ) as cursor:
            return await cursor.fetchall()

    async def demands_since(self, conn: aiosqlite.Connection, regions: Sequence[str] | None, since: int) -> int:
        """Demands the area's committees put forward after `since`."""
        if regions is None:
            sql, params = "SELECT count(*) FROM demands WHERE created_at > ?", [since]
        else:  # from the demands of the window (demands_by_time), not from every demand of the area
            where, area = _in("m.region", regions)
            sql = f"""SELECT count(*) FROM demands d CROSS JOIN committees m ON m.id = d.committee_id
                      WHERE d.created_at > ? AND {where}"""
            params = [since, *area]
        async with conn.execute(sql, params) as cursor:
            (count,) = await cursor.fetchone()
        return count

    async def all_demands(self, conn: aiosqlite.Connection) -> list[tuple[DemandSummary, bool]]:
        """Every demand that stands on its own, with its support, and whether it is in the programme.
        The text is read only for programme demands (published by the movement); others get ""."""
        async with conn.execute(
            f"""SELECT d.id, CASE WHEN d.adopted_at IS NOT NULL THEN d.text_ct END, d.status,
                       count(s.committee_id), count(DISTINCT m.region), d.adopted_at IS NOT NULL
                FROM demands d
                LEFT JOIN demand_support s ON s.demand_id = d.id
                LEFT JOIN committees m ON m.id = s.committee_id
                WHERE d.status IN {_STANDING} OR d.status IN ('proposed', 'rejected')
                GROUP BY d.id ORDER BY d.id"""
        ) as cursor:
            rows = await cursor.fetchall()
        return [
            (
                DemandSummary(
                    id=demand_id,
                    text=self.crypto.open_text(text_ct, table="demands", column="text_ct", row=demand_id)
                    if text_ct is not None
                    else "",
                    status=status,
                    committees=backers,
                    regions=region_count,
                ),
                bool(adopted),
            )
            for demand_id, text_ct, status, backers, region_count, adopted in rows
        ]
