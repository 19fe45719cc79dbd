"""What a delete leaves in SQLite's file, and the rebuild that clears it (storage/database.Database.scrub).

`secure_delete` zeroes a deleted row where it lies. But a b-tree page that SQLite rebuilds (a row
grew, a page split) keeps in its free space whatever was there before: rows since moved to another
page, or rewritten. Deleting them later zeroes only their current place. Here a committee's outbox
churns as a busy one does: messages are written, rewritten longer and shorter while they wait,
and sent. Then every ciphertext it ever held is looked for in the database, its -wal and its -shm,
16 bytes at a time, after the daily purge and after a wipe. Without the rebuild, the same churn
leaves copies behind (the last test): the first two would fail without it."""

from __future__ import annotations

import random
import sqlite3
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from storage import Store
from storage.retention import DAY_S, purge
from storage.wipe import wipe_committee
from tests.test_privacy import raw_files
from tests.test_seized_disk import Needles, Scanner, pieces

SECRET = b"s" * 40
MESSAGES = 600
REWRITES_PER_MESSAGE = 2
PER_TRANSACTION = 50
SEED = 2022
RETENTION_DAYS = 2
OLD, RECENT, NOW = DAY_S, 9 * DAY_S, 10 * DAY_S  # the purge at NOW takes what was written before 8 days


@dataclass
class Churn:
    """Every ciphertext each outbox row held, oldest first, and the rows by committee and age."""

    sealed: dict[int, list[bytes]] = field(default_factory=dict)
    of: dict[int, tuple[int, int]] = field(default_factory=dict)  # row: (committee id, written at)

    def dead(self, gone: set[int]) -> list[bytes]:
        """What no row holds any more: every version of the rows `gone`, the earlier ones of the rest."""
        return [blob for row, blobs in self.sealed.items() for blob in (blobs if row in gone else blobs[:-1])]

    def rows(self, *, committee: int | None = None, before: int | None = None) -> set[int]:
        return {
            row
            for row, (to, at) in self.of.items()
            if (committee is None or to == committee) and (before is None or at < before)
        }


async def churn(store: Store, committees: list[int], moments: list[int], *, seed: int = SEED) -> Churn:
    """MESSAGES outbox rows, each to one of `committees` and written at one of `moments`, mixed:
    written, rewritten longer and shorter while they wait, and sent."""
    rng = random.Random(seed)
    seen = Churn()
    outbox = store.outbox

    async def keep(tx, outbox_id: int) -> None:
        async with tx.execute("SELECT payload_ct FROM outbox WHERE id = ?", (outbox_id,)) as cursor:
            seen.sealed.setdefault(outbox_id, []).append(bytes((await cursor.fetchone())[0]))

    ids: list[int] = []
    for first in range(0, MESSAGES, PER_TRANSACTION):
        async with store.db.transaction() as tx:
            for n in range(first, first + PER_TRANSACTION):
                committee, at = rng.choice(committees), rng.choice(moments)
                text = f"message {n} " + "x" * rng.randint(20, 600)
                ids.append(await outbox.enqueue(tx, purpose="notice", text=text, committee_id=committee, now=at))
                seen.of[ids[-1]] = (committee, at)
                await keep(tx, ids[-1])
                for _ in range(REWRITES_PER_MESSAGE):
                    target = rng.choice(ids[-60:])
                    text = f"message {target} rewritten " + "y" * rng.randint(20, 600)
                    assert await outbox.revise(tx, target, text=text, reply_markup=None, now=at) == target
                    await keep(tx, target)
    async with store.db.transaction() as tx:
        for outbox_id in ids:
            await outbox.mark_sent(tx, outbox_id, message_id=outbox_id, now=seen.of[outbox_id][1])
    return seen


@pytest.fixture
async def store(tmp_path: Path) -> AsyncIterator[Store]:
    store = await Store.open(tmp_path / "scrub.sqlite3", SECRET)
    try:
        yield store
    finally:
        await store.close()


async def committees(store: Store, *names: str) -> list[int]:
    async with store.db.transaction() as tx:
        return [
            (
                await store.committees.register(
                    tx, chat_id=-100 - n, name=name, region="mangystau", kind="workplace", registered_by=5, now=DAY_S
                )
            ).id
            for n, name in enumerate(names)
        ]


