"""The Application's update queue, made durable: no update is lost to a kill, none handled twice.

`Inbox` is the Application's update queue (`ApplicationBuilder.update_queue`). Whatever puts
updates into it (the poller, bot/polling.py, in one transaction per getUpdates answer; PTB's
webhook server, one request each) has them written first (storage/inbox.py), and tells Telegram
they arrived only afterwards: the next getUpdates' offset, or the webhook's 200. A kept update then
goes to the update processor as PTB's fetcher would hand it, in a task of its own (`_queue_kept`);
at start the updates kept but never handled (a kill came between) go into the queue, before any
new one, for the fetcher to take.

`InboxUpdates` is the update processor: around a kept update's handlers it sets
`storage.inbox.HANDLING`, so that the handler's first write marks the update handled in the same
transaction; an update that wrote nothing (a refusal, a list, a flood dropped) is marked when its
handlers are done.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Sequence
from typing import Any

from telegram import Update
from telegram.ext import Application

from bot.clock import Clock
from bot.fast_updates import FastUpdate, UpdateReader
from bot.updates import MAX_CONCURRENT_UPDATES, ChatOrderedUpdates
from storage import Store
from storage.inbox import HANDLING, Handling, mark_handled

log = logging.getLogger(__name__)


class Inbox(asyncio.Queue):
    """The update queue; `receive` (or `put`) keeps updates before they are queued."""

    def __init__(self, clock: Clock) -> None:
        super().__init__()
        self._clock = clock
        self._application: Application | None = None
        self._reader: UpdateReader | None = None
        self._kept: dict[int, Handling] = {}  # kept and queued, not yet handled

    def serve(self, application: Application, reader: UpdateReader) -> None:
        """The Application whose store keeps the updates (its `bot_data["store"]`, once open), and how
        an update as Telegram sent it is read (bot/fast_updates.py)."""
        self._application = application
        self._reader = reader

    def _store(self) -> Store:
        if self._application is None or "store" not in self._application.bot_data:
            raise RuntimeError("the inbox has no database open")
        return self._application.bot_data["store"]

    async def put(self, item: Any) -> None:
        """PTB's webhook server puts each update here before it answers Telegram with 200."""
        if isinstance(item, Update):
            await (await self.receive([item]))
        else:
            await super().put(item)  # PTB's own signals, e.g. the one that stops the Application

    async def receive_sent(self, sent: Sequence[dict[str, Any]]) -> Awaitable[None]:
        """`receive` the updates of a getUpdates answer (bot/polling.py), as Telegram sent them. An
        update that cannot be read is left out (logged by its id, never by its content): asking for it
        again and again would stop every update after it."""
        updates, copies = [], []
        for raw in sent:
            try:
                updates.append(self._read(raw))
            except Exception as exc:
                kind = type(exc).__name__
                log.warning("inbox: update %s could not be read (%s); skipped", raw.get("update_id"), kind)
                continue
            copies.append(raw)
        return await self.receive(updates, copies)

    def _read(self, raw: dict[str, Any]) -> object:
        if self._reader is None:
            raise RuntimeError("the inbox has no reader of updates")
        return self._reader.read(raw)

    async def receive(self, updates: Sequence[Any], sent: Sequence[dict[str, Any]] | None = None) -> Awaitable[None]:
        """Keep the updates (`Update`s, or fast updates with `sent`) in one transaction and queue those
        not seen before. Telegram may be told they arrived once the awaitable returned is done (at once
        when there was nothing to keep); it raises if they could not be kept. `sent`: each update as Telegram sent
        it, kept instead of PTB's object turned back into JSON.

        The handlers may start before the COMMIT that keeps the updates: whatever they write commits
        with it or after it, never before (one connection, storage/database.py), and the update's
        mark (`mark_handled`) writes its row if that COMMIT failed. An update is queued once while
        it is handled, however often it comes (Telegram sends again what was not confirmed)."""
        if not updates:
            nothing: asyncio.Future[None] = asyncio.get_running_loop().create_future()
            nothing.set_result(None)
            return nothing
        now = int(self._clock.time())
        store = self._store()
        copies = sent if sent is not None else [update.to_dict() for update in updates]
        async with store.db.write() as (tx, durable):
            pairs = [(update.update_id, raw) for update, raw in zip(updates, copies, strict=True)]
            kept = set(await store.inbox.keep(tx, pairs, now=now))
        for update in updates:
            if update.update_id in kept and update.update_id not in self._kept:
                self._queue_kept(update, now)
        return durable

    async def replay(self) -> int:
        """Queue the updates kept but never handled (the bot was killed first); how many."""
        if self._application is None:
            return 0
        store = self._store()
        async with store.db.read() as conn:
            pending = await store.inbox.pending(conn)
        now = int(self._clock.time())
        for update_id, payload in pending:
            if update_id not in self._kept:
                try:
                    update = self._read(payload)
                except Exception as exc:  # kept by an older version that read it: not to be retried for ever
                    log.warning("inbox: kept update %d could not be read (%s); skipped", update_id, type(exc).__name__)
                    await self.done(Handling(update_id, now))
                    continue
                self._queue_kept(update, now)
        if pending:
            log.info("inbox: %d update(s) received before a stop and never handled are handled now", len(pending))
        return len(pending)

    def _queue_kept(self, update: Any, now: int) -> None:
        """Hand a kept update to the update processor, as PTB's update fetcher would.

        While the Application runs, the task is made here rather than by the fetcher: the fetcher
        is a task waiting on this queue, and waking it costs a turn of the loop before the update's
        own task is even made, milliseconds on a busy loop (docs/benchmarks.md, "Ingest", step 16).
        `Application.stop` waits for these tasks as it waits for the queue."""
        self._kept[update.update_id] = Handling(update.update_id, now)
        application = self._application
        if application is not None and application.running:
            application.create_task(self._process(application, update), update=update, name="update")
        else:  # before start (the updates a kill left, `replay`): the fetcher takes them once it runs
            self.put_nowait(update)

    @staticmethod
    async def _process(application: Application, update: Any) -> None:
        await application.update_processor.process_update(update, application.process_update(update))

    def handling(self, update: object) -> Handling | None:
        """The mark of a kept update about to be handled; None for anything else (updates put
        into the queue directly, as the ingest benchmark does, are not kept)."""
        return self._kept.get(update.update_id) if isinstance(update, Update | FastUpdate) else None

    async def done(self, handling: Handling) -> None:
        """The update's handlers are through: mark it handled, unless a write of theirs did."""
        self._kept.pop(handling.update_id, None)
        if handling.marked:
            return
        handling.now = int(self._clock.time())
        try:
            async with self._store().db.transaction() as tx:
                await mark_handled(tx, handling)
        except Exception as exc:  # a closed or failing database: the update is handled again at start
            log.warning("inbox: could not mark update %d handled (%s)", handling.update_id, type(exc).__name__)
        else:
            handling.marked = True


class InboxUpdates(ChatOrderedUpdates):
    """Chat-ordered processing that marks each kept update handled (see the module's docstring)."""

    def __init__(self, inbox: Inbox, max_concurrent_updates: int = MAX_CONCURRENT_UPDATES) -> None:
        super().__init__(max_concurrent_updates)
        self._inbox = inbox

    async def do_process_update(self, update: object, coroutine: Any) -> None:
        handling = self._inbox.handling(update)
        if handling is None:
            await super().do_process_update(update, coroutine)
            return
        token = HANDLING.set(handling)
        try:
            await super().do_process_update(update, coroutine)
        finally:
            HANDLING.reset(token)
            await self._inbox.done(handling)
