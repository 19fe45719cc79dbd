"""Storage: migrations, keys, sealed fields bound to their row, and all-or-nothing transactions."""

from __future__ import annotations

import asyncio
import gc
import sqlite3

import pytest

from domain.committees import Status
from storage import Store, WrongSecretKey
from storage.crypto import Crypto, DecryptionError
from storage.retention import DAY_S, purge

SECRET = b"s" * 40


async def test_migrations_pragmas_and_keyring(tmp_path):
    store = await Store.open(tmp_path / "a.sqlite3", SECRET)
    async with store.db.read() as conn:
        assert (await (await conn.execute("PRAGMA journal_mode")).fetchone())[0] == "wal"
        # NORMAL: the COMMIT does not wait for the disk; WalSync syncs the log before writers go on.
        assert (await (await conn.execute("PRAGMA synchronous")).fetchone())[0] == 1
        assert (await (await conn.execute("PRAGMA foreign_keys")).fetchone())[0] == 1
        assert (await (await conn.execute("PRAGMA user_version")).fetchone())[0] >= 1
    await store.close()
    # Reopening with the same key works; another key is refused instead of reading garbage.
    await (await Store.open(tmp_path / "a.sqlite3", SECRET)).close()
    with pytest.raises(WrongSecretKey):
        await Store.open(tmp_path / "a.sqlite3", b"t" * 40)


def test_ciphertexts_are_bound_to_table_column_and_row():
    crypto = Crypto.derive(SECRET, b"salt")
    sealed = crypto.seal_chat_id(-1001234567890, table="committees", row=7)
    assert crypto.open_chat_id(sealed, table="committees", row=7) == -1001234567890
    for wrong in ({"table": "councils", "row": 7}, {"table": "committees", "row": 8}):
        with pytest.raises(DecryptionError):
            crypto.open_chat_id(sealed, **wrong)
    with pytest.raises(DecryptionError):
        Crypto.derive(SECRET, b"other salt").open_chat_id(sealed, table="committees", row=7)


def test_pseudonyms_are_keyed_and_separate_per_kind():
    a, b = Crypto.derive(SECRET, b"salt"), Crypto.derive(SECRET, b"salt2")
    assert a.user(42) == a.user(42) != b.user(42)
    assert a.user(42) != a.chat(42)
    assert a.pseudonym_key != a.field_key


async def test_a_failed_transaction_writes_nothing(tmp_path):
    store = await Store.open(tmp_path / "b.sqlite3", SECRET)
    with pytest.raises(RuntimeError):
        async with store.db.transaction() as tx:
            await store.committees.register(
                tx, chat_id=-1, name="n", region="mangystau", kind="workplace", registered_by=5, now=1
            )
            raise RuntimeError("crash between two writes")
    async with store.db.read() as conn:
        assert await store.committees.by_chat(conn, -1) is None
    await store.close()


async def committee_status(store: Store, chat_id: int) -> Status | None:
    async with store.db.read() as conn:
        committee = await store.committees.by_chat(conn, chat_id)
    return committee.status if committee else None


