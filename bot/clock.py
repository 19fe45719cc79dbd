"""Time as a dependency: the bot asks its clock, so tests and the demo can run days in seconds."""

from __future__ import annotations

import time
from datetime import UTC, datetime
from typing import Protocol


class Clock(Protocol):
    def time(self) -> float:
        """Seconds since the epoch."""
        ...


class SystemClock:
    def time(self) -> float:
        return time.time()


class FakeClock:
    """A clock that only moves when told to."""

    def __init__(self, start: float | datetime = 1_640_995_200.0) -> None:  # 2022-01-01 00:00 UTC
        self._now = start.timestamp() if isinstance(start, datetime) else float(start)

    def time(self) -> float:
        return self._now

    def advance(self, seconds: float) -> None:
        self._now += seconds

    def set(self, moment: datetime) -> None:
        self._now = moment.timestamp()


def now_seconds(clock: Clock) -> int:
    return int(clock.time())


def utc(clock: Clock) -> datetime:
    return datetime.fromtimestamp(clock.time(), UTC)
