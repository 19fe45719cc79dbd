"""Long polling that confirms an update to Telegram only once the inbox has kept it.

PTB's Updater confirms a batch (the next getUpdates' offset) as soon as it is in the queue; a
kill before the handlers ran loses it (bot/inbox.py). This loop is the Updater's polling with
one difference: between getting a batch and asking for the next one (which confirms it), the
batch is written to the database. Everything else follows the Bot API's documented getUpdates:
`offset`, `timeout`, `allowed_updates`; deleteWebhook first, as the Updater does.

getUpdates goes through its own connection (`UpdatesRequest`, PTB's request interface), which
gives the updates as Telegram sent them, not as PTB's objects: the inbox keeps that copy (turning
PTB's objects back into JSON would be a quarter of the bot's work per update) and reads it update by
update (bot/fast_updates.py), so an update that cannot be read is skipped, not asked for again and
again, which would stop every update after it (docs/benchmarks.md).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from typing import Any

from telegram import Bot
from telegram.error import Conflict, InvalidToken, RetryAfter, TelegramError
from telegram.request import RequestData
from telegram.request._requestparameter import RequestParameter

from bot.inbox import Inbox
from bot.transport import AiohttpRequest

log = logging.getLogger(__name__)

FIRST_BACKOFF_S = 0.5
MAX_BACKOFF_S = 30.0


class UpdatesRequest(AiohttpRequest):
    """getUpdates' connection (`ApplicationBuilder.get_updates_request`). The poller calls getUpdates
    on it itself, as `Bot.get_updates` would (the same parameters and timeouts, the same errors
    raised for the server's answers), and gets the updates' JSON; only the poller uses it."""

    async def get_updates(
        self, base_url: str, *, offset: int | None, limit: int | None, poll_s: int, allowed_updates: list[str]
    ) -> object:
        """The answer's result: a list of updates as Telegram sent them (or whatever the server put there)."""
        parameters = {"offset": offset, "limit": limit, "timeout": poll_s, "allowed_updates": allowed_updates}
        data = RequestData([RequestParameter.from_input(name, value) for name, value in parameters.items()])
        # As Bot.get_updates: the long poll's own seconds on top of the connection's read timeout.
        return await self.post(f"{base_url}/getUpdates", data, read_timeout=(self.read_timeout or 0) + poll_s)


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
                await self._get_updates(limit=1, poll_s=0)
            except TelegramError as exc:
                log.warning("polling: could not confirm the last updates at stop (%s)", type(exc).__name__)

    async def _get_updates(self, *, limit: int | None = None, poll_s: int) -> list[dict[str, Any]] | None:
        """The updates of getUpdates' answer; None if it holds no list of them."""
        result = await self._request.get_updates(
            self._bot.base_url, offset=self._offset, limit=limit, poll_s=poll_s, allowed_updates=self._allowed_updates
        )
        return [update for update in result if isinstance(update, dict)] if isinstance(result, list) else None

    async def _run(self) -> None:
        while True:
            try:
                sent = await self._get_updates(poll_s=self._timeout)
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
            last = max((raw["update_id"] for raw in sent or () if type(raw.get("update_id")) is int), default=None)
            if sent is None or (sent and last is None):  # the loop must not end on an answer it cannot read
                log.error("polling: getUpdates gave an answer that could not be read; trying again")
                await self._wait()
                continue
            if sent:
                try:
                    # Kept on disk: only then may the next call confirm them.
                    await (await self._inbox.receive_sent(sent))
                except Exception:
                    # Not kept, so not confirmed either: Telegram sends them again.
                    log.exception("polling: could not keep %d update(s); asking for them again", len(sent))
                    await self._wait()
                    continue
                self._offset = last + 1
            self._backoff = FIRST_BACKOFF_S

    async def _wait(self) -> None:
        await asyncio.sleep(self._backoff)
        self._backoff = min(self._backoff * 2, MAX_BACKOFF_S)


def _seconds(retry_after: object) -> float:
    return retry_after.total_seconds() if hasattr(retry_after, "total_seconds") else float(retry_after)  # type: ignore[arg-type]
