"""The outbox sender: delivers what handlers committed to the outbox, surviving restarts.

Handlers never send messages that matter directly: they write an outbox row in the same
transaction as the change, then `wake()` this worker. The worker reads due rows, paces them
to Telegram's limits (bot/pacing.py), and sends several at once (different chats, so one slow
request does not hold a broadcast back). For each row it commits `inflight` immediately before
the request and the outcome right after it: sent; later (429 `retry_after`, network errors and
5xx with capped exponential backoff); moved (a group migrated to a supergroup: follow
`migrate_to_chat_id` and resend); or failed (the bot was removed: the committee or council is
marked unreachable and its council told). docs/delivery.md explains the policy.

Features hook in per purpose: `settled[purpose](tx, item)` runs inside the outcome's
transaction (a call's live tally counts its deliveries that way).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Awaitable, Callable, Mapping

import aiosqlite
from telegram import Bot, InlineKeyboardMarkup, InputFile, Message, ReplyParameters
from telegram.error import (
    BadRequest,
    ChatMigrated,
    Forbidden,
    NetworkError,
    RetryAfter,
    TelegramError,
    TimedOut,
)

from bot.clock import Clock, after_real_seconds, real_seconds_until
from bot.pacing import FROM_OUTBOX, Pacing
from storage import Store
from storage.outbox import EDIT, OutboxItem

log = logging.getLogger(__name__)

LOOKAHEAD = 120  # rows read per round; about four seconds of sending at full speed
CONCURRENCY = 4  # requests in flight at once, each to a different chat
MAX_BACKOFF_S = 60.0
IDLE_RECHECK_S = 30.0
EDIT_WAIT_S = 1.0  # an edit whose message has not left yet looks again after this

SettledHook = Callable[[aiosqlite.Connection, OutboxItem], Awaitable[None]]
UnreachableHook = Callable[[aiosqlite.Connection, OutboxItem], Awaitable[None]]


class OutboxSender:
    def __init__(
        self,
        store: Store,
        bot: Bot,
        clock: Clock,
        *,
        settled: Mapping[str, SettledHook] | None = None,
        unreachable: UnreachableHook | None = None,
        pacing: Pacing | None = None,
    ) -> None:
        self.store = store
        self.bot = bot
        self.clock = clock
        self.settled = dict(settled or {})
        self.unreachable = unreachable
        shared = pacing or Pacing()
        self.overall = shared.overall
        self.pacing = shared.chats
        self._wake = asyncio.Event()
        self._task: asyncio.Task[None] | None = None
        self._slots = asyncio.Semaphore(CONCURRENCY)
        self._sending: set[asyncio.Task[None]] = set()
        self._busy: set[str] = set()  # recipients with a request in flight

    def wake(self) -> None:
        """Tell the worker that new rows were committed (or a chat became free)."""
        self._wake.set()

    async def start(self) -> None:
        async with self.store.db.transaction() as tx:
            resumed = await self.store.outbox.resume(tx)
        if resumed:
            log.info("outbox: %d messages were in flight at the last stop; sending them again", resumed)
        self._task = asyncio.create_task(self._run(), name="outbox-sender")

    async def stop(self) -> None:
        """Stop reading new rows and let requests already in flight finish and be recorded."""
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None
        if self._sending:
            await asyncio.gather(*self._sending, return_exceptions=True)

    async def _run(self) -> None:
        while True:
            try:
                pause = await self._dispatch_round()
            except asyncio.CancelledError:
                raise
            except Exception:
                log.exception("outbox: unexpected error; retrying shortly")
                pause = 1.0
            if pause > 0:
                await self._sleep(pause)

    async def _sleep(self, real_s: float) -> None:
        self._wake.clear()
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._wake.wait(), real_s)

    async def _dispatch_round(self) -> float:
        """Start sending every due row whose chat may take a message now.

        Returns how long to wait before the next round (0: go on at once)."""
        async with self.store.db.read() as conn:
            items = await self.store.outbox.due(conn, now=self.clock.time(), limit=LOOKAHEAD)
            next_due = None if items else await self.store.outbox.next_due(conn)
        if not items:
            return IDLE_RECHECK_S if next_due is None else min(IDLE_RECHECK_S, real_seconds_until(self.clock, next_due))
        started = 0
        soonest = IDLE_RECHECK_S
        seen: set[str] = set()
        for item in items:
            recipient = item.recipient
            if recipient in self._busy or recipient in seen:
                seen.add(recipient)  # keep a chat's messages in order: one at a time
                continue
            seen.add(recipient)
            wait = self.pacing.wait_s(item.chat_id, time.monotonic())
            if wait > 0:
                soonest = min(soonest, wait)
                continue
            await self._slots.acquire()
            self._busy.add(recipient)
            task = asyncio.create_task(self._deliver(item), name=f"outbox-{item.id}")
            self._sending.add(task)
            task.add_done_callback(self._sent_one)
            started += 1
        self.pacing.forget_before(time.monotonic())
        if started:
            return 0.0
        # Everything due waits for a busy chat or its spacing; a finished request wakes us.
        return soonest

    def _sent_one(self, task: asyncio.Task[None]) -> None:
        self._sending.discard(task)
        self._slots.release()
        self.wake()

    async def _deliver(self, item: OutboxItem) -> None:
        try:
            if item.op == EDIT and not await self._edit_ready(item):
                return
            # The row goes in flight only once Telegram's limits let its request leave at once:
            # after a crash, only rows whose request may really have left are sent again.
            async with self.overall.turn() as sent:
                async with self.store.db.transaction() as tx:
                    claimed = await self.store.outbox.claim(tx, item)
                if claimed is not None:
                    sent()
            if claimed is None:
                return  # dropped meanwhile (a cancelled call's copy)
            self.pacing.record(item.chat_id, time.monotonic())
            await self._attempt(claimed)  # as the row reads now: it may have been rewritten since `due`
        except Exception:
            log.exception("outbox: could not deliver message %d; it stays queued", item.id)
        finally:
            self._busy.discard(item.recipient)

    async def _edit_ready(self, item: OutboxItem) -> bool:
        """An edit goes once its message has left; never if that message was not delivered."""
        if item.target_state == "sent" and item.target_message_id is not None:
            return True
        async with self.store.db.transaction() as tx:
            if item.target_state in ("failed", "dropped"):
                await self.store.outbox.mark_dropped(tx, item.id, error="message not delivered")
            else:
                await self.store.outbox.retry_later(
                    tx, item.id, not_before=after_real_seconds(self.clock, EDIT_WAIT_S), error="waiting for message"
                )
        return False

    async def _request_in_turn(self, item: OutboxItem) -> Message | bool:
        """The request, marked as one whose turn `_deliver` already took (bot/pacing.Pacing)."""
        marked = FROM_OUTBOX.set(True)
        try:
            return await self._request(item)
        finally:
            FROM_OUTBOX.reset(marked)

    async def _request(self, item: OutboxItem) -> Message | bool:
        markup = InlineKeyboardMarkup.de_json(item.reply_markup, self.bot) if item.reply_markup else None
        if item.op == EDIT:
            return await self.bot.edit_message_text(
                item.text, chat_id=item.chat_id, message_id=item.target_message_id, reply_markup=markup
            )
        quote = ReplyParameters(item.reply_to, allow_sending_without_reply=True) if item.reply_to else None
        if item.photo is not None:
            return await self.bot.send_photo(
                item.chat_id,
                InputFile(item.photo, filename="spread.png"),
                caption=item.text,
                reply_markup=markup,
                reply_parameters=quote,
            )
        return await self.bot.send_message(item.chat_id, item.text, reply_markup=markup, reply_parameters=quote)

    async def _attempt(self, item: OutboxItem) -> None:
        try:
            result = await self._request_in_turn(item)
        except RetryAfter as exc:
            wait = exc.retry_after.total_seconds() if hasattr(exc.retry_after, "total_seconds") else exc.retry_after
            self.pacing.hold(item.chat_id, time.monotonic() + float(wait))
            await self._later(item, after_real_seconds(self.clock, float(wait)), "429")
        except ChatMigrated as exc:
            await self._follow_migration(item, exc.new_chat_id)
        except Forbidden as exc:
            await self._unreachable(item, f"forbidden: {exc.message}")
        except BadRequest as exc:
            message = exc.message.lower()
            if "chat not found" in message:
                await self._unreachable(item, "chat not found")
            elif item.op == EDIT and "message is not modified" in message:
                await self._settle(item, "sent")
            elif item.op == EDIT and ("message to edit not found" in message or "can't be edited" in message):
                await self._settle(item, "dropped", error="message gone")
            else:
                await self._settle(item, "failed", error=f"bad request: {exc.message}")
                log.error("outbox: message %d refused: %s", item.id, exc.message)
        except (TimedOut, NetworkError, TelegramError) as exc:
            # Ambiguous for a timeout: the message may have arrived. We resend (docs/delivery.md):
            # a duplicate call is better than a lost one.
            await self._later(
                item, after_real_seconds(self.clock, min(MAX_BACKOFF_S, 2.0**item.attempts)), type(exc).__name__
            )
        else:
            message_id = result.message_id if isinstance(result, Message) else None
            await self._settle(item, "sent", message_id=message_id)

    async def _settle(self, item: OutboxItem, state: str, *, message_id: int | None = None, error: str = "") -> None:
        outbox = self.store.outbox
        async with self.store.db.transaction() as tx:
            if state == "sent":
                await outbox.mark_sent(tx, item.id, message_id=message_id, now=int(self.clock.time()))
            elif state == "dropped":
                await outbox.mark_dropped(tx, item.id, error=error)
            else:
                await outbox.mark_failed(tx, item.id, error=error)
            await self._run_hook(tx, item)

    async def _run_hook(self, tx: aiosqlite.Connection, item: OutboxItem) -> None:
        hook = self.settled.get(item.purpose)
        if hook is not None and item.op != EDIT:
            await hook(tx, item)

    async def _later(self, item: OutboxItem, not_before: float, error: str) -> None:
        async with self.store.db.transaction() as tx:
            await self.store.outbox.retry_later(tx, item.id, not_before=not_before, error=error)

    async def _follow_migration(self, item: OutboxItem, new_chat_id: int) -> None:
        async with self.store.db.transaction() as tx:
            await self.store.follow_migration(tx, item.chat_id, new_chat_id)
            await self.store.outbox.retry_later(tx, item.id, not_before=0, error="migrated")

    async def _unreachable(self, item: OutboxItem, error: str) -> None:
        async with self.store.db.transaction() as tx:
            await self.store.outbox.mark_failed(tx, item.id, error=error)
            newly = False
            if item.committee_id is not None:
                committee = await self.store.committees.get(tx, item.committee_id)
                newly = committee is not None and committee.reachable
                await self.store.committees.set_reachable(tx, item.committee_id, False)
            elif item.council_id is not None:
                await self.store.councils.set_reachable(tx, item.council_id, False)
            if newly and self.unreachable is not None:
                await self.unreachable(tx, item)
            await self._run_hook(tx, item)
        log.warning("outbox: recipient of message %d unreachable (%s)", item.id, error.split(":", maxsplit=1)[0])
