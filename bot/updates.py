"""Updates are handled side by side, each chat's in the order they came.

PTB handles one update at a time by default, so every wait of a handler (a request to Telegram,
the disk's fsync at a commit) holds up every other chat. PTB's `concurrent_updates` runs them all
at once in no particular order, which would let a second press of a button overtake the first, or
a reply to a prompt overtake the command that asked for it. `ChatOrderedUpdates` keeps the order
within a chat (and, outside chats, per person) and lets different chats go side by side; that is
also what lets the database commit many handlers' writes with one fsync (storage/database.py).
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable
from typing import TYPE_CHECKING, Any

from telegram import Update
from telegram.ext import BaseUpdateProcessor

from bot.fast_updates import FastUpdate

if TYPE_CHECKING:
    from bot.flood import FloodControl

# Updates in handlers at once, across chats; one chat's wait their turn inside this.
MAX_CONCURRENT_UPDATES = 256


class ChatOrderedUpdates(BaseUpdateProcessor):
    """Each update waits for the one before it from the same chat (or person) to finish."""

    def __init__(self, max_concurrent_updates: int = MAX_CONCURRENT_UPDATES) -> None:
        super().__init__(max_concurrent_updates)
        self._last: dict[int, asyncio.Event] = {}  # per chat: set when its latest update is done
        # Set by build_application: a flood's updates are dropped before they wait (bot/flood.py).
        self.flood: FloodControl | None = None

    async def do_process_update(self, update: object, coroutine: Awaitable[Any]) -> None:
        key = _order_key(update)
        if self.flood is not None:
            instead = self.flood.check(update, waits=key in self._last, waiting=self._waiting())
            if instead is not None:  # over a limit: never handled, and never waits its chat's turn
                if hasattr(coroutine, "close"):
                    coroutine.close()
                await instead  # a notice, or nothing; then it is done like any handled update
                return
        if key is None:
            await coroutine
            return
        before = self._last.get(key)
        done = self._last[key] = asyncio.Event()
        started = False
        try:
            if before is not None:
                await before.wait()
            started = True
            await coroutine
        finally:
            done.set()
            if self._last.get(key) is done:
                del self._last[key]
            if not started and hasattr(coroutine, "close"):
                coroutine.close()  # cancelled while waiting its turn

    def _waiting(self) -> int:
        """Updates in hand waiting for an earlier one of their chat: each holds a slot meanwhile. Of the
        updates in hand, one per chat in `_last` is not waiting, nor is the one asking."""
        return max(0, self.current_concurrent_updates - len(self._last) - 1)

    async def initialize(self) -> None:
        """Nothing to set up."""

    async def shutdown(self) -> None:
        """Nothing to free: PTB waits for the updates in hand before it shuts down."""


def _order_key(update: object) -> int | None:
    if isinstance(update, FastUpdate):
        return update.chat_id
    if not isinstance(update, Update):
        return None
    if update.effective_chat is not None:
        return update.effective_chat.id
    if update.effective_user is not None:
        return update.effective_user.id
    return None
