"""Elected delegates in SQL: holder and alternate only as pseudonyms, the mandate sealed.

A group's Telegram admins are its delegates by default and are never stored; this table holds
only the offices an assembly elected. Who serves an office at a moment (holder, or alternate from
half term) is the domain's rule (`domain.delegates.serving`), applied here to the stored rows.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

import aiosqlite

from domain.delegates import Notice, Term, serving
from storage.crypto import Crypto

_COLUMNS = (
    "id, committee_id, number, holder, alternate, mandate_ct, starts_at, ends_at, status, elected_at, "
    "rotation_posted_at, reminder_posted_at, end_posted_at"
)
_NOTICE_COLUMNS = {
    Notice.ROTATION: "rotation_posted_at",
    Notice.REMINDER: "reminder_posted_at",
    Notice.END: "end_posted_at",
}


@dataclass(frozen=True)
class Delegate:
    """An elected office: #number in its committee, held by a pseudonym, with an optional term."""

    id: int
    committee_id: int
    number: int
    holder: bytes
    alternate: bytes | None
    mandate: str
    starts_at: int
    ends_at: int | None
    status: str
    elected_at: int
    posted: frozenset[Notice] = frozenset()

    @property
    def term(self) -> Term | None:
        return Term(self.starts_at, self.ends_at) if self.ends_at is not None else None

    def serving(self, now: int) -> bytes:
        """The pseudonym of whoever holds the office at `now`."""
        return serving(self.term, now, self.holder, self.alternate)

    def alternate_serves(self, now: int) -> bool:
        return self.alternate is not None and self.serving(now) == self.alternate


