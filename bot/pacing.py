"""Telegram's sending limits, kept by the outbox sender before a request leaves.

Telegram allows about 30 messages per second overall, about one per second in a chat, and 20
per minute in a group; beyond that it answers 429 and the bot waits out `retry_after`. PTB's
AIORateLimiter (on the shared Bot) keeps the overall and per-group limits as a safety net, but
it lets a group take 20 messages in a burst and does not pace private chats at all, and a
broadcast that meets 429s is slower than one that never provokes them. So the outbox paces
itself: a sliding one-second window a little under Telegram's overall limit, and a minimum
spacing per chat (3 s in groups and channels, which is 20 a minute; 1 s in private chats).
Times are monotonic seconds, taken by the caller, so the rules are tested without sleeping.
"""

from __future__ import annotations

import asyncio
import time
from collections import deque
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager

# Just under Telegram's 30/s: the slack absorbs a request that is a few milliseconds late on
# the wire, which would otherwise land 31 sends in Telegram's window.
OVERALL_PER_SECOND = 29.5
GROUP_SPACING_S = 3.0
PRIVATE_SPACING_S = 1.0


def spacing_for(chat_id: int) -> float:
    """Groups, supergroups and channels have negative ids; people have positive ones."""
    return GROUP_SPACING_S if chat_id < 0 else PRIVATE_SPACING_S


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
    """Per-chat spacing, keyed by recipient (a committee or council, whatever its chat id)."""

    def __init__(self) -> None:
        self._next_at: dict[str, float] = {}

    def wait_s(self, recipient: str, now: float) -> float:
        return max(0.0, self._next_at.get(recipient, 0.0) - now)

    def record(self, recipient: str, chat_id: int, now: float) -> None:
        self._next_at[recipient] = now + spacing_for(chat_id)

    def hold(self, recipient: str, until: float) -> None:
        """Keep a chat quiet until `until` (after a 429 for it)."""
        self._next_at[recipient] = max(self._next_at.get(recipient, 0.0), until)

    def forget_before(self, now: float) -> None:
        """Drop chats whose spacing has passed, so a long broadcast does not grow this forever."""
        for recipient in [r for r, at in self._next_at.items() if at <= now]:
            del self._next_at[recipient]
