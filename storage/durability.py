"""Committed transactions made durable apart from their COMMIT: the write-ahead log synced on a thread.

With `synchronous = FULL`, SQLite's COMMIT writes the transaction to the write-ahead log and then
fsyncs it, and the connection is busy for all of it: every handler that wants the database waits
behind the disk, about a millisecond each time on our machine and far more on a loaded one, and
under load those waits line up into tens of milliseconds (docs/benchmarks.md, "Ingest", step 13).
So the connection runs with `synchronous = NORMAL`, whose COMMIT writes the log and does not wait
for the disk, and `WalSync` syncs the log file on a worker thread after each COMMIT, while the
connection serves the next writers: a writer is told its transaction committed (`Database.write`'s
`Durable`) only once a sync that began after its COMMIT has finished. A transaction is committed
once its frames are in the log, so the log on disk holds it then, as `FULL` would have; a power
cut before that loses it, and nobody was told it was kept. (This is PostgreSQL's group commit: the
commit record written, then a flush of the log shared by everyone waiting.)

A sync that fails leaves the file in a state nobody knows: Linux may have dropped the pages it
could not write, and a second fsync would then report success for data that is gone. The writers
waiting are failed, and so is every later write, until the bot is restarted and SQLite reads the
files again (PostgreSQL stops for the same reason).
"""

from __future__ import annotations

import asyncio
import logging
import os
from pathlib import Path

log = logging.getLogger(__name__)

_datasync = getattr(os, "fdatasync", os.fsync)  # macOS has no fdatasync


class DiskFailed(RuntimeError):
    """The write-ahead log could not be synced: nothing more is written until a restart."""


class WalSync:
    """Syncs the database's write-ahead log for the COMMITs handed to `after`, one sync at a time."""

    def __init__(self, database: Path) -> None:
        self._wal = Path(f"{database}-wal")
        self._waiting: list[asyncio.Future[None]] = []  # committed, waiting for a sync begun after
        self._task: asyncio.Task[None] | None = None
        self._inode: int | None = None  # the log file whose name is known to be on disk
        self.failed: OSError | None = None
        self.syncs = 0

    def after(self, batch: asyncio.Future[None]) -> None:
        """`batch` was just committed: resolve it once the log is on disk."""
        if self.failed is not None:
            _fail(batch, self.failed)
            return
        self._waiting.append(batch)
        if self._task is None or self._task.done():
            self._task = asyncio.create_task(self._run(), name="database-sync")

    async def drain(self) -> None:
        """Wait until no sync is under way: before a COMMIT, and at close."""
        if self._task is not None and not self._task.done():
            await asyncio.wait((self._task,))

    async def _run(self) -> None:
        # One sync at a time; the COMMITs made during one share the next.
        while self._waiting:
            batches, self._waiting = self._waiting, []
            try:
                await asyncio.to_thread(self._sync)
            except OSError as exc:
                self.failed = exc
                log.critical("database: the write-ahead log could not be synced (%s); writes stop until a restart", exc)
                for batch in batches + self._waiting:
                    _fail(batch, exc)
                self._waiting = []
                return
            self.syncs += 1
            for batch in batches:
                if not batch.done():
                    batch.set_result(None)

    def _sync(self) -> None:
        """On a worker thread: the log's data on disk, and its name in its folder the first time."""
        fd = os.open(self._wal, os.O_RDONLY)
        try:
            _datasync(fd)
            inode = os.fstat(fd).st_ino
        finally:
            os.close(fd)
        if inode != self._inode:  # a new log file (the first COMMIT after opening): its entry too
            folder = os.open(self._wal.parent, os.O_RDONLY)
            try:
                os.fsync(folder)
            finally:
                os.close(folder)
            self._inode = inode


def _fail(batch: asyncio.Future[None], error: OSError) -> None:
    if not batch.done():
        batch.set_exception(DiskFailed(f"the write-ahead log could not be synced: {error!r}"))
        batch.exception()  # retrieved here too: a batch without waiters must not warn
