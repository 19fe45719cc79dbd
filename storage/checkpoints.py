"""Checkpoints: the write-ahead log copied into the database file in the background, and started
again from its beginning before it grows for as long as the load lasts.

A PASSIVE checkpoint waits for no one, and no COMMIT waits for it: with SQLite's automatic
checkpoints, the COMMIT that crosses 1,000 pages of log does it, and every handler waits behind it
for up to a hundred milliseconds. So `Checkpointer` does them on a connection of its own, on a
thread, once a second.

SQLite starts the log again from its beginning only when a writer begins after a checkpoint has
copied all of it. Under a steady load a write transaction is almost always open when a checkpoint
ends (the next batch begins as soon as the last is committed), so the log is never started again:
the `-wal` file grew from 50 to 120 MB over ten seconds at 300 updates/s (docs/benchmarks.md,
"Ingest", steps 13 and 15), and would fill the disk in a long strike wave; and every sync of a
file that grows costs the disk a journal commit as well (about 180 µs of CPU on this machine,
against 100 for blocks rewritten in place). So once a pass finds `RESTART_FRAMES` frames or more
in the log, the database is asked to copy the rest itself between two writers (`Database`'s
`_restart_log`): the open batch is committed, what is left (what was committed during the pass
that asked: milliseconds of writes) is copied, and the next writer to begin finds the log all
copied, so SQLite starts it again from the beginning.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import queue
import sqlite3
import threading
from collections.abc import Callable
from pathlib import Path

log = logging.getLogger(__name__)

CHECKPOINT_EVERY_S = 1.0
RESTART_FRAMES = 4096  # 16 MB of 4 KB pages: a second or two of the heaviest load

Result = tuple[int, int, int] | None  # (busy, frames in the log, frames copied); None if it failed
_STOP = object()


class Checkpointer(threading.Thread):
    """Copies the write-ahead log into the database every CHECKPOINT_EVERY_S, and when asked.

    `too_long` is called (on this thread) when a timed pass finds the log long enough to be started
    again. Started by the first write; a daemon, so an unclosed database does not keep the process
    alive (a checkpoint cut short is harmless)."""

    def __init__(self, path: Path, too_long: Callable[[], None]) -> None:
        super().__init__(name="database-checkpoints", daemon=True)
        self.path = path
        self._too_long = too_long
        self._requests: queue.SimpleQueue[object] = queue.SimpleQueue()

    def run(self) -> None:
        conn = sqlite3.connect(str(self.path), isolation_level=None)
        try:
            conn.execute("PRAGMA synchronous = FULL")
            while True:
                try:
                    request = self._requests.get(timeout=CHECKPOINT_EVERY_S)
                except queue.Empty:
                    request = None
                if request is _STOP:
                    return
                result = self._pass(conn)
                if result is not None and result[1] >= RESTART_FRAMES:
                    with contextlib.suppress(RuntimeError):  # the loop is closed: the process is ending
                        self._too_long()
                if callable(request):
                    request(result)
        finally:
            conn.close()

    async def checkpoint(self) -> Result:
        """One pass now, on the thread, as the timed ones."""
        loop = asyncio.get_running_loop()
        done: asyncio.Future[Result] = loop.create_future()

        def reply(result: Result) -> None:
            with contextlib.suppress(RuntimeError):
                loop.call_soon_threadsafe(_settle, done, result)

        self._requests.put(reply)
        return await done

    def stop(self) -> None:
        """Stop after the checkpoint under way, if any (blocking)."""
        self._requests.put(_STOP)
        self.join()

    @staticmethod
    def _pass(conn: sqlite3.Connection) -> Result:
        try:
            return conn.execute("PRAGMA wal_checkpoint(PASSIVE)").fetchone()
        except sqlite3.Error as exc:  # the next pass tries again
            log.warning("database: checkpoint failed (%s)", exc)
            return None


def _settle(done: asyncio.Future[Result], result: Result) -> None:
    if not done.done():
        done.set_result(result)
