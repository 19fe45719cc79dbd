"""Waking long polls when the world changes, so neither the bot nor tests ever sleep.

getUpdates long polling, the control API's ``wait`` and ``wait_idle``, and the
webhook sender all wait for "something changed, check again". One
:class:`ChangeSignal` per server does that: ``notify()`` wakes every waiter,
each of which re-checks its own condition.
"""

from __future__ import annotations

import asyncio


class ChangeSignal:
    """A broadcast "something changed" for coroutines in one event loop."""

    def __init__(self) -> None:
        self._event: asyncio.Event | None = None
        self.closed = False

    def notify(self) -> None:
        """Wake everyone currently waiting."""
        if self._event is not None:
            self._event.set()
            self._event = None

    def close(self) -> None:
        """Wake everyone now and from now on (the server is stopping)."""
        self.closed = True
        self.notify()

    def reopen(self) -> None:
        """Usable again after :meth:`close` (the server is restarted)."""
        self.closed = False

    async def wait(self, within: float | None, *also: asyncio.Event) -> None:
        """Return on the next change, after ``within`` seconds, or when any of ``also`` is set."""
        if self.closed or any(event.is_set() for event in also):
            return
        if self._event is None:
            self._event = asyncio.Event()
        waiters = [asyncio.ensure_future(self._event.wait())]
        waiters += [asyncio.ensure_future(event.wait()) for event in also]
        try:
            await asyncio.wait(waiters, timeout=within, return_when=asyncio.FIRST_COMPLETED)
        finally:
            for waiter in waiters:
                waiter.cancel()
