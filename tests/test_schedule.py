"""When digests are due: wall-clock slots in the federation's timezone, across DST changes."""

from __future__ import annotations

from datetime import UTC, datetime, time
from itertools import pairwise
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from domain.schedule import DigestSchedule, last_slot, next_slot, parse_daily_time

ALMATY = ZoneInfo("Asia/Almaty")  # UTC+6 in 2022, no daylight saving
BERLIN = ZoneInfo("Europe/Berlin")
KZ = DigestSchedule(every_hours=6.0, daily_at=(time(8, 0),), timezone="Asia/Almaty")


def local(zone: ZoneInfo, *args: int, fold: int = 0) -> int:
    return int(datetime(*args, tzinfo=zone, fold=fold).timestamp())


def utc(*args: int) -> int:
    return int(datetime(*args, tzinfo=UTC).timestamp())


def day_slots(schedule: DigestSchedule, start: int, end: int) -> list[int]:
    """Every slot in [start, end), by walking next_slot."""
    slots, moment = [], start - 1
    while (moment := next_slot(schedule, moment)) is not None and moment < end:
        slots.append(moment)
    return slots


def test_every_six_hours_and_daily_at_eight_in_almaty():
    day = day_slots(KZ, local(ALMATY, 2022, 1, 4), local(ALMATY, 2022, 1, 5))
    assert [datetime.fromtimestamp(s, ALMATY).time() for s in day] == [
        time(0, 0), time(6, 0), time(8, 0), time(12, 0), time(18, 0),
    ]  # fmt: skip
    assert day[0] == utc(2022, 1, 3, 18)  # local midnight is 18:00 UTC the day before


def test_next_slot_is_strictly_after():
    six = local(ALMATY, 2022, 1, 4, 6)
    assert next_slot(KZ, six) == local(ALMATY, 2022, 1, 4, 8)
    assert next_slot(KZ, six - 1) == six
    assert next_slot(KZ, local(ALMATY, 2022, 1, 4, 18)) == local(ALMATY, 2022, 1, 5)


def test_last_slot_is_at_or_before():
    eight = local(ALMATY, 2022, 1, 4, 8)
    assert last_slot(KZ, eight) == eight
    assert last_slot(KZ, eight - 1) == local(ALMATY, 2022, 1, 4, 6)
    assert last_slot(KZ, local(ALMATY, 2022, 1, 4, 23, 59)) == local(ALMATY, 2022, 1, 4, 18)
    assert last_slot(KZ, local(ALMATY, 2022, 1, 5, 0, 30)) == local(ALMATY, 2022, 1, 5)


def test_daily_only_and_periodic_only():
    morning = DigestSchedule(every_hours=None, daily_at=(time(20, 30), time(8, 0)), timezone="Asia/Almaty")
    assert next_slot(morning, local(ALMATY, 2022, 1, 4, 9)) == local(ALMATY, 2022, 1, 4, 20, 30)
    assert next_slot(morning, local(ALMATY, 2022, 1, 4, 21)) == local(ALMATY, 2022, 1, 5, 8)
    assert last_slot(morning, local(ALMATY, 2022, 1, 4, 7)) == local(ALMATY, 2022, 1, 3, 20, 30)
    hourly = DigestSchedule(every_hours=1.0, daily_at=(), timezone="Asia/Almaty")
    assert next_slot(hourly, local(ALMATY, 2022, 1, 4, 13, 1)) == local(ALMATY, 2022, 1, 4, 14)


def test_a_period_that_does_not_divide_the_day_starts_again_at_midnight():
    seven = DigestSchedule(every_hours=7.0, daily_at=(), timezone="Asia/Almaty")
    slots = day_slots(seven, local(ALMATY, 2022, 1, 4), local(ALMATY, 2022, 1, 5, 8))
    assert [datetime.fromtimestamp(s, ALMATY).strftime("%d %H:%M") for s in slots] == [
        "04 00:00", "04 07:00", "04 14:00", "04 21:00", "05 00:00", "05 07:00",
    ]  # fmt: skip


def test_a_period_longer_than_a_day():
    two_days = DigestSchedule(every_hours=48.0, daily_at=(), timezone="Asia/Almaty")
    slots = day_slots(two_days, local(ALMATY, 2022, 1, 1), local(ALMATY, 2022, 1, 9))
    assert [b - a for a, b in pairwise(slots)] == [48 * 3600] * (len(slots) - 1)
    assert len(slots) == 4
    assert all(datetime.fromtimestamp(s, ALMATY).time() == time(0) for s in slots)
    assert last_slot(two_days, slots[-1] + 3600) == slots[-1]


def test_clocks_going_forward_in_berlin():
    schedule = DigestSchedule(every_hours=6.0, daily_at=(time(2, 30),), timezone="Europe/Berlin")
    slots = day_slots(schedule, local(BERLIN, 2024, 3, 31), local(BERLIN, 2024, 4, 1))
    assert slots == [
        utc(2024, 3, 30, 23),  # 00:00 CET
        utc(2024, 3, 31, 1, 30),  # 02:30 does not exist: 03:30 CEST, moved forward by the gap
        utc(2024, 3, 31, 4),  # 06:00 CEST: five hours after midnight, still at 06:00 on the wall
        utc(2024, 3, 31, 10),
        utc(2024, 3, 31, 16),
    ]
    assert next_slot(schedule, utc(2024, 3, 30, 23)) == utc(2024, 3, 31, 1, 30)
    assert last_slot(schedule, utc(2024, 3, 31, 3)) == utc(2024, 3, 31, 1, 30)
    hourly = DigestSchedule(every_hours=1.0, daily_at=(), timezone="Europe/Berlin")
    # 02:00 moves to 03:00, which is a slot anyway: 23 slots on a 23-hour day.
    assert len(day_slots(hourly, local(BERLIN, 2024, 3, 31), local(BERLIN, 2024, 4, 1))) == 23


