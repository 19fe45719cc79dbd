"""When digests are due: every few hours from local midnight, and at fixed local times each day.

Coordinators read the digest by the clock on their wall ("the 06:00 digest", "the morning one at
08:00"), so slots are local wall times in the federation's timezone, not fixed intervals of
elapsed time: on the day clocks go forward, the slots of a six-hour schedule are still at 00:00,
06:00, 12:00 and 18:00, five hours apart across the change. A wall time that does not exist that
day (in the gap when clocks go forward) moves forward by the gap, as a clock on the wall would
show it; a wall time that happens twice (when clocks go back) is a slot once, the first time.
Two schedules that name the same moment (06:00 both periodic and daily) give one slot.

Periodic slots are counted afresh from each local midnight: every 7 hours is 00:00, 07:00, 14:00
and 21:00, and again 00:00, so a value that does not divide the day still keeps the slots at the
same times every day. A period longer than a day cannot be counted within one: it runs from
midnight of 1 January 1970 in local wall time (every 48 hours is midnight every other day).
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

DAY_S = 24 * 3600
# last_slot looks back this far: a bot down longer than a week sends no stale digest.
LOOKBACK_DAYS = 8
# Slots are whole seconds and each digest is several messages to every council: a period under a
# minute is a typo, and would flood the councils' chats past Telegram's 20 messages a minute.
MIN_EVERY_HOURS = 1 / 60
_EPOCH_ORDINAL = date(1970, 1, 1).toordinal()
_DAILY_TIME = re.compile(r"(\d{1,2}):(\d{2})", re.ASCII)


@dataclass(frozen=True)
class DigestSchedule:
    """When periodic digests go out, in the wall time of one timezone."""

    every_hours: float | None  # slots at local midnight + k * every_hours each day; None: none
    daily_at: tuple[time, ...]  # further slots at these local times each day
    timezone: str  # IANA name, e.g. "Asia/Almaty"

    def __post_init__(self) -> None:
        hours = self.every_hours
        if hours is not None and not (hours >= MIN_EVERY_HOURS and math.isfinite(hours)):
            raise ValueError(f"every_hours must be None or a number of hours of at least one minute, not {hours!r}")
        try:
            ZoneInfo(self.timezone)
        except (ZoneInfoNotFoundError, ValueError):
            raise ValueError(f"unknown timezone {self.timezone!r}") from None


def next_slot(schedule: DigestSchedule, after: int) -> int | None:
    """The first slot strictly after `after` (epoch seconds); None if the schedule has no slots.

    Strictly after, so that the alarm for a slot that just rang is set for the one after it.
    """
    if _empty(schedule):
        return None
    zone = ZoneInfo(schedule.timezone)
    day = _local_date(after, zone) - timedelta(days=1)
    # A period longer than a day leaves days without a slot; beyond one period there must be one.
    horizon = math.ceil((schedule.every_hours or 0) / 24) + 3
    for offset in range(horizon):
        slots = _day_slots(schedule, zone, day + timedelta(days=offset))
        if slots and slots[-1] > after:
            # A wall time in a gap late in one day may move past the next day's first slot.
            following = _day_slots(schedule, zone, day + timedelta(days=offset + 1))
            return min(s for s in (*slots, *following) if s > after)
    return None


def last_slot(schedule: DigestSchedule, at_or_before: int) -> int | None:
    """The latest slot at or before `at_or_before`, within the last LOOKBACK_DAYS days; None if none.

    This is the slot a bot that was down owes a digest for when it starts again.
    """
    if _empty(schedule):
        return None
    zone = ZoneInfo(schedule.timezone)
    earliest = at_or_before - LOOKBACK_DAYS * DAY_S
    day = _local_date(at_or_before, zone) + timedelta(days=1)
    for offset in range(LOOKBACK_DAYS + 3):
        slots = _day_slots(schedule, zone, day - timedelta(days=offset))
        if slots and slots[0] <= at_or_before:
            # The day before may hold a later one, moved forward past this day's first by a gap.
            previous = _day_slots(schedule, zone, day - timedelta(days=offset + 1))
            latest = max(s for s in (*slots, *previous) if s <= at_or_before)
            return latest if latest >= earliest else None
    return None


def parse_daily_time(text: str) -> time:
    """A local time of day as the config writes it, "08:00" (or "8:00"); ValueError otherwise."""
    match = _DAILY_TIME.fullmatch(text.strip())
    if match is None:
        raise ValueError(f'"{text}" is not a time of day: write hours and minutes as "08:00" or "18:30"')
    hour, minute = int(match[1]), int(match[2])
    if hour > 23 or minute > 59:
        raise ValueError(f'"{text}" is not a time of day: hours run from 00 to 23 and minutes from 00 to 59')
    return time(hour, minute)


def _empty(schedule: DigestSchedule) -> bool:
    return schedule.every_hours is None and not schedule.daily_at


def _local_date(moment: int, zone: ZoneInfo) -> date:
    return datetime.fromtimestamp(moment, zone).date()


def _day_slots(schedule: DigestSchedule, zone: ZoneInfo, day: date) -> list[int]:
    """The day's slots in epoch seconds, sorted, each once."""
    walls = {t.hour * 3600 + t.minute * 60 + t.second for t in schedule.daily_at}
    if schedule.every_hours is not None:
        walls.update(_periodic(schedule.every_hours * 3600, day))
    midnight = datetime.combine(day, time())
    # Aware with fold=0: a wall time in a gap takes the offset before it (so moves forward by the
    # gap), one that happens twice is the first of the two.
    return sorted({int((midnight + timedelta(seconds=wall)).replace(tzinfo=zone).timestamp()) for wall in walls})


def _periodic(step: float, day: date) -> list[int]:
    """Seconds after the day's local midnight of the periodic slots that fall on that day."""
    if step <= DAY_S:
        return [wall for k in range(math.ceil(DAY_S / step)) if (wall := round(k * step)) < DAY_S]
    start = (day.toordinal() - _EPOCH_ORDINAL) * DAY_S
    wall = round(math.ceil(start / step) * step) - start
    return [wall] if 0 <= wall < DAY_S else []