class DelegateRepository:
    def __init__(self, crypto: Crypto) -> None:
        self.crypto = crypto

    def pseudonym(self, user_id: int) -> bytes:
        """The pseudonym a person is stored under (the same as for their voices)."""
        return self.crypto.user(user_id)

    def _from_row(self, row: aiosqlite.Row | tuple) -> Delegate:
        return Delegate(
            id=row[0],
            committee_id=row[1],
            number=row[2],
            holder=bytes(row[3]),
            alternate=bytes(row[4]) if row[4] is not None else None,
            mandate=self.crypto.open_text(row[5], table="delegates", column="mandate_ct", row=row[0]),
            starts_at=row[6],
            ends_at=row[7],
            status=row[8],
            elected_at=row[9],
            posted=frozenset(notice for notice, at in zip(Notice, row[10:13], strict=True) if at is not None),
        )

    async def _select(self, conn: aiosqlite.Connection, where: str, params: tuple) -> list[Delegate]:
        async with conn.execute(f"SELECT {_COLUMNS} FROM delegates WHERE {where}", params) as cursor:
            return [self._from_row(row) async for row in cursor]

    async def elect(
        self,
        conn: aiosqlite.Connection,
        *,
        committee_id: int,
        holder: bytes,
        mandate: str,
        starts_at: int,
        ends_at: int | None,
        decision_id: int | None,
    ) -> Delegate:
        """A new office, numbered after every earlier one of the committee (numbers are never reused)."""
        async with conn.execute(
            """INSERT INTO delegates (committee_id, number, holder, starts_at, ends_at, decision_id, elected_at)
               VALUES (?, (SELECT coalesce(max(number), 0) + 1 FROM delegates WHERE committee_id = ?), ?, ?, ?, ?, ?)
               RETURNING id""",
            (committee_id, committee_id, holder, starts_at, ends_at, decision_id, starts_at),
        ) as cursor:
            row = await cursor.fetchone()
        assert row is not None
        await conn.execute(
            "UPDATE delegates SET mandate_ct = ? WHERE id = ?",
            (self.crypto.seal_text(mandate, table="delegates", column="mandate_ct", row=row[0]), row[0]),
        )
        found = await self.get(conn, row[0])
        assert found is not None
        return found

    async def get(self, conn: aiosqlite.Connection, delegate_id: int) -> Delegate | None:
        found = await self._select(conn, "id = ?", (delegate_id,))
        return found[0] if found else None

    async def by_number(self, conn: aiosqlite.Connection, committee_id: int, number: int) -> Delegate | None:
        """A committee's serving office #number (None if there is none, or it was recalled or replaced)."""
        found = await self._select(
            conn, "committee_id = ? AND number = ? AND status = 'serving'", (committee_id, number)
        )
        return found[0] if found else None

    async def of_committee(self, conn: aiosqlite.Connection, committee_id: int) -> list[Delegate]:
        """A committee's serving offices, by number."""
        return await self._select(conn, "committee_id = ? AND status = 'serving' ORDER BY number", (committee_id,))

    async def of_committees(self, conn: aiosqlite.Connection, committee_ids: Iterable[int]) -> list[Delegate]:
        """The serving offices of several committees (a council's area), by committee and number."""
        ids = list(committee_ids)
        if not ids:
            return []
        marks = ", ".join("?" * len(ids))
        return await self._select(
            conn, f"committee_id IN ({marks}) AND status = 'serving' ORDER BY committee_id, number", tuple(ids)
        )

    async def offices_of(self, conn: aiosqlite.Connection, committee_id: int, user_id: int) -> list[Delegate]:
        """The serving offices of a committee a person holds or is the alternate of."""
        ref = self.pseudonym(user_id)
        return await self._select(
            conn,
            "committee_id = ? AND status = 'serving' AND (holder = ? OR alternate = ?) ORDER BY number",
            (committee_id, ref, ref),
        )

    async def serves(self, conn: aiosqlite.Connection, committee_id: int, user_id: int, *, now: int) -> bool:
        """Whether a person serves one of the committee's elected offices now (holder or alternate by term)."""
        ref = self.pseudonym(user_id)
        return any(office.serving(now) == ref for office in await self.offices_of(conn, committee_id, user_id))

    async def serving_mandates(self, conn: aiosqlite.Connection, user_id: int, *, now: int) -> list[tuple[int, str]]:
        """(committee id, mandate) of every elected office the person serves now, in any committee."""
        ref = self.pseudonym(user_id)
        offices = await self._select(
            conn, "status = 'serving' AND (holder = ? OR alternate = ?) ORDER BY committee_id, number", (ref, ref)
        )
        return [(office.committee_id, office.mandate) for office in offices if office.serving(now) == ref]

    async def with_terms(self, conn: aiosqlite.Connection) -> list[Delegate]:
        """Serving offices with a term: the ones with notices to post (restored at start)."""
        return await self._select(conn, "status = 'serving' AND ends_at IS NOT NULL ORDER BY id", ())

    async def set_alternate(self, conn: aiosqlite.Connection, delegate_id: int, alternate: bytes) -> bool:
        """Give a serving office its alternate; False if it has one already or no longer serves."""
        cursor = await conn.execute(
            "UPDATE delegates SET alternate = ? WHERE id = ? AND status = 'serving' AND alternate IS NULL",
            (alternate, delegate_id),
        )
        return bool(cursor.rowcount)

    async def recall(self, conn: aiosqlite.Connection, delegate_id: int, *, now: int) -> bool:
        """The assembly recalled the office (holder and alternate); False if it no longer served."""
        cursor = await conn.execute(
            "UPDATE delegates SET status = 'recalled', left_at = ? WHERE id = ? AND status = 'serving'",
            (now, delegate_id),
        )
        return bool(cursor.rowcount)

    async def replace_ended(self, conn: aiosqlite.Connection, committee_id: int, *, now: int) -> list[int]:
        """A new election: offices whose term is over, kept until now, end. Returns their numbers."""
        async with conn.execute(
            """UPDATE delegates SET status = 'ended', left_at = ?
               WHERE committee_id = ? AND status = 'serving' AND ends_at IS NOT NULL AND ends_at <= ?
               RETURNING number""",
            (now, committee_id, now),
        ) as cursor:
            return sorted([number async for (number,) in cursor])

    async def mark_posted(self, conn: aiosqlite.Connection, delegate_id: int, notice: Notice, *, now: int) -> bool:
        """Mark a notice as queued; False if it already was (a second alarm posts nothing)."""
        column = _NOTICE_COLUMNS[notice]
        cursor = await conn.execute(
            f"UPDATE delegates SET {column} = ? WHERE id = ? AND {column} IS NULL", (now, delegate_id)
        )
        return bool(cursor.rowcount)
