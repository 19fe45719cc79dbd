"""Delegates: the imperative mandate, recall, and rotation to an alternate at half term.

In the Bolivian sindicatos and the communes (SPEC §1) a delegate carries the assembly's mandate,
not their own opinion, can be recalled by the assembly at any time, and offices rotate: on a term
with an alternate, the alternate takes over halfway through. A committee's Telegram admins are its
delegates by default; the assembly elects further ones and recalls elected ones (an admin is not
the assembly's to recall: that is the group's own setting). These rules are plain functions.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from typing import TypeVar

MANDATE_MAX = 500
TERM_DAYS_MAX = 3 * 365
DAY_S = 24 * 3600

_T = TypeVar("_T")


class Source(StrEnum):
    """Why someone is a delegate: the group's admin rights, or an assembly's election."""

    ADMIN = "admin"
    ELECTED = "elected"


class DelegateRefused(Exception):
    """Why a delegate step is not allowed; `reason` is a message key.

    Reasons: "not-a-delegate", "admin-not-recallable", "mandate-too-long", "no-mandate" (an
    election needs one), "bad-term" (a term is a whole number of days, 1 to TERM_DAYS_MAX),
    "no-term" (only a delegate with a term has an alternate), "past-half-term" (too late for an
    alternate to take over), "has-alternate", "own-alternate".
    """

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


@dataclass(frozen=True)
class Term:
    """A delegate's term in unix seconds, [starts_at, ends_at)."""

    starts_at: int
    ends_at: int

    def __post_init__(self) -> None:
        if self.ends_at <= self.starts_at:
            raise ValueError("a term ends after it starts")

    @property
    def half(self) -> int:
        """The moment the alternate takes over (rounded down to the second)."""
        return self.starts_at + (self.ends_at - self.starts_at) // 2

    def is_over(self, now: int) -> bool:
        return now >= self.ends_at


def who_serves(term: Term, now: int, holder: _T, alternate: _T | None) -> _T:
    """Who holds the office at `now`: the holder before half term, the alternate from half term on.

    Without an alternate the holder serves the whole term. After the term's end whoever served last
    stays until the assembly elects anew (`Term.is_over` tells when to ask it).
    """
    if alternate is None or now < term.half:
        return holder
    return alternate


def term_ending_soon(term: Term, now: int, warn_s: int) -> bool:
    """Whether to remind the assembly that the term ends within `warn_s` seconds (and has not ended)."""
    return term.ends_at - warn_s <= now < term.ends_at


def clean_mandate(text: str) -> str:
    """A mandate as stored and shown: lines trimmed, spaces collapsed; empty means none."""
    lines = [" ".join(line.split()) for line in text.replace("\r\n", "\n").split("\n")]
    mandate = "\n".join(line for line in lines if line)
    if len(mandate) > MANDATE_MAX:
        raise DelegateRefused("mandate-too-long")
    return mandate


def parse_election(text: str) -> tuple[int | None, str]:
    """`[DAYS] | MANDATE` (or just `MANDATE`, without a term): the term in days and the mandate.

    Without "|" everything is the mandate, so a mandate that starts with a number stays whole.
    """
    days: int | None = None
    term, separator, mandate = text.partition("|")
    if not separator:
        term, mandate = "", text
    term = term.strip()
    if term:
        if not (term.isascii() and term.isdigit()) or not 1 <= int(term) <= TERM_DAYS_MAX:
            raise DelegateRefused("bad-term")
        days = int(term)
    cleaned = clean_mandate(mandate)
    if not cleaned:
        raise DelegateRefused("no-mandate")
    return days, cleaned


def serving(term: Term | None, now: int, holder: _T, alternate: _T | None) -> _T:
    """Who holds an office at `now`; an office without a term is the holder's until recalled."""
    if term is None:
        return holder
    return who_serves(term, now, holder, alternate)


def check_alternate(term: Term | None, now: int, *, has_alternate: bool, own: bool) -> None:
    """An alternate takes over at half term: only for a term, before its half, one per office,
    and never the holder themself."""
    if term is None:
        raise DelegateRefused("no-term")
    if own:
        raise DelegateRefused("own-alternate")
    if has_alternate:
        raise DelegateRefused("has-alternate")
    if now >= term.half:
        raise DelegateRefused("past-half-term")


class Notice(StrEnum):
    """What the assembly is told about a term, each once: the rotation, the coming end, the end."""

    ROTATION = "rotation"
    REMINDER = "reminder"
    END = "end"


def term_notices(term: Term, *, has_alternate: bool, warn_s: int) -> dict[Notice, int]:
    """When each notice of a term is due (unix seconds).

    The rotation only with an alternate; the reminder `warn_s` before the end, left out when that
    falls before the term starts (a term shorter than the warning needs no reminder).
    """
    due = {}
    if has_alternate:
        due[Notice.ROTATION] = term.half
    if term.ends_at - warn_s > term.starts_at:
        due[Notice.REMINDER] = term.ends_at - warn_s
    due[Notice.END] = term.ends_at
    return due


def check_recall(source: Source | None) -> None:
    """The assembly recalls elected delegates; refuse someone who is none, or an admin."""
    if source is None:
        raise DelegateRefused("not-a-delegate")
    if source is Source.ADMIN:
        raise DelegateRefused("admin-not-recallable")
