"""The outbox sender: delivers what handlers committed to the outbox, surviving restarts.

Handlers never send messages that matter directly: they write an outbox row in the same
transaction as the change, then `wake()` this worker. The worker claims due rows (marking
them in flight, committed, before each request), sends them, and records the outcome:
sent; later (429 `retry_after`, network errors and 5xx with capped exponential backoff);
moved (a group migrated to a supergroup: follow `migrate_to_chat_id` and resend); or failed
(the bot was removed: the committee or council is marked unreachable). Telegram's overall
and per-group limits are kept by PTB's AIORateLimiter on the shared Bot.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging

from telegram import Bot, InlineKeyboardMarkup
from telegram.error import (
    BadRequest,
    ChatMigrated,
    Forbidden,
    NetworkError,
    RetryAfter,
    TelegramError,
    TimedOut,
)

from bot.clock import Clock
from storage import Store
from storage.outbox import OutboxItem

log = logging.getLogger(__name__)

BATCH = 20
MAX_BACKOFF_S = 60.0
IDLE_RECHECK_S = 30.0


class OutboxSender:
    def __init__(self, store: Store, bot: Bot, clock: Clock) -> None:
        self.store = store
        self.bot = bot
        self.clock = clock
        self._wake = asyncio.Event()
        self._task: asyncio.Task[None] | None = None

    def wake(self) -> None:
        """Tell the worker that new rows were committed."""
        self._wake.set()

    async def start(self) -> None:
        async with self.store.db.transaction() as tx:
            resumed = await self.store.outbox.resume(tx)
        if resumed:
            log.info("outbox: %d messages were in flight at the last stop; sending them again", resumed)
        self._task = asyncio.create_task(self._run(), name="outbox-sender")

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None

    async def _run(self) -> None:
        while True:
            try:
                delivered = await self.drain_once()
            except asyncio.CancelledError:
                raise
            except Exception:
                log.exception("outbox: unexpected error; retrying shortly")
                delivered = 0
                await asyncio.sleep(1)
            if not delivered:
                await self._sleep_until_due()

    async def _sleep_until_due(self) -> None:
        async with self.store.db.read() as conn:
            due = await self.store.outbox.next_due(conn)
        timeout = IDLE_RECHECK_S if due is None else max(0.0, min(IDLE_RECHECK_S, due - self.clock.time()))
        self._wake.clear()
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._wake.wait(), timeout)

    async def drain_once(self) -> int:
        """Claim and deliver one batch of due rows; returns how many were claimed."""
        async with self.store.db.transaction() as tx:
            items = await self.store.outbox.claim_due(tx, now=self.clock.time(), limit=BATCH)
        for item in items:
            await self._deliver(item)
        return len(items)

    async def _deliver(self, item: OutboxItem) -> None:
        outbox = self.store.outbox
        markup = InlineKeyboardMarkup.de_json(item.reply_markup, self.bot) if item.reply_markup else None
        now = self.clock.time()
        try:
            message = await self.bot.send_message(item.chat_id, item.text, reply_markup=markup)
        except RetryAfter as exc:
            wait = exc.retry_after.total_seconds() if hasattr(exc.retry_after, "total_seconds") else exc.retry_after
            await self._later(item, now + float(wait), "429")
        except ChatMigrated as exc:
            await self._follow_migration(item, exc.new_chat_id)
        except Forbidden as exc:
            await self._unreachable(item, f"forbidden: {exc.message}")
        except BadRequest as exc:
            if "chat not found" in exc.message.lower():
                await self._unreachable(item, "chat not found")
            else:
                async with self.store.db.transaction() as tx:
                    await outbox.mark_failed(tx, item.id, error=f"bad request: {exc.message}")
                log.error("outbox: message %d refused: %s", item.id, exc.message)
        except (TimedOut, NetworkError) as exc:
            # Ambiguous: the message may have arrived. We resend (docs/delivery.md): a duplicate
            # call is better than a lost one.
            await self._later(item, now + min(MAX_BACKOFF_S, 2.0**item.attempts), type(exc).__name__)
        except TelegramError as exc:
            await self._later(item, now + min(MAX_BACKOFF_S, 2.0**item.attempts), type(exc).__name__)
        else:
            async with self.store.db.transaction() as tx:
                await outbox.mark_sent(tx, item.id, message_id=message.message_id, now=int(now))

    async def _later(self, item: OutboxItem, not_before: float, error: str) -> None:
        async with self.store.db.transaction() as tx:
            await self.store.outbox.retry_later(tx, item.id, not_before=not_before, error=error)

    async def _follow_migration(self, item: OutboxItem, new_chat_id: int) -> None:
        async with self.store.db.transaction() as tx:
            await self.store.follow_migration(tx, item.chat_id, new_chat_id)
            await self.store.outbox.retry_later(tx, item.id, not_before=0, error="migrated")
        self.wake()

    async def _unreachable(self, item: OutboxItem, error: str) -> None:
        async with self.store.db.transaction() as tx:
            await self.store.outbox.mark_failed(tx, item.id, error=error)
            if item.committee_id is not None:
                await self.store.committees.set_reachable(tx, item.committee_id, False)
            elif item.council_id is not None:
                await self.store.councils.set_reachable(tx, item.council_id, False)
        log.warning("outbox: recipient of message %d unreachable (%s)", item.id, error.split(":", maxsplit=1)[0])
