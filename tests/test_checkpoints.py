"""The write-ahead log under a load that never pauses (storage/checkpoints.py): copied in the
background, and started again from its beginning instead of growing for as long as the load lasts."""

from __future__ import annotations

import asyncio
from itertools import pairwise
from pathlib import Path

import pytest

import storage.checkpoints
from storage import Store
from tests.test_durability import opened, until, write_run


async def test_under_a_load_that_never_pauses_the_log_is_started_again(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    """Every checkpoint here runs while a writer is inside its block, as under a steady load: the
    batch it began before the checkpoint commits after it, so no writer ever begins with the log
    all copied, and SQLite alone would never start it again. Once a pass finds it long, the
    writers are held for one pass and the log starts again."""
    monkeypatch.setattr(storage.checkpoints, "CHECKPOINT_EVERY_S", 3600.0)  # passes only when asked here
    monkeypatch.setattr(storage.checkpoints, "RESTART_FRAMES", 12)
    store: Store = await opened(tmp_path / "d.sqlite3")
    checkpointer = store.db._checkpointer
    assert checkpointer is not None
    frames: list[int] = []
    row = 0
    try:
        for _round in range(8):
            for _ in range(4):
                row += 1
                await write_run(store, row)
            inside, leave = asyncio.Event(), asyncio.Event()

            async def busy_writer(row_id: int, inside: asyncio.Event, leave: asyncio.Event) -> None:
                async with store.db.transaction() as tx:
                    await tx.execute("INSERT INTO written (id) VALUES (?)", (row_id,))
                    inside.set()
                    await leave.wait()  # the next batch has begun: the load goes on

            row += 1
            writer = asyncio.create_task(busy_writer(row, inside, leave))
            await inside.wait()
            result = await checkpointer.checkpoint()
            assert result is not None
            frames.append(result[1])
            leave.set()
            await writer
            await until(lambda: store.db._restarter is None or store.db._restarter.done())
        # The first pass finds the schema's frames too (the migrations); then the log starts again each
        # time a pass finds it long, and never grows far past that.
        assert frames[0] >= 12
        assert all(count < 12 * 2 for count in frames[1:]), frames
        assert any(later < earlier for earlier, later in pairwise(frames[1:])), frames
        async with store.db.read() as conn, conn.execute("SELECT count(*) FROM written") as cursor:
            assert (await cursor.fetchone())[0] == row  # every write kept through the restarts
    finally:
        await store.close()
