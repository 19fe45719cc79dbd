"""Telegram's sending limits, kept by the outbox sender before a request leaves.

Telegram allows about 30 messages per second overall, about one per second in a chat, and 20
per minute in a group; beyond that it answers 429 and the bot waits out `retry_after`. PTB's
AIORateLimiter (on the shared Bot) keeps the overall and per-group limits as a safety net, but
it lets a group take 20 messages in a burst and does not pace private chats at all, and a
broadcast that meets 429s is slower than one that never provokes them. So the outbox paces
itself: a sliding one-second window a little under Telegram's overall limit, and per chat about
one message a second with bursts of three (Telegram tolerates short bursts), and in groups and
channels no more than 20 in any sliding minute. Direct replies of handlers take their turn
in the same account (`Pacing`), so the two never add up to a 429.
Times are monotonic seconds, taken by the caller, so the rules are tested without sleeping.
"""

from __future__ import annotations

import asyncio
import time
from collections import deque
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from contextvars import ContextVar

# Just under Telegram's 30/s: the slack absorbs a request that is a few milliseconds late on
# the wire, which would otherwise land 31 sends in Telegram's window.
OVERALL_PER_SECOND = 29.5
# A little over Telegram's second per message in a chat: the bot's clock and Telegram's are read a
# few milliseconds apart, and a message sent a second after the one before could land inside it
# (a private chat flooded with requests gets its answers this fast, one after another).
CHAT_SPACING_S = 1.05
CHAT_BURST = 3.0
GROUP_PER_MINUTE = 20
# The bot's clock and Telegram's are read a few milliseconds apart: a send exactly a minute after
# the one it replaces in the window could land inside Telegram's minute.
GROUP_WINDOW_S = 60.25


def is_group(chat_id: int) -> bool:
    """Groups, supergroups and channels have negative ids; people have positive ones."""
    return chat_id < 0


class OverallWindow:
    """Sends spread evenly at `per_second`, and never more than that in any one-second window.

    Even spacing matters as much as the count: Telegram (and the sandbox) count a sliding
    window, so a burst of 29 followed by a pause invites a 429 the moment one request of the
    next burst is a little early. A 429 is expensive: PTB's AIORateLimiter then pauses every
    request of the bot for `retry_after` seconds.
    """

    def __init__(self, per_second: float = OVERALL_PER_SECOND, clock: Callable[[], float] = time.monotonic) -> None:
        self.per_second = per_second
        self.clock = clock
        self._sent: deque[float] = deque()
        self._next_at = 0.0
        self._lock = asyncio.Lock()

    def wait_s(self, now: float) -> float:
        """How long until one more send keeps both the spacing and the window."""
        while self._sent and self._sent[0] <= now - 1.0:
            self._sent.popleft()
        wait = self._next_at - now
        if len(self._sent) >= int(self.per_second):
            wait = max(wait, self._sent[0] + 1.0 - now)
        return max(0.0, wait)

    def record(self, now: float) -> None:
        """A send left at `now`. The next is due one interval after the previous one was due, so a
        send that left a little late does not push every later one back (the window still holds)."""
        self._sent.append(now)
        interval = 1.0 / self.per_second
        self._next_at = max(self._next_at + interval, now) if self._next_at else now + interval

    @asynccontextmanager
    async def turn(self) -> AsyncIterator[Callable[[], None]]:
        """Wait for room, then hold it while the caller prepares its request.

        The caller calls the yielded `sent()` when it does send; the time recorded is then, so a
        slow preparation (a database write) does not bunch requests together on the wire."""
        async with self._lock:
            wait = self.wait_s(self.clock())
            while wait > 0:  # room frees up at a known time: sleeping until then is exact
                await asyncio.sleep(wait)
                wait = self.wait_s(self.clock())
            yield lambda: self.record(self.clock())


class ChatPacing:
    """Per-chat pacing, keyed by chat id: about one message a second with short bursts tolerated (a
    token bucket of CHAT_BURST), and in a group at most GROUP_PER_MINUTE in any GROUP_WINDOW_S."""

    def __init__(self) -> None:
        self._buckets: dict[int, tuple[float, float]] = {}  # chat id -> (tokens, when counted)
        self._held: dict[int, float] = {}
        self._group_sent: dict[int, deque[float]] = {}

    def _tokens(self, chat_id: int, now: float) -> float:
        tokens, at = self._buckets.get(chat_id, (CHAT_BURST, now))
        return min(CHAT_BURST, tokens + (now - at) / CHAT_SPACING_S)

    def wait_s(self, chat_id: int, now: float) -> float:
        wait = max(self._held.get(chat_id, 0.0) - now, (1.0 - self._tokens(chat_id, now)) * CHAT_SPACING_S)
        sent = self._group_sent.get(chat_id)
        if sent is not None:
            while sent and sent[0] <= now - GROUP_WINDOW_S:
                sent.popleft()
            if len(sent) >= GROUP_PER_MINUTE:
                wait = max(wait, sent[0] + GROUP_WINDOW_S - now)
        return max(0.0, wait)

    def record(self, chat_id: int, now: float) -> None:
        self._buckets[chat_id] = (self._tokens(chat_id, now) - 1.0, now)
        if is_group(chat_id):
            self._group_sent.setdefault(chat_id, deque()).append(now)

    def hold(self, chat_id: int, until: float) -> None:
        """Keep a chat quiet until `until` (after a 429 for it)."""
        self._held[chat_id] = max(self._held.get(chat_id, 0.0), until)

    def forget_before(self, now: float) -> None:
        """Drop chats back to a full bucket, so a long broadcast does not grow these forever."""
        for chat_id in [c for c in self._buckets if self._tokens(c, now) >= CHAT_BURST]:
            del self._buckets[chat_id]
        for chat_id in [c for c, until in self._held.items() if until <= now]:
            del self._held[chat_id]
        for chat_id in [c for c, sent in self._group_sent.items() if not sent or sent[-1] <= now - GROUP_WINDOW_S]:
            del self._group_sent[chat_id]


# Set while the outbox makes a request: it has already waited for its turn (see Pacing).
FROM_OUTBOX: ContextVar[bool] = ContextVar("from_outbox", default=False)


class Pacing:
    """One account of Telegram's limits for everything the bot sends.

    Telegram counts a chat's messages and the bot's overall rate whatever sent them, and one 429
    makes PTB's rate limiter hold every request of the bot. So a handler's direct reply takes its
    turn here like an outbox row does: a busy council chat's replies wait their second instead of
    provoking a 429 that would stop the whole bot."""

    def __init__(self) -> None:
        self.overall = OverallWindow()
        self.chats = ChatPacing()

    async def direct_turn(self, chat_id: int) -> None:
        """Wait until a message to `chat_id` keeps both limits, and count it as sent now."""
        while True:
            wait = self.chats.wait_s(chat_id, time.monotonic())
            if wait > 0:
                await asyncio.sleep(wait)
                continue
            async with self.overall.turn() as sent:
                if self.chats.wait_s(chat_id, time.monotonic()) > 0:
                    continue  # another request to the chat took the second while we waited
                sent()
                self.chats.record(chat_id, time.monotonic())
                return
