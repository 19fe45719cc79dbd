"""The audit log's rules: what counts as a privileged action, who acts in which role, and how the
log is summed up for a council, as plain data and functions (no Telegram, no SQL).

A movement under a hostile state must be able to see when its own offices are abused (an
infiltrated delegate approving fake committees, flooding calls, merging demands away, wiping
committees) without the log itself becoming a list of who did what. So the log keeps, per action,
its kind, the role it was done in, the committee or council it concerns, a code word at most, and
the actor only as the keyed pseudonym the rest of the database uses; and a council reads it only
as counts: how many actions of each kind, in which role, where, and by how many different people.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from enum import StrEnum

DAY_S = 24 * 3600
DEFAULT_DAYS = 7
# A kind or detail is a code word the bot chose, never a person's text: the schema checks it too
# (storage/migrations/0012_audit.sql).
CODE_WORD = re.compile(r"[a-z_]{1,32}")


class Kind(StrEnum):
    """The privileged actions the log records (docs/security.md, "The audit log", says what each keeps)."""

    COMMITTEE_APPROVED = "committee_approved"
    COMMITTEE_REJECTED = "committee_rejected"
    COMMITTEE_WIPED = "committee_wiped"
    COUNCIL_CODE = "council_code"
    COUNCIL_LINKED = "council_linked"
    CALL_ISSUED = "call_issued"
    CALL_CHANGED = "call_changed"
    CALL_CANCELLED = "call_cancelled"
    DELEGATE_ELECTED = "delegate_elected"
    ALTERNATE_ELECTED = "alternate_elected"
    DELEGATE_RECALLED = "delegate_recalled"
    DELEGATE_ROTATED = "delegate_rotated"
    DEMAND_MERGED = "demand_merged"
    DEMAND_ADOPTED = "demand_adopted"
    DEMAND_REJECTED = "demand_rejected"
    DEMAND_WON = "demand_won"
    DEMAND_CONCEDED = "demand_conceded"
    DEMAND_LOST = "demand_lost"
    APPEAL_SENT = "appeal_sent"
    APPEAL_DISMISSED = "appeal_dismissed"


# How the coordinating council marked an adopted demand (domain.demands.ProgrammeStatus), as kinds.
MARKED: dict[str, Kind] = {"won": Kind.DEMAND_WON, "conceded": Kind.DEMAND_CONCEDED, "rejected": Kind.DEMAND_LOST}
# Decided by a committee's assembly: the person counted is whoever put the question to it.
PUT_TO_ASSEMBLY: frozenset[Kind] = frozenset({Kind.DELEGATE_ELECTED, Kind.ALTERNATE_ELECTED, Kind.DELEGATE_RECALLED})


class Role(StrEnum):
    """The office an action was done in: who answers for it in the movement."""

    COMMITTEE_DELEGATE = "committee_delegate"
    COUNCIL_DELEGATE = "council_delegate"
    ASSEMBLY = "assembly"
    OPERATOR = "operator"


class AuditRefused(Exception):
    """Why a request for the log is refused: `reason` is a message key, nothing was read."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


def check_code_word(word: str | None) -> str | None:
    """A kind or detail as it may be stored: a short code word, or None. Raises ValueError for
    anything else, so that a person's text can never slip into the log in clear."""
    if word is not None and not CODE_WORD.fullmatch(word):
        raise ValueError(f"an audit code word is lowercase letters and _, at most 32: {word!r}")
    return word


def parse_days(text: str, maximum: int) -> int:
    """The period asked for, in whole days (`/audit 30`); the default week when nothing is given.

    Refused (AuditRefused "bad-days") when it is no whole number from 1 to `maximum`: the log keeps
    nothing older than the retention period, so a longer one would promise what is not there."""
    text = text.strip()
    if not text:
        return min(DEFAULT_DAYS, maximum)
    if not (text.isascii() and text.isdigit()) or not 1 <= int(text) <= maximum:
        raise AuditRefused("bad-days")
    return int(text)


def since(now: int, days: int) -> int:
    """The first moment of a period of `days` ending now."""
    return now - days * DAY_S


@dataclass(frozen=True)
class KindCount:
    """How often a kind of action was done, by how many different people, and its code words."""

    kind: Kind
    count: int
    actors: int  # distinct pseudonyms; actions with no person behind them (the operator, a term) add none
    details: tuple[tuple[str, int], ...] = ()


@dataclass(frozen=True)
class PlaceCount:
    """The actions that concern one committee (`committee_id`), or else one council's seat (`region`)."""

    committee_id: int | None
    region: str | None
    count: int


@dataclass(frozen=True)
class Summary:
    """A council's view of the log over a period: counts only, never a pseudonym."""

    total: int
    actors: int
    kinds: tuple[KindCount, ...]
    roles: tuple[tuple[Role, int, int], ...]  # role, actions, distinct actors
    places: tuple[PlaceCount, ...]


def summarise(
    kinds: Iterable[tuple[str, int, int]],
    details: Iterable[tuple[str, str, int]],
    roles: Iterable[tuple[str, int, int]],
    places: Iterable[tuple[int | None, str | None, int]],
    *,
    total: int,
    actors: int,
) -> Summary:
    """Put the log's counts in the order a council reads them: kinds in the order of `Kind` (the
    movement's structure first, then calls, offices, demands), roles in the order of `Role`, places
    busiest first. Kinds or roles the running code does not know (written by a newer version) are
    left out rather than shown raw."""
    known_kinds = {kind.value: kind for kind in Kind}
    by_detail: dict[str, list[tuple[str, int]]] = {}
    for kind, detail, count in details:
        by_detail.setdefault(kind, []).append((detail, count))
    counted = {
        known_kinds[kind]: KindCount(
            kind=known_kinds[kind],
            count=count,
            actors=distinct,
            details=tuple(sorted(by_detail.get(kind, ()), key=lambda item: (-item[1], item[0]))),
        )
        for kind, count, distinct in kinds
        if kind in known_kinds
    }
    known_roles = {role.value: role for role in Role}
    by_role = {known_roles[role]: (count, distinct) for role, count, distinct in roles if role in known_roles}
    return Summary(
        total=total,
        actors=actors,
        kinds=tuple(counted[kind] for kind in Kind if kind in counted),
        roles=tuple((role, *by_role[role]) for role in Role if role in by_role),
        places=tuple(
            sorted(
                (PlaceCount(committee_id, region, count) for committee_id, region, count in places),
                key=lambda place: (-place.count, place.committee_id or 0, place.region or ""),
            )
        ),
    )
