"""Wiping in SQL: one committee's data (`/wipe`), or the whole database's key (crypto-shredding).

A committee's wipe (`wipe_committee`) deletes, in one transaction, what the bot keeps about it:

- the calls it issued, with their deliveries, answers, tallies and reminders, and every copy of
  them in the outbox, sent or not (a withdrawn call is not sent on, and /verify no longer knows it);
- its answers to other calls and the copies it received (those calls' tallies count without it);
- its demands, except those the movement has taken up: a demand in the common programme, or one
  other committees' demands were merged into (it carries their support). Those stay, with the
  member who put them forward unlinked (a random pseudonym) and without this committee's support;
- its support for any demand, its decisions and every voice in them, its delegates and mandates,
  its decision rule, its private demand link, its strike status history, its outbox rows, its
  approval request in its council's chat, and its chat's settings;
- who acted in its audit rows (the actions stay in the council's counts, with nobody behind them).

The committee row stays as `wiped`: region, kind and dates (the spread's counts), with no name,
no chat id, no chat pseudonym (replaced by random bytes, so nothing links the group to the row
and the group can register anew as a new committee) and no pseudonym of who registered it.

The database's key (`shred`): the keyring's salt is overwritten, every row of every table is
deleted (secure_delete zeroes them), the write-ahead log is checkpointed and truncated, and the
file is rebuilt with VACUUM. With the salt gone, HKDF cannot derive the keys again from
ASAMBLEA_SECRET_KEY, so whatever survives elsewhere on the disk (a block the file system moved,
an SSD's spare area) is ciphertext and pseudonyms under keys nobody can derive. The emptied
keyring row (salt and check value empty, `created_at` the moment of the wipe) tells the next
start what happened (storage.database.DatabaseShredded).
"""

from __future__ import annotations

import os
import sqlite3
from dataclasses import dataclass
from pathlib import Path

import aiosqlite

from storage.crypto import PSEUDONYM_BYTES, Crypto, DecryptionError


@dataclass(frozen=True)
class WipedCommittee:
    """What a committee's wipe removed that the running bot keeps alarms or messages for."""

    calls: list[int]  # the calls it issued (their reminder alarms go)
    decisions: list[int]  # its decisions (their deadline alarms go)
    delegates: list[int]  # its elected offices (their term notices go)
    answered: list[int]  # other calls it had received (their tallies count without it)
    kept_demands: list[int]  # demands that stay as the movement's, unlinked from who put them forward


async def _ids(conn: aiosqlite.Connection, sql: str, *params: object) -> list[int]:
    async with conn.execute(sql, params) as cursor:
        return [row[0] for row in await cursor.fetchall()]


def _marks(values: list[int]) -> str:
    return ",".join("?" * len(values))


