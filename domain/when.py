"""When a call starts: reading the time a delegate typed, and showing it back, in their zone.

Delegates type times the way they write them ("завтра 18:00", "04.01.2022 18:00", "mañana a
las 18:00", "1/4/2022 6 pm"), in the zone of their region. A call sent for the wrong hour or day
is worse than none, so anything not clearly one moment is refused, not guessed: numeric dates
follow the order of the chat's language (through Babel), a date needs a time, and a moment in
the past or over a year ahead is refused. Times are shown with the date, weekday and UTC offset,
so a reader in another zone can tell.
"""

from __future__ import annotations

import re
import unicodedata
from datetime import UTC, date, datetime, time, timedelta, tzinfo
from zoneinfo import ZoneInfo

from babel import Locale, UnknownLocaleError
from babel.dates import format_skeleton, format_time, get_datetime_format, parse_date

# A moment typed a few minutes late ("18:00" sent at 18:03) still means "now-ish", not tomorrow.
GRACE = timedelta(minutes=5)
# Calls are planned for this year's struggle, not the next decade's; beyond this is a typo.
HORIZON = timedelta(days=366)

# Words are compared folded: case and accents ignored ("manana" is "mañana").
NOW_WORDS: tuple[str, ...] = (
    "now",
    "сейчас", "сразу",
    "қазір",
    "ahora", "ya",
    "jetzt", "sofort",
)  # fmt: skip
# Days counted from today.
DAY_WORDS: dict[int, tuple[str, ...]] = {
    -1: ("yesterday", "вчера", "кеше", "ayer", "gestern"),
    0: ("today", "сегодня", "бүгін", "hoy", "heute"),
    1: ("tomorrow", "завтра", "ертең", "mañana", "morgen"),
}
# Little words people put around a time ("at 18:00", "в 18:00", "a las 18:00", "um 18 Uhr", "сағат 18:00").
CONNECTORS: tuple[str, ...] = ("at", "в", "во", "a", "la", "las", "um", "сағат")

# Languages whose numeric dates put the month first; all others put the day first.
_MONTH_FIRST = frozenset({"en"})
_TIME = re.compile(
    r"(?P<hour>\d{1,2})(?:(?:[:.]|h)(?P<minute>\d{2})(?::(?P<second>\d{2}))?)?\s*(?P<suffix>h|uhr|am|pm|a\.m\.|p\.m\.)?"
)
_ISO_DATE = re.compile(r"(?P<year>\d{4})-(?P<month>\d{1,2})-(?P<day>\d{1,2})")
_ISO_T = re.compile(r"^(\d{4}-\d{1,2}-\d{1,2})t(?=\d)")
_NUMERIC_DATE = re.compile(r"(?P<first>\d{1,2})(?P<sep>[./-])(?P<second>\d{1,2})(?P=sep)(?P<year>\d{4}|\d{2})")