def test_clocks_going_back_in_berlin():
    schedule = DigestSchedule(every_hours=6.0, daily_at=(time(2, 30),), timezone="Europe/Berlin")
    slots = day_slots(schedule, local(BERLIN, 2024, 10, 27), local(BERLIN, 2024, 10, 28))
    assert slots == [
        utc(2024, 10, 26, 22),  # 00:00 CEST
        utc(2024, 10, 27, 0, 30),  # 02:30 happens twice: the first time, once
        utc(2024, 10, 27, 5),  # 06:00 CET: seven hours after midnight
        utc(2024, 10, 27, 11),
        utc(2024, 10, 27, 17),
    ]
    second_half_past_two = local(BERLIN, 2024, 10, 27, 2, 30, fold=1)
    assert last_slot(schedule, second_half_past_two) == utc(2024, 10, 27, 0, 30)
    assert next_slot(schedule, second_half_past_two) == utc(2024, 10, 27, 5)
    hourly = DigestSchedule(every_hours=1.0, daily_at=(), timezone="Europe/Berlin")
    assert len(day_slots(hourly, local(BERLIN, 2024, 10, 27), local(BERLIN, 2024, 10, 28))) == 24


def test_an_empty_schedule_has_no_slots():
    empty = DigestSchedule(every_hours=None, daily_at=(), timezone="Asia/Almaty")
    assert next_slot(empty, utc(2022, 1, 4)) is None
    assert last_slot(empty, utc(2022, 1, 4)) is None


def test_last_slot_looks_back_eight_days_at_most():
    weekly = DigestSchedule(every_hours=24.0 * 7, daily_at=(), timezone="Asia/Almaty")
    slot = last_slot(weekly, local(ALMATY, 2022, 1, 20))
    assert slot is not None and local(ALMATY, 2022, 1, 13) <= slot <= local(ALMATY, 2022, 1, 20)
    fortnightly = DigestSchedule(every_hours=24.0 * 14, daily_at=(), timezone="Asia/Almaty")
    misses = [last_slot(fortnightly, local(ALMATY, 2022, 1, day)) for day in range(1, 15)]
    assert None in misses and any(m is not None for m in misses)
    assert next_slot(fortnightly, local(ALMATY, 2022, 1, 1)) is not None


def test_a_schedule_refuses_nonsense():
    with pytest.raises(ValueError, match="every_hours"):
        DigestSchedule(every_hours=0.0, daily_at=(), timezone="Asia/Almaty")
    with pytest.raises(ValueError, match="every_hours"):
        DigestSchedule(every_hours=-6.0, daily_at=(), timezone="Asia/Almaty")
    with pytest.raises(ValueError, match="every_hours"):
        DigestSchedule(every_hours=0.001, daily_at=(), timezone="Asia/Almaty")  # 3.6 seconds
    with pytest.raises(ValueError, match="every_hours"):
        DigestSchedule(every_hours=float("inf"), daily_at=(), timezone="Asia/Almaty")
    every_minute = DigestSchedule(every_hours=1 / 60, daily_at=(), timezone="Asia/Almaty")
    assert next_slot(every_minute, utc(2022, 1, 4, 12, 0, 30)) == utc(2022, 1, 4, 12, 1)
    with pytest.raises(ValueError, match="timezone"):
        DigestSchedule(every_hours=6.0, daily_at=(), timezone="Asia/Zhanaozen")


@pytest.mark.parametrize(("text", "expected"), [("08:00", time(8)), ("8:00", time(8)), (" 18:30 ", time(18, 30))])
def test_parse_daily_time(text: str, expected: time):
    assert parse_daily_time(text) == expected


@pytest.mark.parametrize(
    "text", ["", "8", "08", "8am", "08:0", "08:000", "24:00", "07:60", "08-00", "０８:００", "08:00:00"]
)
def test_parse_daily_time_refuses_anything_else(text: str):
    with pytest.raises(ValueError, match="time of day") as refused:
        parse_daily_time(text)
    assert f'"{text}"' in str(refused.value)  # the message names what was written


@settings(max_examples=200, deadline=None, derandomize=True)
@given(
    st.integers(utc(2020, 1, 1), utc(2026, 1, 1)),
    st.sampled_from(["Asia/Almaty", "Europe/Berlin", "America/Santiago", "Australia/Lord_Howe", "America/Havana"]),
    st.sampled_from([None, 1.0, 4.5, 6.0, 7.0, 48.0]),
    st.lists(st.times(), max_size=3).map(tuple),
)
def test_slots_around_any_moment_in_any_zone(moment: int, zone: str, every_hours: float | None, daily: tuple):
    """No slot is skipped between last_slot and next_slot, in zones whose clocks jump at midnight or by half an hour."""
    schedule = DigestSchedule(every_hours=every_hours, daily_at=daily, timezone=zone)
    upcoming = next_slot(schedule, moment)
    previous = last_slot(schedule, moment)
    if every_hours is None and not daily:
        assert upcoming is None and previous is None
        return
    assert upcoming is not None and previous is not None
    assert previous <= moment < upcoming
    assert next_slot(schedule, previous) == upcoming
    assert last_slot(schedule, upcoming - 1) == previous
    assert upcoming - moment <= 2 * 24 * 3600 + 3600
