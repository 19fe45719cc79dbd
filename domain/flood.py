"""Input limits: how much the bot takes in from one person and from one chat, as plain rules.

A person sending a thousand messages a minute must not slow everyone else down, and must not
push the bot into Telegram's 429 penalties. The sending side already keeps to Telegram's limits
(bot/pacing.py), but that alone does not help the others: a flooder's requests would still be
answered, each answer taking its turn in the chat's 20 messages a minute, and each request
waiting in the chat's queue (bot/updates.py) in front of the others'. So what comes in is
limited too, before it queues:

- per person, a token bucket: PERSON_BURST requests at once, then PERSON_PER_MINUTE;
- per chat, everyone in it together: CHAT_BURST at once, then CHAT_PER_MINUTE, so that many
  accounts flooding one chat are held back even when each keeps to its own limit;
- overall, at most MAX_WAITING updates wait behind earlier ones of their chat (each holds one of
  the slots of updates in hand while it waits): an update that would have to wait beyond that is
  turned away, so chats with nothing in hand always find a slot.

What is over a limit is dropped (bot/flood.py), and its sender is told so at most once every
NOTICE_EVERY_S, and a chat hears at most one such notice in that time, however many flood it.

Times are seconds from the caller's clock, so the rules are tested without sleeping. The buckets
are keyed by Telegram ids, in memory only: nothing here is written anywhere, and buckets that are
full again are forgotten.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from enum import Enum

# The most a person does by hand in one go: a registration (the command, a region button, the
# name), a call (the command, then Send), a few votes or approvals in a row.
PERSON_BURST = 5
# Then one every 12 seconds: faster than anyone types a command, and a quarter of what the bot may
# say in a group in a minute (Telegram: 20), where most requests are answered. So a flooder, once
# their first five are answered, has a quarter of the group's voice (and a notice a minute); the
# others keep the rest.
PERSON_PER_MINUTE = 5.0
# A chat as a whole: an assembly voting at once (a sindicato of 50-80 families, every member
# pressing within a minute) stays below this; a crowd of accounts flooding one chat does not.
CHAT_BURST = 100
CHAT_PER_MINUTE = 100.0
# One "slow down" per person, and one per chat, in this time: never a reply per dropped message.
NOTICE_EVERY_S = 60.0
# Half of the updates the bot holds at once (bot/updates.MAX_CONCURRENT_UPDATES): the other half
# is always there for chats that have nothing in hand.
MAX_WAITING = 128
# How often buckets that are full again (their owner is quiet) are forgotten.
FORGET_EVERY_S = 60.0


@dataclass(frozen=True)
class Limits:
    """The limits in force; a `per_minute` of 0 means no limit of that kind (config `[flood]`)."""

    person_burst: int = PERSON_BURST
    person_per_minute: float = PERSON_PER_MINUTE
    chat_burst: int = CHAT_BURST
    chat_per_minute: float = CHAT_PER_MINUTE
    notice_every_s: float = NOTICE_EVERY_S
    max_waiting: int = MAX_WAITING


class Verdict(Enum):
    """What becomes of an update."""

    HANDLE = "handle"
    PERSON_OVER = "person_over"  # its sender is over their limit
    CHAT_OVER = "chat_over"  # its chat, everyone together, is over the chat's limit
    BUSY = "busy"  # it would have to wait, and too many updates already do


class Buckets:
    """Token buckets keyed by an id: each starts full (`burst`) and refills at `per_minute`.

    Only buckets that have been used are held; a full one is the same as none. A `per_minute` of
    0 is no limit."""

    def __init__(self, burst: int, per_minute: float) -> None:
        self.burst = float(burst)
        self.per_second = per_minute / 60.0
        self._held: dict[int, tuple[float, float]] = {}  # id -> (tokens, when counted)

    def __len__(self) -> int:
        return len(self._held)

    def tokens(self, key: int, now: float) -> float:
        """What is in `key`'s bucket at `now` (a clock set back adds nothing)."""
        if self.per_second <= 0:
            return math.inf
        tokens, at = self._held.get(key, (self.burst, now))
        return min(self.burst, tokens + max(0.0, now - at) * self.per_second)

    def take(self, key: int, now: float) -> None:
        """One token out of `key`'s bucket (the caller saw there was one)."""
        if self.per_second > 0:
            self._held[key] = (self.tokens(key, now) - 1.0, now)

    def forget_full(self, now: float) -> None:
        for key in [key for key in self._held if self.tokens(key, now) >= self.burst]:
            del self._held[key]


class InputLimits:
    """The rules: who may send what, when; and whether a dropped update's sender is told."""

    def __init__(self, limits: Limits | None = None) -> None:
        self.limits = limits or Limits()
        self.people = Buckets(self.limits.person_burst, self.limits.person_per_minute)
        self.chats = Buckets(self.limits.chat_burst, self.limits.chat_per_minute)
        self._noticed: dict[tuple[str, int], float] = {}  # ("person" | "chat", id) -> last notice
        self._forgot_at: float | None = None

    def check(self, who: int | None, chat: int | None, now: float, *, waits: bool = False, waiting: int = 0) -> Verdict:
        """The verdict on one update from `who` in `chat` (None where it has none) at `now`.

        `waits`: an earlier update of its chat is still in hand, so it would wait; `waiting`: how many
        updates wait so already. Only an update that is handled takes tokens: a flooder's dropped
        messages cost neither them nor their chat anything, so the chat's bucket stays the others'.
        In a private chat the person and the chat are one; only the person's bucket counts there."""
        self._forget_idle(now)
        chat = None if chat == who else chat
        if who is not None and self.people.tokens(who, now) < 1:
            return Verdict.PERSON_OVER
        if chat is not None and self.chats.tokens(chat, now) < 1:
            return Verdict.CHAT_OVER
        if waits and waiting >= self.limits.max_waiting:
            return Verdict.BUSY
        if who is not None:
            self.people.take(who, now)
        if chat is not None:
            self.chats.take(chat, now)
        return Verdict.HANDLE

    def notice_due(self, who: int | None, chat: int | None, now: float, *, in_chat: bool) -> bool:
        """Whether to tell the sender of a dropped update, and count it as told at `now`.

        At most once per person in NOTICE_EVERY_S; and a notice said in the chat (`in_chat`, not an
        answer to a button press, which only its presser sees and Telegram does not limit) at most
        once per chat, so a crowd of flooders does not turn into a crowd of notices."""
        keys = [("person", who)] if who is not None else []
        if in_chat and chat is not None:
            keys.append(("chat", chat))
        window = self.limits.notice_every_s
        if not keys or any(now - self._noticed.get(key, -math.inf) < window for key in keys):
            return False
        for key in keys:
            self._noticed[key] = now
        return True

    def held(self) -> int:
        """How many ids are held in memory now (buckets in use and recent notices)."""
        return len(self.people) + len(self.chats) + len(self._noticed)

    def _forget_idle(self, now: float) -> None:
        if self._forgot_at is not None and 0 <= now - self._forgot_at < FORGET_EVERY_S:
            return
        self._forgot_at = now
        self.people.forget_full(now)
        self.chats.forget_full(now)
        window = self.limits.notice_every_s
        for key in [key for key, at in self._noticed.items() if now - at >= window]:
            del self._noticed[key]
