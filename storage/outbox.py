"""The durable outbox in SQL: one row per message that matters, until it is sent.

Rows are written in the same transaction as the change they announce. The sender claims due
rows by marking them `inflight` (committed) before the request, so after a crash only the
rows that were in flight can be sent twice; `resume()` puts them back at start.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

import aiosqlite

from storage.crypto import Crypto


@dataclass(frozen=True)
class OutboxItem:
    id: int
    purpose: str
    chat_id: int
    committee_id: int | None
    council_id: int | None
    text: str
    reply_markup: dict[str, Any] | None
    attempts: int


class OutboxRepository:
    def __init__(self, crypto: Crypto) -> None:
        self.crypto = crypto

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
    ) -> int:
        async with conn.execute(
            "INSERT INTO outbox (committee_id, council_id, purpose, created_at) VALUES (?, ?, ?, ?) RETURNING id",
            (committee_id, council_id, purpose, now),
        ) as cursor:
            row = await cursor.fetchone()
        assert row is not None
        payload = json.dumps({"text": text, "reply_markup": reply_markup}, ensure_ascii=False)
        await conn.execute(
            "UPDATE outbox SET payload_ct = ? WHERE id = ?",
            (self.crypto.seal_text(payload, table="outbox", column="payload_ct", row=row[0]), row[0]),
        )
        return row[0]

    async def resume(self, conn: aiosqlite.Connection) -> int:
        """Put rows left in flight by a crash back in the queue; returns how many."""
        cursor = await conn.execute("UPDATE outbox SET state = 'pending' WHERE state = 'inflight'")
        return cursor.rowcount

    async def claim_due(self, conn: aiosqlite.Connection, *, now: float, limit: int) -> list[OutboxItem]:
        """Mark up to `limit` due rows in flight and return them with their recipients' chat ids."""
        async with conn.execute(
            """SELECT o.id, o.purpose, o.committee_id, o.council_id, o.payload_ct, o.attempts,
                      coalesce(c.chat_id_ct, k.chat_id_ct), coalesce(c.reachable, k.reachable)
               FROM outbox o
               LEFT JOIN committees c ON c.id = o.committee_id
               LEFT JOIN councils k ON k.id = o.council_id
               WHERE o.state = 'pending' AND o.not_before <= ?
               ORDER BY o.not_before, o.id LIMIT ?""",
            (now, limit),
        ) as cursor:
            rows = await cursor.fetchall()
        items = []
        for row in rows:
            outbox_id, purpose, committee_id, council_id, payload_ct, attempts, chat_ct, _reachable = row
            payload = json.loads(self.crypto.open_text(payload_ct, table="outbox", column="payload_ct", row=outbox_id))
            table, row_id = ("committees", committee_id) if committee_id else ("councils", council_id)
            items.append(
                OutboxItem(
                    id=outbox_id,
                    purpose=purpose,
                    chat_id=self.crypto.open_chat_id(chat_ct, table=table, row=row_id),
                    committee_id=committee_id,
                    council_id=council_id,
                    text=payload["text"],
                    reply_markup=payload["reply_markup"],
                    attempts=attempts + 1,
                )
            )
        if items:
            marks = ",".join("?" * len(items))
            await conn.execute(
                f"UPDATE outbox SET state = 'inflight', attempts = attempts + 1 WHERE id IN ({marks})",
                [item.id for item in items],
            )
        return items

    async def mark_sent(self, conn: aiosqlite.Connection, outbox_id: int, *, message_id: int, now: int) -> None:
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

    async def next_due(self, conn: aiosqlite.Connection) -> float | None:
        async with conn.execute("SELECT min(not_before) FROM outbox WHERE state = 'pending'") as cursor:
            row = await cursor.fetchone()
        return row[0] if row else None

    async def counts(self, conn: aiosqlite.Connection) -> dict[str, int]:
        async with conn.execute("SELECT state, count(*) FROM outbox GROUP BY state") as cursor:
            return {state: n async for state, n in cursor}
