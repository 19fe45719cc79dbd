"""Demands in SQL: texts sealed, whoever put a demand forward only a pseudonym, links as HMACs."""

from __future__ import annotations

from dataclasses import dataclass

import aiosqlite

from storage.crypto import Crypto


@dataclass(frozen=True)
class Demand:
    id: int
    committee_id: int
    text: str
    status: str
    via: str
    created_at: int
    support: int = 0


class DemandRepository:
    def __init__(self, crypto: Crypto) -> None:
        self.crypto = crypto

    def _from_row(self, row: aiosqlite.Row | tuple) -> Demand:
        return Demand(
            id=row[0],
            committee_id=row[1],
            text=self.crypto.open_text(row[2], table="demands", column="text_ct", row=row[0]),
            status=row[3],
            via=row[4],
            created_at=row[5],
            support=row[6],
        )

    _SELECT = """SELECT d.id, d.committee_id, d.text_ct, d.status, d.via, d.created_at,
                        (SELECT count(*) FROM demand_support s WHERE s.demand_id = d.id)
                 FROM demands d"""

    async def add(
        self, conn: aiosqlite.Connection, *, committee_id: int, text: str, via: str, submitted_by: int, now: int
    ) -> Demand:
        async with conn.execute(
            """INSERT INTO demands (committee_id, via, submitted_by, created_at) VALUES (?, ?, ?, ?) RETURNING id""",
            (committee_id, via, self.crypto.user(submitted_by), now),
        ) as cursor:
            row = await cursor.fetchone()
        assert row is not None
        await conn.execute(
            "UPDATE demands SET text_ct = ? WHERE id = ?",
            (self.crypto.seal_text(text, table="demands", column="text_ct", row=row[0]), row[0]),
        )
        return Demand(id=row[0], committee_id=committee_id, text=text, status="proposed", via=via, created_at=now)

    async def get(self, conn: aiosqlite.Connection, demand_id: int) -> Demand | None:
        async with conn.execute(f"{self._SELECT} WHERE d.id = ?", (demand_id,)) as cursor:
            row = await cursor.fetchone()
        return self._from_row(row) if row else None

    async def of_committee(self, conn: aiosqlite.Connection, committee_id: int) -> list[Demand]:
        """A committee's demands (merged ones live on in the demand they joined), newest last."""
        async with conn.execute(
            f"{self._SELECT} WHERE d.committee_id = ? AND d.status != 'merged' ORDER BY d.id", (committee_id,)
        ) as cursor:
            return [self._from_row(row) async for row in cursor]

    async def endorse(self, conn: aiosqlite.Connection, demand_id: int, committee_id: int, *, now: int) -> None:
        """The committee's assembly endorsed the demand: it counts as the committee's support."""
        await conn.execute(
            "UPDATE demands SET status = 'endorsed', updated_at = ? WHERE id = ? AND status = 'proposed'",
            (now, demand_id),
        )
        await conn.execute(
            "INSERT OR IGNORE INTO demand_support (demand_id, committee_id, endorsed_at) VALUES (?, ?, ?)",
            (demand_id, committee_id, now),
        )

    async def set_link(self, conn: aiosqlite.Connection, committee_id: int, token: str, *, by: int, now: int) -> None:
        """The committee's one private link; a new one replaces (and so revokes) the old."""
        await conn.execute(
            """INSERT INTO demand_links (committee_id, token_ref, created_at, created_by) VALUES (?, ?, ?, ?)
               ON CONFLICT (committee_id) DO UPDATE SET token_ref = excluded.token_ref,
                   created_at = excluded.created_at, created_by = excluded.created_by""",
            (committee_id, self.crypto.secret_code(token), now, self.crypto.user(by)),
        )

    async def committee_of_link(self, conn: aiosqlite.Connection, token: str) -> int | None:
        async with conn.execute(
            "SELECT committee_id FROM demand_links WHERE token_ref = ?", (self.crypto.secret_code(token),)
        ) as cursor:
            row = await cursor.fetchone()
        return row[0] if row else None
