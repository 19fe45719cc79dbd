"""Councils and their one-time link codes in SQL."""

from __future__ import annotations

from dataclasses import dataclass

import aiosqlite

from storage.crypto import Crypto


@dataclass(frozen=True)
class Council:
    id: int
    region: str
    chat_id: int
    chat_type: str
    reachable: bool


class CouncilRepository:
    def __init__(self, crypto: Crypto) -> None:
        self.crypto = crypto

    def _from_row(self, row: aiosqlite.Row | tuple) -> Council:
        return Council(
            id=row[0],
            region=row[1],
            chat_id=self.crypto.open_chat_id(row[2], table="councils", row=row[0]),
            chat_type=row[3],
            reachable=bool(row[4]),
        )

    async def by_chat(self, conn: aiosqlite.Connection, chat_id: int) -> Council | None:
        async with conn.execute(
            "SELECT id, region, chat_id_ct, chat_type, reachable FROM councils WHERE chat_ref = ?",
            (self.crypto.chat(chat_id),),
        ) as cursor:
            row = await cursor.fetchone()
        return self._from_row(row) if row else None

    async def get(self, conn: aiosqlite.Connection, council_id: int) -> Council | None:
        async with conn.execute(
            "SELECT id, region, chat_id_ct, chat_type, reachable FROM councils WHERE id = ?", (council_id,)
        ) as cursor:
            row = await cursor.fetchone()
        return self._from_row(row) if row else None

    async def by_region(self, conn: aiosqlite.Connection, region: str) -> Council | None:
        async with conn.execute(
            "SELECT id, region, chat_id_ct, chat_type, reachable FROM councils WHERE region = ?", (region,)
        ) as cursor:
            row = await cursor.fetchone()
        return self._from_row(row) if row else None

    async def all(self, conn: aiosqlite.Connection) -> list[tuple[Council, int]]:
        """Every linked council with when it was linked, in the order they were linked."""
        async with conn.execute(
            "SELECT id, region, chat_id_ct, chat_type, reachable, linked_at FROM councils ORDER BY id"
        ) as cursor:
            return [(self._from_row(row), row[5]) for row in await cursor.fetchall()]

    async def linked_regions(self, conn: aiosqlite.Connection) -> set[str]:
        async with conn.execute("SELECT region FROM councils WHERE reachable = 1") as cursor:
            return {region async for (region,) in cursor}

    async def link(
        self,
        conn: aiosqlite.Connection,
        *,
        region: str,
        chat_id: int,
        chat_type: str,
        linked_by: int | None,
        now: int,
    ) -> Council:
        """Link a chat as the council of a region, replacing the chat linked before, if any."""
        chat_ref = self.crypto.chat(chat_id)
        # A chat speaks for one council at most: relinking it elsewhere frees its old seat.
        await conn.execute("DELETE FROM councils WHERE chat_ref = ? AND region <> ?", (chat_ref, region))
        async with conn.execute(
            """INSERT INTO councils (region, chat_ref, chat_type, reachable, linked_at, linked_by)
               VALUES (?, ?, ?, 1, ?, ?)
               ON CONFLICT (region) DO UPDATE SET chat_ref = excluded.chat_ref,
                   chat_type = excluded.chat_type, reachable = 1, linked_at = excluded.linked_at,
                   linked_by = excluded.linked_by
               RETURNING id""",
            (region, chat_ref, chat_type, now, self.crypto.user(linked_by) if linked_by else None),
        ) as cursor:
            row = await cursor.fetchone()
        assert row is not None
        await conn.execute(
            "UPDATE councils SET chat_id_ct = ? WHERE id = ?",
            (self.crypto.seal_chat_id(chat_id, table="councils", row=row[0]), row[0]),
        )
        return Council(id=row[0], region=region, chat_id=chat_id, chat_type=chat_type, reachable=True)

    async def set_reachable(self, conn: aiosqlite.Connection, council_id: int, reachable: bool) -> None:
        await conn.execute("UPDATE councils SET reachable = ? WHERE id = ?", (int(reachable), council_id))

    async def move_chat(self, conn: aiosqlite.Connection, council_id: int, new_chat_id: int) -> None:
        await conn.execute(
            "UPDATE councils SET chat_ref = ?, chat_id_ct = ?, chat_type = 'supergroup', reachable = 1 WHERE id = ?",
            (
                self.crypto.chat(new_chat_id),
                self.crypto.seal_chat_id(new_chat_id, table="councils", row=council_id),
                council_id,
            ),
        )

    # -- one-time codes -------------------------------------------------------------------
    async def add_code(self, conn: aiosqlite.Connection, code: str, *, region: str, now: int, expires_at: int) -> None:
        await conn.execute(
            "INSERT INTO council_codes (code_ref, region, created_at, expires_at) VALUES (?, ?, ?, ?)",
            (self.crypto.secret_code(code), region, now, expires_at),
        )

    async def redeem_code(self, conn: aiosqlite.Connection, code: str, *, now: int) -> str | None:
        """The region a valid, unused, unexpired code links to, marking it used; else None."""
        async with conn.execute(
            """UPDATE council_codes SET used_at = ?
               WHERE code_ref = ? AND used_at IS NULL AND expires_at > ? RETURNING region""",
            (now, self.crypto.secret_code(code), now),
        ) as cursor:
            row = await cursor.fetchone()
        return row[0] if row else None
