"""Telegram's flood limits, approximately, so a bot's throttling is tested for real.

Telegram documents "about 30 messages per second" overall, "about one message per
second" in one chat (short bursts tolerated) and "no more than 20 messages per
minute" in one group; beyond that it answers 429 with ``retry_after``. The
:class:`RateLimiter` enforces those three windows for sending methods. It takes
its clock as a callable, so its own tests run on a fake clock without sleeping.
"""

from __future__ import annotations

import math
import time
from collections import deque
from collections.abc import Callable
from dataclasses import asdict, dataclass, fields
from typing import Any

# Methods that post or change a message; these are what Telegram's flood control counts.
_COUNTED_PREFIXES = ("send", "edit", "copy", "forward")
_NOT_COUNTED = frozenset({"sendchataction"})


def is_counted(method: str) -> bool:
    """Whether ``method`` is a sending method the limits apply to."""
    name = method.lower()
    return name.startswith(_COUNTED_PREFIXES) and name not in _NOT_COUNTED


@dataclass
class Limits:
    """The rate limits the sandbox enforces; ``enabled=False`` switches them all off."""

    enabled: bool = True
    global_per_second: int = 30
    per_chat_per_second: float = 1.0
    per_chat_burst: int = 3
    group_per_minute: int = 20

    def to_json(self) -> dict[str, Any]:
        """As sent and received by the control API."""
        return asdict(self)

    def updated(self, changes: dict[str, Any]) -> Limits:
        """A copy with the known keys of ``changes`` applied; unknown keys are an error."""
        known = {f.name: f.type for f in fields(self)}
        unknown = set(changes) - set(known)
        if unknown:
            raise ValueError(f"unknown limit settings: {sorted(unknown)}")
        values = self.to_json()
        for key, value in changes.items():
            if key == "enabled":
                values[key] = bool(value)
            elif key == "per_chat_per_second":
                values[key] = float(value)
            else:
                values[key] = int(value)
        return Limits(**values)


class RateLimiter:
    """Counts sends per second overall, per chat (a token bucket) and per group per minute."""

    def __init__(self, limits: Limits, clock: Callable[[], float] = time.monotonic) -> None:
        self.limits = limits
        self.clock = clock  # public, so tests can freeze it
        self._global: deque[float] = deque()
        self._buckets: dict[int, tuple[float, float]] = {}  # chat id -> (tokens, at)
        self._groups: dict[int, deque[float]] = {}
        self.rejected = 0

    def configure(self, limits: Limits) -> None:
        """Switch to new limits and forget what was counted so far."""
        self.limits = limits
        self.reset()

    def reset(self) -> None:
        """Forget all counted sends (the 429 count stays)."""
        self._global.clear()
        self._buckets.clear()
        self._groups.clear()

    def acquire(self, chat_id: int, is_group: bool) -> int | None:
        """Count one send to ``chat_id``; None if allowed, else ``retry_after`` in seconds.

        A refused send is not counted, like on Telegram: retrying after ``retry_after``
        seconds succeeds unless other sends used the room in the meantime.
        """
        limits = self.limits
        if not limits.enabled:
            return None
        now = self.clock()
        waits: list[float] = []

        while self._global and self._global[0] <= now - 1.0:
            self._global.popleft()
        if limits.global_per_second > 0 and len(self._global) >= limits.global_per_second:
            waits.append(self._global[0] + 1.0 - now)

        rate = limits.per_chat_per_second
        capacity = max(float(limits.per_chat_burst), 1.0)
        tokens, at = self._buckets.get(chat_id, (capacity, now))
        tokens = min(capacity, tokens + (now - at) * rate) if rate > 0 else tokens
        if rate > 0 and tokens < 1.0:
            waits.append((1.0 - tokens) / rate)

        window = self._groups.setdefault(chat_id, deque()) if is_group else None
        if window is not None:
            while window and window[0] <= now - 60.0:
                window.popleft()
            if limits.group_per_minute > 0 and len(window) >= limits.group_per_minute:
                waits.append(window[0] + 60.0 - now)

        if waits:
            self.rejected += 1
            self._buckets[chat_id] = (tokens, now)
            return max(1, math.ceil(max(waits) - 1e-9))

        self._global.append(now)
        self._buckets[chat_id] = (tokens - 1.0 if rate > 0 else tokens, now)
        if window is not None:
            window.append(now)
        return None
