"""Committees and the rules of their registration, as plain data and functions.

A committee is one Telegram group. It registers itself (`pending`), the council responsible
for its region approves it (`active`) or rejects it (`rejected`, after which it may register
again, e.g. with the right region). These rules decide what is allowed; handlers only ask them.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum


class Status(StrEnum):
    PENDING = "pending"
    ACTIVE = "active"
    REJECTED = "rejected"
    SUSPENDED = "suspended"
    WIPED = "wiped"


# The kinds of committee the movements of SPEC §1 form; the label is translated for display.
KINDS = ("workplace", "neighbourhood", "sindicato", "comunidad", "campus", "other")
NAME_MAX_LENGTH = 64


@dataclass(frozen=True)
class Committee:
    id: int
    chat_id: int
    name: str
    region: str
    kind: str
    status: Status
    reachable: bool
    registered_at: int
    decided_at: int | None = None


class RegistrationRefused(Exception):
    """Why a registration or a decision on it is not allowed; `reason` is a message key."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


def check_can_register(existing: Committee | None) -> None:
    """A group registers once; only a rejected or wiped committee may register again."""
    if existing is None or existing.status in (Status.REJECTED, Status.WIPED):
        return
    if existing.status is Status.PENDING:
        raise RegistrationRefused("already-pending")
    raise RegistrationRefused("already-registered")


def clean_name(text: str) -> str:
    """A committee name as shown to others: one line, trimmed, or RegistrationRefused."""
    name = " ".join(text.split())
    if not name:
        raise RegistrationRefused("name-empty")
    if len(name) > NAME_MAX_LENGTH:
        raise RegistrationRefused("name-too-long")
    return name


def decide(committee: Committee, approve: bool) -> Status:
    """The status a pending committee gets from a council's decision."""
    if committee.status is not Status.PENDING:
        raise RegistrationRefused("already-decided")
    return Status.ACTIVE if approve else Status.REJECTED