class WhenRefused(Exception):
    """Why a typed time is not accepted; `reason` is one of "unparsable", "past", "future", "too-far", "no-time"."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


def _fold(text: str) -> str:
    decomposed = unicodedata.normalize("NFKD", text.casefold())
    return " ".join("".join(ch for ch in decomposed if not unicodedata.combining(ch)).split())


_NOW = frozenset(_fold(w) for w in NOW_WORDS)
_DAYS = {_fold(w): offset for offset, words in DAY_WORDS.items() for w in words}
_CONNECTORS = frozenset(_fold(w) for w in CONNECTORS)


def is_now(text: str) -> bool:
    """Whether the text is one of the words for "now" (a call that starts at once)."""
    return _fold(text) in _NOW


def parse_when(text: str, *, now: datetime, language: str, past: bool = False) -> datetime:
    """The moment a delegate typed, aware in `now`'s zone; WhenRefused otherwise.

    Accepted: a word for "now" (returns `now` itself); a time ("18:00", "18.00", "18h30",
    "6 pm", "18 Uhr"), meaning today; a day word and a time ("tomorrow 18:00", "завтра в
    18:00"); an ISO date and time ("2022-01-04 18:00", "2022-01-04T18:00"); a numeric date in the
    language's order and a time ("04.01.2022 18:00" for ru/kk/de, "4/1/2022 18:00" for es,
    "1/4/2022 6:00 PM" for en). A time in a daylight-saving gap moves forward by the gap; an
    ambiguous one is the first of the two. A moment up to GRACE in the past is accepted as is.
    With `past`, the moment is one that has been (since when a committee is on strike): the past
    is accepted back to HORIZON, and the future only up to GRACE ("future" otherwise).
    """
    if now.tzinfo is None:
        raise ValueError("now must be timezone-aware")
    folded = _ISO_T.sub(r"\1 ", _fold(text))
    if folded in _NOW:
        return now
    words = [w for w in folded.split() if w not in _CONNECTORS]
    if not words:
        raise WhenRefused("unparsable")
    day_words, at = _split_time(words)
    day = _parse_day(day_words, now.date(), language)
    if day is None:
        raise WhenRefused("unparsable")
    if at is None:
        raise WhenRefused("no-time" if day_words else "unparsable")
    zone = now.tzinfo
    # Through UTC and back, a wall time that does not exist (a DST gap) becomes the real one.
    try:
        moment = datetime.combine(day, at, tzinfo=zone).astimezone(UTC).astimezone(zone)
    except OverflowError:  # a date at the edge of the calendar (year 1) has no UTC moment
        raise WhenRefused("past" if day < now.date() else "too-far") from None
    if past:
        if moment > now + GRACE:
            raise WhenRefused("future")
        if moment < now - HORIZON:
            raise WhenRefused("too-far")
        return min(moment, now)
    if moment < now - GRACE:
        raise WhenRefused("past")
    if moment > now + HORIZON:
        raise WhenRefused("too-far")
    return moment


def _split_time(words: list[str]) -> tuple[list[str], time | None]:
    """The words naming the day, and the time written before or after them (if any)."""
    for length in (2, 1):
        if len(words) >= length and (at := _parse_time(" ".join(words[-length:]))) is not None:
            return words[:-length], at
        if len(words) > length and (at := _parse_time(" ".join(words[:length]))) is not None:
            return words[length:], at
    return words, None


def _parse_time(text: str) -> time | None:
    match = _TIME.fullmatch(text)
    if match is None:
        return None
    hour = int(match["hour"])
    minute = int(match["minute"] or 0)
    second = int(match["second"] or 0)
    suffix = (match["suffix"] or "").replace(".", "")
    if match["minute"] is None and not suffix:
        return None  # a bare number is not a time: "18" could be a day, a count, anything
    if suffix in ("am", "pm"):
        if not 1 <= hour <= 12:
            return None
        hour = hour % 12 + (12 if suffix == "pm" else 0)
    if hour > 23 or minute > 59 or second > 59:
        return None
    return time(hour, minute, second)


def _parse_day(words: list[str], today: date, language: str) -> date | None:
    """The day the words name; today when there are none; None when they name no day."""
    if not words:
        return today
    if len(words) != 1:
        return None
    word = words[0]
    if word in _DAYS:
        return today + timedelta(days=_DAYS[word])
    if match := _ISO_DATE.fullmatch(word):
        return _date(int(match["year"]), int(match["month"]), int(match["day"]))
    if match := _NUMERIC_DATE.fullmatch(word):
        return _numeric_date(word, int(match["first"]), int(match["second"]), match["year"], language)
    return None


def _numeric_date(word: str, first: int, second: int, year_text: str, language: str) -> date | None:
    """A date like 04.01.2022 read in the language's order, through Babel's short date pattern.

    Babel reads all five languages correctly with the short pattern (its default, the medium
    pattern, reads Kazakh year first); where it fails or disagrees with the numbers typed, the
    order is applied by hand. Like Babel, a reading whose month would exceed 12 takes the other
    order, since only one reading is then a date.
    """
    year = int(year_text) + (2000 if len(year_text) == 2 else 0)
    try:
        parsed: date | None = parse_date(word, locale=language, format="short")
    except (ValueError, IndexError, UnknownLocaleError):
        parsed = None
    if parsed is not None and {parsed.day, parsed.month} == {first, second} and parsed.year == year:
        return parsed
    day, month = (second, first) if language in _MONTH_FIRST else (first, second)
    if month > 12:
        day, month = month, day
    return _date(year, month, day)


def _date(year: int, month: int, day: int) -> date | None:
    try:
        return date(year, month, day)
    except ValueError:
        return None


def format_when(moment: datetime, language: str, zone: ZoneInfo | tzinfo) -> str:
    """A moment as people of the language write it, with weekday and UTC offset.

    E.g. "Tue, Jan 4, 2022, 18:00 (UTC+05:00)", "вт, 4 янв. 2022 г., 18:00 (UTC+05:00)".
    Hours are always 24-hour, to leave no am/pm doubt about a call.
    """
    try:
        locale = Locale.parse(language)
    except (ValueError, UnknownLocaleError):
        locale = Locale.parse("en")
    local = moment.astimezone(zone)
    day = format_skeleton("yMMMEd", local, tzinfo=zone, locale=locale)
    hour = format_time(local, "HH:mm", tzinfo=zone, locale=locale)
    pattern = str(get_datetime_format("medium", locale=locale))
    return f"{pattern.replace('{1}', day).replace('{0}', hour)} ({utc_offset(local)})"


def utc_offset(moment: datetime) -> str:
    """The moment's offset from UTC as "UTC+05:00" (or "UTC"): zone abbreviations are often just "+05"."""
    offset = moment.utcoffset() or timedelta(0)
    if not offset:
        return "UTC"
    sign = "+" if offset > timedelta(0) else "-"
    minutes = abs(int(offset.total_seconds())) // 60
    return f"UTC{sign}{minutes // 60:02d}:{minutes % 60:02d}"
