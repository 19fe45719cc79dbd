"""Calls in SQL: the call (place, text and verification code sealed), its deliveries (one
outbox row per committee), answers, live tallies, reminders; and committees' strike status.

Verification codes are stored twice on purpose: as an HMAC (`code_ref`) so `/verify` can find
a call without the database holding a searchable code, and sealed (`code_ct`) so the bot can
print the code again on an updated copy.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

import aiosqlite

from domain.codes import normalise_code
from storage.crypto import Crypto

_COLUMNS = (
    "id, code_ct, kind, scope, issuer_committee_id, issuer_council_id, issuer_region, starts_at, "
    "place_ct, text_ct, status, created_at, issued_at, updated_at"
)


@dataclass(frozen=True)
class Call:
    id: int
    code: str
    kind: str
    scope: str
    issuer_committee_id: int | None
    issuer_council_id: int | None
    issuer_region: str
    starts_at: int
    place: str
    text: str
    status: str
    created_at: int
    issued_at: int | None
    updated_at: int | None

    @property
    def issued_by_council(self) -> bool:
        return self.issuer_council_id is not None


@dataclass(frozen=True)
class Copy:
    """One committee's copy of a call: where it stands and how that committee answered."""

    committee_id: int
    outbox_id: int
    state: str
    region: str
    language: str | None
    answer: str | None
    headcount: int | None


@dataclass(frozen=True)
class Reminder:
    call_id: int
    lead_s: int
    due_at: int


