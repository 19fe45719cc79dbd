"""The durable outbox in SQL: one row per message that matters, until it is sent.

Rows are written in the same transaction as the change they announce. The sender marks a row
`inflight` (committed) immediately before its request, so after a crash only rows that were
in flight can be sent twice; `resume()` puts them back at start. A row either sends a new
message (`op = 'send'`) or edits the message another row sent (`op = 'edit'`, `target_id`):
`revise()` turns a change of a message into the cheapest of the two, so that a message edited
a hundred times while the chat's rate limit holds it back costs one request, not a hundred.
`collect()` does the same for many small notices to one chat: a waiting row takes each new
entry and is rewritten to show them all (a busy committee's "demands #12, #13, #14 are
recorded"). The text that leaves is the one the row holds when it is claimed, so a rewrite
that comes after the sender read the row but before it claimed it is not lost.
"""

from __future__ import annotations

import base64
from collections.abc import Callable
from dataclasses import dataclass, replace
from typing import Any

import aiosqlite

from storage import json_bytes
from storage.crypto import Crypto

SEND, EDIT = "send", "edit"


@dataclass(frozen=True)
class OutboxItem:
    id: int
    purpose: str
    op: str
    chat_id: int
    committee_id: int | None
    council_id: int | None
    text: str
    reply_markup: dict[str, Any] | None
    attempts: int
    target_id: int | None = None
    target_state: str | None = None
    target_message_id: int | None = None
    reply_to: int | None = None  # a message in the chat that a new message quotes (if it still exists)
    photo: bytes | None = None  # a PNG sent with `text` as its caption (a digest's chart)

    @property
    def recipient(self) -> str:
        """The chat this row goes to, as a key that survives the chat migrating to a new id."""
        return f"m{self.committee_id}" if self.committee_id is not None else f"k{self.council_id}"


# Renders a collecting row from all its entries: (text, message to quote or None).
Render = Callable[[list[Any]], tuple[str, int | None]]