async def test_committees_kept_in_memory_follow_every_write_and_rollback(tmp_path):
    """`by_chat` keeps what it read (storage/committees.py); what it serves is always what the table
    holds: after a write, after a writer that read its own change and then failed, after a COMMIT
    that failed, after the purge deleted the committee, and after a committee's wipe."""
    store = await Store.open(tmp_path / "k.sqlite3", SECRET)
    try:
        async with store.db.transaction() as tx:
            committee = await store.committees.register(
                tx, chat_id=-7, name="n", region="mangystau", kind="workplace", registered_by=5, now=1
            )
        assert await committee_status(store, -7) is Status.PENDING
        assert await committee_status(store, -8) is None  # no committee there: kept too

        async with store.db.transaction() as tx:
            await store.committees.set_status(tx, committee.id, Status.ACTIVE, decided_by=6, now=2)
        assert await committee_status(store, -7) is Status.ACTIVE

        with pytest.raises(RuntimeError):
            async with store.db.transaction() as tx:
                await store.committees.set_status(tx, committee.id, Status.SUSPENDED, decided_by=6, now=3)
                assert (await store.committees.by_chat(tx, -7)).status is Status.SUSPENDED  # read, and kept
                raise RuntimeError("the writer fails after reading its own change")
        assert await committee_status(store, -7) is Status.ACTIVE

        healthy = store.db.conn.now

        def failing(sql: str) -> None:
            if sql == "COMMIT":
                raise sqlite3.OperationalError("disk I/O error")
            healthy(sql)

        store.db.conn.now = failing
        with pytest.raises(RuntimeError):
            async with store.db.transaction() as tx:
                await store.committees.set_status(tx, committee.id, Status.REJECTED, decided_by=6, now=4)
                await store.committees.by_chat(tx, -7)
        store.db.conn.now = healthy
        assert await committee_status(store, -7) is Status.ACTIVE

        async with store.db.transaction() as tx:
            await store.committees.set_status(tx, committee.id, Status.REJECTED, decided_by=6, now=5)
        assert await committee_status(store, -7) is Status.REJECTED
        await purge(store.db, now=400 * DAY_S, retention_days=30)  # a rejected committee is purged
        assert await committee_status(store, -7) is None

        async with store.db.transaction() as tx:
            wiped = await store.committees.register(
                tx, chat_id=-9, name="n", region="mangystau", kind="workplace", registered_by=5, now=401 * DAY_S
            )
        assert await committee_status(store, -9) is Status.PENDING
        async with store.db.transaction() as tx:
            await store.wipe_committee(tx, wiped.id, now=401 * DAY_S)
        assert await committee_status(store, -9) is None  # neither its chat nor its name stays in memory
    finally:
        await store.close()


async def test_the_repeat_checks_texts_follow_rollbacks_and_merges(tmp_path):
    """The texts kept for the repeat check (storage/demands.py) are not read from the table again on
    their own: a demand added in a transaction that failed, or merged away, is no repeat."""
    store = await Store.open(tmp_path / "r.sqlite3", SECRET)
    try:
        async with store.db.transaction() as tx:
            committees = [
                await store.committees.register(
                    tx, chat_id=-n, name="n", region="mangystau", kind="workplace", registered_by=5, now=1
                )
                for n in (1, 2)
            ]
            ours = await store.demands.add(
                tx, committee_id=committees[0].id, text="Free the arrested workers", via="group", submitted_by=5, now=1
            )
            theirs = await store.demands.add(
                tx, committee_id=committees[1].id, text="Release the detained", via="group", submitted_by=6, now=1
            )

        async def repeat(text: str) -> int | None:
            async with store.db.read() as conn:
                return await store.demands.repeat_of(conn, committees[0].id, text)

        assert await repeat("free the arrested workers!") == ours.id

        with pytest.raises(RuntimeError):
            async with store.db.transaction() as tx:
                lost = await store.demands.add(
                    tx, committee_id=committees[0].id, text="Lower the price of gas", via="group", submitted_by=5, now=2
                )
                assert await store.demands.repeat_of(tx, committees[0].id, "Lower the price of gas") is not None
                raise RuntimeError("the writer fails after its demand was added")
        assert await repeat("Lower the price of gas") is None
        # The next id is kept in memory after the first read: the rolled-back demand's is free again.
        async with store.db.transaction() as tx:
            again = await store.demands.add(
                tx, committee_id=committees[0].id, text="Lower the price of gas", via="group", submitted_by=5, now=2
            )
        assert lost.id == again.id == theirs.id + 1
        assert await repeat("Lower the price of gas") == again.id

        async with store.db.transaction() as tx:
            await store.programme.merge(tx, ours.id, theirs.id, now=3)
        assert await repeat("Free the arrested workers") is None  # merged away: no longer the committee's own
    finally:
        await store.close()