class CallRepository:
    def __init__(self, crypto: Crypto) -> None:
        self.crypto = crypto

    def _open(self, blob: bytes, column: str, row: int) -> str:
        return self.crypto.open_text(blob, table="calls", column=column, row=row)

    def _seal(self, text: str, column: str, row: int) -> bytes:
        return self.crypto.seal_text(text, table="calls", column=column, row=row)

    def _from_row(self, row: aiosqlite.Row | tuple) -> Call:
        call_id = row[0]
        return Call(
            id=call_id,
            code=self._open(row[1], "code_ct", call_id),
            kind=row[2],
            scope=row[3],
            issuer_committee_id=row[4],
            issuer_council_id=row[5],
            issuer_region=row[6],
            starts_at=row[7],
            place=self._open(row[8], "place_ct", call_id) if row[8] is not None else "",
            text=self._open(row[9], "text_ct", call_id) if row[9] is not None else "",
            status=row[10],
            created_at=row[11],
            issued_at=row[12],
            updated_at=row[13],
        )

    async def create_draft(
        self,
        conn: aiosqlite.Connection,
        *,
        code: str,
        kind: str,
        scope: str,
        issuer_region: str,
        starts_at: int,
        place: str,
        text: str,
        created_by: int,
        now: int,
        issuer_committee_id: int | None = None,
        issuer_council_id: int | None = None,
    ) -> Call:
        """A call as previewed to its issuer; nothing is sent until `activate`."""
        async with conn.execute(
            """INSERT INTO calls (code_ref, kind, scope, issuer_committee_id, issuer_council_id, issuer_region,
                                  starts_at, status, created_at, created_by)
               VALUES (?, ?, ?, ?, ?, ?, ?, 'draft', ?, ?) RETURNING id""",
            (
                self.crypto.secret_code(normalise_code(code) or code),
                kind,
                scope,
                issuer_committee_id,
                issuer_council_id,
                issuer_region,
                starts_at,
                now,
                self.crypto.user(created_by),
            ),
        ) as cursor:
            row = await cursor.fetchone()
        assert row is not None
        call_id = row[0]
        await conn.execute(
            "UPDATE calls SET code_ct = ?, place_ct = ?, text_ct = ? WHERE id = ?",
            (
                self._seal(code, "code_ct", call_id),
                self._seal(place, "place_ct", call_id),
                self._seal(text, "text_ct", call_id),
                call_id,
            ),
        )
        found = await self.get(conn, call_id)
        assert found is not None
        return found

    async def get(self, conn: aiosqlite.Connection, call_id: int) -> Call | None:
        async with conn.execute(f"SELECT {_COLUMNS} FROM calls WHERE id = ?", (call_id,)) as cursor:
            row = await cursor.fetchone()
        return self._from_row(row) if row else None

    async def by_code(self, conn: aiosqlite.Connection, code: str) -> Call | None:
        """A sent call (active or cancelled) by its compact verification code; drafts are not genuine yet."""
        async with conn.execute(
            f"SELECT {_COLUMNS} FROM calls WHERE code_ref = ? AND status IN ('active', 'cancelled')",
            (self.crypto.secret_code(code),),
        ) as cursor:
            row = await cursor.fetchone()
        return self._from_row(row) if row else None

    async def set_draft_scope(self, conn: aiosqlite.Connection, call_id: int, scope: str) -> None:
        await conn.execute("UPDATE calls SET scope = ? WHERE id = ? AND status = 'draft'", (scope, call_id))

    async def activate(self, conn: aiosqlite.Connection, call_id: int, *, now: int) -> bool:
        """Draft → active, once: a second press (or a redelivered update) finds it done."""
        cursor = await conn.execute(
            "UPDATE calls SET status = 'active', issued_at = ? WHERE id = ? AND status = 'draft'", (now, call_id)
        )
        return bool(cursor.rowcount)

    async def discard_draft(self, conn: aiosqlite.Connection, call_id: int) -> bool:
        """Kept as `discarded`, not deleted: a deleted id would be reused by the next draft, and the
        old preview's Send button would send that one."""
        cursor = await conn.execute(
            "UPDATE calls SET status = 'discarded', place_ct = NULL, text_ct = NULL WHERE id = ? AND status = 'draft'",
            (call_id,),
        )
        return bool(cursor.rowcount)

    async def revise(
        self, conn: aiosqlite.Connection, call_id: int, *, starts_at: int, place: str, text: str, now: int
    ) -> None:
        await conn.execute(
            "UPDATE calls SET starts_at = ?, place_ct = ?, text_ct = ?, updated_at = ? WHERE id = ?",
            (starts_at, self._seal(place, "place_ct", call_id), self._seal(text, "text_ct", call_id), now, call_id),
        )

    async def cancel(self, conn: aiosqlite.Connection, call_id: int, *, now: int) -> bool:
        cursor = await conn.execute(
            "UPDATE calls SET status = 'cancelled', updated_at = ? WHERE id = ? AND status = 'active'", (now, call_id)
        )
        return bool(cursor.rowcount)

    async def issued_by(
        self, conn: aiosqlite.Connection, *, committee_id: int | None = None, council_id: int | None = None
    ) -> list[Call]:
        """Active calls a committee or council issued, soonest first."""
        column, value = ("issuer_committee_id", committee_id) if committee_id else ("issuer_council_id", council_id)
        async with conn.execute(
            f"SELECT {_COLUMNS} FROM calls WHERE {column} = ? AND status = 'active' ORDER BY starts_at, id", (value,)
        ) as cursor:
            return [self._from_row(row) async for row in cursor]

    async def received_by(self, conn: aiosqlite.Connection, committee_id: int) -> list[Call]:
        """Active calls that reached a committee, soonest first."""
        async with conn.execute(
            f"""SELECT {", ".join("c." + c.strip() for c in _COLUMNS.split(","))}
                FROM calls c JOIN call_deliveries d ON d.call_id = c.id
                WHERE d.committee_id = ? AND c.status = 'active' ORDER BY c.starts_at, c.id""",
            (committee_id,),
        ) as cursor:
            return [self._from_row(row) async for row in cursor]

    # -- deliveries and tallies -------------------------------------------------------------
    async def add_delivery(self, conn: aiosqlite.Connection, call_id: int, committee_id: int, outbox_id: int) -> None:
        await conn.execute(
            "INSERT INTO call_deliveries (call_id, committee_id, outbox_id) VALUES (?, ?, ?)",
            (call_id, committee_id, outbox_id),
        )

    async def add_deliveries(self, conn: aiosqlite.Connection, call_id: int, rows: list[tuple[int, int]]) -> None:
        """(committee id, outbox id) for each copy of a call, in one statement."""
        await conn.executemany(
            "INSERT INTO call_deliveries (call_id, committee_id, outbox_id) VALUES (?, ?, ?)",
            [(call_id, committee_id, outbox_id) for committee_id, outbox_id in rows],
        )

    async def copies(self, conn: aiosqlite.Connection, call_id: int) -> list[Copy]:
        """Every copy of a call with what rendering and revising it needs, in one query: a call to a
        thousand committees is revised or reminded without thousands of look-ups."""
        async with conn.execute(
            """SELECT d.committee_id, d.outbox_id, o.state, c.region, s.language, a.answer, a.headcount
               FROM call_deliveries d
               JOIN outbox o ON o.id = d.outbox_id
               JOIN committees c ON c.id = d.committee_id
               LEFT JOIN chat_settings s ON s.chat_ref = c.chat_ref
               LEFT JOIN call_answers a ON a.call_id = d.call_id AND a.committee_id = d.committee_id
               WHERE d.call_id = ? ORDER BY d.outbox_id""",
            (call_id,),
        ) as cursor:
            return [Copy(*row) async for row in cursor]

    async def delivery_of(self, conn: aiosqlite.Connection, call_id: int, committee_id: int) -> int | None:
        async with conn.execute(
            "SELECT outbox_id FROM call_deliveries WHERE call_id = ? AND committee_id = ?", (call_id, committee_id)
        ) as cursor:
            row = await cursor.fetchone()
        return row[0] if row else None

    async def call_of_delivery(self, conn: aiosqlite.Connection, outbox_id: int) -> int | None:
        async with conn.execute("SELECT call_id FROM call_deliveries WHERE outbox_id = ?", (outbox_id,)) as cursor:
            row = await cursor.fetchone()
        return row[0] if row else None

    async def delivery_states(self, conn: aiosqlite.Connection, call_id: int) -> list[tuple[str, str | None]]:
        """(outbox state, error) of every copy: what the live tally counts. Counted in SQL, since
        the tally is refreshed after every delivery of a broadcast."""
        async with conn.execute(
            """SELECT o.state, o.error, count(*) FROM call_deliveries d JOIN outbox o ON o.id = d.outbox_id
               WHERE d.call_id = ? GROUP BY o.state, o.error""",
            (call_id,),
        ) as cursor:
            return [(state, error) async for state, error, n in cursor for _ in range(n)]

    async def add_tally(self, conn: aiosqlite.Connection, call_id: int, outbox_id: int) -> None:
        await conn.execute("INSERT INTO call_tallies (call_id, outbox_id) VALUES (?, ?)", (call_id, outbox_id))

    async def tallies(self, conn: aiosqlite.Connection, call_id: int) -> list[int]:
        async with conn.execute(
            "SELECT outbox_id FROM call_tallies WHERE call_id = ? ORDER BY outbox_id", (call_id,)
        ) as cursor:
            return [outbox_id async for (outbox_id,) in cursor]

    # -- answers ------------------------------------------------------------------------------
    async def set_answer(
        self,
        conn: aiosqlite.Connection,
        call_id: int,
        committee_id: int,
        *,
        answer: str,
        by: int,
        now: int,
    ) -> None:
        await conn.execute(
            """INSERT INTO call_answers (call_id, committee_id, answer, answered_by, answered_at)
               VALUES (?, ?, ?, ?, ?)
               ON CONFLICT (call_id, committee_id) DO UPDATE SET
                   answer = excluded.answer, answered_by = excluded.answered_by, answered_at = excluded.answered_at""",
            (call_id, committee_id, answer, self.crypto.user(by), now),
        )

    async def set_headcount(
        self, conn: aiosqlite.Connection, call_id: int, committee_id: int, *, headcount: int, by: int, now: int
    ) -> None:
        """A head count implies the committee takes part."""
        await conn.execute(
            """INSERT INTO call_answers (call_id, committee_id, answer, headcount, answered_by, answered_at)
               VALUES (?, ?, 'join', ?, ?, ?)
               ON CONFLICT (call_id, committee_id) DO UPDATE SET
                   answer = 'join', headcount = excluded.headcount, answered_by = excluded.answered_by,
                   answered_at = excluded.answered_at""",
            (call_id, committee_id, headcount, self.crypto.user(by), now),
        )

    async def answer_of(self, conn: aiosqlite.Connection, call_id: int, committee_id: int) -> tuple[str, int | None]:
        async with conn.execute(
            "SELECT answer, headcount FROM call_answers WHERE call_id = ? AND committee_id = ?", (call_id, committee_id)
        ) as cursor:
            row = await cursor.fetchone()
        return (row[0], row[1]) if row else ("", None)

    async def answers(self, conn: aiosqlite.Connection, call_id: int) -> list[tuple[str, int | None]]:
        async with conn.execute("SELECT answer, headcount FROM call_answers WHERE call_id = ?", (call_id,)) as cursor:
            return [(answer, headcount) async for answer, headcount in cursor]

    # -- reminders ----------------------------------------------------------------------------
    async def set_reminders(
        self, conn: aiosqlite.Connection, call_id: int, leads_s: Iterable[int], starts_at: int, *, now: int
    ) -> None:
        """(Re)plan a call's reminders; those already due or past are skipped, never sent late."""
        await conn.execute("DELETE FROM call_reminders WHERE call_id = ? AND state = 'pending'", (call_id,))
        for lead in leads_s:
            due = starts_at - lead
            await conn.execute(
                """INSERT INTO call_reminders (call_id, lead_s, due_at, state) VALUES (?, ?, ?, ?)
                   ON CONFLICT (call_id, lead_s) DO UPDATE SET due_at = excluded.due_at, state = excluded.state""",
                (call_id, lead, due, "pending" if due > now else "skipped"),
            )

    async def pending_reminders(self, conn: aiosqlite.Connection, call_id: int | None = None) -> list[Reminder]:
        query = """SELECT r.call_id, r.lead_s, r.due_at FROM call_reminders r JOIN calls c ON c.id = r.call_id
                   WHERE r.state = 'pending' AND c.status = 'active'"""
        params: tuple = ()
        if call_id is not None:
            query += " AND r.call_id = ?"
            params = (call_id,)
        async with conn.execute(query + " ORDER BY r.due_at", params) as cursor:
            return [Reminder(*row) async for row in cursor]

    async def finish_reminder(self, conn: aiosqlite.Connection, call_id: int, lead_s: int, state: str) -> bool:
        """Mark a reminder sent or skipped, once; False if another run already did."""
        cursor = await conn.execute(
            "UPDATE call_reminders SET state = ? WHERE call_id = ? AND lead_s = ? AND state = 'pending'",
            (state, call_id, lead_s),
        )
        return bool(cursor.rowcount)

    async def drop_reminders(self, conn: aiosqlite.Connection, call_id: int) -> None:
        await conn.execute(
            "UPDATE call_reminders SET state = 'skipped' WHERE call_id = ? AND state = 'pending'", (call_id,)
        )

    # -- /verify guesses ------------------------------------------------------------------------
    async def misses_since(self, conn: aiosqlite.Connection, user_id: int, since: int) -> int:
        async with conn.execute(
            "SELECT count(*) FROM verify_misses WHERE user_ref = ? AND at >= ?", (self.crypto.user(user_id), since)
        ) as cursor:
            row = await cursor.fetchone()
        return row[0] if row else 0

    async def add_miss(self, conn: aiosqlite.Connection, user_id: int, *, now: int) -> None:
        await conn.execute("INSERT INTO verify_misses (user_ref, at) VALUES (?, ?)", (self.crypto.user(user_id), now))
