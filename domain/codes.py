"""Codes that people read out, type back and compare: council link codes and call verification codes.

A code is the only thing that proves a chat may become a council, or that a call really came
from the movement (anyone can forward a fake "strike call"; `/verify CODE` tells them whether
the bot issued it). So codes are random from `secrets`, drawn from an alphabet without look-alike
symbols, long enough not to be guessed, and forgiving about how they are typed back.
"""

from __future__ import annotations

import math
import secrets

# Crockford-like alphabet: no 0/O, 1/I/L confusion when a code is read out over the phone.
ALPHABET = "ABCDEFGHJKMNPQRSTUVWXYZ23456789"
SEPARATOR = "-"
# What people put between groups, or around a code, when they type it back.
_IGNORED = frozenset(" -_.\t\u00a0\u2010\u2011\u2012\u2013\u2014\u2212")
_SYMBOLS = frozenset(ALPHABET)

# Call verification codes: 10 symbols, about 49.5 bits; guessing is also rate-limited per person.
CALL_CODE_GROUPS, CALL_CODE_GROUP_LENGTH = 2, 5


def bits(length: int) -> float:
    """How many bits of entropy a random code of `length` symbols carries."""
    return math.log2(len(ALPHABET)) * length


def new_code(groups: int, group_length: int) -> str:
    """A fresh random code, e.g. "ABCD-EFGH-JKMN" for 3 groups of 4."""
    if groups < 1 or group_length < 1:
        raise ValueError("a code needs at least one group of one symbol")
    return SEPARATOR.join("".join(secrets.choice(ALPHABET) for _ in range(group_length)) for _ in range(groups))


def normalise_code(text: str) -> str | None:
    """The code as typed, compacted to upper-case symbols without separators; None if it cannot be one.

    "abcd-efgh jkmn" and "ABCDEFGHJKMN" both give "ABCDEFGHJKMN", so a code compares (and hashes)
    the same however it was typed. Symbols outside the alphabet (0, O, 1, I, L, ...) are refused
    rather than guessed at: a wrong guess would only turn into a confusing "unknown code".
    """
    compact = "".join(ch for ch in text.upper() if ch not in _IGNORED)
    if not compact or any(ch not in _SYMBOLS for ch in compact):
        return None
    return compact


def format_code(compact: str, group_length: int) -> str:
    """A compact code split back into groups, e.g. "ABCDEFGHJK" -> "ABCDE-FGHJK" for groups of 5."""
    return SEPARATOR.join(compact[i : i + group_length] for i in range(0, len(compact), group_length))


def new_call_code() -> str:
    """A verification code for a call, e.g. "ABCDE-FGHJK"."""
    return new_code(CALL_CODE_GROUPS, CALL_CODE_GROUP_LENGTH)
