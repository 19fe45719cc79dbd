"""Reading the start of a call as delegates type it, and showing it back: plain rules."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from domain.when import GRACE, WhenRefused, format_when, is_now, parse_when, utc_offset

AQTAU = ZoneInfo("Asia/Aqtau")  # Mangystau: UTC+5, no daylight saving
NOW = datetime(2022, 1, 3, 12, 0, tzinfo=AQTAU)
TODAY_18 = datetime(2022, 1, 3, 18, 0, tzinfo=AQTAU)
TOMORROW_18 = datetime(2022, 1, 4, 18, 0, tzinfo=AQTAU)
LANGUAGES = ("en", "ru", "kk", "es", "de")


def refusal(text: str, language: str = "en", now: datetime = NOW) -> str:
    with pytest.raises(WhenRefused) as caught:
        parse_when(text, now=now, language=language)
    return caught.value.reason


@pytest.mark.parametrize("text", ["now", "NOW", "сейчас", "сразу", "қазір", "ahora", "ya", "jetzt", "sofort"])
def test_now_in_every_language(text: str):
    for language in LANGUAGES:
        assert parse_when(text, now=NOW, language=language) is NOW
    assert is_now(f" {text} ")


def test_is_now_is_only_now():
    assert not is_now("18:00")
    assert not is_now("now 18:00")


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("18:00", TODAY_18),
        ("18.00", TODAY_18),
        ("18h", TODAY_18),
        ("18:00h", TODAY_18),
        ("18h30", TODAY_18 + timedelta(minutes=30)),
        ("6 pm", TODAY_18),
        ("6pm", TODAY_18),
        ("6:00 PM", TODAY_18),
        ("6:00 p.m.", TODAY_18),
        ("18 Uhr", TODAY_18),
        ("at 18:00", TODAY_18),
        ("в 18:00", TODAY_18),
        ("a las 18:00", TODAY_18),
        ("um 18 Uhr", TODAY_18),
        ("сағат 18:00", TODAY_18),
        ("12:00", NOW),
        ("11:56", NOW - timedelta(minutes=4)),  # within the grace: "now-ish", not tomorrow
        ("23:59", TODAY_18 + timedelta(hours=5, minutes=59)),
    ],
)
def test_a_time_alone_is_today(text: str, expected: datetime):
    for language in LANGUAGES:
        assert parse_when(text, now=NOW, language=language) == expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("today 18:00", TODAY_18),
        ("сегодня 18:00", TODAY_18),
        ("бүгін 18:00", TODAY_18),
        ("hoy 18:00", TODAY_18),
        ("Heute 18:00", TODAY_18),
        ("tomorrow 18:00", TOMORROW_18),
        ("tomorrow at 6 pm", TOMORROW_18),
        ("18:00 tomorrow", TOMORROW_18),
        ("завтра 18:00", TOMORROW_18),
        ("Завтра в 18.00", TOMORROW_18),
        ("ертең 18:00", TOMORROW_18),
        ("ертең сағат 18:00", TOMORROW_18),
        ("mañana 18:00", TOMORROW_18),
        ("manana a las 18:00", TOMORROW_18),
        ("morgen 18:00", TOMORROW_18),
        ("morgen um 18 Uhr", TOMORROW_18),
    ],
)
def test_today_and_tomorrow_in_every_language(text: str, expected: datetime):
    for language in LANGUAGES:
        assert parse_when(text, now=NOW, language=language) == expected


@pytest.mark.parametrize("text", ["2022-01-04 18:00", "2022-01-04T18:00", "2022-01-04t18:00:00", "2022-1-4 18:00"])
def test_iso_dates_in_every_language(text: str):
    for language in LANGUAGES:
        assert parse_when(text, now=NOW, language=language) == TOMORROW_18


@pytest.mark.parametrize(
    ("language", "text"),
    [
        ("ru", "04.01.2022 18:00"),
        ("ru", "4.1.22 18:00"),
        ("ru", "18:00 04.01.2022"),
        ("ru", "04.01.2022 в 18:00"),
        ("kk", "04.01.2022 18:00"),
        ("kk", "4.1.2022 18:00"),
        ("kk", "04.01.22 18:00"),
        ("de", "04.01.2022 18:00"),
        ("de", "4.1.22 18 Uhr"),
        ("es", "4/1/2022 18:00"),
        ("es", "04/01/2022 18:00"),
        ("es", "4/1/22 18:00"),
        ("es", "4-1-2022 18:00"),
        ("en", "1/4/2022 6:00 PM"),
        ("en", "1/4/2022 18:00"),
        ("en", "01/04/22 6pm"),
    ],
)
def test_numeric_dates_follow_the_language(language: str, text: str):
    assert parse_when(text, now=NOW, language=language) == TOMORROW_18


def test_the_same_numbers_mean_different_days_in_different_languages():
    assert parse_when("5/1/2022 18:00", now=NOW, language="es") == datetime(2022, 1, 5, 18, tzinfo=AQTAU)
    assert parse_when("5/1/2022 18:00", now=NOW, language="en") == datetime(2022, 5, 1, 18, tzinfo=AQTAU)
    # Only one reading of 13/1 is a date, whatever the language's order.
    assert parse_when("13/1/2022 18:00", now=NOW, language="en") == datetime(2022, 1, 13, 18, tzinfo=AQTAU)
    assert parse_when("1/13/2022 18:00", now=NOW, language="de") == datetime(2022, 1, 13, 18, tzinfo=AQTAU)


def test_unknown_languages_read_dates_day_first():
    assert parse_when("04.01.2022 18:00", now=NOW, language="xx") == TOMORROW_18


@pytest.mark.parametrize(
    "text", ["tomorrow", "завтра", "ертең", "mañana", "morgen", "today", "2022-01-04", "04.01.2022", "4/1/2022"]
)
def test_a_day_without_a_time_is_refused(text: str):
    for language in LANGUAGES:
        assert refusal(text, language) == "no-time"


@pytest.mark.parametrize(
    "text",
    [
        "",
        "   ",
        "soon",
        "18",
        "at",
        "25:00",
        "18:60",
        "13 pm",
        "0 am",
        "tomorrow tomorrow 18:00",
        "now 18:00",
        "31.02.2022 18:00",
        "13.13.2022 18:00",
        "2022-13-01 18:00",
        "2022-01-04T18:00+05:00",
        "18:00 18:00",
    ],
)
def test_anything_else_is_unparsable(text: str):
    for language in LANGUAGES:
        assert refusal(text, language) == "unparsable"


def test_the_past_is_refused():
    assert refusal("11:54") == "past"  # more than GRACE ago
    for language, word in zip(LANGUAGES, ("yesterday", "вчера", "кеше", "ayer", "gestern"), strict=True):
        assert refusal(f"{word} 18:00", language) == "past"


def test_since_when_reads_the_past_and_refuses_the_future():
    """A strike status's "since": the past back to a year, the future only within GRACE."""
    yesterday = parse_when("yesterday 09:00", now=NOW, language="en", past=True)
    assert yesterday == datetime(2022, 1, 2, 9, 0, tzinfo=AQTAU)
    assert parse_when("вчера в 09:00", now=NOW, language="ru", past=True) == yesterday
    assert parse_when("11:00", now=NOW, language="en", past=True) == datetime(2022, 1, 3, 11, 0, tzinfo=AQTAU)
    assert parse_when("12:03", now=NOW, language="en", past=True) == NOW  # within GRACE: now
    for text, reason in (("18:00", "future"), ("tomorrow 09:00", "future"), ("2020-01-01 09:00", "too-far")):
        with pytest.raises(WhenRefused) as caught:
            parse_when(text, now=NOW, language="en", past=True)
        assert caught.value.reason == reason
    assert refusal("10:00") == "past"  # the handler suggests "tomorrow 10:00"
    assert refusal("02.01.2022 18:00", "ru") == "past"
    assert refusal("2021-12-31 23:00") == "past"
    assert parse_when("11:55", now=NOW, language="en") == NOW - GRACE


