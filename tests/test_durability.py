"""The database's group commit: the connection lock (storage/lock.py) and the write-ahead log synced
apart from the COMMIT (storage/durability.py). A writer hears "committed" only once its writes are
on disk; meanwhile the connection serves everyone else; a sync that fails stops every write."""

from __future__ import annotations

import asyncio
import errno
import os
import threading
from collections.abc import Callable
from pathlib import Path

import pytest

from storage import Store
from storage.durability import DiskFailed
from storage.lock import ConnectionLock

SECRET = b"d" * 40


async def until(condition: Callable[[], bool]) -> None:
    """Let the loop (and the sync thread) run until `condition` holds; no clock involved."""
    for _ in range(10_000):
        if condition():
            return
        await asyncio.sleep(0.001)
    raise AssertionError("the condition never held")


async def opened(path: Path) -> Store:
    """A store with a table of its own for the test's rows."""
    store = await Store.open(path, SECRET)
    async with store.db.transaction() as tx:
        await tx.execute("CREATE TABLE written (id INTEGER PRIMARY KEY)")
    return store


async def write_run(store: Store, row_id: int) -> None:
    async with store.db.transaction() as tx:
        await tx.execute("INSERT INTO written (id) VALUES (?)", (row_id,))


async def runs(store: Store) -> list[int]:
    async with store.db.read() as conn, conn.execute("SELECT id FROM written ORDER BY id") as cursor:
        return [row[0] for row in await cursor.fetchall()]


async def test_a_writer_hears_committed_only_after_the_sync_and_nobody_waits_behind_it(tmp_path: Path):
    store = await opened(tmp_path / "d.sqlite3")
    sync = store.db._sync
    real, gate, synced = sync._sync, threading.Event(), []

    def held_sync() -> None:  # the disk, slow to answer
        assert gate.wait(30)
        real()
        synced.append(store.db.commits)

    sync._sync = held_sync
    try:
        first = asyncio.create_task(write_run(store, 1))
        await until(lambda: store.db.commits == 2)  # COMMITted: the log is written, its sync under way
        assert not first.done()
        assert not store.db._lock.locked()  # the connection is not held for the disk
        assert await runs(store) == [1]  # the connection is free meanwhile: a read goes through
        second = asyncio.create_task(write_run(store, 2))  # and so does another writer's block
        await until(lambda: store.db.transactions == 3)
        assert not first.done() and not second.done()
        gate.set()
        await first
        await second
        # The second writer's COMMIT came after the first sync began: it waited for a sync of its own.
        assert synced == [2, 3]
        assert sync.syncs == 3
    finally:
        gate.set()
        await store.close()


async def test_a_writer_that_gives_up_waiting_leaves_the_others_of_its_commit_waiting(tmp_path: Path):
    """Writers of one COMMIT each wait on their own: one cancelled while the disk syncs (its handler
    timed out, the bot stopping) cancels neither the COMMIT nor the others' wait for it."""
    store = await opened(tmp_path / "d.sqlite3")
    sync = store.db._sync
    real, gate = sync._sync, threading.Event()

    def held_sync() -> None:
        assert gate.wait(30)
        real()

    sync._sync = held_sync
    try:
        first = asyncio.create_task(write_run(store, 1))
        await until(lambda: store.db.commits == 2)  # the first COMMIT's sync is held
        waiting = [asyncio.create_task(write_run(store, row_id)) for row_id in (2, 3)]
        await until(lambda: store.db.transactions == 4)  # both blocks done, in the next batch
        waiting[0].cancel()
        gate.set()
        await first
        await waiting[1]  # told, although its batch-mate gave up
        with pytest.raises(asyncio.CancelledError):
            await waiting[0]
        assert await runs(store) == [1, 2, 3]  # the cancelled writer's rows were committed all the same
        assert store.db.commits == 3
    finally:
        gate.set()
        await store.close()


