"""Time as a dependency: the bot asks its clock, so tests and the demo can run days in seconds.

Movement time (call start times, reminders, deadlines, digests) comes from the clock; waiting
(asyncio sleeps, JobQueue jobs) is in real seconds. `speed` converts between them: a clock
running at 3600 passes an hour of movement time in one real second.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Protocol


class Clock(Protocol):
    speed: float

    def time(self) -> float:
        """Movement time: seconds since the epoch."""
        ...


class SystemClock:
    speed = 1.0

    def time(self) -> float:
        return time.time()


class ScaledClock:
    """Starts at `start` (epoch seconds) and runs `speed` times faster than real time."""

    def __init__(self, start: float, speed: float = 1.0) -> None:
        self.speed = speed
        self._start = start
        self._real_start = time.monotonic()

    def time(self) -> float:
        return self._start + (time.monotonic() - self._real_start) * self.speed


class ReplayClock(ScaledClock):
    """A scaled clock that can also jump ahead: the demo replays four days of January 2022 in
    seconds, running at a modest speed while people act and jumping over the quiet hours.

    Alarms are planned in real seconds from the clock's speed, so after a jump they must be
    planned again (`on_jump`; bot/jobs.replan), or a deadline a day ahead would still wait a day.
    """

    def __init__(self, start: float, speed: float = 1.0) -> None:
        super().__init__(start, speed)
        self._listeners: list[Callable[[], None]] = []

    def on_jump(self, listener: Callable[[], None]) -> Callable[[], None]:
        self._listeners.append(listener)
        return listener

    def off_jump(self, listener: Callable[[], None]) -> None:
        """A stopped application's alarms are gone: it must not be asked to plan them again."""
        if listener in self._listeners:
            self._listeners.remove(listener)

    def jump_to(self, moment: float) -> None:
        """Move the clock to `moment` (never back: time that passed stays passed)."""
        if moment <= self.time():
            return
        self._start = moment
        self._real_start = time.monotonic()
        for listener in self._listeners:
            listener()


def real_seconds_until(clock: Clock, moment: float) -> float:
    """How long to really wait until the clock shows `moment` (0 if it already has)."""
    return max(0.0, (moment - clock.time()) / clock.speed)


def after_real_seconds(clock: Clock, seconds: float) -> float:
    """The clock time `seconds` of real time from now (for Telegram's retry_after)."""
    return clock.time() + seconds * clock.speed