def lingering(database: Path, sealed: list[bytes]) -> int:
    """How many 16-byte pieces of the ciphertexts are in the database's files (as the seized-disk
    test cuts them)."""
    needles = Needles()
    for n, blob in enumerate(sealed):
        for k, piece in enumerate(pieces(blob)):
            needles.add(piece, f"ciphertext {n}, piece {k}")
    return len(Scanner(needles).scan(raw_files(database)))


async def outbox_rows(store: Store) -> int:
    async with store.db.read() as conn, conn.execute("SELECT count(*) FROM outbox") as cursor:
        return (await cursor.fetchone())[0]


async def test_the_daily_purge_leaves_no_copy_of_what_it_took(store: Store):
    [zhanaozen] = await committees(store, "Zhanaozen oil workers")
    seen = await churn(store, [zhanaozen], [OLD, RECENT])
    assert lingering(store.db.path, seen.dead(set())) > 0, "the scan sees the ciphertexts"
    counts = await purge(store.db, now=NOW, retention_days=RETENTION_DAYS)
    old = seen.rows(before=RECENT)
    assert counts["outbox"] == len(old) and await outbox_rows(store) == MESSAGES - len(old)
    assert lingering(store.db.path, seen.dead(old)) == 0


async def test_a_wipe_and_its_scrub_leave_no_copy_of_the_committee(store: Store):
    zhanaozen, aktau = await committees(store, "Zhanaozen oil workers", "Aktau port workers")
    seen = await churn(store, [zhanaozen, aktau], [RECENT])
    async with store.db.transaction() as tx:
        await wipe_committee(tx, store.db.crypto, zhanaozen, now=NOW)
    wiped = seen.rows(committee=zhanaozen)
    assert await outbox_rows(store) == MESSAGES - len(wiped)
    assert await store.db.scrub()
    assert lingering(store.db.path, seen.dead(wiped)) == 0


async def test_without_the_rebuild_the_churn_leaves_copies_behind(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    """The scenario reaches what secure_delete does not: the purge with only the truncated
    write-ahead log, as it was before the rebuild, leaves pieces of rows rewritten or deleted.
    (Should SQLite ever clear that free space itself, this fails, and the tests above no longer
    show that the rebuild is needed.) Whether a churn leaves any depends on where its rows happen to
    fall in the pages, which any change of a row's size moves (compact JSON did): so three churns,
    of which at least one must leave copies; each is the same file every time it runs."""
    left = 0
    for attempt in (SEED, 5, 7):
        store = await Store.open(tmp_path / f"scrub-{attempt}.sqlite3", SECRET)
        try:

            async def no_rebuild() -> None:
                pass

            monkeypatch.setattr(store.db, "rebuild", no_rebuild)
            [zhanaozen] = await committees(store, "Zhanaozen oil workers")
            seen = await churn(store, [zhanaozen], [OLD, RECENT], seed=attempt)
            await purge(store.db, now=NOW, retention_days=RETENTION_DAYS)
            left += lingering(store.db.path, seen.dead(seen.rows(before=RECENT)))
        finally:
            await store.close()
    assert left > 0


async def test_a_rebuild_that_fails_still_cuts_the_log(store: Store, monkeypatch: pytest.MonkeyPatch, caplog):
    """A full disk (VACUUM needs room for a copy of the database): the purge is done, the log is
    cut, the failure is logged, and scrub says it did not finish (the next purge tries again)."""

    async def no_room() -> None:
        raise sqlite3.OperationalError("database or disk is full")

    [zhanaozen] = await committees(store, "Zhanaozen oil workers")
    await churn(store, [zhanaozen], [OLD])
    monkeypatch.setattr(store.db, "rebuild", no_room)
    counts = await purge(store.db, now=NOW, retention_days=RETENTION_DAYS)
    assert counts["outbox"] == MESSAGES and await outbox_rows(store) == 0
    assert raw_files(store.db.path)[f"{store.db.path.name}-wal"] == b""
    assert "could not be rebuilt now (database or disk is full)" in caplog.text
    assert not await store.db.scrub()