def test_more_than_a_year_ahead_is_refused():
    assert refusal("2023-01-04 18:00") == "too-far"
    assert refusal("04.01.2099 18:00", "ru") == "too-far"
    assert parse_when("2023-01-03 18:00", now=NOW, language="en") == datetime(2023, 1, 3, 18, tzinfo=AQTAU)


# -- zones ---------------------------------------------------------------------------------------


def test_times_are_in_the_issuers_zone():
    moment = parse_when("tomorrow 18:00", now=NOW, language="en")
    assert moment.tzinfo is AQTAU
    assert moment.astimezone(UTC) == datetime(2022, 1, 4, 13, 0, tzinfo=UTC)
    almaty = ZoneInfo("Asia/Almaty")
    in_almaty = parse_when("tomorrow 18:00", now=NOW.astimezone(almaty), language="en")
    assert in_almaty.astimezone(UTC) == datetime(2022, 1, 4, 12, 0, tzinfo=UTC)


def test_a_zone_changing_its_offset_is_followed():
    # Almaty moved from UTC+6 to UTC+5 on 1 March 2024; a call across the change keeps its wall time.
    almaty = ZoneInfo("Asia/Almaty")
    now = datetime(2024, 2, 28, 12, 0, tzinfo=almaty)
    before = parse_when("29.02.2024 18:00", now=now, language="ru")
    after = parse_when("02.03.2024 18:00", now=now, language="ru")
    assert (before.hour, after.hour) == (18, 18)
    assert before.astimezone(UTC).hour == 12
    assert after.astimezone(UTC).hour == 13


