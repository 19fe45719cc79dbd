"""Long polling that confirms an update to Telegram only once the inbox has kept it.

PTB's Updater confirms a batch (the next getUpdates' offset) as soon as it is in the queue; a
kill before the handlers ran loses it (bot/inbox.py). This loop is the Updater's polling with
one difference: between getting a batch and asking for the next one (which confirms it), the
batch is written to the database. Everything else follows the Bot API's documented getUpdates:
`offset`, `timeout`, `allowed_updates`; deleteWebhook first, as the Updater does.

The inbox keeps each update as Telegram sent it, which getUpdates' own connection
(`UpdatesRequest`) holds on to: turning PTB's objects back into JSON would be a quarter of the
bot's work per update (docs/benchmarks.md). The same copy lets the loop read an answer update by
update when PTB cannot read one of them: that one is skipped (and confirmed), not asked for again
and again, which would stop every update after it.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Sequence
from typing import Any

from telegram import Bot, Update
from telegram.error import Conflict, InvalidToken, RetryAfter, TelegramError
from telegram.request import BaseRequest, RequestData

from bot.inbox import Inbox
from bot.transport import AiohttpRequest

log = logging.getLogger(__name__)

FIRST_BACKOFF_S = 0.5
MAX_BACKOFF_S = 30.0


class UpdatesRequest(AiohttpRequest):
    """getUpdates' connection (`ApplicationBuilder.get_updates_request`); `answer` is the list of
    updates of the last answer, as Telegram sent them. Only the poller uses it, one call at a time."""

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.answer: list[dict[str, Any]] = []

    async def post(
        self,
        url: str,
        request_data: RequestData | None = None,
        read_timeout: Any = BaseRequest.DEFAULT_NONE,
        write_timeout: Any = BaseRequest.DEFAULT_NONE,
        connect_timeout: Any = BaseRequest.DEFAULT_NONE,
        pool_timeout: Any = BaseRequest.DEFAULT_NONE,
    ) -> Any:
        self.answer = []
        result = await super().post(url, request_data, read_timeout, write_timeout, connect_timeout, pool_timeout)
        if isinstance(result, list):
            self.answer = [update for update in result if isinstance(update, dict)]
        return result


class Poller:
    """getUpdates in a loop: keep each batch (Inbox.receive), then confirm it with the next call."""

    def __init__(
        self, bot: Bot, inbox: Inbox, request: UpdatesRequest, *, timeout: int, allowed_updates: list[str]
    ) -> None:
        self._bot = bot
        self._inbox = inbox
        self._request = request
        self._timeout = timeout
        self._allowed_updates = allowed_updates
        self._offset: int | None = None  # the update_id after the last batch kept
        self._backoff = FIRST_BACKOFF_S
        self.task: asyncio.Task[None] | None = None

    @property
    def running(self) -> bool:
        return self.task is not None and not self.task.done()

    async def start(self) -> None:
        """Updates come by getUpdates only while no webhook is set: remove one left behind."""
        await self._bot.delete_webhook(drop_pending_updates=False)
        self.task = asyncio.create_task(self._run(), name="asamblea-polling")

    async def stop(self) -> None:
        """End the long poll, then confirm what was kept, so that Telegram need not send it again
        (if this call fails, it comes again and the inbox knows it)."""
        task, self.task = self.task, None
        if task is not None:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError, TelegramError):
                await task
        if self._offset is not None:
            try:
                await self._bot.get_updates(
                    offset=self._offset, limit=1, timeout=0, allowed_updates=self._allowed_updates
                )
            except TelegramError as exc:
                log.warning("polling: could not confirm the last updates at stop (%s)", type(exc).__name__)

    async def _run(self) -> None:
        while True:
            try:
                updates = await self._bot.get_updates(
                    offset=self._offset, timeout=self._timeout, allowed_updates=self._allowed_updates
                )
            except RetryAfter as exc:
                await asyncio.sleep(_seconds(exc.retry_after))
                continue
            except InvalidToken:
                log.critical("polling: the Bot API server refused the token; polling stops")
                raise
            except Conflict as exc:
                log.error("polling: %s", exc.message)  # another instance polls with this token
                await self._wait()
                continue
            except TelegramError as exc:  # network errors, timeouts, the server's 5xx
                log.warning("polling: getUpdates failed (%s); trying again", type(exc).__name__)
                await self._wait()
                continue
            except Exception:  # PTB could not read the answer: each update is read alone below
                updates = ()
            sent = self._request.answer
            last = max((raw["update_id"] for raw in sent if type(raw.get("update_id")) is int), default=None)
            if sent and last is None:  # no list of updates at all: the loop must not end on it
                log.error("polling: getUpdates gave an answer that could not be read; trying again")
                await self._wait()
                continue
            if sent:
                readable, copies = self._paired(updates, sent)
                try:
                    await self._inbox.receive(readable, copies)
                except Exception:
                    # Not kept, so not confirmed either: Telegram sends them again.
                    log.exception("polling: could not keep %d update(s); asking for them again", len(sent))
                    await self._wait()
                    continue
                self._offset = last + 1
            self._backoff = FIRST_BACKOFF_S

    def _paired(
        self, updates: Sequence[Update], sent: list[dict[str, Any]]
    ) -> tuple[list[Update], list[dict[str, Any]]]:
        """The updates PTB read, each with the copy Telegram sent; if PTB could not read the answer,
        each update read alone, and those it cannot read left out (logged by id, never by content)."""
        if len(updates) == len(sent) and all(
            update.update_id == raw.get("update_id") for update, raw in zip(updates, sent, strict=True)
        ):
            return list(updates), sent
        readable, copies = [], []
        for raw in sent:
            try:
                update = Update.de_json(raw, self._bot)
            except Exception as exc:
                log.warning(
                    "polling: update %s could not be read (%s); skipped", raw.get("update_id"), type(exc).__name__
                )
                continue
            readable.append(update)
            copies.append(raw)
        return readable, copies

    async def _wait(self) -> None:
        await asyncio.sleep(self._backoff)
        self._backoff = min(self._backoff * 2, MAX_BACKOFF_S)


def _seconds(retry_after: object) -> float:
    return retry_after.total_seconds() if hasattr(retry_after, "total_seconds") else float(retry_after)  # type: ignore[arg-type]
