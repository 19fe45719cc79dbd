"""The lock around the database connection, free to whoever comes when it is free.

asyncio's Lock is fair: when it is released it goes to the first waiter, and stays unused until
that task's turn on the event loop comes round, while everything else that wants it queues
behind. Under load that is a convoy: each hand-over costs a whole turn of a loop busy with
hundreds of handlers, a few milliseconds, so writers wait in line for tens of milliseconds
for a lock that is free most of that time (docs/benchmarks.md, "Ingest", step 13).

Here almost every holder runs without yielding (statements, COMMIT included, run on the loop's
thread, storage/database.py), so a task that finds the lock free takes it and gives it back before
any other task runs. Only a VACUUM (on aiosqlite's thread) and the rare block that awaits something
hold it across a yield; when such a holder releases, every waiter is woken, and they take it in
the order they wait, each in its own turn, those that find it taken by then waiting again.
Nobody waits for longer than the holders that yield ahead of it.
"""

from __future__ import annotations

import asyncio


class ConnectionLock:
    """A lock that a task takes at once when it is free, waiters or not (see the module's docstring)."""

    __slots__ = ("_locked", "_waiters")

    def __init__(self) -> None:
        self._locked = False
        self._waiters: list[asyncio.Future[None]] = []

    def locked(self) -> bool:
        return self._locked

    def take(self) -> bool:
        """Take the lock if it is free, without waiting: from a plain callback."""
        if self._locked:
            return False
        self._locked = True
        return True

    async def acquire(self) -> bool:
        while self._locked:
            waiter = asyncio.get_running_loop().create_future()
            self._waiters.append(waiter)
            await waiter  # cancelled: the future is cancelled too, and release() skips it
        self._locked = True
        return True

    def release(self) -> None:
        if not self._locked:
            raise RuntimeError("the connection lock is not held")
        self._locked = False
        waiters, self._waiters = self._waiters, []
        for waiter in waiters:
            if not waiter.done():
                waiter.set_result(None)

    async def __aenter__(self) -> None:
        await self.acquire()

    async def __aexit__(self, *exc_info: object) -> None:
        self.release()