async def test_a_collecting_row_takes_entries_until_claimed_and_forgets_rolled_back_ones(tmp_path):
    """`collect` keeps the waiting row's entries in memory (storage/outbox.py): an entry whose writer
    was rolled back must not show in a later acknowledgement, and a row the sender claimed takes no
    more entries."""
    store = await Store.open(tmp_path / "o.sqlite3", SECRET)

    def render(entries: list[int]) -> tuple[str, None]:
        return "recorded " + ",".join(map(str, entries)), None

    async def collect(entry: int) -> int:
        async with store.db.transaction() as tx:
            return await store.outbox.collect(
                tx, purpose="ack", committee_id=committee.id, entry=entry, render=render, now=1
            )

    async def texts() -> list[str]:
        async with store.db.read() as conn:
            return [item.text for item in await store.outbox.due(conn, now=10, limit=10)]

    try:
        async with store.db.transaction() as tx:
            committee = await store.committees.register(
                tx, chat_id=-1, name="n", region="mangystau", kind="workplace", registered_by=5, now=1
            )
        first = await collect(1)
        assert await collect(2) == first
        with pytest.raises(RuntimeError):
            async with store.db.transaction() as tx:
                await store.outbox.collect(tx, purpose="ack", committee_id=committee.id, entry=3, render=render, now=1)
                raise RuntimeError("the writer fails after its entry")
        assert await texts() == ["recorded 1,2"]
        fourth = await collect(4)  # after the rollback, a row of its own: the first keeps what it had
        assert fourth != first
        assert await texts() == ["recorded 1,2", "recorded 4"]
        assert await collect(5) == fourth

        async with store.db.transaction() as tx:
            [item, _] = await store.outbox.due(tx, now=10, limit=10)
            assert await store.outbox.claim(tx, item) is not None
            [item] = [i for i in await store.outbox.due(tx, now=10, limit=10) if i.id == fourth]
            assert await store.outbox.claim(tx, item) is not None
        sixth = await collect(6)  # the waiting row left: a new one
        assert sixth not in (first, fourth)
        assert await texts() == ["recorded 6"]
    finally:
        await store.close()


async def test_a_demands_writes_leave_nothing_for_the_cyclic_collector(tmp_path):
    """The bot runs the collector rarely (bot/collector.py), which only works while an update's work
    makes no reference cycles: one per demand made a collection of 15-25 ms every few seconds at a
    thousand updates a second (rapidfuzz's extract_iter did, in the repeat check)."""
    store = await Store.open(tmp_path / "g.sqlite3", SECRET)
    try:
        async with store.db.transaction() as tx:
            committee = await store.committees.register(
                tx, chat_id=-1, name="n", region="mangystau", kind="workplace", registered_by=5, now=1
            )

        async def put_forward(number: int) -> None:
            text = f"Raise the wages of the {number} drivers by {number % 90}%"
            async with store.db.transaction() as tx:
                assert await store.demands.repeat_of(tx, committee.id, text) is None
                demand = await store.demands.add(
                    tx, committee_id=committee.id, text=text, via="group", submitted_by=5, now=1
                )
                await store.outbox.collect(
                    tx,
                    purpose="ack",
                    committee_id=committee.id,
                    entry=[demand.id, number],
                    render=lambda e: ("ok", None),
                    now=1,
                )

        await asyncio.gather(*(put_forward(n) for n in range(5)))  # caches filled, the sync thread started
        gc.collect()
        gc.disable()
        try:
            await asyncio.gather(*(put_forward(n) for n in range(5, 105)))
            assert gc.collect() == 0
        finally:
            gc.enable()
    finally:
        await store.close()


async def test_council_codes_work_once_and_expire(tmp_path):
    store = await Store.open(tmp_path / "c.sqlite3", SECRET)
    async with store.db.transaction() as tx:
        await store.councils.add_code(tx, "AAAA-BBBB-CCCC", region="kz", now=100, expires_at=200)
        await store.councils.add_code(tx, "DDDD-EEEE-FFFF", region="kz", now=100, expires_at=150)
    async with store.db.transaction() as tx:
        assert await store.councils.redeem_code(tx, "DDDD-EEEE-FFFF", now=160) is None  # expired
        assert await store.councils.redeem_code(tx, "AAAA-BBBB-CCCC", now=160) == "kz"
        assert await store.councils.redeem_code(tx, "AAAA-BBBB-CCCC", now=161) is None  # used
    await store.close()