async def test_a_batch_due_while_someone_holds_the_connection_is_committed_when_they_let_go(tmp_path: Path):
    """The COMMIT is made from a plain callback when the connection is free; if a reader holds it
    across a yield just then, a task waits for it instead, and the writer is not left waiting."""
    store = await opened(tmp_path / "d.sqlite3")
    release = asyncio.Event()

    async def slow_reader() -> None:
        async with store.db.read():
            await release.wait()  # holds the connection across a turn of the loop

    try:
        writer = asyncio.create_task(write_run(store, 1))
        reader = asyncio.create_task(slow_reader())  # runs after the writer's block, before its COMMIT
        await until(lambda: store.db._committer is not None)
        assert store.db.commits == 1 and not writer.done()
        release.set()
        await until(writer.done)  # not left waiting for a COMMIT nobody makes
        await writer
        await reader
        assert store.db.commits == 2
        assert await runs(store) == [1]
    finally:
        release.set()
        await store.close()


@pytest.mark.skipif(not os.path.isdir("/proc/self/fd"), reason="needs /proc to name a file descriptor")
async def test_the_sync_is_of_the_write_ahead_log_after_the_commit(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    import storage.durability

    store = await opened(tmp_path / "d.sqlite3")
    synced: list[tuple[str, int]] = []
    real = storage.durability._datasync

    def recording(fd: int) -> None:
        synced.append((os.readlink(f"/proc/self/fd/{fd}"), store.db.commits))
        real(fd)

    monkeypatch.setattr(storage.durability, "_datasync", recording)
    try:
        await write_run(store, 1)
        assert synced == [(f"{store.db.path}-wal", 2)]
        await write_run(store, 2)
        assert synced[-1] == (f"{store.db.path}-wal", 3)
    finally:
        await store.close()


async def test_a_sync_that_fails_fails_its_writers_those_waiting_for_it_and_every_write_after(tmp_path: Path):
    store = await opened(tmp_path / "d.sqlite3")
    await write_run(store, 1)
    gate = threading.Event()

    def failing_sync() -> None:  # the disk, slow to say it failed
        assert gate.wait(30)
        raise OSError(errno.EIO, "Input/output error")

    store.db._sync._sync = failing_sync
    try:
        second = asyncio.create_task(write_run(store, 2))
        await until(lambda: store.db.commits == 3)  # COMMITted, its sync under way
        third = asyncio.create_task(write_run(store, 3))  # done meanwhile: its batch waits for the sync
        await until(lambda: store.db.transactions == 4)
        gate.set()
        with pytest.raises(DiskFailed):
            await second
        await until(third.done)  # not left waiting for a COMMIT that will never come
        with pytest.raises(DiskFailed):  # never COMMITted: the disk is no longer trusted
            await third
        assert store.db.commits == 3
        with pytest.raises(DiskFailed):  # not tried again: Linux may have dropped the pages it could not write
            await write_run(store, 4)
        assert 1 in await runs(store)  # reads still go on
    finally:
        gate.set()
        await store.close()


async def test_a_sync_that_fails_in_any_other_way_fails_its_writers_too(tmp_path: Path):
    """Whatever goes wrong on the sync's thread, its writers hear of it: none waits for ever."""
    store = await opened(tmp_path / "d.sqlite3")

    def broken_sync() -> None:
        raise RuntimeError("a bug")

    store.db._sync._sync = broken_sync
    try:
        writer = asyncio.create_task(write_run(store, 1))
        await until(writer.done)
        with pytest.raises(DiskFailed):
            await writer
    finally:
        await store.close()


async def test_the_connection_lock_is_taken_at_once_when_free_and_by_each_waiter_in_turn():
    lock = ConnectionLock()
    order: list[str] = []
    release_first = asyncio.Event()

    async def holder(name: str, until_released: asyncio.Event | None = None) -> None:
        async with lock:
            order.append(f"{name} in")
            if until_released is not None:
                await until_released.wait()  # holds it across a yield, as a COMMIT did
            order.append(f"{name} out")

    first = asyncio.create_task(holder("a", release_first))
    await until(lambda: order == ["a in"])
    waiting = [asyncio.create_task(holder(name)) for name in "bcd"]
    await until(lambda: len(lock._waiters) == 3)
    waiting[1].cancel()  # a waiter that gives up does not hold up the others
    release_first.set()
    await first
    await asyncio.gather(waiting[0], waiting[2])
    assert order == ["a in", "a out", "b in", "b out", "d in", "d out"]
    assert not lock.locked()

    await lock.acquire()  # free: taken without waiting for any other task
    assert lock.locked()
    lock.release()
    with pytest.raises(RuntimeError):
        lock.release()
