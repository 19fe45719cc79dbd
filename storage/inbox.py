"""The durable inbox: updates kept before Telegram is told they arrived, until they are handled.

PTB's Updater confirms updates to Telegram (the next getUpdates' offset) as soon as they are in
its queue, before any handler ran: a bot killed then loses them. Here an update is written,
sealed, first (`keep`), and Telegram is told only then; the update's first write transaction
marks it handled in the same transaction (`HANDLING`, used by storage/database.py), so that
after a kill the rows still holding a payload are exactly the updates that had no effect yet,
and a copy that Telegram delivers again (it was kept and handled, but the kill came before the
offset moved on) finds its row handled and is not handled twice.
"""

from __future__ import annotations

import json
from contextvars import ContextVar
from dataclasses import dataclass
from typing import Any

import aiosqlite

from storage import json_bytes
from storage.crypto import Crypto

# How long a handled update's id is remembered (storage/retention.py purges it then): Telegram
# keeps an unconfirmed update for 24 hours, so no copy of it can come later than that.
REMEMBER_HANDLED_S = 2 * 24 * 3600


@dataclass(slots=True)
class Handling:
    """The kept update a task is handling; `marked` once a committed write marked it handled."""

    update_id: int
    now: int
    marked: bool = False


# Set by the update processor (bot/inbox.py) around a kept update's handlers; a write transaction
# in that context marks the update handled along with its own writes (storage/database.py).
HANDLING: ContextVar[Handling | None] = ContextVar("asamblea_handling", default=None)


async def mark_handled(conn: aiosqlite.Connection, handling: Handling) -> None:
    """Empty the update's payload: inside the writer's savepoint, so it commits with its writes.

    The row is written if it is not there: an update's handlers start before its row is on disk
    (bot/inbox.py), and if that COMMIT failed, the update is still handled, and must be known as
    handled when Telegram sends it again."""
    await conn.execute(
        "INSERT INTO inbox (update_id, received_at, update_ct, handled_at) VALUES (?1, ?2, NULL, ?2)"
        " ON CONFLICT (update_id) DO UPDATE SET update_ct = NULL, handled_at = ?2 WHERE update_ct IS NOT NULL",
        (handling.update_id, handling.now),
    )


class InboxRepository:
    def __init__(self, crypto: Crypto) -> None:
        self.crypto = crypto

    def _seal(self, update_id: int, payload: dict[str, Any]) -> bytes:
        return self.crypto.seal(json_bytes.dumps(payload), table="inbox", column="update_ct", row=update_id)

    async def keep(self, tx: aiosqlite.Connection, updates: list[tuple[int, dict[str, Any]]], *, now: int) -> list[int]:
        """Write the updates not seen before; their ids, in the order given. An update already
        here (kept and not yet handled, or handled) is a copy: not kept again, not returned."""
        kept = []
        for update_id, payload in updates:
            cursor = await tx.execute(
                "INSERT INTO inbox (update_id, received_at, update_ct) VALUES (?, ?, ?) ON CONFLICT DO NOTHING",
                (update_id, now, self._seal(update_id, payload)),
            )
            if cursor.rowcount:
                kept.append(update_id)
        return kept

    async def pending(self, conn: aiosqlite.Connection) -> list[tuple[int, dict[str, Any]]]:
        """The kept updates not handled yet (a kill came first), oldest first."""
        async with conn.execute(
            "SELECT update_id, update_ct FROM inbox WHERE update_ct IS NOT NULL ORDER BY update_id"
        ) as cursor:
            rows = await cursor.fetchall()
        return [
            (update_id, json.loads(self.crypto.open_text(blob, table="inbox", column="update_ct", row=update_id)))
            for update_id, blob in rows
        ]
