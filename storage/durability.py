"""Committed transactions made durable apart from their COMMIT: the write-ahead log synced on a thread.

With `synchronous = FULL`, SQLite's COMMIT writes the transaction to the write-ahead log and then
fsyncs it, and the connection is busy for all of it: every handler that wants the database waits
behind the disk, about a millisecond each time on our machine and far more on a loaded one, and
under load those waits line up into tens of milliseconds (docs/benchmarks.md, "Ingest", step 13).
So the connection runs with `synchronous = NORMAL`, whose COMMIT writes the log and does not wait
for the disk, and `WalSync` syncs the log file on a thread of its own after each COMMIT, while the
connection serves the next writers: a writer is told its transaction committed (`Database.write`'s
`Durable`) only once a sync that began after its COMMIT has finished. A transaction is committed
once its frames are in the log, so the log on disk holds it then, as `FULL` would have; a power
cut before that loses it, and nobody was told it was kept. (This is PostgreSQL's group commit: the
commit record written, then a flush of the log shared by everyone waiting.)

On a busy loop every hand-over between tasks waits for a turn of the loop, so the path from one
sync to the next has as few as can be (docs/benchmarks.md, "Ingest", step 15): the thread is woken
directly (no executor, no future to chain), its end is one callback on the loop, and that callback
tells the writers (each on a future of its own, `Commit`) and lets the database COMMIT what its
writers finished meanwhile and hand it to the thread at once (`on_idle`).

A sync that fails leaves the file in a state nobody knows: Linux may have dropped the pages it
could not write, and a second fsync would then report success for data that is gone. The writers
waiting are failed, and so is every later write, until the bot is restarted and SQLite reads the
files again (PostgreSQL stops for the same reason).
"""

from __future__ import annotations

import asyncio
import logging
import os
import queue
import threading
from collections.abc import Callable
from pathlib import Path

log = logging.getLogger(__name__)

_datasync = getattr(os, "fdatasync", os.fsync)  # macOS has no fdatasync


class DiskFailed(RuntimeError):
    """The write-ahead log could not be synced: nothing more is written until a restart."""


class Commit:
    """The writers of one COMMIT, told together once it is on disk, or that it never will be.

    Each writer waits on a future of its own: one that gives up (is cancelled) leaves the others
    waiting, and telling them wakes each writer in the next turn of the loop (a future shared
    through `asyncio.shield` would take two)."""

    __slots__ = ("_error", "_waiters", "done")

    def __init__(self) -> None:
        self._waiters: list[asyncio.Future[None]] = []
        self._error: BaseException | None = None
        self.done = False

    async def wait(self) -> None:
        """Until the COMMIT is on disk; raises what kept it from getting there."""
        if not self.done:
            waiter = asyncio.get_running_loop().create_future()
            self._waiters.append(waiter)
            await waiter
        if self._error is not None:
            raise self._error.with_traceback(None)

    def resolve(self, error: BaseException | None = None) -> None:
        """On disk (`error` None), or lost; only the first word counts."""
        if self.done:
            return
        self.done, self._error = True, error
        waiters, self._waiters = self._waiters, []
        for waiter in waiters:
            if not waiter.done():
                waiter.set_result(None)


class WalSync:
    """Syncs the database's write-ahead log for the COMMITs handed to `after`, one sync at a time.

    `on_idle` is called on the loop whenever a sync has ended: the database COMMITs there what
    its writers have finished meanwhile, and hands it to `after`, which starts the next sync."""

    def __init__(self, database: Path, on_idle: Callable[[], None] | None = None) -> None:
        self._wal = Path(f"{database}-wal")
        self.on_idle = on_idle
        self._committed: list[Commit] = []  # COMMITted since the sync under way began
        self._syncing: list[Commit] | None = None  # what the sync under way makes durable
        self._requests: queue.SimpleQueue[asyncio.AbstractEventLoop | None] = queue.SimpleQueue()
        self._thread: threading.Thread | None = None
        self._idle = asyncio.Event()  # no sync under way: what drain() waits for
        self._idle.set()
        self._inode: int | None = None  # the log file whose name is known to be on disk
        self.failed: OSError | None = None
        self.syncs = 0

    @property
    def busy(self) -> bool:
        """A sync is under way: a COMMIT now would wait for the next one anyway."""
        return self._syncing is not None

    def check(self) -> None:
        """Refuse to write once a sync has failed (see the module's docstring)."""
        if self.failed is not None:
            raise DiskFailed("the disk failed to keep earlier writes; restart the bot")

    def after(self, commit: Commit) -> None:
        """`commit` was just COMMITted: resolve it once the log is on disk."""
        if self.failed is not None:
            commit.resolve(_failure(self.failed))
            return
        self._committed.append(commit)
        if self._syncing is None:
            self._start()

    async def drain(self) -> None:
        """Wait until no sync is under way and none is due: at close."""
        await self._idle.wait()

    def stop(self) -> None:
        """End the thread (after the sync under way, if any); `drain()` first to wait for it."""
        if self._thread is not None:
            self._requests.put(None)
            self._thread = None

    def _start(self) -> None:
        self._syncing, self._committed = self._committed, []
        self._idle.clear()
        if self._thread is None:
            self._thread = threading.Thread(target=self._serve, name="database-sync", daemon=True)
            self._thread.start()
        self._requests.put(asyncio.get_running_loop())

    def _serve(self) -> None:
        """The thread: one sync per request, its end told to the loop that asked."""
        while (loop := self._requests.get()) is not None:
            error: OSError | None = None
            try:
                self._sync()
            except OSError as exc:
                error = exc
            except Exception as exc:  # anything else: the writers are failed, never left waiting
                log.exception("database: the write-ahead log's sync failed unexpectedly")
                error = OSError(f"the sync failed: {exc!r}")
            try:
                loop.call_soon_threadsafe(self._synced, error)
            except RuntimeError:  # the loop is closed: the process is ending, nobody waits
                return

    def _synced(self, error: OSError | None) -> None:
        """On the loop: the sync under way has ended."""
        commits, self._syncing = self._syncing or [], None
        if error is not None:
            self.failed = error
            log.critical("database: the write-ahead log could not be synced (%s); writes stop until a restart", error)
            commits, self._committed = commits + self._committed, []
        else:
            self.syncs += 1
        if self.on_idle is not None:
            # The next COMMIT, and its sync started, before the writers are woken; after a failure,
            # the batch its writers finished meanwhile is failed there.
            self.on_idle()
        if self._committed and self._syncing is None:
            self._start()
        for commit in commits:
            commit.resolve(None if error is None else _failure(error))
        if self._syncing is None:
            self._idle.set()

    def _sync(self) -> None:
        """On the thread: the log's data on disk, and its name in its folder the first time."""
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


def _failure(error: OSError) -> DiskFailed:
    return DiskFailed(f"the write-ahead log could not be synced: {error!r}")