class OutboxRepository:
    def __init__(self, crypto: Crypto) -> None:
        self.crypto = crypto
        # (purpose, committee id) -> the row that was last collecting for it and the entries it
        # holds, so that an entry costs one UPDATE, not a read and an opening of the row too. Only a
        # hint, checked against the row: a restart or a rollback (`forget`) empties it, and the next
        # entry simply starts a new row.
        self._collecting: dict[tuple[str, int], tuple[int, list[Any]]] = {}

    def forget(self) -> None:
        """A rollback (storage/database.py): the entries kept may hold one that was never written."""
        self._collecting.clear()

    def _seal(
        self,
        outbox_id: int,
        text: str,
        reply_markup: dict[str, Any] | None,
        *,
        reply_to: int | None = None,
        photo: bytes | None = None,
    ) -> bytes:
        body: dict[str, Any] = {"text": text, "reply_markup": reply_markup}
        if reply_to is not None:
            body["reply_to"] = reply_to
        if photo is not None:
            body["photo"] = base64.b64encode(photo).decode("ascii")
        return self.crypto.seal(json_bytes.dumps(body), table="outbox", column="payload_ct", row=outbox_id)

    def _open(self, outbox_id: int, payload_ct: bytes) -> dict[str, Any]:
        return json_bytes.loads_own(self.crypto.open(payload_ct, table="outbox", column="payload_ct", row=outbox_id))

    async def enqueue(
        self,
        conn: aiosqlite.Connection,
        *,
        purpose: str,
        text: str,
        now: int,
        committee_id: int | None = None,
        council_id: int | None = None,
        reply_markup: dict[str, Any] | None = None,
        not_before: float = 0,
        op: str = SEND,
        target_id: int | None = None,
        reply_to: int | None = None,
        photo: bytes | None = None,
    ) -> int:
        async with conn.execute(
            """INSERT INTO outbox (committee_id, council_id, purpose, op, target_id, not_before, created_at)
               VALUES (?, ?, ?, ?, ?, ?, ?) RETURNING id""",
            (committee_id, council_id, purpose, op, target_id, not_before, now),
        ) as cursor:
            row = await cursor.fetchone()
        assert row is not None
        await conn.execute(
            "UPDATE outbox SET payload_ct = ? WHERE id = ?",
            (self._seal(row[0], text, reply_markup, reply_to=reply_to, photo=photo), row[0]),
        )
        return row[0]

    async def collect(
        self, conn: aiosqlite.Connection, *, purpose: str, committee_id: int, entry: Any, render: Render, now: int
    ) -> int:
        """Add `entry` to the committee's waiting row of this purpose, rewritten by `render` from all
        its entries; a new row when none is waiting (the last one left, the bot restarted, a rollback).

        The entries live in memory only; the row holds what `render` made of them. Returns the row's id."""
        key = (purpose, committee_id)
        waiting = self._collecting.get(key)
        if waiting is not None:
            waiting_id, entries = waiting
            entries = [*entries, entry]
            text, reply_to = render(entries)
            cursor = await conn.execute(
                """UPDATE outbox SET payload_ct = ?
                   WHERE id = ? AND state = 'pending' AND op = 'send' AND purpose = ? AND committee_id = ?""",
                (
                    self._seal(waiting_id, text, None, reply_to=reply_to),
                    waiting_id,
                    purpose,
                    committee_id,
                ),
            )
            if cursor.rowcount:  # else the sender claimed it (or it went): a new row
                self._collecting[key] = (waiting_id, entries)
                return waiting_id
        async with conn.execute("SELECT coalesce(max(id), 0) + 1 FROM outbox") as cursor:
            (outbox_id,) = await cursor.fetchone()
        text, reply_to = render([entry])
        await conn.execute(
            "INSERT INTO outbox (id, committee_id, purpose, payload_ct, created_at) VALUES (?, ?, ?, ?, ?)",
            (
                outbox_id,
                committee_id,
                purpose,
                self._seal(outbox_id, text, None, reply_to=reply_to),
                now,
            ),
        )
        self._collecting[key] = (outbox_id, [entry])
        return outbox_id

    async def enqueue_many(
        self,
        conn: aiosqlite.Connection,
        *,
        purpose: str,
        messages: list[tuple[int, str, dict[str, Any] | None]],
        now: int,
    ) -> list[int]:
        """One bulk row per (committee id, text, reply markup), in one statement: a call to a
        thousand committees is written in milliseconds, and waits behind any single message (see
        `due`). Ids are taken after the largest, which is safe because writes run one transaction
        at a time (BEGIN IMMEDIATE)."""
        async with conn.execute("SELECT coalesce(max(id), 0) FROM outbox") as cursor:
            row = await cursor.fetchone()
        first = row[0] + 1
        ids = list(range(first, first + len(messages)))
        await conn.executemany(
            "INSERT INTO outbox (id, committee_id, purpose, payload_ct, created_at, bulk) VALUES (?, ?, ?, ?, ?, 1)",
            [
                (outbox_id, committee_id, purpose, self._seal(outbox_id, text, markup), now)
                for outbox_id, (committee_id, text, markup) in zip(ids, messages, strict=True)
            ],
        )
        return ids

    async def revise(
        self,
        conn: aiosqlite.Connection,
        target_id: int,
        *,
        text: str,
        reply_markup: dict[str, Any] | None,
        now: int,
        not_before: float = 0,
    ) -> int | None:
        """Make the message of row `target_id` read `text`: rewrite the row while it has not left,
        else rewrite a waiting edit of it, else queue a new edit. Returns the row that will carry
        the change, or None when the message was never delivered (failed or dropped)."""
        async with conn.execute(
            "SELECT state, purpose, committee_id, council_id FROM outbox WHERE id = ?", (target_id,)
        ) as cursor:
            row = await cursor.fetchone()
        if row is None or row[0] in ("failed", "dropped"):
            return None
        state, purpose, committee_id, council_id = row
        if state == "pending":
            await conn.execute(
                "UPDATE outbox SET payload_ct = ? WHERE id = ?", (self._seal(target_id, text, reply_markup), target_id)
            )
            return target_id
        async with conn.execute(
            "SELECT id FROM outbox WHERE target_id = ? AND state = 'pending' ORDER BY id DESC LIMIT 1", (target_id,)
        ) as cursor:
            waiting = await cursor.fetchone()
        if waiting is not None:
            await conn.execute(
                "UPDATE outbox SET payload_ct = ? WHERE id = ?",
                (self._seal(waiting[0], text, reply_markup), waiting[0]),
            )
            return waiting[0]
        return await self.enqueue(
            conn,
            purpose=purpose,
            text=text,
            reply_markup=reply_markup,
            now=now,
            committee_id=committee_id,
            council_id=council_id,
            not_before=not_before,
            op=EDIT,
            target_id=target_id,
        )

    async def recipient(self, conn: aiosqlite.Connection, outbox_id: int) -> tuple[int | None, int | None] | None:
        """(committee id, council id) a row goes to."""
        async with conn.execute("SELECT committee_id, council_id FROM outbox WHERE id = ?", (outbox_id,)) as cursor:
            row = await cursor.fetchone()
        return (row[0], row[1]) if row else None

    async def row_of_message(self, conn: aiosqlite.Connection, *, council_id: int, message_id: int) -> int | None:
        """The row that sent a council's message (to edit it through the outbox); None if another way did."""
        async with conn.execute(
            "SELECT id FROM outbox WHERE council_id = ? AND message_id = ? AND op = 'send' AND state = 'sent'",
            (council_id, message_id),
        ) as cursor:
            row = await cursor.fetchone()
        return row[0] if row else None

    async def drop(self, conn: aiosqlite.Connection, outbox_id: int) -> bool:
        """Withdraw a row that has not left yet (and its waiting edits); True if it had not."""
        cursor = await conn.execute(
            "UPDATE outbox SET state = 'dropped' WHERE id = ? AND state = 'pending'", (outbox_id,)
        )
        if cursor.rowcount:
            await conn.execute(
                "UPDATE outbox SET state = 'dropped' WHERE target_id = ? AND state = 'pending'", (outbox_id,)
            )
        return bool(cursor.rowcount)

    async def resume(self, conn: aiosqlite.Connection) -> int:
        """Put rows left in flight by a crash back in the queue; returns how many."""
        cursor = await conn.execute("UPDATE outbox SET state = 'pending' WHERE state = 'inflight'")
        return cursor.rowcount

    async def due(self, conn: aiosqlite.Connection, *, now: float, limit: int) -> list[OutboxItem]:
        """Up to `limit` rows due now, with their recipients' chat ids (not claimed).

        Oldest first, except that bulk rows (a broadcast's copies, from `enqueue_many`) come after
        everything else that is due: a broadcast to a thousand committees takes half a minute, and
        meanwhile its live tally, a council's request or a committee's approval should not wait."""
        async with conn.execute(
            """SELECT o.id, o.purpose, o.op, o.committee_id, o.council_id, o.payload_ct, o.attempts,
                      coalesce(c.chat_id_ct, k.chat_id_ct), o.target_id, t.state, t.message_id
               FROM outbox o
               LEFT JOIN committees c ON c.id = o.committee_id
               LEFT JOIN councils k ON k.id = o.council_id
               LEFT JOIN outbox t ON t.id = o.target_id
               WHERE o.state = 'pending' AND o.not_before <= ?
               ORDER BY o.bulk, o.not_before, o.id LIMIT ?""",
            (now, limit),
        ) as cursor:
            rows = await cursor.fetchall()
        items = []
        for row in rows:
            outbox_id, purpose, op, committee_id, council_id, payload_ct, attempts, chat_ct = row[:8]
            payload = self._open(outbox_id, payload_ct)
            table, row_id = ("committees", committee_id) if committee_id else ("councils", council_id)
            items.append(
                OutboxItem(
                    id=outbox_id,
                    purpose=purpose,
                    op=op,
                    chat_id=self.crypto.open_chat_id(chat_ct, table=table, row=row_id),
                    committee_id=committee_id,
                    council_id=council_id,
                    text=payload["text"],
                    reply_markup=payload["reply_markup"],
                    attempts=attempts + 1,
                    target_id=row[8],
                    target_state=row[9],
                    target_message_id=row[10],
                    reply_to=payload.get("reply_to"),
                    photo=_photo(payload),
                )
            )
        return items

    async def claim(self, conn: aiosqlite.Connection, item: OutboxItem) -> OutboxItem | None:
        """Mark a row read by `due` in flight; None if it is no longer pending (dropped, or taken).

        Returns the row as it is now: a `revise` or `collect` may have rewritten it since."""
        async with conn.execute(
            """UPDATE outbox SET state = 'inflight', attempts = attempts + 1 WHERE id = ? AND state = 'pending'
               RETURNING payload_ct""",
            (item.id,),
        ) as cursor:
            row = await cursor.fetchone()
        if row is None:
            return None
        payload = self._open(item.id, row[0])
        return replace(
            item,
            text=payload["text"],
            reply_markup=payload["reply_markup"],
            reply_to=payload.get("reply_to"),
            photo=_photo(payload),
        )

    async def mark_sent(self, conn: aiosqlite.Connection, outbox_id: int, *, message_id: int | None, now: int) -> None:
        """Delivered; an edit keeps no message id of its own (it changed its target's)."""
        await conn.execute(
            "UPDATE outbox SET state = 'sent', message_id = ?, sent_at = ?, error = NULL WHERE id = ?",
            (message_id, now, outbox_id),
        )

    async def retry_later(self, conn: aiosqlite.Connection, outbox_id: int, *, not_before: float, error: str) -> None:
        await conn.execute(
            "UPDATE outbox SET state = 'pending', not_before = ?, error = ? WHERE id = ?",
            (not_before, error, outbox_id),
        )

    async def mark_failed(self, conn: aiosqlite.Connection, outbox_id: int, *, error: str) -> None:
        await conn.execute("UPDATE outbox SET state = 'failed', error = ? WHERE id = ?", (error, outbox_id))

    async def mark_dropped(self, conn: aiosqlite.Connection, outbox_id: int, *, error: str) -> None:
        await conn.execute("UPDATE outbox SET state = 'dropped', error = ? WHERE id = ?", (error, outbox_id))

    async def next_due(self, conn: aiosqlite.Connection) -> float | None:
        async with conn.execute("SELECT min(not_before) FROM outbox WHERE state = 'pending'") as cursor:
            row = await cursor.fetchone()
        return row[0] if row else None

    async def counts(self, conn: aiosqlite.Connection) -> dict[str, int]:
        async with conn.execute("SELECT state, count(*) FROM outbox GROUP BY state") as cursor:
            return {state: n async for state, n in cursor}


def _photo(payload: dict[str, Any]) -> bytes | None:
    encoded = payload.get("photo")
    return base64.b64decode(encoded) if encoded else None
