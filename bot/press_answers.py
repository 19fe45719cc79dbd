"""Button presses answered without a task each: answerCallbackQuery on connections of their own.

Every press must be answered, or the person's button keeps spinning, and at a thousand updates a
second half of them are presses. Awaited through PTB's `Bot`, an answer costs the bot's core about
235 µs here: a task, a future and a timer around one request, and PTB's layers. Sent and read in
callbacks on kept-alive connections, it costs about 85 µs (docs/benchmarks.md, "Ingest", step 17).

Nothing waits for an answer. The handler has already recorded what the press did, and a failed
answer only leaves the spinner turning until the person's app gives up, so a failure is logged and
an answer is tried at most `ATTEMPTS` times: again after a 429's retry_after, after a 5xx, or after
a connection broke off. An answer sent on a kept connection that the server had closed meanwhile
is sent again on a new one, as the bot's pool does (bot/keepalive.py).

The lane keeps its own few connections, apart from the bot's pool: a burst of messages waiting
for connections never holds an answer back, nor the reverse. Where the bot's requests do not go
straight to the server (a proxy, another request class), answers go through PTB's `Bot`, each in a
task.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
from collections import deque
from dataclasses import dataclass
from functools import partial
from typing import Any

from telegram import Bot
from telegram.error import BadRequest, TelegramError
from telegram.request import BaseRequest

from bot.keepalive import Connection, Connector, Outcome, post_request
from bot.transport import AiohttpRequest
from storage import json_bytes

log = logging.getLogger(__name__)

ATTEMPTS = 3  # tries of one answer, its first included
CONNECTIONS = 8  # at most, open at once
CONNECT_S = 5.0
ANSWER_S = 10.0  # an answer not come by then is given up, and its connection closed
RETRY_S = 1.0  # after a 5xx, a broken connection, or a server that could not be reached
MAX_RETRY_AFTER_S = 10  # a 429 asking for a longer wait: the press would be stale by then
CLOSE_WAIT_S = ANSWER_S  # how long stopping waits for answers still on their way
TOO_OLD = "query is too old"


@dataclass(slots=True)
class _Answer:
    body: bytes  # the request's JSON
    attempts: int = 0


class PressAnswers:
    """answerCallbackQuery for the bot's presses: `answer` returns at once, the lane does the rest."""

    def __init__(self, bot: Bot, *, answer_s: float = ANSWER_S, retry_s: float = RETRY_S) -> None:
        self._bot = bot
        self._answer_s, self._retry_s = answer_s, retry_s
        url = f"{bot.base_url}/answerCallbackQuery"
        direct = bot.request.pooled(url) if isinstance(bot.request, AiohttpRequest) else None
        # None: behind a proxy, or not our request class; answers then go through `Bot`.
        self._server, self._target = direct if direct is not None else (None, "")
        self._user_agent = BaseRequest.USER_AGENT.encode()
        self._connector = Connector()
        self._queue: deque[_Answer] = deque()
        self._idle: list[Connection] = []
        self._busy: dict[Connection, tuple[_Answer, float, bool]] = {}  # its answer, since, kept from before
        self._opening = 0
        self._retries: set[asyncio.TimerHandle] = set()
        self._tasks: set[asyncio.Task[Any]] = set()  # connections being opened; answers through `Bot`
        self._watch: asyncio.TimerHandle | None = None
        self._stopping: asyncio.Event | None = None  # set by `close` once nothing is under way
        self.sent = 0  # answers Telegram took
        self.failed = 0  # answers given up

    def answer(self, query_id: str, text: str | None = None, *, alert: bool = False) -> None:
        """Answer a press (its `callback_query_id`) with `text`, in an alert if asked; soon."""
        if self._server is None:
            self._in_task(self._through_bot(query_id, text, alert))
            return
        parameters: dict[str, Any] = {"callback_query_id": query_id}
        if text:
            parameters["text"] = text
        if alert:
            parameters["show_alert"] = True
        self._queue.append(_Answer(json_bytes.dumps(parameters)))
        self._dispatch()

    @property
    def under_way(self) -> int:
        """Answers not yet sent or given up."""
        return len(self._queue) + len(self._busy) + len(self._retries) + len(self._tasks)

    async def close(self, wait_s: float = CLOSE_WAIT_S) -> None:
        """Let the answers under way finish (for `wait_s` at most), then close the connections."""
        self._stopping = asyncio.Event()
        self._check_stopped()
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._stopping.wait(), wait_s)
        left = self.under_way
        for handle in self._retries:
            handle.cancel()
        self._retries.clear()
        for task in self._tasks:
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        if self._watch is not None:
            self._watch.cancel()
            self._watch = None
        for connection in [*self._idle, *self._busy]:
            connection.done = None  # what comes on it now is nobody's
            connection.close()
        self._idle.clear()
        self._busy.clear()
        self._queue.clear()
        if left:
            self.failed += left
            log.warning("press answers: %d press(es) left unanswered at stop", left)

    # -- sending ------------------------------------------------------------------------------
    def _dispatch(self) -> None:
        """Send what waits on the idle connections; open more (up to CONNECTIONS) if it is not enough."""
        while self._queue and self._idle:
            connection = self._idle.pop()
            if not connection.closed:
                self._send(connection, self._queue.popleft())
        wanted = min(len(self._queue), CONNECTIONS - len(self._busy) - len(self._idle)) - self._opening
        for _ in range(max(0, wanted)):
            self._opening += 1
            self._in_task(self._open())
        self._check_stopped()

    def _check_stopped(self) -> None:
        if self._stopping is not None and not self.under_way:
            self._stopping.set()

    def _send(self, connection: Connection, answer: _Answer) -> None:
        loop = asyncio.get_running_loop()
        self._busy[connection] = (answer, loop.time(), connection.reusable)
        assert self._server is not None
        connection.start(
            post_request(self._server, self._target, answer.body, self._user_agent), partial(self._done, connection)
        )
        if self._watch is None:
            self._watch = loop.call_later(self._answer_s / 2, self._time_out)

    async def _open(self) -> None:
        assert self._server is not None
        try:
            connection = await self._connector.connect(self._server, CONNECT_S)
        except (OSError, TimeoutError) as exc:
            self._opening -= 1
            log.warning("press answers: the Bot API server could not be reached (%s)", type(exc).__name__)
            waiting, self._queue = list(self._queue), deque()
            for answer in waiting:  # each tries again in a moment, a try fewer
                self._retry(answer, self._retry_s, type(exc).__name__)
            return
        self._opening -= 1
        self._idle.append(connection)
        self._dispatch()

    def _done(self, connection: Connection, outcome: Outcome) -> None:
        """The outcome of the answer on `connection` (called by the connection, on the loop)."""
        answer, _since, kept = self._busy.pop(connection)
        if isinstance(outcome, Exception):
            connection.close()
            if kept and connection.received == 0:
                self._queue.appendleft(answer)  # closed while idle: the server never read it
            else:
                self._retry(answer, self._retry_s, type(outcome).__name__)
        else:
            if connection.reusable and not connection.closed:
                self._idle.append(connection)
            else:
                connection.close()
            self._read(answer, *outcome)
        self._dispatch()

    def _read(self, answer: _Answer, status: int, body: bytes) -> None:
        """What Telegram said to an answer."""
        if status == 200:
            self.sent += 1
            return
        try:
            said = json.loads(body)
            description = str(said.get("description", ""))
            retry_after = (said.get("parameters") or {}).get("retry_after")
        except (ValueError, AttributeError):
            description, retry_after = "", None
        if status == 429 and isinstance(retry_after, int) and retry_after <= MAX_RETRY_AFTER_S:
            self._retry(answer, retry_after, "429")
        elif status >= 500:
            self._retry(answer, self._retry_s, str(status))
        elif TOO_OLD in description.lower():
            self.failed += 1
            log.info("a button press was too old to answer")
        else:
            self.failed += 1
            log.warning("press answers: Telegram refused an answer (%d)", status)

    def _retry(self, answer: _Answer, after_s: float, why: str) -> None:
        answer.attempts += 1
        if answer.attempts >= ATTEMPTS:
            self.failed += 1
            log.warning("press answers: a press could not be answered (%s, %d tries)", why, answer.attempts)
            return
        loop = asyncio.get_running_loop()
        handle: asyncio.TimerHandle | None = None

        def again() -> None:
            self._retries.discard(handle)  # type: ignore[arg-type]
            self._queue.append(answer)
            self._dispatch()

        handle = loop.call_later(after_s, again)
        self._retries.add(handle)

    def _time_out(self) -> None:
        """Give up the answers that have waited ANSWER_S for Telegram, and their connections."""
        loop = asyncio.get_running_loop()
        self._watch = None
        now = loop.time()
        for connection, (_answer, since, _kept) in list(self._busy.items()):
            if now - since >= self._answer_s:
                del self._busy[connection]
                connection.done = None  # what comes on it later is nobody's
                connection.close()
                self.failed += 1
                log.warning("press answers: Telegram did not answer within %.0f s; given up", self._answer_s)
        if self._busy:
            self._watch = loop.call_later(self._answer_s / 2, self._time_out)
        self._dispatch()

    # -- through PTB's Bot --------------------------------------------------------------------
    def _in_task(self, coroutine: Any) -> None:
        task = asyncio.get_running_loop().create_task(coroutine, name="press-answer")
        self._tasks.add(task)
        task.add_done_callback(self._task_done)

    def _task_done(self, task: asyncio.Task[Any]) -> None:
        self._tasks.discard(task)
        self._check_stopped()

    async def _through_bot(self, query_id: str, text: str | None, alert: bool) -> None:
        try:
            await self._bot.answer_callback_query(query_id, text, show_alert=alert)
            self.sent += 1
        except BadRequest as exc:
            self.failed += 1
            if TOO_OLD in exc.message.lower():
                log.info("a button press was too old to answer")
            else:
                log.warning("press answers: Telegram refused an answer (%s)", type(exc).__name__)
        except TelegramError as exc:
            self.failed += 1
            log.warning("press answers: a press could not be answered (%s)", type(exc).__name__)