async def wipe_committee(tx: aiosqlite.Connection, crypto: Crypto, committee_id: int, *, now: int) -> WipedCommittee:
    """Delete a committee's data and leave it `wiped` (see the module's docstring); inside the
    caller's transaction, so that all of it happens or none."""
    async with tx.execute("SELECT chat_ref FROM committees WHERE id = ?", (committee_id,)) as cursor:
        row = await cursor.fetchone()
    chat_ref = bytes(row[0])

    # Its calls, and every copy and live tally of them, wherever they were going.
    calls = await _ids(tx, "SELECT id FROM calls WHERE issuer_committee_id = ?", committee_id)
    copies: list[int] = []
    if calls:
        copies = await _ids(
            tx,
            f"""SELECT outbox_id FROM call_deliveries WHERE call_id IN ({_marks(calls)})
                UNION SELECT outbox_id FROM call_tallies WHERE call_id IN ({_marks(calls)})""",
            *calls,
            *calls,
        )
        await tx.execute("DELETE FROM calls WHERE issuer_committee_id = ?", (committee_id,))
    # Other calls it received: its answers and deliveries.
    answered = await _ids(
        tx,
        """SELECT call_id FROM call_deliveries WHERE committee_id = ?
           UNION SELECT call_id FROM call_answers WHERE committee_id = ?""",
        committee_id,
        committee_id,
    )
    await tx.execute("DELETE FROM call_answers WHERE committee_id = ?", (committee_id,))
    await tx.execute("DELETE FROM call_deliveries WHERE committee_id = ?", (committee_id,))

    # Demands: those merged away first (nothing is merged into them), then the rest but the
    # movement's. Their escalation messages in councils' chats go with them.
    await tx.execute(
        "DELETE FROM demands WHERE committee_id = ? AND status = 'merged' AND adopted_at IS NULL", (committee_id,)
    )
    kept = await _ids(
        tx,
        """SELECT id FROM demands d WHERE d.committee_id = ?
           AND (d.adopted_at IS NOT NULL OR EXISTS (SELECT 1 FROM demands m WHERE m.merged_into = d.id))""",
        committee_id,
    )
    escalations = await _ids(
        tx,
        f"""SELECT e.outbox_id FROM demand_escalations e JOIN demands d ON d.id = e.demand_id
            WHERE d.committee_id = ? AND e.outbox_id IS NOT NULL AND d.id NOT IN ({_marks(kept)})""",
        committee_id,
        *kept,
    )
    await tx.execute(
        f"DELETE FROM demands WHERE committee_id = ? AND id NOT IN ({_marks(kept)})", (committee_id, *kept)
    )
    for demand_id in kept:
        await tx.execute("UPDATE demands SET submitted_by = ? WHERE id = ?", (os.urandom(PSEUDONYM_BYTES), demand_id))
    await tx.execute("DELETE FROM demand_support WHERE committee_id = ?", (committee_id,))
    await tx.execute("DELETE FROM demand_links WHERE committee_id = ?", (committee_id,))

    # Its assembly: decisions (voices go with them), delegates, rule; its strike status.
    decisions = await _ids(tx, "SELECT id FROM decisions WHERE committee_id = ?", committee_id)
    delegates = await _ids(tx, "SELECT id FROM delegates WHERE committee_id = ?", committee_id)
    await tx.execute("DELETE FROM delegates WHERE committee_id = ?", (committee_id,))
    await tx.execute("DELETE FROM decisions WHERE committee_id = ?", (committee_id,))
    await tx.execute("DELETE FROM committee_rules WHERE committee_id = ?", (committee_id,))
    await tx.execute("DELETE FROM strike_status WHERE committee_id = ?", (committee_id,))

    # Messages: its own, the copies and escalations found above, its approval request.
    own = await _ids(tx, "SELECT id FROM outbox WHERE committee_id = ?", committee_id)
    gone = sorted({*own, *copies, *escalations, *await _approval_requests(tx, crypto, committee_id)})
    if gone:
        await tx.execute(f"DELETE FROM call_tallies WHERE outbox_id IN ({_marks(gone)})", gone)
        await tx.execute(f"DELETE FROM call_deliveries WHERE outbox_id IN ({_marks(gone)})", gone)
        await tx.execute(f"DELETE FROM outbox WHERE id IN ({_marks(gone)})", gone)
    await tx.execute("DELETE FROM chat_settings WHERE chat_ref = ?", (chat_ref,))
    # Its audit rows stay (a council still sees that calls were issued here, and an infiltrator's
    # wipe does not erase their calls from its view), but no longer say who acted (storage/audit.py).
    await tx.execute("UPDATE audit SET actor = NULL WHERE committee_id = ?", (committee_id,))

    await tx.execute(
        """UPDATE committees SET status = 'wiped', chat_id_ct = NULL, name_ct = NULL, chat_ref = ?,
               registered_by = ?, decided_by = NULL, decided_at = ?, reachable = 0
           WHERE id = ?""",
        (os.urandom(PSEUDONYM_BYTES), os.urandom(PSEUDONYM_BYTES), now, committee_id),
    )
    return WipedCommittee(
        calls=calls,
        decisions=decisions,
        delegates=delegates,
        answered=[c for c in answered if c not in calls],
        kept_demands=kept,
    )


async def _approval_requests(tx: aiosqlite.Connection, crypto: Crypto, committee_id: int) -> list[int]:
    """The council messages that asked to approve this committee (they name it); found by their
    Approve button, which carries the committee's id."""
    button = f'"v1:ap:{committee_id}:y"'
    found = []
    async with tx.execute(
        "SELECT id, payload_ct FROM outbox WHERE purpose = 'approval_request' AND payload_ct IS NOT NULL"
    ) as cursor:
        rows = await cursor.fetchall()
    for outbox_id, payload_ct in rows:
        try:
            payload = crypto.open_text(payload_ct, table="outbox", column="payload_ct", row=outbox_id)
        except DecryptionError:
            continue
        if button in payload:
            found.append(outbox_id)
    return found


# -- the whole database ---------------------------------------------------------------------


def shred(path: Path, *, now: int) -> None:
    """Destroy the database's key and empty it (see the module's docstring). Blocking; the bot must
    not have the database open (its keys would live on in its memory)."""
    conn = sqlite3.connect(str(path), isolation_level=None)
    try:
        conn.execute("PRAGMA busy_timeout = 10000")
        conn.execute("PRAGMA secure_delete = ON")
        conn.execute("PRAGMA foreign_keys = OFF")  # every table is emptied: the order does not matter
        conn.execute("BEGIN IMMEDIATE")
        conn.execute("DELETE FROM keyring")
        conn.execute("INSERT INTO keyring (id, salt, check_value, created_at) VALUES (1, X'', X'', ?)", (now,))
        tables = [
            name
            for (name,) in conn.execute(
                "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' AND name != 'keyring'"
            )
        ]
        for table in tables:
            conn.execute(f'DELETE FROM "{table}"')
        conn.execute("COMMIT")
        conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        conn.execute("VACUUM")
        conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    finally:
        conn.close()


def is_shredded(path: Path) -> bool:
    """Whether a database file's key was destroyed (without opening it as the bot does)."""
    if not path.is_file():
        return False
    conn = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
    try:
        row = conn.execute("SELECT salt FROM keyring WHERE id = 1").fetchone()
    except sqlite3.Error:
        return False
    finally:
        conn.close()
    return row is not None and not row[0]


def remove_files(path: Path) -> None:
    """Delete a (shredded) database and its companion files, to start a new one in its place."""
    for suffix in ("", "-wal", "-shm", "-journal"):
        Path(f"{path}{suffix}").unlink(missing_ok=True)
