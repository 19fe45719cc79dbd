"""Committees in SQL: chat ids and names sealed, the registering admin a pseudonym.

Every update from a committee's group needs its committee (`by_chat`): a statement, a pseudonym
and two decryptions, some 60 µs of the bot's core per update on our machine (docs/benchmarks.md,
"Ingest"). Committees change seldom (a registration, a council's approval, a group's migration, the
bot removed from a chat, a wipe), so `by_chat` keeps what it read. Any write to the table empties
the whole cache, and so does any rollback (`Database.keep_cache`): it never serves a row that a
transaction wrote and did not commit, nor one that a later write changed.
"""

from __future__ import annotations

from collections.abc import Iterable

import aiosqlite

from domain.committees import Committee, Status
from storage.crypto import Crypto

_COLUMNS = "id, chat_id_ct, name_ct, region, kind, status, reachable, registered_at, decided_at"
# Chats whose committee (or lack of one) is kept: more than a movement's committees in session.
CACHED_CHATS = 20_000
_UNREAD = object()


class CommitteeRepository:
    def __init__(self, crypto: Crypto) -> None:
        self.crypto = crypto
        self._by_chat: dict[int, Committee | None] = {}  # oldest first

    def forget(self) -> None:
        """Empty the cache of `by_chat`: the table changed, or a transaction was rolled back."""
        self._by_chat.clear()

    def _from_row(self, row: aiosqlite.Row | tuple) -> Committee:
        committee_id = row[0]
        # A wiped committee keeps neither chat nor name (storage/wipe.py): 0 and "" stand in.
        return Committee(
            id=committee_id,
            chat_id=self.crypto.open_chat_id(row[1], table="committees", row=committee_id) if row[1] else 0,
            name=self.crypto.open_text(row[2], table="committees", column="name_ct", row=committee_id)
            if row[2]
            else "",
            region=row[3],
            kind=row[4],
            status=Status(row[5]),
            reachable=bool(row[6]),
            registered_at=row[7],
            decided_at=row[8],
        )

    async def by_chat(self, conn: aiosqlite.Connection, chat_id: int) -> Committee | None:
        committee = self._by_chat.get(chat_id, _UNREAD)
        if committee is not _UNREAD:
            return committee  # type: ignore[return-value]
        async with conn.execute(
            f"SELECT {_COLUMNS} FROM committees WHERE chat_ref = ?", (self.crypto.chat(chat_id),)
        ) as cursor:
            row = await cursor.fetchone()
        committee = self._from_row(row) if row else None
        if len(self._by_chat) >= CACHED_CHATS:
            del self._by_chat[next(iter(self._by_chat))]
        self._by_chat[chat_id] = committee
        return committee

    async def get(self, conn: aiosqlite.Connection, committee_id: int) -> Committee | None:
        async with conn.execute(f"SELECT {_COLUMNS} FROM committees WHERE id = ?", (committee_id,)) as cursor:
            row = await cursor.fetchone()
        return self._from_row(row) if row else None

    async def pending_in(self, conn: aiosqlite.Connection, regions: Iterable[str]) -> list[Committee]:
        wanted = list(regions)
        marks = ",".join("?" * len(wanted))
        async with conn.execute(
            f"SELECT {_COLUMNS} FROM committees WHERE status = 'pending' AND region IN ({marks}) ORDER BY id",
            wanted,
        ) as cursor:
            return [self._from_row(row) async for row in cursor]

    async def active_in(self, conn: aiosqlite.Connection, regions: Iterable[str]) -> list[tuple[Committee, str | None]]:
        """Active committees in some regions, each with the language its group chose (if any)."""
        wanted = list(regions)
        marks = ",".join("?" * len(wanted))
        columns = ", ".join(f"c.{column.strip()}" for column in _COLUMNS.split(","))
        async with conn.execute(
            f"""SELECT {columns}, s.language FROM committees c LEFT JOIN chat_settings s ON s.chat_ref = c.chat_ref
                WHERE c.status = 'active' AND c.region IN ({marks}) ORDER BY c.id""",
            wanted,
        ) as cursor:
            return [(self._from_row(row[:-1]), row[-1]) async for row in cursor]

    async def register(
        self,
        conn: aiosqlite.Connection,
        *,
        chat_id: int,
        name: str,
        region: str,
        kind: str,
        registered_by: int,
        now: int,
    ) -> Committee:
        """Insert a pending committee, or reopen a rejected or wiped one for the same chat."""
        self.forget()
        chat_ref = self.crypto.chat(chat_id)
        async with conn.execute(
            """INSERT INTO committees (chat_ref, region, kind, status, registered_by, registered_at)
               VALUES (?, ?, ?, 'pending', ?, ?)
               ON CONFLICT (chat_ref) DO UPDATE SET
                   region = excluded.region, kind = excluded.kind, status = 'pending', reachable = 1,
                   registered_by = excluded.registered_by, registered_at = excluded.registered_at,
                   decided_by = NULL, decided_at = NULL
               RETURNING id""",
            (chat_ref, region, kind, self.crypto.user(registered_by), now),
        ) as cursor:
            row = await cursor.fetchone()
        assert row is not None
        committee_id = row[0]
        await conn.execute(
            "UPDATE committees SET chat_id_ct = ?, name_ct = ? WHERE id = ?",
            (
                self.crypto.seal_chat_id(chat_id, table="committees", row=committee_id),
                self.crypto.seal_text(name, table="committees", column="name_ct", row=committee_id),
                committee_id,
            ),
        )
        return Committee(
            id=committee_id,
            chat_id=chat_id,
            name=name,
            region=region,
            kind=kind,
            status=Status.PENDING,
            reachable=True,
            registered_at=now,
        )

    async def set_status(
        self, conn: aiosqlite.Connection, committee_id: int, status: Status, *, decided_by: int, now: int
    ) -> None:
        self.forget()
        await conn.execute(
            "UPDATE committees SET status = ?, decided_by = ?, decided_at = ? WHERE id = ?",
            (status.value, self.crypto.user(decided_by), now, committee_id),
        )

    async def set_reachable(self, conn: aiosqlite.Connection, committee_id: int, reachable: bool) -> None:
        self.forget()
        await conn.execute("UPDATE committees SET reachable = ? WHERE id = ?", (int(reachable), committee_id))

    async def move_chat(self, conn: aiosqlite.Connection, committee_id: int, new_chat_id: int) -> None:
        """Follow a group that Telegram migrated to a supergroup (it gets a new chat id)."""
        self.forget()
        await conn.execute(
            "UPDATE committees SET chat_ref = ?, chat_id_ct = ?, reachable = 1 WHERE id = ?",
            (
                self.crypto.chat(new_chat_id),
                self.crypto.seal_chat_id(new_chat_id, table="committees", row=committee_id),
                committee_id,
            ),
        )