def test_daylight_saving_gaps_and_folds():
    madrid = ZoneInfo("Europe/Madrid")
    now = datetime(2024, 3, 30, 12, 0, tzinfo=madrid)
    # 02:30 on 31 March 2024 does not exist in Madrid (02:00 -> 03:00): it becomes 03:30 CEST.
    gap = parse_when("31/3/2024 2:30", now=now, language="es")
    assert (gap.hour, gap.minute) == (3, 30)
    assert gap.astimezone(UTC) == datetime(2024, 3, 31, 1, 30, tzinfo=UTC)
    # 02:30 on 27 October 2024 happens twice (03:00 -> 02:00): the first one, still CEST.
    now = datetime(2024, 10, 26, 12, 0, tzinfo=madrid)
    fold = parse_when("27/10/2024 2:30", now=now, language="es")
    assert fold.astimezone(UTC) == datetime(2024, 10, 27, 0, 30, tzinfo=UTC)
    assert parse_when("mañana 18:00", now=now, language="es").astimezone(UTC) == datetime(
        2024, 10, 27, 17, 0, tzinfo=UTC
    )


def test_now_must_be_aware():
    with pytest.raises(ValueError):
        parse_when("18:00", now=datetime(2022, 1, 3, 12, 0), language="en")


# -- showing -------------------------------------------------------------------------------------


@pytest.mark.parametrize("language", LANGUAGES)
def test_format_when_in_every_language(language: str):
    text = format_when(TOMORROW_18, language, AQTAU)
    assert text
    assert "18:00" in text
    assert "2022" in text
    assert text.endswith("(UTC+05:00)")


def test_format_when_examples():
    assert format_when(TOMORROW_18, "en", AQTAU) == "Tue, Jan 4, 2022, 18:00 (UTC+05:00)"
    # Babel binds "г." to the year with a narrow no-break space.
    assert format_when(TOMORROW_18, "ru", AQTAU) == "вт, 4 янв. 2022\u202fг., 18:00 (UTC+05:00)"
    assert format_when(TOMORROW_18, "de", AQTAU) == "Di., 4. Jan. 2022, 18:00 (UTC+05:00)"


def test_format_when_shows_the_moment_in_the_given_zone():
    almaty = ZoneInfo("Asia/Almaty")
    assert "19:00" in format_when(TOMORROW_18, "en", almaty)
    assert format_when(TOMORROW_18, "en", almaty).endswith("(UTC+06:00)")
    assert "13:00" in format_when(TOMORROW_18, "en", ZoneInfo("UTC"))
    assert "18:00" in format_when(TOMORROW_18, "xx", AQTAU)  # an unknown language falls back to English


def test_utc_offsets():
    assert utc_offset(TOMORROW_18) == "UTC+05:00"
    assert utc_offset(datetime(2022, 1, 4, tzinfo=UTC)) == "UTC"
    assert utc_offset(datetime(2022, 1, 4, tzinfo=ZoneInfo("America/St_Johns"))) == "UTC-03:30"
    assert utc_offset(datetime(2022, 1, 4, tzinfo=ZoneInfo("Asia/Kathmandu"))) == "UTC+05:45"
